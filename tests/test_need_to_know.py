"""Need to know (issue 23): with services on, a secretary sees and makes only her services'
leaflets and days, whether her services come from beheer or from the directory's groups; and
what an upload may cost (F13): no list is kept that is not a list, over the account's quota or
the disk's headroom."""

from __future__ import annotations

import io
import os
import re
import shutil
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from helpers import ROOT
from mailserver import ROWS
from test_web import ONE_PATIENT, PASSWORD, account, data, made_day, signed_in, upload  # noqa: F401

from leafletpress.web.models import AuditEvent, Day, Document

pytestmark = pytest.mark.django_db(transaction=True)

ORTHO, CARDIO = "Orthopedie en Traumatologie", "Cardiologie"
# A second leaflet, of another service: the example's, renamed.
CARDIO_ROW = "PAT-9;Karel Hart;01/01/1950;nl;;hart;heupprothese;claes;cadix;15/12/2026;11u00"


@pytest.fixture
def services(settings, tmp_path: Path) -> Path:
    """The example content with a second leaflet (``hart``) of the Cardiologie service."""
    project = tmp_path / "project"
    for name in ("leaflets", "config", "templates", "styles"):
        shutil.copytree(ROOT / name, project / name)
    (project / "leaflets/hart").mkdir()
    for page in (project / "leaflets/avn-hip").glob("*.md"):
        text = re.sub(r"(?m)^service: .*$", f"service: {CARDIO}", page.read_text())
        (project / "leaflets/hart" / page.name).write_text(text.replace("ORT-AVN-01", "CAR-01"))
    settings.ROOT = project
    settings.NEED_TO_KNOW = True
    return project


def staff(name: str, *services: str, role: str = "secretariaat") -> Client:
    os.environ["LEAFLETPRESS_WACHTWOORD"] = PASSWORD
    try:
        dienst = [arg for service in services for arg in ("--dienst", service)]
        call_command("maak_account", name, "--rol", role, *dienst, stdout=io.StringIO())
    finally:
        del os.environ["LEAFLETPRESS_WACHTWOORD"]
    client = Client()
    client.force_login(User.objects.get(username=name))
    return client


def test_a_leaflet_is_seen_only_by_the_services_it_belongs_to(services) -> None:
    ortho, cardio = staff("ortho", ORTHO), staff("cardio", CARDIO)
    both = staff("beide", ORTHO, CARDIO)
    assert ortho.post(reverse("patient"), ONE_PATIENT).status_code == 302
    document = Document.objects.get()
    assert document.service == ORTHO
    for client, expected in ((cardio, 404), (both, 200), (ortho, 200)):
        assert client.get(reverse("document", args=[document.id])).status_code == expected
        assert client.get(reverse("document_pdf", args=[document.id])).status_code == expected
        assert client.get(reverse("document_page", args=[document.id, 1])).status_code == expected
    event = AuditEvent.objects.get(action="folder gemaakt")
    assert event.service == ORTHO and event.reference == "PAT-0042"


def test_the_form_offers_only_the_leaflets_of_ones_services(services) -> None:
    cardio = staff("cardio", CARDIO)
    page = cardio.get(reverse("patient")).content.decode()
    assert 'value="hart"' in page and 'value="avn-hip"' not in page
    response = cardio.post(reverse("patient"), ONE_PATIENT)  # a forged choice
    assert response.status_code == 400 and "hoort niet bij uw dienst" in response.content.decode()
    assert not Document.objects.exists()


def test_a_day_is_seen_only_by_its_services_and_a_mixed_list_is_not_kept(services) -> None:
    ortho, cardio = staff("ortho", ORTHO), staff("cardio", CARDIO)
    mixed = upload(ortho, [*ROWS[:3], CARDIO_ROW])
    html = mixed.content.decode()
    assert mixed.status_code == 403 and "rij 4: dienst Cardiologie" in html
    assert not Day.objects.exists() and not list((services.parent / "data").rglob("lijsten/*"))
    day = made_day(ortho, ROWS[:3])
    assert day.services == [ORTHO] and day.status == Day.DONE
    for url in (reverse("day", args=[day.id]), f"/dag/{day.id}/afdruk/0",
                f"/dag/{day.id}/manifest/0", reverse("day_progress", args=[day.id])):  # fmt: skip
        assert cardio.get(url).status_code == 404, url
        assert ortho.get(url).status_code == 200, url
    assert str(day.id) not in cardio.get(reverse("days")).content.decode()
    assert str(day.id) in ortho.get(reverse("days")).content.decode()
    assert set(AuditEvent.objects.filter(action__startswith="dag").values_list(
        "service", flat=True)) == {ORTHO}  # fmt: skip


