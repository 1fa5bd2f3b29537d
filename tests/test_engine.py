"""Pure parts of the engine: Markdown blocks, input parsing, derived times, formatting."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from helpers import visit_fields

from leafletpress.common.errors import InputError
from leafletpress.content.labels import long_date
from leafletpress.content.leaflet import Timing, load_leaflet
from leafletpress.content.markup import PLACEHOLDERS, body_html, lint
from leafletpress.visit.appointment import make_visit, parse_date, parse_time
from leafletpress.visit.calendar import calendar
from leafletpress.visit.personalise import placeholder_values, schedule

SOURCE = """Intro.

::: variant a
Only A.
:::

:::: checklist Doe dit
- one
::: variant b
- only B in box
:::
::::

::: contact Bel ons
Call [[site_phone]].
:::
"""


def test_variant_blocks_keep_only_the_chosen_variant() -> None:
    a, b = body_html(SOURCE, "a").html, body_html(SOURCE, "b").html
    assert "Only A." in a and "Only A." not in b
    assert "only B in box" in b and "only B in box" not in a
    assert '<aside class="box box-checklist" data-box="1">' in a
    assert '<h3 class="box-title">Doe dit</h3>' in a
    assert '<aside class="box box-contact" data-box="2">' in b and "[[site_phone]]" in b


def test_lint_names_lines_of_editor_mistakes() -> None:
    source = "[[patient_name]] [[naam]]\n::: variant a c\nx\n:::\n::: kader\ny\n"
    findings = {(f.line, f.message) for f in lint(source, first_line=10, variants=["a", "b"])}
    assert findings == {
        (10, "onbekende plaatshouder [[naam]]"),
        (11, "variant 'c' is niet gedeclareerd"),
        (14, "onbekend bloktype 'kader'"),
        (14, "blok wordt nooit gesloten"),
    }


def test_the_shipped_leaflet_is_clean_and_carries_the_source_facts(project) -> None:
    leaflet = load_leaflet(project, "avn-hip")
    assert lint(leaflet.body, leaflet.body_first_line, list(leaflet.meta.variants)) == []
    meta = leaflet.meta
    assert meta.timing.fasting_hours == 6 and meta.timing.blood_thinner_notice_days == 10
    assert set(meta.variants) == {"decompressie", "heupprothese", "osteotomie"}
    assert meta.sites == ["augustinus", "cadix", "palfijn"]
    assert meta.updated == date(2026, 12, 3)
    assert meta.url == "https://www.zas.be/behandelingen/avasculaire-necrose-avn"
    # Recovery as the seed words it: prosthesis from day 1-2, walking after 6 weeks, the full
    # rehabilitation up to 3 months; osteotomy day 3-4, limited weight the first 6 weeks, up to
    # 6 months; decompression without a number, so no date is computed for it.
    spans = {
        key: [(m.kind, m.unit, m.span) for m in variant.recovery]
        for key, variant in meta.variants.items()
    }
    assert spans == {
        "heupprothese": [("from", "days", (1, 2)), ("from", "weeks", (6, 6)),
                         ("up_to", "months", (3, 3))],
        "osteotomie": [("from", "days", (3, 4)), ("until", "weeks", (6, 6)),
                       ("up_to", "months", (6, 6))],
        "decompressie": [("from", None, (0, 0)), ("from", None, (0, 0))],
    }  # fmt: skip
    assert meta.discharge is not None and meta.discharge.consultation == "orthopedie"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2026-12-03", date(2026, 12, 3)), ("03/12/2026", date(2026, 12, 3)),
     ("3/12/2026", date(2026, 12, 3)), ("03.12.2026", date(2026, 12, 3)),
     ("15-12-2026", date(2026, 12, 15)), ("15 dec 2026", date(2026, 12, 15)),
     ("15 december 2026", date(2026, 12, 15)), ("15 déc. 2026", date(2026, 12, 15)),
     ("15 Dec 2026", date(2026, 12, 15)), ("1 mrt 2027", date(2027, 3, 1)),
     ("1 maa 2027", date(2027, 3, 1)), ("1 mars 2027", date(2027, 3, 1))],
)  # fmt: skip
def test_dates_in_belgian_and_iso_form(text: str, expected: date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    "text", ["31/02/2026", "2026-13-01", "00/01/2026", "12/2026", "gisteren", "15 decem 2026",
             "31 feb 2026", "15 dec"],
)  # fmt: skip
def test_impossible_or_unreadable_dates_are_refused(text: str) -> None:
    with pytest.raises(InputError):
        parse_date(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("08:30", time(8, 30)), ("8:30", time(8, 30)), ("8u30", time(8, 30)), ("8U", time(8)),
     ("14.05", time(14, 5)), ("0:00", time(0))],
)  # fmt: skip
def test_times(text: str, expected: time) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize("text", ["24:00", "7:60", "8", "830", "8:3"])
def test_impossible_times_are_refused(text: str) -> None:
    with pytest.raises(InputError):
        parse_time(text)


BRUSSELS = calendar("Europe/Brussels", "BE")
TIMING = Timing(fasting_hours=6, blood_thinner_notice_days=10)
ARRIVAL = 60  # minutes: config/hospital.yaml, policy


def local(*fields: int) -> datetime:
    return datetime(*fields, tzinfo=ZoneInfo("Europe/Brussels"))  # type: ignore[misc]


def test_derived_times_come_from_the_timing_rules() -> None:
    s = schedule(date(2026, 12, 15), time(5, 0), TIMING, ARRIVAL, BRUSSELS)
    assert s.arrival_at == local(2026, 12, 15, 4, 0)
    assert s.fasting_from == local(2026, 12, 14, 23, 0), "fasting starts the evening before"
    assert s.blood_thinners_by == date(2026, 12, 4), "10 days before is a Saturday: Friday"


@pytest.mark.parametrize(
    ("on", "at", "fasting_from", "utc_offset"),
    [
        pytest.param(date(2027, 3, 28), time(8, 0), "01:00", 2,
                     id="spring forward: six real hours, from 01:00"),
        pytest.param(date(2026, 10, 25), time(7, 0), "02:00", 1,
                     id="fall back: six real hours, from the first 02:00"),
        pytest.param(date(2026, 10, 25), time(2, 30), "20:30", 2,
                     id="a time that happens twice is the first"),
    ],
)  # fmt: skip
def test_fasting_hours_are_real_hours_across_a_clock_change(on, at, fasting_from, utc_offset):
    s = schedule(on, at, TIMING, ARRIVAL, BRUSSELS)
    assert (s.procedure_at.astimezone(UTC) - s.fasting_from.astimezone(UTC)) == timedelta(hours=6)
    assert f"{s.fasting_from:%H:%M}" == fasting_from
    assert s.procedure_at.utcoffset() == timedelta(hours=utc_offset)


def test_a_time_the_clock_skips_is_refused() -> None:
    with pytest.raises(InputError) as refused:
        schedule(date(2027, 3, 28), time(2, 30), TIMING, ARRIVAL, BRUSSELS)
    assert "02:30 bestaat niet op 28/03/2027" in str(refused.value) and refused.value.hint


@pytest.mark.parametrize(
    ("on", "deadline"),
    [
        pytest.param(date(2027, 1, 4), date(2026, 12, 24), id="Christmas: the day before"),
        pytest.param(date(2027, 4, 8), date(2027, 3, 26), id="Easter Monday and a weekend"),
        pytest.param(date(2026, 11, 21), date(2026, 11, 10), id="11 November"),
        pytest.param(date(2026, 12, 16), date(2026, 12, 4), id="a Sunday: Friday"),
        pytest.param(date(2026, 12, 17), date(2026, 12, 7), id="a Monday stays"),
    ],
)
def test_a_deadline_falls_on_a_working_day(on: date, deadline: date) -> None:
    assert schedule(on, time(9, 0), TIMING, ARRIVAL, BRUSSELS).blood_thinners_by == deadline


def test_dates_are_written_out_in_dutch() -> None:
    assert long_date(date(2026, 12, 3), "nl_BE") == "donderdag 3 december 2026"
    assert long_date(date(2026, 12, 15), "nl_BE") == "dinsdag 15 december 2026"


def test_every_placeholder_has_a_value(personalisation) -> None:
    values = placeholder_values(personalisation(), {"date_at_time": "{date} om {time}"})
    assert set(values) == set(PLACEHOLDERS)
    assert values["fasting_from"] == "dinsdag 15 december 2026 om 02:30"


def test_visit_fields_are_validated() -> None:
    with pytest.raises(InputError, match="stuurtekens"):
        make_visit(**visit_fields(name="Marie\x00Peeters"))
    with pytest.raises(InputError) as error:
        make_visit(**visit_fields(reference="a/b"))
    assert error.value.field == "reference"


@pytest.mark.parametrize(
    ("markdown", "line", "words"),
    [
        pytest.param("Tekst.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n", 12, "een tabel",
                     id="a table"),
        pytest.param("Tekst.\n\n<div>x</div>\n", 12, "HTML wordt niet weergegeven",
                     id="an HTML block"),
        pytest.param("Tekst met <b>vet</b>.\n", 10, "HTML wordt niet weergegeven",
                     id="inline HTML"),
        pytest.param("Zie ![schema](schema.png).\n", 10, "afbeeldingen", id="an image"),
    ],
)  # fmt: skip
def test_lint_reports_markdown_a_leaflet_does_not_print(markdown, line, words) -> None:
    [finding] = lint(markdown, 10, ["heupprothese"])
    assert finding.line == line and words in finding.message


# (the operation's day, what the secretary is warned of) on 25/11/2026 (issue 24, item 7)
OPERATION_DAYS = [
    (date(2026, 12, 15), []),
    (date(2062, 12, 15), ["de datum van de ingreep (15/12/2062) ligt meer dan een jaar vooruit: "
                          "klopt het jaartal?"]),
    (date(2027, 12, 14), ["de datum van de ingreep (14/12/2027) ligt meer dan een jaar vooruit: "
                          "klopt het jaartal?"]),
    (date(2026, 12, 19), ["de ingreep valt op 19/12/2026, een weekend of feestdag: klopt die "
                          "datum?"]),
    (date(2026, 12, 25), ["de ingreep valt op 25/12/2026, een weekend of feestdag: klopt die "
                          "datum?"]),
    (date(2026, 11, 20), ["de datum van de ingreep (20/11/2026) ligt in het verleden"]),
]  # fmt: skip


@pytest.mark.parametrize(("day", "expected"), OPERATION_DAYS)
def test_a_date_typed_wrong_is_a_warning_before_the_leaflet_is_handed_out(
    personalisation, day, expected
) -> None:
    from leafletpress.visit.personalise import warnings

    assert warnings(personalisation(date=day), date(2026, 11, 25)) == expected
