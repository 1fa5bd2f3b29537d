"""The web app in-process (Django's test client): every view for anonymous users and each
role, the security baseline (CSRF, throttled sign-in, files by role, ids that are not paths,
check --deploy), the audit log, and a clinic day through the real worker."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
import zoneinfo
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pypdf
import pytest
import time_machine
from directory import PEOPLE, Slapd
from django.conf import settings as settings_module
from django.contrib.auth.models import Group, User
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from helpers import ROOT, all_text, free_port, real_config

sys.path.insert(0, str(ROOT / "benchmarks"))
from clinic_day import clinic_day
from mailserver import PASSWORD as MAIL_PASSWORD
from mailserver import PASSWORD_ENV, ROWS, Server, configure

from leafletpress.web import days
from leafletpress.web.backends import OIDCBackend
from leafletpress.web.models import AuditEvent, Day, DayPart, Document, Mailing
from leafletpress.web.signin import directory_groups, settings_from
from leafletpress.web.tasks import keep_watching, make_day

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "Folders-maken-2026"
ONE_PATIENT = {
    "moment": "voor", "leaflet": "avn-hip", "variant": "heupprothese", "site": "cadix",
    "surgeon": "claes", "date": "15/12/2026", "time": "8u30", "name": "Marie Peeters",
    "reference": "PAT-0042", "lang": "nl", "edition": "a5",
}  # fmt: skip
ROLES = ("secretariaat", "redactie", "beheer", "verzenden", "goedkeuring")


@pytest.fixture(autouse=True)
def data(settings, tmp_path: Path) -> Path:
    """Every test keeps its files in its own data folder."""
    settings.DATA = settings.SHARED = tmp_path / "data"
    return settings.DATA


def account(role: str | None) -> User:
    """An account made as the README says: manage.py maak_account NAME --rol ROLE."""
    name = role or "zonderrol"
    if role:
        os.environ["LEAFLETPRESS_WACHTWOORD"] = PASSWORD
        try:
            call_command("maak_account", name, "--rol", role, stdout=io.StringIO())
        finally:
            del os.environ["LEAFLETPRESS_WACHTWOORD"]
        return User.objects.get(username=name)
    return User.objects.create_user(name, password=PASSWORD)


def signed_in(role: str | None) -> Client:
    client = Client()
    client.force_login(account(role))
    return client


@pytest.fixture
def document(data) -> Document:
    """A leaflet made through the form by a secretary."""
    response = signed_in("secretariaat").post(reverse("patient"), ONE_PATIENT)
    assert response.status_code == 302, response.content.decode()[:2000]
    return Document.objects.get()


@pytest.fixture
def day(data) -> Day:
    """The example day with errors, uploaded by a secretary."""
    client = signed_in("secretariaat")
    with (ROOT / "examples/dag-met-fouten.csv").open("rb") as file:
        response = client.post(reverse("days"), {"lijst": file})
    assert response.status_code == 302
    return Day.objects.get()


# --- every view, every role -----------------------------------------------------------------

# (view, arguments, whether the roles may open it: secretariaat, redactie, beheer, verzenden)
VIEWS = [
    ("home", {}, (200, 200, 200, 200, 200)),
    ("patient", {}, (200, 200, 403, 403, 403)),
    ("document", {"pk": "doc"}, (200, 404, 403, 403, 403)),  # redactie: only its own previews
    ("document_page", {"pk": "doc", "page": 1}, (200, 404, 403, 403, 403)),
    ("document_pdf", {"pk": "doc"}, (200, 403, 403, 403, 403)),
    ("days", {}, (200, 403, 403, 403, 403)),
    ("day", {"pk": "day"}, (200, 403, 403, 403, 403)),
    ("day_progress", {"pk": "day"}, (200, 403, 403, 403, 403)),
    ("day_email", {"pk": "day"}, (403, 403, 403, 404, 403)),  # 404: the day is not made yet,
    ("content_check", {}, (403, 200, 200, 403, 200)),
    ("audit", {}, (403, 403, 200, 403, 403)),
]


@pytest.mark.parametrize("role", [None, "zonder rol", *ROLES])
def test_each_view_opens_only_for_its_roles(document, day, role) -> None:
    ids = {"doc": document.id, "day": day.id}
    client = Client() if role is None else signed_in(None if role == "zonder rol" else role)
    wrong = []
    for view, kwargs, allowed in VIEWS:
        url = reverse(view, kwargs={k: ids.get(v, v) for k, v in kwargs.items()})
        response = client.get(url)
        if role is None:
            expected = 302  # to the sign-in page
        elif role == "zonder rol":
            expected = 200 if view == "home" else 403
        else:
            expected = allowed[ROLES.index(role)]
        if response.status_code != expected:
            wrong.append((view, response.status_code, expected))
        if role is None:
            assert response["Location"].startswith("/aanmelden/?next=")
        elif expected == 403:
            assert "Geen toegang" in response.content.decode()
        assert "no-store" in response["Cache-Control"]
    assert wrong == []


def test_the_admin_is_for_beheer_only(data) -> None:
    assert signed_in("beheer").get("/beheer/auth/user/").status_code == 200
    assert signed_in("secretariaat").get("/beheer/auth/user/").status_code == 302


# --- one patient ----------------------------------------------------------------------------


def test_a_leaflet_from_the_form_is_the_engines_and_leaves_an_audit_trail(document) -> None:
    client = signed_in("secretariaat")
    response = client.get(reverse("document_pdf", args=[document.id]))
    pdf = b"".join(response.streaming_content)
    assert response["Content-Type"] == "application/pdf"
    assert (
        response["Content-Disposition"]
        == 'attachment; filename="2026-12-15 PAT-0042_0830_avn-hip-heupprothese.pdf"'
    )
    text = all_text(pdf)
    assert "Marie Peeters" in text and "dinsdag 15 december 2026" in text
    assert len(pypdf.PdfReader(io.BytesIO(pdf)).pages) == document.pages
    page = client.get(reverse("document_page", args=[document.id, 1]))
    assert page["Content-Type"] == "image/png" and page.content[:4] == b"\x89PNG"
    actions = list(AuditEvent.objects.values_list("action", "reference"))
    assert ("folder gemaakt", "PAT-0042") in actions and (
        "folder gedownload",
        "PAT-0042",
    ) in actions
    assert not AuditEvent.objects.filter(detail__icontains="Peeters").exists()


def test_a_booklet_from_the_form_comes_with_the_patients_tagged_copy(data) -> None:
    """The print file is imposed and untagged; the patient's copy beside it is the one to
    read, email or hear (issue 22, F3: the booklet was the only file)."""
    client = signed_in("secretariaat")
    response = client.post(reverse("patient"), ONE_PATIENT | {"edition": "booklet"})
    assert response.status_code == 302, response.content.decode()[:2000]
    document = Document.objects.get()
    page = client.get(reverse("document", args=[document.id])).content.decode()
    assert "Boekje afdrukken" in page and "Download PDF voor de patiënt" in page
    own = client.get(reverse("document_pdf", args=[document.id]))
    booklet = client.get(reverse("document_pdf", args=[document.id]) + "?boekje=1&afdrukken=1")
    own_pdf, booklet_pdf = (b"".join(r.streaming_content) for r in (own, booklet))
    assert (
        'filename="2026-12-15 PAT-0042_0830_avn-hip-heupprothese.pdf"' in own["Content-Disposition"]
    )
    disposition = booklet["Content-Disposition"]
    assert (
        disposition == 'inline; filename="2026-12-15 PAT-0042_0830_avn-hip-heupprothese-boekje.pdf"'
    )
    own_pages = pypdf.PdfReader(io.BytesIO(own_pdf))
    assert "/StructTreeRoot" in own_pages.trailer["/Root"], "the patient's copy is tagged"
    assert round(float(own_pages.pages[0].mediabox.width) * 25.4 / 72) == 148
    assert round(float(pypdf.PdfReader(io.BytesIO(booklet_pdf)).pages[0].mediabox.width)
                 * 25.4 / 72) == 297  # fmt: skip
    assert AuditEvent.objects.filter(action="folder afgedrukt", detail__contains="boekje").exists()
    with time_machine.travel(timezone.now() + timedelta(days=8), tick=False):
        call_command("opruimen", stdout=io.StringIO())
    assert not document.path.exists() and not document.print_path.exists()


def test_a_booklet_made_before_the_patients_copy_existed_still_downloads(data) -> None:
    """Stored as its print file only (before issue 22): the page offers what there is."""
    client = signed_in("secretariaat")
    response = client.post(reverse("patient"), ONE_PATIENT | {"edition": "booklet"})
    assert response.status_code == 302
    document = Document.objects.get()
    document.print_path.unlink()  # as an older version left it
    page = client.get(reverse("document", args=[document.id])).content.decode()
    assert "Boekje afdrukken" not in page and "Download PDF" in page
    assert client.get(reverse("document_pdf", args=[document.id]) + "?boekje=1").status_code == 200


FORM_ERRORS = [
    pytest.param({"site": "gent", "date": "31/11/2026"},
                 ["onbekende campus", "de datum &#x27;31/11/2026&#x27; bestaat niet"],
                 id="every problem at once, at its field"),
    pytest.param({"time": ""}, ["ontbreekt — schrijf 08:30 of 8u30"], id="a missing hour"),
    pytest.param({"moment": "ontslag", "discharge_date": "14/12/2026"},
                 ["ligt vóór de operatie"], id="discharge before the operation"),
    pytest.param({"name": "山田太郎"}, ["deze tekens kan de folder niet drukken"],
                 id="a name the fonts cannot print"),
]  # fmt: skip


@pytest.mark.parametrize(("change", "expected"), FORM_ERRORS)
def test_form_errors_are_the_clis_in_dutch_at_the_field(data, change, expected) -> None:
    response = signed_in("secretariaat").post(reverse("patient"), ONE_PATIENT | change)
    html = response.content.decode()
    assert response.status_code == 400 and "Er is iets mis" in html
    for words in expected:
        assert words in html
    assert Document.objects.count() == 0


def test_warnings_the_secretary_must_act_on_cannot_be_missed(data) -> None:
    client = signed_in("secretariaat")
    response = client.post(reverse("patient"), ONE_PATIENT | {"date": "02/01/2026"}, follow=True)
    html = response.content.decode()
    assert 'class="banner warning" role="alert"' in html and "in het verleden" in html


def test_choices_follow_each_other(data) -> None:
    client = signed_in("secretariaat")
    chosen = {"leaflet": "avn-hip", "site": "palfijn", "moment": "ontslag"}
    response = client.post(reverse("patient_choices"), chosen | {"name": "Marie Peeters"})
    html = response.content.decode()
    assert client.get(reverse("patient_choices")).status_code == 405, "never a name in a URL"
    surgeons = html.split('name="surgeon"')[1].split("</select>")[0]
    assert "Pieter Claes" in surgeons and "Lotte Verbeeck" not in surgeons, "only Palfijn's"
    followups = html.split('name="followup_site"')[1].split("</select>")[0]
    assert "ZAS Hoge Beuken" in followups and "ZAS Paola" not in followups
    assert 'name="discharge_date"' in html and 'name="time"' not in html


def test_a_choice_that_is_not_offered_lends_nothing_to_the_leaflet_shown(
    data, settings, project_copy: Path
) -> None:
    """A leaflet no longer offered (kept over signing in again) fell back to the first one,
    with the old leaflet's procedure chosen if the first had one of that name; and "Bij
    ontslag" stayed chosen, and disabled, for a leaflet without discharge leaflets."""
    first = project_copy / "leaflets" / "aa-zonder-ontslag"  # first in the list: the default
    first.mkdir()
    for text in (project_copy / "leaflets" / "avn-hip").glob("*.md"):
        without = re.sub(r"(?m)^discharge:\n(?:  .*\n)+", "", text.read_text())
        (first / text.name).write_text(without.replace("ORT-AVN-01", "ORT-AVN-02"))
    settings.ROOT = project_copy
    client = signed_in("secretariaat")
    gone = {"leaflet": "weg", "variant": "heupprothese", "moment": "voor"}
    html = client.post(reverse("patient_choices"), gone).content.decode()
    assert 'value="aa-zonder-ontslag" selected' in html
    assert 'value="heupprothese" selected' not in html, "not the old leaflet's procedure"
    chosen = {"leaflet": "aa-zonder-ontslag", "moment": "ontslag", "time": "8u30"}
    html = client.post(reverse("patient_choices"), chosen).content.decode()
    assert 'value="voor" checked' in html and 'value="ontslag" checked' not in html
    assert 'name="time"' in html and 'value="8u30"' in html and 'name="discharge_date"' not in html


