"""Editions: folded A5 booklets, large print, and accessible (PDF/UA) and archival (PDF/A) PDFs,
checked on the real files: imposed sheets read back, font sizes, tags, independent validators."""

from __future__ import annotations

import io
import json
import math
import re
import shutil
import subprocess
from datetime import date, time
from pathlib import Path

import a11y
import pdfua
import pikepdf
import pypdf
import pypdfium2 as pdfium
import pytest
import zxingcpp
from helpers import (
    MM_PER_PT,
    ROOT,
    VISIT_DATE,
    all_text,
    font_sizes,
    page_sizes_mm,
    visit_fields,
)
from weasyprint import HTML

from leafletpress.content.leaflet import load_leaflet
from leafletpress.printing.booklet import impose, saddle_stitch
from leafletpress.visit.appointment import make_visit
from leafletpress.visit.personalise import personalise

A4_LANDSCAPE = (297.0, 210.0)


def footer_numbers(pdf: bytes) -> list[tuple[int | None, int | None]]:
    """For each imposed side, the page number printed in the footer of its left and right
    half ("pagina 3 van 6"), or None for a blank half."""
    document = pdfium.PdfDocument(pdf)
    sides = []
    for index in range(len(document)):
        page = document[index]
        width, height = page.get_size()
        text = page.get_textpage()
        halves = []
        for left in (0, width / 2):
            found = re.search(
                r"pagina (\d+) van", text.get_text_bounded(left, 0, left + width / 2, height)
            )
            halves.append(int(found.group(1)) if found else None)
        sides.append(tuple(halves))
    return sides


# --- booklets ------------------------------------------------------------------------------


@pytest.mark.parametrize("pages", range(1, 14))
def test_saddle_stitch_folds_into_reading_order(pages: int) -> None:
    sides = saddle_stitch(pages)
    total = len(sides) * 2
    assert total % 4 == 0 and total - 4 < pages <= total, "padded to a multiple of 4"
    # Folding a stack: the two halves of one side always add up to total - 1 (0-based) ...
    for left, right in sides:
        halves = [i if i is not None else None for i in (left, right)]
        filled = [h for h in halves if h is not None]
        if len(filled) == 2:
            assert sum(filled) == total - 1
    # ... the front of sheet 1 holds the cover (right) and back cover (left), and every page
    # appears exactly once.
    assert sides[0][1] == 0
    assert sorted(i for side in sides for i in side if i is not None) == list(range(pages))


def test_a_booklet_reads_in_order_when_folded(render) -> None:
    a5 = render("a5")
    booklet = impose(a5)
    assert page_sizes_mm(a5) == [(148.0, 210.0)] * 6
    assert page_sizes_mm(booklet) == [A4_LANDSCAPE] * 4, "6 pages padded to 8 = 2 sheets"
    # Sheet 1 front: back cover (blank) | page 1; back: 2 | 7 (blank); sheet 2: 6 | 3, 4 | 5.
    assert footer_numbers(booklet) == [(None, 1), (2, None), (6, 3), (4, 5)]
    assert decode_qr(booklet, 0) == decode_qr(a5, 0), "QR codes survive the imposition"
    assert impose(a5) == booklet, "the same leaflet, the same booklet (found by a review)"


def decode_qr(pdf: bytes, page: int) -> list[str]:
    image = pdfium.PdfDocument(pdf)[page].render(scale=150 / 72).to_pil()
    return sorted(r.text for r in zxingcpp.read_barcodes(image))


@pytest.mark.parametrize("archive", [[], ["--archive"]], ids=["reading", "archive"])
def test_a_booklet_comes_with_the_patients_own_tagged_copy(cli, tmp_path, archive) -> None:
    """The booklet is for the printer: imposed, untagged, its pages out of reading order. The
    patient (and a screen reader, and the archive) gets the A5 copy beside it (issue 22, F3:
    it was the only file; F4: with --archive it was neither PDF/A nor tagged)."""
    code, out, err = cli(
        "leaflet", "avn-hip", "--variant", "osteotomie", "--site", "palfijn", "--surgeon",
        "claes", "--date", "2026-12-15", "--time", "9u00", "--patient", "Jan Janssens",
        "--reference", "PAT-7", "--format", "booklet", *archive, "--out-dir", str(tmp_path),
    )  # fmt: skip
    assert code == 0, err
    reading, booklet = (Path(line) for line in out.split())
    assert reading.name == "PAT-7_0900_avn-hip-osteotomie.pdf"
    assert booklet.name == "PAT-7_0900_avn-hip-osteotomie-boekje.pdf"
    pdf = booklet.read_bytes()
    assert set(page_sizes_mm(pdf)) == {A4_LANDSCAPE} and len(page_sizes_mm(pdf)) % 2 == 0
    own = reading.read_bytes()
    assert set(page_sizes_mm(own)) == {(148.0, 210.0)} and structure(own)
    if archive:
        assert "is a valid PDF/A-1b file" in preflight(own, tmp_path)


