/*
 * sample.c: the seeded generator, temperature / top-k / top-p sampling, and
 * generation with per-position top-k log-probabilities.
 *
 * The generator is splitmix64; one uniform draw per sampled token. The
 * candidates are ordered by probability, ties by token id, so the choice is
 * a pure function of the logits, the settings and the generator state.
 * model_sample_sorted / model_sample_keep are its steps, public so that a
 * validator can replay the very same draw (neurons/score.c).
 */
#include <math.h>

#include "model/model.h"
#include "chain/base.h"

uint64_t model_rng_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

double model_rng_uniform(uint64_t *state)
{
    return (double)(model_rng_next(state) >> 11) * (1.0 / 9007199254740992.0);
}

static int argmax(const float *lg, int n)
{
    int best = 0;
    for (int i = 1; i < n; i++)
        if (lg[i] > lg[best])
            best = i;
    return best;
}

int model_argmax(const float *logits, int vocab)
{
    return argmax(logits, vocab);
}

/*
 * Sorts c[0..n) by probability, largest first, ties by lower id first (a
 * strict total order, so the permutation is a pure function of the
 * probabilities). A stable LSD radix sort on the bits of p (p >= 0, so its
 * IEEE bits order like its value) over entries that start in id order;
 * passes whose byte is the same in every key are skipped. The counts of all
 * eight bytes come from one read of the keys. With 32000 candidates it is
 * ~10x faster than qsort. tmp holds n entries.
 */
static void sort_cands(struct model_cand *c, struct model_cand *tmp, int n)
{
    int cnt[8][256];
    memset(cnt, 0, sizeof cnt);
    for (int i = 0; i < n; i++) {
        uint64_t b;
        memcpy(&b, &c[i].p, sizeof b);
        for (int k = 0; k < 8; k++)
            cnt[k][255 - (int)((b >> (8 * k)) & 255)]++;   /* descending */
    }
    struct model_cand *src = c, *dst = tmp;
    for (int k = 0; k < 8; k++) {
        int pos = 0, skip = 0, *ck = cnt[k];
        for (int d = 0; d < 256; d++) {
            skip |= ck[d] == n;
            int x = ck[d];
            ck[d] = pos;
            pos += x;
        }
        if (skip)
            continue;
        for (int i = 0; i < n; i++) {
            uint64_t b;
            memcpy(&b, &src[i].p, sizeof b);
            dst[ck[255 - (int)((b >> (8 * k)) & 255)]++] = src[i];
        }
        struct model_cand *t = src;
        src = dst;
        dst = t;
    }
    if (src != c)
        memcpy(c, src, (size_t)n * sizeof *c);
}

void model_sample_sorted(const float *logits, int vocab, float temperature,
                         struct model_cand *c, double *byid)
{
    float mx = logits[argmax(logits, vocab)];
    double sum = 0;
    for (int i = 0; i < vocab; i++) {
        c[i].id = i;
        c[i].p = exp((double)(logits[i] - mx) / temperature);
        if (!(c[i].p >= 0))
            c[i].p = 0;   /* NaN logits (hostile weights) never win */
        sum += c[i].p;
    }
    for (int i = 0; i < vocab; i++) {
        c[i].p = sum > 0 ? c[i].p / sum : (i == 0);
        if (byid)
            byid[i] = c[i].p;
    }
    sort_cands(c, c + vocab, vocab);
}

int model_sample_keep(const struct model_cand *c, int vocab, const struct model_sampler *p,
                      double *keep)
{
    int n = p->top_k > 0 && p->top_k < vocab ? p->top_k : vocab;
    double k = 0;
    int m = 0;
    while (m < n) {
        k += c[m++].p;
        if (p->top_p < 1 && k >= p->top_p)
            break;
    }
    *keep = k;
    return m;
}

int model_sample(const float *logits, int vocab, const struct model_sampler *p, uint64_t *rng)
{
    if (!p || p->temperature <= 0)
        return argmax(logits, vocab);
    struct model_cand *c = malloc(2 * (size_t)vocab * sizeof *c);
    if (!c)
        return argmax(logits, vocab);
    model_sample_sorted(logits, vocab, p->temperature, c, NULL);
    double keep;
    int m = model_sample_keep(c, vocab, p, &keep);
    double u = model_rng_uniform(rng) * keep, acc = 0;
    int tok = c[m - 1].id;
    for (int i = 0; i < m; i++) {
        acc += c[i].p;
        if (u < acc) {
            tok = c[i].id;
            break;
        }
    }
    free(c);
    return tok;
}

static void topk_of(const float *lg, int vocab, int k, struct model_topk *out)
{
    float mx = lg[argmax(lg, vocab)];
    double sum = 0;
    for (int i = 0; i < vocab; i++)
        sum += exp((double)(lg[i] - mx));
    double lse = (double)mx + log(sum);
    for (int j = 0; j < k; j++) {
        out[j].token = -1;
        out[j].logprob = -INFINITY;
    }
    for (int i = 0; i < vocab; i++) {
        float lp = (float)((double)lg[i] - lse);
        if (lp <= out[k - 1].logprob)
            continue;
        int j = k - 1;
        while (j > 0 && out[j - 1].logprob < lp) {
            out[j] = out[j - 1];
            j--;
        }
        out[j].token = i;
        out[j].logprob = lp;
    }
}

int model_generate(model_state *s, const int *prompt, int n_prompt,
                   const struct model_sampler *p, uint64_t seed, int n_gen,
                   int *out, int k, struct model_topk *topk)
{
    const struct model_config *c = model_state_config(s);
    if (n_prompt < 1 || n_prompt > c->seq_len || n_gen < 0)
        return -1;
    float *lg = malloc((size_t)c->vocab * sizeof(float));
    if (!lg)
        return -1;
    uint64_t rng = seed;
    int pos = 0, done = 0;
    if (model_forward(s, prompt, n_prompt, 0, lg, true)) {
        free(lg);
        return -1;
    }
    pos = n_prompt;
    while (done < n_gen) {
        if (k > 0)
            topk_of(lg, c->vocab, k, topk + (size_t)done * k);
        int t = model_sample(lg, c->vocab, p, &rng);
        out[done++] = t;
        if (done == n_gen || pos >= c->seq_len)
            break;
        if (model_forward(s, &t, 1, pos++, lg, true)) {
            free(lg);
            return -1;
        }
    }
    free(lg);
    return done;
}
