/*
 * epoch.c: one Brain's epoch (rewards/epoch.h), integer fixed point only.
 *
 * YUMA mode is subtensor's 2023 sparse `epoch()` (BasedAI's copy) step by
 * step, with the same rounding at every step (see rewards/fixed.h):
 *   stake    S = floor(s_i 2^32 / sum s) (64.64 normalise, then truncate)
 *   permits  top-k by S (stable ascending sort, lower uid loses ties); the
 *            permits USED are the previous epoch's, the new ones go out
 *   active   S_a = normalise(S masked by inactivity and by no permit)
 *   weights  W = stored u16 rows, minus rows without permit, the diagonal
 *            and W_ij with last_update_i <= registered_at_j; row-normalised
 *   consensus C_j = stake-weighted median of column j (kappa), clip W to C
 *   trust    Tv_i = sum_j W_ij; R_j = sum_i S_a_i W_ij; T = R / R(before)
 *   incentive I = normalise(R)
 *   bonds    B = stored u16 (outdated masked), column-normalised;
 *            dB = colnorm(W o S_a); B' = colnorm(alpha dB + (1-alpha) B)
 *   dividends D = normalise(B' I)
 *   emission floor(I / sum(I+D) E), floor(D / sum(I+D) E); stake when zero
 * WHITEPAPER mode shares stake, permits, active stake and the weights
 * masks, then: R = W^T S_a, trust_j = sum_i S_a_i [W_ij > 0] (T^T S),
 * C = sigmoid(rho (T^T S - kappa)), I = normalise(R * C), and Credits are
 * the same EMA of dCredits = colnorm(W o S_a) (unclipped W).
 * The TFT term (tft_b > 0) replaces I by normalise((1-b) I + b clamp(I,
 * P10, P90)) before dividends; with b = 0 nothing is touched.
 * Sparse rows are CSR arrays; every loop runs in uid order.
 */
#include "rewards/epoch.h"
#include "rewards/fixed.h"

typedef reward_fx fx;
__extension__ typedef unsigned __int128 u128;

/* Compressed sparse rows: row i is [off[i], off[i+1]). */
typedef struct {
    size_t *off;
    uint16_t *col;
    fx *val;
} smat;

typedef struct {
    const reward_epoch_in *in;
    size_t n;
    fx *stake, *active, *kappa_buf;
    fx *prerank, *rank, *trust, *cons, *vtrust, *inc, *div;
    smat w, b, ema;
} epoch_ctx;

static bool smat_alloc(smat *m, size_t n, size_t cap)
{
    m->off = calloc(n + 1, sizeof *m->off);
    m->col = malloc((cap ? cap : 1) * sizeof *m->col);
    m->val = malloc((cap ? cap : 1) * sizeof *m->val);
    return m->off && m->col && m->val;
}

static void smat_free(smat *m)
{
    free(m->off);
    free(m->col);
    free(m->val);
}

static bool row_ok(const reward_row *r, size_t n)
{
    if (r->n && (!r->uid || !r->val))
        return false;
    for (size_t k = 0; k < r->n; k++)
        if (r->uid[k] >= n || (k && r->uid[k] <= r->uid[k - 1]))
            return false;
    return true;
}

static bool input_ok(const reward_epoch_in *in)
{
    if (!in || in->n > REWARD_MAX_NEURONS || (in->n && !in->neurons))
        return false;
    if (in->p.mode != REWARD_MODE_YUMA && in->p.mode != REWARD_MODE_WHITEPAPER)
        return false;
    if (in->p.bonds_moving_average > 1000000 || in->tft_b > REWARD_FX_ONE)
        return false;
    if (in->tft_b && (!in->p10 || !in->p90))
        return false;
    for (size_t i = 0; i < in->n; i++)
        if (!row_ok(&in->neurons[i].weights, in->n) || !row_ok(&in->neurons[i].bonds, in->n))
            return false;
    return true;
}

