/* cmd_geo.c - the geo commands that need no area search: GEOADD, GEOPOS,
 * GEODIST and GEOHASH, on sorted sets, as redis-server 7.0.15 (geo.c,
 * geohash.c, geohash_helper.c) answers them, and the argument and reply
 * helpers the area searches (cmd_geo_search.c) share. The cell arithmetic
 * is proto/geohash.c's.
 *
 * A point is kept as the score of its member: the 52-bit geohash of
 * (longitude, latitude), 26 bits each, interleaved with the latitude in
 * the even bits, over the latitude range of Web Mercator (+/-85.05112878)
 * rather than +/-90. GEOHASH re-encodes the decoded point over +/-90 to
 * print the standard 11-character base-32 string.
 *
 * Must never: accept a point outside those ranges, or answer with another
 * number format than 7.0.15's (coordinates %.17Lf with trailing zeros cut,
 * distances with exactly 4 decimals).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/commands/args.h"
#include "actors/commands/cmd_geo.h"
#include "actors/commands/cmd_zset.h"
#include "actors/commands/commands.h"
#include "proto/geohash.h"
#include "runtime/xmalloc.h"

void geo_reply_coord(cmd_ctx_t *ctx, double v)
{
    char buf[5200];
    size_t n = arg_format_long_double(buf, sizeof buf, (long double)v);
    if (ctx->reply->proto == 2) {
        resp_add_bulk(ctx->reply, buf, n);
        return;
    }
    resp_buf_append(ctx->reply, ",", 1);
    resp_buf_append(ctx->reply, buf, n);
    resp_buf_append(ctx->reply, "\r\n", 2);
}

void geo_reply_distance(cmd_ctx_t *ctx, double d)
{
    long long v = llrint(d * 10000.0);
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    char buf[48];
    int n = snprintf(buf, sizeof buf, "%s%llu.%04llu", v < 0 ? "-" : "", u / 10000, u % 10000);
    resp_add_bulk(ctx->reply, buf, (size_t)n);
}

double geo_unit_at(cmd_ctx_t *ctx, int i)
{
    static const struct { const char *name; double meters; } units[] = {
        { "m", 1 }, { "km", 1000 }, { "ft", 0.3048 }, { "mi", 1609.34 },
    };
    for (size_t k = 0; k < sizeof units / sizeof units[0]; k++)
        if (arg_is_at(ctx, i, units[k].name)) return units[k].meters;
    resp_add_error(ctx->reply, "ERR unsupported unit provided. please use M, KM, FT, MI");
    return -1;
}

bool geo_point_at(cmd_ctx_t *ctx, int i, double *lon, double *lat)
{
    if (!zset_parse_score(ctx->argv[i], ctx->argvlen[i], lon) ||
        !zset_parse_score(ctx->argv[i + 1], ctx->argvlen[i + 1], lat)) {
        resp_add_error(ctx->reply, "ERR value is not a valid float");
        return false;
    }
    if (*lon < GEOHASH_LON_MIN || *lon > GEOHASH_LON_MAX || *lat < GEOHASH_LAT_MIN || *lat > GEOHASH_LAT_MAX) {
        resp_add_errorf(ctx->reply, "ERR invalid longitude,latitude pair %f,%f", *lon, *lat);
        return false;
    }
    return true;
}

/* GEOADD key [NX|XX] [CH] longitude latitude member [...]: ZADD with each
 * point's hash as its score (7.0.15 rewrites the call to ZADD so). */
