#!/usr/bin/env bash
# Before/after output comparison for refactors: runs a fixed set of netosis commands with one
# binary into a folder, and compares two such folders artefact by artefact.
#
#   tools/compare-outputs.sh NETOSIS_BINARY OUTDIR      run the set (OUTDIR must be new or empty)
#   tools/compare-outputs.sh --diff DIR_A DIR_B         compare; exit 0 = all same, 1 = differences
#   tools/compare-outputs.sh --bench NETOSIS_BINARY OUTDIR [RUNS]
#                                                       densenet121 bench RUNS times (default 2) →
#                                                       OUTDIR/bench-N.json (compared as info only)
#
# The set (every command runs with OUTDIR as working directory and relative output paths, so
# paths recorded inside the files are the same for any OUTDIR):
#   synth-np1 / synth-np2        synth --plates 1 --wells 4 --seed 3 (alone, mpirun -np 2)
#   segment-np1 / segment-np2    segment of the real sample → objects.csv + objects.images.csv,
#                                with --annotations (coverage lines on stdout)
#   segment-h5                   segment of the real sample → objects.h5
#   segment-dsb                  segment of dsb2018-fluo-subset → objects.csv (other image sizes)
#   prepare-np1 / prepare-np2    prepare of the real sample → patches.h5 (--overwrite --seed 1)
#   infer-np1 / infer-np2        infer with checkpoint.h5 on prepare-np1/patches.h5 → predictions.h5
# checkpoint.h5: $CHECKPOINT if set (copied), else a fixed densenet-tiny-shaped model (input 112)
# generated deterministically with h5py (no netosis verb writes checkpoints yet); regenerating
# gives the same datasets and attributes. For an after-run, CHECKPOINT=DIR_A/checkpoint.h5 is safest.
#
# Comparison rules (--diff):
#   .h5    every group/dataset present in A must be in B (extra ones: "added", not a failure);
#          dataset type, shape, max shape, chunking and filters equal (h5dump --xml -p); data equal
#          with h5diff and no tolerance (NaN = NaN); every attribute of every object equal (value
#          and type, from h5dump --xml -A) except timestamps/timings (created, modified,
#          tool_version, names like *time*/*seconds*, ISO-8601 values); attributes only in B are
#          "added"; JSON attributes (config …) are compared key by key: added keys are reported
#          in detail and do not fail, removed or changed keys fail. Timing datasets (seconds,
#          cpu_seconds, …) are excluded from the data comparison (their type and shape still count).
#   .csv   byte-equal; a file with timing columns (seconds, cpu_seconds …) or with columns only in
#          B is compared cell by cell instead: timing columns ignored, added columns reported
#          ("added", not a failure), every other cell equal as text.
#   .json  key by key (synth.json): tool_version and timestamps ignored, added keys reported.
#   logs/*.stdout   line by line after replacing OUTDIR by $OUTDIR and timings/rates by <t>.
#   anything else (TIFF, XML): byte-equal.
#   Not compared: logs/*.stderr (progress lines with timings), logs/*.time, meta/*, bench-*.json
#   (bench medians are printed as info).
# Rank invariance (np1 vs np2 inside each folder) is printed as info lines, never a failure.
#
# Needs: bash, python3 (standard library only for --diff), hdf5-tools (h5dump, h5diff), mpirun;
# h5py only to generate the checkpoint (a venv under /tmp is created if no python has h5py).
set -euo pipefail

SAMPLE=${NETOSIS_SAMPLE:-/work/shared/data/netosis-sample}
DSB=${NETOSIS_DSB:-/work/shared/data/dsb2018-fluo-subset}
NP=${COMPARE_NP:-2}
: "${OMPI_ALLOW_RUN_AS_ROOT:=1}" "${OMPI_ALLOW_RUN_AS_ROOT_CONFIRM:=1}" "${OMPI_MCA_btl:=self,vader}"
: "${OMPI_MCA_rmaps_base_oversubscribe:=1}"
export OMPI_ALLOW_RUN_AS_ROOT OMPI_ALLOW_RUN_AS_ROOT_CONFIRM OMPI_MCA_btl OMPI_MCA_rmaps_base_oversubscribe

