"""A secretary's week after the first pass of a day (issue 24): a corrected list replaces the
earlier upload and makes only what changed, a second leaflet for one patient and day is named
before anything is made, and every leaflet is found again by reference or name. In-process,
with the real worker and a real SMTP server on 127.0.0.1."""

from __future__ import annotations

import io
import json
import re
from datetime import timedelta

import pypdf
import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from mailserver import ROWS
from test_web import (  # noqa: F401  (data and mail_server: fixtures)
    ONE_PATIENT,
    data,
    made_day,
    mail_server,
    sender,
    signed_in,
    upload,
    work,
)

from leafletpress.web.models import AuditEvent, Day, PatientLeaflet
from leafletpress.web.retention import purge

pytestmark = pytest.mark.django_db(transaction=True)

# The corrected list of ROWS: PAT-1 at 11:00 instead of 8:00, PAT-3 gone, PAT-6 new, PAT-5's
# address corrected (its leaflet stays as it was).
CORRECTED = [
    ROWS[0],
    ROWS[1].replace(";8u00", ";11u00"),
    ROWS[2],
    ROWS[4],
    ROWS[5].replace("tom.aerts(at)example", "tom.aerts@example.org"),
    "PAT-6;Els Wouters;01/01/1980;nl;els@example.org;avn-hip;heupprothese;claes;cadix;15/12/2026;10u30",  # noqa: E501
]


def corrected_day(client: Client) -> tuple[Day, Day]:
    """ROWS made and emailed; then the corrected list uploaded (checked, not made)."""
    first = made_day(client)
    client.post(reverse("day_email_send", args=[first.id]))
    work()
    upload(client, CORRECTED)
    return first, Day.objects.latest("created")


@pytest.mark.usefixtures("mail_server")
def test_a_corrected_list_says_what_changed_against_the_earlier_upload() -> None:
    client = sender()
    _, second = corrected_day(client)
    html = client.get(reverse("day", args=[second.id])).content.decode()
    assert "Verbeterde lijst: vervangt de lijst van" in html
    assert "2 rijen gewijzigd; 1 nieuwe rij; 1 rij weg; 2 rijen ongewijzigd" in html
    assert "Rij 2 (PAT-1): uur 08:00 → 11:00" in html
    assert "Rij 5 (PAT-5): e-mailadres gewijzigd" in html  # said, never shown
    assert "tom.aerts@example.org" not in html
    assert "Rij 6 (PAT-6): nieuw" in html
    assert "Weg: rij 4 van de vorige lijst (PAT-3)" in html
    assert "Vervang de vorige lijst: maak 2 nieuwe of gewijzigde folders" in html


@pytest.mark.usefixtures("mail_server")
def test_a_corrected_list_replaces_the_day_and_makes_only_what_changed() -> None:
    client = sender()
    first, second = corrected_day(client)
    folder = first.out_dir / "2026-12-15"
    kept = folder / "PAT-2_0830_avn-hip-osteotomie-fr.pdf"
    before = kept.stat().st_mtime_ns
    client.post(reverse("day_make", args=[second.id]), {"edition": "a5", "vervangt": first.id})
    work()
    second.refresh_from_db()
    assert second.status == Day.DONE and second.replaces_id == first.id
    assert second.out_dir == first.out_dir  # no second day: the same folder, corrected
    assert second.outcome["counts"] == {"made": 2, "unchanged": 3}
    assert kept.stat().st_mtime_ns == before  # an unchanged leaflet is not made again
    assert sorted(p.name for p in folder.glob("*.pdf")) == [
        "PAT-1_1100_avn-hip-heupprothese.pdf", "PAT-2_0830_avn-hip-osteotomie-fr.pdf",
        "PAT-4_0930_avn-hip-heupprothese.pdf", "PAT-5_1000_avn-hip-heupprothese.pdf",
        "PAT-6_1030_avn-hip-heupprothese.pdf",
    ]  # fmt: skip  # PAT-1 at 8:00 and PAT-3 are gone
    manifest = json.loads((folder / str(second.id) / "manifest.json").read_text())
    only = [p for p in manifest["print_files"] if p.get("changes_only")]
    assert [p["file"] for p in only] == ["print-cadix-wijzigingen.pdf"]
    assert not (folder / str(first.id)).exists()  # the replaced list's print files and manifest
    names = [f["name"] for f in second.outcome["print_files"]]
    number = names.index("print-cadix-wijzigingen.pdf")
    answer = client.get(reverse("day_file", args=[second.id, "afdruk", number]))
    assert "2026-12-15 ZAS Cadix afdruk wijzigingen.pdf" in answer["Content-Disposition"]
    pdf = pypdf.PdfReader(folder / str(second.id) / "print-cadix-wijzigingen.pdf")
    text = " ".join(page.extract_text() for page in pdf.pages)
    assert "Els Wouters" in text and "Marie Peeters" in text and "Jan Janssens" not in text
    page = client.get(reverse("day", args=[second.id])).content.decode()
    assert "2 folders gemaakt, 3 ongewijzigd uit de vorige lijst" in page
    assert "Rij 2 (PAT-1): uur 08:00 → 11:00" in page  # the made day keeps what changed
    old = client.get(reverse("day", args=[first.id])).content.decode()
    assert "Deze lijst werd vervangen door een verbeterde lijst" in old


