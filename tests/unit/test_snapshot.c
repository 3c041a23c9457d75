/* test_snapshot.c - unit tests for runtime/snapshot.c: one writer swaps
 * 100,000 snapshots while 3 readers check every object they see (a freed or
 * half-built object fails the magic/checksum check, and ASan aborts on any
 * use after free); every retired object is freed by the end; reader records
 * are reused; reclamation keeps up while readers come and go; the writer
 * role stays on one thread until released (off-thread writer calls abort).
 *
 * Must never: let a reader touch an object outside its read section.
 */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include <ck_pr.h>
#include "runtime/snapshot.h"
#include "tests/unit/unit.h"

#define SNAP_MAGIC 0x5348304c534e4150ULL   /* arbitrary */
#define SNAP_DEAD  0xdeaddeaddeaddeadULL

enum { PUBLISHES = 100000, READERS = 3, WORDS = 14 };

typedef struct {
    uint64_t magic;
    uint64_t seq;
    uint64_t words[WORDS];
    uint64_t checksum;
} snap_obj_t;

static unsigned frees;          /* atomic */

static uint64_t checksum_of(const snap_obj_t *o)
{
    uint64_t h = o->seq * 0x9e3779b97f4a7c15ULL;
    for (int i = 0; i < WORDS; i++) h = (h ^ o->words[i]) * 0x100000001b3ULL;
    return h;
}

static snap_obj_t *obj_new(uint64_t seq)
{
    snap_obj_t *o = malloc(sizeof *o);
    if (o == NULL) abort();
    o->magic = SNAP_MAGIC;
    o->seq = seq;
    for (int i = 0; i < WORDS; i++) o->words[i] = seq * 31 + (uint64_t)i;
    o->checksum = checksum_of(o);
    return o;
}

static void obj_free(void *p)
{
    snap_obj_t *o = p;
    /* Poison first, so a premature free is visible even without ASan. */
    o->magic = SNAP_DEAD;
    o->checksum = 0;
    free(o);
    ck_pr_inc_uint(&frees);
}

struct shared {
    rt_snap_cell_t cell;
    int writer_done;            /* atomic */
    unsigned long long max_pending;
};

struct reader_arg {
    struct shared *sh;
    unsigned long long reads, bad, backwards;
    /* The most publishes seen between two of this reader's consecutive read
     * sections: how long, counted in the writer's work, it held or could hold
     * the epoch back (a time slice lost inside a section, under load). */
    unsigned long long max_gap;
};

static void *reader_main(void *p)
{
    struct reader_arg *arg = p;
    rt_snap_reader_t reader;
    if (rt_snap_reader_register(&arg->sh->cell, &reader) != 0) { arg->bad++; return NULL; }
    uint64_t last_seq = 0;
    /* Read until the writer is done, and at least a few times. */
    while (!ck_pr_load_int(&arg->sh->writer_done) || arg->reads < 1000) {
        const snap_obj_t *o = rt_snap_read_begin(&reader);
        if (o == NULL || o->magic != SNAP_MAGIC || o->checksum != checksum_of(o)) arg->bad++;
        else {
            if (o->seq < last_seq) arg->backwards++;   /* a newer one was seen before */
            else if (last_seq && o->seq - last_seq > arg->max_gap) arg->max_gap = o->seq - last_seq;
            last_seq = o->seq;
        }
        rt_snap_read_end(&reader);
        arg->reads++;
    }
    rt_snap_reader_unregister(&reader);
    return NULL;
}

static void *writer_main(void *p)
{
    struct shared *sh = p;
    for (uint64_t seq = 1; seq <= PUBLISHES; seq++) {
        rt_snap_publish(&sh->cell, obj_new(seq));
        unsigned long long pending = rt_snap_pending(&sh->cell);
        if (pending > sh->max_pending) sh->max_pending = pending;
    }
    ck_pr_store_int(&sh->writer_done, 1);
    return NULL;
}

