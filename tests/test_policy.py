"""Hospital policy the approved text does not carry (config/hospital.yaml, `policy`): the time
to report before an operation and the 112 advice in the warning signs. Each setting is printed,
and stays example data (VOORBEELD on every page, "heeft goedkeuring nodig" in check) until a
medical owner signs it off. Checked on the real PDFs and the CLI's own output."""

from __future__ import annotations

import pytest
from helpers import (
    LEAFLET,
    all_text,
    edit,
    made,
    normalise,
    page_texts,
    real_config,
    sign_off_policy,
)

HOSPITAL = "config/hospital.yaml"
DISCHARGE = [
    "leaflet", "avn-hip", "--moment", "ontslag", "--variant", "osteotomie", "--site", "palfijn",
    "--surgeon", "el-amrani", "--date", "15/12/2026", "--discharge-date", "19/12/2026",
    "--patient", "X",
]  # fmt: skip
ADVICE = {
    "nl": "Ben je erg kortademig of heb je hevige pijn in je borst? Bel dan meteen 112.",
    "fr": "Vous êtes très essoufflé(e) ou vous avez une forte douleur dans la poitrine ? "
    "Appelez immédiatement le 112.",
    "en": "Very short of breath, or severe pain in your chest? Call 112 straight away.",
}
# The last warning sign of the approved text, after which the advice comes.
LAST_SIGN = {
    "nl": "ongewone pijn in je borst",
    "fr": "douleur inhabituelle dans la poitrine",
    "en": "unusual pain in your chest",
}


@pytest.mark.parametrize(("minutes", "arrival"), [("60", "07:30"), ("90", "07:00"), ("0", "08:30")])
def test_the_time_to_report_comes_from_the_hospitals_policy(
    cli, project_copy, tmp_path, minutes, arrival
) -> None:
    edit(project_copy / HOSPITAL, "    value: 60\n", f"    value: {minutes}\n")
    pdf, _ = made(cli, project_copy, LEAFLET, tmp_path)
    assert f"Aanmelden om {arrival}" in normalise(page_texts(pdf)[0])


@pytest.mark.parametrize("lang", ["nl", "fr", "en"])
@pytest.mark.parametrize("args", [LEAFLET, DISCHARGE], ids=["before", "discharge"])
def test_the_warning_signs_end_with_the_112_advice_in_every_language(
    cli, project_copy, tmp_path, lang, args
) -> None:
    """After a hip operation breathlessness or chest pain can be a pulmonary embolism: the
    approved text sends them to the campus; the hospital's policy adds 112 (issue 21, F12).
    At discharge it is on page 1, with the warning signs."""
    pdf, _ = made(cli, project_copy, args, tmp_path, "--lang", lang)
    pages = [normalise(page).replace("\xa0", " ") for page in page_texts(pdf)]
    holding = [text for text in pages if ADVICE[lang] in text]
    assert len(holding) == 1, "once, in the warning-signs box"
    box = holding[0]
    assert box.index(LAST_SIGN[lang]) < box.index(ADVICE[lang]), "after the last sign"
    if args is DISCHARGE:
        assert holding[0] is pages[0], "on the card"


def test_without_the_112_policy_the_box_says_only_what_the_approved_text_says(
    cli, project_copy, tmp_path
) -> None:
    edit(project_copy / HOSPITAL, "    value: true\n", "    value: false\n")
    for args in (LEAFLET, DISCHARGE):
        pdf, _ = made(cli, project_copy, args, tmp_path)
        text = all_text(pdf)
        assert "112" not in text and LAST_SIGN["nl"] in text


def test_policy_that_is_not_signed_off_marks_every_page_and_check_lists_it(
    cli, project_copy, tmp_path
) -> None:
    real_config(project_copy)
    edit(project_copy / HOSPITAL, "signed_off: {by: \"dr. Pieter Claes\", when: 2026-12-10, "
         "value: true}", "signed_off:")  # fmt: skip
    code, out, _ = cli("--project", str(project_copy), "check")
    assert code == 0, out
    assert "policy.arrival_minutes_before" not in out, "the first is signed off"
    assert (
        "waarschuwing: config/hospital.yaml, veld 'policy.call_112_for_breathlessness': heeft "
        "goedkeuring nodig (nu: true)" in out
    )
    assert 'zet eronder signed_off: {by: "dr. …", when: JJJJ-MM-DD, value: true}' in out
    pdf, err = made(cli, project_copy, LEAFLET, tmp_path)
    assert "policy.call_112_for_breathlessness nog niet goedgekeurd" in err
    assert all("VOORBEELD — niet voor patiënten" in page for page in page_texts(pdf))

    sign_off_policy(project_copy)
    code, out, _ = cli("--project", str(project_copy), "check")
    assert code == 0 and "goedkeuring" not in out, out
    pdf, err = made(cli, project_copy, LEAFLET, tmp_path)
    assert "VOORBEELD" not in all_text(pdf) and "waarschuwing" not in err


def test_a_value_changed_after_its_sign_off_needs_a_new_one(cli, project_copy, tmp_path) -> None:
    """A sign-off names the value approved: 60 minutes approved does not cover 30."""
    real_config(project_copy)
    edit(project_copy / HOSPITAL, "    value: 60\n", "    value: 30\n")  # signed off for 60
    code, out, _ = cli("--project", str(project_copy), "check")
    assert code == 0, "a warning: the leaflets say VOORBEELD until it is signed off again"
    assert (
        "veld 'policy.arrival_minutes_before': is gewijzigd na de goedkeuring van 60 (nu: 30)"
        in out
    ), out
    pdf, _ = made(cli, project_copy, LEAFLET, tmp_path)
    assert "VOORBEELD" in all_text(pdf) and "Aanmelden om 08:00" in all_text(pdf)