@pytest.mark.parametrize(
    "sent",
    [{}, ONE_PATIENT | {"moment": "later"}, ONE_PATIENT | {"date": "31/02/2026", "name": ""}],
    ids=["nothing", "a moment that does not exist", "a wrong date and no name"],
)
def test_every_error_in_the_summary_links_to_its_field(data, sent) -> None:
    """A link to "#id_moment" went nowhere: the moment's two radios are id_moment_voor and
    id_moment_ontslag."""
    html = signed_in("secretariaat").post(reverse("patient"), sent).content.decode()
    summary = html.split('id="fouten"', 1)[1].split("</div>", 1)[0]
    targets = re.findall(r'href="#([^"]+)"', summary)
    assert targets
    for target in targets:
        assert f'id="{target}"' in html, target


def test_a_choice_asked_after_the_session_ended_is_refused_for_the_page_to_say_so(data) -> None:
    """htmx followed the redirect to the sign-in page and swapped the choices out for nothing:
    the Moment and Ingreep blocks vanished without a word."""
    asked = Client().post(reverse("patient_choices"), {"site": "cadix"}, HTTP_HX_REQUEST="true")
    assert asked.status_code == 403 and "afgemeld" in asked.content.decode()
    assert Client().get(reverse("patient")).status_code == 302, "a page still goes to sign in"


# --- security baseline ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "referer, back",
    [("http://testserver/folder/", "/folder/"), ("https://elders.example/folder/", "/")],
    ids=["from the form", "from another site"],
)
def test_a_forged_post_is_refused(data, referer, back) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(account("secretariaat"))
    response = client.post(reverse("patient"), ONE_PATIENT, HTTP_REFERER=referer)
    html = response.content.decode()
    assert response.status_code == 403 and "Formulier verlopen" in html
    assert f'href="{back}">Laad de pagina opnieuw' in html  # the form, where what she typed is
    assert response["X-Geweigerd"] == "verlopen"
    assert Document.objects.count() == 0


def test_a_post_refused_for_its_origin_is_not_called_expired(data) -> None:
    """Only a token of before is "verlopen": loading the page again helps. A request from
    another origin (another site; a proxy that changes the address) would be refused again,
    in a loop, after a page that said she signed in again elsewhere."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(account("secretariaat"))
    client.get(reverse("patient"))
    token = client.cookies["csrftoken"].value
    sent = ONE_PATIENT | {"csrfmiddlewaretoken": token}
    response = client.post(reverse("patient"), sent, HTTP_ORIGIN="https://elders.example",
                           HTTP_HX_REQUEST="true")  # fmt: skip
    assert response.status_code == 403 and "Formulier geweigerd" in response.content.decode()
    assert "X-Geweigerd" not in response


def test_a_brute_forced_sign_in_is_locked_out(data) -> None:
    account("secretariaat")
    client = Client()
    for _ in range(5):
        response = client.post(reverse("login"), {"username": "secretariaat", "password": "x"})
        assert response.status_code in (200, 429)
    response = client.post(reverse("login"), {"username": "secretariaat", "password": PASSWORD})
    assert response.status_code == 429 and "geblokkeerd" in response.content.decode()
    assert AuditEvent.objects.filter(action="aanmelden mislukt").count() >= 5


@pytest.mark.parametrize("path", ["/oidc/authenticate/", "/oidc/callback/"])
def test_the_openid_connect_addresses_are_not_found_when_it_is_not_the_sign_in(data, path):
    """/oidc/authenticate/ answered 500 with a traceback for anyone (issue 23, F3)."""
    assert Client().get(path).status_code == 404


@pytest.mark.parametrize("password", ["a", "Folders-26", "123456789012345"])
def test_a_weak_password_makes_no_account(data, monkeypatch, password) -> None:
    """Any password was accepted, one character too, and the account made first (issue 23,
    F1): at least 12 characters, not only digits, not a common one."""
    monkeypatch.setenv("LEAFLETPRESS_WACHTWOORD", password)
    with pytest.raises(CommandError, match="wachtwoord te zwak"):
        call_command("maak_account", "zwak", "--rol", "secretariaat", stdout=io.StringIO())
    assert not User.objects.filter(username="zwak").exists()


def test_behind_the_proxy_wrong_passwords_lock_out_one_workstation_not_all(data, settings) -> None:
    """Every request comes from the hospital's proxy; without django-ipware five wrong
    passwords from anywhere locked that account out on every workstation (issue 23, F2)."""
    settings.PROXIES = 1
    account("secretariaat")
    proxy = {"REMOTE_ADDR": "10.0.0.254"}
    attacker = Client(**proxy, HTTP_X_FORWARDED_FOR="192.168.5.23")
    for _ in range(5):
        attacker.post(reverse("login"), {"username": "secretariaat", "password": "x"})
    locked = attacker.post(reverse("login"), {"username": "secretariaat", "password": PASSWORD})
    assert locked.status_code == 429, "the address that tried is locked out"
    secretary = Client(**proxy, HTTP_X_FORWARDED_FOR="192.168.7.40")
    response = secretary.post(reverse("login"), {"username": "secretariaat", "password": PASSWORD})
    assert response.status_code == 302, "her own workstation still signs in"
    failed = AuditEvent.objects.filter(action="aanmelden mislukt")
    assert failed.count() >= 5 and {e.detail for e in failed} == {"192.168.5.23"}, (
        "the audit names the workstation, not the proxy"
    )
    # What a client writes in X-Forwarded-For itself stands left of what the proxy appends
    spoofing = Client(**proxy, HTTP_X_FORWARDED_FOR="192.168.7.40, 192.168.5.23")
    response = spoofing.post(reverse("login"), {"username": "secretariaat", "password": PASSWORD})
    assert response.status_code == 429, "a forged entry does not escape the lock-out"


def test_a_password_typed_in_the_name_field_is_stored_nowhere(data) -> None:
    """django-axes kept what was typed and showed it to beheer (issue 23, F9)."""
    from axes.models import AccessAttempt

    account("secretariaat")
    Client().post(reverse("login"), {"username": "Geheim-Wachtwoord-99", "password": "secA"})
    Client().post(reverse("login"), {"username": "secretariaat", "password": "x"})
    assert sorted(AccessAttempt.objects.values_list("username", flat=True)) == [
        "(onbekend account)", "secretariaat"]  # fmt: skip
    assert not AuditEvent.objects.filter(user__contains="Geheim").exists()


def test_made_up_names_from_one_address_leave_one_audit_event_a_quarter(data) -> None:
    """Anonymous visitors added an audit row per failed sign-in, without limit (issue 23,
    F20); a named account's failures are each recorded."""
    account("secretariaat")
    for n in range(30):
        Client(REMOTE_ADDR="10.1.2.3").post(
            reverse("login"), {"username": f"x{n}", "password": "x"}
        )
    Client(REMOTE_ADDR="10.1.2.4").post(reverse("login"), {"username": "y", "password": "x"})
    for _ in range(2):
        Client().post(reverse("login"), {"username": "secretariaat", "password": "x"})
    failed = AuditEvent.objects.filter(action="aanmelden mislukt")
    assert sorted(failed.values_list("user", "detail")) == [
        ("(onbekend account)", "10.1.2.3"), ("(onbekend account)", "10.1.2.4"),
        ("secretariaat", "127.0.0.1"), ("secretariaat", "127.0.0.1")]  # fmt: skip
    with later(0.02):  # half an hour on: recorded again
        Client(REMOTE_ADDR="10.1.2.3").post(reverse("login"), {"username": "z", "password": "x"})
    assert failed.filter(detail="10.1.2.3").count() == 2


def test_failed_sign_ins_that_name_no_account_lock_nobody_out(data) -> None:
    """Through the OpenID Connect provider no account is named (a token refused, a clock that
    differs): counted per address they would lock a whole terminal server out."""
    from axes.models import AccessAttempt
    from django.contrib.auth import authenticate
    from django.test import RequestFactory

    account("secretariaat")
    for _ in range(7):
        request = RequestFactory().post("/oidc/callback/", REMOTE_ADDR="10.1.2.3")
        assert authenticate(request, nonce="n", code_verifier="c") is None
    assert not AccessAttempt.objects.exists()
    for _ in range(5):  # wrong passwords from the same address still count
        Client(REMOTE_ADDR="10.1.2.3").post(
            reverse("login"), {"username": "secretariaat", "password": "x"}
        )
    assert AccessAttempt.objects.get().failures_since_start == 5


