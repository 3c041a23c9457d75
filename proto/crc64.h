/* crc64.h - the CRC-64 that Redis puts after RDB files, replication RDBs and
 * DUMP payloads: the "Jones" polynomial 0xad93d23594c935a9, reflected input
 * and output, initial value 0, no final XOR (docs/replication.md §5).
 * The check value of ASCII "123456789" is 0xe9c6d914c4b8d9ca; the value is
 * stored after the data as 8 little-endian bytes.
 *
 * Pure: no I/O, no globals beyond constant tables. Must never read past the
 * length it is given.
 */
#ifndef SHOAL_PROTO_CRC64_H
#define SHOAL_PROTO_CRC64_H

#include <stddef.h>
#include <stdint.h>

/* Continues a CRC over len more bytes: crc64_update(0, p, n) is the CRC of
 * p[0..n); crc64_update(crc64_update(0, a, na), b, nb) is the CRC of a then
 * b. So a stream can be checked chunk by chunk. */
uint64_t crc64_update(uint64_t crc, const uint8_t *buf, size_t len);

/* The CRC of A followed by B, from crc(A), crc(B) and B's length alone,
 * without touching the bytes. This lets several workers encode parts of one
 * RDB in parallel, each computing its own part's CRC from 0, and the sender
 * join them in order at a cost of O(log len_b). */
uint64_t crc64_combine(uint64_t crc_a, uint64_t crc_b, uint64_t len_b);

#endif
