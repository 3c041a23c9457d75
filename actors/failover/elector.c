/* elector.c - the failover elector actor (see elector.h): replica-side
 * election (docs/cluster-bus.md §5.13), the replica side of manual failover
 * (5.15), replica migration (5.16), and failover on shutdown.
 *
 * Timing shortcut (issue 5), and why it is safe: a replica of rank 0 whose
 * siblings' offsets are final (we heard from each of them after our master
 * went silent) waits min(500, node_timeout/30) ms instead of 500-1000 ms.
 * The delay never decides who may win: masters vote at most once per epoch
 * (lastVoteEpoch is durable before any ACK leaves), a winner needs a
 * majority of slot-owning masters, and a winner's configEpoch is its unique
 * election epoch, so no two masters can claim the same slots with the same
 * configEpoch whatever the delays. The delay only (a) lets FAIL reach the
 * voters -- the state actor re-sends FAIL on the same links just ahead of
 * our AUTH_REQUEST, so each voter processes FAIL first -- and (b) lets the
 * most up-to-date replica go first, which the rank-0-with-final-offsets test
 * keeps; otherwise we fall back to 7.0.15's delay.
 *
 * Must never: change cluster state, send on the bus, or block (except
 * elector_failover_on_shutdown, which runs on main's thread, not here).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "actors/config/config.h"
#include "actors/failover/elector.h"
#include "actors/repl/repl.h"
#include "actors/state/state.h"
#include "runtime/log.h"
#include "runtime/xmalloc.h"
#include "proto/nodes_conf.h"

#define MF_TIMEOUT_MS 5000
#define MIGRATION_DELAY_MS 5000
#define CANT_FAILOVER_LOG_PERIOD_MS 10000

/* Defaults until the replication layer provides the real ones (linker picks
 * a strong definition over these). */
__attribute__((weak)) _Atomic long long g_repl_offset = 0;
__attribute__((weak)) long long repl_master_link_down_ms(void) { return -1; }

typedef struct elector {
    rt_actor_t actor;
    rt_timer_t tick;              /* 100 ms */
    rt_timer_t wake;              /* one-shot at auth_time */
    /* election (times are rt_now_ms, like the snapshot's) */
    char master[NODE_NAME_LEN + 1];   /* the master this election is about */
    long long auth_time;          /* when the request may leave; 0 = never scheduled */
    int rank;
    bool sent;
    uint64_t epoch;               /* election epoch once the request left, else 0 */
    int votes;
    bool promote_asked;
    long long last_cant_log;
    /* manual failover */
    long long mf_end;             /* 0 = none */
    long long mf_master_offset;   /* -1 = not received yet */
    bool mf_can_start;
    /* replica migration */
    char orphan[NODE_NAME_LEN + 1];
    long long orphan_since;
} elector_t;

static elector_t E;

rt_actor_t *elector_actor(void) { return &E.actor; }

void elector_send(int type, long long value, bool flag)
{
    elector_msg_t *m = xcalloc(1, sizeof *m);
    m->hdr.type = (uint32_t)type;
    m->value = value;
    m->flag = flag;
    rt_send(&E.actor, &m->hdr);
}

static void ask_state(int kind, const char *master, uint64_t epoch, bool force)
{
    state_fo_req_t *r = xcalloc(1, sizeof *r);
    r->hdr.type = STATE_MSG_FAILOVER;
    r->kind = kind;
    if (master) memcpy(r->master, master, NODE_NAME_LEN + 1);
    r->epoch = epoch;
    r->force = force;
    rt_send(state_actor(), &r->hdr);
}

/* Same thread as the only writer of the cell (see elector.h), so the
 * writer-side read needs no read section; the runtime asserts the thread. */
static const cluster_snapshot_t *snap(void)
{
    return rt_snap_writer_current(&g_cluster_snapshot);
}

static long long my_offset(void) { return atomic_load_explicit(&g_repl_offset, memory_order_relaxed); }

