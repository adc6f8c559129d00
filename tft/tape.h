/*
 * tape.h (internal to tft/): a small reverse-mode differentiation tape over
 * vectors of doubles. Each operation appends one node (its value in the
 * value arena); tape_backward walks the nodes in reverse and applies the
 * hand-written gradient of each operation, accumulating parameter
 * gradients into G. Node order, and so summation order, is the order of
 * the forward code: the same on every compiler.
 *
 * Parameters live in one array P (gradients in G, same layout); a linear
 * layer is W [in][out] (column-major, so y += W[j] * x[j] runs over
 * outputs and vectorises without changing any output's summation order)
 * and b [out] at offsets into P.
 */
#ifndef BASED_TFT_TAPE_H
#define BASED_TFT_TAPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lin { int w, b, in, out; };     /* b < 0: no bias */

struct tape_op {
    uint8_t kind;
    int n;              /* output length */
    size_t off;         /* value/grad offset */
    int a, b;           /* input nodes (or list start / length) */
    int p1, p2, p3;     /* parameter offsets / sizes */
    double c;           /* constant: scale, scalar input, LN inverse std */
};

struct tape {
    double *val, *grad;
    size_t used, cap;
    struct tape_op *ops;
    int nops, opcap;
    int *lists;
    int nlists, listcap;
    const double *P;
    double *G;          /* NULL: no gradients */
    uint64_t rng;       /* dropout masks */
    bool fail;          /* an allocation failed: results invalid */
};

void tape_init(struct tape *t);
void tape_release(struct tape *t);
void tape_reset(struct tape *t, const double *P, double *G);
static inline double *tape_val(struct tape *t, int node)
{
    return t->val + t->ops[node].off;
}
static inline double *tape_grad(struct tape *t, int node)
{
    return t->grad + t->ops[node].off;
}
static inline int tape_len(const struct tape *t, int node) { return t->ops[node].n; }

int tape_leaf(struct tape *t, const double *v, int n);   /* constant */
int tape_param(struct tape *t, int off, int n);          /* value = P[off..] */
int tape_linear(struct tape *t, int x, const struct lin *l);
int tape_scalar_lin(struct tape *t, double x, const struct lin *l); /* in = 1 */
int tape_add(struct tape *t, int a, int b);
int tape_mul(struct tape *t, int a, int b);
int tape_scale(struct tape *t, int a, double c);
int tape_elu(struct tape *t, int a);
int tape_sigmoid(struct tape *t, int a);
int tape_tanh(struct tape *t, int a);
int tape_layernorm(struct tape *t, int a, int gain, int bias);
int tape_softmax(struct tape *t, int a);
int tape_slice(struct tape *t, int a, int off, int n);
int tape_concat(struct tape *t, const int *xs, int m);
int tape_wsum(struct tape *t, int w, const int *xs, int m); /* sum w[j] x_j */
int tape_scores(struct tape *t, int q, const int *ks, int m, double c); /* c q.k_j */
int tape_dropout(struct tape *t, int a, double rate);
int tape_qhead(struct tape *t, int z);   /* [z0 - pos(z1), z0, z0 + pos(z2)] */

/* Adds d to the gradient of node (before backward). */
void tape_seed(struct tape *t, int node, const double *d);
/* Backpropagates to every node and into G. */
void tape_backward(struct tape *t);

#endif