def test_a_real_sign_in_is_audited_and_lands_home(data) -> None:
    account("secretariaat")
    response = Client().post(reverse("login"), {"username": "secretariaat", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/"
    assert AuditEvent.objects.filter(action="aangemeld", user="secretariaat").exists()


@pytest.mark.parametrize(
    "url",
    ["/folder/../../etc/passwd/pdf", "/folder/%2e%2e%2fetc%2fpasswd/pdf", "/folder/123/pdf",
     f"/folder/{uuid.uuid4()}/pdf", f"/folder/{uuid.uuid4()}/pagina/1.png"],
)  # fmt: skip
def test_an_id_is_never_a_path(data, url) -> None:
    assert signed_in("secretariaat").get(url).status_code == 404


def test_a_days_file_is_served_only_by_its_place_in_the_results(day) -> None:
    listed = [{"name": "x.pdf", "label": "x", "path": "../../secret_key"}]
    Day.objects.filter(pk=day.pk).update(status=Day.DONE, outcome={"print_files": listed})
    client = signed_in("secretariaat")
    for number in ("..%2F..%2Fsecret_key", "print-cadix.pdf", "1", "-1", "0"):
        assert client.get(f"/dag/{day.id}/afdruk/{number}").status_code == 404


def test_the_audit_log_is_append_only(data) -> None:
    event = AuditEvent.objects.create(user="x", action="test")
    event.detail = "changed"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()


def test_no_patient_name_reaches_a_log_or_a_url(data, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    client = signed_in("secretariaat")
    response = client.post(reverse("patient"), ONE_PATIENT)
    assert "Peeters" not in response["Location"]
    client.get(response["Location"] + "pdf")
    assert "Peeters" not in caplog.text
    assert not any("Peeters" in p.name for p in Path(data).rglob("*"))


def test_deploy_checks_are_clean_with_production_settings(tmp_path) -> None:
    clean = {
        k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"
    }  # browser tests
    env = clean | {
        "LEAFLETPRESS_PRODUCTION": "1",
        "LEAFLETPRESS_SECRET_KEY": "k" * 20 + "Z9!x" * 10,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.sqlite3'}",
        "LEAFLETPRESS_DATA": str(tmp_path),
        "LEAFLETPRESS_HOSTS": "leaflets.ziekenhuis.be",
    }
    deploy = [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"]
    result = subprocess.run(deploy, cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0 and "no issues" in result.stdout, result.stdout + result.stderr
    missing = env | {"LEAFLETPRESS_SECRET_KEY": ""}
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=missing,
                            capture_output=True, text=True)  # fmt: skip
    assert result.returncode != 0 and "LEAFLETPRESS_SECRET_KEY" in result.stderr


# --- a clinic day ---------------------------------------------------------------------------


def test_the_check_page_names_each_kind_of_error_and_each_bad_row(day) -> None:
    html = signed_in("secretariaat").get(reverse("day", args=[day.id])).content.decode()
    assert "3 rijen in orde" in html and "5 rijen met fouten" in html
    assert "1 rij met een fout in kolom ‘Campus’: onbekende campus" in html
    for row in ('<th scope="row">5</th>', '<th scope="row">6</th>', '<th scope="row">7</th>'):
        assert row in html
    assert 'class="bad-cell"' in html and "kies uit: ZAS Augustinus, ZAS Cadix" in html
    assert "Maak 3 folders" in html


def test_the_same_list_sent_twice_in_a_moment_makes_one_day(data) -> None:
    """A double click without the page's script (issue 24, item 9)."""
    client = signed_in("secretariaat")
    days = []
    for _ in range(2):
        days.append(upload(client, ROWS[:3])["Location"])
    assert days[0] == days[1] and Day.objects.count() == 1


def test_an_upload_over_the_limit_is_refused(data, settings) -> None:
    settings.MAX_UPLOAD_BYTES = 1000
    upload = io.BytesIO(b"x" * 2000)
    upload.name = "groot.csv"
    response = signed_in("secretariaat").post(reverse("days"), {"lijst": upload})
    assert response.status_code == 400 and "groter dan" in response.content.decode()
    assert Day.objects.count() == 0


def test_a_list_uploaded_twice_is_recognised(day) -> None:
    Day.objects.filter(pk=day.pk).update(created=timezone.now() - timedelta(hours=1))
    client = signed_in("secretariaat")
    with (ROOT / "examples/dag-met-fouten.csv").open("rb") as file:
        response = client.post(reverse("days"), {"lijst": file}, follow=True)
    assert "Deze lijst werd al eens opgeladen" in response.content.decode()


def test_a_day_is_made_by_the_worker_and_its_files_served(data) -> None:
    client = signed_in("secretariaat")
    with (ROOT / "examples/dag-2026-12-15.csv").open("rb") as file:
        client.post(reverse("days"), {"lijst": file})
    day = Day.objects.get()
    response = client.post(reverse("day_make", args=[day.id]), {"edition": "a5",
                                                                 "separators": "on"})  # fmt: skip
    assert response.status_code == 302 and Day.objects.get().status == Day.QUEUED
    client.post(reverse("day_make", args=[day.id]), {"edition": "a5"})  # a second click
    call_command("db_worker", "--batch", "--no-startup-delay", stdout=io.StringIO())
    day = Day.objects.get()
    assert day.status == Day.DONE and day.outcome["counts"] == {"made": 12}, day.error
    html = client.get(reverse("day", args=[day.id])).content.decode()
    assert "12 folders gemaakt" in html and "2026-12-15 ZAS Augustinus afdruk" in html
    printed = client.get(f"/dag/{day.id}/afdruk/0")
    assert printed.status_code == 200 and b"".join(printed.streaming_content)[:5] == b"%PDF-"
    assert AuditEvent.objects.filter(action="afdruk gedownload").exists()


def test_a_day_a_stop_interrupted_is_finished_by_hervat(data) -> None:
    client = signed_in("secretariaat")
    with (ROOT / "examples/dag-2026-12-15.csv").open("rb") as file:
        client.post(reverse("days"), {"lijst": file})
    day = Day.objects.get()
    Day.objects.filter(pk=day.pk).update(status=Day.RUNNING, total=12, outcome={"edition": "a5"})
    call_command("hervat", stdout=io.StringIO())  # as make serve does at start
    call_command("db_worker", "--batch", "--no-startup-delay", stdout=io.StringIO())
    assert Day.objects.get().status == Day.DONE


def test_an_account_gets_its_roles_from_maak_account(data) -> None:
    user = account("beheer")
    assert list(user.groups.values_list("name", flat=True)) == ["beheer"] and user.is_staff
    assert set(Group.objects.values_list("name", flat=True)) >= {"beheer"}


# --- found by a hostile review --------------------------------------------------------------


def test_a_list_of_two_days_offers_each_days_files_apart(data) -> None:
    rows = (ROOT / "examples/dag-2026-12-15.csv").read_text(encoding="cp1252").splitlines()
    second = [line.replace("15/12/2026", "16/12/2026") for line in rows[1:3]]
    upload = io.BytesIO("\r\n".join([*rows[:3], *second]).encode("cp1252"))
    upload.name = "twee-dagen.csv"
    client = signed_in("secretariaat")
    client.post(reverse("days"), {"lijst": upload})
    day = Day.objects.get()
    client.post(reverse("day_make", args=[day.id]), {"edition": "a5"})
    call_command("db_worker", "--batch", "--no-startup-delay", stdout=io.StringIO())
    day = Day.objects.get()
    labels = [item["label"] for item in day.outcome["print_files"]]
    assert labels == ["2026-12-15 ZAS Augustinus afdruk", "2026-12-16 ZAS Augustinus afdruk"]
    first, other = (b"".join(client.get(f"/dag/{day.id}/afdruk/{n}").streaming_content)
                    for n in (0, 1))  # fmt: skip
    assert "15 december" in all_text(first) and "16 december" in all_text(other)


def test_beheer_gives_roles_but_never_more(data) -> None:
    client = signed_in("beheer")
    target = account("secretariaat")
    page = client.get(f"/beheer/auth/user/{target.id}/change/").content.decode()
    assert 'name="is_superuser"' not in page and 'name="user_permissions"' not in page
    admin = User.objects.create_superuser("root", password=PASSWORD)
    assert client.get(f"/beheer/auth/user/{admin.id}/change/").status_code == 302
    assert client.get("/beheer/axes/accessattempt/").status_code == 200, "to unblock accounts"


def admin_form(client: Client, user: User, **change: Any) -> dict[str, Any]:
    """The admin's change form for ``user`` as the browser would post it, with ``change``."""
    form = {"username": user.username, "first_name": "", "last_name": "", "email": "",
            "is_active": "on", "is_staff": "on" if user.is_staff else "",
            "groups": [str(g.id) for g in user.groups.all()]}  # fmt: skip
    form.update(change)
    return {k: v for k, v in form.items() if v != ""}


def test_beheer_never_gives_itself_a_role_and_every_role_change_says_which(data) -> None:
    """beheer could tick secretariaat and verzenden on its own account; the audit said only
    "Groups gewijzigd" (issue 23, F5)."""
    client = signed_in("beheer")
    me = User.objects.get(username="beheer")
    secretariat = Group.objects.get_or_create(name="secretariaat")[0]
    sending = Group.objects.get_or_create(name="verzenden")[0]
    client.post(f"/beheer/auth/user/{me.id}/change/",
                admin_form(client, me, groups=[str(secretariat.id), str(sending.id)]))  # fmt: skip
    assert sorted(me.groups.values_list("name", flat=True)) == ["beheer"]
    assert client.get("/dag/").status_code == 403, "still no access to patients' days"
    other = account("secretariaat")
    response = client.post(f"/beheer/auth/user/{other.id}/change/",
                           admin_form(client, other, groups=[str(secretariat.id),
                                                             str(sending.id)]))  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:1500]
    event = AuditEvent.objects.get(action="rollen gewijzigd")
    assert event.detail == "secretariaat: secretariaat → secretariaat, verzenden"
    assert event.user == "beheer"


@pytest.mark.parametrize("name", ["systeem", "Systeem", "(onbekend account)"])
def test_no_account_takes_a_name_the_audit_log_gives_the_app(data, monkeypatch, name) -> None:
    """`systeem` could be made, and the retention's audit events read as its doing (issue 23,
    F12)."""
    monkeypatch.setenv("LEAFLETPRESS_WACHTWOORD", PASSWORD)
    with pytest.raises(CommandError, match="voorbehouden aan het auditlog"):
        call_command("maak_account", name, "--rol", "secretariaat", stdout=io.StringIO())
    client = signed_in("beheer")
    response = client.post(
        "/beheer/auth/user/add/",
        {"username": name, "password1": PASSWORD, "password2": PASSWORD, "usable_password": "true"},
    )
    assert "voorbehouden aan het auditlog" in response.content.decode()
    assert not User.objects.filter(username=name).exists()


def test_an_audit_event_keeps_the_accounts_id_and_beheer_cannot_rename_an_account(data) -> None:
    """A name can be handed to someone else; the audit log could not tell them apart (F12)."""
    client = signed_in("beheer")
    other = account("secretariaat")
    signed_in_other = Client()
    signed_in_other.force_login(other)
    signed_in_other.get(reverse("days"))
    upload(signed_in_other, ROWS[:2])
    assert AuditEvent.objects.get(action="lijst opgeladen").account == other.pk
    client.post(f"/beheer/auth/user/{other.id}/change/",
                admin_form(client, other, username="iemand-anders"))  # fmt: skip
    assert User.objects.filter(username="secretariaat").exists(), "never renamed"


@pytest.mark.parametrize("name", ["ѕysteem", "secА", "met spatie"])
def test_no_account_gets_a_name_that_looks_like_another(data, monkeypatch, name) -> None:
    monkeypatch.setenv("LEAFLETPRESS_WACHTWOORD", PASSWORD)
    with pytest.raises(CommandError, match="gebruik alleen de letters a-z"):
        call_command("maak_account", name, "--rol", "secretariaat", stdout=io.StringIO())
    response = signed_in("beheer").post("/beheer/auth/user/add/", {
        "username": name, "password1": PASSWORD, "password2": PASSWORD,
        "usable_password": "true"})  # fmt: skip
    assert (
        response.status_code == 200 and "gebruik alleen de letters a-z" in response.content.decode()
    )
    assert not User.objects.filter(username=name).exists()


def test_maak_account_refuses_a_name_taken_in_another_case(data, monkeypatch) -> None:
    account("secretariaat")
    monkeypatch.setenv("LEAFLETPRESS_WACHTWOORD", PASSWORD)
    with pytest.raises(CommandError, match="lijkt op het bestaande account 'secretariaat'"):
        call_command("maak_account", "SECRETARIAAT", "--rol", "beheer", stdout=io.StringIO())


def test_a_name_taken_in_another_case_is_an_error_never_a_500(data) -> None:
    account("secretariaat")
    response = signed_in("beheer").post("/beheer/auth/user/add/", {
        "username": "Secretariaat", "password1": PASSWORD, "password2": PASSWORD,
        "usable_password": "true"})  # fmt: skip
    assert response.status_code == 200 and not User.objects.filter(username="Secretariaat")


def test_beheer_never_makes_a_second_beheer_to_give_itself_roles(data) -> None:
    """Beheer made helper2 a beheer, and helper2 gave beheer the secretariat's roles (the
    review of issue 23): beheer is given by IT or a superuser, and a beheer's roles by them."""
    client = signed_in("beheer")
    me = User.objects.get(username="beheer")
    helper = account("secretariaat")
    roles = {name: Group.objects.get_or_create(name=name)[0] for name in ROLES}
    client.post(f"/beheer/auth/user/{helper.id}/change/",
                admin_form(client, helper, groups=[str(roles["beheer"].id)]))  # fmt: skip
    assert not helper.groups.filter(name="beheer").exists()
    os.environ["LEAFLETPRESS_WACHTWOORD"] = PASSWORD
    try:
        call_command("maak_account", "collega", "--rol", "beheer", stdout=io.StringIO())
    finally:
        del os.environ["LEAFLETPRESS_WACHTWOORD"]
    colleague = User.objects.get(username="collega")
    other = Client()
    other.force_login(colleague)
    other.post(f"/beheer/auth/user/{me.id}/change/",
               admin_form(other, me, groups=[str(roles["secretariaat"].id)]))  # fmt: skip
    assert sorted(me.groups.values_list("name", flat=True)) == ["beheer"]
    made = client.post("/beheer/auth/user/add/", {
        "username": "helper2", "password1": PASSWORD, "password2": PASSWORD,
        "usable_password": "true"})  # fmt: skip
    assert made.status_code == 302
    helper2 = User.objects.get(username="helper2")
    client.post(f"/beheer/auth/user/{helper2.id}/change/",
                admin_form(client, helper2, groups=[str(roles["secretariaat"].id)]))  # fmt: skip
    assert not helper2.groups.exists(), "four eyes: not the account it made itself"
    password = {"password1": "Een-ander-wachtwoord-1", "password2": "Een-ander-wachtwoord-1",
                "usable_password": "true"}  # fmt: skip
    response = client.post(f"/beheer/auth/user/{helper.id}/password/", password)
    assert response.status_code == 403, "never the password of a secretary"


def test_maak_account_on_an_existing_account_is_audited(data, monkeypatch) -> None:
    account("secretariaat")
    monkeypatch.setenv("LEAFLETPRESS_WACHTWOORD", PASSWORD + "-nieuw")
    call_command("maak_account", "secretariaat", "--rol", "verzenden", stdout=io.StringIO())
    event = AuditEvent.objects.get(action="account bijgewerkt")
    assert event.user == "systeem"
    assert event.detail == ("secretariaat (maak_account): secretariaat → secretariaat, "
                            "verzenden; nieuw wachtwoord")  # fmt: skip


def test_redactie_sees_its_own_previews_never_a_patients_leaflet(document) -> None:
    client = signed_in("redactie")
    assert client.get(reverse("document", args=[document.id])).status_code == 404
    assert client.get(reverse("document_page", args=[document.id, 1])).status_code == 404


def test_looking_at_a_leaflet_is_audited(document) -> None:
    signed_in("secretariaat").get(reverse("document", args=[document.id]))
    assert AuditEvent.objects.filter(action="folder bekeken", reference="PAT-0042").exists()


@pytest.mark.parametrize(
    ("form", "field"),
    [({}, "Folder"), ({"edition": "x" * 1000}, "kies een uitvoering uit de lijst")],
)  # fmt: skip
def test_a_crafted_form_gets_errors_never_a_500(data, form, field) -> None:
    response = signed_in("secretariaat").post(reverse("patient"), form)
    assert response.status_code == 400 and field in response.content.decode()


def test_an_empty_form_names_every_missing_field_at_once(data) -> None:
    response = signed_in("secretariaat").post(reverse("patient"), {"moment": "voor"})
    html = response.content.decode()
    for field in ("id_name", "id_date", "id_time", "id_leaflet", "id_surgeon"):
        assert f'href="#{field}"' in html, field


def test_refused_rows_stay_on_the_made_day_and_the_start_page_until_dealt_with(data) -> None:
    """After "Maak" the day said only "2 rijen geweigerd" (issue 24, item 1)."""
    client = signed_in("secretariaat")
    day = made_day(client, [*ROWS[:3], ROWS[3].replace("palfijn", "nergens"),
                            ROWS[4].replace("15/12/2026", "31/02/2026")])  # fmt: skip
    page = client.get(reverse("day", args=[day.id])).content.decode()
    assert "2 rijen zonder folder" in page and "Laad een verbeterde lijst op" in page
    assert '<th scope="row">4</th><td>PAT-3</td>' in page and "onbekende campus" in page
    assert "ZAS Augustinus, ZAS Cadix" in page, "the hint, with the campuses as she knows them"
    home = client.get(reverse("home")).content.decode()
    assert "Dagen met patiënten zonder folder" in home and str(day.id) in home
    client.post(reverse("day_dealt", args=[day.id]))
    assert "Dagen met patiënten zonder folder" not in client.get(reverse("home")).content.decode()
    assert (
        "Behandeld door secretariaat" in client.get(reverse("day", args=[day.id])).content.decode()
    )
    assert AuditEvent.objects.filter(action="geweigerde rijen behandeld").count() == 1
    with later(7.5):
        call_command("opruimen", stdout=io.StringIO())
    kept = Day.objects.get(pk=day.pk).outcome["refused"]
    assert kept == [{"row": 4, "problems": []}, {"row": 5, "problems": []}]


def test_the_check_page_with_errors_offers_a_corrected_list_first(day) -> None:
    page = signed_in("secretariaat").get(reverse("day", args=[day.id])).content.decode()
    assert page.index("Laad een verbeterde lijst op") < page.index("Maak 3 folders")
    assert 'class="secondary">Maak 3 folders (zonder de rijen met fouten)' in page


def test_pages_name_things_as_the_secretary_knows_them(document) -> None:
    """No slugs, ISO codes or raw data on a page (issue 24, item 12)."""
    client = signed_in("secretariaat")
    page = client.get(reverse("document", args=[document.id])).content.decode()
    assert "Avasculaire necrose van de heup · Totale heupprothese" in page
    assert "· Nederlands ·" in page and "avn-hip ·" not in page
    made = made_day(client, [*ROWS[:3], ROWS[3].replace("palfijn", "nergens")])
    assert AuditEvent.objects.get(action="dag klaar").detail == (
        f"dag {made.id}: 2 gemaakt, 1 geweigerd")  # fmt: skip
    days = client.get(reverse("days")).content.decode()
    assert '<th scope="col">Status</th>' in days and "klaar, 1 rij zonder folder" in days
    row = re.search(r"<tr><td>15/12/2026</td><td><a [^>]+>dag.csv</a></td><td>(\d+)</td>", days)
    assert row and row[1] == "2", "the appointments' day and the number of leaflets (item 5)"


def test_a_days_downloads_are_named_for_what_they_are_and_their_date(data) -> None:
    """'print-cadix.pdf' clashed with the day before's in her Downloads (issue 24, item 14)."""
    client = signed_in("secretariaat")
    made = made_day(client, ROWS[:4])
    names = {}
    for kind, key in (("afdruk", "print_files"), ("manifest", "manifests"), ("folder", "leaflets")):
        for number in range(len(made.outcome[key])):
            response = client.get(f"/dag/{made.id}/{kind}/{number}")
            names[re.search(r'filename="([^"]+)"', response["Content-Disposition"])[1]] = kind
    assert {"2026-12-15 ZAS Cadix afdruk.pdf", "2026-12-15 ZAS Palfijn afdruk.pdf",
            "2026-12-15 overzicht.csv", "2026-12-15 overzicht.json",
            "2026-12-15 PAT-1_0800_avn-hip-heupprothese.pdf"} <= set(names)  # fmt: skip


def test_a_form_sent_after_signing_out_says_so_and_leads_back(data) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("days"), {})
    html = response.content.decode()
    assert response.status_code == 403 and "Je bent afgemeld" in html
    assert f'href="{reverse("login")}?next=/dag/"' in html  # back to the form after signing in


def test_a_day_with_nothing_to_make_is_not_started(day) -> None:
    Day.objects.filter(pk=day.pk).update(suffix=".csv")
    day.upload.write_bytes(b"Naam;Folder;Ingreep;Chirurg;Campus;Datum;Uur\n;;;;;;\n")
    signed_in("secretariaat").post(reverse("day_make", args=[day.id]), {"edition": "a5"})
    assert Day.objects.get().status == Day.CHECKED


def test_a_too_big_upload_is_refused_before_it_is_read(data) -> None:
    client = signed_in("secretariaat")
    response = client.post(reverse("days"), {"lijst": io.BytesIO(b"x")},
                           CONTENT_LENGTH=str(50 * 2**20))  # fmt: skip
    assert response.status_code == 413 and "groter dan 10 MB" in response.content.decode()


# --- email to the patients (against the real SMTP server of the email tests) ----------------

EMAIL_ROWS = ROWS  # three to email, one without an address, one with a wrong one


@pytest.fixture
def mail_server(settings, tmp_path, ca, monkeypatch):
    """The web app on a copy of the project whose config/email.yaml names a real SMTP server
    on 127.0.0.1 (STARTTLS, login)."""
    for name in ("leaflets", "config", "templates", "styles"):
        shutil.copytree(ROOT / name, tmp_path / "project" / name)
    real_config(tmp_path / "project")  # leaflets that say VOORBEELD are never sent
    port = free_port()
    configure(tmp_path, port=port, ca_file=ca[1])
    monkeypatch.setenv(PASSWORD_ENV, MAIL_PASSWORD)
    settings.ROOT = tmp_path / "project"
    server = Server(ca[0], port).start()
    yield server
    server.stop()


def sender() -> Client:
    """A secretary who may also send: the two roles, as maak_account gives them."""
    os.environ["LEAFLETPRESS_WACHTWOORD"] = PASSWORD
    try:
        call_command("maak_account", "zender", "--rol", "secretariaat", "--rol", "verzenden",
                     stdout=io.StringIO())  # fmt: skip
    finally:
        del os.environ["LEAFLETPRESS_WACHTWOORD"]
    User.objects.filter(username="zender").update(email="zender@zas.example.org")
    client = Client()
    client.force_login(User.objects.get(username="zender"))
    proof_sent()
    return client


def proof_sent() -> None:
    """As if "Stuur een proef naar mezelf" went out with the settings as they are: the tests
    of the proof itself send a real one (test_week.py)."""
    from leafletpress.web.models import audit
    from leafletpress.web.service import message_settings
    from leafletpress.web.views import PROOF, PROOF_SETTINGS

    audit("zender", PROOF, detail=f"{PROOF_SETTINGS}{message_settings()}; in de tests")


def upload(client: Client, rows: list[str]) -> Any:
    """A day's list (its lines) uploaded as the browser sends it: the answer to the POST."""
    file = io.BytesIO("\n".join(rows).encode())
    file.name = "dag.csv"
    return client.post(reverse("days"), {"lijst": file})


def made_day(client: Client, rows: list[str] = EMAIL_ROWS) -> Day:
    """A list uploaded and made as its check page's first button says: a list of a day
    already made replaces it (test_corrections.py)."""
    upload(client, rows)
    return make_shown(client, Day.objects.latest("created"))


def make_shown(client: Client, day: Day, choice: str = "shown") -> Day:
    """Click the check page's first button (or post ``choice``), and let the worker make it."""
    page = client.get(reverse("day", args=[day.id])).content.decode()
    shown = re.search(r'name="vervangt" value="([^"]*)"', page)
    chosen = (shown[1] if shown else "") if choice == "shown" else choice
    client.post(reverse("day_make", args=[day.id]), {"edition": "a5", "vervangt": chosen})
    work()
    return Day.objects.get(pk=day.pk)


def database_url() -> str:
    return f"sqlite:///{settings_module.DATABASES['default']['NAME']}"


def sent_day(client: Client) -> Day:
    """A day made, then emailed by the worker."""
    day = made_day(client)
    client.post(reverse("day_email_send", args=[day.id]))
    work()
    return day


def work() -> None:
    call_command("db_worker", "--batch", "--no-startup-delay", stdout=io.StringIO())


def test_emailing_a_day_shows_counts_and_the_message_before_anything_leaves(mail_server) -> None:
    client = sender()
    day = made_day(client)
    assert "De folders e-mailen" in client.get(reverse("day", args=[day.id])).content.decode()
    html = client.get(reverse("day_email", args=[day.id])).content.decode()
    assert "<strong>3</strong> te versturen" in html
    assert "<strong>2</strong> zonder geldig e-mailadres" in html
    assert "<strong>0</strong> al verstuurd" in html
    assert "marie.peeters@example.org" in html and "Verstuur 3 e-mails" in html
    assert "Marie Peeters" in html  # the greeting, as the patient will read it
    assert re.search(r"<dt>Bijlage</dt><dd>[^<]+\.pdf \(\d", html)  # the leaflet
    assert mail_server.mailbox.received == []  # looking sends nothing


def test_verstuur_sends_in_the_worker_once_and_each_row_says_so(mail_server) -> None:
    client = sender()
    day = made_day(client)
    client.post(reverse("day_email_send", args=[day.id]))
    client.post(reverse("day_email_send", args=[day.id]))  # a second click: nothing more
    assert Mailing.objects.count() == 1
    work()
    assert sorted(m["To"] for m in mail_server.mailbox.received) == sorted(
        ["marie.peeters@example.org", "helene@example.org", "john.smith@example.org"]
    )
    mailing = Mailing.objects.get()
    assert mailing.status == Mailing.DONE and mailing.counts["sent"] == 3, mailing.stopped
    html = client.get(reverse("day_email", args=[day.id])).content.decode()
    assert html.count("<td>verstuurd</td>") == 3 and "<strong>3</strong> al verstuurd" in html
    assert html.count("<td>niet te versturen</td>") == 2 and "Verstuur 3" not in html
    client.post(reverse("day_email_send", args=[day.id]))  # sending again sends nothing
    work()
    assert len(mail_server.mailbox.received) == 3
    sent = AuditEvent.objects.filter(action="folder gemaild")
    assert sorted(sent.values_list("reference", flat=True)) == ["PAT-1", "PAT-2", "PAT-3"]


def test_the_email_page_shows_the_new_counts_when_the_run_ends(mail_server) -> None:
    """It said "12 verstuurd" above "12 te versturen" until reloaded (issue 24, item 15)."""
    client = sender()
    day = made_day(client)
    client.post(reverse("day_email_send", args=[day.id]))
    progress = reverse("day_email_progress", args=[day.id])
    assert "HX-Refresh" not in client.get(progress, headers={"HX-Request": "true"})  # busy
    work()
    assert client.get(progress, headers={"HX-Request": "true"})["HX-Refresh"] == "true"


def test_a_refused_address_shows_in_its_row_from_the_send_log(mail_server) -> None:
    mail_server.mailbox.refuse.add("helene@example.org")
    client = sender()
    day = sent_day(client)
    html = client.get(reverse("day_email", args=[day.id])).content.decode()
    assert "<td>PAT-2</td><td>geweigerd door de mailserver</td>" in html
    assert "1 geweigerd" in html


def test_a_server_that_is_down_stops_the_sending_with_a_reason(mail_server, settings, ca) -> None:
    configure(settings.ROOT.parent, port=free_port(), ca_file=ca[1])  # nobody listens there
    client = sender()
    day = sent_day(client)
    mailing = Mailing.objects.get()
    assert mailing.status == Mailing.FAILED and mailing.stopped
    html = client.get(reverse("day_email", args=[day.id])).content.decode()
    assert "Het versturen stopte" in html and "Verstuur 3 e-mails" in html  # try again


def test_only_a_sender_sees_the_button_and_example_settings_send_nothing(data) -> None:
    secretary = signed_in("secretariaat")
    day = made_day(secretary)
    assert (
        "De folders e-mailen" not in secretary.get(reverse("day", args=[day.id])).content.decode()
    )
    assert secretary.get(reverse("day_email", args=[day.id])).status_code == 403
    assert secretary.post(reverse("day_email_send", args=[day.id])).status_code == 403
    html = sender().get(reverse("day_email", args=[day.id])).content.decode()
    assert "voorbeeldgegevens" in html and "Verstuur 3" not in html  # config/email.yaml: example
    assert "De folders dragen nog ‘VOORBEELD’" in html, "and the leaflets say so"


# --- the audit page (beheer) ----------------------------------------------------------------


@pytest.fixture
def history(data) -> None:
    """Events over three days, by two accounts, as the app writes them."""
    at = [("2026-11-28 09:00", "anna", "folder gemaakt", "PAT-1"),
          ("2026-11-29 23:30", "anna", "folder gedownload", "PAT-1"),  # 23:30 in Brussels
          ("2026-11-30 08:15", "bert", "folder gemaakt", "PAT-2"),
          ("2026-11-30 10:00", "=HYPERLINK(\"http://x\")", "lijst opgeladen", "")]  # fmt: skip
    for moment, user, action, reference in at:
        with time_machine.travel(datetime.fromisoformat(moment).replace(tzinfo=BRUSSELS)):
            AuditEvent.objects.create(user=user, action=action, reference=reference,
                                      detail="+32 3 000 00 00")  # fmt: skip


BRUSSELS = zoneinfo.ZoneInfo("Europe/Brussels")

# (filters, the references and actions of the events shown, newest first)
AUDIT_FILTERS = [
    ({}, ["lijst opgeladen", "PAT-2", "PAT-1", "PAT-1"]),
    ({"van": "29/11/2026", "tot": "29/11/2026"}, ["PAT-1"]),  # a whole day, Brussels time
    ({"van": "2026-11-30"}, ["lijst opgeladen", "PAT-2"]),
    ({"account": "anna"}, ["PAT-1", "PAT-1"]),
    ({"actie": "folder gemaakt"}, ["PAT-2", "PAT-1"]),
    ({"referentie": "PAT-1", "actie": "folder gedownload"}, ["PAT-1"]),
    ({"referentie": "PAT-9"}, []),
]


@pytest.mark.parametrize(("filters", "expected"), AUDIT_FILTERS)
def test_the_audit_page_filters_by_period_account_action_and_reference(
    history, filters, expected
) -> None:
    response = signed_in("beheer").post(reverse("audit"), filters)
    assert response.status_code == 200
    shown = [e.reference or e.action for e in response.context["events"]
             if e.user not in ("beheer", "systeem")]  # fmt: skip
    assert shown == expected


@pytest.mark.parametrize(("filters", "message"), [
    ({"van": "31/02/2026"}, "geen bestaande dag: schrijf ze als 31/12/2026"),
    ({"van": "30/11/2026", "tot": "28/11/2026"}, "‘tot en met’ ligt vóór ‘van’"),
    ({"actie": "iets anders"}, "kies een actie uit de lijst"),
])  # fmt: skip
def test_a_wrong_filter_is_named_in_dutch(history, filters, message) -> None:
    response = signed_in("beheer").post(reverse("audit"), filters)
    assert response.status_code == 400, response.context["form"].errors
    assert message in response.content.decode(), response.context["form"].errors


def test_the_action_filter_lists_each_action_once(history) -> None:
    """It listed an action once per event (issue 24, item 16)."""
    page = signed_in("beheer").get(reverse("audit")).content.decode()
    options = re.findall(r'<option value="([^"]+)"', page)
    assert options.count("folder gemaakt") == 1 and len(options) == len(set(options))


def test_the_audit_export_is_a_formula_safe_csv_and_is_itself_audited(history) -> None:
    filters = {"van": "30/11/2026", "tot": "30/11/2026", "exporteer": ""}
    response = signed_in("beheer").post(reverse("audit"), filters)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["wanneer", "account", "account-id", "actie", "referentie", "folder",
                       "details", "dienst", "over de referenties"]  # fmt: skip
    assert [row[3] for row in rows[1:]] == ["lijst opgeladen", "folder gemaakt"]
    assert rows[1][1] == '\'=HYPERLINK("http://x")' and rows[1][6] == "'+32 3 000 00 00"
    assert rows[2][0] == "2026-11-30T08:15:00+01:00"
    exported = AuditEvent.objects.get(action="auditlog geëxporteerd")
    assert exported.user == "beheer" and exported.detail == "van 2026-11-30, tot 2026-11-30"


def test_who_printed_or_saw_a_patient_finds_the_events_of_a_whole_day(data) -> None:
    """A day made and its print files downloaded named no reference: the filter by
    reference missed them (issue 23, F6)."""
    client = signed_in("secretariaat")
    day = made_day(client, ROWS[:4])  # PAT-1 and PAT-2 at Cadix, PAT-3 at Palfijn
    prints = [item["name"] for item in day.outcome["print_files"]]
    client.get(f"/dag/{day.id}/afdruk/{prints.index('print-cadix.pdf')}")
    client.get(f"/dag/{day.id}/manifest/0")
    beheer = signed_in("beheer")

    def about(reference: str) -> list[list[str]]:
        response = beheer.post(reverse("audit"), {"referentie": reference, "exporteer": ""})
        text = response.content.decode("utf-8-sig")
        return list(csv.reader(io.StringIO(text), delimiter=";"))[1:]

    rows = about("PAT-2")
    assert [row[3] for row in rows] == [
        "manifest gedownload", "afdruk gedownload", "dag klaar", "dag gestart"]  # fmt: skip
    assert rows[1][8] == "PAT-1 PAT-2", "the print file of Cadix: its two patients"
    assert rows[1][2] == str(User.objects.get(username="secretariaat").pk)
    assert [row[3] for row in about("PAT-3")] == [
        "manifest gedownload", "dag klaar", "dag gestart"]  # fmt: skip
    assert about("PAT-") == [] and about("pat-2") == [], "a reference is matched whole, as typed"


def test_a_name_or_date_typed_as_a_reference_never_reaches_the_audit_log(data) -> None:
    """The check page's refused rows named their raw reference cells in the kept audit log:
    a name, a birth date (the review of issue 23)."""
    client = signed_in("secretariaat")
    rows = [*ROWS[:2], ROWS[2].replace("PAT-2", "Çelik-O'Brien"),
            ROWS[3].replace("PAT-3", "23/04/1961").replace("claes", "niemand"),
            ROWS[4].replace("cadix", "nergens")]  # fmt: skip
    upload(client, rows)
    day = Day.objects.get()
    client.get(reverse("day", args=[day.id]))
    event = AuditEvent.objects.get(action="dag bekeken")
    assert event.covered == [] and event.detail.endswith("rijen met fouten getoond: 3, 4, 5")


def test_the_export_holds_every_match_beyond_what_the_page_shows(data) -> None:
    AuditEvent.objects.bulk_create(AuditEvent(user="x", action="test") for _ in range(600))
    client = signed_in("beheer")
    assert "de nieuwste 500 hieronder" in client.get(reverse("audit")).content.decode()
    response = client.post(reverse("audit"), {"actie": "test", "exporteer": ""})
    assert response.content.decode("utf-8-sig").count("\r\n") == 601


def test_nothing_in_the_app_edits_or_deletes_the_audit_log(data) -> None:
    client = signed_in("beheer")
    event = AuditEvent.objects.create(user="x", action="test")
    for url in (f"/beheer/web/auditevent/{event.id}/change/",
                f"/beheer/web/auditevent/{event.id}/delete/"):  # fmt: skip
        client.post(url, {"post": "yes", "user": "y", "action": "y"})
    assert AuditEvent.objects.filter(user="x", action="test").count() == 1
    changelist = client.get("/beheer/web/auditevent/").content.decode()
    assert "delete_selected" not in changelist


def test_a_list_is_checked_once_for_its_page_and_previews(data, monkeypatch) -> None:
    """Every view read and planned the list again (issue 23, F11): now once per process, as
    long as the list, the content and the date are the same."""
    from leafletpress.web import service

    checks = []
    real = service._check_day
    monkeypatch.setattr(service, "_check_day", lambda *a: checks.append(a) or real(*a))
    client = signed_in("secretariaat")
    upload(client, ROWS[:3])
    day = Day.objects.get()
    page = reverse("day", args=[day.id])
    for url in (page, page, f"/dag/{day.id}/voorbeeld/2.png"):
        assert client.get(url).status_code == 200
    assert len(checks) == 1


def test_making_a_day_checks_its_list_outside_the_write_lock(data, monkeypatch) -> None:
    """The check ran inside the transaction that holds SQLite's write lock, so a slow list made
    every other write fail: sign-ins answered 500, the worker died (issue 23, F19)."""
    from django.db import connection

    from leafletpress.web import service

    inside = []
    real = service.check_day
    spy = lambda *a: inside.append(connection.in_atomic_block) or real(*a)  # noqa: E731
    monkeypatch.setattr(service, "check_day", spy)
    client = signed_in("secretariaat")
    upload(client, ROWS[:3])
    day = Day.objects.get()
    client.post(reverse("day_make", args=[day.id]), {"edition": "a5"})
    assert inside == [False, False] and Day.objects.get().status == Day.QUEUED  # upload, make


def test_a_worker_waits_out_a_locked_database_instead_of_stopping(caplog, data) -> None:
    """A database locked for longer than its timeout ended the worker (issue 23, F19)."""
    from django.db import connection

    connection.close()
    connection.settings_dict["OPTIONS"] = {**connection.settings_dict["OPTIONS"], "timeout": 0.5}
    locker = sqlite3.connect(
        connection.settings_dict["NAME"], isolation_level=None, check_same_thread=False
    )
    locker.execute("BEGIN EXCLUSIVE")
    err = io.StringIO()
    unlock = threading.Timer(2.5, locker.execute, ["COMMIT"])
    unlock.start()
    try:
        call_command("werk", "--", "--batch", "--no-startup-delay", stdout=io.StringIO(),
                     stderr=err)  # fmt: skip
    finally:
        unlock.join()
        locker.close()
        connection.close()
        connection.settings_dict["OPTIONS"]["timeout"] = 20
    assert "de databank is bezet" in caplog.text  # a warning in the log (logs.py)


# --- retention: the clock moves, the calendar does not --------------------------------------


def later(days: float):
    """The clock, ``days`` from now (time_machine: also for the worker in this process)."""
    return time_machine.travel(timezone.now() + timedelta(days=days), tick=False)


def test_patients_files_are_deleted_after_the_retention_period_and_manifests_kept(
    mail_server, document
) -> None:
    client = sender()
    day = sent_day(client)
    with later(6.9):
        call_command("opruimen", stdout=io.StringIO())
    assert document.path.is_file() and day.upload.is_file()  # within the 7 days: all there
    with later(7.1):
        out = io.StringIO()
        call_command("opruimen", stdout=out)
    assert "1 folder(s) en 1 dag(en) gewist" in out.getvalue()
    assert not document.path.exists() and not day.upload.exists()
    left = sorted(p.name for p in day.out_dir.rglob("*") if p.is_file())
    assert left == ["manifest.csv", "manifest.json"]
    recipients = sqlite3.connect(Path(settings_module.SHARED) / "sendlog.sqlite").execute(
        "SELECT recipient FROM attempts").fetchall()  # fmt: skip
    assert len(recipients) == 3 and all(r.startswith("hmac:") for (r,) in recipients)
    assert client.get(reverse("document_pdf", args=[document.id])).status_code == 410
    assert client.get(reverse("document", args=[document.id])).status_code == 410
    assert client.get(f"/dag/{day.id}/folder/0").status_code == 410
    assert client.get(f"/dag/{day.id}/afdruk/0").status_code == 410
    assert client.get(reverse("day_email", args=[day.id])).status_code == 410
    assert client.get(f"/dag/{day.id}/manifest/0").status_code == 200  # kept
    page = client.get(reverse("day", args=[day.id])).content.decode()
    assert "gewist (bewaartermijn)" in page and "print-" not in page
    event = AuditEvent.objects.get(action="opgeruimd")
    assert event.user == "systeem" and "bewaartermijn 7 dagen" in event.detail


def test_never_twice_holds_after_the_retention_period_has_forgotten_the_addresses(
    mail_server,
) -> None:
    """Retention keeps a hash of each address; "never twice" looked for the address itself, so
    a list uploaded again after 7 days emailed every patient again (issue 23, F8)."""
    client = sender()
    sent_day(client)
    assert len(mail_server.mailbox.received) == 3
    with later(7.5):
        call_command("opruimen", stdout=io.StringIO())
        recipients = sqlite3.connect(Path(settings_module.SHARED) / "sendlog.sqlite").execute(
            "SELECT recipient FROM attempts").fetchall()  # fmt: skip
        assert all(r.startswith("hmac:") for (r,) in recipients), "forgotten"
        client.force_login(User.objects.get(username="zender"))  # a week later: a new session
        again = made_day(client)  # the same list, uploaded again
        html = client.get(reverse("day_email", args=[again.id])).content.decode()
        assert (
            "<strong>0</strong> te versturen" in html and "<strong>3</strong> al verstuurd" in html
        )
        client.post(reverse("day_email_send", args=[again.id]))
        work()
    assert len(mail_server.mailbox.received) == 3, "nobody got a leaflet twice"


def test_a_forgotten_address_confirms_no_guess_and_an_old_unkeyed_one_is_keyed(
    mail_server,
) -> None:
    """Retention kept each address as its plain SHA-256: one line confirmed a guess (F10).
    Addresses an older version forgot that way still count for never twice before the next
    run keys them, and after."""
    client = sender()
    sent_day(client)
    log = sqlite3.connect(Path(settings_module.SHARED) / "sendlog.sqlite", isolation_level=None)
    log.create_function("unkeyed", 1, lambda a: "sha256:" + hashlib.sha256(a.encode()).hexdigest())
    log.execute("UPDATE attempts SET recipient = unkeyed(recipient)")
    again = made_day(client)  # as an upgrade found them: not keyed yet
    assert "<strong>3</strong> al verstuurd" in client.get(
        reverse("day_email", args=[again.id])).content.decode()  # fmt: skip
    with later(7.5):
        call_command("opruimen", stdout=io.StringIO())
        kept = [r for (r,) in log.execute("SELECT recipient FROM attempts").fetchall()]
        assert all(r.startswith("hmac:") for r in kept)
        marie = hashlib.sha256(b"marie.peeters@example.org").hexdigest()
        assert not any(marie in r for r in kept), "a guess confirms nothing"
        client.force_login(User.objects.get(username="zender"))
        again = made_day(client)
        client.post(reverse("day_email_send", args=[again.id]))
        work()
    assert len(mail_server.mailbox.received) == 3, "nobody got a leaflet twice"


def test_never_twice_holds_whatever_the_case_of_the_address(mail_server) -> None:
    client = sender()
    sent_day(client)
    shouting = [ROWS[0], *(r.replace("marie.peeters@", "Marie.Peeters@") for r in EMAIL_ROWS[1:])]
    again = made_day(client, shouting)
    html = client.get(reverse("day_email", args=[again.id])).content.decode()
    assert "<strong>0</strong> te versturen" in html
    with later(7.5):
        call_command("opruimen", stdout=io.StringIO())
        client.force_login(User.objects.get(username="zender"))
        again = made_day(client, shouting)
        client.post(reverse("day_email_send", args=[again.id]))
        work()
    assert len(mail_server.mailbox.received) == 3


def test_a_send_log_keyed_with_another_key_sends_nothing(mail_server, tmp_path) -> None:
    """A lost key file, or another machine's, would make every forgotten address new."""
    from leafletpress.common import keyed

    client = sender()
    sent_day(client)
    with later(7.5):
        call_command("opruimen", stdout=io.StringIO())
        keyed.use(lambda: keyed.from_file(tmp_path / "andere-sleutel"))
        client.force_login(User.objects.get(username="zender"))
        again = made_day(client)
        page = client.get(reverse("day_email", args=[again.id])).content.decode()
        assert "met een andere sleutel gemaakt" in page and "LEAFLETPRESS_KEY_FILE" in page
        client.post(reverse("day_email_send", args=[again.id]))
        work()
        out = io.StringIO()
        call_command("opruimen", stdout=out)  # the files go all the same; the log waits
    assert len(mail_server.mailbox.received) == 3, "nothing sent again"
    failed = AuditEvent.objects.get(action="opruimen mislukt")
    assert "verzendlogboek" in failed.detail and "andere sleutel" in failed.detail


def test_patient_data_shown_as_images_is_audited_once_per_session(data) -> None:
    """A day's row previews and a leaflet's page images left no trace (issue 23, F4); a
    preview is for checking only, not for paging through made days."""
    client = signed_in("secretariaat")
    upload(client, ROWS[:3])
    day = Day.objects.latest("created")
    for _ in range(3):
        assert client.get(f"/dag/{day.id}/voorbeeld/2.png").status_code == 200
    assert client.get(f"/dag/{day.id}/voorbeeld/3.png").status_code == 200
    seen = AuditEvent.objects.filter(action="voorbeeld bekeken")
    assert sorted(seen.values_list("reference", "detail")) == [
        ("PAT-1", f"dag {day.id}, rij 2"), ("PAT-2", f"dag {day.id}, rij 3")]  # fmt: skip
    client.post(reverse("day_make", args=[day.id]), {"edition": "a5"})
    work()
    assert client.get(f"/dag/{day.id}/voorbeeld/2.png").status_code == 404, "checking only"
    client.post(reverse("patient"), ONE_PATIENT)
    document = Document.objects.get()
    for page in (1, 2, 1):
        assert client.get(reverse("document_page", args=[document.id, page])).status_code == 200
    shown = AuditEvent.objects.filter(action="folder bekeken", detail="als afbeelding")
    assert list(shown.values_list("reference", flat=True)) == ["PAT-0042"]


def test_a_refused_rows_cells_do_not_outlive_the_retention_period(data) -> None:
    """A name typed in the reference column stayed in the kept manifests (issue 23, F14)."""
    client = signed_in("secretariaat")
    name_as_reference = "Marie Van Den Bossche;Marie Van Den Bossche;12/03/1958;nl;;avn-hip;" \
        "heupprothese;claes;cadix;15/12/2026;9u15"  # fmt: skip
    day = made_day(client, [*ROWS[:2], name_as_reference])
    kept = [p for p in day.out_dir.rglob("manifest.*")]
    assert any("Van Den Bossche" in p.read_text(encoding="utf-8-sig") for p in kept)
    with later(7.5):
        call_command("opruimen", stdout=io.StringIO())
    assert sorted(p.name for p in day.out_dir.rglob("*") if p.is_file()) == [
        "manifest.csv", "manifest.json"]  # fmt: skip
    for path in kept:
        text = path.read_text(encoding="utf-8-sig")
        assert "Bossche" not in text and "gewist na de bewaartermijn" in text, path.name
    manifest = json.loads((day.out_dir.rglob("manifest.json").__next__()).read_text())
    assert [(r["row"], r["status"]) for r in manifest["leaflets"]] == [(2, "made"), (3, "refused")]


def test_an_upload_left_half_received_is_deleted_by_retention(data, settings) -> None:
    """Over 2 MB an upload was spooled to the system's /tmp, kept for ever when the web worker
    died mid-upload (issue 23, F18): now in the data folder, and retention deletes it."""
    from leafletpress.web import settings as configured  # as the app starts, not per test

    assert Path(configured.FILE_UPLOAD_TEMP_DIR).is_relative_to(configured.DATA)
    settings.FILE_UPLOAD_TEMP_DIR = str(data / "tmp")
    (data / "tmp").mkdir(parents=True)
    left, receiving = data / "tmp" / "tmp1.upload", data / "tmp" / "tmp2.upload"
    left.write_text("Referentie;Naam\nPAT-1;Marie Peeters\n")
    receiving.write_text("Referentie;Naam\n")
    os.utime(left, (time.time() - 2 * 86400,) * 2)
    call_command("opruimen", stdout=io.StringIO())
    assert not left.exists() and receiving.exists()


def test_a_day_started_while_the_purge_runs_keeps_its_files_or_loses_them_all(data) -> None:
    """The purge listed a checked day; "Maak" started it before the purge reached it: marked
    deleted, its leaflets stayed on disk for ever (issue 23, F7)."""
    from leafletpress.web import retention

    client = signed_in("secretariaat")
    upload(client, ROWS[:3])
    listed = Day.objects.get()  # as the purge listed it: checked, not started
    client.post(reverse("day_make", args=[listed.id]), {"edition": "a5"})
    assert retention._purge_day(listed) == 0 and not Day.objects.get().purged
    work()
    made = Day.objects.get()
    assert made.status == Day.DONE and made.upload.is_file()

    Day.objects.filter(pk=made.pk).update(purged=timezone.now())  # an older version's race
    with later(7.5):
        call_command("opruimen", stdout=io.StringIO())
    assert not made.upload.exists()
    assert sorted(p.name for p in made.out_dir.rglob("*") if p.is_file()) == [
        "manifest.csv", "manifest.json"]  # fmt: skip


def test_a_day_an_older_version_purged_under_its_worker_fails_and_is_then_cleaned(data) -> None:
    """Left "bezig" and purged by the old race, it was queued again for ever and its files
    were never deleted (the review of issue 23)."""
    client = signed_in("secretariaat")
    upload(client, ROWS[:3])
    day = Day.objects.get()
    client.post(reverse("day_make", args=[day.id]), {"edition": "a5"})
    work()
    Day.objects.filter(pk=day.pk).update(status=Day.RUNNING, purged=timezone.now())
    make_day.call(str(day.id))  # as the watch queues it
    assert Day.objects.get().status == Day.FAILED and "gewist" in Day.objects.get().error
    assert list(days.revive(lambda day: False)) == []
    call_command("opruimen", stdout=io.StringIO())
    assert sorted(p.name for p in day.out_dir.rglob("*") if p.is_file()) == [
        "manifest.csv", "manifest.json"]  # fmt: skip
    assert "Probeer opnieuw" not in client.get(reverse("day", args=[day.id])).content.decode()


def test_a_locked_database_never_loses_the_watch(data) -> None:
    """The watch queued itself again in a `finally` that met the same lock: no watch, no
    retention run until a worker restarted (the review of issue 23)."""
    from django.db import OperationalError, connection

    from leafletpress.web.tasks import watch

    connection.close()
    connection.settings_dict["OPTIONS"] = {**connection.settings_dict["OPTIONS"], "timeout": 0.5}
    locker = sqlite3.connect(
        connection.settings_dict["NAME"], isolation_level=None, check_same_thread=False
    )
    locker.execute("BEGIN EXCLUSIVE")
    unlock = threading.Timer(2.5, locker.execute, ["COMMIT"])
    unlock.start()
    try:
        with pytest.raises(OperationalError):
            watch.call()  # its own work meets the lock; its turn is queued all the same
    finally:
        unlock.join()
        locker.close()
        connection.close()
        connection.settings_dict["OPTIONS"]["timeout"] = 20
    queued = DBTaskResult.objects.filter(task_path="leafletpress.web.tasks.watch", status="READY")
    assert queued.count() == 1


def test_a_purged_day_is_never_made(data) -> None:
    from leafletpress.web import retention

    client = signed_in("secretariaat")
    upload(client, ROWS[:3])
    day = Day.objects.get()
    client.post(reverse("day_make", args=[day.id]), {"edition": "a5"})
    Day.objects.filter(pk=day.pk).update(purged=timezone.now())  # purged with its task queued
    work()
    assert Day.objects.get().status == Day.FAILED and not day.out_dir.exists()
    assert retention._purge_day(Day.objects.get()) == 0


def test_a_list_no_day_holds_is_deleted_after_the_retention_period(data, settings) -> None:
    """An upload that failed after its file was written left the list for ever (second
    review of issue 23)."""
    left = data / "lijsten" / f"{uuid.uuid4()}.csv"
    left.parent.mkdir(parents=True)
    left.write_text("Referentie;Naam\nPAT-1;Marie Peeters\n")
    call_command("opruimen", stdout=io.StringIO())
    assert left.exists(), "within the retention period"
    os.utime(left, (time.time() - 8 * 86400,) * 2)
    call_command("opruimen", stdout=io.StringIO())
    assert not left.exists()


def test_the_worker_purges_daily_and_a_day_in_the_making_is_left_alone(data, settings) -> None:
    settings.RETENTION_DAYS = 3
    client = signed_in("secretariaat")
    busy = made_day(client, EMAIL_ROWS[:2])
    checked_only = io.BytesIO("\n".join(EMAIL_ROWS[:2]).encode())
    checked_only.name = "dag.csv"
    client.post(reverse("days"), {"lijst": checked_only})
    call_command("hervat", stdout=io.StringIO())  # as make serve does: queues the daily run
    Day.objects.filter(pk=busy.pk).update(status=Day.RUNNING)  # as if a worker is making it
    with later(3.5):
        call_command("db_worker", "--batch", "--no-startup-delay", "--queue-name", "default",
                     stdout=io.StringIO())  # fmt: skip
        waiting = DBTaskResult.objects.filter(task_path="leafletpress.web.tasks.clean_up",
                                              status="READY")  # fmt: skip
        assert waiting.count() == 1 and waiting.get().run_after > timezone.now()  # tomorrow
    purged = set(Day.objects.filter(purged__isnull=False).values_list("status", flat=True))
    assert purged == {Day.CHECKED}  # the day being made keeps its files
    assert Day.objects.get(pk=busy.pk).upload.is_file()


def test_machines_sharing_a_folder_must_name_their_one_key_file(tmp_path) -> None:
    """Each machine made a key of its own, silently (second review of issue 23)."""
    env = {k: v for k, v in os.environ.items() if k != "LEAFLETPRESS_KEY_FILE"}
    env |= {"LEAFLETPRESS_SHARED": str(tmp_path / "gedeeld"), "LEAFLETPRESS_DATA": str(tmp_path)}
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env,
                            capture_output=True, text=True)  # fmt: skip
    assert result.returncode != 0 and "zet LEAFLETPRESS_KEY_FILE" in result.stderr


def test_a_retention_outside_3_to_90_days_stops_the_app_with_a_clear_message(tmp_path) -> None:
    env = {**os.environ, "LEAFLETPRESS_RETENTION_DAYS": "120",
           "LEAFLETPRESS_DATA": str(tmp_path)}  # fmt: skip
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env,
                            capture_output=True, text=True)  # fmt: skip
    assert result.returncode != 0
    assert "geef een aantal dagen van 3 tot en met 90" in result.stderr


