#!/usr/bin/env python3
"""Write roc-reference.json next to this script: scikit-learn's roc_curve and roc_auc_score.

Cases: continuous scores, tied scores (rounded to one decimal), a perfect and an inverted
classifier, unbalanced classes. DeLong's standard error is computed here independently with numpy
from the placement values (DeLong, DeLong & Clarke-Pearson 1988), not from our Swift code.
Run in a venv with scikit-learn: python Tests/AnalysisTests/Fixtures/make_roc_reference.py
"""
import json
import os

import numpy as np
import sklearn
from sklearn.metrics import roc_auc_score, roc_curve

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(2021)


def delong_se(y, s):
    pos, neg = s[y == 1], s[y == 0]
    psi = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    v10, v01 = psi.mean(axis=1), psi.mean(axis=0)
    return float(np.sqrt(np.var(v10, ddof=1) / len(pos) + np.var(v01, ddof=1) / len(neg)))


def case(name, y, s):
    y = np.asarray(y, dtype=int); s = np.round(np.asarray(s, dtype=float), 6)
    fpr, tpr, thr = roc_curve(y, s)
    return {"name": name, "labels": y.tolist(), "scores": s.tolist(), "auc": float(roc_auc_score(y, s)),
            "fpr": fpr.tolist(), "tpr": tpr.tolist(), "thresholds": [None if np.isinf(t) else float(t) for t in thr],
            "delong_se": delong_se(y, s)}


y = rng.integers(0, 2, 200)
cases = [
    case("continuous", y, y * 1.0 + rng.normal(0, 1.2, 200)),
    case("ties", y, np.round(y * 0.8 + rng.normal(0, 1, 200), 1)),
    case("perfect", [0, 0, 0, 1, 1, 1, 1], [0.1, 0.2, 0.3, 0.6, 0.7, 0.8, 0.9]),
    case("inverted", [1, 1, 0, 0, 0], [0.1, 0.2, 0.3, 0.4, 0.5]),
    case("unbalanced", np.r_[np.zeros(90, int), np.ones(10, int)], np.r_[rng.normal(0, 1, 90), rng.normal(1.5, 1, 10)]),
]
with open(os.path.join(HERE, "roc-reference.json"), "w") as f:
    json.dump({"sklearn": sklearn.__version__, "numpy": np.__version__, "cases": cases}, f)
print("wrote roc-reference.json:", [c["name"] for c in cases])
