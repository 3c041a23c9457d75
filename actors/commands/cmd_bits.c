/* cmd_bits.c - the bitmap commands on string values: SETBIT, GETBIT,
 * BITCOUNT, BITPOS, BITOP, BITFIELD and BITFIELD_RO.
 *
 * Runs on the worker owning the keys' slot; replies, errors and their order
 * of checks are 7.0.15's (some lookups come before argument errors, some
 * after). The bit arithmetic is in proto/bitops.c. A write is propagated
 * as given, and only when 7.0.15 would propagate it: a BITFIELD whose every
 * write failed (OVERFLOW FAIL) propagates nothing even if it created the key.
 */
#include <stdlib.h>
#include <string.h>
#include "actors/commands/args.h"
#include "actors/commands/commands.h"
#include "actors/config/config.h"
#include "actors/worker/keyspace.h"
#include "proto/bitops.h"

#define ERR_OFFSET  "ERR bit offset is not an integer or out of range"
#define ERR_SYNTAX  "ERR syntax error"

/* 7.0.15 compares some keywords with strcasecmp on C strings: an argument
 * with a NUL byte counts only up to it. */
static bool cword_at(const cmd_ctx_t *ctx, int i, const char *word)
{
    const uint8_t *z = memchr(ctx->argv[i], 0, ctx->argvlen[i]);
    size_t n = z ? (size_t)(z - ctx->argv[i]) : ctx->argvlen[i];
    return arg_is(ctx->argv[i], n, word);
}

/* A bit offset argument; with `width` > 0 a "#N" form means N * width (the
 * BITFIELD form). Offsets whose byte is at or past proto-max-bulk-len are
 * refused, except from our master. Replies and returns false on error. */
static bool parse_offset(cmd_ctx_t *ctx, int i, unsigned width, uint64_t *out)
{
    const uint8_t *a = ctx->argv[i];
    size_t n = ctx->argvlen[i];
    bool hash = width > 0 && n > 0 && a[0] == '#';
    long long v;
    if (!str_to_ll(a + hash, n - hash, &v)) {
        resp_add_error(ctx->reply, ERR_OFFSET);
        return false;
    }
    if (hash) v = (long long)((uint64_t)v * width);    /* wraps as in 7.0.15 */
    if (v < 0 || (!ctx->from_master && (v >> 3) >= config_proto_max_bulk_len())) {
        resp_add_error(ctx->reply, ERR_OFFSET);
        return false;
    }
    *out = (uint64_t)v;
    return true;
}

/* argv[1] as a string to write bits into, created or zero-padded so that
 * bit `maxbit` exists. NULL after replying WRONGTYPE. *grown says whether
 * the key was created or lengthened. */
static uint8_t *string_for_bits(cmd_ctx_t *ctx, uint64_t maxbit, size_t *len, bool *grown)
{
    size_t need = (size_t)(maxbit >> 3) + 1;
    ks_entry_t *e = ks_lookup(ctx->ks, ctx->argv[1], ctx->argvlen[1], ctx->now_ms);
    if (e && ks_entry_type(e) != KS_TYPE_STRING) {
        resp_add_error(ctx->reply, KS_WRONGTYPE_ERR);
        return NULL;
    }
    size_t old = 0;
    if (!e) {
        /* A new key gets exactly the bytes it needs, as redis-server allocates it. */
        uint8_t *zeros = calloc(1, need);
        if (!zeros) abort();
        e = ks_set_string(ctx->ks, ctx->argv[1], ctx->argvlen[1], zeros, need, KS_NO_EXPIRE, ctx->now_ms);
        free(zeros);
        *grown = true;
        *len = need;
        return ks_str_resize(ctx->ks, e, need);
    }
    ks_entry_str(e, &old);
    *grown = need > old;
    *len = need > old ? need : old;
    return ks_str_resize(ctx->ks, e, *len);
}

/* A string argument to read: the bytes, or NULL when the key is missing.
 * *bad after replying WRONGTYPE. */
static const uint8_t *read_string(cmd_ctx_t *ctx, int i, size_t *len, bool *bad)
{
    ks_entry_t *e = ks_lookup_read(ctx->ks, ctx->argv[i], ctx->argvlen[i], ctx->now_ms);
    *bad = false;
    *len = 0;
    if (!e) return NULL;
    if (ks_entry_type(e) != KS_TYPE_STRING) {
        resp_add_error(ctx->reply, KS_WRONGTYPE_ERR);
        *bad = true;
        return NULL;
    }
    return ks_entry_str(e, len);
}

