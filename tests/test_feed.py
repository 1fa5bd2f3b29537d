"""The appointment feed (issue 27): real HL7 v2 messages (built with hl7apy) sent over a real
socket (python-hl7's MLLP client and mllp_send) to the real listener process, FHIR
Appointments posted to the endpoint, and what they make: the day's lists, checked as an
upload is, made by the real worker, emailed to a real SMTP server when their time comes."""

from __future__ import annotations

import io
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
import yaml
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from helpers import ROOT, all_text, free_port
from hl7messages import adt_a03, code_of, mllp_send, send, send_tls, siu
from playwright.sync_api import expect
from test_browser import _axe, _test_database, page, shot
from test_web import PASSWORD, later, mail_server, sender, signed_in, work

from leafletpress.check import check_project
from leafletpress.common.project import Project
from leafletpress.visit.personalise import hospital_calendar
from leafletpress.web import feed
from leafletpress.web.models import AuditEvent, Day, FeedAppointment, FeedMessage
from leafletpress.web.storage import path_of

pytestmark = pytest.mark.django_db(transaction=True)
_ = (mail_server, page, PASSWORD)  # fixtures used here
DAY = date(2026, 12, 15)
TOKEN = "een-lang-geheim-voor-de-fhir-koppeling-42"


@pytest.fixture(autouse=True)
def data(settings, tmp_path: Path) -> Path:
    settings.DATA = settings.SHARED = tmp_path / "data"
    settings.FEED_TOKEN = TOKEN
    return settings.DATA


class Listener:
    """``manage.py luister`` as the service runs it, on a free port of 127.0.0.1."""

    def __init__(self, data: Path, project: Path, **env: str) -> None:
        self.port = free_port()
        self.env = os.environ | {
            "LEAFLETPRESS_DATA": str(data), "DATABASE_URL": _test_database(),
            "LEAFLETPRESS_PROJECT": str(project),
            "LEAFLETPRESS_FEED_ADDRESS": f"127.0.0.1:{self.port}",
        } | env  # fmt: skip
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, **env: str) -> Listener:
        self.process = subprocess.Popen([sys.executable, "manage.py", "luister"], cwd=ROOT,
                                        env=self.env | env)  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, "de luisteraar stopte"
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.1)
        self.stop()  # never left running after the test
        raise AssertionError("de luisteraar luistert niet")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


@pytest.fixture
def listener(data: Path, settings) -> Iterator[Listener]:
    running = Listener(data, Path(settings.ROOT)).start()
    yield running
    running.stop()


def unanswered(port: int, message: str) -> bool:
    """The connection closed before an acknowledgement came back."""
    try:
        return "MSA" not in send(port, message)[0]
    except OSError:
        return True


def build() -> None:
    """What the workers do a moment after the messages: the lists built, and made."""
    for day in sorted({(a.date, a.moment) for a in FeedAppointment.objects.all()}):
        feed.build(*day)
    work()


def feed_day(moment: str = "voor") -> Day:
    return Day.objects.filter(feed__startswith=f"{DAY if moment == 'voor' else ''}").filter(
        feed__contains=f"|{moment}|").latest("created")  # fmt: skip


# --- configuration ---------------------------------------------------------------------------


@pytest.mark.parametrize(("change", "expected"), [
    ({"procedures": {"X-1": {"leaflet": "knie", "variant": "a"}}},
     "veld 'procedures.X-1.leaflet': folder 'knie' bestaat niet"),
    ({"procedures": {"X-1": {"leaflet": "avn-hip", "variant": "knie"}}},
     "veld 'procedures.X-1.variant': variant 'knie' bestaat niet in avn-hip"),
    ({"surgeons": {"999": "nobody"}}, "veld 'surgeons.999': chirurg 'nobody' bestaat niet"),
    ({"sites": {"XYZ": "mars"}}, "veld 'sites.XYZ': campus 'mars' bestaat niet"),
    ({"languages": {"GER": "de"}}, "taal 'de' (code GER) bestaat niet"),
    ({"timing": {"email": "morgen"}}, "schrijf 'bij boeking', 'nooit' of een aantal dagen"),
    ({"timing": {"reminders": "7 dagen voor"}}, "herinneringen bestaan nog niet"),
    ({"ignore": ["ORT-AVN-THP"]}, "veld 'procedures.ORT-AVN-THP': staat ook onder ignore"),
    ({"procedures": {"A|B": {"leaflet": "avn-hip", "variant": "osteotomie"}}},
     "veld 'procedures.A|B"),
])  # fmt: skip
def test_check_names_each_mapping_mistake_at_its_key(project_copy, change, expected) -> None:
    path = project_copy / "config" / "koppeling.yaml"
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    for key, value in change.items():
        config[key] = (config[key] | value) if isinstance(value, dict) else value
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    said = [str(p) for p in check_project(Project(project_copy), DAY) if not p.warning]
    assert any(expected in line and "config/koppeling.yaml" in line for line in said), said


def test_the_example_mapping_is_clean_but_says_it_is_example_data(project) -> None:
    found = [p for p in check_project(project, DAY) if "koppeling" in str(p)]
    assert [(p.warning, p.error.message) for p in found] == [
        (True, "bevat voorbeeldgegevens (example: true)")
    ]


# --- the listener ----------------------------------------------------------------------------


