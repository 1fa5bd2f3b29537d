"""The web app's only door to the engine: the same calls the CLI makes, nothing of its own.

One warm ``Renderer`` per process (the server's for one patient, the worker's for a day);
pages are shown as PNG images made with pdfium from the very PDF that is downloaded.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from email.message import EmailMessage
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models

from ..common.errors import InputError, LeafletpressError, clipped
from ..common.matching import match_key
from ..common.project import FORMATS, Edition, Project
from ..content import history
from ..content.leaflet import DEFAULT_LANGUAGE, DISCHARGE, catalogue, load_leaflet
from ..content.registry import Registry, load_registry
from ..day.finish import CHANGES_SUFFIX
from ..day.journal import inputs_digest
from ..day.manifest import JSON_NAME, MADE, read_manifest
from ..feed.mapping import Mapping, load_mapping
from ..mail import sending
from ..mail.messages import Letter
from ..mail.sending import PROOF_PATIENT, Report, run_email, verdicts
from ..mail.sendlog import SEND_LOG
from ..visit.daylist import FIELDS, DayList, Row, read_day_list
from ..visit.personalise import Personalisation
from ..visit.plan import Plan, Planner, plan

if TYPE_CHECKING:
    from ..pdf.render import Rendered

_lock = threading.Lock()  # WeasyPrint is not thread-safe: one leaflet at a time per process


def project() -> Project:
    return _project(Path(settings.ROOT))


@cache
def _project(root: Path) -> Project:
    return Project(root)


class Engine:
    """The registry, the warm renderer and the planner, loaded once and reused until a file
    they are made from changes (the batch journal's fingerprint of leaflets, config, templates
    and styles): then all are loaded again together, never a new registry with an old one."""

    def __init__(self, digest: str) -> None:
        from ..pdf.render import Renderer

        self.digest = digest
        self.unapproved = history.unapproved(project())  # changed by hand: never printed
        self.registry = load_registry(project())
        self.renderer = Renderer(project(), self.registry)
        self.offered: tuple[date, dict[str, Any]] | None = None  # choices(), of one day
        self._planners: dict[date, Planner] = {}
        self._mapping: tuple[Mapping | None] | None = None

    def mapping(self) -> Mapping | None:
        """The appointment feed's codes (config/koppeling.yaml), read once; None: no feed."""
        if self._mapping is None:
            self._mapping = (load_mapping(project()),)  # an error is raised, and read again
        return self._mapping[0]

    def planner(self) -> Planner:
        """Today's planner (warnings depend on the day), with the leaflets it has loaded."""
        today = date.today()
        if today not in self._planners:
            self._planners = {today: Planner(project(), self.registry, today)}
        return self._planners[today]


_engine: Engine | None = None
_checked_at = 0.0  # when the engine's digest was last compared with the content's


def engine(recent: float = 0) -> Engine:
    """The engine of the content as it is now; ``recent``: as it was at most that many
    seconds ago (the feed's listener, many messages a second, spares the digest)."""
    global _engine, _checked_at
    if recent and _engine is not None and time.monotonic() - _checked_at < recent:
        return _engine
    digest = inputs_digest(project())  # 5 to 15 ms; the project's folder is part of it
    with _lock:
        if _engine is None or _engine.digest != digest:
            _engine = Engine(digest)
        _checked_at = time.monotonic()
        return _engine


def registry() -> Registry:
    return engine().registry


def content_version() -> str:
    """The approved content now in force (a commit of the content's history); "" for a
    content folder without a history (only ever changed outside the browser)."""
    return history.head(project()) if history.enabled(project()) else ""


_pinned: dict[str, tuple[Project, Registry]] = {}


def pinned(version: str) -> tuple[Project, Registry]:
    """The content as it was at ``version`` (a day's, fixed when it was queued), with its
    registry: extracted once on this machine, so a later approval never reaches that day."""
    if not version:
        return project(), registry()
    with _lock:
        return pinned_unlocked(version)


