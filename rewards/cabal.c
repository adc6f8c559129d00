/*
 * cabal.c: the cabal scenario of docs/economics.md (reward_sim_cabal).
 *
 * Ten validators (uids 0-9) and ten miners (uids 10-19). Validators 0-3
 * are the cabal and hold cabal_pct % of the stake between them; 4-9 are
 * honest. Miner 19 is the cabal's. Honest validators weight miners 10-18
 * by quality 1..9 and, unless `disjoint`, the cabal's miner by 2 (a weak
 * miner); the cabal's validators put all their weight on miner 19.
 * Every epoch pays 10 % of all stake (the whitepaper simulation's tau) and
 * everything a side earns (its miners' incentive and its validators'
 * dividends) is restaked on that side's validators, equally. The first
 * epoch only hands out permits; epochs 1..N are measured: the cabal's
 * share of the miners' emission, in parts per million.
 */
#include "rewards/sim.h"
#include "rewards/epoch.h"
#include "rewards/fixed.h"

#define NV 10
#define NN 20
#define CABAL_V 4
#define CABAL_MINER 19

typedef struct {
    reward_neuron_in ns[NN];
    uint16_t wu[NN][NN], wv[NN][NN], bu[NN][NN], bv[NN][NN];
} cabal_net;

static void cabal_setup(cabal_net *c, unsigned pct, bool disjoint)
{
    memset(c, 0, sizeof *c);
    const uint64_t unit = 1000000000000ull;            /* stake per percent */
    for (size_t i = 0; i < NN; i++) {
        reward_neuron_in *x = &c->ns[i];
        x->last_update = 1;
        x->weights = (reward_row){ c->wu[i], c->wv[i], 0 };
        x->bonds = (reward_row){ c->bu[i], c->bv[i], 0 };
        if (i >= NV)
            continue;
        bool cabal = i < CABAL_V;
        x->stake = cabal ? pct * unit / CABAL_V : (100 - pct) * unit / (NV - CABAL_V);
        size_t m = 0;
        for (size_t j = NV; j < NN; j++) {
            uint16_t w = cabal ? (j == CABAL_MINER ? 65535 : 0)
                               : (j == CABAL_MINER ? (disjoint ? 0 : 2 * 7281) : (uint16_t)((j - NV + 1) * 7281));
            if (w == 0)
                continue;
            c->wu[i][m] = (uint16_t)j;
            c->wv[i][m++] = w;
        }
        reward_weights_upscale(c->wv[i], m, c->wv[i]);
        x->weights.n = m;
    }
}

/* Restake each side's takings on its validators, equally. */
static void restake(cabal_net *c, const reward_epoch_out *o)
{
    uint64_t side[2] = { 0, 0 };                       /* [0] honest, [1] cabal */
    for (size_t i = 0; i < NN; i++) {
        bool cabal = i < CABAL_V || i == CABAL_MINER;
        side[cabal] += o->emission_incentive[i] + o->emission_dividends[i];
    }
    for (size_t i = 0; i < NV; i++)
        c->ns[i].stake += i < CABAL_V ? side[1] / CABAL_V : side[0] / (NV - CABAL_V);
}

static void keep_state(cabal_net *c, const reward_epoch_out *o)
{
    for (size_t i = 0; i < NN; i++) {
        c->ns[i].permit = o->permit[i];
        c->ns[i].bonds.n = o->bond_n[i];
        memcpy(c->bu[i], o->bond_uid[i], o->bond_n[i] * sizeof(uint16_t));
        memcpy(c->bv[i], o->bond_val[i], o->bond_n[i] * sizeof(uint16_t));
    }
}

static based_err cabal_run(int mode, unsigned pct, bool disjoint, unsigned epochs, uint32_t *share_ppm)
{
    if (pct > 100 || (mode != REWARD_MODE_YUMA && mode != REWARD_MODE_WHITEPAPER))
        return BASED_E_BAD_PARAM;
    cabal_net *c = malloc(sizeof *c);
    if (!c)
        return BASED_E_NOMEM;
    cabal_setup(c, pct, disjoint);
    reward_epoch_params p = { (reward_mode)mode, 32767, 10, 900000, 5000, 256 };
    based_err e = BASED_E_OK;
    for (unsigned ep = 0; ep <= epochs && e == BASED_E_OK; ep++) {
        uint64_t total = 0;
        for (size_t i = 0; i < NN; i++)
            total += c->ns[i].stake;
        reward_epoch_in in = { 1 + 99 * (uint64_t)ep, ep ? total / 10 : 0, p, NN, c->ns, 0, NULL, NULL };
        for (size_t i = 0; i < NV; i++)
            c->ns[i].last_update = in.block;
        reward_epoch_out o;
        if ((e = reward_epoch_run(&in, &o)) != BASED_E_OK)
            break;
        if (ep > 0) {
            uint64_t miners = 0;
            for (size_t j = NV; j < NN; j++)
                miners += o.emission_incentive[j];
            share_ppm[ep - 1] = miners ? (uint32_t)((__extension__(unsigned __int128)o.emission_incentive[CABAL_MINER] * 1000000) / miners) : 0;
            restake(c, &o);
        }
        keep_state(c, &o);
        reward_epoch_out_free(&o);
    }
    free(c);
    return e;
}

based_err reward_sim_cabal(int mode, unsigned cabal_pct, bool disjoint, unsigned epochs, uint32_t *share_ppm)
{
    return cabal_run(mode, cabal_pct, disjoint, epochs, share_ppm);
}
