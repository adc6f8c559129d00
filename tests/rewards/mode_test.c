/*
 * Whitepaper mode, the TFT term and based-sim: the whitepaper's cabal
 * argument (a 49 % cabal's share shrinks epoch by epoch; under Yuma it gets
 * nothing), the whitepaper consensus values, b = 0 bit-identical to classic
 * Yuma, b > 0 damping, and the simulator's JSON round trip and error paths.
 */
#include <sys/wait.h>

#include "tests/runner.h"
#include "tests/rewards/net.h"
#include "rewards/fixed.h"
#include "rewards/sim.h"

TEST(rewards_whitepaper_cabal_shrinks)
{
    uint32_t wp[10], yu[10];
    CHECK_EQ_INT(reward_sim_cabal(REWARD_MODE_WHITEPAPER, 49, true, 10, wp), BASED_E_OK);
    CHECK_EQ_INT(reward_sim_cabal(REWARD_MODE_YUMA, 49, true, 10, yu), BASED_E_OK);
    CHECK(wp[0] < 490000);                       /* below its stake share at once */
    for (int e = 1; e < 10; e++)
        CHECK(wp[e] < wp[e - 1]);                /* and shrinking every epoch */
    for (int e = 0; e < 10; e++)
        CHECK_EQ_INT(yu[e], 0);                  /* the median gives it nothing */
    /* the same cabal at 40 % boosting a weak miner the honest also rate */
    CHECK_EQ_INT(reward_sim_cabal(REWARD_MODE_YUMA, 40, false, 10, yu), BASED_E_OK);
    for (int e = 0; e < 10; e++)
        CHECK(yu[e] < 70000);
}

/* Two validators (0.51 / 0.49 stake) on disjoint miners: consensus is the
 * integer sigmoid of T^T S, incentive follows R * C. */
TEST(rewards_whitepaper_values)
{
    net *t = net_new(4);
    t->p.mode = REWARD_MODE_WHITEPAPER;
    t->stake[0] = 51;
    t->stake[1] = 49;
    CHECK_EQ_INT(net_epoch(t, 0, 1000000), BASED_E_OK);
    const uint16_t m2 = 2, m3 = 3, one = 65535;
    net_set_weights(t, 0, &m2, &one, 1, 1);
    net_set_weights(t, 1, &m3, &one, 1, 1);
    CHECK_EQ_INT(net_epoch(t, 1, 1000000), BASED_E_OK);
    reward_fx kappa = reward_fx_div((reward_fx)32767 << 32, (reward_fx)65535 << 32);
    reward_fx s0 = (reward_fx)(((uint64_t)51 << 32) / 100), s1 = (reward_fx)(((uint64_t)49 << 32) / 100);
    CHECK_EQ_INT(t->out.consensus[2], reward_fx_to_u16(reward_sigmoid(s0, (reward_fx)10 << 32, kappa)));
    CHECK_EQ_INT(t->out.consensus[3], reward_fx_to_u16(reward_sigmoid(s1, (reward_fx)10 << 32, kappa)));
    CHECK_EQ_INT(t->out.trust[2], reward_fx_to_u16(s0));
    CHECK(t->out.incentive[2] > 34000 && t->out.incentive[3] < 31500);   /* 0.535 / 0.465 */
    CHECK(t->out.emission_incentive[2] + t->out.emission_incentive[3] <= 500000);
    CHECK(t->out.dividends[0] > t->out.dividends[1]);
    CHECK(net_bond(t, 0, 2) == 65535 && net_bond(t, 1, 3) == 65535 && net_bond(t, 0, 3) == 0);
    net_free(t);
}

static void run_tft(uint64_t b, const uint16_t *p10, const uint16_t *p90, reward_epoch_out *o)
{
    static const uint16_t srv[3] = { 3, 4, 5 }, w0[3] = { 65535, 1000, 1000 }, w1[3] = { 1000, 65535, 30000 };
    reward_neuron_in ns[6] = { { 0 } };
    for (size_t i = 0; i < 6; i++) {
        ns[i].stake = i < 3 ? 100 + 50 * i : 0;
        ns[i].last_update = 1;
        ns[i].permit = true;
    }
    ns[0].weights = (reward_row){ srv, w0, 3 };
    ns[1].weights = (reward_row){ srv, w1, 3 };
    ns[2].weights = (reward_row){ srv, w1, 3 };
    reward_epoch_in in = { 2, 1000000000, { REWARD_MODE_YUMA, 32767, 10, 900000, 5000, 256 }, 6, ns, b, p10, p90 };
    reward_epoch_run(&in, o);
}

TEST(rewards_tft_term)
{
    reward_epoch_out a, z, d;
    const uint16_t p10[6] = { 0, 0, 0, 0, 0, 0 }, p90[6] = { 0, 0, 0, 65535, 19660, 65535 };
    run_tft(0, NULL, NULL, &a);
    run_tft(0, p10, p90, &z);                       /* b = 0: bit-identical */
    CHECK_EQ_MEM(a.incentive, z.incentive, 12);
    CHECK_EQ_MEM(a.dividends, z.dividends, 12);
    CHECK_EQ_MEM(a.emission, z.emission, 48);
    run_tft(REWARD_FX_ONE / 2, p10, p90, &d);       /* miner 4 capped at P90 = 0.3 */
    CHECK(a.incentive[4] > 19660);
    CHECK(d.incentive[4] < a.incentive[4]);
    CHECK(d.incentive[5] > a.incentive[5] && d.incentive[3] > a.incentive[3]);
    uint64_t s = 0;
    for (size_t i = 0; i < 6; i++)
        s += d.emission_incentive[i] + d.emission_dividends[i];
    CHECK(s <= 1000000000);
    reward_epoch_out_free(&a);
    reward_epoch_out_free(&z);
    reward_epoch_out_free(&d);
}

