"""Issue 26 in Chromium: a second, clearly fictional leaflet of another specialty written in
the browser, refused while it is a draft, approved by another account, then made for one
patient and in a day's list; the hospital's data changed by beheer; two editors kept from
overwriting each other; axe on every new page, and screenshots to look at.

Nothing in the engine or the web app knows the hip: this leaflet, its surgeon and its
variants exist only because people typed them here.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from helpers import ROOT, all_text
from playwright.sync_api import Browser, Page, expect
from test_browser import PASSWORD, _axe, _test_database, shot

from leafletpress.web.models import Day

pytestmark = pytest.mark.django_db(transaction=True)
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

SURGEON = """  fictief-oog:
    name: Fictieve Oogarts
    title: {nl: dr., fr: Dr, en: Dr}
    service: Oogziekten
    sites: [cadix]
"""
TEXT = "Bij staar wordt de lens van je oog troebel. Je ziet dan wazig, alsof je door mist kijkt."


@pytest.fixture
def content(settings, project_copy: Path, tmp_path: Path) -> Path:
    settings.ROOT = project_copy
    settings.DATA = settings.SHARED = tmp_path / "data"
    return project_copy


@pytest.fixture
def person(browser: Browser, live_server, content) -> Iterator[Callable[..., Page]]:
    """A browser signed in as a new account with these roles."""
    contexts = []

    def sign_in(name: str, *roles: str) -> Page:
        os.environ["LEAFLETPRESS_WACHTWOORD"] = PASSWORD
        try:
            call_command("maak_account", name, "--rol", roles[0], stdout=io.StringIO())
        finally:
            del os.environ["LEAFLETPRESS_WACHTWOORD"]
        groups = [Group.objects.get_or_create(name=role)[0] for role in roles]
        User.objects.get(username=name).groups.add(*groups)
        context = browser.new_context(base_url=live_server.url, locale="nl-BE",
                                      viewport={"width": 1366, "height": 768},
                                      accept_downloads=True)  # fmt: skip
        contexts.append(context)
        tab = context.new_page()
        tab.goto("/aanmelden/")
        tab.get_by_label("Gebruikersnaam").fill(name)
        tab.get_by_label("Wachtwoord").fill(PASSWORD)
        tab.get_by_role("button", name="Aanmelden").click()
        expect(tab.get_by_role("heading", level=1)).to_have_text(f"Goeiedag {name}")
        return tab

    yield sign_in
    for context in contexts:
        context.close()


def typed(page: Page, text: str) -> None:
    """Replace the editor's text as typing would (an input event), and wait for the save."""
    page.locator("#tekst").fill(text)
    expect(page.locator("#status")).to_contain_text("bewaard om", timeout=10_000)


