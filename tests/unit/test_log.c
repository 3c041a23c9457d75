/* test_log.c - unit tests for runtime/log.c: the Redis line format, level
 * filtering and marks, role, truncation, raw lines, and that concurrent
 * threads never interleave within a line.
 *
 * Must never: leave logging pointed at a temp file or at a changed level
 * (other tests log too): every test restores stdout, NOTICE and 'M'.
 */
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "runtime/log.h"
#include "tests/unit/unit.h"

/* Creates an empty temp file and points the log at it. */
static int log_to_temp(char *path, size_t size)
{
    snprintf(path, size, "/tmp/shoal-test-log-XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0) return -1;
    close(fd);
    return rt_log_open(path);
}

static void restore(const char *path)
{
    rt_log_open(NULL);
    rt_log_set_level(RT_LOG_NOTICE);
    rt_log_set_role('M');
    unlink(path);
}

static int matches(const char *pattern, const char *text)
{
    regex_t re;
    if (regcomp(&re, pattern, REG_EXTENDED | REG_NEWLINE | REG_NOSUB) != 0) return -1;
    int rc = regexec(&re, text, 0, NULL, 0);
    regfree(&re);
    return rc == 0;
}

#define PREFIX_RE "^[0-9]+:%c [0-9]{2} [A-Za-z]{3} [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3} "

TEST(log_line_format)
{
    char path[64];
    REQUIRE(log_to_temp(path, sizeof path) == 0);
    CHECK_EQ_INT(rt_log_get_level(), RT_LOG_NOTICE);   /* Redis's default */
    LOG_NOTICE("hello");
    char *text = unit_read_text(path);
    REQUIRE(text != NULL);
    CHECK(matches("^[0-9]+:M [0-9]{2} [A-Za-z]{3} [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3} \\* hello$", text) == 1);
    CHECK(strchr(text, '\n') == text + strlen(text) - 1);   /* exactly one line */

    /* The pid is ours and the date is today's, with an English month. */
    char expect[64];
    snprintf(expect, sizeof expect, "%d:M ", (int)getpid());
    CHECK(strncmp(text, expect, strlen(expect)) == 0);
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    static const char *months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    char date[32];
    snprintf(date, sizeof date, " %s %04d ", months[tm.tm_mon], tm.tm_year + 1900);
    CHECK(strstr(text, date) != NULL);
    free(text);
    restore(path);
}

/* A fork's child writes the same local time without localtime_r (from the
 * offset the last line found): the two lines of one second read the same. */
TEST(log_time_of_a_forked_child)
{
    char path[64];
    char *text = NULL;
    for (int attempt = 0; attempt < 5; attempt++) {
        REQUIRE(log_to_temp(path, sizeof path) == 0);
        time_t t0 = time(NULL);
        LOG_NOTICE("parent");
        rt_log_forked_child(true);
        LOG_NOTICE("child");
        rt_log_forked_child(false);
        time_t t1 = time(NULL);
        free(text);
        text = unit_read_text(path);
        restore(path);
        if (t0 == t1) break;      /* both lines in one second */
    }
    REQUIRE(text != NULL);
    char *second = strchr(text, '\n');
    REQUIRE(second != NULL);
    second++;
    char *a = strchr(text, ' '), *b = strchr(second, ' ');
    REQUIRE(a && b);
    CHECK(strncmp(a, b, 21) == 0);   /* " dd Mon yyyy hh:mm:ss" */
    CHECK(strstr(second, " * child") != NULL);
    free(text);
}

TEST(log_levels_and_marks)
{
    char path[64];
    REQUIRE(log_to_temp(path, sizeof path) == 0);
    rt_log_set_level(RT_LOG_WARNING);
    CHECK_EQ_INT(rt_log_get_level(), RT_LOG_WARNING);
    LOG_DEBUG("dropped-debug");
    LOG_VERBOSE("dropped-verbose");
    LOG_NOTICE("dropped-notice");
    LOG_WARNING("kept-warning %d", 42);
    rt_log_raw(RT_LOG_NOTICE, "dropped-raw");
    rt_log_set_level(RT_LOG_DEBUG);
    rt_log_set_role('S');
    LOG_DEBUG("kept-debug");
    LOG_VERBOSE("kept-verbose");
    rt_log_raw(RT_LOG_NOTICE, "raw %s", "line\n");

    char *text = unit_read_text(path);
    REQUIRE(text != NULL);
    CHECK(strstr(text, "dropped") == NULL);
    char re[256];
    snprintf(re, sizeof re, PREFIX_RE "# kept-warning 42$", 'M');
    CHECK(matches(re, text) == 1);
    snprintf(re, sizeof re, PREFIX_RE "\\. kept-debug$", 'S');
    CHECK(matches(re, text) == 1);
    snprintf(re, sizeof re, PREFIX_RE "- kept-verbose$", 'S');
    CHECK(matches(re, text) == 1);
    CHECK(matches("^raw line$", text) == 1);           /* raw: no prefix */
    int lines = 0;
    for (char *p = text; *p; p++) lines += *p == '\n';
    CHECK_EQ_INT(lines, 4);
    free(text);
    restore(path);
}

TEST(log_long_message_is_cut_but_ends_the_line)
{
    char path[64];
    REQUIRE(log_to_temp(path, sizeof path) == 0);
    char *big = malloc(5000);
    REQUIRE(big != NULL);
    memset(big, 'x', 4999);
    big[4999] = '\0';
    LOG_NOTICE("%s", big);
    LOG_NOTICE("after");
    char *text = unit_read_text(path);
    REQUIRE(text != NULL);
    char *nl = strchr(text, '\n');
    REQUIRE(nl != NULL);
    char *x = strchr(text, 'x');
    REQUIRE(x != NULL && x < nl);
    CHECK_EQ_INT(nl - x, 1023);                         /* 1024-byte buffer, NUL kept */
    char re[256];
    snprintf(re, sizeof re, PREFIX_RE "\\* after$", 'M');
    CHECK(matches(re, nl + 1) == 1);
    free(big);
    free(text);
    restore(path);
}

enum { LOG_THREADS = 4, LOG_LINES = 2000 };

static void *log_thread(void *arg)
{
    long id = (long)arg;
    for (int i = 0; i < LOG_LINES; i++)
        LOG_NOTICE("thread %ld line %d %s", id, i, "padding-padding-padding-padding-padding");
    return NULL;
}

TEST(log_threads_do_not_interleave)
{
    char path[64];
    REQUIRE(log_to_temp(path, sizeof path) == 0);
    pthread_t th[LOG_THREADS];
    for (long i = 0; i < LOG_THREADS; i++)
        REQUIRE(pthread_create(&th[i], NULL, log_thread, (void *)i) == 0);
    for (int i = 0; i < LOG_THREADS; i++) pthread_join(th[i], NULL);

    char *text = unit_read_text(path);
    REQUIRE(text != NULL);
    regex_t re;
    REQUIRE(regcomp(&re, "^[0-9]+:M [0-9]{2} [A-Za-z]{3} [0-9]{4} [0-9:]{8}\\.[0-9]{3} \\* "
                         "thread ([0-9]) line ([0-9]+) padding-padding-padding-padding-padding$",
                    REG_EXTENDED) == 0);
    int next[LOG_THREADS] = {0}, bad = 0, lines = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        regmatch_t m[3];
        lines++;
        if (regexec(&re, line, 3, m, 0) != 0) { bad++; continue; }
        int id = atoi(line + m[1].rm_so), n = atoi(line + m[2].rm_so);
        if (id >= LOG_THREADS || n != next[id]) bad++;   /* each thread's lines in order */
        else next[id]++;
    }
    regfree(&re);
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(lines, LOG_THREADS * LOG_LINES);
    free(text);
    restore(path);
}

TEST(log_open_errors_and_reopen)
{
    CHECK(rt_log_open("/nonexistent-dir/x/y.log") == -1);
    char path[64], path2[80];
    REQUIRE(log_to_temp(path, sizeof path) == 0);
    LOG_NOTICE("first");
    /* Reopen onto another file (as after log rotation). */
    snprintf(path2, sizeof path2, "%s.2", path);
    REQUIRE(rt_log_open(path2) == 0);
    LOG_NOTICE("second");
    char *a = unit_read_text(path), *b = unit_read_text(path2);
    REQUIRE(a != NULL && b != NULL);
    CHECK(strstr(a, "first") != NULL && strstr(a, "second") == NULL);
    CHECK(strstr(b, "second") != NULL && strstr(b, "first") == NULL);
    free(a);
    free(b);
    unlink(path2);
    restore(path);
}
