/* snapshot.c - single-writer publication of immutable objects, reclaimed
 * with ck_epoch once no reader can still hold them.
 *
 * Readers: ck_epoch_begin, one acquire load of `current`, use, ck_epoch_end.
 * No locks, no writes to shared lines other than their own record.
 * Writer: one release store of `current`, then ck_epoch_call on the old
 * object and ck_epoch_poll, which frees whatever has passed its grace period
 * (callbacks run on the writer's thread, inside publish/reclaim/destroy).
 *
 * Must never: free an object a reader may still hold, call ck_epoch_call
 * from any thread but the writer's, or free an epoch record before the cell
 * is destroyed (ck_epoch keeps unregistered records in its list).
 */
#include "runtime/snapshot.h"

#include <assert.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <ck_pr.h>

#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
/* ThreadSanitizer build only. The grace period is detected inside libck
 * (ck_epoch_poll/synchronize/barrier), which is not instrumented, so TSan
 * cannot see that a reader's section ended before the writer frees what the
 * reader loaded, and would report the free as a race with the reader's reads
 * (a false positive). Each section's end releases onto the cell and each free
 * after a grace period acquires it: exactly the edge ck_epoch guarantees, no
 * more (a free during a reader's open section is still reported). The
 * address is a field of its own: TSan keeps one clock per address, and an
 * atomic store to the same address (e.g. to `current`) would overwrite the
 * readers' accumulated releases. */
#define SNAP_TSAN_READ_END(cell)  __tsan_release(&(cell)->tsan_grace)
#define SNAP_TSAN_RECLAIM(cell)   __tsan_acquire(&(cell)->tsan_grace)
#else
#define SNAP_TSAN_READ_END(cell)  ((void)0)
#define SNAP_TSAN_RECLAIM(cell)   ((void)0)
#endif

/* One retired object waiting for its grace period. */
typedef struct retired {
    ck_epoch_entry_t entry;
    void *obj;
    rt_snap_cell_t *cell;
} retired_t;

/* Epoch records are cache-line aligned types; malloc's alignment is not
 * enough for them. */
static ck_epoch_record_t *record_alloc(void)
{
    void *p = NULL;
    size_t size = (sizeof(ck_epoch_record_t) + CK_MD_CACHELINE - 1) & ~(size_t)(CK_MD_CACHELINE - 1);
    if (posix_memalign(&p, CK_MD_CACHELINE, size) != 0)
        return NULL;
    memset(p, 0, size);
    return p;
}

/* A record from the cell's free list, or a new one registered with it. */
static ck_epoch_record_t *record_get(rt_snap_cell_t *cell, void *ctx)
{
    ck_epoch_record_t *r = ck_epoch_recycle(&cell->epoch, ctx);
    if (r != NULL)
        return r;
    r = record_alloc();
    if (r != NULL)
        ck_epoch_register(&cell->epoch, r, ctx);
    return r;
}

void rt_snap_init(rt_snap_cell_t *cell, void *initial, rt_snap_free_fn free_fn)
{
    ck_epoch_init(&cell->epoch);
    cell->writer = NULL;
    cell->free_fn = free_fn;
    cell->retired = 0;
    cell->reclaimed = 0;
    cell->writer_bound = false;
    /* Release: the initial object is complete before anyone can load it
     * (readers get the cell through thread creation or another release). */
    ck_pr_fence_store();
    ck_pr_store_ptr(&cell->current, initial);
}

static void retired_free(ck_epoch_entry_t *entry)
{
    retired_t *r = (retired_t *)((char *)entry - offsetof(retired_t, entry));
    SNAP_TSAN_RECLAIM(r->cell);
    r->cell->free_fn(r->obj);
    r->cell->reclaimed++;
    free(r);
}

/* Takes the writer role for the calling thread, or asserts it already has
 * it. The fields are the writer's own: only the role's holder touches them,
 * and a hand-off is ordered by rt_snap_writer_release's contract. */
static void writer_check(rt_snap_cell_t *cell)
{
    if (!cell->writer_bound) {
        cell->writer_thread = pthread_self();
        cell->writer_bound = true;
        return;
    }
    assert(pthread_equal(cell->writer_thread, pthread_self()) && "snapshot writer call off the writer's thread");
}

void *rt_snap_writer_current(rt_snap_cell_t *cell)
{
    writer_check(cell);
    /* No ordering needed: the writer reads its own last store. */
    return ck_pr_load_ptr(&cell->current);
}

