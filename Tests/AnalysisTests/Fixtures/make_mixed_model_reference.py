#!/usr/bin/env python3
"""Writes mixed-model-reference.json: REML fits of y ~ dose * genotype + (1 | donor) by R's lme4
and lmerTest (Debian: apt-get install r-cran-lmertest), with sum-to-zero contrasts and type III
F tests with Satterthwaite's df, for datasets drawn here (numpy, seeded): balanced, with missing
points, the paper's 7 vs 11 donors, and one with no between-donor variance (a boundary fit).
Run once: python3 Tests/AnalysisTests/Fixtures/make_mixed_model_reference.py (needs numpy, Rscript)."""
import json, os, subprocess, sys, tempfile

import numpy as np

R = r"""
suppressMessages(library(lmerTest))
options(contrasts = c("contr.sum", "contr.poly"))
d <- read.csv(commandArgs(TRUE)[1], colClasses = c("character", "character", "character", "numeric"))
d$dose <- factor(d$dose, levels = unique(d$dose)); d$genotype <- factor(d$genotype, levels = unique(d$genotype))
m <- lmer(y ~ dose * genotype + (1 | donor), data = d, REML = TRUE,
          control = lmerControl(optimizer = "bobyqa", optCtrl = list(rhobeg = 1e-3, rhoend = 1e-12)))
cat("beta", format(fixef(m), digits = 17), "\n")
cat("theta", format(getME(m, "theta"), digits = 17), "\n")
cat("sigma", format(sigma(m), digits = 17), "\n")
cat("reml", format(REMLcrit(m), digits = 17), "\n")
a <- anova(m, type = 3, ddf = "Satterthwaite")
for (i in seq_len(nrow(a))) cat("term", rownames(a)[i], format(a[i, "F value"], digits = 17), a[i, "NumDF"],
                               format(a[i, "DenDF"], digits = 17), format(a[i, "Pr(>F)"], digits = 17), "\n")
"""

def dataset(name, seed, donors_a, donors_b, doses, donor_sd, noise_sd, missing):
    rng = np.random.default_rng(seed)
    rows = []
    for genotype, count, top in (("HbAA", donors_a, 60.0), ("HbSS", donors_b, 30.0)):
        for k in range(count):
            donor = f"{genotype}-{k + 1}"
            u = rng.normal(0, donor_sd)
            for i, dose in enumerate(doses):
                mean = 5 + (top - 5) * i / (len(doses) - 1)
                if rng.uniform() < missing:
                    continue
                rows.append((donor, dose, genotype, round(float(mean + u + rng.normal(0, noise_sd)), 6)))
    return {"name": name, "rows": rows}

def fit(data):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "d.csv")
        with open(path, "w") as f:
            f.write("donor,dose,genotype,y\n")
            for r in data["rows"]:
                f.write(",".join(map(str, r)) + "\n")
        script = os.path.join(tmp, "fit.R")
        open(script, "w").write(R)
        out = subprocess.run(["Rscript", script, path], check=True, capture_output=True, text=True).stdout
    ref = {"terms": []}
    for line in out.splitlines():
        parts = line.split()
        if not parts: continue
        if parts[0] == "term":
            ref["terms"].append({"name": parts[1], "f": float(parts[2]), "numerator_df": int(parts[3]),
                                 "denominator_df": float(parts[4]), "p": float(parts[5])})
        else:
            ref[parts[0]] = [float(v) for v in parts[1:]]
    return ref

doses = ["0", "0.01", "0.1", "1", "10", "100"]
sets = [
    dataset("balanced", 1, 4, 4, doses, 4.0, 3.0, 0.0),
    dataset("missing points", 2, 5, 4, doses, 5.0, 4.0, 0.15),
    dataset("paper cohort 11 vs 7", 3, 11, 7, doses, 6.0, 5.0, 0.1),
    dataset("no donor variance", 4, 4, 3, doses, 0.0, 3.0, 0.0),
]
for s in sets:
    s["reference"] = fit(s)
    s["rows"] = [list(r) for r in s["rows"]]
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mixed-model-reference.json")
json.dump({"generator": "lme4/lmerTest via " + os.path.basename(__file__), "datasets": sets}, open(out, "w"), indent=1)
print("wrote", out)
