"""The appointment feed (issue 27): real HL7 v2 messages (built with hl7apy) sent over a real
socket (python-hl7's MLLP client and mllp_send) to the real listener process, FHIR
Appointments posted to the endpoint, and what they make: the day's lists, checked as an
upload is, made by the real worker, emailed to a real SMTP server when their time comes."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from helpers import ROOT, all_text, free_port
from hl7messages import adt_a03, code_of, mllp_send, send, send_tls, siu
from test_browser import _test_database
from test_web import PASSWORD, account, later, mail_server, sender, signed_in, work

from leafletpress.check import check_project
from leafletpress.common.project import Project
from leafletpress.web import feed
from leafletpress.web.models import AuditEvent, Day, FeedAppointment, FeedMessage
from leafletpress.web.storage import path_of

pytestmark = pytest.mark.django_db(transaction=True)
_ = (mail_server, PASSWORD)  # fixtures used here
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
     ("AA", "ingreep zonder folder (ignore in config/koppeling.yaml)")),
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
