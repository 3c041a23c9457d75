/* bus_vectors.h - the captured single-frame bus vectors (tests/vectors/) and
 * a loader, shared by the bus codec's unit test files.
 *
 * Never: include anything but libc and unit.h; each includer gets its own
 * static copy, which is what a test binary of a few files wants.
 */
#ifndef SHOAL_TESTS_UNIT_BUS_VECTORS_H
#define SHOAL_TESTS_UNIT_BUS_VECTORS_H

#include <stdint.h>
#include <stdio.h>
#include "tests/unit/unit.h"

static const char *const single_vectors[] = {
    "bus-meet.bin", "bus-pong-0gossip-meet-reply.bin", "bus-ping-3gossip.bin", "bus-pong.bin",
    "bus-ping-replica-3gossip.bin", "bus-ping-4gossip-pfail.bin", "bus-ping-hostname-ext.bin",
    "bus-pong-hostname-ext.bin", "bus-fail.bin", "bus-failover-auth-request.bin",
    "bus-failover-auth-ack.bin", "bus-ping-stale-master.bin", "bus-update.bin", "bus-mfstart.bin",
    "bus-ping-paused.bin", "bus-failover-auth-request-forceack.bin", "bus-publish.bin",
    "bus-publishshard.bin",
};
#define N_SINGLE (sizeof single_vectors / sizeof single_vectors[0])

/* The vector file `name`, read whole (caller frees), or NULL. */
static inline uint8_t *load(const char *name, size_t *len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", SHOAL_VECTORS_DIR, name);
    return unit_read_file(path, len);
}

#endif