/* S_i = floor(s_i 2^32 / sum s): the I64F64 normalise truncated to I32F32. */
static void stake_normalize(epoch_ctx *c)
{
    u128 sum = 0;
    for (size_t i = 0; i < c->n; i++)
        sum += c->in->neurons[i].stake;
    for (size_t i = 0; i < c->n; i++)
        c->stake[i] = sum ? (fx)((((u128)c->in->neurons[i].stake) << 32) / sum) : 0;
}

typedef struct {
    fx s;
    size_t i;
} keyed;

static int keyed_cmp(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    if (x->s != y->s)
        return x->s < y->s ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

/* subtensor is_topk: all when n < k, else the n - k smallest lose. */
static bool new_permits(epoch_ctx *c, bool *permit)
{
    size_t n = c->n, k = c->in->p.max_validators;
    for (size_t i = 0; i < n; i++)
        permit[i] = true;
    if (n < k)
        return true;
    keyed *v = malloc((n ? n : 1) * sizeof *v);
    if (!v)
        return false;
    for (size_t i = 0; i < n; i++)
        v[i] = (keyed){ c->stake[i], i };
    qsort(v, n, sizeof *v, keyed_cmp);
    for (size_t r = 0; r < n - k; r++)
        permit[v[r].i] = false;
    free(v);
    return true;
}

static void active_stake(epoch_ctx *c)
{
    const reward_epoch_in *in = c->in;
    for (size_t i = 0; i < c->n; i++) {
        uint64_t lu = in->neurons[i].last_update, cut = in->p.activity_cutoff;
        bool inactive = (lu > UINT64_MAX - cut ? UINT64_MAX : lu + cut) < in->block;
        c->active[i] = (inactive || !in->neurons[i].permit) ? 0 : c->stake[i];
    }
    reward_normalize(c->active, c->n);
}

static bool outdated(const reward_epoch_in *in, size_t i, size_t j)
{
    return in->neurons[i].last_update <= in->neurons[j].registered_at;
}

/* Stored u16 rows as integers (not divided by 65535), masked. */
static bool load_rows(epoch_ctx *c, smat *m, bool weights)
{
    const reward_epoch_in *in = c->in;
    size_t cap = 0;
    for (size_t i = 0; i < c->n; i++)
        cap += weights ? in->neurons[i].weights.n : in->neurons[i].bonds.n;
    if (!smat_alloc(m, c->n, cap))
        return false;
    size_t at = 0;
    for (size_t i = 0; i < c->n; i++) {
        const reward_row *r = weights ? &in->neurons[i].weights : &in->neurons[i].bonds;
        bool keep_row = !weights || in->neurons[i].permit;
        for (size_t k = 0; keep_row && k < r->n; k++) {
            size_t j = r->uid[k];
            if ((weights && j == i) || outdated(in, i, j))
                continue;
            m->col[at] = (uint16_t)j;
            m->val[at++] = reward_fx_from_int(r->val[k]);
        }
        m->off[i + 1] = at;
    }
    return true;
}

static void row_normalize(smat *m, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        fx sum = 0;
        for (size_t k = m->off[i]; k < m->off[i + 1]; k++)
            sum += m->val[k];
        if (sum > 0)
            for (size_t k = m->off[i]; k < m->off[i + 1]; k++)
                m->val[k] = reward_fx_div(m->val[k], sum);
    }
}

static void col_normalize(smat *m, size_t n, fx *scratch)
{
    memset(scratch, 0, n * sizeof *scratch);
    for (size_t k = 0; k < m->off[n]; k++)
        scratch[m->col[k]] += m->val[k];
    for (size_t k = 0; k < m->off[n]; k++)
        if (scratch[m->col[k]] != 0)
            m->val[k] = reward_fx_div(m->val[k], scratch[m->col[k]]);
}

/* r_j = sum_i v_i * m_ij (subtensor matmul_sparse). */
static void matmul(const smat *m, const fx *v, size_t n, fx *r)
{
    memset(r, 0, n * sizeof *r);
    for (size_t i = 0; i < n; i++)
        for (size_t k = m->off[i]; k < m->off[i + 1]; k++)
            r[m->col[k]] += reward_fx_mul(v[i], m->val[k]);
}

