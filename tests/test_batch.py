"""Clinic-day batches: reading lists, refusing bad rows, print files, manifest, resuming."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from datetime import date, datetime
from pathlib import Path

import pikepdf
import pypdf
import pytest
from helpers import (
    LEAFLET,
    ROOT,
    all_text,
    content,
    edit,
    normalise,
    page_sizes_mm,
    page_texts,
)
from openpyxl import Workbook

from leafletpress.printing.printfile import build_print_file
from leafletpress.visit.daylist import read_day_list
from leafletpress.visit.plan import plan

DAY = date(2026, 12, 15)


def cells(*lines: str) -> list[list[str]]:
    """Rows written as in the CSV file, for readability."""
    return [line.split(";") for line in lines]


[HEADER] = cells("Referentie;Naam;Geboortedatum;Folder;Ingreep;Chirurg;Campus;Datum;Uur")
GOOD = cells(
    "PAT-1;Marie Peeters;23/04/1961;avn-hip;heupprothese;wouters;augustinus;15/12/2026;9u30",
    "PAT-2;Hélène Dubois;;ORT-AVN-01;Totale heupprothese;Pieter Claes;ZAS Cadix;2026-12-15;8:00",
    "PAT-3;Ünal Çelik-O'Brien;12/03/1958;avn-hip;osteotomie;wouters;augustinus;15/12/2026;7u45",
    "PAT-4;Jan Janssens;;avn-hip;decompressie;claes;palfijn;15/12/2026;10:15",
)
# One bad row each, as written in the list: (row, the column the refusal names, words it says).
BAD = [
    pytest.param("PAT-5;Karel Goossens;;avn-hip;heupprothese;claes;ZAS Gent;15/12/2026;9u00",
                 "Campus", "ZAS Cadix, ZAS Palfijn", id="unknown campus lists the campuses"),
    pytest.param("PAT-6;Emma Jacobs;;avn-hip;heupprothese;claes;cadix;31/11/2026;9u00",
                 "Datum", "bestaat niet", id="impossible date"),
    pytest.param("PAT-7;;;avn-hip;heupprothese;claes;cadix;15/12/2026;9u15",
                 "Naam", "mag niet leeg zijn", id="missing name"),
    pytest.param("PAT-8;Tom Aerts;;avn-hip;heupresectie;claes;cadix;15/12/2026;9u20",
                 "Ingreep", "standcorrectie), Totale heupprothese", id="unknown variant"),
    pytest.param("PAT-9;Tom Aerts;;avn-knie;heupprothese;claes;cadix;15/12/2026;9u25",
                 "Folder", "kies uit: Avasculaire necrose van de heup", id="unknown leaflet"),
    pytest.param("PAT-10;Tom Aerts;;avn-hip;heupprothese;claes;cadix;15/12/2026;25u00",
                 "Uur", "bestaat niet", id="impossible time"),
    pytest.param(";".join(GOOD[0]), None, "dubbele rij: dezelfde patiënt, folder en uur als rij 2",
                 id="duplicate names the first row"),
]  # fmt: skip
BAD_MORE = [  # found by a review (issue 12): each once stopped every row, or flooded a message
    pytest.param("PAT-11;Tom Aerts;;avn-hip;heupprothese;claes;cadix;05/01/0001;9u30",
                 "Datum", "ligt niet tussen 1900 en 2100", id="a date in year 1"),
    pytest.param("PAT-12;Tom Aerts;" + "1" * 900 + ";avn-hip;heupprothese;claes;cadix;"
                 "15/12/2026;9u35", "Geboortedatum", "'" + "1" * 39 + "…' is geen datum",
                 id="a long bad cell is echoed short"),
]  # fmt: skip
MORE = cells(  # two more patients at one campus, so a print file holds several leaflets
    "PAT-11;Luc Vermeulen;;avn-hip;heupprothese;wouters;augustinus;15/12/2026;8u15",
    "PAT-12;Noor Van Damme;;avn-hip;heupprothese;wouters;augustinus;15/12/2026;11u00",
)


def write_csv(path: Path, rows: list[list[str]], encoding: str, delimiter: str) -> Path:
    text = io.StringIO()
    csv.writer(text, delimiter=delimiter, lineterminator="\r\n").writerows([HEADER, *rows])
    path.write_bytes(text.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, rows: list[list[str]], sheet: str = "Dag") -> Path:
    """As Excel stores it: real dates and times in the cells, not text."""
    book = Workbook()
    book.active.title = "Overzicht"
    book.active.append(["niets hier"])
    ws = book.create_sheet(sheet)
    ws.append(HEADER)
    for row in rows:
        values: list[object] = list(row)
        for i, form in ((2, "%d/%m/%Y"), (7, "%d/%m/%Y"), (8, "%Hu%M")):
            try:
                parsed = datetime.strptime(row[i], form)
            except ValueError:
                continue  # as Excel keeps what it cannot read: text
            values[i] = parsed.time() if i == 8 else parsed
        ws.append(values)
    book.save(path)
    return path


ALL_ROWS = GOOD + cells(*(bad.values[0] for bad in BAD))


# --- reading and checking lists (no rendering) -----------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
@pytest.mark.parametrize("delimiter", [";", ","])
def test_csv_lists_in_every_encoding_read_the_same(
    tmp_path, project, registry, encoding, delimiter
) -> None:
    path = write_csv(tmp_path / "dag.csv", ALL_ROWS, encoding, delimiter)
    day = read_day_list(path, project)
    assert [r.values["name"] for r in day.rows[:4]] == [row[1] for row in GOOD]
    checked = plan(day, project, registry, date(2026, 11, 25))
    assert [e.who for e in checked.entries] == ["PAT-1", "PAT-2", "PAT-3", "PAT-4"]
    assert checked.entries[2].p.visit.patient.name == "Ünal Çelik-O'Brien"
    assert checked.entries[1].p.site.name == "ZAS Cadix", "a campus may be given by its name"


def test_a_list_padded_with_empty_columns_reads_its_header_once(
    tmp_path, project, monkeypatch
) -> None:
    """Each header cell was compared with each field's names, normalised every time: a list
    padded with a million empty columns took minutes on every view (issue 23, F11)."""
    from leafletpress.visit import daylist

    calls = []
    monkeypatch.setattr(daylist, "match_key", lambda text: calls.append(text) or text.lower())
    header = "Referentie;Naam;Taal;Folder;Ingreep;Chirurg;Campus;Datum;Uur"
    row = "PAT-1;Anna Peeters;nl;avn-hip;heupprothese;claes;cadix;15/12/2026;8u15"
    padding = ";" * 100_000
    path = tmp_path / "breed.csv"
    path.write_text(f"{header}{padding}\r\n{row}{padding}\r\n", encoding="utf-8")
    day = read_day_list(path, project)
    assert [r.values["reference"] for r in day.rows] == ["PAT-1"]
    assert len(calls) < 500, "each named header cell once, with the names of the fields"


def test_the_pseudonym_of_a_row_without_reference_needs_the_hospitals_key(
    tmp_path, project, registry
) -> None:
    """It was a plain hash of name, birth date and visit: a guess confirmed it (F16)."""
    from leafletpress.common import keyed

    path = tmp_path / "dag.csv"
    path.write_text("Naam;Geboortedatum;Folder;Ingreep;Chirurg;Campus;Datum;Uur\r\n"
                    "Marie Peeters;12/03/1958;avn-hip;heupprothese;claes;cadix;15/12/2026;8u30\r\n",
                    encoding="utf-8")  # fmt: skip
    fields = ("Marie Peeters", date(1958, 3, 12), "avn-hip", "heupprothese", "cadix",
              date(2026, 12, 15), "08:30:00")  # fmt: skip
    guess = "|".join(str(x) for x in fields)

    def who(key: bytes) -> str:
        keyed.use(lambda: key)
        return (
            plan(read_day_list(path, project), project, registry, date(2026, 11, 25)).entries[0].who
        )

    first = who(b"a" * 32)
    assert first == who(b"a" * 32) and first != who(b"b" * 32), "stable, and the key's"
    assert first[1:] != hashlib.sha256(guess.encode()).hexdigest()[:10]


def test_a_key_file_others_can_read_or_no_home_folder_gets_a_clear_error(
    tmp_path, monkeypatch
) -> None:
    from leafletpress.common import keyed
    from leafletpress.common.errors import OutputError

    path = tmp_path / "sleutel"
    keyed.from_file(path)
    assert path.stat().st_mode & 0o777 == 0o600
    path.chmod(0o644)
    with pytest.raises(OutputError, match="leesbaar voor anderen: chmod 600"):
        keyed.from_file(path)
    monkeypatch.delenv("LEAFLETPRESS_KEY_FILE")
    monkeypatch.delenv("HOME")
    monkeypatch.setattr("pathlib.Path.home", lambda: (_ for _ in ()).throw(RuntimeError()))
    with pytest.raises(OutputError, match="er is geen thuismap"):
        keyed.key_file()


def test_an_excel_list_reads_dates_and_times_from_real_cells(tmp_path, project, registry) -> None:
    day = read_day_list(write_xlsx(tmp_path / "dag.xlsx", ALL_ROWS), project, sheet="Dag")
    checked = plan(day, project, registry, date(2026, 11, 25))
    assert [e.who for e in checked.entries] == ["PAT-1", "PAT-2", "PAT-3", "PAT-4"]
    first = checked.entries[0].p.visit
    assert (first.date, f"{first.time:%H:%M}", first.patient.birth_date) == (
        DAY,
        "09:30",
        date(1961, 4, 23),
    )


def test_every_bad_row_is_refused_with_row_column_and_hint(tmp_path, project, registry) -> None:
    path = write_csv(tmp_path / "dag.csv", ALL_ROWS, "utf-8", ";")
    checked = plan(read_day_list(path, project), project, registry, date(2026, 11, 25))
    refused = {r.row: r for r in checked.refusals}
    for offset, (_, column, words) in enumerate(bad.values for bad in BAD):
        refusal = refused[len(GOOD) + 2 + offset]  # header is row 1
        assert refusal.column == column
        assert words in str(refusal), str(refusal)
    assert "rij 2" in str(refused[len(ALL_ROWS) + 1]), "a duplicate names the first row"
    assert all(r.hint for r in checked.refusals), "every refusal says how to fix it"


@pytest.mark.parametrize(("line", "column", "words"), BAD + BAD_MORE)
def test_one_bad_row_is_refused_and_never_stops_the_good_ones(
    tmp_path, project, registry, line: str, column: str | None, words: str
) -> None:
    path = write_csv(tmp_path / "dag.csv", [*GOOD, line.split(";")], "utf-8", ";")
    checked = plan(read_day_list(path, project), project, registry, date(2026, 11, 25))
    [refusal] = checked.refusals
    assert (refusal.row, refusal.column) == (len(GOOD) + 2, column)
    assert words in str(refusal) and refusal.hint, str(refusal)
    assert [e.who for e in checked.entries] == ["PAT-1", "PAT-2", "PAT-3", "PAT-4"]


def test_the_column_mapping_is_configuration(tmp_path, project_copy, registry) -> None:
    from leafletpress.common.project import Project

    columns = project_copy / "config" / "columns.yaml"
    columns.write_text(
        columns.read_text(encoding="utf-8").replace("[referentie,", "[Patiënt-ID, referentie,"),
        encoding="utf-8",
    )
    path = write_csv(tmp_path / "dag.csv", GOOD, "utf-8", ";")
    path.write_text(path.read_text(encoding="utf-8").replace("Referentie", "PATIENT ID"))
    day = read_day_list(path, Project(project_copy))
    assert day.headers["reference"] == "PATIENT ID"
    assert day.rows[0].values["reference"] == "PAT-1"


def test_a_missing_column_names_what_is_expected_and_what_was_found(tmp_path, cli) -> None:
    path = tmp_path / "dag.csv"
    path.write_text("Naam;Campus\nMarie;cadix\n", encoding="utf-8")
    code, _, err = cli("batch", str(path), "--out-dir", str(tmp_path / "out"))
    assert code == 2
    assert "rij 1: 5 kolommen ontbreken: 'folder' of" in err and "'Naam', 'Campus'" in err
    assert "config/columns.yaml" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("dag.xls", b"\xd0\xcf\x11\xe0", "is een oud Excel-bestand (.xls)"),
        ("dag.xlsx", b"not a zip", "geen leesbaar Excel-bestand"),
        ("dag.csv", b"", "het bestand is leeg"),
        ("dag.csv", b"Naam;Uur\n\x81\x8d\x8f\n", "onbekende tekenset"),
    ],
)
def test_unreadable_lists_get_one_clear_message(tmp_path, cli, name, content, expected) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    code, _, err = cli("batch", str(path), "--out-dir", str(tmp_path / "out"))
    assert code == 2 and expected in err and "Traceback" not in err


def test_an_unknown_sheet_lists_the_sheets(tmp_path, cli) -> None:
    path = write_xlsx(tmp_path / "dag.xlsx", GOOD)
    code, _, err = cli("batch", str(path), "--sheet", "Maandag", "--out-dir", str(tmp_path))
    assert code == 2 and "geen werkblad 'Maandag'" in err and "Dag, Overzicht" in err


# --- a whole batch ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def batch_run(tmp_path_factory) -> dict[str, object]:
    """One real batch (the CLI, in a subprocess, two workers) with good and bad rows."""
    work = tmp_path_factory.mktemp("batch")
    rows = ALL_ROWS + MORE
    path = write_csv(work / "dag.csv", rows, "cp1252", ";")
    result = run_cli("batch", str(path), "--out-dir", str(work / "out"), "--separators")
    folder = work / "out" / DAY.isoformat()
    return {
        "result": result,
        "folder": folder,
        "manifest": json.loads((folder / "dag/manifest.json").read_text(encoding="utf-8")),
    }


def run_cli(*args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "generate.py"), *args],
        capture_output=True,
        text=True,
        timeout=300,
        **kwargs,  # type: ignore[call-overload]
    )


def test_good_rows_are_made_bad_rows_refused_and_the_exit_code_says_so(batch_run) -> None:
    result = batch_run["result"]
    assert result.returncode == 1, result.stderr
    assert "13 rijen gelezen, 6 folders gemaakt, 7 rijen geweigerd" in result.stderr
    assert "Traceback" not in result.stderr
    assert "rij 6, kolom 'Campus': onbekende campus 'ZAS Gent'" in result.stderr
    made = sorted(p.name for p in batch_run["folder"].glob("PAT-*.pdf"))
    assert made == sorted(
        f"PAT-{n}_{t}_avn-hip-{v}.pdf"
        for n, t, v in [
            (1, "0930", "heupprothese"),
            (2, "0800", "heupprothese"),
            (3, "0745", "osteotomie"),
            (4, "1015", "decompressie"),
            (11, "0815", "heupprothese"),
            (12, "1100", "heupprothese"),
        ]
    )


def test_file_names_and_manifest_carry_no_patient_names(batch_run) -> None:
    folder = batch_run["folder"]
    names = " ".join(p.name for p in folder.rglob("*"))
    text = (folder / "dag/manifest.json").read_text(encoding="utf-8")
    text += (folder / "dag/manifest.csv").read_text(encoding="utf-8-sig")
    for row in ALL_ROWS:
        if row[1]:
            assert row[1] not in names and row[1] not in text


def test_the_manifest_records_every_row(batch_run) -> None:
    folder, manifest = batch_run["folder"], batch_run["manifest"]
    records = {r["row"]: r for r in manifest["leaflets"]}
    assert sorted(records) == list(range(2, 15)), "every row of the list, made or refused"
    made = [r for r in records.values() if r["status"] == "made"]
    assert len(made) == 6
    for record in made:
        pdf = (folder / record["file"]).read_bytes()
        assert record["sha256"] == hashlib.sha256(pdf).hexdigest()
        assert record["pages"] == len(pypdf.PdfReader(io.BytesIO(pdf)).pages)
        assert (record["code"], record["version"], record["language"]) == (
            "ORT-AVN-01",
            "3.3",
            "nl",
        )
    refused = [r for r in records.values() if r["status"] == "refused"]
    assert len(refused) == 7 and all(r["problem"] and not r["file"] for r in refused)
    assert manifest["batch"]["source"] == "dag.csv"
    assert manifest["batch"]["read_as"] == "CSV, Windows-1252, ';'"
    with open(folder / "dag/manifest.csv", encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    assert [int(r["row"]) for r in rows] == sorted(records)
    assert {r["sha256"] for r in rows if r["status"] == "made"} == {r["sha256"] for r in made}


def test_print_files_follow_appointment_order_on_fresh_sheets(batch_run) -> None:
    folder, manifest = batch_run["folder"], batch_run["manifest"]
    made = [r for r in manifest["leaflets"] if r["status"] == "made"]
    for printed in manifest["print_files"]:
        pdf = (folder / "dag" / printed["file"]).read_bytes()
        texts = page_texts(pdf)
        assert len(texts) == printed["pages"] and printed["pages"] % 2 == 0
        assert set(page_sizes_mm(pdf)) == {(148.0, 210.0)}
        here = sorted((r for r in made if r["site"] == printed["site"]), key=lambda r: r["time"])
        assert [r["print_file"] for r in here] == [printed["file"]] * len(here)
        position = 1
        for record in here:
            separator, back = texts[position - 1], texts[position]
            assert "SCHEIDINGSBLAD" in separator and record["reference"] in separator
            assert back.strip() == "", "the separator's back stays blank"
            position += 2
            assert record["print_page"] == position
            assert position % 2 == 1, "each leaflet starts on the front of a sheet"
            first = normalise(texts[position - 1])
            assert f"Ref. {record['reference']}" in first and record["time"] in first
            assert f"pagina {record['pages']} van {record['pages']}" in normalise(
                texts[position + record["pages"] - 2]
            )
            position += record["pages"] + record["pages"] % 2
        assert position - 1 == printed["pages"]


def test_separator_sheets_stay_out_of_the_patients_pdf(batch_run) -> None:
    for pdf in batch_run["folder"].glob("PAT-*.pdf"):
        assert "SCHEIDINGSBLAD" not in "".join(page_texts(pdf.read_bytes()))


def test_the_print_file_stores_what_patients_share_once(tmp_path, cli) -> None:
    """Three patients at Augustinus share a text (PAT-1, PAT-11, PAT-12), a fourth has its
    own: in their print file each page's drawing and each font program is stored once, however
    many leaflets carry it, and the file is smaller than the leaflets together. (Each leaflet's
    fonts hold only the glyphs its own pages draw, so leaflets rarely share a font program.)"""
    listing = write_csv(tmp_path / "dag.csv", GOOD + MORE, "utf-8", ";")
    assert cli("batch", str(listing), "--out-dir", str(tmp_path), "-q")[0] == 0
    folder = tmp_path / DAY.isoformat()
    manifest = json.loads((folder / "dag/manifest.json").read_text(encoding="utf-8"))
    [printed] = [p for p in manifest["print_files"] if p["site"] == "augustinus"]
    leaflets = [folder / r["file"] for r in manifest["leaflets"] if r["site"] == "augustinus"]
    assert len(leaflets) == 4
    in_leaflets: dict[str, set[bytes]] = {"fonts": set(), "pages": set()}
    for leaflet in leaflets:
        with pikepdf.open(leaflet) as pdf:
            for kind, found in drawn(pdf).items():
                in_leaflets[kind] |= {o.read_raw_bytes() for o in found.values()}
    path = folder / "dag" / printed["file"]
    with pikepdf.open(path) as pdf:
        stored = drawn(pdf)
    assert len(stored["fonts"]) == len(in_leaflets["fonts"])
    assert len(stored["pages"]) == len(in_leaflets["pages"]) < 4 * 8
    assert path.stat().st_size < 0.6 * sum(leaflet.stat().st_size for leaflet in leaflets)
    once, again = (build_print_file(leaflets, "dag").pdf for _ in range(2))
    assert once == again, "the same leaflets give the same bytes"


def drawn(pdf: pikepdf.Pdf) -> dict[str, dict[tuple[int, int], pikepdf.Stream]]:
    """The font programs and page content streams the pages of ``pdf`` use, by object."""
    found: dict[str, dict[tuple[int, int], pikepdf.Stream]] = {"fonts": {}, "pages": {}}
    for page in pdf.pages:
        if "/Contents" in page.obj:
            found["pages"][page.obj.Contents.objgen] = page.obj.Contents
        for font in page.obj.Resources.get("/Font", {}).values():
            for descendant in font.get("/DescendantFonts", [font]):
                program = descendant.FontDescriptor.get("/FontFile2")
                if program is not None:
                    found["fonts"][program.objgen] = program
    return found


# --- resuming -------------------------------------------------------------------------------


def day_rows(count: int) -> list[list[str]]:
    """Good rows R-000... at three campuses, in three variants, a minute apart."""
    sites = [("augustinus", "wouters"), ("cadix", "claes"), ("palfijn", "el-amrani")]
    variants = ["heupprothese", "decompressie", "osteotomie"]
    return [
        [
            f"R-{i:03d}",
            f"Patiënt {i}",
            "",
            "avn-hip",
            variants[i % 3],
            sites[i % 3][1],
            sites[i % 3][0],
            "15/12/2026",
            f"{7 + i // 60 % 12}:{i % 60:02d}",
        ]
        for i in range(count)
    ]


def outputs(folder: Path) -> dict[str, object]:
    """Everything a batch leaves, with the run's own timings and statuses taken out, and
    each PDF as it reads (``content``): a leaflet made again after an interruption is made
    with other patients than before, so its bytes differ (render.py), never its pages."""
    found: dict[str, object] = {}
    for path in sorted(folder.rglob("*")):
        name = str(path.relative_to(folder))
        if path.name == "manifest.json":
            manifest = json.loads(path.read_text(encoding="utf-8"))
            for key in ("started", "finished", "counts"):
                manifest["batch"].pop(key)
            for record in manifest["leaflets"] + manifest["print_files"]:
                for key in ("status", "sha256", "inputs"):  # the last two: of the bytes
                    record.pop(key, None)
            found[name] = manifest
        elif path.suffix == ".pdf":
            found[name] = content(path.read_bytes())
    return found


def test_a_killed_batch_resumes_and_ends_as_if_never_interrupted(tmp_path) -> None:
    rows = day_rows(24)
    listing = write_csv(tmp_path / "dag.csv", rows, "utf-8", ";")
    clean = run_cli("batch", str(listing), "--out-dir", str(tmp_path / "clean"), "-q")
    assert clean.returncode == 0, clean.stderr

    out = tmp_path / "killed"
    journal = out / DAY.isoformat() / ".journal.jsonl"
    process = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "generate.py"),
            "batch",
            str(listing),
            "--out-dir",
            str(out),
            "-q",
            "--jobs",
            "2",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        env={**os.environ, "TMPDIR": str(tmp_path)},  # what kill -9 leaves: fonts (render.py)
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if journal.is_file() and journal.read_text().count("\n") >= 6:
            break
        time.sleep(0.02)
    assert process.poll() is None, "the batch finished before it could be killed"
    os.killpg(process.pid, signal.SIGKILL)  # the parent and its workers, mid-write
    process.wait()
    folder = out / DAY.isoformat()
    assert not (folder / "dag/manifest.json").exists(), "killed before the manifest was written"
    for pdf in folder.glob("*.pdf"):
        pypdf.PdfReader(pdf)  # every PDF under its final name is whole

    resumed = run_cli("batch", str(listing), "--out-dir", str(out))
    assert resumed.returncode == 0, resumed.stderr
    assert "ongewijzigd van een vorige run" in resumed.stderr
    assert not list(folder.glob(".*.part")), "no temporary files left"
    assert outputs(folder) == outputs(tmp_path / "clean" / DAY.isoformat())

    again = run_cli("batch", str(listing), "--out-dir", str(out), "--force")
    assert "24 folders gemaakt, 0 rijen" in again.stderr, "--force makes everything again"


def test_a_changed_row_is_made_again_and_the_rest_is_kept(tmp_path, cli) -> None:
    rows = day_rows(4)
    listing = write_csv(tmp_path / "dag.csv", rows, "utf-8", ";")
    out = tmp_path / "out"
    assert cli("batch", str(listing), "--out-dir", str(out), "-q")[0] == 0
    rows[1][5] = "wouters"  # another surgeon for one patient
    write_csv(listing, rows, "utf-8", ";")
    code, _, err = cli("batch", str(listing), "--out-dir", str(out), "-q")
    assert code == 0 and "(3 ongewijzigd van een vorige run)" in err
    manifest = json.loads((out / DAY.isoformat() / "dag/manifest.json").read_text("utf-8"))
    assert [r["status"] for r in manifest["leaflets"]] == [
        "unchanged",
        "made",
        "unchanged",
        "unchanged",
    ]


def test_a_big_campus_day_is_split_into_print_files_of_bounded_size(
    tmp_path, cli, monkeypatch
) -> None:
    from leafletpress.day import finish

    monkeypatch.setattr(finish, "PRINT_PART_LEAFLETS", 3)
    listing = write_csv(tmp_path / "dag.csv", GOOD + MORE, "utf-8", ";")
    assert cli("batch", str(listing), "--out-dir", str(tmp_path), "-q", "--jobs", "1")[0] == 0
    folder = tmp_path / DAY.isoformat() / "dag"
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    augustinus = [r for r in manifest["leaflets"] if r["site"] == "augustinus"]
    assert [r["print_file"] for r in sorted(augustinus, key=lambda r: r["time"])] == [
        "print-augustinus-1.pdf"] * 3 + ["print-augustinus-2.pdf"]  # fmt: skip
    assert {p["file"] for p in manifest["print_files"]} == {
        "print-augustinus-1.pdf", "print-augustinus-2.pdf", "print-cadix.pdf",
        "print-palfijn.pdf"}  # fmt: skip
    assert not (folder / "print-augustinus.pdf").exists()


def test_a_finished_day_run_again_ends_without_noise(tmp_path) -> None:
    """Nothing to render, only separator sheets: the renderer is made in the main process and
    must be freed before Python's last clean-up, or WeasyPrint prints a traceback at exit."""
    listing = write_csv(tmp_path / "dag.csv", GOOD, "utf-8", ";")
    command = [sys.executable, str(ROOT / "generate.py"), "batch", str(listing),
               "--out-dir", str(tmp_path / "out"), "--separators", "-q"]  # fmt: skip
    for _ in range(2):
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr, (
            done.stderr
        )


