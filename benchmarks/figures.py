"""What every benchmark shares: the tree it measures, and where its figures go.

``ROOT`` is this checkout, or the tree ``LEAFLETPRESS_BENCH_ROOT`` names: `make bench-compare`
(compare.py) measures another commit with these same scripts. ``record`` keeps a script's
figures for run.py, which writes them to benchmarks/results/<commit>.json; run on its own, a
script only prints them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

ROOT = Path(os.environ.get("LEAFLETPRESS_BENCH_ROOT") or Path(__file__).resolve().parent.parent)
RESULTS = "LEAFLETPRESS_BENCH_RESULTS"  # the file run.py collects a script's figures in


def record(bench: str, figures: dict[str, float]) -> None:
    """Keep ``figures`` (name -> value; names say the unit: _s, _mb, _x, _per_s) of ``bench``."""
    target = os.environ.get(RESULTS)
    if not target:
        return
    path = Path(target)
    found = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    found[bench] = {name: round(value, 4) for name, value in figures.items()}
    part = path.with_name(path.name + ".part")
    part.write_text(json.dumps(found, indent=2, sort_keys=True), encoding="utf-8")
    part.replace(path)  # whole or not at all, even if the script is killed meanwhile
