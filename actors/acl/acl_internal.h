/* acl_internal.h - what the files of actors/acl share and nobody else needs. */
#ifndef SHOAL_ACTORS_ACL_INTERNAL_H
#define SHOAL_ACTORS_ACL_INTERNAL_H

#include "actors/acl/acl.h"

/* Why a rule was refused, as 7.0.15's errno values name them. */
enum acl_rule_err {
    ACL_RULE_OK = 0,
    ACL_RULE_ENOENT,      /* unknown command or category */
    ACL_RULE_EINVAL,      /* syntax */
    ACL_RULE_EEXIST,      /* key pattern after allkeys */
    ACL_RULE_EISDIR,      /* channel pattern after allchannels */
    ACL_RULE_ENODEV,      /* removing a password the user has not */
    ACL_RULE_EBADMSG,     /* bad #hash / !hash */
    ACL_RULE_EALREADY,    /* user defined twice in config files */
    ACL_RULE_ECHILD,      /* first-arg of a subcommand */
};
const char *acl_rule_error_text(int code);

void acl_cmds_init(void);

/* Users (acl_user.c). Every function here works on unpublished users only. */
acl_user_t *acl_user_new(const char *name, size_t len, uint64_t uid);
acl_user_t *acl_user_dup(const acl_user_t *u);
/* dst takes src's rules (not its name or uid). */
void acl_user_copy_rules(acl_user_t *dst, const acl_user_t *src);
void acl_user_free(acl_user_t *u);
/* One rule ("on", ">pw", "~k*", "(+get ~x)" ...): ACL_RULE_OK or why not. */
int acl_user_apply(acl_user_t *u, const char *op, size_t oplen);
int acl_selector_apply(acl_selector_t *s, const char *op, size_t oplen);
void acl_selector_init(acl_selector_t *s, uint32_t flags);
void acl_selector_free(acl_selector_t *s);
void acl_selector_copy(acl_selector_t *dst, const acl_selector_t *src);
bool acl_selector_bit(const acl_selector_t *s, int id);
/* Joins "(a" "b)" spread over words into one "(a b)"; NULL when a '(' is
 * never closed (*bad: that word's index). Returns malloc'd copies, *n of them. */
acl_str_t *acl_merge_selector_args(int argc, const uint8_t **argv, const size_t *argvlen, int *n, int *bad);
void acl_strs_free(acl_str_t *v, int n);
bool acl_has_spaces(const char *s, size_t len);
/* acl-pubsub-default: ACL_SEL_ALLCHANNELS or 0. */
uint32_t acl_pubsub_default(void);

/* Snapshots (acl_snap.c). */
void acl_snap_free(acl_snap_t *s);
acl_snap_t *acl_snap_dup(const acl_snap_t *s);
/* Inserts u in name order (its name must be new). */
void acl_snap_insert(acl_snap_t *s, acl_user_t *u);
int acl_snap_find(const acl_snap_t *s, const char *name, size_t len);
uint64_t acl_next_uid(void);
acl_user_t *acl_default_user_new(void);
/* Publishes s in place of every user (ACL LOAD): default keeps its uid, the
 * others end (their uids into *ended, malloc'd, when ended is not NULL). */
void acl_replace_all(acl_snap_t *s, uint64_t **ended, int *nended);

#endif