@pytest.mark.parametrize(
    "command",
    [["batch", "dag.csv", "-q", "--jobs", "2"], ["batch", "dag.csv", "-q", "--jobs", "1"], LEAFLET],
    ids=["a day on two workers", "a day in one process", "one leaflet"],
)
def test_no_run_leaves_its_fonts_in_the_temporary_folder(tmp_path, command) -> None:
    """WeasyPrint copies the bundled fonts (1.6 MB) to a temporary folder for each renderer and
    removes it only when the renderer is freed, which a worker process never is: every day
    left two copies behind (5.8 GB in a test machine's /tmp in a day), and a service's worker
    kept them in its private /tmp, a tmpfs in memory, until it was restarted."""
    write_csv(tmp_path / "dag.csv", day_rows(14), "utf-8", ";")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    done = subprocess.run(
        [sys.executable, str(ROOT / "generate.py"), *command, "--out-dir", "out"],
        cwd=tmp_path, env={**os.environ, "TMPDIR": str(scratch)},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert len(list((tmp_path / "out").rglob("*.pdf"))) >= 1
    assert [p.name for p in scratch.iterdir()] == []


def test_a_leafletpress_folder_where_the_command_is_typed_is_never_run(tmp_path) -> None:
    """Python 3.11's forkserver started with the working directory first on its path: its
    workers imported whatever `leafletpress` was there (another checkout, another version)
    instead of the one the batch runs."""
    write_csv(tmp_path / "dag.csv", day_rows(14), "utf-8", ";")
    (tmp_path / "leafletpress").mkdir()
    (tmp_path / "leafletpress" / "__init__.py").write_text(
        "import pathlib\npathlib.Path(__file__).with_name('run').touch()\n"
    )
    done = subprocess.run(
        [sys.executable, str(ROOT / "generate.py"), "batch", "dag.csv", "-q", "--jobs", "2",
         "--out-dir", "out"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert len(list((tmp_path / "out").rglob("R-*.pdf"))) == 14
    assert not (tmp_path / "leafletpress" / "run").exists()


def test_workers_run_the_leafletpress_of_their_batch_not_the_installed_one(tmp_path) -> None:
    """Another checkout (``make bench-compare``'s) run with this one's environment, where this
    checkout is installed: its workers are made of its own code too."""
    shutil.copytree(ROOT / "leafletpress", tmp_path / "other" / "leafletpress")
    shutil.copy(ROOT / "generate.py", tmp_path / "other")
    with (tmp_path / "other" / "leafletpress" / "__init__.py").open("a") as init:
        init.write("\nimport os, pathlib\nwith pathlib.Path(__file__).with_name('pids').open('a')"
                   " as pids:\n    pids.write(f'{os.getpid()}\\n')\n")  # fmt: skip
    write_csv(tmp_path / "dag.csv", day_rows(14), "utf-8", ";")
    done = subprocess.run(
        [sys.executable, str(tmp_path / "other" / "generate.py"), "--project", str(ROOT),
         "batch", "dag.csv", "-q", "--jobs", "2", "--out-dir", "out"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    pids = (tmp_path / "other" / "leafletpress" / "pids").read_text().split()
    assert len(set(pids)) == 2, "the batch, and the server its workers are forked from"


@pytest.mark.parametrize("moment", ["after", "while"], ids=["changed after", "changed while"])
def test_a_worker_warmed_before_its_first_day_prints_the_content_of_that_day(
    tmp_path, cli, project_copy, monkeypatch, moment
) -> None:
    """The web's worker loads its renderer (the campuses, surgeons and hospital settings) as
    it starts, before a day is asked for (workers.warm): a phone number changed after that,
    or while it loads, is the one its first day prints."""
    from leafletpress.day import workers

    def change() -> None:
        edit(project_copy / "config/sites.yaml", "phone: 03 000 00 01", "phone: 03 999 99 01")

    if moment == "while":
        loaded = workers.load_registry

        def loading(project):
            registry = loaded(project)
            change()
            return registry

        monkeypatch.setattr(workers, "load_registry", loading)
    workers.warm(str(project_copy))
    monkeypatch.undo()
    if moment == "after":
        change()
    listing = write_csv(tmp_path / "dag.csv", day_rows(1), "utf-8", ";")  # at Augustinus
    code, _, err = cli("--project", str(project_copy), "batch", str(listing), "--out-dir",
                       str(tmp_path / "out"), "-q", "--jobs", "1")  # fmt: skip
    assert code == 0, err
    (pdf,) = (tmp_path / "out").rglob("R-*.pdf")
    text = normalise(all_text(pdf.read_bytes()))
    assert "03 999 99 01" in text and "03 000 00 01" not in text


# --- interrupts: what a review found (issue 12) --------------------------------------------


def start_big_day(
    tmp_path: Path, rows: int = 600, jobs: int = 2
) -> tuple[subprocess.Popen[str], Path]:
    """A day big enough that each worker has a long chunk, started in its own session, and
    waited on until a few leaflets are written. Its messages go to ``stderr.txt``, not to a
    pipe that nobody reads while it runs (a full pipe would stop the batch)."""
    listing = write_csv(tmp_path / "dag.csv", day_rows(rows), "utf-8", ";")
    (tmp_path / "tmp").mkdir()  # its TMPDIR
    with (tmp_path / "stderr.txt").open("w") as messages:
        process = subprocess.Popen(
            [sys.executable, str(ROOT / "generate.py"), "batch", str(listing),
             "--out-dir", str(tmp_path / "out"), "-q", "--jobs", str(jobs)],
            stdout=subprocess.DEVNULL, stderr=messages, text=True, start_new_session=True,
            env={**os.environ, "TMPDIR": str(tmp_path / "tmp")},
        )  # fmt: skip
    folder = tmp_path / "out" / DAY.isoformat()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if len(leaflet_files(folder)) >= 12:
            return process, folder
        time.sleep(0.05)
    raise AssertionError(f"the batch did not get going: {process.poll()}")


def leaflet_files(folder: Path) -> list[Path]:
    return [p for p in folder.glob("R-*.pdf")] if folder.is_dir() else []


def journaled(folder: Path) -> set[str]:
    lines = (folder / ".journal.jsonl").read_text(encoding="utf-8").splitlines()
    return {json.loads(line)["file"] for line in lines}


@pytest.mark.parametrize("jobs", [2, 1], ids=["worker processes", "in one process"])
def test_ctrl_c_stops_a_big_day_within_seconds_and_every_leaflet_is_journaled(
    tmp_path, jobs: int
) -> None:
    process, folder = start_big_day(tmp_path, jobs=jobs)
    pressed = time.monotonic()
    os.killpg(process.pid, signal.SIGINT)  # as a terminal does: the whole process group
    process.wait(timeout=60)
    seconds = time.monotonic() - pressed
    err = (tmp_path / "stderr.txt").read_text()
    assert process.returncode == 130 and "onderbroken" in err and "Traceback" not in err, err
    assert seconds < 10, f"{seconds:.1f} s from Ctrl-C to exit (0.2 s measured; CI may be slow)"
    made = {p.name for p in leaflet_files(folder)}
    in_hand = 1 if jobs == 1 else 0  # one process: Ctrl-C may fall between write and journal
    assert len(made - journaled(folder)) <= in_hand, "every PDF on disk is in the journal"
    assert journaled(folder) <= made
    assert not list(folder.glob(".*.part"))


@pytest.mark.parametrize(
    "how, everyone",
    [(signal.SIGTERM, False), (signal.SIGKILL, False), (signal.SIGTERM, True)],
    ids=["SIGTERM", "SIGKILL", "SIGTERM to every process (a service manager's stop)"],
)
def test_the_workers_end_with_the_batch(tmp_path, how: signal.Signals, everyone: bool) -> None:
    import psutil

    process, folder = start_big_day(tmp_path)
    workers = psutil.Process(process.pid).children(recursive=True)
    assert workers
    if everyone:
        os.killpg(process.pid, how)
    else:
        process.send_signal(how)  # the batch only, as `kill` would
    process.wait(timeout=60)
    _, alive = psutil.wait_procs(workers, timeout=5)
    assert alive == [], "no worker outlives the batch (and its lock)"
    count = len(leaflet_files(folder))
    time.sleep(1)
    assert len(leaflet_files(folder)) == count, "nothing is written after the batch ended"
    if how == signal.SIGTERM:
        assert process.returncode == 130
        assert {p.name for p in leaflet_files(folder)} == journaled(folder)
    assert list((tmp_path / "tmp").glob("weasyprint-*")) == [], "each worker's copy of the fonts"


def test_a_stop_signal_to_the_server_the_workers_are_forked_from_leaves_the_day_to_the_batch(
    tmp_path,
) -> None:
    """A service manager's stop signals every process, in no set order. The server that
    forked the workers reports when they end: had it died first, the batch would have taken
    its workers for dead and ended while they wrote, leaving a PDF without its journal line
    (seen once in CI)."""
    import psutil

    process, folder = start_big_day(tmp_path)
    (server,) = [
        p for p in psutil.Process(process.pid).children() if "forkserver" in str(p.cmdline())
    ]
    server.send_signal(signal.SIGTERM)
    time.sleep(1)
    assert process.poll() is None, (tmp_path / "stderr.txt").read_text()
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=60)
    assert process.returncode == 130, (tmp_path / "stderr.txt").read_text()
    assert {p.name for p in leaflet_files(folder)} == journaled(folder)


# --- lists that break the reader (issue 12) -------------------------------------------------


def xlsx_with(path: Path, member: str, content: bytes, source: Path | None = None) -> Path:
    """A real workbook with one part replaced, as a damaged or crafted file would have it."""
    good = source or write_xlsx(path.with_name("good.xlsx"), GOOD, sheet="Dag")
    with zipfile.ZipFile(good) as original:
        parts = {item.filename: original.read(item) for item in original.infolist()}
    parts[member] = content
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in parts.items():
            out.writestr(name, data)
    return path


def csv_file(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


HEADER_LINE = ";".join(HEADER)
LINES = [";".join(row) for row in GOOD]
SHEET = "xl/worksheets/sheet1.xml"  # the first sheet, the one read

BROKEN_LISTS = [
    pytest.param(lambda p: csv_file(p / "dag.csv", "\n".join(
        [HEADER_LINE + ";Opmerking", LINES[0] + ";" + "x" * 200_000, *LINES[1:]])),
        "rij 2: een cel is langer dan", id="a cell over 128 KiB, even in an ignored column"),
    pytest.param(lambda p: csv_file(p / "dag.csv", "\n".join(
        [HEADER_LINE, LINES[0], LINES[1].replace("Hélène", '"Hélène'), *LINES[2:], *LINES])),
        "rij 3: een aanhalingsteken", id="an unbalanced quote does not swallow the rest"),
    pytest.param(lambda p: csv_file(p / "dag.csv", "\n".join(
        [HEADER_LINE, LINES[0], LINES[1].replace("Hélène", '"Hélène'), *LINES[2:],
         LINES[0].replace("Marie", 'Marie"')])),
        "rij 3: een aanhalingsteken", id="a quote closed rows later spans them"),
    pytest.param(lambda p: xlsx_with(p / "dag.xlsx", SHEET, b"<worksheet><sheetData><row>"),
                 "geen leesbaar Excel-bestand", id="a truncated sheet"),
    pytest.param(lambda p: xlsx_with(p / "dag.xlsx", SHEET,
                 b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/'
                 b'spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr">'
                 b"<is><t>&undefined;</t></is></c></row></sheetData></worksheet>"),
                 "geen leesbaar Excel-bestand", id="an undefined entity"),
    pytest.param(lambda p: xlsx_with(p / "dag.xlsx", SHEET,
                 b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                 b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
                 b"<worksheet><sheetData><row><c><v>&lol2;</v></c></row></sheetData></worksheet>"),
                 "geen leesbaar Excel-bestand", id="an entity bomb"),
    pytest.param(lambda p: xlsx_with(p / "dag.xlsx", "xl/sharedStrings.xml",
                 b"<sst><si><t>" + b"a" * 300_000_000 + b"</t></si></sst>"),
                 "uitgepakt groter dan", id="a small workbook that unpacks to 300 MB"),
    pytest.param(lambda p: csv_file(p / "dag.csv", HEADER_LINE + "\n" + "x;" * 6_000_000),
                 "groter dan", id="a list over the size limit"),
]  # fmt: skip


@pytest.mark.parametrize(("make", "expected"), BROKEN_LISTS)
def test_a_broken_or_crafted_list_is_refused_in_one_sentence(tmp_path, cli, make, expected) -> None:
    path = make(tmp_path)
    started = time.monotonic()
    code, _, err = cli("batch", str(path), "--out-dir", str(tmp_path / "out"))
    assert code == 2 and expected in err and "Traceback" not in err, err
    assert err.count("fout:") == 1, "one sentence for the file"
    assert len(err[err.index("fout:") :]) < 600, "a long cell is never echoed whole"
    assert time.monotonic() - started < 20
    assert not (tmp_path / "out").exists(), "nothing was made"


def test_two_lists_for_one_day_keep_their_own_print_files_and_manifest(tmp_path, cli) -> None:
    """Two clinics, one day: each list's print files, manifest and outbox in a folder of its
    own; the patients' PDFs together in the day folder; neither list's PDFs are strays."""
    first = write_csv(tmp_path / "orthopedie.csv", GOOD[:1], "utf-8", ";")
    second = write_csv(tmp_path / "pijnkliniek dinsdag.csv", GOOD[1:], "utf-8", ";")
    out = tmp_path / "out"
    assert cli("batch", str(first), "--out-dir", str(out))[0] == 0
    code, _, err = cli("batch", str(second), "--out-dir", str(out))
    assert code == 0 and "horen niet bij deze lijst" not in err, err
    day = out / DAY.isoformat()
    for folder, references in (("orthopedie", ["PAT-1"]),
                               ("pijnkliniek-dinsdag", ["PAT-2", "PAT-3", "PAT-4"])):  # fmt: skip
        manifest = json.loads((day / folder / "manifest.json").read_text(encoding="utf-8"))
        assert [r["reference"] for r in manifest["leaflets"]] == references
        assert all((day / folder / p["file"]).is_file() for p in manifest["print_files"])
        assert all((day / r["file"]).is_file() for r in manifest["leaflets"])
    for listing, count in ((first, 1), (second, 3)):
        code, _, err = cli("email", str(day), "--list", str(listing))
        assert f"{count} zonder e-mail" in err, "the day folder finds the list's own batch"
    code, _, err = cli("batch", str(first), "--out-dir", str(out))
    assert "ongewijzigd" in err and "horen niet bij deze lijst" not in err, err


# --- real hospital lists (issue 11) ----------------------------------------------------------

FORMULAS = ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\t=1", "\r=1", '=HYPERLINK("http://x","klik")']


def test_the_manifest_csv_never_runs_a_formula_and_the_json_keeps_the_value(tmp_path, cli) -> None:
    """Every column that carries input, in a refused row (which echoes its cells)."""
    rows = [row[:] for row in GOOD]
    for number, formula in enumerate(FORMULAS):
        row = ["R-" + str(number)] + [formula] * 8
        row[0] = formula if number % 2 else row[0]  # a reference too, where it can be one
        rows.append(row)
    listing = write_csv(tmp_path / "dag.csv", rows, "utf-8", ";")
    cli("batch", str(listing), "--out-dir", str(tmp_path / "out"), "-q")
    folder = tmp_path / "out" / DAY.isoformat() / "dag"
    with open(folder / "manifest.csv", encoding="utf-8-sig", newline="") as handle:
        cells = [cell for row in csv.reader(handle, delimiter=";") for cell in row]
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))], cells
    echoed = [c for c in cells if c.startswith("'")]
    assert len(echoed) >= len(FORMULAS), "the values are there, shown as text"
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    refused = [r for r in manifest["leaflets"] if r["status"] == "refused"]
    assert {r["site"] for r in refused} >= {f.strip() for f in FORMULAS if f.strip()}, (
        "JSON keeps the exact value"
    )


def test_a_line_break_typed_in_a_cell_refuses_only_that_row(tmp_path, project, registry) -> None:
    """Alt+Enter in Excel: in an ignored column it is fine; in the name, the row is refused."""
    text = "\n".join(
        [
            HEADER_LINE + ";Opmerking",
            LINES[0] + ';"eerst bellen\nna 9u"',
            LINES[1].replace("Hélène Dubois", '"Hélène\nDubois"') + ";",
            *LINES[2:],
        ]
    )
    path = csv_file(tmp_path / "dag.csv", text)
    checked = plan(read_day_list(path, project), project, registry, date(2026, 11, 25))
    assert [e.who for e in checked.entries] == ["PAT-1", "PAT-3", "PAT-4"]
    [refusal] = checked.refusals
    assert (refusal.row, refusal.column) == (3, "Naam"), str(refusal)


def secretary_workbook(path: Path, saved_values: bool = True) -> Path:
    """A day list as secretaries keep it in Excel: a hidden sheet before it, a hidden column,
    a hidden (cancelled) row, a campus merged over two rows, a reference typed as a number,
    dates typed as text, a formula, and formatting far beyond the last appointment."""
    book = Workbook()
    hidden = book.active
    hidden.title = "Oud"
    hidden.append(["niets", "hier"])
    hidden.sheet_state = "hidden"
    ws = book.create_sheet("Dinsdag")
    ws.append([*HEADER, "Campus"])  # the last one: a hidden working column, same header
    ws.append(
        [
            "PAT-1",
            "Marie Peeters",
            "",
            "avn-hip",
            "heupprothese",
            "wouters",
            "augustinus",
            "15 dec 2026",
            "9u30",
            "oud",
        ]
    )
    ws.append(
        [
            "PAT-2",
            "Geannuleerd Patiënt",
            "",
            "avn-hip",
            "heupprothese",
            "claes",
            "cadix",
            "15/12/2026",
            "8u00",
            "oud",
        ]
    )
    ws.row_dimensions[3].hidden = True
    ws.append(
        [
            42,
            "Jan Janssens",
            "",
            "avn-hip",
            "decompressie",
            "claes",
            "cadix",
            "15-12-2026",
            "10:15",
            "oud",
        ]
    )
    ws.append(
        [
            "PAT-4",
            '=CONCATENATE("Hélène"," ","Dubois")',
            "",
            "avn-hip",
            "osteotomie",
            "claes",
            None,
            "15 december 2026",
            "11u",
            "oud",
        ]
    )
    ws.merge_cells("G4:G5")  # cadix for both
    ws.column_dimensions["J"].hidden = True
    ws.cell(900, 40).number_format = "0.00"  # formatting only, far away
    book.save(path)
    if saved_values:  # as Excel saves it: the formula's result beside it
        with zipfile.ZipFile(path) as saved:
            sheet = saved.read("xl/worksheets/sheet2.xml")
        data = sheet.replace(
            b'<c r="B5"><f>', b'<c r="B5" t="str"><f>'
        ).replace(b"</f><v></v>", "</f><v>Hélène Dubois</v>".encode())  # fmt: skip
        xlsx_with(path, "xl/worksheets/sheet2.xml", data, source=path)
    return path


def test_a_list_as_kept_in_excel_reads_as_excel_shows_it(tmp_path, project, registry) -> None:
    day = read_day_list(secretary_workbook(tmp_path / "dag.xlsx"), project)
    assert day.source == "Excel, werkblad 'Dinsdag'", "hidden sheets are skipped"
    assert day.hidden_rows == (3,), "a hidden row is listed, not used"
    assert [r.number for r in day.rows] == [2, 4, 5], "row numbers stay Excel's"
    checked = plan(day, project, registry, date(2026, 11, 25))
    assert checked.refusals == []
    entries = {e.who: e.p for e in checked.entries}
    assert set(entries) == {"PAT-1", "42", "PAT-4"}, "a number typed as the reference"
    assert entries["PAT-4"].site.name == "ZAS Cadix", "a merged cell fills its range"
    assert entries["PAT-4"].visit.patient.name == "Hélène Dubois", "a formula's saved value"
    assert {p.visit.date for p in entries.values()} == {DAY}, "dates typed as text"


def test_a_formula_without_a_saved_value_is_refused_with_a_hint(tmp_path, cli) -> None:
    path = secretary_workbook(tmp_path / "dag.xlsx", saved_values=False)
    code, _, err = cli("batch", str(path), "--out-dir", str(tmp_path / "out"))
    assert code == 2 and "rij 5, veld 'Naam': een formule zonder opgeslagen uitkomst" in err, err
    assert "bewaar ze opnieuw" in err


def test_the_summary_names_the_hidden_rows(tmp_path, cli) -> None:
    code, _, err = cli("batch", str(secretary_workbook(tmp_path / "dag.xlsx")),
                       "--out-dir", str(tmp_path / "out"))  # fmt: skip
    assert code == 0, err
    assert "1 verborgen rij niet gebruikt (rij 3)" in err, err
    manifest = json.loads((tmp_path / "out/2026-12-15/dag/manifest.json").read_text("utf-8"))
    assert manifest["batch"]["hidden_rows"] == [3]


def test_a_warning_many_rows_share_is_said_once_with_their_rows(tmp_path, cli) -> None:
    """A clinic on a Saturday: 'een weekend of feestdag' for every patient, one line each,
    hid the warnings that were about one patient. Shared by more than three rows, it is said
    once, with its rows; a warning of a few rows is still said row by row, with the patient."""
    rows = day_rows(10)
    for n, row in enumerate(rows):
        row[7] = {4: "15/12/2026", 8: "20/12/2026", 9: "20/12/2026"}.get(n, "19/12/2026")
    listing = write_csv(tmp_path / "dag.csv", rows, "utf-8", ";")
    code, _, err = cli("batch", str(listing), "--out-dir", str(tmp_path / "out"), "-q")
    assert code == 0, err
    said = [line for line in err.splitlines() if "weekend of feestdag" in line]
    question = "een weekend of feestdag: klopt die datum?"
    assert said == [
        f"waarschuwing: {listing}, 7 rijen (rij 2-5, 7-9): de ingreep valt op 19/12/2026, "
        + question,
        f"waarschuwing: {listing}, rij 10 (R-008): de ingreep valt op 20/12/2026, " + question,
        f"waarschuwing: {listing}, rij 11 (R-009): de ingreep valt op 20/12/2026, " + question,
    ]


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        pytest.param("dag.csv", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "is een afbeelding",
                     id="an image renamed .csv"),
        pytest.param("dag.csv", b"%PDF-1.7\n", "is een PDF", id="a PDF renamed .csv"),
        pytest.param("dag.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64,
                     "met wachtwoord", id="a password-protected workbook"),
        pytest.param("dag.csv", b"   \r\n", "het bestand is leeg", id="a file of blanks"),
        pytest.param("dag.csv", b"\x00\x01\x02binary", "geen tekst", id="any other binary"),
        pytest.param("dag.csv", b"\xef\xbb\xbfNaam;Uur\nJos\xe9;8u\n", "onbekende tekenset",
                     id="a UTF-8 mark before Windows-1252 text"),
        pytest.param("dag.csv", b"\xff\xfeN\x00a\x00\x00\xd8", "onbekende tekenset",
                     id="UTF-16 cut off in a character"),
        pytest.param("dag.csv", ("Naam;" + "X" * 900 + ";Uur\n").encode(), "kolommen ontbreken",
                     id="a long header is echoed short"),
    ],
)  # fmt: skip
def test_a_file_that_is_not_a_list_is_refused_in_one_sentence(tmp_path, cli, name, content,
                                                               expected) -> None:  # fmt: skip
    path = tmp_path / name
    path.write_bytes(content)
    code, _, err = cli("batch", str(path), "--out-dir", str(tmp_path / "out"))
    assert code == 2 and expected in err and err.count("fout:") == 1, err


