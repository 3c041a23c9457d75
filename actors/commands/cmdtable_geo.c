/* cmdtable_geo.c - command table entries for the geo commands (cmd_geo.c,
 * cmd_geo_search.c), which keep points in sorted sets.
 *
 * Every field, the documentation texts included, is what a real
 * redis-server 7.0.15 answers in COMMAND INFO and COMMAND DOCS (clients
 * route by the key specs and show the texts). GEORADIUS and
 * GEORADIUSBYMEMBER route by cmd_georadius_getkeys, as 7.0.15's cluster
 * does, since their STORE destination may come anywhere among the options.
 * Data only; no logic (see cmdtable.c).
 */
#include <stddef.h>
#include "actors/commands/cmd.h"
#include "actors/commands/commands.h"

static const cmd_keyspec_t keyspecs_geo_rw[] = {
    { .flags = "RW update", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_keyspec_t keyspecs_geo_ro[] = {
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_geoadd_condition[] = {
    { .name = "nx", .type = "pure-token", .key_spec_index = -1, .token = "NX" },
    { .name = "xx", .type = "pure-token", .key_spec_index = -1, .token = "XX" },
};

static const cmd_arg_doc_t args_geoadd_point[] = {
    { .name = "longitude", .type = "double", .key_spec_index = -1 },
    { .name = "latitude", .type = "double", .key_spec_index = -1 },
    { .name = "member", .type = "string", .key_spec_index = -1 },
};

static const cmd_arg_doc_t args_geoadd[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "condition", .type = "oneof", .key_spec_index = -1, .since = "6.2.0", .flags = CMD_ARG_OPTIONAL, .subargs = args_geoadd_condition, .subarg_count = 2 },
    { .name = "change", .type = "pure-token", .key_spec_index = -1, .token = "CH", .since = "6.2.0", .flags = CMD_ARG_OPTIONAL },
    { .name = "longitude_latitude_member", .type = "block", .key_spec_index = -1, .flags = CMD_ARG_MULTIPLE, .subargs = args_geoadd_point, .subarg_count = 3 },
};

static const cmd_history_t history_geoadd[] = {
    { "6.2.0", "Added the `CH`, `NX` and `XX` options." },
};

static const cmd_arg_doc_t args_geodist_unit[] = {
    { .name = "m", .type = "pure-token", .key_spec_index = -1, .token = "M" },
    { .name = "km", .type = "pure-token", .key_spec_index = -1, .token = "KM" },
    { .name = "ft", .type = "pure-token", .key_spec_index = -1, .token = "FT" },
    { .name = "mi", .type = "pure-token", .key_spec_index = -1, .token = "MI" },
};

static const cmd_arg_doc_t args_geodist[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "member1", .type = "string", .key_spec_index = -1 },
    { .name = "member2", .type = "string", .key_spec_index = -1 },
    { .name = "unit", .type = "oneof", .key_spec_index = -1, .flags = CMD_ARG_OPTIONAL, .subargs = args_geodist_unit, .subarg_count = 4 },
};

static const cmd_arg_doc_t args_geo_members[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "member", .type = "string", .key_spec_index = -1, .flags = CMD_ARG_MULTIPLE },
};

/* ---- the area searches (cmd_geo_search.c) ---- */

