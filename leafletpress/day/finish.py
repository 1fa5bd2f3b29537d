"""Finishing a day folder: the list's print files and manifest, built from the files on disk,
so a resumed day ends exactly as one that ran through.

Patients' PDFs are in the day folder (``output/<date>/``), findable by everyone's day; what
belongs to one list (print files, manifest, outbox) is in a folder of its own inside it,
named after the list's file (``output/<date>/<list>/``), so two clinics' lists for one day
never replace each other's print files or manifest.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections import defaultdict
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path
from typing import Any

from .. import __version__
from ..common.errors import LeafletpressError, OutputError, clipped
from ..common.files import own_folder, write_atomic
from ..common.keyed import keyed
from ..common.project import Edition
from ..content.registry import Registry
from ..pdf.compose import Composer
from ..visit.appointment import Visit, parse_date
from ..visit.daylist import DayList
from ..visit.plan import Entry, Plan, day_cell
from .manifest import FIELDS, JSON_NAME, read_manifest, write_manifest
from .workers import Result, print_task

PRINT_PREFIX = "print-"
CHANGES_SUFFIX = "-wijzigingen"  # print-<site>-wijzigingen.pdf: a correction's new leaflets
# A print file holds at most this many leaflets (about 300 sheets, a printer's paper tray);
# a bigger campus day gets print-<site>-1.pdf, -2, ... This also bounds the memory it takes.
PRINT_PART_LEAFLETS = 100

Part = tuple[str, str, list[Entry]]  # site, print file name, its leaflets in order


@dataclass
class Finished:
    """What finishing a day folder wrote and found."""

    names: set[str]  # the day's leaflet files, as the journal keeps them
    print_files: list[Path]
    manifests: tuple[Path, Path]  # JSON and CSV
    strays: list[Path]  # PDFs in the day folder that are on no list of that day


def source_path(listing: DayList, folder: Path) -> str:
    """Where the list is, from its folder: still right when both are moved together."""
    return os.path.relpath(listing.path.resolve(), folder.resolve())


def list_folder(day: Path, listing: DayList) -> Path:
    """The folder of a list's outputs inside the day folder: its file name, made safe; two
    different lists of one name (two clinics' 'export.csv', two sheets of one workbook) get
    'export', 'export-2', ... The manifest says which list a folder is for."""
    base = re.sub(r"[^A-Za-z0-9._-]+", "-", listing.path.stem).strip("-.") or "lijst"
    for number in range(1, 1000):
        folder = day / (base if number == 1 else f"{base}-{number}")
        try:
            batch = read_manifest(folder)["batch"] if (folder / JSON_NAME).exists() else None
        except LeafletpressError:
            batch = None  # a damaged manifest: this folder is taken over
        ours = (source_path(listing, folder), listing.source)
        if batch is None or (batch.get("source_path", ours[0]), batch.get("read_as")) == ours:
            return folder
    raise OutputError("te veel lijsten met dezelfde naam voor deze dag", file=day)


@dataclass
class DayFinisher:
    """Builds a day folder's print files and manifest from the files on disk."""

    day: DayList
    plan: Plan
    results: dict[int, Result]
    registry: Registry
    composer: Composer
    executor: Executor
    root: str
    edition: Edition
    separators: bool
    corrected: bool = False  # a corrected list: also print files of its new leaflets only
    code: str = ""  # journal.inputs_digest: styles, fonts and leafletpress's own code

    def __post_init__(self) -> None:
        self.row_keys = {row.number: row.key for row in self.day.rows}

    def __call__(self, day: Path, started: datetime, finished: datetime) -> Finished:
        """Finish the day folder ``day``: the list's outputs go to their own folder in it."""
        entries = [e for e in self.plan.entries if Path(e.file).parent.name == day.name]
        names = {Path(e.file).name for e in entries}
        folder = own_folder(list_folder(day, self.day), day)
        parts = self._parts(entries)
        if self.corrected:  # and a print file of what this correction made, per site
            made = [e for e in entries if self.results[e.row].status == "made"]
            parts += self._parts(made, CHANGES_SUFFIX)
        placed, prints = self._collect(folder, parts, self._submit(day, folder, parts))
        records = [self._record(e, placed.get(e.row)) for e in entries]
        records += self._refused(day.name)
        records.sort(key=lambda r: r["row"])
        batch = self._batch(folder, started, finished, records)
        manifests = write_manifest(folder, batch, records, prints)
        return Finished(names, [folder / p["file"] for p in prints], manifests, strays(day))

    def _batch(
        self, folder: Path, started: datetime, finished: datetime, records: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """The manifest's description of the whole run."""
        count: dict[str, int] = defaultdict(int)
        for record in records:
            count[record["status"]] += 1
        return {
            "source": self.day.path.name,
            "source_sha256": self.day.sha256,  # of the list as read, not as it is now
            "source_path": source_path(self.day, folder),  # which list this folder is for
            "read_as": self.day.source,
            "date": folder.parent.name,
            "pdf_folder": "..",  # from this folder: the day folder, with the patients' PDFs
            "output_root": "../..",  # from this folder: the send log of every day is there
            "started": started.isoformat(timespec="seconds"),
            "finished": finished.isoformat(timespec="seconds"),
            "leafletpress": __version__,
            "format": self.edition.name,
            "separator_sheets": self.separators,
            "hidden_rows": list(self.day.hidden_rows),  # in the list, hidden: not used
            "example": self.registry.example,  # the leaflets say VOORBEELD: never sent
            "counts": dict(sorted(count.items())),
        }

    def _parts(self, entries: list[Entry], tag: str = "") -> list[Part]:
        """Per site, its good leaflets in appointment order, cut into paper-tray sized parts;
        ``tag`` ends the print files' names."""
        good = [e for e in entries if self.results[e.row].status != "failed"]
        by_site: dict[str, list[Entry]] = defaultdict(list)
        for entry in sorted(good, key=lambda e: (e.p.visit.time or time.min, e.row)):
            by_site[entry.p.visit.site].append(entry)
        parts = []
        for site, items in sorted(by_site.items()):
            size = PRINT_PART_LEAFLETS
            chunks = [items[i : i + size] for i in range(0, len(items), size)]
            for number, chunk in enumerate(chunks, start=1):
                suffix = f"-{number}" if len(chunks) > 1 else ""
                parts.append((site, f"{PRINT_PREFIX}{site}{tag}{suffix}.pdf", chunk))
        return parts

    def _submit(self, day: Path, folder: Path, parts: list[Part]) -> list[Future[Any]]:
        """Start building every print file (in the workers, when there are any); one made
        before from the same leaflets, sheets and edition (by a run of this list, or by the
        list a correction replaces) is taken as it is."""
        futures, made = [], _made_prints(day)
        self.inputs: dict[str, str] = {}
        for site, name, items in parts:
            site_name = self.registry.sites[site].name
            sheets = None
            if self.separators:
                sheets = self.composer.separators(
                    site_name, f"{items[0].p.visit.day:%d/%m/%Y}", [self._sheet(e) for e in items]
                )
            leaflets = [str(day / Path(e.file).name) for e in items]
            title = f"{self.registry.hospital.name} · {site_name} · {day.name} · {name}"
            inputs = [self.code, self.edition.name, title, sheets or "",
                      *(self.results[e.row].sha256 for e in items)]  # fmt: skip
            text = "\x1f".join(inputs)  # keyed when the sheets name patients (F16)
            self.inputs[name] = keyed(text) if sheets else hashlib.sha256(text.encode()).hexdigest()
            if same := _reuse(made.get(self.inputs[name]), folder / name, day, len(items)):
                futures.append(same)
                continue
            args = (self.root, str(folder / name), leaflets, title, sheets, self.edition)
            futures.append(self.executor.submit(print_task, *args))
        return futures

    def _collect(
        self, folder: Path, parts: list[Part], futures: list[Future[Any]]
    ) -> tuple[dict[int, tuple[str, int]], list[dict[str, Any]]]:
        """Where each leaflet landed (row -> print file, first page), and the print files for
        the manifest. Print files of a site no longer on the list are removed."""
        placed: dict[int, tuple[str, int]] = {}
        prints = []
        for (site, name, items), future in zip(parts, futures, strict=True):
            pages, digest, firsts = future.result()
            changes = CHANGES_SUFFIX in name
            prints.append({"site": site, "file": name, "pages": pages, "sha256": digest,
                           "inputs": self.inputs[name], "firsts": firsts}
                          | ({"changes_only": True} if changes else {}))  # fmt: skip
            for entry, first in zip(items, firsts, strict=True):
                if not changes:  # where the leaflet is in the day's whole print file
                    placed[entry.row] = (name, first)
        for old in folder.glob(f"{PRINT_PREFIX}*.pdf"):
            if old.name not in {p["file"] for p in prints} and not old.is_dir():
                old.unlink()
        return placed, prints

    def _sheet(self, entry: Entry) -> dict[str, object]:
        visit, meta = entry.p.visit, entry.p.leaflet.meta
        return {
            "name": visit.patient.name,
            "who": entry.who,
            "time": f"{visit.time:%H:%M}" if visit.time else "",
            "moment": visit.moment,
            "leaflet": meta.title,
            "variant": meta.variants[visit.variant].label,
            "lang": entry.p.leaflet.lang,
            "pages": self.results[entry.row].pages,
        }

    def _record(self, entry: Entry, placed: tuple[str, int] | None) -> dict[str, Any]:
        visit, meta, result = entry.p.visit, entry.p.leaflet.meta, self.results[entry.row]
        return {
            "row": entry.row,
            "row_key": self.row_keys[entry.row],  # the email step checks the row is the same
            "status": result.status,
            "reference": entry.who,
            "date": visit.day.isoformat(),  # of the moment: the operation's, or the discharge's
            "time": f"{visit.time:%H:%M}" if visit.time else None,
            "moment": visit.moment,
            "operation_date": visit.date.isoformat(),
            **_followup(visit),
            "site": visit.site,
            "leaflet": visit.leaflet,
            "code": meta.code,
            "version": meta.version,
            "variant": visit.variant,
            "language": entry.p.leaflet.lang,
            "file": Path(entry.file).name,
            "pages": result.pages or None,
            "sha256": result.sha256 or None,
            "print_file": placed[0] if placed else None,
            "print_page": placed[1] if placed else None,
            "warnings": list(entry.warnings),
            "problem": result.problem,
        }

    def _refused(self, day_name: str) -> list[dict[str, Any]]:
        """Refused rows of this day; a row without a readable date is listed in every day."""
        problems: dict[int, list[str]] = defaultdict(list)
        for refusal in self.plan.refusals:
            problems[refusal.row].append(refusal.problem)
        rows = {row.number: row for row in self.day.rows}
        records = []
        for number, found in problems.items():
            values = rows[number].values
            day = day_cell(values)
            try:
                on = parse_date(day).isoformat()
            except LeafletpressError:
                on = None
            if on not in (None, day_name):
                continue
            record: dict[str, Any] = dict.fromkeys(FIELDS)
            for key, column in _REFUSED_COLUMNS.items():
                record[key] = clipped(values[column]) if values.get(column) else None
            record["date"] = clipped(day) or None  # the day it is for
            record.update(row=number, status="refused", warnings=[], problem=" | ".join(found))
            records.append(record)
        return records


# A refused row in the manifest: its cells as written (manifest field -> row field).
_REFUSED_COLUMNS = {key: key for key in ("reference", "date", "time", "moment", "site",
                                         "leaflet", "variant", "language", "followup_date",
                                         "followup_time", "followup_site")}  # fmt: skip
_REFUSED_COLUMNS["operation_date"] = "date"


def _followup(visit: Visit) -> dict[str, str | None]:
    """The manifest's follow-up fields: empty before the operation or when not planned."""
    care = visit.discharge
    return {
        "followup_date": care.followup_date.isoformat() if care and care.followup_date else None,
        "followup_time": f"{care.followup_time:%H:%M}" if care and care.followup_time else None,
        "followup_site": care.followup_site if care else None,
    }


def _made_prints(day: Path) -> dict[str, tuple[Path, dict[str, Any]]]:
    """The print files the lists of a day folder made, by what they were made from."""
    found: dict[str, tuple[Path, dict[str, Any]]] = {}
    for manifest in day.glob(f"*/{JSON_NAME}"):
        try:
            prints = read_manifest(manifest).get("print_files", [])
        except LeafletpressError:
            continue  # a damaged manifest offers nothing
        for record in prints if isinstance(prints, list) else []:
            if isinstance(record, dict) and isinstance(record.get("inputs"), str):
                found[record["inputs"]] = (manifest.parent / str(record.get("file")), record)
    return found


def _reuse(
    made: tuple[Path, dict[str, Any]] | None, target: Path, day: Path, leaflets: int
) -> Future[Any] | None:
    """A print file made before, still as it was made, copied to ``target`` (atomically):
    only a print file of a list of this day folder, never through a link, with a record
    that fits (its first pages, one per leaflet); else None, and it is built again."""
    if made is None:
        return None
    source, record = made
    firsts, pages = record.get("firsts"), record.get("pages")
    fits = (isinstance(firsts, list) and len(firsts) == leaflets
            and all(isinstance(f, int) for f in firsts) and isinstance(pages, int))  # fmt: skip
    inside = source.parent.parent == day and source.name.startswith(PRINT_PREFIX)
    if not (fits and inside and source.is_file()) or source.is_symlink():
        return None
    if source.parent.is_symlink():
        return None
    data = source.read_bytes()
    if hashlib.sha256(data).hexdigest() != record.get("sha256"):
        return None
    if source != target:
        write_atomic(target, data)
    future: Future[Any] = Future()
    future.set_result((pages, record["sha256"], firsts))
    return future


def strays(day: Path) -> list[Path]:
    """PDFs in the day folder that no list of that day names (a cancelled appointment?)."""
    named: set[str] = set()
    for manifest in day.glob(f"*/{JSON_NAME}"):
        try:
            named |= {Path(r["file"]).name for r in read_manifest(manifest)["leaflets"]
                      if r.get("file")}  # fmt: skip
        except LeafletpressError:
            continue  # a damaged manifest names nothing
    return sorted(
        path
        for path in day.glob("*.pdf")
        if path.name not in named and not path.name.startswith(PRINT_PREFIX)  # an older layout
    )
