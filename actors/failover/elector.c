/* elector.c - the failover elector actor (see elector.h): replica-side
 * election (docs/cluster-bus.md §5.13), the replica side of manual failover
 * (5.15), replica migration (5.16), and failover on shutdown.
 *
 * Timing shortcut (docs/design.md, departures), and why it is safe: a replica of rank 0 whose
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
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "actors/config/config.h"
#include "actors/failover/elector.h"
#include "actors/failover/elector_rules.h"
#include "actors/repl/repl.h"
#include "actors/repl/repl_replica.h"
#include "actors/state/state.h"
#include "runtime/log.h"
#include "runtime/tmpfile.h"
#include "runtime/xmalloc.h"
#include "proto/nodes_conf.h"

#define MF_TIMEOUT_MS 5000
#define MIGRATION_DELAY_MS 5000
#define CANT_FAILOVER_LOG_PERIOD_MS 10000
#define ELECTOR_TICK_MS 100

typedef struct elector {
    rt_actor_t actor;
    rt_timer_t tick;              /* ELECTOR_TICK_MS */
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

/* The one elector, for those who send to it (elector_actor, elector_send);
 * everything else reaches it through its actor's `self`. Set once by
 * elector_start before any thread starts. */
static elector_t *g_elector;

rt_actor_t *elector_actor(void) { return &g_elector->actor; }

void elector_send(int type, long long value, bool flag)
{
    elector_msg_t *m = xcalloc(1, sizeof *m);
    m->hdr.type = (uint32_t)type;
    m->value = value;
    m->flag = flag;
    rt_send(&g_elector->actor, &m->hdr);
}

/* The elector's one way to act: a request to the state actor. */
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

/* Relaxed: a progress figure the replication actor stores alone; a stale
 * value only ranks us lower or delays a manual failover by one step. */
static long long my_offset(void) { return atomic_load_explicit(&g_repl_offset, memory_order_relaxed); }

static void mf_reset(elector_t *el)
{
    el->mf_end = 0;
    el->mf_master_offset = -1;
    el->mf_can_start = false;
}

static void election_reset(elector_t *el)
{
    el->auth_time = 0;
    el->sent = false;
    el->epoch = 0;
    el->votes = 0;
    el->promote_asked = false;
    el->master[0] = '\0';
    rt_timer_stop(&el->wake);
}

static void step(elector_t *el);
static void on_timer(rt_timer_t *t, void *arg) { (void)t; step(arg); }

static void arm_wake(elector_t *el, long long at)
{
    rt_timer_stop(&el->wake);
    long long delay = at - rt_now_ms();
    if (delay < 0) delay = 0;
    rt_timer_start(&el->wake, el->actor.thread, (double)delay, 0, on_timer, el);
}

/* The data freshness rule of 5.13 with today's configuration; logs (rate
 * limited) when our data is too old to serve. */
static bool data_fresh_enough(elector_t *el, const cluster_snapshot_t *s, int mi, long long now, long long nt)
{
    long long factor = config_get_num(CONFIG_CLUSTER_REPLICA_VALIDITY_FACTOR);
    if (factor == 0) return true;
    /* the master's last data and PONG as links noted them, not as the
     * snapshot last published them (state.h, node_view_*) */
    node_view_t m = s->nodes[mi];
    m.data_received_ms = node_view_data_received(s, mi);
    m.pong_received_ms = node_view_pong_received(s, mi);
    long long age = elector_data_age(&m, now, repl_master_link_down_ms(), nt);
    if (elector_data_fresh(age, nt, factor, config_get_num(CONFIG_REPL_PING_REPLICA_PERIOD))) return true;
    if (now - el->last_cant_log > CANT_FAILOVER_LOG_PERIOD_MS) {
        el->last_cant_log = now;
        LOG_WARNING("Currently unable to failover: Disconnected from master for longer than allowed. "
                    "Please check the 'cluster-replica-validity-factor' configuration option.");
    }
    return false;
}

/* Replica migration (5.16): the rule is elector_migration's; here, the
 * 5 s the orphan must stay orphaned before we move. */
static void consider_migration(elector_t *el, const cluster_snapshot_t *s, long long now)
{
    if (!config_get_num(CONFIG_CLUSTER_ALLOW_REPLICA_MIGRATION) || el->mf_end) return;
    int target;
    bool candidate;
    switch (elector_migration(s, config_get_num(CONFIG_CLUSTER_MIGRATION_BARRIER), &target, &candidate)) {
    case ELECTOR_MIGRATE_NONE: el->orphan[0] = '\0'; return;
    case ELECTOR_MIGRATE_WAIT: return;
    case ELECTOR_MIGRATE_TARGET: break;
    }
    const char *name = s->nodes[target].name;
    if (strcmp(el->orphan, name) != 0) {
        memcpy(el->orphan, name, NODE_NAME_LEN + 1);
        el->orphan_since = now;
    }
    if (!candidate || now - el->orphan_since <= MIGRATION_DELAY_MS) return;
    LOG_NOTICE("Migrating to orphaned master %.40s", name);
    ask_state(STATE_FO_MIGRATE, name, 0, false);
    el->orphan[0] = '\0';
}

/* Manual failover, replica side: the 5 s timeout, and the start once our
 * offset reached the paused master's. True when it may start now. */
static bool manual_failover_ready(elector_t *el, long long now)
{
    if (el->mf_end && now > el->mf_end) {
        LOG_WARNING("Manual failover timed out.");
        mf_reset(el);
    }
    if (el->mf_end && !el->mf_can_start && el->mf_master_offset >= 0 && my_offset() >= el->mf_master_offset) {
        el->mf_can_start = true;
        LOG_NOTICE("All master replication stream processed, manual failover can start.");
    }
    return el->mf_end && el->mf_can_start;
}