void rt_snap_writer_release(rt_snap_cell_t *cell)
{
    writer_check(cell);
    cell->writer_bound = false;
}

void rt_snap_writer_borrow(rt_snap_cell_t *cell, rt_snap_lent_t *saved)
{
    saved->thread = cell->writer_thread;
    saved->bound = cell->writer_bound;
    cell->writer_thread = pthread_self();
    cell->writer_bound = true;
}

void rt_snap_writer_unborrow(rt_snap_cell_t *cell, const rt_snap_lent_t *saved)
{
    cell->writer_thread = saved->thread;
    cell->writer_bound = saved->bound;
}

void rt_snap_publish(rt_snap_cell_t *cell, void *obj)
{
    writer_check(cell);
    if (cell->writer == NULL)
        cell->writer = record_get(cell, NULL);

    void *old = cell->current;        /* only the writer stores it */
    /* store->store (release): every write that built `obj` is visible before
     * a reader can load the pointer. */
    ck_pr_fence_store();
    ck_pr_store_ptr(&cell->current, obj);

    if (old == NULL || cell->free_fn == NULL)
        goto poll;
    if (cell->writer == NULL)
        return;                       /* no record: leaking is the only safe choice */
    cell->retired++;
    retired_t *r = malloc(sizeof *r);
    if (r == NULL) {
        /* Cannot defer: wait for every reader that might hold `old`. */
        ck_epoch_synchronize(cell->writer);
        SNAP_TSAN_RECLAIM(cell);
        cell->free_fn(old);
        cell->reclaimed++;
        goto poll;
    }
    r->obj = old;
    r->cell = cell;
    ck_epoch_call(cell->writer, &r->entry, retired_free);
poll:
    if (cell->writer != NULL)
        ck_epoch_poll(cell->writer);
}

void rt_snap_reclaim(rt_snap_cell_t *cell)
{
    writer_check(cell);
    if (cell->writer != NULL)
        ck_epoch_poll(cell->writer);
}

unsigned long long rt_snap_pending(const rt_snap_cell_t *cell)
{
    return cell->retired - cell->reclaimed;
}

void rt_snap_destroy(rt_snap_cell_t *cell)
{
    /* Grace period, then run every deferred free. */
    if (cell->writer != NULL)
        ck_epoch_barrier(cell->writer);
    SNAP_TSAN_RECLAIM(cell);
    void *cur = cell->current;
    ck_pr_store_ptr(&cell->current, NULL);
    if (cur != NULL && cell->free_fn != NULL)
        cell->free_fn(cur);

    ck_stack_entry_t *cursor, *next;
    CK_STACK_FOREACH_SAFE(&cell->epoch.records, cursor, next) {
        ck_epoch_record_t *rec =
            (ck_epoch_record_t *)((char *)cursor - offsetof(ck_epoch_record_t, record_next));
        free(rec);
    }
    ck_epoch_init(&cell->epoch);
    cell->writer = NULL;
    cell->writer_bound = false;   /* teardown may run on another thread (see snapshot.h) */
}

int rt_snap_reader_register(rt_snap_cell_t *cell, rt_snap_reader_t *reader)
{
    reader->cell = cell;
    reader->record = record_get(cell, reader);
    return reader->record != NULL ? 0 : -1;
}

void rt_snap_reader_unregister(rt_snap_reader_t *reader)
{
    if (reader->record != NULL)
        ck_epoch_unregister(reader->record);   /* stays in the cell's list */
    reader->record = NULL;
}

void *rt_snap_read_begin(rt_snap_reader_t *reader)
{
    /* ck_epoch_begin publishes "active" with a store->load fence before it
     * reads the epoch, so the writer cannot miss us once we load `current`. */
    ck_epoch_begin(reader->record, NULL);
    void *obj = ck_pr_load_ptr(&reader->cell->current);
    /* load->load (acquire): the object's fields are read after the pointer
     * that the writer released. */
    ck_pr_fence_load();
    return obj;
}

void *rt_snap_read_again(rt_snap_reader_t *reader)
{
    void *obj = ck_pr_load_ptr(&reader->cell->current);
    /* load->load (acquire), as in rt_snap_read_begin. */
    ck_pr_fence_load();
    return obj;
}

void rt_snap_read_end(rt_snap_reader_t *reader)
{
    /* ck_epoch_end fences (release) before clearing "active". */
    SNAP_TSAN_READ_END(reader->cell);
    ck_epoch_end(reader->record, NULL);
}