static void mf_reset(void)
{
    E.mf_end = 0;
    E.mf_master_offset = -1;
    E.mf_can_start = false;
}

static void election_reset(void)
{
    E.auth_time = 0;
    E.sent = false;
    E.epoch = 0;
    E.votes = 0;
    E.promote_asked = false;
    E.master[0] = '\0';
    rt_timer_stop(&E.wake);
}

/* Our place among the master's replicas that may fail over: how many have a
 * larger offset (a smaller name breaks ties, so only one replica is rank 0).
 * *final: we heard from every such sibling after the master went silent,
 * so the offsets we compare are the last ones they will have. */
static int compute_rank(const cluster_snapshot_t *s, int master, bool *final)
{
    const node_view_t *me = &s->nodes[s->myself];
    const node_view_t *m = &s->nodes[master];
    long long mine = my_offset();
    int rank = 0;
    *final = true;
    for (int i = 0; i < s->node_count; i++) {
        const node_view_t *n = &s->nodes[i];
        if (i == s->myself || !(n->flags & NODE_SLAVE) || n->master != master) continue;
        if (n->flags & NODE_NOFAILOVER) continue;
        if (n->repl_offset > mine || (n->repl_offset == mine && memcmp(n->name, me->name, NODE_NAME_LEN) < 0))
            rank++;
        if (!(n->flags & NODE_FAIL) && n->data_received_ms <= m->data_received_ms) *final = false;
    }
    return rank;
}

static void step(void);
static void on_wake(rt_timer_t *t, void *arg) { (void)t; (void)arg; step(); }

static void arm_wake(long long at)
{
    rt_timer_stop(&E.wake);
    long long delay = at - rt_now_ms();
    if (delay < 0) delay = 0;
    rt_timer_start(&E.wake, E.actor.thread, (double)delay, 0, on_wake, NULL);
}

/* The data freshness rule of 5.13: false when our data is too old to serve. */
static bool data_fresh_enough(const node_view_t *m, long long now, long long nt)
{
    long long factor = config_get_num(CONFIG_CLUSTER_REPLICA_VALIDITY_FACTOR);
    if (factor == 0) return true;
    long long age = repl_master_link_down_ms();
    if (age < 0) {
        long long last = m->data_received_ms > m->pong_received_ms ? m->data_received_ms : m->pong_received_ms;
        age = last ? now - last : 0;
    }
    if (age > nt) age -= nt;
    long long limit = config_get_num(CONFIG_REPL_PING_REPLICA_PERIOD) * 1000 + nt * factor;
    if (age <= limit) return true;
    if (now - E.last_cant_log > CANT_FAILOVER_LOG_PERIOD_MS) {
        E.last_cant_log = now;
        LOG_WARNING("Currently unable to failover: Disconnected from master for longer than allowed. "
                    "Please check the 'cluster-replica-validity-factor' configuration option.");
    }
    return false;
}

