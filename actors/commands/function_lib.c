/* function_lib.c - the node's FUNCTION libraries and their RDB form.
 *
 * One registry per node, shared by the workers under one mutex: FUNCTION
 * LOAD/DELETE/FLUSH/RESTORE change it from the worker of the client that
 * sent them (or of the replication stream), an RDB load from the loading
 * thread. Libraries are whole values: a change replaces entries and bumps
 * the generation; each worker compares the generation its Lua state was
 * built from (function_lua.c) and rebuilds it when they differ. The order
 * is the order of loading (7.0.15's is its dict's, which no client may rely
 * on: FUNCTION LIST is flagged nondeterministic_output_order).
 *
 * The RDB form is 7.0.15's: one RDB_OPCODE_FUNCTION2 (0xF5) record per
 * library, its whole code as an RDB string. FUNCTION DUMP is those records,
 * the RDB version (2 bytes, little-endian) and the CRC-64 of all that, as
 * DUMP payloads end.
 *
 * Must never: hand out a pointer into the registry outside the lock, or
 * leave it half-changed when an addition fails.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "actors/commands/function.h"
#include "proto/crc64.h"
#include "proto/rdb.h"
#include "runtime/xmalloc.h"

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static fn_lib_t **reg_libs;
static int reg_n, reg_cap;
static _Atomic unsigned long reg_gen = 1;

void fn_lib_free(fn_lib_t *lib)
{
    if (!lib) return;
    for (int i = 0; i < lib->nfuncs; i++) {
        free(lib->funcs[i].name);
        free(lib->funcs[i].desc);
    }
    free(lib->funcs);
    free(lib->name);
    free(lib->code);
    free(lib);
}

void fn_libs_free(fn_lib_t **libs, int n)
{
    for (int i = 0; i < n; i++) fn_lib_free(libs[i]);
    free(libs);
}

static char *dup_or_null(const char *s) { return s ? xstrdup(s) : NULL; }

fn_lib_t *fn_lib_copy(const fn_lib_t *lib)
{
    fn_lib_t *c = xcalloc(1, sizeof *c);
    c->name = xstrdup(lib->name);
    c->code = xmalloc(lib->code_len + 1);
    memcpy(c->code, lib->code, lib->code_len + 1);
    c->code_len = lib->code_len;
    c->nfuncs = lib->nfuncs;
    c->funcs = xcalloc((size_t)(lib->nfuncs ? lib->nfuncs : 1), sizeof *c->funcs);
    for (int i = 0; i < lib->nfuncs; i++)
        c->funcs[i] = (fn_func_t){ .name = xstrdup(lib->funcs[i].name), .desc = dup_or_null(lib->funcs[i].desc),
                                   .flags = lib->funcs[i].flags };
    return c;
}

/* ---------------- the registry ---------------- */

/* Relaxed: the generation is read and bumped with the lock's ordering
 * around the entries; a reader outside the lock only decides whether to
 * take a snapshot (under the lock). */
static void bump_locked(void) { atomic_fetch_add_explicit(&reg_gen, 1, memory_order_relaxed); }
unsigned long fn_reg_gen(void) { return atomic_load_explicit(&reg_gen, memory_order_relaxed); }

static int find_lib_locked(const char *name)
{
    for (int i = 0; i < reg_n; i++)
        if (!strcmp(reg_libs[i]->name, name)) return i;
    return -1;
}

bool fn_reg_has_lib(const char *name)
{
    pthread_mutex_lock(&reg_lock);
    bool r = find_lib_locked(name) >= 0;
    pthread_mutex_unlock(&reg_lock);
    return r;
}

/* Whether `lib` has a function of that name (case-insensitive, as 7.0.15's functions dict). */
static bool lib_has_func(const fn_lib_t *lib, const char *name)
{
    for (int i = 0; i < lib->nfuncs; i++)
        if (!strcasecmp(lib->funcs[i].name, name)) return true;
    return false;
}

