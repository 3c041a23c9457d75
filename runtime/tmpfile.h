/* tmpfile.h - writing a file atomically inside one directory held as an fd:
 * a temp file created so that nothing planted under its name can redirect
 * the write, then fsync, rename over the final name and fsync of the
 * directory, every step relative to the same directory fd.
 *
 * Why a directory fd: the process's working directory may change under a
 * writer (CONFIG SET dir); a path resolved twice could name two places.
 *
 * Never: follow a symlink at the temp name, or report success before the
 * rename is durable.
 */
#ifndef SHOAL_RUNTIME_TMPFILE_H
#define SHOAL_RUNTIME_TMPFILE_H

#include <stddef.h>
#include <sys/types.h>

/* Creates `name` in `dirfd` as a new, empty regular file and returns its fd
 * (write only, close-on-exec), or -1 with errno set. Whatever had that name
 * (a temp file a crash left, or a symlink someone planted) is unlinked
 * first: unlinking a symlink removes the link, never its target. The open
 * itself uses O_CREAT|O_EXCL|O_NOFOLLOW, so a name re-planted in between
 * makes it fail (EEXIST) rather than write through it. */
int rt_tmpfile_create(int dirfd, const char *name, mode_t mode);

/* Finishes a temp file from rt_tmpfile_create: fsync(fd), close(fd),
 * renameat(tmp -> final) in dirfd, fsync(dirfd). Always closes fd; on any
 * failure unlinks tmp and returns -1 with errno set and *failed_op naming
 * the step ("fsync", "close", "rename", "fsyncFileDir"). 0 on success. */
int rt_tmpfile_commit(int dirfd, int fd, const char *tmp, const char *final, const char **failed_op);

/* Writes all of buf to fd (retrying short writes and EINTR): 0 or -1 errno. */
int rt_write_all(int fd, const void *buf, size_t len);
/* rt_write_all through another write function (a test's fault-injecting one,
 * see the persister). */
int rt_write_all_with(ssize_t (*wr)(int fd, const void *buf, size_t len), int fd, const void *buf,
                      size_t len);

#endif