/* Replica migration (5.16). */
static void consider_migration(const cluster_snapshot_t *s, long long now)
{
    const node_view_t *me = &s->nodes[s->myself];
    if (!config_get_num(CONFIG_CLUSTER_ALLOW_REPLICA_MIGRATION) || E.mf_end) return;
    int orphaned = 0, max_ok = 0, this_ok = 0;
    for (int i = 0; i < s->node_count; i++) {
        const node_view_t *n = &s->nodes[i];
        if (i == s->myself || (n->flags & (NODE_NOADDR | NODE_HANDSHAKE))) continue;
        if (!(n->flags & NODE_MASTER) || (n->flags & NODE_FAIL)) continue;
        int ok = 0;
        for (int j = 0; j < s->node_count; j++)
            if (s->nodes[j].master == i && (s->nodes[j].flags & NODE_SLAVE) && !(s->nodes[j].flags & NODE_FAIL)) ok++;
        if (ok == 0 && n->slot_count > 0 && (n->flags & NODE_MIGRATE_TO)) orphaned++;
        if (ok > max_ok) max_ok = ok;
        if (i == me->master) this_ok = ok;
    }
    if (!orphaned || max_ok < 2 || this_ok != max_ok) { E.orphan[0] = '\0'; return; }
    if (!s->state_ok) return;
    int healthy = 0;
    for (int j = 0; j < s->node_count; j++)
        if (s->nodes[j].master == me->master && (s->nodes[j].flags & NODE_SLAVE) &&
            !(s->nodes[j].flags & (NODE_FAIL | NODE_PFAIL)))
            healthy++;
    if (healthy <= config_get_num(CONFIG_CLUSTER_MIGRATION_BARRIER)) return;
    /* Candidate: the smallest name among the replicas of the best-served masters. */
    const char *candidate = me->name;
    int target = -1;
    for (int i = 0; i < s->node_count; i++) {
        const node_view_t *n = &s->nodes[i];
        if (!(n->flags & NODE_MASTER) || (n->flags & NODE_FAIL)) continue;
        int ok = 0;
        for (int j = 0; j < s->node_count; j++)
            if (s->nodes[j].master == i && (s->nodes[j].flags & NODE_SLAVE) && !(s->nodes[j].flags & NODE_FAIL)) ok++;
        if (ok == 0 && target < 0 && n->slot_count > 0 && (n->flags & NODE_MIGRATE_TO)) target = i;
        if (ok == max_ok)
            for (int j = 0; j < s->node_count; j++)
                if (s->nodes[j].master == i && (s->nodes[j].flags & NODE_SLAVE) &&
                    memcmp(s->nodes[j].name, candidate, NODE_NAME_LEN) < 0)
                    candidate = s->nodes[j].name;
    }
    if (target < 0) { E.orphan[0] = '\0'; return; }
    if (strcmp(E.orphan, s->nodes[target].name) != 0) {
        memcpy(E.orphan, s->nodes[target].name, NODE_NAME_LEN + 1);
        E.orphan_since = now;
    }
    if (candidate != me->name || now - E.orphan_since <= MIGRATION_DELAY_MS) return;
    LOG_NOTICE("Migrating to orphaned master %.40s", s->nodes[target].name);
    ask_state(STATE_FO_MIGRATE, s->nodes[target].name, 0, false);
    E.orphan[0] = '\0';
}

