"""The visit (who, what, where, when) and everything derived from it, computed in one place."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints, ValidationError

from .content import LOCALES, Leaflet, Timing
from .errors import InputError, choices
from .registry import Registry, Site, Surgeon
from .validation import Slug, dutch

_DATE_DMY = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_DATE_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_TIME = re.compile(r"^(\d{1,2})(?:[:uUhH.](\d{2})|[uUhH])$")


def parse_date(text: str, field: str = "date") -> date:
    """'2026-12-03' or '03/12/2026' (also with '.' or '-'); impossible dates are refused."""
    value = text.strip()
    if match := _DATE_ISO.match(value):
        year, month, day = (int(g) for g in match.groups())
    elif match := _DATE_DMY.match(value):
        day, month, year = (int(g) for g in match.groups())
    else:
        raise InputError(
            f"'{text}' is geen datum", field=field, hint="schrijf 2026-12-03 of 03/12/2026"
        )
    try:
        return date(year, month, day)
    except ValueError:
        raise InputError(
            f"de datum '{text}' bestaat niet", field=field, hint="controleer dag en maand"
        ) from None


def parse_time(text: str, field: str = "time") -> time:
    """'08:30', '8:30', '8u30', '8.30' or '8u'; impossible times are refused."""
    match = _TIME.match(text.strip())
    if not match:
        raise InputError(f"'{text}' is geen uur", field=field, hint="schrijf 08:30 of 8u30")
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    if hour > 23 or minute > 59:
        raise InputError(
            f"het uur '{text}' bestaat niet", field=field, hint="uren 0-23, minuten 0-59"
        )
    return time(hour, minute)


def _printable(value: str) -> str:
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in value):
        raise ValueError("bevat onzichtbare of stuurtekens")
    return value


Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=120),
    AfterValidator(_printable),
]
Reference = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")]


class Patient(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Name
    reference: Reference | None = None
    birth_date: date | None = None
    language: str = "nl"


class Visit(BaseModel):
    """One patient's appointment: the personalisation record."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    patient: Patient
    leaflet: Slug
    variant: Slug
    surgeon: Slug
    site: Slug
    date: date
    time: time


_FIELD_HINTS = {
    "name": "geef de naam van de patiënt, zonder stuurtekens",
    "reference": "1-40 tekens: letters, cijfers, punt, koppelteken of underscore",
    "birth_date": "schrijf 1958-03-12 of 12/03/1958",
}


def make_visit(**fields: object) -> Visit:
    """Build a Visit from loose input; problems become InputErrors naming the field."""
    patient = {k: fields.pop(k) for k in ("name", "reference", "birth_date") if k in fields}
    if "language" in fields:
        patient["language"] = fields.pop("language")
    try:
        return Visit.model_validate({**fields, "patient": patient})
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][-1])
        raise InputError(dutch(error), field=field, hint=_FIELD_HINTS.get(field)) from None


@dataclass(frozen=True)
class Schedule:
    """Times derived from the appointment and the leaflet's timing rules."""

    procedure_at: datetime
    arrival_at: datetime
    fasting_from: datetime
    blood_thinners_by: date


def schedule(on: date, at: time, timing: Timing) -> Schedule:
    procedure_at = datetime.combine(on, at)
    return Schedule(
        procedure_at=procedure_at,
        arrival_at=procedure_at - timedelta(minutes=timing.arrival_minutes_before),
        fasting_from=procedure_at - timedelta(hours=timing.fasting_hours),
        blood_thinners_by=on - timedelta(days=timing.blood_thinner_notice_days),
    )


@dataclass(frozen=True)
class Personalisation:
    """A visit resolved against its leaflet and the registry: all a template needs."""

    visit: Visit
    leaflet: Leaflet
    site: Site
    surgeon: Surgeon
    schedule: Schedule

    @property
    def locale(self) -> str:
        return LOCALES[self.leaflet.lang]


def personalise(visit: Visit, leaflet: Leaflet, registry: Registry) -> Personalisation:
    """Check the visit against the leaflet and registry; unknown names list the valid ones."""
    leaflet.require_variant(visit.variant)
    site = registry.sites.get(visit.site)
    if site is None:
        raise InputError(
            f"onbekende campus '{visit.site}'",
            field="site",
            hint=f"kies uit: {choices(leaflet.meta.sites)}",  # where this procedure is done
        )
    if visit.site not in leaflet.meta.sites:
        raise InputError(
            f"deze ingreep gebeurt niet in {site.name}",
            field="site",
            hint=f"kies uit: {choices(leaflet.meta.sites)}",
        )
    surgeon = registry.surgeons.get(visit.surgeon)
    if surgeon is None:
        raise InputError(
            f"onbekende chirurg '{visit.surgeon}'",
            field="surgeon",
            hint=f"kies uit: {choices(registry.surgeons)}",
        )
    if visit.site not in surgeon.sites:
        here = [key for key, s in registry.surgeons.items() if visit.site in s.sites]
        raise InputError(
            f"{surgeon.display_name} opereert niet in {site.name}",
            field="surgeon",
            hint=f"chirurgen in {site.name}: {choices(here)}",
        )
    return Personalisation(
        visit, leaflet, site, surgeon, schedule(visit.date, visit.time, leaflet.meta.timing)
    )


def warnings(p: Personalisation, today: date) -> list[str]:
    """Things the secretary must know before handing the leaflet over (never printed on it)."""
    found = []
    if p.visit.date < today:
        found.append(f"de datum van de ingreep ({p.visit.date:%d/%m/%Y}) ligt in het verleden")
    elif p.schedule.blood_thinners_by < today:
        found.append(
            f"de termijn om bloedverdunners te melden ({p.schedule.blood_thinners_by:%d/%m/%Y}) "
            "is al verstreken: neem contact op met de patiënt"
        )
    if p.leaflet.meta.review_by < today:
        found.append(
            f"{p.leaflet.shown_as} moest herzien zijn op {p.leaflet.meta.review_by:%d/%m/%Y}: "
            "vraag de dienst om een nagekeken versie"
        )
    return found
