"""Reading a clinic-day list: CSV (UTF-8, UTF-8 with BOM or Windows-1252; comma, semicolon or
tab) or XLSX, with column names mapped by ``config/columns.yaml``.

Only reads: every cell comes out as text, keyed by field name, with its row number as the
user sees it in Excel (the header is row 1). Checking the values is plan.py's job.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import zipfile
from dataclasses import dataclass
from dataclasses import field as default
from datetime import date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import Field

if TYPE_CHECKING:
    from openpyxl import Workbook
    from openpyxl.worksheet.worksheet import Worksheet

from ..common.errors import InputError, LeafletpressError, choices, clipped
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
    # A discharge list (or a list with both moments): see the README, "Discharge leaflets".
    moment: HeaderNames = ()
    discharge_date: HeaderNames = ()
    followup_date: HeaderNames = ()
    followup_time: HeaderNames = ()
    followup_site: HeaderNames = ()
    letter_code: HeaderNames = ()  # the appointment letter's code: a PDF password (email)
    limits: Limits = Field(default_factory=lambda: Limits())

    def fields(self) -> dict[str, HeaderNames]:
        """Each field and its accepted header names."""
        return {name: getattr(self, name) for name in FIELDS}


class Limits(Strict):
    """How big a day's list may be; a bigger one is refused before any work starts."""

    max_rows: int = Field(default=2_000, ge=1, le=100_000)  # rows with appointments
    max_megabytes: int = Field(default=10, ge=1, le=100)  # the file as stored


FIELDS = ("name", "reference", "birth_date", "language", "leaflet", "variant", "surgeon",
          "site", "date", "time", "email", "moment", "discharge_date", "followup_date",
          "followup_time", "followup_site", "letter_code")  # fmt: skip
# The hour of the operation is required before it; a discharge list (one with a discharge
# date column) may leave it out.
REQUIRED = ("name", "leaflet", "variant", "surgeon", "site", "date", "time")

# Checked while parsing, so that a damaged or crafted file cannot take the machine's memory:
# a clinic day is a few hundred rows of short cells.
MAX_UNPACKED = 50_000_000  # an .xlsx's parts, unpacked (a small zip can hold gigabytes)
MAX_CELL = 1_000  # characters in one cell
MAX_BLANK_RUN = 1_000  # blank rows after which a sheet is taken to end (formatting only)
csv.field_size_limit(MAX_CELL)


@dataclass(frozen=True)
class Row:
    number: int  # as in Excel: the header is row 1
    values: dict[str, str]  # field -> cell text, stripped

    @property
    def key(self) -> str:
        """A short fingerprint of the row's values: the email step checks that the row it
        takes an address from is the row the leaflet was made from."""
        text = "\x1f".join(f"{k}={v}" for k, v in sorted(self.values.items()))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class DayList:
    path: Path
    source: str  # how it was read, e.g. "CSV, Windows-1252, ';'"
    headers: dict[str, str]  # field -> header as written in the file
    rows: list[Row]
    hidden_rows: tuple[int, ...] = ()  # hidden in Excel (often cancelled): not used
    sha256: str = ""  # of the bytes read: the list as it was when the rows were read
    absent: dict[str, str] = default(default_factory=dict)  # field -> name, for messages

    def column(self, field: str) -> str:
        """A field's column as the user knows it: its header, or its configured name."""
        return self.headers.get(field) or self.absent.get(field, field)


@dataclass
class Table:
    """A list's cells as text, before the columns are mapped."""

    rows: list[tuple[int, list[str]]]  # (row number as the user sees it, cells)
    source: str
    hidden_rows: list[int] = default(default_factory=list)
    sheet: str = ""  # a workbook's sheet


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


