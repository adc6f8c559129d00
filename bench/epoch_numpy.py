#!/usr/bin/env python3
"""epoch_numpy: the float64 numpy baseline of bench/epoch_full.c.

Reads the bench's Brain (text: n nv, then n stakes, then nv rows of n u16
weights, then nv rows of n u16 bonds) and runs the same classic Yuma epoch
in float64 (normalise, stake-weighted median per miner by sort + cumsum,
clip, rank, bonds EMA, dividends, emission split), median of 5 runs.
Prints "numpy_seconds <t>" and the sum of incentive as a check.
"""
import sys
import time

import numpy as np


def epoch(S, W, B, kappa=32767 / 65535, alpha=0.1):
    S = S / S.sum()
    Sa = S.copy()
    Sa /= Sa.sum()
    W = W / np.maximum(W.sum(axis=1, keepdims=True), 1e-300)
    # stake-weighted median per column: smallest w with cumulative stake > 1 - kappa
    order = np.argsort(W, axis=0, kind="stable")
    ws = np.take_along_axis(W, order, axis=0)
    cs = np.cumsum(Sa[order], axis=0)
    k = np.argmax(cs > (1.0 - kappa), axis=0)
    C = ws[k, np.arange(W.shape[1])]
    Wc = np.minimum(W, C[None, :])
    Tv = Wc.sum(axis=1)
    R = Sa @ Wc
    I = R / R.sum() if R.sum() > 0 else R
    B = B / np.maximum(B.sum(axis=0, keepdims=True), 1e-300)
    dB = Wc * Sa[:, None]
    dB = dB / np.maximum(dB.sum(axis=0, keepdims=True), 1e-300)
    E = alpha * dB + (1 - alpha) * B
    E = E / np.maximum(E.sum(axis=0, keepdims=True), 1e-300)
    D = E @ I
    D = D / D.sum() if D.sum() > 0 else D
    tot = I.sum() + D.sum()
    return I / tot, D / tot, Tv, E


def main():
    with open(sys.argv[1]) as f:
        vals = np.array(f.read().split(), dtype=np.float64)
    n, nv = int(vals[0]), int(vals[1])
    at = 2
    S = vals[at:at + nv]
    at += n
    W = vals[at:at + nv * n].reshape(nv, n)
    at += nv * n
    B = vals[at:at + nv * n].reshape(nv, n)
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        I, D, _, _ = epoch(S, W, B)
        times.append(time.perf_counter() - t0)
    times.sort()
    print("numpy_seconds %.6f" % times[2])
    print("incentive_sum %.6f" % I.sum())


if __name__ == "__main__":
    main()
