#!/usr/bin/env python3
"""The module dependency picture of docs/architecture.md, generated from Package.swift.

  tools/dependency-graph.py            print the picture (markdown)
  tools/dependency-graph.py --write F  replace the block between the markers in F
  tools/dependency-graph.py --check F  exit 1 if F's block differs from Package.swift (run by `make test`)

Reads `swift package describe --type json` (standard library only). A module's layer is the
length of its longest dependency chain, so every arrow points to a lower layer.
"""
import json
import subprocess
import sys

BEGIN, END = "<!-- dependency-graph: begin (tools/dependency-graph.py --write docs/architecture.md) -->", "<!-- dependency-graph: end -->"


def describe():
    out = subprocess.run(["swift", "package", "describe", "--type", "json"], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out[out.index("{"):])


def picture(package):
    targets = {t["name"]: t for t in package["targets"] if t["type"] not in ("test",)}
    deps = {n: [d for d in (t.get("target_dependencies") or []) if d in targets] for n, t in targets.items()}
    external = {n: t.get("product_dependencies") or [] for n, t in targets.items()}
    layer = {}

    def depth(n):
        if n not in layer:
            layer[n] = 0 if not deps[n] else 1 + max(depth(d) for d in deps[n])
        return layer[n]

    for n in targets:
        depth(n)
    kind = {n: t["type"] for n, t in targets.items()}
    lines = ["```text", "layer  module (kind)                 depends on"]
    for level in sorted(set(layer.values()), reverse=True):
        for n in sorted(m for m in targets if layer[m] == level):
            uses = ", ".join(sorted(deps[n], key=lambda d: (-layer[d], d)) + [p + " (package)" for p in sorted(external[n])])
            lines.append(f"{level:>5}  {n + ' (' + kind[n] + ')':<30} {uses or '—'}")
    lines.append("```")
    lines.append("")
    lines.append("```mermaid")
    lines.append("graph TD")
    for n in sorted(targets):
        for d in sorted(deps[n]):
            lines.append(f"  {n.replace('-', '_')}[{n}] --> {d.replace('-', '_')}[{d}]")
    lines.append("```")
    return "\n".join(lines)


def block(text):
    return text[text.index(BEGIN) + len(BEGIN):text.index(END)].strip("\n")


def main(argv):
    generated = picture(describe())
    if len(argv) == 1:
        print(generated)
        return 0
    mode, path = argv[1], argv[2]
    text = open(path, encoding="utf-8").read()
    if BEGIN not in text or END not in text:
        print(f"{path}: no dependency-graph markers", file=sys.stderr)
        return 1
    if mode == "--check":
        if block(text) != generated:
            print(f"{path}: the dependency picture is out of date with Package.swift; run tools/dependency-graph.py --write {path}",
                  file=sys.stderr)
            return 1
        return 0
    if mode == "--write":
        start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
        open(path, "w", encoding="utf-8").write(text[:start] + "\n" + generated + "\n" + text[end:])
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
