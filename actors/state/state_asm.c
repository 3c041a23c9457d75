/* state_asm.c - the state actor's part of atomic slot migration: CLUSTER
 * MIGRATESLOTS, GETSLOTMIGRATIONS, CANCELSLOTMIGRATIONS and SYNCSLOTS, the
 * jobs on both ends, and the slot sets of asm.h (docs/migrateslots.md).
 *
 * Source (export job): MIGRATESLOTS checks its arguments as Valkey 9 does and
 * starts one lane per worker holding some of the slots (asm_lane.h). It
 * answers once every lane's ESTABLISH was accepted (or with the error, e.g.
 * from a redis-server target that has no SYNCSLOTS). When every lane has
 * sent its keys and the target has applied nearly all, the slots' writes are
 * paused (held, not refused), the lanes are sealed, and once every command
 * sent was answered the first lane asks the target to take over. Its answer
 * is the target's new configEpoch: we apply it as an UPDATE from the target
 * (5.8 C), publish, and only then lift the pause, so the held writes find
 * the new owner (-MOVED); the keys are dropped by the usual rule for slots
 * lost to a newer claim (DELs to our replicas).
 *
 * Target (import job): the first ESTABLISH hides the slots (asm.h), drops
 * whatever keys we still hold in them, and is answered when that is done;
 * every lane's connection is remembered. TAKEOVER makes us the owner with a
 * configEpoch above every one we know, saved with fsync before the answer,
 * then PONGs everyone. A lane that closes before the takeover fails the
 * import: the slots' keys go, the slots stay the source's.
 *
 * Must never: lift a pause before the snapshot naming the new owner is
 * published; take over slots the source no longer owns; answer TAKEOVER
 * before the new configuration is durable.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "actors/commands/args.h"
#include "actors/config/config.h"
#include "actors/state/asm.h"
#include "actors/state/state_internal.h"
#include "actors/worker/asm_lane.h"
#include "actors/worker/keyspace.h"
#include "proto/slot.h"
#include "runtime/log.h"
#include "runtime/xmalloc.h"

#define ASM_LOG_MAX 32            /* finished jobs kept for GETSLOTMIGRATIONS */
#define ASM_MAX_CLIENTS 64        /* lanes of one import (one per source worker) */

/* ---------------- the published slot sets ---------------- */

/* Written by the state actor only (release), read by workers (acquire):
 * a worker that sees a bit also sees what the state actor did before. */
static _Atomic uint64_t g_paused[SLOT_COUNT / 64], g_hidden[SLOT_COUNT / 64];
static _Atomic int g_npaused, g_nhidden;
static _Atomic uint64_t g_pause_gen;
static _Atomic int g_hold;   /* relaxed: a test knob */

static bool bit(const uint8_t *m, unsigned s) { return (m[s / 8] >> (s % 8)) & 1; }
static void bit_set(uint8_t *m, unsigned s) { m[s / 8] = (uint8_t)(m[s / 8] | (1u << (s % 8))); }

bool asm_any_paused(void) { return atomic_load_explicit(&g_npaused, memory_order_acquire) > 0; }
bool asm_slot_paused(unsigned s)
{
    return (atomic_load_explicit(&g_paused[s / 64], memory_order_acquire) >> (s % 64)) & 1;
}
uint64_t asm_pause_gen(void) { return atomic_load_explicit(&g_pause_gen, memory_order_acquire); }
bool asm_any_hidden(void) { return atomic_load_explicit(&g_nhidden, memory_order_acquire) > 0; }
bool asm_slot_hidden(unsigned s)
{
    return (atomic_load_explicit(&g_hidden[s / 64], memory_order_acquire) >> (s % 64)) & 1;
}
bool asm_key_hidden(const uint8_t *key, size_t len)
{
    return asm_any_hidden() && asm_slot_hidden(slot_of_key(key, len));
}

size_t asm_hidden_keys(const struct keyspace *ks)
{
    if (!asm_any_hidden()) return 0;
    size_t n = 0;
    for (unsigned w = 0; w < SLOT_COUNT / 64; w++) {
        uint64_t bits = atomic_load_explicit(&g_hidden[w], memory_order_acquire);
        for (; bits; bits &= bits - 1) n += ks_count_in_slot(ks, w * 64 + (unsigned)__builtin_ctzll(bits));
    }
    return n;
}

void asm_set_hold(int step) { atomic_store_explicit(&g_hold, step, memory_order_relaxed); }
int asm_hold(void) { return atomic_load_explicit(&g_hold, memory_order_relaxed); }

/* State actor only: turns the bits of `slots` on or off in a set. */
static void set_bits(_Atomic uint64_t *set, _Atomic int *count, const uint8_t *slots, bool on)
{
    int delta = 0;
    for (unsigned s = 0; s < SLOT_COUNT; s++) {
        if (!bit(slots, s)) continue;
        uint64_t old = atomic_load_explicit(&set[s / 64], memory_order_relaxed);
        uint64_t b = 1ull << (s % 64);
        uint64_t nw = on ? old | b : old & ~b;
        if (nw == old) continue;
        atomic_store_explicit(&set[s / 64], nw, memory_order_release);
        delta += on ? 1 : -1;
    }
    atomic_fetch_add_explicit(count, delta, memory_order_release);
}

