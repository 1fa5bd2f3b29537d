"""generate.py as users run it: commands, messages, exit codes, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from contextlib import nullcontext
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from helpers import ROOT, all_text, edit, normalise, page_texts, sign_off_policy

from leafletpress.cli.commands import demo_uses
from leafletpress.visit.calendar import demo_date
from leafletpress.visit.personalise import hospital_calendar

GOOD = [
    "leaflet", "avn-hip", "--variant", "heupprothese", "--site", "cadix", "--surgeon", "claes",
    "--date", "2026-12-15", "--time", "8u30", "--patient", "Marie Peeters",
    "--reference", "PAT-0042",
]  # fmt: skip


def with_option(option: str, value: str) -> list[str]:
    args = list(GOOD)
    args[args.index(option) + 1] = value
    return args


def test_generate_py_runs_as_a_script_and_writes_the_pdf(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "generate.py"), *GOOD, "--out-dir", str(tmp_path)],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    written = Path(result.stdout.strip())
    assert written == Path("2026-12-15/PAT-0042_0830_avn-hip-heupprothese.pdf")
    pdf = (tmp_path / written).read_bytes()
    assert pdf.startswith(b"%PDF") and "Marie Peeters" in all_text(pdf)
    assert [p.name for p in (tmp_path / "2026-12-15").iterdir()] == [written.name]


@pytest.mark.parametrize("command", [[], ["list"], ["check"], ["leaflet"], ["demo"]])
def test_help_everywhere(cli, command: list[str]) -> None:
    code, out, _ = cli(*command, "--help")
    assert code == 0
    assert "gebruik:" in out and "opties:" in out


def test_list_shows_leaflets_variants_sites_and_surgeons(cli) -> None:
    code, out, _ = cli("list")
    assert code == 0
    for expected in ("avn-hip", "heupprothese", "osteotomie", "decompressie", "ZAS Cadix",
                     "dr. Pieter Claes"):  # fmt: skip
        assert expected in out


def test_list_json_for_scripts(cli) -> None:
    code, out, _ = cli("list", "--json")
    data = json.loads(out)
    assert code == 0
    leaflet = data["leaflets"][0]
    assert leaflet["slug"] == "avn-hip" and leaflet["code"] == "ORT-AVN-01"
    assert set(leaflet["variants"]) == {"decompressie", "heupprothese", "osteotomie"}
    assert "augustinus" in data["sites"] and "claes" in data["surgeons"]


def test_leaflet_prints_the_path_it_wrote(cli, tmp_path: Path) -> None:
    code, out, err = cli(*GOOD, "--out-dir", str(tmp_path), "--format", "a4")
    assert code == 0, err
    path = Path(out.strip())
    assert path.is_file() and path.is_relative_to(tmp_path)


def test_output_name_stays_inside_the_output_folder(cli, tmp_path: Path) -> None:
    code, _, err = cli(*GOOD, "--out-dir", str(tmp_path / "out"), "--output", "../escape.pdf")
    assert code == 4 and "buiten de uitvoermap" in err
    assert not (tmp_path / "escape.pdf").exists()
    code, out, _ = cli(*GOOD, "--out-dir", str(tmp_path / "out"), "--output", "mine.pdf")
    assert code == 0 and Path(out.strip()) == (tmp_path / "out" / "mine.pdf").resolve()


def test_campus_and_surgeon_may_be_named_as_in_a_list(cli, tmp_path) -> None:
    args = with_option("--site", "zas cadix")
    args[args.index("--surgeon") + 1] = "dr. Pieter Claes"
    code, _, err = cli(*args, "--out-dir", str(tmp_path))
    assert code == 0, err


@pytest.mark.parametrize(
    ("args", "message", "hint"),
    [
        pytest.param(["leaflet", "knie", *GOOD[2:]], "argument FOLDER: onbekende folder 'knie'",
                     "avn-hip", id="unknown leaflet"),
        pytest.param(with_option("--variant", "knie"), "optie --variant: onbekende variant 'knie'",
                     "decompressie, heupprothese, osteotomie", id="unknown variant"),
        pytest.param(with_option("--site", "gent"), "onbekende campus 'gent'",
                     "ZAS Augustinus, ZAS Cadix, ZAS Palfijn",
                     id="unknown campus lists those that operate, by name"),
        pytest.param(with_option("--site", "middelheim"), "gebeurt niet in ZAS Middelheim",
                     "ZAS Augustinus, ZAS Cadix, ZAS Palfijn", id="campus that does not operate"),
        pytest.param(with_option("--surgeon", "house"), "onbekende chirurg 'house'", "Pieter Claes",
                     id="unknown surgeon"),
        pytest.param(with_option("--date", "31/02/2026"), "de datum '31/02/2026' bestaat niet",
                     "dag en maand", id="impossible date"),
        pytest.param(with_option("--date", "morgen"), "'morgen' is geen datum", "03/12/2026",
                     id="not a date"),
        pytest.param(with_option("--time", "25:00"), "het uur '25:00' bestaat niet", "0-23",
                     id="impossible time"),
        pytest.param(with_option("--time", "half negen"), "'half negen' is geen uur", "8u30",
                     id="not a time"),
        pytest.param(with_option("--patient", "  "), "mag niet leeg zijn", None, id="blank name"),
        pytest.param(with_option("--reference", "../../etc"), "optie --reference",
                     "letters, cijfers", id="path in the reference"),
        pytest.param([*GOOD, "--birth-date", "1958-02-30"], "bestaat niet", None,
                     id="impossible birth date"),
        pytest.param(with_option("--patient", "山田太郎"),
                     "optie --patient: deze tekens kan de folder niet drukken: 山 (U+5C71)",
                     "Latijnse letters", id="a name in Chinese characters"),
        pytest.param(with_option("--patient", "Jan 😀"), "😀 (U+1F600)", None, id="an emoji"),
        pytest.param([*with_option("--date", "28/03/2027"), "--time", "2u30"],
                     "optie --time: 02:30 bestaat niet op 28/03/2027", "zomertijd",
                     id="a time the clock skips"),
    ],
)  # fmt: skip
def test_bad_input_is_refused_clearly(cli, tmp_path, args, message, hint) -> None:
    code, out, err = cli(*args, "--out-dir", str(tmp_path))
    assert code == 2, err
    assert message in err
    if hint:
        assert hint in err
    assert "Traceback" not in err and out == ""
    assert not any(tmp_path.rglob("*.pdf"))


def test_surgeon_not_working_at_the_site_lists_who_does(cli, tmp_path) -> None:
    code, _, err = cli(*with_option("--surgeon", "verbeeck"), "--site", "palfijn",
                       "--out-dir", str(tmp_path))  # fmt: skip
    assert code == 2
    assert (
        "opereert niet in ZAS Palfijn" in err
        and "dr. Pieter Claes, dr. Youssef El Amrani, prof. dr. Sofie Wouters" in err
    )


def test_missing_required_option_is_a_usage_error(cli) -> None:
    code, _, err = cli("leaflet", "avn-hip", "--variant", "heupprothese")
    assert code == 2 and "deze argumenten ontbreken" in err


def test_unknown_format_is_refused(cli) -> None:
    code, _, err = cli(*GOOD, "--format", "a3")
    assert code == 2 and "ongeldige keuze" in err


def test_passed_blood_thinner_deadline_is_flagged(cli, tmp_path) -> None:
    soon = (date.today() + timedelta(days=3)).isoformat()
    code, _, err = cli(*with_option("--date", soon), "--out-dir", str(tmp_path))
    assert code == 0
    assert "waarschuwing: de termijn om bloedverdunners te melden" in err


@pytest.mark.parametrize("moment", [
    pytest.param(None, id="today"),
    pytest.param("2027-10-30T12:00:00+02:00", id="the day before a change of summer time"),
    pytest.param("2029-12-11T09:00:00+01:00", id="two weeks before a Christmas on a Tuesday"),
    pytest.param("2027-03-03T09:00:00+01:00", id="a listed follow-up on Ascension Day"),
    pytest.param("2029-10-31T09:00:00+01:00", id="its own follow-up on New Year's Day"),
])  # fmt: skip
def test_demo_makes_every_variant_and_the_example_lists_without_a_warning_on_any_day(
    cli, project, registry, tmp_path: Path, moment
) -> None:
    """The example lists are for 15/12/2026: the demo moves them to its own day, so also a year
    later it opens with no past dates, and with no day it uses on a public holiday: not the
    operation (25/12/2029 then 1/1/2030 are Tuesdays), not a follow-up, its own (six weeks
    later) or a listed one (06/05/2027)."""
    with time_machine.travel(datetime.fromisoformat(moment)) if moment else nullcontext():
        code, out, err = cli("demo", "--out-dir", str(tmp_path))
        day = demo_date(date.today(), hospital_calendar(registry).holidays, demo_uses(project))
    assert code == 0, err
    paths = [Path(line) for line in out.split()]
    leaflets = [p for p in paths if p.parent.parent == tmp_path / "demo"]
    assert len(leaflets) == 6 and all(p.exists() for p in paths)
    assert {p.name.split("avn-hip-")[1] for p in leaflets} == {
        "decompressie.pdf", "heupprothese.pdf", "osteotomie.pdf", "decompressie-ontslag.pdf",
        "heupprothese-ontslag.pdf", "osteotomie-ontslag.pdf"}  # fmt: skip
    assert not any("Peeters" in p.name or "Janssens" in p.name for p in paths)
    lists = tmp_path / "demo" / "lijsten"
    assert sorted(p.name for p in lists.iterdir()) == [
        f"dag-{day}.csv", f"ontslag-{day + timedelta(days=2)}.csv"]  # fmt: skip
    moved = (lists / f"dag-{day}.csv").read_bytes().decode("cp1252")
    assert f"{day:%d/%m/%Y}" in moved and "12/03/1958" in moved, "birth dates stay"
    if day == date(2026, 12, 15):  # the examples' own day: copies true to the byte
        for name in ("dag-2026-12-15.csv", "ontslag-2026-12-17.csv"):
            assert (lists / name).read_bytes() == (ROOT / "examples" / name).read_bytes()
    print_files = [p for p in paths if p.name.startswith("print-")]
    assert {p.parent.parent.name for p in print_files} == {f"{day}", f"{day + timedelta(days=2)}"}
    assert err.count("elke pagina draagt 'VOORBEELD") == 1, "one warning, not one per run"
    assert "verleden" not in err and "termijn" not in err and "fout" not in err, err
    assert "feestdag" not in err and day.weekday() == 1, err
    assert f"$ generate.py batch {lists / f'dag-{day}.csv'}" in err


# --- check -------------------------------------------------------------------------------


def test_check_passes_on_the_shipped_project_with_example_warnings(cli) -> None:
    code, out, _ = cli("check")
    assert code == 0
    assert "0 fout(en)" in out
    assert "config/sites.yaml: bevat voorbeeldgegevens" in out
    code, _, _ = cli("check", "--strict")
    assert code == 1, "--strict fails on warnings"


@pytest.mark.parametrize(("spoil", "said"), [
    (lambda path: path.unlink(), "config/hospital.yaml: bestand ontbreekt"),
    (lambda path: path.write_bytes("naam: Sint-Jozef\n".encode("cp1252") + b"\xe9"),
     "config/hospital.yaml: is geen UTF-8-tekst"),
    (lambda path: path.unlink() or path.mkdir(),
     "config/hospital.yaml: kan niet gelezen worden (Is a directory)"),
], ids=["missing", "not UTF-8", "a folder"])  # fmt: skip
def test_a_configuration_file_that_cannot_be_read_is_named_without_a_traceback(
    cli, project_copy, spoil, said
) -> None:
    spoil(project_copy / "config" / "hospital.yaml")
    code, out, err = cli("--project", str(project_copy), "check")
    assert code == 1 and said in out and "Traceback" not in err, (out, err)


def test_check_reports_unknown_placeholders_and_undeclared_variants(cli, project_copy) -> None:
    leaflet = project_copy / "leaflets/avn-hip/nl.md"
    edit(leaflet, "uiterlijk op [[blood_thinners_by]]", "uiterlijk op [[bloedverdunners]]")
    edit(leaflet, "::: variant osteotomie\n**Osteotomie", "::: variant osteotomy\n**Osteotomie")
    edit(leaflet, ":::: checklist", ":::: checklijst")
    code, out, _ = cli("--project", str(project_copy), "check")
    assert code == 1
    line = next(
        n for n, t in enumerate(leaflet.read_text().splitlines(), 1) if "[[bloedverdunners]]" in t
    )
    assert f"leaflets/avn-hip/nl.md, rij {line}: onbekende plaatshouder [[bloedverdunners]]" in out
    assert "variant 'osteotomy' is niet gedeclareerd" in out
    assert "onbekend bloktype 'checklijst'" in out


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [
        pytest.param("leaflets/avn-hip/nl.md", "terug te winnen.\n:::\n", "terug te winnen.\n",
                     ["blok wordt nooit gesloten"], id="a block that is never closed"),
        pytest.param("config/surgeons.yaml", "  claes:\n", "  claes\n",
                     ["config/surgeons.yaml, rij", "ongeldige YAML"], id="YAML syntax: the line"),
        pytest.param("leaflets/avn-hip/nl.md", "  fasting_hours: 6", "  fasting_hours: zes",
                     ["leaflets/avn-hip/nl.md, veld 'timing.fasting_hours': "
                      "moet een geheel getal zijn"], id="front matter names the key"),
        pytest.param("leaflets/avn-hip/nl.md", "terug te winnen.\n:::\n",
                     "terug te winnen.\n:::\n\n| Dag | Wat |\n| --- | --- |\n| 1 | rust |\n",
                     ["een tabel wordt niet als tabel gedrukt"], id="a table is not printed"),
        pytest.param("leaflets/avn-hip/nl.md", "Vanaf 6 uur vóór", "Vanaf 8 uur vóór",
                     ["de tekst zegt '8 uur vóór', maar timing.fasting_hours is 6"],
                     id="fasting hours in the text differ from timing"),
        pytest.param("leaflets/avn-hip/fr.md", "au moins 10 jours avant", "au moins 14 jours avant",
                     ["leaflets/avn-hip/fr.md, rij 87: de tekst zegt '14 jours avant', maar "
                      "timing.blood_thinner_notice_days is 10"], id="blood-thinner days in French"),
        pytest.param("leaflets/avn-hip/en.md", "From 6 hours before", "From 4 hours before",
                     ["de tekst zegt '4 hours before'"], id="fasting hours in English"),
        pytest.param("leaflets/avn-hip/nl.md", "terug te winnen.", "terug te winnen → 😀.",
                     ["deze tekens kan de folder niet drukken: → (U+2192), 😀 (U+1F600)"],
                     id="a character no bundled font has"),
    ],
)  # fmt: skip
def test_check_names_each_content_mistake(cli, project_copy, file, old, new, expected) -> None:
    edit(project_copy / file, old, new)
    code, out, _ = cli("--project", str(project_copy), "check")
    assert code == 1
    for words in expected:
        assert words in out


def test_check_warns_on_a_leaflet_past_its_review_date(cli, project_copy) -> None:
    edit(project_copy / "leaflets/avn-hip/nl.md", "review_by: 2027-12-19", "review_by: 2025-01-31")
    code, out, _ = cli("--project", str(project_copy), "check")
    assert code == 0
    where = "leaflets/avn-hip/nl.md, veld 'review_by'"
    assert f"waarschuwing: {where}: herzieningsdatum 31/01/2025 is voorbij" in out


def test_leaflet_past_review_date_is_flagged_when_printed(cli, project_copy, tmp_path) -> None:
    edit(project_copy / "leaflets/avn-hip/nl.md", "review_by: 2027-12-19", "review_by: 2025-01-31")
    code, _, err = cli("--project", str(project_copy), *GOOD, "--out-dir", str(tmp_path))
    assert code == 0 and "moest herzien zijn op 31/01/2025" in err


def test_broken_config_names_file_and_key(cli, project_copy) -> None:
    sites = project_copy / "config/sites.yaml"
    edit(sites, "    phone: 03 000 00 02\n", "")
    edit(project_copy / "config/hospital.yaml", 'primary: "#00507d"', 'primary: "blauw"')
    code, out, _ = cli("--project", str(project_copy), "check")
    assert code == 1
    assert "config/sites.yaml, veld 'sites.cadix.phone': ontbreekt" in out
    assert "config/hospital.yaml, veld 'colours.primary': heeft niet de juiste vorm" in out
    code, _, err = cli("--project", str(project_copy), *GOOD)
    assert code == 3, "rendering refuses invalid configuration"
    assert "config/sites.yaml" in err and "Traceback" not in err


UNKNOWN_COUNTRY = "onbekend land voor de feestdagen (bv. BE)"


@pytest.mark.parametrize(
    "field, value, error",
    [
        ("holidays", "XX", UNKNOWN_COUNTRY),
        ("holidays", "be", UNKNOWN_COUNTRY),
        ("holidays", "NLD", None),
        ("holidays", "UK", None),
        ("holidays", "NYSE", UNKNOWN_COUNTRY),
        ("holidays", "HolidayBase", UNKNOWN_COUNTRY),
        ("holidays", "country_holidays", UNKNOWN_COUNTRY),
        ("timezone", "Europe/Brussel", "onbekende tijdzone (bv. Europe/Brussels)"),
    ],
    ids=["an unknown country", "a country in small letters", "a three-letter code",
         "an alias", "a stock market's calendar", "a class of the holidays library",
         "a function of the holidays library", "a misspelt time zone"],
)  # fmt: skip
def test_the_hospitals_calendar_settings_are_checked(cli, project_copy, field, value, error):
    """The public holidays and time zone set every deadline printed (fasting, medicines):
    only a country's calendar moves them off its holidays (a review found a stock market's,
    and names the library holds that crashed the check)."""
    hospital = project_copy / "config/hospital.yaml"
    was = {"holidays": "BE", "timezone": "Europe/Brussels"}[field]
    edit(hospital, f"{field}: {was} ", f"{field}: {value} ")
    code, out, _ = cli("--project", str(project_copy), "check")
    if error is None:
        assert code == 0, out
    else:
        assert code == 1 and f"config/hospital.yaml, veld '{field}': {error}" in out, out


def test_template_mistakes_name_the_template(cli, project_copy, tmp_path) -> None:
    edit(project_copy / "templates/partials/appointment.html.j2", "{{ v.date }}", "{{ v.date }")
    code, out, _ = cli("--project", str(project_copy), "check")
    assert code == 1 and "templates/partials/appointment.html.j2, rij" in out
    code, _, err = cli("--project", str(project_copy), *GOOD, "--out-dir", str(tmp_path))
    assert code == 3 and "sjabloonfout" in err and "Traceback" not in err


def test_missing_label_names_the_language_file(cli, project_copy, tmp_path) -> None:
    edit(project_copy / "templates/i18n/nl.yaml", "date_at_time:", "datum_om_uur:")
    code, _, err = cli("--project", str(project_copy), *GOOD, "--out-dir", str(tmp_path))
    assert code == 3 and "templates/i18n/nl.yaml: label 'date_at_time' ontbreekt" in err


def test_example_data_is_on_every_page_and_every_command_warns(cli, project_copy, tmp_path):
    """While any of config/ is example data, no page can pass for a real leaflet."""
    mark = "VOORBEELD — niet voor patiënten"
    for edition in ([], ["--format", "booklet"], ["--large-print"], ["--lang", "en"]):
        code, out, err = cli(*GOOD, *edition, "--out-dir", str(tmp_path))
        assert code == 0 and "voorbeeldgegevens (example: true)" in err, err
        for made in out.split():  # a booklet: the patient's copy and the print file
            pages = page_texts(Path(made).read_bytes())
            expected = "EXAMPLE — not for patients" if edition == ["--lang", "en"] else mark
            assert all(expected in normalise(page) for page in pages), edition
    for name in ("hospital.yaml", "sites.yaml", "surgeons.yaml"):
        edit(project_copy / "config" / name, "example: true\n", "")
    code, out, err = cli("--project", str(project_copy), *GOOD, "--out-dir", str(tmp_path))
    assert code == 0 and "voorbeeldgegevens" not in err, err
    assert (
        "policy.arrival_minutes_before, policy.call_112_for_breathlessness nog niet "
        "goedgekeurd" in err
    ), "the hospital's policy still needs its medical owner"
    assert mark in all_text(Path(out.strip()).read_bytes()), "policy not signed off: marked"
    sign_off_policy(project_copy)
    code, out, err = cli("--project", str(project_copy), *GOOD, "--out-dir", str(tmp_path))
    assert code == 0 and "waarschuwing" not in err, err
    assert mark not in all_text(Path(out.strip()).read_bytes()), "real data: no mark"
