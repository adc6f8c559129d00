/*
 * Yuma epoch tests: subtensor's tests/epoch.rs (2023; the same file in
 * getbasedai/basednode) replayed on the test model of net.c, asserting the
 * exact u16 and u64 values upstream asserts: test_bonds (TV4),
 * test_active_stake (TV5), test_outdated_weights (TV6), test_zero_weights
 * (TV7), test_512_graph (TV8), plus input validation.
 */
#include "tests/runner.h"
#include "tests/rewards/net.h"

#define E9 1000000000ull
#define M 65535

static void check_emission(const net *t, const uint64_t *want)
{
    for (size_t i = 0; i < t->n; i++)
        CHECK_EQ_U64(t->out.emission[i], want[i]);
}

static void bonds_v(net *t)
{
    static const uint16_t srv[4] = { 4, 5, 6, 7 }, w[4] = { M / 4, M / 2, (M / 4) * 3, M };
    for (size_t v = 0; v < 4; v++)
        net_set_weights(t, v, srv, w, 4, 1);
}

TEST(rewards_tv4_bonds)
{
    net *t = net_new(8);
    const uint64_t st[8] = { 1, 2, 3, 4, 0, 0, 0, 0 };
    memcpy(t->stake, st, sizeof st);
    t->p.max_validators = 8;
    CHECK_EQ_INT(net_epoch(t, 0, E9), BASED_E_OK);           /* permits */
    bonds_v(t);
    CHECK_EQ_INT(net_epoch(t, 1, E9), BASED_E_OK);
    const uint16_t b1[4] = { 16383, 32767, 49151, 65535 };
    for (size_t v = 0; v < 4; v++)
        CHECK_EQ_INT(net_bond(t, v, 4), b1[v]);
    check_emission(t, (const uint64_t[]){ 49999998, 99999999, 150000000, 200000001, 49998779, 100000610,
                                          149996337, 200004272 });
    static const struct { uint64_t block; size_t col; uint16_t b[4]; uint64_t e[8]; } step[] = {
        { 2, 4, { 14582, 32767, 49151, 65535 },
          { 44998351, 101110561, 151667215, 202223870, 49998779, 100000610, 149996337, 200004272 } },
        { 3, 4, { 12603, 28321, 49151, 65535 },
          { 40496805, 90999783, 157929636, 210573773, 49998779, 100000610, 149996337, 200004272 } },
        { 4, 7, { 12602, 28320, 49150, 65535 }, { 99999999, 199999999, 299999999, 399999999, 0, 0, 0, 0 } },
        { 5, 7, { 10951, 24609, 49150, 65535 }, { 36443733, 81898628, 163565493, 218092144, 0, 0, 0, 500000000 } },
        { 6, 7, { 9559, 21482, 49150, 65535 }, { 32799427, 73706612, 168638129, 224855830, 0, 0, 0, 500000000 } },
        { 7, 7, { 8376, 18824, 49150, 65535 }, { 29518068, 66336137, 173203134, 230942659, 0, 0, 0, 500000000 } },
        { 8, 7, { 0, 0, 0, 0 }, { 26565175, 59701871, 177311856, 236421095, 0, 0, 0, 500000000 } },
    };
    const uint16_t self = M, seven = 7;
    for (size_t s = 0; s < sizeof step / sizeof *step; s++) {
        uint64_t blk = step[s].block;
        if (blk <= 4) {                     /* v(blk-2) sets a self-weight only, one block before */
            uint16_t u = (uint16_t)(blk - 2);
            net_set_weights(t, u, &u, &self, 1, blk - 1);
        } else if (blk == 5) {
            net_set_weights(t, 2, &seven, &self, 1, 4);
        }
        CHECK_EQ_INT(net_epoch(t, blk, E9), BASED_E_OK);
        if (blk < 8)
            for (size_t v = 0; v < 4; v++)
                CHECK_EQ_INT(net_bond(t, v, step[s].col), step[s].b[v]);
        check_emission(t, step[s].e);
    }
    net_free(t);
}

