/*
 * rpc_table.h: the small method table the node tests serve (defined in
 * rpc_table.c): echo, add, kinds (one param of each type), fail (an
 * application error naming a field), raw (a raw -32602), nothing (returns
 * NULL without an error) and count (counts its calls in *(int *)ctx).
 */
#ifndef BASED_TESTS_NODE_RPC_TABLE_H
#define BASED_TESTS_NODE_RPC_TABLE_H

#include "node/rpc.h"

extern const node_rpc_method test_rpc_table[];

/* Runs node_jsonrpc_handle on a C string and parses the answer; NULL when
 * there is none (and *raw_len == 0). */
json_t *test_rpc_call(const char *body, void *ctx);

#endif
