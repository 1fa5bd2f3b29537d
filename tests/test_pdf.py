"""The personalised PDF itself: content per variant, personal fields, QR codes, print quality."""

from __future__ import annotations

import ast
import io
import re
from datetime import time
from html import unescape

import pikepdf
import pypdf
import pytest
from helpers import (
    LEAFLET,
    all_text,
    decode_qr_codes,
    edit,
    embedded_fonts,
    made,
    normalise,
    page_sizes_mm,
    page_texts,
    visit_fields,
)

from leafletpress.content.leaflet import load_leaflet
from leafletpress.content.markup import body_html
from leafletpress.visit.appointment import make_visit
from leafletpress.visit.personalise import personalise

VARIANTS = ("decompressie", "heupprothese", "osteotomie")

# Phrases only one variant's leaflet may print (procedure, anaesthesia, rehabilitation).
ONLY_IN = {
    "decompressie": [
        "boort kleine gaatjes in het dijbeenbot",
        "verdooft de arts alleen je onderlichaam",
        "Reken voor een volledig herstel op een aantal maanden",
    ],
    "heupprothese": [
        "vervangt het aangetaste heupgewricht door een kunstheup",
        "metalen of keramische kop",
        "1 à 2 dagen na de operatie",
        "Na 6 weken stap je weer normaal",
        "tot 3 maanden",
        "uit de kom gaan van de nieuwe heup",
    ],
    "osteotomie": [
        "zet het heupgewricht in een andere stand",
        "snede in je lies",
        "3 tot 4 dagen na de operatie",
        "beperkt steunen op het geopereerde been",
        "tot 6 maanden",
    ],
}
# Facts every variant must carry, exactly as in the source leaflet.
EVERY_VARIANT = [
    "Vanaf 6 uur vóór de ingreep mag je niet meer eten, drinken of roken, zelfs geen water",
    "dagelijkse medicatie",
    "minstens 10 dagen vóór je ingreep",
    "koorts die aanhoudt (meer dan 38 °C)",
    "je onderbeen (kuit) is pijnlijk, stijf, rood of dik",
    "er komt vocht uit de wonde",
    "kortademig",
    "infectie",
    "trombose",
    "bloeduitstorting of nabloeding",
    "verschil in beenlengte",
    "blaasontsteking of zenuwbeschadiging",
    "paracetamol",
    "röntgenfoto",
    "aanvullende hospitalisatieverzekering",
    "Info ombudsdienst",
    "https://www.zas.be/ombudsdienst",
]


@pytest.mark.parametrize("variant", VARIANTS)
def test_only_the_chosen_variant_is_printed(render, variant: str) -> None:
    text = all_text(render(variant=variant))
    for phrase in ONLY_IN[variant] + EVERY_VARIANT:
        assert phrase in text, f"{variant}: missing {phrase!r}"
    for other, phrases in ONLY_IN.items():
        if other != variant:
            for phrase in phrases:
                assert phrase not in text, f"{variant} leaflet mentions {other}: {phrase!r}"


def test_prosthesis_leaflet_never_mentions_osteotomy_and_back(render) -> None:
    assert "osteotom" not in all_text(render(variant="heupprothese")).lower()
    osteotomy = all_text(render(variant="osteotomie")).lower()
    assert "prothese" not in osteotomy and "kunstheup" not in osteotomy


def test_first_page_shows_the_appointment(render) -> None:
    first = normalise(page_texts(render())[0])
    for expected in (
        "Jouw afspraak",
        "Marie Peeters",
        "geboren 12/03/1958",
        "PAT-0042",
        "Ingreep Totale heupprothese",
        "Datum dinsdag 15 december 2026",
        "Aanmelden om 07:30",
        "Uur van de ingreep 08:30",
        "ZAS Augustinus",
        "Oosterveldlaan 24, 2610 Wilrijk",
        "Nuchter vanaf dinsdag 15 december 2026 om 02:30",
        "vrijdag 4 december 2026",  # blood thinners: 10 days before, a Saturday: Friday
        "prof. dr. Sofie Wouters",
        "03 000 00 01",
    ):
        assert expected in first, expected


