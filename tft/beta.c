/*
 * beta.c: the phase-in schedule of the TFT term, beta(t), and the
 * accuracy score it multiplies (economics.md, "The TFT term and beta(t)").
 * Integer 32.32 fixed point, floor rounding, 128-bit intermediates: every
 * node computes the same value.
 */
#include "tft/tft.h"
#include "chain/base.h"

__extension__ typedef unsigned __int128 u128;

uint64_t tft_beta(uint64_t height, uint64_t bpy)
{
    if (bpy == 0)
        return 0;
    u128 two = (u128)bpy * 2, four = (u128)bpy * 4;
    if ((u128)height <= two)
        return 0;
    if ((u128)height > four)
        return TFT_BETA_ONE;
    /* 0.9 * ONE * (h - 2y) / (2y) = 9 * ONE * (h - 2y) / (20 y) */
    u128 num = (u128)9 * TFT_BETA_ONE * ((u128)height - two);
    return (uint64_t)(num / ((u128)20 * bpy));
}

uint64_t tft_beta_times(uint64_t beta, uint64_t accuracy)
{
    if (accuracy > TFT_BETA_ONE)
        accuracy = TFT_BETA_ONE;
    if (beta > TFT_BETA_ONE)
        beta = TFT_BETA_ONE;
    return (uint64_t)(((u128)beta * accuracy) >> 32);
}

uint64_t tft_accuracy(uint64_t loss_tft, uint64_t loss_naive)
{
    if (loss_naive == 0 || loss_tft >= loss_naive)
        return 0;
    /* skill = 1 - tft/naive in (0, 1]; accuracy = min(1, skill / 0.1) */
    u128 gap = (u128)(loss_naive - loss_tft);           /* naive - tft */
    u128 acc = gap * 10 * TFT_BETA_ONE / loss_naive;
    return acc >= TFT_BETA_ONE ? TFT_BETA_ONE : (uint64_t)acc;
}