/* C_j: stake-weighted median of column j over rows with S_a > 0. */
static bool consensus_median(epoch_ctx *c)
{
    size_t n = c->n, k = 0;
    fx *use = malloc((n ? n : 1) * sizeof *use), *score = malloc((n ? n : 1) * sizeof *score);
    size_t *row_of = malloc((n ? n : 1) * sizeof *row_of), *idx = malloc((n ? n : 1) * sizeof *idx);
    size_t *scr = malloc(2 * (n ? n : 1) * sizeof *scr), *cnt = calloc(n + 1, sizeof *cnt);
    size_t *t_row = malloc((c->w.off[n] ? c->w.off[n] : 1) * sizeof *t_row);
    fx *t_val = malloc((c->w.off[n] ? c->w.off[n] : 1) * sizeof *t_val);
    bool ok = use && score && row_of && idx && scr && cnt && t_row && t_val;
    if (ok) {
        for (size_t i = 0; i < n; i++)
            if (c->active[i] > 0) {
                row_of[i] = k;
                use[k++] = c->active[i];
            }
        reward_normalize(use, k);
        fx sum = 0;
        for (size_t r = 0; r < k; r++)
            sum += use[r];
        fx kappa = reward_fx_div(reward_fx_from_int(c->in->p.kappa), reward_fx_from_int(65535));
        fx minority = sum - kappa;
        /* transpose the rows of stake holders, column by column */
        for (size_t i = 0; i < n; i++)
            if (c->active[i] > 0)
                for (size_t q = c->w.off[i]; q < c->w.off[i + 1]; q++)
                    cnt[c->w.col[q] + 1]++;
        for (size_t j = 0; j < n; j++)
            cnt[j + 1] += cnt[j];
        for (size_t i = 0; i < n; i++)
            if (c->active[i] > 0)
                for (size_t q = c->w.off[i]; q < c->w.off[i + 1]; q++) {
                    size_t at = cnt[c->w.col[q]]++;
                    t_row[at] = row_of[i];
                    t_val[at] = c->w.val[q];
                }
        for (size_t j = n; j > 0; j--)     /* cnt[j] is now the end of column j */
            cnt[j] = cnt[j - 1];
        cnt[0] = 0;
        memset(score, 0, (n ? n : 1) * sizeof *score);
        for (size_t j = 0; j < n; j++) {
            for (size_t q = cnt[j]; q < cnt[j + 1]; q++)
                score[t_row[q]] = t_val[q];
            for (size_t r = 0; r < k; r++)
                idx[r] = r;
            c->cons[j] = reward_weighted_median(use, score, idx, k, minority, 0, sum, scr);
            for (size_t q = cnt[j]; q < cnt[j + 1]; q++)
                score[t_row[q]] = 0;
        }
    }
    free(use);
    free(score);
    free(row_of);
    free(idx);
    free(scr);
    free(cnt);
    free(t_row);
    free(t_val);
    return ok;
}

/* W_ij = min(W_ij, C_j); entries clipped to a zero consensus are dropped. */
static void clip(epoch_ctx *c)
{
    smat *m = &c->w;
    size_t at = 0, start = 0;
    for (size_t i = 0; i < c->n; i++) {
        size_t end = m->off[i + 1];
        for (size_t k = start; k < end; k++) {
            fx cj = c->cons[m->col[k]], v = m->val[k];
            if (cj < v) {
                if (cj <= 0)
                    continue;
                v = cj;
            }
            m->col[at] = m->col[k];
            m->val[at++] = v;
        }
        start = end;
        m->off[i + 1] = at;
    }
}

static void yuma_scores(epoch_ctx *c)
{
    size_t n = c->n;
    for (size_t i = 0; i < n; i++) {
        c->vtrust[i] = 0;
        for (size_t k = c->w.off[i]; k < c->w.off[i + 1]; k++)
            c->vtrust[i] += c->w.val[k];
    }
    matmul(&c->w, c->active, n, c->rank);
    for (size_t j = 0; j < n; j++)
        c->trust[j] = c->prerank[j] != 0 ? reward_fx_div(c->rank[j], c->prerank[j]) : 0;
    reward_normalize(c->rank, n);
    memcpy(c->inc, c->rank, n * sizeof *c->inc);
}

