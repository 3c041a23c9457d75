/* config_tls.c - the tls-* directives turned into OpenSSL contexts
 * (runtime/tls.h): at startup, and on CONFIG SET of a directive the contexts
 * are built from, before the new values are stored, so that a certificate
 * that does not load fails the command and changes nothing (as 7.0.15's
 * "Unable to update TLS configuration").
 *
 * TLS is in use when tls-port, tls-cluster or tls-replication is set; until
 * then the file directives are only stored, as in Redis.
 */
#include <stdlib.h>
#include <string.h>

#include "actors/config/config_internal.h"
#include "runtime/tls.h"

/* The directives a context is built from. */
static const char *const ctx_names[] = {
    "tls-cert-file", "tls-key-file", "tls-key-file-pass", "tls-client-cert-file", "tls-client-key-file",
    "tls-client-key-file-pass", "tls-dh-params-file", "tls-ca-cert-file", "tls-ca-cert-dir", "tls-protocols",
    "tls-ciphers", "tls-ciphersuites", "tls-prefer-server-ciphers", "tls-session-caching",
    "tls-session-cache-size", "tls-session-cache-timeout", "tls-auth-clients", "tls-cluster", "tls-replication",
    "tls-port",
};
#define NCTX (sizeof ctx_names / sizeof ctx_names[0])

/* Values of ctx_names, the staged ones of a CONFIG SET taking precedence. */
typedef struct {
    char *str[NCTX];
    long long num[NCTX];
} tls_view_t;

static int name_index(int cfg_index)
{
    for (size_t k = 0; k < NCTX; k++)
        if (!strcmp(cfg_table[cfg_index].name, ctx_names[k])) return (int)k;
    return -1;
}

static void view_fill(tls_view_t *v, const int *idx, const cfg_staged_t *st, int n)
{
    for (size_t k = 0; k < NCTX; k++) {
        int i = cfg_lookup(ctx_names[k], strlen(ctx_names[k]), NULL);
        v->str[k] = NULL;
        v->num[k] = 0;
        if (i < 0) continue;
        const cfg_staged_t *mine = NULL;
        for (int j = 0; j < n; j++) if (idx[j] == i) mine = &st[j];   /* the last one wins, as stored */
        if (cfg_table[i].kind == CK_STR) v->str[k] = mine ? (mine->str ? strdup(mine->str) : NULL) : cfg_value_strdup(i);
        else v->num[k] = mine ? mine->num : cfg_value_num(i);
    }
}

static void view_free(tls_view_t *v)
{
    for (size_t k = 0; k < NCTX; k++) free(v->str[k]);
}

static const char *vs(const tls_view_t *v, const char *name)
{
    for (size_t k = 0; k < NCTX; k++) if (!strcmp(ctx_names[k], name)) return v->str[k];
    return NULL;
}

static long long vn(const tls_view_t *v, const char *name)
{
    for (size_t k = 0; k < NCTX; k++) if (!strcmp(ctx_names[k], name)) return v->num[k];
    return 0;
}

static bool view_enabled(const tls_view_t *v)
{
    return vn(v, "tls-port") || vn(v, "tls-cluster") || vn(v, "tls-replication");
}

static int view_configure(const tls_view_t *v)
{
    tls_settings_t s = {
        .cert_file = vs(v, "tls-cert-file"),
        .key_file = vs(v, "tls-key-file"),
        .key_file_pass = vs(v, "tls-key-file-pass"),
        .client_cert_file = vs(v, "tls-client-cert-file"),
        .client_key_file = vs(v, "tls-client-key-file"),
        .client_key_file_pass = vs(v, "tls-client-key-file-pass"),
        .dh_params_file = vs(v, "tls-dh-params-file"),
        .ca_cert_file = vs(v, "tls-ca-cert-file"),
        .ca_cert_dir = vs(v, "tls-ca-cert-dir"),
        .protocols = vs(v, "tls-protocols"),
        .ciphers = vs(v, "tls-ciphers"),
        .ciphersuites = vs(v, "tls-ciphersuites"),
        .prefer_server_ciphers = vn(v, "tls-prefer-server-ciphers") != 0,
        .session_caching = vn(v, "tls-session-caching") != 0,
        .session_cache_size = vn(v, "tls-session-cache-size"),
        .session_cache_timeout = vn(v, "tls-session-cache-timeout"),
        .auth_clients = (int)vn(v, "tls-auth-clients"),
        .tls_cluster = vn(v, "tls-cluster") != 0,
        .tls_replication = vn(v, "tls-replication") != 0,
    };
    return tls_configure(&s);
}

int config_tls_startup(void)
{
    tls_view_t v;
    view_fill(&v, NULL, NULL, 0);
    int rc = 0;
    if (view_enabled(&v)) {
        tls_init();
        rc = view_configure(&v);
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
    bool touched = false, auth_only = true;
    for (int j = 0; j < n; j++) {
        int k = name_index(idx[j]);
        if (k < 0) continue;
        touched = true;
        if (strcmp(ctx_names[k], "tls-auth-clients") != 0) auth_only = false;
    }
    if (!touched) return 0;
    tls_view_t v;
    view_fill(&v, idx, st, n);
    int rc = 0;
    if (auth_only && tls_configured()) {
        tls_set_auth_clients((int)vn(&v, "tls-auth-clients"));
    } else if (view_enabled(&v)) {
        /* The first use (tls-port, tls-cluster or tls-replication set now)
         * also builds the contexts, as 7.0.15 does. */
        tls_init();   /* idempotent */
        rc = view_configure(&v);
    }
    view_free(&v);
    return rc;
}