void asm_event_post(int kind, uint64_t job, int lane, long long value, uint64_t client_id, const char *text)
{
    asm_event_t *e = xcalloc(1, sizeof *e);
    e->hdr.type = STATE_MSG_ASM;
    e->kind = kind;
    e->job = job;
    e->lane = lane;
    e->value = value;
    e->client_id = client_id;
    snprintf(e->text, sizeof e->text, "%s", text ? text : "");
    rt_send(state_actor(), &e->hdr);
}

/* ---------------- jobs ---------------- */

enum job_state {
    JS_CONNECTING = 0, JS_SNAPSHOTTING, JS_REPLICATING, JS_PAUSED, JS_GRANTED,   /* export */
    JS_RECEIVING,                                                                 /* import */
    JS_SUCCESS, JS_FAILED, JS_CANCELLED,                                          /* finished */
};

static const char *state_text(int s)
{
    switch (s) {
    case JS_CONNECTING: return "connecting";
    case JS_SNAPSHOTTING: return "snapshotting";
    case JS_REPLICATING: return "replicating";
    case JS_PAUSED: return "failover-paused";
    case JS_GRANTED: return "failover-granted";
    case JS_RECEIVING: return "receiving-snapshot";
    case JS_SUCCESS: return "success";
    case JS_FAILED: return "failed";
    case JS_CANCELLED: return "cancelled";
    }
    return "unknown";
}

typedef struct asm_job {
    struct asm_job *next;
    uint64_t id;
    bool import;
    char name[ASM_NAME_LEN + 1], source[NODE_NAME_LEN + 1], target[NODE_NAME_LEN + 1];
    uint8_t slots[SLOT_COUNT / 8];
    char ranges[512];             /* "0-99 200-299", cut with "..." when long */
    long long ctime, last_update, last_ack;   /* unix seconds */
    int state;
    char message[384];
    /* export */
    int nlanes, lane_worker[MAX_WORKERS];
    int established, snapped, drained;
    remote_cmd_t *reply;          /* MIGRATESLOTS, answered once the lanes are established */
    int *reply_left;              /* jobs of that command still connecting (shared) */
    bool paused, takeover_answered;
    long long paused_mono, granted_mono;
    /* import */
    uint64_t clients[ASM_MAX_CLIENTS];
    int nclients;
    int drops_left;
    bool hidden;
    remote_cmd_t *waiting[ASM_MAX_CLIENTS];   /* ESTABLISHes answered when the drop is done */
    int nwaiting;
} asm_job_t;

static asm_job_t *g_jobs;         /* newest first; state actor only */
static uint64_t g_next_id;

static long long now_s(void) { return rt_now_ms() / 1000; }
static bool in_progress(const asm_job_t *j) { return j->state < JS_SUCCESS; }

static void set_state(asm_job_t *j, int s)
{
    if (j->state != s)
        LOG_NOTICE("Slot migration %.40s (%s %s) state: %s -> %s", j->name, j->import ? "import" : "export",
                   j->ranges, state_text(j->state), state_text(s));
    j->state = s;
    j->last_update = now_s();
}

static asm_job_t *job_by_id(uint64_t id)
{
    for (asm_job_t *j = g_jobs; j; j = j->next)
        if (j->id == id) return j;
    return NULL;
}

static asm_job_t *job_by_name(const uint8_t *name, size_t len)
{
    if (len != ASM_NAME_LEN) return NULL;
    for (asm_job_t *j = g_jobs; j; j = j->next)
        if (!memcmp(j->name, name, ASM_NAME_LEN)) return j;
    return NULL;
}

static asm_job_t *job_new(bool import)
{
    asm_job_t *j = xcalloc(1, sizeof *j);
    j->id = ++g_next_id;
    j->import = import;
    j->ctime = j->last_update = j->last_ack = now_s();
    return j;
}

static void ranges_text(asm_job_t *j)
{
    size_t k = 0;
    j->ranges[0] = '\0';
    for (unsigned s = 0; s < SLOT_COUNT; s++) {
        if (!bit(j->slots, s)) continue;
        unsigned e = s;
        while (e + 1 < SLOT_COUNT && bit(j->slots, e + 1)) e++;
        if (k + 24 >= sizeof j->ranges) {
            snprintf(j->ranges + k, sizeof j->ranges - k, " ...");
            return;
        }
        k += (size_t)snprintf(j->ranges + k, sizeof j->ranges - k, "%s%u-%u", k ? " " : "", s, e);
        s = e;
    }
}

/* Drops finished jobs beyond ASM_LOG_MAX, oldest first. */
static void trim_log(void)
{
    int finished = 0;
    for (asm_job_t *j = g_jobs; j; j = j->next) finished += !in_progress(j);
    while (finished > ASM_LOG_MAX) {
        asm_job_t **last = NULL;
        for (asm_job_t **pp = &g_jobs; *pp; pp = &(*pp)->next)
            if (!in_progress(*pp)) last = pp;
        asm_job_t *j = *last;
        *last = j->next;
        free(j);
        finished--;
    }
}

