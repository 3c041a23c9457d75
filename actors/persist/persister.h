/* persister.h - the config persister: the only actor allowed to block, on
 * its own thread. It writes nodes.conf so that it is whole at every instant:
 * a text of at most a page over the file's own bytes, as 7.0.15 writes it
 * (persist_overwrite), then, when the request asks (7.0.15 fsyncs only some
 * saves), one fsync of the file; a bigger text, or no file yet, through a
 * temp file renamed over nodes.conf (with fsync of the temp file before the
 * rename and of the directory after it when asked). It coalesces bursts of
 * save requests into one write of the newest text, and tells the state
 * actor which version is written (and synced, if it asked).
 *
 * Every file operation of a write goes through a persist_io_t, the real
 * system calls in the node, so that tests/unit/test_persister.c can make any
 * step fail or stop the writer dead between two steps.
 *
 * Must never: leave nodes.conf half-written, acknowledge a version before
 * it is in nodes.conf (in the page cache at least), or acknowledge one that
 * asked for fsync before the fsyncs are done.
 */
#ifndef SHOAL_ACTORS_PERSISTER_H
#define SHOAL_ACTORS_PERSISTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "runtime/actor.h"

enum { PERSIST_SAVE = 1 };

/* The rendezvous of a synchronous save (the shutdown path): the waiting
 * thread may give up before the persister answers, so neither side owns it
 * alone. It lives on the heap with two references, one per side, and
 * whichever side lets go last frees it. */
typedef struct persist_wait persist_wait_t;

/* A new rendezvous holding the waiter's and the persister's references
 * (NULL when out of memory). */
persist_wait_t *persist_wait_new(void);

/* Waiter side: waits up to timeout_ms for the answer, then drops the
 * waiter's reference. Returns the write's result (0 or errno), or -1 when
 * the answer did not come in time. */
int persist_wait_timed(persist_wait_t *w, int timeout_ms);

/* Persister side: records `err`, wakes the waiter (if still waiting) and
 * drops the persister's reference. Also for a request that never reaches
 * the persister, so that its reference is not lost. */
void persist_wait_finish(persist_wait_t *w, int err);

typedef struct persist_req {
    rt_msg_t hdr;
    char *text;                   /* owned by the request */
    size_t len;
    uint64_t seq;                 /* version of the config this text describes */
    rt_actor_t *reply_to;         /* gets a persist_ack_t (may be NULL) */
    persist_wait_t *wait;         /* finished after the write (shutdown path), may be NULL */
    bool fsync;                   /* fsync file and directory before acknowledging */
    bool lazy_ack;                /* nobody waits on this version: the ack goes with
                                   * rt_send_lazy and does not wake reply_to's thread */
} persist_req_t;

typedef struct persist_ack {
    rt_msg_t hdr;                 /* type chosen by the requester's protocol: STATE_MSG_DURABLE */
    uint64_t seq;
    int err;                      /* 0 or errno */
} persist_ack_t;

/* The steps of an atomic write, in the order they run: open_tmp, write
 * (repeated until every byte is out), fsync of the temp file, close (always
 * the real one), rename over the final name, dir_fsync (the two fsyncs only
 * when asked for; without them, exchange first, then rename if it failed). Each returns what
 * its system call returns (-1 with errno set on failure). A failure before
 * the rename removes the temp file and leaves the final file as it was. */
typedef struct persist_io {
    int (*open_tmp)(int dirfd, const char *name, mode_t mode);   /* a new, empty file (rt_tmpfile_create) */
    ssize_t (*write)(int fd, const void *buf, size_t len);
    int (*fsync)(int fd);                                        /* the temp file */
    int (*rename)(int dirfd, const char *from, const char *to);  /* both names in dirfd */
    int (*dir_fsync)(int dirfd);                                 /* makes the rename durable */
    /* Instead of the rename when no fsync is asked: swaps the two names
     * atomically (renameat2 RENAME_EXCHANGE); NULL or a failure: rename. */
    int (*exchange)(int dirfd, const char *a, const char *b);
    /* Tried first: puts the text over the existing file's bytes
     * (persist_overwrite), followed by fsync of the file (reopened) when
     * asked, and of the directory too when a rename since its last fsync
     * may not be durable; 0 or errno. NULL, or a failure with the file
     * untouched (returns errno): the temp file path above. */
    int (*overwrite)(int dirfd, const char *name, const char *text, size_t len);
    /* persister_write_through's write (persist_overwrite_keep): as
     * overwrite, but the file is never cut; NULL: no write through. */
    int (*overwrite_keep)(int dirfd, const char *name, const char *text, size_t len);
} persist_io_t;