def test_limits_are_configuration(tmp_path, cli, project_copy) -> None:
    listing = write_csv(tmp_path / "dag.csv", GOOD, "utf-8", ";")
    columns = project_copy / "config/columns.yaml"
    text = columns.read_text(encoding="utf-8")  # one `limits:`: a key given twice is refused
    columns.write_text(text.replace("  max_rows: 2000", "  max_rows: 3"), "utf-8")
    code, _, err = cli("--project", str(project_copy), "batch", str(listing),
                       "--out-dir", str(tmp_path / "out"))  # fmt: skip
    assert code == 2 and "heeft 4 rijen met afspraken; meer dan 3" in err, err
    assert not (tmp_path / "out").exists(), "refused before any work"


def test_a_list_is_hashed_as_it_was_read_not_as_it_is_later(tmp_path, project) -> None:
    """A list saved again while its batch runs: the manifest keeps the hash of the rows the
    leaflets were made from, so the email step refuses the changed list (see test_email)."""
    path = write_csv(tmp_path / "dag.csv", GOOD, "utf-8", ";")
    original = hashlib.sha256(path.read_bytes()).hexdigest()
    day = read_day_list(path, project)
    write_csv(path, [GOOD[1], *GOOD], "utf-8", ";")  # a row inserted at the top
    assert day.sha256 == original