def test_fasting_that_starts_the_day_before_names_that_day(render) -> None:

    text = all_text(render(time=time(5, 0)))
    assert "Nuchter vanaf maandag 14 december 2026 om 23:00" in text


def test_placeholders_in_the_body_are_filled(render) -> None:
    text = all_text(render())
    assert "[[" not in text
    assert "dus uiterlijk op vrijdag 4 december 2026" in text
    assert "Het juiste uur staat op pagina 1, bij ‘Nuchter vanaf’" in text
    assert "Jouw ingreep is gepland in ZAS Augustinus" in text
    assert "Neem zeker contact op met ZAS Augustinus, dag en nacht via 03 000 10 01" in text


def test_qr_codes_decode_to_contact_page_and_online_leaflet(render, registry) -> None:
    pdf = render(site="cadix", surgeon="claes")
    contact = registry.sites["cadix"].contact_url
    online = "https://www.zas.be/behandelingen/avasculaire-necrose-avn"
    assert decode_qr_codes(pdf, page=0, dpi=150) == sorted([contact, online])
    first = normalise(page_texts(pdf)[0]).replace(" ", "")
    assert contact in first and online in first, "each URL is printed beside its QR code"


def test_qr_codes_are_sharp_images_and_the_logo_a_vector(render) -> None:
    """Each QR code is an image of pure black and white pixels, ten a module, that printers
    and viewers enlarge without smoothing (qr.py); the logo stays a vector drawing."""
    with pikepdf.open(io.BytesIO(render())) as pdf:
        xobjects = pdf.pages[0].Resources.get("/XObject") or {}
        images = [x for x in xobjects.values() if x.get("/Subtype") == "/Image"]
        assert len(images) == 2, "the two QR codes, and no logo"
        for image in images:
            assert image.Interpolate is False and image.ColorSpace == "/DeviceGray"
            assert image.Width / (24 / 25.4) > 300, "more than 300 dpi at 24 mm"
            pixels = pikepdf.PdfImage(image).as_pil_image()
            assert [n for n, count in enumerate(pixels.histogram()) if count] == [0, 255]


def test_a5_by_default_and_a4_on_request(render) -> None:
    assert set(page_sizes_mm(render())) == {(148.0, 210.0)}
    assert set(page_sizes_mm(render("a4"))) == {(210.0, 297.0)}


def test_running_footer_on_every_page(render) -> None:
    pages = page_texts(render())
    for number, text in enumerate(pages, start=1):
        flat = normalise(text)
        assert "ORT-AVN-01 · versie 3.3 · laatst bijgewerkt 03/12/2026" in flat
        assert f"pagina {number} van {len(pages)}" in flat


def test_only_bundled_fonts_are_used_and_all_are_embedded(render) -> None:
    for pdf in (render(), render("a4")):
        fonts = embedded_fonts(pdf)
        assert fonts, "no fonts found"
        assert all(fonts.values()), f"not embedded: {fonts}"
        assert all("Open-Sans" in name for name in fonts), f"fallback font used: {fonts}"


def test_metadata(render) -> None:
    reader = pypdf.PdfReader(io.BytesIO(render()))
    meta = reader.metadata
    assert meta.title == "Avasculaire necrose van de heup – Totale heupprothese"
    assert meta.author == "Ziekenhuis aan de Stroom (ZAS)"
    assert "ORT-AVN-01 versie 3.3" in meta.subject
    assert reader.trailer["/Root"]["/Lang"] == "nl-BE"
    assert "Marie" not in str(dict(meta)), "no patient name in metadata"


def test_same_input_gives_the_same_bytes(renderer, personalisation, project, registry) -> None:
    from leafletpress.pdf.render import Renderer

    p = personalisation(variant="osteotomie")
    first = renderer.render(p).pdf
    assert renderer.render(p).pdf == first
    assert Renderer(project, registry).render(p).pdf == first


