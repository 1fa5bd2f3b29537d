"""Clinic-day batch, end to end, against the naive way, in one run. Prints figures.

1. `generate.py batch` on a generated day of --rows appointments (and of --big-rows, for
   memory), as a secretary runs it: wall time and leaflets per second (a run of its own),
   peak memory of the whole process tree (another run, sampled every 20 ms: RSS summed, and
   PSS, which counts the pages workers share with the process they are forked from once),
   print-file size against the sum of the patient PDFs.
2. The naive way on the same day: for each patient, the complete leaflet HTML rendered by a
   fresh `weasyprint` process, one after the other, then merged per campus with pypdf.
   --naive-rows N renders only the first N patients and scales the time up (stated in the
   output); by default every patient is rendered.

Targets (issue 28, 2 cores): >= 20x the naive way, 1,000 rows as fast per leaflet as 200,
peak memory < 500 MB, print file no larger than the PDFs together.
Run: make bench   (or .venv/bin/python benchmarks/bench_batch.py --help)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import date
from pathlib import Path

import psutil
from clinic_day import clinic_date, clinic_day
from figures import ROOT, record
from pypdf import PdfReader, PdfWriter

sys.path.insert(0, str(ROOT))

from leafletpress.common.project import LAYOUTS, Project
from leafletpress.content.registry import load_registry
from leafletpress.pdf.compose import Composer
from leafletpress.visit.daylist import read_day_list
from leafletpress.visit.plan import plan


def run_batch(listing: Path, out: Path) -> dict[str, float]:
    """The real CLI in a subprocess, twice: once timed, alone; once with its peak memory
    summed over the process tree. (Reading every process's memory each 20 ms took a core's
    share: with PSS the day took 16-27% longer, with RSS alone 5%.)"""
    wall = _batch(listing, out / "timed", sample=False)["wall"]
    return {**_batch(listing, out / "sampled", sample=True), "wall": wall}


def _batch(listing: Path, out: Path, sample: bool) -> dict[str, float]:
    command = [sys.executable, str(ROOT / "generate.py"), "batch", str(listing), "-q",
               "--out-dir", str(out)]  # fmt: skip
    # Its messages go to a file: a pipe read only at the end filled up with a day's warnings
    # (a clinic on a Saturday) and stopped the batch for good
    messages = out.with_name(out.name + "-stderr.txt")
    messages.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with messages.open("wb") as stderr:
        process = psutil.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr)
        peak, peak_pss = _wait(process, sample)
    wall = time.perf_counter() - started
    if process.returncode != 0:
        sys.exit(f"batch failed:\n{messages.read_text(encoding='utf-8', errors='replace')}")
    folder = next(p for p in out.iterdir() if p.is_dir())  # the day; the list's folder in it
    [listed] = folder.glob("*/manifest.json")
    manifest = json.loads(listed.read_text(encoding="utf-8"))
    leaflets = sum((folder / r["file"]).stat().st_size for r in manifest["leaflets"])
    prints = sum((listed.parent / p["file"]).stat().st_size for p in manifest["print_files"])
    return {"wall": wall, "peak_mb": peak / 2**20, "pss_mb": peak_pss / 2**20,
            "leaflets_bytes": leaflets,
            "print_bytes": prints, "rows": len(manifest["leaflets"])}  # fmt: skip


def _wait(process: psutil.Popen, sample: bool) -> tuple[int, int]:
    """Until ``process`` ends; with ``sample``, the peak of its tree's memory (RSS and PSS
    summed), read every 20 ms."""
    peak = peak_pss = 0
    while process.poll() is None:
        total = proportional = 0
        try:
            for p in [process, *process.children(recursive=True)] if sample else []:
                memory = p.memory_full_info()
                total, proportional = total + memory.rss, proportional + memory.pss
        except psutil.Error:
            pass
        peak, peak_pss = max(peak, total), max(peak_pss, proportional)
        time.sleep(0.02)
    return peak, peak_pss


def run_naive(listing: Path, work: Path, limit: int | None) -> tuple[float, int]:
    """One `weasyprint` process per leaflet on the whole-leaflet HTML, then a pypdf merge."""
    project = Project(ROOT)
    registry = load_registry(project)
    entries = plan(read_day_list(listing, project), project, registry, date.today()).entries
    done = entries[:limit] if limit else entries
    composer = Composer(project, registry)
    weasyprint = Path(sys.executable).with_name("weasyprint")
    command = [str(weasyprint), "-q", "-u", project.root.resolve().as_uri() + "/"]
    for sheet in ("leaflet.css", *LAYOUTS["a5"]):
        command += ["-s", str(project.styles_dir / sheet)]
    started = time.perf_counter()
    by_site: dict[str, list[Path]] = defaultdict(list)
    for i, entry in enumerate(done):
        source, target = work / f"{i}.html", work / f"{i}.pdf"
        source.write_text(composer.whole(entry.p), encoding="utf-8")
        subprocess.run([*command, str(source), str(target)], check=True)
        by_site[entry.p.visit.site].append(target)
    for site, files in by_site.items():
        writer = PdfWriter()
        for file in files:
            writer.append(PdfReader(file))
        with open(work / f"print-{site}.pdf", "wb") as handle:
            writer.write(handle)
    return time.perf_counter() - started, len(done)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--big-rows", type=int, default=1000, help="0 to skip")
    parser.add_argument("--naive-rows", type=int, default=0, help="0: all rows")
    args = parser.parse_args()
    day = clinic_date(14)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        listings = {}
        for rows in {args.rows, args.big_rows} - {0}:
            listings[rows] = work / f"day-{rows}.csv"
            listings[rows].write_text(clinic_day(rows, day), encoding="utf-8")
        batch = run_batch(listings[args.rows], work / "batch")
        big = run_batch(listings[args.big_rows], work / "big") if args.big_rows else None
        (work / "naive").mkdir()
        naive_wall, naive_done = run_naive(
            listings[args.rows], work / "naive", args.naive_rows or None
        )
    naive_total = naive_wall * args.rows / naive_done
    rate = args.rows / batch["wall"]
    print(f"clinic day of {args.rows} rows (A5, 3 campuses, 3 variants, 5 surgeons)")
    print(f"  leafletpress batch : {batch['wall']:6.1f} s wall   {rate:5.1f} leaflets/s"
          f"   peak memory {batch['peak_mb']:5.0f} MB (PSS {batch['pss_mb']:.0f} MB)")  # fmt: skip
    scaled = "" if naive_done == args.rows else f" (measured on {naive_done}, scaled)"
    print(f"  naive              : {naive_total:6.1f} s wall   "
          f"{args.rows / naive_total:5.1f} leaflets/s{scaled}")  # fmt: skip
    print(f"  speed-up           : {naive_total / batch['wall']:6.1f}x")
    print(f"  print files        : {batch['print_bytes'] / 1e6:6.2f} MB for "
          f"{batch['leaflets_bytes'] / 1e6:.2f} MB of patient PDFs "
          f"({batch['print_bytes'] / batch['leaflets_bytes']:.0%})")  # fmt: skip
    if big:
        print(f"clinic day of {args.big_rows} rows")
        print(f"  leafletpress batch : {big['wall']:6.1f} s wall   "
              f"{args.big_rows / big['wall']:5.1f} leaflets/s   peak memory "
              f"{big['peak_mb']:5.0f} MB (PSS {big['pss_mb']:.0f} MB; "
              f"{big['peak_mb'] / batch['peak_mb']:.2f}x the {args.rows}-row day)")  # fmt: skip
    print("targets: >= 20x naive, 1,000 rows as fast per leaflet as 200, < 500 MB, "
          "print <= PDFs")  # fmt: skip
    figures = {"day_s": batch["wall"], "day_per_s": rate, "naive_s": naive_total,
               "vs_naive_x": naive_total / batch["wall"], "peak_mb": batch["peak_mb"],
               "peak_pss_mb": batch["pss_mb"],
               "print_vs_pdfs_x": batch["print_bytes"] / batch["leaflets_bytes"]}  # fmt: skip
    if big:
        figures |= {"big_day_s": big["wall"], "big_peak_mb": big["peak_mb"],
                    "big_peak_pss_mb": big["pss_mb"],
                    "big_vs_day_per_leaflet_x": (big["wall"] / args.big_rows)
                    / (batch["wall"] / args.rows)}  # fmt: skip
    record("batch", figures)


if __name__ == "__main__":
    main()
