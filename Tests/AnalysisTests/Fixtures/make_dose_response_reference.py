#!/usr/bin/env python3
"""Write dose-response-reference.json next to this script: reference numbers for the Analysis
module's distributions and dose-response fits.

Every value comes from scipy / numpy (versions recorded in the file), never from our Swift code:
  normal, chi2, f, t   for p from 1e-12 to 0.5: x_upper = isf(p) with sf(x_upper), and
                       x_lower = ppf(p) with cdf(x_lower) (and, for the normal, the quantiles)
  fits                 datasets (concentration 0 = vehicle, left out of the fit) with
                       scipy.optimize.curve_fit (method 'lm', analytic Jacobian, tight tolerances):
                       parameters, pcov, standard errors, 95 % CIs p ± t.ppf(0.975, n−p)·se, the EC50
                       CI 10^(logEC50 CI), R², and the 95 % confidence band ŷ ± t·sqrt(gᵀ·pcov·g) on a grid
  comparisons          Prism's "is logEC50 different": separate curve_fits vs one curve_fit with a shared
                       logEC50, F = ((SS_sh − SS_sep)/(df_sh − df_sep))/(SS_sep/df_sep), p = f.sf
Run once with numpy + scipy in a venv under /tmp:
  python3 -m venv /tmp/venv-analysis && /tmp/venv-analysis/bin/pip install numpy scipy mpmath
  /tmp/venv-analysis/bin/python Tests/AnalysisTests/Fixtures/make_dose_response_reference.py
"""
import json
import os

import numpy as np
import scipy
from scipy import optimize, stats

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20260111)
LN10 = np.log(10.0)
TAIL_PS = [1e-12, 1e-10, 1e-8, 1e-6, 1e-4, 1e-3, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5]
TIGHT = dict(method="lm", ftol=1e-15, xtol=1e-15, gtol=0.0, maxfev=100000)


def tails(dist, params):
    """[*params, p, isf(p), sf(isf(p)), ppf(p), cdf(ppf(p))] for every p."""
    rows = []
    for p in TAIL_PS:
        hi, lo = float(dist.isf(p, *params)), float(dist.ppf(p, *params))
        rows.append([*params, p, hi, float(dist.sf(hi, *params)), lo, float(dist.cdf(lo, *params))])
    return rows


def distributions():
    normal = tails(stats.norm, [])
    for z in [3.7, 8.5, 9.0, 20.0, 37.0]:  # far tails too (p down to 6e-300): [p, z, sf(z), -z, cdf(-z)]
        normal.append([float(stats.norm.sf(z)), z, float(stats.norm.sf(z)), -z, float(stats.norm.cdf(-z))])
    chi2 = [row for k in [1.0, 2.0, 3.0, 5.5, 10.0, 42.0, 100.0, 1000.0] for row in tails(stats.chi2, [k])]
    f = [row for d1, d2 in [(1.0, 1.0), (1.0, 10.0), (2.0, 5.0), (3.0, 20.0), (5.5, 7.0), (10.0, 100.0),
                            (50.0, 3.0), (1.0, 1000.0), (100.0, 100.0), (2.0, 60.0)]
         for row in tails(stats.f, [d1, d2])]
    t = [row for df in [1.0, 2.0, 3.0, 5.5, 10.0, 42.0, 100.0, 1000.0] for row in tails(stats.t, [df])]
    return normal, chi2, f, t


# --- dose-response models on x = log10(concentration) ---

def logistic(z):
    return 0.5 * (1 + np.tanh(z / 2))


def four_pl(x, bottom, top, log_ec50, hill):
    return bottom + (top - bottom) * logistic((x - log_ec50) * hill * LN10)


def four_pl_jac(x, bottom, top, log_ec50, hill):
    s = logistic((x - log_ec50) * hill * LN10)
    slope = (top - bottom) * s * (1 - s) * LN10
    return np.column_stack([1 - s, s, -slope * hill, slope * (x - log_ec50)])


def normalized(x, log_ec50, hill):
    return four_pl(x, 0.0, 100.0, log_ec50, hill)


def normalized_jac(x, log_ec50, hill):
    return four_pl_jac(x, 0.0, 100.0, log_ec50, hill)[:, 2:]


MODELS = {"4PL": (four_pl, four_pl_jac), "normalized": (normalized, normalized_jac)}


def initial(model, x, y):
    """A reasonable start (curve_fit's answer does not depend on it when the fit is well posed)."""
    xs = np.unique(x)
    means = np.array([y[x == v].mean() for v in xs])
    half = (means.min() + means.max()) / 2 if model == "4PL" else 50.0
    log_ec50 = xs[np.argmin(np.abs(means - half))]
    hill = 1.0 if means[-1] >= means[0] else -1.0
    return [means.min(), means.max(), log_ec50, hill] if model == "4PL" else [log_ec50, hill]


