/*
 * epoch_full: one epoch of a full Brain (256 validators x 1792 miners,
 * dense random weights, bonds from a previous epoch), integer Yuma:
 * median of 5 runs; the cost per block at 1024 Brains with tempo 99 as a
 * share of the 10-second block (target under 5 %); the whitepaper mode;
 * and the same epoch in float64 numpy (bench/epoch_numpy.py on the same
 * inputs through a temp file) as a baseline, with the ratio.
 */
#include <time.h>

#include "bench/bench.h"
#include "rewards/epoch.h"
#include "rewards/fixed.h"
#include "chain/base.h"

#define NV 256
#define NN 2048


static double cpu_median = 0;          /* CPU time of the same runs (loaded machines) */

static double median5(reward_epoch_in *in)
{
    double t[5], c[5];
    for (int r = 0; r < 5; r++) {
        reward_epoch_out o;
        double t0 = bench_now(), c0 = bench_clock_s(CLOCK_THREAD_CPUTIME_ID);
        if (reward_epoch_run(in, &o) != BASED_E_OK)
            return -1;
        t[r] = bench_now() - t0;
        c[r] = bench_clock_s(CLOCK_THREAD_CPUTIME_ID) - c0;
        reward_epoch_out_free(&o);
    }
    qsort(t, 5, sizeof *t, bench_cmp_d);
    qsort(c, 5, sizeof *c, bench_cmp_d);
    cpu_median = c[2];
    return t[2];
}

static double numpy_baseline(const reward_neuron_in *ns, const uint16_t *bdense)
{
    char path[] = "/tmp/based-epoch-XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f)
        return -1;
    fprintf(f, "%d %d\n", NN, NV);
    for (int i = 0; i < NN; i++)
        fprintf(f, "%" PRIu64 "\n", i < NV ? ns[i].stake : 0);
    for (int i = 0; i < NV; i++) {
        uint16_t row[NN] = { 0 };
        for (size_t k = 0; k < ns[i].weights.n; k++)
            row[ns[i].weights.uid[k]] = ns[i].weights.val[k];
        for (int j = 0; j < NN; j++)
            fprintf(f, "%u ", row[j]);
        fputc('\n', f);
    }
    for (int i = 0; i < NV; i++) {
        for (int j = 0; j < NN; j++)
            fprintf(f, "%u ", bdense[i * NN + j]);
        fputc('\n', f);
    }
    fclose(f);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "P=python3; [ -x /usr/bin/python3 ] && P=/usr/bin/python3; $P bench/epoch_numpy.py %s", path);
    FILE *p = popen(cmd, "r");
    double t = -1;
    char line[128];
    while (p && fgets(line, sizeof line, p))
        if (!strncmp(line, "numpy_seconds ", 14))
            t = strtod(line + 14, NULL);
    if (p)
        pclose(p);
    remove(path);
    return t;
}

int main(void)
{
    static reward_neuron_in ns[NN];
    static uint16_t wu[NV][NN - NV], wv[NV][NN - NV], bdense[NV * NN];
    uint16_t **bu = calloc(NN, sizeof *bu), **bv = calloc(NN, sizeof *bv);
    reward_epoch_in in;
    bench_full_brain(&in, ns, &wu[0][0], &wv[0][0], NV, NN);
    reward_epoch_out o;                       /* a first epoch makes realistic bonds */
    if (reward_epoch_run(&in, &o) != BASED_E_OK)
        return 1;
    for (int i = 0; i < NN; i++) {
        bu[i] = o.bond_uid[i];
        bv[i] = o.bond_val[i];
        ns[i].bonds = (reward_row){ bu[i], bv[i], o.bond_n[i] };
        for (size_t k = 0; i < NV && k < o.bond_n[i]; k++)
            bdense[i * NN + bu[i][k]] = bv[i][k];
    }
    double t = median5(&in), tc = cpu_median;
    in.p.mode = REWARD_MODE_WHITEPAPER;
    double tw = median5(&in);
    double per_block = t * 1024.0 / 99.0;
    printf("epoch, full Brain (256 x 1792, dense weights), yuma: %.2f ms wall, %.2f ms CPU (median of 5)\n",
           t * 1e3, tc * 1e3);
    printf("epoch, whitepaper mode: %.2f ms\n", tw * 1e3);
    printf("1024 Brains, tempo 99: %.1f ms per block = %.2f %% of the 10 s block  [target < 5 %%: %s]\n",
           per_block * 1e3, per_block * 10.0, per_block * 10.0 < 5.0 ? "ok" : "MISSED");
    double np = numpy_baseline(ns, bdense);
    if (np > 0)
        printf("baseline numpy float64 (same epoch, same inputs): %.2f ms; integer C is %.2fx %s\n",
               np * 1e3, np > t ? np / t : t / np, np > t ? "faster" : "slower");
    else
        printf("baseline numpy float64: not available (python3-numpy missing?)\n");
    reward_epoch_out_free(&o);
    free(bu);
    free(bv);
    return 0;
}
