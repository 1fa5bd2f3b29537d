"""The audit manifest of a clinic day: which patient got which leaflet version, in which file.

Written as JSON (for programs, such as the email step) and as CSV (for Excel: semicolons and a
UTF-8 BOM, as Belgian Excel expects). Patients appear by reference only, never by name.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, time
from pathlib import Path
from typing import Any

from ..common.errors import InputError
from ..common.files import spreadsheet_cell, write_atomic

JSON_NAME = "manifest.json"
CSV_NAME = "manifest.csv"

# One row per line of the clinic-day list. `status`: made (rendered in this run), unchanged
# (made in an earlier run, same input), refused (bad row: see `problem`), failed (rendering
# failed). `print_page` is where the leaflet starts in `print_file`. `moment`: voor (before
# the operation) or ontslag (at discharge); `date` is the moment's day (the operation's, or
# the discharge's), `time` the operation's hour (none at discharge).
FIELDS = (
    "row",
    "row_key",
    "status",
    "reference",
    "date",
    "time",
    "moment",
    "operation_date",
    "followup_date",
    "followup_time",
    "followup_site",
    "site",
    "leaflet",
    "code",
    "version",
    "variant",
    "language",
    "file",
    "pages",
    "sha256",
    "print_file",
    "print_page",
    "warnings",
    "problem",
)


def write_manifest(
    folder: Path,
    batch: dict[str, Any],
    leaflets: list[dict[str, Any]],
    prints: list[dict[str, Any]],
) -> tuple[Path, Path]:
    """Write manifest.json and manifest.csv into ``folder`` (atomically, JSON last)."""
    text = io.StringIO()
    writer = csv.DictWriter(text, FIELDS, delimiter=";", extrasaction="raise")
    writer.writeheader()
    for record in leaflets:
        writer.writerow(
            {
                key: spreadsheet_cell("; ".join(value) if isinstance(value, list) else value)
                for key, value in record.items()
            }
        )
    csv_path, json_path = folder / CSV_NAME, folder / JSON_NAME
    write_atomic(csv_path, text.getvalue().encode("utf-8-sig"))
    document = {"batch": batch, "leaflets": leaflets, "print_files": prints}
    write_atomic(json_path, json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8"))
    return json_path, csv_path


def forget_refused(folder: Path) -> None:
    """After the retention period, a refused row's cells leave the kept manifests: they are as
    the list had them, and a name typed in the reference column would outlive the list. Its
    row number and that it was refused stay."""
    manifest = json.loads((folder / JSON_NAME).read_text(encoding="utf-8"))
    leaflets = [
        dict.fromkeys(FIELDS) | {"row": r["row"], "status": r["status"], "warnings": [],
                                 "problem": "geweigerd (gewist na de bewaartermijn)"}
        if r.get("status") == "refused" else r
        for r in manifest["leaflets"]
    ]  # fmt: skip
    if leaflets != manifest["leaflets"]:
        write_manifest(folder, manifest["batch"], leaflets, manifest["print_files"])


# What a program reading a manifest may count on (the email step does).
_BATCH_KEYS = {"date": str, "source_sha256": str}
_LEAFLET_KEYS = {"row": int, "status": str}
_MADE_KEYS = {key: str for key in ("reference", "file", "sha256", "code", "version", "language",
                                   "site", "date")}  # fmt: skip
MADE = ("made", "unchanged")  # statuses of a leaflet that is on disk
_UPWARDS = re.compile(r"\.\.?(/\.\.){0,3}")  # '.', '..', '../..': folders above, never elsewhere


def read_manifest(path: Path) -> dict[str, Any]:
    """A manifest.json (or the folder holding it), checked for the fields programs use: a
    damaged or hand-edited one is refused in one sentence, never half used."""
    if path.is_dir():
        path = path / JSON_NAME
    damaged = InputError(
        "is beschadigd of geen manifest van leafletpress",
        file=path,
        hint="maak de batch opnieuw met dezelfde lijst: het manifest wordt dan opnieuw geschreven",
    )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        raise damaged from None
    if not (isinstance(manifest, dict) and isinstance(manifest.get("batch"), dict)):
        raise damaged
    leaflets = manifest.get("leaflets")
    if not isinstance(leaflets, list) or not all(isinstance(r, dict) for r in leaflets):
        raise damaged
    checks = [(manifest["batch"], _BATCH_KEYS)] + [(r, _LEAFLET_KEYS) for r in leaflets]
    checks += [(r, _MADE_KEYS) for r in leaflets if r.get("status") in MADE]
    for record, keys in checks:
        if not all(isinstance(record.get(k), kind) for k, kind in keys.items()):
            raise damaged
    try:
        for record in leaflets:
            if record["status"] in MADE:
                date.fromisoformat(record["date"])
                if record.get("moment", "voor") == "voor":  # at discharge: no hour
                    time.fromisoformat(record["time"])
    except (TypeError, ValueError):
        raise damaged from None
    for key in ("output_root", "pdf_folder"):  # where the send log and the PDFs are: up only
        value = manifest["batch"].get(key, ".")
        if not (isinstance(value, str) and _UPWARDS.fullmatch(value)):
            raise damaged
    return manifest
