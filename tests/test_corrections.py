"""A corrected list as an unlucky or hurried secretary meets it (issue 24, item 2, after a
hostile review): what the check page showed is what is made; a typo never takes a leaflet
away; a day being emailed or made is not replaced under it; a failed correction leaves the
earlier list whole; the patient's last message is always her appointment as it is now."""

from __future__ import annotations

import io
import re

import pytest
from django.test import Client
from django.urls import reverse
from helpers import all_text
from mailserver import ROWS
from test_need_to_know import CARDIO, CARDIO_ROW, ORTHO, services, staff  # noqa: F401
from test_web import data, made_day, mail_server, sender, upload, work  # noqa: F401
from test_web import make_shown as make
from test_week import CORRECTED

from leafletpress.common.errors import OutputError
from leafletpress.web import days, service
from leafletpress.web.models import Day, Mailing

pytestmark = pytest.mark.django_db(transaction=True)

FOLDER = "2026-12-15"
LATER = [CORRECTED[0], ROWS[1].replace(";8u00", ";12u00"), *CORRECTED[2:]]  # PAT-1 at 12:00


def latest() -> Day:
    return Day.objects.latest("created")


def change_row(client: Client, day: Day, row: int, **typed: str) -> None:
    """ "Wijzig" on a day's row: its form sent back with ``typed`` changed (field -> cell)."""
    form = client.get(reverse("day_row", args=[day.id, row])).content.decode()
    cells = dict(re.findall(r'name="(cel-[a-z_]+)" value="([^"]*)"', form))
    client.post(reverse("day_row", args=[day.id, row]),
                cells | {f"cel-{k}": v for k, v in typed.items()})  # fmt: skip


def emailed(client: Client, day: Day) -> None:
    client.post(reverse("day_email_send", args=[day.id]))
    work()


def to(smtp, address: str, after: int = 0) -> list:
    return [m for m in smtp.mailbox.received[after:] if m["To"] == address]


def test_an_appointment_moved_back_is_sent_again_saying_it_changed(smtp) -> None:
    """08:00 sent, then 11:00 ('gewijzigd'), then back to 08:00: the same PDF as the first,
    which the send log once knew as sent; her last message must say 08:00."""
    client = sender()
    first = made_day(client)
    emailed(client, first)
    upload(client, CORRECTED)
    emailed(client, make(client, latest()))
    upload(client, [*CORRECTED[:1], ROWS[1], *CORRECTED[2:]])
    third = make(client, latest())
    before = len(smtp.mailbox.received)
    emailed(client, third)
    [last] = to(smtp, "marie.peeters@example.org", before)
    assert last["Subject"].startswith("Je afspraak is gewijzigd") and "8:00" in str(last)
    emailed(client, third)  # and never twice
    assert len(smtp.mailbox.received) == before + 1


def test_changed_is_said_only_to_who_got_a_leaflet_for_that_day(smtp) -> None:
    client = sender()
    emailed(client, made_day(client, [ROWS[0], ROWS[1].replace("15/12/2026", "10/12/2026")]))
    made_day(client)  # 15/12, not emailed
    upload(client, CORRECTED)
    second = make(client, latest())
    before = len(smtp.mailbox.received)
    emailed(client, second)
    [marie] = to(smtp, "marie.peeters@example.org", before)
    assert not marie["Subject"].startswith("Je afspraak is gewijzigd")  # 10/12 was another


@pytest.mark.usefixtures("mail_server")
def test_a_list_checked_while_another_of_that_day_is_made_waits_and_a_stale_click_makes_nothing():
    client = sender()
    upload(client, ROWS)
    first = latest()
    client.post(reverse("day_make", args=[first.id]), {"edition": "a5", "vervangt": ""})
    upload(client, CORRECTED)  # checked while the first is still in the queue
    second = latest()
    page = client.get(reverse("day", args=[second.id])).content.decode()
    assert "Een andere lijst van die dag wordt nu gemaakt" in page and "Maak 5" not in page
    work()  # the first is made meanwhile; her page still said nothing about replacing it
    client.post(reverse("day_make", args=[second.id]), {"edition": "a5", "vervangt": ""})
    assert Day.objects.get(pk=second.pk).status == Day.CHECKED  # nothing made
    page = client.get(reverse("day", args=[second.id])).content.decode()
    assert "Er is nog niets gemaakt" in page and "Weg: rij 4 van de vorige lijst (PAT-3)" in page
    assert (first.out_dir / FOLDER / "PAT-3_0900_avn-hip-decompressie-en.pdf").is_file()