static void reply_migrateslots(state_t *st, asm_job_t *j, const char *err)
{
    if (!j->reply) return;
    remote_cmd_t *rc = j->reply;
    int *left = j->reply_left;
    /* every job of the command points at the same reply: detach them all */
    for (asm_job_t *o = g_jobs; o; o = o->next)
        if (o->reply == rc) o->reply = NULL;
    if (err) {
        resp_buf_reset(&rc->reply);
        resp_add_errorf(&rc->reply, "ERR Slot migration to %.40s failed: %s", j->target, err);
        free(left);
        state_reply(st, rc);
        return;
    }
    if (--*left > 0) {
        for (asm_job_t *o = g_jobs; o; o = o->next)
            if (o->reply_left == left && o != j && in_progress(o) && o->state == JS_CONNECTING) o->reply = rc;
        return;
    }
    free(left);
    resp_add_simple(&rc->reply, "OK");
    state_reply(st, rc);
}

static void finish(state_t *st, asm_job_t *j, int state, const char *msg)
{
    if (!in_progress(j)) return;
    snprintf(j->message, sizeof j->message, "%s", msg ? msg : "");
    if (!j->import) {
        /* The lanes end (their seals with them) before the pause does: a held
         * write, let go, reaches its worker after that worker's lane is gone
         * (the state actor posts the end first), so it runs there when the
         * job failed, and gets -MOVED by the snapshot when it succeeded. */
        for (int i = 0; i < j->nlanes; i++) asm_lane_end(j->lane_worker[i], j->id);
        if (j->paused) {
            LOG_NOTICE("Slot migration %.40s: writes to its slots were paused for %lld ms", j->name,
                       rt_mono_ms() - j->paused_mono);
            set_bits(g_paused, &g_npaused, j->slots, false);
            atomic_fetch_add_explicit(&g_pause_gen, 1, memory_order_release);
            j->paused = false;
            workers_hold_kick();
        }
        /* The keys of the slots handed over go once the new owner is published
         * (it is: success needs it), a piece at a time (state_bus.c leaves
         * paused slots to us). */
        if (state == JS_SUCCESS) asm_workers_drop_background(j->slots);
        if (j->reply) reply_migrateslots(st, j, state == JS_SUCCESS ? NULL : (msg ? msg : state_text(state)));
    } else {
        if (j->hidden) {
            set_bits(g_hidden, &g_nhidden, j->slots, false);
            j->hidden = false;
        }
        if (state != JS_SUCCESS) asm_workers_drop(j->slots, j->id);
        for (int i = 0; i < j->nwaiting; i++) {
            resp_buf_reset(&j->waiting[i]->reply);
            resp_add_errorf(&j->waiting[i]->reply, "ERR Slot migration failed: %s", msg ? msg : state_text(state));
            state_reply(st, j->waiting[i]);
        }
        j->nwaiting = 0;
    }
    set_state(j, state);
    if (state == JS_SUCCESS) LOG_NOTICE("Slot migration %.40s finished", j->name);
    else LOG_WARNING("Slot migration %.40s ended %s: %s", j->name, state_text(state), j->message);
    trim_log();
}

/* ---------------- argument checks (Valkey 9's order and texts) ---------------- */

static bool can_start(state_t *st, resp_buf_t *r)
{
    if (st->nodes[st->myself].flags & NODE_SLAVE) {
        resp_add_error(r, "ERR Slot migration can only be used on primary nodes.");
        return false;
    }
    for (int s = 0; s < SLOT_COUNT; s++)
        if (st->importing_from[s] >= 0) {
            resp_add_error(r, "ERR Slots are being manually imported");
            return false;
        }
    for (int s = 0; s < SLOT_COUNT; s++)
        if (st->migrating_to[s] >= 0) {
            resp_add_error(r, "ERR Slots are being manually migrated");
            return false;
        }
    return true;
}

static int slot_arg(const uint8_t *a, size_t n)
{
    long long v;
    if (!arg_ll(a, n, &v) || v < 0 || v >= SLOT_COUNT) return -1;
    return (int)v;
}

/* Slot ranges from argument *i on, up to the first argument that is no
 * integer; all served by one node (*owner). False after an error reply. */
static bool parse_ranges(state_t *st, const queued_cmd_t *q, int *i, uint8_t *slots, int *owner, resp_buf_t *r)
{
    int starts[SLOT_COUNT / 2 + 1], ends[SLOT_COUNT / 2 + 1], n = 0;
    *owner = -1;
    while (*i < q->argc) {
        long long v;
        if (!arg_ll(q->argv[*i], q->argvlen[*i], &v)) break;
        int a = slot_arg(q->argv[*i], q->argvlen[*i]);
        if (a < 0) {
            resp_add_error(r, "ERR Invalid or out of range slot");
            return false;
        }
        if (*i + 1 >= q->argc) {
            resp_add_error(r, "ERR No end slot for final slot range");
            return false;
        }
        int b = slot_arg(q->argv[*i + 1], q->argvlen[*i + 1]);
        if (b < 0) {
            resp_add_error(r, "ERR Invalid or out of range slot");
            return false;
        }
        if (a > b) {
            resp_add_errorf(r, "ERR Start slot number %d is greater than end slot number %d.", a, b);
            return false;
        }
        for (int s = a; s <= b; s++) {
            if (st->slot_owner[s] < 0) {
                resp_add_errorf(r, "ERR Slot %d has no node served.", s);
                return false;
            }
            if (*owner < 0) *owner = st->slot_owner[s];
            else if (*owner != st->slot_owner[s]) {
                resp_add_error(r, "ERR Requested slots span multiple shards");
                return false;
            }
        }
        for (int k = 0; k < n; k++)
            if (b >= starts[k] && a <= ends[k]) {
                resp_add_errorf(r, "ERR Slot range %d-%d overlaps with previous range %d-%d.", a, b, starts[k],
                                ends[k]);
                return false;
            }
        if (n < SLOT_COUNT / 2 + 1) {
            starts[n] = a;
            ends[n] = b;
            n++;
        }
        for (int s = a; s <= b; s++) bit_set(slots, (unsigned)s);
        *i += 2;
    }
    if (n == 0) {
        resp_add_error(r, "ERR No slot ranges specified");
        return false;
    }
    return true;
}

