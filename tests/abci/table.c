/* The test table of test-abci, generated from tests.h. */
#include "tests/runner.h"
#include "tests/abci/tests.h"

const struct test_case test_table[] = {
#define ROW(name) { #name, test_##name },
    ABCI_TESTS(ROW)
#undef ROW
    { NULL, NULL },
};
