/* xmalloc.h - the one allocation policy for memory whose size we chose
 * ourselves: out of memory is fatal, as in redis-server (its zmalloc calls an
 * out-of-memory handler that logs and aborts).
 *
 * Use these wherever running on without the memory would leave the node in a
 * state no one can reason about (a message that is never sent, a table half
 * grown). Do NOT use them where a peer or a file controls the size (a link's
 * input buffer, an RDB payload, a client's bulk length): there, refuse the
 * input and keep serving.
 *
 * Never: return NULL. Every function here logs Redis's warning line
 * "Out Of Memory allocating <n> bytes!" and calls abort() on failure, so the
 * crash handler reports it as any other fatal signal.
 */
#ifndef SHOAL_RUNTIME_XMALLOC_H
#define SHOAL_RUNTIME_XMALLOC_H

#include <stddef.h>

/* Each returns memory the caller owns and frees with free(). A zero size
 * allocates one byte, so a non-NULL result never means "failed". */
void *xmalloc(size_t size);
void *xcalloc(size_t count, size_t size);      /* a count*size overflow counts as out of memory */
void *xrealloc(void *ptr, size_t size);        /* on failure ptr is not freed: the process ends */
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* n bytes of p, whatever they are (NULs too), and a NUL after them. */
char *xmemdup(const void *p, size_t n);

/* The failure path: logs the warning and aborts. Exposed for callers that
 * allocate through another API (vasprintf) and for the unit test. */
_Noreturn void rt_oom(size_t size);

#endif
