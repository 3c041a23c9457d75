/* config_tls.c - the tls-* directives turned into OpenSSL contexts
 * (runtime/tls.h): at startup, and on CONFIG SET of a directive the contexts
 * are built from, before the new values are stored, so that a certificate
 * that does not load fails the command and changes nothing (as 7.0.15's
 * "Unable to update TLS configuration").
 *
 * TLS is in use when tls-port, tls-cluster or tls-replication is set; until
 * then the file directives are only stored, as in Redis.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "actors/config/config_internal.h"
#include "runtime/log.h"
#include "runtime/tls.h"

/* Where each directive a context is built from goes in tls_settings_t:
 * 's' a string, 'b' a bool, 'n' a long long, 'i' an int, '-' nowhere (it
 * only decides whether TLS is in use). */
typedef struct { const char *name; size_t off; char kind; } tls_field_t;
#define F(n, f, k) { n, offsetof(tls_settings_t, f), k }
static const tls_field_t fields[] = {
    F("tls-cert-file", cert_file, 's'),           F("tls-key-file", key_file, 's'),
    F("tls-key-file-pass", key_file_pass, 's'),   F("tls-client-cert-file", client_cert_file, 's'),
    F("tls-client-key-file", client_key_file, 's'), F("tls-client-key-file-pass", client_key_file_pass, 's'),
    F("tls-dh-params-file", dh_params_file, 's'), F("tls-ca-cert-file", ca_cert_file, 's'),
    F("tls-ca-cert-dir", ca_cert_dir, 's'),       F("tls-protocols", protocols, 's'),
    F("tls-ciphers", ciphers, 's'),               F("tls-ciphersuites", ciphersuites, 's'),
    F("tls-prefer-server-ciphers", prefer_server_ciphers, 'b'), F("tls-session-caching", session_caching, 'b'),
    F("tls-session-cache-size", session_cache_size, 'n'), F("tls-session-cache-timeout", session_cache_timeout, 'n'),
    F("tls-auth-clients", auth_clients, 'i'),     F("tls-cluster", tls_cluster, 'b'),
    F("tls-replication", tls_replication, 'b'),   { "tls-port", 0, '-' },
};
#undef F
#define NFIELDS (sizeof fields / sizeof fields[0])

/* The settings with the staged values of a CONFIG SET taking precedence
 * over the stored ones; the strings are owned (view_free). */
typedef struct {
    tls_settings_t s;
    char *owned[NFIELDS];
    bool enabled;             /* tls-port, tls-cluster or tls-replication set */
} tls_view_t;

static int field_of(int cfg_index)
{
    for (size_t k = 0; k < NFIELDS; k++)
        if (!strcmp(cfg_table[cfg_index].name, fields[k].name)) return (int)k;
    return -1;
}

static void view_fill(tls_view_t *v, const int *idx, const cfg_staged_t *st, int n)
{
    memset(v, 0, sizeof *v);
    for (size_t k = 0; k < NFIELDS; k++) {
        int i = cfg_lookup(fields[k].name, strlen(fields[k].name), NULL);
        if (i < 0) continue;
        const cfg_staged_t *mine = NULL;
        for (int j = 0; j < n; j++) if (idx[j] == i) mine = &st[j];   /* the last one wins, as stored */
        char *field = (char *)&v->s + fields[k].off;
        if (fields[k].kind == 's') {
            v->owned[k] = mine ? (mine->str ? strdup(mine->str) : NULL) : cfg_value_strdup(i);
            memcpy(field, &v->owned[k], sizeof(char *));
            continue;
        }
        long long num = mine ? mine->num : cfg_value_num(i);
        if (num && (fields[k].kind == '-' || !strcmp(fields[k].name, "tls-cluster") ||
                    !strcmp(fields[k].name, "tls-replication")))
            v->enabled = true;
        if (fields[k].kind == 'b') *(bool *)field = num != 0;
        else if (fields[k].kind == 'n') *(long long *)field = num;
        else if (fields[k].kind == 'i') *(int *)field = (int)num;
    }
}

static void view_free(tls_view_t *v)
{
    for (size_t k = 0; k < NFIELDS; k++) free(v->owned[k]);
}

int config_tls_startup(void)
{
    tls_view_t v;
    view_fill(&v, NULL, NULL, 0);
    int rc = 0;
    if (v.enabled) {
        tls_init();
        rc = tls_configure(&v.s);
    }
    view_free(&v);
    return rc;
}

bool config_tls_enabled(void)
{
    return config_get_num(CONFIG_TLS_PORT) || config_get_num(CONFIG_TLS_CLUSTER) ||
           config_get_num(CONFIG_TLS_REPLICATION);
}

int cfg_tls_apply(const int *idx, const cfg_staged_t *st, int n)
{
    /* tls-auth-clients applies to the next accept without a rebuild, and
     * tls-port only needs contexts that exist (7.0.15's applyTLSPort builds
     * them only when there are none). */
    bool touched = false, rebuild = false;
    for (int j = 0; j < n; j++) {
        int k = field_of(idx[j]);
        if (k < 0) continue;
        touched = true;
        if (strcmp(fields[k].name, "tls-auth-clients") != 0 && strcmp(fields[k].name, "tls-port") != 0)
            rebuild = true;
    }
    if (!touched) return 0;
    tls_view_t v;
    view_fill(&v, idx, st, n);
    int rc = 0;
    if (!rebuild && tls_configured()) {
        tls_set_auth_clients(v.s.auth_clients);
    } else if (v.enabled) {
        /* The first use (tls-port, tls-cluster or tls-replication set now)
         * also builds the contexts, as 7.0.15 does. */
        tls_init();   /* idempotent */
        rc = tls_configure(&v.s) == 0 ? 1 : -1;
    }
    view_free(&v);
    return rc;
}

void cfg_tls_restore(void)
{
    tls_view_t v;
    view_fill(&v, NULL, NULL, 0);
    if (v.enabled && tls_configure(&v.s) != 0)
        LOG_WARNING("Could not rebuild the TLS contexts from the stored configuration");
    view_free(&v);
}
