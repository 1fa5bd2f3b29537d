"""Labels and date/time formats per language (Babel), and the placeholder values."""

from __future__ import annotations

from datetime import date, datetime, time
from functools import cache
from pathlib import Path

from babel.dates import format_date, format_time

from .errors import ContentError
from .markup import PLACEHOLDERS
from .validation import in_language, load_yaml
from .visit import Personalisation


class Labels(dict[str, str]):
    """Printed labels of one language; a missing one names the file to add it to."""

    def __init__(self, values: dict[str, str], shown_as: str) -> None:
        super().__init__(values)
        self.shown_as = shown_as

    def __missing__(self, key: str) -> str:
        raise ContentError(f"label '{key}' ontbreekt", file=self.shown_as,
                           hint=f"voeg '{key}: <tekst>' toe")  # fmt: skip


@cache
def load_labels(templates_dir: Path, lang: str) -> Labels:
    shown = f"templates/i18n/{lang}.yaml"
    labels = load_yaml(templates_dir / "i18n" / f"{lang}.yaml", shown)
    if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
        raise ContentError("moet een lijst 'sleutel: tekst' zijn", file=shown)
    return Labels(labels, shown)


def long_date(value: date, locale: str) -> str:
    """'dinsdag 3 december 2026'."""
    return format_date(value, "EEEE d MMMM y", locale=locale)


def short_date(value: date, locale: str) -> str:
    """'03/12/2026'."""
    return format_date(value, "dd/MM/y", locale=locale)


def clock(value: time | datetime, locale: str) -> str:
    """'07:30'."""
    return format_time(value, "HH:mm", locale=locale)


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