/* The whitepaper: T^T S, C = sigmoid(rho (T^T S - kappa)), I = norm(R C). */
static void whitepaper_scores(epoch_ctx *c)
{
    size_t n = c->n;
    const smat *m = &c->w;
    fx kappa = reward_fx_div(reward_fx_from_int(c->in->p.kappa), reward_fx_from_int(65535));
    fx rho = reward_fx_from_int(c->in->p.rho);
    memset(c->trust, 0, n * sizeof *c->trust);
    for (size_t i = 0; i < n; i++)
        for (size_t k = m->off[i]; k < m->off[i + 1]; k++)
            if (m->val[k] > 0)
                c->trust[m->col[k]] += c->active[i];
    for (size_t j = 0; j < n; j++)
        c->cons[j] = reward_sigmoid(c->trust[j], rho, kappa);
    memcpy(c->rank, c->prerank, n * sizeof *c->rank);
    for (size_t j = 0; j < n; j++)
        c->inc[j] = reward_fx_mul(c->rank[j], c->cons[j]);
    reward_normalize(c->rank, n);
    reward_normalize(c->inc, n);
    for (size_t i = 0; i < n; i++) {
        c->vtrust[i] = 0;
        for (size_t k = m->off[i]; k < m->off[i + 1]; k++)
            c->vtrust[i] += reward_fx_mul(m->val[k], c->cons[m->col[k]]);
    }
}

/* I = normalise((1 - b) I + b clamp(I, P10, P90)); untouched when b = 0.
 * RC, the incentive before it, goes out as incentive_rc. */
static void tft_term(epoch_ctx *c, reward_epoch_out *out)
{
    fx b = (fx)c->in->tft_b;
    for (size_t j = 0; j < c->n; j++)
        out->incentive_rc[j] = reward_fx_to_u16(c->inc[j]);
    if (b == 0)
        return;
    for (size_t j = 0; j < c->n; j++) {
        fx lo = reward_fx_from_u16_proportion(c->in->p10[j]);
        fx hi = reward_fx_from_u16_proportion(c->in->p90[j]);
        fx x = c->inc[j], cl = x < lo ? lo : x > hi ? hi : x;
        if (hi < lo)
            cl = x;
        c->inc[j] = reward_fx_mul(REWARD_FX_ONE - b, x) + reward_fx_mul(b, cl);
    }
    reward_normalize(c->inc, c->n);
}

/* B' = colnorm(alpha colnorm(W o S_a) + (1 - alpha) colnorm(B)), merged
 * row by row in column order; entries <= 0 are dropped. */
static bool bonds_ema(epoch_ctx *c, fx *scratch)
{
    size_t n = c->n;
    smat *w = &c->w, *b = &c->b, *e = &c->ema;
    for (size_t i = 0; i < n; i++)
        for (size_t k = w->off[i]; k < w->off[i + 1]; k++)
            w->val[k] = reward_fx_mul(w->val[k], c->active[i]);
    col_normalize(w, n, scratch);
    col_normalize(b, n, scratch);
    u128 q = ((u128)c->in->p.bonds_moving_average << 64) / 1000000;
    fx alpha = REWARD_FX_ONE - (fx)(q >> 32), oma = REWARD_FX_ONE - alpha;
    if (!smat_alloc(e, n, w->off[n] + b->off[n]))
        return false;
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        size_t p = w->off[i], pe = w->off[i + 1], r = b->off[i], re = b->off[i + 1];
        while (p < pe || r < re) {
            size_t jw = p < pe ? w->col[p] : SIZE_MAX, jb = r < re ? b->col[r] : SIZE_MAX;
            size_t j = jw < jb ? jw : jb;
            fx v = 0;
            for (; p < pe && w->col[p] == j; p++)
                v += reward_fx_mul(alpha, w->val[p]);
            for (; r < re && b->col[r] == j; r++)
                v += reward_fx_mul(oma, b->val[r]);
            if (v > 0) {
                e->col[at] = (uint16_t)j;
                e->val[at++] = v;
            }
        }
        e->off[i + 1] = at;
    }
    col_normalize(e, n, scratch);
    memset(c->div, 0, n * sizeof *c->div);
    for (size_t i = 0; i < n; i++)
        for (size_t k = e->off[i]; k < e->off[i + 1]; k++)
            c->div[i] += reward_fx_mul(c->inc[e->col[k]], e->val[k]);
    reward_normalize(c->div, n);
    return true;
}

