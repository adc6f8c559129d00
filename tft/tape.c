/*
 * tape.c: forward values and hand-written gradients of the tape's
 * operations (see tape.h). Every loop runs in a fixed order; a reduction is
 * always one sequential sum. Allocation failures set t->fail and make the
 * operation return node 0's slot (callers check t->fail once at the end).
 */
#include "tft/tape.h"
#include "tft/tft.h"
#include "chain/base.h"

enum { OP_LEAF, OP_PARAM, OP_LINEAR, OP_SLIN, OP_ADD, OP_MUL, OP_SCALE,
       OP_ELU, OP_SIGMOID, OP_TANH, OP_LN, OP_SOFTMAX, OP_SLICE, OP_CONCAT,
       OP_WSUM, OP_SCORES, OP_DROPOUT, OP_QHEAD };

#define LN_EPS 1e-5

void tape_init(struct tape *t)
{
    memset(t, 0, sizeof *t);
}

void tape_release(struct tape *t)
{
    free(t->val);
    free(t->grad);
    free(t->ops);
    free(t->lists);
    memset(t, 0, sizeof *t);
}

void tape_reset(struct tape *t, const double *P, double *G)
{
    t->used = 0;
    t->nops = 0;
    t->nlists = 0;
    t->P = P;
    t->G = G;
    t->fail = false;
}

static bool grow(void **p, size_t elem, size_t need, size_t *cap)
{
    if (need <= *cap)
        return true;
    size_t nc = *cap ? *cap : 1024;
    while (nc < need)
        nc *= 2;
    void *q = realloc(*p, nc * elem);
    if (!q)
        return false;
    *p = q;
    *cap = nc;
    return true;
}

/* Appends a node of n values; returns its index (0 on failure, with fail). */
static int push(struct tape *t, int kind, int n)
{
    size_t vcap = t->cap, ocap = (size_t)t->opcap;
    if (t->fail)
        return 0;
    if (!grow((void **)&t->ops, sizeof *t->ops, (size_t)t->nops + 1, &ocap)) {
        t->fail = true;
        return 0;
    }
    t->opcap = (int)ocap;
    size_t need = t->used + (size_t)n;
    if (need > vcap) {
        size_t gcap = vcap;
        if (!grow((void **)&t->val, sizeof(double), need, &vcap) ||
            !grow((void **)&t->grad, sizeof(double), need, &gcap)) {
            t->fail = true;
            return 0;
        }
        t->cap = vcap < gcap ? vcap : gcap;
    }
    struct tape_op *o = &t->ops[t->nops];
    memset(o, 0, sizeof *o);
    o->kind = (uint8_t)kind;
    o->n = n;
    o->off = t->used;
    o->a = o->b = -1;
    if (t->G)
        memset(t->grad + t->used, 0, (size_t)n * sizeof(double));
    t->used = need;
    return t->nops++;
}

static int push_list(struct tape *t, const int *xs, int m)
{
    size_t cap = (size_t)t->listcap;
    if (!grow((void **)&t->lists, sizeof(int), (size_t)(t->nlists + m), &cap)) {
        t->fail = true;
        return 0;
    }
    t->listcap = (int)cap;
    int at = t->nlists;
    memcpy(t->lists + at, xs, (size_t)m * sizeof(int));
    t->nlists += m;
    return at;
}

int tape_leaf(struct tape *t, const double *v, int n)
{
    int o = push(t, OP_LEAF, n);
    if (!t->fail)
        memcpy(tape_val(t, o), v, (size_t)n * sizeof(double));
    return o;
}

int tape_param(struct tape *t, int off, int n)
{
    int o = push(t, OP_PARAM, n);
    if (!t->fail) {
        t->ops[o].p1 = off;
        memcpy(tape_val(t, o), t->P + off, (size_t)n * sizeof(double));
    }
    return o;
}