TEST(rewards_tv5_active_stake)
{
    net *t = net_new(4);
    for (size_t i = 0; i < 4; i++)
        t->stake[i] = 1;
    t->p.max_validators = 4;
    CHECK_EQ_INT(net_epoch(t, 0, E9), BASED_E_OK);
    const uint16_t srv[2] = { 2, 3 }, w[2] = { M / 2, M / 2 };
    net_set_weights(t, 0, srv, w, 2, 1);
    net_set_weights(t, 1, srv, w, 2, 1);
    CHECK_EQ_INT(net_epoch(t, 1, E9), BASED_E_OK);
    for (size_t i = 0; i < 4; i++)
        CHECK_EQ_U64(t->out.emission[i], 250000000);
    for (size_t v = 0; v < 2; v++) {
        CHECK_EQ_INT(t->out.dividends[v], 32767);
        CHECK_EQ_INT(net_bond(t, v, 0), 0);
        CHECK_EQ_INT(net_bond(t, v, 1), 0);
        CHECK_EQ_INT(net_bond(t, v, 2), 65535);
        CHECK_EQ_INT(net_bond(t, v, 3), 65535);
    }
    net_set_weights(t, 0, srv, w, 2, 5002);
    CHECK_EQ_INT(net_epoch(t, 5002, E9), BASED_E_OK);
    CHECK_EQ_INT(t->out.dividends[0], 36044);
    CHECK_EQ_U64(t->out.emission[0], 274999999);
    CHECK_EQ_INT(t->out.dividends[1], 29490);
    CHECK_EQ_U64(t->out.emission[1], 224999999);
    for (size_t s = 2; s < 4; s++) {
        CHECK_EQ_INT(net_bond(t, 0, s), 65535);
        CHECK_EQ_INT(net_bond(t, 1, s), 53619);
    }
    net_set_weights(t, 1, srv, w, 2, 5002);
    CHECK_EQ_INT(net_epoch(t, 5003, E9), BASED_E_OK);
    CHECK_EQ_INT(t->out.dividends[0], 35716);
    CHECK_EQ_U64(t->out.emission[0], 272501132);
    CHECK_EQ_INT(t->out.dividends[1], 29818);
    CHECK_EQ_U64(t->out.emission[1], 227498866);
    for (size_t s = 2; s < 4; s++) {
        CHECK_EQ_INT(net_bond(t, 0, s), 65535);
        CHECK_EQ_INT(net_bond(t, 1, s), 54712);
    }
    net_free(t);
}

TEST(rewards_tv6_outdated_weights)
{
    net *t = net_new(4);
    for (size_t i = 0; i < 4; i++)
        t->stake[i] = 1;
    t->p.max_validators = 4;
    CHECK_EQ_INT(net_epoch(t, 0, E9), BASED_E_OK);
    const uint16_t srv[2] = { 2, 3 }, w[2] = { 2 * (M / 3), M / 3 }, one = M;
    net_set_weights(t, 0, srv, w, 2, 1);
    net_set_weights(t, 1, srv, w, 2, 1);
    for (uint16_t s = 2; s < 4; s++)
        net_set_weights(t, s, &s, &one, 1, 1);
    CHECK_EQ_INT(t->wv[1], 32768);                       /* stored [65535, 32768] */
    CHECK_EQ_INT(net_epoch(t, 1, E9), BASED_E_OK);
    check_emission(t, (const uint64_t[]){ 250000000, 250000000, 333331637, 166668361 });
    /* uid 3 re-registered at block 1 by a key without stake */
    t->reg[3] = 1;
    t->stake[3] = 0;
    net_set_weights(t, 0, srv, w, 2, 2);
    CHECK_EQ_INT(net_epoch(t, 2, E9), BASED_E_OK);
    CHECK_EQ_INT(t->out.dividends[0], 32767);
    CHECK_EQ_U64(t->out.emission[0], 250000000);
    check_emission(t, (const uint64_t[]){ 250000000, 250000000, 500000000, 0 });
    CHECK_EQ_INT(t->out.consensus[3], 0);
    CHECK_EQ_INT(t->out.incentive[2], 65535);
    CHECK_EQ_INT(net_bond(t, 0, 2), 65535);
    CHECK_EQ_INT(net_bond(t, 0, 3), 65535);
    net_free(t);
}

TEST(rewards_tv7_zero_weights)
{
    net *t = net_new(2);
    t->stake[0] = 1;
    t->p.max_validators = 100;                           /* the test mock's default */
    CHECK_EQ_INT(net_epoch(t, 0, E9), BASED_E_OK);       /* no weights */
    check_emission(t, (const uint64_t[]){ E9, 0 });
    const uint16_t s1 = 1, one = M;
    net_set_weights(t, 1, &s1, &one, 1, 1);              /* server self-weight */
    CHECK_EQ_INT(net_epoch(t, 1, E9), BASED_E_OK);
    check_emission(t, (const uint64_t[]){ E9, 0 });
    net_set_weights(t, 0, &s1, &one, 1, 2);
    t->reg[1] = 2;                                       /* server re-registered: weights outdated */
    CHECK_EQ_INT(net_epoch(t, 2, E9), BASED_E_OK);
    check_emission(t, (const uint64_t[]){ E9, 0 });
    net_set_weights(t, 0, &s1, &one, 1, 3);
    CHECK_EQ_INT(net_epoch(t, 3, E9), BASED_E_OK);
    check_emission(t, (const uint64_t[]){ E9 / 2, E9 / 2 });
    CHECK_EQ_INT(t->out.consensus[1], 65535);
    CHECK_EQ_INT(t->out.incentive[1], 65535);
    CHECK_EQ_INT(t->out.dividends[0], 65535);
    net_free(t);
}

