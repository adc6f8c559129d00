/*
 * sim_json: libFuzzer harness for based-sim's JSON input (rewards/sim.c).
 * Any input must either run an epoch and produce JSON that is itself a
 * valid input (round trip), or be rejected with a message that names a
 * JSON path ("neurons[3].weights[0]: ...", "(input): ..."); never crash,
 * leak or read out of bounds.
 */
#include <stddef.h>
#include <stdint.h>

#include "rewards/sim.h"
#include "chain/base.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *out = NULL, err[256];
    based_err e = reward_sim_epoch((const char *)data, size, &out, err, sizeof err);
    if (e != BASED_E_OK) {
        if (out != NULL || strchr(err, ':') == NULL)
            __builtin_trap();
        return 0;
    }
    char *again = NULL;
    if (!out || reward_sim_epoch(out, strlen(out), &again, err, sizeof err) != BASED_E_OK || !again)
        __builtin_trap();
    free(again);
    free(out);
    return 0;
}