TEST(snapshot_writer_and_three_readers)
{
    struct shared *sh = calloc(1, sizeof *sh);
    REQUIRE(sh != NULL);
    ck_pr_store_uint(&frees, 0);
    rt_snap_init(&sh->cell, obj_new(0), obj_free);

    pthread_t readers[READERS], writer;
    struct reader_arg args[READERS];
    for (int i = 0; i < READERS; i++) {
        args[i] = (struct reader_arg){ .sh = sh };
        REQUIRE(pthread_create(&readers[i], NULL, reader_main, &args[i]) == 0);
    }
    REQUIRE(pthread_create(&writer, NULL, writer_main, sh) == 0);
    pthread_join(writer, NULL);
    for (int i = 0; i < READERS; i++) pthread_join(readers[i], NULL);

    unsigned long long total_reads = 0, max_gap = 0;
    for (int i = 0; i < READERS; i++) {
        CHECK_EQ_INT(args[i].bad, 0);
        CHECK_EQ_INT(args[i].backwards, 0);
        total_reads += args[i].reads;
        if (args[i].max_gap > max_gap) max_gap = args[i].max_gap;
    }
    /* Reclamation kept up while readers were active: the backlog never grew
     * beyond what the slowest reader's absence allows. An object waits for
     * two epoch advances and each advance waits for every reader to start a
     * new section, so a backlog of a few reader gaps (in publishes) is the
     * most a working reclaimer leaves; one that freed only at destroy would
     * reach PUBLISHES. The bound is counted in the writer's work, not in time:
     * a loaded host that preempts a reader inside its section widens the
     * measured gap by as much as it delays reclamation. */
    unsigned long long bound = 4 * max_gap + 1024;
    unsigned freed_before_destroy = ck_pr_load_uint(&frees);
    CHECK(sh->max_pending <= bound);
    CHECK(freed_before_destroy + bound >= PUBLISHES);
    CHECK_EQ_INT(sh->cell.retired, PUBLISHES);   /* one retirement per publish */

    /* Writer's teardown (on another thread than the one that published: the
     * writer thread has ended, so its record is free to use). */
    rt_snap_destroy(&sh->cell);
    CHECK_EQ_INT(ck_pr_load_uint(&frees), PUBLISHES + 1);   /* + the initial object */
    printf("  snapshot: %d publishes, %llu reads, %u freed before destroy, max backlog %llu, "
           "longest reader gap %llu publishes\n",
           PUBLISHES, total_reads, freed_before_destroy, sh->max_pending, max_gap);
    free(sh);
}

TEST(snapshot_single_thread_semantics)
{
    rt_snap_cell_t cell;
    rt_snap_reader_t r1, r2;
    ck_pr_store_uint(&frees, 0);
    rt_snap_init(&cell, NULL, obj_free);
    REQUIRE(rt_snap_reader_register(&cell, &r1) == 0);
    CHECK(rt_snap_read_begin(&r1) == NULL);       /* nothing published yet */
    rt_snap_read_end(&r1);

    snap_obj_t *a = obj_new(1), *b = obj_new(2);
    rt_snap_publish(&cell, a);
    const snap_obj_t *seen = rt_snap_read_begin(&r1);
    CHECK(seen == a);
    /* While r1 holds `a`, publishing `b` must not free `a`. */
    rt_snap_publish(&cell, b);
    for (int i = 0; i < 10; i++) rt_snap_reclaim(&cell);
    CHECK_EQ_INT(ck_pr_load_uint(&frees), 0);
    CHECK(seen->magic == SNAP_MAGIC);
    rt_snap_read_end(&r1);
    /* Once r1 left, a few polls reclaim it. */
    for (int i = 0; i < 10 && ck_pr_load_uint(&frees) == 0; i++) rt_snap_reclaim(&cell);
    CHECK_EQ_INT(ck_pr_load_uint(&frees), 1);
    CHECK_EQ_INT(rt_snap_pending(&cell), 0);

    /* An unregistered record is reused by the next registration. */
    ck_epoch_record_t *rec = r1.record;
    rt_snap_reader_unregister(&r1);
    CHECK(r1.record == NULL);
    REQUIRE(rt_snap_reader_register(&cell, &r2) == 0);
    CHECK(r2.record == rec);
    seen = rt_snap_read_begin(&r2);
    CHECK(seen == b);
    rt_snap_read_end(&r2);

    rt_snap_destroy(&cell);                       /* frees b and both records */
    CHECK_EQ_INT(ck_pr_load_uint(&frees), 2);

    /* A cell that never published frees its initial object at destroy. */
    rt_snap_init(&cell, obj_new(7), obj_free);
    rt_snap_destroy(&cell);
    CHECK_EQ_INT(ck_pr_load_uint(&frees), 3);
}