static void graph_512(int interleave, bool server_self)
{
    const size_t n = 512, nv = 64;
    net *t = net_new(n);
    bool *is_v = calloc(n, sizeof(bool));
    for (size_t i = 0; i < n; i++)
        is_v[i] = interleave == 0 ? i < nv : i % (n / nv) == 0;
    uint16_t *srv = malloc(n * 2), *w = malloc(n * 2), one = M;
    size_t ns = 0, v0 = SIZE_MAX, s0 = SIZE_MAX;
    for (size_t i = 0; i < n; i++) {
        t->stake[i] = is_v[i] ? 328125000000000ull : 0;
        if (!is_v[i])
            srv[ns++] = (uint16_t)i;
        if (is_v[i] && v0 == SIZE_MAX)
            v0 = i;
        if (!is_v[i] && s0 == SIZE_MAX)
            s0 = i;
    }
    for (size_t k = 0; k < ns; k++)
        w[k] = M / 512;
    t->p.max_validators = (uint16_t)nv;
    CHECK_EQ_INT(net_epoch(t, 0, E9), BASED_E_OK);
    for (size_t i = 0; i < n; i++) {
        if (is_v[i]) {
            net_set_weights(t, i, srv, w, ns, 1);
        } else if (server_self) {
            uint16_t u = (uint16_t)i;
            net_set_weights(t, i, &u, &one, 1, 1);
        }
    }
    for (int e = 0; e < 3; e++)
        CHECK_EQ_INT(net_epoch(t, 1, E9), BASED_E_OK);
    for (size_t i = 0; i < n; i++) {
        const reward_epoch_out *o = &t->out;
        if (is_v[i]) {
            CHECK_EQ_INT(o->rank[i], 0); CHECK_EQ_INT(o->trust[i], 0);
            CHECK_EQ_INT(o->consensus[i], 0); CHECK_EQ_INT(o->incentive[i], 0);
            CHECK_EQ_INT(o->dividends[i], 1023);
            CHECK_EQ_U64(o->emission[i], 7812500);
            CHECK_EQ_INT(net_bond(t, i, v0), 0);
            CHECK_EQ_INT(net_bond(t, i, s0), 65535);
        } else {
            CHECK_EQ_INT(o->rank[i], 146); CHECK_EQ_INT(o->trust[i], 65535);
            CHECK_EQ_INT(o->consensus[i], 146); CHECK_EQ_INT(o->incentive[i], 146);
            CHECK_EQ_INT(o->dividends[i], 0);
            CHECK_EQ_U64(o->emission[i], 1116071);
            CHECK_EQ_INT(net_bond(t, i, v0), 0);
            CHECK_EQ_INT(net_bond(t, i, s0), 0);
        }
    }
    free(is_v);
    free(srv);
    free(w);
    net_free(t);
}

TEST(rewards_tv8_512_graph)
{
    for (int il = 0; il < 2; il++) {
        graph_512(il, false);
        graph_512(il, true);
    }
}

/* Sums never exceed the budget; bad input is refused with *out zeroed. */
TEST(rewards_epoch_input)
{
    net *t = net_new(3);
    t->stake[0] = 5;
    t->stake[1] = 7;
    CHECK_EQ_INT(net_epoch(t, 0, 999999999999ull), BASED_E_OK);
    uint64_t s = 0, s2 = 0;
    for (size_t i = 0; i < 3; i++) {
        s += t->out.emission[i];
        s2 += t->out.emission_incentive[i] + t->out.emission_dividends[i];
    }
    CHECK(s <= 999999999999ull && s2 <= 999999999999ull);
    const uint16_t bad[2] = { 2, 1 }, w[2] = { 1, 1 };
    reward_neuron_in ns[3] = { { 0 } };
    ns[0].weights = (reward_row){ bad, w, 2 };
    reward_epoch_in in = { 1, 1, t->p, 3, ns, 0, NULL, NULL };
    reward_epoch_out out;
    CHECK_EQ_INT(reward_epoch_run(&in, &out), BASED_E_BAD_PARAM);
    CHECK(out.emission == NULL && out.n == 0);
    const uint16_t far[1] = { 3 };
    ns[0].weights = (reward_row){ far, w, 1 };
    CHECK_EQ_INT(reward_epoch_run(&in, &out), BASED_E_BAD_PARAM);
    ns[0].weights = (reward_row){ NULL, NULL, 0 };
    in.p.bonds_moving_average = 1000001;
    CHECK_EQ_INT(reward_epoch_run(&in, &out), BASED_E_BAD_PARAM);
    in.p.bonds_moving_average = 900000;
    in.tft_b = 1;
    CHECK_EQ_INT(reward_epoch_run(&in, &out), BASED_E_BAD_PARAM);
    in.n = REWARD_MAX_NEURONS + 1;
    CHECK_EQ_INT(reward_epoch_run(&in, &out), BASED_E_BAD_PARAM);
    in.n = 0;
    in.tft_b = 0;
    CHECK_EQ_INT(reward_epoch_run(&in, &out), BASED_E_OK);
    reward_epoch_out_free(&out);
    reward_epoch_out_free(&out);
    net_free(t);
}
