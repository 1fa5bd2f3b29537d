"""Discharge leaflets: the same approved text at discharge, its card on page 1, the follow-up
campus rules and refusals, every edition and language, a ward's discharge list through batch
and the email dry run. Checked on the real PDFs (pdfium text, QR codes decoded back)."""

from __future__ import annotations

import csv
import ctypes
import email
import io
import json
import math
import re
from datetime import date, time
from email.policy import default as default_policy
from pathlib import Path

import pypdf
import pypdfium2 as pdfium
import pytest
import zxingcpp
from helpers import (
    ROOT,
    VISIT_DATE,
    all_text,
    decode_qr_codes,
    edit,
    font_sizes,
    normalise,
    page_sizes_mm,
    page_texts,
    visit_fields,
)

from leafletpress.common.errors import InputError
from leafletpress.content.leaflet import load_translation
from leafletpress.visit.appointment import make_visit
from leafletpress.visit.personalise import after, personalise, warnings

OPERATION = VISIT_DATE  # a Tuesday
DISCHARGE = date(2026, 12, 17)
# The discharge of the tests' patient (heupprothese at ZAS Augustinus, surgeon Wouters).
PLANNED = {
    "moment": "ontslag",
    "discharge_date": DISCHARGE,
    "followup_date": date(2027, 1, 26),
    "followup_time": time(10, 30),
    "followup_site": "hoge-beuken",  # holds orthopaedic consultations, does not operate
}


@pytest.fixture(scope="module")
def discharged(project, registry, renderer):
    """Render a discharge leaflet; identical requests are rendered once per module."""
    cache: dict[tuple, bytes] = {}

    def rendered(lang: str = "nl", fmt: str = "a5", archive: bool = False, **fields) -> bytes:
        values = {**PLANNED, **fields}
        key = (lang, fmt, archive, tuple(sorted((k, str(v)) for k, v in values.items())))
        if key not in cache:
            leaflet, _ = load_translation(project, "avn-hip", lang)
            p = personalise(make_visit(**visit(language=lang, **values)), leaflet, registry)
            cache[key] = renderer.render(p, fmt, archive).pdf
        return cache[key]

    return rendered


def discharge_args(project: Path, *more: str) -> list[str]:
    """`generate.py --project PROJECT leaflet` for a prosthesis at Cadix, discharged 17/12."""
    return ["--project", str(project), "leaflet", "avn-hip", "--moment", "ontslag",
            "--variant", "heupprothese", "--site", "cadix", "--surgeon", "claes", "--date",
            "15/12/2026", "--discharge-date", "17/12/2026", "--patient", "X",
            "--out-dir", str(project / "out"), *more]  # fmt: skip


def visit(**overrides: object) -> dict[str, object]:
    """The tests' patient (helpers.visit_fields) at discharge: no operation hour."""
    return visit_fields(**{"time": None, **overrides})


# --- the discharge card ---------------------------------------------------------------------

# Per variant and language: the milestones on the card for an operation on 15/12/2026 and a
# discharge on 17/12, each of its kind as the approved text says it (issue 21): a step that
# starts around a date, worded as done when it came by the discharge day (the prosthesis's
# rehabilitation); a restriction *until* a date (the osteotomy's limited weight, the first 6
# weeks); an upper limit (the full rehabilitation *can take up to* 3 or 6 months); and the
# decompression's steps as worded, without a date or a duration the text does not give.
MILESTONES = {
    ("heupprothese", "nl"): [
        "Je revalidatie is gestart in het ziekenhuis",
        "Je stapt weer normaal: rond 26 januari 2027 (na 6 weken)",
        "Volledige revalidatie: kan duren tot ongeveer maart 2027 (tot 3 maanden)",
    ],
    ("osteotomie", "nl"): [
        "Je revalidatie begint: rond 18 of 19 december 2026 (na 3 à 4 dagen)",
        "Maar beperkt steunen op het geopereerde been: tot ongeveer 26 januari 2027 (de eerste "
        "6 weken)",
        "Volledige revalidatie: kan duren tot ongeveer juni 2027 (tot 6 maanden)",
    ],
    ("decompressie", "nl"): [
        "Eerst rust, daarna stap voor stap opnieuw bewegen met krukken",
        "Volledig herstel: reken op een aantal maanden",
    ],
    ("heupprothese", "fr"): [
        "Votre revalidation a commencé à l’hôpital",
        "Vous marchez à nouveau normalement : vers le 26 janvier 2027 (après 6 semaines)",
        "Revalidation complète : peut durer jusque vers mars 2027 (jusqu’à 3 mois)",
    ],
    ("osteotomie", "fr"): [
        "Début de votre revalidation : vers le 18 ou 19 décembre 2026 (après 3 à 4 jours)",
        "Appui partiel sur la jambe opérée : jusque vers le 26 janvier 2027 (pendant 6 semaines)",
        "Revalidation complète : peut durer jusque vers juin 2027 (jusqu’à 6 mois)",
    ],
    ("decompressie", "fr"): [
        "D’abord du repos, puis reprendre pas à pas la marche avec des béquilles",
        "Rétablissement complet : comptez quelques mois",
    ],
    ("heupprothese", "en"): [
        "Your rehabilitation has started in hospital",
        "You walk normally again: around 26 January 2027 (after 6 weeks)",
        "Full rehabilitation: can take until about March 2027 (up to 3 months)",
    ],
    ("osteotomie", "en"): [
        "Your rehabilitation starts: around 18 or 19 December 2026 (after 3 to 4 days)",
        "Put only limited weight on the operated leg: until about 26 January 2027 (the first 6 "
        "weeks)",
        "Full rehabilitation: can take until about June 2027 (up to 6 months)",
    ],
    ("decompressie", "en"): [
        "First rest, then start moving again step by step on crutches",
        "Full recovery: expect a few months",
    ],
}
NEVER = ("Volledig hersteld", "rond maart", "rond juni", "de eerste maanden", "Complètement",
         "Fully recovered", "Beperkt steunen", "Appui limité", "Limited weight")  # fmt: skip