static void lin_apply(const double *restrict W, const double *restrict b,
                      const double *restrict x, int in, int out, double *restrict y)
{
    for (int i = 0; i < out; i++)
        y[i] = b ? b[i] : 0.0;
    for (int j = 0; j < in; j++) {
        const double *w = W + (size_t)j * (size_t)out;
        double xj = x[j];
        for (int i = 0; i < out; i++)
            y[i] = y[i] + w[i] * xj;
    }
}

int tape_linear(struct tape *t, int x, const struct lin *l)
{
    int o = push(t, OP_LINEAR, l->out);
    if (t->fail)
        return o;
    struct tape_op *op = &t->ops[o];
    op->a = x;
    op->p1 = l->w;
    op->p2 = l->b;
    op->p3 = l->in;
    lin_apply(t->P + l->w, l->b >= 0 ? t->P + l->b : NULL, tape_val(t, x),
              l->in, l->out, tape_val(t, o));
    return o;
}

int tape_scalar_lin(struct tape *t, double x, const struct lin *l)
{
    int o = push(t, OP_SLIN, l->out);
    if (t->fail)
        return o;
    struct tape_op *op = &t->ops[o];
    op->p1 = l->w;
    op->p2 = l->b;
    op->c = x;
    lin_apply(t->P + l->w, t->P + l->b, &x, 1, l->out, tape_val(t, o));
    return o;
}

static int unary(struct tape *t, int kind, int a)
{
    int o = push(t, kind, t->fail ? 0 : t->ops[a].n);
    if (!t->fail)
        t->ops[o].a = a;
    return o;
}

int tape_add(struct tape *t, int a, int b)
{
    int o = unary(t, OP_ADD, a);
    if (t->fail)
        return o;
    t->ops[o].b = b;
    double *y = tape_val(t, o), *x = tape_val(t, a), *z = tape_val(t, b);
    for (int i = 0; i < t->ops[o].n; i++)
        y[i] = x[i] + z[i];
    return o;
}

int tape_mul(struct tape *t, int a, int b)
{
    int o = unary(t, OP_MUL, a);
    if (t->fail)
        return o;
    t->ops[o].b = b;
    double *y = tape_val(t, o), *x = tape_val(t, a), *z = tape_val(t, b);
    for (int i = 0; i < t->ops[o].n; i++)
        y[i] = x[i] * z[i];
    return o;
}

int tape_scale(struct tape *t, int a, double c)
{
    int o = unary(t, OP_SCALE, a);
    if (t->fail)
        return o;
    t->ops[o].c = c;
    double *y = tape_val(t, o), *x = tape_val(t, a);
    for (int i = 0; i < t->ops[o].n; i++)
        y[i] = x[i] * c;
    return o;
}

int tape_elu(struct tape *t, int a)
{
    int o = unary(t, OP_ELU, a);
    if (t->fail)
        return o;
    double *y = tape_val(t, o), *x = tape_val(t, a);
    for (int i = 0; i < t->ops[o].n; i++)
        y[i] = x[i] > 0 ? x[i] : tft_exp(x[i]) - 1.0;
    return o;
}

int tape_sigmoid(struct tape *t, int a)
{
    int o = unary(t, OP_SIGMOID, a);
    if (t->fail)
        return o;
    double *y = tape_val(t, o), *x = tape_val(t, a);
    for (int i = 0; i < t->ops[o].n; i++)
        y[i] = tft_sigmoid(x[i]);
    return o;
}

int tape_tanh(struct tape *t, int a)
{
    int o = unary(t, OP_TANH, a);
    if (t->fail)
        return o;
    double *y = tape_val(t, o), *x = tape_val(t, a);
    for (int i = 0; i < t->ops[o].n; i++)
        y[i] = tft_tanh(x[i]);
    return o;
}

