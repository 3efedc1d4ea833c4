#!/usr/bin/env python3
"""layout_check.py - the source tree's architecture rules, checked.

  1. Layers link only downward.  Every `#include "..."` in src/, include/
     and experiments/ is resolved the way the compiler resolves it (the
     including file's folder, then -Iinclude -Isrc -I.) and the layer of the
     included file must be one the including layer may use:
         core         core
         model        core, model
         synth        core, synth
         api          core, model, synth, api
         tools        core, model, synth, tools
         experiments  core, model, synth, tools, experiments
         cli          everything
     A public header include/lionmuon/NAME.h belongs to the layer of
     src/LAYER/NAME.c; the umbrella header lionmuon.h to the library (it may
     include core, model, synth and api).  Nothing under src/ or include/ may
     include tests/.
  2. Every reference to a Markdown document (a .md file) or to a path in the
     tree's own folders (src/..., experiments/..., theory/...) in src/,
     include/, tests/, experiments/, theory/ and README.md names a file of
     the repository (relative to the repository root, the citing file's
     folder, or theory/), unless it names an output file the tool writes.
  3. No function in src/core or src/model is longer than 100 lines, and
     train_run is at most 60 (the loop a reader learns training from).

Usage: layout_check.py [--root DIR]      check the tree (exit 1 on a finding)
       layout_check.py --self-test       copy the tree, plant one upward
                                         include, and check that it is caught
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

LAYERS = ["core", "model", "synth", "api", "tools", "experiments", "cli"]
ALLOWED = {
    "core": {"core"},
    "model": {"core", "model"},
    "synth": {"core", "synth"},
    "api": {"core", "model", "synth", "api"},
    "library": {"core", "model", "synth", "api", "library"},
    "tools": {"core", "model", "synth", "tools"},
    "experiments": {"core", "model", "synth", "tools", "experiments"},
    "cli": {"core", "model", "synth", "api", "library", "tools", "experiments", "cli"},
}
INCLUDE_DIRS = ["include", "src", "."]
FUNC_LIMIT = 100
FUNC_LIMITS = {"train_run": 60}
# Output files the tool writes (named in help text and comments), not citations.
OUTPUT_NAMES = re.compile(r"^(v[1-5K]\.md|FILE\.md|r\.md)$")
MD_REF = re.compile(r"[A-Za-z0-9_./$-]*[A-Za-z0-9_]\.md\b")
# A path into the tree's own folders (src/core/msign.c, experiments/synth/v1.gp).
PATH_REF = re.compile(r"(?<![\w/.$-])(?:src|include|experiments|tests|theory|scripts|python)"
                      r"/[A-Za-z0-9_./-]*[A-Za-z0-9_]\.(?:c|h|md|py|sh|mk|gp|cc)\b")


def rel(root, path):
    return os.path.relpath(path, root)


def source_files(root, tops, exts):
    for top in tops:
        base = os.path.join(root, top)
        if os.path.isfile(base):
            yield base
            continue
        for dirpath, _, names in os.walk(base):
            for n in sorted(names):
                if n.endswith(exts):
                    yield os.path.join(dirpath, n)


def layer_of(root, path):
    """The layer a file belongs to, or None for files outside the layers."""
    r = rel(root, path).split(os.sep)
    if r[0] == "src" and len(r) > 2 and r[1] in LAYERS:
        return r[1]
    if r[0] == "experiments" and r[-1].endswith((".c", ".h")):
        return "experiments"
    if r[0] == "include" and len(r) == 3 and r[1] == "lionmuon":
        name = r[2][:-2]
        if name == "lionmuon":
            return "library"
        for layer in ("core", "model", "synth", "api"):
            if os.path.exists(os.path.join(root, "src", layer, name + ".c")):
                return layer
        return "unknown"
    if r[0] == "tests":
        return "tests"
    return None


def resolve(root, including, name):
    for d in [os.path.dirname(including)] + [os.path.join(root, d) for d in INCLUDE_DIRS]:
        p = os.path.normpath(os.path.join(d, name))
        if os.path.isfile(p):
            return p
    return None


def check_includes(root):
    bad = []
    inc = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
    for f in source_files(root, ["src", "include", "experiments"], (".c", ".h")):
        me = layer_of(root, f)
        if me is None:
            continue
        for ln, line in enumerate(open(f, errors="replace"), 1):
            m = inc.match(line)
            if not m:
                continue
            target = resolve(root, f, m.group(1))
            where = "%s:%d" % (rel(root, f), ln)
            if target is None:
                bad.append('%s: "%s" does not resolve to a file of the tree' % (where, m.group(1)))
                continue
            them = layer_of(root, target)
            if them == "unknown":
                bad.append("%s: %s has no layer (no src/*/NAME.c beside it)" % (where, rel(root, target)))
            elif them is not None and them not in ALLOWED.get(me, set()):
                bad.append("%s: layer %s includes %s (layer %s): includes may only point down"
                           % (where, me, rel(root, target), them))
    return bad


def check_citations(root):
    bad = []
    files = list(source_files(root, ["src", "include", "tests", "experiments", "theory",
                                     "README.md", "scripts", "Makefile"],
                              (".c", ".h", ".py", ".sh", ".md", ".mk", ".gp", ".cc", "Makefile")))
    for f in files:
        if "/fuzz/corpus/" in f:
            continue
        for ln, line in enumerate(open(f, errors="replace"), 1):
            refs = list(MD_REF.finditer(line)) + list(PATH_REF.finditer(line))
            for m in refs:
                ref = m.group(0).lstrip("./")
                if re.search(r"NAME|LAYER", ref):
                    continue  # a pattern (src/LAYER/NAME.c), not a file
                if ref.startswith(("results/", "$", "-")) or "CLI_TMP" in ref or "$" in ref:
                    continue
                if OUTPUT_NAMES.match(os.path.basename(ref)) and "/" not in ref:
                    continue
                cands = [os.path.join(root, ref), os.path.join(os.path.dirname(f), ref),
                         os.path.join(root, "theory", ref)]
                if not any(os.path.isfile(c) for c in cands):
                    bad.append("%s:%d: cites %s, which is not a file of the repository"
                               % (rel(root, f), ln, m.group(0)))
    return bad


def functions(path):
    """(name, first line, length) of each function definition in a C file:
    a definition opens at column 0 and its body closes with '}' at column 0."""
    lines = open(path, errors="replace").read().split("\n")
    out, i = [], 0
    while i < len(lines):
        line = lines[i]
        if (line and line[0] not in " \t#/*{}" and "(" in line and not line.rstrip().endswith(";")
                and not line.startswith(("typedef", "struct", "enum", "static const", "const"))):
            j = i
            while j < len(lines) and "{" not in lines[j] and not lines[j].rstrip().endswith(";"):
                j += 1
            if j < len(lines) and lines[j].rstrip().endswith("{"):
                k = j + 1
                while k < len(lines) and not lines[k].startswith("}"):
                    k += 1
                m = re.search(r"([A-Za-z_][A-Za-z0-9_]*)\s*\(", line)
                out.append((m.group(1) if m else line.strip(), i + 1, k - i + 1))
                i = k + 1
                continue
        i += 1
    return out


def check_functions(root):
    bad = []
    for f in source_files(root, ["src/core", "src/model"], (".c",)):
        for name, ln, n in functions(f):
            limit = FUNC_LIMITS.get(name, FUNC_LIMIT)
            if n > limit:
                bad.append("%s:%d: %s is %d lines (limit %d)" % (rel(root, f), ln, name, n, limit))
    return bad


def check(root):
    bad = check_includes(root) + check_citations(root) + check_functions(root)
    for b in bad:
        print("layout: " + b)
    return bad


def self_test(root):
    """Plant an upward include (core -> model) in a copy of the tree; the
    check must report exactly that line.  A checker that passes it is broken."""
    with tempfile.TemporaryDirectory() as tmp:
        for d in ["src", "include", "experiments", "tests", "theory"]:
            shutil.copytree(os.path.join(root, d), os.path.join(tmp, d), symlinks=True)
        for f in ["README.md", "Makefile"]:
            shutil.copy(os.path.join(root, f), tmp)
        before = set(check_includes(tmp))
        victim = os.path.join(tmp, "src", "core", "msign.c")
        with open(victim, "a") as fh:
            fh.write('#include "lionmuon/train.h"\n')
        bad = [b for b in check_includes(tmp) if b not in before]
        planted = [b for b in bad if "src/core/msign.c" in b and "lionmuon/train.h" in b]
        if len(planted) != 1 or len(bad) != 1:
            print("layout self-test: FAILED: planted core->model include gave %r" % bad)
            return 1
        print("layout self-test: the planted upward include was caught:\n  " + planted[0])
        return 0


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    args = sys.argv[1:]
    if "--root" in args:
        root = args[args.index("--root") + 1]
    if "--self-test" in args:
        return self_test(root)
    bad = check(root)
    if bad:
        print("layout: %d finding(s)" % len(bad))
        return 1
    print("layout: includes point down, citations resolve, functions within limits")
    return 0


if __name__ == "__main__":
    sys.exit(main())