def decode_list(data: bytes, shown: str) -> tuple[str, str, str]:
    """The text, how it was written (for people), and the codec that writes it again: a
    byte-order mark says so; otherwise UTF-8, else Windows-1252 (Belgian Excel's 'CSV'). Text
    that fits neither is refused."""
    candidates = [("utf-8", "UTF-8"), ("cp1252", "Windows-1252")]
    for bom, encoding, label in (
        (codecs.BOM_UTF8, "utf-8-sig", "UTF-8 met BOM"),
        (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
        (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
    ):
        if data.startswith(bom):
            candidates = [(encoding, label)]
            break
    for encoding, label in candidates:
        try:
            return data.decode(encoding), label, encoding
        except UnicodeDecodeError:
            continue
    raise InputError(
        "onbekende tekenset",
        file=shown,
        hint="bewaar de lijst in Excel als 'CSV UTF-8' of als .xlsx",
    )


def _read_csv(data: bytes, shown: str, limits: Limits) -> Table:
    text, encoding, _ = decode_list(data, shown)
    first_line = text.lstrip("\ufeff").split("\n", 1)[0]
    delimiter = max(";,\t", key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: list[list[str]] = []
    try:
        for row in reader:
            row = _within(limits, row, len(rows) + 1, shown)
            if rows and _swallowed(row, len(rows[0]), delimiter):
                raise csv.Error("a quote swallowed lines")
            rows.append([cell.strip() for cell in row])
    except csv.Error as exc:
        raise _csv_refusal(str(exc), shown, len(rows) + 1) from None
    shown_delimiter = "tab" if delimiter == "\t" else f"'{delimiter}'"
    return Table(list(enumerate(rows, start=1)), f"CSV, {encoding}, {shown_delimiter}")


def _swallowed(row: list[str], columns: int, delimiter: str) -> bool:
    """Whether a quote that was never closed made one cell of several lines of the list: a
    cell with a line break and a column separator in it, or a row that no longer has the
    header's columns. (A line break typed in a cell, Alt+Enter in Excel, is neither.)"""
    multiline = [cell for cell in row if "\n" in cell or "\r" in cell]
    return bool(multiline) and (any(delimiter in cell for cell in multiline) or len(row) != columns)


MAX_COLUMNS = 200  # a day list has a dozen; thousands are not a list


def _within(limits: Limits, cells: list[str], count: int, shown: str) -> list[str]:
    """Refuse a list as soon as it is bigger than a day can be: while reading, not after.
    Empty columns past the limit (padding, a spreadsheet's own) are dropped."""
    if len(cells) > MAX_COLUMNS and any(cell.strip() for cell in cells[MAX_COLUMNS:]):
        raise InputError(
            f"heeft meer dan {MAX_COLUMNS} kolommen: geen afsprakenlijst",
            file=shown,
            row=count,
            hint="bewaar alleen de kolommen van de afspraken",
        )
    if count > limits.max_rows + 1 + MAX_BLANK_RUN:  # the header, and blank rows between
        raise InputError(
            f"heeft meer dan {limits.max_rows} rijen met afspraken: geen dag",
            file=shown,
            hint="kijk na of dit de juiste lijst is; de grens staat in config/columns.yaml "
            "(limits.max_rows)",
        )
    return cells[:MAX_COLUMNS]


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


def _unpacked_size(data: bytes) -> int:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return sum(item.file_size for item in archive.infolist())


def _unreadable_workbook(shown: str) -> InputError:
    return InputError(
        "is geen leesbaar Excel-bestand (.xlsx)",
        file=shown,
        hint="open het in Excel en bewaar het opnieuw als .xlsx of als CSV",
    )


def _read_xlsx(data: bytes, shown: str, sheet: str | None, limits: Limits) -> list[Table]:
    """The sheet asked for, else every visible one in order (the caller takes the first that
    is a list), as Excel shows it: hidden rows, columns and sheets are left out (a hidden row
    is often a cancelled appointment: listed, not used), a merged cell's value fills the whole
    range, a formula gives the value Excel saved with it."""
    from openpyxl import load_workbook

    unreadable = _unreadable_workbook(shown)
    try:
        if _unpacked_size(data) > MAX_UNPACKED:
            raise InputError(
                f"is uitgepakt groter dan {MAX_UNPACKED // 1_000_000} MB: geen afsprakenlijst",
                file=shown,
                hint="bewaar alleen het werkblad met de afspraken, als .xlsx of CSV",
            )
        values = load_workbook(io.BytesIO(data), data_only=True)  # the values Excel saved
        formulas = load_workbook(io.BytesIO(data), data_only=False)  # which are formulas
    except LeafletpressError:
        raise
    except Exception:  # not a workbook, a part missing, or malformed XML (parsed by defusedxml)
        raise unreadable from None
    try:
        names = [_sheet_name(values, shown, sheet)] if sheet else _visible(values, shown)
        return [_read_sheet(values[n], formulas[n], shown, limits) for n in names]
    except LeafletpressError:
        raise
    except Exception:  # a sheet openpyxl could not make sense of
        raise unreadable from None
    finally:
        values.close()
        formulas.close()


def _visible(book: Workbook, shown: str) -> list[str]:
    visible = [ws.title for ws in book.worksheets if ws.sheet_state == "visible"]
    if not visible:
        raise InputError("heeft geen zichtbaar werkblad", file=shown)
    return visible


def _sheet_name(book: Workbook, shown: str, sheet: str) -> str:
    """The sheet asked for (--sheet)."""
    visible = [ws.title for ws in book.worksheets if ws.sheet_state == "visible"]
    if sheet not in book.sheetnames:
        raise InputError(
            f"geen werkblad '{clipped(sheet)}'",
            file=shown,
            field="--sheet",
            hint=f"kies uit: {choices(visible)}",
        )
    return sheet


def _read_sheet(ws: Worksheet, formulas: Worksheet, shown: str, limits: Limits) -> Table:
    hidden_columns = {
        column
        for dimension in ws.column_dimensions.values()
        if dimension.hidden
        for column in range(dimension.min or 1, (dimension.max or 0) + 1)
    }
    header = [ws.cell(1, column).value for column in range(1, ws.max_column + 1)]
    last = max((c for r in range(1, min(ws.max_row, HEADER_ROWS) + 1)
                for c in range(1, ws.max_column + 1)
                if ws.cell(r, c).value not in (None, "")), default=1)  # fmt: skip
    columns = [c for c in range(1, last + 1) if c not in hidden_columns]
    merged = {
        (row, column): ws.cell(area.min_row, area.min_col).value
        for area in ws.merged_cells.ranges
        for row in range(area.min_row, area.max_row + 1)
        for column in range(area.min_col, area.max_col + 1)
    }
    table = Table([], f"Excel, werkblad '{ws.title}'", sheet=ws.title)
    blank_run = 0
    for row in range(1, ws.max_row + 1):
        cells = [_cell(merged.get((row, c), ws.cell(row, c).value)) for c in columns]
        blank_run = 0 if any(cells) else blank_run + 1
        if blank_run > MAX_BLANK_RUN:
            break  # the rest of the sheet is formatting, not appointments
        if row > 1 and ws.row_dimensions[row].hidden:
            if any(cells):
                table.hidden_rows.append(row)
            continue
        for column, cell in zip(columns, cells, strict=True):
            _check_cell(formulas, row, column, cell, shown, header[column - 1])
        table.rows.append((row, _within(limits, cells, len(table.rows) + 1, shown)))
    return table


def _check_cell(
    formulas: Worksheet, row: int, column: int, text: str, shown: str, header: object
) -> None:
    where = {"file": shown, "row": row, "field": str(header or column)}
    if len(text) > MAX_CELL:
        raise InputError(
            f"een cel is langer dan {MAX_CELL} tekens",
            hint="is dit de afsprakenlijst? Kijk deze rij na in Excel",
            **where,  # type: ignore[arg-type]
        )
    if not text and formulas.cell(row, column).data_type == "f":
        raise InputError(
            "een formule zonder opgeslagen uitkomst",
            hint="open de lijst in Excel en bewaar ze opnieuw: dan bewaart Excel de uitkomst",
            **where,  # type: ignore[arg-type]
        )


def _map_headers(header: list[str], columns: Columns, shown: str, row: int = 1) -> dict[str, int]:
    """field -> column index; refuses a list that lacks a required column. Each header cell is
    normalised once (a list may have hundreds of columns)."""
    wanted = {field: {match_key(n) for n in names} for field, names in columns.fields().items()}
    found: dict[str, int] = {}
    for index, name in enumerate(header):
        key = match_key(name) if name else ""
        for field, keys in wanted.items():
            if key and key in keys:
                if field in found:
                    raise InputError(
                        f"twee kolommen voor hetzelfde veld: '{clipped(header[found[field]])}' "
                        f"en '{clipped(name)}'",
                        file=shown,
                        row=row,
                        hint="hou één van beide, of pas config/columns.yaml aan",
                    )
                found[field] = index
    discharge = "discharge_date" in found
    missing = [f for f in REQUIRED if f not in found and not (discharge and f == "time")]
    if missing:
        expected = "; ".join(  # as the hospital's export may name it: 'uur' of 'tijd'
            " of ".join(repr(n) for n in getattr(columns, field)) for field in missing
        )
        raise InputError(
            f"kolom ontbreekt: {expected}"
            if len(missing) == 1
            else f"{len(missing)} kolommen ontbreken: {expected}",
            file=shown,
            row=row,
            hint=f"gevonden kolommen: {', '.join(repr(clipped(h)) for h in header[:30] if h)}"
            f"{' …' if len(header) > 30 else ''}; "
            "noem de kolom zo, of voeg de naam toe in config/columns.yaml",
        )
    return found


HEADER_ROWS = 20  # an export's title rows above the header: the header is in the first 20


def _first_list(
    tables: list[Table], columns: Columns, shown: str
) -> tuple[Table, int, dict[str, int]]:
    """The table that is a list (a workbook's first sheet that is one), the index of its
    header row (title rows above it, as exports print the date or the ward, are skipped)
    and its columns; else the refusal for the first table, saying which sheets there are."""
    refusal: InputError | None = None
    for table in tables:
        for index, (number, cells) in enumerate(table.rows[:HEADER_ROWS]):
            if sum(1 for c in cells if c) < 2:
                continue  # blank, or a title
            try:
                return table, index, _map_headers(cells, columns, shown, number)
            except InputError as exc:
                refusal = refusal or exc  # said of the first row with cells: a header
    if refusal is None:
        raise InputError("het bestand is leeg", file=shown)
    if len(tables) > 1:  # a workbook: which sheets it has, and that each was read
        read = ", ".join(f"'{clipped(t.sheet)}'" for t in tables)
        refusal.hint = (f"{refusal.hint} (in het eerste werkblad; het werkboek heeft de "
                        f"werkbladen {read}, en geen ervan heeft die kolommen)")  # fmt: skip
    raise refusal


# The first bytes of files people mistake for a list, and what to tell them.
_NOT_A_LIST = {
    b"\xd0\xcf\x11\xe0": "is een oud Excel-bestand (.xls) of een Excel-bestand met wachtwoord",
    b"\x89PNG": "is een afbeelding, geen lijst",
    b"\xff\xd8\xff": "is een afbeelding, geen lijst",
    b"GIF8": "is een afbeelding, geen lijst",
    b"%PDF": "is een PDF, geen lijst",
}


def _read_table(
    data: bytes, suffix: str, shown: str, sheet: str | None, limits: Limits
) -> list[Table]:
    """The file read by what it is, not by its name: a workbook (a zip: its sheets), or text
    (CSV: one table)."""
    start = data[:4096]
    if not start.strip():
        raise InputError("het bestand is leeg", file=shown)
    for magic, what in _NOT_A_LIST.items():
        if start.startswith(magic):
            raise InputError(
                what,
                file=shown,
                hint="open de lijst in Excel en bewaar ze als .xlsx (zonder wachtwoord) of CSV",
            )
    if start.startswith(b"PK\x03\x04"):
        return _read_xlsx(data, shown, sheet, limits)
    if suffix in (".xlsx", ".xlsm"):
        raise _unreadable_workbook(shown)
    if b"\x00" in start and not start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise InputError(
            "is geen tekst en geen Excel-bestand: geen lijst",
            file=shown,
            hint="gebruik de afsprakenlijst als .xlsx of CSV",
        )
    if sheet:
        raise InputError("een CSV-bestand heeft geen werkbladen", file=shown, field="--sheet")
    return [_read_csv(data, shown, limits)]


def read_day_list(
    path: Path, project: Project, sheet: str | None = None, shown: str | None = None
) -> DayList:
    """Read a clinic-day list. Problems with the file itself (not found, not a list, too big,
    unreadable, a missing column) raise InputError before any work; problems in a row are for
    the caller to report per row."""
    shown = shown or str(path)
    columns = load_columns(project)
    limits = columns.limits
    if not path.is_file():
        raise InputError("bestand niet gevonden", file=shown, hint="controleer naam en map")
    if (
        path.stat().st_size > limits.max_megabytes * 2**20
    ):  # MB as Windows counts them, as the web app
        raise InputError(
            f"is groter dan {limits.max_megabytes} MB: geen afsprakenlijst van één dag",
            file=shown,
            hint="kijk na of dit de juiste lijst is; de grens staat in config/columns.yaml "
            "(limits.max_megabytes)",
        )
    try:
        data = path.read_bytes()  # once: what is read is what is hashed, even if it changes
    except OSError as exc:
        raise InputError(f"kan het bestand niet lezen: {exc.strerror}", file=shown) from None
    table, at, fields = _first_list(_read_table(data, path.suffix.lower(), shown, sheet, limits),
                                    columns, shown)  # fmt: skip
    header = table.rows[at][1]
    rows = [
        Row(number, {f: cells[i].strip() if i < len(cells) else "" for f, i in fields.items()})
        for number, cells in table.rows[at + 1 :]
        if any(cells)  # blank lines between blocks of appointments
    ]
    if len(rows) > limits.max_rows:
        raise InputError(
            f"heeft {len(rows)} rijen met afspraken; meer dan {limits.max_rows} is geen dag",
            file=shown,
            hint="kijk na of dit de juiste lijst is; de grens staat in config/columns.yaml "
            "(limits.max_rows)",
        )
    headers = {f: header[i] for f, i in fields.items()}
    # A column the list lacks, as messages name it: its first name in config/columns.yaml.
    absent = {f: names[0] for f, names in columns.fields().items() if names and f not in fields}
    digest = hashlib.sha256(data).hexdigest()
    return DayList(path, table.source, headers, rows, tuple(table.hidden_rows), digest, absent)


def corrected_list(listing: DayList, changed: dict[int, dict[str, str]]) -> bytes:
    """The list with some rows changed (row number -> field -> cell), as a CSV in UTF-8 with
    a BOM and ';' (as Belgian Excel writes it), under the list's own headers: a corrected
    list, read and checked as any other. Rows keep their numbers (a row the reader skipped,
    blank or hidden, is written empty)."""
    fields = list(listing.headers)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([listing.headers[f] for f in fields])
    rows = {row.number: row.values | changed.get(row.number, {}) for row in listing.rows}
    for number in range(2, max(rows, default=1) + 1):
        values = rows.get(number, {})
        writer.writerow([values.get(f, "") for f in fields])
    return out.getvalue().encode("utf-8-sig")
