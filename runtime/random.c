/* random.c - random bytes and hex ids (see random.h). */
#include "runtime/random.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include "runtime/actor.h"

void rt_random_bytes(void *out, size_t n)
{
    unsigned char *p = out;
    size_t got = 0;
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        while (got < n) {
            ssize_t r = read(fd, p + got, n - got);
            if (r <= 0) break;
            got += (size_t)r;
        }
        close(fd);
    }
    /* The fallback: the clock's low bits move between calls, the pid tells
     * two processes started in the same microsecond apart. */
    uint64_t mix = (uint64_t)rt_now_us() ^ ((uint64_t)getpid() << 32);
    for (size_t i = got; i < n; i++) {
        mix = mix * 6364136223846793005ull + 1442695040888963407ull + (uint64_t)rand();
        p[i] = (unsigned char)(mix >> 56);
    }
}

void rt_random_hex(char *out, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char raw[64];
    size_t done = 0;
    while (done < n) {
        size_t chunk = n - done < sizeof raw ? n - done : sizeof raw;
        rt_random_bytes(raw, chunk);
        for (size_t i = 0; i < chunk; i++) out[done + i] = hex[raw[i] & 15];
        done += chunk;
    }
    out[n] = '\0';
}
