"""Patients who share a text are made together (render.py ``render_many``, split.py): their
first pages laid out as one document, written with the rest as one PDF, then split. Each
patient must get the leaflet they would get alone: the same pages, text, fonts, structure,
bookmarks and QR codes, a valid PDF/UA-1 (and PDF/A-1b) file, and nothing of anyone else."""

from __future__ import annotations

import io
import re
import shutil
from datetime import date, time
from typing import Any

import a11y
import pikepdf
import pypdfium2 as pdfium
import pytest
from fontTools.ttLib import TTFont
from helpers import ROOT, content, decode_qr_codes, visit_fields
from test_editions import preflight, ua_findings

from leafletpress.common.errors import ContentError
from leafletpress.common.project import Project
from leafletpress.content.leaflet import load_leaflet
from leafletpress.content.registry import load_registry
from leafletpress.pdf.compose import Composer
from leafletpress.pdf.render import Rendered, Renderer, _cover_of_each_page
from leafletpress.pdf.split import Together
from leafletpress.pdf.standards import write_pdf
from leafletpress.pdf.subset import OthersWouldStay, _widths, drawing, drawn
from leafletpress.visit.appointment import make_visit
from leafletpress.visit.personalise import Personalisation, personalise

# Six patients of one text (heupprothese at Augustinus with Wouters on the tests' day), their
# own hour, birth date and reference: names of several lengths, two with letters beyond ASCII
# (Ü, Ç), all made together.
PATIENTS = [
    ("Marie Peeters", "PAT-1001", date(1958, 3, 12), time(8, 30)),
    ("Ünal Çelik", "PAT-1002", date(1971, 7, 1), time(9, 15)),
    ("Jan Dubois-Van den Broeck", "PAT-1003", date(1949, 12, 24), time(10, 0)),
    ("Çetin Ünver", "PAT-1004", date(1966, 5, 5), time(11, 45)),
    ("Noor El Idrissi", "PAT-1005", date(1990, 1, 31), time(13, 30)),
    ("Lotte Hermans", "PAT-1006", date(1977, 9, 9), time(14, 0)),
]
DISCHARGED = {"moment": "ontslag", "time": None, "discharge_date": date(2026, 12, 17),
              "followup_date": date(2027, 1, 26), "followup_time": time(10, 30),
              "followup_site": "hoge-beuken"}  # fmt: skip


def patients(project, registry, lang: str = "nl", **fields: Any) -> list[Personalisation]:
    leaflet = load_leaflet(project, "avn-hip", lang)
    found = []
    for name, reference, born, at in PATIENTS:
        visit = visit_fields(name=name, reference=reference, birth_date=born, language=lang,
                             **{"time": at, **fields})  # fmt: skip
        found.append(personalise(make_visit(**visit), leaflet, registry))
    return found


def bookmarks(pdf: bytes) -> list[tuple[str, int, list[Any]]]:
    """The outline: (title, page, children) for each bookmark."""
    with pikepdf.open(io.BytesIO(pdf)) as document:
        pages = {p.obj.objgen: n for n, p in enumerate(document.pages)}

        def items(level: list[Any]) -> list[tuple[str, int, list[Any]]]:
            return [(i.title, pages[i.destination[0].objgen], items(i.children)) for i in level]

        with document.open_outline() as outline:
            return items(outline.root)


def destinations(pdf: bytes) -> dict[str, int]:
    """Named destinations and the page each leads to."""
    with pikepdf.open(io.BytesIO(pdf)) as document:
        pages = {p.obj.objgen: n for n, p in enumerate(document.pages)}
        names = document.Root.Names.Dests.Names
        return {str(names[n]): pages[names[n + 1][0].objgen] for n in range(0, len(names), 2)}


def page_image(pdf: bytes, page: int = 0) -> bytes:
    """A page rendered at 100 dpi, as raw pixels."""
    return pdfium.PdfDocument(pdf)[page].render(scale=100 / 72).to_pil().tobytes()


