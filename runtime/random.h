/* random.h - random bytes and the 40-hex-character ids Redis uses for run
 * ids, replication ids and node names: one generator for all of them.
 *
 * The kernel's generator (/dev/urandom) is the source. When it cannot be
 * read (no /dev in a chroot, out of fds) the bytes come from a weaker mix of
 * rand(), the clock and the pid: ids must still differ between nodes and
 * restarts, but nothing here is a secret.
 */
#ifndef SHOAL_RUNTIME_RANDOM_H
#define SHOAL_RUNTIME_RANDOM_H

#include <stddef.h>

/* Fills `n` bytes at `out`. */
void rt_random_bytes(void *out, size_t n);

/* Writes `n` random lower-case hex characters and a NUL (out has n + 1 bytes). */
void rt_random_hex(char *out, size_t n);

#endif
