#!/usr/bin/env python3
"""Measures what real SYTOX nuclei look like in the netosis sample (../shared/data/netosis-sample).

For every Cell Counter marker (type 1 non-NETotic, 2 NETotic, 4/5 other) it finds the bright
object under the marker in the 8-bit field and reports its size, intensity and lobe count, plus
per-field background level, noise, illumination unevenness, density and touching fraction.
The numbers feed docs/synthetic.md and the synthetic generator's defaults (Sources/Imaging/Synthetic).

Usage:  python3 tools/measure_sample.py [SAMPLE_DIR | SYNTH_DIR] [--json OUT.json]
        (a folder with synth.json is a synthetic plate set: images/, annotations/, 16-bit scaled back)
Needs numpy and scipy only (TIFFs are read by tools/tiffread.py: 8/16-bit strips, none or deflate).
"""
import json, os, re, sys
import numpy as np
from scipy import ndimage as ndi

from tiffread import read_tiff


def read_markers(path):
    text = open(path, encoding='utf-8').read()
    markers = []
    for block in re.findall(r'<Marker_Type>(.*?)</Marker_Type>', text, re.S):
        t = re.search(r'<Type>\s*(\d+)\s*</Type>', block)
        if not t:
            continue
        for m in re.findall(r'<Marker>(.*?)</Marker>', block, re.S):
            x = int(re.search(r'<MarkerX>\s*(-?\d+)', m).group(1))
            y = int(re.search(r'<MarkerY>\s*(-?\d+)', m).group(1))
            markers.append((x, y, int(t.group(1))))
    return markers


def pct(a, qs=(5, 25, 50, 75, 95)):
    a = np.asarray(a, dtype=float)
    if a.size == 0:
        return None
    return {f"p{q}": round(float(np.percentile(a, q)), 2) for q in qs} | {"mean": round(float(a.mean()), 2), "n": int(a.size)}