def fit_case(name, model, conc, resp, truth=None):
    conc, resp = np.asarray(conc, float), np.asarray(resp, float)
    keep = conc > 0
    x, y = np.log10(conc[keep]), resp[keep]
    f, jac = MODELS[model]
    popt, pcov = optimize.curve_fit(f, x, y, p0=initial(model, x, y), jac=jac, **TIGHT)
    n, k = len(y), len(popt)
    se = np.sqrt(np.diag(pcov))
    t = float(stats.t.ppf(0.975, n - k))
    li = 2 if model == "4PL" else 0
    ssr = float(np.sum((f(x, *popt) - y) ** 2))
    grid = np.linspace(x.min() - 0.5, x.max() + 0.5, 9)
    g = jac(grid, *popt)
    half = t * np.sqrt(np.einsum("ij,jk,ik->i", g, pcov, g))
    yhat = f(grid, *popt)
    return {"name": name, "model": model, "concentrations": conc.tolist(), "responses": resp.tolist(),
            "truth": truth, "parameters": popt.tolist(), "covariance": pcov.tolist(), "standard_errors": se.tolist(),
            "ci_low": (popt - t * se).tolist(), "ci_high": (popt + t * se).tolist(), "t": t,
            "ec50": float(10 ** popt[li]), "ec50_ci": [float(10 ** (popt[li] - t * se[li])), float(10 ** (popt[li] + t * se[li]))],
            "ssr": ssr, "r2": 1 - ssr / float(np.sum((y - y.mean()) ** 2)),
            "band_x": grid.tolist(), "band_fit": yhat.tolist(), "band_low": (yhat - half).tolist(), "band_high": (yhat + half).tolist()}


def simulate(conc, replicates, params, sd, vehicle=0):
    conc = np.repeat(np.asarray(conc, float), replicates)
    y = four_pl(np.log10(conc), *params) + rng.normal(scale=sd, size=len(conc))
    if vehicle:
        conc = np.concatenate([np.zeros(vehicle), conc])
        y = np.concatenate([params[0] + rng.normal(scale=sd, size=vehicle), y])
    return conc, y


def fits():
    pma = np.geomspace(0.001, 200, 11)            # nM, the paper's PMA series (n = 11)
    a23187 = np.geomspace(50, 8000, 8)            # nM, 0.05–8 µM (n = 8)
    cases = []
    truth = [5.0, 90.0, np.log10(2.1), 1.0]
    cases.append(fit_case("pma_clean", "4PL", *simulate(pma, 3, truth, 2.0), truth))
    truth = [8.0, 70.0, np.log10(930.0), 1.5]
    cases.append(fit_case("a23187_noisy", "4PL", *simulate(a23187, 3, truth, 9.0), truth))
    truth = [2.0, 60.0, 1.0, 4.0]
    cases.append(fit_case("steep_hill", "4PL", *simulate(np.geomspace(1, 100, 12), 2, truth, 3.0), truth))
    truth = [10.0, 80.0, 0.5, 0.45]
    cases.append(fit_case("shallow_hill", "4PL", *simulate(np.geomspace(0.001, 1000, 13), 1, truth, 3.0), truth))
    truth = [0.0, 50.0, 0.0, 1.0]
    cases.append(fit_case("few_points", "4PL", *simulate(np.geomspace(0.01, 100, 6), 1, truth, 2.0), truth))
    truth = [15.0, 85.0, -1.0, -1.3]
    cases.append(fit_case("decreasing", "4PL", *simulate(np.geomspace(0.001, 10, 9), 3, truth, 4.0), truth))
    truth = [3.0, 45.0, np.log10(2.1), 1.1]
    cases.append(fit_case("replicates_with_vehicle", "4PL", *simulate(pma[::2], 5, truth, 5.0, vehicle=4), truth))
    # The paper's normalisation (0 = smallest, 100 = largest dose mean) then the 2-parameter model.
    conc, y = simulate(pma, 3, [6.0, 72.0, np.log10(2.1), 1.0], 3.0)
    means = np.array([y[conc == c].mean() for c in np.unique(conc)])
    ynorm = 100 * (y - means.min()) / (means.max() - means.min())
    cases.append(fit_case("normalized_pma", "normalized", conc, ynorm, [np.log10(2.1), 1.0]))
    cases.append(fit_case("normalized_pma_4pl", "4PL", conc, ynorm))
    return cases


