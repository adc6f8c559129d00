/*
 * fixed.c: I32F32 arithmetic, the integer exp/sigmoid and the stake-weighted
 * median, reproducing subtensor's math.rs (2023, as BasedAI ships it) and
 * the substrate-fixed crate it uses bit for bit. 128-bit intermediates,
 * floor multiply, truncating divide, saturation only where upstream
 * saturates (sigmoid); elsewhere the values of an epoch never come near the
 * range, so saturation and plain arithmetic agree.
 */
#include "rewards/fixed.h"

__extension__ typedef __int128 i128;

static reward_fx clamp128(i128 v)
{
    if (v > (i128)REWARD_FX_MAX)
        return REWARD_FX_MAX;
    if (v < (i128)REWARD_FX_MIN)
        return REWARD_FX_MIN;
    return (reward_fx)v;
}

/* floor((a*b) / 2^32) without shifting a negative value (not portable C). */
static i128 mul_floor(reward_fx a, reward_fx b)
{
    i128 p = (i128)a * (i128)b;
    if (p >= 0)
        return p >> 32;
    i128 q = p / ((i128)1 << 32);
    if (p < 0 && q * ((i128)1 << 32) != p)
        q -= 1;
    return q;
}

reward_fx reward_fx_mul_slow(reward_fx a, reward_fx b)
{
    return clamp128(mul_floor(a, b));
}

reward_fx reward_fx_div_slow(reward_fx a, reward_fx b)
{
    if (b == 0)
        return 0;
    return clamp128(((i128)a * ((i128)1 << 32)) / (i128)b);
}

reward_fx reward_fx_from_int(int64_t v)
{
    return clamp128((i128)v * ((i128)1 << 32));
}

uint16_t reward_fx_to_u16(reward_fx x)
{
    if (x <= 0)
        return 0;
    i128 v = ((i128)x * 65535) >> 32;
    return v > 65535 ? 65535 : (uint16_t)v;
}

reward_fx reward_fx_from_u16_proportion(uint16_t v)
{
    return reward_fx_div(reward_fx_from_int(v), reward_fx_from_int(65535));
}

reward_fx reward_fx_round(reward_fx x)
{
    const reward_fx half = (reward_fx)1 << 31, mask = ~(REWARD_FX_ONE - 1);
    if (x >= 0)
        return x > REWARD_FX_MAX - half ? (REWARD_FX_MAX & mask) : ((x + half) & mask);
    if (x == REWARD_FX_MIN)
        return x;
    return -((-x + half) & mask);
}

/* substrate-fixed transcendental::exp for I32F32, or false on overflow. */
static bool exp_series(reward_fx x, reward_fx *out)
{
    if (x == 0) {
        *out = REWARD_FX_ONE;
        return true;
    }
    if (x == REWARD_FX_ONE) {               /* the crate's constant E (I9F23) */
        *out = (reward_fx)22802600 << 9;
        return true;
    }
    bool neg = x < 0;
    reward_fx op = neg ? -x : x;
    i128 result = (i128)op + REWARD_FX_ONE, term = op;
    for (int i = 2; i < 32; i++) {
        term = mul_floor((reward_fx)term, op);
        if (term > REWARD_FX_MAX || term < REWARD_FX_MIN)
            return false;
        term = term / i;                    /* trunc(term / I32F32(i)) */
        result += term;
        if (result > REWARD_FX_MAX)
            return false;
    }
    if (neg)
        result = ((i128)REWARD_FX_ONE << 32) / result;
    *out = (reward_fx)result;
    return true;
}

reward_fx reward_exp_safe(reward_fx x)
{
    const reward_fx lim = (reward_fx)20 << 32;
    if (x < -lim)
        x = -lim;
    else if (x > lim)
        x = lim;
    reward_fx r;
    if (!exp_series(x, &r))
        return x <= 0 ? 0 : REWARD_FX_MAX;
    return r;
}

reward_fx reward_sigmoid(reward_fx x, reward_fx rho, reward_fx kappa)
{
    reward_fx offset = clamp128((i128)x - (i128)kappa);
    reward_fx neg_rho = reward_fx_mul(rho, -REWARD_FX_ONE);
    reward_fx e = reward_exp_safe(reward_fx_mul(neg_rho, offset));
    reward_fx den = clamp128((i128)e + REWARD_FX_ONE);
    return reward_fx_div(REWARD_FX_ONE, den);
}

static uint16_t upscale_one(reward_fx e, reward_fx max, reward_fx k)
{
    const reward_fx u16max = (reward_fx)65535 << 32;
    reward_fx v;
    if (max <= 0)
        v = reward_fx_mul(e, u16max);
    else if (k != 0)
        v = reward_fx_round(reward_fx_mul(e, k));
    else
        v = reward_fx_round(reward_fx_div(reward_fx_mul(e, u16max), max));
    int64_t iv = v >> 32;
    return iv < 0 ? 0 : iv > 65535 ? 65535 : (uint16_t)iv;
}

static reward_fx upscale_k(reward_fx max)
{
    return max > ((reward_fx)32768 << 32) ? reward_fx_div((reward_fx)65535 << 32, max) : 0;
}

void reward_fx_max_upscale(const reward_fx *in, size_t n, uint16_t *out)
{
    if (n == 0)
        return;
    reward_fx max = in[0];
    for (size_t i = 1; i < n; i++)
        max = in[i] > max ? in[i] : max;
    reward_fx k = upscale_k(max);
    for (size_t i = 0; i < n; i++)
        out[i] = upscale_one(in[i], max, k);
}

void reward_weights_upscale(const uint16_t *in, size_t n, uint16_t *out)
{
    uint16_t m = 0;
    for (size_t i = 0; i < n; i++)
        m = in[i] > m ? in[i] : m;
    reward_fx max = reward_fx_from_int(m), k = upscale_k(max);
    for (size_t i = 0; i < n; i++)
        out[i] = upscale_one(reward_fx_from_int(in[i]), max, k);
}

void reward_normalize(reward_fx *x, size_t n)
{
    reward_fx sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += x[i];
    if (sum == 0)
        return;
    for (size_t i = 0; i < n; i++)
        x[i] = reward_fx_div(x[i], sum);
}

reward_fx reward_weighted_median(const reward_fx *stake, const reward_fx *score,
                                 size_t *idx, size_t m, reward_fx minority,
                                 reward_fx lo, reward_fx hi, size_t *scratch)
{
    size_t *lower = scratch, *upper = scratch + m;
    for (;;) {
        if (m == 0)
            return 0;
        if (m == 1)
            return score[idx[0]];
        reward_fx pivot = score[idx[m / 2]], lo_s = 0, hi_s = 0;
        size_t nl = 0, nu = 0;
        for (size_t k = 0; k < m; k++) {
            size_t i = idx[k];
            if (score[i] == pivot)
                continue;
            if (score[i] < pivot) {
                lo_s += stake[i];
                lower[nl++] = i;
            } else {
                hi_s += stake[i];
                upper[nu++] = i;
            }
        }
        if (lo + lo_s <= minority && minority < hi - hi_s)
            return pivot;
        if (minority < lo + lo_s && nl > 0) {
            hi = lo + lo_s;
            memcpy(idx, lower, nl * sizeof *idx);
            m = nl;
        } else if (hi - hi_s <= minority && nu > 0) {
            lo = hi - hi_s;
            memcpy(idx, upper, nu * sizeof *idx);
            m = nu;
        } else {
            return pivot;
        }
    }
}
