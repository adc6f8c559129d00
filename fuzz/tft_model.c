/*
 * tft_model: libFuzzer harness for the TFT model file reader (tft/model.c,
 * "BTFT" formats 1-5: `based-tft forecast|explain --model FILE` and the
 * chain's `M` records). Any input is either rejected or loads into a model
 * within the parameter limit whose serialisation loads again to the same
 * bytes; never a crash, leak or out-of-bounds read.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tft/tft.h"
#include "chain/base.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t *save(const struct tft_model *m, size_t *n)
{
    if (tft_model_save(m, NULL, n) != BASED_E_OK)
        __builtin_trap();
    uint8_t *b = malloc(*n ? *n : 1);
    if (!b || tft_model_save(m, b, n) != BASED_E_OK)
        __builtin_trap();
    return b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tft_model *m = NULL, *m2 = NULL;
    if (tft_model_load(data, size, &m) != BASED_E_OK) {
        if (m != NULL)
            __builtin_trap();
        return 0;
    }
    if (tft_model_nparams(m) > 50000)
        __builtin_trap();
    size_t n1, n2;
    uint8_t *b1 = save(m, &n1);
    if (tft_model_load(b1, n1, &m2) != BASED_E_OK)
        __builtin_trap();
    uint8_t *b2 = save(m2, &n2);
    if (n1 != n2 || memcmp(b1, b2, n1) != 0)
        __builtin_trap();
    free(b1);
    free(b2);
    tft_model_free(m);
    tft_model_free(m2);
    return 0;
}