static const cmd_keyspec_t keyspecs_georadius[] = {
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
    { .flags = "OW update", .bs_type = CMD_KS_KEYWORD, .bs_index = 6, .bs_keyword = "STORE",
      .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
    { .flags = "OW update", .bs_type = CMD_KS_KEYWORD, .bs_index = 6, .bs_keyword = "STOREDIST",
      .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_keyspec_t keyspecs_georadiusbymember[] = {
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
    { .flags = "OW update", .bs_type = CMD_KS_KEYWORD, .bs_index = 5, .bs_keyword = "STORE",
      .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
    { .flags = "OW update", .bs_type = CMD_KS_KEYWORD, .bs_index = 5, .bs_keyword = "STOREDIST",
      .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_keyspec_t keyspecs_geosearchstore[] = {
    { .flags = "OW update", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 2, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_geo_any_since[] = {
    { .name = "count", .type = "integer", .key_spec_index = -1, .token = "COUNT" },
    { .name = "any", .type = "pure-token", .key_spec_index = -1, .token = "ANY", .since = "6.2.0", .flags = CMD_ARG_OPTIONAL },
};

static const cmd_arg_doc_t args_geo_any[] = {
    { .name = "count", .type = "integer", .key_spec_index = -1, .token = "COUNT" },
    { .name = "any", .type = "pure-token", .key_spec_index = -1, .token = "ANY", .flags = CMD_ARG_OPTIONAL },
};

static const cmd_arg_doc_t args_geo_order[] = {
    { .name = "asc", .type = "pure-token", .key_spec_index = -1, .token = "ASC" },
    { .name = "desc", .type = "pure-token", .key_spec_index = -1, .token = "DESC" },
};

#define GEO_ARG_UNIT { .name = "unit", .type = "oneof", .key_spec_index = -1, .subargs = args_geodist_unit, .subarg_count = 4 }
#define GEO_ARG_WITH                                                                                                  \
    { .name = "withcoord", .type = "pure-token", .key_spec_index = -1, .token = "WITHCOORD", .flags = CMD_ARG_OPTIONAL }, \
    { .name = "withdist", .type = "pure-token", .key_spec_index = -1, .token = "WITHDIST", .flags = CMD_ARG_OPTIONAL },   \
    { .name = "withhash", .type = "pure-token", .key_spec_index = -1, .token = "WITHHASH", .flags = CMD_ARG_OPTIONAL }
#define GEO_ARG_COUNT(any) \
    { .name = "count", .type = "block", .key_spec_index = -1, .flags = CMD_ARG_OPTIONAL, .subargs = any, .subarg_count = 2 }
#define GEO_ARG_ORDER \
    { .name = "order", .type = "oneof", .key_spec_index = -1, .flags = CMD_ARG_OPTIONAL, .subargs = args_geo_order, .subarg_count = 2 }
#define GEO_ARG_STORE                                                                                                     \
    { .name = "key", .type = "key", .key_spec_index = 1, .token = "STORE", .flags = CMD_ARG_OPTIONAL },                   \
    { .name = "key", .type = "key", .key_spec_index = 2, .token = "STOREDIST", .flags = CMD_ARG_OPTIONAL }
#define GEO_ARG_LONLAT                                               \
    { .name = "longitude", .type = "double", .key_spec_index = -1 }, \
    { .name = "latitude", .type = "double", .key_spec_index = -1 }
#define GEO_ARG_MEMBER_RADIUS                                      \
    { .name = "member", .type = "string", .key_spec_index = -1 }, \
    { .name = "radius", .type = "double", .key_spec_index = -1 }

static const cmd_arg_doc_t args_georadius[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    GEO_ARG_LONLAT,
    { .name = "radius", .type = "double", .key_spec_index = -1 },
    GEO_ARG_UNIT, GEO_ARG_WITH, GEO_ARG_COUNT(args_geo_any_since), GEO_ARG_ORDER, GEO_ARG_STORE,
};

static const cmd_arg_doc_t args_georadius_ro[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    GEO_ARG_LONLAT,
    { .name = "radius", .type = "double", .key_spec_index = -1 },
    GEO_ARG_UNIT, GEO_ARG_WITH, GEO_ARG_COUNT(args_geo_any_since), GEO_ARG_ORDER,
};

static const cmd_arg_doc_t args_georadiusbymember[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    GEO_ARG_MEMBER_RADIUS, GEO_ARG_UNIT, GEO_ARG_WITH, GEO_ARG_COUNT(args_geo_any), GEO_ARG_ORDER, GEO_ARG_STORE,
};

static const cmd_arg_doc_t args_georadiusbymember_ro[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    GEO_ARG_MEMBER_RADIUS, GEO_ARG_UNIT, GEO_ARG_WITH, GEO_ARG_COUNT(args_geo_any), GEO_ARG_ORDER,
};

static const cmd_arg_doc_t args_geosearch_lonlat[] = { GEO_ARG_LONLAT };

static const cmd_arg_doc_t args_geosearch_from[] = {
    { .name = "member", .type = "string", .key_spec_index = -1, .token = "FROMMEMBER" },
    { .name = "longitude_latitude", .type = "block", .key_spec_index = -1, .token = "FROMLONLAT",
      .subargs = args_geosearch_lonlat, .subarg_count = 2 },
};

static const cmd_arg_doc_t args_geosearch_circle[] = {
    { .name = "radius", .type = "double", .key_spec_index = -1, .token = "BYRADIUS" },
    GEO_ARG_UNIT,
};

static const cmd_arg_doc_t args_geosearch_box[] = {
    { .name = "width", .type = "double", .key_spec_index = -1, .token = "BYBOX" },
    { .name = "height", .type = "double", .key_spec_index = -1 },
    GEO_ARG_UNIT,
};

static const cmd_arg_doc_t args_geosearch_by[] = {
    { .name = "circle", .type = "block", .key_spec_index = -1, .subargs = args_geosearch_circle, .subarg_count = 2 },
    { .name = "box", .type = "block", .key_spec_index = -1, .subargs = args_geosearch_box, .subarg_count = 3 },
};

#define GEO_ARG_FROM_BY                                                                                       \
    { .name = "from", .type = "oneof", .key_spec_index = -1, .subargs = args_geosearch_from, .subarg_count = 2 }, \
    { .name = "by", .type = "oneof", .key_spec_index = -1, .subargs = args_geosearch_by, .subarg_count = 2 }

static const cmd_arg_doc_t args_geosearch[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    GEO_ARG_FROM_BY, GEO_ARG_ORDER, GEO_ARG_COUNT(args_geo_any), GEO_ARG_WITH,
};

static const cmd_arg_doc_t args_geosearchstore[] = {
    { .name = "destination", .type = "key", .key_spec_index = 0 },
    { .name = "source", .type = "key", .key_spec_index = 1 },
    GEO_ARG_FROM_BY, GEO_ARG_ORDER, GEO_ARG_COUNT(args_geo_any),
    { .name = "storedist", .type = "pure-token", .key_spec_index = -1, .token = "STOREDIST", .flags = CMD_ARG_OPTIONAL },
};

static const cmd_history_t history_georadius[] = {
    { "6.2.0", "Added the `ANY` option for `COUNT`." },
    { "7.0.0", "Added support for uppercase unit names." },
};

/* GEORADIUSBYMEMBER, GEOSEARCH and GEOSEARCHSTORE */
static const cmd_history_t history_geo_units[] = {
    { "7.0.0", "Added support for uppercase unit names." },
};

#define GEO_RADIUS_COMPLEXITY                                                                                      \
    "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center " \
    "and radius and M is the number of items inside the index."
#define GEO_SEARCH_COMPLEXITY                                                                                       \
    "O(N+log(M)) where N is the number of elements in the grid-aligned bounding box area around the shape provided " \
    "as the filter and M is the number of items inside the shape"

cmd_def_t cmdtable_geo[] = {
    {
        .name = "geoadd", .arity = -5, .flags = CMD_WRITE | CMD_DENYOOM, .flag_names = "write denyoom",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "write geo slow",
        .keyspecs = keyspecs_geo_rw, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_geoadd,
        .summary = "Add one or more geospatial items in the geospatial index represented using a sorted set",
        .since = "3.2.0", .group = "geo",
        .complexity = "O(log(N)) for each item added, where N is the number of elements in the sorted set.",
        .history = history_geoadd, .history_count = 1,
        .args = args_geoadd, .arg_count = 4,
    },
    {
        .name = "geodist", .arity = -4, .flags = CMD_READONLY, .flag_names = "readonly",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "read geo slow",
        .keyspecs = keyspecs_geo_ro, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_geodist,
        .summary = "Returns the distance between two members of a geospatial index",
        .since = "3.2.0", .group = "geo", .complexity = "O(log(N))",
        .args = args_geodist, .arg_count = 4,
    },
    {
        .name = "geohash", .arity = -2, .flags = CMD_READONLY, .flag_names = "readonly",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "read geo slow",
        .keyspecs = keyspecs_geo_ro, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_geohash,
        .summary = "Returns members of a geospatial index as standard geohash strings",
        .since = "3.2.0", .group = "geo",
        .complexity = "O(log(N)) for each member requested, where N is the number of elements in the sorted set.",
        .args = args_geo_members, .arg_count = 2,
    },
    {
        .name = "geopos", .arity = -2, .flags = CMD_READONLY, .flag_names = "readonly",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "read geo slow",
        .keyspecs = keyspecs_geo_ro, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_geopos,
        .summary = "Returns longitude and latitude of members of a geospatial index",
        .since = "3.2.0", .group = "geo", .complexity = "O(N) where N is the number of members requested.",
        .args = args_geo_members, .arg_count = 2,
    },
    {
        .name = "georadius", .arity = -6, .flags = CMD_WRITE | CMD_DENYOOM | CMD_MOVABLE_KEYS,
        .flag_names = "write denyoom movablekeys",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "write geo slow",
        .keyspecs = keyspecs_georadius, .keyspec_count = 3, .getkeys = cmd_georadius_getkeys,
        .exec = CMD_EXEC_KEYED, .handler = cmd_georadius,
        .summary = "Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a point",
        .since = "3.2.0", .group = "geo", .complexity = GEO_RADIUS_COMPLEXITY,
        .doc_flags = "deprecated", .deprecated_since = "6.2.0",
        .replaced_by = "`GEOSEARCH` and `GEOSEARCHSTORE` with the `BYRADIUS` argument",
        .history = history_georadius, .history_count = 2,
        .args = args_georadius, .arg_count = 12,
    },
    {
        .name = "georadius_ro", .arity = -6, .flags = CMD_READONLY, .flag_names = "readonly",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "read geo slow",
        .keyspecs = keyspecs_geo_ro, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_georadius_ro,
        .summary = "A read-only variant for GEORADIUS",
        .since = "3.2.10", .group = "geo", .complexity = GEO_RADIUS_COMPLEXITY,
        .doc_flags = "deprecated", .deprecated_since = "6.2.0",
        .replaced_by = "`GEOSEARCH` with the `BYRADIUS` argument",
        .history = history_georadius, .history_count = 1,
        .args = args_georadius_ro, .arg_count = 10,
    },
    {
        .name = "georadiusbymember", .arity = -5, .flags = CMD_WRITE | CMD_DENYOOM | CMD_MOVABLE_KEYS,
        .flag_names = "write denyoom movablekeys",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "write geo slow",
        .keyspecs = keyspecs_georadiusbymember, .keyspec_count = 3, .getkeys = cmd_georadius_getkeys,
        .exec = CMD_EXEC_KEYED, .handler = cmd_georadiusbymember,
        .summary = "Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a member",
        .since = "3.2.0", .group = "geo", .complexity = GEO_RADIUS_COMPLEXITY,
        .doc_flags = "deprecated", .deprecated_since = "6.2.0",
        .replaced_by = "`GEOSEARCH` and `GEOSEARCHSTORE` with the `BYRADIUS` and `FROMMEMBER` arguments",
        .history = history_geo_units, .history_count = 1,
        .args = args_georadiusbymember, .arg_count = 11,
    },
    {
        .name = "georadiusbymember_ro", .arity = -5, .flags = CMD_READONLY, .flag_names = "readonly",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "read geo slow",
        .keyspecs = keyspecs_geo_ro, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_georadiusbymember_ro,
        .summary = "A read-only variant for GEORADIUSBYMEMBER",
        .since = "3.2.10", .group = "geo", .complexity = GEO_RADIUS_COMPLEXITY,
        .doc_flags = "deprecated", .deprecated_since = "6.2.0",
        .replaced_by = "`GEOSEARCH` with the `BYRADIUS` and `FROMMEMBER` arguments",
        .args = args_georadiusbymember_ro, .arg_count = 9,
    },
    {
        .name = "geosearch", .arity = -7, .flags = CMD_READONLY, .flag_names = "readonly",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "read geo slow",
        .keyspecs = keyspecs_geo_ro, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_geosearch,
        .summary = "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle.",
        .since = "6.2.0", .group = "geo", .complexity = GEO_SEARCH_COMPLEXITY,
        .history = history_geo_units, .history_count = 1,
        .args = args_geosearch, .arg_count = 8,
    },
    {
        .name = "geosearchstore", .arity = -8, .flags = CMD_WRITE | CMD_DENYOOM, .flag_names = "write denyoom",
        .first_key = 1, .last_key = 2, .key_step = 1, .acl_categories = "write geo slow",
        .keyspecs = keyspecs_geosearchstore, .keyspec_count = 2,
        .exec = CMD_EXEC_KEYED, .handler = cmd_geosearchstore,
        .summary = "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle, and store the result in another key.",
        .since = "6.2.0", .group = "geo", .complexity = GEO_SEARCH_COMPLEXITY,
        .history = history_geo_units, .history_count = 1,
        .args = args_geosearchstore, .arg_count = 7,
    },
    { .name = NULL },
};