# --- the hospital's directory: LDAP (slapd on 127.0.0.1) ------------------------------------


@pytest.fixture
def slapd(tmp_path):
    server = Slapd(tmp_path / "slapd").start()
    yield server
    server.stop()


@pytest.fixture
def ldap_sign_in(slapd, settings, data):
    """The app configured from the environment an IT department would give it."""
    for name, value in settings_from(slapd.environment()).items():
        setattr(settings, name, value)
    return slapd


def sign_in(uid: str, password: str | None = None) -> tuple[Client, Any]:
    client = Client()
    password = password or PEOPLE[uid][0]
    response = client.post(reverse("login"), {"username": uid, "password": password})
    return client, response


# (who, the roles their directory groups give)
DIRECTORY_ROLES = [
    ("an.peeters", {"secretariaat"}),
    ("bo.claes", {"secretariaat", "verzenden"}),
    ("cas.wouters", {"beheer"}),
    ("dirk.maes", set()),
]


@pytest.mark.parametrize(("uid", "roles"), DIRECTORY_ROLES)
def test_staff_sign_in_with_the_directory_and_get_the_roles_of_their_groups(
    ldap_sign_in, uid, roles
) -> None:
    client, response = sign_in(uid)
    assert response.status_code == 302 and response["Location"] == reverse("home")
    user = User.objects.get(username=uid)
    assert set(user.groups.values_list("name", flat=True)) == roles
    assert user.email == f"{uid}@zas.be" and not user.has_usable_password()
    assert AuditEvent.objects.filter(user=uid, action="aangemeld").exists()
    expected = 200 if "secretariaat" in roles else 403
    assert client.get(reverse("patient")).status_code == expected