def test_a_booking_is_stored_before_its_ack_and_makes_the_day_as_an_upload_would(
    listener: Listener, tmp_path: Path
) -> None:
    ack = mllp_send(listener.port, siu("S12", "MSG-1", "FI-1"), tmp_path)
    assert code_of(ack) == ("AA", "") and "MSA|AA|MSG-1" in ack.replace("\n", "\r")
    message = FeedMessage.objects.get()
    assert (message.kind, message.reference, message.outcome) == ("SIU^S12", "ZAS-100231", "AA")
    kept = json.loads(path_of(message.event_name).read_text(encoding="utf-8"))
    assert kept["name"] == "Marie Peeters" and kept["procedure"] == "ORT-AVN-THP"
    build()
    day = feed_day()
    assert day.status == Day.DONE and day.outcome["counts"] == {"made": 1}, day.error
    assert day.feed == f"{DAY}|voor|Orthopedie en Traumatologie"
    assert day.made_by.username == "koppeling" and not day.made_by.is_active
    pdf = (day.out_dir / day.outcome["leaflets"][0]["path"]).read_bytes()
    text = all_text(pdf)
    assert "Marie Peeters" in text and "prof. dr. Sofie Wouters" in text and "08:15" in text
    assert "ZAS Augustinus" in text
    event = AuditEvent.objects.get(action="bericht ontvangen")
    assert event.reference == "ZAS-100231" and "SIU^S12 hl7:MSG-1" in event.detail
    assert "Peeters" not in event.detail


@pytest.mark.parametrize("moment", [
    pytest.param(None, id="today"),
    pytest.param("2029-12-11T09:00:00+01:00", id="two weeks before a Christmas on a Tuesday"),
    pytest.param("2029-10-31T09:00:00+01:00", id="a follow-up on New Year's Day"),
])  # fmt: skip
def test_the_feed_demo_sends_every_example_message_for_the_demos_working_day(
    data: Path, settings, registry, moment
) -> None:
    """`make feed-demo`: the examples' messages moved to the demo's day, as `make demo` moves
    its lists, and no day they name is a public holiday: not the operation (25/12/2029, then
    1/1/2030, are Tuesdays), not the discharge's follow-up."""
    clock = {"LEAFLETPRESS_TEST_CLOCK": moment} if moment else {}
    running = Listener(data, Path(settings.ROOT), **clock).start()
    settings.FEED_ADDRESS = f"127.0.0.1:{running.port}"
    said = io.StringIO()
    try:
        with time_machine.travel(datetime.fromisoformat(moment)) if moment else nullcontext():
            call_command("koppeling_voorbeeld", stdout=said)
    finally:
        running.stop()
    lines = said.getvalue().splitlines()
    assert len(lines) == FeedMessage.objects.count() >= 4
    assert all(": AA (bericht " in line for line in lines), lines
    day = min(a.date for a in FeedAppointment.objects.filter(moment="voor"))
    assert day.weekday() == 1 and (day == DAY or moment)
    kept = [path_of(m.event_name) for m in FeedMessage.objects.all()]  # a cancellation's is not
    texts = [path.read_text(encoding="utf-8") for path in kept if path.exists()]
    named = {a.date for a in FeedAppointment.objects.all()}  # and the follow-up's, in its event:
    named |= {
        date.fromisoformat(d) for text in texts for d in re.findall(r"20\d\d-\d\d-\d\d", text)
    }
    assert day in named and len(named) >= 3
    assert not named & set(hospital_calendar(registry).holidays[day : day + timedelta(weeks=9)])


@pytest.mark.parametrize(("address", "hospital", "said"), [
    ("127.0.0.1:1", None, "de koppeling luistert niet op 127.0.0.1:1"),
    ("nonsense", None, "LEAFLETPRESS_FEED_ADDRESS 'nonsense' is geen adres: schrijf host:poort"),
    ("127.0.0.1:99999", None, "'127.0.0.1:99999' is geen adres"),
    ("127.0.0.1:1", "holidays: BE\nholidays: NL\n", "config/hospital.yaml, rij"),
])  # fmt: skip
def test_the_feed_demo_says_what_stops_it_in_one_line(
    settings, project_copy, address, hospital, said
) -> None:
    settings.FEED_ADDRESS = address
    if hospital:
        with (project_copy / "config/hospital.yaml").open("a", encoding="utf-8") as config:
            config.write(hospital)
        settings.ROOT = str(project_copy)
    with pytest.raises(CommandError, match=re.escape(said)):
        call_command("koppeling_voorbeeld", stdout=io.StringIO())


def test_a_message_sent_twice_is_applied_once_and_answered_the_same(listener: Listener) -> None:
    first, again = send(listener.port, siu("S12", "MSG-2", "FI-2"), siu("S12", "MSG-2", "FI-2"))
    assert code_of(first) == code_of(again) == ("AA", "")
    assert FeedMessage.objects.count() == 1 and FeedAppointment.objects.count() == 1
    assert AuditEvent.objects.filter(action="bericht opnieuw ontvangen").count() == 1


