/* The test table of test-node, generated from tests.h. */
#include "tests/runner.h"
#include "tests/node/tests.h"

#define DECLARE(name) void test_##name(void);
NODE_TESTS(DECLARE)
#undef DECLARE

const struct test_case test_table[] = {
#define ROW(name) { #name, test_##name },
    NODE_TESTS(ROW)
#undef ROW
    { NULL, NULL },
};
