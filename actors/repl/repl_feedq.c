/* repl_feedq.c - the workers' handovers (RM_FEED) on their way to the
 * replication actor while the AOF is on, without a wake-up per handover.
 *
 * Why: with `appendonly yes` every worker hands its writes over at the end
 * of each loop round (repl_flush), replicas or not, so that the AOF and the
 * stream share one order (aof_handover). Sent as messages, each handover
 * woke the replication thread, which then only filed it (no replica reads
 * the stream): at -P 1 that was one eventfd write and one sleep/wake of the
 * replication thread per few requests, about 15 % of the node's CPU per
 * SET at appendfsync everysec (docs/persistence.md, section 7).
 *
 * How: aof_handover calls repl_feed_pass inside the AOF writer's critical
 * section, so this queue holds the handovers in the file's order. The
 * replication actor takes the whole queue (ra_feeds_take) before every
 * message it handles and before its loop sleeps, so a message sent after a
 * handover (a cut's arrival, WAIT, PSYNC, ...) still finds the handover
 * filed first, as when both went through its mailbox. The thread is woken
 * (one RM_FEED_KICK per burst, as a mailbox wakes once per burst) only
 * while it serves replicas (`prompt`: the stream must flow) or when the
 * queue holds more than FEEDQ_KICK_BYTES; otherwise the queue waits for
 * the thread's next message, timer or sleep.
 *
 * Must never: reorder handovers, or leave a handover behind a message sent
 * after it. Any thread pushes (callers serialize: the AOF writer's lock);
 * only the replication thread takes.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "actors/repl/repl_actor_internal.h"
#include "runtime/xmalloc.h"

/* Bytes queued (handovers' data plus their message) that wake the thread
 * even without replicas: bounds the memory a burst of writes holds. */
#define FEEDQ_KICK_BYTES (512 * 1024)

static struct {
    pthread_mutex_t mu;
    rt_msg_t *head, *tail;
    size_t bytes;
    bool prompt;                  /* the actor serves replicas: wake it for the first handover */
    bool kicked;                  /* an RM_FEED_KICK is on its way and not yet handled */
} Q = { .mu = PTHREAD_MUTEX_INITIALIZER };

/* Relaxed counters: figures for INFO threads (repl_feedq_counts). */
static _Atomic unsigned long long g_passed, g_kicks, g_aof_only;

void repl_feedq_note_aof_only(void) { atomic_fetch_add_explicit(&g_aof_only, 1, memory_order_relaxed); }

void repl_feed_pass(rt_msg_t *msg, size_t len)
{
    msg->next = NULL;
    rt_msg_t *kick = NULL;
    pthread_mutex_lock(&Q.mu);
    if (Q.tail) Q.tail->next = msg;
    else Q.head = msg;
    Q.tail = msg;
    Q.bytes += len + sizeof(repl_feed_msg_t);
    if (!Q.kicked && (Q.prompt || Q.bytes >= FEEDQ_KICK_BYTES)) {
        Q.kicked = true;
        kick = xcalloc(1, sizeof *kick);
        kick->type = RM_FEED_KICK;
    }
    pthread_mutex_unlock(&Q.mu);
    atomic_fetch_add_explicit(&g_passed, 1, memory_order_relaxed);
    if (kick) {
        atomic_fetch_add_explicit(&g_kicks, 1, memory_order_relaxed);
        /* after the push: the actor takes the queue before handling it */
        rt_send(repl_actor(), kick);
    }
}

rt_msg_t *ra_feeds_take(bool prompt, bool kick_handled)
{
    pthread_mutex_lock(&Q.mu);
    /* Set under the lock with the take: a push after it sees the new value,
     * one before it is taken now. */
    Q.prompt = prompt;
    if (kick_handled) Q.kicked = false;
    rt_msg_t *list = Q.head;
    Q.head = Q.tail = NULL;
    Q.bytes = 0;
    pthread_mutex_unlock(&Q.mu);
    return list;
}

void repl_feedq_counts(unsigned long long *passed, unsigned long long *kicks, unsigned long long *aof_only)
{
    *passed = atomic_load_explicit(&g_passed, memory_order_relaxed);
    *kicks = atomic_load_explicit(&g_kicks, memory_order_relaxed);
    *aof_only = atomic_load_explicit(&g_aof_only, memory_order_relaxed);
}