def main():
    args = sys.argv[1:]
    out_json = None
    if '--json' in args:
        i = args.index('--json'); out_json = args[i + 1]; del args[i:i + 2]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    sample = args[0] if args else os.path.join(root, '..', 'shared', 'data', 'netosis-sample')
    # A synthetic plate set (netosis synth) is measured the same way, in the sample's 8-bit units:
    # value8 = (value16 - offset) / gain, with offset and gain from its synth.json.
    meta_path = os.path.join(sample, 'synth.json')
    synthetic = os.path.exists(meta_path)
    offset, gain, image_dir = 0.0, 1.0, os.path.join(sample, 'tiff')
    if synthetic:
        model = json.load(open(meta_path))['options']['model']
        offset, gain, image_dir = model['offset'], model['gain'], os.path.join(sample, 'images')
    tiffs = sorted(f for f in os.listdir(image_dir) if f.endswith('.tif'))

    if not tiffs:
        raise SystemExit(f"{sample}/tiff: no .tif files")

    per = {c: {"area": [], "radius": [], "mean": [], "max": [], "lobes": [], "solidity": []} for c in (1, 2, 0)}
    fields = {"background": [], "noise_sd": [], "illum_ratio": [], "markers": [], "netotic_fraction": [],
              "touching_fraction": [], "nn_distance": [], "p99": []}
    for name in tiffs:
        stem = name[:-4]
        img = (read_tiff(os.path.join(image_dir, name)).astype(np.float64) - offset) / gain
        markers = read_markers(os.path.join(sample, 'annotations', f'CellCounter_{stem}.xml'))
        h, w = img.shape
        # Background: large-scale low percentile (objects are < 30 px across).
        bg_map = ndi.percentile_filter(img[::4, ::4], 20, size=16)
        bg_map = ndi.uniform_filter(bg_map, 9)
        bg_full = np.kron(bg_map, np.ones((4, 4)))[:h, :w]
        corrected = img - bg_full
        # Noise: robust SD of pixels far from objects (below the image's 40th percentile after correction).
        smooth = ndi.gaussian_filter(img, 2)
        objmask = smooth > bg_full + 8
        objmask = ndi.binary_dilation(objmask, iterations=4)
        resid = img - ndi.uniform_filter(img, 5)
        bgpix = resid[~objmask]
        noise = 1.4826 * np.median(np.abs(bgpix - np.median(bgpix))) if bgpix.size > 1000 else float('nan')
        fields["background"].append(float(np.median(img[~objmask])) if (~objmask).any() else float(bg_full.mean()))
        fields["noise_sd"].append(float(noise) * np.sqrt(25 / 24))
        blocks = [np.median(img[y:y + 128, x:x + 128][~objmask[y:y + 128, x:x + 128]])
                  for y in range(0, h - 127, 128) for x in range(0, w - 127, 128)
                  if (~objmask[y:y + 128, x:x + 128]).sum() > 500]
        fields["illum_ratio"].append(float(max(blocks) / max(min(blocks), 1)) if blocks else float('nan'))
        fields["p99"].append(float(np.percentile(img, 99)))
        fields["markers"].append(len(markers))
        n1 = sum(1 for m in markers if m[2] == 1); n2 = sum(1 for m in markers if m[2] == 2)
        if n1 + n2:
            fields["netotic_fraction"].append(n2 / (n1 + n2))
        # Touching: a plain global threshold on the smoothed, corrected image; a marker whose
        # component also holds another type-1/2 marker is "touching".
        sm1 = ndi.gaussian_filter(corrected, 1.0)
        mask = ndi.binary_fill_holes(sm1 > 12)
        labels, nlab = ndi.label(mask, structure=np.ones((3, 3)))
        hits = {}
        pts = np.array([(m[0], m[1]) for m in markers], dtype=float) if markers else np.zeros((0, 2))
        if len(pts) > 1:
            d = np.sqrt(((pts[:, None, :] - pts[None, :, :]) ** 2).sum(-1)); np.fill_diagonal(d, np.inf)
            fields["nn_distance"].extend(d.min(1).tolist())
        for (x, y, t) in markers:
            if 0 <= x < w and 0 <= y < h and labels[y, x] > 0 and t in (1, 2):
                hits.setdefault(labels[y, x], []).append(t)
        # Per marker: the object is the connected region around the marker above
        # background + 25% of (local peak - background), restricted to pixels nearer this marker
        # than any other (a Voronoi cell), so touching neighbours are not merged.
        R = 40
        for k, (x, y, t) in enumerate(markers):
            if not (0 <= x < w and 0 <= y < h):
                continue
            cls = 1 if t == 1 else 2 if t == 2 else 0
            y0, y1, x0, x1 = max(0, y - R), min(h, y + R + 1), max(0, x - R), min(w, x + R + 1)
            win = ndi.gaussian_filter(img[y0:y1, x0:x1], 0.7)
            base = float(bg_full[y, x])
            cy, cx = y - y0, x - x0
            peak = float(win[max(0, cy - 4):cy + 5, max(0, cx - 4):cx + 5].max())
            if peak - base < 4:
                continue
            yy, xx = np.mgrid[y0:y1, x0:x1]
            mine = (xx - x) ** 2 + (yy - y) ** 2
            near = np.ones_like(mine, dtype=bool)
            for j, (ox, oy, _) in enumerate(markers):
                if j != k and abs(ox - x) <= 2 * R and abs(oy - y) <= 2 * R:
                    near &= mine <= (xx - ox) ** 2 + (yy - oy) ** 2
            fg = (win > base + 0.25 * (peak - base)) & near
            lab, _ = ndi.label(fg, structure=np.ones((3, 3)))
            seed = lab[max(0, cy - 4):cy + 5, max(0, cx - 4):cx + 5]
            if seed.max() == 0:
                continue
            region = ndi.binary_fill_holes(lab == np.bincount(seed[seed > 0]).argmax())
            vals = img[y0:y1, x0:x1][region]
            area = int(region.sum())
            per[cls]["area"].append(area)
            per[cls]["radius"].append(np.sqrt(area / np.pi))
            per[cls]["mean"].append(float(vals.mean()))
            per[cls]["max"].append(float(vals.max()))
            # Lobes: regional maxima (5x5) of the lightly smoothed object at least half-way from
            # background to the object's peak.
            locmax = (win == ndi.maximum_filter(win, size=5)) & region & (win > base + 0.5 * (peak - base))
            _, nm = ndi.label(locmax)
            per[cls]["lobes"].append(nm)
            # Solidity via the convex hull of the pixel corners (monotone chain).
            ys, xs = np.nonzero(region)
            ptsr = sorted(set((int(a + dx), int(b + dy)) for a, b in zip(xs, ys) for dx in (0, 1) for dy in (0, 1)))
            def cross(o, a, b): return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])
            lower, upper = [], []
            for p in ptsr:
                while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0: lower.pop()
                lower.append(p)
            for p in reversed(ptsr):
                while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0: upper.pop()
                upper.append(p)
            hull = lower[:-1] + upper[:-1]
            ha = 0.5 * abs(sum(hull[i][0] * hull[(i + 1) % len(hull)][1] - hull[(i + 1) % len(hull)][0] * hull[i][1] for i in range(len(hull))))
            per[cls]["solidity"].append(area / ha if ha > 0 else 1.0)
        n12 = [v for v in hits.values() if any(t in (1, 2) for t in v)]
        if n12:
            fields["touching_fraction"].append(sum(1 for v in n12 if len(v) >= 2) / len(n12))

    names = {1: "non_netotic", 2: "netotic", 0: "other"}
    result = {"sample": os.path.abspath(sample), "fields": len(tiffs),
              "per_class": {names[c]: {k: pct(v) for k, v in d.items()} for c, d in per.items()},
              "per_field": {k: pct(v) for k, v in fields.items()},
              "lobe_histogram_non_netotic": {str(k): int(v) for k, v in zip(*np.unique(per[1]["lobes"], return_counts=True))},
              "lobe_histogram_netotic": {str(k): int(v) for k, v in zip(*np.unique(per[2]["lobes"], return_counts=True))}}
    text = json.dumps(result, indent=1)
    if out_json:
        with open(out_json, 'w') as fh:
            fh.write(text + '\n')
    print(text)


if __name__ == '__main__':
    main()
