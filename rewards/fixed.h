/*
 * fixed.h: the integer fixed-point arithmetic of the epoch, the same rules
 * as subtensor's substrate-fixed I32F32/I64F64 code, bit for bit.
 *
 * A reward_fx is an I32F32 raw value: int64 with 32 fractional bits
 * (1.0 = 2^32). Multiply floors ((a*b) >> 32 in 128 bits, arithmetic
 * shift), divide truncates ((a << 32) / b in 128 bits). Conversions to u16
 * floor (x * 65535). No floating point anywhere. Pure functions; the vector
 * helpers write only the caller's output arrays.
 */
#ifndef BASED_REWARDS_FIXED_H
#define BASED_REWARDS_FIXED_H

#include "chain/base.h"

typedef int64_t reward_fx;
__extension__ typedef unsigned __int128 reward_u128;

#define REWARD_FX_ONE ((reward_fx)1 << 32)
#define REWARD_FX_MAX INT64_MAX
#define REWARD_FX_MIN INT64_MIN

/* The general (signed, saturating) forms, out of line. */
reward_fx reward_fx_mul_slow(reward_fx a, reward_fx b);
reward_fx reward_fx_div_slow(reward_fx a, reward_fx b);

/* floor(a * b), saturating at the I32F32 range. Inline: the epoch's inner
 * loops call it half a million times, always with non-negative operands. */
static inline reward_fx reward_fx_mul(reward_fx a, reward_fx b)
{
    if (a >= 0 && b >= 0) {
        reward_u128 p = ((reward_u128)(uint64_t)a * (uint64_t)b) >> 32;
        return p > (uint64_t)REWARD_FX_MAX ? REWARD_FX_MAX : (reward_fx)p;
    }
    return reward_fx_mul_slow(a, b);
}

/* trunc(a / b), saturating; b == 0 returns 0 (callers guard it). */
static inline reward_fx reward_fx_div(reward_fx a, reward_fx b)
{
    if (a >= 0 && b > 0) {
        reward_u128 q = ((reward_u128)(uint64_t)a << 32) / (uint64_t)b;
        return q > (uint64_t)REWARD_FX_MAX ? REWARD_FX_MAX : (reward_fx)q;
    }
    return reward_fx_div_slow(a, b);
}
/* I32F32 from an integer (exact while |v| < 2^31). */
reward_fx reward_fx_from_int(int64_t v);
/* floor(x * 65535) clamped to [0, 65535] (subtensor fixed_proportion_to_u16). */
uint16_t reward_fx_to_u16(reward_fx x);
/* u16 / 65535 in I32F32 (truncating divide). */
reward_fx reward_fx_from_u16_proportion(uint16_t v);
/* Round half away from zero to an integer value (still I32F32). */
reward_fx reward_fx_round(reward_fx x);

/* substrate-fixed's exp (v0.6.0) behind subtensor's exp_safe: input clamped
 * to [-20, 20]; 0 -> 1; 1 -> e truncated to 23 fractional bits; otherwise
 * 1 + |x| + sum_{i=2..31} t_i with t_i = floor(t_{i-1} |x|) / i, and the
 * reciprocal for negative x. */
reward_fx reward_exp_safe(reward_fx x);
/* 1 / (1 + exp_safe(-rho (x - kappa))) with saturating arithmetic
 * (subtensor sigmoid_safe). */
reward_fx reward_sigmoid(reward_fx x, reward_fx rho, reward_fx kappa);

/* Max-upscale a vector to u16 so its largest entry is 65535, rounding half
 * away from zero (subtensor vec_max_upscale_to_u16: two branches, max above
 * 32768 multiplies by 65535/max first). */
void reward_fx_max_upscale(const reward_fx *in, size_t n, uint16_t *out);
/* The same for a stored u16 row (what the chain stores on set_weights). */
void reward_weights_upscale(const uint16_t *in, size_t n, uint16_t *out);

/* Normalise in place to sum 1 (I32F32 sum, truncating divide); a zero-sum
 * vector is left unchanged. */
void reward_normalize(reward_fx *x, size_t n);

/* Stake-weighted median of score over the index list idx[0..m) (m <= n):
 * deterministic mid-pivot partition search with the given minority
 * (= stake_sum - majority) inside [lo, hi]. scratch needs 2*m entries.
 * idx is clobbered. Returns 0 for an empty list. */
reward_fx reward_weighted_median(const reward_fx *stake, const reward_fx *score,
                                 size_t *idx, size_t m, reward_fx minority,
                                 reward_fx lo, reward_fx hi, size_t *scratch);

#endif