@pytest.mark.parametrize(("message", "expected"), [
    ("dit is geen bericht", ("AR", "geen HL7-bericht")),
    ("MSH|^~\\&|HIS|ZAS|L|ZAS|20261125||ADT^A01^ADT_A01|M-9|P|2.5\rPID|||1\r",
     ("AR", "berichttype ADT^A01 wordt niet gelezen")),
    ("MSH|^~\\&|HIS|ZAS|L|ZAS|20261125||SIU^S12^SIU_S12||P|2.5\rSCH|1|2\r",
     ("AR", "MSH-10 (berichtnummer) ontbreekt")),
    (siu("S12", "M-10", "FI-10").replace("AIS|1||ORT-AVN-THP^Ingreep|", "AIS|1|||"),
     ("AE", "AIS-3 (de ingreep) ontbreekt")),
    (siu("S12", "M-11", "FI-11", start="2026-12-15 08:15"),
     ("AE", "AIS-4 is geen geldige datum en tijd")),
    (siu("S12", "M-12", "FI-12", procedure="ORT-KNIE-TKP"),
     ("AE", "procedurecode 'ORT-KNIE-TKP' staat niet in config/koppeling.yaml")),
    (siu("S12", "M-13", "FI-13", surgeon="77777"),
     ("AE", "chirurgcode '77777' staat niet in config/koppeling.yaml onder surgeons")),
    (siu("S12", "M-14", "FI-14", site="AUG", surgeon="10232"),
     ("AE", "chirurg: dr. Pieter Claes opereert niet in ZAS Augustinus")),
    (siu("S12", "M-15", "FI-15", procedure="ORT-RAAD"),
     ("AA", "ingreep zonder folder (ignore in config/koppeling.yaml): niets te doen")),
    (siu("S15", "M-16", "FI-16"), ("AA", "geen afspraak met een folder (of al geannuleerd)")),
    (siu("S12", "M-17", "FI-17") + "\r" + siu("S12", "M-18", "FI-18"),
     ("AR", "meer dan één bericht in één MLLP-blok")),
    (siu("S12", "M-19", "FI-19", start="999912312359-1200"),
     ("AE", "AIS-4 is geen geldige datum en tijd")),
    (siu("S12", "M-20", "FI-20", start="206212150815"),
     ("AE", "AIS-4 ligt meer dan een jaar terug of twee jaar vooruit")),
    (siu("S12", "M" * 200, "FI-21"), ("AR", "MSH-10 (berichtnummer) is te lang")),
])  # fmt: skip
def test_each_message_gets_the_answer_that_says_what_to_do(listener, message, expected) -> None:
    code, text = code_of(send(listener.port, message)[0])
    assert code == expected[0] and expected[1] in text, text


def test_a_code_the_mapping_does_not_know_is_a_bad_row_on_the_day_with_its_hint(
    listener: Listener,
) -> None:
    send(listener.port, siu("S12", "M-20", "FI-20"),
         siu("S12", "M-21", "FI-21", procedure="ORT-KNIE-TKP", reference="ZAS-200",
             family="Janssens", given="Jan"))  # fmt: skip
    build()
    day = feed_day()
    assert (day.status, day.rows, day.good) == (Day.DONE, 2, 1)
    html = signed_in("secretariaat").get(reverse("day", args=[day.id])).content.decode()
    assert "procedurecode &#x27;ORT-KNIE-TKP&#x27; staat niet in config/koppeling.yaml" in html
    assert "ZAS-200" in html


def test_a_listener_killed_between_storing_and_its_ack_applies_the_resent_message_once(
    data: Path, settings
) -> None:
    dying = Listener(data, Path(settings.ROOT)).start(LEAFLETPRESS_FEED_FAULT="na-opslaan")
    assert unanswered(dying.port, siu("S12", "M-30", "FI-30"))
    assert dying.process.wait(timeout=30) == 70
    assert FeedMessage.objects.count() == 1  # stored before it died
    again = Listener(data, Path(settings.ROOT)).start()  # restarted: the engine sends again
    try:
        assert code_of(send(again.port, siu("S12", "M-30", "FI-30"))[0]) == ("AA", "")
    finally:
        again.stop()
    assert FeedMessage.objects.count() == 1 and FeedAppointment.objects.count() == 1


def test_a_burst_over_several_connections_is_stored_whole_and_built_once(
    listener: Listener,
) -> None:
    def connection(n: int) -> list[str]:
        return send(listener.port, *(
            siu("S12", f"B-{n}-{i}", f"FI-B{n}-{i}", reference=f"ZAS-{n}{i:03}",
                start=f"20261215{7 + i // 12:02}{i % 12 * 5:02}") for i in range(40)))  # fmt: skip

    with ThreadPoolExecutor(3) as pool:
        acks = [a for batch in pool.map(connection, range(3)) for a in batch]
    assert [code_of(a)[0] for a in acks] == ["AA"] * 120
    assert FeedMessage.objects.count() == 120 == FeedAppointment.objects.count()
    from leafletpress.web.tasks import waiting

    assert waiting("build_feed_day", DAY.isoformat(), "voor")  # one build for the burst
    build()
    assert feed_day().rows == 120


def test_only_configured_senders_are_answered(data: Path, settings) -> None:
    elsewhere = Listener(data, Path(settings.ROOT), LEAFLETPRESS_FEED_SENDERS="10.1.2.3")
    elsewhere.start()
    try:
        assert unanswered(elsewhere.port, siu("S12", "M-40", "FI-40"))
        deadline = time.monotonic() + 30  # said by a thread of the listener: wait for it
        while not AuditEvent.objects.filter(action="verbinding geweigerd").exists():
            assert time.monotonic() < deadline
            time.sleep(0.1)
    finally:
        elsewhere.stop()
    assert not FeedMessage.objects.exists()
    refused = AuditEvent.objects.filter(action="verbinding geweigerd").values_list("detail")
    assert refused and all("127.0.0.1: geen toegelaten afzender" in d for (d,) in refused)


