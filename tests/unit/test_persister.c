/* test_persister.c - the persister's "never half-written" invariant, driven
 * through its I/O interface (actors/persist/persister.h, persist_io_t).
 *
 * A fault-injecting persist_io_t wraps the real calls: it records each step
 * it is asked for as one letter (o open, w write, f fsync, r rename, d fsync
 * of the directory, x exchange of names), and can shorten a write, fail a step with an errno, or
 * end the process at a step (a crash, in a forked child). Each fault test
 * starts from a complete nodes.conf, makes a save fail, and asserts: the old
 * file is still there byte for byte and nodes_conf_parse loads it; the
 * caller is told (the persist_ack_t the state actor receives carries the
 * errno); no temp file is left where the persister cleans up; the steps run
 * are exactly today's; and the next save succeeds.
 *
 * Must never: touch anything outside its own mkdtemp directory, or wait
 * without a deadline.
 */
#include <ck_pr.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "actors/persist/persister.h"
#include "proto/nodes_conf.h"
#include "runtime/actor.h"
#include "tests/unit/unit.h"

/* ---- the fault-injecting I/O ------------------------------------------- */

/* Set by the test thread before a save is sent, read and updated by the
 * persister's thread during it; rt_send and the acknowledgement order the
 * hand-overs (see harness_save). */
static struct faults {
    int open_err;            /* errno for open_tmp, 0 = none */
    size_t write_cap;        /* most bytes one write takes, 0 = all */
    int write_eintr;         /* how many writes fail with EINTR first */
    long write_budget;       /* bytes written before write_err, -1 = no limit */
    int write_err;
    int fsync_err, rename_err, dir_fsync_err, exchange_err;
    char crash_at;           /* a step letter: _exit(CRASHED) when it is reached */
    char trace[256];         /* the steps asked for, one letter each */
    size_t ntrace;
} F;

enum { CRASHED = 42 };

static void faults_reset(void)
{
    memset(&F, 0, sizeof F);
    F.write_budget = -1;
}

/* Records step `c`; ends the process there if the test asked for a crash. */
static void step(char c)
{
    if (F.ntrace + 1 < sizeof F.trace) F.trace[F.ntrace++] = c;
    if (F.crash_at == c) _exit(CRASHED);
}

static int fail(int err)
{
    errno = err;
    return -1;
}

static int fault_open_tmp(int dirfd, const char *name, mode_t mode)
{
    step('o');
    return F.open_err ? fail(F.open_err) : persist_io_posix.open_tmp(dirfd, name, mode);
}

static ssize_t fault_write(int fd, const void *buf, size_t len)
{
    step('w');
    if (F.write_eintr > 0) {
        F.write_eintr--;
        return fail(EINTR);
    }
    if (F.write_budget == 0) return fail(F.write_err);
    if (F.write_cap && len > F.write_cap) len = F.write_cap;
    if (F.write_budget > 0 && len > (size_t)F.write_budget) len = (size_t)F.write_budget;
    ssize_t n = persist_io_posix.write(fd, buf, len);
    if (n > 0 && F.write_budget > 0) F.write_budget -= n;
    return n;
}

static int fault_fsync(int fd)
{
    step('f');
    return F.fsync_err ? fail(F.fsync_err) : persist_io_posix.fsync(fd);
}

static int fault_rename(int dirfd, const char *from, const char *to)
{
    step('r');
    return F.rename_err ? fail(F.rename_err) : persist_io_posix.rename(dirfd, from, to);
}

static int fault_dir_fsync(int dirfd)
{
    step('d');
    return F.dir_fsync_err ? fail(F.dir_fsync_err) : persist_io_posix.dir_fsync(dirfd);
}

static int fault_exchange(int dirfd, const char *a, const char *b)
{
    step('x');
    return F.exchange_err ? fail(F.exchange_err) : persist_io_posix.exchange(dirfd, a, b);
}

static const persist_io_t fault_io = {
    .exchange = fault_exchange,
    .open_tmp = fault_open_tmp,
    .write = fault_write,
    .fsync = fault_fsync,
    .rename = fault_rename,
    .dir_fsync = fault_dir_fsync,
};