def test_a_wrong_directory_password_is_refused_and_counted(ldap_sign_in) -> None:
    _, response = sign_in("an.peeters", "niet-het-wachtwoord")
    assert response.status_code == 200 and "klopt niet" in response.content.decode()
    assert AuditEvent.objects.filter(action="aanmelden mislukt").count() == 1


def test_leaving_a_group_in_the_directory_takes_the_role_away(ldap_sign_in) -> None:
    sign_in("bo.claes")
    ldap_sign_in.leave("bo.claes", "folders-secretariaat")
    sign_in("bo.claes")
    roles = User.objects.get(username="bo.claes").groups.values_list("name", flat=True)
    assert list(roles) == ["verzenden"]


def test_a_directory_that_does_not_answer_is_named_as_such(ldap_sign_in) -> None:
    ldap_sign_in.stop()
    _, response = sign_in("an.peeters")
    html = response.content.decode()
    assert "De aanmeldserver van het ziekenhuis antwoordt niet" in html and "klopt niet" not in html


def test_local_accounts_still_sign_in_next_to_the_directory(ldap_sign_in) -> None:
    account("beheer")
    _, response = sign_in("beheer", PASSWORD)
    assert response.status_code == 302


@pytest.mark.parametrize(("change", "message"), [
    ({"LEAFLETPRESS_SIGN_IN": "kerberos"}, "kies local, ldap, oidc"),
    ({"LEAFLETPRESS_LDAP_URL": ""}, "zet LEAFLETPRESS_LDAP_URL"),
    ({"LEAFLETPRESS_ROLE_GROUPS": "{secretariaat: x}"}, "geen geldige JSON"),
    ({"LEAFLETPRESS_ROLE_GROUPS": '{"chirurg": "x"}'}, "geef voor één of meer rollen"),
    ({"LEAFLETPRESS_LDAP_GROUP_TYPE": "posix"}, "kies groupOfNames of activeDirectory"),
    ({"LEAFLETPRESS_ROLE_GROUPS": "{}"}, "geef voor één of meer rollen"),
    ({"LEAFLETPRESS_ROLE_GROUPS": '{"beheer": 5}'}, "geef voor één of meer rollen"),
    ({"LEAFLETPRESS_ROLE_GROUPS": '{"beheer": null}'}, "geef voor één of meer rollen"),
    ({"LEAFLETPRESS_ROLE_GROUPS": '{"beheer": {"a": 1}}'}, "geef voor één of meer rollen"),
    ({"LEAFLETPRESS_ROLE_GROUPS": '{"beheer": [" "]}'}, "geef voor één of meer rollen"),
    # A directory or provider in clear text, off this machine (issue 23, F17)
    ({"LEAFLETPRESS_LDAP_URL": "ldap://dc1.zas.be"}, "gebruik ldaps://… of zet"),
    ({"LEAFLETPRESS_SIGN_IN": "oidc", "LEAFLETPRESS_OIDC_ISSUER": "http://login.zas.be/realms/z",
      "LEAFLETPRESS_OIDC_CLIENT_ID": "c", "LEAFLETPRESS_OIDC_CLIENT_SECRET": "s"},
     "zonder https kan wie het adres beantwoordt"),
])  # fmt: skip
def test_a_sign_in_setting_that_is_wrong_stops_the_app_with_a_clear_message(
    slapd, change, message
) -> None:
    with pytest.raises(ImproperlyConfigured, match=message):
        settings_from(slapd.environment() | change)


