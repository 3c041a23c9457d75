/* cluster_sim_client.h - cluster_sim's RESP connection to the node under
 * test's client port (one connection, blocking, 10 s receive timeout). Every
 * function dies (bench_die) when the connection fails. */
#ifndef CLUSTER_SIM_CLIENT_H
#define CLUSTER_SIM_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

/* Connects to 127.0.0.1:port. */
void client_connect(int port);
/* Sends a command and reads one reply into *out (NUL-terminated; bulk strings
 * without their header; the buffer is ours, valid until the next call).
 * Returns the reply's first byte ('+', '-', ':', '$'). */
char client_call(const char *const *argv, int argc, char **out, size_t *out_len);
/* Exits with status 1, printing the reply, unless it is a simple string ('+'). */
void client_expect_ok(const char *const *argv, int argc);
/* True once CLUSTER INFO says the state is ok and all n_nodes nodes are known. */
bool node_converged(unsigned n_nodes);
/* The flags field of `name`'s line in CLUSTER NODES ("" if not listed). */
void node_flags(const char *name, char *flags, size_t cap);

#endif