def test_batch_print_files_are_booklets_and_patient_pdfs_stay_a5(tmp_path, cli) -> None:
    rows = [
        "Referentie;Naam;Folder;Ingreep;Chirurg;Campus;Datum;Uur",
        "PAT-1;Marie Peeters;avn-hip;heupprothese;claes;cadix;15/12/2026;8u00",
        "PAT-2;Jan Janssens;avn-hip;decompressie;claes;cadix;15/12/2026;9u00",
    ]
    path = tmp_path / "dag.csv"
    path.write_text("\n".join(rows), encoding="utf-8")
    out = tmp_path / "out"
    code, _, err = cli(
        "batch", str(path), "--format", "booklet", "--separators", "--out-dir", str(out), "-q"
    )
    assert code == 0, err
    folder = out / VISIT_DATE.isoformat()
    manifest = json.loads((folder / "dag/manifest.json").read_text(encoding="utf-8"))
    assert manifest["batch"]["format"] == "booklet"
    printed = (folder / "dag/print-cadix.pdf").read_bytes()
    sizes = page_sizes_mm(printed)
    for record in manifest["leaflets"]:
        patient_pdf = (folder / record["file"]).read_bytes()
        assert set(page_sizes_mm(patient_pdf)) == {(148.0, 210.0)}, "the patient's PDF is A5"
        first = record["print_page"] - 1
        assert sizes[first - 2] == (210.0, 297.0), "an A4 separator sheet, one-sided"
        sides = footer_numbers(printed)[first : first + 4]
        assert sides == [(None, 1), (2, None), (6, 3), (4, 5)], record["reference"]
    assert all(size in {A4_LANDSCAPE, (210.0, 297.0)} for size in sizes), "one paper size: A4"


# --- large print ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def large_print(renderer, personalisation) -> bytes:
    return renderer.render(personalisation(), "large").pdf


def test_large_print_is_a4_with_every_text_at_least_16_pt(large_print, render) -> None:
    assert set(page_sizes_mm(large_print)) == {(210.0, 297.0)}
    sizes = font_sizes(large_print)
    assert min(sizes) >= 16.0, sizes
    assert min(font_sizes(render("a5"))) < 8, "the measure sees the small standard footer"
    assert sum(n for size, n in sizes.items() if size == 16.0) > 5000, "the body is 16 pt"


def test_large_print_has_the_same_content(large_print, render) -> None:
    def words(pdf: bytes) -> list[str]:
        """The leaflet's text, without running headers and footers (they differ by design)."""
        text = all_text(pdf)
        text = text[text.index("Wat is avasculaire necrose?") : text.index("Heb je nog vragen?")]
        text = re.sub(r"ORT-AVN-01 · versie 3\.3 · laatst bijgewerkt 03/12/2026", " ", text)
        text = re.sub(r"pagina \d+ van \d+|ZAS · Avasculaire necrose van de heup", " ", text)
        text = text.replace("VOORBEELD — niet voor patiënten", " ")  # example data: every page
        return (
            text.replace("Totale heupprothese", " ").replace("•", " ").split()
        )  # markers: painted last

    assert words(large_print) == words(render("a5")), "large print changes size, not content"


def test_large_print_qr_codes_are_at_least_30_mm_and_scan(large_print) -> None:
    image = pdfium.PdfDocument(large_print)[1].render(scale=300 / 72).to_pil()
    results = zxingcpp.read_barcodes(image)
    assert len(results) == 2
    for result in results:
        p = result.position
        width_px = math.dist((p.top_left.x, p.top_left.y), (p.top_right.x, p.top_right.y))
        assert width_px / 300 * 25.4 >= 30, f"{result.text}: {width_px / 300 * 25.4:.1f} mm"


# Headings never end a large-print page: see test_pdf.test_no_heading_stranded_at_a_page_bottom.


# --- tagged PDF/UA and archival PDF/A -----------------------------------------------------