# --- found by the hostile review of issue 15 ------------------------------------------------


def test_a_list_uploaded_again_does_not_email_anyone_twice(mail_server) -> None:
    client = sender()
    sent_day(client)
    corrected = [
        *EMAIL_ROWS[:4],
        EMAIL_ROWS[4].replace(";;nl;;", ";01/01/1960;nl;jan@example.org;"),
    ]
    again = made_day(client, corrected)  # the usual "fix one row, upload again"
    html = client.get(reverse("day_email", args=[again.id])).content.decode()
    assert "<strong>1</strong> te versturen" in html and "<strong>3</strong> al verstuurd" in html
    client.post(reverse("day_email_send", args=[again.id]))
    work()
    assert sorted(m["To"] for m in mail_server.mailbox.received) == sorted(
        ["marie.peeters@example.org", "helene@example.org", "john.smith@example.org",
         "jan@example.org"]
    )  # fmt: skip


def test_a_sending_whose_worker_died_is_resumed_by_hervat_and_each_message_audited(
    mail_server, data
) -> None:
    client = sender()
    day = made_day(client)
    mail_server.mailbox.answer_after = 1.0  # each message takes a second
    client.post(reverse("day_email_send", args=[day.id]))
    env = os.environ | {"LEAFLETPRESS_DATA": str(data), "LEAFLETPRESS_PROJECT":
                        str(settings_module.ROOT), "DATABASE_URL": database_url()}  # fmt: skip
    worker = subprocess.Popen([sys.executable, "manage.py", "db_worker", "--no-startup-delay",
                               "--interval", "0.1"], cwd=ROOT, env=env)  # fmt: skip
    try:
        for _ in range(300):
            if len(mail_server.mailbox.received) >= 1:
                break
            time.sleep(0.05)
        worker.kill()  # SIGKILL, mid-run
    finally:
        worker.wait()
    arrived = len(mail_server.mailbox.received)
    assert 1 <= arrived < 3
    assert AuditEvent.objects.filter(action="folder gemaild").count() >= arrived - 1
    call_command("hervat", stdout=io.StringIO())
    work()
    received = [m["To"] for m in mail_server.mailbox.received]
    assert Mailing.objects.get().status == Mailing.DONE and sorted(set(received)) == sorted(
        received
    )
    assert len(received) == 3  # the other two sent after the restart, none twice
    audited = AuditEvent.objects.filter(action="folder gemaild").count()
    assert audited >= 2  # the one in hand when the worker died is "onderbroken", not sent
    html = client.get(reverse("day_email", args=[day.id])).content.decode()
    assert html.count("<td>verstuurd</td>") == audited


