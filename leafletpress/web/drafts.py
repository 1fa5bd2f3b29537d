"""Drafts of the content: written in the browser, checked and previewed as they are typed,
approved by someone else, and then the content's next version (content/history.py).

Input: the editors' text and decisions (from editing.py's views). Output: Draft rows, audit
events, commits in the content folder's history, previews for a fictional patient.

Guarantees: a draft is never printed (it lives in the database until approved; the content
folder holds approved files only); nobody approves a draft they typed in; a save typed on
an older revision than the draft has now is refused, so one editor never silently
overwrites another; a draft waiting for approval is not changed under the approver's eyes
(they approve the revision they saw); every step but a save is audited, and a save says
who and when on the draft itself.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from ..check import check_project
from ..common.errors import ContentError, LeafletpressError
from ..common.project import Project, shipped
from ..content import history
from ..content.leaflet import (
    DEFAULT_LANGUAGE,
    DISCHARGE,
    LOCALES,
    Leaflet,
    catalogue,
    lags_behind,
    load_leaflet,
    parse_leaflet,
    translates,
    version_key,
)
from ..content.readability import Report, report
from ..visit.daylist import Row
from ..visit.plan import Planner
from . import service
from .models import SYSTEM, Draft, audit

CONFIG_FILES = {
    "config/sites.yaml": "Campussen en raadplegingen",
    "config/surgeons.yaml": "Chirurgen",
    "config/koppeling.yaml": "Koppeling met het ziekenhuissysteem",  # if the hospital has one
}
# The fictional patient of every preview: never a real one, and it says so.
FICTIONAL = {"name": "Voorbeeld Patiënt", "reference": "VOORBEELD-0001", "birth_date": "01/01/1970"}
_LEAFLET = re.compile(r"leaflets/(?P<slug>[^/]+)/(?P<lang>nl|fr|en)\.md")


class Refused(Exception):
    """A step that may not be taken now, with the reason in Dutch (and the draft, if any)."""

    def __init__(self, message: str, draft: Draft | None = None) -> None:
        super().__init__(message)
        self.message, self.draft = message, draft


def project() -> Project:
    """The content folder, its history begun on first use (the files as they are now)."""
    found = service.project()
    if not history.enabled(found):
        history.begin(found, history.Person("leafletpress", SYSTEM))
    return found


def unavailable() -> str:
    """Why the content cannot be changed in the browser here (leafletpress's own example
    content, or a folder inside another repository); "" when it can."""
    refused = history.refusal(service.project())
    return f"{refused.message}: {refused.hint}" if refused else ""


def editable(path: str) -> bool:
    return bool(history.EDITABLE.fullmatch(path))


def slug_lang(path: str) -> tuple[str, str] | None:
    match = _LEAFLET.fullmatch(path)
    return (match["slug"], match["lang"]) if match else None


def shown_name(path: str, draft: str = "") -> str:
    """A file as the editors know it: 'Avasculaire necrose van de heup (fr)', 'Chirurgen'
    (a new leaflet by its draft's title)."""
    if path in CONFIG_FILES:
        return CONFIG_FILES[path]
    found = slug_lang(path)
    text = (approved_text(path) or draft) if found else None
    leaflet = parsed(path, text) if text else None
    return f"{leaflet.meta.title} ({found[1]})" if leaflet and found else path


def open_draft(path: str) -> Draft | None:
    return Draft.objects.filter(path=path, status__in=Draft.OPEN).first()


def approved_text(path: str) -> str | None:
    """The file as last approved (the content folder holds nothing else)."""
    try:
        return (service.project().root / path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


# --- the overview ---------------------------------------------------------------------------


@dataclass
class Language:
    lang: str
    path: str
    version: str = ""
    updated: date | None = None
    lagging: bool = False  # made from an older Dutch version: the Dutch one is printed
    draft: Draft | None = None
    problem: str = ""


@dataclass
class Entry:
    slug: str
    title: str
    code: str
    service: str
    languages: list[Language] = field(default_factory=list)

    @property
    def missing(self) -> list[str]:
        """Languages it has no text in yet (a translation can be begun)."""
        have = {language.lang for language in self.languages}
        return [lang for lang in LOCALES if lang not in have] if DEFAULT_LANGUAGE in have else []


def overview() -> list[Entry]:
    """Every leaflet with its languages, approved versions, drafts and lagging translations;
    new leaflets that exist only as a draft too."""
    folder = service.project()
    drafts = {d.path: d for d in Draft.objects.filter(status__in=Draft.OPEN)}
    entries = []
    for slug, langs in catalogue(folder).items():
        entry = Entry(slug, slug, "", "")
        dutch = None
        for lang in sorted(langs, key=lambda code: code != DEFAULT_LANGUAGE):
            path = f"leaflets/{slug}/{lang}.md"
            shown = Language(lang, path, draft=drafts.pop(path, None))
            try:
                meta = load_leaflet(folder, slug, lang).meta
            except LeafletpressError as exc:
                shown.problem = str(exc)
            else:
                shown.version, shown.updated = meta.version, meta.updated
                if lang == DEFAULT_LANGUAGE:
                    dutch = meta
                    entry.title, entry.code, entry.service = meta.title, meta.code, meta.service
                elif dutch is not None:
                    shown.lagging = lags_behind(meta, dutch)
            entry.languages.append(shown)
        for lang in LOCALES:  # a translation begun as a draft
            path = f"leaflets/{slug}/{lang}.md"
            if path in drafts:
                entry.languages.append(Language(lang, path, draft=drafts.pop(path)))
        entries.append(entry)
    for path, draft in sorted(drafts.items()):  # new leaflets
        if found := slug_lang(path):
            leaflet = parsed(path, draft.text)
            title = f"{leaflet.meta.title if leaflet else found[0]} (nieuw)"
            entries.append(Entry(found[0], title, "", "", [Language(found[1], path, draft=draft)]))
    return entries


# --- the steps of a draft -------------------------------------------------------------------


def save(user: Any, path: str, text: str, revision: int) -> Draft:
    """Save what was typed, made on ``revision`` (0: on the approved file, no draft yet)."""
    if not editable(path):
        raise Refused("dit bestand kan niet in de browser gewijzigd worden")
    base = history.head(project())
    try:
        with transaction.atomic():
            draft = Draft.objects.select_for_update().filter(path=path, status__in=Draft.OPEN)
            current = draft.first()
            if current is None:
                if revision != 0:
                    raise Refused("dit concept werd intussen goedgekeurd of ingetrokken")
                created = Draft.objects.create(
                    path=path,
                    text=text,
                    base=base,
                    started_by=user,
                    saved_by=user.username,
                    editors=[user.username],
                )
                audit(user, "concept begonnen", leaflet=path, detail=f"concept {created.pk}")
                return created
            if current.status == Draft.SUBMITTED:
                raise Refused("dit concept ligt ter goedkeuring: haal het eerst terug", current)
            if current.revision != revision:
                raise Refused(f"{current.saved_by} heeft dit concept intussen gewijzigd", current)
            current.text, current.revision = text, current.revision + 1
            current.saved_by = user.username
            current.editors = sorted({*current.editors, user.username})
            current.save()
            return current
    except IntegrityError:  # two first saves at once: the other one was first
        raise Refused("iemand anders begon tegelijk een concept", open_draft(path)) from None


def submit(user: Any, draft: Draft, revision: int, note: str) -> None:
    """Offer a draft for approval; only one without errors, and with a change note."""
    note = _plain(note)
    if not note:
        raise Refused("zeg in een paar woorden wat er veranderde en waarom")
    if errors := blocking(draft.path, draft.text):
        raise Refused(f"de tekst heeft nog {len(errors)} fout(en): los ze eerst op")
    updated = Draft.objects.filter(pk=draft.pk, status=Draft.EDITING, revision=revision)
    if not updated.update(status=Draft.SUBMITTED, note=note, comment=""):
        raise Refused("het concept veranderde intussen: bekijk het opnieuw", draft)
    audit(user, "concept ingediend", leaflet=draft.path, detail=f"concept {draft.pk}")


def recall(user: Any, draft: Draft) -> None:
    """Take a submitted draft back to edit it further."""
    if Draft.objects.filter(pk=draft.pk, status=Draft.SUBMITTED).update(status=Draft.EDITING):
        audit(user, "concept teruggehaald", leaflet=draft.path, detail=f"concept {draft.pk}")


def send_back(user: Any, draft: Draft, comment: str) -> None:
    comment = _plain(comment)
    if not comment:
        raise Refused("zeg wat er nog moet veranderen")
    _not_own(user, draft, "terugsturen")
    updated = Draft.objects.filter(pk=draft.pk, status=Draft.SUBMITTED)
    if not updated.update(
        status=Draft.EDITING, comment=comment.strip(), commented_by=user.username
    ):
        raise Refused("dit concept ligt niet (meer) ter goedkeuring", draft)
    audit(
        user,
        "concept teruggestuurd",
        leaflet=draft.path,
        detail=f"concept {draft.pk}: {comment.strip()}",
    )


def withdraw(user: Any, draft: Draft) -> None:
    if Draft.objects.filter(pk=draft.pk, status__in=Draft.OPEN).update(status=Draft.WITHDRAWN):
        audit(user, "concept ingetrokken", leaflet=draft.path, detail=f"concept {draft.pk}")


def _not_own(user: Any, draft: Draft, what: str) -> None:
    if user.username in draft.editors:
        raise Refused(
            f"je kan geen wijziging {what} waaraan je zelf schreef: vraag het aan "
            "een andere medisch verantwoordelijke"
        )


def suggested_version(draft: Draft) -> str:
    """The next version: one more in the last number; a translation takes the Dutch one
    (or adds a number for a correction of the translation alone)."""
    found = slug_lang(draft.path)
    if found is None:
        return ""
    now = _version_of(approved_text(draft.path), draft.path)
    if found[1] != DEFAULT_LANGUAGE:
        dutch = _version_of(approved_text(f"leaflets/{found[0]}/nl.md"), "")
        if dutch and now != dutch and not (now or "").startswith(f"{dutch}."):
            return dutch
        return f"{now}.1" if now == dutch else _bump(now or dutch or "1.0")
    return _bump(now) if now else "1.0"


def _version_of(text: str | None, shown: str) -> str | None:
    if text is None:
        return None
    with contextlib.suppress(LeafletpressError):
        return parse_leaflet(text, "x", "nl", shown).meta.version
    return None


def _bump(version: str) -> str:
    key = version_key(version)
    return ".".join(map(str, (*key[:-1], key[-1] + 1))) if key else version


def approve(user: Any, draft: Draft, revision: int, version: str, note: str) -> str:
    """Approve the revision the approver saw: stamp version and date, commit it as them."""
    _not_own(user, draft, "goedkeuren")
    note = _plain(note)
    if not note:
        raise Refused("geef een wijzigingsnota: wat veranderde er en waarom")
    folder = project()
    if done := history.landed(folder, draft.path, f"Concept: {draft.pk}"):
        return _decided(user, draft, done, note, version)  # landed; its process was stopped
    found = slug_lang(draft.path)
    text = _stamped(draft, version.strip(), found) if found else draft.text
    _unchanged_since_begun(folder, draft)
    if errors := blocking(draft.path, text):
        raise Refused(f"de tekst heeft {len(errors)} fout(en): stuur het concept terug", draft)
    with transaction.atomic():
        locked = Draft.objects.select_for_update().get(pk=draft.pk)
        if locked.status != Draft.SUBMITTED or locked.revision != revision:
            raise Refused("dit concept veranderde sinds je het opende: bekijk het opnieuw", draft)
        _not_own(user, locked, "goedkeuren")  # as it is now, not as the page was read
        message = (f"Goedgekeurd: {draft.path}{f' versie {version}' if found else ''}\n\n"
                   f"{note}\n\nConcept: {draft.pk}\n"
                   f"Geschreven-door: {', '.join(draft.editors)}\n")  # fmt: skip
        commit = history.commit(folder, {draft.path: text}, _person(user), message)
        return _decided(user, draft, commit, note, version if found else "", text)


def _person(user: Any) -> history.Person:
    return history.Person(_plain(user.get_full_name()) or user.username, user.username)


def _plain(text: str) -> str:
    """A note as the history keeps it: no control characters but new lines, at most 2000."""
    kept = "".join(c for c in text if c in "\n\t" or (c.isprintable() and c != "\x7f"))
    return kept.strip()[:2000]


def _unchanged_since_begun(folder: Project, draft: Draft) -> None:
    """The draft is compared with the approved file it began from: refuse if that changed."""
    if history.text_at(folder, history.head(folder), draft.path) != history.text_at(
        folder, draft.base, draft.path
    ):
        raise Refused("de goedgekeurde tekst veranderde sinds dit concept begon: begin een "
                      "nieuw concept (kopieer eerst wat je wil houden)", draft)  # fmt: skip


def blocking(path: str, text: str) -> list[Finding]:
    """The errors that stop a draft: in its own file (a translation made different by a new
    Dutch version lags, and the Dutch is printed meanwhile); for the hospital's data, every
    error, since every leaflet reads it."""
    return [
        f for f in findings(path, text) if not f.warning and (path in CONFIG_FILES or not f.file)
    ]


def _decided(user: Any, draft: Draft, commit: str, note: str, version: str = "",
             text: str | None = None) -> str:  # fmt: skip
    """The draft approved as ``commit`` (approved or published), and the audit event."""
    Draft.objects.filter(pk=draft.pk).update(
        status=Draft.APPROVED, text=draft.text if text is None else text, note=note,
        decided_by=user.username, decided=timezone.now(), commit=commit, version=version,
    )  # fmt: skip
    action = "gegevens gepubliceerd" if draft.path in CONFIG_FILES else "versie goedgekeurd"
    audit(user, action, leaflet=draft.path,
          detail=f"{version or 'gegevens'}, {commit[:10]}: {note}")  # fmt: skip
    return commit


def _stamped(draft: Draft, version: str, found: tuple[str, str]) -> str:
    """The draft with ``version`` and today's date in its front matter (checked first)."""
    key = version_key(version)
    now = _version_of(approved_text(draft.path), draft.path)
    if not key:
        raise Refused("schrijf de versie als getallen met punten, bv. 3.4")
    if now and version_key(now) and key <= (version_key(now) or ()):
        raise Refused(f"de nieuwe versie moet hoger zijn dan {now}")
    if found[1] != DEFAULT_LANGUAGE:
        dutch = parse_leaflet(approved_text(f"leaflets/{found[0]}/nl.md") or "", *found, "nl")
        mine = parse_leaflet(draft.text, *found, draft.path).meta.model_copy(
            update={"version": version}
        )
        if not translates(mine, dutch.meta):
            raise Refused(
                f"een vertaling van Nederlandse versie {dutch.meta.version} krijgt "
                f"versie {dutch.meta.version} of {dutch.meta.version}.1"
            )
    text = _set_key(draft.text, "version", f'"{version}"')
    return _set_key(text, "updated", timezone.localdate().isoformat())


def _set_key(text: str, key: str, value: str) -> str:
    """Set a top-level key of the front matter, keeping every comment and the rest."""
    head, sep, body = text.partition("\n---")
    line = re.compile(rf"^{key}:.*$", re.MULTILINE)
    head = (
        line.sub(f"{key}: {value}", head, count=1)
        if line.search(head)
        else f"{head}\n{key}: {value}"
    )
    return head + sep + body


def restore(user: Any, path: str, commit: str) -> Draft:
    """An older approved version as a new draft: approved again before it is printed."""
    text = history.text_at(project(), commit, path)
    if text is None:
        raise Refused("deze versie heeft dit bestand niet")
    if existing := open_draft(path):
        raise Refused(
            "er is al een concept voor dit bestand: werk daarin verder of trek het in", existing
        )
    draft = save(user, path, text, 0)
    Draft.objects.filter(pk=draft.pk).update(note=f"Teruggezet naar de versie van {commit[:10]}")
    audit(user, "versie teruggezet als concept", leaflet=path, detail=f"{commit[:10]}")
    return draft


def new_translation(user: Any, slug: str, lang: str) -> Draft:
    """A translation begun from the approved Dutch text: the translator replaces it, and its
    approval makes it the translation of that Dutch version."""
    path = f"leaflets/{slug}/{lang}.md"
    dutch = approved_text(f"leaflets/{slug}/{DEFAULT_LANGUAGE}.md")
    if not editable(path) or lang == DEFAULT_LANGUAGE or dutch is None:
        raise Refused("deze vertaling kan niet begonnen worden")
    if approved_text(path) is not None or open_draft(path):
        raise Refused("deze vertaling bestaat al: bewerk ze")
    return save(user, path, dutch, 0)


# --- a new leaflet --------------------------------------------------------------------------


def new_leaflet(user: Any, slug: str, values: dict[str, Any]) -> Draft:
    """A new leaflet's Dutch draft from the template (templates/nieuwe-folder.md)."""
    path = f"leaflets/{slug}/nl.md"
    if not editable(path):
        raise Refused("kies een korte naam van kleine letters, cijfers en streepjes")
    if slug in catalogue(project()) or open_draft(path):
        raise Refused(f"er is al een folder '{slug}'")
    template_path = project().templates_dir / "nieuwe-folder.md"  # a hospital's own, or ours
    if not template_path.is_file():
        template_path = shipped("templates") / "nieuwe-folder.md"
    template = template_path.read_text(encoding="utf-8")
    both = bool(values.get("consultation"))  # a discharge edition beside the one before
    variants = "\n".join(
        f"  {key}:\n    label: {_yaml_text(label)}" for key, label in values["variants"]
    )
    text = template.format(
        title=_yaml_text(values["title"]),
        code=_yaml_text(values["code"]),
        service=_yaml_text(values["service"]),
        url=values["url"],
        sites=", ".join(values["sites"]),
        variants=variants,
        updated=timezone.localdate().isoformat(),
        review_by=(timezone.localdate() + timedelta(days=365)).isoformat(),
        discharge=f"discharge:\n  consultation: {values['consultation']}\n" if both else "",
        before="::::: moment voor\n" if both else "",  # only before the operation
        before_end=":::::\n" if both else "",
    )
    return save(user, path, text, 0)


def _yaml_text(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


# --- checking and previewing what is typed --------------------------------------------------


@dataclass
class Finding:
    message: str
    line: int | None = None
    hint: str | None = None
    warning: bool = False
    file: str = ""  # another file than the draft's, when the problem is there


@contextlib.contextmanager
def overlaid(path: str, text: str) -> Iterator[Project]:
    """The content folder with this draft in place of the approved file, for one check or
    preview; removed afterwards."""
    scratch = Path(settings.DATA) / "concepten"
    scratch.mkdir(mode=0o700, parents=True, exist_ok=True)
    hour_ago = time.time() - 3600
    for stale in scratch.iterdir():  # left by a process stopped in the middle
        with contextlib.suppress(OSError):
            if stale.lstat().st_mtime < hour_ago:
                shutil.rmtree(stale, ignore_errors=True)
    folder = Path(tempfile.mkdtemp(dir=scratch))
    try:
        yield history.overlay(project(), {path: text}, folder / "inhoud")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def findings(path: str, text: str) -> list[Finding]:
    """``check``'s findings with this draft in place, each at its line when it has one."""
    found = slug_lang(path)
    with overlaid(path, text) as folder:
        problems = check_project(folder, timezone.localdate(), only=found[0] if found else None)
    shown = []
    for problem in problems:
        error = problem.error
        mine = error.file == path or (error.file or "").rstrip("/") == path.rsplit("/", 1)[0]
        line = error.row if mine and error.row else _line_of(text, error.field) if mine else None
        shown.append(
            Finding(
                error.message, line, error.hint, problem.warning, "" if mine else (error.file or "")
            )
        )
    return sorted(shown, key=lambda f: (bool(f.file), f.line or 0))


def _line_of(text: str, key_path: str | None) -> int | None:
    """The line of a YAML key path (``timing.fasting_hours``) in a file or its front matter."""
    if not key_path:
        return None
    lines, at, found = text.splitlines(), 0, None
    for key in key_path.split("."):
        if key.isdigit():
            continue
        pattern = re.compile(rf"^\s*(?:- )?{re.escape(key)}\s*:")
        for number in range(at, len(lines)):
            if pattern.match(lines[number]):
                at, found = number + 1, number + 1
                break
    return found


def reading(path: str, text: str) -> Report | None:
    """The reading-level report of a leaflet draft (None for data, or a text that does not
    parse: the check says why)."""
    found = slug_lang(path)
    if found is None:
        return None
    try:
        leaflet = parse_leaflet(text, *found, path)
    except (ContentError, ValueError):
        return None
    return report(
        leaflet.body,
        leaflet.body_first_line,
        found[1],
        service.registry().hospital.readability.target,
    )


def parsed(path: str, text: str) -> Leaflet | None:
    found = slug_lang(path)
    if found is None:
        return None
    with contextlib.suppress(ContentError, ValueError):
        return parse_leaflet(text, *found, path)
    return None


@dataclass
class Preview:
    key: str = ""
    pages: int = 0
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def preview(path: str, text: str, choice: dict[str, str], version: str = "") -> Preview:
    """The leaflet as this draft would print it (or as ``version`` printed it: the whole
    content as approved then), for the fictional patient: kept as a PDF under a key (its
    hash), whose pages editing.py shows as images."""
    found = slug_lang(path)
    if found is None:
        return Preview(problems=["voor campussen en chirurgen is er geen voorbeeld"])
    with overlaid(path, text) as folder:
        try:
            project, registry = service.pinned(version) if version else (folder, service.registry())
            planner = Planner(project, registry, timezone.localdate())
            if not version:
                planner.use(load_leaflet(project, *found))  # the draft, even if it lags
            checked = planner.check(Row(0, fictional_row(found, choice, planner)))
            if isinstance(checked, list):
                return Preview(problems=[e.message for e in checked])
            edition = service.edition_of(choice.get("edition", ""))
            rendered = service.render(checked.p, edition, version)
        except LeafletpressError as exc:  # the check says where; the preview says why not
            return Preview(problems=[exc.message])
    key = hashlib.sha256(rendered.pdf).hexdigest()[:32]
    store = previews()
    store.mkdir(mode=0o700, parents=True, exist_ok=True)
    (store / f"{key}.pdf").write_bytes(rendered.pdf)
    for old in sorted(store.glob("*.pdf"), key=lambda p: p.stat().st_mtime)[:-200]:
        old.unlink(missing_ok=True)  # the last 200 previews are enough
    return Preview(key, rendered.pages, warnings=list(checked.warnings))


def previews() -> Path:
    return Path(settings.DATA) / "voorbeelden"


def fictional_row(
    found: tuple[str, str], choice: dict[str, str], planner: Planner
) -> dict[str, str]:
    """The fictional patient's row: the chosen variant and moment, a campus where the leaflet
    is done and a surgeon of its service working there, an operation two weeks from today."""
    slug, lang = found
    meta = planner.leaflet(slug, lang).meta
    variant = (
        choice.get("variant")
        if choice.get("variant") in meta.variants
        else next(iter(meta.variants))
    )
    registry = planner.registry
    open_sites = [k for k in meta.sites if k in registry.sites and not registry.sites[k].retired]
    pairs = sorted(
        ((s.service != meta.service, site, key) for site in open_sites
         for key, s in registry.surgeons.items() if site in s.sites and not s.retired)
    )  # fmt: skip
    _, site, surgeon = pairs[0] if pairs else (0, meta.sites[0], next(iter(registry.surgeons)))
    on = timezone.localdate() + timedelta(days=14)
    while on.weekday() >= 5:
        on += timedelta(days=1)
    row = {
        **FICTIONAL,
        "leaflet": slug,
        "language": lang,
        "variant": variant,
        "site": site,
        "surgeon": surgeon,
        "date": on.isoformat(),
        "time": "08:30",
        "moment": "voor",
    }
    if choice.get("moment") == DISCHARGE and meta.discharge is not None:
        row.update(moment=DISCHARGE, discharge_date=(on + timedelta(days=1)).isoformat(), time="")
    return row


def publish(user: Any, draft: Draft, revision: int, note: str) -> str:
    """The hospital's own data (campuses, surgeons): ``beheer`` publishes a checked draft
    itself, as it changes every month; history and audit as for a leaflet."""
    if draft.path not in CONFIG_FILES:
        raise Refused("een folder wordt goedgekeurd door een medisch verantwoordelijke")
    note = _plain(note)
    if not note:
        raise Refused("zeg in een paar woorden wat er veranderde")
    folder = project()
    if done := history.landed(folder, draft.path, f"Concept: {draft.pk}"):
        return _decided(user, draft, done, note)
    _unchanged_since_begun(folder, draft)
    if errors := blocking(draft.path, draft.text):
        raise Refused(f"de gegevens hebben nog {len(errors)} fout(en): los ze eerst op")
    with transaction.atomic():
        locked = Draft.objects.select_for_update().get(pk=draft.pk)
        if not locked.is_open or locked.revision != revision:
            raise Refused("het concept veranderde intussen: bekijk het opnieuw", draft)
        message = f"Gewijzigd: {CONFIG_FILES[draft.path]}\n\n{note}\n\nConcept: {draft.pk}\n"
        commit = history.commit(folder, {draft.path: draft.text}, _person(user), message)
        return _decided(user, draft, commit, note)
