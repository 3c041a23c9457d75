/* log.c - log lines in Redis's format, so operators' tools read ours too:
 *
 *   <pid>:<role> <dd Mon yyyy hh:mm:ss.mmm> <mark> <message>\n
 *
 * with marks '.' debug, '-' verbose, '*' notice, '#' warning, local time,
 * English month names whatever the locale, and messages cut at
 * RT_LOG_MAX_LEN bytes as Redis does.
 *
 * Each line is built in a stack buffer and written with one write(2) on an
 * O_APPEND descriptor, so lines from different threads never interleave.
 *
 * Must never: allocate for an ordinary log line, take a lock, or call stdio
 * (its buffers are shared across threads and flushed at unpredictable times).
 */
#include "runtime/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <ck_pr.h>

#define RT_LOG_MAX_LEN 1024        /* message bytes kept, as Redis's LOG_MAX_LEN */

static int log_fd = STDOUT_FILENO; /* atomic */
static bool log_fd_owned;          /* rt_log_open only */
static int log_level = RT_LOG_NOTICE;  /* atomic; Redis's default loglevel */
static int log_role = 'M';         /* atomic */
/* The offset of local time found by the last line's localtime_r (atomic),
 * and whether this process is a fork's child that must not call it: glibc's
 * localtime_r takes a lock, which a thread of the parent may have held at
 * the fork, for good in the child (rt_log_forked_child). */
static uint64_t log_gmtoff;
static bool log_no_localtime;

static const char level_marks[] = ".-*#";
static const char month_names[12][4] = {
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};

int rt_log_open(const char *path)
{
    if (path == NULL || path[0] == '\0') {
        int old = ck_pr_load_int(&log_fd);
        ck_pr_store_int(&log_fd, STDOUT_FILENO);
        if (log_fd_owned)
            close(old);
        log_fd_owned = false;
        return 0;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    if (log_fd_owned) {
        /* Replace the file under the descriptor number writers already use:
         * dup2 is atomic, so no concurrent line goes to a closed descriptor. */
        int rc = dup2(fd, ck_pr_load_int(&log_fd));
        int saved = errno;
        close(fd);
        if (rc < 0) {
            errno = saved;
            return -1;
        }
        return 0;
    }
    ck_pr_store_int(&log_fd, fd);
    log_fd_owned = true;
    return 0;
}

void rt_log_set_level(int level)
{
    ck_pr_store_int(&log_level, level);
}

int rt_log_get_level(void)
{
    return ck_pr_load_int(&log_level);
}

void rt_log_set_role(char role)
{
    ck_pr_store_int(&log_role, role);
}

static bool level_enabled(int level)
{
    /* Relaxed loads: a level change only needs to take effect eventually. */
    return level >= ck_pr_load_int(&log_level);
}

/* Writes all of buf; loops only on EINTR or a short write (disk full etc.). */
static void write_all(const char *buf, size_t len)
{
    /* Relaxed load: rt_log_open changes it at startup/teardown only, and a
     * reopen keeps the number (dup2). */
    int fd = ck_pr_load_int(&log_fd);
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return;                /* nowhere to report a failing log */
        }
        buf += n;
        len -= (size_t)n;
    }
}

int rt_log_fd(void)
{
    /* Relaxed load, as in write_all. */
    return ck_pr_load_int(&log_fd);
}

void rt_log_forked_child(bool on) { log_no_localtime = on; }

/* Broken-down time of t + off seconds since the epoch, without libc's
 * time zone code (days to civil date: H. Hinnant's algorithm). */
static void civil_time(long long t, struct tm *tm)
{
    long long days = t / 86400, rem = t % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    tm->tm_hour = (int)(rem / 3600);
    tm->tm_min = (int)(rem % 3600 / 60);
    tm->tm_sec = (int)(rem % 60);
    days += 719468;
    long long era = (days >= 0 ? days : days - 146096) / 146097;
    long long doe = days - era * 146097;
    long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long long mp = (5 * doy + 2) / 153;
    long long m = mp < 10 ? mp + 3 : mp - 9;
    tm->tm_mday = (int)(doy - (153 * mp + 2) / 5 + 1);
    tm->tm_mon = (int)(m - 1);
    tm->tm_year = (int)(yoe + era * 400 + (m <= 2) - 1900);
}

void rt_log(int level, const char *fmt, ...)
{
    if (!level_enabled(level))
        return;
    int mark_index = level < RT_LOG_DEBUG ? RT_LOG_DEBUG
                   : level > RT_LOG_WARNING ? RT_LOG_WARNING : level;

    char msg[RT_LOG_MAX_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);

    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    time_t secs = tv.tv_sec;
    if (log_no_localtime) {
        civil_time((long long)secs + (long long)ck_pr_load_64(&log_gmtoff), &tm);
    } else {
        localtime_r(&secs, &tm);
        ck_pr_store_64(&log_gmtoff, (uint64_t)tm.tm_gmtoff);   /* relaxed: any thread's last is fine */
    }

    char line[RT_LOG_MAX_LEN + 64];
    /* The role is read relaxed: a line written across a role change may
     * carry either role, as in Redis. */
    int n = snprintf(line, sizeof line, "%d:%c %02d %s %04d %02d:%02d:%02d.%03d %c %s\n",
                     (int)getpid(), (char)ck_pr_load_int(&log_role), tm.tm_mday,
                     month_names[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, (int)(tv.tv_usec / 1000), level_marks[mark_index], msg);
    if (n < 0)
        return;
    size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    line[len - 1] = '\n';          /* keep the newline if the line was cut */
    write_all(line, len);
}

void rt_log_raw(int level, const char *fmt, ...)
{
    if (!level_enabled(level))
        return;
    char stack_buf[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(stack_buf, sizeof stack_buf, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof stack_buf) {
        write_all(stack_buf, (size_t)n);
        return;
    }
    /* A long banner: its size is bounded by the caller's format and args. */
    char *heap_buf = malloc((size_t)n + 1);
    if (heap_buf == NULL) {
        write_all(stack_buf, sizeof stack_buf - 1);
        return;
    }
    va_start(ap, fmt);
    vsnprintf(heap_buf, (size_t)n + 1, fmt, ap);
    va_end(ap);
    write_all(heap_buf, (size_t)n);
    free(heap_buf);
}
