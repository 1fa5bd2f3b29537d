"""A visit resolved against its leaflet and the registry: derived times, checks, warnings and
the placeholder values, computed in one place.

Before the operation that is the schedule (arrival, fasting, blood-thinner deadline); at
discharge it is the aftercare (the follow-up visit and the recovery milestones as dates)."""

from __future__ import annotations

from calendar import monthrange
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from ..common.errors import ContentError, InputError, choices, clipped
from ..common.validation import in_language
from ..content.fonts import described, hint, unprintable
from ..content.labels import clock, day_and_time, long_date
from ..content.leaflet import LOCALES, Leaflet, Milestone, Timing
from ..content.markup import BEFORE_ONLY, PLACEHOLDERS, refuse_unprintable
from ..content.registry import Registry, Site, Surgeon
from .appointment import Discharge, Visit
from .calendar import Calendar, calendar


@dataclass(frozen=True)
class Schedule:
    """Times derived from the appointment and the leaflet's timing rules."""

    procedure_at: datetime
    arrival_at: datetime
    fasting_from: datetime
    blood_thinners_by: date
    on_working_day: bool = True  # not on a weekend or public holiday: a typing error?


def schedule(on: date, at: time, timing: Timing, arrival_minutes: int, days: Calendar) -> Schedule:
    """Derived moments in the hospital's time zone and real elapsed time: from the leaflet's
    timing rules and the hospital's arrival policy; the blood-thinner deadline on a working day
    (see calendar.py)."""
    procedure_at = days.moment(on, at)
    return Schedule(
        procedure_at=procedure_at,
        arrival_at=days.before(procedure_at, timedelta(minutes=arrival_minutes)),
        fasting_from=days.before(procedure_at, timedelta(hours=timing.fasting_hours)),
        blood_thinners_by=days.working_day(on - timedelta(days=timing.blood_thinner_notice_days)),
        on_working_day=days.working_day(on) == on,
    )


def _arrival(s: Schedule, labels: Mapping[str, str], locale: str) -> str:
    """'07:30'; with its day when that is not the procedure's ('maandag 14 december 2026 om
    23:30' for a procedure at 00:30), and midnight as the evening before."""
    if s.arrival_at.date() == s.procedure_at.date() and s.arrival_at.time() != time(0, 0):
        return clock(s.arrival_at, locale)
    return day_and_time(s.arrival_at, labels, locale)


def after(on: date, unit: str, count: int) -> date:
    """``count`` days, weeks or months after ``on`` (31 Jan + 1 month: the last of February)."""
    if unit == "days":
        return on + timedelta(days=count)
    if unit == "weeks":
        return on + timedelta(weeks=count)
    months = on.month - 1 + count
    year, month = on.year + months // 12, months % 12 + 1
    return date(year, month, min(on.day, monthrange(year, month)[1]))


@dataclass(frozen=True)
class Step:
    """A recovery milestone of the procedure with its dates: (earliest, latest) counted from
    the operation day, or None when the leaflet words it without a number. ``passed``: a step
    that starts by the discharge day (printed in its ``done`` wording)."""

    milestone: Milestone
    dates: tuple[date, date] | None
    passed: bool = False


@dataclass(frozen=True)
class Aftercare:
    """What the discharge card says beyond the visit itself."""

    discharge: Discharge
    consultation: str  # key in Site.consultations
    followup_site: Site | None
    followup_at: datetime | None  # when date and time are planned
    recovery: tuple[Step, ...]
    followup_on_working_day: bool = True  # not on a weekend or public holiday


@dataclass(frozen=True)
class Personalisation:
    """A visit resolved against its leaflet and the registry: all a template needs. Before
    the operation it has a schedule; at discharge, aftercare."""

    visit: Visit
    leaflet: Leaflet
    site: Site
    surgeon: Surgeon
    schedule: Schedule | None
    aftercare: Aftercare | None = None

    @property
    def locale(self) -> str:
        return LOCALES[self.leaflet.lang]


def hospital_calendar(registry: Registry) -> Calendar:
    return calendar(registry.hospital.timezone, registry.hospital.holidays)


