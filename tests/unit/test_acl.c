/* test_acl.c - unit tests of the ACL rules, their description and the
 * permission check (actors/acl), without a server. The expected texts are
 * what redis-server 7.0.15 answers for the same rules (ACL LIST), for rules
 * whose description does not depend on commands shoal has not.
 */
#include <stdlib.h>
#include <string.h>
#include "tests/unit/unit.h"
#include "actors/acl/acl_internal.h"
#include "actors/commands/commands.h"

static acl_user_t *user_with(const char *const *rules, int n, int *err_at)
{
    cmd_table_init();
    acl_cmds_init();
    acl_user_t *u = acl_user_new("u", 1, 5);
    *err_at = -1;
    for (int i = 0; i < n; i++)
        if (acl_user_apply(u, rules[i], strlen(rules[i])) != ACL_RULE_OK && *err_at < 0) *err_at = i;
    return u;
}

static int check(const acl_user_t *u, int *pos, int argc, const char **args)
{
    const uint8_t *argv[16];
    size_t argvlen[16];
    for (int i = 0; i < argc; i++) {
        argv[i] = (const uint8_t *)args[i];
        argvlen[i] = strlen(args[i]);
    }
    const cmd_def_t *cmd = cmd_lookup(argv[0], argvlen[0]);
    if (cmd && cmd->subcommands && argc > 1) cmd = cmd_lookup_sub(cmd, argv[1], argvlen[1]);
    *pos = 0;
    return acl_check(u, cmd, argc, argv, argvlen, pos);
}

#define CHECK_CALL(u, want, wantpos, ...) do { \
        const char *a_[] = { __VA_ARGS__ }; int p_; \
        CHECK_EQ_INT(check(u, &p_, (int)(sizeof a_ / sizeof a_[0]), a_), want); \
        if ((want) != ACL_OK && (want) != ACL_DENIED_CMD) CHECK_EQ_INT(p_, wantpos); } while (0)

TEST(acl_describe_as_redis)
{
    static const char *const r1[] = { "on", ">p", "~k*", "+get", "+select|0", "(+set ~x*)" };
    int bad;
    acl_user_t *u = user_with(r1, 6, &bad);
    CHECK_EQ_INT(bad, -1);
    char *d = acl_describe_user(u);
    CHECK_EQ_STR(d, "on #148de9c5a7a44d19e56cd9ae1a554bf67847afb0c58f6e12fa29ac7ddfca9940 ~k* resetchannels -@all "
                    "+select|0 +get (~x* resetchannels -@all +set)");   /* singles in table order */
    free(d);
    acl_user_free(u);
    static const char *const r2[] = { "reset", "%R~r*", "%W~w*", "%RW~rw", "&c*", "+@all", "-debug" };
    u = user_with(r2, 7, &bad);
    d = acl_describe_user(u);
    CHECK_EQ_STR(d, "off sanitize-payload %R~r* %W~w* ~rw resetchannels &c* +@all -debug");
    free(d);
    acl_user_free(u);
}

TEST(acl_rule_errors)
{
    static const struct { const char *rule; int err; } cases[] = {
        { "bogus", ACL_RULE_EINVAL }, { "+nosuch", ACL_RULE_ENOENT }, { "+@nosuch", ACL_RULE_ENOENT },
        { "-get|x", ACL_RULE_ENOENT }, { "+config|", ACL_RULE_EINVAL }, { "+config|get|x", ACL_RULE_ECHILD },
        { "<nopw", ACL_RULE_ENODEV }, { "#abc", ACL_RULE_EBADMSG }, { "%X~k", ACL_RULE_EINVAL },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int bad;
        const char *const r[] = { cases[i].rule };
        acl_user_t *u = user_with(r, 1, &bad);
        CHECK_EQ_INT(bad, 0);
        CHECK_EQ_INT(acl_user_apply(u, cases[i].rule, strlen(cases[i].rule)), cases[i].err);
        acl_user_free(u);
    }
    int bad;
    static const char *const r[] = { "allkeys", "~x" };
    acl_user_t *u = user_with(r, 2, &bad);
    CHECK_EQ_INT(bad, 1);
    acl_user_free(u);
}

TEST(acl_check_commands_keys_channels_selectors)
{
    static const char *const r[] = { "on", "-@all", "+get", "+set", "+publish", "+psubscribe", "%R~r*", "~k*",
                                     "&ch*", "(+lpush ~l*)" };
    int bad;
    acl_user_t *u = user_with(r, 10, &bad);
    CHECK_EQ_INT(bad, -1);
    CHECK_CALL(u, ACL_OK, 0, "get", "k1");
    CHECK_CALL(u, ACL_OK, 0, "get", "r1");
    CHECK_CALL(u, ACL_DENIED_KEY, 1, "set", "r1", "v");          /* read-only pattern */
    CHECK_CALL(u, ACL_OK, 0, "set", "k1", "v");
    CHECK_CALL(u, ACL_DENIED_KEY, 1, "set", "x", "v");
    CHECK_CALL(u, ACL_DENIED_CMD, 0, "del", "k1");
    CHECK_CALL(u, ACL_OK, 0, "publish", "ch1", "m");
    CHECK_CALL(u, ACL_DENIED_CHANNEL, 1, "publish", "other", "m");
    CHECK_CALL(u, ACL_OK, 0, "psubscribe", "ch*");                  /* the pattern as written */
    CHECK_CALL(u, ACL_DENIED_CHANNEL, 1, "psubscribe", "ch1*");
    CHECK_CALL(u, ACL_OK, 0, "lpush", "l1", "a");                   /* the selector */
    CHECK_CALL(u, ACL_DENIED_KEY, 1, "lpush", "k1", "a");          /* root: no lpush; selector: no key */
    CHECK_CALL(u, ACL_OK, 0, "auth", "x");                          /* no-auth commands need no bit */
    acl_user_free(u);
}