int tape_layernorm(struct tape *t, int a, int gain, int bias)
{
    int o = unary(t, OP_LN, a);
    if (t->fail)
        return o;
    struct tape_op *op = &t->ops[o];
    op->p1 = gain;
    op->p2 = bias;
    int n = op->n;
    const double *x = tape_val(t, a), *g = t->P + gain, *b = t->P + bias;
    double *y = tape_val(t, o), mu = 0, var = 0;
    for (int i = 0; i < n; i++)
        mu += x[i];
    mu /= n;
    for (int i = 0; i < n; i++)
        var += (x[i] - mu) * (x[i] - mu);
    var /= n;
    double inv = 1.0 / tft_sqrt(var + LN_EPS);
    op->c = inv;
    for (int i = 0; i < n; i++)
        y[i] = g[i] * ((x[i] - mu) * inv) + b[i];
    return o;
}

int tape_softmax(struct tape *t, int a)
{
    int o = unary(t, OP_SOFTMAX, a);
    if (t->fail)
        return o;
    int n = t->ops[o].n;
    double *y = tape_val(t, o), *x = tape_val(t, a), mx = x[0], s = 0;
    for (int i = 1; i < n; i++)
        mx = x[i] > mx ? x[i] : mx;
    for (int i = 0; i < n; i++) {
        y[i] = tft_exp(x[i] - mx);
        s += y[i];
    }
    for (int i = 0; i < n; i++)
        y[i] = y[i] / s;
    return o;
}

int tape_slice(struct tape *t, int a, int off, int n)
{
    int o = push(t, OP_SLICE, n);
    if (t->fail)
        return o;
    t->ops[o].a = a;
    t->ops[o].p1 = off;
    memcpy(tape_val(t, o), tape_val(t, a) + off, (size_t)n * sizeof(double));
    return o;
}

int tape_concat(struct tape *t, const int *xs, int m)
{
    int n = 0;
    for (int j = 0; j < m; j++)
        n += t->ops[xs[j]].n;
    int at = push_list(t, xs, m);
    int o = push(t, OP_CONCAT, n);
    if (t->fail)
        return o;
    t->ops[o].a = at;
    t->ops[o].b = m;
    double *y = tape_val(t, o);
    for (int j = 0; j < m; j++) {
        int nj = t->ops[xs[j]].n;
        memcpy(y, tape_val(t, xs[j]), (size_t)nj * sizeof(double));
        y += nj;
    }
    return o;
}

int tape_wsum(struct tape *t, int w, const int *xs, int m)
{
    int at = push_list(t, xs, m);
    int o = push(t, OP_WSUM, t->fail ? 0 : t->ops[xs[0]].n);
    if (t->fail)
        return o;
    t->ops[o].a = at;
    t->ops[o].b = m;
    t->ops[o].p1 = w;
    int n = t->ops[o].n;
    double *y = tape_val(t, o);
    const double *wv = tape_val(t, w);
    memset(y, 0, (size_t)n * sizeof(double));
    for (int j = 0; j < m; j++) {
        const double *x = tape_val(t, xs[j]);
        for (int i = 0; i < n; i++)
            y[i] = y[i] + wv[j] * x[i];
    }
    return o;
}

int tape_scores(struct tape *t, int q, const int *ks, int m, double c)
{
    int at = push_list(t, ks, m);
    int o = push(t, OP_SCORES, m);
    if (t->fail)
        return o;
    struct tape_op *op = &t->ops[o];
    op->a = at;
    op->b = m;
    op->p1 = q;
    op->c = c;
    int n = t->ops[q].n;
    const double *qv = tape_val(t, q);
    double *y = tape_val(t, o);
    for (int j = 0; j < m; j++) {
        const double *k = tape_val(t, ks[j]);
        double s = 0;
        for (int i = 0; i < n; i++)
            s += qv[i] * k[i];
        y[j] = s * c;
    }
    return o;
}

int tape_dropout(struct tape *t, int a, double rate)
{
    int o = unary(t, OP_DROPOUT, a);
    if (t->fail)
        return o;
    /* The mask is kept as the value of an extra leaf node. */
    int n = t->ops[o].n;
    int mk = push(t, OP_LEAF, n);
    if (t->fail)
        return o;
    t->ops[o].b = mk;
    double *mask = tape_val(t, mk), *y = tape_val(t, o), *x = tape_val(t, a);
    double keep = 1.0 / (1.0 - rate);
    for (int i = 0; i < n; i++) {
        mask[i] = tft_rng_uniform(&t->rng) < rate ? 0.0 : keep;
        y[i] = x[i] * mask[i];
    }
    return o;
}

