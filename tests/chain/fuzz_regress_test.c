/*
 * Regression tests for defects the libFuzzer harnesses (fuzz/) found in
 * chain/. Each test names the harness and keeps the input it found.
 */
#include "tests/runner.h"
#include "chain/crypto.h"

/* fuzz/ss58_decode: "0x" + 44 valid digits + a tab + 19 more digits.
 * chain_unhex wrote the first 22 bytes before meeting the tab, so
 * chain_addr_parse returned BAD_ADDRESS with a half-written address. */
TEST(fuzz_regress_unhex_no_partial_output)
{
    static const char bad[] = "0x11111111111111111111111111111111111111111111"
                              "\t1111111111111111110";
    static const uint8_t zero[32];
    chain_addr a;
    uint8_t raw[32];
    const char *why = NULL;
    CHECK_EQ_INT(strlen(bad), 66);
    memset(&a, 0xaa, sizeof a);
    CHECK_EQ_INT(chain_addr_parse(bad, CHAIN_SS58_DEFAULT_PREFIX, &a, &why), BASED_E_BAD_ADDRESS);
    CHECK(why != NULL && why[0] != '\0');
    CHECK_EQ_MEM(a.b, zero, 32);
    memset(raw, 0xaa, sizeof raw);
    CHECK_EQ_INT(chain_unhex(bad, raw, 32), BASED_E_BAD_HEX);
    CHECK_EQ_MEM(raw, zero, 32);
    /* the last digit bad: 31 bytes would have been written */
    char late[67];
    memset(late, 'f', sizeof late);
    late[0] = '0';
    late[1] = 'x';
    late[65] = 'g';
    late[66] = '\0';
    memset(raw, 0xaa, sizeof raw);
    CHECK_EQ_INT(chain_unhex(late, raw, 32), BASED_E_BAD_HEX);
    CHECK_EQ_MEM(raw, zero, 32);
}
