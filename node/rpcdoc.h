/*
 * rpcdoc.h: the Markdown RPC reference (docs/rpc.md), generated from a
 * method table. Returns a malloc'd string (caller frees) or NULL.
 */
#ifndef BASED_NODE_RPCDOC_H
#define BASED_NODE_RPCDOC_H

#include "node/rpc.h"

char *node_rpc_markdown(const node_rpc_method *table);

#endif