/* The write in place of the node's real persister (persist_overwrite),
 * recorded as v. */
static int fault_overwrite(int dirfd, const char *name, const char *text, size_t len)
{
    step('v');
    return persist_overwrite(dirfd, name, text, len);
}


/* ---- files -------------------------------------------------------------- */

/* A complete nodes.conf whose currentEpoch is `epoch`: myself owns slots
 * 0..epoch*100 in every other slot, so each version has lines of its own
 * length and several hundred bytes (enough for short writes to matter). */
static char *conf_text(uint64_t epoch, size_t *len)
{
    nodes_conf_node_t n;
    memset(&n, 0, sizeof n);
    memcpy(n.name, "e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca", NODES_CONF_NAME_LEN);
    snprintf(n.ip, sizeof n.ip, "127.0.0.1");
    n.port = 7000;
    n.cport = 17000;
    n.flags = NODES_CONF_FLAG_MYSELF | NODES_CONF_FLAG_MASTER;
    n.config_epoch = epoch;
    n.connected = true;
    for (unsigned s = 0; s <= epoch * 100 && s < SLOT_COUNT; s += 2) nodes_conf_slot_set(&n, s);
    nodes_conf_t c = { .nodes = &n, .node_count = 1, .myself = 0, .current_epoch = epoch, .last_vote_epoch = 0 };
    char *text = nodes_conf_format(&c, len);
    if (!text) abort();
    return text;
}

typedef struct sandbox {
    char dir[64];
    char conf[128];
} sandbox_t;

static int sandbox_open(sandbox_t *sb)
{
    snprintf(sb->dir, sizeof sb->dir, "/tmp/shoal-persister-XXXXXX");
    if (!mkdtemp(sb->dir)) return -1;
    snprintf(sb->conf, sizeof sb->conf, "%s/nodes.conf", sb->dir);
    return 0;
}

/* How many entries besides nodes.conf the directory holds; the first one's
 * name goes to `other` (when not NULL). */
static int sandbox_others(const sandbox_t *sb, char *other, size_t cap)
{
    DIR *d = opendir(sb->dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || !strcmp(e->d_name, "nodes.conf")) continue;
        if (n++ == 0 && other) snprintf(other, cap, "%s", e->d_name);
    }
    closedir(d);
    return n;
}