static bool exporting(unsigned s)
{
    for (asm_job_t *j = g_jobs; j; j = j->next)
        if (!j->import && in_progress(j) && bit(j->slots, s)) return true;
    return false;
}

static void random_name(char *out)
{
    uint8_t raw[ASM_NAME_LEN / 2];
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
        for (size_t i = 0; i < sizeof raw; i++) raw[i] = (uint8_t)rand();
    for (size_t i = 0; i < sizeof raw; i++) snprintf(out + 2 * i, 3, "%02x", raw[i]);
}

/* ---------------- source ---------------- */

static void add_cmd(resp_buf_t *b, int argc, const char **argv)
{
    resp_add_array(b, argc);
    for (int i = 0; i < argc; i++) resp_add_bulk(b, argv[i], strlen(argv[i]));
}

/* The lanes' handshake: AUTH (masterauth, as a replica authenticates),
 * CLIENT SETNAME, then ESTABLISH with the whole job's ranges. */
static char *hello_bytes(state_t *st, const asm_job_t *j, size_t *len, int *replies)
{
    resp_buf_t b;
    resp_buf_init(&b, 2);
    *replies = 0;
    char *pass = config_dup_str(CONFIG_MASTERAUTH);
    char *user = config_dup_str(CONFIG_MASTERUSER);
    if (pass && pass[0]) {
        if (user && user[0]) add_cmd(&b, 3, (const char *[]){ "AUTH", user, pass });
        else add_cmd(&b, 2, (const char *[]){ "AUTH", pass });
        (*replies)++;
    }
    free(pass);
    free(user);
    add_cmd(&b, 3, (const char *[]){ "CLIENT", "SETNAME", "slot-migration" });
    (*replies)++;
    int nr = 0;
    for (unsigned s = 0; s < SLOT_COUNT; s++)
        if (bit(j->slots, s) && (s == 0 || !bit(j->slots, s - 1))) nr++;
    resp_add_array(&b, 8 + 2 * nr);
    const char *head[] = { "CLUSTER", "SYNCSLOTS", "ESTABLISH", "SOURCE" };
    for (int i = 0; i < 4; i++) resp_add_bulk(&b, head[i], strlen(head[i]));
    resp_add_bulk(&b, st->nodes[st->myself].name, NODE_NAME_LEN);
    resp_add_bulk(&b, "NAME", 4);
    resp_add_bulk(&b, j->name, ASM_NAME_LEN);
    resp_add_bulk(&b, "SLOTSRANGE", 10);
    for (unsigned s = 0; s < SLOT_COUNT; s++) {
        if (!bit(j->slots, s) || (s > 0 && bit(j->slots, s - 1))) continue;
        unsigned e = s;
        while (e + 1 < SLOT_COUNT && bit(j->slots, e + 1)) e++;
        resp_add_bulk_ll(&b, s);
        resp_add_bulk_ll(&b, e);
    }
    (*replies)++;
    *len = b.len;
    return b.data;   /* the lane frees it */
}

static void start_export(state_t *st, asm_job_t *j, int target)
{
    const state_node_t *t = &st->nodes[target];
    for (int w = 0; w < g_nworkers; w++) {
        asm_lane_spec_t *spec = xcalloc(1, sizeof *spec);
        bool any = false;
        for (unsigned s = (unsigned)w; s < SLOT_COUNT; s += (unsigned)g_nworkers)
            if (bit(j->slots, s)) {
                bit_set(spec->slots, s);
                any = true;
            }
        if (!any) {
            free(spec);
            continue;
        }
        spec->job = j->id;
        spec->lane = j->nlanes;
        memcpy(spec->name, j->name, ASM_NAME_LEN + 1);
        snprintf(spec->host, sizeof spec->host, "%s", t->ip);
        spec->port = t->port;
        spec->hello = hello_bytes(st, j, &spec->hello_len, &spec->hello_replies);
        j->lane_worker[j->nlanes++] = w;
        asm_lane_start(w, spec);
    }
    LOG_NOTICE("Slot migration initiated: %.40s to %.40s, slots %s, %d lanes", j->name, j->target, j->ranges,
               j->nlanes);
}