def comparison_case(name, model, groups):
    f, jac = MODELS[model]
    k, npar = len(groups), (4 if model == "4PL" else 2)
    li = 2 if model == "4PL" else 0
    xs = [np.log10(np.asarray(c, float)) for c, _ in groups]
    ys = [np.asarray(y, float) for _, y in groups]
    separate = [optimize.curve_fit(f, x, y, p0=initial(model, x, y), jac=jac, **TIGHT)[0] for x, y in zip(xs, ys)]
    ss_sep = float(sum(np.sum((f(x, *p) - y) ** 2) for x, y, p in zip(xs, ys, separate)))
    gid = np.concatenate([np.full(len(x), g) for g, x in enumerate(xs)])
    xall, yall = np.concatenate(xs), np.concatenate(ys)

    def own(shared, g):
        p = list(shared[1 + g * (npar - 1): 1 + (g + 1) * (npar - 1)])
        p.insert(li, shared[0])
        return p

    def model_all(_, *shared):
        return np.concatenate([f(xall[gid == g], *own(shared, g)) for g in range(k)])

    def jac_all(_, *shared):
        j = np.zeros((len(xall), 1 + k * (npar - 1)))
        for g in range(k):
            rows = gid == g
            jg = jac(xall[rows], *own(shared, g))
            j[rows, 0] = jg[:, li]
            j[np.ix_(rows, range(1 + g * (npar - 1), 1 + (g + 1) * (npar - 1)))] = np.delete(jg, li, axis=1)
        return j

    start = [float(np.mean([p[li] for p in separate]))] + [v for p in separate for v in np.delete(p, li)]
    shared, _ = optimize.curve_fit(model_all, xall, yall, p0=start, jac=jac_all, **TIGHT)
    ss_sh = float(np.sum((model_all(None, *shared) - yall) ** 2))
    n = len(yall)
    df_sep, df_sh = n - k * npar, n - (1 + k * (npar - 1))
    fstat = ((ss_sh - ss_sep) / (df_sh - df_sep)) / (ss_sep / df_sep)
    return {"name": name, "model": model,
            "groups": [{"concentrations": list(map(float, c)), "responses": list(map(float, y))} for c, y in groups],
            "separate_parameters": [p.tolist() for p in separate], "ss_separate": ss_sep, "df_separate": df_sep,
            "shared_parameters": shared.tolist(), "ss_shared": ss_sh, "df_shared": df_sh,
            "f": float(fstat), "p": float(stats.f.sf(fstat, df_sh - df_sep, df_sep))}


def comparisons():
    pma = np.geomspace(0.001, 200, 11)
    out = []
    # Non-SCD vs SCD: SCD responds poorly to PMA (lower top, higher EC50).
    out.append(comparison_case("pma_genotypes_differ", "4PL", [
        simulate(pma, 3, [5.0, 90.0, np.log10(2.1), 1.0], 6.0),
        simulate(pma, 3, [5.0, 55.0, np.log10(9.0), 1.0], 6.0)]))
    out.append(comparison_case("same_ec50_donors", "4PL", [
        simulate(pma, 2, [4.0, 80.0, np.log10(2.1), 1.0], 5.0),
        simulate(pma, 2, [6.0, 70.0, np.log10(2.1), 1.2], 5.0),
        simulate(pma, 2, [2.0, 85.0, np.log10(2.1), 0.9], 5.0)]))
    conc = np.geomspace(50, 8000, 8)
    out.append(comparison_case("a23187_normalized", "normalized", [
        simulate(conc, 3, [0.0, 100.0, np.log10(930.0), 1.5], 8.0),
        simulate(conc, 3, [0.0, 100.0, np.log10(1300.0), 1.5], 8.0)]))
    return out


def main():
    normal, chi2, f, t = distributions()
    out = {"generated_by": "Tests/AnalysisTests/Fixtures/make_dose_response_reference.py",
           "numpy": np.__version__, "scipy": scipy.__version__,
           "normal": normal, "chi2": chi2, "f": f, "t": t, "fits": fits(), "comparisons": comparisons()}
    # One line per table row or case: small, and diffs show which case changed.
    with open(os.path.join(HERE, "dose-response-reference.json"), "w") as fh:
        entries = []
        for key, value in out.items():
            if isinstance(value, list):
                rows = ",\n  ".join(json.dumps(v, allow_nan=False) for v in value)
                entries.append(f'"{key}": [\n  {rows}\n ]')
            else:
                entries.append(f"{json.dumps(key)}: {json.dumps(value)}")
        fh.write("{\n " + ",\n ".join(entries) + "\n}\n")


if __name__ == "__main__":
    main()