void cmd_setbit(cmd_ctx_t *ctx)
{
    uint64_t off;
    long long on;
    if (!parse_offset(ctx, 2, 0, &off)) return;
    if (!arg_ll(ctx->argv[3], ctx->argvlen[3], &on) || (on & ~1LL)) {
        resp_add_error(ctx->reply, "ERR bit is not an integer or out of range");
        return;
    }
    size_t len;
    bool grown;
    uint8_t *p = string_for_bits(ctx, off, &len, &grown);
    if (!p) return;
    unsigned shift = 7 - (unsigned)(off & 7);
    int old = (p[off >> 3] >> shift) & 1;
    if (grown || old != on) {
        p[off >> 3] = (uint8_t)((p[off >> 3] & ~(1u << shift)) | ((unsigned)on << shift));
        ctx->dirty = true;
    }
    resp_add_int(ctx->reply, old);
}

void cmd_getbit(cmd_ctx_t *ctx)
{
    uint64_t off;
    if (!parse_offset(ctx, 2, 0, &off)) return;
    size_t len;
    bool bad;
    const uint8_t *p = read_string(ctx, 1, &len, &bad);
    if (bad) return;
    int bit = p && (off >> 3) < len ? (p[off >> 3] >> (7 - (off & 7))) & 1 : 0;
    resp_add_int(ctx->reply, bit);
}

/* The optional BIT|BYTE argument i: sets *in_bits, or replies a syntax error. */
static bool parse_unit(cmd_ctx_t *ctx, int i, bool *in_bits)
{
    if (cword_at(ctx, i, "bit")) *in_bits = true;
    else if (cword_at(ctx, i, "byte")) *in_bits = false;
    else {
        resp_add_error(ctx->reply, ERR_SYNTAX);
        return false;
    }
    return true;
}

void cmd_bitcount(cmd_ctx_t *ctx)
{
    size_t len;
    bool bad, in_bits = false;
    const uint8_t *p = read_string(ctx, 1, &len, &bad);
    if (bad) return;
    if (!p) {                      /* a missing key counts 0, whatever follows */
        resp_add_int(ctx->reply, 0);
        return;
    }
    long long start = 0, end = (long long)len - 1;
    if (ctx->argc == 4 || ctx->argc == 5) {
        if (!arg_ll_at(ctx, 2, &start) || !arg_ll_at(ctx, 3, &end)) return;
        if (start < 0 && end < 0 && start > end) {
            resp_add_int(ctx->reply, 0);
            return;
        }
        if (ctx->argc == 5 && !parse_unit(ctx, 4, &in_bits)) return;
    } else if (ctx->argc != 2) {
        resp_add_error(ctx->reply, ERR_SYNTAX);
        return;
    }
    resp_add_int(ctx->reply, bits_count_range(p, len, start, end, in_bits));
}

void cmd_bitpos(cmd_ctx_t *ctx)
{
    long long bit, start = 0, end = 0;
    if (!arg_ll_at(ctx, 2, &bit)) return;
    if (bit != 0 && bit != 1) {
        resp_add_error(ctx->reply, "ERR The bit argument must be 1 or 0.");
        return;
    }
    size_t len;
    bool bad, in_bits = false, end_given = false, has_range = false;
    const uint8_t *p = read_string(ctx, 1, &len, &bad);
    if (bad) return;
    if (!p) {                      /* a missing key is all zero bits */
        resp_add_int(ctx->reply, bit ? -1 : 0);
        return;
    }
    if (ctx->argc >= 4 && ctx->argc <= 6) {
        has_range = true;
        if (!arg_ll_at(ctx, 3, &start)) return;
        if (ctx->argc == 6 && !parse_unit(ctx, 5, &in_bits)) return;
        if (ctx->argc >= 5) {
            if (!arg_ll_at(ctx, 4, &end)) return;
            end_given = true;
        }
    } else if (ctx->argc != 3) {
        resp_add_error(ctx->reply, ERR_SYNTAX);
        return;
    }
    resp_add_int(ctx->reply, bits_pos_range(p, len, (int)bit, has_range, start, end, end_given, in_bits));
}

