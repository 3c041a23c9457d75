/* test_tmpfile.c - runtime/tmpfile: a planted symlink at the temp name never
 * redirects the write, and a directory fsync that fails is reported. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tests/unit/unit.h"
#include "runtime/tmpfile.h"

static void put(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f) abort();
    fputs(text, f);
    fclose(f);
}

TEST(tmpfile_planted_symlink_leaves_target_alone)
{
    char dir[] = "/tmp/shoal-tmpfile-XXXXXX";
    REQUIRE(mkdtemp(dir) != NULL);
    char target[256], link[256], final[256];
    snprintf(target, sizeof target, "%s/precious", dir);
    snprintf(link, sizeof link, "%s/out.tmp", dir);
    snprintf(final, sizeof final, "%s/out", dir);
    put(target, "keep me\n");
    REQUIRE(symlink(target, link) == 0);
    int dirfd = open(dir, O_RDONLY | O_DIRECTORY);
    REQUIRE(dirfd >= 0);
    int fd = rt_tmpfile_create(dirfd, "out.tmp", 0644);
    REQUIRE(fd >= 0);
    CHECK(rt_write_all(fd, "new\n", 4) == 0);
    const char *op = "none";
    CHECK(rt_tmpfile_commit(dirfd, fd, "out.tmp", "out", &op) == 0);
    char *t = unit_read_text(target), *o = unit_read_text(final);
    CHECK(t && !strcmp(t, "keep me\n"));
    CHECK(o && !strcmp(o, "new\n"));
    struct stat st;
    CHECK(lstat(final, &st) == 0 && S_ISREG(st.st_mode));
    CHECK(lstat(link, &st) != 0);                 /* the temp name is gone */
    free(t);
    free(o);
    close(dirfd);
    unlink(final);
    unlink(target);
    rmdir(dir);
}

TEST(tmpfile_directory_fsync_failure_is_reported)
{
    char dir[] = "/tmp/shoal-tmpfile-XXXXXX";
    REQUIRE(mkdtemp(dir) != NULL);
    /* An O_PATH directory fd resolves names but cannot be fsynced. */
    int dirfd = open(dir, O_PATH | O_DIRECTORY);
    REQUIRE(dirfd >= 0);
    int fd = rt_tmpfile_create(dirfd, "x.tmp", 0644);
    REQUIRE(fd >= 0);
    const char *op = "none";
    CHECK(rt_tmpfile_commit(dirfd, fd, "x.tmp", "x", &op) == -1);
    CHECK(!strcmp(op, "fsyncFileDir"));
    close(dirfd);
    char p[256];
    snprintf(p, sizeof p, "%s/x", dir);
    unlink(p);
    rmdir(dir);
}
