#!/usr/bin/env python3
"""`make bench-compare REF=<commit>`: this checkout and REF, measured in turns, side by side.

REF is checked out in a temporary git worktree; the same benchmark scripts (this checkout's)
then measure both trees in turns, --rounds times (REF first, then this tree, then the other
way round: both see the same machine), with this checkout's Python environment. Printed: each
figure's median per tree and their ratio (this tree / REF), and the benchmarks that failed
(left out; the comparison then ends with an error). Each run's result file is kept in a
temporary folder only: `make bench` writes the one of this checkout.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def measure(root: Path, only: str, quick: bool, out: Path) -> tuple[dict[str, float], list[str]]:
    """One run.py on ``root``: its figures (``bench.name``), and the benchmarks that failed."""
    command = [sys.executable, str(HERE / "run.py"), "--root", str(root), "--only", only,
               "--out", str(out), *(["--quick"] if quick else [])]  # fmt: skip
    done = subprocess.run(command)
    if not out.exists():  # a benchmark that fails is named; no file at all stops the comparison
        sys.exit(f"bench-compare: run.py on {root} wrote no figures (exit {done.returncode})")
    found = json.loads(out.read_text())
    figures = {f"{bench}.{name}": value for bench, values in found["figures"].items()
               for name, value in values.items()}  # fmt: skip
    return figures, found.get("failed", [])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("ref", help="the commit to compare with (hash, tag or branch)")
    parser.add_argument("--only", default="leaflet,batch", help="benchmarks (run.py --only)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    wanted = f"{args.ref}^{{commit}}"
    ref = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--verify", wanted],
                         capture_output=True, text=True)  # fmt: skip
    if ref.returncode != 0:
        sys.exit(f"bench-compare: {args.ref!r} is no commit of this repository")
    with tempfile.TemporaryDirectory(prefix="bench-compare-") as scratch:
        tree = Path(scratch) / "ref"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(tree),
                        ref.stdout.strip()], check=True)  # fmt: skip
        try:
            runs: dict[str, list[dict[str, float]]] = {"ref": [], "here": []}
            failed: dict[str, list[str]] = {"ref": [], "here": []}
            for n in range(args.rounds):
                order = [("ref", tree), ("here", ROOT)]
                for label, root in order if n % 2 == 0 else order[::-1]:
                    out = Path(scratch) / f"{label}-{n}.json"
                    figures, failures = measure(root, args.only, args.quick, out)
                    runs[label].append(figures)
                    failed[label] += failures
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
                           check=False)  # fmt: skip
    names = sorted(set().union(*runs["ref"], *runs["here"]))
    print(f"\n{'figure':<40}{args.ref[:12]:>14}{'this tree':>14}{'this/ref':>10}")
    for name in names:
        values = {k: [r[name] for r in runs[k] if name in r] for k in runs}
        shown = {k: _median(v, args.rounds) for k, v in values.items()}
        ratio = ""
        if values["ref"] and values["here"] and statistics.median(values["ref"]):
            ratio = f"{statistics.median(values['here']) / statistics.median(values['ref']):.2f}"
        print(f"{name:<40}{shown['ref']:>14}{shown['here']:>14}{ratio:>10}")
    print(f"(medians of {args.rounds} rounds, in turns, or of the (n) rounds a benchmark "
          "passed; figures ending _x are ratios already)")  # fmt: skip
    for label, tree_name in (("ref", args.ref), ("here", "this tree")):
        for bench in sorted(set(failed[label])):
            times = failed[label].count(bench)
            print(f"FAILED on {tree_name}: {bench} ({times} of {args.rounds} rounds; left out)")
    if failed["ref"] or failed["here"]:
        sys.exit(1)


def _median(values: list[float], rounds: int) -> str:
    """The median, with how many rounds it is of when some failed; '-' when all did."""
    if not values:
        return "-"
    return f"{statistics.median(values):.3f}" + (
        f" ({len(values)})" if len(values) < rounds else ""
    )


if __name__ == "__main__":
    main()