def test_the_listener_speaks_tls_when_it_has_a_certificate(data: Path, settings, ca) -> None:
    authority, ca_file = ca
    issued = authority.issue_cert("localhost", "127.0.0.1")
    cert, key = data.parent / "koppeling.pem", data.parent / "koppeling.key"
    issued.cert_chain_pems[0].write_to_path(str(cert))
    issued.private_key_pem.write_to_path(str(key))
    secure = Listener(data, Path(settings.ROOT), LEAFLETPRESS_FEED_TLS_CERT=str(cert),
                      LEAFLETPRESS_FEED_TLS_KEY=str(key)).start()  # fmt: skip
    try:
        assert code_of(send_tls(secure.port, siu("S12", "M-50", "FI-50"), str(ca_file))) == (
            "AA", "")  # fmt: skip
    finally:
        secure.stop()


def test_a_listener_that_cannot_work_says_why_and_stops(data: Path, settings) -> None:
    env = os.environ | {"LEAFLETPRESS_DATA": str(data), "DATABASE_URL": _test_database(),
                        "LEAFLETPRESS_FEED_SENDERS": "het-hele-net"}  # fmt: skip
    done = subprocess.run([sys.executable, "manage.py", "luister"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode != 0 and "LEAFLETPRESS_FEED_SENDERS" in done.stderr
    assert "Traceback" not in done.stderr


# --- what the messages make ------------------------------------------------------------------

JAN = {"reference": "ZAS-300", "family": "Janssens", "given": "Jan",
       "email": "jan.janssens@example.org", "start": "202612150930"}  # fmt: skip


def emailed_when_due(today: date) -> None:
    """The workers' watch on ``today``, then the worker that sends."""
    feed.timing(today=today)
    work()


def test_a_day_is_emailed_when_its_time_comes_once_a_secretary_looked_at_it(
    mail_server, listener: Listener
) -> None:
    send(listener.port, siu("S12", "E-1", "FI-E1"), siu("S12", "E-2", "FI-E2", **JAN))
    build()
    day, client = feed_day(), sender()
    assert day.status == Day.DONE and day.outcome["counts"] == {"made": 2}
    emailed_when_due(DAY - timedelta(days=14))
    assert not mail_server.mailbox.received  # nobody looked at it yet
    page = client.get(reverse("day", args=[day.id])).content.decode()
    assert "vanaf <strong>dinsdag 1 december 2026</strong> vanzelf gemaild" in page
    client.post(reverse("day_checked", args=[day.id]))
    emailed_when_due(DAY - timedelta(days=15))
    assert not mail_server.mailbox.received  # not yet its time
    emailed_when_due(DAY - timedelta(days=14))
    assert len(mail_server.mailbox.received) == 2
    emailed_when_due(DAY - timedelta(days=13))
    assert len(mail_server.mailbox.received) == 2  # once
    assert AuditEvent.objects.filter(action="folder gemaild", user="koppeling").count() == 2


def test_a_change_makes_that_leaflet_again_and_sends_it_as_changed_a_cancellation_stops_it(
    mail_server, listener: Listener
) -> None:
    send(listener.port, siu("S12", "C-1", "FI-C1"), siu("S12", "C-2", "FI-C2", **JAN))
    build()
    first, client = feed_day(), sender()
    client.post(reverse("day_checked", args=[first.id]))
    emailed_when_due(DAY - timedelta(days=14))
    ack = send(listener.port, siu("S13", "C-3", "FI-C1", start="202612151100",
                                  sent="20261201120000"))  # fmt: skip
    assert code_of(ack[0]) == ("AA", "")
    build()
    second = feed_day()
    assert second.replaces_id == first.id and second.status == Day.DONE
    assert second.outcome["counts"] == {"made": 1, "unchanged": 1}
    assert second.outcome["correction"]["changed"] == [
        {"row": 3, "reference": "ZAS-100231", "what": ["uur 08:15 → 11:00"]}
    ]  # now after Jan
    emailed_when_due(DAY - timedelta(days=12))
    assert len(mail_server.mailbox.received) == 2  # a new version: looked at again first
    page = client.get(reverse("day", args=[second.id])).content.decode()
    assert "uur 08:15 → 11:00" in page and 'action="/dag/' in page
    client.post(reverse("day_checked", args=[second.id]))
    emailed_when_due(DAY - timedelta(days=12))
    changed = mail_server.mailbox.to("marie.peeters@example.org")
    assert len(changed) == 2 and changed[1]["Subject"].startswith("Je afspraak is gewijzigd")
    assert len(mail_server.mailbox.to("jan.janssens@example.org")) == 1  # his did not change
    send(listener.port, siu("S15", "C-4", "FI-C2", sent="20261202120000", **JAN))
    build()
    third = feed_day()
    assert third.outcome["correction"]["gone"] == [{"row": 2, "reference": "ZAS-300"}]
    assert third.rows == 1 and third.outcome["counts"] == {"unchanged": 1}
    emailed_when_due(DAY - timedelta(days=10))
    assert len(mail_server.mailbox.to("jan.janssens@example.org")) == 1


def test_a_procedure_changed_to_one_without_a_leaflet_takes_the_row_off_the_list(
    listener: Listener,
) -> None:
    send(listener.port, siu("S12", "N-1", "FI-N1"), siu("S12", "N-2", "FI-N2", **JAN))
    build()
    answer = send(listener.port, siu("S14", "N-3", "FI-N2", procedure="ORT-RAAD",
                                     sent="20261126090000", **JAN))[0]  # fmt: skip
    assert code_of(answer) == ("AA", "ingreep zonder folder (ignore in config/koppeling.yaml): "
                                     "de folder vervalt")  # fmt: skip
    build()
    assert feed_day().outcome["correction"]["gone"] == [{"row": 3, "reference": "ZAS-300"}]


def test_an_older_message_never_undoes_a_newer_one(listener: Listener) -> None:
    send(listener.port, siu("S13", "O-2", "FI-O", start="202612151100", sent="20261201120000"),
         siu("S12", "O-1", "FI-O", sent="20261125090000"))  # fmt: skip
    build()
    assert "11:00" in feed_day().upload.read_text(encoding="utf-8-sig")
    said = FeedMessage.objects.get(control="hl7:O-1").reason
    assert said == "ouder dan het laatste bericht over deze afspraak: niet toegepast"


def test_when_every_appointment_is_cancelled_the_made_day_says_so_and_is_never_emailed(
    mail_server, listener: Listener
) -> None:
    send(listener.port, siu("S12", "X-1", "FI-X1"))
    build()
    day = feed_day()
    sender().post(reverse("day_checked", args=[day.id]))
    send(listener.port, siu("S15", "X-2", "FI-X1", sent="20261126090000"))
    build()
    day.refresh_from_db()
    assert day.outcome["cancelled"] and Day.objects.count() == 1
    emailed_when_due(DAY - timedelta(days=14))
    assert not mail_server.mailbox.received
    page = sender().get(reverse("day", args=[day.id])).content.decode()
    assert "Alle afspraken geannuleerd" in page


def test_a_discharge_puts_the_discharge_leaflet_on_the_wards_list_ready_to_print(
    listener: Listener,
) -> None:
    send(listener.port, siu("S12", "D-1", "FI-D1"),
         siu("S12", "D-2", "FI-D2", **JAN | {"site": "CAD", "surgeon": "10232"}))  # fmt: skip
    answers = send(listener.port, adt_a03("D-3", "20261217"),
                   adt_a03("D-4", "20261217", "202701281400", "CAD", **JAN),
                   adt_a03("D-5", "20261217", reference="ZAS-999"))  # fmt: skip
    assert [code_of(a) for a in answers][:2] == [("AA", ""), ("AA", "")]
    assert code_of(answers[2]) == (
        "AA", "geen operatie met een folder voor deze patiënt: geen ontslagfolder")  # fmt: skip
    build()
    ward = feed_day("ontslag")
    assert ward.status == Day.DONE and ward.outcome["counts"] == {"made": 2}, ward.error
    assert ward.feed == "2026-12-17|ontslag|Orthopedie en Traumatologie"
    assert ward.outcome["print_files"]  # for the nurse's printer
    texts = {item["name"].split("_")[0]: all_text((ward.out_dir / item["path"]).read_bytes())
             for item in ward.outcome["leaflets"]}  # fmt: skip
    assert "Nog niet gepland" in texts["ZAS-100231"]
    assert "28/01/2027" in texts["ZAS-300"] or "28 januari 2027" in texts["ZAS-300"]


# --- FHIR ------------------------------------------------------------------------------------


def fhir_appointment(status: str = "booked", version: str = "1", **change: Any) -> dict:
    patient = {"resourceType": "Patient", "id": "p", "identifier": [{"value": "ZAS-100231"}],
               "name": [{"family": "Peeters", "given": ["Marie"]}], "birthDate": "1961-04-23",
               "telecom": [{"system": "phone", "value": "03 123 45 67"},
                           {"system": "email", "value": "marie.peeters@example.org"}],
               "address": [{"text": "Kerkstraat 1, 2000 Antwerpen"}]}  # fmt: skip
    return {"resourceType": "Appointment", "id": "a1", "meta": {"versionId": version},
            "status": status, "identifier": [{"value": "FI-F1"}],
            "serviceType": [{"coding": [{"code": "ORT-AVN-THP"}]}],
            "start": "2026-12-15T08:15:00+01:00", "end": "2026-12-15T10:00:00+01:00",
            "contained": [patient],
            "participant": [
                {"actor": {"reference": "#p"}, "status": "accepted"},
                {"actor": {"reference": "Practitioner/10234"}, "status": "accepted"},
                {"actor": {"identifier": {"value": "AUG"}, "type": "Location"},
                 "status": "accepted"}]} | change  # fmt: skip


def post(body: Any, token: str = TOKEN, **headers: str) -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Client().post(reverse("feed_fhir"), raw, content_type="application/fhir+json",
                         HTTP_AUTHORIZATION=f"Bearer {token}", **headers)  # fmt: skip


def test_a_fhir_appointment_makes_the_same_day_as_its_hl7_message(data) -> None:
    answer = post(fhir_appointment())
    assert answer.status_code == 200 and answer["Content-Type"] == "application/fhir+json"
    assert json.loads(answer.content)["issue"][0]["severity"] == "information"
    assert post(fhir_appointment()).status_code == 200  # the same version again: once
    assert FeedMessage.objects.count() == 1
    build()
    day = feed_day()
    assert day.status == Day.DONE and day.outcome["counts"] == {"made": 1}
    text = all_text((day.out_dir / day.outcome["leaflets"][0]["path"]).read_bytes())
    assert "Marie Peeters" in text and "08:15" in text and "prof. dr. Sofie Wouters" in text
    kept = path_of(FeedMessage.objects.get().event_name).read_text(encoding="utf-8")
    assert "Kerkstraat" not in kept and "03 123" not in kept  # only what the leaflet needs
    assert post(fhir_appointment("cancelled", "2")).status_code == 200
    assert FeedAppointment.objects.get().cancelled


@pytest.mark.parametrize(("body", "token", "status", "said"), [
    (fhir_appointment(), "fout", 401, "geen of een verkeerd token"),
    (b"[" * 100_000, TOKEN, 400, "geen geldige JSON"),
    (fhir_appointment(contained=[
        {"resourceType": "Patient", "id": "x", "identifier": [{"value": "ZAS-X"}],
         "name": [{"family": "Verkeerd"}]}]), TOKEN, 422, "de Patient ontbreekt of is niet"),
    (b"{niet-json", TOKEN, 400, "geen geldige JSON"),
    (fhir_appointment(start="morgen"), TOKEN, 400, "geen geldige FHIR R4-Appointment"),
    (fhir_appointment(status="fulfilled"), TOKEN, 422, "status 'fulfilled' verandert niets"),
    (fhir_appointment(serviceType=[{"coding": [{"code": "ORT-KNIE"}]}]), TOKEN, 422,
     "procedurecode 'ORT-KNIE' staat niet in config/koppeling.yaml"),
    (fhir_appointment(contained=[]), TOKEN, 422, "de Patient ontbreekt"),
])  # fmt: skip
def test_a_fhir_post_is_answered_with_what_to_do(data, body, token, status, said) -> None:
    answer = post(body, token)
    assert answer.status_code == status
    assert said in json.loads(answer.content)["issue"][0]["diagnostics"]


def test_a_bundle_takes_the_patient_its_appointment_names_not_the_first_one(data) -> None:
    appointment = fhir_appointment(
        contained=[],
        participant=[
            {"actor": {"reference": "Patient/r"}, "status": "accepted"},
            {"actor": {"reference": "Practitioner/10234"}, "status": "accepted"},
            {"actor": {"identifier": {"value": "AUG"}, "type": "Location"}, "status": "accepted"},
        ],
    )
    patient = fhir_appointment()["contained"][0]
    stranger = patient | {"id": "w", "identifier": [{"value": "ZAS-999"}],
                          "name": [{"family": "Verkeerd", "given": ["Willem"]}]}  # fmt: skip
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"resource": stranger},
            {"resource": appointment},
            {"resource": patient | {"id": "r"}},
        ],
    }
    assert post(bundle).status_code == 200
    kept = path_of(FeedMessage.objects.get().event_name).read_text(encoding="utf-8")
    assert "Marie Peeters" in kept and "Verkeerd" not in kept


