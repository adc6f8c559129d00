/*
 * Unit tests of rewards/fixed.c against subtensor's tests/math.rs values
 * (BasedAI's math.rs is the same file): weighted median (TV1), max-upscale
 * to u16 (TV3), exp_safe and sigmoid_safe (TV2), all exact equality.
 * Inputs that upstream builds with I32F32::from_num(f32 or f64) are built
 * here the same way (round to nearest), in the test only.
 */
#include "tests/runner.h"
#include "rewards/fixed.h"

static reward_fx fxd(double d)
{
    double s = d * 4294967296.0;
    return s >= 0 ? (reward_fx)(s + 0.5) : -(reward_fx)(-s + 0.5);
}

static reward_fx fxf(float f)
{
    return fxd((double)f);
}

static reward_fx median_of(const float *st, const float *sc, size_t n, float majority)
{
    reward_fx stake[16], score[16];
    size_t idx[16], scr[32];
    reward_fx sum = 0;
    for (size_t i = 0; i < n; i++) {
        stake[i] = fxf(st[i]);
        score[i] = fxf(sc[i]);
        idx[i] = i;
        sum += stake[i];
    }
    return reward_weighted_median(stake, score, idx, n, REWARD_FX_ONE - fxf(majority), 0, sum, scr);
}

TEST(rewards_weighted_median)
{
    CHECK_EQ_INT(median_of(NULL, NULL, 0, 0.51f), 0);
    {   /* normalize([0.51]) -> [1.0] */
        reward_fx s[1] = { fxf(0.51f) }, sc[1] = { fxf(1.f) };
        size_t idx[1] = { 0 }, scr[2];
        reward_normalize(s, 1);
        CHECK_EQ_INT(reward_weighted_median(s, sc, idx, 1, REWARD_FX_ONE - fxf(0.51f), 0, s[0], scr),
                     REWARD_FX_ONE);
    }
    static const struct {
        size_t n;
        float st[10], sc[10], expect;
    } v[] = {
        { 2, { 0.49f, 0.51f }, { 0.5f, 1.f }, 1.f },
        { 2, { 0.51f, 0.49f }, { 0.5f, 1.f }, 0.5f },
        { 3, { 0.49f, 0.f, 0.51f }, { 0.5f, 0.7f, 1.f }, 1.f },
        { 3, { 0.49f, 0.01f, 0.5f }, { 0.5f, 0.7f, 1.f }, 0.7f },
        { 3, { 0.49f, 0.51f, 0.f }, { 0.5f, 0.7f, 1.f }, 0.7f },
        { 3, { 0.f, 0.49f, 0.51f }, { 0.5f, 0.7f, 1.f }, 1.f },
        { 4, { 0.f, 0.49f, 0.f, 0.51f }, { 0.5f, 0.5f, 1.f, 1.f }, 1.f },
        { 5, { 0.2f, 0.2f, 0.2f, 0.2f, 0.2f }, { 0.8f, 0.2f, 1.f, 0.6f, 0.4f }, 0.6f },
        { 10, { 0.1f, 0.1f, 0.1f, 0.1f, 0.1f, 0.1f, 0.1f, 0.1f, 0.1f, 0.1f },
          { 0.8f, 0.8f, 0.2f, 0.2f, 1.f, 1.f, 0.6f, 0.6f, 0.4f, 0.4f }, 0.6f },
    };
    for (size_t t = 0; t < sizeof v / sizeof *v; t++)
        CHECK_EQ_INT(median_of(v[t].st, v[t].sc, v[t].n, 0.51f), fxf(v[t].expect));
}

/* weighted_median_col: the function normalises the positive stakes and
 * uses minority = stake_sum - majority. */
static void median_col(const float *st, const float w[4][3], float majority, reward_fx *out)
{
    reward_fx use[4], score[4];
    size_t rows[4], k = 0, idx[4], scr[8];
    for (size_t r = 0; r < 4; r++)
        if (fxf(st[r]) > 0) {
            rows[k] = r;
            use[k++] = fxf(st[r]);
        }
    reward_normalize(use, k);
    reward_fx sum = 0;
    for (size_t r = 0; r < k; r++)
        sum += use[r];
    for (size_t c = 0; c < 3; c++) {
        for (size_t r = 0; r < k; r++) {
            score[r] = fxf(w[rows[r]][c]);
            idx[r] = r;
        }
        out[c] = reward_weighted_median(use, score, idx, k, sum - fxf(majority), 0, sum, scr);
    }
}

