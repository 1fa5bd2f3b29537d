"""The editors' loop (issue 26), against the real server (`make serve`'s gunicorn and workers)
on a scratch data folder and a copy of the example content.

After each edit, as the editor's script asks it (a new word each time, so no layout is
reused): the save; the check with the reading-level report; the preview until page 1's image
has arrived (target: median under 1.5 s on 2 cores), and until every page's image has. Then
a draft's review page (the text's differences and both versions' pages, made side by side).

Run: `.venv/bin/python benchmarks/bench_editor.py` (about a minute; `--edits N`, default 15).
"""

from __future__ import annotations

import atexit
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests
from figures import ROOT, record

sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_web import BASE, p95, serving, session

PATH = "leaflets/avn-hip/nl.md"
CHOICE = {"variant": "heupprothese", "moment": "voor", "edition": "a5"}


def edit_once(web: requests.Session, text: str, revision: int) -> tuple[dict[str, float], dict]:
    """One edit as the editor's script sends it: save, check, preview; seconds of each."""
    took = {}
    started = time.perf_counter()
    saved = web.post(f"{BASE}/inhoud/bewaar", json={"path": PATH, "text": text,
                     "revision": revision}, timeout=60)  # fmt: skip
    saved.raise_for_status()
    took["save"] = time.perf_counter() - started
    started = time.perf_counter()
    web.post(f"{BASE}/inhoud/controle", {"path": PATH, "text": text}, timeout=60).raise_for_status()
    took["check"] = time.perf_counter() - started
    started = time.perf_counter()
    made = web.post(f"{BASE}/inhoud/voorbeeld", {"path": PATH, "text": text, **CHOICE},
                    timeout=60).json()  # fmt: skip
    web.get(f"{BASE}/inhoud/voorbeeld/{made['sleutel']}/1.png", timeout=60).raise_for_status()
    took["page 1"] = time.perf_counter() - started
    for page in range(2, made["paginas"] + 1):
        web.get(f"{BASE}/inhoud/voorbeeld/{made['sleutel']}/{page}.png", timeout=60)
    took["whole leaflet"] = time.perf_counter() - started
    return took, saved.json()


def main() -> None:
    if "--help" in sys.argv:
        print(__doc__)
        return
    edits = int(sys.argv[sys.argv.index("--edits") + 1]) if "--edits" in sys.argv else 15
    scratch = Path(tempfile.mkdtemp(prefix="bench-editor-"))
    atexit.register(shutil.rmtree, scratch, ignore_errors=True)  # however the run ends
    with serving(scratch, ["redacteur"], role="redactie"):
        web = session("redacteur")
        original = (scratch / "inhoud" / PATH).read_text(encoding="utf-8")
        figures: dict[str, list[float]] = {}
        revision = 0
        for number in range(edits + 1):
            text = original.replace("kogelgewricht", f"kogelgewricht{number}", 1)
            took, saved = edit_once(web, text, revision)
            revision = saved["revisie"]
            if number:  # the first one warms the server
                for name, seconds in took.items():
                    figures.setdefault(name, []).append(seconds)
        started = time.perf_counter()
        web.get(f"{BASE}/inhoud/bewerk/{PATH}", timeout=60).raise_for_status()
        opened = time.perf_counter() - started
        started = time.perf_counter()
        web.get(f"{BASE}/inhoud/concept/{saved['concept']}/", timeout=60).raise_for_status()
        reviewed = time.perf_counter() - started
    print(f"The editor's loop, {edits} edits of the AVN leaflet (nl), medians and p95:")
    for name, values in figures.items():
        print(f"  {name:14} {statistics.median(values):.2f} s median, {p95(values):.2f} s p95")
    page_one = statistics.median(figures["page 1"])
    print(
        f"  target: page 1 under 1.5 s: {'met' if page_one < 1.5 else 'NOT met'} "
        f"({page_one / 1.5:.2f}x the target)"
    )
    print(
        f"  the editor page opens in {opened:.2f} s; a draft's review page (the differences, "
        f"both versions' pages) in {reviewed:.2f} s"
    )
    record("editor", {"page_1_median_s": page_one, "editor_opens_s": opened,
                      "review_opens_s": reviewed})  # fmt: skip


if __name__ == "__main__":
    main()