def test_the_fhir_endpoint_is_not_there_without_a_token_and_refuses_other_senders(
    data, settings
) -> None:
    assert post(fhir_appointment(), REMOTE_ADDR="10.9.9.9").status_code == 403
    assert post(fhir_appointment(), "fout", REMOTE_ADDR="10.9.9.9").status_code == 403
    plain = Client().post(
        reverse("feed_fhir"),
        json.dumps(fhir_appointment()),
        content_type="text/plain",
        HTTP_AUTHORIZATION=f"Bearer {TOKEN}",
    )
    assert plain.status_code == 415
    settings.FEED_TOKEN = ""
    assert post(fhir_appointment(), "").status_code == 404
    assert not FeedMessage.objects.exists()


# --- privacy ---------------------------------------------------------------------------------


def test_only_what_a_leaflet_needs_is_kept_and_the_message_goes_after_the_retention_period(
    listener: Listener,
) -> None:
    send(listener.port, siu("S12", "P-1", "FI-P1", address="Kerkstraat 1^^Antwerpen"))
    message = FeedMessage.objects.get()
    kept = path_of(message.event_name).read_text(encoding="utf-8")
    assert "Kerkstraat" not in kept and "1234567" not in kept and "Marie Peeters" in kept
    assert b"Kerkstraat" in path_of(message.raw_name).read_bytes()  # as received, for IT
    assert oct(path_of(message.raw_name).stat().st_mode)[-3:] == "600"
    build()
    with later(8):  # the message is past the retention period; its appointment is not
        call_command("opruimen", stdout=io.StringIO())
    assert not path_of(message.raw_name).exists() and path_of(message.event_name).exists()
    assert feed_day().purged is None  # booked weeks ahead: kept until its day is past
    with later(20 + 8):
        call_command("opruimen", stdout=io.StringIO())
    assert feed_day().purged is not None
    kept = json.loads(path_of(message.event_name).read_text(encoding="utf-8"))
    assert (kept["name"], kept["email"], kept["procedure"]) == ("", "", "ORT-AVN-THP")
    assert FeedMessage.objects.get().purged is not None  # the row says what came, no name
    with later(20 + 8 + 61):  # no discharge came: the rest goes too
        call_command("opruimen", stdout=io.StringIO())
    assert not path_of(message.event_name).exists() and not FeedAppointment.objects.exists()


