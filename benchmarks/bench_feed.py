"""The appointment feed, measured: 1,000 SIU^S12 messages for one day sent over one MLLP
connection to the real listener (`make serve`'s: gunicorn, its workers, and `luister`), on a
scratch data folder.

Figures, in one run:
1. accepted: messages per second, from the first message sent until the last ACK came back
   (each stored in the database and on disk before its ACK), and the median and p95 of one
   message's round trip;
2. made: seconds from the last ACK until the day's list was built and every leaflet made
   (the day "klaar", 1,000 leaflets), and the leaflets per second that is;
3. the ratio of the two rates: above 1, the listener takes messages faster than the workers
   make leaflets, so it is never the bottleneck.

Run: `.venv/bin/python benchmarks/bench_feed.py` (a few minutes; `--rows 200` for fewer).
"""

from __future__ import annotations

import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from figures import ROOT, record

sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests"))
from bench_web import p95, serving
from clinic_day import clinic_date
from hl7.client import MLLPClient
from hl7messages import siu

FEED_PORT = 2599
FAMILIES = ("Peeters", "Janssens", "Maes", "Jacobs", "Mertens", "Willems", "Claes", "Goossens")
GIVEN = ("Marie", "Jan", "Lotte", "Youssef", "Ünal", "Léa", "Pieter", "Sofie")
SITES = (("AUG", "10231"), ("CAD", "10232"), ("PAL", "10233"))  # campus and one of its surgeons
PROCEDURES = ("ORT-AVN-FOR", "ORT-AVN-THP", "ORT-AVN-OST")


def messages(rows: int, day: date) -> list[str]:
    """One day's bookings: every campus, procedure and a spread of hours."""
    found = []
    for n in range(rows):
        site, surgeon = SITES[n % 3]
        start = day.strftime("%Y%m%d") + f"{7 + n % 10:02}{15 * (n % 4):02}"
        found.append(siu(
            "S12", f"BENCH-{n:05}", f"AFS-{n:05}", reference=f"ZAS-{200000 + n}",
            family=FAMILIES[n % 8], given=GIVEN[n // 8 % 8], procedure=PROCEDURES[n % 3],
            start=start, site=site, surgeon=surgeon, email=f"patient{n}@example.org",
        ))  # fmt: skip
    return found


def made(database: Path, rows: int) -> bool:
    """Whether the feed's day is made with every leaflet (read straight from SQLite)."""
    with sqlite3.connect(database, timeout=30) as db:
        found = db.execute("SELECT status, outcome FROM web_day WHERE feed != '' "
                           "ORDER BY created DESC LIMIT 1").fetchone()  # fmt: skip
    if found is None or found[0] != "klaar":
        return False
    counts = json.loads(found[1]).get("counts", {})
    return counts.get("made", 0) + counts.get("unchanged", 0) >= rows


def main() -> None:
    if "--help" in sys.argv:
        print(__doc__)
        return
    rows = int(sys.argv[sys.argv.index("--rows") + 1]) if "--rows" in sys.argv else 1000
    day = clinic_date(21)
    sent = messages(rows, day)
    os.environ["LEAFLETPRESS_FEED_ADDRESS"] = f"127.0.0.1:{FEED_PORT}"
    with tempfile.TemporaryDirectory() as folder, serving(Path(folder), []):
        time.sleep(2)  # the listener starts beside the server
        trips = []
        started = time.perf_counter()
        with MLLPClient("127.0.0.1", FEED_PORT) as client:
            for message in sent:
                before = time.perf_counter()
                ack = client.send_message(message).decode()
                trips.append(time.perf_counter() - before)
                assert "MSA|AA" in ack, ack
        accepted = time.perf_counter() - started
        last_ack = time.perf_counter()
        while not made(Path(folder) / "data" / "leafletpress.sqlite3", rows):
            time.sleep(0.5)
        making = time.perf_counter() - last_ack
    take, make = rows / accepted, rows / making
    print(f"feed, {rows} SIU^S12 messages for one day over one MLLP connection ({os.cpu_count()} "
          f"cores; workers: one per core)")  # fmt: skip
    median, slow = statistics.median(trips) * 1000, p95(trips) * 1000
    print(f"  accepted: {take:.0f} messages/s ({accepted:.1f} s in all); one message's round "
          f"trip median {median:.1f} ms, p95 {slow:.1f} ms")  # fmt: skip
    print(f"  made: every leaflet {making:.1f} s after the last ACK ({make:.1f} leaflets/s)")
    print(f"  the listener takes messages {take / make:.0f}x faster than the leaflets are made: "
          f"{'never the bottleneck' if take > make else 'THE BOTTLENECK'}")  # fmt: skip
    record("feed", {"accepted_per_s": take, "round_trip_median_ms": median,
                    "round_trip_p95_ms": slow, "made_after_last_ack_s": making,
                    "made_per_s": make, "listener_vs_making_x": take / make})  # fmt: skip


if __name__ == "__main__":
    main()
