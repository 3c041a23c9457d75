/* test_geohash.c - proto/geohash against values redis-server 7.0.15 gives
 * (GEOADD scores, GEOPOS coordinates, GEODIST distances) and the cell
 * search's rules: wrap-round at the antimeridian and the poles, repeated
 * neighbours of a world-sized search visited once, one step-26 cell for a
 * zero radius. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "proto/geohash.h"
#include "tests/unit/unit.h"

static uint64_t stored(double lon, double lat)
{
    return geohash_encode(lon, lat, GEOHASH_LAT_MIN, GEOHASH_LAT_MAX, GEOHASH_STEP_MAX);
}

TEST(geohash_scores_and_points_as_redis)
{
    /* GEOADD Sicily 13.361389 38.115556 Palermo 15.087269 37.502669 Catania; ZSCORE */
    CHECK(stored(13.361389, 38.115556) == 3479099956230698ULL);
    CHECK(stored(15.087269, 37.502669) == 3479447370796909ULL);
    /* GEOPOS Sicily Catania */
    double lon, lat;
    geohash_decode(3479447370796909.0, &lon, &lat);
    char buf[64];
    snprintf(buf, sizeof buf, "%.17Lf", (long double)lon);
    CHECK_EQ_STR(buf, "15.08726745843887329");
    snprintf(buf, sizeof buf, "%.17Lf", (long double)lat);
    CHECK_EQ_STR(buf, "37.50266842333162032");
    /* GEODIST Sicily Palermo Catania: 166274.1516 */
    double plon, plat;
    geohash_decode(3479099956230698.0, &plon, &plat);
    CHECK(llrint(geohash_distance(plon, plat, lon, lat) * 10000.0) == 1662741516LL);
    /* a score from another sorted set: clamped into the ranges */
    geohash_decode(-5, &lon, &lat);
    CHECK(lon <= GEOHASH_LON_MAX && lat <= GEOHASH_LAT_MAX);
}

TEST(geohash_zero_radius_is_one_fine_cell)
{
    geohash_shape_t s = { .type = GEOHASH_CIRCLE, .lon = 13.361389, .lat = 38.115556, .to_meters = 1, .radius = 0 };
    geohash_cell_t cells[9];
    int n = geohash_search_cells(&s, cells);
    REQUIRE(n >= 1);
    CHECK_EQ_INT(cells[0].step, GEOHASH_STEP_MAX);
    CHECK(cells[0].bits == 3479099956230698ULL);
    uint64_t lo, hi;
    geohash_cell_scores(cells[0], &lo, &hi);
    CHECK(lo == 3479099956230698ULL && hi == lo + 1);
    /* a stored point stands for its cell's centre: the given point is not
     * within 0 m of it, the centre is, at distance 0 */
    double lon, lat, dist = -1;
    CHECK(!geohash_in_shape(&s, (double)lo, &lon, &lat, &dist));
    s.lon = lon;
    s.lat = lat;
    CHECK(geohash_in_shape(&s, (double)lo, &lon, &lat, &dist));
    CHECK(dist == 0);
}

TEST(geohash_world_search_visits_each_cell_once)
{
    /* 20000 km from (0, 0): step 1, a 2 x 2 grid whose eight neighbours are
     * three cells, each named twice or more */
    geohash_shape_t s = { .type = GEOHASH_CIRCLE, .lon = 0, .lat = 0, .to_meters = 1000, .radius = 20000 };
    geohash_cell_t cells[9];
    int n = geohash_search_cells(&s, cells);
    CHECK_EQ_INT(n, 4);
    for (int i = 0; i < n; i++) CHECK_EQ_INT(cells[i].step, 1);
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) CHECK(cells[i].bits != cells[j].bits);
}

TEST(geohash_antimeridian_neighbours_wrap)
{
    /* near longitude 180 the eastern cells are those at -180 */
    geohash_shape_t s = { .type = GEOHASH_BOX, .lon = 179.999, .lat = 1, .to_meters = 1000, .width = 50, .height = 50 };
    geohash_cell_t cells[9];
    int n = geohash_search_cells(&s, cells);
    bool west_edge = false, east_edge = false;
    for (int i = 0; i < n; i++) {
        geohash_area_t a;
        geohash_cell_area(cells[i], &a);
        if (a.lon_min == GEOHASH_LON_MIN) west_edge = true;
        if (a.lon_max == GEOHASH_LON_MAX) east_edge = true;
    }
    CHECK(west_edge && east_edge);
    /* a point just across the line is in the box, one just outside is not */
    double lon, lat, dist;
    CHECK(geohash_in_shape(&s, (double)stored(-179.9999, 1), &lon, &lat, &dist));
    CHECK(!geohash_in_shape(&s, (double)stored(-179.5, 1), &lon, &lat, &dist));
}