static void sandbox_close(sandbox_t *sb)
{
    DIR *d = opendir(sb->dir);
    if (d) {
        struct dirent *e;
        char p[400];
        while ((e = readdir(d)) != NULL) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            snprintf(p, sizeof p, "%s/%s", sb->dir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(sb->dir);
}

/* True when `path` holds exactly the text of version `epoch` and
 * nodes_conf_parse loads it with that currentEpoch. */
static bool file_is_version(const char *path, uint64_t epoch)
{
    size_t want_len, got_len = 0;
    char *want = conf_text(epoch, &want_len);
    unsigned char *got = unit_read_file(path, &got_len);
    bool same = got && got_len == want_len && !memcmp(got, want, want_len);
    nodes_conf_t c;
    nodes_conf_error_t err;
    bool loads = got && nodes_conf_parse(got, got_len, &c, &err) == NODES_CONF_OK;
    if (loads) {
        loads = c.current_epoch == epoch && c.node_count == 1;
        nodes_conf_free(&c);
    }
    free(want);
    free(got);
    return same && loads;
}

/* ---- the persister actor, with a sink standing in for the state actor --- */

enum { ACK_TYPE = 77, MAX_ACKS = 16 };

typedef struct harness {
    rt_thread_t *thread;
    persister_t *persister;
    rt_actor_t sink;
    int nacks;                          /* written by the sink only */
    uint64_t ack_seq[MAX_ACKS];
    int ack_err[MAX_ACKS];
    uint64_t next_seq;
    bool no_fsync;                      /* the next requests sent ask for no fsync */
    bool lazy_ack;                      /* the next requests sent say nobody waits */
} harness_t;

static void sink_behaviour(rt_actor_t *self, rt_msg_t *msg)
{
    harness_t *h = self->state;
    persist_ack_t *a = (persist_ack_t *)msg;
    int i = ck_pr_load_int(&h->nacks);
    if (msg->type == ACK_TYPE && i < MAX_ACKS) {
        h->ack_seq[i] = a->seq;
        h->ack_err[i] = a->err;
        /* store fence: the ack's fields (and everything the persister's
         * thread did to F before sending it) before the count that
         * publishes them to the test thread */
        ck_pr_fence_store();
        ck_pr_store_int(&h->nacks, i + 1);
    }
    free(msg);
}

/* Sets up the persister (writing through io) and the sink on a new thread,
 * not yet started. */
static int harness_init_io(harness_t *h, const sandbox_t *sb, const persist_io_t *io)
{
    memset(h, 0, sizeof *h);
    h->thread = rt_thread_create("ut-persister");
    if (!h->thread) return -1;
    h->persister = persister_new(h->thread, sb->conf, ACK_TYPE, io);
    if (!h->persister) return -1;
    rt_actor_init(&h->sink, h->thread, "ut-sink", sink_behaviour, h);
    return 0;
}

static int harness_init(harness_t *h, const sandbox_t *sb) { return harness_init_io(h, sb, &fault_io); }

static void harness_done(harness_t *h)
{
    rt_thread_stop(h->thread);
    rt_thread_join(h->thread);
    persister_free(h->persister);
    rt_thread_destroy(h->thread);
}

/* Sends a save of version `epoch` (acknowledged to the sink unless `wait`
 * is given, which then gets the answer instead). The faults set before
 * this call reach the persister's thread with the request: rt_send's push
 * is a release, the behaviour's pop an acquire. */
static void harness_send(harness_t *h, uint64_t epoch, persist_wait_t *wait)
{
    persist_req_t *r = calloc(1, sizeof *r);
    if (!r) abort();
    r->hdr.type = PERSIST_SAVE;
    r->text = conf_text(epoch, &r->len);
    r->seq = ++h->next_seq;
    r->reply_to = wait ? NULL : &h->sink;
    r->wait = wait;
    r->fsync = !h->no_fsync;
    r->lazy_ack = h->lazy_ack;
    rt_send(persister_actor_of(h->persister), &r->hdr);
}

/* Waits (5 s at most) until the sink holds `n` acks; true if it does. */
static bool harness_wait_acks(harness_t *h, int n)
{
    long long deadline = rt_mono_ms() + 5000;
    while (ck_pr_load_int(&h->nacks) < n && rt_mono_ms() < deadline) usleep(1000);
    /* load fence: pairs with the sink's store fence */
    ck_pr_fence_load();
    return ck_pr_load_int(&h->nacks) >= n;
}

/* One save through the actor: returns the acknowledged errno, or -1 when
 * no acknowledgement came (or it named another version). */
static int harness_save(harness_t *h, uint64_t epoch)
{
    int before = ck_pr_load_int(&h->nacks);
    harness_send(h, epoch, NULL);
    if (!harness_wait_acks(h, before + 1)) return -1;
    return h->ack_seq[before] == h->next_seq ? h->ack_err[before] : -1;
}

/* A sandbox holding version 1 written by a started persister; faults reset. */
static int fixture(sandbox_t *sb, harness_t *h)
{
    faults_reset();
    if (sandbox_open(sb) != 0) return -1;
    if (harness_init(h, sb) != 0 || rt_thread_start(h->thread) != 0) return -1;
    if (harness_save(h, 1) != 0 || !file_is_version(sb->conf, 1)) return -1;
    faults_reset();
    return 0;
}

/* After a failed save: the next one, without faults, succeeds. */
static bool next_save_succeeds(const sandbox_t *sb, harness_t *h, uint64_t epoch)
{
    faults_reset();
    return harness_save(h, epoch) == 0 && file_is_version(sb->conf, epoch) && sandbox_others(sb, NULL, 0) == 0 &&
           !strcmp(F.trace, "owfrd");
}

/* ---- tests -------------------------------------------------------------- */

TEST(persister_save_writes_the_exact_file)
{
    sandbox_t sb;
    harness_t h;
    REQUIRE(fixture(&sb, &h) == 0);
    CHECK_EQ_INT(harness_save(&h, 2), 0);
    CHECK(file_is_version(sb.conf, 2));
    CHECK_EQ_STR(F.trace, "owfrd");       /* one write took the whole text */
    CHECK_EQ_INT(sandbox_others(&sb, NULL, 0), 0);
    CHECK_EQ_INT(h.ack_seq[1], 2);
    harness_done(&h);
    sandbox_close(&sb);
}

TEST(persister_short_writes_and_eintr_are_retried)
{
    sandbox_t sb;
    harness_t h;
    REQUIRE(fixture(&sb, &h) == 0);
    size_t len;
    free(conf_text(3, &len));
    F.write_cap = 7;
    F.write_eintr = 2;
    CHECK_EQ_INT(harness_save(&h, 3), 0);
    CHECK(file_is_version(sb.conf, 3));
    /* open, two interrupted writes, then 7 bytes at a time, then the commit */
    char want[256];
    size_t k = 0;
    want[k++] = 'o';
    for (size_t i = 0; i < 2 + (len + 6) / 7 && k < sizeof want - 5; i++) want[k++] = 'w';
    memcpy(want + k, "frd", 4);
    CHECK_EQ_STR(F.trace, want);
    CHECK_EQ_INT(sandbox_others(&sb, NULL, 0), 0);
    harness_done(&h);
    sandbox_close(&sb);
}

/* One fault case: from version 1 on disk, `arm` sets the fault, a save of
 * version 2 must be acknowledged with `want_err` after exactly the steps
 * `want_trace`, leave `want_version` in nodes.conf (1: untouched) and no
 * other file, and a save of version 3 without faults must then succeed. */
static void fault_case(void (*arm)(void), int want_err, const char *want_trace, uint64_t want_version)
{
    sandbox_t sb;
    harness_t h;
    REQUIRE(fixture(&sb, &h) == 0);
    arm();
    CHECK_EQ_INT(harness_save(&h, 2), want_err);
    CHECK_EQ_STR(F.trace, want_trace);
    CHECK(file_is_version(sb.conf, want_version));
    CHECK_EQ_INT(sandbox_others(&sb, NULL, 0), 0);   /* the temp file, whole or partial, is removed */
    CHECK(next_save_succeeds(&sb, &h, 3));
    harness_done(&h);
    sandbox_close(&sb);
}

/* A short write, then the disk is full: no fsync, no rename. */
static void arm_enospc(void)
{
    F.write_budget = 100;
    F.write_err = ENOSPC;
}

TEST(persister_enospc_keeps_the_old_file)
{
    fault_case(arm_enospc, ENOSPC, "oww", 1);
}

static void arm_open(void) { F.open_err = EMFILE; }

TEST(persister_open_failure_keeps_the_old_file)
{
    fault_case(arm_open, EMFILE, "o", 1);
}

/* On a failed fsync of the temp file the persister gives up on this
 * version: it does not retry the fsync, does not rename, removes the temp
 * file and reports the errno; the next request writes afresh. */
static void arm_fsync(void) { F.fsync_err = EIO; }

TEST(persister_fsync_failure_keeps_the_old_file)
{
    fault_case(arm_fsync, EIO, "owf", 1);
}

static void arm_rename(void) { F.rename_err = EXDEV; }

TEST(persister_rename_failure_keeps_the_old_file)
{
    fault_case(arm_rename, EXDEV, "owfr", 1);
}

/* The directory fsync runs after the rename: the new file is complete and
 * in place, but not known to survive a power loss, so the save is still
 * reported as failed. */
static void arm_dir_fsync(void) { F.dir_fsync_err = EIO; }

TEST(persister_dir_fsync_failure_is_reported)
{
    fault_case(arm_dir_fsync, EIO, "owfrd", 2);
}

/* Requests queued before the persister runs are coalesced into one write of
 * the newest text, and every one of them gets that write's result: the
 * acknowledged ones by message, the synchronous one (shutdown) through its
 * rendezvous. */
TEST(persister_coalesced_requests_all_get_the_failure)
{
    faults_reset();
    sandbox_t sb;
    harness_t h;
    REQUIRE(sandbox_open(&sb) == 0);
    REQUIRE(harness_init(&h, &sb) == 0);
    persist_wait_t *w = persist_wait_new();
    REQUIRE(w != NULL);
    F.fsync_err = EIO;
    harness_send(&h, 1, NULL);
    harness_send(&h, 2, w);
    harness_send(&h, 3, NULL);
    REQUIRE(rt_thread_start(h.thread) == 0);
    CHECK_EQ_INT(persist_wait_timed(w, 5000), EIO);
    CHECK(harness_wait_acks(&h, 2));
    CHECK_EQ_STR(F.trace, "owf");         /* one write for the three */
    CHECK_EQ_INT(h.ack_seq[0], 1);
    CHECK_EQ_INT(h.ack_err[0], EIO);
    CHECK_EQ_INT(h.ack_seq[1], 3);
    CHECK_EQ_INT(h.ack_err[1], EIO);
    CHECK_EQ_INT(access(sb.conf, F_OK), -1);   /* nothing was there, nothing is */
    CHECK_EQ_INT(sandbox_others(&sb, NULL, 0), 0);
    CHECK(next_save_succeeds(&sb, &h, 4));
    harness_done(&h);
    sandbox_close(&sb);
}

/* The writer dies at step `at` of a save of version 2 over version 1, in a
 * child process; the test then looks at what the crash left. */
static void crash_scenario(char at)
{
    faults_reset();
    sandbox_t sb;
    REQUIRE(sandbox_open(&sb) == 0);
    size_t len1, len2;
    char *v1 = conf_text(1, &len1), *v2 = conf_text(2, &len2);
    REQUIRE(persister_write_file(sb.conf, v1, len1) == 0);
    F.crash_at = at;
    fflush(NULL);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) _exit(persister_write_file_io(&fault_io, sb.conf, v2, len2, true) == 0 ? 0 : 1);
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == CRASHED);
    /* The old file is whole; the temp file the crash left holds all of the
     * new text (written, not yet renamed), under the dead writer's name. */
    CHECK(file_is_version(sb.conf, 1));
    char left[256] = "", want[64], path[400];
    snprintf(want, sizeof want, "nodes.conf.tmp-%d", (int)pid);
    CHECK_EQ_INT(sandbox_others(&sb, left, sizeof left), 1);
    CHECK_EQ_STR(left, want);
    snprintf(path, sizeof path, "%s/%s", sb.dir, left);
    CHECK(file_is_version(path, 2));
    /* The restarted writer (another pid) saves normally. */
    faults_reset();
    CHECK_EQ_INT(persister_write_file_io(&fault_io, sb.conf, v2, len2, true), 0);
    CHECK_EQ_STR(F.trace, "owfrd");
    CHECK(file_is_version(sb.conf, 2));
    free(v1);
    free(v2);
    sandbox_close(&sb);
}

