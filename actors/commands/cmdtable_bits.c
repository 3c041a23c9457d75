/* cmdtable_bits.c - command table entries for the bitmap (SETBIT, GETBIT,
 * BITCOUNT, BITPOS, BITOP, BITFIELD, BITFIELD_RO), HyperLogLog (PFADD,
 * PFCOUNT, PFMERGE, PFDEBUG, PFSELFTEST) and LCS commands.
 *
 * Taken once from the COMMAND INFO / COMMAND DOCS replies of a real
 * redis-server 7.0.15: arity, flags, key positions, key specs, ACL
 * categories and argument trees are interop facts that clients read (redis-py
 * routes by them), so they must stay identical to 7.0.15. The summary,
 * complexity and history texts are our own words.
 * This file holds data only; it must never contain logic (see cmdtable.c).
 */
#include <stddef.h>
#include "actors/commands/cmd.h"
#include "actors/commands/commands.h"

static const cmd_keyspec_t keyspecs_setbit[] = {
    { .flags = "RW access update", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_setbit[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "offset", .type = "integer", .key_spec_index = -1 },
    { .name = "value", .type = "integer", .key_spec_index = -1 },
};

static const cmd_keyspec_t keyspecs_getbit[] = {
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_getbit[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "offset", .type = "integer", .key_spec_index = -1 },
};

static const cmd_keyspec_t keyspecs_bitcount[] = {
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_history_t history_bitcount[] = {
    { "7.0.0", "Ranges may be given in bits (BIT) as well as bytes (BYTE)." },
};

static const cmd_arg_doc_t args_bitcount_index_index_unit[] = {
    { .name = "byte", .type = "pure-token", .key_spec_index = -1, .token = "BYTE" },
    { .name = "bit", .type = "pure-token", .key_spec_index = -1, .token = "BIT" },
};

static const cmd_arg_doc_t args_bitcount_index[] = {
    { .name = "start", .type = "integer", .key_spec_index = -1 },
    { .name = "end", .type = "integer", .key_spec_index = -1 },
    { .name = "index_unit", .type = "oneof", .key_spec_index = -1, .since = "7.0.0", .flags = CMD_ARG_OPTIONAL, .subargs = args_bitcount_index_index_unit, .subarg_count = 2 },
};

static const cmd_arg_doc_t args_bitcount[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "index", .type = "block", .key_spec_index = -1, .flags = CMD_ARG_OPTIONAL, .subargs = args_bitcount_index, .subarg_count = 3 },
};

static const cmd_keyspec_t keyspecs_bitpos[] = {
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_history_t history_bitpos[] = {
    { "7.0.0", "Ranges may be given in bits (BIT) as well as bytes (BYTE)." },
};

static const cmd_arg_doc_t args_bitpos_index_end_index_index_unit[] = {
    { .name = "byte", .type = "pure-token", .key_spec_index = -1, .token = "BYTE" },
    { .name = "bit", .type = "pure-token", .key_spec_index = -1, .token = "BIT" },
};

static const cmd_arg_doc_t args_bitpos_index_end_index[] = {
    { .name = "end", .type = "integer", .key_spec_index = -1 },
    { .name = "index_unit", .type = "oneof", .key_spec_index = -1, .since = "7.0.0", .flags = CMD_ARG_OPTIONAL, .subargs = args_bitpos_index_end_index_index_unit, .subarg_count = 2 },
};

static const cmd_arg_doc_t args_bitpos_index[] = {
    { .name = "start", .type = "integer", .key_spec_index = -1 },
    { .name = "end_index", .type = "block", .key_spec_index = -1, .flags = CMD_ARG_OPTIONAL, .subargs = args_bitpos_index_end_index, .subarg_count = 2 },
};

static const cmd_arg_doc_t args_bitpos[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "bit", .type = "integer", .key_spec_index = -1 },
    { .name = "index", .type = "block", .key_spec_index = -1, .flags = CMD_ARG_OPTIONAL, .subargs = args_bitpos_index, .subarg_count = 2 },
};

static const cmd_keyspec_t keyspecs_bitop[] = {
    { .flags = "OW update", .bs_type = CMD_KS_INDEX, .bs_index = 2, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 3, .fk_type = CMD_KS_RANGE, .fk_a = -1, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_bitop[] = {
    { .name = "operation", .type = "string", .key_spec_index = -1 },
    { .name = "destkey", .type = "key", .key_spec_index = 0 },
    { .name = "key", .type = "key", .key_spec_index = 1, .flags = CMD_ARG_MULTIPLE },
};

static const cmd_keyspec_t keyspecs_bitfield[] = {
    { .flags = "RW access update variable_flags", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0, .notes = "This command allows both access and modification of the key" },
};

static const cmd_arg_doc_t args_bitfield_operation_encoding_offset[] = {
    { .name = "encoding", .type = "string", .key_spec_index = -1 },
    { .name = "offset", .type = "integer", .key_spec_index = -1 },
};

static const cmd_arg_doc_t args_bitfield_operation_write_wrap_sat_fail[] = {
    { .name = "wrap", .type = "pure-token", .key_spec_index = -1, .token = "WRAP" },
    { .name = "sat", .type = "pure-token", .key_spec_index = -1, .token = "SAT" },
    { .name = "fail", .type = "pure-token", .key_spec_index = -1, .token = "FAIL" },
};

static const cmd_arg_doc_t args_bitfield_operation_write_write_operation_encoding_offset_value[] = {
    { .name = "encoding", .type = "string", .key_spec_index = -1 },
    { .name = "offset", .type = "integer", .key_spec_index = -1 },
    { .name = "value", .type = "integer", .key_spec_index = -1 },
};

static const cmd_arg_doc_t args_bitfield_operation_write_write_operation_encoding_offset_increment[] = {
    { .name = "encoding", .type = "string", .key_spec_index = -1 },
    { .name = "offset", .type = "integer", .key_spec_index = -1 },
    { .name = "increment", .type = "integer", .key_spec_index = -1 },
};

static const cmd_arg_doc_t args_bitfield_operation_write_write_operation[] = {
    { .name = "encoding_offset_value", .type = "block", .key_spec_index = -1, .token = "SET", .subargs = args_bitfield_operation_write_write_operation_encoding_offset_value, .subarg_count = 3 },
    { .name = "encoding_offset_increment", .type = "block", .key_spec_index = -1, .token = "INCRBY", .subargs = args_bitfield_operation_write_write_operation_encoding_offset_increment, .subarg_count = 3 },
};

static const cmd_arg_doc_t args_bitfield_operation_write[] = {
    { .name = "wrap_sat_fail", .type = "oneof", .key_spec_index = -1, .token = "OVERFLOW", .flags = CMD_ARG_OPTIONAL, .subargs = args_bitfield_operation_write_wrap_sat_fail, .subarg_count = 3 },
    { .name = "write_operation", .type = "oneof", .key_spec_index = -1, .subargs = args_bitfield_operation_write_write_operation, .subarg_count = 2 },
};

static const cmd_arg_doc_t args_bitfield_operation[] = {
    { .name = "encoding_offset", .type = "block", .key_spec_index = -1, .token = "GET", .subargs = args_bitfield_operation_encoding_offset, .subarg_count = 2 },
    { .name = "write", .type = "block", .key_spec_index = -1, .subargs = args_bitfield_operation_write, .subarg_count = 2 },
};

static const cmd_arg_doc_t args_bitfield[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "operation", .type = "oneof", .key_spec_index = -1, .flags = CMD_ARG_OPTIONAL | CMD_ARG_MULTIPLE, .subargs = args_bitfield_operation, .subarg_count = 2 },
};

static const cmd_keyspec_t keyspecs_bitfield_ro[] = {
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_bitfield_ro_encoding_offset[] = {
    { .name = "encoding", .type = "string", .key_spec_index = -1 },
    { .name = "offset", .type = "integer", .key_spec_index = -1 },
};

static const cmd_arg_doc_t args_bitfield_ro[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "encoding_offset", .type = "block", .key_spec_index = -1, .token = "GET", .flags = CMD_ARG_OPTIONAL | CMD_ARG_MULTIPLE | CMD_ARG_MULTIPLE_TOKEN, .subargs = args_bitfield_ro_encoding_offset, .subarg_count = 2 },
};

static const cmd_keyspec_t keyspecs_pfadd[] = {
    { .flags = "RW insert", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_pfadd[] = {
    { .name = "key", .type = "key", .key_spec_index = 0 },
    { .name = "element", .type = "string", .key_spec_index = -1, .flags = CMD_ARG_OPTIONAL | CMD_ARG_MULTIPLE },
};

static const cmd_keyspec_t keyspecs_pfcount[] = {
    { .flags = "RW access", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = -1, .fk_b = 1, .fk_c = 0, .notes = "RW because it may change the internal representation of the key, and propagate to replicas" },
};

static const cmd_arg_doc_t args_pfcount[] = {
    { .name = "key", .type = "key", .key_spec_index = 0, .flags = CMD_ARG_MULTIPLE },
};

static const cmd_keyspec_t keyspecs_pfmerge[] = {
    { .flags = "RW access insert", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 2, .fk_type = CMD_KS_RANGE, .fk_a = -1, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_pfmerge[] = {
    { .name = "destkey", .type = "key", .key_spec_index = 0 },
    { .name = "sourcekey", .type = "key", .key_spec_index = 1, .flags = CMD_ARG_MULTIPLE },
};

static const cmd_keyspec_t keyspecs_pfdebug[] = {
    { .flags = "RW access", .bs_type = CMD_KS_INDEX, .bs_index = 2, .fk_type = CMD_KS_RANGE, .fk_a = 0, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_pfdebug[] = {
    { .name = "subcommand", .type = "string", .key_spec_index = -1 },
    { .name = "key", .type = "key", .key_spec_index = 0 },
};

static const cmd_keyspec_t keyspecs_lcs[] = {
    { .flags = "RO access", .bs_type = CMD_KS_INDEX, .bs_index = 1, .fk_type = CMD_KS_RANGE, .fk_a = 1, .fk_b = 1, .fk_c = 0 },
};

static const cmd_arg_doc_t args_lcs[] = {
    { .name = "key1", .type = "key", .key_spec_index = 0 },
    { .name = "key2", .type = "key", .key_spec_index = 0 },
    { .name = "len", .type = "pure-token", .key_spec_index = -1, .token = "LEN", .flags = CMD_ARG_OPTIONAL },
    { .name = "idx", .type = "pure-token", .key_spec_index = -1, .token = "IDX", .flags = CMD_ARG_OPTIONAL },
    { .name = "len", .type = "integer", .key_spec_index = -1, .token = "MINMATCHLEN", .flags = CMD_ARG_OPTIONAL },
    { .name = "withmatchlen", .type = "pure-token", .key_spec_index = -1, .token = "WITHMATCHLEN", .flags = CMD_ARG_OPTIONAL },
};

cmd_def_t cmdtable_bits[] = {
    {
        .name = "setbit", .arity = 4, .flags = CMD_WRITE | CMD_DENYOOM, .flag_names = "write denyoom",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "write bitmap slow",
        .keyspecs = keyspecs_setbit, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_setbit,
        .summary = "Sets or clears one bit of the string stored at a key, growing it with zero bytes as needed",
        .since = "2.2.0", .group = "bitmap", .complexity = "O(1)",
        .args = args_setbit, .arg_count = 3,
    },
    {
        .name = "getbit", .arity = 3, .flags = CMD_READONLY | CMD_FAST, .flag_names = "readonly fast",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "read bitmap fast",
        .keyspecs = keyspecs_getbit, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_getbit,
        .summary = "Reads one bit of the string stored at a key",
        .since = "2.2.0", .group = "bitmap", .complexity = "O(1)",
        .args = args_getbit, .arg_count = 2,
    },
    {
        .name = "bitcount", .arity = -2, .flags = CMD_READONLY, .flag_names = "readonly",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "read bitmap slow",
        .keyspecs = keyspecs_bitcount, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_bitcount,
        .summary = "Counts the bits set to one in a string, or in a byte or bit range of it",
        .since = "2.6.0", .group = "bitmap", .complexity = "O(N), N being the number of bytes counted",
        .history = history_bitcount, .history_count = 1,
        .args = args_bitcount, .arg_count = 2,
    },
    {
        .name = "bitpos", .arity = -3, .flags = CMD_READONLY, .flag_names = "readonly",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "read bitmap slow",
        .keyspecs = keyspecs_bitpos, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_bitpos,
        .summary = "Finds the first bit set to one, or to zero, in a string or a range of it",
        .since = "2.8.7", .group = "bitmap", .complexity = "O(N), N being the number of bytes scanned",
        .history = history_bitpos, .history_count = 1,
        .args = args_bitpos, .arg_count = 3,
    },
    {
        .name = "bitop", .arity = -4, .flags = CMD_WRITE | CMD_DENYOOM, .flag_names = "write denyoom",
        .first_key = 2, .last_key = -1, .key_step = 1, .acl_categories = "write bitmap slow",
        .keyspecs = keyspecs_bitop, .keyspec_count = 2,
        .exec = CMD_EXEC_KEYED, .handler = cmd_bitop,
        .summary = "Stores the bitwise AND, OR, XOR or NOT of strings at a destination key",
        .since = "2.6.0", .group = "bitmap", .complexity = "O(N), N being the length of the longest input string",
        .args = args_bitop, .arg_count = 3,
    },
    {
        .name = "bitfield", .arity = -2, .flags = CMD_WRITE | CMD_DENYOOM, .flag_names = "write denyoom",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "write bitmap slow",
        .keyspecs = keyspecs_bitfield, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_bitfield,
        .summary = "Reads, writes and increments integers of any width from 1 to 64 bits at any bit offset of a string",
        .since = "3.2.0", .group = "bitmap", .complexity = "O(1) per operation given",
        .args = args_bitfield, .arg_count = 2,
    },
    {
        .name = "bitfield_ro", .arity = -2, .flags = CMD_READONLY | CMD_FAST, .flag_names = "readonly fast",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "read bitmap fast",
        .keyspecs = keyspecs_bitfield_ro, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_bitfield_ro,
        .summary = "Reads integers of any width at any bit offset of a string (the read-only BITFIELD)",
        .since = "6.0.0", .group = "bitmap", .complexity = "O(1) per GET given",
        .args = args_bitfield_ro, .arg_count = 2,
    },
    {
        .name = "pfadd", .arity = -2, .flags = CMD_WRITE | CMD_DENYOOM | CMD_FAST, .flag_names = "write denyoom fast",
        .first_key = 1, .last_key = 1, .key_step = 1, .acl_categories = "write hyperloglog fast",
        .keyspecs = keyspecs_pfadd, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_pfadd,
        .summary = "Adds elements to the HyperLogLog stored at a key",
        .since = "2.8.9", .group = "hyperloglog", .complexity = "O(1) per element added",
        .args = args_pfadd, .arg_count = 2,
    },
    {
        .name = "pfcount", .arity = -2, .flags = CMD_READONLY | CMD_MAY_REPLICATE, .flag_names = "readonly",
        .first_key = 1, .last_key = -1, .key_step = 1, .acl_categories = "read hyperloglog slow",
        .keyspecs = keyspecs_pfcount, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_pfcount,
        .summary = "Estimates the number of distinct elements added to one HyperLogLog, or to the union of several",
        .since = "2.8.9", .group = "hyperloglog", .complexity = "O(1) for one key thanks to the cached estimate; O(N) for N keys, with a large constant",
        .args = args_pfcount, .arg_count = 1,
    },
    {
        .name = "pfmerge", .arity = -2, .flags = CMD_WRITE | CMD_DENYOOM, .flag_names = "write denyoom",
        .first_key = 1, .last_key = -1, .key_step = 1, .acl_categories = "write hyperloglog slow",
        .keyspecs = keyspecs_pfmerge, .keyspec_count = 2,
        .exec = CMD_EXEC_KEYED, .handler = cmd_pfmerge,
        .summary = "Stores the union of HyperLogLogs at a destination key",
        .since = "2.8.9", .group = "hyperloglog", .complexity = "O(N), N being the number of HyperLogLogs merged, with a large constant",
        .args = args_pfmerge, .arg_count = 2,
    },
    {
        .name = "pfdebug", .arity = 3, .flags = CMD_WRITE | CMD_DENYOOM | CMD_ADMIN, .flag_names = "write denyoom admin",
        .first_key = 2, .last_key = 2, .key_step = 1, .acl_categories = "write hyperloglog admin slow dangerous",
        .keyspecs = keyspecs_pfdebug, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_pfdebug,
        .summary = "Internal: inspects or converts the representation of a HyperLogLog",
        .since = "2.8.9", .group = "hyperloglog", .complexity = "Not applicable",
        .doc_flags = "syscmd",
        .args = args_pfdebug, .arg_count = 2,
    },
    {
        .name = "pfselftest", .arity = 1, .flags = CMD_ADMIN, .flag_names = "admin",
        .first_key = 0, .last_key = 0, .key_step = 0, .acl_categories = "hyperloglog admin slow dangerous",
        .exec = CMD_EXEC_CLIENT, .handler = cmd_pfselftest,
        .summary = "Internal: checks the HyperLogLog register code and estimator",
        .since = "2.8.9", .group = "hyperloglog", .complexity = "Not applicable",
        .doc_flags = "syscmd",
    },
    {
        .name = "lcs", .arity = -3, .flags = CMD_READONLY, .flag_names = "readonly",
        .first_key = 1, .last_key = 2, .key_step = 1, .acl_categories = "read string slow",
        .keyspecs = keyspecs_lcs, .keyspec_count = 1,
        .exec = CMD_EXEC_KEYED, .handler = cmd_lcs,
        .summary = "Finds the longest common subsequence of the strings at two keys",
        .since = "7.0.0", .group = "string", .complexity = "O(N*M), N and M being the lengths of the two strings",
        .args = args_lcs, .arg_count = 6,
    },
    { .name = NULL },
};
