#!/usr/bin/env python3
"""How forecastable is a based-tft CSV one step ahead? (docs/tft.md,
"Devnet-recorded data" and "Devnet with real neurons".)

For each series, the last H steps are held out (as `based-tft eval` does).
One-step point forecasts of those steps, each from values before it:
  naive   the last value;
  ses     simple exponential smoothing, alpha on a 0.05 grid fitted on the
          fitted part (squared error);
  mean8   the mean of the last 8 values;
  linear  the last value plus a least-squares linear model of the next
          change, pooled over all series and fitted on the fitted parts:
          intercept, y - mean of last 8, y - previous y, y - mean of last 4
          (all in units of the series' in-sample naive MAE), the change in
          the number of validators weighting it, the weights' sd and the
          change in their mean (the past covariates gen --kind devnet
          writes).
Printed: pooled scaled MAE (per series divided by its in-sample naive MAE)
of each, relative to naive, per group (miners, validators, network) and
overall. A ratio near 1 for all of them means the next value is about as
unpredictable from the past as a random walk's.

usage: python3 tests/tft/predictability.py [CSV] [H]
"""
import collections
import csv
import sys


def solve(rows, targets):
    n = len(rows[0])
    m = [[0.0] * n for _ in range(n)]
    v = [0.0] * n
    for a, y in zip(rows, targets):
        for i in range(n):
            v[i] += a[i] * y
            for j in range(n):
                m[i][j] += a[i] * a[j]
    for i in range(n):
        m[i][i] += 1e-6
    for i in range(n):
        p = max(range(i, n), key=lambda k: abs(m[k][i]))
        m[i], m[p] = m[p], m[i]
        v[i], v[p] = v[p], v[i]
        for k in range(i + 1, n):
            f = m[k][i] / m[i][i]
            for j in range(i, n):
                m[k][j] -= f * m[i][j]
            v[k] -= f * v[i]
    x = [0.0] * n
    for i in reversed(range(n)):
        x[i] = (v[i] - sum(m[i][j] * x[j] for j in range(i + 1, n))) / m[i][i]
    return x


def features(y, cv, t, sc):
    m8 = sum(y[t - 7:t + 1]) / 8
    m4 = sum(y[t - 3:t + 1]) / 4
    f = [1.0, (y[t] - m8) / sc, (y[t] - y[t - 1]) / sc, (y[t] - m4) / sc]
    for k, diff in (("validators", True), ("weight_sd", False), ("weight_mean", True)):
        c = cv.get(k)
        f.append(0.0 if c is None else (c[t] - c[t - 1] if diff else c[t]))
    return f


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "tft/testdata/devnet.csv"
    horizon = int(sys.argv[2]) if len(sys.argv) > 2 else 28
    series = collections.OrderedDict()
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            series.setdefault(r["series"], []).append(r)
    data = {}
    for name, rs in series.items():
        y = [float(r["target"]) for r in rs]
        cv = {k: [float(r[k]) for r in rs] for k in ("validators", "weight_mean", "weight_sd")
              if k in rs[0] and rs[0][k] != ""}
        fit = len(y) - horizon
        if fit < 12:
            continue
        sc = sum(abs(y[t] - y[t - 1]) for t in range(1, fit)) / (fit - 1) or 1.0
        role = rs[0].get("static_role", "")
        group = "network" if name.startswith("net") else ("validators" if role == "1" else "miners")
        data[name] = (y, cv, fit, sc, group)
    rows, targets = [], []
    for y, cv, fit, sc, _ in data.values():
        for t in range(8, fit - 1):
            rows.append(features(y, cv, t, sc))
            targets.append((y[t + 1] - y[t]) / sc)
    w = solve(rows, targets)
    err = collections.defaultdict(lambda: collections.defaultdict(float))
    for y, cv, fit, sc, group in data.values():
        best = None
        for a in [i / 20 for i in range(1, 21)]:
            lev, e = y[0], 0.0
            for t in range(1, fit):
                e += (y[t] - lev) ** 2
                lev = a * y[t] + (1 - a) * lev
            if best is None or e < best[0]:
                best = (e, a)
        a = best[1]
        lev = y[0]
        for t in range(1, fit):
            lev = a * y[t] + (1 - a) * lev
        for t in range(fit - 1, len(y) - 1):
            lin = y[t] + sc * sum(wi * fi for wi, fi in zip(w, features(y, cv, t, sc)))
            for k, v in (("naive", y[t]), ("ses", lev), ("mean8", sum(y[t - 7:t + 1]) / 8),
                         ("linear", lin)):
                err[group][k] += abs(y[t + 1] - v) / sc
                err["all"][k] += abs(y[t + 1] - v) / sc
            lev = a * y[t + 1] + (1 - a) * lev
    print("scaled one-step MAE relative to naive (held-out last %d steps of %d series)"
          % (horizon, len(data)))
    for g in ("miners", "validators", "network", "all"):
        if g in err:
            e = err[g]
            print("  %-10s " % g + "  ".join("%s %.3f" % (k, e[k] / e["naive"])
                                            for k in ("ses", "mean8", "linear")))


if __name__ == "__main__":
    main()
