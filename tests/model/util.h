/* util.h: fixtures shared by the model tests. */
#ifndef BASED_TESTS_MODEL_UTIL_H
#define BASED_TESTS_MODEL_UTIL_H
#include "model/model.h"
/* Train a tiny byte-level model (2 layers, dim 32, GQA 2:1, seq 32) into the
 * test's scratch directory; returns its path or NULL. threads: 1 or 2. */
const char *tiny_model(const char *name, int threads);
/* Run a shell command, return its exit status (-1 if it did not exit). */
int run_cmd(const char *cmd);
/* Read a whole file (NUL-terminated, caller frees). */
char *slurp(const char *path, size_t *len);
#endif