def test_a_changed_appointment_is_emailed_once_saying_so_and_an_unchanged_one_never(
    smtp,
) -> None:
    client = sender()
    first, second = corrected_day(client)
    assert len(smtp.mailbox.received) == 3  # PAT-1, PAT-2 and PAT-3
    client.post(reverse("day_make", args=[second.id]), {"edition": "a5", "vervangt": first.id})
    work()
    client.post(reverse("day_email_send", args=[second.id]))
    work()
    new = {m["To"]: m["Subject"] for m in smtp.mailbox.received[3:]}
    assert sorted(new) == ["els@example.org", "marie.peeters@example.org", "tom.aerts@example.org"]
    assert new["marie.peeters@example.org"].startswith("Je afspraak is gewijzigd – ")
    changed = next(m for m in smtp.mailbox.received[3:] if m["To"].startswith("marie"))
    assert "Je afspraak is gewijzigd. Deze folder vervangt de vorige" in str(changed)
    assert "om 11:00" in str(changed) or "om 11.00" in str(changed)
    assert not new["els@example.org"].startswith("Je afspraak")  # new: her first message
    assert not new["tom.aerts@example.org"].startswith("Je afspraak")  # never reached before
    client.post(reverse("day_email_send", args=[second.id]))  # again: nothing more
    work()
    assert len(smtp.mailbox.received) == 6


@pytest.mark.usefixtures("mail_server")
def test_the_days_folder_is_kept_while_its_correction_is() -> None:
    client = sender()
    first, second = corrected_day(client)
    client.post(reverse("day_make", args=[second.id]), {"edition": "a5", "vervangt": first.id})
    work()
    long_ago = timezone.now() - timedelta(days=400)
    Day.objects.filter(pk=first.pk).update(created=long_ago)
    purge()
    first.refresh_from_db()
    assert first.purged and not first.upload.exists()
    second.refresh_from_db()
    assert (second.out_dir / "2026-12-15" / "PAT-6_1030_avn-hip-heupprothese.pdf").is_file()
    assert not PatientLeaflet.objects.filter(day=first).exists()
    Day.objects.filter(pk=second.pk).update(created=long_ago)
    purge()
    assert not list(second.out_dir.rglob("*.pdf"))


def test_a_patient_with_a_leaflet_for_that_day_is_named_before_anything_is_made() -> None:
    client = signed_in("secretariaat")
    made = client.post(reverse("patient"), ONE_PATIENT)
    assert made.status_code == 302
    earlier = made_day(client, ROWS[:4])  # PAT-1, PAT-2 and PAT-3
    rows = [ROWS[0], ROWS[1], ONE_PATIENT_ROW, *OTHERS]  # PAT-1 again, PAT-0042 again
    upload(client, rows)
    day = Day.objects.latest("created")
    html = client.get(reverse("day", args=[day.id])).content.decode()
    assert "2 patiënten hebben al een folder voor die dag" in html
    assert "Rij 2 (PAT-1): " in html and "in de lijst ‘dag.csv’, rij 2" in html
    assert reverse("day", args=[earlier.id]) in html
    assert "Rij 3 (PAT-0042): " in html and "eerder gemaakt met ‘Eén patiënt’" in html
    assert "Verbeterde lijst" not in html  # one patient in common: another list, not a fix


ONE_PATIENT_ROW = "PAT-0042;Marie Peeters;;nl;;avn-hip;heupprothese;claes;cadix;15/12/2026;8u30"
OTHERS = [
    f"PAT-{n};Patiënt {n};;nl;;avn-hip;heupprothese;claes;cadix;15/12/2026;1{n % 8}u00"
    for n in range(10, 14)
]


