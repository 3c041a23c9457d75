/* test_state_save.c - state_save_and_wait when the persister answers late.
 *
 * At shutdown main asks the state actor to save and waits at most a moment.
 * When the persister is slower than that, the waiter returns; the persister
 * must then not write into anything the waiter owned. Here the persister's
 * thread is started only after the waiter gave up: its answer is late by
 * construction. The stack below main is then filled with a pattern while the
 * late answer arrives; a write into the returned frame changes the pattern
 * (or, under ASan, is reported as a bad stack access).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "actors/config/config.h"
#include "actors/persist/persister.h"
#include "actors/state/state.h"
#include "actors/state/state_internal.h"
#include "runtime/actor.h"
#include "tests/unit/unit.h"

static rt_thread_t *state_thread, *persist_thread;

/* What changes when the file is written: its inode when a new file is
 * renamed over it, its modification time when it is written over in place
 * (the persister's way for a small nodes.conf, as 7.0.15's); 0 when absent. */
typedef struct file_stamp {
    ino_t ino;
    struct timespec mtime;
} file_stamp_t;

static file_stamp_t stamp_of(const char *path)
{
    struct stat st;
    file_stamp_t z = { 0, { 0, 0 } };
    if (stat(path, &st) != 0) return z;
    return (file_stamp_t){ st.st_ino, st.st_mtim };
}

static bool same_stamp(file_stamp_t a, file_stamp_t b)
{
    return a.ino == b.ino && a.mtime.tv_sec == b.mtime.tv_sec && a.mtime.tv_nsec == b.mtime.tv_nsec;
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* A frame of its own, so that it is gone when we look at the stack again. */
__attribute__((noinline)) static int save_with_short_timeout(void)
{
    return state_save_and_wait(50);
}

#define GUARD_BYTES 16384

/* Covers the stack where save_with_short_timeout's frame was with a pattern,
 * lets the late persister finish its write, and says whether the pattern
 * survived. `conf` is the file the persister writes. */
__attribute__((noinline)) static int late_answer_keeps_stack(const char *conf, file_stamp_t before)
{
    volatile unsigned char guard[GUARD_BYTES];
    for (size_t i = 0; i < sizeof guard; i++) guard[i] = 0xA5;
    if (rt_thread_start(persist_thread) != 0) return -1;
    /* The persister puts the new text in place, then fsyncs and answers
     * the waiter; a stop asked for after the write ends its loop only once
     * that iteration (and so the answer) is done. */
    for (int i = 0; i < 500 && same_stamp(stamp_of(conf), before); i++) sleep_ms(10);
    if (same_stamp(stamp_of(conf), before)) return -1;
    rt_thread_stop(persist_thread);
    rt_thread_join(persist_thread);
    for (size_t i = 0; i < sizeof guard; i++)
        if (guard[i] != 0xA5) return 0;
    return 1;
}

/* The scenario, in a child process: state_start takes over process-wide
 * state (the cluster snapshot cell, the state actor) that other unit tests'
 * threads use. Exit status: 0 pass, 10 setup failed, 11 the wait did not time
 * out, 12 the late answer changed the stack; a sanitizer report exits 1. */
static int scenario(void)
{
    char dir[] = "/tmp/shoal-statesave-XXXXXX";
    if (!mkdtemp(dir)) return 10;
    char conf[256], lock[300];
    snprintf(conf, sizeof conf, "%s/nodes.conf", dir);
    snprintf(lock, sizeof lock, "%s.lock", conf);
    config_error_t err;
    if (config_load_string("cluster-enabled yes\n", &err) != 0) return 10;
    state_thread = rt_thread_create("st-state");
    persist_thread = rt_thread_create("st-persist");
    if (!state_thread || !persist_thread) return 10;
    if (persister_start(persist_thread, conf, STATE_MSG_DURABLE) != 0) return 10;
    if (state_start(state_thread, conf) != 0) return 10;
    if (rt_thread_start(state_thread) != 0) return 10;
    file_stamp_t before = stamp_of(conf);
    if (before.ino == 0) return 10;
    sleep_ms(20);   /* a later write gets a later mtime, whatever the clock's grain */

    /* The persister's thread is not running: the wait must time out. */
    int code = 0;
    if (save_with_short_timeout() != -1) code = 11;
    else {
        int kept = late_answer_keeps_stack(conf, before);
        code = kept < 0 ? 10 : kept == 0 ? 12 : 0;
    }
    rt_thread_stop(state_thread);
    rt_thread_join(state_thread);
    unlink(conf);
    unlink(lock);
    rmdir(dir);
    return code;
}

TEST(state_save_and_wait_survives_a_late_persister)
{
    fflush(NULL);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) _exit(scenario());   /* _exit: the child leaves the parent's leak check alone */
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK_EQ_INT(WEXITSTATUS(status), 0);
}