void cmd_geoadd(cmd_ctx_t *ctx)
{
    int first = 2;
    bool nx = false, xx = false;
    for (; first < ctx->argc; first++) {
        if (arg_is_at(ctx, first, "nx")) nx = true;
        else if (arg_is_at(ctx, first, "xx")) xx = true;
        else if (!arg_is_at(ctx, first, "ch")) break;
    }
    if ((ctx->argc - first) % 3 || (nx && xx)) {
        resp_add_error(ctx->reply, "ERR syntax error");
        return;
    }
    int n = (ctx->argc - first) / 3, zargc = first + 2 * n;
    const uint8_t **zargv = xmalloc(sizeof *zargv * (size_t)zargc);
    size_t *zlen = xmalloc(sizeof *zlen * (size_t)zargc);
    char (*scores)[24] = xmalloc(sizeof *scores * (size_t)(n ? n : 1));
    for (int i = 0; i < first; i++) {
        zargv[i] = ctx->argv[i];
        zlen[i] = ctx->argvlen[i];
    }
    for (int j = 0; j < n; j++) {
        int a = first + 3 * j;
        double lon, lat;
        if (!geo_point_at(ctx, a, &lon, &lat)) goto out;
        uint64_t bits = geohash_encode(lon, lat, GEOHASH_LAT_MIN, GEOHASH_LAT_MAX, GEOHASH_STEP_MAX);
        int len = snprintf(scores[j], sizeof scores[j], "%llu", (unsigned long long)bits);
        zargv[first + 2 * j] = (const uint8_t *)scores[j];
        zlen[first + 2 * j] = (size_t)len;
        zargv[first + 2 * j + 1] = ctx->argv[a + 2];
        zlen[first + 2 * j + 1] = ctx->argvlen[a + 2];
    }
    cmd_ctx_t z = *ctx;
    z.argc = zargc;
    z.argv = zargv;
    z.argvlen = zlen;
    cmd_zadd(&z);
    ctx->dirty = z.dirty;
out:
    free(scores);
    free(zlen);
    free(zargv);
}

/* GEOPOS and GEOHASH: the key's sorted set (NULL: none) with the reply's
 * array begun, one element per member; false after a WRONGTYPE reply. */
static bool members_begin(cmd_ctx_t *ctx, zset_t **z)
{
    bool bad;
    *z = zcmd_lookup_read(ctx, 1, &bad);
    if (bad) return false;
    resp_add_array(ctx->reply, ctx->argc - 2);
    return true;
}

/* Member argv[j]'s point; false when the set or the member is missing. */
static bool member_point(cmd_ctx_t *ctx, const zset_t *z, int j, double *lon, double *lat)
{
    double score;
    if (!z || !zset_score(z, ctx->argv[j], ctx->argvlen[j], &score)) return false;
    geohash_decode(score, lon, lat);
    return true;
}

/* GEOPOS key member [...] */
void cmd_geopos(cmd_ctx_t *ctx)
{
    zset_t *z;
    if (!members_begin(ctx, &z)) return;
    for (int j = 2; j < ctx->argc; j++) {
        double lon, lat;
        if (!member_point(ctx, z, j, &lon, &lat)) {
            resp_add_null_array(ctx->reply);
            continue;
        }
        resp_add_array(ctx->reply, 2);
        geo_reply_coord(ctx, lon);
        geo_reply_coord(ctx, lat);
    }
}

/* GEODIST key member1 member2 [M|KM|FT|MI] */
void cmd_geodist(cmd_ctx_t *ctx)
{
    double to_meter = 1;
    if (ctx->argc == 5) {
        to_meter = geo_unit_at(ctx, 4);
        if (to_meter < 0) return;
    } else if (ctx->argc > 5) {
        resp_add_error(ctx->reply, "ERR syntax error");
        return;
    }
    bool bad;
    zset_t *z = zcmd_lookup_read(ctx, 1, &bad);
    if (bad) return;
    double s1, s2, xy[4];
    if (!z || !zset_score(z, ctx->argv[2], ctx->argvlen[2], &s1) || !zset_score(z, ctx->argv[3], ctx->argvlen[3], &s2)) {
        resp_add_null(ctx->reply);
        return;
    }
    geohash_decode(s1, &xy[0], &xy[1]);
    geohash_decode(s2, &xy[2], &xy[3]);
    geo_reply_distance(ctx, geohash_distance(xy[0], xy[1], xy[2], xy[3]) / to_meter);
}

/* GEOHASH key member [...]: the standard geohash (latitude over +/-90) of
 * each decoded point, 11 characters of which the last stands for bits the
 * 52-bit score has not (always '0'). */
void cmd_geohash(cmd_ctx_t *ctx)
{
    static const char alphabet[] = "0123456789bcdefghjkmnpqrstuvwxyz";
    zset_t *z;
    if (!members_begin(ctx, &z)) return;
    for (int j = 2; j < ctx->argc; j++) {
        double lon, lat;
        if (!member_point(ctx, z, j, &lon, &lat)) {
            resp_add_null(ctx->reply);
            continue;
        }
        uint64_t bits = geohash_encode(lon, lat, -90.0, 90.0, GEOHASH_STEP_MAX);
        char buf[11];
        for (int i = 0; i < 10; i++) buf[i] = alphabet[(bits >> (52 - (i + 1) * 5)) & 0x1f];
        buf[10] = alphabet[0];
        resp_add_bulk(ctx->reply, buf, sizeof buf);
    }
}