TEST(persister_crash_between_write_and_fsync_keeps_the_old_file)
{
    crash_scenario('f');
}

TEST(persister_crash_between_fsync_and_rename_keeps_the_old_file)
{
    crash_scenario('r');
}

/* A save that does not ask for fsync (most of them, as in 7.0.15): write,
 * close, exchange of names with nodes.conf, no fsync of the file or the
 * directory; the new text is in nodes.conf when acknowledged (a killed
 * process leaves it there: the page cache is the kernel's), and the old
 * one is gone. */
TEST(persister_save_without_fsync_skips_both_fsyncs)
{
    sandbox_t sb;
    harness_t h;
    REQUIRE(fixture(&sb, &h) == 0);
    h.no_fsync = true;
    CHECK_EQ_INT(harness_save(&h, 2), 0);
    CHECK_EQ_STR(F.trace, "owx");
    CHECK(file_is_version(sb.conf, 2));
    CHECK_EQ_INT(sandbox_others(&sb, NULL, 0), 0);
    /* no exchange (a file system without it): the rename does it */
    faults_reset();
    F.exchange_err = EINVAL;
    CHECK_EQ_INT(harness_save(&h, 3), 0);
    CHECK_EQ_STR(F.trace, "owxr");
    CHECK(file_is_version(sb.conf, 3));
    CHECK_EQ_INT(sandbox_others(&sb, NULL, 0), 0);
    /* a failed rename after it still removes the temp file and keeps the old one */
    faults_reset();
    F.exchange_err = EINVAL;
    F.rename_err = EXDEV;
    CHECK_EQ_INT(harness_save(&h, 4), EXDEV);
    CHECK_EQ_STR(F.trace, "owxr");
    CHECK(file_is_version(sb.conf, 3));
    CHECK_EQ_INT(sandbox_others(&sb, NULL, 0), 0);
    /* the next one that asks for fsync gets both */
    h.no_fsync = false;
    CHECK(next_save_succeeds(&sb, &h, 5));
    harness_done(&h);
    sandbox_close(&sb);
}