SITES = {"decompressie": "augustinus", "heupprothese": "augustinus", "osteotomie": "palfijn"}


@pytest.mark.parametrize("large", [False, True], ids=["A5", "large print"])
@pytest.mark.parametrize(("variant", "lang"), MILESTONES)
def test_each_milestone_is_printed_as_its_kind_says_in_every_language(
    discharged, variant, lang, large
) -> None:
    """A restriction is never printed as a step that starts (it was "Beperkt steunen: rond 26
    januari", read as "from 26 January"), nor an upper limit as a promise."""
    pdf = discharged(lang, "large" if large else "a5", variant=variant, site=SITES[variant],
                     surgeon="wouters")  # fmt: skip
    text = normalise(" ".join(page_texts(pdf)[:2]))
    for milestone in MILESTONES[variant, lang]:
        assert milestone.replace("\xa0", " ") in text.replace("\xa0", " ")
    assert not [word for word in NEVER if word in text]


@pytest.mark.parametrize("variant", SITES)
def test_the_discharge_card_holds_the_visit_and_this_procedures_milestones(
    discharged, variant
) -> None:
    site = SITES
    pdf = discharged(variant=variant, site=site[variant], surgeon="wouters")
    card = normalise(page_texts(pdf)[0])
    assert "Na je operatie" in card
    assert "Patiënt Marie Peeters (geboren 12/03/1958) · Ref. PAT-0042" in card
    assert "Geopereerd op dinsdag 15 december 2026" in card
    assert "Ontslag donderdag 17 december 2026" in card
    assert "Chirurg prof. dr. Sofie Wouters" in card
    assert "Controle dinsdag 26 januari 2027 om 10:30 ZAS Hoge Beuken, Commandant" in card
    assert "Raadpleging orthopedie, eerste verdieping." in card, "directions for the follow-up"
    assert "2660\xa0Hoboken" in page_texts(pdf)[0], "a postcode is never split from its town"
    for milestone in MILESTONES[variant, "nl"]:
        assert milestone in card
    phone = "03 000 10 01" if site[variant] == "augustinus" else "03 000 10 06"
    assert f"dag en nacht via {phone}, als je een van deze klachten hebt:" in card
    for sign in ("koorts die aanhoudt", "je onderbeen (kuit) is pijnlijk", "vocht uit de wonde",
                 "kortademig"):  # fmt: skip
        assert sign in card, "the four warning signs are on the card"
    assert (decode_qr_codes(pdf, 0) or decode_qr_codes(pdf, 1)) == [
        "https://www.zas.be/behandelingen/avasculaire-necrose-avn",
        "https://www.zas.be/locaties/zas-hoge-beuken",  # the follow-up campus, not the ward's
    ]
    assert "bij ontslag" in page_texts(pdf)[-1], "every page says which moment it is for"


@pytest.mark.parametrize(
    ("lang", "words"),
    [("nl", "Afspraak verplaatsen: 03 000 00 03"), ("fr", "Déplacer le rendez-vous : 03 000 00 03"),
     ("en", "To change the appointment: 03 000 00 03")],
)  # fmt: skip
def test_a_planned_follow_up_gives_the_number_to_move_it(discharged, lang, words) -> None:
    """The follow-up campus's own number (Hoge Beuken), not the operating campus's line for
    warning signs, which patients used to move their appointment (issue 21, F17)."""
    card = normalise(page_texts(discharged(lang))[0]).replace("\xa0", " ")
    assert words in card


@pytest.mark.parametrize(
    ("lang", "words"),
    [("nl", "Controle Nog niet gepland Maak een afspraak via 03 000 00 01 of via "
            "https://www.zas.be/afspraak-maken Je herstel"),
     ("fr", "Contrôle Pas encore fixé Prenez rendez-vous au 03 000 00 01 ou via "
            "https://www.zas.be/afspraak-maken (en néerlandais)"),
     ("en", "Follow-up visit Not planned yet Make an appointment on 03 000 00 01 or at "
            "https://www.zas.be/afspraak-maken (in Dutch)")],
)  # fmt: skip
def test_the_appointment_page_says_it_is_in_dutch_on_other_leaflets(discharged, lang, words):
    pdf = discharged(lang, followup_date=None, followup_time=None, followup_site=None)
    assert words in normalise(page_texts(pdf)[0]).replace("\xa0", " ")


