"""The web app, measured as secretaries use it, against the real server (`make serve`'s
gunicorn and worker) in a scratch data folder.

The server is `make serve`'s: gunicorn and one worker per core, which share each day.

1. Submit to preview: from posting the one-patient form until page 1's image has arrived;
   one user, then 5 at once (medians and p95).
2. A clinic day of 200 rows through the web (upload, make, poll until done) against the CLI's
   `batch` on the same list (target <= 1.2x).
3. Memory of the web server and the worker over a day of 1,000 rows (peak RSS of each process
   tree).

Run: `.venv/bin/python benchmarks/bench_web.py` (about 10 minutes; `--quick` for 50/100 rows).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import psutil
import requests
from figures import ROOT, record

sys.path.insert(0, str(ROOT / "benchmarks"))
from clinic_day import clinic_date, clinic_day

PORT = 8765
BASE = f"http://127.0.0.1:{PORT}"
PASSWORD = "Bench-folders-2026"
FORM = {
    "moment": "voor", "leaflet": "avn-hip", "variant": "heupprothese", "site": "cadix",
    "surgeon": "claes", "time": "8u30", "name": "Marie Peeters", "lang": "nl", "edition": "a5",
}  # fmt: skip


def session(user: str) -> requests.Session:
    web = requests.Session()
    web.get(f"{BASE}/aanmelden/")
    web.post(f"{BASE}/aanmelden/", {"username": user, "password": PASSWORD,
             "csrfmiddlewaretoken": web.cookies["csrftoken"]})  # fmt: skip
    web.headers["X-CSRFToken"] = web.cookies["csrftoken"]
    return web


def preview_seconds(web: requests.Session, number: int) -> float:
    """Post the form; follow to the leaflet's page; fetch page 1's image."""
    day = clinic_date(30).strftime("%d/%m/%Y")
    form = FORM | {"date": day, "reference": f"BENCH-{number}",
                   "csrfmiddlewaretoken": web.cookies["csrftoken"]}  # fmt: skip
    started = time.perf_counter()
    page = web.post(f"{BASE}/folder/", form)
    image = re.search(r'src="(/folder/[0-9a-f-]+/pagina/1\.png)"', page.text)
    assert page.status_code == 200 and image, page.text[:500]
    assert web.get(BASE + image.group(1)).headers["Content-Type"] == "image/png"
    return time.perf_counter() - started


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, round(0.95 * len(values)) - 1)]


class Peak(threading.Thread):
    """Peak RSS of a process and its children, sampled every 50 ms."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.process, self.peak, self.running = psutil.Process(pid), 0, True

    def run(self) -> None:
        while self.running:
            try:
                tree = [self.process, *self.process.children(recursive=True)]
                self.peak = max(self.peak, sum(p.memory_info().rss for p in tree))
            except psutil.Error:
                pass
            time.sleep(0.05)


def web_day(
    web: requests.Session, listing: Path, name: str = "dag.csv"
) -> tuple[float, float, str]:
    """Upload (until the check page), then make as its first button says (a corrected list
    replaces the earlier one) until the day's page says it is done: seconds of each, and the
    day's URL."""
    started = time.perf_counter()
    with listing.open("rb") as file:
        checked = web.post(f"{BASE}/dag/", files={"lijst": (name, file)},
                           data={"csrfmiddlewaretoken": web.cookies["csrftoken"]})  # fmt: skip
    assert checked.status_code == 200, checked.text[:500]
    check, started, url = time.perf_counter() - started, time.perf_counter(), checked.url
    shown = re.search(r'name="vervangt" value="([^"]*)"', checked.text)
    made = web.post(url + "maak", {"edition": "a5", "vervangt": shown[1] if shown else "",
                                   "csrfmiddlewaretoken": web.cookies["csrftoken"]})  # fmt: skip
    assert made.status_code == 200, made.status_code
    while "<h2>Klaar</h2>" not in (progress := web.get(url + "voortgang").text):
        assert "mislukt" not in progress, progress[:500]
        time.sleep(0.1)
    return check, time.perf_counter() - started, url