usage() {
    sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

# ---------------------------------------------------------------------------------------------
# Checkpoint generation (deterministic: Python's seeded Mersenne Twister, fixed 'created').
find_h5py_python() {
    local p
    for p in ${COMPARE_PYTHON:-} python3 "${COMPARE_VENV:-/tmp/compare-venv}/bin/python"; do
        if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import h5py, numpy' 2>/dev/null; then
            echo "$p"; return 0
        fi
    done
    local venv=${COMPARE_VENV:-/tmp/compare-venv}
    echo "compare-outputs: no python with h5py; creating $venv (pip install h5py numpy)" >&2
    python3 -m venv "$venv" >&2 && "$venv/bin/pip" install -q h5py numpy >&2
    echo "$venv/bin/python"
}

generate_checkpoint() { # $1 = output path
    local py; py=$(find_h5py_python)
    "$py" - "$1" <<'PY'
"""A fixed checkpoint in WeightIO's layout (docs/file-formats.md): root attributes format,
format_version (int32), created, tool_version, config (fixed-length UTF-8 strings, sorted compact
JSON as JSONEncoder writes it); /model with attribute config and one float32 dataset per tensor
(PyTorch layout, chunk = shape, Fletcher-32). Structure: densenet-tiny (growth 4, blocks [2, 2],
bn_size 2, 8 initial features) with 1 input channel and input_size 112, so it runs on patches.h5."""
import json, random, sys
import h5py, numpy as np

out = sys.argv[1]
cfg = {"block_config": [2, 2], "bn_size": 2, "compression": 0.5, "drop_rate": 0, "growth_rate": 4,
       "input_channels": 1, "input_size": 112, "name": "compare-tiny", "num_classes": 3,
       "num_init_features": 8}
rng = random.Random(20240601)          # random.random() sequences are stable across Python versions


def uni(shape, lo, hi):
    n = 1
    for s in shape:
        n *= s
    return np.array([lo + (hi - lo) * rng.random() for _ in range(n)], dtype=np.float32).reshape(shape)


tensors = []


def conv(name, o, i, k):
    b = (6.0 / (i * k * k)) ** 0.5     # Kaiming-uniform bound: activations neither vanish nor blow up
    tensors.append((name + "/weight", uni([o, i, k, k], -b, b)))


def bn(name, c):
    tensors.append((name + "/weight", uni([c], 0.5, 1.5)))
    tensors.append((name + "/bias", uni([c], -0.2, 0.2)))
    tensors.append((name + "/running_mean", uni([c], -0.1, 0.1)))
    tensors.append((name + "/running_var", uni([c], 0.8, 1.2)))


g, bs, ch = cfg["growth_rate"], cfg["bn_size"], cfg["num_init_features"]
conv("features/conv0", ch, cfg["input_channels"], 7)
bn("features/norm0", ch)
for bi, n in enumerate(cfg["block_config"]):
    for j in range(n):
        p = f"features/denseblock{bi + 1}/denselayer{j + 1}"
        cin = ch + j * g
        bn(p + "/norm1", cin); conv(p + "/conv1", bs * g, cin, 1)
        bn(p + "/norm2", bs * g); conv(p + "/conv2", g, bs * g, 3)
    ch += n * g
    if bi < len(cfg["block_config"]) - 1:
        out_c = int(ch * cfg["compression"])
        bn(f"features/transition{bi + 1}/norm", ch); conv(f"features/transition{bi + 1}/conv", out_c, ch, 1)
        ch = out_c
bn("features/norm5", ch)
tensors.append(("classifier/weight", uni([cfg["num_classes"], ch], -1.5, 1.5)))
tensors.append(("classifier/bias", uni([cfg["num_classes"]], -0.1, 0.1)))

config_json = json.dumps(cfg, sort_keys=True, separators=(",", ":"))


def string_attr(obj, key, value):
    b = value.encode()
    obj.attrs.create(key, np.array(b, dtype=h5py.string_dtype("utf-8", len(b))))


with h5py.File(out, "w") as f:
    string_attr(f, "format", "netosis.checkpoint")
    f.attrs.create("format_version", np.int32(1))
    string_attr(f, "created", "2000-01-01T00:00:00Z")
    string_attr(f, "tool_version", "tools/compare-outputs.sh fixed checkpoint")
    string_attr(f, "config", config_json)
    model = f.create_group("model")
    string_attr(model, "config", config_json)
    for name, a in tensors:
        model.create_dataset(name, data=a, chunks=a.shape, fletcher32=True)
print(f"checkpoint: {out} ({len(tensors)} tensors, {sum(a.size for _, a in tensors)} values)", file=sys.stderr)
PY
}

# ---------------------------------------------------------------------------------------------
# Run mode.
run_set() {
    local bin out
    [ -x "$1" ] || { echo "compare-outputs: $1 is not an executable" >&2; exit 2; }
    bin=$(readlink -f "$1"); out=$2
    if [ -e "$out" ] && [ -n "$(ls -A "$out" 2>/dev/null)" ]; then
        echo "compare-outputs: $out exists and is not empty; give a new folder" >&2; exit 2
    fi
    mkdir -p "$out"; out=$(cd "$out" && pwd)
    [ -d "$SAMPLE/tiff" ] && [ -d "$SAMPLE/annotations" ] || { echo "compare-outputs: no sample at $SAMPLE" >&2; exit 2; }
    cd "$out"
    mkdir -p logs meta
    echo "$out" > meta/outdir.txt
    { echo "binary: $bin"; echo "sha256: $(sha256sum "$bin" | cut -d' ' -f1)";
      echo "version: $("$bin" --version 2>&1)"; echo "host: $(uname -a)"; echo "date: $(date -u +%FT%TZ)";
      echo "nproc: $(nproc)"; echo "sample: $SAMPLE"; echo "dsb: $DSB"; } > meta/binary.txt
    env | grep -E '^(OMPI_|OPENBLAS_|OMP_|GOTO|NETOSIS)' | sort > meta/env.txt || true

    if [ -n "${CHECKPOINT:-}" ]; then
        cp "$CHECKPOINT" checkpoint.h5; echo "checkpoint: copied from $CHECKPOINT" > meta/checkpoint.txt
    else
        generate_checkpoint checkpoint.h5 2> meta/checkpoint.txt
    fi

    local total_start; total_start=$(date +%s.%N)
    : > commands.txt
    # step NAME CMD...: runs CMD with stdout/stderr in logs/NAME.*; the command line is recorded
    # in commands.txt with the binary written as $NETOSIS.
    step() {
        local name=$1; shift
        local line="" a
        for a in "$@"; do [ "$a" = "$bin" ] && a='$NETOSIS'; line+="${line:+ }$a"; done
        printf '%s: %s\n' "$name" "$line" >> commands.txt
        local t0 t1 rc=0; t0=$(date +%s.%N)
        "$@" > "logs/$name.stdout" 2> "logs/$name.stderr" || rc=$?
        t1=$(date +%s.%N)
        printf '%s %.2f s (exit %d)\n' "$name" "$(awk "BEGIN{print $t1 - $t0}")" "$rc" | tee "logs/$name.time"
        if [ "$rc" -ne 0 ]; then
            echo "compare-outputs: $name failed (exit $rc):" >&2; tail -20 "logs/$name.stderr" >&2; exit 1
        fi
    }
    local mpi=(mpirun -np "$NP")
    step synth-np1 "$bin" synth --out synth-np1 --plates 1 --wells 4 --seed 3
    step synth-np2 "${mpi[@]}" "$bin" synth --out synth-np2 --plates 1 --wells 4 --seed 3
    step segment-np1 "$bin" segment --input "$SAMPLE/tiff" --annotations "$SAMPLE/annotations" --out segment-np1/objects.csv
    step segment-np2 "${mpi[@]}" "$bin" segment --input "$SAMPLE/tiff" --annotations "$SAMPLE/annotations" --out segment-np2/objects.csv
    step segment-h5 "$bin" segment --input "$SAMPLE/tiff" --out segment-h5/objects.h5
    if [ -d "$DSB/images" ]; then
        step segment-dsb "$bin" segment --input "$DSB/images" --out segment-dsb/objects.csv
    fi
    step prepare-np1 "$bin" prepare --images "$SAMPLE/tiff" --annotations "$SAMPLE/annotations" --out prepare-np1/patches.h5 --overwrite --seed 1
    step prepare-np2 "${mpi[@]}" "$bin" prepare --images "$SAMPLE/tiff" --annotations "$SAMPLE/annotations" --out prepare-np2/patches.h5 --overwrite --seed 1
    mkdir -p infer-np1 infer-np2     # infer does not create the output folder
    step infer-np1 "$bin" infer --checkpoint checkpoint.h5 --patches prepare-np1/patches.h5 --out infer-np1/predictions.h5
    step infer-np2 "${mpi[@]}" "$bin" infer --checkpoint checkpoint.h5 --patches prepare-np1/patches.h5 --out infer-np2/predictions.h5
    printf 'compare-outputs: done in %.1f s → %s (compare with: %s --diff DIR_A DIR_B)\n' \
        "$(awk "BEGIN{print $(date +%s.%N) - $total_start}")" "$out" "$0"
}

# ---------------------------------------------------------------------------------------------
# Bench mode.
run_bench() {
    local bin out runs i waited=0 wait_max=${BENCH_WAIT:-600}
    [ -x "$1" ] || { echo "compare-outputs: $1 is not an executable" >&2; exit 2; }
    bin=$(readlink -f "$1"); out=$2; runs=${3:-2}
    mkdir -p "$out"
    # Builds on this machine distort throughput: wait for them (up to BENCH_WAIT s), then run anyway.
    while pgrep -f '[s]wift-build' >/dev/null && [ "$waited" -lt "$wait_max" ]; do
        [ "$waited" -eq 0 ] && echo "compare-outputs: a swift-build is running; waiting up to $wait_max s" >&2
        sleep 10; waited=$((waited + 10))
    done
    for i in $(seq 1 "$runs"); do
        { echo "# $(date -u +%FT%TZ) load: $(cut -d' ' -f1-3 /proc/loadavg);" \
               "swift-build running: $(pgrep -f '[s]wift-build' >/dev/null && echo yes || echo no); waited ${waited} s"
          "$bin" bench --model densenet121 --batch-size 16 --iterations 4 --warmup 1 --json "$out/bench-$i.json"
        } 2>&1 | tee "$out/bench-$i.txt"
    done
}

# ---------------------------------------------------------------------------------------------
# Diff mode (python3 standard library + h5dump/h5diff).
diff_dirs() {
    [ -d "$1" ] && [ -d "$2" ] || { echo "compare-outputs: --diff needs two folders" >&2; exit 2; }
    python3 - "$1" "$2" <<'PY'
import csv, io, json, math, os, re, statistics, subprocess, sys
import xml.etree.ElementTree as ET

A, B = (os.path.abspath(p) for p in sys.argv[1:3])
VERBOSE = os.environ.get("VERBOSE", "") not in ("", "0")
IGNORED_NAMES = {"created", "modified", "tool_version"}
TIMING_NAME = re.compile(r"(^|_)(time|times|timestamp|date|seconds|cpu_seconds|elapsed|duration|started|finished|wall)(_|$)", re.I)
ISO_TIME = re.compile(r'^"?\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)?"?$')
NS = "{http://hdfgroup.org/HDF5/XML/schema/HDF5-File.xsd}"
failures = 0


def ignored_name(name):
    return name in IGNORED_NAMES or bool(TIMING_NAME.search(name))


def emit(label, ok, detail="", added=(), notes=()):
    global failures
    if not ok:
        failures += 1
    text = "same" if ok else "DIFFERENT: " + detail
    if added:
        text += " (added: " + ", ".join(added) + ")"
    print(f"{label:<46} {text}")
    for n in notes:
        print("    " + n)


def short(v, n=90):
    s = json.dumps(v) if not isinstance(v, str) else v
    return s if len(s) <= n else s[:n] + "…"


# ---- JSON ----------------------------------------------------------------------------------
def json_diff(a, b, path=""):
    """Returns (added, removed, changed, ignored): lists of (path, a, b)."""
    added, removed, changed, ignored = [], [], [], []
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            p = f"{path}.{k}" if path else k
            if k not in b:
                removed.append((p, a[k], None))
            elif k not in a:
                added.append((p, None, b[k]))
            elif ignored_name(k) and a[k] != b[k]:
                ignored.append((p, a[k], b[k]))
            else:
                r = json_diff(a[k], b[k], p)
                for acc, x in zip((added, removed, changed, ignored), r):
                    acc.extend(x)
    elif a != b or type(a) is not type(b):
        if isinstance(a, str) and isinstance(b, str) and ISO_TIME.match(a) and ISO_TIME.match(b):
            ignored.append((path, a, b))
        else:
            changed.append((path, a, b))
    return added, removed, changed, ignored


def json_notes(where, diff):
    added, removed, changed, ignored = diff
    notes = [f"{where}: + {p} = {short(v)}" for p, _, v in added]
    notes += [f"{where}: - {p} (was {short(v)})" for p, v, _ in removed]
    notes += [f"{where}: ~ {p}: {short(x)} → {short(y)}" for p, x, y in changed]
    if VERBOSE:
        notes += [f"{where}: (ignored) {p}: {short(x)} → {short(y)}" for p, x, y in ignored]
    return notes


def compare_json_files(label, fa, fb):
    try:
        ja, jb = json.load(open(fa)), json.load(open(fb))
    except Exception as e:
        return emit(label, open(fa, "rb").read() == open(fb, "rb").read(), f"not JSON ({e}) and bytes differ")
    d = json_diff(ja, jb)
    ok = not d[1] and not d[2]
    emit(label, ok, f"{len(d[1])} key(s) removed, {len(d[2])} changed", added=[p for p, _, _ in d[0]],
         notes=json_notes(os.path.basename(fa), d) if (d[0] or d[1] or d[2] or VERBOSE) else ())


# ---- CSV -----------------------------------------------------------------------------------
def compare_csv(label, fa, fb, emit_result=True):
    ba, bb = open(fa, "rb").read(), open(fb, "rb").read()
    if ba == bb:
        return emit(label, True) if emit_result else (True, "", [])
    ra = list(csv.reader(io.StringIO(ba.decode("utf-8"), newline="")))
    rb = list(csv.reader(io.StringIO(bb.decode("utf-8"), newline="")))
    ha, hb = (ra[0] if ra else []), (rb[0] if rb else [])
    removed = [c for c in ha if c not in hb]
    added = [c for c in hb if c not in ha]
    problems, notes = [], []
    if removed:
        problems.append("columns removed: " + ", ".join(removed))
    if (b"\r\n" in ba) != (b"\r\n" in bb):
        problems.append("line endings differ")
    cols = [c for c in ha if c in hb and not ignored_name(c)]
    ia, ib = [ha.index(c) for c in cols], [hb.index(c) for c in cols]
    if [c for c in ha if c in hb] != [c for c in hb if c in ha]:
        problems.append("column order changed")
    if len(ra) != len(rb):
        problems.append(f"rows {len(ra) - 1} → {len(rb) - 1}")
    bad = 0
    for n, (x, y) in enumerate(zip(ra[1:], rb[1:]), start=2):
        vx = [x[i] if i < len(x) else None for i in ia]
        vy = [y[i] if i < len(y) else None for i in ib]
        if vx != vy:
            bad += 1
            if bad <= 3:
                diffs = [f"{c}: {p!r} → {q!r}" for c, p, q in zip(cols, vx, vy) if p != q]
                notes.append(f"line {n}: " + "; ".join(diffs[:4]))
    if bad:
        problems.append(f"{bad} row(s) differ")
    skipped = [c for c in ha if c in hb and ignored_name(c)]
    if not problems and not added and not skipped:
        problems.append("bytes differ although every cell is equal (quoting or line format)")
    ok = not problems
    if ok and VERBOSE and skipped:
        notes.append("timing columns not compared: " + ", ".join(skipped))
    if emit_result:
        emit(label, ok, "; ".join(problems), added=[f"column {c}" for c in added], notes=notes)
    return ok, "; ".join(problems), notes


# ---- text (stdout) -------------------------------------------------------------------------
TIMING = re.compile(r"\d+(?:\.\d+)?(?:e[+-]?\d+)?\s?(?:ms|s|min|[A-Za-z]+/s)(?![A-Za-z0-9])")


def normalized_lines(path, outdir):
    text = open(path, encoding="utf-8", errors="replace").read()
    if outdir:
        text = text.replace(outdir, "$OUTDIR")
    return [TIMING.sub("<t>", line.rstrip()) for line in text.splitlines()]


def outdir_of(d):
    try:
        return open(os.path.join(d, "meta", "outdir.txt")).read().strip()
    except OSError:
        return d


def compare_text(label, fa, fb, da, db):
    la, lb = normalized_lines(fa, outdir_of(da)), normalized_lines(fb, outdir_of(db))
    if la == lb:
        return emit(label, True)
    notes = []
    for i in range(max(len(la), len(lb))):
        x = la[i] if i < len(la) else "<none>"
        y = lb[i] if i < len(lb) else "<none>"
        if x != y:
            notes += [f"line {i + 1} A: {x}", f"line {i + 1} B: {y}"]
            if len(notes) >= 6:
                break
    emit(label, False, f"{len(la)} vs {len(lb)} lines (timings masked)", notes=notes)


# ---- HDF5 ----------------------------------------------------------------------------------
def canon(el):
    """Order-independent text of an XML element (tag, attributes, children), for type/layout."""
    tag = el.tag.replace(NS, "")
    attrs = ",".join(f"{k}={v}" for k, v in sorted(el.attrib.items()) if k not in ("OBJ-XID", "Parents"))
    kids = "".join(canon(c) for c in el if isinstance(c.tag, str))
    return f"{tag}[{attrs}]({kids})"


def unescape_h5dump_string(s):
    s = s.strip()
    if len(s) >= 2 and s[0] == '"' and s[-1] == '"':
        s = s[1:-1]
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t", "r": "\r"}.get(m.group(1), m.group(1)), s)


def h5_structure(path):
    r = subprocess.run(["h5dump", "--xml", "-A", "-p", path], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"h5dump failed on {path}: {r.stderr.strip()[:300]}")
    root = ET.fromstring(r.stdout)
    objects = {}
    for el in root.iter():
        kind = el.tag.replace(NS, "")
        if kind not in ("RootGroup", "Group", "Dataset", "NamedDataType", "SoftLink", "ExternalLink"):
            continue
        p = (el.get("H5Path") or "/").strip()
        header = ""
        if kind == "Dataset":
            header = "".join(canon(c) for c in el if c.tag.replace(NS, "") in ("Dataspace", "DataType", "StorageLayout"))
        elif kind in ("SoftLink", "ExternalLink", "NamedDataType"):
            header = canon(el)
        attrs = {}
        for a in el:
            if a.tag != NS + "Attribute":
                continue
            typ = "".join(canon(c) for c in a if c.tag.replace(NS, "") in ("Dataspace", "DataType"))
            data = a.find(NS + "Data")
            text = "".join(data.itertext()) if data is not None else ""
            value = "\n".join(l.strip() for l in text.strip().splitlines())
            attrs[a.get("Name")] = (typ, value)
        objects[p] = {"kind": kind, "header": header, "attrs": attrs}
    return objects


def describe_header(h):
    """shape/max shape, element type, chunk and filters of a dataset header from canon()."""
    dims = re.findall(r"Dimension\[DimSize=(\d+),MaxDimSize=(\w+)\]", h)
    shape = "x".join(d for d, _ in dims) or "scalar"
    maxshape = "x".join("inf" if m == "UNLIMITED" else m for _, m in dims)
    t = re.search(r"(IntegerType|FloatType|StringType|CompoundType|EnumType|ArrayType|VLType)\[([^\]]*)\]", h)
    if t:
        kv = dict(x.split("=", 1) for x in t.group(2).split(",") if "=" in x)
        if t.group(1) == "IntegerType":
            typ = ("int" if kv.get("Sign") == "true" else "uint") + str(8 * int(kv.get("Size", 0))) + kv.get("ByteOrder", "")
        elif t.group(1) == "FloatType":
            typ = "float" + str(8 * int(kv.get("Size", 0))) + kv.get("ByteOrder", "")
        else:
            typ = t.group(1) + "(" + t.group(2) + ")"
    else:
        typ = "?"
    chunk = "x".join(re.findall(r"ChunkDimension\[DimSize=(\d+)\]", h)) or "contiguous"
    filters = re.search(r"RequiredFilter\[\]\((.*?)\)\)", h)
    filters = re.sub(r"[\[\]()]", " ", filters.group(1)).split() if filters else []
    return f"shape {shape} (max {maxshape}), {typ}, chunk {chunk}, filters {' '.join(filters) or 'none'}"


def h5diff_data(fa, fb, exclude):
    cmd = ["h5diff", "-v", "-n", "5"]
    for p in exclude:
        cmd += ["--exclude-path", p]
    r = subprocess.run(cmd + [fa, fb], capture_output=True, text=True)
    if r.returncode == 2:
        raise RuntimeError("h5diff error: " + (r.stderr or r.stdout).strip()[:300])
    found, notcomp, current, sample = {}, set(), None, {}
    for line in r.stdout.splitlines():
        m = re.match(r"^dataset: <(.+?)> and <(.+?)>$", line)
        if m:
            current = m.group(1); found.setdefault(current, 0); continue
        if line.startswith("attribute: ") or line.startswith("group  : "):
            current = None; continue
        if current is None:
            continue
        m = re.match(r"^(\d+) differences? found$", line)
        if m:
            found[current] += int(m.group(1))
        elif "Not comparable" in line:
            notcomp.add(current)
        elif line.startswith("[") and current not in sample:
            sample[current] = " ".join(line.split())
    return found, notcomp, sample


def attr_value_changed(name, va, vb, where):
    """Returns (is_failure, notes, added_keys) for one attribute present in both files."""
    (ta, xa), (tb, xb) = va, vb
    if xa == xb and ta == tb:
        return False, [], []
    if ignored_name(name) or (ISO_TIME.match(xa.strip()) and ISO_TIME.match(xb.strip())):
        return False, ([f"{where}@{name}: (ignored) {short(xa)} → {short(xb)}"] if VERBOSE else []), []
    sa, sb = unescape_h5dump_string(xa), unescape_h5dump_string(xb)
    try:
        ja, jb = json.loads(sa), json.loads(sb)
        if isinstance(ja, dict) and isinstance(jb, dict):
            d = json_diff(ja, jb)
            notes = json_notes(f"{where}@{name}", d)
            return bool(d[1] or d[2]), notes, [f"{where}@{name}:{p}" for p, _, _ in d[0]]
    except ValueError:
        pass
    if xa == xb:
        return True, [f"{where}@{name}: type changed (value equal)"], []
    return True, [f"{where}@{name}: {short(xa)} → {short(xb)}"], []


def compare_h5(label, fa, fb, emit_result=True):
    try:
        sa, sb = h5_structure(fa), h5_structure(fb)
    except Exception as e:
        return emit(label, False, str(e)) if emit_result else (False, str(e), [])
    problems, notes, added = [], [], []
    for p in sorted(set(sa) - set(sb)):
        problems.append(f"{sa[p]['kind'].lower()} {p} missing")
    for p in sorted(set(sb) - set(sa)):
        added.append(f"{sb[p]['kind'].lower()} {p}")
    common = sorted(set(sa) & set(sb))
    datasets = [p for p in common if sa[p]["kind"] == "Dataset"]
    timing = [p for p in datasets if ignored_name(p.rsplit("/", 1)[-1])]
    for p in common:
        if sa[p]["kind"] != sb[p]["kind"]:
            problems.append(f"{p}: {sa[p]['kind']} → {sb[p]['kind']}")
        elif sa[p]["header"] != sb[p]["header"]:
            problems.append(f"{p}: type/shape/layout differs")
            notes.append(f"{p}: A {describe_header(sa[p]['header'])}")
            notes.append(f"{p}: B {describe_header(sb[p]['header'])}")
            if describe_header(sa[p]["header"]) == describe_header(sb[p]["header"]):
                notes.append(f"{p}: (header differs in a detail not summarised above)")
        aa, ab = sa[p]["attrs"], sb[p]["attrs"]
        for n in sorted(set(aa) - set(ab)):
            problems.append(f"attribute {p}@{n} missing")
        for n in sorted(set(ab) - set(aa)):
            added.append(f"{p}@{n}")
        for n in sorted(set(aa) & set(ab)):
            fail, ns, keys = attr_value_changed(n, aa[n], ab[n], p)
            notes += ns
            added += keys
            if fail:
                problems.append(f"attribute {p}@{n} changed")
    # Data: h5diff (no tolerance) over the datasets both files have, timing ones excluded.
    only = [p for p in set(sa) ^ set(sb)]
    try:
        found, notcomp, sample = h5diff_data(fa, fb, timing + only)
    except Exception as e:
        found, notcomp, sample = {}, set(), {}
        problems.append(str(e))
    for p in datasets:
        if p in timing:
            continue
        if p not in found:
            problems.append(f"{p}: not compared by h5diff")
        elif p in notcomp:
            problems.append(f"{p}: data not comparable")
        elif found[p]:
            problems.append(f"{p}: {found[p]}{'+' if found[p] >= 5 else ''} value(s) differ")
            if p in sample:
                notes.append(f"{p}: first difference {sample[p]}")
    if VERBOSE and timing:
        notes.append("timing datasets not compared: " + ", ".join(timing))
    ok = not problems
    if emit_result:
        emit(label, ok, "; ".join(problems[:6]) + (f" (+{len(problems) - 6} more)" if len(problems) > 6 else ""),
             added=added, notes=notes)
    return ok, "; ".join(problems), notes


# ---- driver --------------------------------------------------------------------------------
SKIP_DIRS = ("meta",)


def skipped(rel):
    top = rel.split(os.sep)[0]
    if top in SKIP_DIRS:
        return True
    if rel.startswith("logs" + os.sep) and not rel.endswith(".stdout"):
        return True
    if os.sep not in rel and re.match(r"bench-.*\.(json|txt)$", rel):
        return True
    return False


def files(d):
    out = set()
    for root, _, names in os.walk(d):
        for n in names:
            rel = os.path.relpath(os.path.join(root, n), d)
            if not skipped(rel):
                out.add(rel)
    return out


def compare_file(rel, fa, fb, da, db):
    if rel.endswith(".h5"):
        compare_h5(rel, fa, fb)
    elif rel.endswith(".csv"):
        compare_csv(rel, fa, fb)
    elif rel.endswith(".json"):
        compare_json_files(rel, fa, fb)
    elif rel.startswith("logs" + os.sep):
        compare_text(rel, fa, fb, da, db)
    elif rel == "commands.txt":
        compare_text(rel, fa, fb, da, db)
    else:
        same = open(fa, "rb").read() == open(fb, "rb").read()
        emit(rel, same, "bytes differ" + ("" if same else f" ({os.path.getsize(fa)} vs {os.path.getsize(fb)} bytes)"))


print(f"== compare-outputs: A = {A}\n                    B = {B}")
fa_set, fb_set = files(A), files(B)
for rel in sorted(fa_set | fb_set):
    if rel not in fb_set:
        emit(rel, False, "missing in B")
    elif rel not in fa_set:
        print(f"{rel:<46} added (only in B)")
    else:
        compare_file(rel, os.path.join(A, rel), os.path.join(B, rel), A, B)


# ---- info: rank invariance inside each folder, bench --------------------------------------
def info_pair(d, side, x, y):
    px, py = os.path.join(d, x), os.path.join(d, y)
    if not (os.path.exists(px) and os.path.exists(py)):
        return
    if os.path.isdir(px):
        rels = sorted(set(os.listdir(px)) | set(os.listdir(py)))
        bad = []
        for r in rels:
            a, b = os.path.join(px, r), os.path.join(py, r)
            if os.path.isdir(a) or os.path.isdir(b):
                for root, _, names in os.walk(a):
                    for n in names:
                        fa_ = os.path.join(root, n)
                        fb_ = os.path.join(b, os.path.relpath(fa_, a))
                        if not os.path.exists(fb_) or open(fa_, "rb").read() != open(fb_, "rb").read():
                            bad.append(os.path.relpath(fa_, px))
            elif not os.path.exists(a) or not os.path.exists(b):
                bad.append(r)
            elif r.endswith(".csv"):
                if not compare_csv(r, a, b, emit_result=False)[0]:
                    bad.append(r)
            elif open(a, "rb").read() != open(b, "rb").read():
                bad.append(r)
        text = "same" if not bad else "differ: " + ", ".join(bad[:5])
    else:
        ok, why, notes = compare_h5(x, px, py, emit_result=False)
        notes = [n for n in notes if "(ignored)" not in n]
        text = "same" if ok else f"differ: {why}" + (f" [{notes[0]}]" if notes else "")
    print(f"info: {side} {x} vs {y}: {text}")


print("-- rank invariance (info only, never a failure)")
for side, d in (("A", A), ("B", B)):
    info_pair(d, side, "synth-np1", "synth-np2")
    info_pair(d, side, "segment-np1", "segment-np2")
    info_pair(d, side, "prepare-np1/patches.h5", "prepare-np2/patches.h5")
    info_pair(d, side, "infer-np1/predictions.h5", "infer-np2/predictions.h5")


def bench(d):
    out = []
    for n in sorted(os.listdir(d)):
        if re.match(r"bench-.*\.json$", n):
            try:
                j = json.load(open(os.path.join(d, n)))
                out.append((n, j.get("inferImagesPerSecond"), j.get("trainImagesPerSecond")))
            except Exception:
                pass
    return out


ba_, bb_ = bench(A), bench(B)
if ba_ or bb_:
    print("-- bench images/s (info only: judge against the spread within each side)")
    med = {}
    for side, rows in (("A", ba_), ("B", bb_)):
        for n, inf, tr in rows:
            print(f"info: {side} {n}: inference {inf:.2f}, training {tr:.2f}")
        if rows:
            med[side] = (statistics.median(r[1] for r in rows), statistics.median(r[2] for r in rows))
            print(f"info: {side} median of {len(rows)}: inference {med[side][0]:.2f}, training {med[side][1]:.2f}")
    if len(med) == 2:
        print("info: B/A: inference {:+.1f}%, training {:+.1f}%".format(
            100 * (med["B"][0] / med["A"][0] - 1), 100 * (med["B"][1] / med["A"][1] - 1)))

print(f"== {'ALL SAME' if failures == 0 else f'{failures} artefact(s) DIFFERENT'}")
sys.exit(1 if failures else 0)
PY
}

case "${1:-}" in
    --diff) [ $# -eq 3 ] || usage; diff_dirs "$2" "$3" ;;
    --bench) [ $# -ge 3 ] || usage; run_bench "$2" "$3" "${4:-2}" ;;
    -h|--help|"") usage ;;
    *) [ $# -eq 2 ] || usage; run_set "$1" "$2" ;;
esac
