/* aof_bio.c - the AOF's background fsync (appendfsync everysec), as
 * redis-server's bio thread: one job at a time, so that a slow disk delays
 * only the next fsync (INFO's aof_pending_bio_fsync / aof_delayed_fsync),
 * never a worker.
 *
 * Must never: close an fd before its fsync ran.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "actors/persist/aof_internal.h"

/* One job at a time, as redis-server's bio: fsync `fd`, and close it after
 * when `close_after` (the incr file a rotation left). */
static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int fds[64];
    bool close_after[64];
    int n;
} bio = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };
static _Atomic long long g_bio_pending;

static void *bio_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&bio.mu);
    for (;;) {
        while (bio.n == 0) pthread_cond_wait(&bio.cv, &bio.mu);
        int fd = bio.fds[0];
        bool cl = bio.close_after[0];
        bio.n--;
        memmove(bio.fds, bio.fds + 1, sizeof bio.fds[0] * (size_t)bio.n);
        memmove(bio.close_after, bio.close_after + 1, sizeof bio.close_after[0] * (size_t)bio.n);
        pthread_mutex_unlock(&bio.mu);
        (void)fdatasync(fd);
        if (cl) close(fd);
        pthread_mutex_lock(&bio.mu);
        atomic_fetch_sub_explicit(&g_bio_pending, 1, memory_order_relaxed);
    }
    return NULL;
}

void aof_bio_submit(int fd, bool close_after)
{
    pthread_mutex_lock(&bio.mu);
    if (bio.n == 64) {                   /* never in practice: do it here */
        pthread_mutex_unlock(&bio.mu);
        (void)fdatasync(fd);
        if (close_after) close(fd);
        return;
    }
    bio.fds[bio.n] = fd;
    bio.close_after[bio.n++] = close_after;
    atomic_fetch_add_explicit(&g_bio_pending, 1, memory_order_relaxed);
    pthread_cond_signal(&bio.cv);
    pthread_mutex_unlock(&bio.mu);
}

long long aof_bio_pending(void)
{
    /* relaxed: a status figure */
    return atomic_load_explicit(&g_bio_pending, memory_order_relaxed);
}

int aof_bio_start(void)
{
    pthread_t th;
    if (pthread_create(&th, NULL, bio_main, NULL) != 0) return -1;
    pthread_detach(th);
    return 0;
}