/* One evaluation of the replica's failover state machine (5.13, 5.15). */
static void step(void)
{
    const cluster_snapshot_t *s = snap();
    if (!s) return;
    long long now = rt_now_ms();
    const node_view_t *me = &s->nodes[s->myself];
    if (!(me->flags & NODE_SLAVE) || me->master < 0) {
        if (E.master[0] || E.mf_end) { election_reset(); mf_reset(); }
        return;
    }
    int mi = me->master;
    const node_view_t *m = &s->nodes[mi];
    if (E.master[0] && strcmp(E.master, m->name) != 0) election_reset();   /* new master: start over */

    /* Manual failover, replica side. */
    if (E.mf_end && now > E.mf_end) {
        LOG_WARNING("Manual failover timed out.");
        mf_reset();
    }
    if (E.mf_end && !E.mf_can_start && E.mf_master_offset >= 0 && my_offset() >= E.mf_master_offset) {
        E.mf_can_start = true;
        LOG_NOTICE("All master replication stream processed, manual failover can start.");
    }
    bool manual = E.mf_end && E.mf_can_start;

    bool can = ((m->flags & NODE_FAIL) || manual) &&
               (manual || !config_get_num(CONFIG_CLUSTER_REPLICA_NO_FAILOVER)) && m->slot_count > 0;
    if (!can) {
        consider_migration(s, now);
        return;
    }
    long long nt = config_cluster_node_timeout();
    long long auth_timeout = nt * 2 > 2000 ? nt * 2 : 2000;
    long long auth_retry = auth_timeout * 2;
    long long auth_age = now - E.auth_time;
    if (!manual && !data_fresh_enough(m, now, nt)) return;

    if (E.auth_time == 0 || auth_age > auth_retry) {
        bool final;
        election_reset();
        memcpy(E.master, m->name, NODE_NAME_LEN + 1);
        E.rank = compute_rank(s, mi, &final);
        long long delay;
        if (manual) {
            E.rank = 0;
            delay = 0;
        } else if (E.rank == 0 && final) {
            delay = nt / 30 < 500 ? nt / 30 : 500;   /* see the top of this file */
        } else {
            delay = 500 + random() % 500 + (long long)E.rank * 1000;
        }
        E.auth_time = now + delay;
        LOG_NOTICE("Start of election delayed for %lld milliseconds (rank #%d, offset %lld).", delay, E.rank,
                   my_offset());
        ask_state(STATE_FO_PONG_SIBLINGS, NULL, 0, false);
        arm_wake(E.auth_time);
        return;
    }
    if (!manual && !E.sent) {
        bool final;
        int r = compute_rank(s, mi, &final);
        if (r > E.rank) {
            long long added = (long long)(r - E.rank) * 1000;
            E.auth_time += added;
            E.rank = r;
            LOG_NOTICE("Replica rank updated to #%d, added %lld milliseconds of delay.", r, added);
            arm_wake(E.auth_time);
        }
    }
    if (now < E.auth_time) return;
    if (auth_age > auth_timeout) return;   /* expired: wait for the retry time */
    if (!E.sent) {
        E.sent = true;
        ask_state(STATE_FO_ELECTION, m->name, 0, manual);
        return;
    }
    if (E.epoch && !E.promote_asked && E.votes >= s->size / 2 + 1) {
        LOG_NOTICE("Failover election won: I'm the new master.");
        E.promote_asked = true;
        ask_state(STATE_FO_PROMOTE, m->name, E.epoch, false);
    }
}

static void on_tick(rt_timer_t *t, void *arg) { (void)t; (void)arg; step(); }

static void behaviour(rt_actor_t *self, rt_msg_t *msg)
{
    (void)self;
    elector_msg_t *m = (elector_msg_t *)msg;
    switch (msg->type) {
    case ELECTOR_MSG_EPOCH:
        if (E.sent && !E.epoch) {
            E.epoch = (uint64_t)m->value;
            LOG_NOTICE("Starting a failover election for epoch %llu.", (unsigned long long)E.epoch);
        }
        break;
    case ELECTOR_MSG_ACK:
        if (E.epoch && (uint64_t)m->value == E.epoch) E.votes++;
        break;
    case ELECTOR_MSG_MASTER_PAUSED:
        if (E.mf_end && E.mf_master_offset < 0) {
            E.mf_master_offset = m->value;
            LOG_NOTICE("Received replication offset for paused master manual failover: %lld", m->value);
        }
        break;
    case ELECTOR_MSG_MF_START:
        mf_reset();
        election_reset();
        E.mf_end = rt_now_ms() + MF_TIMEOUT_MS;
        E.mf_can_start = m->flag;
        break;
    case ELECTOR_MSG_PROMOTED:
        election_reset();
        mf_reset();
        break;
    default:
        break;
    }
    free(msg);
    step();
}

void elector_start(rt_thread_t *thread)
{
    memset(&E, 0, sizeof E);
    mf_reset();
    rt_actor_init(&E.actor, thread, "elector", behaviour, &E);
    rt_timer_start(&E.tick, thread, 100, 100, on_tick, NULL);
}

/* ---------------- failover on shutdown (main's thread) ---------------- */

/* Writes all of buf to a blocking socket (its send timeout bounds each write). */
static bool write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t k = write(fd, buf, len);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return false;
        buf += k;
        len -= (size_t)k;
    }
    return true;
}