def pinned_unlocked(version: str) -> tuple[Project, Registry]:
    if version not in _pinned:
        snap = history.snapshot(project(), version, Path(settings.DATA) / "versies")
        if len(_pinned) >= 2:  # the days being made now share one or two versions
            _pinned.pop(next(iter(_pinned)))
        _pinned[version] = (snap, load_registry(snap))
    return _pinned[version]


def edition_of(value: str) -> Edition:
    """The form's "Uitvoering" as the engine's Edition."""
    if value == "large":
        return Edition("a4", large_print=True)
    if value == "archive":
        return Edition("a5", archive=True)
    return Edition(value if value in FORMATS else "a5")


# --- the choices of the one-patient form ---------------------------------------------------


def choices() -> dict[str, Any]:
    """Leaflets with their variants, campuses and surgeons, for choices that follow each other:
    made again each day, since a surgeon or campus retires on a day of its own."""
    current = engine()
    if current.offered is None or current.offered[0] != date.today():
        current.offered = (date.today(), _choices(current.registry))
    return current.offered[1]


def _choices(reg: Registry) -> dict[str, Any]:
    found = {}
    today = date.today()  # a campus or surgeon retired is no longer offered
    serving = {k: s.name for k, s in reg.sites.items() if _serving(s, today)}
    for slug, langs in catalogue(project()).items():
        meta = load_leaflet(project(), slug, DEFAULT_LANGUAGE if "nl" in langs else langs[0]).meta
        holding = []
        if meta.discharge:
            wanted = meta.discharge.consultation
            holding = [
                k for k, s in reg.sites.items() if wanted in s.consultations and k in serving
            ]
        found[slug] = {
            "title": meta.title,
            "variants": {k: v.label for k, v in meta.variants.items()},
            "sites": {k: serving[k] for k in meta.sites if k in serving},
            "followup_sites": {k: reg.sites[k].name for k in holding},
            "discharge": meta.discharge is not None,
            "service": str(meta.service or ""),  # in Dutch: one name per service
        }
    surgeons = {k: (s.display_name, s.sites) for k, s in reg.surgeons.items() if _serving(s, today)}
    return {"leaflets": found, "surgeons": surgeons}


def _serving(item: Any, today: date) -> bool:
    return item.retired is None or item.retired > today


# --- one patient ----------------------------------------------------------------------------


@dataclass
class Made:
    pdf: bytes  # the patient's copy: tagged, pages in reading order
    pages: int
    who: str
    p: Personalisation
    warnings: list[str]
    booklet: bytes | None = None  # the print file: imposed on A4, untagged


def make_one(values: dict[str, str], edition: Edition) -> Made | list[LeafletpressError]:
    """Check the form as a day list's row is checked (every problem at once, by field), then
    render it with the warm renderer; a booklet is imposed beside the patient's copy."""
    from ..printing.booklet import impose

    # A field the browser left out is empty; the other moment's fields are not shown.
    hidden = ("time",) if values.get("moment") == DISCHARGE else _AT_DISCHARGE
    row = {k: values.get(k, "") for k in FIELDS if k not in hidden}
    row["language"] = values.get("lang", "")
    current = engine()
    if current.unapproved:
        history.refuse_unapproved(project())
    checked = current.planner().check(Row(0, row))
    if isinstance(checked, list):
        return list(checked)
    with _lock:
        rendered = current.renderer.render(checked.p, edition.layout, edition.archive)
    booklet = impose(rendered.pdf) if edition.booklet else None
    return Made(rendered.pdf, rendered.pages, checked.who, checked.p, list(checked.warnings),
                booklet)  # fmt: skip


_AT_DISCHARGE = ("discharge_date", "followup_date", "followup_time", "followup_site")


def render(p: Personalisation, edition: Edition, version: str = "") -> Rendered:
    """Any personalisation (a draft's, for the fictional patient) with the warm renderer; or
    with a renderer of the content as approved at ``version`` (a past version, kept warm
    while it is looked at)."""
    global _past
    current = engine()
    with _lock:
        if not version:
            return current.renderer.render(p, edition.layout, edition.archive)
        if _past is None or _past[0] != version:
            from ..pdf.render import Renderer

            _past = (version, Renderer(*pinned_unlocked(version)))
        return _past[1].render(p, edition.layout, edition.archive)