typedef struct {
    rt_snap_cell_t *cell;
    snap_obj_t *obj;
    void *seen;
    bool release;
} writer_job_t;

/* Publishes job->obj (when set), reads back as writer, optionally releases. */
static void *writer_job(void *arg)
{
    writer_job_t *job = arg;
    if (job->obj) rt_snap_publish(job->cell, job->obj);
    job->seen = rt_snap_writer_current(job->cell);
    if (job->release) rt_snap_writer_release(job->cell);
    return NULL;
}

TEST(snapshot_writer_role_moves_only_by_release)
{
    rt_snap_cell_t cell;
    ck_pr_store_uint(&frees, 0);
    rt_snap_init(&cell, NULL, obj_free);
    snap_obj_t *a = obj_new(1), *b = obj_new(2);
    rt_snap_publish(&cell, a);                    /* this thread takes the role */
    CHECK(rt_snap_writer_current(&cell) == a);

    /* Another thread's writer call while this one holds the role aborts
     * (run in a child process so the abort is observable). */
    fflush(NULL);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        struct sigaction sa = { .sa_handler = SIG_DFL };
        sigaction(SIGABRT, &sa, NULL);
        close(2);                                 /* keep the assert text out of the runner's output */
        writer_job_t job = { .cell = &cell };
        pthread_t t;
        if (pthread_create(&t, NULL, writer_job, &job) != 0) _exit(3);
        pthread_join(t, NULL);
        _exit(0);                                 /* the call returned: no check */
    }
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);

    /* After a release, another thread takes the role and publishes. */
    rt_snap_writer_release(&cell);
    writer_job_t job = { .cell = &cell, .obj = b, .release = true };
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, writer_job, &job) == 0);
    REQUIRE(pthread_join(t, NULL) == 0);
    CHECK(job.seen == b);
    CHECK(rt_snap_writer_current(&cell) == b);    /* released back: this thread takes it again */
    rt_snap_destroy(&cell);
    CHECK_EQ_INT(ck_pr_load_uint(&frees), 2);
}

typedef struct {
    rt_snap_cell_t *cell;
    snap_obj_t *obj;
    void *seen;
} borrow_job_t;

/* Takes the role lent, publishes job->obj, reads back, gives the role back. */
static void *borrow_job(void *arg)
{
    borrow_job_t *job = arg;
    rt_snap_lent_t lent;
    rt_snap_writer_borrow(job->cell, &lent);
    rt_snap_publish(job->cell, job->obj);
    job->seen = rt_snap_writer_current(job->cell);
    rt_snap_writer_unborrow(job->cell, &lent);
    return NULL;
}

/* A thread holding the writer thread's data (a borrower, ordered with it by
 * the thread token; here by pthread_create/join) publishes as the writer,
 * and the role is the writer's again afterwards without a release. */
TEST(snapshot_writer_role_lent_to_a_borrower_and_back)
{
    rt_snap_cell_t cell;
    ck_pr_store_uint(&frees, 0);
    rt_snap_init(&cell, NULL, obj_free);
    snap_obj_t *a = obj_new(1), *b = obj_new(2), *c = obj_new(3);
    rt_snap_publish(&cell, a);                    /* this thread takes the role */
    borrow_job_t job = { .cell = &cell, .obj = b };
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, borrow_job, &job) == 0);
    REQUIRE(pthread_join(t, NULL) == 0);
    CHECK(job.seen == b);
    CHECK(rt_snap_writer_current(&cell) == b);    /* still this thread's role: no abort */
    rt_snap_publish(&cell, c);
    CHECK(rt_snap_writer_current(&cell) == c);
    rt_snap_destroy(&cell);
    CHECK_EQ_INT(ck_pr_load_uint(&frees), 3);
}