def structure(pdf: bytes) -> list[tuple[str, str | None]]:
    """The structure tree in reading order: (role, alternative text)."""
    root = pypdf.PdfReader(io.BytesIO(pdf)).trailer["/Root"]["/StructTreeRoot"]
    found: list[tuple[str, str | None]] = []

    def walk(node) -> None:
        node = node.get_object()
        if isinstance(node, pypdf.generic.DictionaryObject) and "/S" in node:
            found.append((str(node["/S"]), str(node["/Alt"]) if "/Alt" in node else None))
        kids = node.get("/K") if isinstance(node, pypdf.generic.DictionaryObject) else None
        if isinstance(kids, pypdf.generic.ArrayObject):
            for kid in kids:
                walk(kid)
        elif kids is not None and not isinstance(kids, pypdf.generic.NumberObject):
            walk(kids)

    walk(root)
    return found


@pytest.mark.parametrize("lang, html_lang", [("nl", "nl-BE"), ("fr", "fr-BE"), ("en", "en-GB")])
def test_every_leaflet_is_tagged_with_language_title_and_alt_texts(
    project, registry, renderer, lang, html_lang
) -> None:
    leaflet = load_leaflet(project, "avn-hip", lang)
    p = personalise(make_visit(**visit_fields(language=lang)), leaflet, registry)
    pdf = renderer.render(p).pdf
    catalog = pypdf.PdfReader(io.BytesIO(pdf)).trailer["/Root"]
    assert catalog["/MarkInfo"]["/Marked"] == True  # noqa: E712 (a PDF boolean object)
    assert catalog["/Lang"] == html_lang
    assert catalog["/ViewerPreferences"]["/DisplayDocTitle"] == True  # noqa: E712
    title = pypdf.PdfReader(io.BytesIO(pdf)).metadata.title
    assert title == f"{leaflet.meta.title} – {leaflet.meta.variants['heupprothese'].label}"
    roles = structure(pdf)
    names = [role for role, _ in roles]
    assert names.count("/H1") == 1 and names.index("/H1") < names.index("/H2")
    assert {"/Table", "/TH", "/TD", "/L", "/LI", "/P"} <= set(names)
    figures = [alt for role, alt in roles if role == "/Figure"]
    assert figures[0] == "Ziekenhuis aan de Stroom", "the logo"
    assert all(alt and "https://www.zas.be/" in alt for alt in figures[1:3]), "QR codes"


def test_headings_are_tagged_in_reading_order(render) -> None:
    pdf = render("a5")
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    root = reader.trailer["/Root"]["/StructTreeRoot"]
    headings: list[str] = []
    page_text = all_text(pdf)

    def walk(node) -> None:
        node = node.get_object()
        if not isinstance(node, pypdf.generic.DictionaryObject):
            return
        if node.get("/S") in ("/H1", "/H2", "/H3"):
            headings.append(str(node["/S"]))
        kids = node.get("/K")
        for kid in kids if isinstance(kids, pypdf.generic.ArrayObject) else [kids]:
            if kid is not None and not isinstance(kid, pypdf.generic.NumberObject):
                walk(kid)

    walk(root)
    printed = [h for h in ("Jouw afspraak", "Wat is avasculaire necrose?", "Je revalidatie")]
    positions = [page_text.index(h) for h in printed]
    assert positions == sorted(positions)
    assert headings[:3] == ["/H1", "/H2", "/H2"], "title, card, first section, in order"
    assert len(headings) >= 12


# Independent checkers: pdfua (PyPI) for PDF/UA-1, Apache PDFBox Preflight (Debian) for PDF/A.


def ua_findings(pdf: bytes, tmp_path: Path) -> list[pdfua.Finding]:
    path = tmp_path / "checked.pdf"
    path.write_bytes(pdf)
    return list(pdfua.validate(str(path)).findings)


@pytest.mark.parametrize("archive", [False, True])
def test_pdfua_checker_finds_no_errors(renderer, personalisation, tmp_path, archive) -> None:
    findings = ua_findings(renderer.render(personalisation(), archive=archive).pdf, tmp_path)
    # No warning either: UA-15-003 (header cells without /Scope) went with issue 22
    assert findings == [], findings


def test_pdfua_checker_fails_an_untagged_pdf(renderer, personalisation, tmp_path) -> None:
    untagged = renderer.layout(renderer.composer.whole(personalisation())).write_pdf()
    errors = {
        f.rule_id for f in ua_findings(untagged, tmp_path) if f.severity >= pdfua.Severity.ERROR
    }
    assert {"UA-01-005", "UA-01-002"} <= errors, "the checker can fail: no structure tree"