static uint64_t amount(fx x, uint64_t emission)
{
    if (x <= 0)
        return 0;
    return (uint64_t)(((u128)x * emission) >> 32);
}

static void emission_split(epoch_ctx *c, reward_epoch_out *out)
{
    size_t n = c->n;
    uint64_t e = c->in->emission;
    fx sum = 0, asum = 0;
    for (size_t i = 0; i < n; i++) {
        sum += c->inc[i] + c->div[i];
        asum += c->active[i];
    }
    for (size_t i = 0; i < n; i++) {
        fx srv = c->inc[i], val = c->div[i], comb = c->inc[i] + c->div[i];
        if (sum != 0) {
            srv = reward_fx_div(srv, sum);
            val = reward_fx_div(val, sum);
            comb = reward_fx_div(comb, sum);
        } else {
            val = comb = asum == 0 ? c->stake[i] : c->active[i];
        }
        out->emission_incentive[i] = amount(srv, e);
        out->emission_dividends[i] = amount(val, e);
        out->emission[i] = amount(comb, e);
    }
}

static bool copy_row(reward_epoch_out *out, size_t i, const uint16_t *uid, const uint16_t *val, size_t m)
{
    out->bond_n[i] = m;
    out->bond_uid[i] = malloc((m ? m : 1) * sizeof(uint16_t));
    out->bond_val[i] = malloc((m ? m : 1) * sizeof(uint16_t));
    if (!out->bond_uid[i] || !out->bond_val[i])
        return false;
    if (m && uid)
        memcpy(out->bond_uid[i], uid, m * sizeof(uint16_t));
    if (m && val)
        memcpy(out->bond_val[i], val, m * sizeof(uint16_t));
    return true;
}

/* Column max-upscale B', then floor(x * 65535) for new permit holders. */
static bool store_bonds(epoch_ctx *c, reward_epoch_out *out, fx *colmax)
{
    size_t n = c->n;
    smat *e = &c->ema;
    memset(colmax, 0, n * sizeof *colmax);
    for (size_t k = 0; k < e->off[n]; k++)
        if (colmax[e->col[k]] < e->val[k])
            colmax[e->col[k]] = e->val[k];
    for (size_t i = 0; i < n; i++) {
        const reward_row *old = &c->in->neurons[i].bonds;
        if (!out->permit[i]) {
            bool ok = c->in->neurons[i].permit ? copy_row(out, i, NULL, NULL, 0)
                                                : copy_row(out, i, old->uid, old->val, old->n);
            if (!ok)
                return false;
            continue;
        }
        size_t m = e->off[i + 1] - e->off[i];
        if (!copy_row(out, i, e->col + e->off[i], NULL, m))
            return false;
        for (size_t k = 0; k < m; k++) {
            fx v = e->val[e->off[i] + k], mx = colmax[e->col[e->off[i] + k]];
            out->bond_val[i][k] = reward_fx_to_u16(mx != 0 ? reward_fx_div(v, mx) : v);
        }
    }
    return true;
}