def test_a_leaflet_is_found_again_by_reference_or_name_from_any_page() -> None:
    client = signed_in("secretariaat")
    client.post(reverse("patient"), ONE_PATIENT)  # Marie Peeters, PAT-0042
    made_day(client, ROWS[:4])  # PAT-1 Marie Peeters, PAT-2 Hélène Dubois, PAT-3 John Smith
    assert 'action="/zoek/"' in client.get(reverse("home")).content.decode()
    found = client.post(reverse("search"), {"zoek": "pat-0042"}).content.decode()
    assert "1 folder gevonden" in found and "Eén patiënt" in found
    found = client.post(reverse("search"), {"zoek": "peeters"}).content.decode()
    assert "2 folders gevonden" in found and "PAT-1" in found and "PAT-0042" in found
    found = client.post(reverse("search"), {"zoek": "helene DUBOIS"}).content.decode()
    assert "1 folder gevonden" in found and "PAT-2" in found  # no accents, any case
    assert (
        "Niets gevonden" in client.post(reverse("search"), {"zoek": "Marie Smith"}).content.decode()
    )
    event = AuditEvent.objects.filter(action="gezocht").order_by("at", "id")[1]
    assert event.covered == ["PAT-0042", "PAT-1"] and "eeters" not in event.detail
    stored = " ".join(str(v) for v in PatientLeaflet.objects.values_list())
    assert "Peeters" not in stored and "peeters" not in stored  # no name, only keyed words


def test_the_search_is_for_the_secretariat_only() -> None:
    client = signed_in("secretariaat")
    client.post(reverse("patient"), ONE_PATIENT)
    assert signed_in("redactie").post(reverse("search"), {"zoek": "PAT-0042"}).status_code == 403
    assert Client().post(reverse("search"), {"zoek": "PAT-0042"}).status_code == 302


def test_the_start_page_lists_her_recent_leaflets_and_lists() -> None:
    client = signed_in("secretariaat")
    client.post(reverse("patient"), ONE_PATIENT)
    made_day(client, ROWS[:3])
    html = client.get(reverse("home")).content.decode()
    assert "Jouw recente folders" in html and "PAT-0042, 15/12/2026 om 08:30" in html
    assert "Jouw recente lijsten" in html and "Afspraken op 15/12/2026" in html


def test_nothing_reaches_a_patient_before_a_proof_to_herself_for_a_made_up_patient(
    smtp, settings
) -> None:
    client = sender()
    AuditEvent.objects.filter(action="proef-e-mail verstuurd").delete()  # as on a new install
    day = made_day(client)
    page = client.get(reverse("day_email", args=[day.id])).content.decode()
    assert "Stuur eerst een proef naar jezelf" in page and "Verstuur 3 e-mails" not in page
    client.post(reverse("day_email_send", args=[day.id]))  # a forged click: nothing starts
    assert not day.mailings.exists() and smtp.mailbox.received == []
    client.post(reverse("day_email_proof", args=[day.id]))
    [proof] = smtp.mailbox.received
    assert proof["To"] == "zender@zas.example.org" and proof["Subject"].startswith("[PROEF] ")
    assert "Beste Proef Patiënt," in proof.get_body().get_content()
    attached = next(proof.iter_attachments()).get_payload(decode=True)
    reader = pypdf.PdfReader(io.BytesIO(attached))
    if reader.is_encrypted:
        reader.decrypt("01011970")
    pdf_text = " ".join(page.extract_text() for page in reader.pages)
    assert "Proef Patiënt" in pdf_text and "Marie Peeters" not in pdf_text
    page = client.get(reverse("day_email", args=[day.id])).content.decode()
    assert "Proef verstuurd naar zender@zas.example.org" in page and "Verstuur 3 e-mails" in page
    (settings.ROOT / "templates/email/nl/body.txt.j2").open("a").write("\nTot binnenkort!\n")
    page = client.get(reverse("day_email", args=[day.id])).content.decode()
    assert "Stuur eerst een proef naar jezelf" in page  # the text changed: a new proof first


def test_a_proof_without_an_address_says_who_can_fix_it(smtp) -> None:
    client = sender()
    day = made_day(client)
    User.objects.filter(username="zender").update(email="")
    client.post(reverse("day_email_proof", args=[day.id]))
    page = client.get(reverse("day_email", args=[day.id])).content.decode()
    assert "De proef kon niet verstuurd worden" in page and "vraag de beheerder" in page
    assert smtp.mailbox.received == []