def test_two_lists_of_one_name_do_not_replace_each_other(tmp_path, cli) -> None:
    """Two clinics' 'dag.csv' for one day: 'dag' and 'dag-2', each with its own manifest."""
    (tmp_path / "cadix").mkdir()
    (tmp_path / "palfijn").mkdir()
    first = write_csv(tmp_path / "cadix/dag.csv", GOOD[1:2], "utf-8", ";")
    second = write_csv(tmp_path / "palfijn/dag.csv", GOOD[3:], "utf-8", ";")
    out = tmp_path / "out"
    for listing in (first, second, first):  # the first again: its own folder, not a third
        assert cli("batch", str(listing), "--out-dir", str(out), "-q")[0] == 0
    day = out / DAY.isoformat()
    assert sorted(p.name for p in day.iterdir() if p.is_dir()) == ["dag", "dag-2"]
    for folder, reference in (("dag", "PAT-2"), ("dag-2", "PAT-4")):
        manifest = json.loads((day / folder / "manifest.json").read_text(encoding="utf-8"))
        assert [r["reference"] for r in manifest["leaflets"]] == [reference]
    for listing in (first, second):
        _, _, err = cli("email", str(day), "--list", str(listing))
        assert "1 zonder e-mail" in err and "niet de lijst" not in err, err


