/* fuzz_slot.c - libFuzzer target for proto/slot.c: the table-driven CRC16
 * must equal the bitwise MSB-first definition, and slot_of_key must follow
 * the hash-tag rule as written in docs/clients.md §1.3. Both references
 * here are deliberately naive and separate from the code under test.
 * Must never touch anything outside the input bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "proto/slot.h"

static uint16_t ref_crc16(const uint8_t *buf, size_t len)
{
    uint16_t crc = 0;
    for (size_t i = 0; i < len; i++) {
        crc ^= (uint16_t)(buf[i] << 8);
        for (int bit = 0; bit < 8; bit++)
            crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
    }
    return crc;
}

static unsigned ref_slot(const uint8_t *k, size_t n)
{
    const uint8_t *open = n ? memchr(k, '{', n) : NULL;
    if (open) {
        size_t after = (size_t)(open - k) + 1;
        const uint8_t *close = after < n ? memchr(open + 1, '}', n - after) : NULL;
        if (close && close != open + 1)
            return ref_crc16(open + 1, (size_t)(close - open - 1)) % 16384;
    }
    return ref_crc16(k, n) % 16384;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (slot_crc16(data, size) != ref_crc16(data, size)) abort();
    unsigned s = slot_of_key(data, size);
    if (s >= SLOT_COUNT || s != ref_slot(data, size)) abort();
    /* every prefix too: catches length-handling slips near the end */
    for (size_t cut = size > 8 ? size - 8 : 0; cut < size; cut++)
        if (slot_of_key(data, cut) != ref_slot(data, cut)) abort();
    return 0;
}
