/*
 * attend.c: causal attention of one head, for one query (decoding) or a
 * block of up to model_tb() consecutive queries (prefill), with the same
 * bits either way (internal.h).
 *
 * For a query at position p: scores s_u = (sum over i, in order, of
 * q_i k_ui) * scale for u <= p; the maximum m; e_u = expf(s_u - m) and
 * their sum in u order; the output o_i = sum over u, in order, of
 * (e_u / sum) v_ui. The block version computes exactly these numbers for
 * every query, with vectors across the queries (lane t is query t, as in
 * model_dot_f32_tb): the scores of four keys at a time, the weighted values
 * eight output elements at a time, each lane's sums in the one-query order.
 * Keys past a query's own position are computed but never used; a query's
 * maximum, sum and values stop at its position.
 */
#include <math.h>

#include "model/internal.h"

/* The larger of m and x, m when x is NaN: fmaxf's result for every input
 * but signed zeros, whose sign cannot change expf(s - m). */
static float max_f(float m, float x) { return x > m ? x : m; }

void model_attend_one(const float *q, int pos, const float *kc, const float *vc, size_t kvd,
                      int hs, float scale, float *att, float *o)
{
    float mx = -INFINITY, sum = 0;
    for (int u = 0; u <= pos; u++) {
        const float *ku = kc + (size_t)u * kvd;
        float d = 0;
        for (int i = 0; i < hs; i++)
            d += q[i] * ku[i];
        att[u] = d * scale;
        mx = max_f(mx, att[u]);
    }
    for (int u = 0; u <= pos; u++) {
        att[u] = expf(att[u] - mx);
        sum += att[u];
    }
    memset(o, 0, (size_t)hs * sizeof(float));
    for (int u = 0; u <= pos; u++) {
        float a = att[u] / sum;
        const float *vu = vc + (size_t)u * kvd;
        for (int i = 0; i < hs; i++)
            o[i] += a * vu[i];
    }
}

#define TB MODEL_TB
typedef model_vt vt;
typedef int32_t vi __attribute__((vector_size(TB * sizeof(int32_t))));
#define ldt model_ldt
#define stt model_stt

/* sc[u][t] = score of query t (qt[i][t], transposed) against key u, for
 * u < nu; four keys at a time so that four sums run side by side. */
static void scores(const float *qt, int nu, const float *kc, size_t kvd, int hs, float scale,
                   float *sc)
{
    int u = 0;
    for (; u + 4 <= nu; u += 4) {
        const float *k0 = kc + (size_t)u * kvd, *k1 = k0 + kvd, *k2 = k1 + kvd, *k3 = k2 + kvd;
        vt d0 = { 0 }, d1 = { 0 }, d2 = { 0 }, d3 = { 0 };
        for (int i = 0; i < hs; i++) {
            vt qi = ldt(qt + (size_t)i * TB);
            d0 += qi * k0[i];
            d1 += qi * k1[i];
            d2 += qi * k2[i];
            d3 += qi * k3[i];
        }
        stt(sc + (size_t)u * TB, d0 * scale);
        stt(sc + (size_t)(u + 1) * TB, d1 * scale);
        stt(sc + (size_t)(u + 2) * TB, d2 * scale);
        stt(sc + (size_t)(u + 3) * TB, d3 * scale);
    }
    for (; u < nu; u++) {
        const float *ku = kc + (size_t)u * kvd;
        vt d = { 0 };
        for (int i = 0; i < hs; i++)
            d += ldt(qt + (size_t)i * TB) * ku[i];
        stt(sc + (size_t)u * TB, d * scale);
    }
}

/* Scores into softmax weights in place, query t over u <= pos + t (its
 * maximum, expf and sum in u order, then the divisions). */
static void softmax(float *sc, int nt, int pos)
{
    float sum[TB];
    for (int t = 0; t < TB; t++) {
        float mx = -INFINITY, s = 0;
        for (int u = 0; t < nt && u <= pos + t; u++)
            mx = max_f(mx, sc[(size_t)u * TB + t]);
        for (int u = 0; t < nt && u <= pos + t; u++) {
            float e = expf(sc[(size_t)u * TB + t] - mx);
            sc[(size_t)u * TB + t] = e;
            s += e;
        }
        sum[t] = t < nt ? s : 1.0f;
    }
    vt sv = ldt(sum);
    for (int u = 0; u <= pos; u++)   /* every query sees these keys */
        stt(sc + (size_t)u * TB, ldt(sc + (size_t)u * TB) / sv);
    for (int t = 1; t < nt; t++)
        for (int u = pos + 1; u <= pos + t; u++)
            sc[(size_t)u * TB + t] /= sum[t];
}

/* ot[i][t] = sum over u <= pos, in order, of a[u][t] v_ui: the keys every
 * query of the block sees, eight elements i at a time in registers. */
static void values(const float *a, int pos, const float *vc, size_t kvd, int hs, float *ot)
{
    int i0 = 0;
    for (; i0 + 8 <= hs; i0 += 8) {
        vt o[8] = { { 0 } };
        for (int u = 0; u <= pos; u++) {
            vt au = ldt(a + (size_t)u * TB);
            const float *vu = vc + (size_t)u * kvd + i0;
            for (int j = 0; j < 8; j++)
                o[j] += au * vu[j];
        }
        for (int j = 0; j < 8; j++)
            stt(ot + (size_t)(i0 + j) * TB, o[j]);
    }
    for (; i0 < hs; i0++) {
        vt o = { 0 };
        for (int u = 0; u <= pos; u++)
            o += ldt(a + (size_t)u * TB) * vc[(size_t)u * kvd + i0];
        stt(ot + (size_t)i0 * TB, o);
    }
}

void model_attend_block(const float *qt, int nt, int pos, const float *kc, const float *vc,
                        size_t kvd, int hs, float scale, float *sc, float *ot)
{
    scores(qt, pos + nt, kc, kvd, hs, scale, sc);
    softmax(sc, nt, pos);
    values(sc, pos, vc, kvd, hs, ot);
    /* then the keys past the block's first position, in order, each for
     * the queries at or after it: the others' products are masked to +0,
     * which leaves their sums as they are (a sum from +0 is never -0) */
    for (int u = pos + 1; u < pos + nt; u++) {
        int32_t mk[TB];
        for (int t = 0; t < TB; t++)
            mk[t] = t >= u - pos && t < nt ? -1 : 0;
        vi m;
        memcpy(&m, mk, sizeof m);
        vt a = ldt(sc + (size_t)u * TB);
        const float *vu = vc + (size_t)u * kvd;
        for (int i = 0; i < hs; i++) {
            vt p = a * vu[i];
            stt(ot + (size_t)i * TB, ldt(ot + (size_t)i * TB) + (vt)((vi)p & m));
        }
    }
}
