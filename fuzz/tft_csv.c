/*
 * tft_csv: libFuzzer harness for the TFT's CSV parser (tft/data.c). Any
 * input must either parse into a dataset whose sizes respect the caps and
 * whose values are finite, or be rejected with a "line L, column C" (or
 * "series ...") message; never crash, leak or read out of bounds.
 */
#include <stddef.h>
#include <stdint.h>

#include "tft/tft.h"
#include "chain/base.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tft_dataset *d = NULL;
    char err[256];
    based_err e = tft_csv_parse((const char *)data, size, &d, err, sizeof err);
    if (e != BASED_E_OK) {
        if (d != NULL || (strncmp(err, "line ", 5) != 0 && strncmp(err, "series ", 7) != 0 &&
                          strcmp(err, "out of memory") != 0))
            __builtin_trap();
        return 0;
    }
    if (d->n_series < 1 || d->n_series > TFT_MAX_SERIES || d->n_steps > TFT_MAX_STEPS ||
        d->n_static > TFT_MAX_COVARIATES || d->n_past > TFT_MAX_COVARIATES ||
        d->n_future > TFT_MAX_COVARIATES)
        __builtin_trap();
    for (int i = 0; i < d->n_series; i++) {
        if (d->len[i] < 1 || d->len[i] > d->n_steps)
            __builtin_trap();
        for (int s = 0; s < d->len[i]; s++) {
            double y = d->target[(size_t)i * (size_t)d->n_steps + (size_t)s];
            if (!(y - y == 0))
                __builtin_trap();
        }
    }
    tft_dataset_free(d);
    return 0;
}
