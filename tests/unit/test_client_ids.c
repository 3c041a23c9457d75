/* test_client_ids.c - unit tests for actors/worker/client_ids.c: ids added
 * are found, removed ones are not, through growth and through deletions in
 * the middle of probe runs (the backward shift must keep every other id
 * reachable).
 *
 * Must never: depend on the order ids were added in.
 */
#include <stdint.h>
#include "actors/worker/client_ids.h"
#include "tests/unit/unit.h"

enum { BASE = 1000000, N = 5000 };

TEST(client_ids_add_find_delete)
{
    CHECK(!client_ids_exists(0));
    CHECK(!client_ids_exists(BASE + 1));
    for (uint64_t i = 1; i <= N; i++) client_ids_add(BASE + i);
    int missing = 0;
    for (uint64_t i = 1; i <= N; i++) missing += !client_ids_exists(BASE + i);
    CHECK_EQ_INT(missing, 0);
    CHECK(!client_ids_exists(BASE + N + 1));
    /* every third one goes: the rest stay reachable, the gone ones are gone */
    for (uint64_t i = 1; i <= N; i += 3) client_ids_del(BASE + i);
    int wrong = 0;
    for (uint64_t i = 1; i <= N; i++) wrong += client_ids_exists(BASE + i) != ((i - 1) % 3 != 0);
    CHECK_EQ_INT(wrong, 0);
    client_ids_del(BASE + 1);   /* twice: nothing happens */
    for (uint64_t i = 1; i <= N; i++) client_ids_del(BASE + i);
    wrong = 0;
    for (uint64_t i = 1; i <= N; i++) wrong += client_ids_exists(BASE + i);
    CHECK_EQ_INT(wrong, 0);
}
