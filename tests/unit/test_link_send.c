/* test_link_send.c - shared outgoing frames and the links' write queues
 * (actors/bus/link_send.c), over socketpairs: one frame queued on several
 * links is written by each and freed once, by the last; a full socket keeps
 * the rest queued in order; a drained queue holds no memory. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "actors/bus/link_send.h"
#include "tests/unit/unit.h"

static bool pair(int sv[2])
{
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) return false;
    fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
    fcntl(sv[1], F_SETFL, fcntl(sv[1], F_GETFL) | O_NONBLOCK);
    return true;
}

/* Reads what is waiting on fd into buf (up to cap); the count. */
static size_t drain(int fd, uint8_t *buf, size_t cap)
{
    size_t got = 0;
    while (got < cap) {
        ssize_t n = read(fd, buf + got, cap - got);
        if (n <= 0) break;
        got += (size_t)n;
    }
    return got;
}

/* A broadcast: one frame, three queues. Each write drops one reference; the
 * bytes each peer gets are the frame's; the last reference is the one that
 * frees it (ASan would report a double free or a leak). */
TEST(link_send_shared_frame_freed_once_after_every_link_wrote_it)
{
    uint8_t data[3000];
    for (size_t i = 0; i < sizeof data; i++) data[i] = (uint8_t)(i * 7);
    shared_frame_t *f = shared_frame_new(data, sizeof data);
    REQUIRE(f != NULL);
    int sv[3][2];
    link_wq_t q[3];
    memset(q, 0, sizeof q);
    for (int i = 0; i < 3; i++) {
        REQUIRE(pair(sv[i]));
        shared_frame_ref(f);
        REQUIRE(link_wq_push(&q[i], f));
    }
    CHECK_EQ_INT(shared_frame_refs(f), 4);
    for (int i = 0; i < 3; i++) {
        size_t written = 0;
        CHECK_EQ_INT(link_wq_write(&q[i], sv[i][0], &written), LINK_WQ_DRAINED);
        CHECK_EQ_INT(written, sizeof data);
        CHECK_EQ_INT(shared_frame_refs(f), 3 - i);
        CHECK(q[i].ring == NULL);
        CHECK_EQ_INT(link_wq_allocated(&q[i]), 0);
        uint8_t got[4000];
        CHECK_EQ_INT(drain(sv[i][1], got, sizeof got), sizeof data);
        CHECK_MEM(got, data, sizeof data);
    }
    shared_frame_unref(f);   /* the sender's own: the last, frees it */
    for (int i = 0; i < 3; i++) {
        close(sv[i][0]);
        close(sv[i][1]);
    }
}

/* A peer that does not read: the queue keeps what the socket did not take,
 * in order, across partial writes, and lets each frame go once written. */
TEST(link_send_full_socket_keeps_the_rest_in_order)
{
    int sv[2];
    REQUIRE(pair(sv));
    int small = 4096;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    enum { FRAMES = 40, LEN = 2500 };
    static uint8_t want[FRAMES * LEN], got[FRAMES * LEN + 1];
    link_wq_t q;
    memset(&q, 0, sizeof q);
    shared_frame_t *kept[FRAMES];
    for (int i = 0; i < FRAMES; i++) {
        uint8_t b[LEN];
        for (int k = 0; k < LEN; k++) b[k] = (uint8_t)(i * 31 + k);
        memcpy(want + (size_t)i * LEN, b, LEN);
        kept[i] = shared_frame_new(b, LEN);
        REQUIRE(kept[i] != NULL);
        shared_frame_ref(kept[i]);          /* ours, to watch the queue let it go */
        REQUIRE(link_wq_push(&q, kept[i]));
    }
    CHECK_EQ_INT(q.queued, FRAMES * LEN);
    size_t total = 0, read_back = 0;
    int blocked = 0, rounds = 0;
    for (;;) {
        size_t written = 0;
        int st = link_wq_write(&q, sv[0], &written);
        total += written;
        CHECK_EQ_INT(q.queued, FRAMES * LEN - total);
        if (st == LINK_WQ_DRAINED) break;
        REQUIRE(st == LINK_WQ_BLOCKED);
        blocked++;
        /* frames written whole are no longer the queue's */
        for (int i = 0; i < FRAMES; i++)
            CHECK_EQ_INT(shared_frame_refs(kept[i]), (size_t)(i + 1) * LEN <= total ? 1 : 2);
        read_back += drain(sv[1], got + read_back, sizeof got - read_back);
        REQUIRE(++rounds < 10000);
    }
    read_back += drain(sv[1], got + read_back, sizeof got - read_back);
    CHECK(blocked > 0);
    CHECK_EQ_INT(total, FRAMES * LEN);
    CHECK_EQ_INT(read_back, FRAMES * LEN);
    CHECK_MEM(got, want, sizeof want);
    CHECK(q.ring == NULL);
    for (int i = 0; i < FRAMES; i++) {
        CHECK_EQ_INT(shared_frame_refs(kept[i]), 1);
        shared_frame_unref(kept[i]);
    }
    close(sv[0]);
    close(sv[1]);
}

/* A closed peer: the write fails; clearing drops every reference. */
TEST(link_send_error_and_clear_drop_every_reference)
{
    int sv[2];
    REQUIRE(pair(sv));
    shared_frame_t *f = shared_frame_new((const uint8_t *)"abcdef", 6);
    REQUIRE(f != NULL);
    link_wq_t q;
    memset(&q, 0, sizeof q);
    for (int i = 0; i < 5; i++) {
        shared_frame_ref(f);
        REQUIRE(link_wq_push(&q, f));
    }
    close(sv[1]);
    size_t written = 0;
    CHECK_EQ_INT(link_wq_write(&q, sv[0], &written), LINK_WQ_ERROR);
    CHECK_EQ_INT(written, 0);
    CHECK_EQ_INT(shared_frame_refs(f), 6);
    link_wq_clear(&q);
    CHECK_EQ_INT(shared_frame_refs(f), 1);
    CHECK(q.ring == NULL && q.count == 0 && q.queued == 0);
    shared_frame_unref(f);
    close(sv[0]);
}