@pytest.mark.parametrize(
    ("lang", "words"),
    [("nl", "Controle dinsdag 26 januari 2027 om 10:30"),
     ("fr", "Contrôle mardi 26 janvier 2027 à 10 h 30"),
     ("en", "Follow-up visit Tuesday 26 January 2027 at 10:30")],
)  # fmt: skip
def test_the_follow_up_time_is_written_as_each_language_writes_it(discharged, lang, words):
    assert words in normalise(page_texts(discharged(lang))[0]).replace("\xa0", " ")


def test_a_follow_up_not_planned_yet_says_how_to_make_the_appointment(discharged) -> None:
    pdf = discharged(followup_date=None, followup_time=None, followup_site=None)
    card = normalise(page_texts(pdf)[0])
    assert (
        "Controle Nog niet gepland Maak een afspraak via 03 000 00 01 of via "
        "https://www.zas.be/afspraak-maken" in card
    )
    # The card's QR codes may go over the page (the warning signs may not).
    assert "https://www.zas.be/locaties/zas-augustinus" in decode_qr_codes(pdf, 0) + (
        decode_qr_codes(pdf, 1)
    )


def test_a_discharge_leaflet_has_no_pre_operative_passage_and_no_second_contact_box(
    discharged, render
) -> None:
    after_text, before_text = all_text(discharged()), all_text(render("a5"))
    for before_only in ("Doe dit vóór de operatie", "Nuchter vanaf", "Blijf nuchter",
                        "De verdoving", "Jouw ingreep is gepland", "Jouw afspraak",
                        "Verwittig daarom je verzekeraar"):  # fmt: skip
        assert before_only in before_text
        assert before_only not in after_text
    for kept in ("De ingreep", "Je revalidatie", "Mogelijke ongemakken na de operatie",
                 "Opvolging en resultaat", "Je werd geopereerd in ZAS Augustinus"):  # fmt: skip
        assert kept in after_text
    assert after_text.count("Wanneer neem je contact op?") == 1, "moved onto the card"
    assert "Na je operatie" not in before_text, "no discharge card before the operation"
    assert "Je werd geopereerd" not in before_text


def test_the_follow_up_may_be_at_a_campus_that_does_not_operate(discharged) -> None:
    pdf = discharged(followup_site="middelheim")
    assert "ZAS Middelheim, Lindendreef 1, 2020 Antwerpen" in normalise(page_texts(pdf)[0])


# --- refusals, as the secretary would type them ---------------------------------------------

REFUSED = [
    pytest.param({"followup_site": "paola"}, "followup_site",
                 "in ZAS Paola is er geen raadpleging orthopedie", "Hoge Beuken, ZAS Middelheim",
                 id="a campus without the consultation lists those that hold it"),
    pytest.param({"followup_site": "gent"}, "followup_site", "onbekende campus 'gent'",
                 "ZAS Augustinus, ZAS Cadix", id="an unknown follow-up campus"),
    pytest.param({"discharge_date": date(2026, 12, 14)}, "discharge_date",
                 "de ontslagdatum (14/12/2026) ligt vóór de operatie (15/12/2026)",
                 "controleer beide datums", id="discharge before the operation"),
    pytest.param({"followup_date": date(2026, 12, 16)}, "followup_date",
                 "de controle (16/12/2026) ligt vóór het ontslag (17/12/2026)",
                 "controleer beide datums", id="follow-up before discharge"),
    pytest.param({"followup_date": None}, "followup_time", "een uur zonder datum",
                 "geef ook de datum", id="a follow-up time without a date"),
    pytest.param({"followup_site": None}, "followup_site", "kies de campus van de controle",
                 "er is een dag van de controle",
                 id="a follow-up date without a campus"),
    pytest.param({"discharge_date": None}, "discharge_date", "ontbreekt", "dag van het ontslag",
                 id="no discharge date"),
    pytest.param({"followup_date": date(2027, 3, 28), "followup_time": time(2, 30)},
                 "followup_time", "02:30 bestaat niet op 28/03/2027", "zomertijd",
                 id="a follow-up in the hour the clocks skip"),
    pytest.param({"moment": "voor", "time": time(8, 30)}, "discharge_date",
                 "hoort enkel bij een folder bij ontslag", "kies moment 'ontslag'",
                 id="discharge details on a leaflet before the operation"),
]  # fmt: skip


@pytest.mark.parametrize(("change", "field", "message", "hint"), REFUSED)
def test_each_refusal_names_the_field_and_how_to_fix_it(
    project, registry, change, field, message, hint
) -> None:
    leaflet, _ = load_translation(project, "avn-hip", "nl")
    with pytest.raises(InputError) as caught:
        personalise(make_visit(**visit(**{**PLANNED, **change})), leaflet, registry)
    error = caught.value
    assert error.field == field and message in error.message and hint in (error.hint or "")


def test_a_leaflet_without_a_discharge_edition_is_refused_at_discharge(project_copy, cli) -> None:
    for lang in ("nl", "fr", "en"):
        path = project_copy / f"leaflets/avn-hip/{lang}.md"
        text = path.read_text(encoding="utf-8")
        path.write_text(re.sub(r"discharge:\n(  .*\n)+", "", text), encoding="utf-8")
    code, _, err = cli(*discharge_args(project_copy))
    assert (
        code == 2 and "fout: optie --moment: folder 'avn-hip' heeft geen versie bij ontslag" in err
    )


