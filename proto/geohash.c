/* geohash.c - cells, neighbours, search cells and distances for the geo
 * commands (see geohash.h). Every expression keeps the operand order
 * 7.0.15 evaluates (geohash.c, geohash_helper.c there), since results are
 * compared with it to the last bit.
 */
#include "proto/geohash.h"

#include <math.h>

#define EARTH_RADIUS_M 6372797.560856   /* the quadratic mean radius 7.0.15 uses */
#define MERCATOR_MAX 20037726.37        /* half the projected world width, meters */
#define DEG_RAD (M_PI / 180.0)

static double deg_rad(double d) { return d * DEG_RAD; }
static double rad_deg(double r) { return r / DEG_RAD; }

/* The 32 bits of v spread over the even bits of the result. */
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

uint64_t geohash_encode(double lon, double lat, double lat_min, double lat_max, int step)
{
    double lat_off = (lat - lat_min) / (lat_max - lat_min) * (double)(1ULL << step);
    double lon_off = (lon - GEOHASH_LON_MIN) / (GEOHASH_LON_MAX - GEOHASH_LON_MIN) * (double)(1ULL << step);
    return spread32((uint32_t)lat_off) | (spread32((uint32_t)lon_off) << 1);
}

void geohash_cell_area(geohash_cell_t c, geohash_area_t *a)
{
    uint32_t row = squash32(c.bits), col = squash32(c.bits >> 1);
    double lat_span = GEOHASH_LAT_MAX - GEOHASH_LAT_MIN, lon_span = GEOHASH_LON_MAX - GEOHASH_LON_MIN;
    a->lat_min = GEOHASH_LAT_MIN + (row * 1.0 / (1ULL << c.step)) * lat_span;
    a->lat_max = GEOHASH_LAT_MIN + ((row + 1) * 1.0 / (1ULL << c.step)) * lat_span;
    a->lon_min = GEOHASH_LON_MIN + (col * 1.0 / (1ULL << c.step)) * lon_span;
    a->lon_max = GEOHASH_LON_MIN + ((col + 1) * 1.0 / (1ULL << c.step)) * lon_span;
}

void geohash_decode(double score, double *lon, double *lat)
{
    /* A negative score (a sorted set not written by GEOADD) converts as
     * x86-64 converts it for 7.0.15; one past 2^64 names cell 0. */
    uint64_t bits = score < 0 ? (uint64_t)(int64_t)score : score < 18446744073709551616.0 ? (uint64_t)score : 0;
    geohash_area_t a;
    geohash_cell_area((geohash_cell_t){ bits, GEOHASH_STEP_MAX }, &a);
    *lon = (a.lon_min + a.lon_max) / 2;
    *lat = (a.lat_min + a.lat_max) / 2;
    if (*lon > GEOHASH_LON_MAX) *lon = GEOHASH_LON_MAX;
    if (*lon < GEOHASH_LON_MIN) *lon = GEOHASH_LON_MIN;
    if (*lat > GEOHASH_LAT_MAX) *lat = GEOHASH_LAT_MAX;
    if (*lat < GEOHASH_LAT_MIN) *lat = GEOHASH_LAT_MIN;
}

static double lat_distance(double lat1, double lat2)
{
    return EARTH_RADIUS_M * fabs(deg_rad(lat2) - deg_rad(lat1));
}

double geohash_distance(double lon1, double lat1, double lon2, double lat2)
{
    double v = sin((deg_rad(lon2) - deg_rad(lon1)) / 2);
    /* on one meridian the haversine reduces to the latitudes' difference */
    if (v == 0.0) return lat_distance(lat1, lat2);
    double u = sin((deg_rad(lat2) - deg_rad(lat1)) / 2);
    double a = u * u + cos(deg_rad(lat1)) * cos(deg_rad(lat2)) * v * v;
    return 2.0 * EARTH_RADIUS_M * asin(sqrt(a));
}

/* ---- the cells a search visits ---- */

#define ODD_BITS 0xAAAAAAAAAAAAAAAAULL    /* the column (longitude) */
#define EVEN_BITS 0x5555555555555555ULL   /* the row (latitude) */

