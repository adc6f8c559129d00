/*
 * fuzz/ss58_decode.c: libFuzzer harness for address parsing. Each input
 * (capped at 256 bytes, cut at the first NUL) is given as a string to
 * chain_addr_parse() with the BasedAI prefix 32323 and with 42. When an
 * SS58 (not 0x hex) address parses, chain_ss58_encode of the key with the
 * same prefix must give back the input exactly (one text form per key).
 * A hex address must re-encode to the same hex (case aside). A failure
 * must come with a reason.
 */
#include <strings.h>

#include "chain/crypto.h"

#define MAX_INPUT 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void one(const char *s, uint16_t prefix)
{
    chain_addr a;
    const char *why = NULL;
    if (chain_addr_parse(s, prefix, &a, &why) != BASED_E_OK) {
        static const chain_addr zero;
        if (!why || !why[0] || memcmp(&a, &zero, sizeof a) != 0)
            __builtin_trap();
        return;
    }
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        char hex[65];
        chain_hex(a.b, 32, hex);
        if (strlen(s) != 66 || strcasecmp(s + 2, hex) != 0)
            __builtin_trap();
        return;
    }
    char out[CHAIN_ADDR_STRLEN];
    chain_ss58_encode(prefix, &a, out);
    if (strcmp(out, s) != 0)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char s[MAX_INPUT + 1];
    size_t n = size < MAX_INPUT ? size : MAX_INPUT;
    memcpy(s, data, n);
    s[n] = '\0';
    one(s, CHAIN_SS58_DEFAULT_PREFIX);
    one(s, 42);
    return 0;
}