static bool out_alloc(reward_epoch_out *out, size_t n)
{
    size_t m = n ? n : 1;
    out->n = n;
    uint16_t **u16s[] = { &out->rank, &out->trust, &out->consensus, &out->incentive,
                          &out->dividends, &out->validator_trust, &out->incentive_rc };
    for (size_t k = 0; k < sizeof u16s / sizeof *u16s; k++)
        if (!(*u16s[k] = calloc(m, sizeof(uint16_t))))
            return false;
    out->emission = calloc(m, sizeof(uint64_t));
    out->emission_incentive = calloc(m, sizeof(uint64_t));
    out->emission_dividends = calloc(m, sizeof(uint64_t));
    out->permit = calloc(m, sizeof(bool));
    out->bond_uid = calloc(m, sizeof(uint16_t *));
    out->bond_val = calloc(m, sizeof(uint16_t *));
    out->bond_n = calloc(m, sizeof(size_t));
    return out->emission && out->emission_incentive && out->emission_dividends && out->permit &&
           out->bond_uid && out->bond_val && out->bond_n;
}

void reward_epoch_out_free(reward_epoch_out *out)
{
    if (!out)
        return;
    if (out->bond_uid || out->bond_val)
        for (size_t i = 0; i < out->n; i++) {
            if (out->bond_uid)
                free(out->bond_uid[i]);
            if (out->bond_val)
                free(out->bond_val[i]);
        }
    free(out->rank);
    free(out->trust);
    free(out->consensus);
    free(out->incentive);
    free(out->incentive_rc);
    free(out->dividends);
    free(out->validator_trust);
    free(out->emission);
    free(out->emission_incentive);
    free(out->emission_dividends);
    free(out->permit);
    free(out->bond_uid);
    free(out->bond_val);
    free(out->bond_n);
    memset(out, 0, sizeof *out);
}

static void write_u16(epoch_ctx *c, reward_epoch_out *out)
{
    for (size_t i = 0; i < c->n; i++) {
        out->rank[i] = reward_fx_to_u16(c->rank[i]);
        out->trust[i] = reward_fx_to_u16(c->trust[i]);
        out->consensus[i] = reward_fx_to_u16(c->cons[i]);
        out->incentive[i] = reward_fx_to_u16(c->inc[i]);
        out->dividends[i] = reward_fx_to_u16(c->div[i]);
        out->validator_trust[i] = reward_fx_to_u16(c->vtrust[i]);
    }
}

static bool run(epoch_ctx *c, reward_epoch_out *out)
{
    size_t n = c->n;
    stake_normalize(c);
    if (!new_permits(c, out->permit))
        return false;
    active_stake(c);
    if (!load_rows(c, &c->w, true) || !load_rows(c, &c->b, false))
        return false;
    row_normalize(&c->w, n);
    matmul(&c->w, c->active, n, c->prerank);
    if (c->in->p.mode == REWARD_MODE_YUMA) {
        if (!consensus_median(c))
            return false;
        clip(c);
        yuma_scores(c);
    } else {
        whitepaper_scores(c);
    }
    tft_term(c, out);
    if (!bonds_ema(c, c->kappa_buf))
        return false;
    emission_split(c, out);
    write_u16(c, out);
    return store_bonds(c, out, c->kappa_buf);
}

based_err reward_epoch_run(const reward_epoch_in *in, reward_epoch_out *out)
{
    if (!out)
        return BASED_E_BAD_PARAM;
    memset(out, 0, sizeof *out);
    if (!input_ok(in))
        return BASED_E_BAD_PARAM;
    epoch_ctx c = { .in = in, .n = in->n };
    size_t m = c.n ? c.n : 1;
    fx **vecs[] = { &c.stake, &c.active, &c.kappa_buf, &c.prerank, &c.rank, &c.trust,
                    &c.cons, &c.vtrust, &c.inc, &c.div };
    bool ok = out_alloc(out, c.n);
    for (size_t k = 0; k < sizeof vecs / sizeof *vecs; k++)
        if (!(*vecs[k] = calloc(m, sizeof(fx))))
            ok = false;
    ok = ok && run(&c, out);
    for (size_t k = 0; k < sizeof vecs / sizeof *vecs; k++)
        free(*vecs[k]);
    smat_free(&c.w);
    smat_free(&c.b);
    smat_free(&c.ema);
    if (!ok) {
        reward_epoch_out_free(out);
        return BASED_E_NOMEM;
    }
    return BASED_E_OK;
}