/* Coalesced requests: the one write fsyncs when any of them asked for it,
 * whether the asking one is the newest or an older one. */
TEST(persister_coalesced_write_fsyncs_if_any_request_asked)
{
    for (int asking = 0; asking < 3; asking++) {
        faults_reset();
        sandbox_t sb;
        harness_t h;
        REQUIRE(sandbox_open(&sb) == 0);
        REQUIRE(harness_init(&h, &sb) == 0);
        for (uint64_t e = 1; e <= 3; e++) {
            h.no_fsync = (int)e - 1 != asking;
            harness_send(&h, e, NULL);
        }
        REQUIRE(rt_thread_start(h.thread) == 0);
        CHECK(harness_wait_acks(&h, 3));
        CHECK_EQ_STR(F.trace, "owfrd");
        CHECK(file_is_version(sb.conf, 3));
        harness_done(&h);
        sandbox_close(&sb);
    }
    /* none asked: none done */
    faults_reset();
    sandbox_t sb;
    harness_t h;
    REQUIRE(sandbox_open(&sb) == 0);
    REQUIRE(harness_init(&h, &sb) == 0);
    h.no_fsync = true;
    for (uint64_t e = 1; e <= 3; e++) harness_send(&h, e, NULL);
    REQUIRE(rt_thread_start(h.thread) == 0);
    CHECK(harness_wait_acks(&h, 3));
    CHECK_EQ_STR(F.trace, "owxr");   /* no nodes.conf yet to swap with: renamed */
    CHECK(file_is_version(sb.conf, 3));
    harness_done(&h);
    sandbox_close(&sb);
}