void cmd_bitop(cmd_ctx_t *ctx)
{
    static const struct { const char *name; enum bits_op op; } ops[] = {
        { "and", BITS_AND }, { "or", BITS_OR }, { "xor", BITS_XOR }, { "not", BITS_NOT } };
    int k = 0;
    while (k < 4 && !cword_at(ctx, 1, ops[k].name)) k++;
    if (k == 4) {
        resp_add_error(ctx->reply, ERR_SYNTAX);
        return;
    }
    if (ops[k].op == BITS_NOT && ctx->argc != 4) {
        resp_add_error(ctx->reply, "ERR BITOP NOT must be called with a single source key.");
        return;
    }
    size_t n = (size_t)ctx->argc - 3, maxlen = 0;
    const uint8_t **src = malloc(n * sizeof *src);
    size_t *lens = malloc(n * sizeof *lens);
    if (!src || !lens) abort();
    for (size_t j = 0; j < n; j++) {
        bool bad;
        src[j] = read_string(ctx, (int)j + 3, &lens[j], &bad);
        if (bad) goto done;
        if (lens[j] > maxlen) maxlen = lens[j];
    }
    if (maxlen) {
        /* The result goes to a buffer first: the target may be a source. */
        uint8_t *res = malloc(maxlen);
        if (!res) abort();
        bits_op(ops[k].op, res, maxlen, src, lens, n);
        ks_entry_t *d = ks_set_string(ctx->ks, ctx->argv[2], ctx->argvlen[2], res, maxlen, KS_NO_EXPIRE, ctx->now_ms);
        ks_entry_add_flags(d, KS_EF_RAW);   /* 7.0.15 stores BITOP's result unencoded */
        free(res);
        ctx->dirty = true;
    } else if (ks_delete(ctx->ks, ctx->argv[2], ctx->argvlen[2], ctx->now_ms)) {
        ctx->dirty = true;         /* all inputs empty: the target goes away */
    }
    resp_add_int(ctx->reply, (long long)maxlen);
done:
    free(src);
    free(lens);
}

/* ---- BITFIELD ---- */

enum { BF_GET, BF_SET, BF_INCRBY };

typedef struct bf_op {
    uint64_t offset;
    int64_t arg;                   /* SET value or INCRBY increment */
    int opcode;
    enum bits_overflow overflow;
    unsigned width;
    bool is_signed;
} bf_op_t;

/* "i1".."i64" or "u1".."u63" (u64 cannot be replied as a signed integer). */
static bool parse_type(cmd_ctx_t *ctx, int i, bool *is_signed, unsigned *width)
{
    const uint8_t *a = ctx->argv[i];
    size_t n = ctx->argvlen[i];
    const uint8_t *z = memchr(a, 0, n);
    if (z) n = (size_t)(z - a);    /* 7.0.15 reads the width as a C string */
    long long w;
    if (n == 0 || (a[0] != 'i' && a[0] != 'u') || !str_to_ll(a + 1, n - 1, &w) || w < 1 ||
        w > (a[0] == 'i' ? 64 : 63)) {
        resp_add_error(ctx->reply, "ERR Invalid bitfield type. Use something like i16 u8. "
                                   "Note that u64 is not supported but i64 is.");
        return false;
    }
    *is_signed = a[0] == 'i';
    *width = (unsigned)w;
    return true;
}

/* Parses the whole operation list. Returns the number of operations, or -1
 * after replying an error. *max_bit is the last bit any write reaches. */
static int bitfield_parse(cmd_ctx_t *ctx, bf_op_t *ops, uint64_t *max_bit, bool *writes)
{
    enum bits_overflow overflow = BITS_WRAP;
    int n = 0;
    *writes = false;
    *max_bit = 0;
    for (int j = 2; j < ctx->argc; j++) {
        int left = ctx->argc - j - 1;
        bf_op_t op = { .overflow = overflow };
        if (cword_at(ctx, j, "get") && left >= 2) op.opcode = BF_GET;
        else if (cword_at(ctx, j, "set") && left >= 3) op.opcode = BF_SET;
        else if (cword_at(ctx, j, "incrby") && left >= 3) op.opcode = BF_INCRBY;
        else if (cword_at(ctx, j, "overflow") && left >= 1) {
            j++;
            if (cword_at(ctx, j, "wrap")) overflow = BITS_WRAP;
            else if (cword_at(ctx, j, "sat")) overflow = BITS_SAT;
            else if (cword_at(ctx, j, "fail")) overflow = BITS_FAIL;
            else {
                resp_add_error(ctx->reply, "ERR Invalid OVERFLOW type specified");
                return -1;
            }
            continue;
        } else {
            resp_add_error(ctx->reply, ERR_SYNTAX);
            return -1;
        }
        if (!parse_type(ctx, j + 1, &op.is_signed, &op.width)) return -1;
        if (!parse_offset(ctx, j + 2, op.width, &op.offset)) return -1;
        if (op.opcode != BF_GET) {
            *writes = true;
            if (*max_bit < op.offset + op.width - 1) *max_bit = op.offset + op.width - 1;
            long long v;
            if (!arg_ll_at(ctx, j + 3, &v)) return -1;
            op.arg = v;
        }
        ops[n++] = op;
        j += op.opcode == BF_GET ? 2 : 3;
    }
    return n;
}

