"""Lists as Excel and hospital systems really save them (issue 24, item 10): each shape is
read, rows numbered as the secretary sees them, or refused with a hint that says exactly what
to change. The shapes: Excel's own CSV (Windows-1252, ';'), "CSV UTF-8" (with a BOM), "Unicode
text" (UTF-16 with tabs), a workbook whose first sheet is not the list, title rows above the
header (the ward and the day, as planning exports print them), a name split over two columns
(HiX and similar exports), and the old binary .xls."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest
from openpyxl import Workbook

from leafletpress.common.errors import InputError
from leafletpress.visit.daylist import read_day_list

HEADER = ["Referentie", "Naam", "Folder", "Ingreep", "Chirurg", "Campus", "Datum", "Uur"]
ROW = ["PAT-1", "Hélène Peeters", "avn-hip", "heupprothese", "claes", "cadix", "15/12/2026", "8u30"]


def text_list(rows: list[list[str]], delimiter: str = ";") -> str:
    return "".join(delimiter.join(cells) + "\r\n" for cells in rows)


def workbook(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


@pytest.mark.parametrize(
    ("data", "read_as"),
    [
        pytest.param(text_list([HEADER, ROW]).encode("cp1252"), "CSV, Windows-1252, ';'",
                     id="Excel's CSV: Windows-1252 and semicolons"),
        pytest.param(codecs.BOM_UTF8 + text_list([HEADER, ROW], ",").encode(),
                     "CSV, UTF-8 met BOM, ','", id="CSV UTF-8 with a BOM and commas"),
        pytest.param(codecs.BOM_UTF16_LE + text_list([HEADER, ROW], "\t").encode("utf-16-le"),
                     "CSV, UTF-16, tab", id="Excel's Unicode text: UTF-16 with tabs"),
    ],
)  # fmt: skip
def test_every_text_export_excel_makes_is_read(tmp_path, project, data, read_as) -> None:
    path = tmp_path / "lijst.csv"
    path.write_bytes(data)
    listing = read_day_list(path, project)
    assert listing.source == read_as
    assert [(r.number, r.values["name"]) for r in listing.rows] == [(2, "Hélène Peeters")]


def test_title_rows_above_the_header_are_skipped_and_rows_keep_their_numbers(
    tmp_path, project
) -> None:
    path = workbook(tmp_path / "planning.xlsx", {"OK": [
        ["Operatieprogramma Orthopedie"], ["Dinsdag 15/12/2026"], [], HEADER, ROW, ROW,
    ]})  # fmt: skip
    listing = read_day_list(path, project)
    assert [r.number for r in listing.rows] == [5, 6]  # as Excel numbers them
    assert listing.headers["name"] == "Naam"
    text = tmp_path / "planning.csv"
    text.write_text(text_list([["Operatieprogramma 15/12/2026"], HEADER, ROW]), "cp1252")
    assert [r.number for r in read_day_list(text, project).rows] == [3]


def test_a_workbook_is_read_from_its_first_sheet_that_is_a_list(tmp_path, project) -> None:
    path = workbook(tmp_path / "export.xlsx", {
        "Info": [["Export uit het ziekenhuissysteem"], ["Gemaakt op", "03/12/2026"]],
        "Planning": [HEADER, ROW],
    })  # fmt: skip
    listing = read_day_list(path, project)
    assert listing.source == "Excel, werkblad 'Planning'" and len(listing.rows) == 1


def test_a_workbook_without_a_list_names_its_sheets_and_what_is_missing(tmp_path, project):
    path = workbook(tmp_path / "export.xlsx", {
        "Info": [["Gemaakt op", "03/12/2026"]], "Statistiek": [["Campus", "Aantal"]],
    })  # fmt: skip
    with pytest.raises(InputError) as refused:
        read_day_list(path, project)
    assert "kolommen ontbreken" in refused.value.message
    assert "het werkboek heeft de werkbladen 'Info', 'Statistiek'" in (refused.value.hint or "")


def test_a_name_split_over_two_columns_is_refused_with_what_to_change(tmp_path, project):
    split = ["Referentie", "Achternaam", "Voornaam", *HEADER[2:]]
    path = tmp_path / "hix.csv"
    path.write_text(text_list([split, ["PAT-1", "Peeters", "Marie", *ROW[2:]]]), "cp1252")
    with pytest.raises(InputError) as refused:
        read_day_list(path, project)
    assert (
        refused.value.message
        == "kolom ontbreekt: 'naam' of 'patiënt' of 'patiëntnaam' of 'patient' of 'name'"
    )
    assert "'Achternaam', 'Voornaam'" in (refused.value.hint or "")
    assert "noem de kolom zo" in (refused.value.hint or "")


def test_an_old_xls_file_is_refused_with_how_to_save_it(tmp_path, project) -> None:
    path = tmp_path / "lijst.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
    with pytest.raises(InputError) as refused:
        read_day_list(path, project)
    assert "oud Excel-bestand (.xls)" in refused.value.message
    assert "bewaar ze als .xlsx" in (refused.value.hint or "")
