#!/usr/bin/env python3
"""`make bench`: the benchmarks in one run, and their figures in one file.

Runs each benchmark script (or those --only names) on a tree (this checkout, or --root), as
`python benchmarks/<script>`, and writes benchmarks/results/<commit>.json: the commit measured
(and whether its tree had changes), the machine (cores, processor, memory, Python), when, and
every figure each script recorded (figures.py), ratios included. Figures vary with the
machine; ratios taken in one run much less: compare commits with `make bench-compare`.

A script that fails (or is interrupted) does not stop the others, and none of its figures are
kept: the file names it under ``failed``. Only a complete run (every benchmark, full size,
none failed) is written as <commit>.json; any other names what it is (``_file_name``), beside
a complete run's file rather than over it. Each script runs in a process group of its own,
removed when it ends, so that servers a killed script started do not load the next one.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import signal
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
    """Each benchmark in turn on ``root``; the figures of those that passed, and the names of
    those that did not. Ctrl-C stops the one running and the rest (KeyboardInterrupt, with
    what was measured until then as its argument)."""
    figures: dict[str, dict[str, float]] = {}
    failed: list[str] = []
    with tempfile.TemporaryDirectory() as scratch:
        env = {
            **os.environ,
            "LEAFLETPRESS_BENCH_ROOT": str(root),
            "LEAFLETPRESS_KEY_FILE": str(Path(scratch) / "sleutel"),  # never a real one
        }
        for name in names:
            collected = Path(scratch) / f"{name}.json"
            extra = QUICK.get(name, []) if quick else []
            print(f"== {name} ({root})", flush=True)
            # In the tree measured: its relative paths are its own
            command = [sys.executable, str(HERE / SCRIPTS[name]), *extra]
            code = _run_alone(command, root, {**env, RESULTS: str(collected)})
            if code is None:
                raise KeyboardInterrupt((figures, [*failed, name]))
            if code != 0:
                print(f"== {name}: FAILED (exit {code}), its figures left out", flush=True)
                failed.append(name)
            elif collected.exists():
                figures.update(json.loads(collected.read_text(encoding="utf-8")))
    return figures, failed


def _run_alone(command: list[str], cwd: Path, env: dict[str, str]) -> int | None:
    """Run a benchmark in a process group of its own, then end whatever it left running; its
    exit code, or None if Ctrl-C stopped it."""
    process = subprocess.Popen(command, cwd=cwd, env=env, start_new_session=True)
    try:
        return process.wait()
    except KeyboardInterrupt:
        os.killpg(process.pid, signal.SIGINT)  # its own clean-up first, as with a Ctrl-C
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=15)
        return None
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", default=",".join(SCRIPTS), help="e.g. leaflet,batch")
    parser.add_argument("--root", type=Path, default=HERE.parent, help="the tree measured")
    parser.add_argument("--quick", action="store_true", help="smaller days, fewer runs")
    parser.add_argument("--out", type=Path, help="default: benchmarks/results/<commit>[-...].json")
    args = parser.parse_args()
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = sorted(set(names) - set(SCRIPTS))
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; known: {', '.join(SCRIPTS)}")
    head, changed = commit(args.root)
    started = datetime.now().astimezone()
    interrupted = False
    try:
        figures, failed = run(names, args.root.resolve(), args.quick)
    except KeyboardInterrupt as stop:  # between two benchmarks: nothing of the one stopped
        figures, failed = stop.args[0] if stop.args else ({}, list(names))
        interrupted = True
    result = {"commit": head, "changes": changed, "machine": machine(),
              "started": started.isoformat(timespec="seconds"), "quick": args.quick,
              "figures": figures, "failed": failed}  # fmt: skip
    out = args.out or HERE / "results" / _file_name(head, changed, names, args.quick, failed)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"figures: {out}")
    if interrupted:
        sys.exit(130)
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


def _file_name(head: str, changed: bool, names: list[str], quick: bool, failed: list[str]) -> str:
    """<commit>.json for a complete run; any other says what it is, so that it never takes
    the place of a complete one: <commit>-changed-quick-leaflet+batch-failed.json."""
    parts = [head, "changed" if changed else "", "quick" if quick else ""]
    parts += ["+".join(names) if set(names) != set(SCRIPTS) else "", "failed" if failed else ""]
    return "-".join(part for part in parts if part) + ".json"


if __name__ == "__main__":
    main()
