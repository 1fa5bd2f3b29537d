"""The visit: who, what, where and when, as typed by a person or read from a row, validated.

Dates and times are parsed here, in the formats Belgian secretaries write them."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from datetime import date, time
from functools import cache
from typing import Annotated

from babel import Locale
from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints, ValidationError

from ..common.errors import InputError, clipped
from ..common.matching import match_key
from ..common.validation import Slug, dutch
from ..content.leaflet import BEFORE, DISCHARGE, MOMENTS

_DATE_DMY = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_DATE_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DATE_WORDS = re.compile(r"^(\d{1,2})\.?\s+([^\W\d_]+)\.?\s+(\d{4})$")  # 15 dec 2026
_TIME = re.compile(r"^(\d{1,2})(?:[:uUhH.](\d{2})|[uUhH])$")


YEARS = (1900, 2100)  # a birth date or an appointment; others are typing errors (0001, 20260)


@cache
def _months() -> dict[str, int]:
    """Month names as people type them, in Dutch, French and English (Babel's CLDR data):
    'dec', 'december', 'déc.', 'décembre', 'Dec', ... -> 12; plus Dutch 'maa' for March."""
    table = {"maa": 3}
    for lang in ("nl", "fr", "en"):
        months = Locale.parse(lang).months["format"]
        for width in ("abbreviated", "wide"):
            for number, name in months[width].items():
                table[match_key(name)] = number
    return table


def parse_date(text: str, field: str = "date") -> date:
    """'2026-12-03', '03/12/2026' (also with '.' or '-'), or '3 dec 2026' (month names in
    Dutch, French or English); impossible dates are refused."""
    value = text.strip()
    if match := _DATE_ISO.match(value):
        year, month, day = (int(g) for g in match.groups())
    elif match := _DATE_DMY.match(value):
        day, month, year = (int(g) for g in match.groups())
    elif (match := _DATE_WORDS.match(value)) and match_key(match.group(2)) in _months():
        day, month, year = int(match[1]), _months()[match_key(match[2])], int(match[3])
    else:
        raise InputError(
            f"'{clipped(text)}' is geen datum",
            field=field,
            hint="schrijf 03/12/2026, 3 dec 2026 of 2026-12-03",
        )
    if not YEARS[0] <= year <= YEARS[1]:
        raise InputError(
            f"de datum '{clipped(text)}' ligt niet tussen {YEARS[0]} en {YEARS[1]}",
            field=field,
            hint="controleer het jaartal",
        )
    try:
        return date(year, month, day)
    except ValueError:
        raise InputError(
            f"de datum '{clipped(text)}' bestaat niet", field=field, hint="controleer dag en maand"
        ) from None


def parse_time(text: str, field: str = "time") -> time:
    """'08:30', '8:30', '8u30', '8.30' or '8u'; impossible times are refused."""
    match = _TIME.match(text.strip())
    if not match:
        raise InputError(
            f"'{clipped(text)}' is geen uur", field=field, hint="schrijf 08:30 of 8u30"
        )
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    if hour > 23 or minute > 59:
        raise InputError(
            f"het uur '{clipped(text)}' bestaat niet", field=field, hint="uren 0-23, minuten 0-59"
        )
    return time(hour, minute)


def _printable(value: str) -> str:
    """The name in its composed form (NFC: "e" and a combining accent become "é", the same
    letter, as a printed leaflet and a screen reader give it); invisible characters refused."""
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in value):
        raise ValueError("bevat onzichtbare of stuurtekens")
    return unicodedata.normalize("NFC", value)


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


class Discharge(BaseModel):
    """Leaving hospital after the operation, and the follow-up visit if it is planned."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    date: dt.date
    followup_date: dt.date | None = None
    followup_time: dt.time | None = None
    followup_site: Slug | None = None


class Visit(BaseModel):
    """One patient's operation, and the moment the leaflet is for: before it (``voor``), or
    at discharge (``ontslag``, with ``discharge``). The personalisation record."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    patient: Patient
    leaflet: Slug
    variant: Slug
    surgeon: Slug
    site: Slug
    date: date  # of the operation
    time: time | None  # of the operation: needed before it, not at discharge
    discharge: Discharge | None = None

    @property
    def moment(self) -> str:
        return BEFORE if self.discharge is None else DISCHARGE

    @property
    def day(self) -> dt.date:
        """The day the leaflet is for: the operation's, or the discharge's."""
        return self.date if self.discharge is None else self.discharge.date


# How people write the moment, in a list or a form (compared ignoring case and spaces).
_MOMENT_NAMES = {
    BEFORE: ("voor", "voor de ingreep", "vóór", "pre-op", "opname", "avant", "before"),
    DISCHARGE: ("ontslag", "bij ontslag", "na", "discharge", "sortie", "after"),
}


def parse_moment(text: str, field: str = "moment") -> str:
    """'voor' (also empty) or 'ontslag', as people write them."""
    key = match_key(text)
    if not key:
        return BEFORE
    for moment, names in _MOMENT_NAMES.items():
        if key in {match_key(n) for n in names}:
            return moment
    raise InputError(
        f"onbekend moment '{clipped(text)}'",
        field=field,
        hint=" of ".join(f"{key} ({what})" for key, what in MOMENTS.items()),
    )


_FIELD_HINTS = {
    "name": "geef de naam van de patiënt, zonder stuurtekens",
    "reference": "1-40 tekens: letters, cijfers, punt, koppelteken of underscore",
    "birth_date": "schrijf 1958-03-12 of 12/03/1958",
}


_DISCHARGE_FIELDS = ("discharge_date", "followup_date", "followup_time", "followup_site")


def _discharge(moment: str, fields: dict[str, object]) -> dict[str, object] | None:
    """The discharge part of loose input: only at discharge, where its date is required."""
    popped = {k: fields.pop(k, None) for k in _DISCHARGE_FIELDS}
    given = {k: v for k, v in popped.items() if v is not None}
    if moment == BEFORE:
        if given:
            raise InputError(
                "hoort enkel bij een folder bij ontslag",
                field=next(iter(given)),
                hint="kies moment 'ontslag', of laat dit veld leeg",
            )
        if fields.get("time") is None:
            raise InputError("ontbreekt", field="time", hint="het uur van de ingreep: 8u30")
        return None
    if "discharge_date" not in given:
        raise InputError("ontbreekt", field="discharge_date", hint="de dag van het ontslag")
    return {"date" if k == "discharge_date" else k: v for k, v in given.items()}


def make_visit(**fields: object) -> Visit:
    """Build a Visit from loose input; problems become InputErrors naming the field. At
    discharge (``moment='ontslag'``) give discharge_date and the follow-up if planned."""
    moment = str(fields.pop("moment", BEFORE))
    keys = ("name", "reference", "birth_date", "language")
    patient = {k: fields.pop(k) for k in keys if k in fields}
    fields.setdefault("time", None)
    discharge = _discharge(moment, fields)
    if moment == DISCHARGE:
        fields["time"] = None  # the operation's hour plays no part at discharge
    try:
        return Visit.model_validate({**fields, "patient": patient, "discharge": discharge})
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = tuple(error["loc"])
        field = "discharge_date" if loc == ("discharge", "date") else str(loc[-1])
        raise InputError(dutch(error), field=field, hint=_FIELD_HINTS.get(field)) from None