@pytest.mark.parametrize("value", ["01/01/0001", "0001-01-01", "31/12/9999"])
def test_an_audit_date_out_of_range_is_a_400_never_a_500(history, value) -> None:
    response = signed_in("beheer").post(reverse("audit"), {"van": value, "tot": value})
    assert response.status_code == 400
    assert "een dag tussen 2000 en 2100" in response.content.decode()


@pytest.mark.parametrize("value", ["³", "2", "091", "", "7 "])
def test_a_strange_retention_setting_gets_the_clear_message(tmp_path, value) -> None:
    env = {**os.environ, "LEAFLETPRESS_RETENTION_DAYS": value, "LEAFLETPRESS_DATA": str(tmp_path)}
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env,
                            capture_output=True, text=True)  # fmt: skip
    assert "geef een aantal dagen van 3 tot en met 90" in result.stderr, result.stderr[-500:]


def test_retention_scrubs_every_address_from_the_send_log(mail_server) -> None:
    mail_server.mailbox.refuse.add("helene@example.org")  # the refusal repeats the address
    client = sender()
    sent_day(client)
    with later(7.1):
        call_command("opruimen", stdout=io.StringIO())
    raw = b"".join(p.read_bytes() for p in Path(settings_module.SHARED).rglob("sendlog*"))
    assert b"@example.org" not in raw