static void append_locked(fn_lib_t *lib)
{
    if (reg_n == reg_cap) {
        reg_cap = reg_cap ? reg_cap * 2 : 16;
        reg_libs = xrealloc(reg_libs, sizeof *reg_libs * (size_t)reg_cap);
    }
    reg_libs[reg_n++] = lib;
}

static void remove_locked(int i)
{
    fn_lib_free(reg_libs[i]);
    memmove(&reg_libs[i], &reg_libs[i + 1], sizeof *reg_libs * (size_t)(reg_n - i - 1));
    reg_n--;
}

static void clear_locked(void)
{
    for (int i = 0; i < reg_n; i++) fn_lib_free(reg_libs[i]);
    reg_n = 0;
}

bool fn_reg_add(fn_lib_t **libs, int n, enum fn_policy policy, bool restore, char *err, size_t errcap)
{
    pthread_mutex_lock(&reg_lock);
    if (policy == FN_FLUSH) {
        clear_locked();
        for (int i = 0; i < n; i++) append_locked(libs[i]);
        bump_locked();
        pthread_mutex_unlock(&reg_lock);
        return true;
    }
    /* Which existing libraries go (REPLACE) or clash (APPEND). */
    bool *gone = xcalloc((size_t)(reg_n ? reg_n : 1), sizeof *gone);
    bool ok = true;
    for (int k = 0; ok && k < n; k++) {
        int i = find_lib_locked(libs[k]->name);
        if (i < 0) continue;
        if (policy == FN_REPLACE) {
            gone[i] = true;
        } else {
            if (restore) snprintf(err, errcap, "Library %s already exists", libs[k]->name);
            else snprintf(err, errcap, "Library '%s' already exists", libs[k]->name);
            ok = false;
        }
    }
    for (int k = 0; ok && k < n; k++)
        for (int f = 0; ok && f < libs[k]->nfuncs; f++)
            for (int i = 0; ok && i < reg_n; i++)
                if (!gone[i] && lib_has_func(reg_libs[i], libs[k]->funcs[f].name)) {
                    snprintf(err, errcap, "Function %s already exists", libs[k]->funcs[f].name);
                    ok = false;
                }
    if (ok) {
        for (int i = reg_n - 1; i >= 0; i--)
            if (gone[i]) remove_locked(i);
        for (int k = 0; k < n; k++) append_locked(libs[k]);
        bump_locked();
    }
    free(gone);
    pthread_mutex_unlock(&reg_lock);
    return ok;
}

bool fn_reg_delete(const uint8_t *name, size_t len)
{
    pthread_mutex_lock(&reg_lock);
    int at = -1;
    for (int i = 0; i < reg_n && at < 0; i++)
        if (strlen(reg_libs[i]->name) == len && !memcmp(reg_libs[i]->name, name, len)) at = i;
    if (at >= 0) {
        remove_locked(at);
        bump_locked();
    }
    pthread_mutex_unlock(&reg_lock);
    return at >= 0;
}

void fn_reg_flush(void)
{
    pthread_mutex_lock(&reg_lock);
    clear_locked();
    bump_locked();
    pthread_mutex_unlock(&reg_lock);
}

void fn_reg_replace_all(fn_lib_t **libs, int n)
{
    char err[8];
    fn_reg_add(libs, n, FN_FLUSH, true, err, sizeof err);
}

fn_lib_t **fn_reg_snapshot(int *n, unsigned long *gen)
{
    pthread_mutex_lock(&reg_lock);
    fn_lib_t **out = xcalloc((size_t)(reg_n ? reg_n : 1), sizeof *out);
    for (int i = 0; i < reg_n; i++) out[i] = fn_lib_copy(reg_libs[i]);
    *n = reg_n;
    if (gen) *gen = fn_reg_gen();
    pthread_mutex_unlock(&reg_lock);
    return out;
}

