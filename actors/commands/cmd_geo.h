/* cmd_geo.h - what the geo command files (cmd_geo.c, cmd_geo_search.c)
 * share: reading a point or a unit argument and replying coordinates and
 * distances, each with 7.0.15's error texts and number formats.
 */
#ifndef SHOAL_ACTORS_COMMANDS_CMD_GEO_H
#define SHOAL_ACTORS_COMMANDS_CMD_GEO_H

#include <stdbool.h>
#include "actors/commands/cmd.h"

/* Arguments i and i+1 as longitude and latitude; false after replying the
 * error (not a float, or outside the ranges GEOADD accepts). */
bool geo_point_at(cmd_ctx_t *ctx, int i, double *lon, double *lat);
/* Argument i as a unit (M, KM, FT, MI): its meters, or -1 after replying
 * the error. */
double geo_unit_at(cmd_ctx_t *ctx, int i);
/* A coordinate as 7.0.15 replies it: %.17Lf without trailing zeros, a bulk
 * string in RESP2, a double in RESP3. */
void geo_reply_coord(cmd_ctx_t *ctx, double v);
/* A distance as 7.0.15 replies it: rounded to 4 decimals, a bulk string in
 * both protocols. */
void geo_reply_distance(cmd_ctx_t *ctx, double d);

#endif