@pytest.mark.parametrize("fmt", ["a5", "a4", "large"])
def test_no_word_is_hyphenated_at_a_line_end(render, fmt) -> None:
    """WeasyPrint prints its hyphens as real ones (U+002D): a screen reader read "afge-
    sproken" (issue 22, F2). pdfium marks a line-end hyphenation with U+FFFE."""
    assert re.findall(r"\w+\ufffe\w+", "".join(page_texts(render(fmt)))) == []


def _body_lines(page_text: str, header: str) -> list[str]:
    lines = [line.strip() for line in page_text.replace("\r", "").split("\n") if line.strip()]
    footer = ("pagina ", "ORT-AVN-01 ·", "25/11/2026")  # large print wraps the footer
    return [line for line in lines if not line.startswith(footer) and line != header]


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("fmt", ["a5", "a4", "large"])
def test_no_heading_stranded_at_a_page_bottom(render, leaflet, variant: str, fmt: str) -> None:
    html = body_html(leaflet.body, variant).html
    headings = {
        normalise(re.sub(r"<[^>]+>", "", h)) for h in re.findall(r"<h[23][^>]*>(.*?)</h[23]>", html)
    }
    header = f"ZAS · Avasculaire necrose van de heup {leaflet.meta.variants[variant].label}"
    pages = page_texts(render(fmt, variant=variant))
    for number, text in enumerate(pages[:-1], start=1):
        last = normalise(_body_lines(text, header)[-1].replace("\ufffe", ""))
        assert not any(h.endswith(last) for h in headings), (
            f"page {number} ends with heading {last!r}"
        )


@pytest.fixture(scope="module")
def in_language(project, registry, renderer):
    """A leaflet before the operation in a language and edition, rendered once per module."""
    cache: dict[tuple[str, str, str], bytes] = {}

    def rendered(lang: str, fmt: str, variant: str) -> bytes:
        if (lang, fmt, variant) not in cache:
            leaflet = load_leaflet(project, "avn-hip", lang)
            visit = make_visit(**visit_fields(language=lang, variant=variant))
            p = personalise(visit, leaflet, registry)
            cache[lang, fmt, variant] = renderer.render(p, fmt).pdf
        return cache[lang, fmt, variant]

    return rendered


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("fmt", ["a5", "a4", "large"])
@pytest.mark.parametrize("lang", ["nl", "fr", "en"])
def test_call_out_boxes_are_never_split(project, in_language, lang, fmt, variant) -> None:
    """Also in large print, where the checklist went over the page although it fits on the
    next one alone (issue 21, F16); a box taller than a page would be the only exception."""
    html = body_html(load_leaflet(project, "avn-hip", lang).body, variant).html
    boxes = re.findall(r'<h3 class="box-title">(.*?)</h3>(.*?)</aside>', html, re.DOTALL)
    assert len(boxes) == 2
    pages = [normalise(t) for t in page_texts(in_language(lang, fmt, variant))]
    for title, inner in boxes:
        title = normalise(unescape(title))
        last_words = normalise(unescape(re.sub(r"<[^>]+>", " ", inner))).split()[-3:]
        tail = " ".join(last_words)
        on = [i for i, page in enumerate(pages) if title in page]
        assert len(on) == 1
        if (lang, fmt, title) in TALLER_THAN_A_PAGE:  # flows on from where it starts
            heading = TALLER_THAN_A_PAGE[lang, fmt, title]
            assert heading in pages[on[0]] and tail in pages[on[0] + 1], "not pushed over"
        else:
            assert tail in pages[on[0]], f"box {title!r} is split"


# The French checklist in large print is taller than an A4 page: it starts right under its
# heading and goes on over the page (once it left a page empty and its heading alone).
TALLER_THAN_A_PAGE = {("fr", "large", "À faire avant l’opération"): "Avant l’opération"}