static void cmd_migrateslots(state_t *st, remote_cmd_t *rc)
{
    queued_cmd_t *q = &rc->cmds[0];
    resp_buf_t *r = &rc->reply;
    asm_job_t *fresh = NULL;
    int njobs = 0;
    if (!can_start(st, r)) goto fail;
    int i = 2;
    while (i < q->argc) {
        if (!arg_is(q->argv[i], q->argvlen[i], "slotsrange")) {
            resp_add_error(r, "ERR syntax error");
            goto fail;
        }
        i++;
        asm_job_t *j = job_new(false);
        j->next = fresh;
        fresh = j;
        int owner;
        if (!parse_ranges(st, q, &i, j->slots, &owner, r)) goto fail;
        if (owner != st->myself) {
            resp_add_error(r, "ERR Slots are not served by this node.");
            goto fail;
        }
        for (unsigned s = 0; s < SLOT_COUNT; s++)
            if (bit(j->slots, s) && exporting(s)) {
                resp_add_errorf(r, "ERR I am already migrating slot %u.", s);
                goto fail;
            }
        for (asm_job_t *o = j->next; o; o = o->next)
            for (int w = 0; w < SLOT_COUNT / 8; w++)
                if (o->slots[w] & j->slots[w]) {
                    resp_add_error(r, "ERR Slot ranges in migrations overlap");
                    goto fail;
                }
        if (i + 1 >= q->argc || !arg_is(q->argv[i], q->argvlen[i], "node")) {
            resp_add_error(r, "ERR syntax error");
            goto fail;
        }
        i++;
        const char *name = (const char *)q->argv[i];
        if (q->argvlen[i] != NODE_NAME_LEN) {
            resp_add_errorf(r, "ERR Invalid node name: %.*s", (int)strnlen(name, q->argvlen[i]), name);
            goto fail;
        }
        int t = state_find(st, name, NODE_NAME_LEN);
        if (t < 0) {
            resp_add_errorf(r, "ERR Unknown node name: %.40s", name);
            goto fail;
        }
        if (t == st->myself) {
            resp_add_error(r, "ERR Target node can not be this node.");
            goto fail;
        }
        i++;
        memcpy(j->target, name, NODE_NAME_LEN);
        memcpy(j->source, st->nodes[st->myself].name, NODE_NAME_LEN);
        random_name(j->name);
        ranges_text(j);
        njobs++;
    }
    int *left = xmalloc(sizeof *left);
    *left = njobs;
    while (fresh) {
        asm_job_t *j = fresh;
        fresh = j->next;
        j->next = g_jobs;
        g_jobs = j;
        j->reply = rc;
        j->reply_left = left;
        set_state(j, JS_CONNECTING);
        start_export(st, j, state_find(st, j->target, NODE_NAME_LEN));
    }
    return;   /* answered when the lanes are established (reply_migrateslots) */
fail:
    while (fresh) {
        asm_job_t *j = fresh;
        fresh = j->next;
        free(j);
    }
    state_reply(st, rc);
}

static void maybe_pause(asm_job_t *j)
{
    if (j->state != JS_REPLICATING || j->snapped < j->nlanes || asm_hold() == ASM_HOLD_STREAM) return;
    set_bits(g_paused, &g_npaused, j->slots, true);
    atomic_fetch_add_explicit(&g_pause_gen, 1, memory_order_release);
    j->paused = true;
    j->paused_mono = rt_mono_ms();
    set_state(j, JS_PAUSED);
    /* After the bits: a write that passed the pause check before them and
     * reaches a lane's worker after its seal is refused there (asm_lane.h). */
    for (int i = 0; i < j->nlanes; i++) asm_lane_seal(j->lane_worker[i], j->id);
}

static void maybe_grant(asm_job_t *j)
{
    if (j->state != JS_PAUSED || j->drained < j->nlanes || asm_hold() == ASM_HOLD_PAUSED) return;
    j->granted_mono = rt_mono_ms();
    LOG_VERBOSE("Slot migration %.40s: every lane drained %lld ms into the pause; asking the takeover", j->name,
                j->granted_mono - j->paused_mono);
    set_state(j, JS_GRANTED);
    asm_lane_takeover(j->lane_worker[0], j->id);
}

/* True when the published snapshot gives every slot of j to its target:
 * then the held writes may go (they will be redirected). */
static bool target_owns_published(state_t *st, asm_job_t *j)
{
    const cluster_snapshot_t *s = state_fresh_snapshot(st);
    int t = cluster_snapshot_find(s, j->target);
    if (t < 0) return false;
    for (unsigned k = 0; k < SLOT_COUNT; k++)
        if (bit(j->slots, k) && s->slot_owner[k] != t) return false;
    return true;
}

static void takeover_answered(state_t *st, asm_job_t *j, uint64_t epoch)
{
    int t = state_find(st, j->target, NODE_NAME_LEN);
    if (t < 0) {
        finish(st, j, JS_FAILED, "The target node was forgotten during the takeover");
        return;
    }
    j->takeover_answered = true;
    uint8_t claim[BUS_SLOT_BYTES] = { 0 };
    for (unsigned s = 0; s < SLOT_COUNT; s++)
        if (st->slot_owner[s] == t || bit(j->slots, s)) bus_slot_set(claim, s);
    /* What the target's next PONG will say, applied now (5.8 C): the slots
     * leave us, and their keys are dropped after the publish. */
    state_bus_update(st, t, epoch, claim);
    bool published = target_owns_published(st, j);
    LOG_VERBOSE("Slot migration %.40s: target %s published as owner %lld ms into the pause", j->name,
                published ? "" : "not yet", rt_mono_ms() - j->paused_mono);
    if (published) finish(st, j, JS_SUCCESS, NULL);
}