def made(renderer: Renderer, ps: list[Personalisation], *edition: Any) -> list[Rendered]:
    found = list(renderer.render_many(ps, *edition))
    assert not [f for f in found if isinstance(f, Exception)], found
    return found  # type: ignore[return-value]


@pytest.mark.parametrize(("layout", "moment"), [("a5", "voor"), ("a4", "voor"),
                                                ("a4", "ontslag")])  # fmt: skip
def test_patients_made_together_get_the_leaflet_each_would_get_alone(
    project, registry, renderer, layout, moment
) -> None:
    ps = patients(project, registry, **(DISCHARGED if moment == "ontslag" else {}))
    laid_out = renderer.layouts
    together = made(renderer, ps, layout)
    # The rest (twice when a box is taller than a page), and the first pages at once (a
    # discharge card that flows over is made alone)
    assert renderer.layouts - laid_out < len(ps)
    for p, leaflet in zip(ps, together, strict=True):
        alone = renderer.render(p, layout)
        assert content(leaflet.pdf) == content(alone.pdf)
        assert page_image(leaflet.pdf) == page_image(alone.pdf), "page 1 looks the same"
        assert leaflet.pages == alone.pages
        spoken = [a11y.spoken(leaflet.pdf, n) for n in range(leaflet.pages)]
        assert spoken == [a11y.spoken(alone.pdf, n) for n in range(alone.pages)]
        assert p.visit.patient.reference in spoken[0]
        assert bookmarks(leaflet.pdf) == bookmarks(alone.pdf)
        assert destinations(leaflet.pdf) == destinations(alone.pdf)
        assert decode_qr_codes(leaflet.pdf) == decode_qr_codes(alone.pdf)
        assert a11y.findings(leaflet.pdf) == []


@pytest.mark.parametrize("archive", [False, True])
def test_a_leaflet_made_together_passes_the_pdfua_checker_and_preflight(
    project, registry, renderer, tmp_path, archive
) -> None:
    ps = patients(project, registry, "fr")
    for leaflet in made(renderer, ps, "a5", archive)[::2]:
        assert ua_findings(leaflet.pdf, tmp_path) == []
        if archive:
            assert "is a valid PDF/A-1b file" in preflight(leaflet.pdf, tmp_path)


def everything_in(pdf: bytes) -> str:
    """The text the pages show, and every string and stream in the file, decompressed."""
    found = [" ".join(content(pdf)[0])]
    with pikepdf.open(io.BytesIO(pdf)) as document:
        for obj in document.objects:
            if isinstance(obj, pikepdf.Stream):
                found.append(obj.read_bytes().decode("latin-1"))
            elif isinstance(obj, pikepdf.Dictionary | pikepdf.Array):
                found.append(repr(obj))
        assert sum(1 for o in document.objects if isinstance(o, pikepdf.Dictionary)
                   and o.get("/Type") == pikepdf.Name.Page) == len(document.pages)  # fmt: skip
    return "\n".join(found)


def test_nothing_of_another_patient_is_in_a_leaflet_made_together(
    project, registry, renderer
) -> None:
    ps = patients(project, registry)
    for own, leaflet in enumerate(made(renderer, ps)):
        found = everything_in(leaflet.pdf)
        assert PATIENTS[own][1] in found, "the search can find what is there"
        for other, (name, reference, born, _) in enumerate(PATIENTS):
            if other != own:
                assert reference not in found and f"{born:%d/%m/%Y}" not in found
                assert name not in found and name.split()[-1] not in found


def group_pdf(renderer: Renderer, ps: list[Personalisation], warnings: list[Any]) -> bytes:
    """The PDF render.py writes for a group (A5): the patients' first pages, then the rest."""
    body = renderer._body(renderer.composer.leaflet(ps[0]), "a5")
    covers = renderer.layout(renderer.composer.covers(ps, len(body.pages)), "a5")
    warnings.clear()  # 'Anchor defined twice': render.py filters it out
    return write_pdf(covers.copy(covers.pages + body.pages[1:]), to_split=True)