TEST(rewards_weighted_median_col)
{
    const float w1[4][3] = { { 0, 0.1f, 0 }, { 0, 0.2f, 0.4f }, { 0, 0.3f, 0.1f }, { 0, 0.4f, 0.5f } };
    const float w2[4][3] = { { 0, 0.1f, 0 }, { 0, 0.2f, 0.4f }, { 0, 0.3f, 0.1f }, { 0, 0, 0.5f } };
    const float s1[4] = { 0, 0.75f, 0.25f, 0 }, s2[4] = { 0, 0.3f, 0.2f, 0.5f };
    reward_fx m[3];
    median_col(s1, w1, 0.24f, m);
    CHECK_EQ_INT(m[0], 0); CHECK_EQ_INT(m[1], fxf(0.3f)); CHECK_EQ_INT(m[2], fxf(0.4f));
    median_col(s1, w1, 0.26f, m);
    CHECK_EQ_INT(m[0], 0); CHECK_EQ_INT(m[1], fxf(0.2f)); CHECK_EQ_INT(m[2], fxf(0.4f));
    median_col(s1, w1, 0.76f, m);
    CHECK_EQ_INT(m[0], 0); CHECK_EQ_INT(m[1], fxf(0.2f)); CHECK_EQ_INT(m[2], fxf(0.1f));
    median_col(s2, w2, 0.51f, m);
    CHECK_EQ_INT(m[0], 0); CHECK_EQ_INT(m[1], 0); CHECK_EQ_INT(m[2], fxf(0.4f));
}

/* Property (the upstream randomized check, deterministic here): the median
 * is the smallest score w with sum_{score <= w} stake > minority, and does
 * not depend on the order of the inputs. */
TEST(rewards_weighted_median_property)
{
    uint64_t x = 88172645463325252ull;
    for (int round = 0; round < 300; round++) {
        size_t n = 1 + round % 40, idx[40], scr[80];
        reward_fx st[40], sc[40], sum = 0;
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            st[i] = (reward_fx)(x % 1000) << 20;
            sc[i] = (reward_fx)((x >> 20) % 7) << 29;    /* many ties */
            sum += st[i];
        }
        reward_fx minority = (reward_fx)((x >> 40) % (uint64_t)(sum + 1));
        for (size_t i = 0; i < n; i++)
            idx[i] = i;
        reward_fx got = reward_weighted_median(st, sc, idx, n, minority, 0, sum, scr);
        reward_fx want = -1;
        for (size_t i = 0; i < n; i++) {
            reward_fx below = 0;
            for (size_t j = 0; j < n; j++)
                if (sc[j] <= sc[i])
                    below += st[j];
            if (below > minority && (want < 0 || sc[i] < want))
                want = sc[i];
        }
        if (want < 0) {                /* nothing exceeds: the largest score */
            want = sc[0];
            for (size_t i = 1; i < n; i++)
                want = sc[i] > want ? sc[i] : want;
        }
        CHECK_EQ_INT(got, want);
        /* reversed order gives the same */
        reward_fx rst[40], rsc[40];
        for (size_t i = 0; i < n; i++) {
            rst[i] = st[n - 1 - i];
            rsc[i] = sc[n - 1 - i];
            idx[i] = i;
        }
        CHECK_EQ_INT(reward_weighted_median(rst, rsc, idx, n, minority, 0, sum, scr), want);
    }
}

static void upscale_f(const float *in, size_t n, const uint16_t *want)
{
    reward_fx v[16];
    uint16_t out[16];
    for (size_t i = 0; i < n; i++)
        v[i] = fxf(in[i]);
    reward_fx_max_upscale(v, n, out);
    for (size_t i = 0; i < n; i++)
        CHECK_EQ_INT(out[i], want[i]);
}