bool fn_reg_func_flags(const uint8_t *name, size_t len, unsigned *flags)
{
    bool found = false;
    pthread_mutex_lock(&reg_lock);
    for (int i = 0; i < reg_n && !found; i++)
        for (int f = 0; f < reg_libs[i]->nfuncs && !found; f++) {
            const char *fname = reg_libs[i]->funcs[f].name;
            if (strlen(fname) == len && !strncasecmp(fname, (const char *)name, len)) {
                *flags = reg_libs[i]->funcs[f].flags;
                found = true;
            }
        }
    pthread_mutex_unlock(&reg_lock);
    return found;
}

void fn_reg_counts(long long *libs, long long *funcs)
{
    pthread_mutex_lock(&reg_lock);
    *libs = reg_n;
    *funcs = 0;
    for (int i = 0; i < reg_n; i++) *funcs += reg_libs[i]->nfuncs;
    pthread_mutex_unlock(&reg_lock);
}

long long fn_reg_memory(void)
{
    long long bytes = 0;
    pthread_mutex_lock(&reg_lock);
    for (int i = 0; i < reg_n; i++) {
        const fn_lib_t *l = reg_libs[i];
        bytes += (long long)(sizeof *l + strlen(l->name) + 1 + l->code_len + 1);
        for (int f = 0; f < l->nfuncs; f++)
            bytes += (long long)(sizeof l->funcs[f] + strlen(l->funcs[f].name) + 1 +
                                 (l->funcs[f].desc ? strlen(l->funcs[f].desc) + 1 : 0));
    }
    pthread_mutex_unlock(&reg_lock);
    return bytes;
}

/* ---------------- the RDB form ---------------- */

/* Every library's FUNCTION2 record into e, under the lock. */
static void encode_records(rdb_encoder_t *e)
{
    static const uint8_t op = RDB_OPCODE_FUNCTION2;
    pthread_mutex_lock(&reg_lock);
    for (int i = 0; i < reg_n; i++) {
        rdb_encode_raw(e, &op, 1);
        rdb_encode_string(e, (const uint8_t *)reg_libs[i]->code, reg_libs[i]->code_len);
    }
    pthread_mutex_unlock(&reg_lock);
}

/* e's pending bytes as a malloc'd copy; e is freed. */
static uint8_t *take_bytes(rdb_encoder_t *e, size_t *len)
{
    *len = rdb_encoder_pending(e);
    uint8_t *out = NULL;
    if (*len && !e->failed) {
        out = xmalloc(*len);
        memcpy(out, rdb_encoder_data(e), *len);
    } else {
        *len = 0;
    }
    rdb_encoder_free(e);
    return out;
}

uint8_t *fn_rdb_records(int compress, size_t *len)
{
    rdb_encoder_t e;
    rdb_encoder_init(&e, compress);
    encode_records(&e);
    return take_bytes(&e, len);
}

uint8_t *fn_dump_payload(int compress, size_t *len)
{
    rdb_encoder_t e;
    rdb_encoder_init(&e, compress);
    encode_records(&e);
    rdb_encode_dump_footer(&e);
    return take_bytes(&e, len);
}

/* ---------------- building sets of libraries ---------------- */

static bool stage_has(void *arg, const char *name)
{
    fn_stage_t *st = arg;
    for (int i = 0; i < st->n; i++)
        if (!strcmp(st->libs[i]->name, name)) return true;
    return false;
}

bool fn_stage_add(fn_stage_t *st, const uint8_t *code, size_t len, char *err, size_t errcap)
{
    fn_lib_t *lib = fn_lib_build((const char *)code, len, 0, stage_has, st, err, errcap);
    if (!lib) return false;
    for (int f = 0; f < lib->nfuncs; f++)
        for (int i = 0; i < st->n; i++)
            if (lib_has_func(st->libs[i], lib->funcs[f].name)) {
                snprintf(err, errcap, "Function %s already exists", lib->funcs[f].name);
                fn_lib_free(lib);
                return false;
            }
    if (st->n == st->cap) {
        st->cap = st->cap ? st->cap * 2 : 8;
        st->libs = xrealloc(st->libs, sizeof *st->libs * (size_t)st->cap);
    }
    st->libs[st->n++] = lib;
    return true;
}