def glyphs_held(pdf: bytes) -> dict[str, tuple[set[str], set[int], set[int], set[int]]]:
    """Per font (its name without the subset tag): the characters of its ToUnicode map, the
    glyphs it gives a width (/W), and in its program the glyphs with an outline and the
    characters of the program's own cmap."""
    found = {}
    with pikepdf.open(io.BytesIO(pdf)) as document:
        for obj in document.objects:
            if isinstance(obj, pikepdf.Dictionary) and obj.get("/Subtype") == "/Type0":
                cmap = obj.ToUnicode.read_bytes()
                pairs = re.findall(rb"<[0-9A-Fa-f]+>\s*<([0-9A-Fa-f]{4,})>", cmap)
                text = {bytes.fromhex(t.decode()).decode("utf-16-be") for t in pairs}
                descendant = obj.DescendantFonts[0]
                widths = _widths(descendant.W)
                program = TTFont(io.BytesIO(descendant.FontDescriptor.FontFile2.read_bytes()))
                drawn = {n for n, name in enumerate(program.getGlyphOrder())
                         if program["glyf"][name].numberOfContours}  # fmt: skip
                name = str(obj.BaseFont).split("+")[-1]
                found[name] = (text, set(widths), drawn, set(program.getBestCmap()))
    return found


NAMES = ["محمد العلوي", "فاطمة الزهراء", "Ægir Þórsson", "Zoë Ørsted", "Jan Peeters", "Marie Maes"]


def test_a_leaflet_made_together_holds_no_glyph_it_does_not_draw(project, registry, renderer):
    """Found by a review: the group's font subsets held the letters of the others' names (in
    the fonts' ToUnicode maps, with their widths and outlines). Each leaflet's fonts hold the
    glyphs they hold when it is made alone, no more: letters, digits, punctuation."""
    leaflet = load_leaflet(project, "avn-hip", "nl")
    ps = [personalise(make_visit(**visit_fields(name=name, reference=f"PAT-{n}")), leaflet,
                      registry) for n, name in enumerate(NAMES)]  # fmt: skip
    for p, made_one in zip(ps, made(renderer, ps), strict=True):
        alone = renderer.render(p).pdf
        assert glyphs_held(made_one.pdf) == glyphs_held(alone), p.visit.patient.name
    held = glyphs_held(renderer.render(ps[2]).pdf)
    assert "Þ" in held["Open-Sans-Semi-Bold"][0], "the check can see a letter"


@pytest.mark.parametrize(
    "shown, glyphs",
    [
        ("[<00410042> -20 () 3.5 <0043>] TJ", {0x41, 0x42, 0x43}),
        ("[<0041>] TJ <0044> Tj", {0x41, 0x44}),
        ("[(AB) 5 <0043>] TJ", {0x4142, 0x43}),
        ("[<004100>] TJ", {0x41, 0x00}),
        ("[<00 41> <0042>] TJ", {0x41, 0x42}),
        ("/F2 9 Tf [<4142> -3 <43>] TJ", {("simple", 0x41), ("simple", 0x42), ("simple", 0x43)}),
    ],
    ids=["hex strings, kerning and empty strings (WeasyPrint's; read in one pass)",
         "a TJ and a Tj", "a literal string", "a string of an odd length",
         "a hex string with spaces", "a font of one-byte codes"],
)  # fmt: skip
def test_the_glyphs_a_page_draws_are_read_from_every_form_of_text(shown, glyphs) -> None:
    """Which glyphs each leaflet's fonts keep (and no more) rests on this; the one-pass
    reading of WeasyPrint's arrays gives what reading them item by item gives."""
    document = pikepdf.new()
    wide = document.make_indirect(
        pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type0)
    )
    simple = document.make_indirect(
        pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.TrueType)
    )
    page = document.add_blank_page()
    page.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=wide, F2=simple))
    page.Contents = document.make_stream(f"BT /F1 9 Tf {shown} ET".encode())
    found = drawn(list(drawing(page.obj)))
    ids = {wide.objgen: "wide", simple.objgen: "simple"}
    assert {
        (ids[f], g) if ids[f] == "simple" else g for f, gs in found.items() for g in gs
    } == glyphs


