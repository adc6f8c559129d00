/*
 * num.c: the deterministic numerics of the TFT: exp, sigmoid, tanh and sqrt
 * built from IEEE basic operations only (no libm), and a splitmix64 PRNG.
 *
 * exp: x = k ln2 + r with ln2 split into a high part exact in 32 bits and a
 * low part, |r| <= ln2/2, e^r by a degree-13 Taylor polynomial in Horner
 * form (error well under 1e-15 relative), 2^k assembled from exponent bits.
 * Accuracy matters less than that every compiler computes the same bits.
 * sqrt: an exponent-halving first guess, then a fixed number of Newton
 * steps. Inputs are clamped so that no overflow, NaN or subnormal appears.
 */
#include "tft/tft.h"
#include "chain/base.h"

static double pow2i(int k)
{
    /* 2^k for k in [-1022, 1023] from its bit pattern. */
    uint64_t bits = (uint64_t)(k + 1023) << 52;
    double r;
    memcpy(&r, &bits, sizeof r);
    return r;
}

double tft_exp(double x)
{
    static const double ln2_hi = 6.93147180369123816490e-01;
    static const double ln2_lo = 1.90821492927058770002e-10;
    static const double inv_ln2 = 1.44269504088896338700e+00;
    if (!(x > -700.0))          /* also catches NaN */
        x = -700.0;
    if (x > 700.0)
        x = 700.0;
    double kf = x * inv_ln2;
    int k = (int)(kf < 0 ? kf - 0.5 : kf + 0.5);
    double r = (x - (double)k * ln2_hi) - (double)k * ln2_lo;
    double p = 1.0 / 6227020800.0;              /* 1/13! */
    static const double inv_fact[13] = {
        1.0, 1.0, 1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720,
        1.0 / 5040, 1.0 / 40320, 1.0 / 362880, 1.0 / 3628800,
        1.0 / 39916800, 1.0 / 479001600 };
    for (int i = 12; i >= 0; i--)
        p = p * r + inv_fact[i];
    return p * pow2i(k);
}

double tft_sigmoid(double x)
{
    if (x >= 0)
        return 1.0 / (1.0 + tft_exp(-x));
    double e = tft_exp(x);
    return e / (1.0 + e);
}

double tft_tanh(double x)
{
    double a = x < 0 ? -x : x;
    double e = tft_exp(-2.0 * a);
    double t = (1.0 - e) / (1.0 + e);
    return x < 0 ? -t : t;
}

double tft_sqrt(double x)
{
    if (!(x > 0))
        return 0.0;
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    int e = (int)((bits >> 52) & 0x7ff) - 1023;
    double y = pow2i(e / 2);                    /* within a factor 2 */
    if (e < -1000 || e > 1000)
        y = x > 1 ? 1e300 : 1e-300;
    for (int i = 0; i < 8; i++)
        y = 0.5 * (y + x / y);
    if (e < -1000 || e > 1000)
        for (int i = 0; i < 1100; i++)
            y = 0.5 * (y + x / y);
    return y;
}

uint64_t tft_rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

double tft_rng_uniform(uint64_t *s)
{
    return (double)(tft_rng_next(s) >> 11) * (1.0 / 9007199254740992.0);
}