static void export_event(state_t *st, asm_job_t *j, const asm_event_t *e)
{
    switch (e->kind) {
    case ASM_EV_ESTABLISHED:
        if (++j->established == j->nlanes && j->state == JS_CONNECTING) {
            set_state(j, JS_SNAPSHOTTING);
            reply_migrateslots(st, j, NULL);
        }
        break;
    case ASM_EV_PROGRESS:
        j->last_ack = now_s();
        break;
    case ASM_EV_SNAPSHOT_DONE:
        j->last_ack = now_s();
        if (++j->snapped == j->nlanes && j->state == JS_SNAPSHOTTING) set_state(j, JS_REPLICATING);
        maybe_pause(j);
        break;
    case ASM_EV_DRAINED:
        j->last_ack = now_s();
        LOG_VERBOSE("Slot migration %.40s: lane %d drained %lld ms into the pause", j->name, e->lane,
                    rt_mono_ms() - j->paused_mono);
        if (++j->drained == j->nlanes) maybe_grant(j);
        break;
    case ASM_EV_TAKEOVER_OK:
        j->last_ack = now_s();
        LOG_VERBOSE("Slot migration %.40s: takeover answered %lld ms into the pause (%lld ms after it was asked)",
                    j->name, rt_mono_ms() - j->paused_mono, rt_mono_ms() - j->granted_mono);
        if (j->state == JS_GRANTED) takeover_answered(st, j, (uint64_t)e->value);
        break;
    case ASM_EV_FAILED:
        if (j->state == JS_GRANTED) {
            /* The target may own the slots already: stay paused until the
             * bus tells (state_asm_tick), or until the wait runs out. */
            snprintf(j->message, sizeof j->message, "%s", e->text);
            break;
        }
        if (strstr(e->text, "unknown subcommand") || strstr(e->text, "unknown command")) {
            char m[sizeof e->text + 64];
            snprintf(m, sizeof m, "the target does not support atomic slot migration (%s)", e->text);
            finish(st, j, JS_FAILED, m);
        } else {
            finish(st, j, JS_FAILED, e->text);
        }
        break;
    }
}

static void cmd_cancel(state_t *st, remote_cmd_t *rc)
{
    bool any = false;
    for (asm_job_t *j = g_jobs; j; j = j->next) any |= !j->import && in_progress(j);
    if (!any) {
        resp_add_error(&rc->reply, "ERR No migrations ongoing");
        state_reply(st, rc);
        return;
    }
    /* A job whose takeover was asked cannot be called back: the target may
     * own the slots already. It ends as the target's answer says. */
    for (asm_job_t *j = g_jobs; j; j = j->next)
        if (!j->import && in_progress(j) && j->state != JS_GRANTED) finish(st, j, JS_CANCELLED, NULL);
    LOG_NOTICE("Canceled all in progress slot migrations (user request)");
    resp_add_simple(&rc->reply, "OK");
    state_reply(st, rc);
}

/* ---------------- target ---------------- */