def test_a_made_day_lists_its_patients_not_its_file_names() -> None:
    client = signed_in("secretariaat")
    day = made_day(client, ROWS[:4])
    page = client.get(reverse("day", args=[day.id])).content.decode()
    assert "Patiënten van de dag (3), in volgorde van het uur" in page
    row = re.search(r"<tr><td>15/12/2026</td><td>08:30</td>.*?</tr>", page)
    assert row and "Hélène Dubois" in row[0] and "PAT-2" in row[0] and "ZAS Cadix" in row[0]
    assert "Avasculaire necrose van de heup: " in row[0] and "(Frans)" in row[0]
    assert "PAT-2_0830_avn-hip" not in page  # no file names
    answer = client.get(reverse("day_file", args=[day.id, "folder", 1]))
    assert answer.status_code == 200
    progress = reverse("day_progress", args=[day.id])
    assert client.get(progress, headers={"HX-Request": "true"})["HX-Refresh"] == "true"


@pytest.mark.usefixtures("mail_server")
def test_one_leaflet_of_a_day_is_changed_from_its_row_and_only_it_is_made_again() -> None:
    """Issue 24, item 6: the form prefilled from the row; the change becomes a corrected
    list of the day, whose check page says what changed, and replacing makes only that one."""
    client = sender()
    first = made_day(client)
    page = client.get(reverse("day", args=[first.id])).content.decode()
    assert reverse("day_row", args=[first.id, 3]) in page  # "Wijzig" on PAT-2's row
    form = client.get(reverse("day_row", args=[first.id, 3])).content.decode()
    assert 'name="cel-time" value="8u30"' in form and '<label for="cel-time">Uur</label>' in form
    cells = dict(re.findall(r'name="(cel-[a-z_]+)" value="([^"]*)"', form))
    answer = client.post(reverse("day_row", args=[first.id, 3]), cells | {"cel-time": "11u15"})
    second = Day.objects.latest("created")
    assert answer["Location"] == reverse("day", args=[second.id])
    assert second.source_name == "dag (rij 3 gewijzigd).csv"
    check = client.get(answer["Location"]).content.decode()
    assert "Rij 3 (PAT-2): uur 08:30 → 11:15" in check and "1 rij gewijzigd; 4 rijen" in check
    page = re.search(r'name="vervangt" value="([^"]*)"', check)
    client.post(reverse("day_make", args=[second.id]), {"edition": "a5", "vervangt": page[1]})
    work()
    second.refresh_from_db()
    assert second.replaces_id == first.id and second.outcome["counts"] == {
        "made": 1,
        "unchanged": 4,
    }
    assert AuditEvent.objects.filter(action="rij gewijzigd", reference="PAT-2").exists()
    folder = first.out_dir / "2026-12-15"
    assert (folder / "PAT-2_1115_avn-hip-osteotomie-fr.pdf").is_file()
    assert not (folder / "PAT-2_0830_avn-hip-osteotomie-fr.pdf").exists()


def test_a_days_leaflet_has_the_one_patient_page_with_its_pages_print_and_download() -> None:
    client = signed_in("secretariaat")
    day = made_day(client, ROWS[:3])
    page = client.get(reverse("day_leaflet", args=[day.id, 3])).content.decode()
    assert "<h1>Folder PAT-2</h1>" in page and "15/12/2026 om 08:30 · ZAS Cadix · Frans" in page
    assert reverse("day_leaflet_page", args=[day.id, 3, 1]) in page
    image = client.get(reverse("day_leaflet_page", args=[day.id, 3, 1]))
    assert image["Content-Type"] == "image/png" and image.content[:4] == b"\x89PNG"
    number = re.search(r'href="/dag/[^/]+/folder/(\d+)\?afdrukken=1"', page)[1]
    opened = client.get(reverse("day_file", args=[day.id, "folder", int(number)]) + "?afdrukken=1")
    assert opened["Content-Disposition"].startswith("inline;")
    assert AuditEvent.objects.filter(action="folder afgedrukt", reference="PAT-2").exists()
    assert client.get(reverse("day_leaflet", args=[day.id, 99])).status_code == 404
    assert signed_in("redactie").get(reverse("day_leaflet", args=[day.id, 3])).status_code == 403
