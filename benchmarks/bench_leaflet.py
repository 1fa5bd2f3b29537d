#!/usr/bin/env python3
"""One leaflet, three ways, side by side in one run (medians; the machine is noisy):

1. warm: one Renderer in this process renders every leaflet (what batches will use);
2. cold: one `weasyprint` process per leaflet, on the same HTML and stylesheets;
3. cli: one `generate.py leaflet` call, start-up included (what a secretary waits for).

Targets (issue 2): warm at least 4x faster than cold; the CLI call under 1.5 s wall.
Run: make bench   (or .venv/bin/python benchmarks/bench_leaflet.py --leaflets 12)
"""

from __future__ import annotations

import argparse
import atexit
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import time as clock_time
from datetime import timedelta
from pathlib import Path

from clinic_day import clinic_date
from figures import ROOT, record

sys.path.insert(0, str(ROOT))

from leafletpress.common.project import LAYOUTS, Project
from leafletpress.content.leaflet import load_leaflet
from leafletpress.content.registry import load_registry
from leafletpress.pdf.render import Renderer, tune_gc
from leafletpress.visit.appointment import make_visit
from leafletpress.visit.personalise import personalise

COMBOS = [  # (variant, site, surgeon)
    ("decompressie", "augustinus", "verbeeck"),
    ("heupprothese", "cadix", "claes"),
    ("osteotomie", "palfijn", "el-amrani"),
    ("heupprothese", "augustinus", "wouters"),
]


def visits(count: int):
    project = Project(ROOT)
    registry = load_registry(project)
    leaflet = load_leaflet(project, "avn-hip")
    day = clinic_date(14)
    for i in range(count):
        variant, site, surgeon = COMBOS[i % len(COMBOS)]
        visit = make_visit(
            name=f"Patiënt {i:03d}", reference=f"BENCH-{i:03d}", leaflet="avn-hip",
            variant=variant, site=site, surgeon=surgeon, date=day + timedelta(days=i % 3),
            time=clock_time(7 + i % 9, 15 * (i % 4)),
        )  # fmt: skip
        yield personalise(visit, leaflet, registry)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leaflets", type=int, default=8, help="leaflets per method")
    parser.add_argument("--cli-runs", type=int, default=5, help="generate.py calls to time")
    parser.add_argument("--format", default="a5", choices=sorted(LAYOUTS))
    args = parser.parse_args()

    project = Project(ROOT)
    tune_gc()  # as generate.py does
    renderer = Renderer(project, load_registry(project))
    people = list(visits(args.leaflets))
    work = Path(tempfile.mkdtemp(prefix="leafletpress-bench-"))
    atexit.register(shutil.rmtree, work, ignore_errors=True)  # however the run ends

    # 1 and 2, interleaved so both see the same machine noise: the warm renderer makes a
    # leaflet (HTML and PDF), then a fresh `weasyprint` process renders that same HTML with the
    # same stylesheets and assets. The first warm call only warms up.
    renderer.render(people[0], args.format)
    weasyprint = Path(sys.executable).with_name("weasyprint")
    command = [str(weasyprint), "-q", "-u", renderer.base_url]
    for sheet in ("leaflet.css", *LAYOUTS[args.format]):
        command += ["-s", str(project.styles_dir / sheet)]
    warm, cold, pages, warm_bytes, cold_bytes = [], [], [], [], []
    for i, p in enumerate(people):
        started = time.perf_counter()
        result = renderer.render(p, args.format)
        warm.append(time.perf_counter() - started)
        pages.append(result.pages)
        warm_bytes.append(len(result.pdf))

        source, target = work / f"{i}.html", work / f"{i}.pdf"
        source.write_text(renderer.composer.whole(p), encoding="utf-8")
        started = time.perf_counter()
        subprocess.run([*command, str(source), str(target)], check=True)
        cold.append(time.perf_counter() - started)
        cold_bytes.append(target.stat().st_size)

    # 3. the secretary's command, start-up included.
    cli = []
    for i in range(args.cli_runs):
        command = [
            sys.executable, str(ROOT / "generate.py"), "leaflet", "avn-hip",
            "--variant", "heupprothese", "--site", "cadix", "--surgeon", "claes",
            "--date", clinic_date(14).isoformat(), "--time", "08:30",
            "--patient", "Bench Patiënt", "--reference", f"CLI-{i}", "--out-dir", str(work),
        ]  # fmt: skip
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        cli.append(time.perf_counter() - started)

    med = statistics.median
    ratio = med(c / w for c, w in zip(cold, warm, strict=True))
    print(f"leafletpress benchmark: {args.leaflets} AVN leaflets ({args.format.upper()}), "
          f"{args.cli_runs} CLI calls, medians")  # fmt: skip
    print(f"{'method':<34}{'s/leaflet':>10}{'pages':>7}{'kB':>8}")
    print(f"{'warm renderer (one process)':<34}{med(warm):>10.3f}{med(pages):>7.0f}"
          f"{med(warm_bytes) / 1024:>8.1f}")  # fmt: skip
    print(f"{'weasyprint process per leaflet':<34}{med(cold):>10.3f}{med(pages):>7.0f}"
          f"{med(cold_bytes) / 1024:>8.1f}")  # fmt: skip
    print(f"{'generate.py leaflet (wall)':<34}{med(cli):>10.3f}")
    print(f"warm vs process-per-leaflet: {ratio:.2f}x faster, median of paired runs (target >= 4x: "
          f"{'met' if ratio >= 4 else 'NOT met'})")  # fmt: skip
    print(f"generate.py leaflet: {med(cli):.2f} s wall (target <= 1.5 s: "
          f"{'met' if med(cli) <= 1.5 else 'NOT met'})")  # fmt: skip
    record("leaflet", {"warm_s": med(warm), "cold_s": med(cold), "warm_vs_cold_x": ratio,
                       "generate_leaflet_s": med(cli)})  # fmt: skip


if __name__ == "__main__":
    main()
