/*
 * Regression tests for defects the libFuzzer harnesses (fuzz/) found in
 * chain/. Each test names the harness and keeps the input it found.
 */
#include <unistd.h>

#include "tests/runner.h"
#include "chain/crypto.h"
#include "chain/genesis.h"

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

/* fuzz/genesis_parse: jansson accepts a NUL byte right after a number
 * ("[5\0 ]"); chain_jsonpos_find, locating the key of an error, stopped
 * on the NUL without moving (strchr(set, '\0') matches the terminator)
 * and looped forever. The input the fuzzer found, then a key to find
 * after such a value. */
TEST(fuzz_regress_genesis_nul_after_number)
{
    static const char found[] = "{\n\n  \"c\\\\b_year\":  [\n5\0  ],\t  "
                                "\"params\": {\"m\": \"4\"}\n}\n";
    static const char after[] = "{\"authorities\": [5\0], \"bogus\": 1}";
    chain_genesis g;
    char err[256];
    alarm(10);   /* a hang fails the test instead of waiting for the runner */
    CHECK_EQ_INT(sizeof found - 1, 53);
    CHECK_EQ_INT(chain_genesis_parse(found, sizeof found - 1, "g.json", &g, err, sizeof err),
                 BASED_E_GENESIS);
    CHECK(strncmp(err, "g.json:1:1: unknown key", 23) == 0);
    CHECK_EQ_INT(chain_genesis_parse(after, sizeof after - 1, "g.json", &g, err, sizeof err),
                 BASED_E_GENESIS);
    CHECK_EQ_STR(err, "g.json:1:23: unknown key \"bogus\"");
    alarm(0);
}
