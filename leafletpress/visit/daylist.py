"""Reading a clinic-day list: CSV (UTF-8, UTF-8 with BOM or Windows-1252; comma, semicolon or
tab) or XLSX, with column names mapped by ``config/columns.yaml``.

Only reads: every cell comes out as text, keyed by field name, with its row number as the
user sees it in Excel (the header is row 1). Checking the values is plan.py's job.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import Field

if TYPE_CHECKING:
    from openpyxl import Workbook

from ..common.errors import InputError, LeafletpressError, choices
from ..common.matching import match_key
from ..common.project import Project
from ..common.validation import Strict, load_yaml, validate

COLUMNS_FILE = "columns.yaml"
HeaderNames = tuple[str, ...]


class Columns(Strict):
    """Accepted header names per field (config/columns.yaml)."""

    name: HeaderNames = Field(min_length=1)
    reference: HeaderNames = ()
    birth_date: HeaderNames = ()
    language: HeaderNames = ()
    leaflet: HeaderNames = Field(min_length=1)
    variant: HeaderNames = Field(min_length=1)
    surgeon: HeaderNames = Field(min_length=1)
    site: HeaderNames = Field(min_length=1)
    date: HeaderNames = Field(min_length=1)
    time: HeaderNames = Field(min_length=1)
    email: HeaderNames = ()


REQUIRED = ("name", "leaflet", "variant", "surgeon", "site", "date", "time")

# Limits, checked before or while parsing, so that a damaged or crafted file cannot take the
# machine's memory: a clinic day is a few hundred rows of short cells.
MAX_BYTES = 10_000_000  # the file as stored
MAX_UNPACKED = 50_000_000  # an .xlsx's parts, unpacked (a small zip can hold gigabytes)
MAX_CELL = 1_000  # characters in one cell
csv.field_size_limit(MAX_CELL)


@dataclass(frozen=True)
class Row:
    number: int  # as in Excel: the header is row 1
    values: dict[str, str]  # field -> cell text, stripped


@dataclass(frozen=True)
class DayList:
    path: Path
    source: str  # how it was read, e.g. "CSV, Windows-1252, ';'"
    headers: dict[str, str]  # field -> header as written in the file
    rows: list[Row]


def load_columns(project: Project) -> Columns:
    shown = f"config/{COLUMNS_FILE}"
    return validate(Columns, load_yaml(project.config_dir / COLUMNS_FILE, shown), shown)


def _cell(value: object) -> str:
    """A spreadsheet cell as text; dates and times as the CLI accepts them."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _decode(data: bytes, shown: str) -> tuple[str, str]:
    for bom, encoding, label in (
        (codecs.BOM_UTF8, "utf-8-sig", "UTF-8 met BOM"),
        (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
        (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
    ):
        if data.startswith(bom):
            return data.decode(encoding), label
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError:
        raise InputError(
            "onbekende tekenset",
            file=shown,
            hint="bewaar de lijst in Excel als 'CSV UTF-8' of als .xlsx",
        ) from None


def _read_csv(path: Path, shown: str) -> tuple[list[list[str]], str]:
    text, encoding = _decode(path.read_bytes(), shown)
    first_line = text.lstrip("\ufeff").split("\n", 1)[0]
    delimiter = max(";,\t", key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: list[list[str]] = []
    try:
        for row in reader:
            if rows and _swallowed(row, len(rows[0]), delimiter):
                raise csv.Error("a quote swallowed lines")
            rows.append([cell.strip() for cell in row])
    except csv.Error as exc:
        raise _csv_refusal(str(exc), shown, len(rows) + 1) from None
    shown_delimiter = "tab" if delimiter == "\t" else f"'{delimiter}'"
    return rows, f"CSV, {encoding}, {shown_delimiter}"


def _swallowed(row: list[str], columns: int, delimiter: str) -> bool:
    """Whether a quote that was never closed made one cell of several lines of the list: a
    cell with a line break and a column separator in it, or a row that no longer has the
    header's columns. (A line break typed in a cell, Alt+Enter in Excel, is neither.)"""
    multiline = [cell for cell in row if "\n" in cell or "\r" in cell]
    return bool(multiline) and (any(delimiter in cell for cell in multiline) or len(row) != columns)


def _csv_refusal(problem: str, shown: str, row: int) -> InputError:
    """A list the csv reader cannot take whole. Refused as a whole, rather than read as fewer
    rows: an unbalanced quote would otherwise swallow every row after it, silently."""
    if "field larger than field limit" in problem:
        return InputError(
            f"een cel is langer dan {MAX_CELL} tekens",
            file=shown,
            row=row,
            hint="is dit de afsprakenlijst? Kijk deze rij na in Excel",
        )
    return InputError(
        'een aanhalingsteken (") opent een cel die niet op deze regel sluit',
        file=shown,
        row=row,
        hint="sluit of verwijder het aanhalingsteken in deze rij; de lijst werd niet gebruikt",
    )


def _unpacked_size(path: Path) -> int:
    with zipfile.ZipFile(path) as archive:
        return sum(item.file_size for item in archive.infolist())


def _read_xlsx(path: Path, shown: str, sheet: str | None) -> tuple[list[list[str]], str]:
    from openpyxl import load_workbook

    unreadable = InputError(
        "is geen leesbaar Excel-bestand (.xlsx)",
        file=shown,
        hint="open het in Excel en bewaar het opnieuw als .xlsx of als CSV",
    )
    try:
        if _unpacked_size(path) > MAX_UNPACKED:
            raise InputError(
                f"is uitgepakt groter dan {MAX_UNPACKED // 1_000_000} MB: geen afsprakenlijst",
                file=shown,
                hint="bewaar alleen het werkblad met de afspraken, als .xlsx of CSV",
            )
        book = load_workbook(path, read_only=True, data_only=True)
    except LeafletpressError:
        raise
    except Exception:  # not a zip, a part missing, or malformed XML (parsed with defusedxml)
        raise unreadable from None
    try:
        return _read_sheet(book, shown, sheet)
    except LeafletpressError:
        raise
    except Exception:  # the sheet's XML: truncated, malformed, or with entities (defusedxml)
        raise unreadable from None
    finally:
        book.close()


def _read_sheet(book: Workbook, shown: str, sheet: str | None) -> tuple[list[list[str]], str]:
    if sheet is None:
        worksheet = book.worksheets[0]
    elif sheet in book.sheetnames:
        worksheet = book[sheet]
    else:
        raise InputError(
            f"geen werkblad '{sheet}'",
            file=shown,
            field="--sheet",
            hint=f"kies uit: {choices(book.sheetnames)}",
        )
    rows = []
    for number, row in enumerate(worksheet.iter_rows(values_only=True), start=1):
        cells = [_cell(value) for value in row]
        if any(len(cell) > MAX_CELL for cell in cells):
            raise InputError(
                f"een cel is langer dan {MAX_CELL} tekens",
                file=shown,
                row=number,
                hint="is dit de afsprakenlijst? Kijk deze rij na in Excel",
            )
        rows.append(cells)
    return rows, f"Excel, werkblad '{worksheet.title}'"


def _map_headers(header: list[str], columns: Columns, shown: str) -> dict[str, int]:
    """field -> column index; refuses a list that lacks a required column."""
    wanted = {field: {match_key(n) for n in names} for field, names in columns}
    found: dict[str, int] = {}
    for index, name in enumerate(header):
        for field, keys in wanted.items():
            if match_key(name) in keys:
                if field in found:
                    raise InputError(
                        f"twee kolommen voor hetzelfde veld: '{header[found[field]]}' en '{name}'",
                        file=shown,
                        row=1,
                        hint="hou één van beide, of pas config/columns.yaml aan",
                    )
                found[field] = index
    missing = [field for field in REQUIRED if field not in found]
    if missing:
        expected = "; ".join(
            f"{field}: {' of '.join(repr(n) for n in getattr(columns, field))}" for field in missing
        )
        raise InputError(
            f"kolom ontbreekt: {expected}",
            file=shown,
            row=1,
            hint=f"gevonden kolommen: {', '.join(repr(h) for h in header if h) or '(geen)'}; "
            "noem de kolom zo, of voeg de naam toe in config/columns.yaml",
        )
    return found


def read_day_list(
    path: Path, project: Project, sheet: str | None = None, shown: str | None = None
) -> DayList:
    """Read a clinic-day list. Problems with the file itself (not found, unreadable, a missing
    column) raise InputError; problems in a row are for the caller to report per row."""
    shown = shown or str(path)
    columns = load_columns(project)
    suffix = path.suffix.lower()
    if not path.is_file():
        raise InputError("bestand niet gevonden", file=shown, hint="controleer naam en map")
    if path.stat().st_size > MAX_BYTES:
        raise InputError(
            f"is groter dan {MAX_BYTES // 1_000_000} MB: geen afsprakenlijst van één dag",
            file=shown,
            hint="kijk na of dit de juiste lijst is; splits een heel grote lijst per dag",
        )
    if suffix == ".xlsx":
        table, source = _read_xlsx(path, shown, sheet)
    elif suffix in (".csv", ".txt"):
        if sheet:
            raise InputError("een CSV-bestand heeft geen werkbladen", file=shown, field="--sheet")
        table, source = _read_csv(path, shown)
    else:
        raise InputError(
            f"onbekend bestandstype '{path.suffix}'",
            file=shown,
            hint="gebruik een .csv- of .xlsx-bestand (bewaar .xls of .ods in Excel als .xlsx)",
        )
    if not table:
        raise InputError("het bestand is leeg", file=shown)
    fields = _map_headers(table[0], columns, shown)
    rows = []
    for number, cells in enumerate(table[1:], start=2):
        if not any(cells):
            continue  # blank lines between blocks of appointments
        values = {
            field: cells[index].strip() if index < len(cells) else ""
            for field, index in fields.items()
        }
        rows.append(Row(number, values))
    return DayList(path, source, {f: table[0][i] for f, i in fields.items()}, rows)