def test_the_cli_makes_a_discharge_leaflet_named_after_its_moment(tmp_path, cli) -> None:
    args = ["leaflet", "avn-hip", "--moment", "ontslag", "--variant", "osteotomie", "--site",
            "palfijn", "--surgeon", "claes", "--date", "15/12/2026", "--discharge-date",
            "18/12/2026", "--followup-date", "16/01/2027", "--followup-time", "9u",
            "--followup-site", "sint-jozef", "--patient", "Marie Peeters", "--reference",
            "PAT-7", "--out-dir", str(tmp_path)]  # fmt: skip
    code, out, err = cli(*args)
    assert code == 0, err
    assert out.strip() == str(tmp_path / "2026-12-18/PAT-7_avn-hip-osteotomie-ontslag.pdf")
    assert "waarschuwing: de controle valt op 16/01/2027, een weekend of feestdag" in err
    code, _, err = cli(*args, "--time", "8u30")
    assert code == 2 and "optie --time: hoort niet bij een folder bij ontslag" in err
    assert "--followup-time" in err, "the hint names the option meant"


def test_months_are_counted_on_the_calendar() -> None:
    assert after(date(2027, 1, 31), "months", 1) == date(2027, 2, 28)
    assert after(date(2026, 12, 15), "months", 3) == date(2027, 3, 15)
    assert after(date(2026, 12, 15), "weeks", 6) == date(2027, 1, 26)


def test_a_discharge_in_the_past_is_a_warning_for_the_secretary(project, registry) -> None:
    leaflet, _ = load_translation(project, "avn-hip", "nl")
    p = personalise(make_visit(**visit(**PLANNED)), leaflet, registry)
    assert warnings(p, date(2026, 12, 1)) == []
    assert warnings(p, date(2027, 2, 1)) == [
        "de ontslagdatum (17/12/2026) ligt in het verleden",
        "de controle (26/01/2027) ligt in het verleden",
    ]


# --- every edition and language -------------------------------------------------------------

LANGUAGES = [
    ("nl", "Na je operatie", "Ontslag donderdag 17 december 2026", "tot ongeveer maart 2027"),
    ("fr", "Après votre opération", "Sortie jeudi 17 décembre 2026", "jusque vers mars 2027"),
    ("en", "After your operation", "Discharge Thursday 17 December 2026", "until about March 2027"),
]


@pytest.mark.parametrize(
    ("lang", "words"),
    [("nl", "dag en nacht via 03 000 10 01"), ("fr", "jour et nuit au 03 000 10 01"),
     ("en", "day and night on 03 000 10 01")],
)  # fmt: skip
@pytest.mark.parametrize("variant", ["decompressie", "heupprothese", "osteotomie"])
def test_the_warning_signs_give_the_same_day_and_night_number_before_and_after(
    project, registry, renderer, discharged, lang, words, variant
) -> None:
    leaflet, _ = load_translation(project, "avn-hip", lang)
    visit = make_visit(**visit_fields(language=lang, variant=variant))
    before = all_text(renderer.render(personalise(visit, leaflet, registry)).pdf)
    after = all_text(discharged(lang, variant=variant, site="augustinus", surgeon="wouters"))
    assert words in before and words in after


def card_sizes(pdf: bytes) -> tuple[set[float], float]:
    """The sizes of the card's characters on page 1 (from its title to the QR captions, the
    text after it, the example line or the footer), and the body's size (the most common on
    page 3), both as pdfium measures them."""
    document = pdfium.PdfDocument(pdf)

    def sizes(number: int) -> tuple[str, list[float]]:
        page = document[number].get_textpage()
        text = page.get_text_range()
        return text, [round(pdfium.raw.FPDFText_GetFontSize(page.raw, i), 1)
                      for i in range(len(text))]  # fmt: skip

    text, card = sizes(0)
    start = text.find("Na je operatie")
    ends = (text.find(mark, start) for mark in ("Contact ZAS", "Wat is avasculaire", "VOORBEELD"))
    end = min(i for i in ends if i >= 0)
    _, body = sizes(2)
    shown = {
        size
        for size, char in zip(card[start:end], text[start:end], strict=True)
        if not char.isspace()
    }
    return shown, max(set(body), key=body.count)


@pytest.mark.parametrize(("lang", "title", "discharge", "month"), LANGUAGES)
def test_the_card_speaks_the_patients_language(discharged, lang, title, discharge, month) -> None:
    card = normalise(page_texts(discharged(lang))[0])
    assert title in card and discharge in card and month in card


@pytest.mark.parametrize(
    ("fmt", "size"),
    [("a5", (148.0, 210.0)), ("a4", (210.0, 297.0)), ("large", (210.0, 297.0))],
)
def test_every_edition_has_the_card_on_page_1(discharged, fmt, size) -> None:
    pdf = discharged(fmt=fmt)
    assert set(page_sizes_mm(pdf)) == {size}
    first = normalise(page_texts(pdf)[0])
    assert "Na je operatie" in first and "dag en nacht via 03 000 10 01" in first
    # The follow-up, the milestones and the QR codes may go on over the page (large print),
    # the QR codes both on one page.
    assert "Controle dinsdag 26 januari 2027" in normalise(" ".join(page_texts(pdf)[:2]))
    assert len(decode_qr_codes(pdf, 0)) + len(decode_qr_codes(pdf, 1)) == 2
    assert len(decode_qr_codes(pdf, 0)) in (0, 2)


