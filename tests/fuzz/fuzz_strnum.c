/* fuzz_strnum.c - libFuzzer target for proto/strnum.c: str_to_ll must accept
 * exactly the texts Redis's string2ll accepts (an optional '-', then "0" or
 * a digit 1-9 followed by digits, not "-0", in range of long long) and give
 * their value. The reference below is deliberately different code: a
 * pattern check, then strtoll on a NUL-terminated copy with ERANGE.
 * Must never touch anything outside the input bytes. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "proto/strnum.h"

static int ref_parse(const uint8_t *s, size_t n, long long *out)
{
    if (n == 0 || n > 20) return 0;
    size_t i = s[0] == '-' ? 1 : 0;
    if (i == n) return 0;
    for (size_t k = i; k < n; k++) if (s[k] < '0' || s[k] > '9') return 0;
    if (s[i] == '0' && (n - i > 1 || i == 1)) return 0;     /* leading zero, or "-0" */
    char buf[32];
    memcpy(buf, s, n);
    buf[n] = '\0';
    errno = 0;
    long long v = strtoll(buf, NULL, 10);
    if (errno == ERANGE) return 0;
    *out = v;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    long long got = 12345, want = 54321;
    int ok = str_to_ll(data, size, &got);
    int ref = ref_parse(data, size, &want);
    if (ok != ref) abort();
    if (ok && got != want) abort();
    if (!ok && got != 12345) abort();      /* a refusal leaves *out alone */
    return 0;
}
