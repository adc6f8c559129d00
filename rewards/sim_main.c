/*
 * based-sim: runs the chain's own epoch code on one Brain described in
 * JSON (rewards/sim.h), or the docs' cabal scenario.
 *
 *   based-sim epoch [FILE]        JSON in (stdin without FILE), JSON out
 *   based-sim cabal [--pct P] [--epochs N] [--disjoint]
 *                                 the cabal's share of miner emission per
 *                                 epoch under both modes (a Markdown table)
 * Exit status: 0 ok, 1 I/O error, 2 bad input or usage.
 */
#include "rewards/sim.h"
#include "rewards/epoch.h"
#include "chain/base.h"

static int usage(FILE *f, int rc)
{
    fputs("usage: based-sim epoch [FILE]      run one epoch on the JSON Brain in FILE (or stdin)\n"
          "       based-sim cabal [--pct P] [--epochs N] [--disjoint]\n"
          "                                   cabal share of miner emission per epoch, both modes\n"
          "       based-sim --help | --version\n"
          "Input: {\"block\", \"emission\" (string), \"params\" {mode, kappa, rho,\n"
          "bonds_moving_average, activity_cutoff, max_validators}, \"neurons\" [{uid, stake\n"
          "(string), last_update, registered_at, permit, weights [[uid, u16]...], bonds\n"
          "[[uid, u16]...]}]}. Output: the same shape with consensus, incentive, dividends,\n"
          "trust, rank, validator_trust (u16), emission (string) and the new permit and bonds.\n",
          f);
    return rc;
}

/* Reads all of f, up to the simulator's cap. */
static char *slurp(FILE *f, size_t *len)
{
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n < cap) {
            if (ferror(f)) {
                free(buf);
                return NULL;
            }
            break;
        }
        if (cap > REWARD_SIM_MAX_INPUT) {
            break;                          /* too large: the parser says so */
        }
        char *nb = realloc(buf, cap * 2);
        if (!nb)
            free(buf);
        buf = nb;
        cap *= 2;
    }
    *len = n;
    return buf;
}

static int cmd_epoch(int argc, char **argv)
{
    if (argc > 3)
        return usage(stderr, 2);
    FILE *f = argc == 3 ? fopen(argv[2], "rb") : stdin;
    if (!f) {
        fprintf(stderr, "based-sim: %s: cannot open\n", argv[2]);
        return 1;
    }
    size_t len = 0;
    char *text = slurp(f, &len), *out = NULL, err[256];
    if (f != stdin)
        fclose(f);
    if (!text) {
        fprintf(stderr, "based-sim: read error\n");
        return 1;
    }
    based_err e = reward_sim_epoch(text, len, &out, err, sizeof err);
    free(text);
    if (e != BASED_E_OK) {
        fprintf(stderr, "based-sim: %s\n", err[0] ? err : "failed");
        return e == BASED_E_NOMEM ? 1 : 2;
    }
    fputs(out, stdout);
    free(out);
    return 0;
}

static int cmd_cabal(int argc, char **argv)
{
    unsigned pct = 40, epochs = 10;
    bool disjoint = false;
    for (int i = 2; i < argc; i++) {
        char *end;
        if (!strcmp(argv[i], "--disjoint")) {
            disjoint = true;
        } else if ((!strcmp(argv[i], "--pct") || !strcmp(argv[i], "--epochs")) && i + 1 < argc) {
            unsigned long v = strtoul(argv[i + 1], &end, 10);
            if (*end || v > 1000)
                return usage(stderr, 2);
            *(argv[i][2] == 'p' ? &pct : &epochs) = (unsigned)v;
            i++;
        } else {
            return usage(stderr, 2);
        }
    }
    if (pct > 100 || epochs == 0)
        return usage(stderr, 2);
    uint32_t *y = calloc(epochs, 4), *w = calloc(epochs, 4);
    if (!y || !w || reward_sim_cabal(REWARD_MODE_YUMA, pct, disjoint, epochs, y) != BASED_E_OK ||
        reward_sim_cabal(REWARD_MODE_WHITEPAPER, pct, disjoint, epochs, w) != BASED_E_OK) {
        free(y);
        free(w);
        fprintf(stderr, "based-sim: cabal scenario failed\n");
        return 1;
    }
    printf("| epoch | yuma: cabal share of miner emission | whitepaper: cabal share of miner emission |\n"
           "| ---: | ---: | ---: |\n");
    for (unsigned e = 0; e < epochs; e++)
        printf("| %u | %u.%04u %% | %u.%04u %% |\n", e + 1, y[e] / 10000, y[e] % 10000, w[e] / 10000,
               w[e] % 10000);
    free(y);
    free(w);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage(stderr, 2);
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
        return usage(stdout, 0);
    if (!strcmp(argv[1], "--version")) {
        printf("based-sim %s\n", BASED_VERSION);
        return 0;
    }
    if (!strcmp(argv[1], "epoch"))
        return cmd_epoch(argc, argv);
    if (!strcmp(argv[1], "cabal"))
        return cmd_cabal(argc, argv);
    return usage(stderr, 2);
}