/* One SET or INCRBY on p: replies the old (SET) or new (INCRBY) value, or
 * nil when OVERFLOW FAIL refuses it. Returns -1 when refused, else whether
 * the field changed. */
static int bitfield_write(cmd_ctx_t *ctx, uint8_t *p, size_t len, const bf_op_t *op)
{
    uint64_t oldu = bits_get_u(p, len, op->offset, op->width), newu;
    long long reply;
    int over;
    if (op->is_signed) {
        int64_t oldv = bits_get_i(p, len, op->offset, op->width), lim = 0, newv;
        bool incr = op->opcode == BF_INCRBY;
        over = bits_overflow_i(incr ? oldv : op->arg, incr ? op->arg : 0, op->width, op->overflow, &lim);
        newv = over ? lim : incr ? (int64_t)((uint64_t)oldv + (uint64_t)op->arg) : op->arg;
        reply = incr ? newv : oldv;
        newu = (uint64_t)newv;
        oldu = (uint64_t)oldv;
    } else {
        uint64_t lim = 0;
        bool incr = op->opcode == BF_INCRBY;
        over = bits_overflow_u(incr ? oldu : (uint64_t)op->arg, incr ? op->arg : 0, op->width, op->overflow, &lim);
        newu = over ? lim : incr ? oldu + (uint64_t)op->arg : (uint64_t)op->arg;
        reply = (long long)(incr ? newu : oldu);
    }
    if (over && op->overflow == BITS_FAIL) {
        resp_add_null(ctx->reply);
        return -1;
    }
    resp_add_int(ctx->reply, reply);
    bits_set_u(p, op->offset, op->width, newu);
    return oldu != newu;
}

static void bitfield_generic(cmd_ctx_t *ctx, bool read_only)
{
    bf_op_t *ops = malloc(sizeof *ops * (size_t)(ctx->argc / 3 + 1));
    if (!ops) abort();
    uint64_t max_bit;
    bool writes, grown = false;
    int n = bitfield_parse(ctx, ops, &max_bit, &writes);
    const uint8_t *rp = NULL;
    uint8_t *wp = NULL;
    size_t len = 0;
    if (n < 0) goto done;
    if (!writes) {
        bool bad;
        rp = read_string(ctx, 1, &len, &bad);
        if (bad) goto done;
    } else if (read_only) {
        resp_add_error(ctx->reply, "ERR BITFIELD_RO only supports the GET subcommand");
        goto done;
    } else if (!(wp = string_for_bits(ctx, max_bit, &len, &grown))) {
        goto done;
    } else {
        rp = wp;
    }
    resp_add_array(ctx->reply, n);
    int changes = 0;
    for (int j = 0; j < n; j++) {
        const bf_op_t *op = &ops[j];
        if (op->opcode != BF_GET) {
            /* 7.0.15 counts every applied write to a created or grown
             * string as a change, and no refused one. */
            int r = bitfield_write(ctx, wp, len, op);
            if (r > 0 || (r == 0 && grown)) changes++;
        } else if (op->is_signed) {
            resp_add_int(ctx->reply, bits_get_i(rp, len, op->offset, op->width));
        } else {
            resp_add_int(ctx->reply, (long long)bits_get_u(rp, len, op->offset, op->width));
        }
    }
    if (changes) ctx->dirty = true;
done:
    free(ops);
}

void cmd_bitfield(cmd_ctx_t *ctx) { bitfield_generic(ctx, false); }
void cmd_bitfield_ro(cmd_ctx_t *ctx) { bitfield_generic(ctx, true); }