def test_a_full_disk_stops_the_day_and_the_same_command_finishes_it(tmp_path) -> None:
    """A file-size limit stands in for a full disk (WeasyPrint's temporary font files do not
    fit). The batch stops at once with its message and exit 4, leaves no partial file, and
    once there is room the same command ends the day exactly as an undisturbed run."""
    import resource

    listing = write_csv(tmp_path / "dag.csv", day_rows(12), "utf-8", ";")
    clean = run_cli("batch", str(listing), "--out-dir", str(tmp_path / "clean"), "-q")
    assert clean.returncode == 0, clean.stderr

    def small_disk() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write fails instead of killing us
        resource.setrlimit(resource.RLIMIT_FSIZE, (150_000, 150_000))

    out = tmp_path / "out"
    full = run_cli("batch", str(listing), "--out-dir", str(out), "-q", "--jobs", "2",
                   preexec_fn=small_disk)  # fmt: skip
    assert full.returncode == 4, full.stderr
    assert "de schijf is vol" in full.stderr and "Traceback" not in full.stderr, full.stderr
    folder = out / DAY.isoformat()
    assert not list(folder.rglob(".*.part")), "no half-written file is left"
    for pdf in folder.rglob("*.pdf"):
        pypdf.PdfReader(pdf)  # what is there is whole
    again = run_cli("batch", str(listing), "--out-dir", str(out), "-q")
    assert again.returncode == 0, again.stderr
    assert outputs(folder) == outputs(tmp_path / "clean" / DAY.isoformat())