_past: tuple[str, Any] | None = None


def preview_image(p: Personalisation) -> bytes:
    """Page 1 of a leaflet, A5, as a PNG: the check page's preview of a good row."""
    current = engine()
    with _lock:
        pdf = current.renderer.render(p).pdf
    return _png(pdf, 1) or b""


def page_image(pdf_path: Path, page: int) -> bytes | None:
    """Page ``page`` (1-based) of a stored PDF as a PNG; None past the end."""
    return _png(pdf_path.read_bytes(), page)


# pdfium is not thread-safe: a web process serves pages with several threads (gunicorn's
# --threads; a page asks for its images at once), so one pdfium call at a time per process,
# from opening a document until it is closed again (two at once crashed the process).
_pdfium = threading.Lock()


@contextlib.contextmanager
def _opened(pdf: bytes) -> Iterator[Any]:
    import pypdfium2 as pdfium

    with _pdfium:
        document = pdfium.PdfDocument(pdf)
        try:
            yield document
        finally:
            document.close()


def _png(pdf: bytes, page: int, width: int = 900) -> bytes | None:
    with _opened(pdf) as document:
        if not 1 <= page <= len(document):
            return None
        sheet = document[page - 1]
        image = sheet.render(scale=width / sheet.get_width()).to_pil()
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", optimize=False)
        return buffer.getvalue()


def page_texts(pdf_path: Path) -> list[str]:
    """The text of each page of a stored PDF (pdfium), to compare two versions page by page."""
    with _opened(pdf_path.read_bytes()) as document:
        return [page.get_textpage().get_text_range() for page in document]


def page_count(pdf_path: Path) -> int:
    with _opened(pdf_path.read_bytes()) as document:
        return len(document)


# --- a clinic day ---------------------------------------------------------------------------


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def list_suffix(data: bytes) -> str:
    """What the upload is, by its content: a workbook (zip) or text; the reader checks more."""
    return ".xlsx" if data[:4] == b"PK\x03\x04" else ".csv"


@dataclass
class Kind:
    """One kind of row error and the rows that have it: '3 rijen: onbekende campus'."""

    column: str | None
    message: str
    rows: list[int] = field(default_factory=list)

    @property
    def sentence(self) -> str:
        count = len(self.rows)
        rows = "1 rij" if count == 1 else f"{count} rijen"
        where = f" in kolom ‘{self.column}’" if self.column else ""
        return f"{rows} met een fout{where}: {self.message}"


@dataclass
class Checked:
    """A day's list as the check page shows it."""

    listing: DayList | None = None
    planned: Plan | None = None
    file_error: LeafletpressError | None = None
    kinds: list[Kind] = field(default_factory=list)
    bad_rows: list[dict[str, Any]] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)


_checked: OrderedDict[tuple[Any, ...], Checked] = OrderedDict()
_checked_lock = threading.Lock()
KEPT_CHECKS = 8  # per process: the days being checked now, with their previews


def check_day(path: Path, shown: str) -> Checked:
    """The list checked as `batch` checks it; kept (per process) while the list, the content
    and the date are the same, so that the day page and each row's preview read it once."""
    current = engine()
    try:
        stat = path.stat()
    except OSError:
        stat = None
    key = (str(path), shown, stat and (stat.st_size, stat.st_mtime_ns), current.digest,
           date.today())  # fmt: skip
    with _checked_lock:
        if key in _checked:
            _checked.move_to_end(key)
            return _checked[key]
    found = _check_day(path, shown, current.registry)
    with _checked_lock:
        _checked[key] = found
        while len(_checked) > KEPT_CHECKS:
            _checked.popitem(last=False)
    return found


NOT_SHOWN = ("email", "letter_code")  # an address; a PDF's password
IDENTIFYING = ("name", "reference", "date", "time")  # shown for every bad row


