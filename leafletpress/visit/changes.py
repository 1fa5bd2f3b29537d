"""What a corrected clinic-day list changes against the list it replaces.

Input: the earlier list and the corrected one, both read and planned (``DayList``, ``Plan``),
and the registry for the names people know. Output: ``Changes``: per row of the corrected
list, new, changed (each change in her words: "uur 09:30 → 11:00") or the same; and the
earlier rows that are gone. Patients are matched by reference (else by name and birth date),
leaflet and moment; a changed name or address is said, never shown.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import date, time
from typing import Any

from ..common.keyed import keyed
from ..content.languages import language_name
from ..content.registry import Registry
from .daylist import DayList
from .plan import Entry, Plan

Key = tuple[str, str, str]


@dataclass(frozen=True)
class Changed:
    row: int  # in the corrected list
    who: str
    what: tuple[str, ...]  # "uur 09:30 → 11:00", "e-mailadres gewijzigd"

    @property
    def reprint(self) -> bool:
        """Whether the leaflet changes too (not when only the address did)."""
        return self.what != (ADDRESS_CHANGED,)


@dataclass
class Changes:
    """The corrected list against the earlier one."""

    changed: list[Changed] = field(default_factory=list)
    new: list[tuple[int, str]] = field(default_factory=list)  # (row, who) in the corrected list
    gone: list[tuple[int, str]] = field(default_factory=list)  # (row, who) in the earlier list
    held: list[tuple[int, str]] = field(default_factory=list)  # earlier rows refused now: kept
    same: list[int] = field(default_factory=list)  # rows of the corrected list

    @property
    def any(self) -> bool:
        return bool(self.changed or self.new or self.gone or self.held)

    @property
    def summary(self) -> str:
        """'2 rijen gewijzigd; 3 nieuwe rijen; 1 rij weg; 194 rijen ongewijzigd'."""
        parts = [
            _count(len(self.changed), "rij gewijzigd", "rijen gewijzigd"),
            _count(len(self.new), "nieuwe rij", "nieuwe rijen"),
            _count(len(self.gone), "rij weg", "rijen weg"),
            _count(len(self.held), "rij met een fout", "rijen met een fout"),
            _count(len(self.same), "rij ongewijzigd", "rijen ongewijzigd"),
        ]
        return "; ".join(p for p in parts if p) or "geen rijen"


def _count(n: int, one: str, many: str) -> str:
    return "" if n == 0 else f"1 {one}" if n == 1 else f"{n} {many}"


def patient_key(entry: Entry) -> Key:
    """Who and what a row is for, whatever else changed: the reference (any case), else the
    name and birth date (keyed: never kept as such); the leaflet and the moment."""
    patient, visit = entry.p.visit.patient, entry.p.visit
    who = (patient.reference or "").lower() or "n:" + keyed(
        f"{' '.join(patient.name.casefold().split())}|{patient.birth_date}"
    )
    return who, visit.leaflet, visit.moment


def compare(
    earlier: tuple[DayList, Plan],
    corrected: tuple[DayList, Plan],
    registry: Registry,
    refused: Collection[str] = (),
) -> Changes:
    """Pair the rows of both lists by patient; rows of one patient with the same leaflet and
    moment pair in list order. An earlier row whose reference (lower case) is in ``refused``,
    the references of the corrected list's refused rows, is held, not gone: a typo in the
    correction never takes a patient's leaflet away."""
    before: dict[Key, list[Entry]] = defaultdict(list)
    for entry in earlier[1].entries:
        before[patient_key(entry)].append(entry)
    cells = (
        {row.number: row.values for row in earlier[0].rows},
        {row.number: row.values for row in corrected[0].rows},
    )
    changes = Changes()
    for entry in corrected[1].entries:
        matches = before.get(patient_key(entry))
        if not matches:
            changes.new.append((entry.row, entry.who))
            continue
        old = matches.pop(0)
        what = tuple(differences(old, entry, cells[0][old.row], cells[1][entry.row], registry))
        if what:
            changes.changed.append(Changed(entry.row, entry.who, what))
        else:
            changes.same.append(entry.row)
    left = sorted((e.row, e.who) for entries in before.values() for e in entries)
    changes.held = [(row, who) for row, who in left if who.lower() in refused]
    changes.gone = [(row, who) for row, who in left if who.lower() not in refused]
    return changes


def differences(
    old: Entry, new: Entry, old_cells: dict[str, str], new_cells: dict[str, str], reg: Registry
) -> Iterable[str]:
    """Each change, as she would say it."""
    a, b = old.p.visit, new.p.visit
    site = _name_of(reg.sites)
    shown: list[tuple[str, Any, Any, Callable[[Any], str]]] = [
        ("datum", a.date, b.date, _date),
        ("uur", a.time, b.time, _time),
        ("campus", a.site, b.site, site),
        ("chirurg", a.surgeon, b.surgeon, _surgeon_of(reg)),
        ("procedure", a.variant, b.variant, lambda v: _variant(new, v)),
        ("taal", old.p.leaflet.lang, new.p.leaflet.lang, language_name),
    ]
    if a.discharge and b.discharge:
        x, y = a.discharge, b.discharge
        shown += [
            ("ontslagdatum", x.date, y.date, _date),
            ("controle op", x.followup_date, y.followup_date, _date),
            ("uur van de controle", x.followup_time, y.followup_time, _time),
            ("campus van de controle", x.followup_site, y.followup_site, site),
        ]
    for label, before, after, say in shown:
        if before != after:
            yield f"{label} {say(before)} → {say(after)}"
    said = [
        ("naam", a.patient.name, b.patient.name),
        ("geboortedatum", a.patient.birth_date, b.patient.birth_date),
    ]
    for label, before, after in said:
        if before != after:
            yield f"{label} gewijzigd"
    if old_cells.get("email", "") != new_cells.get("email", ""):
        yield ADDRESS_CHANGED


ADDRESS_CHANGED = "e-mailadres gewijzigd"  # the only change that leaves the leaflet as it was


def _date(value: date | None) -> str:
    return f"{value:%d/%m/%Y}" if value else "geen"


def _time(value: time | None) -> str:
    return f"{value:%H:%M}" if value else "geen"


def _name_of(sites: dict[str, Any]) -> Callable[[Any], str]:
    return lambda key: sites[key].name if key in sites else str(key or "geen")


def _surgeon_of(reg: Registry) -> Callable[[Any], str]:
    return lambda key: reg.surgeons[key].display_name if key in reg.surgeons else str(key)


def _variant(entry: Entry, key: str) -> str:
    variants = entry.p.leaflet.meta.variants
    return variants[key].label if key in variants else key