@pytest.mark.parametrize("lang", ["nl", "fr", "en"])
@pytest.mark.parametrize("variant", list(SITES))
def test_page_1_of_every_large_print_card_holds_the_warning_signs_and_the_number(
    discharged, lang, variant
) -> None:
    """The card stays on the fridge: in large print the warning signs and the day-and-night
    number were on page 2 of every discharge leaflet (issue 21, F4)."""
    pdf = discharged(lang, "large", variant=variant, site=SITES[variant], surgeon="wouters")
    first = normalise(page_texts(pdf)[0])
    number = "03 000 10 01" if SITES[variant] == "augustinus" else "03 000 10 06"
    assert number in first
    assert any(sign in first for sign in ("kortademig", "essouffl", "short of breath"))


def test_large_print_discharge_qr_codes_are_at_least_30_mm_and_scan(discharged) -> None:
    """They were 15 mm, as on A5, where the README promises a 33 mm symbol (issue 21, F4)."""
    pdf = discharged(fmt="large")
    found = []
    for number in range(len(pdfium.PdfDocument(pdf))):
        image = pdfium.PdfDocument(pdf)[number].render(scale=300 / 72).to_pil()
        found += zxingcpp.read_barcodes(image)
    assert len(found) == 2
    for result in found:
        p = result.position
        width_px = math.dist((p.top_left.x, p.top_left.y), (p.top_right.x, p.top_right.y))
        assert width_px / 300 * 25.4 >= 30, f"{result.text}: {width_px / 300 * 25.4:.1f} mm"


@pytest.mark.parametrize("fmt", ["a5", "large"])
def test_nothing_on_the_card_is_smaller_than_the_body_text(discharged, fmt) -> None:
    """The card was set at 8.7 pt, its spans 7.9 pt, under a 9.5 pt body (issue 21, F9)."""
    pdf = discharged(fmt=fmt, variant="osteotomie", site="palfijn", surgeon="wouters")
    card, body = card_sizes(pdf)
    assert card and min(card) >= body, (card, body)


def test_the_large_print_card_is_16_pt_and_its_box_stays_whole(discharged) -> None:
    pdf = discharged(fmt="large")
    assert min(font_sizes(pdf)) >= 16.0
    boxes = [i for i, text in enumerate(page_texts(pdf)) if "contact op?" in text]
    assert len(boxes) == 1 and "kortademig" in page_texts(pdf)[boxes[0]]


@pytest.mark.parametrize("lang", ["nl", "fr", "en"])
def test_the_a5_card_keeps_the_warning_signs_on_page_1_and_lets_its_qr_codes_go_over(
    discharged, lang
) -> None:
    """The longest card (osteotomy: its restriction worded as such, the number to move the
    follow-up) lets its QR codes go over the page, never the warning signs and the
    day-and-night number (issue 21: safety first)."""
    pdf = discharged(lang, variant="osteotomie", site="palfijn")
    first = normalise(page_texts(pdf)[0])
    assert "03 000 10 06" in first and ("kortademig" in first or "essouffl" in first
                                        or "short of breath" in first)  # fmt: skip
    assert len(decode_qr_codes(pdf, 0)) == 0 and len(decode_qr_codes(pdf, 1)) == 2
    assert "Opvolging" not in page_texts(pdf)[0] and "Suivi" not in page_texts(pdf)[0]


def test_a_discharge_leaflet_is_tagged_and_its_archive_copy_is_pdfa(discharged) -> None:
    for archive in (False, True):
        reader = pypdf.PdfReader(io.BytesIO(discharged(archive=archive)))
        assert "/StructTreeRoot" in reader.trailer["/Root"]
        xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
        assert "<pdfuaid:part>1</pdfuaid:part>" in xmp
        assert ("<pdfaid:part>1</pdfaid:part>" in xmp) == archive


def test_a_discharge_booklet_imposes_the_card_on_a4(tmp_path, cli) -> None:
    code, out, err = cli(*discharge_args(ROOT, "--reference", "PAT-8", "--format", "booklet",
                                         "--out-dir", str(tmp_path)))  # fmt: skip
    assert code == 0, err
    own, booklet = (Path(line) for line in out.split())  # the patient's copy, the print file
    assert booklet.name == "PAT-8_avn-hip-heupprothese-ontslag-boekje.pdf"
    assert set(page_sizes_mm(booklet.read_bytes())) == {(297.0, 210.0)}
    assert "Na je operatie" in all_text(booklet.read_bytes())
    assert own.name == "PAT-8_avn-hip-heupprothese-ontslag.pdf"
    assert set(page_sizes_mm(own.read_bytes())) == {(148.0, 210.0)}


# --- a ward's discharge list: batch and email -----------------------------------------------

HEADER = "Referentie;Naam;Taal;E-mail;Folder;Ingreep;Chirurg;Campus;Datum;Moment;Ontslagdatum;" \
         "Controle datum;Controle uur;Controle campus"  # fmt: skip
