/* cmd_geo.c - the geo commands that need no area search: GEOADD, GEOPOS,
 * GEODIST and GEOHASH, on sorted sets, as redis-server 7.0.15 (geo.c,
 * geohash.c, geohash_helper.c) answers them.
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
#include "actors/commands/cmd_zset.h"
#include "actors/commands/commands.h"
#include "runtime/xmalloc.h"

#define GEO_STEP 26
#define GEO_LAT_MIN (-85.05112878)
#define GEO_LAT_MAX 85.05112878
#define GEO_LON_MIN (-180.0)
#define GEO_LON_MAX 180.0
#define EARTH_RADIUS_M 6372797.560856   /* the quadratic mean radius 7.0.15 uses */

/* Spreads the 32 bits of v over the even bits of the result. */
static uint64_t spread32(uint32_t v)
{
    uint64_t x = v;
    x = (x | (x << 16)) & 0x0000FFFF0000FFFFULL;
    x = (x | (x << 8)) & 0x00FF00FF00FF00FFULL;
    x = (x | (x << 4)) & 0x0F0F0F0F0F0F0F0FULL;
    x = (x | (x << 2)) & 0x3333333333333333ULL;
    x = (x | (x << 1)) & 0x5555555555555555ULL;
    return x;
}

/* The even bits of v, packed into 32. */
static uint32_t squash32(uint64_t v)
{
    uint64_t x = v & 0x5555555555555555ULL;
    x = (x | (x >> 1)) & 0x3333333333333333ULL;
    x = (x | (x >> 2)) & 0x0F0F0F0F0F0F0F0FULL;
    x = (x | (x >> 4)) & 0x00FF00FF00FF00FFULL;
    x = (x | (x >> 8)) & 0x0000FFFF0000FFFFULL;
    x = (x | (x >> 16)) & 0x00000000FFFFFFFFULL;
    return (uint32_t)x;
}

/* The point's hash over [lon_min, lon_max] x [lat_min, lat_max] at `step`
 * bits a coordinate (the offsets truncated to integers, as 7.0.15's). */
static uint64_t geo_encode(double lon, double lat, double lat_min, double lat_max, int step)
{
    double lat_off = (lat - lat_min) / (lat_max - lat_min) * (double)(1ULL << step);
    double lon_off = (lon - GEO_LON_MIN) / (GEO_LON_MAX - GEO_LON_MIN) * (double)(1ULL << step);
    return spread32((uint32_t)lat_off) | (spread32((uint32_t)lon_off) << 1);
}

/* The centre of the cell a score names (its integer part as the 52-bit
 * hash), clamped to the ranges. */
static bool geo_decode(double score, double *lon, double *lat)
{
    /* a negative score (a sorted set not written by GEOADD) as x86-64 converts it */
    uint64_t bits = score < 0 ? (uint64_t)(int64_t)score : score < 18446744073709551616.0 ? (uint64_t)score : 0;
    uint32_t ilat = squash32(bits), ilon = squash32(bits >> 1);
    double cells = (double)(1ULL << GEO_STEP);
    double lat_min = GEO_LAT_MIN + (ilat * 1.0 / cells) * (GEO_LAT_MAX - GEO_LAT_MIN);
    double lat_max = GEO_LAT_MIN + ((ilat + 1) * 1.0 / cells) * (GEO_LAT_MAX - GEO_LAT_MIN);
    double lon_min = GEO_LON_MIN + (ilon * 1.0 / cells) * (GEO_LON_MAX - GEO_LON_MIN);
    double lon_max = GEO_LON_MIN + ((ilon + 1) * 1.0 / cells) * (GEO_LON_MAX - GEO_LON_MIN);
    *lon = (lon_min + lon_max) / 2;
    *lat = (lat_min + lat_max) / 2;
    if (*lon > GEO_LON_MAX) *lon = GEO_LON_MAX;
    if (*lon < GEO_LON_MIN) *lon = GEO_LON_MIN;
    if (*lat > GEO_LAT_MAX) *lat = GEO_LAT_MAX;
    if (*lat < GEO_LAT_MIN) *lat = GEO_LAT_MIN;
    return true;
}

static double deg_rad(double d) { return d * (M_PI / 180.0); }