def test_a_day_that_names_no_known_leaflet_is_only_its_uploaders(services) -> None:
    """A typo in every leaflet cell made a day of no service, open to every service; once the
    content had that leaflet, another service could make and download it (second review)."""
    ortho, cardio = staff("ortho", ORTHO), staff("cardio", CARDIO)
    assert upload(cardio, [ROWS[0], CARDIO_ROW.replace(";hart;", ";hart2;")]).status_code == 302
    day = Day.objects.get()
    assert day.services == []
    assert ortho.get(reverse("day", args=[day.id])).status_code == 404
    assert str(day.id) not in ortho.get(reverse("days")).content.decode()
    assert cardio.get(reverse("day", args=[day.id])).status_code == 200
    shutil.copytree(services / "leaflets/hart", services / "leaflets/hart2")  # then it exists
    assert ortho.post(reverse("day_make", args=[day.id]), {"edition": "a5"}).status_code == 404
    cardio.post(reverse("day_make", args=[day.id]), {"edition": "a5"})
    assert Day.objects.get().services == [CARDIO] and Day.objects.get().status == Day.QUEUED


def test_redactie_previews_any_leaflet_under_need_to_know(services) -> None:
    editor = staff("redacteur", role="redactie")
    assert 'value="avn-hip"' in editor.get(reverse("patient")).content.decode()
    assert editor.post(reverse("patient"), ONE_PATIENT).status_code == 302


def test_without_need_to_know_the_secretariat_shares_everything(services, settings) -> None:
    settings.NEED_TO_KNOW = False
    ortho, anyone = staff("ortho", ORTHO), staff("iemand")
    ortho.post(reverse("patient"), ONE_PATIENT)
    assert anyone.get(reverse("document", args=[Document.objects.get().id])).status_code == 200


def test_an_unknown_service_makes_no_account(services) -> None:
    with pytest.raises(CommandError, match="onbekende dienst 'Orthopedie': kies uit Cardiologie"):
        staff("ortho", "Orthopedie")
    assert not User.objects.filter(username="ortho").exists()


def test_the_directory_gives_the_services_of_its_groups(services, settings) -> None:
    from leafletpress.web.signin import settings_from, sync_roles

    env = {"LEAFLETPRESS_SERVICE_GROUPS": f'{{"{ORTHO}": "cn=ortho,ou=groepen,dc=zas,dc=be"}}'}
    settings.SERVICE_GROUPS = settings_from(env)["SERVICE_GROUPS"]
    user = User.objects.create_user("an.peeters")
    sync_roles(user, ["CN=ortho, ou=groepen, dc=zas, dc=be"])
    assert set(user.groups.values_list("name", flat=True)) == {f"dienst: {ORTHO}"}
    sync_roles(user, [])  # out of the group: out of the service
    assert not user.groups.exists()


# --- what an upload may cost (F13) ----------------------------------------------------------


def kept_lists(folder: Path) -> list[Path]:
    return sorted((folder / "lijsten").glob("*")) if (folder / "lijsten").is_dir() else []


@pytest.mark.parametrize(
    ("content", "expected"),
    [(b"\x89PNG\r\n\x1a\n" + b"0" * 100, "is een afbeelding, geen lijst"),
     (b"x" * 5000, "een cel is langer dan 1000 tekens"),
     (b"Naam;Folder\nJan;avn-hip\n", "5 kolommen ontbreken")],
)  # fmt: skip
def test_a_file_that_is_no_list_is_refused_before_it_is_kept(data, content, expected) -> None:  # noqa: F811
    response = signed_in("secretariaat").post(reverse("days"), {"lijst": io.BytesIO(content)})
    html = response.content.decode()
    assert response.status_code == 400
    assert "Deze lijst kan niet gelezen worden" in html and expected in html
    assert "De lijst is niet bewaard" in html
    assert not Day.objects.exists() and kept_lists(data) == []


def test_an_account_uploads_at_most_its_daily_quota(data, settings) -> None:  # noqa: F811
    settings.UPLOAD_BYTES_PER_DAY = 500
    client = signed_in("secretariaat")
    assert upload(client, ROWS[:3]).status_code == 302
    refused = upload(client, ROWS[:5])
    assert refused.status_code == 429 and "vandaag al meer dan 0 MB" in refused.content.decode()
    assert Day.objects.count() == 1 and len(kept_lists(data)) == 1


def test_no_list_is_kept_when_the_shared_folder_is_nearly_full(data, settings) -> None:  # noqa: F811
    settings.MIN_FREE_BYTES = shutil.disk_usage("/").total  # more than any disk has free
    response = upload(signed_in("secretariaat"), ROWS[:3])
    assert response.status_code == 507 and "bijna vol" in response.content.decode()
    assert not Day.objects.exists() and kept_lists(data) == []