/* A save that asks for fsync, with the write in place the node uses: as
 * 7.0.15's clusterSaveConfig(1), the text over the file's own bytes and one
 * fsync of the file; no temp file, rename or directory fsync (the temp-file
 * path cost two fsyncs, the second one of the directory, for each save a
 * bus message asks to fsync during a reshard). The directory is fsynced
 * only when a rename since its last fsync may not be durable. */
TEST(persister_fsync_save_in_place_is_one_fsync)
{
    /* Saves in order: version, fsync asked, the steps expected, and the
     * result (each leaves that version in nodes.conf and no other file). */
    static const struct {
        uint64_t epoch;
        bool fsync;
        const char *trace;
        int err;
    } steps[] = {
        { 1, true, "vowfrd", 0 },   /* no file yet: the temp file makes it, its name made durable */
        { 2, true, "vf", 0 },       /* written over its own bytes, one fsync */
        { 3, false, "v", 0 },       /* without fsync: the write alone */
        { 40, false, "vowx", 0 },   /* a text over a page: the temp file, swapped in */
        { 4, true, "vowfrd", 0 },   /* over a page on disk: cannot be written in place */
        { 5, true, "vf", 0 },
        { 40, false, "vowx", 0 },
        { 6, false, "vowx", 0 },    /* renamed without fsync since the last directory fsync... */
        { 7, true, "vfd", 0 },      /* ...so the next in-place fsync does the directory once */
        { 8, true, "vf", 0 },
        { 9, true, "vf", EIO },     /* a failed fsync is reported; the text is in place */
    };
    persist_io_t inplace = fault_io;   /* with the write in place, as the node's persister has it */
    inplace.overwrite = fault_overwrite;
    faults_reset();
    sandbox_t sb;
    harness_t h;
    REQUIRE(sandbox_open(&sb) == 0);
    REQUIRE(harness_init_io(&h, &sb, &inplace) == 0);
    REQUIRE(rt_thread_start(h.thread) == 0);
    ino_t ino = 0;
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        faults_reset();
        if (steps[i].err == EIO) F.fsync_err = EIO;
        h.no_fsync = !steps[i].fsync;
        CHECK_EQ_INT(harness_save(&h, steps[i].epoch), steps[i].err);
        CHECK_EQ_STR(F.trace, steps[i].trace);
        CHECK(file_is_version(sb.conf, steps[i].epoch));
        CHECK_EQ_INT(sandbox_others(&sb, NULL, 0), 0);
        struct stat st;
        REQUIRE(stat(sb.conf, &st) == 0);
        if (steps[i].trace[1] == '\0' || steps[i].trace[1] == 'f') CHECK(st.st_ino == ino);   /* written over */
        ino = st.st_ino;
    }
    harness_done(&h);
    sandbox_close(&sb);
}

