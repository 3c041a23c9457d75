/* snapshot.h - publication of immutable snapshots with ck_epoch.
 *
 * One writer publishes a new immutable object with one atomic pointer store;
 * any number of readers on other threads read the current object without
 * locks inside a read section. The old object is freed only after every
 * reader that could still hold it has left its section (ck_epoch grace
 * period), so readers never see freed memory.
 *
 * Must never: modify an object after publishing it, or let a reader keep a
 * pointer past rt_snap_read_end.
 */
#ifndef SHOAL_RUNTIME_SNAPSHOT_H
#define SHOAL_RUNTIME_SNAPSHOT_H

#include <ck_epoch.h>

typedef void (*rt_snap_free_fn)(void *obj);

typedef struct rt_snap_cell {
    void *current;                /* atomic */
    ck_epoch_t epoch;
    ck_epoch_record_t *writer;    /* the publishing thread's record */
    rt_snap_free_fn free_fn;
} rt_snap_cell_t;

/* A reader's registration; one per reading thread, caller-owned storage. */
typedef struct rt_snap_reader {
    ck_epoch_record_t record;
    rt_snap_cell_t *cell;
} rt_snap_reader_t;

/* `initial` may be NULL. `free_fn` frees retired objects. */
void rt_snap_init(rt_snap_cell_t *cell, void *initial, rt_snap_free_fn free_fn);

/* Writer only: makes `obj` current; the old one is freed after a grace period.
 * Also reclaims earlier retired objects whose grace period has passed. */
void rt_snap_publish(rt_snap_cell_t *cell, void *obj);

/* Writer only: tries to reclaim retired objects (call periodically). */
void rt_snap_reclaim(rt_snap_cell_t *cell);

/* Writer, at teardown after all readers stopped: frees current and retired objects. */
void rt_snap_destroy(rt_snap_cell_t *cell);

void rt_snap_reader_register(rt_snap_cell_t *cell, rt_snap_reader_t *reader);
void rt_snap_reader_unregister(rt_snap_reader_t *reader);

/* Returns the current object, valid until rt_snap_read_end. Sections do not nest. */
void *rt_snap_read_begin(rt_snap_reader_t *reader);
void rt_snap_read_end(rt_snap_reader_t *reader);

#endif