def test_a_print_file_made_from_the_same_leaflets_and_sheets_is_not_made_again(tmp_path) -> None:
    """A run again, or a correction of one row, builds only the print files whose leaflets or
    separator sheets changed: the rest are taken as they are (7 s of 200 sheets otherwise)."""
    listing = tmp_path / "dag.csv"
    listing.write_bytes((ROOT / "examples/dag-2026-12-15.csv").read_bytes())
    out = tmp_path / "out"
    run_cli("batch", str(listing), "--out-dir", str(out), "--separators", "-q")
    folder = out / "2026-12-15" / "dag"
    before = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in folder.glob("print-*.pdf")}
    lines = listing.read_bytes().split(b"\n")
    lines[2] = lines[2].replace(b";8u15", b";11u00")  # Jan Janssens, at ZAS Augustinus
    listing.write_bytes(b"\n".join(lines))
    result = run_cli("batch", str(listing), "--out-dir", str(out), "--separators", "-q")
    assert result.returncode == 0, result.stderr
    after = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in folder.glob("print-*.pdf")}
    assert after["print-cadix.pdf"] == before["print-cadix.pdf"]  # not written again
    assert after["print-palfijn.pdf"] == before["print-palfijn.pdf"]
    assert after["print-augustinus.pdf"][1] != before["print-augustinus.pdf"][1]
    texts = page_texts((folder / "print-augustinus.pdf").read_bytes())
    assert any("11:00" in t and "Jan Janssens" in t for t in texts)  # its separator sheet


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda r, secret: r.update(file="../../../elders.txt", sha256=secret),
                     id="a manifest naming a file outside the list's folder"),
        pytest.param(lambda r, secret: r.pop("pages"), id="a record without its pages"),
        pytest.param(lambda r, secret: r.update(firsts=[1]), id="first pages that do not fit"),
    ],
)  # fmt: skip
def test_a_hand_edited_manifest_never_puts_another_file_in_a_print_file(
    cli, project_copy, tmp_path, tamper
) -> None:
    listing = tmp_path / "dag.csv"
    listing.write_bytes((ROOT / "examples/dag-2026-12-15.csv").read_bytes())
    out, elders = tmp_path / "out", tmp_path / "elders.txt"
    elders.write_bytes(b"geen afdrukbestand\n")
    secret = hashlib.sha256(elders.read_bytes()).hexdigest()
    args = ("--project", str(project_copy), "batch", str(listing), "--out-dir", str(out), "-q")
    assert cli(*args)[0] == 0
    manifest = out / "2026-12-15" / "dag" / "manifest.json"
    data = json.loads(manifest.read_text())
    for record in data["print_files"]:
        tamper(record, secret)
    manifest.write_text(json.dumps(data))
    assert cli(*args)[0] == 0  # built again, never an internal error
    for pdf in (out / "2026-12-15" / "dag").glob("print-*.pdf"):
        assert pdf.read_bytes().startswith(b"%PDF"), pdf.name


def test_new_styles_reach_a_print_file_whose_leaflets_did_not_change(
    cli, project_copy, tmp_path
) -> None:
    listing = tmp_path / "dag.csv"
    listing.write_bytes((ROOT / "examples/dag-2026-12-15.csv").read_bytes())
    out = tmp_path / "out"
    args = ("--project", str(project_copy), "batch", str(listing), "--out-dir", str(out), "-q",
            "--separators")  # fmt: skip
    assert cli(*args)[0] == 0
    before = (out / "2026-12-15" / "dag" / "print-cadix.pdf").read_bytes()
    css = project_copy / "styles" / "leaflet.css"
    css.write_text(css.read_text() + "\n.separator table { display: none; }\n")
    assert cli(*args)[0] == 0
    assert (out / "2026-12-15" / "dag" / "print-cadix.pdf").read_bytes() != before
