/* model_test.c: the test table of test-model (the tests live in the other files). */
#include "tests/runner.h"
#include "tests/model/list.h"
#include "chain/base.h"

#define DECL(n) void test_##n(void);
MODEL_TESTS(DECL)
#undef DECL

const struct test_case test_table[] = {
#define ROW(n) { #n, test_##n },
    MODEL_TESTS(ROW)
#undef ROW
    { NULL, NULL },
};