@pytest.mark.usefixtures("mail_server")
def test_she_may_make_a_shorter_list_beside_the_earlier_one() -> None:
    client = sender()
    first = made_day(client, ROWS[:4])  # PAT-1, PAT-2 and PAT-3
    upload(client, [ROWS[0], ROWS[1].replace(";8u00", ";11u00"), ROWS[2]])
    page = client.get(reverse("day", args=[latest().id])).content.decode()
    assert "Weg: rij 4 van de vorige lijst (PAT-3)" in page
    assert "Maak als aparte lijst (2 folders; de vorige blijft)" in page
    second = make(client, latest(), choice="los")
    assert second.status == Day.DONE and second.replaces is None
    assert second.out_dir != first.out_dir
    assert (first.out_dir / FOLDER / "PAT-3_0900_avn-hip-decompressie-en.pdf").is_file()


@pytest.mark.usefixtures("mail_server")
def test_two_corrections_made_in_either_order_leave_one_list() -> None:
    client = sender()
    first = made_day(client)
    upload(client, CORRECTED)
    b = latest()
    upload(client, LATER)
    c = make(client, latest())
    assert c.replaces_id == first.id
    page = client.get(reverse("day", args=[b.id])).content.decode()
    assert "Rij 2 (PAT-1): uur 12:00 → 11:00" in page  # against the list made last
    b = make(client, b)
    assert b.replaces_id == c.id and b.out_dir == first.out_dir
    assert sorted(p.name for p in (first.out_dir / FOLDER).glob("PAT-1_*")) == [
        "PAT-1_1100_avn-hip-heupprothese.pdf"
    ]


@pytest.mark.usefixtures("mail_server")
def test_a_typo_in_the_corrected_list_never_takes_a_patients_leaflet_away() -> None:
    client = sender()
    first = made_day(client)
    kept = first.out_dir / FOLDER / "PAT-2_0830_avn-hip-osteotomie-fr.pdf"
    upload(client, [ROWS[0], ROWS[1], ROWS[2].replace(";cadix;", ";cadixx;"), *ROWS[3:]])
    page = client.get(reverse("day", args=[latest().id])).content.decode()
    assert "Rij 3 van de vorige lijst (PAT-2) heeft nu een fout" in page
    second = make(client, latest())
    assert second.replaces_id == first.id and kept.is_file()
    assert second.outcome["refused"][0]["row"] == 3  # on the start page until dealt with


@pytest.mark.usefixtures("mail_server")
def test_a_day_being_emailed_is_not_replaced_and_a_replaced_day_is_not_emailed() -> None:
    client = sender()
    first = made_day(client)
    sending = Mailing.objects.create(day=first, started_by=first.made_by, status=Mailing.RUNNING)
    upload(client, CORRECTED)
    second = make(client, latest())
    assert second.status == Day.CHECKED and (first.out_dir / FOLDER / str(first.id)).is_dir()
    assert "wordt nu gemaild" in client.get(reverse("day", args=[second.id])).content.decode()
    Mailing.objects.filter(pk=sending.pk).update(status=Mailing.DONE)
    second = make(client, second)
    assert second.replaces_id == first.id
    answer = client.get(reverse("day_email", args=[first.id]))  # a tab left open
    assert answer["Location"] == reverse("day_email", args=[second.id])
    client.post(reverse("day_email_send", args=[first.id]))
    assert first.mailings.count() == 1  # nothing new started for the replaced list


@pytest.mark.usefixtures("mail_server")
def test_a_failed_correction_leaves_the_earlier_list_whole(monkeypatch) -> None:
    client = sender()
    first = made_day(client)
    upload(client, CORRECTED)

    def full_disk(*args, **kwargs):
        raise OutputError("de schijf is vol")

    monkeypatch.setattr(days, "run_batch", full_disk)  # the real one fails the same way
    second = make(client, latest())
    assert second.status == Day.FAILED
    names = [f["name"] for f in first.outcome["print_files"]]
    answer = client.get(
        reverse("day_file", args=[first.id, "afdruk", names.index("print-cadix.pdf")])
    )
    assert answer.status_code == 200  # its print files and manifest are still there