def test_a_discharge_after_a_stay_longer_than_the_retention_period_still_gets_its_leaflet(
    listener: Listener,
) -> None:
    send(listener.port, siu("S12", "S-1", "FI-S1"))
    build()
    with later(20 + 30):  # the operation's day 30 days past: its list and names are gone
        call_command("opruimen", stdout=io.StringIO())
        feed.accept("hl7", "127.0.0.1", b"", hl7_event(adt_a03("S-2", "20270114")))
        assert FeedAppointment.objects.filter(moment="ontslag").exists()
        build()
    ward = feed_day("ontslag")
    assert ward.status == Day.DONE and ward.outcome["counts"] == {"made": 1}, ward.error
    text = all_text((ward.out_dir / ward.outcome["leaflets"][0]["path"]).read_bytes())
    assert "Marie Peeters" in text  # from the discharge message


def hl7_event(message: str) -> Any:
    from zoneinfo import ZoneInfo

    from leafletpress.feed import hl7v2

    return hl7v2.parse(hl7v2.read(message.encode()), ZoneInfo("Europe/Brussels"))


def test_another_message_under_a_used_number_is_refused_never_taken_for_the_first(
    listener: Listener,
) -> None:
    first, other = send(listener.port, siu("S12", "R-1", "FI-R1"),
                        siu("S12", "R-1", "FI-R2", **JAN))  # fmt: skip
    assert code_of(first) == ("AA", "")
    assert code_of(other)[0] == "AR" and "werd al gebruikt voor een ander bericht" in code_of(
        other)[1]  # fmt: skip
    assert list(FeedAppointment.objects.values_list("key", flat=True)) == ["FI-R1"]
    assert post(fhir_appointment()).status_code == 200
    assert post(fhir_appointment(start="2026-12-15T11:00:00+01:00")).status_code == 409


