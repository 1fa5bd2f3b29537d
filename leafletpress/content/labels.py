"""Labels and date/time formats per language (Babel)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from functools import cache
from pathlib import Path

from babel.dates import format_date, format_time

from ..common.errors import ContentError
from ..common.validation import load_yaml


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


def dated(value: date, pattern: str, locale: str) -> str:
    """Babel's ``pattern``, but the first of the month in French is "1er" ("le 1er janvier")."""
    if locale.startswith("fr") and value.day == 1:
        pattern = pattern.replace("d", "d'er'", 1)
    return format_date(value, pattern, locale=locale)


def long_date(value: date, locale: str) -> str:
    """'dinsdag 3 december 2026', 'vendredi 1er janvier 2027'."""
    return dated(value, "EEEE d MMMM y", locale)


def short_date(value: date, locale: str) -> str:
    """'03/12/2026'."""
    return format_date(value, "dd/MM/y", locale=locale)


# How a patient text writes the time of day, per language: Belgian French writes "6 h 00",
# "14 h 30" (with no-break spaces), Dutch and English "06:00", "14:30".
_CLOCK = {"fr": "H'\u00a0h\u00a0'mm"}


def clock(value: time | datetime, locale: str) -> str:
    """'07:30' ('7 h 30' in French)."""
    return format_time(value, _CLOCK.get(locale[:2], "HH:mm"), locale=locale)


def day_and_time(moment: datetime, labels: Mapping[str, str], locale: str) -> str:
    """'maandag 14 december 2026 om 23:00'. Midnight as the patient lives it: the evening
    before, 'zondag 28 maart 2027 om middernacht (24:00)', never 'maandag om 00:00'."""
    if moment.time() == time(0, 0):
        evening = long_date(moment.date() - timedelta(days=1), locale)
        return labels["date_at_midnight"].format(date=evening)
    return labels["date_at_time"].format(date=long_date(moment.date(), locale),
                                         time=clock(moment, locale))  # fmt: skip