def _check_day(path: Path, shown: str, reg: Registry) -> Checked:
    """Read and plan the list as `batch` does; group the refusals for people to read."""
    try:
        listing = read_day_list(path, project(), shown=shown)
    except LeafletpressError as exc:
        return Checked(file_error=exc)
    planned = plan(listing, project(), reg, date.today())
    kinds: dict[tuple[str | None, str], Kind] = {}
    problems: dict[int, dict[str | None, str]] = {}
    for refusal in planned.refusals:
        generic = re.sub(r"'[^']*'", "", refusal.message).replace("  ", " ").strip(" :")
        kind = kinds.setdefault((refusal.column, generic), Kind(refusal.column, generic))
        if refusal.row not in kind.rows:
            kind.rows.append(refusal.row)
        text = refusal.message + (f" — {refusal.hint}" if refusal.hint else "")
        problems.setdefault(refusal.row, {})[refusal.column] = text
    # Who the row is, and the columns with a bad cell: they fit a 1366-pixel screen (item 13)
    faulty = {column for found in problems.values() for column in found}
    present = [f for f in FIELDS if f in listing.headers and f not in NOT_SHOWN
               and (f in IDENTIFYING or listing.headers[f] in faulty)]  # fmt: skip
    columns = [listing.headers[f] for f in present]
    rows = {row.number: row for row in listing.rows}
    bad = [
        {
            "number": number,
            "cells": [
                (clipped(rows[number].values.get(f, "")), found.get(listing.headers[f]))
                for f in present
            ],
            "problems": sorted(found.items(), key=lambda item: item[0] is not None),
        }
        for number, found in sorted(problems.items())
    ]
    ordered = sorted(kinds.values(), key=lambda k: (-len(k.rows), k.rows[0]))
    return Checked(listing, planned, None, ordered, bad, columns)


def upload_limits(user: Any, size: int) -> tuple[str, int] | None:
    """Why an upload of ``size`` bytes is not kept, with its HTTP status; None if it may be:
    the account's quota for today, and the shared folder's free space (F13)."""
    import shutil

    from django.utils import timezone

    from .models import Day

    free = shutil.disk_usage(settings.SHARED if Path(settings.SHARED).is_dir() else "/").free
    if free - size < settings.MIN_FREE_BYTES:
        return ("de gedeelde map is bijna vol: de lijst is niet bewaard. Meld het aan de "
                "beheerder (er moet ruimte vrijkomen)", 507)  # fmt: skip
    since = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    today = Day.objects.filter(made_by=user, created__gte=since).aggregate(models.Sum("size"))
    quota = settings.UPLOAD_BYTES_PER_DAY
    if (today["size__sum"] or 0) + size > quota:
        return (f"je hebt vandaag al meer dan {quota // 2**20} MB aan lijsten opgeladen: de "
                "lijst is niet bewaard. Morgen kan het weer; is dit nodig, meld het aan de "
                "beheerder (LEAFLETPRESS_UPLOAD_MB_PER_DAY)", 429)  # fmt: skip
    return None


def not_yours(services: dict[str, list[int]]) -> str:
    """Why a list of other services' patients is not kept (need to know)."""
    named = "; ".join(
        f"{'rij' if len(rows) == 1 else 'rijen'} {', '.join(map(str, rows[:10]))}"
        f"{' …' if len(rows) > 10 else ''}: dienst {service}"
        for service, rows in sorted(services.items())
    )
    return (f"deze lijst heeft patiënten van een dienst waar je niet voor werkt ({named}); de "
            "lijst is niet bewaard. Laad alleen de rijen van je eigen dienst op, of vraag de "
            "beheerder om toegang")  # fmt: skip


def site_name(key: str) -> str:
    """A campus as she knows it: 'ZAS Cadix'."""
    site = registry().sites.get(key)
    return site.name if site else key


def services() -> dict[str, str]:
    """Each leaflet's service (slug -> service), from one look at the content: ask once per
    list, not once per row (each look hashes the content, 5 to 15 ms)."""
    return {slug: str(found.get("service", "")) for slug, found in choices()["leaflets"].items()}


def service_of(leaflet: str) -> str:
    """The service a leaflet belongs to ('' for a leaflet the content does not have)."""
    return services().get(leaflet, "")


