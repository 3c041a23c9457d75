/* geohash.h - the arithmetic under the geo commands, as redis-server
 * 7.0.15 does it: a point is a cell of a 2^26 x 2^26 grid over longitude
 * [-180, 180] and Web Mercator's latitude range, named by the 52-bit
 * interleaving of its row (even bits) and column (odd bits); a search visits
 * the cell of its centre at a coarser step and that cell's eight neighbours.
 *
 * Pure functions of their arguments (libc and libm only). Must never differ
 * from 7.0.15 by one rounding: which members an area search finds, in which
 * order, and their distances to 4 decimals all follow from these doubles.
 */
#ifndef SHOAL_PROTO_GEOHASH_H
#define SHOAL_PROTO_GEOHASH_H

#include <stdbool.h>
#include <stdint.h>

#define GEOHASH_STEP_MAX 26       /* bits per coordinate in a stored score */
#define GEOHASH_LAT_MIN (-85.05112878)
#define GEOHASH_LAT_MAX 85.05112878
#define GEOHASH_LON_MIN (-180.0)
#define GEOHASH_LON_MAX 180.0

/* A cell at `step` bits per coordinate; step 0 is no cell. */
typedef struct geohash_cell {
    uint64_t bits;
    int step;
} geohash_cell_t;

typedef struct geohash_area {
    double lon_min, lon_max, lat_min, lat_max;
} geohash_area_t;

enum { GEOHASH_CIRCLE = 1, GEOHASH_BOX = 2 };

/* What an area search looks for: a circle of `radius` or a box of `width`
 * by `height` (in the unit, to_meters meters each) around (lon, lat). */
typedef struct geohash_shape {
    int type;
    double lon, lat;
    double to_meters;
    double radius;
    double width, height;
} geohash_shape_t;

/* The interleaved cell number of (lon, lat) at `step` bits per coordinate
 * over latitudes [lat_min, lat_max] (the offsets truncated). The caller
 * checks the point is in range. */
uint64_t geohash_encode(double lon, double lat, double lat_min, double lat_max, int step);
/* The bounds of cell c over the stored (Web Mercator) ranges. */
void geohash_cell_area(geohash_cell_t c, geohash_area_t *a);
/* The point a stored score stands for: the centre of the step-26 cell its
 * integer part names, clamped to the ranges. */
void geohash_decode(double score, double *lon, double *lat);
/* Great-circle distance in meters on 7.0.15's earth radius. */
double geohash_distance(double lon1, double lat1, double lon2, double lat2);
/* The cells an area search visits, in order (centre, north, south, east,
 * west, north-east, north-west, south-east, south-west, without the ones
 * the search area cannot reach and repeats of the one visited before);
 * returns how many (1 to 9). */
int geohash_search_cells(const geohash_shape_t *s, geohash_cell_t out[9]);
/* The stored scores [*min, *max) of the points inside cell c. */
void geohash_cell_scores(geohash_cell_t c, uint64_t *min, uint64_t *max);
/* Whether the point of stored score `score` lies in s; its coordinates go
 * to *lon, *lat either way, and when inside its distance in meters from
 * the centre to *dist. */
bool geohash_in_shape(const geohash_shape_t *s, double score, double *lon, double *lat, double *dist);

#endif
