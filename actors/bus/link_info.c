/* link_info.c - the CLUSTER LINKS reply over the link registry, and the
 * address formatting the link files share.
 *
 * The registry rows are copied under its lock (link.c); the record names come
 * from the caller's snapshot lookup, called here outside that lock.
 *
 * Must never: hold the registry lock while building a reply, or show a link
 * that is not bound to a record.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "actors/bus/link_internal.h"

static int row_cmp(const void *a, const void *b)
{
    link_id_t x = ((const link_row_t *)a)->id, y = ((const link_row_t *)b)->id;
    return x < y ? -1 : x > y;
}

static const link_row_t *row_find(const link_row_t *rows, size_t n, link_id_t id)
{
    if (id == 0 || n == 0) return NULL;
    link_row_t key = { .id = id };
    return bsearch(&key, rows, n, sizeof *rows, row_cmp);
}

static void add_link(resp_buf_t *r, const link_row_t *w, const char *name)
{
    char ev[3];
    int k = 0;
    if (w->events & 1) ev[k++] = 'r';
    if (w->events & 2) ev[k++] = 'w';
    ev[k] = '\0';
    /* exactly 7.0.15's six fields, in its order: clients check the shape */
    resp_add_map(r, 6);
    resp_add_bulk_str(r, "direction");
    resp_add_bulk_str(r, w->outbound ? "to" : "from");
    resp_add_bulk_str(r, "node");
    resp_add_bulk(r, name, strnlen(name, BUS_NAME_LEN));
    resp_add_bulk_str(r, "create-time");
    resp_add_int(r, w->create_ms);
    resp_add_bulk_str(r, "events");
    resp_add_bulk_str(r, ev);
    resp_add_bulk_str(r, "send-buffer-allocated");
    resp_add_int(r, w->sendbuf_alloc);
    resp_add_bulk_str(r, "send-buffer-used");
    resp_add_int(r, w->sendbuf_used);
}

void links_reply(resp_buf_t *r, const link_peer_t *peers, size_t npeers)
{
    size_t n = 0;
    link_row_t *rows = link_rows(&n);
    if (n > 1) qsort(rows, n, sizeof *rows, row_cmp);
    /* Two passes over the same rows: the count first (the array header comes
     * before its entries), then the entries. A link is shown only under the
     * record the snapshot binds it to, and only in the direction it has. */
    const link_row_t **shown = npeers ? calloc(2 * npeers, sizeof *shown) : NULL;
    size_t k = 0;
    for (size_t i = 0; i < npeers && shown; i++) {
        const link_row_t *to = row_find(rows, n, peers[i].out_link);
        const link_row_t *from = row_find(rows, n, peers[i].in_link);
        shown[2 * i] = to && to->outbound ? to : NULL;
        shown[2 * i + 1] = from && !from->outbound ? from : NULL;
        k += (shown[2 * i] != NULL) + (shown[2 * i + 1] != NULL);
    }
    resp_add_array(r, (long long)k);
    for (size_t i = 0; i < 2 * npeers && shown; i++)
        if (shown[i]) add_link(r, shown[i], peers[i / 2].name);
    free(shown);
    free(rows);
}

long long links_memory(void)
{
    size_t n = 0;
    link_row_t *rows = link_rows(&n);
    long long sum = 0;
    for (size_t i = 0; i < n; i++) sum += rows[i].struct_bytes + rows[i].sendbuf_alloc;
    free(rows);
    return sum;
}

void link_format_ip(const struct sockaddr_storage *ss, char *out, size_t cap)
{
    out[0] = '\0';
    if (ss->ss_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, out, (socklen_t)cap);
    } else if (ss->ss_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
        /* an IPv4 peer on a dual-stack socket reads as ::ffff:a.b.c.d; show it as a.b.c.d */
        if (IN6_IS_ADDR_V4MAPPED(a)) inet_ntop(AF_INET, &a->s6_addr[12], out, (socklen_t)cap);
        else inet_ntop(AF_INET6, a, out, (socklen_t)cap);
    }
}