# Pages per edition before the operation, per variant (nl, fr and en alike): pinned, so a
# change of layout that costs a page is seen. A5 and A4 keep a gap on page 2, large print on
# page 3: the checklist box (in A5 with its heading 118 mm) does not fit in what is left
# there (73 mm), and a box that fits on a page is never split.
PAGES = {"a5": 6, "a4": 5, "large": 8}


@pytest.mark.parametrize("fmt", list(PAGES))
@pytest.mark.parametrize("lang", ["nl", "fr", "en"])
def test_each_edition_has_its_number_of_pages_and_says_its_colophon_once(
    in_language, lang, fmt
) -> None:
    for variant in VARIANTS:
        pages = page_texts(in_language(lang, fmt, variant))
        assert len(pages) == PAGES[fmt], (variant, len(pages))
        # The code, version and date are in every page's footer; the closing block repeated
        # them right above the last one (issue 21, F16).
        assert sum(normalise(page).count("ORT-AVN-01 ·") for page in pages) == len(pages)


def test_cover_and_shared_leaflet_join_into_what_one_document_would_give(
    renderer, personalisation
) -> None:
    p = personalisation(name="Ünal Çelik-O'Brien", variant="decompressie")
    joined = renderer.render(p)
    whole = renderer.pdf(renderer.composer.whole(p))
    assert joined.pages == whole.pages
    assert [normalise(t) for t in page_texts(joined.pdf)] == [
        normalise(t) for t in page_texts(whole.pdf)
    ]


def test_patients_with_the_same_text_share_one_layout(renderer, personalisation) -> None:
    first = renderer.render(personalisation(name="Eerste Patiënt", time=time(8, 0))).pdf
    before = renderer.layouts
    second = renderer.render(personalisation(name="Tweede Patiënt", time=time(11, 15))).pdf
    assert renderer.layouts == before + 1, "only the cover is laid out again"
    a, b = page_texts(first), page_texts(second)
    assert "Eerste Patiënt" in a[0] and "Tweede Patiënt" in b[0] and "11:15" in b[0]
    assert a[1:] == b[1:]
    renderer.render(personalisation(name="Derde Patiënt", surgeon="el-amrani"))
    assert renderer.layouts == before + 3, "another surgeon is named in the text: new layout"


def test_a_template_changed_since_the_last_leaflet_is_used_for_the_next(project_copy) -> None:
    """Templates are compiled once per process, for every Composer (compose._Compiled): one
    changed in the meantime (by an editor, through the web) is compiled again."""
    from leafletpress.common.project import Project
    from leafletpress.content.registry import load_registry
    from leafletpress.pdf.compose import Composer

    project = Project(project_copy)
    registry = load_registry(project)
    p = personalise(make_visit(**visit_fields()), load_leaflet(project, "avn-hip"), registry)
    assert "Een nieuwe zin." not in Composer(project, registry).leaflet(p)
    edit(
        project_copy / "templates/leaflet.html.j2", "{{ body }}", "<p>Een nieuwe zin.</p>{{ body }}"
    )
    assert "Een nieuwe zin." in Composer(project, registry).leaflet(p)


def test_a_cover_that_runs_over_still_numbers_every_page(project_copy, leaflet) -> None:
    from leafletpress.common.project import Project
    from leafletpress.content.registry import load_registry
    from leafletpress.pdf.render import Renderer
    from leafletpress.visit.appointment import make_visit
    from leafletpress.visit.personalise import personalise

    sites = project_copy / "config" / "sites.yaml"
    directions = "Volg de gele lijn tot aan de lift en neem die naar de tweede verdieping. " * 6
    text = sites.read_text(encoding="utf-8")
    text = text.replace("nl: Dagziekenhuis, gelijkvloers.", f"nl: {directions.strip()}", 1)
    sites.write_text(text, encoding="utf-8")
    project = Project(project_copy)
    registry = load_registry(project)
    p = personalise(make_visit(**visit_fields(name="N" * 120)), leaflet, registry)
    pages = page_texts(Renderer(project, registry).render(p, "a5").pdf)
    assert "Volg de gele lijn" in pages[1], "the cover runs over onto page 2"
    assert "Wat is avasculaire necrose?" not in pages[1], "the leaflet text starts after it"
    for number, text in enumerate(pages, start=1):
        assert f"pagina {number} van {len(pages)}" in normalise(text)


