#!/usr/bin/env python3
"""Write clustering-reference.json next to this script: reference numbers for the clustering code.

Every value comes from scipy / numpy (versions recorded in the file), never from our Swift code:
  nearest      point sets (uniform, clustered, duplicates, collinear, a lattice, n = 2 and 3) with
               scipy.spatial.cKDTree(points).query(points, k=2) distances to the nearest other point
  tiled        one 1728×1024 image cut into 2 rows × 3 columns (576×512 tiles) with points whose
               densities differ by tile: per tile (row-major) the count and, with ≥ 20 points, the
               ANND from cKDTree on the tile's points; tile = (⌊y·rows/H⌋, ⌊x·columns/W⌋)
  clark_evans  point sets in a 576×512 tile: r̄, Donnelly's E[r̄] and √Var, R, z and the two-sided
               p = 2·scipy.stats.norm.sf(|z|)
  annd_ks      two treatments' tiles (points rounded to 0.01 px): ANND per tile from cKDTree, then
               scipy.stats.ks_2samp (method 'exact' and 'auto') on the two ANND samples and
               scipy.stats.ttest_rel on the first min(n₁, n₂) tiles of each, paired in order
Points are rounded to 0.01 px before anything is computed, so the JSON holds the exact inputs.
Run with numpy + scipy (nice -n 19 python3 Tests/AnalysisTests/Fixtures/make_clustering_reference.py).
"""
import json
import os

import numpy as np
import scipy
from scipy import stats
from scipy.spatial import cKDTree

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20190411)
W, H = 576.0, 512.0


def rounded(points):
    return np.round(np.asarray(points, float), 2)


def nn_distances(points):
    d, _ = cKDTree(points).query(points, k=2)
    return d[:, 1]


def uniform(n, w=W, h=H, x0=0.0, y0=0.0):
    return rounded(rng.uniform(size=(n, 2)) * [w, h] + [x0, y0])


def thomas(n, parents, sigma, w=W, h=H):
    centres = rng.uniform(size=(parents, 2)) * [w, h]
    points = centres[rng.integers(parents, size=n)] + rng.normal(scale=sigma, size=(n, 2))
    return rounded(np.mod(points, [w, h]))


def nearest_case(name, points):
    points = rounded(points)
    return {"name": name, "points": points.tolist(), "distances": nn_distances(points).tolist()}


def tiled_case():
    width, height, rows, columns = 1728.0, 1024.0, 2, 3
    # Intensity per tile (points): some well above 20, one just at 20, some below.
    per_tile = [[45, 20, 8], [19, 60, 0]]
    points = []
    for r in range(rows):
        for c in range(columns):
            points.append(uniform(per_tile[r][c], W, H, c * W, r * H))
    # Points on the internal borders and the image's right and bottom edges.
    points.append(rounded([[576.0, 100.0], [1152.0, 512.0], [1728.0, 1024.0], [0.0, 0.0]]))
    points = np.concatenate(points)
    tile_of = np.minimum(np.floor(points[:, 1] * rows / height), rows - 1) * columns + \
        np.minimum(np.floor(points[:, 0] * columns / width), columns - 1)
    tiles = []
    for k in range(rows * columns):
        inside = points[tile_of == k]
        tiles.append({"row": k // columns, "column": k % columns, "count": int(len(inside)),
                      "annd": float(nn_distances(inside).mean()) if len(inside) >= 20 else None})
    return {"name": "1728x1024_2x3", "width": width, "height": height, "rows": rows, "columns": columns,
            "minimum": 20, "points": points.tolist(), "tiles": tiles}