static double pos_f(double x) { return x > 0 ? x + 1.0 : tft_exp(x); }
static double pos_d(double x) { return x > 0 ? 1.0 : tft_exp(x); }

int tape_qhead(struct tape *t, int z)
{
    int o = push(t, OP_QHEAD, 3);
    if (t->fail)
        return o;
    t->ops[o].a = z;
    const double *x = tape_val(t, z);
    double *y = tape_val(t, o);
    y[0] = x[0] - pos_f(x[1]);
    y[1] = x[0];
    y[2] = x[0] + pos_f(x[2]);
    return o;
}

void tape_seed(struct tape *t, int node, const double *d)
{
    double *g = tape_grad(t, node);
    for (int i = 0; i < t->ops[node].n; i++)
        g[i] += d[i];
}

/* ---- backward ----------------------------------------------------------- */

static void back_linear(struct tape *t, const struct tape_op *op, const double *dy)
{
    int in = op->p3, out = op->n;
    const double *restrict W = t->P + op->p1, *restrict x = tape_val(t, op->a);
    double *restrict dx = tape_grad(t, op->a);
    double *restrict dW = t->G + op->p1;
    for (int j = 0; j < in; j++) {
        const double *w = W + (size_t)j * (size_t)out;
        double *dw = dW + (size_t)j * (size_t)out;
        double s = 0, xj = x[j];
        for (int i = 0; i < out; i++) {
            s += w[i] * dy[i];
            dw[i] = dw[i] + xj * dy[i];
        }
        dx[j] += s;
    }
    if (op->p2 >= 0) {
        double *db = t->G + op->p2;
        for (int i = 0; i < out; i++)
            db[i] += dy[i];
    }
}

static void back_ln(struct tape *t, const struct tape_op *op, const double *dy)
{
    int n = op->n;
    const double *x = tape_val(t, op->a), *g = t->P + op->p1;
    double *dx = tape_grad(t, op->a), *dg = t->G + op->p1, *db = t->G + op->p2;
    double mu = 0, inv = op->c, m1 = 0, m2 = 0;
    for (int i = 0; i < n; i++)
        mu += x[i];
    mu /= n;
    for (int i = 0; i < n; i++) {
        double xh = (x[i] - mu) * inv, dxh = dy[i] * g[i];
        dg[i] += dy[i] * xh;
        db[i] += dy[i];
        m1 += dxh;
        m2 += dxh * xh;
    }
    m1 /= n;
    m2 /= n;
    for (int i = 0; i < n; i++) {
        double xh = (x[i] - mu) * inv, dxh = dy[i] * g[i];
        dx[i] += inv * (dxh - m1 - xh * m2);
    }
}

static void back_list(struct tape *t, const struct tape_op *op, const double *dy)
{
    const int *xs = t->lists + op->a;
    int m = op->b;
    if (op->kind == OP_CONCAT) {
        for (int j = 0; j < m; j++) {
            int nj = t->ops[xs[j]].n;
            double *dx = tape_grad(t, xs[j]);
            for (int i = 0; i < nj; i++)
                dx[i] += dy[i];
            dy += nj;
        }
    } else if (op->kind == OP_WSUM) {
        const double *w = tape_val(t, op->p1);
        double *dw = tape_grad(t, op->p1);
        for (int j = 0; j < m; j++) {
            const double *x = tape_val(t, xs[j]);
            double *dx = tape_grad(t, xs[j]), s = 0;
            for (int i = 0; i < op->n; i++) {
                s += dy[i] * x[i];
                dx[i] += w[j] * dy[i];
            }
            dw[j] += s;
        }
    } else { /* OP_SCORES */
        const double *q = tape_val(t, op->p1);
        double *dq = tape_grad(t, op->p1);
        int n = t->ops[op->p1].n;
        for (int j = 0; j < m; j++) {
            const double *k = tape_val(t, xs[j]);
            double *dk = tape_grad(t, xs[j]), s = dy[j] * op->c;
            for (int i = 0; i < n; i++) {
                dq[i] += s * k[i];
                dk[i] += s * q[i];
            }
        }
    }
}

