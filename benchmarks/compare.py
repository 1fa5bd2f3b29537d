#!/usr/bin/env python3
"""`make bench-compare REF=<commit>`: this checkout and REF, measured in turns, side by side.

REF is checked out in a temporary git worktree; the same benchmark scripts (this checkout's)
then measure both trees in turns, --rounds times (REF first, then this tree, then the other
way round: both see the same machine), with this checkout's Python environment. Printed: each
figure's median per tree and their ratio (this tree / REF). The result files go to
benchmarks/results/ as `make bench` writes them.
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


def measure(root: Path, only: str, quick: bool, out: Path) -> dict[str, float]:
    command = [sys.executable, str(HERE / "run.py"), "--root", str(root), "--only", only,
               "--out", str(out), *(["--quick"] if quick else [])]  # fmt: skip
    done = subprocess.run(command)
    if not out.exists():  # a benchmark that fails leaves "-" in the table; no file at all stops
        sys.exit(f"bench-compare: run.py on {root} wrote no figures (exit {done.returncode})")
    found = json.loads(out.read_text())["figures"]
    return {f"{bench}.{name}": value for bench, figures in found.items()
            for name, value in figures.items()}  # fmt: skip


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
            for n in range(args.rounds):
                order = [("ref", tree), ("here", ROOT)]
                for label, root in order if n % 2 == 0 else order[::-1]:
                    out = Path(scratch) / f"{label}-{n}.json"
                    runs[label].append(measure(root, args.only, args.quick, out))
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
                           check=False)  # fmt: skip
    names = sorted(set().union(*runs["ref"], *runs["here"]))
    print(f"\n{'figure':<40}{args.ref[:12]:>14}{'this tree':>14}{'this/ref':>10}")
    for name in names:
        values = {k: [r[name] for r in runs[k] if name in r] for k in runs}
        if not values["ref"] or not values["here"]:
            print(f"{name:<40}{'-':>14}{'-':>14}")
            continue
        a, b = statistics.median(values["ref"]), statistics.median(values["here"])
        print(f"{name:<40}{a:>14.3f}{b:>14.3f}{(b / a if a else float('nan')):>10.2f}")
    print(f"(medians of {args.rounds} rounds, in turns; figures ending _x are ratios already)")


if __name__ == "__main__":
    main()
