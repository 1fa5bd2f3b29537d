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

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_web import BASE, PASSWORD, PORT, session  # noqa: E402
from clinic_day import clinic_day  # noqa: E402


def made(web: requests.Session, listing: Path, name: str) -> tuple[float, float, str]:
    """Upload (to the check page), then make until done (from the click on "Maak"): seconds
    of each, and the day's URL."""
    started = time.perf_counter()
    with listing.open("rb") as file:
        checked = web.post(f"{BASE}/dag/", files={"lijst": (name, file)},
                           data={"csrfmiddlewaretoken": web.cookies["csrftoken"]})  # fmt: skip
    assert checked.status_code == 200, checked.text[:500]
    check = time.perf_counter() - started
    url = checked.url
    started = time.perf_counter()
    shown = re.search(r'name="vervangt" value="([^"]*)"', checked.text)  # the first button
    web.post(url + "maak", {"edition": "a5", "vervangt": shown[1] if shown else "",
                            "csrfmiddlewaretoken": web.cookies["csrftoken"]})  # fmt: skip
    while "<h2>Klaar</h2>" not in (progress := web.get(url + "voortgang").text):
        assert "mislukt" not in progress, progress[:500]
        time.sleep(0.1)
    return check, time.perf_counter() - started, url


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
    env = os.environ | {"LEAFLETPRESS_DATA": str(scratch / "data"),
                        "LEAFLETPRESS_ADDRESS": f"127.0.0.1:{PORT}"}  # fmt: skip
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], env=env, check=True, cwd=ROOT)
    subprocess.run([*manage, "maak_account", "sec0", "--rol", "secretariaat"], check=True,
                   env=env | {"LEAFLETPRESS_WACHTWOORD": PASSWORD}, cwd=ROOT,
                   capture_output=True)  # fmt: skip
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    server = subprocess.Popen([sys.executable, "-m", "leafletpress.web.serve"], env=env,
                              cwd=ROOT, **quiet)  # fmt: skip
    try:
        for _ in range(100):
            try:
                requests.get(f"{BASE}/aanmelden/", timeout=5)
                break
            except requests.RequestException:  # not up yet
                time.sleep(0.2)
        web = session("sec0")
        text = clinic_day(rows, date.today() + timedelta(days=40))
        listing = scratch / "dag.csv"
        listing.write_text(text, encoding="utf-8")
        _, whole, url = made(web, listing, "dag.csv")

        token = {"csrfmiddlewaretoken": web.cookies["csrftoken"]}
        found = web.post(f"{BASE}/zoek/", token | {"zoek": "BENCH-00100"})
        assert "1 folder gevonden" in found.text, found.text[:500]
        by_reference = timed(lambda: web.post(f"{BASE}/zoek/", token | {"zoek": "BENCH-00100"}))
        name = re.search(r"BENCH-00100;([^;]+);", text)[1]  # type: ignore[index]
        by_name = timed(lambda: web.post(f"{BASE}/zoek/", token | {"zoek": name}))
        page = web.get(url).text
        download = re.search(r'href="(/dag/[^"]+/folder/\d+)"', page)[1]  # type: ignore[index]
        reprint = timed(lambda: web.get(BASE + download).content)

        lines = text.splitlines()
        lines[100] = re.sub(r";(\d+)u(\d\d)$", r";18u\2", lines[100])  # one row, another hour
        listing.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
        check, corrected, fixed = made(web, listing, "dag verbeterd.csv")
        assert "1 folder gemaakt" in web.get(fixed).text

        print(f"daily loop, a day of {rows} rows, through the real server (seconds)")
        print(f"  find by reference (median of 10)          : {by_reference:.3f}")
        print(f"  find by name (median of 10)                : {by_name:.3f}")
        print(f"  reprint: its PDF downloaded (median of 10) : {reprint:.3f}")
        print(f"  the whole day made                          : {whole:.1f}")
        ratio = corrected / whole
        print(f"  one row corrected: upload to check page {check:.1f}; click to made "
              f"{corrected:.1f} (target < 5 s; {ratio:.2f}x the whole day)")  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=60)


if __name__ == "__main__":
    main()
