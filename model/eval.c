/*
 * eval.c: how far a compressed model is from its reference.
 *
 * Held-out text is cut into consecutive windows of the context length; each
 * window is one batched forward pass of both models, and every position of
 * it is scored: KL(P_ref || P_q) of the next-token distributions (double
 * precision log-sum-exp), whether the most likely tokens agree, and the
 * negative log-likelihood of the true next byte under each model (for the
 * perplexity ratio exp(mean NLL_q - mean NLL_ref)).
 */
#include <math.h>

#include "model/internal.h"
#include "chain/base.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* log-softmax normaliser and argmax of one row. */
static double lse(const float *lg, int V, int *arg)
{
    double mx = lg[0];
    int a = 0;
    for (int i = 1; i < V; i++)
        if (lg[i] > mx) {
            mx = lg[i];
            a = i;
        }
    double s = 0;
    for (int i = 0; i < V; i++)
        s += exp(lg[i] - mx);
    if (arg)
        *arg = a;
    return mx + log(s);
}

struct acc { double kl, nll_r, nll_q; long top1, n; };

static void score_window(const float *r, const float *q, const uint8_t *next, int n, int V,
                         struct acc *a)
{
    for (int t = 0; t < n; t++) {
        const float *pr = r + (size_t)t * V, *pq = q + (size_t)t * V;
        int ar, aq;
        double lr = lse(pr, V, &ar), lq = lse(pq, V, &aq), kl = 0;
        for (int i = 0; i < V; i++) {
            double lpr = pr[i] - lr;
            kl += exp(lpr) * (lpr - (pq[i] - lq));
        }
        a->kl += kl > 0 ? kl : 0;
        a->top1 += ar == aq;
        a->nll_r += lr - pr[next[t]];
        a->nll_q += lq - pq[next[t]];
        a->n++;
    }
}

/* Windows of T positions from the start of text; how many fit `positions`. */
static long windows_for(int T, size_t len, long positions)
{
    long w = (positions + T - 1) / T;
    long fit = len > (size_t)T ? (long)((len - 1) / (size_t)T) : 0;
    return w <= fit ? w : -1;
}

float *model_eval_reference(const model_t *ref, const uint8_t *text, size_t len,
                            long positions, long *n_out)
{
    int T = ref->c.seq_len, V = ref->c.vocab;
    long w = windows_for(T, len, positions);
    *n_out = 0;
    if (w <= 0 || !ref->tok.byte_level)
        return NULL;
    float *lg = malloc((size_t)w * T * V * sizeof(float));
    int *toks = malloc((size_t)T * sizeof(int));
    model_state *s = model_state_new(ref);
    bool ok = lg && toks && s;
    for (long k = 0; ok && k < w; k++) {
        for (int t = 0; t < T; t++)
            toks[t] = text[(size_t)k * T + (size_t)t];
        ok = model_forward(s, toks, T, 0, lg + (size_t)k * T * V, false) == BASED_E_OK;
    }
    free(toks);
    model_state_free(s);
    if (!ok) {
        free(lg);
        return NULL;
    }
    *n_out = w * T;
    return lg;
}

based_err model_eval_against(const float *ref_logits, long n, const model_t *q,
                             const uint8_t *text, size_t len, struct model_eval_row *row)
{
    int T = q->c.seq_len, V = q->c.vocab;
    if (n <= 0 || n % T || (size_t)n + 1 > len)
        return BASED_E_BAD_PARAM;
    model_state *sq = model_state_new(q);
    float *lq = malloc((size_t)T * V * sizeof(float));
    int *toks = malloc((size_t)T * sizeof(int));
    based_err e = sq && lq && toks ? BASED_E_OK : BASED_E_NOMEM;
    struct acc a = { 0 };
    for (long off = 0; !e && off < n; off += T) {
        for (int t = 0; t < T; t++)
            toks[t] = text[(size_t)off + (size_t)t];
        e = model_forward(sq, toks, T, 0, lq, false);
        if (!e)
            score_window(ref_logits + (size_t)off * V, lq, text + off + 1, T, V, &a);
    }
    if (!e) {
        row->kld = a.kl / (double)a.n;
        row->top1 = (double)a.top1 / (double)a.n;
        row->ppl_ratio = exp((a.nll_q - a.nll_r) / (double)a.n);
        row->positions = a.n;
    }
    model_state_free(sq);
    free(lq);
    free(toks);
    return e;
}

based_err model_eval_pair(const model_t *ref, const model_t *q, const uint8_t *text,
                          size_t len, long positions, struct model_eval_row *row)
{
    if (q->c.vocab != ref->c.vocab || q->c.seq_len != ref->c.seq_len)
        return BASED_E_BAD_PARAM;
    long n;
    float *r = model_eval_reference(ref, text, len, positions, &n);
    if (!r)
        return BASED_E_BAD_PARAM;
    based_err e = model_eval_against(r, n, q, text, len, row);
    free(r);
    return e;
}

double model_heldout_loss(const model_t *m, const uint8_t *text, size_t len, long positions)
{
    int T = m->c.seq_len, V = m->c.vocab;
    model_state *s = model_state_new(m);
    float *lg = malloc((size_t)T * V * sizeof(float));
    int *toks = malloc((size_t)T * sizeof(int));
    double nll = 0;
    long n = 0;
    for (size_t off = 0; s && lg && toks && n < positions && off + (size_t)T + 1 <= len; off += (size_t)T) {
        for (int t = 0; t < T; t++)
            toks[t] = text[off + (size_t)t] % V;
        if (model_forward(s, toks, T, 0, lg, false))
            break;
        for (int t = 0; t < T; t++, n++)
            nll += lse(lg + (size_t)t * V, V, NULL) - lg[(size_t)t * V + text[off + (size_t)t + 1] % V];
    }
    model_state_free(s);
    free(lg);
    free(toks);
    return n ? nll / (double)n : NAN;
}

double model_decode_speed(const model_t *m, int n)
{
    model_state *s = model_state_new(m);
    float *lg = malloc((size_t)m->c.vocab * sizeof(float));
    if (n > m->c.seq_len)
        n = m->c.seq_len;
    double t0 = now_s(), rate = 0;
    int tok = 0, done = 0;
    for (; s && lg && done < n; done++) {
        if (model_forward(s, &tok, 1, done, lg, true))
            break;
        int best = 0;
        for (int i = 1; i < m->c.vocab; i++)
            if (lg[i] > lg[best])
                best = i;
        tok = best;
    }
    double dt = now_s() - t0;
    if (dt > 0)
        rate = (double)done / dt;
    model_state_free(s);
    free(lg);
    return rate;
}