LONG_NAME = "Wolfeschlegelsteinhausenbergerdorffvoralternwarengewissenhaftschaferswessenschafe"


@pytest.mark.parametrize(
    "fields",
    [pytest.param({"name": LONG_NAME}, id="a name"),
     pytest.param({"reference": "W" * 40}, id="the longest reference")],
)  # fmt: skip
def test_a_long_name_without_break_points_wraps_and_stays_whole(render, fields) -> None:
    import pypdfium2 as pdfium

    pdf = render(**fields)
    page = pdfium.PdfDocument(pdf)[0]
    text = page.get_textpage()
    width = page.get_width()
    rights = [text.get_charbox(i)[2] for i in range(text.count_chars())]
    assert max(rights) <= width - 5, "nothing runs off the page (or into its margin)"
    value = next(iter(fields.values()))
    assert value in "".join(text.get_text_range().split()), "printed whole"


BUNDLED = {"OpenSans", "NotoSansArabic", "NotoSansHebrew"}


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("Zoë Ñúñez-Łukasz Øster Şahin Nguyễn Đức", id="Latin with diacritics"),
        pytest.param("Γιώργος Παπαδόπουλος", id="Greek"),
        pytest.param("Дмитрий Иванов", id="Cyrillic"),
        pytest.param("محمد العلي", id="Arabic, right to left, shaped"),
        pytest.param("דוד כהן", id="Hebrew, right to left"),
    ],
)
def test_a_name_in_any_bundled_script_prints_with_bundled_fonts(render, name: str) -> None:
    pdf = render(name=name)
    first_page = "".join(page_texts(pdf)[0].split())
    assert "".join(name.split()) in first_page or "".join(reversed(name.split())) in first_page
    fonts = embedded_fonts(pdf)
    families = {font.split("+")[-1].replace("-", "") for font in fonts}
    assert all(f.startswith(tuple(BUNDLED)) for f in families), f"only bundled fonts: {fonts}"
    assert all(fonts.values()), "every font is embedded"
    if any("\u0600" <= c <= "\u06ff" for c in name):
        assert any(f.startswith("NotoSansArabic") for f in families)


@pytest.mark.parametrize(
    ("at", "arrival"),
    [(time(0, 30), "Aanmelden om maandag 14 december 2026 om 23:30"),
     (time(1, 0), "Aanmelden om maandag 14 december 2026 om middernacht (24:00)"),
     (time(8, 30), "Aanmelden om 07:30 Uur van de ingreep 08:30")],
)  # fmt: skip
def test_an_arrival_on_the_day_before_names_that_day(render, at, arrival) -> None:
    """Reading "Aanmelden om 23:30" under "Datum dinsdag 15 december", a patient comes a day late
    (hostile review of issue 21: the arrival is a hospital-wide setting of up to 4 hours)."""
    assert arrival in normalise(page_texts(render(time=at))[0])


def test_a_box_taller_than_a_page_flows_on_whatever_the_templates_add(
    cli, project_copy, tmp_path
) -> None:
    """A box of the hospital's own templates is not a box of the text: the layout's second
    pass finds the text's boxes by their number, not by counting (hostile review)."""
    edit(project_copy / "templates/leaflet.html.j2", "  <main class=\"content\">\n",
         '  <main class="content">\n<aside class="box">Welkom</aside>\n')  # fmt: skip
    signs = "".join(f"- klacht nummer {n}\n" for n in range(60))
    edit(project_copy / "leaflets/avn-hip/nl.md", "- er komt vocht uit de wonde\n",
         f"- er komt vocht uit de wonde\n{signs}")  # fmt: skip
    pdf, _ = made(cli, project_copy, LEAFLET, tmp_path)
    pages = [normalise(text) for text in page_texts(pdf)]
    [start] = [page for page in pages if "Wanneer neem je contact op?" in page]
    assert "blaasontsteking of zenuwbeschadiging" in start, "it starts right after the text"


