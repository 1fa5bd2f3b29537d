"""From the rows of a clinic-day list to the leaflets to make. Every row is checked before
anything is rendered; a bad row is refused with its row, column and a hint, the others go on.

Hospital exports name things their own way, so a row may give a campus, surgeon, variant or
leaflet by its key or by its name ("ZAS Cadix", "Pieter Claes", "Totale heupprothese",
"ORT-AVN-01"); comparison ignores case, accents and spaces.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar

from ..common.errors import InputError, LeafletpressError, clipped
from ..common.matching import match_key
from ..common.project import Project
from ..content.leaflet import (
    BEFORE,
    DEFAULT_LANGUAGE,
    DISCHARGE,
    Leaflet,
    catalogue,
    load_leaflet,
    load_translation,
)
from ..content.registry import Registry
from .appointment import make_visit, parse_date, parse_moment, parse_time
from .daylist import DayList, Row
from .naming import leaflet_file_name, pseudonym
from .personalise import Personalisation, personalise, warnings

T = TypeVar("T")

_HINTS = {
    "name": "vul de naam van de patiënt in",
    "date": "schrijf 2026-12-03 of 03/12/2026",
    "time": "schrijf 08:30 of 8u30",
}


@dataclass(frozen=True)
class Refusal:
    """A row that will not be made, and why."""

    row: int
    column: str | None  # the header as written in the file
    message: str
    hint: str | None = None

    def __str__(self) -> str:
        where = f"rij {self.row}" + (f", kolom '{self.column}'" if self.column else "")
        return f"{where}: {self.message}" + (f"\n  oplossing: {self.hint}" if self.hint else "")

    @property
    def problem(self) -> str:
        """One line for the manifest."""
        where = f"kolom '{self.column}': " if self.column else ""
        return where + self.message + (f" (oplossing: {self.hint})" if self.hint else "")


@dataclass(frozen=True)
class Entry:
    """A row that checked out: one leaflet to make."""

    row: int
    p: Personalisation
    file: str  # relative to the output folder: see visit/naming.py
    who: str  # patient reference, or a pseudonym; never the name
    warnings: tuple[str, ...] = ()


@dataclass
class Plan:
    entries: list[Entry] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)


class _Names:
    """Keys and the names people write for them, compared ignoring case, accents and spaces."""

    def __init__(self, names: dict[str, list[str]], what: str, field: str) -> None:
        """``names``: per key, the names it may be written as; the first is shown in hints."""
        self.names = {key: aliases[0] for key, aliases in names.items()}
        self.what, self.field = what, field
        self.lookup: dict[str, str] = {}
        for key, aliases in names.items():
            for name in (key, *aliases):
                self.lookup.setdefault(match_key(name), key)

    def key(self, value: str, allowed: Iterable[str] | None = None) -> str:
        keys = list(allowed) if allowed is not None else list(self.names)
        hint = "kies uit: " + ", ".join(sorted({self.names[k] for k in keys}))  # her words
        if not value:
            raise InputError("ontbreekt", field=self.field, hint=hint)
        key = self.lookup.get(match_key(value))
        if key is None:
            raise InputError(
                f"onbekende {self.what} '{clipped(value)}'", field=self.field, hint=hint
            )
        return key


class Planner:
    """Checks rows against the leaflets and registry; loads each leaflet once."""

    def __init__(self, project: Project, registry: Registry, today: date) -> None:
        self.project, self.registry, self.today = project, registry, today
        self._leaflets: dict[tuple[str, str], Leaflet] = {}
        self._translations: dict[tuple[str, str], tuple[Leaflet, tuple[str, ...]]] = {}
        codes = {}
        for slug, langs in catalogue(project).items():
            lang = DEFAULT_LANGUAGE if DEFAULT_LANGUAGE in langs else langs[0]
            try:
                meta = self.leaflet(slug, lang).meta
                codes[slug] = [meta.title, meta.code]  # the title in hints; code or slug too
            except LeafletpressError:
                codes[slug] = [slug]  # refused with its own message if a row asks for it
        self.leaflets = _Names(codes, "folder", "leaflet")
        sites = {k: [s.name] for k, s in registry.sites.items()}
        self.sites = _Names(sites, "campus", "site")
        self.followup_sites = _Names(sites, "campus", "followup_site")
        self.surgeons = _Names(  # "dr. Pieter Claes", "Pieter Claes" or "claes"
            {k: [s.display_name, s.name] for k, s in registry.surgeons.items()},
            "chirurg",
            "surgeon",
        )

    def leaflet(self, slug: str, lang: str) -> Leaflet:
        if (slug, lang) not in self._leaflets:
            self._leaflets[slug, lang] = load_leaflet(self.project, slug, lang)
        return self._leaflets[slug, lang]

    def translation(self, slug: str, wanted: str) -> tuple[Leaflet, tuple[str, ...]]:
        """The leaflet in the language a row asks for, or Dutch with a warning why not."""
        if (slug, wanted) not in self._translations:
            leaflet, notes = load_translation(self.project, slug, wanted)
            self._translations[slug, wanted] = (leaflet, tuple(notes))
        return self._translations[slug, wanted]

    def use(self, leaflet: Leaflet) -> None:
        """Make rows in ``leaflet``'s language use it: a draft being previewed, also a
        translation that lags behind the Dutch text (its translator must see what they type;
        the check says it lags)."""
        self._leaflets[leaflet.slug, leaflet.lang] = leaflet
        self._translations[leaflet.slug, leaflet.lang] = (leaflet, ())

    def check(self, row: Row) -> Entry | list[InputError]:
        """The row as an Entry, or every problem that stops it."""
        cells = _Cells(row.values)
        values, attempt, parsed = row.values, cells.attempt, cells.parsed
        moment = attempt(lambda: _moment(values))
        before = moment == BEFORE  # at discharge the hour of the operation is not used
        on, at = parsed("date", parse_date), parsed("time", parse_time, required=before)
        birth_date = parsed("birth_date", parse_date, required=False)
        if not values.get("name", "").strip():  # said with the rest, not after them
            cells.problems.append(
                InputError("mag niet leeg zijn", field="name", hint=_HINTS["name"])
            )
        discharge = self._discharge(cells)
        found = attempt(
            lambda: self.translation(
                self.leaflets.key(values["leaflet"]), values.get("language", "")
            )
        )
        leaflet, language_notes = found or (None, ())
        variant = site = None
        if leaflet is not None:
            dutch = self.leaflet(leaflet.slug, DEFAULT_LANGUAGE).meta.variants
            labels = {k: [v.label, dutch.get(k, v).label] for k, v in leaflet.meta.variants.items()}
            variant = attempt(lambda: _Names(labels, "ingreep", "variant").key(values["variant"]))
            site = attempt(lambda: self._serving(
                self.sites.key(values["site"], leaflet.meta.sites), on))  # fmt: skip
        surgeon = attempt(lambda: self._serving(self.surgeons.key(values["surgeon"]), on))
        if cells.problems or leaflet is None or moment is None:
            return cells.problems
        try:
            visit = make_visit(
                moment=moment,
                **discharge,
                name=values["name"],
                reference=values.get("reference") or None,
                birth_date=birth_date,
                language=leaflet.lang,
                leaflet=leaflet.slug,
                variant=variant,
                surgeon=surgeon,
                site=site,
                date=on,
                time=at if before else None,
            )
            p = personalise(visit, leaflet, self.registry)
        except InputError as exc:
            return [exc]
        return Entry(
            row=row.number,
            p=p,
            file=leaflet_file_name(visit, leaflet.lang),
            who=visit.patient.reference or pseudonym(visit),
            warnings=language_notes + tuple(warnings(p, self.today)),
        )

    def _serving(self, key: str, on: date | None) -> str:
        """A surgeon or campus (by its key) that has not retired by the appointment's day."""
        surgeon = self.registry.surgeons.get(key)
        item = surgeon or self.registry.sites[key]
        day = on or self.today
        if item.retired is not None and item.retired <= day:
            what, name = ("chirurg", surgeon.display_name) if surgeon else ("campus", item.name)
            raise InputError(
                f"{name} is geen {what} van het ziekenhuis meer (sinds {item.retired:%d/%m/%Y})",
                field="surgeon" if surgeon else "site",
                hint=f"kies een andere {what}; de beheerder houdt de lijst bij",
            )
        return key

    def _discharge(self, cells: _Cells) -> dict[str, object]:
        """The discharge columns (make_visit says where they belong). A follow-up date with
        an hour in it (an Excel date-time cell) gives the hour too."""
        found: dict[str, object] = {
            "discharge_date": cells.parsed("discharge_date", parse_date, required=False),
            "followup_time": cells.parsed("followup_time", parse_time, required=False),
        }
        day = cells.values.get("followup_date", "")
        if match := _DATE_TIME.match(day):  # the row itself is left as read (its key)
            day, hour = match.groups()
            if found["followup_time"] is None and not cells.values.get("followup_time"):
                found["followup_time"] = parse_time(hour, "followup_time")
        found["followup_date"] = (
            cells.attempt(lambda: parse_date(day, "followup_date")) if day else None
        )
        if text := cells.values.get("followup_site"):
            found["followup_site"] = cells.attempt(lambda: self.followup_sites.key(text))
        return found