TEST(rewards_max_upscale)
{
    upscale_f((const float[]){ 0.f }, 1, (const uint16_t[]){ 0 });
    upscale_f((const float[]){ 0.f, 1.f }, 2, (const uint16_t[]){ 0, 65535 });
    upscale_f((const float[]){ 0.f, 0.000000001f }, 2, (const uint16_t[]){ 0, 65535 });
    upscale_f((const float[]){ 0.f, 0.000016f, 1.f }, 3, (const uint16_t[]){ 0, 1, 65535 });
    upscale_f((const float[]){ 0.000000001f, 0.000000001f }, 2, (const uint16_t[]){ 65535, 65535 });
    upscale_f((const float[]){ 0.000001f, 0.000006f, 0.000007f, 0.0001f, 0.001f, 0.01f, 0.1f, 0.2f, 0.3f, 0.4f },
              10, (const uint16_t[]){ 0, 1, 1, 16, 164, 1638, 16384, 32768, 49151, 65535 });
    upscale_f((const float[]){ 0.f, 1.f, 65535.f }, 3, (const uint16_t[]){ 0, 1, 65535 });
    upscale_f((const float[]){ 0.f, 0.5f, 1.f, 1.5f, 2.f, 32768.f }, 6, (const uint16_t[]){ 0, 1, 2, 3, 4, 65535 });
    upscale_f((const float[]){ 0.f, 0.5f, 1.f, 1.5f, 2.f, 32768.f, 32769.f }, 7,
              (const uint16_t[]){ 0, 1, 2, 3, 4, 65533, 65535 });
    reward_fx big[5] = { 0, REWARD_FX_ONE, (reward_fx)32768 << 32, (reward_fx)32769 << 32, REWARD_FX_MAX };
    uint16_t out[7];
    reward_fx_max_upscale(big, 5, out);
    CHECK_EQ_INT(out[0], 0); CHECK_EQ_INT(out[1], 0); CHECK_EQ_INT(out[2], 1);
    CHECK_EQ_INT(out[3], 1); CHECK_EQ_INT(out[4], 65535);
    const reward_fx singles[] = { (reward_fx)16384 << 32, (reward_fx)32768 << 32, (reward_fx)32769 << 32,
                                  (reward_fx)65535 << 32, REWARD_FX_MAX };
    for (size_t i = 0; i < 5; i++) {
        reward_fx_max_upscale(&singles[i], 1, out);
        CHECK_EQ_INT(out[0], 65535);
    }
    /* u16 rows as stored by set_weights */
    static const struct { size_t n; uint16_t in[7], want[7]; } u[] = {
        { 1, { 0 }, { 0 } }, { 2, { 0, 0 }, { 0, 0 } }, { 1, { 1 }, { 65535 } },
        { 2, { 0, 1 }, { 0, 65535 } }, { 1, { 65534 }, { 65535 } }, { 1, { 65535 }, { 65535 } },
        { 2, { 65535, 65535 }, { 65535, 65535 } }, { 3, { 0, 1, 65534 }, { 0, 1, 65535 } },
        { 7, { 0, 1, 2, 3, 4, 65533, 65535 }, { 0, 1, 2, 3, 4, 65533, 65535 } },
        { 2, { 43690, 21845 }, { 65535, 32768 } },        /* test_outdated_weights */
        { 4, { 16383, 32767, 49149, 65535 }, { 16383, 32767, 49149, 65535 } },
        { 2, { 127, 127 }, { 65535, 65535 } },
    };
    for (size_t t = 0; t < sizeof u / sizeof *u; t++) {
        reward_weights_upscale(u[t].in, u[t].n, out);
        for (size_t i = 0; i < u[t].n; i++)
            CHECK_EQ_INT(out[i], u[t].want[i]);
    }
}

TEST(rewards_exp_sigmoid)
{
    CHECK_EQ_INT(reward_exp_safe(0), REWARD_FX_ONE);
    CHECK_EQ_INT(reward_exp_safe(REWARD_FX_ONE), (reward_fx)22802600 << 9);
    reward_fx m20 = reward_exp_safe(-((reward_fx)20 << 32)), p20 = reward_exp_safe((reward_fx)20 << 32);
    CHECK_EQ_INT(reward_exp_safe(-((reward_fx)21 << 32)), m20);
    CHECK_EQ_INT(reward_exp_safe(REWARD_FX_MIN), m20);
    CHECK_EQ_INT(reward_exp_safe(REWARD_FX_MAX), p20);
    CHECK_EQ_INT(p20 >> 32, 481239357);        /* the truncated series, not e^20 */

    const reward_fx trust[7] = { REWARD_FX_MIN, 0, fxd(0.4), fxd(0.5), fxd(0.6), REWARD_FX_ONE, REWARD_FX_MAX };
    const double t30[7] = { 0.0000000019, 0.0000003057, 0.0474258729, 0.5, 0.952574127, 0.9999996943,
                            0.9999999981 };
    for (size_t i = 0; i < 7; i++)
        CHECK_EQ_INT(reward_sigmoid(trust[i], (reward_fx)30 << 32, fxd(0.5)), fxd(t30[i]));
    for (size_t i = 0; i < 7; i++) {
        CHECK_EQ_INT(reward_sigmoid(trust[i], REWARD_FX_MAX, REWARD_FX_MAX),
                     i == 6 ? fxf(0.5f) : fxf(0.0000000019f));
        CHECK_EQ_INT(reward_sigmoid(trust[i], REWARD_FX_MIN, REWARD_FX_MIN),
                     i == 0 ? fxf(0.5f) : fxf(0.0000000019f));
    }
    const double t40[11] = { 0.0000000019, 0.0000001125, 0.0000061442, 0.0003353502, 0.017986214, 0.5,
                             0.9820138067, 0.9996646498, 0.9999938558, 0.9999998875, 0.9999999981 };
    for (int i = 0; i <= 10; i++)
        CHECK_EQ_INT(reward_sigmoid(fxf((float)i / 10.0f), (reward_fx)40 << 32, fxd(0.5)), fxd(t40[i]));
}