def test_an_array_the_one_pass_refuses_is_read_item_by_item_at_once() -> None:
    """Found by a review: the one pass could split each number of an array in several ways,
    so refusing an array (a glyph qpdf writes as a literal string, after a line of kerning)
    took seconds for 14 numbers and would never end for a line. Run apart, so that a
    regression fails here instead of hanging the tests."""
    import subprocess
    import sys

    script = """if True:
        import pikepdf
        from leafletpress.pdf.subset import drawing, drawn
        document = pikepdf.new()
        font = document.make_indirect(pikepdf.Dictionary(Subtype=pikepdf.Name.Type0))
        page = document.add_blank_page()
        page.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
        line = b" ".join([b"<0039> -15 () -15.46875"] * 200)
        glyph = bytes([40, 9, 34, 41])  # 0x0922 as qpdf writes it: a literal string
        page.Contents = document.make_stream(b"BT /F1 9 Tf [ %s %s ] TJ ET" % (line, glyph))
        print(sorted(drawn(list(drawing(page.obj)))[font.objgen]))
    """
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=60)  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == str([0x39, 0x0922])


def test_a_font_that_cannot_be_cut_makes_the_split_refuse(
    project, registry, renderer, weasyprint_warnings
) -> None:
    """Should a font ever come without a program to cut (a font WeasyPrint writes otherwise),
    a patient whose leaflet it would hold others' glyphs in is refused (and made alone)."""
    leaflet = load_leaflet(project, "avn-hip", "nl")
    names = ["Jan Peeters", "Ægir Þórsson"]
    ps = [personalise(make_visit(**visit_fields(name=name, reference=f"PAT-{n}")), leaflet,
                      registry) for n, name in enumerate(names)]  # fmt: skip
    pdf = group_pdf(renderer, ps, weasyprint_warnings)
    assert "Þ" not in glyphs_held(Together(pdf, 2).leaflet(0))["Open-Sans-Semi-Bold"][0]
    with pikepdf.open(io.BytesIO(pdf)) as document:
        for obj in document.objects:
            if isinstance(obj, pikepdf.Dictionary) and obj.get("/Type") == "/FontDescriptor":
                del obj["/FontFile2"]
        out = io.BytesIO()
        document.save(out)
    group = Together(out.getvalue(), 2)
    with pytest.raises(OthersWouldStay):
        group.leaflet(0)


def named(project, registry, *names: str, **fields: Any) -> list[Personalisation]:
    leaflet = load_leaflet(project, "avn-hip", "nl")
    return [personalise(make_visit(**visit_fields(**{"name": name, "reference": f"PAT-{n}",
                                                     **fields})),
                        leaflet, registry) for n, name in enumerate(names)]  # fmt: skip


def hospital_css(tmp_path, css: str) -> tuple[Project, Any, Renderer]:
    """A copy of the project whose leaflet.css ends with ``css``: project, registry, renderer."""
    root = tmp_path / "ziekenhuis"
    for folder in ("leaflets", "config", "templates", "styles"):
        shutil.copytree(ROOT / folder, root / folder)
    with (root / "styles/leaflet.css").open("a", encoding="utf-8") as sheet:
        sheet.write(f"\n{css}\n")
    project = Project(root)
    registry = load_registry(project)
    return project, registry, Renderer(project, registry)


@pytest.mark.parametrize("variant", ["heupprothese", "osteotomie"])
def test_a_leaflet_made_together_is_the_same_whoever_it_is_made_with(
    project, registry, renderer, variant
) -> None:
    """Found by reviews: the numbers of a leaflet's structure, the order of its fonts' maps,
    its object streams and its file ID followed the other first pages of its group (whether
    another name was Arabic, had two lines, or a birth date); so did a font with a ligature
    that maps to no text (osteotomie's "fi"). Now its bytes are its own."""
    b = named(project, registry, "Zoë Ørsted", variant=variant)[0]
    long_name = "Jan Peeters-Van den Broeck"  # on two lines
    groups = [[*named(project, registry, "Jan Peeters", variant=variant, reference="Q-7",
                      birth_date=date(1941, 2, 3)), b],
              [*named(project, registry, "محمد العلوي", "שרה כהן", variant=variant), b],
              [b, *named(project, registry, long_name, variant=variant)]]  # fmt: skip
    made_with = {made(renderer, group)[group.index(b)].pdf for group in groups}
    assert len(made_with) == 1
    assert content(made_with.pop()) == content(renderer.render(b).pdf)


