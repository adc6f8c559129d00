/*
 * net.c: the test model of a Brain's stored state (see net.h).
 */
#include "tests/rewards/net.h"
#include "rewards/fixed.h"

net *net_new(size_t n)
{
    net *t = calloc(1, sizeof *t);
    t->n = n;
    t->p = (reward_epoch_params){ REWARD_MODE_YUMA, 32767, 10, 900000, 5000, 256 };
    t->stake = calloc(n, 8);
    t->last_update = calloc(n, 8);
    t->reg = calloc(n, 8);
    t->permit = calloc(n, sizeof(bool));
    t->wu = calloc(n * n, 2);
    t->wv = calloc(n * n, 2);
    t->bu = calloc(n * n, 2);
    t->bv = calloc(n * n, 2);
    t->wn = calloc(n, sizeof(size_t));
    t->bn = calloc(n, sizeof(size_t));
    return t;
}

void net_free(net *t)
{
    reward_epoch_out_free(&t->out);
    free(t->stake);
    free(t->last_update);
    free(t->reg);
    free(t->permit);
    free(t->wu);
    free(t->wv);
    free(t->bu);
    free(t->bv);
    free(t->wn);
    free(t->bn);
    free(t);
}

void net_set_weights(net *t, size_t i, const uint16_t *uid, const uint16_t *val, size_t m,
                     uint64_t block)
{
    memcpy(t->wu + i * t->n, uid, m * 2);
    reward_weights_upscale(val, m, t->wv + i * t->n);
    t->wn[i] = m;
    t->last_update[i] = block;
}

based_err net_epoch(net *t, uint64_t block, uint64_t emission)
{
    reward_neuron_in *ns = calloc(t->n, sizeof *ns);
    for (size_t i = 0; i < t->n; i++)
        ns[i] = (reward_neuron_in){ t->stake[i], t->last_update[i], t->reg[i], t->permit[i],
                                    { t->wu + i * t->n, t->wv + i * t->n, t->wn[i] },
                                    { t->bu + i * t->n, t->bv + i * t->n, t->bn[i] } };
    reward_epoch_in in = { block, emission, t->p, t->n, ns, 0, NULL, NULL };
    reward_epoch_out_free(&t->out);
    based_err e = reward_epoch_run(&in, &t->out);
    free(ns);
    if (e != BASED_E_OK)
        return e;
    for (size_t i = 0; i < t->n; i++) {
        t->permit[i] = t->out.permit[i];
        t->bn[i] = t->out.bond_n[i];
        memcpy(t->bu + i * t->n, t->out.bond_uid[i], t->bn[i] * 2);
        memcpy(t->bv + i * t->n, t->out.bond_val[i], t->bn[i] * 2);
    }
    return e;
}

uint16_t net_bond(const net *t, size_t i, size_t j)
{
    for (size_t k = 0; k < t->bn[i]; k++)
        if (t->bu[i * t->n + k] == j)
            return t->bv[i * t->n + k];
    return 0;
}
