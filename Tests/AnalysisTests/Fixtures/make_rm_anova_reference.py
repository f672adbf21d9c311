#!/usr/bin/env python3
"""Writes rm-anova-reference.json: the classic two-way repeated-measures (split-plot) ANOVA of
R's aov(y ~ dose * genotype + Error(donor / dose)) on donor × dose cell means (replicate wells
averaged first), for complete datasets drawn here (numpy, seeded): equal groups, the paper's 11 vs 7
donors with 2 replicate wells per cell, and one with no dose effect.
Run once: python3 Tests/AnalysisTests/Fixtures/make_rm_anova_reference.py (needs numpy, Rscript)."""
import json, os, subprocess, tempfile

import numpy as np

R = r"""
d <- read.csv(commandArgs(TRUE)[1], colClasses = c("character", "character", "character", "numeric"))
m <- aggregate(y ~ donor + dose + genotype, data = d, FUN = mean)
m$dose <- factor(m$dose, levels = unique(d$dose)); m$genotype <- factor(m$genotype, levels = unique(d$genotype))
m$donor <- factor(m$donor)
s <- summary(aov(y ~ dose * genotype + Error(donor / dose), data = m))
for (stratum in names(s)) {
  t <- s[[stratum]][[1]]
  for (i in seq_len(nrow(t))) cat("row", gsub(" ", "", stratum), gsub(" ", "", rownames(t)[i]), format(t[i, "Sum Sq"], digits = 17), t[i, "Df"],
                                 format(t[i, "F value"], digits = 17), format(t[i, "Pr(>F)"], digits = 17), "\n")
}
"""

def dataset(name, seed, donors_a, donors_b, doses, replicates, donor_sd, noise_sd, slope=True):
    rng = np.random.default_rng(seed)
    rows = []
    for genotype, count, top in (("HbAA", donors_a, 60.0), ("HbSS", donors_b, 30.0)):
        for k in range(count):
            donor = f"{genotype}-{k + 1}"
            u = rng.normal(0, donor_sd)
            for i, dose in enumerate(doses):
                mean = 5 + ((top - 5) * i / (len(doses) - 1) if slope else (top - 5) / 2)
                for _ in range(replicates):
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
    rows = []
    for line in out.splitlines():
        p = line.split()
        if not p or p[0] != "row": continue
        f = None if p[5] == "NA" else float(p[5])
        pv = None if p[6] == "NA" else float(p[6])
        rows.append({"stratum": p[1], "term": p[2], "ss": float(p[3]), "df": int(p[4]), "f": f, "p": pv})
    return rows

doses = ["0.01", "0.1", "1", "10", "100"]
sets = [
    dataset("equal groups", 11, 5, 5, doses, 1, 4.0, 3.0),
    dataset("paper cohort 11 vs 7, 2 replicates", 12, 11, 7, doses, 2, 6.0, 5.0),
    dataset("no dose effect", 13, 4, 6, doses, 1, 3.0, 3.0, slope=False),
]
for s in sets:
    s["reference"] = fit(s)
    s["rows"] = [list(r) for r in s["rows"]]
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "rm-anova-reference.json")
json.dump({"generator": "R aov via " + os.path.basename(__file__), "datasets": sets}, open(out, "w"), indent=1)
print("wrote", out)