@pytest.mark.parametrize("variant", ["heupprothese", "osteotomie", "decompressie"])
def test_every_font_weasyprint_writes_can_be_cut(
    project, registry, renderer, weasyprint_warnings, variant
) -> None:
    """Found by a review: at Palfijn, osteotomie's text draws the "fi" ligature that WeasyPrint
    maps to no text ("<0234> <>"); subset.py could not read that map, kept the font whole."""
    where = {"site": "palfijn", "surgeon": "el-amrani"}
    ps = named(project, registry, "Jan Peeters", "Zoë Quax", variant=variant, **where)
    group = Together(group_pdf(renderer, ps, weasyprint_warnings), 2)
    assert group.fonts.whole == {} and len(group.fonts.composite) >= 3


def glyph_text(pdf: bytes) -> str:
    """The text every content stream in the file draws (pages, forms, drawn or not), read
    through the bundled fonts by glyph ID (the IDs a subset keeps), not the PDF's own maps."""
    characters = {}
    for path in (ROOT / "styles/fonts").glob("*.ttf"):
        font = TTFont(path)
        by_glyph = {font.getGlyphID(g): chr(c) for c, g in reversed(font.getBestCmap().items())}
        characters[re.sub(r"[ -]", "", font["name"].getDebugName(4)).lower()] = by_glyph
    found = []
    with pikepdf.open(io.BytesIO(pdf)) as document:
        forms = [o for o in document.objects if isinstance(o, pikepdf.Stream)
                 and o.get("/Subtype") == "/Form"]  # fmt: skip
        streams = [p.obj for p in document.pages] + forms
        for stream in streams:
            fonts = (stream.get("/Resources") or {}).get("/Font") or {}
            glyphs: dict[int, str] = {}
            for op in pikepdf.parse_content_stream(stream, "Tf Tj TJ"):
                if str(op.operator) == "Tf":
                    name = str(fonts[op.operands[0]].BaseFont).split("+")[-1]
                    glyphs = characters.get(re.sub(r"[ -]", "", name).lower(), {})
                    continue
                for item in op.operands[0] if str(op.operator) == "TJ" else op.operands:
                    if isinstance(item, pikepdf.String):
                        code = bytes(item)
                        found += [
                            glyphs.get(int.from_bytes(code[i : i + 2]), "")
                            for i in range(0, len(code), 2)
                        ]
    return "".join(found)


def test_a_hospitals_stylesheet_with_nested_layers_keeps_no_other_first_page(tmp_path):
    """Found by a review: with two nested levels of opacity on page 1 (a hospital's CSS),
    another patient's appointment card stayed in the file (a form named as one of this
    patient's own, one level down), with their name in glyph IDs a public font reads."""
    css = ".appointment { opacity: 0.97 } .patient-name { opacity: 0.8 }"
    project, registry, renderer = hospital_css(tmp_path, css)
    ps = named(project, registry, "Jan Peeters", "Zoë Quax", "Ægir Þórsson")
    for own, leaflet in enumerate(made(renderer, ps)):
        drawn = glyph_text(leaflet.pdf).replace(" ", "")
        for n, p in enumerate(ps):
            name = p.visit.patient.name.replace(" ", "")
            assert (name in drawn) == (n == own), (own, name)


CARRIED = {
    "fixed": ".patient-name { position: fixed; top: 2mm; right: 2mm }",
    "running": ".nowrap { position: running(born) }"
    " @page { @top-center { content: element(born) } }",
    "named string": ".appointment td span:last-child { string-set: ref content() }"
    " @page { @top-center { content: string(ref) } }",
    "page counter": "@page { @bottom-center { content: 'p. ' counter(page) } }",
    # Found by a second review: what a check of the stylesheets' text did not see
    "escaped": ".patient-name { string\\2d set: n content() }"
    " @page { @top-center { content: string(n, start) } }",
    "page selector": "@page :first { @top-center { content: 'EERSTE' } }"
    " @page :left { @bottom-center { content: 'LINKS' } }",
    "footnote": ".nowrap { float: footnote }",
}