def clark_evans_case(name, points, w=W, h=H):
    points = rounded(points)
    n = len(points)
    a, p = w * h, 2 * (w + h)
    r = float(nn_distances(points).mean())
    e = 0.5 * np.sqrt(a / n) + (0.0514 + 0.041 / np.sqrt(n)) * p / n
    se = np.sqrt(0.0703 * a / n ** 2 + 0.037 * p * np.sqrt(a / n ** 5))
    z = (r - e) / se
    return {"name": name, "width": w, "height": h, "points": points.tolist(), "observed": r, "expected": float(e),
            "se": float(se), "ratio": float(r / e), "uncorrected_ratio": float(r / (0.5 * np.sqrt(a / n))),
            "z": float(z), "p": float(2 * stats.norm.sf(abs(z)))}


def jittered_grid(n, w=W, h=H, jitter=0.3):
    columns = int(np.ceil(np.sqrt(n * w / h)))
    rows = int(np.ceil(n / columns))
    cells = np.array([((i % columns + 0.5) * w / columns, (i // columns + 0.5) * h / rows) for i in range(n)])
    return rounded(cells + rng.uniform(-jitter, jitter, size=(n, 2)) * [w / columns, h / rows])


def annd_ks_case(name, first_tiles, second_tiles):
    first_annd = np.array([nn_distances(t).mean() for t in first_tiles])
    second_annd = np.array([nn_distances(t).mean() for t in second_tiles])
    k = min(len(first_annd), len(second_annd))
    exact = stats.ks_2samp(first_annd, second_annd, method="exact")
    auto = stats.ks_2samp(first_annd, second_annd, method="auto")
    paired = stats.ttest_rel(first_annd[:k], second_annd[:k])
    return {"name": name, "first": [t.tolist() for t in first_tiles], "second": [t.tolist() for t in second_tiles],
            "first_annd": first_annd.tolist(), "second_annd": second_annd.tolist(),
            "ks_statistic": float(exact.statistic), "ks_p_exact": float(exact.pvalue), "ks_p_auto": float(auto.pvalue),
            "paired_t": float(paired.statistic), "paired_p": float(paired.pvalue)}


def main():
    nearest = [nearest_case("uniform_n50", uniform(50)),
               nearest_case("clustered_n300", thomas(300, 8, 12.0)),
               nearest_case("duplicates", np.concatenate([uniform(20), uniform(20)[:5], uniform(20)[:1]])[[*range(20), 3, 3, 7, 11, 19, 0]]),
               nearest_case("collinear_horizontal", np.column_stack([rng.uniform(0, 500, 40), np.full(40, 77.25)])),
               nearest_case("collinear_diagonal", np.repeat(rng.uniform(0, 300, 30)[:, None], 2, axis=1) * [1.0, 0.5]),
               nearest_case("lattice_6x5", np.array([[10.0 * i, 10.0 * j] for i in range(6) for j in range(5)])),
               nearest_case("n2", [[3.5, 4.0], [0.5, 0.0]]),
               nearest_case("n3_far_apart", [[0.0, 0.0], [4000.0, 3000.0], [4001.5, 3002.0]])]
    clark_evans = [clark_evans_case("csr_n50", uniform(50)),
                   clark_evans_case("csr_n20", uniform(20)),
                   clark_evans_case("thomas_n80", thomas(80, 6, 15.0)),
                   clark_evans_case("jittered_grid_n60", jittered_grid(60))]
    annd_ks = [annd_ks_case("csr_vs_csr_12_9", [uniform(int(n)) for n in rng.integers(20, 40, 12)],
                            [uniform(int(n)) for n in rng.integers(20, 40, 9)]),
               annd_ks_case("thomas_vs_grid_10_10", [thomas(int(n), 5, 18.0) for n in rng.integers(20, 35, 10)],
                            [jittered_grid(int(n)) for n in rng.integers(20, 35, 10)])]

    out = {"generated_by": "Tests/AnalysisTests/Fixtures/make_clustering_reference.py",
           "numpy": np.__version__, "scipy": scipy.__version__,
           "nearest": nearest, "tiled": [tiled_case()], "clark_evans": clark_evans, "annd_ks": annd_ks}
    # One line per case: diffs show which case changed.
    with open(os.path.join(HERE, "clustering-reference.json"), "w") as f:
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
