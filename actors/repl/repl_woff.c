/* repl_woff.c - WAIT's per-client target (repl.h, repl_wait_marks_t).
 *
 * 7.0.15 answers WAIT for the stream offset after the client's last called
 * command (c->woff), not for the whole stream, so a client whose own writes
 * are acknowledged is answered while other clients' later writes are not.
 * Here each worker numbers its handovers to the replication actor, and notes
 * per client the number that covers the client's last call there
 * (worker_woff_note); the actor keeps, per worker, where its last handovers
 * ended, and WAIT's target is the largest end among the handovers the
 * client's marks name.
 *
 * Must never: give a target below the end of a handover that holds one of
 * the client's writes (when in doubt, a larger end: the stream's current
 * offset). Replication thread only.
 */
#include "actors/repl/repl_actor_internal.h"

void ra_fed(repl_actor_state_t *ra, int worker, uint64_t seq)
{
    if (worker < 0 || worker >= MAX_WORKERS) return;
    repl_fed_t *f = &ra->fed[worker];
    f->head = (f->head + 1) % REPL_FED_RING;
    f->seq[f->head] = seq;
    f->end[f->head] = ra->offset;
    if (f->n < REPL_FED_RING) f->n++;
}

void ra_fed_reset(repl_actor_state_t *ra)
{
    for (int w = 0; w < MAX_WORKERS; w++) ra->fed[w].n = 0;
}

/* Where handover `seq` of worker w ended. A worker's handovers arrive in
 * order and each is filed (ra_fed), so the ring holds consecutive numbers. */
static long long fed_end(const repl_actor_state_t *ra, int w, uint64_t seq)
{
    const repl_fed_t *f = &ra->fed[w];
    if (seq == 0) return 0;                       /* the client's calls there buffered nothing before any handover */
    if (f->n == 0) return ra->offset;             /* forgotten (a new history): the whole stream */
    uint64_t newest = f->seq[f->head];
    if (seq > newest) return ra->offset;          /* not filed yet: not reached, the WAIT marker flushed it */
    uint64_t back = newest - seq;
    if (back >= (uint64_t)f->n) back = (uint64_t)f->n - 1;   /* older than the ring: its oldest end is larger */
    return f->end[(f->head - (int)back + REPL_FED_RING) % REPL_FED_RING];
}

long long ra_wait_target(const repl_actor_state_t *ra, const repl_wait_marks_t *m)
{
    if (!m || m->whole) return ra->offset;
    long long target = 0;
    for (int w = 0; w < MAX_WORKERS && w < REPL_WAIT_WORKERS; w++) {
        if (!(m->mask & (1ull << w))) continue;
        long long end = fed_end(ra, w, m->marks[w]);
        if (end > target) target = end;
    }
    /* never past the stream: a handover's end is an offset the stream had */
    return target < ra->offset ? target : ra->offset;
}