@pytest.mark.parametrize("css", CARRIED.values(), ids=CARRIED.keys())
def test_a_stylesheet_that_carries_boxes_or_text_to_the_next_page_makes_first_pages_apart(
    tmp_path, css
) -> None:
    """Found by reviews: laid out as one document, a first page showed what a hospital's
    stylesheet carries from page to page: every patient's name fixed on every page, the
    previous patient's reference, birth date or name in the margin, "p. 2", footnote 2, a
    :first rule on the first patient's page only. The layout says so; they are made apart."""
    project, registry, renderer = hospital_css(tmp_path, css)
    first = named(project, registry, "Jan Peeters")
    second = named(project, registry, "Zoë Quax", reference=None, birth_date=None)
    ps = [*first, *second, *named(project, registry, "Ægir Þórsson")]
    for p, leaflet in zip(ps, made(renderer, ps), strict=True):
        assert content(leaflet.pdf) == content(renderer.render(p).pdf)


def test_a_name_is_printed_and_read_as_its_patient_spelled_it(project, registry) -> None:
    """Found by a review: a PDF gives a glyph one text, the first drawn; made together, a
    name could read with another patient's spelling ("e" and an accent for "é", "ﻻ" for
    "لا"). Names are composed (NFC) when read, and one with a compatibility character is
    made alone."""
    ps = named(project, registry, "\ufefb Ali", "Rene\u0301e Dubois", "لا Ali", "Renée Maes")
    assert ps[1].visit.patient.name == "Renée Dubois"
    renderer = Renderer(project, registry)
    together = made(renderer, ps)
    assert renderer.layouts == 1 + 1 + 1, "the rest, three first pages together, one alone"
    for p, leaflet in zip(ps, together, strict=True):
        assert content(leaflet.pdf) == content(renderer.render(p).pdf)


@pytest.mark.parametrize("change", ["a form with fields", "a Unicode map with ranges"])
def test_a_group_pdf_the_split_cannot_read_exactly_makes_it_refuse(
    project, registry, renderer, weasyprint_warnings, change
) -> None:
    """WeasyPrint writes neither; should it, each patient is made alone rather than guessed."""
    ps = named(project, registry, "Jan Peeters", "Ægir Þórsson")
    pdf = group_pdf(renderer, ps, weasyprint_warnings)
    with pikepdf.open(io.BytesIO(pdf)) as document:
        if change == "a form with fields":
            document.Root.AcroForm = pikepdf.Dictionary(Fields=pikepdf.Array())
        for font in document.pages[0].Resources.Font.values():
            if change == "a Unicode map with ranges":
                cmap = font.ToUnicode.read_bytes().replace(
                    b"endcmap", b"1 beginbfrange\n<00de> <00de> <00de>\nendbfrange\nendcmap"
                )
                font.ToUnicode.write(cmap)
        out = io.BytesIO()
        document.save(out)
    with pytest.raises(OthersWouldStay):
        Together(out.getvalue(), 2).leaflet(0)


