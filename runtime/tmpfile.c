/* tmpfile.c - see tmpfile.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "runtime/tmpfile.h"

int rt_tmpfile_create(int dirfd, const char *name, mode_t mode)
{
    /* A few attempts: each one removes what is there and tries to create;
     * losing every race to someone re-planting the name is a failure. */
    for (int attempt = 0; attempt < 3; attempt++) {
        if (unlinkat(dirfd, name, 0) != 0 && errno != ENOENT) return -1;
        int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
        if (fd >= 0 || errno != EEXIST) return fd;
    }
    errno = EEXIST;
    return -1;
}

int rt_tmpfile_commit(int dirfd, int fd, const char *tmp, const char *final, const char **failed_op)
{
    const char *op = NULL;
    if (fsync(fd) != 0) op = "fsync";
    int saved = errno;
    if (close(fd) != 0 && !op) { op = "close"; saved = errno; }
    if (!op && renameat(dirfd, tmp, dirfd, final) != 0) { op = "rename"; saved = errno; }
    if (op) {
        unlinkat(dirfd, tmp, 0);
        if (failed_op) *failed_op = op;
        errno = saved;
        return -1;
    }
    /* The rename is durable only once the directory entry is. */
    if (fsync(dirfd) != 0) {
        if (failed_op) *failed_op = "fsyncFileDir";
        return -1;
    }
    return 0;
}

int rt_write_all_with(ssize_t (*wr)(int fd, const void *buf, size_t len), int fd, const void *buf,
                      size_t len)
{
    const char *p = buf;
    while (len) {
        ssize_t w = wr(fd, p, len);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

int rt_write_all(int fd, const void *buf, size_t len) { return rt_write_all_with(write, fd, buf, len); }
