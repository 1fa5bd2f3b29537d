"""A visit resolved against its leaflet and the registry: derived times, checks, warnings and
the placeholder values, computed in one place."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from ..common.errors import InputError, choices, clipped
from ..common.validation import in_language
from ..content.fonts import described, hint, unprintable
from ..content.labels import clock, long_date
from ..content.leaflet import LOCALES, Leaflet, Timing
from ..content.markup import PLACEHOLDERS
from ..content.registry import Registry, Site, Surgeon
from .appointment import Visit
from .calendar import Calendar, calendar


@dataclass(frozen=True)
class Schedule:
    """Times derived from the appointment and the leaflet's timing rules."""

    procedure_at: datetime
    arrival_at: datetime
    fasting_from: datetime
    blood_thinners_by: date


def schedule(on: date, at: time, timing: Timing, days: Calendar) -> Schedule:
    """Derived moments in the hospital's time zone and real elapsed time; the blood-thinner
    deadline on a working day (see calendar.py)."""
    procedure_at = days.moment(on, at)
    return Schedule(
        procedure_at=procedure_at,
        arrival_at=days.before(procedure_at, timedelta(minutes=timing.arrival_minutes_before)),
        fasting_from=days.before(procedure_at, timedelta(hours=timing.fasting_hours)),
        blood_thinners_by=days.working_day(on - timedelta(days=timing.blood_thinner_notice_days)),
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


def hospital_calendar(registry: Registry) -> Calendar:
    return calendar(registry.hospital.timezone, registry.hospital.holidays)


def personalise(visit: Visit, leaflet: Leaflet, registry: Registry) -> Personalisation:
    """Check the visit against the leaflet and registry; unknown names list the valid ones."""
    leaflet.require_variant(visit.variant)
    if missing := unprintable(visit.patient.name, registry.fonts_dir):
        raise InputError(
            f"deze tekens kan de folder niet drukken: {described(missing)}",
            field="name",
            hint=hint(missing),
        )
    site = registry.sites.get(visit.site)
    if site is None:
        raise InputError(
            f"onbekende campus '{clipped(visit.site)}'",
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
            f"onbekende chirurg '{clipped(visit.surgeon)}'",
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
        visit,
        leaflet,
        site,
        surgeon,
        schedule(visit.date, visit.time, leaflet.meta.timing, hospital_calendar(registry)),
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


def placeholder_values(p: Personalisation, labels: dict[str, str]) -> dict[str, str]:
    """The values for every name in markup.PLACEHOLDERS, formatted for the patient's language."""
    loc, s = p.locale, p.schedule
    values = {
        "patient_name": p.visit.patient.name,
        "procedure": p.leaflet.meta.variants[p.visit.variant].label,
        "date": long_date(s.procedure_at.date(), loc),
        "time": clock(s.procedure_at, loc),
        "arrival_time": clock(s.arrival_at, loc),
        "fasting_from": labels["date_at_time"].format(
            date=long_date(s.fasting_from.date(), loc), time=clock(s.fasting_from, loc)
        ),
        "blood_thinners_by": long_date(s.blood_thinners_by, loc),
        "surgeon": p.surgeon.name_in(p.leaflet.lang),
        "site": p.site.name,
        "site_address": p.site.address,
        "site_phone": p.site.phone,
        "report_to": in_language(p.site.report_to, p.leaflet.lang),
    }
    assert values.keys() == PLACEHOLDERS.keys()
    return values