def test_a_first_page_that_flows_over_is_made_alone_and_the_others_together(
    project, registry, renderer, weasyprint_warnings
) -> None:
    """The discharge card of a decompression at Cadix fits on page 1 without a follow-up
    appointment, not with one: those patients are made alone, as before."""
    leaflet = load_leaflet(project, "avn-hip")
    planned = {**DISCHARGED, "variant": "decompressie", "site": "cadix", "surgeon": "claes"}
    unplanned = {**planned, "followup_date": None, "followup_time": None, "followup_site": None}
    fields = [("Jan Maes", planned), ("Noor Aerts", unplanned), ("Luc Claes", unplanned),
              ("Sofie Wouters", planned)]  # fmt: skip
    ps = [personalise(make_visit(**visit_fields(name=name, **f)), leaflet, registry)
          for name, f in fields]  # fmt: skip
    for p, together in zip(ps, made(renderer, ps), strict=True):
        alone = renderer.render(p)
        assert content(together.pdf) == content(alone.pdf)
        assert a11y.spoken(together.pdf) == a11y.spoken(alone.pdf)
        assert a11y.findings(together.pdf) == []
    body = renderer.composer.leaflet(ps[0])
    covers = renderer.layout(renderer.composer.covers(ps, len(renderer._body(body, "a5").pages)))
    assert _cover_of_each_page(covers) == [0, 0, 1, 2, 3, 3], "two flow over, two do not"
    assert {r.getMessage() for r in weasyprint_warnings} == {
        "Anchor defined twice: 'discharge-title'"
    }, "laid out here without render_many, which keeps WeasyPrint from saying so"
    weasyprint_warnings.clear()


class _FailsFor(Composer):
    """The project's composer, failing for one patient (a fault injected): their first page,
    or with ``text``, their leaflet's text."""

    name = "Fout Patient"
    text = False

    def _cover_context(self, p: Personalisation) -> dict[str, object]:
        if p.visit.patient.name == self.name and not self.text:
            raise ContentError("sjabloonfout: voor deze test", file="templates/cover.html.j2")
        return super()._cover_context(p)

    def leaflet(self, p: Personalisation, cover_pages: int = 1) -> str:
        if p.visit.patient.name == self.name and self.text:
            raise ContentError("sjabloonfout: voor deze test", file="templates/leaflet.html.j2")
        return super().leaflet(p, cover_pages)


@pytest.mark.parametrize("text", [False, True], ids=["first page", "text"])
def test_a_patient_whose_leaflet_fails_gets_the_error_and_the_others_their_leaflet(
    project, registry, text
) -> None:
    """Found by a review: a text that failed was the error of the patients before it."""
    renderer = Renderer(project, registry)
    renderer.composer = _FailsFor(project, registry)
    renderer.composer.text = text
    ps = patients(project, registry)
    failing = personalise(make_visit(**visit_fields(name=_FailsFor.name)), ps[0].leaflet, registry)
    found = list(renderer.render_many([ps[0], failing, ps[4]]))
    assert isinstance(found[1], ContentError) and "voor deze test" in str(found[1])
    for p, leaflet in ((ps[0], found[0]), (ps[4], found[2])):
        assert isinstance(leaflet, Rendered)
        assert content(leaflet.pdf) == content(renderer.render(p).pdf)


def test_a_project_with_templates_from_before_makes_each_leaflet_alone(tmp_path) -> None:
    root = tmp_path / "ziekenhuis"
    for folder in ("leaflets", "config"):
        shutil.copytree(ROOT / folder, root / folder)
    shutil.copytree(ROOT / "templates", root / "templates", ignore=shutil.ignore_patterns(
        "covers.html.j2"))  # fmt: skip
    project = Project(root)
    registry = load_registry(project)
    renderer = Renderer(project, registry)
    ps = patients(project, registry)[:3]
    found = made(renderer, ps)
    assert renderer.layouts == 1 + len(ps), "the rest once, then each first page alone"
    assert [content(f.pdf) for f in found] == [content(renderer.render(p).pdf) for p in ps]


def test_the_same_list_gives_the_same_bytes_with_one_worker_or_two(cli, tmp_path) -> None:
    from test_batch import day_rows, write_csv

    listing = write_csv(tmp_path / "dag.csv", day_rows(40), "utf-8", ";")
    made_with = {}
    for jobs in ("1", "2"):
        out = tmp_path / f"jobs-{jobs}"
        code, _, err = cli("batch", str(listing), "--out-dir", str(out), "-q", "--jobs", jobs)
        assert code == 0, err
        made_with[jobs] = {p.name: p.read_bytes() for p in sorted(out.rglob("*.pdf"))}
    assert len(made_with["1"]) > 40 and made_with["1"] == made_with["2"]