PREFLIGHT_JARS = ("preflight", "pdfbox2", "fontbox2", "xmpbox", "commons-logging",
                  "javax.activation", "jaxb-api")  # fmt: skip


def preflight(pdf: bytes, tmp_path: Path) -> str:
    """Apache PDFBox Preflight's verdict on a file (it validates PDF/A-1b)."""
    jars = [Path("/usr/share/java") / f"{name}.jar" for name in PREFLIGHT_JARS]
    missing = [str(j) for j in jars if not j.is_file()] + [] if shutil.which("java") else ["java"]
    if missing:
        pytest.fail(f"the PDF/A validator is not installed ({missing}); run `make test-deps`")
    path = tmp_path / "checked.pdf"
    path.write_bytes(pdf)
    command = ["java", "-cp", ":".join(map(str, jars)), "org.apache.pdfbox.preflight.Validator_A1b"]
    result = subprocess.run([*command, str(path)], capture_output=True, text=True, timeout=120)
    return result.stdout + result.stderr


@pytest.mark.parametrize("lang", ["nl", "fr", "en"])
def test_archive_copies_pass_pdfbox_preflight(project, registry, renderer, tmp_path, lang) -> None:
    leaflet = load_leaflet(project, "avn-hip", lang)
    p = personalise(make_visit(**visit_fields(language=lang)), leaflet, registry)
    archive = renderer.render(p, archive=True).pdf
    verdict = preflight(archive, tmp_path)
    assert "is a valid PDF/A-1b file" in verdict, verdict
    reader = pypdf.PdfReader(io.BytesIO(archive))
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    # Level B, as validated: level A has no validator here (issue 22, F10)
    assert "<pdfaid:part>1</pdfaid:part><pdfaid:conformance>B</pdfaid:conformance>" in xmp
    assert "<pdfuaid:part>1</pdfuaid:part>" in xmp, "the archive copy stays accessible"
    assert structure(archive), "and tagged"


def test_preflight_fails_a_pdf_that_is_not_pdfa(render, tmp_path) -> None:
    verdict = preflight(render("a5"), tmp_path)
    assert "is not a valid PDF/A-1b file" in verdict, "the validator can fail"


def test_the_archive_flag_reaches_the_file(cli, tmp_path) -> None:
    code, out, err = cli(
        "leaflet", "avn-hip", "--variant", "decompressie", "--site", "cadix", "--surgeon",
        "claes", "--date", "2026-12-15", "--time", "9u00", "--patient", "Jan Janssens",
        "--archive", "--out-dir", str(tmp_path),
    )  # fmt: skip
    assert code == 0, err
    pdf = Path(out.strip()).read_bytes()
    assert pdf.startswith(b"%PDF-1.4") and b"pdfaid:part" in pdf
    assert round(pypdf.PdfReader(io.BytesIO(pdf)).pages[0].mediabox.width * MM_PER_PT) == 148


def test_large_print_comes_only_on_a4(cli, tmp_path) -> None:
    code, out, err = cli(
        "leaflet", "avn-hip", "--variant", "decompressie", "--site", "cadix", "--surgeon",
        "claes", "--date", "2026-12-15", "--time", "9u00", "--patient", "Jan Janssens",
        "--large-print", "--format", "booklet", "--out-dir", str(tmp_path),
    )  # fmt: skip
    assert code == 2 and not out and not list(tmp_path.iterdir())
    assert "fout: optie --format: grote letters bestaan niet als booklet" in err
    assert "Traceback" not in err


# --- what a screen reader gets (tests/a11y.py), every edition, language and moment ----------

# Where the texts of the leaflets come from: their own hyphens may break a line.
SOURCE = "\n".join(
    path.read_text(encoding="utf-8")
    for folder in ("leaflets", "templates/i18n", "config")
    for path in sorted((ROOT / folder).rglob("*"))
    if path.suffix in (".md", ".yaml")
)
DISCHARGED = {"moment": "ontslag", "time": None, "discharge_date": date(2026, 12, 17),
              "followup_date": date(2027, 1, 26), "followup_time": time(10, 30),
              "followup_site": "hoge-beuken"}  # fmt: skip


