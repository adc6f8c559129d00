/*
 * jsonpos.h: where a value sits in a JSON text.
 *
 * JSON libraries report line and column for syntax errors only. To name the
 * line and column of a key that is well-formed but wrong (an unknown key, a
 * negative amount), chain_jsonpos_find walks the text (already accepted by
 * jansson) to the value at a path and returns its 1-based line and column.
 * Path elements are object keys, or array indices written "#3".
 * A path that does not exist gives the position of the deepest part found.
 */
#ifndef BASED_CHAIN_JSONPOS_H
#define BASED_CHAIN_JSONPOS_H

#include "chain/base.h"

#define CHAIN_JSONPOS_MAX_DEPTH 16

typedef struct {
    const char *elem[CHAIN_JSONPOS_MAX_DEPTH];
    int depth;
} chain_jsonpath;

void chain_jsonpos_find(const char *text, size_t len, const chain_jsonpath *path,
                        int *line, int *col);

#endif