def services_in(checked: Checked) -> dict[str, list[int]]:
    """The services of the leaflets a list names, with the rows that name them: a list
    belongs to these services (need to know)."""
    names = engine().planner().leaflets  # as the planner reads them: slug, code, any case
    of = services()
    found: dict[str, list[int]] = {}
    for row in checked.listing.rows if checked.listing else []:
        slug = names.lookup.get(match_key(row.values.get("leaflet", "")), "")
        if service := of.get(slug, ""):
            found.setdefault(service, []).append(row.number)
    return found


def refused_rows(checked: Checked) -> list[dict[str, Any]]:
    """What a finished day keeps of its refused rows, for the secretary to deal with: the row,
    its reference if it is one, and per column what is wrong with its hint; not the cells.
    Retention keeps only the row numbers."""
    from .models import REFERENCE

    cells = {row.number: row.values.get("reference", "") for row in checked.listing.rows
             } if checked.listing else {}  # fmt: skip
    column = checked.listing.headers.get("reference") if checked.listing else None
    found = []
    for r in checked.bad_rows:
        reference = cells.get(r["number"], "")
        valid = REFERENCE.fullmatch(reference) and column not in dict(r["problems"])
        found.append({"row": r["number"], "reference": reference if valid else "",
                      "problems": [[c, t] for c, t in r["problems"]]})  # fmt: skip
    return found


def shown_rows(checked: Checked) -> str:
    """The rows the check page shows with their cells (the bad rows), by number: their
    reference cells are as typed (a name, a birth date) and never go into the audit log."""
    numbers = [str(row["number"]) for row in checked.bad_rows]
    return f"rijen met fouten getoond: {', '.join(numbers[:40])}{' …' if len(numbers) > 40 else ''}"


# --- email to patients ----------------------------------------------------------------------


def send_log() -> Path:
    """One send log for every day (a list made again is the same leaflets to the same
    people: never sent twice), in the shared folder."""
    return Path(settings.SHARED) / SEND_LOG


def download_name(kind: str, item: dict[str, str]) -> str:
    """A day's file as it is saved on her computer: named for what it is, and never the same
    as another day's: '2026-12-15 ZAS Cadix afdruk.pdf', '2026-12-15 overzicht.csv',
    '2026-12-15 PAT-1_0830_avn-hip-heupprothese.pdf' (issue 24, item 14)."""
    day, name = Path(item["path"]).parts[0], item["name"]
    if kind == "afdruk":
        found = re.fullmatch(rf"print-(.+?)({CHANGES_SUFFIX})?(-\d+)?\.pdf", name)
        key, changes, part = found.groups()  # type: ignore[union-attr]
        what = (" wijzigingen" if changes else "") + (f" deel {part[1:]}" if part else "")
        return f"{day} {site_name(key)} afdruk{what}.pdf"
    if kind == "manifest":
        return f"{day} overzicht{Path(name).suffix}"
    return f"{day} {name}"


def document_name(doc: Any, booklet: bool = False) -> str:
    """A one-patient leaflet as it is saved on her computer, named as a day's are: its day
    first, then the hour: '2026-12-15 PAT-0042_0830_avn-hip-heupprothese.pdf' (item 14)."""
    found = getattr(doc, "patient", None)  # its index row (none for a leaflet made before)
    when = f"{found.date:%Y-%m-%d} " if found else ""
    hour = f"_{found.time:%H%M}" if found and found.time and doc.moment != DISCHARGE else ""
    ending = ("-ontslag" if doc.moment == DISCHARGE else "") + ("-boekje" if booklet else "")
    return f"{when}{doc.who}{hour}_{doc.leaflet}-{doc.variant}{ending}.pdf"


def day_manifests(day: Any) -> list[Path]:
    """A finished day's manifests (one per date the list holds), as the email runs take them."""
    found = [day.out_dir / item["path"] for item in day.outcome.get("manifests", [])]
    return [path for path in found if path.name == JSON_NAME]


def covered(manifest: Path, print_file: str | None = None) -> list[str]:
    """The references of the leaflets a manifest lists as made; with ``print_file``, of
    those in that print file. For the audit log: who printed or saw which patient (F6)."""
    if not manifest.is_file():
        return []
    return [r["reference"] for r in read_manifest(manifest)["leaflets"]
            if r["status"] in MADE and print_file in (None, r.get("print_file"))]  # fmt: skip


