"""Property-based tests (Hypothesis): whatever a list, a date, a time or a command line holds,
leafletpress answers with a refusal that names where the problem is, never a traceback."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

from helpers import ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from leafletpress.common.errors import InputError
from leafletpress.common.project import Project
from leafletpress.content.registry import load_registry
from leafletpress.visit.appointment import parse_date, parse_time
from leafletpress.visit.daylist import read_day_list
from leafletpress.visit.plan import plan

PROJECT = Project(ROOT)
REGISTRY = load_registry(PROJECT)
HEADER = ["Referentie", "Naam", "Folder", "Ingreep", "Chirurg", "Campus", "Datum", "Uur"]
SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
cells = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=30)


def read(path: Path, data: bytes) -> None:
    """Read and check a list: a refusal of the file names the file; every refused row names
    its row and says how to fix it."""
    path.write_bytes(data)
    try:
        day = read_day_list(path, PROJECT)
    except InputError as exc:
        assert exc.file, str(exc)
        return
    for refusal in plan(day, PROJECT, REGISTRY, date(2026, 11, 25)).refusals:
        assert refusal.row >= 2 and refusal.hint, str(refusal)


@SETTINGS
@given(data=st.binary(max_size=2_000))
def test_any_bytes_as_a_csv_list(tmp_path, data: bytes) -> None:
    read(tmp_path / "dag.csv", data)


@SETTINGS
@given(rows=st.lists(st.lists(cells, min_size=0, max_size=10), max_size=8),
       delimiter=st.sampled_from([";", ",", "\t"]),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]),
       quoting=st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL,
                                csv.QUOTE_NONNUMERIC]))  # fmt: skip
def test_any_table_as_a_csv_list(tmp_path, rows, delimiter, encoding, quoting) -> None:
    text = io.StringIO()
    csv.writer(text, delimiter=delimiter, quoting=quoting).writerows([HEADER, *rows])
    try:
        data = text.getvalue().encode(encoding)
    except UnicodeEncodeError:
        return  # a text Windows-1252 cannot hold is no such file
    read(tmp_path / "dag.csv", data)


@SETTINGS
@given(rows=st.lists(st.lists(st.one_of(cells, st.integers(), st.floats(allow_nan=False),
                                        st.dates(), st.none()), max_size=9), max_size=6),
       hidden=st.lists(st.integers(2, 8), max_size=3))  # fmt: skip
def test_any_workbook_as_a_list(tmp_path, rows, hidden) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for row in rows:
        try:
            sheet.append(row)
        except Exception:
            return  # a value openpyxl will not write (control characters): no such workbook
    for number in hidden:
        sheet.row_dimensions[number].hidden = True
    path = tmp_path / "dag.xlsx"
    book.save(path)
    read(path, path.read_bytes())


@SETTINGS
@given(text=st.text(max_size=40))
def test_any_text_as_a_date_or_a_time(text: str) -> None:
    for parse in (parse_date, parse_time):
        try:
            parse(text)
        except InputError as exc:
            assert exc.field and exc.hint, str(exc)


@SETTINGS
@given(args=st.lists(st.sampled_from(["leaflet", "batch", "--variant", "--date", "--time",
                                      "--patient", "--site", "--surgeon", "avn-hip", "8u30",
                                      "31/02/2026", "heupprothese", "--format", "booklet",
                                      "--large-print", "--lang", "xx", "--jobs", "0", "-q"])
                     | st.text(max_size=12), max_size=12))  # fmt: skip
def test_any_command_line(tmp_path, args: list[str]) -> None:
    from leafletpress.cli import main

    try:
        code = main([*args, "--out-dir", str(tmp_path)] if args[:1] == ["leaflet"] else args)
    except SystemExit as exc:  # argparse: usage errors and --help
        code = int(exc.code or 0)
    assert code in (0, 1, 2, 3, 4), f"{args}: exit {code}"
