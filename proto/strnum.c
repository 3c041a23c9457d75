/* strnum.c - see strnum.h. */
#include <limits.h>
#include <string.h>

#include "proto/strnum.h"

bool str_to_ll(const void *str, size_t len, long long *out)
{
    const unsigned char *s = str;
    if (len == 0 || len > 20) return false;
    if (len == 1 && s[0] == '0') {
        *out = 0;
        return true;
    }
    size_t i = 0;
    bool neg = false;
    if (s[0] == '-') {
        neg = true;
        i = 1;
        if (len == 1) return false;
    }
    if (s[i] < '1' || s[i] > '9') return false;
    unsigned long long v = 0;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (ULLONG_MAX - d) / 10) return false;
        v = v * 10 + d;
    }
    if (neg) {
        if (v > (unsigned long long)LLONG_MAX + 1) return false;
        *out = v == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN : -(long long)v;
    } else {
        if (v > (unsigned long long)LLONG_MAX) return false;
        *out = (long long)v;
    }
    return true;
}

bool str_to_ll_z(const char *s, long long *out)
{
    return str_to_ll(s, strlen(s), out);
}

/* "00" "01" ... "99": two digits per division, half the divisions of
 * one digit at a time */
static const char two_digits[201] =
    "0001020304050607080910111213141516171819202122232425262728293031323334353637383940414243444546474849"
    "5051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899";

size_t ull_to_str(char *dst, unsigned long long v)
{
    if (v < 10) {                 /* most bulk lengths and counts */
        dst[0] = (char)('0' + v);
        return 1;
    }
    char tmp[20];
    size_t n = sizeof tmp;
    while (v >= 100) {
        unsigned r = (unsigned)(v % 100);
        v /= 100;
        n -= 2;
        memcpy(tmp + n, two_digits + 2 * r, 2);
    }
    if (v >= 10) {
        n -= 2;
        memcpy(tmp + n, two_digits + 2 * v, 2);
    } else {
        tmp[--n] = (char)('0' + v);
    }
    memcpy(dst, tmp + n, sizeof tmp - n);
    return sizeof tmp - n;
}

size_t ll_to_str(char *dst, long long v)
{
    if (v >= 0) return ull_to_str(dst, (unsigned long long)v);
    dst[0] = '-';
    return 1 + ull_to_str(dst + 1, 0ULL - (unsigned long long)v);
}