/* c moved one column (moving = ODD_BITS) or row (EVEN_BITS) forward (d > 0)
 * or back, wrapping round within the step's bits. The moving coordinate is
 * cut to the step's width; the other keeps whatever bits it had (a point on
 * the range's far edge has one more), as 7.0.15 leaves them. */
static geohash_cell_t cell_move(geohash_cell_t c, uint64_t moving, int d)
{
    int unused = 64 - 2 * c.step;
    uint64_t other = c.bits & ~moving;
    uint64_t coord = c.bits & moving;
    /* With the other coordinate's places inside the width all ones, a carry
     * or borrow runs through them: one step of the moving coordinate. */
    uint64_t fill = ~moving >> unused;
    coord = d > 0 ? coord + fill + 1 : (coord | fill) - (fill + 1);
    c.bits = (coord & (moving >> unused)) | other;
    return c;
}

enum { N_NORTH, N_SOUTH, N_EAST, N_WEST, N_NORTH_EAST, N_NORTH_WEST, N_SOUTH_EAST, N_SOUTH_WEST, N_COUNT };

typedef struct around {
    int step;
    geohash_cell_t centre, next[N_COUNT];
    geohash_area_t area;          /* the centre's */
} around_t;

static void around_at(double lon, double lat, int step, around_t *r)
{
    r->step = step;
    r->centre = (geohash_cell_t){ geohash_encode(lon, lat, GEOHASH_LAT_MIN, GEOHASH_LAT_MAX, step), step };
    geohash_cell_t c = r->centre;
    r->next[N_EAST] = cell_move(c, ODD_BITS, 1);
    r->next[N_WEST] = cell_move(c, ODD_BITS, -1);
    r->next[N_SOUTH] = cell_move(c, EVEN_BITS, -1);
    r->next[N_NORTH] = cell_move(c, EVEN_BITS, 1);
    r->next[N_NORTH_WEST] = cell_move(cell_move(c, ODD_BITS, -1), EVEN_BITS, 1);
    r->next[N_NORTH_EAST] = cell_move(cell_move(c, ODD_BITS, 1), EVEN_BITS, 1);
    r->next[N_SOUTH_EAST] = cell_move(cell_move(c, ODD_BITS, 1), EVEN_BITS, -1);
    r->next[N_SOUTH_WEST] = cell_move(cell_move(c, ODD_BITS, -1), EVEN_BITS, -1);
    geohash_cell_area(c, &r->area);
}

/* The step whose cells are about as wide as the search: halving the
 * projected world width until it is under the radius, two coarser for
 * margin, and coarser again towards the poles where cells narrow. */
static int step_for_radius(double meters, double lat)
{
    if (meters == 0) return GEOHASH_STEP_MAX;
    int step = 1;
    while (meters < MERCATOR_MAX) {
        meters *= 2;
        step++;
    }
    step -= 2;
    if (lat > 66 || lat < -66) {
        step--;
        if (lat > 80 || lat < -80) step--;
    }
    return step < 1 ? 1 : step > GEOHASH_STEP_MAX ? GEOHASH_STEP_MAX : step;
}

/* The search area's longitude and latitude bounds: its half height as an
 * arc, and its half width as an arc on the parallel of the edge nearer the
 * pole (where the same width spans more longitude). */
static void bounding_box(const geohash_shape_t *s, geohash_area_t *b)
{
    double half_h = s->to_meters * (s->type == GEOHASH_CIRCLE ? s->radius : s->height / 2);
    double half_w = s->to_meters * (s->type == GEOHASH_CIRCLE ? s->radius : s->width / 2);
    double dlat = rad_deg(half_h / EARTH_RADIUS_M);
    double dlon_north = rad_deg(half_w / EARTH_RADIUS_M / cos(deg_rad(s->lat + dlat)));
    double dlon_south = rad_deg(half_w / EARTH_RADIUS_M / cos(deg_rad(s->lat - dlat)));
    double dlon = s->lat < 0 ? dlon_south : dlon_north;
    b->lon_min = s->lon - dlon;
    b->lon_max = s->lon + dlon;
    b->lat_min = s->lat - dlat;
    b->lat_max = s->lat + dlat;
}