def test_retention_skips_a_day_that_is_sending_and_never_deletes_through_a_link(
    mail_server, tmp_path
) -> None:
    client = sender()
    sending, linked = made_day(client), made_day(client, EMAIL_ROWS[:3])
    Mailing.objects.create(day=sending, started_by=User.objects.get(), status=Mailing.RUNNING)
    outside = tmp_path / "elders"
    (outside / "sub").mkdir(parents=True)
    (outside / "sub" / "bewaar.pdf").write_bytes(b"%PDF-")
    shutil.rmtree(linked.out_dir)
    linked.out_dir.symlink_to(outside)
    with later(7.1):
        call_command("opruimen", stdout=io.StringIO())
    assert Day.objects.get(pk=sending.pk).purged is None and sending.upload.is_file()
    assert (outside / "sub" / "bewaar.pdf").is_file()
    assert AuditEvent.objects.filter(action="opruimen mislukt").exists()
    assert client.post(reverse("day_email_send", args=[sending.id])).status_code == 302


def test_one_day_that_cannot_be_purged_stops_neither_the_others_nor_tomorrows_run(data) -> None:
    client = signed_in("secretariaat")
    broken = made_day(client, EMAIL_ROWS[:2])
    fine = made_day(client, [EMAIL_ROWS[0], *EMAIL_ROWS[2:4]])  # other patients: another list
    shutil.rmtree(broken.out_dir)
    broken.out_dir.symlink_to(data)  # a link: refused, and reported
    call_command("hervat", stdout=io.StringIO())
    with later(7.1):
        work()
        waiting = DBTaskResult.objects.filter(task_path="leafletpress.web.tasks.clean_up",
                                              status="READY")  # fmt: skip
        assert waiting.count() == 1
    assert Day.objects.get(pk=fine.pk).purged is not None and not fine.upload.exists()
    assert Day.objects.get(pk=broken.pk).purged is None


@pytest.mark.parametrize("typed", ["an.peeters", "AN.PEETERS"])
def test_a_directory_sign_in_never_enters_a_local_account_of_the_same_name(
    ldap_sign_in, typed
) -> None:
    os.environ["LEAFLETPRESS_WACHTWOORD"] = PASSWORD
    try:  # a local account, made before the directory was connected
        call_command("maak_account", "an.peeters", "--rol", "beheer", stdout=io.StringIO())
    finally:
        del os.environ["LEAFLETPRESS_WACHTWOORD"]
    User.objects.filter(username="an.peeters").update(is_superuser=True)
    _, response = sign_in(typed, PEOPLE["an.peeters"][0])  # the directory's password
    assert response.status_code == 200
    assert "Er bestaat al een account van leafletpress zelf" in response.content.decode()
    local = User.objects.get(username="an.peeters")
    assert local.is_superuser and list(local.groups.values_list("name", flat=True)) == ["beheer"]
    assert sign_in("an.peeters", PASSWORD)[1].status_code == 302  # its own password still


def test_a_directory_that_hangs_never_holds_up_a_local_sign_in(ldap_sign_in) -> None:
    account("beheer")
    ldap_sign_in.process.send_signal(signal.SIGSTOP)  # accepts connections, never answers
    try:
        with ThreadPoolExecutor(1) as pool:
            signing = pool.submit(sign_in, "beheer", PASSWORD)
            assert signing.result(timeout=30)[1].status_code == 302
    finally:
        ldap_sign_in.process.send_signal(signal.SIGCONT)


# (claims from the provider, the account name, or "" when refused)
OIDC_NAMES = [
    ({"preferred_username": "bo.claes", "email": "bo@zas.be"}, "bo.claes"),
    ({"preferred_username": "  ", "email": "bo@zas.be", "email_verified": True}, "bo@zas.be"),
    ({"email": "bo@zas.be", "email_verified": False}, ""),  # an address nobody checked
    ({"email": "bo@zas.be"}, ""),
    ({"preferred_username": "x" * 151}, ""),  # too long to be told apart
]


@pytest.mark.parametrize(("claims", "expected"), OIDC_NAMES)
def test_an_openid_account_is_named_only_by_what_the_provider_vouches_for(claims, expected) -> None:
    assert OIDCBackend.get_username(OIDCBackend.__new__(OIDCBackend), claims) == expected


@pytest.mark.parametrize(("claim", "groups"), [
    ("ict-beheer", ["ict-beheer"]), (["ict-beheer ", None, 5, ["x"]], ["ict-beheer"]),
    (5, []), (None, []), ({"a": 1}, []),
])  # fmt: skip
def test_a_groups_claim_of_any_shape_gives_names_or_nothing(claim, groups) -> None:
    assert directory_groups(claim) == groups


def test_an_openid_sign_in_never_enters_a_local_account_and_never_makes_a_superuser(
    data, settings
) -> None:
    settings.ROLE_GROUPS = {"beheer": ["ict-beheer"]}
    admin = account("beheer")
    backend = OIDCBackend.__new__(OIDCBackend)
    backend.UserModel = User
    claims = {"preferred_username": "BEHEER", "groups": ["ict-beheer"], "sub": "a1"}
    assert backend.update_user(backend.filter_users_by_claims(claims).get(), claims) is None
    new = backend.create_user({"preferred_username": "cas", "groups": ["ict-beheer"], "sub": "c1"})
    assert not new.is_superuser and new.is_staff and not new.has_usable_password()
    assert admin.has_usable_password()


def test_an_openid_name_given_to_another_person_never_enters_the_first_ones_account(
    data, settings
) -> None:
    """Accounts were matched by name only: a new "JDoe" entered the old jdoe's account."""
    settings.ROLE_GROUPS = {"secretariaat": ["folders"]}
    backend = OIDCBackend.__new__(OIDCBackend)
    backend.UserModel = User
    first = backend.create_user({"preferred_username": "jdoe", "groups": ["folders"], "sub": "s1"})
    assert first is not None
    again = {"preferred_username": "jdoe", "groups": ["folders"], "sub": "s1"}
    assert backend.update_user(backend.filter_users_by_claims(again).get(), again) == first
    other = {"preferred_username": "JDoe", "groups": ["folders"], "sub": "z9"}
    assert backend.update_user(backend.filter_users_by_claims(other).get(), other) is None


def test_an_openid_provider_that_is_down_stops_nothing_but_its_own_button(data, settings) -> None:
    for name, value in settings_from({
        "LEAFLETPRESS_SIGN_IN": "oidc", "LEAFLETPRESS_OIDC_ISSUER": f"http://127.0.0.1:{free_port()}",
        "LEAFLETPRESS_OIDC_CLIENT_ID": "x", "LEAFLETPRESS_OIDC_CLIENT_SECRET": "y",
        "LEAFLETPRESS_ROLE_GROUPS": '{"beheer": "ict-beheer"}',
    }).items():  # fmt: skip
        setattr(settings, name, value)
    account("beheer")
    assert sign_in("beheer", PASSWORD)[1].status_code == 302  # local accounts sign in
    response = Client().get(reverse("oidc_authentication_init"))
    assert response.status_code == 503
    assert "De aanmeldserver van het ziekenhuis antwoordt niet" in response.content.decode()


def stuck_day(client: Client, rows: int = 30) -> Day:
    """A day being made whose worker died: its parts cut, one held by a process long gone."""
    upload(client, [clinic_day(rows, date.today() + timedelta(days=30))])
    day = Day.objects.latest("created")
    client.post(reverse("day_make", args=[day.id]), {"edition": "a5"})
    DBTaskResult.objects.all().delete()  # the worker that took the task is gone with it
    Day.objects.filter(pk=day.pk).update(status=Day.RUNNING)
    days.cut(days.Work.of(Day.objects.get(pk=day.pk)))
    gone = timezone.now() - timedelta(hours=1)
    DayPart.objects.filter(day=day, number=0).update(status=DayPart.BUSY, worker="weg:1",
                                                     heartbeat=gone)  # fmt: skip
    return day


def test_a_day_whose_workers_all_stopped_is_picked_up_by_the_watch(data) -> None:
    day = stuck_day(signed_in("secretariaat"))
    keep_watching()  # as `manage.py werk` does when a worker starts
    DBTaskResult.objects.filter(task_path="leafletpress.web.tasks.watch").update(
        run_after=timezone.now()
    )  # its turn has come
    work()
    day = Day.objects.get(pk=day.pk)
    assert day.status == Day.DONE and day.outcome["counts"] == {"made": 30}, day.error
    assert DBTaskResult.objects.filter(task_path="leafletpress.web.tasks.watch",
                                       status="READY").count() == 1  # fmt: skip


def test_a_worker_asked_to_stop_hands_its_part_back_at_once(data) -> None:
    client = signed_in("secretariaat")
    upload(client, [clinic_day(40, date.today() + timedelta(days=30))])
    day = Day.objects.get()
    client.post(reverse("day_make", args=[day.id]), {"edition": "a5"})
    env = os.environ | {"LEAFLETPRESS_DATA": str(data), "DATABASE_URL": database_url()}
    worker = subprocess.Popen([sys.executable, "manage.py", "werk", "--", "--interval", "0.1",
                               "--no-startup-delay"], cwd=ROOT, env=env)  # fmt: skip
    try:
        for _ in range(1200):
            if DayPart.objects.filter(day=day, status=DayPart.BUSY, done__gt=0).exists():
                break
            time.sleep(0.05)
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=60) == 0  # between two leaflets, not after the day
    finally:
        worker.kill()
    assert not DayPart.objects.filter(day=day, status=DayPart.BUSY).exists()  # handed back
    work()
    assert Day.objects.get().outcome["counts"] == {"made": 40}


def test_a_failed_day_stops_its_other_workers_and_can_be_tried_again(data) -> None:
    client = signed_in("secretariaat")
    day = stuck_day(client, 20)
    Day.objects.filter(pk=day.pk).update(status=Day.FAILED, error="schijf vol")
    make_day.call(str(day.id))  # a worker that comes by makes nothing of a failed day
    assert not DayPart.objects.filter(day=day, status=DayPart.DONE).exists()
    page = client.get(reverse("day", args=[day.id])).content.decode()
    assert "schijf vol" in page and "Probeer opnieuw" in page
    client.post(reverse("day_make", args=[day.id]))
    work()
    assert Day.objects.get(pk=day.pk).outcome["counts"] == {"made": 20}