@pytest.mark.parametrize("moment", ["voor", "ontslag"])
@pytest.mark.parametrize("fmt", ["a5", "a4", "large"])
@pytest.mark.parametrize("lang", ["nl", "fr", "en"])
def test_a_screen_reader_gets_the_whole_text_in_every_edition(
    project, registry, renderer, lang, fmt, moment
) -> None:
    """Running heads and page numbers as artifacts, nothing split by a page break, no layout
    hyphen, table headers resolvable, web addresses as links (issue 22)."""
    leaflet = load_leaflet(project, "avn-hip", lang)
    fields = visit_fields(language=lang, **(DISCHARGED if moment == "ontslag" else {}))
    pdf = renderer.render(personalise(make_visit(**fields), leaflet, registry), fmt).pdf
    assert a11y.findings(pdf, SOURCE) == []


def test_the_structure_checker_finds_what_the_review_found(renderer, personalisation) -> None:
    """The checker can fail: WeasyPrint's own tags, before structure.py finishes them."""
    document = renderer.layout(renderer.composer.whole(personalisation()), "large")
    found = a11y.findings(document.write_pdf(pdf_variant="pdf/ua-1"), SOURCE)
    assert any("neither in the tree nor an artifact" in f for f in found), found
    assert any("/Part elements" in f for f in found) and any("several links" in f for f in found)
    assert any("cut in two by the page break" in f for f in found), found
    assert any("without /Scope" in f for f in found) and any("/IDTree" in f for f in found)
    # Hyphenation, as WeasyPrint does it where nothing forbids it (our stylesheets do)
    font = (ROOT / "styles/fonts/OpenSans-Regular.ttf").as_uri()
    hyphenated = (f'<html lang="nl"><title>t</title><style>@font-face {{ font-family: O; src: '
                  f'url({font}) }} p {{ font-family: O; hyphens: auto; width: 20mm }}</style>'
                  "<p>verzekeringsmaatschappij</p>")  # fmt: skip
    found = a11y.findings(HTML(string=hyphenated).write_pdf(pdf_variant="pdf/ua-1"))
    assert any("a hyphen at a line end" in f for f in found), found
    unlinked = "<p>https://www.zas.be/ombudsdienst</p>"
    found = a11y.findings(renderer.pdf(f'<html lang="nl"><title>t</title>{unlinked}').pdf)
    assert any("no link" in f for f in found), found


def test_the_first_page_is_read_in_the_order_it_is_printed(render) -> None:
    """Page 1 as a screen reader announces it: title, then the card row by row."""
    said = a11y.spoken(render("a5"))
    order = ["H1: Avasculaire necrose van de heup", "H2: Jouw afspraak", "TH: Patiënt",
             "TD: Marie Peeters", "TH: Datum", "TD: dinsdag 15 december 2026",
             "TH: Aanmelden om", "TH: Nuchter vanaf", "TH: Chirurg", "Contact ZAS Augustinus",
             "Link: https://www.zas.be/"]  # fmt: skip
    positions = [said.find(words) for words in order]
    assert -1 not in positions and positions == sorted(positions), said
    assert "pagina 1 van" not in said, "the page number is an artifact"


def test_a_row_of_headers_labels_its_columns_and_a_row_label_its_row(renderer) -> None:
    """WeasyPrint's header cells carry no /Scope: structure.py gives each its own."""
    table = ("<table><tr><th>Dag</th><th>Uur</th></tr><tr><td>dinsdag</td><td>08:30</td></tr>"
             "<tr><th>Campus</th><td>ZAS Cadix</td></tr></table>")  # fmt: skip
    pdf = renderer.pdf(f'<html lang="nl"><title>t</title>{table}').pdf
    with pikepdf.open(io.BytesIO(pdf)) as document:
        root = a11y.tree(document)
        scopes = [str(n.element.A.Scope) for n in a11y.walk(root) if n.role == "/TH"]
    assert scopes == ["/Column", "/Column", "/Row"]


def test_a_booklet_that_cannot_be_written_whole_leaves_neither_file(cli, tmp_path) -> None:
    """The patient's copy and the print file go together (hostile review)."""
    (tmp_path / "2026-12-15" / "PAT-7_0900_avn-hip-osteotomie.pdf").mkdir(parents=True)
    code, _, err = cli(
        "leaflet", "avn-hip", "--variant", "osteotomie", "--site", "palfijn", "--surgeon",
        "claes", "--date", "2026-12-15", "--time", "9u00", "--patient", "Jan Janssens",
        "--reference", "PAT-7", "--format", "booklet", "--out-dir", str(tmp_path),
    )  # fmt: skip
    assert code != 0 and "Traceback" not in err
    assert not (tmp_path / "2026-12-15" / "PAT-7_0900_avn-hip-osteotomie-boekje.pdf").exists()
