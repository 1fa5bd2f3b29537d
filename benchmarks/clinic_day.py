"""A generated clinic day: N appointments with mixed variants, campuses and surgeons, and
the day to hold it on (``clinic_date``): an ordinary working day, so runs on different dates
measure the same work.

Usable on its own: `python benchmarks/clinic_day.py 200 > day.csv`.
"""

from __future__ import annotations

import csv
import io
import random
import sys
from datetime import date, timedelta

import holidays

FIRST = [
    "Marie",
    "Jan",
    "Luc",
    "Noor",
    "Fatima",
    "Willy",
    "Anneleen",
    "Jozef",
    "Sofie",
    "Björn",
    "Hélène",
    "Ünal",
    "Emma",
    "Lucas",
    "Mohamed",
    "Elif",
    "Lotte",
    "Pieter",
    "Chloé",
    "Arne",
]
LAST = [
    "Peeters",
    "Janssens",
    "Maes",
    "Jacobs",
    "Mertens",
    "Willems",
    "Claes",
    "Goossens",
    "Wouters",
    "De Smet",
    "Dubois",
    "Lambert",
    "Çelik",
    "El Idrissi",
    "Van Damme",
    "Vermeulen",
    "Aerts",
    "Hermans",
    "Lemmens",
    "O'Brien",
]
VARIANTS = ["decompressie", "heupprothese", "osteotomie"]
# Which surgeon operates where (config/surgeons.yaml).
TEAMS = {
    "augustinus": ["verbeeck", "el-amrani", "wouters"],
    "cadix": ["verbeeck", "claes", "wouters"],
    "palfijn": ["claes", "el-amrani", "wouters"],
}
HEADER = [
    "Referentie",
    "Naam",
    "Geboortedatum",
    "Folder",
    "Ingreep",
    "Chirurg",
    "Campus",
    "Datum",
    "Uur",
]


def clinic_date(days: int) -> date:
    """The first Tuesday at least ``days`` from today, or the first working day after it if it
    is a public holiday of the example hospital's calendar (Belgium). A weekend or a holiday
    gives every row a warning of its own: runs made on different dates measured more work.
    Not the demo's ``demo_date``: `make bench-compare` runs these scripts against older
    commits, whose engine may not have it as it is here."""
    day = date.today() + timedelta(days=days)
    day += timedelta(days=(1 - day.weekday()) % 7)
    closed = holidays.country_holidays("BE")
    while day.weekday() >= 5 or day in closed:
        day += timedelta(days=1)
    return day


def clinic_day(rows: int, on: date, seed: int = 7) -> str:
    """The day's list as CSV text (semicolons, Dutch headers, as a Belgian export)."""
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADER)
    for i in range(rows):
        site = rng.choice(list(TEAMS))
        minutes = 7 * 60 + rng.randrange(0, 36) * 15 + i % 15  # distinct per patient
        birth = date(1940, 1, 1) + timedelta(days=rng.randrange(0, 60 * 365))
        writer.writerow(
            [
                f"BENCH-{i + 1:05d}",
                f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                f"{birth:%d/%m/%Y}",
                "avn-hip",
                rng.choice(VARIANTS),
                rng.choice(TEAMS[site]),
                site,
                f"{on:%d/%m/%Y}",
                f"{minutes // 60}u{minutes % 60:02d}",
            ]
        )
    return out.getvalue()


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    sys.stdout.write(clinic_day(count, clinic_date(14)))
