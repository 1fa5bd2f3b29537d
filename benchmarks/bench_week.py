"""A secretary's daily loop (issue 24), against the real server (`make serve`'s gunicorn and
workers) in a scratch data folder, side by side in one run:

1. Find a leaflet by reference, and by name: from posting the search to the results page
   (medians of 10).
2. Reprint it: its PDF downloaded from the day (medians of 10).
3. Correct one row of a 200-row day: the corrected list uploaded and checked (the page says
   what changed), then from the click on "Vervang de vorige lijst" until the day is done:
   target under 5 s; beside making the whole day (from its click), and the ratio.

Run: `.venv/bin/python benchmarks/bench_week.py` (about 2 minutes; `--quick` for 50 rows).
"""

from __future__ import annotations

import atexit
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from figures import ROOT, record

sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_web import BASE, serving, session, web_day
from clinic_day import clinic_date, clinic_day


def timed(action: object, times: int = 10) -> float:
    seconds = []
    for _ in range(times):
        started = time.perf_counter()
        action()  # type: ignore[operator]
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds)


def main() -> None:
    if "--help" in sys.argv:
        print(__doc__)
        return
    rows = 50 if "--quick" in sys.argv else 200
    scratch = Path(tempfile.mkdtemp(prefix="bench-week-"))
    atexit.register(shutil.rmtree, scratch, ignore_errors=True)  # however the run ends
    with serving(scratch, ["sec0"]):
        web = session("sec0")
        text = clinic_day(rows, clinic_date(40))
        listing = scratch / "dag.csv"
        listing.write_text(text, encoding="utf-8")
        _, whole, url = web_day(web, listing)

        token = {"csrfmiddlewaretoken": web.cookies["csrftoken"]}
        wanted = f"BENCH-{rows // 2:05d}"  # a patient halfway the list (also with --quick)
        found = web.post(f"{BASE}/zoek/", token | {"zoek": wanted})
        assert "1 folder gevonden" in found.text, found.text[:500]
        by_reference = timed(lambda: web.post(f"{BASE}/zoek/", token | {"zoek": wanted}))
        name = re.search(rf"{wanted};([^;]+);", text)[1]  # type: ignore[index]
        by_name = timed(lambda: web.post(f"{BASE}/zoek/", token | {"zoek": name}))
        page = web.get(url).text
        download = re.search(r'href="(/dag/[^"]+/folder/\d+)"', page)[1]  # type: ignore[index]
        reprint = timed(lambda: web.get(BASE + download).content)

        lines = text.splitlines()
        lines[rows // 2] = re.sub(
            r";(\d+)u(\d\d)$", r";18u\2", lines[rows // 2]
        )  # one row, another hour
        listing.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
        check, corrected, fixed = web_day(web, listing, "dag verbeterd.csv")
        assert "1 folder gemaakt" in web.get(fixed).text

        print(f"daily loop, a day of {rows} rows, through the real server (seconds)")
        print(f"  find by reference (median of 10)          : {by_reference:.3f}")
        print(f"  find by name (median of 10)                : {by_name:.3f}")
        print(f"  reprint: its PDF downloaded (median of 10) : {reprint:.3f}")
        print(f"  the whole day made                          : {whole:.1f}")
        ratio = corrected / whole
        print(f"  one row corrected: upload to check page {check:.1f}; click to made "
              f"{corrected:.1f} (target < 5 s; {ratio:.2f}x the whole day)")  # fmt: skip
        record("week", {"find_by_reference_s": by_reference, "find_by_name_s": by_name,
                        "reprint_s": reprint, "whole_day_s": whole, "correction_s": corrected,
                        "correction_vs_day_x": ratio})  # fmt: skip


if __name__ == "__main__":
    main()
