/* cmdtable_acl.c - the ACL container and its subcommands, as 7.0.15's
 * COMMAND INFO and COMMAND DOCS describe them (data only; the handler is
 * cmd_acl.c). */
#include "actors/commands/cmd.h"
#include "actors/commands/commands.h"

static const cmd_arg_doc_t args_acl_cat[] = {
    { .name = "categoryname", .type = "string", .key_spec_index = -1, .flags = CMD_ARG_OPTIONAL },
};
static const cmd_arg_doc_t args_acl_deluser[] = {
    { .name = "username", .type = "string", .key_spec_index = -1, .flags = CMD_ARG_MULTIPLE },
};
static const cmd_arg_doc_t args_acl_dryrun[] = {
    { .name = "username", .type = "string", .key_spec_index = -1 },
    { .name = "command", .type = "string", .key_spec_index = -1 },
    { .name = "arg", .type = "string", .key_spec_index = -1, .flags = CMD_ARG_OPTIONAL | CMD_ARG_MULTIPLE },
};
static const cmd_arg_doc_t args_acl_genpass[] = {
    { .name = "bits", .type = "integer", .key_spec_index = -1, .flags = CMD_ARG_OPTIONAL },
};
static const cmd_history_t history_acl_getuser[] = {
    { "6.2.0", "Added Pub/Sub channel patterns." },
    { "7.0.0", "Added selectors and changed the format of key and channel patterns from a list to their rule "
               "representation." },
};
static const cmd_arg_doc_t args_acl_getuser[] = {
    { .name = "username", .type = "string", .key_spec_index = -1 },
};
static const cmd_arg_doc_t args_acl_log_operation[] = {
    { .name = "count", .type = "integer", .key_spec_index = -1 },
    { .name = "reset", .type = "pure-token", .key_spec_index = -1, .token = "RESET" },
};
static const cmd_arg_doc_t args_acl_log[] = {
    { .name = "operation", .type = "oneof", .key_spec_index = -1, .flags = CMD_ARG_OPTIONAL,
      .subargs = args_acl_log_operation, .subarg_count = 2 },
};
static const cmd_history_t history_acl_setuser[] = {
    { "6.2.0", "Added Pub/Sub channel patterns." },
    { "7.0.0", "Added selectors and key based permissions." },
};
static const cmd_arg_doc_t args_acl_setuser[] = {
    { .name = "username", .type = "string", .key_spec_index = -1 },
    { .name = "rule", .type = "string", .key_spec_index = -1, .flags = CMD_ARG_OPTIONAL | CMD_ARG_MULTIPLE },
};

#define ACL_ADMIN CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, .flag_names = "admin noscript loading stale", \
    .acl_categories = "admin slow dangerous"
#define ACL_PLAIN CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, .flag_names = "noscript loading stale", \
    .acl_categories = "slow"

