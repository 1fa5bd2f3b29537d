#!/usr/bin/env python3
"""`make bench`: the benchmarks in one run, and their figures in one file.

Runs each benchmark script (or those --only names) on a tree (this checkout, or --root), as
`python benchmarks/<script>`, and writes benchmarks/results/<commit>.json: the commit measured
(and whether its tree had changes), the machine (cores, processor, memory, Python), when, and
every figure each script recorded (figures.py), ratios included. Figures vary with the
machine; ratios taken in one run much less: compare commits with `make bench-compare`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path

import psutil
from figures import RESULTS

HERE = Path(__file__).resolve().parent
SCRIPTS = {"leaflet": "bench_leaflet.py", "batch": "bench_batch.py", "web": "bench_web.py",
           "load": "bench_load.py", "week": "bench_week.py", "editor": "bench_editor.py",
           "feed": "bench_feed.py"}  # fmt: skip
QUICK = {"batch": ["--big-rows", "0", "--naive-rows", "10"], "web": ["--quick"],
         "leaflet": ["--leaflets", "6", "--cli-runs", "3"]}  # fmt: skip


def commit(root: Path) -> tuple[str, bool]:
    """The tree's commit, and whether it has changes of its own."""
    head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                          text=True, check=True).stdout.strip()  # fmt: skip
    status = ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"]
    changes = subprocess.run(status, capture_output=True, text=True, check=True).stdout.strip()
    return head, bool(changes)


def machine() -> dict[str, object]:
    model = next((line.split(":", 1)[1].strip() for line in
                  Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
                 platform.processor())  # fmt: skip
    return {"cores": os.cpu_count(), "processor": model, "memory_gb":
            round(psutil.virtual_memory().total / 2**30, 1), "python": platform.python_version(),
            "system": platform.platform()}  # fmt: skip


def run(names: list[str], root: Path, quick: bool) -> tuple[dict[str, dict[str, float]], list[str]]:
    """Each benchmark in turn on ``root``; their figures, and the benchmarks that failed (the
    others still run: a long run is not lost to its last benchmark)."""
    failed = []
    with tempfile.TemporaryDirectory() as scratch:
        collected = Path(scratch) / "figures.json"
        env = {**os.environ, RESULTS: str(collected), "LEAFLETPRESS_BENCH_ROOT": str(root)}
        for name in names:
            extra = QUICK.get(name, []) if quick else []
            print(f"== {name} ({root})", flush=True)
            # In the tree measured: Python 3.11's forkserver (the batch's workers) imports
            # leafletpress from the working directory, whatever the parent's sys.path
            done = subprocess.run([sys.executable, str(HERE / SCRIPTS[name]), *extra], env=env,
                                  cwd=root)  # fmt: skip
            if done.returncode != 0:
                print(f"== {name}: FAILED (exit {done.returncode}), see above", flush=True)
                failed.append(name)
        figures = json.loads(collected.read_text()) if collected.exists() else {}
        return figures, failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", default=",".join(SCRIPTS), help="e.g. leaflet,batch")
    parser.add_argument("--root", type=Path, default=HERE.parent, help="the tree measured")
    parser.add_argument("--quick", action="store_true", help="smaller days, fewer runs")
    parser.add_argument("--out", type=Path, help="default: benchmarks/results/<commit>.json")
    args = parser.parse_args()
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = sorted(set(names) - set(SCRIPTS))
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; known: {', '.join(SCRIPTS)}")
    head, changed = commit(args.root)
    started = datetime.now().astimezone()
    figures, failed = run(names, args.root.resolve(), args.quick)
    result = {"commit": head, "changes": changed, "machine": machine(),
              "started": started.isoformat(timespec="seconds"), "quick": args.quick,
              "figures": figures, "failed": failed}  # fmt: skip
    out = args.out or HERE / "results" / f"{head}{'-changed' if changed else ''}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"figures: {out}")
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