static void import_establish(state_t *st, remote_cmd_t *rc)
{
    queued_cmd_t *q = &rc->cmds[0];
    resp_buf_t *r = &rc->reply;
    const uint8_t *name = NULL, *source = NULL;
    uint8_t slots[SLOT_COUNT / 8] = { 0 };
    bool have_slots = false;
    int owner = -1;
    if (!can_start(st, r)) goto reply;
    int i = 3;
    while (i < q->argc) {
        if (arg_is(q->argv[i], q->argvlen[i], "source") || arg_is(q->argv[i], q->argvlen[i], "name")) {
            bool is_source = arg_is(q->argv[i], q->argvlen[i], "source");
            if ((is_source ? source : name) || i + 1 >= q->argc || q->argvlen[i + 1] != NODE_NAME_LEN) {
                resp_add_error(r, "ERR syntax error");
                goto reply;
            }
            if (is_source) source = q->argv[i + 1];
            else name = q->argv[i + 1];
            i += 2;
            continue;
        }
        if (arg_is(q->argv[i], q->argvlen[i], "slotsrange") && !have_slots) {
            i++;
            if (!parse_ranges(st, q, &i, slots, &owner, r)) goto reply;
            have_slots = true;
            continue;
        }
        resp_add_error(r, "ERR syntax error");
        goto reply;
    }
    if (!name || !source || !have_slots) {
        resp_add_error(r, "ERR syntax error");
        goto reply;
    }
    int src = state_find(st, (const char *)source, NODE_NAME_LEN);
    if (src < 0) {
        resp_add_error(r, "ERR Target node does not know the source node");
        goto reply;
    }
    if (src == st->myself) {
        resp_add_error(r, "ERR Source node is target node itself");
        goto reply;
    }
    if (src != owner) {
        resp_add_error(r, "ERR Target node does not agree about current slot ownership");
        goto reply;
    }
    asm_job_t *j = job_by_name(name, NODE_NAME_LEN);
    if (j) {
        /* Another lane of a job we already hold. */
        if (!j->import || !in_progress(j) || memcmp(j->slots, slots, sizeof slots) != 0 ||
            j->nclients >= ASM_MAX_CLIENTS) {
            resp_add_error(r, "ERR Slot migration job is not in progress here");
            goto reply;
        }
        j->clients[j->nclients++] = rc->client_id;
        if (j->drops_left > 0) j->waiting[j->nwaiting++] = rc;
        else {
            resp_add_simple(r, "OK");
            state_reply(st, rc);
        }
        return;
    }
    for (asm_job_t *o = g_jobs; o; o = o->next)
        if (o->import && in_progress(o))
            for (int w = 0; w < SLOT_COUNT / 8; w++)
                if (o->slots[w] & slots[w]) {
                    resp_add_error(r, "ERR Slot is already being imported on the target by a different migration");
                    goto reply;
                }
    j = job_new(true);
    memcpy(j->name, name, ASM_NAME_LEN);
    memcpy(j->source, source, NODE_NAME_LEN);
    memcpy(j->target, st->nodes[st->myself].name, NODE_NAME_LEN);
    memcpy(j->slots, slots, sizeof slots);
    ranges_text(j);
    j->clients[j->nclients++] = rc->client_id;
    j->next = g_jobs;
    g_jobs = j;
    /* Hidden first: from here no client sees these slots' keys here. Then
     * whatever we still hold in them goes before the first key arrives
     * (the answer waits for the drop; the source sends nothing before it). */
    set_bits(g_hidden, &g_nhidden, j->slots, true);
    j->hidden = true;
    set_state(j, JS_RECEIVING);
    j->waiting[j->nwaiting++] = rc;
    j->drops_left = asm_workers_drop(j->slots, j->id);
    return;
reply:
    state_reply(st, rc);
}

static void import_takeover(state_t *st, remote_cmd_t *rc)
{
    queued_cmd_t *q = &rc->cmds[0];
    resp_buf_t *r = &rc->reply;
    if (q->argc != 5 || !arg_is(q->argv[3], q->argvlen[3], "name")) {
        resp_add_error(r, "ERR syntax error");
        goto reply;
    }
    asm_job_t *j = job_by_name(q->argv[4], q->argvlen[4]);
    if (!j || !j->import || !in_progress(j) || j->drops_left > 0) {
        resp_add_error(r, "ERR No such slot migration job");
        goto reply;
    }
    LOG_VERBOSE("Slot migration %.40s: takeover asked by the source", j->name);
    state_node_t *me = &st->nodes[st->myself];
    int src = state_find(st, j->source, NODE_NAME_LEN);
    bool owned = src >= 0 && (me->flags & NODE_MASTER);
    for (unsigned s = 0; s < SLOT_COUNT && owned; s++)
        if (bit(j->slots, s) && st->slot_owner[s] != src) owned = false;
    if (!owned) {
        finish(st, j, JS_FAILED, "Slot ownership changed during the import");
        resp_add_error(r, "ERR Slot ownership changed during the import");
        goto reply;
    }
    for (unsigned s = 0; s < SLOT_COUNT; s++)
        if (bit(j->slots, s)) {
            st->slot_owner[s] = (int16_t)st->myself;
            st->importing_from[s] = -1;
        }
    /* A configEpoch above every one we know, so that our claim wins on every
     * node, the source first (it applies our answer as an UPDATE). */
    st->current_epoch++;
    me->config_epoch = st->current_epoch;
    LOG_NOTICE("configEpoch set to %llu after importing slots %s", (unsigned long long)me->config_epoch, j->ranges);
    st->slot_version++;
    state_recount_slots(st);
    state_hold_publish_until_saved(st);
    st->pong_after_seq = st->config_seq + 1;   /* everyone hears once it is durable */
    finish(st, j, JS_SUCCESS, NULL);
    state_update_health(st);
    resp_add_int(r, (long long)me->config_epoch);
    state_reply_after_save(st, rc);
    return;
reply:
    state_reply(st, rc);
}

static void import_event(state_t *st, asm_job_t *j, const asm_event_t *e)
{
    if (e->kind != ASM_EV_DROP_DONE || !in_progress(j) || j->drops_left == 0) return;
    if (--j->drops_left > 0) return;
    for (int i = 0; i < j->nwaiting; i++) {
        resp_add_simple(&j->waiting[i]->reply, "OK");
        state_reply(st, j->waiting[i]);
    }
    j->nwaiting = 0;
}

static void client_closed(state_t *st, uint64_t client_id)
{
    for (asm_job_t *j = g_jobs; j; j = j->next) {
        if (!j->import || !in_progress(j)) continue;
        for (int i = 0; i < j->nclients; i++)
            if (j->clients[i] == client_id) {
                finish(st, j, JS_FAILED,
                       "Connection lost to source. Check CLUSTER GETSLOTMIGRATIONS on the source node for more "
                       "information.");
                break;
            }
    }
}