static void back_unary(struct tape *t, const struct tape_op *op, const double *y,
                       const double *dy)
{
    int n = op->n;
    const double *x = tape_val(t, op->a);
    double *dx = tape_grad(t, op->a);
    switch (op->kind) {
    case OP_SCALE:
        for (int i = 0; i < n; i++) dx[i] += dy[i] * op->c;
        break;
    case OP_ELU:
        for (int i = 0; i < n; i++) dx[i] += dy[i] * (x[i] > 0 ? 1.0 : y[i] + 1.0);
        break;
    case OP_SIGMOID:
        for (int i = 0; i < n; i++) dx[i] += dy[i] * (y[i] * (1.0 - y[i]));
        break;
    case OP_TANH:
        for (int i = 0; i < n; i++) dx[i] += dy[i] * (1.0 - y[i] * y[i]);
        break;
    case OP_SOFTMAX: {
        double s = 0;
        for (int i = 0; i < n; i++) s += y[i] * dy[i];
        for (int i = 0; i < n; i++) dx[i] += y[i] * (dy[i] - s);
        break;
    }
    case OP_DROPOUT: {
        const double *mask = tape_val(t, op->b);
        for (int i = 0; i < n; i++) dx[i] += dy[i] * mask[i];
        break;
    }
    default:
        break;
    }
}

static void back_one(struct tape *t, const struct tape_op *op)
{
    const double *dy = t->grad + op->off, *y = t->val + op->off;
    switch (op->kind) {
    case OP_LEAF:
        break;
    case OP_PARAM: {
        double *g = t->G + op->p1;
        for (int i = 0; i < op->n; i++) g[i] += dy[i];
        break;
    }
    case OP_LINEAR:
        back_linear(t, op, dy);
        break;
    case OP_SLIN: {
        double *dW = t->G + op->p1, *db = t->G + op->p2;
        for (int i = 0; i < op->n; i++) {
            dW[i] += dy[i] * op->c;
            db[i] += dy[i];
        }
        break;
    }
    case OP_ADD: {
        double *da = tape_grad(t, op->a), *db = tape_grad(t, op->b);
        for (int i = 0; i < op->n; i++) { da[i] += dy[i]; db[i] += dy[i]; }
        break;
    }
    case OP_MUL: {
        const double *a = tape_val(t, op->a), *b = tape_val(t, op->b);
        double *da = tape_grad(t, op->a), *db = tape_grad(t, op->b);
        for (int i = 0; i < op->n; i++) {
            da[i] += dy[i] * b[i];
            db[i] += dy[i] * a[i];
        }
        break;
    }
    case OP_LN:
        back_ln(t, op, dy);
        break;
    case OP_SLICE: {
        double *da = tape_grad(t, op->a) + op->p1;
        for (int i = 0; i < op->n; i++) da[i] += dy[i];
        break;
    }
    case OP_CONCAT: case OP_WSUM: case OP_SCORES:
        back_list(t, op, dy);
        break;
    case OP_QHEAD: {
        const double *x = tape_val(t, op->a);
        double *dx = tape_grad(t, op->a);
        dx[0] += dy[0] + dy[1] + dy[2];
        dx[1] -= dy[0] * pos_d(x[1]);
        dx[2] += dy[2] * pos_d(x[2]);
        break;
    }
    default:
        back_unary(t, op, y, dy);
        break;
    }
}

void tape_backward(struct tape *t)
{
    if (t->fail || !t->G)
        return;
    /* Every node's gradient slot was zeroed when it was pushed. */
    for (int i = t->nops - 1; i >= 0; i--)
        back_one(t, &t->ops[i]);
}
