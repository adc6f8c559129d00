/* The test table of test-validator, generated from tests.h. */
#include "tests/runner.h"
#include "tests/validator/tests.h"

#define DECLARE(name) void test_##name(void);
VALIDATOR_TESTS(DECLARE)
#undef DECLARE

const struct test_case test_table[] = {
#define ROW(name) { #name, test_##name },
    VALIDATOR_TESTS(ROW)
#undef ROW
    { NULL, NULL },
};
