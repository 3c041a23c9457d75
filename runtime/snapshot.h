/* snapshot.h - publication of immutable snapshots with ck_epoch.
 *
 * One writer publishes a new immutable object with one atomic pointer store;
 * any number of readers on other threads read the current object without
 * locks inside a read section. The old object is freed only after every
 * reader that could still hold it has left its section (ck_epoch grace
 * period), so readers never see freed memory.
 *
 * Ownership: the cell owns `initial` and every object passed to
 * rt_snap_publish, and frees each with `free_fn` once it is retired and its
 * grace period is over (or at rt_snap_destroy). Objects need no special
 * layout: each retirement allocates a small wrapper holding the
 * ck_epoch_entry_t. If that allocation fails, publish waits for a grace
 * period (readers are short) and frees the old object directly.
 *
 * Epoch records (the writer's and the readers') are allocated by the cell and
 * freed only by rt_snap_destroy: ck_epoch keeps every record linked in its
 * list for good, so a record must outlive the cell's use, not the reader's.
 *
 * Must never: modify an object after publishing it, or let a reader keep a
 * pointer past rt_snap_read_end.
 */
#ifndef SHOAL_RUNTIME_SNAPSHOT_H
#define SHOAL_RUNTIME_SNAPSHOT_H

#include <pthread.h>
#include <stdbool.h>
#include <ck_epoch.h>

typedef void (*rt_snap_free_fn)(void *obj);

typedef struct rt_snap_cell {
    void *current;                /* atomic */
    ck_epoch_t epoch;
    ck_epoch_record_t *writer;    /* the publishing thread's record (registered on first publish) */
    rt_snap_free_fn free_fn;      /* NULL: objects are never freed by the cell */
    unsigned long long retired;   /* writer only: objects handed to the grace period */
    unsigned long long reclaimed; /* writer only: of those, already freed */
    pthread_t writer_thread;      /* writer only: the thread that holds the writer role ... */
    bool writer_bound;            /* ... once it published or read as writer (see rt_snap_writer_release) */
    char tsan_grace;              /* ThreadSanitizer build: the address its grace-period annotation
                                     uses (never accessed; see snapshot.c) */
} rt_snap_cell_t;

/* A reader's registration; one per reading thread, caller-owned storage.
 * The record it points to belongs to the cell (see above), so the reader
 * struct itself may go away after rt_snap_reader_unregister. */
typedef struct rt_snap_reader {
    ck_epoch_record_t *record;
    rt_snap_cell_t *cell;
} rt_snap_reader_t;

/* `initial` may be NULL. `free_fn` frees retired objects. */
void rt_snap_init(rt_snap_cell_t *cell, void *initial, rt_snap_free_fn free_fn);

/* The writer role belongs to one thread at a time: the first thread that
 * publishes, reclaims or calls rt_snap_writer_current after init (or after
 * rt_snap_writer_release) takes it, and those calls assert that they run on
 * it. A role moves to another thread only by an explicit release, ordered
 * before the new thread's first writer call (e.g. by starting that thread). */

/* Writer only: makes `obj` current; the old one is freed after a grace period.
 * Also reclaims earlier retired objects whose grace period has passed. */
void rt_snap_publish(rt_snap_cell_t *cell, void *obj);

/* Writer only: tries to reclaim retired objects (call periodically). */
void rt_snap_reclaim(rt_snap_cell_t *cell);

/* Writer, at teardown after all readers stopped (left their sections; they
 * need not unregister): frees current and retired objects and every epoch
 * record. Registered readers must not be used afterwards. The cell may be
 * initialised again. */
void rt_snap_destroy(rt_snap_cell_t *cell);

/* Any thread, once per reading thread. Reuses an unregistered record when
 * there is one. Returns 0, or -1 if no record could be allocated. */
int rt_snap_reader_register(rt_snap_cell_t *cell, rt_snap_reader_t *reader);
/* The reading thread, outside a read section. */
void rt_snap_reader_unregister(rt_snap_reader_t *reader);

/* Writer only: the current object, read without a read section. Safe only
 * on the writer's thread (asserted): no one else retires objects, so it
 * stays valid until that thread's next rt_snap_publish. */
void *rt_snap_writer_current(rt_snap_cell_t *cell);

/* Writer, after its last publish: gives up the writer role, so the next
 * thread that publishes (or reads as writer) takes it. Used when main
 * publishes the first object and an actor's thread publishes the rest. */
void rt_snap_writer_release(rt_snap_cell_t *cell);

/* A thread that holds the writer thread's data for a while (its token, see
 * rt_thread_try_borrow in runtime/actor.h) acts as the writer until it
 * calls rt_snap_writer_unborrow with what rt_snap_writer_borrow saved; the
 * token orders the two threads' writer calls, as a release of the role
 * would. */
typedef struct rt_snap_lent {
    pthread_t thread;
    bool bound;
} rt_snap_lent_t;
void rt_snap_writer_borrow(rt_snap_cell_t *cell, rt_snap_lent_t *saved);
void rt_snap_writer_unborrow(rt_snap_cell_t *cell, const rt_snap_lent_t *saved);

/* Writer only: retired objects not freed yet. */
unsigned long long rt_snap_pending(const rt_snap_cell_t *cell);

/* Returns the current object, valid until rt_snap_read_end. Sections do not nest. */
void *rt_snap_read_begin(rt_snap_reader_t *reader);
void rt_snap_read_end(rt_snap_reader_t *reader);
/* Inside a section: the current object now, which may be newer than the one
 * rt_snap_read_begin returned; valid until rt_snap_read_end too (whatever
 * is retired after the section began waits for its end). */
void *rt_snap_read_again(rt_snap_reader_t *reader);

#endif