def test_a_new_leaflet_of_another_specialty_goes_from_the_browser_to_a_printed_day(
    person, content, live_server
) -> None:
    checked = []
    # beheer: the ophthalmologist joins (the hospital's own data, same editor, history, audit)
    it = person("it.beheer", "beheer")
    it.get_by_role("link", name="Inhoud", exact=True).click()
    it.get_by_role("link", name="bewerk Chirurgen").click()
    expect(it.locator("#bevindingen")).to_contain_text("voorbeeldgegevens")
    typed(it, it.locator("#tekst").input_value() + SURGEON)
    it.get_by_label("Wat veranderde er, en waarom?").fill("Dr. Fictieve Oogarts begint in Cadix")
    it.get_by_role("button", name="Publiceren").click()
    expect(it.get_by_role("status").first).to_contain_text("Gepubliceerd")

    # redactie: a new leaflet from the template
    lien = person("lien", "redactie", "goedkeuring")
    lien.get_by_role("link", name="Inhoud", exact=True).click()
    shot(lien, "26-01-inhoud")
    checked.append(_axe(lien, "inhoud"))
    lien.get_by_role("link", name="Nieuwe folder").click()
    lien.get_by_role("button", name="Begin de folder").click()  # empty: every field says why
    expect(lien.get_by_role("alert")).to_contain_text("Titel")
    checked.append(_axe(lien, "nieuwe-folder-fouten"))
    lien.get_by_label("Titel").fill("Staaroperatie (fictieve voorbeeldfolder)")
    lien.get_by_label("Korte naam").fill("staar-voorbeeld")
    lien.get_by_label("Documentcode").fill("VB-OOG-01")
    lien.get_by_label("Dienst").fill("Oogziekten")
    lien.get_by_label("Webpagina voor meer uitleg").fill("https://www.zas.be/oogziekten")
    lien.get_by_label("ZAS Cadix").check()
    lien.get_by_label("Varianten van de ingreep").fill("Linkeroog\nRechteroog")
    shot(lien, "26-02-nieuwe-folder")
    lien.get_by_role("button", name="Begin de folder").click()
    expect(lien.get_by_role("heading", level=1)).to_contain_text("Staaroperatie")
    expect(lien.locator("#voorbeeld-status")).to_contain_text("bijgewerkt", timeout=20_000)

    # what is typed is checked at its line and previewed for a fictional patient
    text = lien.locator("#tekst").input_value()
    wrong = text.replace("Leg in een paar korte zinnen uit wat de aandoening is.", "[[oog]]")
    typed(lien, wrong)
    line = wrong.splitlines().index("[[oog]]") + 1
    expect(lien.locator("#bevindingen")).to_contain_text(
        f"regel {line}: fout: onbekende plaatshouder"
    )
    expect(lien.locator(f'.gutter span[data-line="{line}"]')).to_have_class("error")
    expect(lien.locator("#voorbeeld-status")).to_contain_text("niet bijgewerkt")
    shot(lien, "26-03-editor-fout")
    checked.append(_axe(lien, "editor"))
    typed(lien, text.replace("Leg in een paar korte zinnen uit wat de aandoening is.", TEXT))
    expect(lien.locator("#bevindingen")).to_contain_text("Leesbaarheid (doel: B1)")
    expect(lien.locator("#voorbeeld-status")).to_contain_text("bijgewerkt in", timeout=20_000)
    first = lien.get_by_role("img", name=re.compile(r"^Voorbeeld, pagina 1 van \d$"))
    expect(first).to_be_visible()
    shot(lien, "26-04-editor")

    # two editors: the second is told before overwriting the first
    mo = person("mo", "redactie")
    mo.goto(lien.url)
    expect(mo.get_by_role("status").first).to_contain_text("Ook lien schreef in dit concept")
    typed(lien, lien.locator("#tekst").input_value().replace("wazig", "wazig en vaag"))
    mo.locator("#tekst").fill(mo.locator("#tekst").input_value() + "\nmijn zin")
    expect(mo.locator("#conflict")).to_contain_text("lien heeft dit concept intussen gewijzigd")
    shot(mo, "26-05-twee-redacteurs")

    # a session that ends while typing loses nothing: back after signing in, it is saved
    lien.context.clear_cookies()
    lien.locator("#tekst").fill(lien.locator("#tekst").input_value() + "\nNa het afmelden.")
    expect(lien.locator("#conflict")).to_contain_text("Je bent afgemeld")
    lien.get_by_role("link", name="meld je opnieuw aan").click()
    lien.get_by_label("Gebruikersnaam").fill("lien")
    lien.get_by_label("Wachtwoord").fill(PASSWORD)
    lien.get_by_role("button", name="Aanmelden").click()
    expect(lien.locator("#status")).to_contain_text("bewaard om", timeout=10_000)
    expect(lien.locator("#tekst")).to_have_value(re.compile("Na het afmelden"))

    # a draft is never printed: the secretary is not offered it
    an = person("an", "secretariaat")
    an.get_by_role("link", name="Eén patiënt").click()
    expect(an.get_by_label("Folder", exact=True)).not_to_contain_text("Staaroperatie")

    lien.get_by_label("Wat veranderde er, en waarom?").fill("Nieuwe folder voor de staaroperatie")
    lien.get_by_role("button", name="Indienen ter goedkeuring").click()
    expect(lien.get_by_role("status").first).to_contain_text("Ingediend")
    expect(lien.get_by_text("Je schreef zelf aan dit concept")).to_be_visible()  # no self-approval
    expect(lien.get_by_role("button", name="Goedkeuren")).to_have_count(0)

    # goedkeuring: another person approves, after seeing the text and the pages
    bert = person("bert", "goedkeuring")
    bert.get_by_role("link", name="Inhoud", exact=True).click()
    bert.get_by_role("link", name="leaflets/staar-voorbeeld/nl.md").click()
    expect(bert.get_by_role("table", name="Verschil met de goedgekeurde tekst")).to_contain_text(
        TEXT[:30]
    )
    expect(bert.get_by_role("img", name="Concept, pagina 1 (verandert)")).to_be_visible()
    shot(bert, "26-06-goedkeuren")
    checked.append(_axe(bert, "goedkeuren"))
    expect(bert.get_by_label("Nieuwe versie")).to_have_value("1.0")
    bert.get_by_label("Wijzigingsnota (komt in de geschiedenis)").fill(
        "Nagekeken, fictief voorbeeld"
    )
    bert.get_by_role("button", name="Goedkeuren").click()
    expect(bert.get_by_role("status").first).to_contain_text("Goedgekeurd")
    bert.get_by_role(
        "link", name="Versies van Staaroperatie (fictieve voorbeeldfolder) (nl)"
    ).click()
    expect(
        bert.get_by_role("table", name="Goedgekeurde versies, de nieuwste eerst")
    ).to_contain_text("Nagekeken, fictief voorbeeld")
    bert.get_by_role("link", name="Toon de versie").first.click()
    expect(bert.get_by_role("img", name="Pagina 1 van deze versie")).to_be_visible()
    shot(bert, "26-07-versies")
    checked.append(_axe(bert, "versies"))

    # printed: one patient, and in a day's list beside the hip
    an.goto("/folder/")  # loaded whole: its script swaps in the choices of the folder
    an.get_by_label("Folder", exact=True).select_option("staar-voorbeeld")
    # swapped in; the first choice after an approval loads the new content (seconds, when busy)
    expect(an.get_by_label("Ingreep", exact=True)).to_contain_text("Rechteroog", timeout=30_000)
    an.get_by_label("Ingreep", exact=True).select_option("rechteroog")
    an.get_by_label("Campus", exact=True).select_option("cadix")
    # Cadix's surgeons only. Chosen the instant the campuses appeared, in htmx's settle delay,
    # this asked nothing, and every surgeon stayed (a failed CI run; test_browser.py)
    expect(an.get_by_label("Chirurg")).not_to_contain_text("Youssef El Amrani", timeout=20_000)
    an.get_by_label("Chirurg").select_option("fictief-oog")
    an.get_by_label("Dag van de ingreep").fill("15/12/2026")
    an.get_by_label("Uur van de ingreep").fill("9u00")
    an.get_by_label("Naam van de patiënt").fill("Fien Fictief")
    an.get_by_role("button", name="Maak de folder").click()
    with an.expect_download() as download:
        an.get_by_role("link", name="Download PDF").click()
    words = all_text(Path(download.value.path()).read_bytes())
    assert "Fien Fictief" in words and "troebel" in words and "Fictieve Oogarts" in words

    listing = content.parent / "dag.csv"
    listing.write_text(
        "Referentie;Naam;Taal;Folder;Ingreep;Chirurg;Campus;Datum;Uur\n"
        "PAT-1;Fien Fictief;nl;staar-voorbeeld;linkeroog;fictief-oog;cadix;15/12/2026;9u00\n"
        "PAT-2;Jan Heup;nl;avn-hip;heupprothese;claes;cadix;15/12/2026;10u00\n"
    )
    an.get_by_role("link", name="Lijst van de dag", exact=True).click()
    an.get_by_label("Afsprakenlijst van de dag").set_input_files(listing)
    an.get_by_role("button", name="Controleer de lijst").click()
    an.get_by_role("button", name="Maak 2 folders").click()
    data = Path(str(content.parent / "data"))
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--batch", "--no-startup-delay"], cwd=ROOT,
        env=os.environ | {"LEAFLETPRESS_DATA": str(data), "DATABASE_URL": _test_database(),
                          "LEAFLETPRESS_PROJECT": str(content)},
    )  # fmt: skip
    try:
        expect(an.get_by_role("heading", name="Klaar")).to_be_visible(timeout=120_000)
    finally:
        worker.wait(timeout=120)
    day = Day.objects.get()
    manifest = json.loads(next(day.out_dir.rglob("manifest*.json")).read_text())
    assert {"staar-voorbeeld", "avn-hip"} <= {r.get("leaflet") for r in manifest["leaflets"]}
    assert [c for c in checked if c[1]] == []
