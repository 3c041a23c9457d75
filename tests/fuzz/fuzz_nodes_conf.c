/* fuzz_nodes_conf.c - libFuzzer target for proto/nodes_conf.c: parsing any
 * bytes must give a value or an error (never a crash, over-read or leak);
 * a parsed config formatted and parsed again must keep every field the file
 * carries, and formatting must be idempotent and honour the snprintf-like
 * contract of nodes_conf_format_line. Must never touch anything outside the
 * input bytes. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "proto/nodes_conf.h"

/* What a node's open-slot list becomes after format + parse: only the myself
 * line prints them, one per slot, migrating before importing. */
static bool open_slots_survive(const nodes_conf_node_t *a, const nodes_conf_node_t *b)
{
    if (!(a->flags & NODES_CONF_FLAG_MYSELF)) return b->open_slot_count == 0;
    size_t j = 0;
    long last = -1;
    for (size_t i = 0; i < a->open_slot_count; i++) {
        const nodes_conf_open_slot_t *o = &a->open_slots[i];
        if ((long)o->slot == last) continue;
        last = o->slot;
        if (j >= b->open_slot_count) return false;
        const nodes_conf_open_slot_t *p = &b->open_slots[j++];
        if (p->slot != o->slot || p->importing != o->importing || strcmp(p->peer, o->peer)) return false;
    }
    return j == b->open_slot_count;
}

static bool same_node(const nodes_conf_node_t *a, const nodes_conf_node_t *b)
{
    return !strcmp(a->name, b->name) && !strcmp(a->ip, b->ip) && a->port == b->port &&
           a->cport == b->cport && !strcmp(a->hostname, b->hostname) && a->flags == b->flags &&
           !strcmp(a->master, b->master) && a->ping_sent == b->ping_sent &&
           a->pong_received == b->pong_received && a->config_epoch == b->config_epoch &&
           a->connected == b->connected && !memcmp(a->slots, b->slots, sizeof a->slots) &&
           open_slots_survive(a, b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    nodes_conf_t conf;
    nodes_conf_error_t err;
    nodes_conf_result_t r = nodes_conf_parse(data, size, &conf, &err);
    if (r != NODES_CONF_OK) {
        /* a failed parse leaves nothing allocated, and says where */
        if (conf.nodes || conf.node_count || err.code != r || err.line < 0) abort();
        if (!memchr(err.message, '\0', sizeof err.message)) abort();
        return 0;
    }
    if (conf.myself >= conf.node_count) abort();
    if (!(conf.nodes[conf.myself].flags & NODES_CONF_FLAG_MYSELF)) abort();

    /* snprintf contract on one line: a truncated write is a prefix of the full one */
    const nodes_conf_node_t *first = &conf.nodes[0];
    size_t need = nodes_conf_format_line(NULL, 0, first, true);
    char *full = malloc(need + 1), *cut = malloc(need + 1);
    if (!full || !cut) abort();
    if (nodes_conf_format_line(full, need + 1, first, true) != need || strlen(full) != need) abort();
    size_t cap = size % (need + 1) + 1;
    if (nodes_conf_format_line(cut, cap, first, true) != need) abort();
    if (strlen(cut) != cap - 1 || memcmp(cut, full, cap - 1)) abort();
    free(full);
    free(cut);

    size_t len;
    char *text = nodes_conf_format(&conf, &len);
    if (!text) abort();
    /* A HANDSHAKE myself is not written, so the output has no myself line:
     * nothing more to compare (real nodes never set both). */
    if (conf.nodes[conf.myself].flags & NODES_CONF_FLAG_HANDSHAKE) {
        free(text);
        nodes_conf_free(&conf);
        return 0;
    }
    nodes_conf_t again;
    if (nodes_conf_parse((const uint8_t *)text, len, &again, &err) != NODES_CONF_OK) abort();
    if (again.current_epoch != conf.current_epoch || again.last_vote_epoch != conf.last_vote_epoch) abort();
    size_t j = 0;
    for (size_t i = 0; i < conf.node_count; i++) {
        if (conf.nodes[i].flags & NODES_CONF_FLAG_HANDSHAKE) continue;
        if (j >= again.node_count || !same_node(&conf.nodes[i], &again.nodes[j])) abort();
        j++;
    }
    if (j != again.node_count) abort();

    size_t len2;
    char *text2 = nodes_conf_format(&again, &len2);
    if (!text2 || len2 != len || memcmp(text, text2, len)) abort();
    free(text);
    free(text2);
    nodes_conf_free(&again);
    nodes_conf_free(&conf);
    return 0;
}
