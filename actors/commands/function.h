/* function.h - FUNCTION libraries as redis-server 7.0.15 keeps them.
 *
 * Three parts (see docs/scripting.md, "Functions"):
 *  - function_lib.c: the node's registry of libraries, shared by every
 *    worker (one mutex; entries are replaced, never changed in place), and
 *    its RDB form (FUNCTION DUMP/RESTORE payloads, the RDB's FUNCTION2
 *    records);
 *  - function_lua.c: running a library's code to learn its functions
 *    (FUNCTION LOAD, a restore, an RDB), and each worker's own Lua state
 *    holding every library, rebuilt when the registry's generation moves, in
 *    which FCALL runs;
 *  - cmd_function.c: the commands.
 */
#ifndef SHOAL_ACTORS_FUNCTION_H
#define SHOAL_ACTORS_FUNCTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "actors/commands/cmd.h"

typedef struct fn_func {
    char *name;                   /* as registered (FCALL finds it whatever its case) */
    char *desc;                   /* NULL: none */
    unsigned flags;               /* SCRIPT_F_* of script.h */
} fn_func_t;

typedef struct fn_lib {
    char *name;
    char *code;                   /* the whole text, shebang line included, NUL-terminated: what
                                   * LIST WITHCODE, DUMP and the RDB carry */
    size_t code_len;
    int nfuncs;
    fn_func_t *funcs;
} fn_lib_t;

void fn_lib_free(fn_lib_t *lib);
void fn_libs_free(fn_lib_t **libs, int n);
fn_lib_t *fn_lib_copy(const fn_lib_t *lib);

/* ---- function_lua.c ---- */

/* Builds the library of `code` as 7.0.15's FUNCTION LOAD does: its
 * metadata, its name, its engine, then (unless exists says the name is
 * taken: "Library 'x' already exists") its code run in a fresh sandbox
 * (timeout_ms: 0 none) to collect the functions it registers. Returns the
 * library (caller frees), or NULL with 7.0.15's error text (no "ERR ") in
 * err. */
typedef bool (*fn_exists_fn)(void *arg, const char *name);
fn_lib_t *fn_lib_build(const char *code, size_t len, long timeout_ms, fn_exists_fn exists, void *arg, char *err,
                       size_t errcap);
/* FCALL / FCALL_RO on this worker (its state is brought up to date first). */
void fn_call(cmd_ctx_t *ctx, bool ro);

/* ---- function_lib.c ---- */

enum fn_policy { FN_APPEND = 0, FN_REPLACE, FN_FLUSH };

/* Whether a library of that name exists (case-sensitive, as 7.0.15). */
bool fn_reg_has_lib(const char *name);
/* Adds libs (owned by the registry on success, left to the caller on
 * failure) under policy: FUNCTION LOAD (restore false: "Library 'x' already
 * exists" when APPEND finds the name) or RESTORE (restore true: "Library x
 * already exists"); both refuse a function name another library has
 * ("Function f already exists"). False with the error text in err. */
bool fn_reg_add(fn_lib_t **libs, int n, enum fn_policy policy, bool restore, char *err, size_t errcap);
bool fn_reg_delete(const uint8_t *name, size_t len);
void fn_reg_flush(void);
/* Replaces every library by libs (owned by the registry): a replica's full
 * sync, RESTORE FLUSH. */
void fn_reg_replace_all(fn_lib_t **libs, int n);
/* Bumped by every change; a worker's state holds the libraries of one. */
unsigned long fn_reg_gen(void);
/* Copies of every library, in the registry's order, and the generation they
 * are of (caller frees with fn_libs_free). */
fn_lib_t **fn_reg_snapshot(int *n, unsigned long *gen);
void fn_reg_counts(long long *libs, long long *funcs);
/* What the libraries take (their names, code and functions), for INFO. */
long long fn_reg_memory(void);
/* The flags of the function of that name (any case); false when none. */
bool fn_reg_func_flags(const uint8_t *name, size_t len, unsigned *flags);

/* The FUNCTION2 records of every library (RDB string encoding, LZF when
 * compress and it pays, as 7.0.15's rdbSaveFunctions): malloc'd, *len
 * bytes, NULL when there is none. For a save, a sync or a rewrite base,
 * taken at the cut. */
uint8_t *fn_rdb_records(int compress, size_t *len);
/* FUNCTION DUMP's payload (records, RDB version, CRC-64); malloc'd. */
uint8_t *fn_dump_payload(int compress, size_t *len);
/* FUNCTION RESTORE's payload parsed into libraries (each built as LOAD
 * builds it); NULL with 7.0.15's error text in err. */
fn_lib_t **fn_restore_parse(const uint8_t *p, size_t len, int *n, char *err, size_t errcap);
/* One library of an RDB (FUNCTION2 record's code) being loaded into the
 * set staged so far: false with the reason in err (the load fails, as
 * 7.0.15's). */
typedef struct fn_stage {
    fn_lib_t **libs;
    int n, cap;
} fn_stage_t;
bool fn_stage_add(fn_stage_t *st, const uint8_t *code, size_t len, char *err, size_t errcap);
/* The staged set becomes the registry's (st is emptied). */
void fn_stage_commit(fn_stage_t *st);
void fn_stage_free(fn_stage_t *st);

#endif