static bool same_cell(geohash_cell_t a, geohash_cell_t b) { return a.bits == b.bits && a.step == b.step; }

int geohash_search_cells(const geohash_shape_t *s, geohash_cell_t out[9])
{
    geohash_area_t box;
    bounding_box(s, &box);
    double w = s->width, h = s->height;
    double reach = s->type == GEOHASH_CIRCLE ? s->radius : sqrt((w / 2) * (w / 2) + (h / 2) * (h / 2));
    reach *= s->to_meters;

    around_t r;
    around_at(s->lon, s->lat, step_for_radius(reach, s->lat), &r);
    /* The estimate can leave the box poking out of the ring of neighbours
     * when the centre lies near its cell's edge: then one step coarser. */
    geohash_area_t n, so, e, wst;
    geohash_cell_area(r.next[N_NORTH], &n);
    geohash_cell_area(r.next[N_SOUTH], &so);
    geohash_cell_area(r.next[N_EAST], &e);
    geohash_cell_area(r.next[N_WEST], &wst);
    bool coarser = n.lat_max < box.lat_max || so.lat_min > box.lat_min ||
                   e.lon_max < box.lon_max || wst.lon_min > box.lon_min;
    if (r.step > 1 && coarser) around_at(s->lon, s->lat, r.step - 1, &r);

    /* Neighbours on a side the centre cell already covers past the box
     * cannot hold a match. */
    if (r.step >= 2) {
        static const geohash_cell_t none = { 0, 0 };
        if (r.area.lat_min < box.lat_min)
            r.next[N_SOUTH] = r.next[N_SOUTH_WEST] = r.next[N_SOUTH_EAST] = none;
        if (r.area.lat_max > box.lat_max)
            r.next[N_NORTH] = r.next[N_NORTH_EAST] = r.next[N_NORTH_WEST] = none;
        if (r.area.lon_min < box.lon_min)
            r.next[N_WEST] = r.next[N_SOUTH_WEST] = r.next[N_NORTH_WEST] = none;
        if (r.area.lon_max > box.lon_max)
            r.next[N_EAST] = r.next[N_SOUTH_EAST] = r.next[N_NORTH_EAST] = none;
    }

    geohash_cell_t order[9] = {
        r.centre, r.next[N_NORTH], r.next[N_SOUTH], r.next[N_EAST], r.next[N_WEST],
        r.next[N_NORTH_EAST], r.next[N_NORTH_WEST], r.next[N_SOUTH_EAST], r.next[N_SOUTH_WEST],
    };
    /* Over a large area neighbours can coincide (the grid wraps round): a
     * cell equal to the one visited just before is skipped, except after
     * the centre, which 7.0.15 does not compare with. */
    int count = 0, last = 0;
    for (int i = 0; i < 9; i++) {
        if (order[i].bits == 0 && order[i].step == 0) continue;
        if (last && same_cell(order[i], order[last])) continue;
        out[count++] = order[i];
        last = i;
    }
    return count;
}

void geohash_cell_scores(geohash_cell_t c, uint64_t *min, uint64_t *max)
{
    int shift = 2 * (GEOHASH_STEP_MAX - c.step);
    *min = c.bits << shift;
    *max = (c.bits + 1) << shift;
}

bool geohash_in_shape(const geohash_shape_t *s, double score, double *lon, double *lat, double *dist)
{
    geohash_decode(score, lon, lat);
    if (s->type == GEOHASH_CIRCLE) {
        *dist = geohash_distance(s->lon, s->lat, *lon, *lat);
        return !(*dist > s->radius * s->to_meters);
    }
    double width_m = s->width * s->to_meters, height_m = s->height * s->to_meters;
    /* the cheap latitude test first */
    if (lat_distance(*lat, s->lat) > height_m / 2) return false;
    if (geohash_distance(*lon, *lat, s->lon, *lat) > width_m / 2) return false;
    *dist = geohash_distance(s->lon, s->lat, *lon, *lat);
    return true;
}