/* ---------------- entry points ---------------- */

static void cmd_get(state_t *st, remote_cmd_t *rc)
{
    resp_buf_t *r = &rc->reply;
    int n = 0;
    for (asm_job_t *j = g_jobs; j; j = j->next) n++;
    resp_add_array(r, n);
    for (asm_job_t *j = g_jobs; j; j = j->next) {
        resp_add_map(r, 11);
        resp_add_bulk_str(r, "name");
        resp_add_bulk(r, j->name, ASM_NAME_LEN);
        resp_add_bulk_str(r, "operation");
        resp_add_bulk_str(r, j->import ? "IMPORT" : "EXPORT");
        resp_add_bulk_str(r, "slot_ranges");
        resp_add_bulk_str(r, j->ranges);
        resp_add_bulk_str(r, "target_node");
        resp_add_bulk(r, j->target, NODE_NAME_LEN);
        resp_add_bulk_str(r, "source_node");
        resp_add_bulk(r, j->source, NODE_NAME_LEN);
        resp_add_bulk_str(r, "create_time");
        resp_add_int(r, j->ctime);
        resp_add_bulk_str(r, "last_update_time");
        resp_add_int(r, j->last_update);
        resp_add_bulk_str(r, "last_ack_time");
        resp_add_int(r, j->last_ack);
        resp_add_bulk_str(r, "state");
        resp_add_bulk_str(r, state_text(j->state));
        resp_add_bulk_str(r, "message");
        resp_add_bulk_str(r, j->message);
        resp_add_bulk_str(r, "cow_size");
        resp_add_int(r, 0);   /* no fork: nothing is copied on write */
    }
    state_reply(st, rc);
}

void state_asm_command(state_t *st, remote_cmd_t *rc)
{
    const char *n = rc->cmds[0].cmd->name;
    queued_cmd_t *q = &rc->cmds[0];
    if (!strcmp(n, "migrateslots")) cmd_migrateslots(st, rc);
    else if (!strcmp(n, "getslotmigrations")) cmd_get(st, rc);
    else if (!strcmp(n, "cancelslotmigrations")) cmd_cancel(st, rc);
    else if (arg_is(q->argv[2], q->argvlen[2], "establish")) import_establish(st, rc);
    else if (arg_is(q->argv[2], q->argvlen[2], "takeover")) import_takeover(st, rc);
    else {
        resp_add_errorf(&rc->reply, "ERR unknown subcommand '%.*s'. Try CLUSTER HELP.",
                        (int)strnlen((const char *)q->argv[2], q->argvlen[2] > 128 ? 128 : q->argvlen[2]),
                        (const char *)q->argv[2]);
        state_reply(st, rc);
    }
}

void state_asm_event(state_t *st, asm_event_t *e)
{
    if (e->kind == ASM_EV_CLIENT_CLOSED) {
        client_closed(st, e->client_id);
        return;
    }
    asm_job_t *j = job_by_id(e->job);
    if (!j) return;
    if (j->import) import_event(st, j, e);
    else if (in_progress(j)) export_event(st, j, e);
}

void state_asm_tick(state_t *st)
{
    long long now = rt_mono_ms();
    long long nt = config_cluster_node_timeout();
    bool master = (st->nodes[st->myself].flags & NODE_MASTER) != 0;
    for (asm_job_t *j = g_jobs; j; j = j->next) {
        if (!in_progress(j)) continue;
        if (j->import) {
            int src = state_find(st, j->source, NODE_NAME_LEN);
            bool owned = src >= 0 && master;
            for (unsigned s = 0; s < SLOT_COUNT && owned; s++)
                if (bit(j->slots, s) && st->slot_owner[s] != src) owned = false;
            if (!owned) finish(st, j, JS_FAILED, "Slot ownership changed during the import");
            /* a source cut off without its connections closing (no RST): the
             * cluster's failure detection ends the wait */
            else if (st->nodes[src].flags & NODE_FAIL) finish(st, j, JS_FAILED, "The source node is failing");
            continue;
        }
        if (j->state == JS_GRANTED) {
            /* The takeover was asked: the slots are the target's once the
             * bus (or its answer) says so; held writes wait until then. */
            if (target_owns_published(st, j)) {
                finish(st, j, JS_SUCCESS, NULL);
            } else if (!j->takeover_answered && now - j->granted_mono > 2 * nt) {
                LOG_WARNING("Slot migration %.40s: no word of the takeover; unpausing (writes since may be lost "
                            "if the target did take the slots)", j->name);
                finish(st, j, JS_FAILED, "Unpaused before migration completed (migration may have succeeded)");
            }
            continue;
        }
        bool owned = master;
        for (unsigned s = 0; s < SLOT_COUNT && owned; s++)
            if (bit(j->slots, s) && st->slot_owner[s] != st->myself) owned = false;
        if (!owned) {
            finish(st, j, JS_FAILED, "Slots are no longer owned by myself");
            continue;
        }
        maybe_pause(j);
        maybe_grant(j);
        if (j->state == JS_PAUSED && asm_hold() != ASM_HOLD_PAUSED && now - j->paused_mono > nt)
            finish(st, j, JS_FAILED, "Timed out while paused: the target did not catch up");
    }
}