POLICY_MISTAKES = [
    pytest.param("    value: 60\n", "    value: 300\n",
                 "config/hospital.yaml, veld 'policy.arrival_minutes_before.value': is te groot",
                 id="arrival over four hours"),
    pytest.param("    value: 60\n", "    value: yes\n",
                 "veld 'policy.arrival_minutes_before.value': moet een geheel getal zijn",
                 id="yes is not a number of minutes"),
    pytest.param("    value: 60\n", "    value: 45.5\n",
                 "veld 'policy.arrival_minutes_before.value': moet een geheel getal zijn",
                 id="minutes are whole"),
    pytest.param("  arrival_minutes_before:\n    value: 60\n    signed_off:\n",
                 "  arrival_minutes_before: 60\n",
                 "veld 'policy.arrival_minutes_before': moet een lijst van sleutels en waarden",
                 id="a setting without value and sign-off"),
    pytest.param("policy:\n", "policy: null\nsettings:\n",
                 "veld 'policy': moet een lijst van sleutels en waarden zijn", id="policy null"),
    pytest.param("    signed_off:\n", '    signed_off: "dr. Pieter Claes, 10/12/2026"\n',
                 "schrijf de goedkeuring als {by: \"dr. …\", when: JJJJ-MM-DD, value: …}",
                 id="a sign-off in words"),
    pytest.param("    signed_off:\n", "    signed_off: {by: X, when: 10/12/2026, value: 60}\n",
                 "signed_off.when': is geen geldige datum (gebruik JJJJ-MM-DD)",
                 id="a sign-off dated as Belgians write"),
    pytest.param("    signed_off:\n", "    signed_off: {by: X, on: 2026-12-10, value: 60}\n",
                 "signed_off.when': ontbreekt", id="a sign-off's on (YAML reads it as true)"),
    pytest.param("    value: true\n", "    value: misschien\n",
                 "veld 'policy.call_112_for_breathlessness.value': moet true of false zijn",
                 id="112 neither true nor false"),
    pytest.param("  arrival_minutes_before:\n", "  arival_minutes_before:\n",
                 "veld 'policy.arival_minutes_before': onbekende sleutel (tikfout?)",
                 id="a misspelt setting"),
]  # fmt: skip


@pytest.mark.parametrize(("old", "new", "expected"), POLICY_MISTAKES)
def test_each_policy_mistake_names_its_field(cli, project_copy, old, new, expected) -> None:
    edit(project_copy / HOSPITAL, old, new)
    code, out, err = cli("--project", str(project_copy), "check")
    assert code == 1 and expected in out + err, out + err
    assert "Traceback" not in out + err


def test_a_leaflet_that_still_sets_the_arrival_time_is_told_where_it_went(
    cli, project_copy
) -> None:
    """Up to leaflet version 3.2 the arrival was in the leaflet's front matter."""
    edit(project_copy / "leaflets/avn-hip/nl.md", "  fasting_hours: 6\n",
         "  fasting_hours: 6\n  arrival_minutes_before: 45\n")  # fmt: skip
    code, out, _ = cli("--project", str(project_copy), "check")
    assert code == 1
    assert (
        "leaflets/avn-hip/nl.md, veld 'timing.arrival_minutes_before': is ziekenhuisbeleid, "
        "geen folderinhoud: haal het hier weg; het staat in config/hospital.yaml onder policy"
        in out
    ), out


def test_the_text_may_not_name_another_arrival_time_than_the_policy(cli, project_copy) -> None:
    edit(project_copy / "leaflets/avn-hip/nl.md", "Neem je bloedverdunners?",
         "Kom 45 minuten vóór de ingreep. Neem je bloedverdunners?")  # fmt: skip
    code, out, _ = cli("--project", str(project_copy), "check")
    assert code == 1
    assert (
        "de tekst zegt '45 minuten vóór', maar config/hospital.yaml: "
        "policy.arrival_minutes_before is 60" in out
    ), out


def test_only_the_warning_signs_box_ends_with_the_112_advice(cli, project_copy, tmp_path) -> None:
    """Another contact box (questions about the bill) is no place for 112 (hostile review)."""
    edit(project_copy / "leaflets/avn-hip/nl.md", "## Heb je nog vragen?\n",
         "## Heb je nog vragen?\n\n::: contact Vragen over je factuur?\n"
         "Bel de dienst facturatie.\n:::\n")  # fmt: skip
    for args in (LEAFLET, DISCHARGE):
        pdf, _ = made(cli, project_copy, args, tmp_path)
        text = all_text(pdf)
        assert text.count("Bel dan meteen 112.") == 1
        assert text.index(LAST_SIGN["nl"]) < text.index("112") < text.index("facturatie")


def test_a_box_in_a_box_is_refused_by_check(cli, project_copy) -> None:
    sign = "- koorts die aanhoudt (meer dan 38 °C)\n"
    edit(project_copy / "leaflets/avn-hip/nl.md", sign,
         f"{sign}\n::: contact Nog een kader\ntekst\n:::\n\n")  # fmt: skip
    code, out, _ = cli("--project", str(project_copy), "check")
    assert code == 1
    assert "'::: contact' staat in een ander kader" in out and "sluit het eerste kader" in out