_DATE_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2})(?::\d{2})?$")  # from Excel


def _moment(values: dict[str, str]) -> str:
    """The row's moment; never guessed: a discharge date under no moment is asked about."""
    if not values.get("moment") and values.get("discharge_date"):
        raise InputError(
            "ontbreekt",
            field="moment",
            hint="deze rij heeft een ontslagdatum: schrijf 'ontslag' voor de folder bij ontslag, "
            "of 'voor' en laat de ontslagdatum leeg",
        )
    return parse_moment(values.get("moment", ""))


def day_cell(values: dict[str, str]) -> str:
    """The cell that gives the day a row's leaflet is for: the discharge date for a row at
    discharge (or with a discharge date and no readable moment), else the operation date."""
    try:
        moment: str | None = parse_moment(values.get("moment", ""))
    except InputError:
        moment = None
    discharge = values.get("discharge_date", "")
    if moment == DISCHARGE or (moment is None and discharge):
        return discharge
    return values.get("date", "")


class _Cells:
    """A row's cells parsed one by one; every problem is collected, none stops the others."""

    def __init__(self, values: dict[str, str]) -> None:
        self.values = values
        self.problems: list[InputError] = []

    def attempt(self, step: Callable[[], T]) -> T | None:
        try:
            return step()
        except InputError as exc:
            self.problems.append(exc)
            return None

    def parsed(self, name: str, parse: Callable[[str, str], T], required: bool = True) -> T | None:
        text = self.values.get(name, "")
        if not text:
            if required:
                self.problems.append(InputError("ontbreekt", field=name, hint=_HINTS[name]))
            return None
        return self.attempt(lambda: parse(text, name))


def plan(day: DayList, project: Project, registry: Registry, today: date) -> Plan:
    """Check every row; duplicates (same patient, leaflet, day and hour) are refused."""
    planner = Planner(project, registry, today)
    result = Plan()
    seen: dict[str, int] = {}
    for row in day.rows:
        try:
            checked = planner.check(row)
        except LeafletpressError as exc:  # a broken leaflet file: refuse its rows, go on
            result.refusals.append(Refusal(row.number, None, str(exc)))
            continue
        if isinstance(checked, list):
            for problem in checked:
                field_name = {"lang": "language"}.get(problem.field or "", problem.field)
                column = day.column(field_name) if field_name else None
                result.refusals.append(Refusal(row.number, column, problem.message, problem.hint))
        elif checked.file in seen:
            when = "uur" if checked.p.visit.discharge is None else "ontslagdag"
            result.refusals.append(
                Refusal(
                    row.number,
                    None,
                    f"dubbele rij: dezelfde patiënt, folder en {when} als rij {seen[checked.file]}",
                    "verwijder een van beide rijen",
                )
            )
        else:
            seen[checked.file] = row.number
            result.entries.append(checked)
    return result