def email_survey(day: Any) -> Report:
    """What "Verstuur" would do now, leaflet by leaflet, and its first message: nothing is
    sent or written. Raises the engine's error when the list or a manifest cannot be used."""
    merged = Report()
    for manifest in day_manifests(day):
        found = run_email(manifest, day.upload, project(), registry(), survey=True,
                          shown=day.source_name, send_log=send_log())  # fmt: skip
        merged.example_settings = found.example_settings
        merged.example_leaflets = merged.example_leaflets or found.example_leaflets
        merged.sample = merged.sample or found.sample
        for name in ("ready", "already", "uncertain", "unaddressed", "failed", "not_tried"):
            getattr(merged, name).extend(getattr(found, name))
    return merged


def shown_message(message: EmailMessage) -> dict[str, Any]:
    """A message as the confirmation page shows it: headers, text and attachment."""
    body = message.get_body(preferencelist=("plain",))
    attached = [
        (part.get_filename() or "", len(part.get_payload(decode=True) or b""))
        for part in message.iter_attachments()
    ]
    return {
        "to": message["To"], "sender": message["From"], "subject": message["Subject"],
        "text": body.get_content() if body else "", "attachments": attached,
    }  # fmt: skip


PROOF, PROOF_SETTINGS = "proef-e-mail verstuurd", "instellingen "


def proof_needed() -> bool:
    """No real message before a proof went out with the message settings as they are now:
    once, and again after the mail server, the sender or the texts changed."""
    from .models import AuditEvent

    done = f"{PROOF_SETTINGS}{message_settings()};"
    return not AuditEvent.objects.filter(action=PROOF, detail__startswith=done).exists()


def message_settings() -> str:
    """What the patients' messages are made from besides the day (the mail server and sender,
    the hospital and its campuses, the message texts), as a short digest: a proof is sent
    again after any of it changed."""
    digest = hashlib.sha256()
    found = project()
    for top in (found.config_dir, found.templates_dir / "email"):
        for path in sorted(p for p in top.rglob("*") if p.is_file()):
            digest.update(str(path.relative_to(top.parent)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def send_proof(day: Any, to: str) -> str:
    """The day's first message as it will go out, for a fictional patient, to a member of
    staff (issue 24, item 15): the leaflet of the day's first good row, with the patient's
    fields replaced by ``PROOF_PATIENT``. Returns the server's answer."""
    checked = check_day(day.upload, day.source_name)
    if checked.planned is None or not checked.planned.entries or checked.listing is None:
        raise InputError("deze dag heeft geen folders om te versturen", file=day.source_name)
    first = checked.planned.entries[0]
    values = next(r for r in checked.listing.rows if r.number == first.row).values
    current = engine()
    proof = current.planner().check(Row(0, values | PROOF_PATIENT))
    if isinstance(proof, list):
        raise proof[0]
    edition = edition_of(day.outcome.get("edition", "a5"))
    with _lock:
        rendered = current.renderer.render(proof.p, edition.layout, edition.archive)
    visit = proof.p.visit
    letter = Letter(
        recipient=to, patient_name=visit.patient.name, birth_date=visit.patient.birth_date,
        letter_code=PROOF_PATIENT["letter_code"], lang=proof.p.leaflet.lang, site=visit.site,
        day=visit.day, at=visit.time if visit.discharge is None else None, moment=visit.moment,
        code=proof.p.leaflet.meta.code, pdf=rendered.pdf,
    )  # fmt: skip
    return sending.send_proof(project(), registry(), letter)


def email_verdicts(day: Any) -> list[tuple[int, str, tuple[str, str] | None]]:
    """Each leaflet of the day (row, reference) with the send log's verdict on it (status,
    when), or None if it was never sent."""
    found = []
    for manifest in day_manifests(day):
        said = verdicts(manifest, send_log())
        found += [(r["row"], r["reference"], said.get(r["row"]))
                  for r in read_manifest(manifest)["leaflets"] if r["status"] in MADE]  # fmt: skip
    return sorted(found)