@contextlib.contextmanager
def serving(
    scratch: Path, accounts: list[str], role: str = "secretariaat"
) -> Iterator[subprocess.Popen[bytes]]:
    """`make serve`'s server (gunicorn and the workers) on a scratch data folder and a copy
    of the example content (as make serve's data/inhoud), with these accounts of ``role``,
    until the block ends."""
    content = scratch / "inhoud"
    for name in ("leaflets", "config"):
        shutil.copytree(ROOT / name, content / name, dirs_exist_ok=True)
    env = os.environ | {"LEAFLETPRESS_DATA": str(scratch / "data"),
                        "LEAFLETPRESS_PROJECT": str(content),
                        "LEAFLETPRESS_ADDRESS": f"127.0.0.1:{PORT}"}  # fmt: skip
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], env=env, check=True, cwd=ROOT)
    for user in accounts:
        subprocess.run([*manage, "maak_account", user, "--rol", role], check=True,
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
        yield server
    finally:
        server.terminate()
        server.wait(timeout=60)


def cli_day(listing: Path, out: Path) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, str(ROOT / "generate.py"), "batch", str(listing), "-q",
                    "--out-dir", str(out)], check=False, capture_output=True)  # fmt: skip
    return time.perf_counter() - started


def main() -> None:
    if "--help" in sys.argv:
        print(__doc__)
        return
    quick = "--quick" in sys.argv
    rows, big = (50, 100) if quick else (200, 1000)
    scratch = Path(tempfile.mkdtemp(prefix="bench-web-"))
    atexit.register(shutil.rmtree, scratch, ignore_errors=True)  # however the run ends
    with serving(scratch, [f"sec{i}" for i in range(5)]) as server:
        users = [session(f"sec{i}") for i in range(5)]
        preview_seconds(users[0], 0)  # warm the renderer of that gunicorn worker
        alone = [preview_seconds(users[0], n) for n in range(1, 9)]
        with ThreadPoolExecutor(5) as pool:
            crowd = list(pool.map(lambda n: preview_seconds(users[n % 5], 100 + n), range(20)))
        print("submit -> preview showing (page 1 image), seconds")
        print(f"  1 user      : median {statistics.median(alone):.2f}  p95 {p95(alone):.2f}")
        print(f"  5 at once   : median {statistics.median(crowd):.2f}  p95 {p95(crowd):.2f}")
        figures = {"preview_median_s": statistics.median(alone), "preview_p95_s": p95(alone),
                   "preview_5_median_s": statistics.median(crowd)}  # fmt: skip

        on = clinic_date(40)
        listing = scratch / "dag.csv"
        listing.write_text(clinic_day(rows, on), encoding="utf-8")
        cli = cli_day(listing, scratch / "cli")
        web = sum(web_day(users[0], listing)[:2])
        print(
            f"clinic day of {rows} rows: web {web:.1f} s, CLI {cli:.1f} s, "
            f"ratio {web / cli:.2f}x (target <= 1.2x)"
        )
        figures |= {"day_web_s": web, "day_cli_s": cli, "day_web_vs_cli_x": web / cli}

        parent = psutil.Process(server.pid)
        workers = [p for p in parent.children() if "werk" in p.cmdline()]
        gunicorn = next(p for p in parent.children() if "gunicorn" in " ".join(p.cmdline()))
        peaks = [Peak(p.pid) for p in [*workers, gunicorn]]
        for peak in peaks:
            peak.start()
        listing.write_text(clinic_day(big, on + timedelta(days=1)), encoding="utf-8")
        seconds = sum(web_day(users[1], listing)[:2])
        for peak in peaks:
            peak.running = False
        each = ", ".join(f"{p.peak / 2**20:.0f}" for p in peaks[:-1])
        big_cli = cli_day(listing, scratch / "cli-big")
        print(
            f"clinic day of {big} rows through the web: {seconds:.1f} s, CLI {big_cli:.1f} s, "
            f"ratio {seconds / big_cli:.2f}x (target <= 1.2x); peak memory: "
            f"{len(workers)} workers {each} MB, web server {peaks[-1].peak / 2**20:.0f} MB"
        )
        figures |= {"big_day_web_s": seconds, "big_day_cli_s": big_cli,
                    "big_day_web_vs_cli_x": seconds / big_cli,
                    "worker_peak_mb": max(p.peak for p in peaks[:-1]) / 2**20}  # fmt: skip
        record("web", figures)


if __name__ == "__main__":
    main()
