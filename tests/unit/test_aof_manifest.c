/* test_aof_manifest.c - the AOF manifest's text (aof_manifest.c): what
 * 7.0.15 writes parses back to the same files, what it refuses we refuse,
 * and a rewrite's renames (new base, old incr files to history). */
#include <stdlib.h>
#include <string.h>
#include "actors/persist/aof_internal.h"
#include "tests/unit/unit.h"

static int parse(const char *text, aof_manifest_t *m, char *err, int *line)
{
    return aof_manifest_parse(text, strlen(text), m, err, 200, line);
}

TEST(aof_manifest_parses_and_formats_back)
{
    const char *t = "file appendonly.aof.2.base.rdb seq 2 type b\n"
                    "file appendonly.aof.1.incr.aof seq 1 type h\n"
                    "file appendonly.aof.2.incr.aof seq 2 type i\n"
                    "file appendonly.aof.3.incr.aof seq 3 type i\n";
    static aof_manifest_t m;
    char err[200];
    int line;
    CHECK_EQ_INT(parse(t, &m, err, &line), 0);
    CHECK(m.has_base);
    CHECK_EQ_STR(m.base.name, "appendonly.aof.2.base.rdb");
    CHECK_EQ_INT(m.nhist, 1);
    CHECK_EQ_INT(m.nincr, 2);
    CHECK_EQ_INT(m.incr_seq, 3);
    size_t len;
    char *back = aof_manifest_format(&m, &len);
    CHECK(strcmp(back, t) == 0);
    free(back);
}

TEST(aof_manifest_quotes_a_name_only_when_it_must)
{
    /* as redis-server 7.0.15 wrote it for appendfilename "my file.aof" */
    const char *t = "file \"my file.aof.1.base.rdb\" seq 1 type b\n"
                    "file \"my file.aof.1.incr.aof\" seq 1 type i\n";
    static aof_manifest_t m;
    char err[200];
    int line;
    CHECK_EQ_INT(parse(t, &m, err, &line), 0);
    CHECK_EQ_STR(m.base.name, "my file.aof.1.base.rdb");
    CHECK_EQ_STR(m.incr[0].name, "my file.aof.1.incr.aof");
    size_t len;
    char *back = aof_manifest_format(&m, &len);
    CHECK(strcmp(back, t) == 0);
    free(back);
    CHECK_EQ_INT(parse("file \"a seq 1 type i\n", &m, err, &line), -1);
    CHECK_EQ_STR(err, "Invalid AOF manifest file format");
}

TEST(aof_manifest_refuses_what_redis_refuses)
{
    static aof_manifest_t m;
    char err[200];
    int line;
    CHECK_EQ_INT(parse("", &m, err, &line), -1);
    CHECK_EQ_STR(err, "Found an empty AOF manifest");
    CHECK_EQ_INT(parse("file a seq 1 type b\nfile b seq 2 type b\n", &m, err, &line), -1);
    CHECK_EQ_STR(err, "Found duplicate base file information");
    CHECK_EQ_INT(line, 2);
    CHECK_EQ_INT(parse("file a seq 2 type i\nfile b seq 1 type i\n", &m, err, &line), -1);
    CHECK_EQ_STR(err, "Found a non-monotonic sequence number");
    CHECK_EQ_INT(parse("file dir/a seq 1 type i\n", &m, err, &line), -1);
    CHECK_EQ_STR(err, "File can't be a path, just a filename");
    CHECK_EQ_INT(parse("file a seq 1\n", &m, err, &line), -1);
    CHECK_EQ_STR(err, "Invalid AOF manifest file format");
    CHECK_EQ_INT(parse("file a seq 1 type x\n", &m, err, &line), -1);
    CHECK_EQ_STR(err, "Unknown AOF file type");
    /* comments are skipped */
    CHECK_EQ_INT(parse("# hello\nfile a seq 1 type i\n", &m, err, &line), 0);
}

TEST(aof_manifest_rewrite_moves_old_files_to_history)
{
    static aof_manifest_t m;
    memset(&m, 0, sizeof m);
    CHECK_EQ_STR(aof_manifest_new_base(&m, "appendonly.aof", true), "appendonly.aof.1.base.rdb");
    CHECK_EQ_STR(aof_manifest_new_incr(&m, "appendonly.aof"), "appendonly.aof.1.incr.aof");
    CHECK_EQ_STR(aof_manifest_new_incr(&m, "appendonly.aof"), "appendonly.aof.2.incr.aof");
    CHECK_EQ_STR(aof_manifest_new_base(&m, "appendonly.aof", false), "appendonly.aof.2.base.aof");
    aof_manifest_retire_incr_before(&m, 2);
    size_t len;
    char *text = aof_manifest_format(&m, &len);
    static const char want[] = "file appendonly.aof.2.base.aof seq 2 type b\n"
                               "file appendonly.aof.1.base.rdb seq 1 type h\n"
                               "file appendonly.aof.1.incr.aof seq 1 type h\n"
                               "file appendonly.aof.2.incr.aof seq 2 type i\n";
    CHECK(strcmp(text, want) == 0);
    free(text);
}
