/* Tests of chain/base.h: the error table, and the runner itself. */
#include "tests/runner.h"
#include "chain/base.h"

TEST(base_errors_named)
{
    CHECK_EQ_STR(based_errname(BASED_E_NONCE_GAP), "NONCE_GAP");
    CHECK_EQ_STR(based_strerror(BASED_E_OK), "ok");
    CHECK_EQ_STR(based_strerror((based_err)999), "unknown error");
    CHECK(BASED_E__COUNT <= 100);
    for (int i = 0; i < BASED_E__COUNT; i++)
        CHECK(strcmp(based_errname((based_err)i), "UNKNOWN") != 0);
}

const struct test_case test_table[] = {
    { "base_errors_named", test_base_errors_named },
    { NULL, NULL },
};
