"""The secretaries' guide (docs/hulp/hulp.md) is tested against the app, as datasette tests its
docs: every button or link it names in bold is on a page, every picture it shows is there,
and the app shows it at /hulp/ to whoever is signed in."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse
from helpers import ROOT
from test_web import data, signed_in  # noqa: F401  (data: a fixture)

pytestmark = pytest.mark.django_db(transaction=True)

GUIDE = ROOT / "docs" / "hulp"
TEXT = (GUIDE / "hulp.md").read_text(encoding="utf-8")
APP = " ".join(
    path.read_text(encoding="utf-8")
    for top in (ROOT / "leafletpress/web/templates", ROOT / "leafletpress/web/static/web")
    for path in top.rglob("*")
    if path.suffix in (".html", ".js")
)


@pytest.mark.parametrize("label", sorted(set(re.findall(r"\*\*([^*]+)\*\*", TEXT))))
def test_every_button_the_guide_names_is_in_the_app(label: str) -> None:
    words = [w for w in re.split(r"\s*…\s*", " ".join(label.split())) if w]
    assert all(w in " ".join(APP.split()) for w in words), f"'{label}' is on no page"


@pytest.mark.parametrize("picture", re.findall(r"!\[[^\]]*\]\(([^)]+)\)", TEXT))
def test_every_picture_the_guide_shows_is_there(picture: str) -> None:
    assert (GUIDE / picture).is_file(), f"make guide makes {picture}"


def test_the_guide_is_in_the_app_for_everyone_signed_in() -> None:
    page = signed_in("secretariaat").get(reverse("guide")).content.decode()
    assert "<h1>Hulp: folders maken met leafletpress</h1>" in page
    assert '<img src="een-patient.png"' in page and ">Hulp</a>" in page
    picture = signed_in("redactie").get(reverse("guide_picture", args=["een-patient"]))
    assert picture["Content-Type"] == "image/png"
    assert Client().get(reverse("guide")).status_code == 302  # signed out: to the sign-in
    assert signed_in("beheer").get("/hulp/..%2Fhulp.png").status_code == 404