@pytest.mark.usefixtures("mail_server")
def test_the_earlier_list_is_found_however_many_days_were_made_since() -> None:
    client = sender()
    first = made_day(client)
    Day.objects.bulk_create(
        Day(made_by=first.made_by, source_name=f"ander-{n}.csv", suffix=".csv", sha256=str(n),
            status=Day.DONE, dates=[f"2026-12-{n % 9 + 1:02}"], services=first.services)
        for n in range(25)
    )  # fmt: skip
    upload(client, CORRECTED)
    assert "Verbeterde lijst" in client.get(reverse("day", args=[latest().id])).content.decode()


@pytest.mark.usefixtures("services")
def test_a_list_she_may_not_open_is_neither_named_nor_linked() -> None:
    both, ortho = staff("beide", ORTHO, CARDIO), staff("ortho", ORTHO)
    file = io.BytesIO("\n".join([*ROWS[:3], CARDIO_ROW]).encode())
    file.name = "cardio-dr-hart.csv"
    both.post(reverse("days"), {"lijst": file})
    mixed = make(both, latest())
    upload(ortho, [ROWS[0], ROWS[1], *[r.replace("PAT-", "ORT-") for r in ROWS[3:]]])
    page = ortho.get(reverse("day", args=[latest().id])).content.decode()
    assert "in een lijst van een andere dienst" in page and "cardio-dr-hart" not in page
    assert reverse("day", args=[mixed.id]) not in page
    found = ortho.post(reverse("search"), {"zoek": "PAT-1"}).content.decode()
    assert "cardio-dr-hart" not in found and "Niets gevonden" in found


@pytest.mark.usefixtures("mail_server")
def test_a_worker_that_lives_for_days_prints_what_the_editors_published(settings) -> None:
    client = sender()
    made_day(client)  # this worker process has the leaflet loaded now
    page = settings.ROOT / "leaflets/avn-hip/nl.md"
    page.write_text(page.read_text() + "\n\nNieuw: breng je medicatielijst mee.\n")
    upload(client, CORRECTED)
    second = make(client, latest())
    kept = second.out_dir / FOLDER / "PAT-4_0930_avn-hip-heupprothese.pdf"
    assert "medicatielijst" in all_text(kept.read_bytes())
    assert second.outcome["counts"].get("unchanged", 0) == 0  # made again: never 'unchanged'


CODED = [ROWS[0] + ";Briefcode", *(row + ";AB12CD34EF" for row in ROWS[1:])]


@pytest.mark.usefixtures("mail_server")
def test_the_row_form_never_shows_the_pdfs_password_nor_the_address() -> None:
    client = sender()
    day = made_day(client, CODED)
    form = client.get(reverse("day_row", args=[day.id, 3])).content.decode()
    assert "AB12CD34EF" not in form and "helene@example.org" not in form
    change_row(client, day, 3, time="11u00")
    changed = Day.objects.latest("created")  # the address and the code kept as they were
    rows = {r.number: r.values for r in service.check_day(changed.upload, "x").listing.rows}
    assert rows[3]["letter_code"] == "AB12CD34EF" and rows[3]["email"] == "helene@example.org"


@pytest.mark.usefixtures("mail_server")
def test_a_patient_moved_to_another_day_from_her_row_leaves_no_leaflet_behind() -> None:
    client = sender()
    first = made_day(client)
    change_row(client, first, 3, date="16/12/2026")
    second = make(client, latest())
    assert second.replaces_id == first.id
    assert not (first.out_dir / FOLDER / "PAT-2_0830_avn-hip-osteotomie-fr.pdf").exists()
    assert (first.out_dir / "2026-12-16" / "PAT-2_0830_avn-hip-osteotomie-fr.pdf").is_file()


@pytest.mark.usefixtures("mail_server")
def test_a_second_row_change_never_undoes_one_that_waits_to_be_made() -> None:
    client = sender()
    first = made_day(client)
    change_row(client, first, 3, time="11u00")
    waiting = latest()
    page = client.get(reverse("day_row", args=[first.id, 5])).content.decode()
    assert "Er wacht al een wijziging van deze lijst" in page and 'name="cel-time"' not in page
    assert reverse("day", args=[waiting.id]) in page
    answer = client.post(reverse("day_row", args=[first.id, 5]), {"cel-time": "11u30"})
    assert answer.status_code == 409 and latest().pk == waiting.pk  # nothing new kept