static cmd_def_t subcommands_acl[] = {
    { .name = "cat", .arity = -2, .flags = ACL_PLAIN, .exec = CMD_EXEC_CLIENT, .handler = cmd_acl,
      .summary = "List the ACL categories or the commands inside a category", .since = "6.0.0", .group = "server",
      .complexity = "O(1) since the categories and commands are a fixed set.", .args = args_acl_cat, .arg_count = 1 },
    { .name = "deluser", .arity = -3, .flags = ACL_ADMIN, .exec = CMD_EXEC_CLIENT, .handler = cmd_acl,
      .summary = "Remove the specified ACL users and the associated rules", .since = "6.0.0", .group = "server",
      .complexity = "O(1) amortized time considering the typical user.", .args = args_acl_deluser, .arg_count = 1 },
    { .name = "dryrun", .arity = -4, .flags = ACL_ADMIN, .exec = CMD_EXEC_CLIENT, .handler = cmd_acl,
      .summary = "Returns whether the user can execute the given command without executing the command.",
      .since = "7.0.0", .group = "server", .complexity = "O(1).", .args = args_acl_dryrun, .arg_count = 3 },
    { .name = "genpass", .arity = -2, .flags = ACL_PLAIN, .exec = CMD_EXEC_CLIENT, .handler = cmd_acl,
      .summary = "Generate a pseudorandom secure password to use for ACL users", .since = "6.0.0", .group = "server",
      .complexity = "O(1)", .args = args_acl_genpass, .arg_count = 1 },
    { .name = "getuser", .arity = 3, .flags = ACL_ADMIN, .exec = CMD_EXEC_CLIENT, .handler = cmd_acl,
      .summary = "Get the rules for a specific ACL user", .since = "6.0.0", .group = "server",
      .complexity = "O(N). Where N is the number of password, command and pattern rules that the user has.",
      .history = history_acl_getuser, .history_count = 2, .args = args_acl_getuser, .arg_count = 1 },
    { .name = "help", .arity = 2, .flags = CMD_LOADING | CMD_STALE, .flag_names = "loading stale",
      .acl_categories = "slow", .exec = CMD_EXEC_CLIENT, .handler = cmd_acl,
      .summary = "Show helpful text about the different subcommands", .since = "6.0.0", .group = "server",
      .complexity = "O(1)" },
    { .name = "list", .arity = 2, .flags = ACL_ADMIN, .exec = CMD_EXEC_CLIENT, .handler = cmd_acl,
      .summary = "List the current ACL rules in ACL config file format", .since = "6.0.0", .group = "server",
      .complexity = "O(N). Where N is the number of configured users." },
    { .name = "load", .arity = 2, .flags = ACL_ADMIN, .exec = CMD_EXEC_CLIENT, .handler = cmd_acl,
      .summary = "Reload the ACLs from the configured ACL file", .since = "6.0.0", .group = "server",
      .complexity = "O(N). Where N is the number of configured users." },
    { .name = "log", .arity = -2, .flags = ACL_ADMIN, .exec = CMD_EXEC_CLIENT, .handler = cmd_acl,
      .summary = "List latest events denied because of ACLs in place", .since = "6.0.0", .group = "server",
      .complexity = "O(N) with N being the number of entries shown.", .args = args_acl_log, .arg_count = 1 },
    { .name = "save", .arity = 2, .flags = ACL_ADMIN, .exec = CMD_EXEC_CLIENT, .handler = cmd_acl,
      .summary = "Save the current ACL rules in the configured ACL file", .since = "6.0.0", .group = "server",
      .complexity = "O(N). Where N is the number of configured users." },
    { .name = "setuser", .arity = -3, .flags = ACL_ADMIN, .exec = CMD_EXEC_CLIENT, .handler = cmd_acl,
      .summary = "Modify or create the rules for a specific ACL user", .since = "6.0.0", .group = "server",
      .complexity = "O(N). Where N is the number of rules provided.", .history = history_acl_setuser,
      .history_count = 2, .args = args_acl_setuser, .arg_count = 2 },
    { .name = "users", .arity = 2, .flags = ACL_ADMIN, .exec = CMD_EXEC_CLIENT, .handler = cmd_acl,
      .summary = "List the username of all the configured ACL rules", .since = "6.0.0", .group = "server",
      .complexity = "O(N). Where N is the number of configured users." },
    { .name = "whoami", .arity = 2, .flags = ACL_PLAIN, .exec = CMD_EXEC_CLIENT, .handler = cmd_acl,
      .summary = "Return the name of the user associated to the current connection", .since = "6.0.0",
      .group = "server", .complexity = "O(1)" },
    { .name = NULL },
};

cmd_def_t cmdtable_acl[] = {
    { .name = "acl", .arity = -2, .flags = 0, .flag_names = "", .acl_categories = "slow",
      .exec = CMD_EXEC_CLIENT, .subcommands = subcommands_acl,
      .summary = "A container for Access List Control commands ", .since = "6.0.0", .group = "server",
      .complexity = "Depends on subcommand." },
    { .name = NULL },
};