/* The write through (a thread that serves clients, persister_write_through)
 * never cuts the file: a shorter text is padded with newlines to the old
 * length, which nodes_conf_parse skips; the persister's next write in place
 * cuts them. A cut waits for the writeback of the page it cuts, which the
 * persister's fsync of the version before may have started: a worker
 * borrowing the state thread waited there with its clients. With
 * persist_overwrite (the cut) in place of persist_overwrite_keep the size
 * check below fails. */
TEST(persister_write_through_never_cuts_the_file)
{
    persist_io_t inplace = fault_io;
    inplace.overwrite = fault_overwrite;
    inplace.overwrite_keep = persist_overwrite_keep;
    faults_reset();
    sandbox_t sb;
    harness_t h;
    REQUIRE(sandbox_open(&sb) == 0);
    REQUIRE(harness_init_io(&h, &sb, &inplace) == 0);
    REQUIRE(rt_thread_start(h.thread) == 0);
    CHECK_EQ_INT(harness_save(&h, 9), 0);            /* the long text, by the persister */
    CHECK(file_is_version(sb.conf, 9));
    size_t long_len, short_len, got_len = 0;
    free(conf_text(9, &long_len));
    char *text = conf_text(2, &short_len);
    REQUIRE(short_len < long_len);
    CHECK_EQ_INT(persister_write_through_on(h.persister, ++h.next_seq, text, short_len), 0);
    unsigned char *got = unit_read_file(sb.conf, &got_len);
    REQUIRE(got != NULL);
    CHECK_EQ_INT((long long)got_len, (long long)long_len);   /* not cut */
    CHECK(!memcmp(got, text, short_len));
    bool padded = true;
    for (size_t i = short_len; i < got_len; i++) padded &= got[i] == '\n';
    CHECK(padded);
    nodes_conf_t c;
    nodes_conf_error_t err;
    REQUIRE(nodes_conf_parse(got, got_len, &c, &err) == NODES_CONF_OK);
    CHECK_EQ_INT((long long)c.current_epoch, 2);
    nodes_conf_free(&c);
    free(got);
    free(text);
    /* the same version again (the persister asked to fsync it): left as it is */
    CHECK_EQ_INT(persister_write_through_on(h.persister, h.next_seq, "x", 1), 0);
    CHECK_EQ_INT(harness_save(&h, 3), 0);            /* the persister's next write cuts */
    CHECK(file_is_version(sb.conf, 3));
    harness_done(&h);
    sandbox_close(&sb);
}

