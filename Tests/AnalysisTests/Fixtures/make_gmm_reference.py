#!/usr/bin/env python3
"""Write gmm-reference.json next to this script: scikit-learn's GaussianMixture on 1-D data.

For the Ogawa method's labels (a 2-component mixture on log(fluorescence), cells with both
posteriors < 0.8 dropped). Cases: well separated, overlapping, unequal weights (the values are
rounded to 1e-6 first, so the JSON holds the exact inputs). Each fit: GaussianMixture(n_components=2,
covariance_type='full', tol=1e-12, max_iter=10000, reg_covar=1e-6, random_state=0) converged to the
maximum-likelihood solution; components sorted by mean; posteriors from predict_proba.
Run in a venv with scikit-learn: python Tests/AnalysisTests/Fixtures/make_gmm_reference.py
"""
import json
import os

import numpy as np
import sklearn
from sklearn.mixture import GaussianMixture

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20210101)


def case(name, values):
    x = np.round(np.asarray(values, dtype=float), 6)
    g = GaussianMixture(n_components=2, covariance_type="full", tol=1e-12, max_iter=10000, reg_covar=1e-6,
                        random_state=0).fit(x.reshape(-1, 1))
    assert g.converged_
    order = np.argsort(g.means_.ravel())
    post = g.predict_proba(x.reshape(-1, 1))[:, order]
    return {"name": name, "values": x.tolist(),
            "weights": g.weights_[order].tolist(), "means": g.means_.ravel()[order].tolist(),
            "variances": g.covariances_.ravel()[order].tolist(),
            "mean_log_likelihood": float(g.score(x.reshape(-1, 1))),
            "posteriors": post.tolist()}


cases = [
    case("separated", np.concatenate([rng.normal(2.0, 0.3, 250), rng.normal(4.0, 0.4, 150)])),
    case("overlapping", np.concatenate([rng.normal(1.0, 0.5, 160), rng.normal(2.2, 0.6, 140)])),
    case("unequal", np.concatenate([rng.normal(0.0, 1.0, 400), rng.normal(5.0, 0.7, 100)])),
]
with open(os.path.join(HERE, "gmm-reference.json"), "w") as f:
    json.dump({"sklearn": sklearn.__version__, "numpy": np.__version__, "cases": cases}, f)
print("wrote gmm-reference.json:", [c["name"] for c in cases])