/* A new election about master `mi`: rank, delay, and the PONG that tells
 * our siblings our offset. */
static void schedule_election(elector_t *el, const cluster_snapshot_t *s, int mi, bool manual, long long now,
                              long long nt)
{
    bool final = false;
    election_reset(el);
    memcpy(el->master, s->nodes[mi].name, NODE_NAME_LEN + 1);
    el->rank = manual ? 0 : elector_rank(s, mi, my_offset(), &final);
    long long delay = elector_delay(el->rank, manual || final, manual, nt, random());
    el->auth_time = now + delay;
    LOG_NOTICE("Start of election delayed for %lld milliseconds (rank #%d, offset %lld).", delay, el->rank,
               my_offset());
    ask_state(STATE_FO_PONG_SIBLINGS, NULL, 0, false);
    arm_wake(el, el->auth_time);
}

/* Siblings' newer offsets arrived before our request left: one more
 * second per rank lost, as 7.0.15. */
static void update_rank(elector_t *el, const cluster_snapshot_t *s, int mi)
{
    bool final;
    int r = elector_rank(s, mi, my_offset(), &final);
    if (r <= el->rank) return;
    long long added = (long long)(r - el->rank) * ELECTOR_DELAY_PER_RANK_MS;
    el->auth_time += added;
    el->rank = r;
    LOG_NOTICE("Replica rank updated to #%d, added %lld milliseconds of delay.", r, added);
    arm_wake(el, el->auth_time);
}

/* One evaluation of the replica's failover state machine (5.13, 5.15). */
static void step(elector_t *el)
{
    const cluster_snapshot_t *s = snap();
    if (!s) return;
    long long now = rt_now_ms();
    const node_view_t *me = &s->nodes[s->myself];
    if (!(me->flags & NODE_SLAVE) || me->master < 0) {
        if (el->master[0] || el->mf_end) { election_reset(el); mf_reset(el); }
        return;
    }
    int mi = me->master;
    const node_view_t *m = &s->nodes[mi];
    if (el->master[0] && strcmp(el->master, m->name) != 0) election_reset(el);   /* new master: start over */
    bool manual = manual_failover_ready(el, now);
    if (!elector_may_fail_over(m, manual, config_get_num(CONFIG_CLUSTER_REPLICA_NO_FAILOVER))) {
        consider_migration(el, s, now);
        return;
    }
    long long nt = config_cluster_node_timeout();
    long long auth_timeout = elector_auth_timeout(nt);
    long long auth_age = now - el->auth_time;
    if (!manual && !data_fresh_enough(el, s, mi, now, nt)) return;
    if (el->auth_time == 0 || auth_age > auth_timeout * 2) {
        schedule_election(el, s, mi, manual, now, nt);
        return;
    }
    if (!manual && !el->sent) update_rank(el, s, mi);
    if (now < el->auth_time) return;
    if (auth_age > auth_timeout) return;   /* expired: wait for the retry time */
    if (!el->sent) {
        el->sent = true;
        ask_state(STATE_FO_ELECTION, m->name, 0, manual);
        return;
    }
    if (el->epoch && !el->promote_asked && elector_won(el->votes, s->size)) {
        LOG_NOTICE("Failover election won: I'm the new master.");
        el->promote_asked = true;
        ask_state(STATE_FO_PROMOTE, m->name, el->epoch, false);
    }
}

static void behaviour(rt_actor_t *self, rt_msg_t *msg)
{
    elector_t *el = self->state;
    elector_msg_t *m = (elector_msg_t *)msg;
    switch (msg->type) {
    case ELECTOR_MSG_EPOCH:
        if (el->sent && !el->epoch) {
            el->epoch = (uint64_t)m->value;
            LOG_NOTICE("Starting a failover election for epoch %llu.", (unsigned long long)el->epoch);
        }
        break;
    case ELECTOR_MSG_ACK:
        if (el->epoch && (uint64_t)m->value == el->epoch) el->votes++;
        break;
    case ELECTOR_MSG_MASTER_PAUSED:
        if (el->mf_end && el->mf_master_offset < 0) {
            el->mf_master_offset = m->value;
            LOG_NOTICE("Received replication offset for paused master manual failover: %lld", m->value);
        }
        break;
    case ELECTOR_MSG_MF_START:
        mf_reset(el);
        election_reset(el);
        el->mf_end = rt_now_ms() + MF_TIMEOUT_MS;
        el->mf_can_start = m->flag;
        break;
    case ELECTOR_MSG_PROMOTED:
        election_reset(el);
        mf_reset(el);
        break;
    default:
        break;
    }
    free(msg);
    step(el);
}

void elector_start(rt_thread_t *thread)
{
    elector_t *el = xcalloc(1, sizeof *el);
    mf_reset(el);
    rt_actor_init(&el->actor, thread, "elector", behaviour, el);
    rt_timer_start(&el->tick, thread, ELECTOR_TICK_MS, ELECTOR_TICK_MS, on_timer, el);
    g_elector = el;
}

/* ---------------- failover on shutdown (main's thread) ---------------- */

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
            if (rt_write_all(fd, auth, (size_t)hl + plen + 2) == 0) (void)!read(fd, buf, sizeof buf);
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
            if (node_view_repl_offset(s, i) > best_off) {
                best_off = node_view_repl_offset(s, i);
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