def personalise(visit: Visit, leaflet: Leaflet, registry: Registry) -> Personalisation:
    """Check the visit against the leaflet and registry; unknown names list the valid ones."""
    leaflet.require_variant(visit.variant)
    if visit.discharge is not None:
        leaflet.require_discharge()
    refuse_unprintable(leaflet, visit.variant, visit.moment)
    if missing := unprintable(visit.patient.name, registry.fonts_dir):
        raise InputError(
            f"deze tekens kan de folder niet drukken: {described(missing)}",
            field="name",
            hint=hint(missing),
        )
    site = registry.sites.get(visit.site)
    operating = choices(registry.sites[k].name for k in leaflet.meta.sites if k in registry.sites)
    if site is None:
        raise InputError(
            f"onbekende campus '{clipped(visit.site)}'",
            field="site",
            hint=f"kies uit: {operating}",  # where this procedure is done, as she names them
        )
    if visit.site not in leaflet.meta.sites:
        raise InputError(
            f"deze ingreep gebeurt niet in {site.name}",
            field="site",
            hint=f"kies uit: {operating}",
        )
    surgeon = registry.surgeons.get(visit.surgeon)
    if surgeon is None:
        raise InputError(
            f"onbekende chirurg '{clipped(visit.surgeon)}'",
            field="surgeon",
            hint=f"kies uit: {choices(registry.surgeons)}",
        )
    if visit.site not in surgeon.sites:
        here = [s.display_name for s in registry.surgeons.values() if visit.site in s.sites]
        raise InputError(
            f"{surgeon.display_name} opereert niet in {site.name}",
            field="surgeon",
            hint=f"chirurgen in {site.name}: {choices(here)}",
        )
    if not site.urgent_phone:
        raise ContentError(
            f"{site.name} heeft geen nummer voor klachten na een operatie, dag en nacht",
            file="config/sites.yaml",
            field=f"sites.{visit.site}.urgent_phone",
            hint="vul het in: elke folder drukt het bij de alarmsignalen, voor en na de operatie",
        )
    days = hospital_calendar(registry)
    if visit.discharge is not None:
        care = aftercare(visit, visit.discharge, leaflet, registry, days)
        return Personalisation(visit, leaflet, site, surgeon, None, care)
    assert visit.time is not None, "make_visit requires it before the operation"
    arrival = registry.hospital.policy.arrival_minutes_before.value
    times = schedule(visit.date, visit.time, leaflet.meta.timing, arrival, days)
    return Personalisation(visit, leaflet, site, surgeon, times)


def aftercare(
    visit: Visit, discharge: Discharge, leaflet: Leaflet, registry: Registry, days: Calendar
) -> Aftercare:
    """Check the discharge and follow-up; compute the recovery milestones' dates."""
    consultation = leaflet.require_discharge().consultation
    _in_order(("de operatie", visit.date), ("de ontslagdatum", discharge.date), "discharge_date",
              "ontslag is op of na de dag van de operatie")  # fmt: skip
    site = _followup_site(discharge, consultation, registry)
    followup_at = None
    if discharge.followup_date is not None:
        _in_order(("het ontslag", discharge.date), ("de controle", discharge.followup_date),
                  "followup_date", "de controle is na het ontslag")  # fmt: skip
        if discharge.followup_time is not None:
            followup_at = days.moment(
                discharge.followup_date, discharge.followup_time, "followup_time"
            )
    elif discharge.followup_time is not None:
        raise InputError(
            "een uur zonder datum", field="followup_time", hint="geef ook de datum van de controle"
        )
    steps = tuple(
        step
        for m in leaflet.meta.variants[visit.variant].recovery
        if (step := _step(m, visit.date, discharge.date)) is not None
    )
    working = discharge.followup_date is None or (
        days.working_day(discharge.followup_date) == discharge.followup_date
    )
    return Aftercare(discharge, consultation, site, followup_at, steps, working)


def _step(milestone: Milestone, operated: date, discharged: date) -> Step | None:
    """A milestone's dates; a step that starts by the discharge day is worded as done, or left
    out (a future tense dated before the card is handed over only confuses)."""
    if milestone.unit is None:
        return Step(milestone, None)
    low, high = (after(operated, milestone.unit, n) for n in milestone.span)
    if high <= discharged:
        done = milestone.done and milestone.kind == "from"
        return Step(milestone, None, passed=True) if done else None
    return Step(milestone, (low, high))


def _in_order(first: tuple[str, date], then: tuple[str, date], field: str, rule: str) -> None:
    """Refuse ``then`` before ``first``: 'de controle (04/12/2026) ligt vóór het ontslag ...'."""
    if then[1] < first[1]:
        raise InputError(
            f"{then[0]} ({then[1]:%d/%m/%Y}) ligt vóór {first[0]} ({first[1]:%d/%m/%Y})",
            field=field,
            hint=f"controleer beide datums: {rule}",
        )