/* Great-circle distance in meters (haversine), as 7.0.15 computes it: the
 * same meridian takes the latitudes' difference alone. */
static double geo_distance(double lon1, double lat1, double lon2, double lat2)
{
    double v = sin((deg_rad(lon2) - deg_rad(lon1)) / 2);
    if (v == 0.0) return EARTH_RADIUS_M * fabs(deg_rad(lat2) - deg_rad(lat1));
    double u = sin((deg_rad(lat2) - deg_rad(lat1)) / 2);
    double a = u * u + cos(deg_rad(lat1)) * cos(deg_rad(lat2)) * v * v;
    return 2.0 * EARTH_RADIUS_M * asin(sqrt(a));
}

/* A coordinate as 7.0.15 replies it: %.17Lf without trailing zeros, a bulk
 * string in RESP2, a double in RESP3. */
static void reply_coord(cmd_ctx_t *ctx, double v)
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

/* A distance as 7.0.15 replies it: rounded to 4 decimals, a bulk string. */
static void reply_distance(cmd_ctx_t *ctx, double d)
{
    long long v = llrint(d * 10000.0);
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    char buf[48];
    int n = snprintf(buf, sizeof buf, "%s%llu.%04llu", v < 0 ? "-" : "", u / 10000, u % 10000);
    resp_add_bulk(ctx->reply, buf, (size_t)n);
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
        if (!zset_parse_score(ctx->argv[a], ctx->argvlen[a], &lon) ||
            !zset_parse_score(ctx->argv[a + 1], ctx->argvlen[a + 1], &lat)) {
            resp_add_error(ctx->reply, "ERR value is not a valid float");
            goto out;
        }
        if (lon < GEO_LON_MIN || lon > GEO_LON_MAX || lat < GEO_LAT_MIN || lat > GEO_LAT_MAX) {
            resp_add_errorf(ctx->reply, "ERR invalid longitude,latitude pair %f,%f", lon, lat);
            goto out;
        }
        uint64_t bits = geo_encode(lon, lat, GEO_LAT_MIN, GEO_LAT_MAX, GEO_STEP);
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
    return z && zset_score(z, ctx->argv[j], ctx->argvlen[j], &score) && geo_decode(score, lon, lat);
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
        reply_coord(ctx, lon);
        reply_coord(ctx, lat);
    }
}

/* GEODIST key member1 member2 [M|KM|FT|MI] */
void cmd_geodist(cmd_ctx_t *ctx)
{
    double to_meter = 1;
    if (ctx->argc == 5) {
        static const struct { const char *name; double meters; } units[] = {
            { "m", 1 }, { "km", 1000 }, { "ft", 0.3048 }, { "mi", 1609.34 },
        };
        to_meter = -1;
        for (size_t k = 0; k < sizeof units / sizeof units[0]; k++)
            if (arg_is_at(ctx, 4, units[k].name)) to_meter = units[k].meters;
        if (to_meter < 0) {
            resp_add_error(ctx->reply, "ERR unsupported unit provided. please use M, KM, FT, MI");
            return;
        }
    } else if (ctx->argc > 5) {
        resp_add_error(ctx->reply, "ERR syntax error");
        return;
    }
    bool bad;
    zset_t *z = zcmd_lookup_read(ctx, 1, &bad);
    if (bad) return;
    double s1, s2, xy[4];
    if (!z || !zset_score(z, ctx->argv[2], ctx->argvlen[2], &s1) || !zset_score(z, ctx->argv[3], ctx->argvlen[3], &s2) ||
        !geo_decode(s1, &xy[0], &xy[1]) || !geo_decode(s2, &xy[2], &xy[3])) {
        resp_add_null(ctx->reply);
        return;
    }
    reply_distance(ctx, geo_distance(xy[0], xy[1], xy[2], xy[3]) / to_meter);
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
        uint64_t bits = geo_encode(lon, lat, -90.0, 90.0, GEO_STEP);
        char buf[11];
        for (int i = 0; i < 10; i++) buf[i] = alphabet[(bits >> (52 - (i + 1) * 5)) & 0x1f];
        buf[10] = alphabet[0];
        resp_add_bulk(ctx->reply, buf, sizeof buf);
    }
}