@pytest.mark.parametrize(
    "url",
    ["https://www.zas.be?pagina=ombudsdienst&taal=nl",
     "https://www.zas.be/zas-cadix?utm_source=folder&q=%C3%A9%20x#route-en-parking",
     "https://www.zas.be/" + "lange-naam-" * 12],
)  # fmt: skip
def test_a_web_address_is_printed_and_linked_as_typed_and_stays_on_the_page(
    cli, project_copy, tmp_path, url
) -> None:
    """No '/' added after a host without a path; a long address wraps (hostile review)."""
    edit(project_copy / "config/hospital.yaml", "ombudsman_url: https://www.zas.be/ombudsdienst",
         f'ombudsman_url: "{url}"')  # fmt: skip
    pdf, _ = made(cli, project_copy, LEAFLET, tmp_path)
    # pdfium shows a hyphen at a line end as U+FFFE: here it is the address's own
    assert url in "".join(page_texts(pdf)[-1].replace("\ufffe", "-").split()), "as typed"
    with pikepdf.open(io.BytesIO(pdf)) as document:
        links = [a for a in document.pages[-1].obj.get("/Annots", []) if str(a.A.URI) == url]
        width = float(document.pages[-1].obj.MediaBox[2])
        assert links and all(float(a.Rect[2]) <= width for a in links), "linked, on the page"


def test_a_soft_hyphen_in_the_text_never_breaks_a_word(cli, project_copy, tmp_path) -> None:
    """Pasted from a word processor, it printed "ontstekings-" read aloud as two words."""
    edit(project_copy / "leaflets/avn-hip/nl.md", "ontstekingsremmers", "ontstekings\u00adremmers")
    edit(project_copy / "styles/leaflet.css", "hyphens: manual;", "hyphens: auto;")  # an old copy
    pdf, _ = made(cli, project_copy, LEAFLET, tmp_path, "--large-print")
    raw = "".join(page_texts(pdf))
    assert "ontstekingsremmers" in raw and re.findall(r"\w+\ufffe\w+", raw) == []


def test_loading_weasyprint_runs_no_compiler_to_find_its_libraries() -> None:
    """Every process that renders loads WeasyPrint, which asks for its C libraries by their
    Windows and macOS names first; for each miss, ctypes ran gcc and ld (0.2 s at every
    start). Only the linker's cache is asked, in the loading thread only (a review: a web
    server's other threads meanwhile got the cache's answer), and ctypes is left as it was."""
    import subprocess
    import sys

    script = """if True:
        import sys, threading
        ran = []
        sys.addaudithook(lambda e, a: ran.append(a[0]) if e == "subprocess.Popen" else None)
        import ctypes.util, leafletpress.pdf.render
        from leafletpress.pdf import libraries
        print(sorted({str(command).rsplit("/", 1)[-1] for command in ran}))
        print(ctypes.util.find_library.__name__, leafletpress.pdf.render.HTML.__name__)
        ran.clear()
        other = threading.Thread(target=libraries._find_library, args=("no-such-library",))
        other.start()
        other.join()
        print(sorted({str(command).rsplit("/", 1)[-1] for command in ran}))
    """
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    ran, restored, in_another_thread = run.stdout.splitlines()
    assert set(ast.literal_eval(ran)) <= {"ldconfig"} and restored == "find_library HTML"
    assert {"gcc", "ld"} & set(ast.literal_eval(in_another_thread)), "ctypes' own"