def test_a_cancellation_that_overtakes_its_booking_is_not_undone_by_it(listener: Listener) -> None:
    _, booking = send(listener.port, siu("S15", "T-2", "FI-T", sent="20261125100000"),
                         siu("S12", "T-1", "FI-T", sent="20261125090000"))  # fmt: skip
    assert code_of(booking) == ("AA", "ouder dan het laatste bericht over deze afspraak: niet "
                                      "toegepast")  # fmt: skip
    assert FeedAppointment.objects.get().cancelled


def test_a_broken_mapping_refuses_messages_to_be_sent_again_and_stores_none(
    data, settings, project_copy
) -> None:
    settings.ROOT = project_copy
    mapping = project_copy / "config" / "koppeling.yaml"
    good = mapping.read_text(encoding="utf-8")
    mapping.write_text(good + "\nonbekend: 1\n", encoding="utf-8")
    answer = feed.accept("hl7", "127.0.0.1", b"", hl7_event(siu("S12", "K-1", "FI-K1")))
    assert answer.code == "AR" and "onbekend" in answer.text and "opnieuw" in answer.text
    assert not FeedMessage.objects.exists()
    assert post(fhir_appointment()).status_code == 503
    mapping.write_text(good, encoding="utf-8")
    time.sleep(feed.RECENT)
    assert feed.accept("hl7", "127.0.0.1", b"", hl7_event(siu("S12", "K-1", "FI-K1"))).code == "AA"


def test_an_older_version_of_a_day_is_never_emailed(mail_server, listener: Listener) -> None:
    send(listener.port, siu("S12", "V-1", "FI-V1"))
    build()
    first = feed_day()
    sender().post(reverse("day_checked", args=[first.id]))
    send(listener.port, siu("S14", "V-2", "FI-V1", surgeon="77777", sent="20261126090000"))
    build()  # a version with the row refused: not made, so it replaces nothing
    assert feed_day().good == 0 and feed_day().status == Day.CHECKED
    emailed_when_due(DAY - timedelta(days=14))
    assert not mail_server.mailbox.received
    page = sender().get(reverse("day", args=[first.id])).content.decode()
    assert "Er is een nieuwere versie van deze lijst" in page
    send(listener.port, siu("S15", "V-3", "FI-V1", sent="20261127090000"))
    build()
    first.refresh_from_db()
    assert first.outcome["cancelled"] and Day.objects.count() == 1
    emailed_when_due(DAY - timedelta(days=14))
    assert not mail_server.mailbox.received


def test_an_oversized_block_gets_one_answer_and_the_next_message_its_own(
    listener: Listener,
) -> None:
    with socket.create_connection(("127.0.0.1", listener.port), timeout=30) as raw:
        for block in (
            b"MSH|^~\\&|" + b"X" * 1_100_000,
            b"zonder VT",
            siu("S12", "Z-1", "FI-Z").encode(),
        ):
            raw.sendall((b"" if block == b"zonder VT" else b"\x0b") + block + b"\x1c\r")
        answers = b""
        while answers.count(b"\x1c\r") < 3:
            answers += raw.recv(65536)
    said = [code_of(a.strip(b"\x0b").decode()) for a in answers.split(b"\x1c\r")[:3]]
    assert said[0] == ("AR", "bericht groter dan 1000 kB")
    assert said[1] == ("AR", "geen MLLP-blok (begint niet met het teken VT, 0x0B)")
    assert said[2] == ("AA", "")


def test_a_message_whose_storing_was_interrupted_leaves_no_file_behind(data) -> None:
    stray = path_of("koppeling/0d2c6f0e-0000-4000-8000-000000000000.bericht")
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(b"MSH|...|Peeters^Marie")
    now = timezone.now().timestamp()  # the test clock's (the disk keeps the real one)
    os.utime(stray, (now, now))
    with later(0.5 / 24):
        call_command("opruimen", stdout=io.StringIO())
    assert stray.exists()  # it may be being stored right now
    with later(2 / 24):
        call_command("opruimen", stdout=io.StringIO())
    assert not stray.exists()