ROWS = [
    "PAT-1;Marie Peeters;nl;marie@example.org;avn-hip;heupprothese;wouters;augustinus;15/12/2026;"
    "ontslag;17/12/2026;26/01/2027;10u30;ZAS Hoge Beuken",
    "PAT-2;Hélène Dubois;fr;helene@example.org;avn-hip;osteotomie;claes;palfijn;14/12/2026;"
    "bij ontslag;17/12/2026;;;",
]
# One bad row each: (row text, the column the refusal names, words it says).
BAD_ROWS = [
    pytest.param("PAT-3;Jan;nl;;avn-hip;heupprothese;claes;cadix;15/12/2026;ontslag;17/12/2026;"
                 "26/01/2027;9u;ZAS Paola", "Controle campus", "geen raadpleging orthopedie",
                 id="a follow-up campus without the consultation"),
    pytest.param("PAT-4;Jan;nl;;avn-hip;heupprothese;claes;cadix;15/12/2026;ontslag;;;;",
                 "Ontslagdatum", "ontbreekt", id="no discharge date"),
    pytest.param("PAT-5;Jan;nl;;avn-hip;heupprothese;claes;cadix;15/12/2026;ontslag;14/12/2026;"
                 ";;", "Ontslagdatum", "ligt vóór de operatie", id="discharge before operation"),
    pytest.param("PAT-6;Jan;nl;;avn-hip;heupprothese;claes;cadix;15/12/2026;naderhand;17/12/2026"
                 ";;;", "Moment", "onbekend moment 'naderhand'", id="an unknown moment"),
    pytest.param("PAT-7;Jan;nl;;avn-hip;heupprothese;claes;cadix;15/12/2026;;;;;",
                 "uur", "ontbreekt", id="a row before the operation needs its hour"),

]  # fmt: skip