/* The real calls: rt_tmpfile_create, write, fsync, renameat, fsync,
 * renameat2(RENAME_EXCHANGE), persist_overwrite, persist_overwrite_keep. */
extern const persist_io_t persist_io_posix;

/* The save without fsync as 7.0.15 makes it, for a small file: the text
 * written over `name`'s own bytes in one write, padded with newlines to the
 * old length (a nodes.conf parser skips blank lines), then the file cut to
 * the text's length, so the file parses whole at every instant and a killed
 * process leaves the old text or the new one. Only when both old and new
 * fit in one page (a write the kernel copies whole or not at all) and
 * `name` is a regular file (not a symlink); otherwise EXDEV (or the open's
 * errno) with nothing written. No new inode: creating one per save made
 * ext4 scan for a free inode not recently deleted, most of a SETSLOT's
 * time on a busy file system. */
int persist_overwrite(int dirfd, const char *name, const char *text, size_t len);

/* persist_overwrite without the cut: a shorter text leaves the file at its
 * old length, the rest newlines (the persister's next write in place cuts
 * them). For the write made on a thread that serves clients
 * (persister_write_through): ftruncate waits for the writeback of the page
 * it cuts, and the persister's fsync of the previous version puts exactly
 * that page under writeback; a worker borrowing the state thread waited
 * there up to 88 ms with its clients during a reshard (2026-12-07, perf
 * sched_switch stacks: folio_wait_writeback in truncate_inode_partial_folio).
 * The write itself does not wait for writeback (no stable pages). */
int persist_overwrite_keep(int dirfd, const char *name, const char *text, size_t len);

/* One persister actor: its path, its pending write and its waiters. */
typedef struct persister persister_t;

/* A persister on `thread` for the file at `path`, writing through `io`
 * (borrowed, must outlive it); acknowledgements carry `ack_type`. Registers
 * a prepare hook on `thread`, so call it before the thread starts. Returns
 * NULL when the thread has no room for the hook. Free with persister_free
 * once the thread has ended: requests it had not written yet are dropped,
 * their rendezvous answered with ECANCELED. */
persister_t *persister_new(rt_thread_t *thread, const char *path, uint32_t ack_type, const persist_io_t *io);
rt_actor_t *persister_actor_of(persister_t *p);
void persister_free(persister_t *p);

/* Starts the node's persister (the real system calls) on `thread` for the
 * file at `path`. */
int persister_start(rt_thread_t *thread, const char *path, uint32_t ack_type);
rt_actor_t *persister_actor(void);
/* Writes version `seq` of the node persister's file now, on the calling
 * thread, without fsync, and only in place (persist_overwrite): the state
 * actor's write for a reply that waits on it, even while older versions
 * are still with the persister, which never puts an older text over a
 * newer one (and, asked to fsync an older one, fsyncs the newer text in
 * place instead, which holds all of it). 0, or an errno value with the file
 * as it was (EXDEV: too big to write in place; the caller asks the
 * persister instead). */
int persister_write_through(uint64_t seq, const char *text, size_t len);
/* The same for persister p (the node's: persister_write_through), its io's
 * overwrite_keep (a file written so may end in newline padding). */
int persister_write_through_on(persister_t *p, uint64_t seq, const char *text, size_t len);

/* DEBUG PERSISTER-DELAY: microseconds the persister sleeps before each
 * write (0: none). Relaxed: a test's knob, no data hangs on it. */
extern _Atomic long long g_persist_debug_delay_us;

/* Writes `path` atomically right now, on the calling thread (startup),
 * with fsync. Returns 0 or an errno value. */
int persister_write_file(const char *path, const char *text, size_t len);
/* The same through `io`, with the fsyncs only when do_fsync. */
int persister_write_file_io(const persist_io_t *io, const char *path, const char *text, size_t len, bool do_fsync);

#endif