static const char sim_in[] =
    "{\"block\": 5002, \"emission\": \"1000000000\",\n"
    " \"params\": {\"mode\": \"yuma\", \"kappa\": 32767, \"rho\": 10, \"bonds_moving_average\": 900000,\n"
    "            \"activity_cutoff\": 5000, \"max_validators\": 256},\n"
    " \"neurons\": [\n"
    "  {\"uid\": 0, \"stake\": \"1\", \"last_update\": 5002, \"registered_at\": 0, \"permit\": true,\n"
    "   \"weights\": [[2, 65535], [3, 65535]], \"bonds\": [[2, 65535], [3, 65535]]},\n"
    "  {\"uid\": 1, \"stake\": \"1\", \"last_update\": 1, \"registered_at\": 0, \"permit\": true,\n"
    "   \"weights\": [[2, 65535], [3, 65535]], \"bonds\": [[2, 65535], [3, 65535]]},\n"
    "  {\"uid\": 2, \"stake\": \"1\", \"last_update\": 0, \"registered_at\": 0, \"permit\": true},\n"
    "  {\"uid\": 3, \"stake\": \"1\", \"last_update\": 0, \"registered_at\": 0, \"permit\": true}]}\n";

/* TV5's block-5002 epoch through the simulator's JSON. */
TEST(rewards_sim_json)
{
    char *out = NULL, err[256];
    CHECK_EQ_INT(reward_sim_epoch(sim_in, strlen(sim_in), &out, err, sizeof err), BASED_E_OK);
    CHECK(strstr(out, "\"dividends\":36044") != NULL);
    CHECK(strstr(out, "\"emission\":\"274999999\"") != NULL);
    CHECK(strstr(out, "\"dividends\":29490") != NULL);
    CHECK(strstr(out, "\"bonds\":[[2,53619],[3,53619]]") != NULL);
    char *again = NULL;                             /* the output is a valid input */
    CHECK_EQ_INT(reward_sim_epoch(out, strlen(out), &again, err, sizeof err), BASED_E_OK);
    free(again);
    free(out);
    static const struct { const char *in, *path; } bad[] = {
        { "{\"block\":1,\"neurons\":[{\"weights\":[[5,1]]}]}", "neurons[0].weights[0]" },
        { "{\"block\":1,\"neurons\":[{},{},{},{\"weights\":[[1,1],[0,1]]}]}", "neurons[3].weights[1]" },
        { "{\"block\":1,\"neurons\":[{\"stake\":\"12x\"}]}", "neurons[0].stake" },
        { "{\"block\":1,\"neurons\":[{\"stake\":\"18446744073709551616\"}]}", "neurons[0].stake" },
        { "{\"block\":1,\"neurons\":[{\"bonds\":[[0,70000]]}]}", "neurons[0].bonds[0]" },
        { "{\"block\":1,\"neurons\":[{\"uid\":4}]}", "neurons[0].uid" },
        { "{\"block\":1,\"params\":{\"mode\":\"x\"},\"neurons\":[]}", "params.mode" },
        { "{\"block\":1,\"params\":{\"bonds_moving_average\":1000001},\"neurons\":[]}",
          "params.bonds_moving_average" },
        { "{\"block\":-1,\"neurons\":[]}", "block" },
        { "{\"block\":1,\"emission\":5,\"neurons\":[]}", "emission" },
        { "[1,2", "(input)" },
    };
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        out = NULL;
        CHECK(reward_sim_epoch(bad[k].in, strlen(bad[k].in), &out, err, sizeof err) != BASED_E_OK);
        CHECK(out == NULL);
        CHECK_EQ_INT(strncmp(err, bad[k].path, strlen(bad[k].path)), 0);
        CHECK(err[strlen(bad[k].path)] == ':');
    }
}

/* The program: stdin, exit 2 with the path on bad input, --help, --version. */
TEST(rewards_sim_cli)
{
    char cmd[512], path[256];
    snprintf(path, sizeof path, "%s/in.json", test_tmpdir());
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    fputs(sim_in, f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "%s epoch < %s | grep -q '\"dividends\":36044'", test_bin("based-sim"), path);
    CHECK_EQ_INT(WEXITSTATUS(system(cmd)), 0);
    snprintf(cmd, sizeof cmd, "%s epoch %s > /dev/null", test_bin("based-sim"), path);
    CHECK_EQ_INT(WEXITSTATUS(system(cmd)), 0);
    snprintf(cmd, sizeof cmd, "echo '{\"block\":1,\"neurons\":[{},{\"weights\":[[9,1]]}]}' | %s epoch 2>&1 "
             ">/dev/null | grep -q 'neurons\\[1\\].weights\\[0\\]'", test_bin("based-sim"));
    CHECK_EQ_INT(WEXITSTATUS(system(cmd)), 0);
    snprintf(cmd, sizeof cmd, "echo '{' | %s epoch 2>/dev/null", test_bin("based-sim"));
    CHECK_EQ_INT(WEXITSTATUS(system(cmd)), 2);
    snprintf(cmd, sizeof cmd, "%s --help | grep -q usage && %s --version | grep -q based-sim",
             test_bin("based-sim"), test_bin("based-sim"));
    CHECK_EQ_INT(WEXITSTATUS(system(cmd)), 0);
}