void fn_stage_commit(fn_stage_t *st)
{
    fn_reg_replace_all(st->libs, st->n);
    free(st->libs);
    *st = (fn_stage_t){ 0 };
}

void fn_stage_free(fn_stage_t *st)
{
    fn_libs_free(st->libs, st->n);
    *st = (fn_stage_t){ 0 };
}

/* One string at p[*pos] (of len) as a malloc'd copy; false when bad. */
static bool read_str(const uint8_t *p, size_t len, size_t *pos, char **out, size_t *out_len)
{
    rdb_strbuf_t sb = { 0 };
    const uint8_t *s;
    size_t n;
    int rc = rdb_read_string(p, len, pos, RDB_DEFAULT_MAX_STRING, &sb, &s, &n, NULL);
    if (rc == RDB_OK) {
        *out = xmalloc(n + 1);
        memcpy(*out, s, n);
        (*out)[n] = 0;
        *out_len = n;
    }
    rdb_strbuf_free(&sb);
    return rc == RDB_OK;
}

fn_lib_t **fn_restore_parse(const uint8_t *p, size_t len, int *n, char *err, size_t errcap)
{
    /* the footer as 7.0.15's verifyDumpPayload checks it */
    if (len < 10 || (unsigned)(p[len - 10] | p[len - 9] << 8) > RDB_VERSION) {
        snprintf(err, errcap, "DUMP payload version or checksum are wrong");
        return NULL;
    }
    uint64_t crc = crc64_update(0, p, len - 8), stored = 0;
    for (int i = 0; i < 8; i++) stored |= (uint64_t)p[len - 8 + i] << (8 * i);
    if (crc != stored) {
        snprintf(err, errcap, "DUMP payload version or checksum are wrong");
        return NULL;
    }
    fn_stage_t st = { 0 };
    size_t pos = 0, end = len - 10;
    bool ok = true;
    while (ok && pos < end) {
        uint8_t type = p[pos++];
        char *code = NULL;
        size_t code_len = 0;
        if (type == RDB_OPCODE_FUNCTION2) {
            if (!read_str(p, end, &pos, &code, &code_len)) {
                snprintf(err, errcap, "Failed loading library payload");
                ok = false;
            }
        } else if (type == RDB_OPCODE_FUNCTION) {
            /* 7.0's release candidates: name, engine, an optional description
             * and the body, made into one code as 7.0.15 makes it */
            char *name = NULL, *engine = NULL, *desc = NULL, *body = NULL;
            size_t nl, el, dl, bl;
            uint64_t has_desc = 0;
            if (!read_str(p, end, &pos, &name, &nl)) snprintf(err, errcap, "Failed loading library name");
            else if (!read_str(p, end, &pos, &engine, &el)) snprintf(err, errcap, "Failed loading engine name");
            else if (rdb_read_length(p, end, &pos, &has_desc, NULL) != RDB_OK)
                snprintf(err, errcap, "Failed loading library description indicator");
            else if (has_desc && !read_str(p, end, &pos, &desc, &dl))
                snprintf(err, errcap, "Failed loading library description");
            else if (!read_str(p, end, &pos, &body, &bl)) snprintf(err, errcap, "Failed loading library blob");
            else {
                code_len = el + nl + bl + 9;
                code = xmalloc(code_len + 1);
                snprintf(code, code_len + 1, "#!%s name=%s\n", engine, name);
                memcpy(code + el + nl + 9, body, bl + 1);
            }
            ok = code != NULL;
            free(name);
            free(engine);
            free(desc);
            free(body);
        } else {
            snprintf(err, errcap, "given type is not a function");
            ok = false;
        }
        if (ok) ok = fn_stage_add(&st, (const uint8_t *)code, code_len, err, errcap);
        free(code);
    }
    if (!ok) {
        fn_stage_free(&st);
        return NULL;
    }
    *n = st.n;
    if (!st.libs) st.libs = xcalloc(1, sizeof *st.libs);
    return st.libs;
}
