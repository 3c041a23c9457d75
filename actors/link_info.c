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

#include "actors/link_internal.h"

static int row_cmp(const void *a, const void *b)
{
    link_id_t x = ((const link_row_t *)a)->id, y = ((const link_row_t *)b)->id;
    return x < y ? -1 : x > y;
}

void links_reply(resp_buf_t *r, link_name_fn name_of, void *arg)
{
    size_t n = 0;
    link_row_t *rows = link_rows(&n);
    /* creation order, so the reply is stable between calls */
    if (n > 1) qsort(rows, n, sizeof *rows, row_cmp);
    const char **names = n ? calloc(n, sizeof *names) : NULL;
    size_t shown = 0;
    for (size_t i = 0; i < n && names; i++) {
        const char *name = name_of(rows[i].id, rows[i].outbound, arg);
        if (name && name[0]) { names[i] = name; shown++; }
    }
    resp_add_array(r, (long long)shown);
    for (size_t i = 0; i < n && names; i++) {
        if (!names[i]) continue;
        const link_row_t *w = &rows[i];
        char ev[3];
        int k = 0;
        if (w->events & 1) ev[k++] = 'r';
        if (w->events & 2) ev[k++] = 'w';
        ev[k] = '\0';
        /* 7.0.15's six fields in its order, then ours */
        resp_add_map(r, 7);
        resp_add_bulk_str(r, "direction");
        resp_add_bulk_str(r, w->outbound ? "to" : "from");
        resp_add_bulk_str(r, "node");
        resp_add_bulk(r, names[i], strnlen(names[i], BUS_NAME_LEN));
        resp_add_bulk_str(r, "create-time");
        resp_add_int(r, w->create_ms);
        resp_add_bulk_str(r, "events");
        resp_add_bulk_str(r, ev);
        resp_add_bulk_str(r, "send-buffer-allocated");
        resp_add_int(r, w->sendbuf_alloc);
        resp_add_bulk_str(r, "send-buffer-used");
        resp_add_int(r, w->sendbuf_used);
        /* ours: ms between our PING/MEET on an outbound link and the PONG
         * that answered it, rounded; -1 until measured (always on inbound
         * links, where we send no requests) */
        resp_add_bulk_str(r, "rtt-ms");
        resp_add_int(r, w->rtt_us < 0 ? -1 : (w->rtt_us + 500) / 1000);
    }
    free(names);
    free(rows);
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
