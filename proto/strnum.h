/* strnum.h - the one integer parser for what clients, peers and config files
 * send: Redis's string2ll rules, so that every command and directive accepts
 * and refuses exactly the numbers redis-server 7.0.15 does.
 *
 * Never: skip spaces, accept '+', leading zeros or "-0", or clamp an
 * out-of-range number (strtol's habits, which made "abc" read as 0).
 */
#ifndef SHOAL_PROTO_STRNUM_H
#define SHOAL_PROTO_STRNUM_H

#include <stdbool.h>
#include <stddef.h>

/* `len` bytes of `s` (no NUL needed) as a long long: an optional '-', then
 * digits without a leading zero ("0" alone is fine), at most 20 bytes, in
 * range. Returns false, leaving *out alone, for anything else. */
bool str_to_ll(const void *s, size_t len, long long *out);

/* The same for a NUL-terminated string. */
bool str_to_ll_z(const char *s, long long *out);

/* The other way: v in decimal at dst (room for 20 bytes, no NUL written);
 * returns the length. Replies, listpacks, scripts and MONITOR lines write
 * integers here rather than with snprintf, whose format parsing showed in
 * their profiles. */
size_t ull_to_str(char *dst, unsigned long long v);
/* The same with a '-' for a negative v (room for 20 bytes). */
size_t ll_to_str(char *dst, long long v);

#endif