def _followup_site(discharge: Discharge, consultation: str, registry: Registry) -> Site | None:
    """The follow-up campus: any that holds the consultation, named whenever a date is."""
    holding = [s.name for s in registry.sites.values() if consultation in s.consultations]
    hint = f"raadpleging {consultation} in: {choices(holding)}"
    key = discharge.followup_site
    if key is None:
        if discharge.followup_date is not None:
            raise InputError("kies de campus van de controle", field="followup_site",
                             hint=f"er is een dag van de controle; {hint}")  # fmt: skip
        return None
    site = registry.sites.get(key)
    if site is None:
        raise InputError(f"onbekende campus '{clipped(key)}'", field="followup_site", hint=hint)
    if consultation not in site.consultations:
        raise InputError(
            f"in {site.name} is er geen raadpleging {consultation}",
            field="followup_site",
            hint=hint,
        )
    return site


def warnings(p: Personalisation, today: date) -> list[str]:
    """Things the secretary must know before handing the leaflet over (never printed on it)."""
    if p.aftercare is not None:
        found = _discharge_warnings(p.visit.date, p.aftercare, today)
    else:
        found = _operation_warnings(p.visit.date, p.schedule, today)
    if p.leaflet.meta.review_by < today:
        found.append(
            f"{p.leaflet.shown_as} moest herzien zijn op {p.leaflet.meta.review_by:%d/%m/%Y}: "
            "vraag de dienst om een nagekeken versie"
        )
    return found


def _operation_warnings(day: date, planned: Schedule | None, today: date) -> list[str]:
    """A date in the past, a year typed wrong (2062 for 2026), a weekend or holiday, a
    blood-thinner deadline that has passed (issue 24, item 7)."""
    found = []
    if day < today:
        found.append(f"de datum van de ingreep ({day:%d/%m/%Y}) ligt in het verleden")
    elif day - today > FAR_AHEAD:
        found.append(f"de datum van de ingreep ({day:%d/%m/%Y}) ligt meer dan een jaar vooruit: "
                     "klopt het jaartal?")  # fmt: skip
    elif planned and planned.blood_thinners_by < today:
        found.append(
            f"de termijn om bloedverdunners te melden ({planned.blood_thinners_by:%d/%m/%Y}) "
            "is al verstreken: neem contact op met de patiënt"
        )
    if planned and not planned.on_working_day:
        found.append(f"de ingreep valt op {day:%d/%m/%Y}, een weekend of feestdag: klopt die "
                     "datum?")  # fmt: skip
    return found


FAR_AHEAD = timedelta(days=366)  # an operation planned further ahead: 2062 for 2026?
LONG_STAY = timedelta(days=30)  # longer between operation and discharge: a typing error?


def _discharge_warnings(operated: date, care: Aftercare, today: date) -> list[str]:
    found = []
    discharge, followup = care.discharge, care.discharge.followup_date
    if discharge.date - operated > LONG_STAY:
        found.append(
            f"de operatie ({operated:%d/%m/%Y}) ligt {(discharge.date - operated).days} dagen "
            f"vóór het ontslag ({discharge.date:%d/%m/%Y}): klopt het jaartal? De "
            "herstelstappen op de folder tellen vanaf de operatie"
        )
    if discharge.date < today:
        found.append(f"de ontslagdatum ({discharge.date:%d/%m/%Y}) ligt in het verleden")
    if followup is not None and followup < today:
        found.append(f"de controle ({followup:%d/%m/%Y}) ligt in het verleden")
    elif followup is not None and not care.followup_on_working_day:
        found.append(
            f"de controle valt op {followup:%d/%m/%Y}, een weekend of feestdag: klopt die datum?"
        )
    return found


def placeholder_values(p: Personalisation, labels: dict[str, str]) -> dict[str, str]:
    """The values for every name in markup.PLACEHOLDERS, formatted for the patient's language."""
    loc, s = p.locale, p.schedule
    values = {
        "patient_name": p.visit.patient.name,
        "procedure": p.leaflet.meta.variants[p.visit.variant].label,
        "date": long_date(p.visit.date, loc),
        "surgeon": p.surgeon.name_in(p.leaflet.lang),
        "site": p.site.name,
        "site_address": p.site.address,
        "site_phone": p.site.phone,
        "urgent_phone": p.site.urgent_phone or "",  # required (personalise); `check` says where
    }
    if s is None:  # at discharge: `check` keeps these out of the text that is printed then
        values |= dict.fromkeys(BEFORE_ONLY, "")
    else:
        values |= {
            "time": clock(s.procedure_at, loc),
            "arrival_time": _arrival(s, labels, loc),
            "fasting_from": day_and_time(s.fasting_from, labels, loc),
            "blood_thinners_by": long_date(s.blood_thinners_by, loc),
            "report_to": in_language(p.site.report_to, p.leaflet.lang),
        }
    assert values.keys() == PLACEHOLDERS.keys()
    return values