/* Sends CLUSTER FAILOVER to ip:port; true on +OK. Short blocking I/O. */
static bool send_cluster_failover(const char *ip, int port)
{
    bool v6 = strchr(ip, ':') != NULL;
    int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    struct timeval tv = { .tv_sec = 1, .tv_usec = 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int rc;
    if (v6) {
        struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port) };
        if (inet_pton(AF_INET6, ip, &sa.sin6_addr) != 1) { close(fd); return false; }
        rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
    } else {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
        if (inet_pton(AF_INET, ip, &sa.sin_addr) != 1) { close(fd); return false; }
        rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
    }
    bool ok = false;
    if (rc == 0) {
        char *pass = config_dup_str(CONFIG_MASTERAUTH);      /* whole value, any length */
        static const char cmd[] = "*2\r\n$7\r\nCLUSTER\r\n$8\r\nFAILOVER\r\n";
        char buf[256];
        if (pass[0]) {
            size_t plen = strlen(pass), cap = plen + 64;
            char *auth = xmalloc(cap);
            int hl = snprintf(auth, cap, "*2\r\n$4\r\nAUTH\r\n$%zu\r\n", plen);
            memcpy(auth + hl, pass, plen);
            memcpy(auth + hl + plen, "\r\n", 2);
            if (write_all(fd, auth, (size_t)hl + plen + 2)) (void)!read(fd, buf, sizeof buf);
            free(auth);
        }
        free(pass);
        if (write(fd, cmd, sizeof cmd - 1) == (ssize_t)(sizeof cmd - 1)) {
            ssize_t n = read(fd, buf, sizeof buf - 1);
            if (n > 0) {
                buf[n] = '\0';
                ok = !strncmp(buf, "+OK", 3);
                if (!ok) LOG_WARNING("Failover on shutdown: the replica answered %.*s", (int)strcspn(buf, "\r\n"), buf);
            }
        }
    }
    close(fd);
    return ok;
}

bool elector_failover_on_shutdown(int timeout_ms)
{
    rt_snap_reader_t rd;
    if (rt_snap_reader_register(&g_cluster_snapshot, &rd) != 0) return false;
    char ip[NODES_CONF_IP_SIZE] = "", name[NODE_NAME_LEN + 1] = "";
    int port = 0;
    const cluster_snapshot_t *s = rt_snap_read_begin(&rd);
    const node_view_t *me = &s->nodes[s->myself];
    if ((me->flags & NODE_MASTER) && me->slot_count > 0) {
        long long best_off = -1;
        for (int i = 0; i < s->node_count; i++) {
            const node_view_t *n = &s->nodes[i];
            if (!(n->flags & NODE_SLAVE) || n->master != s->myself) continue;
            if (n->flags & (NODE_FAIL | NODE_PFAIL | NODE_NOADDR | NODE_NOFAILOVER) || !n->ip[0]) continue;
            if (n->repl_offset > best_off) {
                best_off = n->repl_offset;
                memcpy(ip, n->ip, sizeof ip);
                memcpy(name, n->name, sizeof name);
                port = n->port;
            }
        }
    }
    rt_snap_read_end(&rd);
    if (!port) { rt_snap_reader_unregister(&rd); return false; }
    LOG_NOTICE("Failover on shutdown: asking replica %.40s (%s:%d) to take over", name, ip, port);
    bool done = false;
    long long deadline = rt_mono_ms() + timeout_ms;
    if (send_cluster_failover(ip, port)) {
        while (!done && rt_mono_ms() < deadline) {
            s = rt_snap_read_begin(&rd);
            me = &s->nodes[s->myself];
            done = !(me->flags & NODE_MASTER) || me->slot_count == 0;
            rt_snap_read_end(&rd);
            if (!done) usleep(10000);
        }
    }
    rt_snap_reader_unregister(&rd);
    if (done) LOG_NOTICE("Failover on shutdown: replica %.40s took over", name);
    else LOG_WARNING("Failover on shutdown: replica %.40s did not take over in time", name);
    return done;
}
