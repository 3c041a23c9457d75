/* test_random.c - unit tests for runtime/random.c: ids are exactly n lower-case
 * hex characters and a NUL, and two ids differ. */
#include <string.h>
#include "runtime/random.h"
#include "tests/unit/unit.h"

TEST(random_hex_shape)
{
    char a[41 + 1], b[41];
    memset(a, 'X', sizeof a);
    rt_random_hex(a, 40);
    CHECK(a[40] == '\0' && a[41] == 'X');       /* n + 1 bytes written, no more */
    for (int i = 0; i < 40; i++) CHECK((a[i] >= '0' && a[i] <= '9') || (a[i] >= 'a' && a[i] <= 'f'));
    rt_random_hex(b, 40);
    CHECK(strcmp(a, b) != 0);                    /* 160 bits: a repeat is a bug */
    char big[200];
    rt_random_hex(big, 199);                     /* longer than one internal chunk */
    CHECK(strlen(big) == 199);
}