def write_list(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def test_a_discharge_list_runs_through_batch_and_the_email_dry_run(tmp_path, cli) -> None:
    listing = write_list(tmp_path / "ontslag.csv", ROWS)
    out = tmp_path / "out"
    code, _, err = cli("batch", str(listing), "--out-dir", str(out), "--separators")
    assert code == 0 and "2 rijen gelezen, 2 folders gemaakt" in err, err
    day = out / "2026-12-17"  # the discharge day, not the operation's
    assert sorted(p.name for p in day.glob("*.pdf")) == [
        "PAT-1_avn-hip-heupprothese-ontslag.pdf",
        "PAT-2_avn-hip-osteotomie-fr-ontslag.pdf",
    ]
    manifest = json.loads((day / "ontslag/manifest.json").read_text(encoding="utf-8"))
    first, second = manifest["leaflets"]
    assert (first["moment"], first["date"], first["time"], first["operation_date"]) == (
        "ontslag", "2026-12-17", None, "2026-12-15"
    )  # fmt: skip
    assert (first["followup_date"], first["followup_time"], first["followup_site"]) == (
        "2027-01-26", "10:30", "hoge-beuken"
    )  # fmt: skip
    assert (second["followup_date"], second["followup_site"]) == (None, None)
    assert [p["file"] for p in manifest["print_files"]] == ["print-augustinus.pdf",
                                                            "print-palfijn.pdf"]  # fmt: skip
    csv_text = (day / "ontslag/manifest.csv").read_text(encoding="utf-8-sig")
    csv_rows = list(csv.DictReader(io.StringIO(csv_text), delimiter=";"))
    assert [r["moment"] for r in csv_rows] == ["ontslag", "ontslag"]
    separator = normalise(page_texts((day / "ontslag/print-augustinus.pdf").read_bytes())[0])
    assert "bij ontslag" in separator and "Marie Peeters" in separator
    assert "Datum 17/12/2026" in separator, "the day of the list: the discharge day"

    code, _, err = cli("email", str(day), "--list", str(listing))
    assert code == 0 and "proefdraai: 2 bericht(en) klaar als .eml" in err, err
    messages = {
        m["To"]: m
        for m in (
            email.message_from_bytes(p.read_bytes(), policy=default_policy)
            for p in (day / "ontslag/outbox").glob("*.eml")
        )
    }
    nl, fr = messages["marie@example.org"], messages["helene@example.org"]
    assert nl["Subject"] == "Informatie voor na je ontslag – ZAS"
    assert "na je ontslag uit ZAS Augustinus op donderdag 17 december 2026" in normalise(
        nl.get_body().get_content()
    )
    assert fr["Subject"] == "Informations pour après votre sortie – ZAS"
    assert " om " not in nl.get_body().get_content().split("\n")[2], "no hour at discharge"


@pytest.mark.parametrize(("row", "column", "words"), BAD_ROWS)
def test_a_bad_discharge_row_is_refused_and_never_stops_the_good_ones(
    tmp_path, cli, row, column, words
) -> None:
    listing = write_list(tmp_path / "ontslag.csv", [ROWS[0], row])
    code, _, err = cli("batch", str(listing), "--out-dir", str(tmp_path / "out"))
    assert code == 1 and "1 folders gemaakt, 1 rijen geweigerd" in err, err
    assert f"rij 3, kolom '{column}': " in err and words in err


def test_the_bundled_discharge_example_is_made_without_refusals(tmp_path, cli) -> None:
    code, _, err = cli("batch", str(ROOT / "examples/ontslag-2026-12-17.csv"), "--out-dir",
                       str(tmp_path))  # fmt: skip
    assert code == 0 and "6 rijen gelezen, 6 folders gemaakt, 0 rijen geweigerd" in err, err


# --- check: what content editors can get wrong ----------------------------------------------

CONTENT_MISTAKES = [
    pytest.param("::: moment ontslag\nJe werd geopereerd", "::: moment na\nJe werd geopereerd",
                 "onbekend moment 'na'", id="an unknown moment"),
    pytest.param("::: moment voor\nJouw ingreep is gepland in [[site]].",
                 "Jouw ingreep om [[time]] is gepland in [[site]].",
                 "variant 'decompressie': [[time]] staat in de tekst bij ontslag",
                 id="a placeholder of the operation day in the discharge text"),
    pytest.param(":::: contact Wanneer neem", ":::: info Wanneer neem",
                 "de tekst bij ontslag heeft geen 'contact'-blok", id="no box for the card"),
    pytest.param("consultation: orthopedie", "consultation: cardiologie",
                 "geen campus houdt raadpleging 'cardiologie'", id="a consultation nobody holds"),
    pytest.param("::: moment ontslag\nJe werd geopereerd in [[site]].\n:::",
                 ":::: moment voor\n::: moment ontslag\nJe werd geopereerd in [[site]].\n:::\n::::",
                 "'::: moment ontslag' staat in een blok voor een ander moment",
                 id="a moment inside another that never prints"),
    pytest.param("{text: Je stapt weer normaal, weeks: 6}",
                 "{text: 'Je stapt weer **normaal** in [[site]]', weeks: 6}",
                 "bevat opmaak of een plaatshouder", id="markup in a milestone"),
    pytest.param("{text: Je stapt weer normaal, weeks: 6}", "{text: Je stapt, weeks: true}",
                 "schrijf een geheel getal (6) of [van, tot]", id="a milestone span in words"),
    pytest.param("{text: Je stapt weer normaal, weeks: 6}",
                 "{text: Je stapt weer normaal, kind: until}",
                 "kind: until hoort bij een termijn", id="a restriction without a term"),
    pytest.param("{text: Je stapt weer normaal, weeks: 6}",
                 "{text: Je stapt weer normaal, kind: sinds, weeks: 6}",
                 "'from', 'until' of 'up_to'", id="an unknown kind of milestone"),
]  # fmt: skip


@pytest.mark.parametrize(("old", "new", "expected"), CONTENT_MISTAKES)
def test_check_names_each_discharge_mistake(project_copy, cli, old, new, expected) -> None:
    edit(project_copy / "leaflets/avn-hip/nl.md", old, new)
    code, out, _ = cli("--project", str(project_copy), "check")
    assert code == 1 and expected in out, out


@pytest.mark.parametrize(
    ("old", "new"),
    [("weeks: 6}", "weeks: 8}"), ("kind: up_to, months: 3}", "months: 3}")],
    ids=["another term", "an upper limit translated as a step"],
)
def test_check_refuses_a_translation_whose_milestones_differ(project_copy, cli, old, new) -> None:
    edit(project_copy / "leaflets/avn-hip/fr.md", old, new)
    code, out, _ = cli("--project", str(project_copy), "check")
    assert code == 1, out
    assert (
        "fout: leaflets/avn-hip/fr.md, veld 'variants.heupprothese.recovery': andere "
        "herstelstappen dan leaflets/avn-hip/nl.md" in out
    )


# --- found by a hostile review --------------------------------------------------------------


def test_a_refused_discharge_row_is_in_the_discharge_days_manifest(tmp_path, cli) -> None:
    bad = ROWS[1].replace("bij ontslag;17/12/2026;;;", "ontslag;17/12/2026;26/01/2027;9u;Paola")
    listing = write_list(tmp_path / "ontslag.csv", [ROWS[0], bad])
    code, _, err = cli("batch", str(listing), "--out-dir", str(tmp_path / "out"))
    assert code == 1, err
    manifest = json.loads((tmp_path / "out/2026-12-17/ontslag/manifest.json").read_text())
    refused = [r for r in manifest["leaflets"] if r["status"] == "refused"]
    assert [(r["row"], r["date"], r["moment"]) for r in refused] == [(3, "17/12/2026", "ontslag")]
    assert not (tmp_path / "out/2026-12-14").exists(), "not under the operation's day"


def test_a_discharge_date_without_a_moment_asks_for_the_moment(tmp_path, cli) -> None:
    path = tmp_path / "ontslag.csv"
    path.write_text(
        "Naam;Folder;Ingreep;Chirurg;Campus;Datum;Ontslagdatum\n"
        "Jan;avn-hip;heupprothese;claes;cadix;15/12/2026;17/12/2026\n",
        encoding="utf-8",
    )
    code, _, err = cli("batch", str(path), "--out-dir", str(tmp_path / "out"))
    assert code == 1 and "rij 2, kolom 'moment': ontbreekt" in err, err
    assert "uur" not in err.split("rij 2")[1], "no stray complaint about the hour"


def test_an_unknown_moment_is_the_only_complaint_about_its_row(tmp_path, cli) -> None:
    listing = write_list(tmp_path / "ontslag.csv", [ROWS[0].replace(";ontslag;", ";ontslagen;")])
    code, _, err = cli("batch", str(listing), "--out-dir", str(tmp_path / "out"))
    assert code == 1 and "kolom 'Moment': onbekend moment 'ontslagen'" in err, err
    assert "'uur'" not in err


LEAFLET_MISTAKES = [
    pytest.param("klachten hebt:\n", "klachten hebt: [[foo]]\n",
                 "onbekende plaatshouder [[foo]]", id="an unknown placeholder"),
    pytest.param("::: moment ontslag\nJe werd geopereerd in [[site]].",
                 "::: moment ontslag\nJe werd geopereerd in [[site]] om [[time]].",
                 "[[time]] staat in de tekst bij ontslag", id="an operation-day placeholder"),
    pytest.param("::: moment ontslag\nJe werd geopereerd", "::: moment na\nJe werd geopereerd",
                 "onbekend moment 'na'", id="an unknown moment"),
]  # fmt: skip


@pytest.mark.parametrize(("old", "new", "expected"), LEAFLET_MISTAKES)
def test_a_leaflet_that_check_refuses_is_not_printed(project_copy, cli, old, new, expected) -> None:
    edit(project_copy / "leaflets/avn-hip/nl.md", old, new)
    code, out, err = cli(*discharge_args(project_copy))
    assert code == 3 and out == "", err
    assert "leaflets/avn-hip/nl.md, rij " in err and expected in err and "check" in err


def test_a_follow_up_from_an_excel_date_time_cell_gives_its_date_and_hour(tmp_path, cli) -> None:
    row = ROWS[0].replace("26/01/2027;10u30", "2027-01-26 10:30:00;")
    listing = write_list(tmp_path / "ontslag.csv", [row])
    code, _, err = cli("batch", str(listing), "--out-dir", str(tmp_path / "out"))
    assert code == 0, err
    manifest = json.loads((tmp_path / "out/2026-12-17/ontslag/manifest.json").read_text())
    record = manifest["leaflets"][0]
    assert (record["followup_date"], record["followup_time"]) == ("2027-01-26", "10:30")
    code, _, err = cli("email", str(tmp_path / "out/2026-12-17"), "--list", str(listing))
    assert code == 0 and "1 bericht(en) klaar" in err, "the row is the row as read: its key"


def test_a_translation_with_other_recovery_facts_is_never_printed(project_copy, cli) -> None:
    edit(project_copy / "leaflets/avn-hip/fr.md", "weeks: 6}", "weeks: 8}")
    code, out, err = cli(*discharge_args(project_copy, "--lang", "fr"))
    assert code == 0, err
    assert "de vertaling in het Frans wijkt af van het Nederlands" in err
    assert "variants.heupprothese.recovery" in err and "Nederlandse versie gemaakt" in err
    assert "-fr-" not in out, "the Dutch leaflet, not the French"


def test_a_campus_without_a_day_and_night_number_makes_no_leaflet(project_copy, cli) -> None:
    """The warning signs get the same day-and-night number before the operation and at
    discharge (before, they gave the reception's number: issue 21, F7)."""
    edit(project_copy / "config/sites.yaml", "    urgent_phone: 03 000 10 02\n", "")
    args = ["--project", str(project_copy), "leaflet", "avn-hip", "--variant", "heupprothese",
            "--site", "cadix", "--surgeon", "claes", "--date", "15/12/2026", "--patient", "X",
            "--out-dir", str(project_copy / "out")]  # fmt: skip
    for moment in (["--time", "8u30"], ["--moment", "ontslag", "--discharge-date", "17/12/2026"]):
        code, _, err = cli(*args, *moment)
        assert code == 3 and "config/sites.yaml, veld 'sites.cadix.urgent_phone'" in err, err
    code, out, _ = cli("--project", str(project_copy), "check")
    assert code == 1 and "ZAS Cadix heeft geen nummer voor klachten, dag en nacht" in out


def fonts_of_number_and_comma(pdf: bytes, page: int, number: str) -> tuple[list[str], str]:
    """The fonts (pdfium) of each character of ``number`` where it first stands on ``page``,
    and of the first comma after it."""
    text_page = pdfium.PdfDocument(pdf)[page].get_textpage()
    text = text_page.get_text_range()
    start = text.index(number)
    name = ctypes.create_string_buffer(200)

    def font(index: int) -> str:
        pdfium.raw.FPDFText_GetFontInfo(text_page.raw, index, name, 200, None)
        return name.value.decode().split("+")[-1]

    comma = text.index(",", start + len(number))
    return [font(i) for i in range(start, start + len(number))], font(comma)


@pytest.mark.parametrize("moment", ["voor", "ontslag"])
def test_the_day_and_night_number_is_bold_and_the_comma_after_it_is_not(
    project, registry, renderer, discharged, moment
) -> None:
    """The review read "**03 000 10 02,**" (issue 21, F16); before the operation the number
    was not bold at all."""
    if moment == "ontslag":
        pdf = discharged()
    else:
        leaflet, _ = load_translation(project, "avn-hip", "nl")
        pdf = renderer.render(personalise(make_visit(**visit_fields()), leaflet, registry)).pdf
    page = next(i for i, text in enumerate(page_texts(pdf)) if "dag en nacht via" in text)
    number, comma = fonts_of_number_and_comma(pdf, page, "03 000 10 01")
    assert all(font.endswith("Bold") for font in number), number
    assert not comma.endswith("Bold"), comma