/* The write through keeps nodes.conf open between writes, and that
 * descriptor follows the name: after the persister puts another file
 * under it (an exchange), the next write through lands in the new file;
 * after the file is removed, a write through reports an error (the state
 * actor then asks the persister, which makes a new file) instead of
 * writing into the removed one. */
TEST(persister_write_through_follows_the_file_name)
{
    persist_io_t swap = fault_io;             /* no write in place: every save swaps names */
    swap.overwrite_keep = persist_overwrite_keep;
    faults_reset();
    sandbox_t sb;
    harness_t h;
    REQUIRE(sandbox_open(&sb) == 0);
    REQUIRE(harness_init_io(&h, &sb, &swap) == 0);
    REQUIRE(rt_thread_start(h.thread) == 0);
    h.no_fsync = true;
    size_t len;
    CHECK_EQ_INT(harness_save(&h, 2), 0);
    char *text = conf_text(3, &len);
    CHECK_EQ_INT(persister_write_through_on(h.persister, ++h.next_seq, text, len), 0);
    free(text);
    CHECK(file_is_version(sb.conf, 3));
    struct stat before, after;
    REQUIRE(stat(sb.conf, &before) == 0);
    CHECK_EQ_INT(harness_save(&h, 4), 0);     /* temp file, then the names swapped */
    REQUIRE(stat(sb.conf, &after) == 0);
    CHECK(before.st_ino != after.st_ino);
    CHECK(file_is_version(sb.conf, 4));
    text = conf_text(5, &len);
    CHECK_EQ_INT(persister_write_through_on(h.persister, ++h.next_seq, text, len), 0);
    free(text);
    CHECK(file_is_version(sb.conf, 5));
    REQUIRE(unlink(sb.conf) == 0);
    text = conf_text(6, &len);
    CHECK(persister_write_through_on(h.persister, ++h.next_seq, text, len) != 0);
    free(text);
    CHECK(access(sb.conf, F_OK) != 0);
    CHECK_EQ_INT(harness_save(&h, 7), 0);     /* the persister makes a new one */
    CHECK(file_is_version(sb.conf, 7));
    text = conf_text(8, &len);
    CHECK_EQ_INT(persister_write_through_on(h.persister, ++h.next_seq, text, len), 0);
    free(text);
    CHECK(file_is_version(sb.conf, 8));
    harness_done(&h);
    sandbox_close(&sb);
}

/* A save nobody waits for is acknowledged with rt_send_lazy: the ack waits
 * for the receiving thread's next wake-up (here the next request) instead of
 * waking it, and arrives before the later ack, in version order. */
TEST(persister_lazy_ack_waits_for_the_next_wake_up)
{
    sandbox_t sb;
    harness_t h;
    REQUIRE(fixture(&sb, &h) == 0);
    int before = ck_pr_load_int(&h.nacks);
    unsigned long long lazy = rt_thread_lazy_sends(h.thread);
    h.lazy_ack = true;
    harness_send(&h, 2, NULL);
    long long deadline = rt_mono_ms() + 5000;
    while (rt_thread_lazy_sends(h.thread) == lazy && rt_mono_ms() < deadline) usleep(1000);
    CHECK_EQ_INT((int)(rt_thread_lazy_sends(h.thread) - lazy), 1);
    CHECK(file_is_version(sb.conf, 2));       /* written before the ack was sent */
    usleep(50 * 1000);
    CHECK_EQ_INT(ck_pr_load_int(&h.nacks), before);   /* nothing woke the sink's thread */
    h.lazy_ack = false;
    harness_send(&h, 3, NULL);
    REQUIRE(harness_wait_acks(&h, before + 2));
    CHECK_EQ_INT((int)h.ack_seq[before], (int)h.next_seq - 1);
    CHECK_EQ_INT((int)h.ack_seq[before + 1], (int)h.next_seq);
    CHECK(file_is_version(sb.conf, 3));
    harness_done(&h);
    sandbox_close(&sb);
}