def test_no_patient_name_reaches_the_listeners_log_or_the_audit_log(
    listener: Listener, caplog
) -> None:
    send(
        listener.port,
        siu("S12", "L-1", "FI-L1"),
        siu("S12", "L-2", "FI-L2", procedure="X"),
        "MSH|^~\\&|HIS|ZAS|L|ZAS|20261125||ADT^A01^ADT_A01|L-3|P|2.5\rPID|||1||Peeters^Marie\r",
    )
    build()
    said = " ".join(e.detail for e in AuditEvent.objects.all())
    assert "Peeters" not in said and "Marie" not in said
    assert all(e.user == "koppeling" for e in AuditEvent.objects.filter(action__contains="bericht"))


def test_a_code_added_to_the_mapping_puts_its_rows_right_without_a_new_message(
    data, settings, project_copy
) -> None:
    from leafletpress.web.tasks import waiting

    settings.ROOT = project_copy
    knee = fhir_appointment(serviceType=[{"coding": [{"code": "ORT-KNIE"}]}])
    assert post(knee).status_code == 422  # kept, and shown with the day's errors
    build()
    assert (feed_day().rows, feed_day().good) == (1, 0)
    feed.timing()  # the lists were built with this content: nothing to do
    DBTaskResult.objects.all().delete()
    feed.timing()
    assert not waiting("build_feed_day", DAY.isoformat(), "voor")
    mapping = project_copy / "config" / "koppeling.yaml"
    text = mapping.read_text(encoding="utf-8")
    mapping.write_text(text.replace("procedures:\n", "procedures:\n  ORT-KNIE: "
                                    "{leaflet: avn-hip, variant: osteotomie}\n"),
                       encoding="utf-8")  # fmt: skip
    feed.timing()
    assert waiting("build_feed_day", DAY.isoformat(), "voor")
    build()
    day = feed_day()
    assert (day.rows, day.good, day.status) == (1, 1, Day.DONE)


# --- in the browser --------------------------------------------------------------------------


def test_the_feeds_day_shows_its_bad_row_and_the_code_to_add_and_is_marked_nagekeken(
    page, listener: Listener
) -> None:
    """The day page a secretary opens, in Chromium at 1366x768: where the list came from,
    when it is emailed, the row the mapping could not place, and "Nagekeken"."""
    send(listener.port, siu("S12", "W-1", "FI-W1"), siu("S12", "W-2", "FI-W2", **JAN),
         siu("S12", "W-3", "FI-W3", procedure="ORT-KNIE-TKP", reference="ZAS-400",
             family="Maes", given="Lotte"))  # fmt: skip
    build()
    page.goto("/dag/")
    page.get_by_role("link", name="15/12/2026 – Orthopedie en Traumatologie (ziekenhuis").click()
    expect(page.get_by_role("link", name="Wijzig")).to_have_count(0)  # in the system, not here
    expect(page.get_by_role("heading", name="Uit het ziekenhuissysteem")).to_be_visible()
    unknown = page.get_by_role("alert").filter(has_text="Codes die de koppeling niet kent")
    expect(unknown).to_contain_text("Rij 3: procedurecode 'ORT-KNIE-TKP'")
    expect(page.get_by_text("2 folders gemaakt")).to_be_visible()
    expect(page.get_by_text("vanaf dinsdag 1 december 2026 vanzelf gemaild")).to_be_visible()
    shot(page, "27-01-koppeling-dag")
    assert _axe(page, "koppeling-dag")[1] == []
    page.get_by_role("button", name="Nagekeken").click()
    expect(page.get_by_text("Nagekeken door an op 25/11/2026 om")).to_be_visible()
    assert Day.objects.get().outcome["checked"]["by"] == "an"
    shot(page, "27-02-koppeling-nagekeken")


def test_the_feeds_messages_are_in_the_backup_and_a_restored_feed_builds_its_days(
    data, tmp_path: Path
) -> None:
    from test_backup import back_up, lose_everything

    assert post(fhir_appointment()).status_code == 200
    backup = back_up(tmp_path)
    lose_everything(data)
    call_command("herstel", str(backup), stdout=io.StringIO())
    assert post(fhir_appointment()).status_code == 200  # known: sent again, applied once
    assert FeedMessage.objects.count() == 1
    build()
    assert feed_day().outcome["counts"] == {"made": 1}


def test_answers_are_utf8_with_hl7s_separators_escaped(listener: Listener) -> None:
    raw = send(listener.port, siu("S12", "U-1", "FI-U1", reference=""))[0]
    assert "PID-3 (het patiëntnummer) ontbreekt" in raw  # not \\Xeb\\ (one Latin-1 byte)
    from leafletpress.feed import hl7v2

    said = "code 'A|B^C&D~E' staat niet in de lijst: één fout"
    escaped = hl7v2.ack(hl7v2.read(siu("S12", "U-2", "FI-U2").encode()), "AE", said).decode()
    assert "A\\F\\B\\S\\C\\T\\D\\R\\E" in escaped and code_of(escaped) == ("AE", said)
    assert hl7v2.escape("a\\b") == "a\\E\\b"


def test_one_worker_builds_a_day_at_a_time(listener: Listener) -> None:
    from leafletpress.common.errors import BusyError
    from leafletpress.common.files import exclusive

    send(listener.port, siu("S12", "Q-1", "FI-Q1"))
    lock = path_of(f"{feed.BUILDING}/{DAY.isoformat()}-voor.lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    with exclusive(lock, BusyError("bezet")):
        assert feed.build(DAY, "voor") is False  # its task tries again a little later
    assert not Day.objects.exists()
    assert feed.build(DAY, "voor") is True and Day.objects.count() == 1
