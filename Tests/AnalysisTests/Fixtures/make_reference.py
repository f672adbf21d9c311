#!/usr/bin/env python3
"""Write scipy-reference.json next to this script: reference numbers for the Analysis module.

Every value comes from scipy / numpy (versions recorded in the file), never from our Swift code:
  betainc      [a, b, x, scipy.special.betainc(a, b, x)] over a grid
  student_t    [df, t, t.cdf, 2·t.sf(|t|)];  t_quantiles [df, p, t.ppf(p)]
  pearson      paired samples with scipy.stats.pearsonr r, p and confidence_interval(0.95), and
               p_exact: the p of scipy's r (as a double) to 50 digits with mpmath (scipy's own p
               moves with the rounding of (1 + r)/2 when |r| is within ~1e-6 of 1)
  agreement    paired samples with MAE, bias, sd (ddof=1), bias ± 1.96 sd, bias ± t.ppf(0.975, n−1)·sd/√n
  statistics   samples with numpy mean, var (ddof 0 and 1), median, quantile (default 'linear')
  ks_2samp     sample pairs with scipy.stats.ks_2samp statistic and p: method 'exact', method 'auto'
               (the same up to 10 000 values per sample, kstwo beyond), method 'asymp'; and
               kstwobign.sf(√(mn/(m+n))·D), Kolmogorov's limit
Run once with numpy + scipy in a venv under /tmp:
  python3 -m venv /tmp/venv-analysis && /tmp/venv-analysis/bin/pip install numpy scipy mpmath
  /tmp/venv-analysis/bin/python Tests/AnalysisTests/Fixtures/make_reference.py
"""
import json
import os

import mpmath
import numpy as np
import scipy
from scipy import special, stats

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20191)


def betainc_grid():
    shapes = [0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 21.0, 50.0, 100.0, 500.0]
    xs = [0.0, 1e-6, 0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99, 1 - 1e-6, 1.0]
    return [[a, b, x, float(special.betainc(a, b, x))] for a in shapes for b in shapes for x in xs]


def student_t():
    rows, quantiles = [], []
    for df in [1.0, 2.0, 3.0, 5.5, 10.0, 42.0, 100.0, 1000.0]:
        for t in [-40.0, -3.0, -1.0, -0.1, 0.0, 0.5, 1.96, 2.5, 7.0, 40.0]:
            rows.append([df, t, float(stats.t.cdf(t, df)), float(2 * stats.t.sf(abs(t), df))])
        for p in [0.001, 0.025, 0.3, 0.5, 0.8, 0.975, 0.999]:
            quantiles.append([df, p, float(stats.t.ppf(p, df))])
    return rows, quantiles


def correlated(n, rho, scale=20.0, counts=False):
    x = rng.normal(size=n)
    y = rho * x + np.sqrt(1 - rho * rho) * rng.normal(size=n)
    if counts:  # non-negative integer counts, like nuclei per image
        x = np.round(scale + 6 * x).clip(0)
        y = np.round(scale + 6 * y).clip(0)
    return x, y


def exact_p(r, n):
    """Two-sided t-test p of the double r, P(|T| > |t|) = I_{1−r²}((n−2)/2, 1/2), in 50-digit arithmetic."""
    with mpmath.workdps(50):
        r = mpmath.mpf(float(r))
        return float(mpmath.betainc((n - 2) / mpmath.mpf(2), mpmath.mpf(1) / 2, 0, 1 - r * r, regularized=True))


def pearson_case(name, x, y):
    res = stats.pearsonr(x, y)
    ci = res.confidence_interval(0.95)
    return {"name": name, "x": [float(v) for v in x], "y": [float(v) for v in y],
            "r": float(res.statistic), "p": float(res.pvalue), "p_exact": exact_p(res.statistic, len(x)),
            "ci_low": float(ci.low), "ci_high": float(ci.high)}


def agreement_case(name, predicted, manual):
    predicted, manual = np.asarray(predicted, float), np.asarray(manual, float)
    d = predicted - manual
    n = len(d)
    sd = float(np.std(d, ddof=1))
    bias = float(np.mean(d))
    half = float(stats.t.ppf(0.975, n - 1)) * sd / np.sqrt(n)
    return {"name": name, "predicted": predicted.tolist(), "manual": manual.tolist(),
            "mae": float(np.mean(np.abs(d))), "bias": bias, "sd": sd,
            "loa_low": bias - 1.96 * sd, "loa_high": bias + 1.96 * sd,
            "bias_ci_low": bias - half, "bias_ci_high": bias + half,
            "mae_percent": float(100 * np.mean(np.abs(d)) / np.mean(manual))}


QUANTILE_PS = [0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.975, 1.0]


def statistics_case(name, x):
    x = np.asarray(x, float)
    return {"name": name, "x": x.tolist(), "mean": float(np.mean(x)), "var0": float(np.var(x)),
            "var1": float(np.var(x, ddof=1)) if len(x) > 1 else None, "median": float(np.median(x)),
            "ps": QUANTILE_PS, "quantiles": [float(q) for q in np.quantile(x, QUANTILE_PS)]}


