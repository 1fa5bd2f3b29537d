"""The leaflet in the patient's language: translations, labels and dates (Babel), fallbacks."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
import yaml
from helpers import (
    LEAFLET,
    ROOT,
    VISIT_DATE,
    all_text,
    edit,
    made,
    normalise,
    page_texts,
    visit_fields,
)
from pydantic import ValidationError

from leafletpress.content.languages import language_code
from leafletpress.content.leaflet import load_leaflet, load_translation, translates
from leafletpress.content.registry import Hospital
from leafletpress.visit.appointment import make_visit
from leafletpress.visit.daylist import read_day_list
from leafletpress.visit.personalise import personalise
from leafletpress.visit.plan import plan

# Per language: words that must be printed (title, body, labels, Babel dates, configuration
# translated per language), and Dutch words that must not be.
PRINTED = {
    "nl": [
        "Avasculaire necrose van de heup", "Wat is avasculaire necrose?", "Jouw afspraak",
        "dinsdag 15 december 2026", "Nuchter vanaf dinsdag 15 december 2026 om 02:30",
        "uiterlijk op vrijdag 4 december 2026", "Dagziekenhuis, gelijkvloers",
        "prof. dr. Sofie Wouters", "pagina 1 van 6",
    ],
    "fr": [
        "Nécrose avasculaire de la hanche", "Qu’est-ce que la nécrose avasculaire ?",
        "Votre rendez-vous", "mardi 15 décembre 2026",
        "À jeun à partir de mardi 15 décembre 2026 à 2 h 30",
        "au plus tard le vendredi 4 décembre 2026", "Hôpital de jour, rez-de-chaussée",
        "Pr Sofie Wouters", "page 1 sur 6", "Prothèse totale de hanche",
    ],
    "en": [
        "Avascular necrosis of the hip", "What is avascular necrosis?", "Your appointment",
        "Tuesday 15 December 2026", "Fasting from Tuesday 15 December 2026 at 02:30",
        "by Friday 4 December 2026 at the latest", "Day hospital, ground floor",
        "Prof. Sofie Wouters", "page 1 of 6", "Total hip replacement",
    ],
}  # fmt: skip
DUTCH_ONLY = ["Jouw afspraak", "Nuchter vanaf", "pagina", "versie", "Dagziekenhuis", "dr."]


@pytest.fixture(scope="module")
def in_language(project, registry, renderer):
    cache: dict[str, bytes] = {}

    def rendered(lang: str) -> bytes:
        if lang not in cache:
            visit = make_visit(**visit_fields(language=lang))
            leaflet = load_leaflet(project, "avn-hip", lang)
            cache[lang] = renderer.render(personalise(visit, leaflet, registry)).pdf
        return cache[lang]

    return rendered


# The content review of issue 21: what each translation said beyond or beside the Dutch.
SAYS_WHAT_THE_DUTCH_SAYS = [
    pytest.param("fr", "Vous prenez des médicaments qui fluidifient le sang ?", "aspirine",
                 id="fr adds no medical advice (aspirin)"),
    pytest.param("en", "risk of osteoarthritis of the hip", "risk of arthritis",
                 id="en heupartrose is osteoarthritis"),
    pytest.param("en", "Do not eat or drink (fasting).", "Stay fasting", id="en fasting"),
    pytest.param("en", "Mild pain after the operation", "Some pain", id="en lichte pijn"),
    pytest.param("en", "Department of Orthopaedics", "Department Orthopaedics",
                 id="en department of"),
    pytest.param("nl", "vraag iemand uit je omgeving om je daarbij te helpen", "vraag gerust",
                 id="nl asks for help with hygiene, as approved"),
    pytest.param("fr", "demandez à un proche de vous y aider", "n’hésitez pas",
                 id="fr asks for help with hygiene"),
    pytest.param("en", "ask someone close to you to help you", "feel free to ask",
                 id="en asks for help with hygiene"),
    pytest.param("nl", "Daardoor sterft het botweefsel langzaam af. Dat veroorzaakt pijn.",
                 "Dat veroorzaakt pijn, verzwakt", id="nl names the pain, as approved"),
    pytest.param("en", "the doctor treating you also follows you closely", "at the hospital",
                 id="en adds no 'at the hospital'"),
    pytest.param("fr", "le médecin qui vous traite vous suit aussi de près", "à l’hôpital vous",
                 id="fr adds no 'à l’hôpital'"),
    # French wording and typography (F13): times as Belgian French writes them, one gender
    # convention, articles before the campus and the surgeon, the publisher's own label.
    pytest.param("fr", "Présentez-vous à 7 h 30", "07:30", id="fr times"),
    pytest.param("fr", "vous ne pouvez pas rentrer seul(e) chez vous", "rentrer seul chez",
                 id="fr seul(e)"),
    pytest.param("fr", "vous ne serez pas éveillé(e) pendant", "pas éveillé pendant",
                 id="fr éveillé(e)"),
    pytest.param("fr", "vous n’êtes pas satisfait(e) ?", "pas satisfait ?", id="fr satisfait(e)"),
    pytest.param("fr", "Contactez sans faute le ZAS Augustinus", "faute ZAS", id="fr le ZAS"),
    pytest.param("fr", "Votre intervention est prévue au ZAS Augustinus", "prévue à ZAS",
                 id="fr au ZAS"),
    pytest.param("fr", "Votre chirurgien : Pr Sofie Wouters.", "chirurgien est Pr",
                 id="fr surgeon without a bare title"),
    pytest.param("fr", "É.R. : Willeke Dijkhoffz, Kempenstraat 100", "VU:",
                 id="fr éditeur responsable"),
    pytest.param("en", "Responsible publisher: Willeke Dijkhoffz", "VU:", id="en publisher"),
    pytest.param("nl", "VU: Willeke Dijkhoffz, Kempenstraat 100", "VU: VU:", id="nl publisher"),
    # The hospital's own pages are in Dutch (config/hospital.yaml, pages_lang): said so.
    pytest.param("fr", "site web : https://www.zas.be/ombudsdienst (en néerlandais)",
                 "web: https", id="fr ombudsman page in Dutch"),
    pytest.param("en", "website: https://www.zas.be/ombudsdienst (in Dutch)", "(in het",
                 id="en ombudsman page in Dutch"),
    pytest.param("nl", "ombudsdienst: https://www.zas.be/ombudsdienst", "(in het Nederlands)",
                 id="nl pages need no note"),
    pytest.param("nl", "Telefoon ZAS Augustinus 03 000 00 01", "Chirurg prof. dr. Sofie Wouters "
                 "Telefoon 03", id="nl the phone is the campus's, not the surgeon's"),
]  # fmt: skip


@pytest.mark.parametrize(("lang", "printed", "never"), SAYS_WHAT_THE_DUTCH_SAYS)
def test_each_translation_says_what_the_approved_dutch_says(
    in_language, lang, printed, never
) -> None:
    text = all_text(in_language(lang)).replace("\xa0", " ")
    assert printed in text and never not in text


@pytest.mark.parametrize("lang", sorted(PRINTED))
def test_each_language_prints_its_own_text_labels_and_dates(in_language, lang) -> None:
    pdf = in_language(lang)
    text = all_text(pdf).replace("\u00a0", " ")
    for words in PRINTED[lang]:
        assert words in text, words
    if lang != "nl":
        for words in DUTCH_ONLY:
            assert words not in text, f"Dutch left in the {lang} leaflet: {words}"
    assert len(page_texts(pdf)) == 6


def test_translations_keep_the_dutch_structure(project) -> None:
    dutch = load_leaflet(project, "avn-hip", "nl")
    for lang in ("fr", "en"):
        meta = load_leaflet(project, "avn-hip", lang).meta
        assert meta.timing == dutch.meta.timing, "fasting hours must never differ"
        assert (meta.code, meta.sites) == (dutch.meta.code, dutch.meta.sites)
        assert translates(meta, dutch.meta), "the Dutch version it translates, or 3.1.1 ..."
        assert meta.variants.keys() == dutch.meta.variants.keys()


@pytest.mark.parametrize(
    "written, code",
    [("fr", "fr"), ("FR", "fr"), ("fr-BE", "fr"), ("Frans", "fr"), ("français", "fr"),
     ("English", "en"), ("Engels", "en"), ("nl_BE", "nl"), ("Nederlands", "nl"),
     ("Duits", "de"), ("Arabisch", "ar"), ("xyz", None), ("", None)],
)  # fmt: skip
def test_languages_are_recognised_by_code_or_name(written, code) -> None:
    assert language_code(written) == code


def test_a_missing_translation_falls_back_to_dutch_with_a_warning(project) -> None:
    leaflet, notes = load_translation(project, "avn-hip", "Duits")
    assert leaflet.lang == "nl"
    assert notes == ["'avn-hip' bestaat niet in het Duits: Nederlandse versie gemaakt"]
    assert load_translation(project, "avn-hip", "Frans") == (
        load_leaflet(project, "avn-hip", "fr"),
        [],
    )


def test_the_cli_falls_back_and_says_so(cli, tmp_path) -> None:
    args = ["leaflet", "avn-hip", "--variant", "heupprothese", "--site", "cadix",
            "--surgeon", "claes", "--date", "2026-12-15", "--time", "8u30",
            "--patient", "Marie Peeters", "--out-dir", str(tmp_path)]  # fmt: skip
    code, out, err = cli(*args, "--lang", "Duits")
    assert code == 0 and "bestaat niet in het Duits: Nederlandse versie gemaakt" in err
    assert "Jouw afspraak" in all_text(Path(out.strip()).read_bytes())
    code, out, err = cli(*args, "--lang", "Engels")
    assert code == 0 and out.strip().endswith("-en.pdf")
    assert [line for line in err.splitlines() if "voorbeeldgegevens" not in line] == [], (
        "a translation that exists: no warning but the example data's"
    )
    code, _, err = cli(*args, "--lang", "xyz")
    assert code == 2 and "onbekende taal 'xyz'" in err and "Traceback" not in err


ROWS = [
    "Referentie;Naam;Taal;Folder;Ingreep;Chirurg;Campus;Datum;Uur",
    "PAT-1;Hélène Dubois;Frans;avn-hip;Prothèse totale de hanche;claes;cadix;15/12/2026;8u00",
    "PAT-2;John Smith;en;avn-hip;heupprothese;claes;cadix;15/12/2026;8u30",
    "PAT-3;Hans Müller;Duits;avn-hip;heupprothese;claes;cadix;15/12/2026;9u00",
    "PAT-4;Jan Janssens;;avn-hip;heupprothese;claes;cadix;15/12/2026;9u30",
    "PAT-5;Tom Aerts;xyz;avn-hip;heupprothese;claes;cadix;15/12/2026;10u00",
]


def test_the_language_column_picks_the_translation_or_warns(tmp_path, project, registry) -> None:
    path = tmp_path / "dag.csv"
    path.write_text("\n".join(ROWS), encoding="utf-8")
    checked = plan(read_day_list(path, project), project, registry, date(2026, 11, 25))
    langs = {e.who: (e.p.leaflet.lang, e.warnings) for e in checked.entries}
    assert langs["PAT-1"] == ("fr", ()), "a variant may be written in the patient's language"
    assert langs["PAT-2"] == ("en", ())
    assert langs["PAT-3"][0] == "nl" and "niet in het Duits" in langs["PAT-3"][1][0]
    assert langs["PAT-4"] == ("nl", ())
    [refusal] = checked.refusals
    assert (refusal.row, refusal.column) == (6, "Taal") and "onbekende taal" in refusal.message


def test_a_batch_records_the_fallback_in_its_output_and_manifest(tmp_path, cli) -> None:
    path = tmp_path / "dag.csv"
    path.write_text("\n".join(ROWS[:4]), encoding="utf-8")
    code, _, err = cli("batch", str(path), "--out-dir", str(tmp_path / "out"), "-q", "--jobs", "1")
    assert code == 0, err
    assert "rij 4 (PAT-3): 'avn-hip' bestaat niet in het Duits" in err
    folder = tmp_path / "out" / VISIT_DATE.isoformat()
    manifest = json.loads((folder / "dag/manifest.json").read_text(encoding="utf-8"))
    records = {r["reference"]: r for r in manifest["leaflets"]}
    assert [records[f"PAT-{n}"]["language"] for n in (1, 2, 3)] == ["fr", "en", "nl"]
    assert "niet in het Duits" in records["PAT-3"]["warnings"][0]
    assert "Votre rendez-vous" in all_text((folder / records["PAT-1"]["file"]).read_bytes())


def test_a_lagging_translation_is_reported_and_not_printed(cli, project_copy, tmp_path) -> None:
    edit(project_copy / "leaflets/avn-hip/fr.md", 'version: "3.3"', 'version: "3.0"')
    code, out, _ = cli("--project", str(project_copy), "check")
    assert code == 0, "a warning: the Dutch version is printed meanwhile"
    assert (
        "waarschuwing: leaflets/avn-hip/fr.md, veld 'version': vertaling loopt achter: "
        "versie 3.0, Nederlands is versie 3.3" in out
    )
    code, _, _ = cli("--project", str(project_copy), "check", "--strict")
    assert code == 1
    from leafletpress.common.project import Project

    leaflet, notes = load_translation(Project(project_copy), "avn-hip", "fr")
    assert leaflet.lang == "nl" and "loopt achter op het Nederlands (versie 3.3)" in notes[0]


def test_a_translation_must_keep_the_facts_and_labels(cli, project_copy) -> None:
    edit(project_copy / "leaflets/avn-hip/en.md", "fasting_hours: 6", "fasting_hours: 4")
    edit(project_copy / "templates/i18n/fr.yaml", "qr_alt:", "qr_alternative:")
    edit(project_copy / "config/sites.yaml", "      fr: Hôpital de jour, deuxième", "      de: x")
    code, out, _ = cli("--project", str(project_copy), "check")
    assert code == 1
    assert "leaflets/avn-hip/en.md, veld 'timing': verschilt van leaflets/avn-hip/nl.md" in out
    assert "templates/i18n/fr.yaml: label 'qr_alt' ontbreekt" in out
    assert "config/sites.yaml, veld 'sites.palfijn.report_to.de'" in out


@pytest.mark.parametrize(
    ("version", "verdict"),
    [
        pytest.param("3.3", "0 fout(en)", id="the Dutch version it translates"),
        pytest.param("3.3.2", "0 fout(en)", id="with a correction of the translation alone"),
        pytest.param("3.4", "versie 3.4 vertaalt geen Nederlandse versie", id="ahead of Dutch"),
        pytest.param("3.30", "versie 3.30 vertaalt geen Nederlandse versie", id="3.30 is not 3.3"),
    ],
)
def test_a_translations_version_names_the_dutch_version(
    cli, project_copy, version, verdict
) -> None:
    edit(project_copy / "leaflets/avn-hip/fr.md", 'version: "3.3"', f'version: "{version}"')
    _, out, _ = cli("--project", str(project_copy), "check")
    assert verdict in out, out


def test_the_french_leaflet_says_what_the_dutch_means(renderer, project, registry) -> None:
    """A reviewer's findings: 'médecin traitant' is the GP in Belgium (the Dutch means the
    doctor treating you), 'anticoagulants' leaves out aspirin and clopidogrel (so the French
    says 'médicaments qui fluidifient le sang', as broad as 'bloedverdunners', and names no
    medicine the Dutch does not: issue 21), and a 'rotule' reads as the kneecap."""
    french = load_leaflet(project, "avn-hip", "fr")
    visit = make_visit(**visit_fields(language="fr"))
    text = all_text(renderer.render(personalise(visit, french, registry), "a5").pdf)
    assert "médecin traitant" not in text and "rotule" not in text
    assert "fluidifient le sang" in text and "anticoagulant" not in text
    assert "médecin généraliste" in text and "articulation sphérique" in text


@pytest.mark.parametrize(
    ("lang", "midnight"),
    [("nl", "Nuchter vanaf maandag 14 december 2026 om middernacht (24:00)"),
     ("fr", "À jeun à partir de lundi 14 décembre 2026 à minuit"),
     ("en", "Fasting from Monday 14 December 2026 at midnight")],
)  # fmt: skip
def test_fasting_from_midnight_names_the_evening_the_patient_lives(
    renderer, project, registry, lang, midnight
) -> None:
    """An operation at 06:00 means fasting from 00:00: 'dinsdag om 00:00' was read as Tuesday
    night (issue 21, F10)."""
    from datetime import time

    leaflet = load_leaflet(project, "avn-hip", lang)
    visit = make_visit(**visit_fields(language=lang, time=time(6, 0)))
    text = all_text(renderer.render(personalise(visit, leaflet, registry)).pdf)
    assert midnight in text and "00:00" not in text


@pytest.mark.parametrize(
    ("lang", "caption"),
    [("nl", "Deze folder online"), ("fr", "Plus d’informations en ligne (en néerlandais)"),
     ("en", "More information online (in Dutch)")],
)  # fmt: skip
def test_the_online_qr_code_says_when_its_page_is_in_dutch(in_language, lang, caption) -> None:
    """The hospital's page is in Dutch: 'Cette brochure en ligne' promised a French one
    (issue 21, F5). A translation with its own page leaves out `url_lang`."""
    first = all_text(in_language(lang))
    assert caption in first
    assert "Cette brochure en ligne" not in first and "This leaflet online" not in first


@pytest.mark.parametrize(
    ("lang", "old", "new", "expected"),
    [
        pytest.param("fr", "fluidifient\n  le sang", "fluidifient\n  le sang, comme l’aspirine,",
                     "geneesmiddel 'aspirine' staat in de vertaling, niet in het Nederlands",
                     id="a medicine the Dutch does not name"),
        pytest.param("en", "(more than 38 °C)", "(more than 38.5 °C)",
                     "getal '38.5' staat in de vertaling, niet in het Nederlands",
                     id="another temperature"),
        pytest.param("en", "(more than 38 °C)", "(a high temperature)",
                     "getal '38' staat in het Nederlands, niet in de vertaling",
                     id="a number left out"),
        pytest.param("fr", "avec du paracétamol (par exemple Dafalgan)", "avec un antidouleur",
                     "geneesmiddel 'paracetamol' staat in het Nederlands, niet in de vertaling",
                     id="a medicine left out"),
    ],
)  # fmt: skip
def test_check_reports_facts_a_translation_adds_or_leaves_out(
    cli, project_copy, lang, old, new, expected
) -> None:
    """Issue 21: the French added "antiagrégant, comme l'aspirine"; nothing reported it."""
    edit(project_copy / f"leaflets/avn-hip/{lang}.md", old, new)
    code, out, _ = cli("--project", str(project_copy), "check")
    assert f"waarschuwing: leaflets/avn-hip/{lang}.md: {expected}" in out, out
    code, _, _ = cli("--project", str(project_copy), "check", "--strict")
    assert code == 1


@pytest.mark.parametrize("fmt", ["a5", "a4", "large"])
def test_the_department_in_the_masthead_is_never_hyphenated(renderer, project, registry, fmt):
    """'Department of Orthopaedics and Traumato-logy' (found rereading issue 21's change)."""
    leaflet = load_leaflet(project, "avn-hip", "en")
    visit = make_visit(**visit_fields(language="en"))
    first = page_texts(renderer.render(personalise(visit, leaflet, registry), fmt).pdf)[0]
    assert "Traumatology" in first


def test_a_publisher_still_written_with_its_dutch_label_gets_the_leaflets_own(
    cli, project_copy, tmp_path
) -> None:
    """Up to 0.1.0 config/hospital.yaml wrote "VU: ..." itself; French leaflets printed it."""
    edit(project_copy / "config/hospital.yaml", 'publisher: "Willeke', 'publisher: "VU: Willeke')
    pdf, _ = made(cli, project_copy, LEAFLET, tmp_path, "--lang", "fr")
    text = all_text(pdf).replace("\xa0", " ")
    assert "É.R. : Willeke Dijkhoffz" in text and "VU" not in text


HOSPITAL = yaml.safe_load((ROOT / "config/hospital.yaml").read_text(encoding="utf-8"))
PUBLISHERS = [
    ("Willeke Dijkhoffz, Kempenstraat 100", "Willeke Dijkhoffz, Kempenstraat 100"),
    ("VU: Willeke Dijkhoffz", "Willeke Dijkhoffz"),
    ("V.U. Willeke Dijkhoffz", "Willeke Dijkhoffz"),
    ("É.R. : Jean Dupont", "Jean Dupont"),
    ("Verantwoordelijke uitgever: Willeke", "Willeke"),
    ("Vuurens, Kerkstraat 1", "Vuurens, Kerkstraat 1"),  # a name, not a label
    ("Eric Rogiers", "Eric Rogiers"),
    ("Vu Nguyen", "Vu Nguyen"),
]


@pytest.mark.parametrize(("written", "kept"), PUBLISHERS)
def test_a_publisher_is_kept_without_a_label_the_leaflet_prints_itself(written, kept) -> None:
    assert Hospital.model_validate({**HOSPITAL, "publisher": written}).publisher == kept


@pytest.mark.parametrize("written", ["VU:", "V.U.", "é.r. :"])
def test_a_publisher_that_is_only_a_label_is_refused(written) -> None:
    with pytest.raises(ValidationError, match="geef naam en adres van de verantwoordelijke"):
        Hospital.model_validate({**HOSPITAL, "publisher": written})


@pytest.mark.parametrize(
    ("lang", "operation", "expected"),
    [("nl", date(2026, 12, 30), "rond 31 december 2026 of 1 januari 2027"),
     ("fr", date(2026, 12, 30), "vers le 31 décembre 2026 ou 1er janvier 2027"),
     ("fr", date(2027, 1, 31), "vers le 1er ou 2 février 2027"),
     ("en", date(2027, 1, 31), "around 1 or 2 February 2027")],
)  # fmt: skip
def test_two_days_in_a_row_read_alike_also_over_a_month_end(
    project, registry, renderer, lang, operation, expected
) -> None:
    leaflet, _ = load_translation(project, "avn-hip", lang)
    visit = make_visit(**visit_fields(language=lang, time=None, moment="ontslag",
                                      date=operation, discharge_date=operation))  # fmt: skip
    card = normalise(page_texts(renderer.render(personalise(visit, leaflet, registry)).pdf)[0])
    assert expected in card.replace("\xa0", " ")
