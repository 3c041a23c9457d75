/* pollfd.h - the kernel poll set behind a libev loop, so that a thread can
 * take an fd out of it before the fd leaves for another thread.
 *
 * libev's epoll backend keeps a stopped fd registered until the next event
 * for it arrives, and then removes it by fd number from the loop's thread.
 * If the fd has meanwhile been handed to another thread and closed there, the
 * number may already name a new connection: the late removal races that close
 * and can touch the wrong registration. Removing the fd ourselves, on the
 * loop's thread and before the handover, closes that window.
 */
#ifndef SHOAL_RUNTIME_POLLFD_H
#define SHOAL_RUNTIME_POLLFD_H

#include <ev.h>

/* The epoll fd of `loop`, or -1 when the loop does not use epoll (poll and
 * select keep no kernel state, so a stopped watcher is forgotten at the next
 * iteration) or it cannot be found. Call before the loop's thread runs: it
 * runs the loop once, without blocking, to register a probe. */
int rt_pollfd_find(struct ev_loop *loop);

/* Removes `fd` from the epoll set `pollfd` (no-op when pollfd < 0 or fd is
 * not in it). Call on the loop's thread, after stopping every watcher of fd. */
void rt_pollfd_forget(int pollfd, int fd);

#endif