def ks_case(name, a, b, generated=None):
    a, b = np.asarray(a, float), np.asarray(b, float)
    auto = stats.ks_2samp(a, b, method="auto")
    exact = stats.ks_2samp(a, b, method="exact")
    asymp = stats.ks_2samp(a, b, method="asymp")
    en = len(a) * len(b) / (len(a) + len(b))
    case = {"name": name, "a": a.tolist(), "b": b.tolist()} if generated is None else {"name": name, "generated": generated}
    return {**case, "statistic": float(auto.statistic),
            "p_auto": float(auto.pvalue), "p_exact": float(exact.pvalue), "p_asymp_scipy": None if np.isnan(asymp.pvalue) else float(asymp.pvalue),
            "p_kstwobign": float(stats.kstwobign.sf(np.sqrt(en) * auto.statistic))}


def main():
    t_rows, t_quantiles = student_t()
    pearson = []
    for name, n, rho, counts in [("n44_rho042_counts", 44, 0.42, True), ("n44_rho074_counts", 44, 0.74, True),
                                 ("n10_rho099", 10, 0.99, False), ("n30_negative", 30, -0.6, False),
                                 ("n200_independent", 200, 0.0, False), ("n5_rho05", 5, 0.5, False)]:
        pearson.append(pearson_case(name, *correlated(n, rho, counts=counts)))
    pearson.append(pearson_case("n3", [1.0, 2.0, 4.0], [2.0, 1.0, 7.0]))
    # Far from zero and nearly collinear: tests the centring (naive Σxy − n·x̄·ȳ loses all digits).
    x = 1e8 + np.arange(12, dtype=float)
    pearson.append(pearson_case("offset_1e8", x, 3 * x + rng.normal(scale=0.5, size=12)))
    # Almost perfect: p is far below 1e-100 and must keep its relative digits.
    x = np.arange(50, dtype=float)
    pearson.append(pearson_case("n50_almost_perfect", x, 2 * x + rng.normal(scale=0.01, size=50)))

    agreement = []
    for name, n, rho in [("n44_counts", 44, 0.74), ("n12_counts", 12, 0.9)]:
        manual, predicted = correlated(n, rho, counts=True)
        agreement.append(agreement_case(name, predicted + 2, manual))  # a systematic over-count
    agreement.append(agreement_case("n2", [3.0, 5.0], [4.0, 4.0]))

    statistics = [statistics_case("n1", [4.5]), statistics_case("n2", [3.0, -1.0]),
                  statistics_case("n7_ties", [5, 1, 3, 3, 9, 2, 3]),
                  statistics_case("n50_normal", rng.normal(10, 3, size=50)),
                  statistics_case("n101_lognormal", rng.lognormal(0, 1.5, size=101))]

    ks = [ks_case("n20_n20_shift", rng.normal(size=20), rng.normal(0.8, size=20)),
          ks_case("n30_n45", rng.normal(size=30), rng.normal(0.3, 1.5, size=45)),
          ks_case("n7_n5_ties", [1, 2, 2, 3, 5, 5, 8], [2, 3, 3, 4, 9]),
          ks_case("identical", [1.0, 2.0, 3.0], [1.0, 2.0, 3.0]),
          ks_case("n200_n150_far", rng.normal(size=200), rng.normal(1.5, size=150)),
          ks_case("n1_n1", [0.0], [1.0]),
          ks_case("n600_n1000_counts", rng.poisson(4, size=600), rng.poisson(4.3, size=1000)),
          # Too large to store: a = (i + 0.5)/12000, b = ((j + 0.5)/300)^1.3, rebuilt by the test.
          ks_case("n12000_n300_asymp", (np.arange(12000) + 0.5) / 12000, ((np.arange(300) + 0.5) / 300) ** 1.3,
                  generated={"a_count": 12000, "b_count": 300, "b_power": 1.3}),
          ks_case("n20000_n15000_generated", (np.arange(20000) + 0.5) / 20000, ((np.arange(15000) + 0.5) / 15000) ** 1.04,
                  generated={"a_count": 20000, "b_count": 15000, "b_power": 1.04})]

    out = {"generated_by": "Tests/AnalysisTests/Fixtures/make_reference.py",
           "numpy": np.__version__, "scipy": scipy.__version__, "mpmath": mpmath.__version__,
           "betainc": betainc_grid(), "student_t": t_rows, "t_quantiles": t_quantiles,
           "pearson": pearson, "agreement": agreement,
           "statistics": statistics, "ks_2samp": ks}
    # One line per table row or case: small, and diffs show which case changed.
    with open(os.path.join(HERE, "scipy-reference.json"), "w") as f:
        entries = []
        for key, value in out.items():
            if isinstance(value, list):
                rows = ",\n  ".join(json.dumps(v, allow_nan=False) for v in value)
                entries.append(f'"{key}": [\n  {rows}\n ]')
            else:
                entries.append(f"{json.dumps(key)}: {json.dumps(value)}")
        f.write("{\n " + ",\n ".join(entries) + "\n}\n")


if __name__ == "__main__":
    main()
