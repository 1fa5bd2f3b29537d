"""HL7 v2 messages as the hospital system's interface engine sends them, built with hl7apy
(a second HL7 library: the feed's reader, python-hl7, is never checked against itself), and
sent as the interface engine would: python-hl7's MLLP client and its ``mllp_send``."""

from __future__ import annotations

import socket
import ssl
import subprocess
import sys
from pathlib import Path

import hl7
from hl7.client import MLLPClient
from hl7apy.core import Message

PATIENT = {"reference": "ZAS-100231", "family": "Peeters", "given": "Marie",
           "birth": "19610423", "email": "marie.peeters@example.org", "language": "NL"}  # fmt: skip
BOOKED = {"procedure": "ORT-AVN-THP", "start": "202612150815", "surgeon": "10234",
          "site": "AUG"}  # fmt: skip


def siu(event: str, control: str, appointment: str, **fields: str) -> str:
    """SIU^<event> about ``appointment``; ``fields`` change PATIENT's and BOOKED's values."""
    values = PATIENT | BOOKED | fields
    message = Message(f"SIU_{event}" if event == "S12" else "SIU_S12", version="2.5")
    _header(message, f"SIU^{event}^SIU_S12", control, values.get("sent", "20261125090000"))
    message.sch.sch_1 = f"PL{appointment}"
    message.sch.sch_2 = appointment
    message.sch.sch_25 = "Cancelled" if event in ("S15", "S17") else "Booked"
    group = message.add_group("SIU_S12_PATIENT")
    _pid(group.add_segment("PID"), values)
    if values.get("address"):  # a field a leaflet does not need: never kept
        group.pid.pid_11 = values["address"]
    resources = message.add_group("SIU_S12_RESOURCES")
    resources.rgs.rgs_1 = "1"
    service = resources.add_group("SIU_S12_SERVICE")
    service.ais.ais_1 = "1"
    service.ais.ais_3 = f"{values['procedure']}^Ingreep"
    service.ais.ais_4 = values["start"]
    location = resources.add_group("SIU_S12_LOCATION_RESOURCE")
    location.ail.ail_1 = "1"
    location.ail.ail_3 = f"OK^^^{values['site']}"
    anaesthetist = resources.add_group("SIU_S12_PERSONNEL_RESOURCE")
    anaesthetist.aip.aip_1, anaesthetist.aip.aip_3 = "1", "55501^Narcose^Nina"
    anaesthetist.aip.aip_4 = "ANES"
    surgeon = resources.add_group("SIU_S12_PERSONNEL_RESOURCE")
    surgeon.aip.aip_1, surgeon.aip.aip_3 = "2", f"{values['surgeon']}^Chirurg^C"
    surgeon.aip.aip_4 = "SURG"
    return str(message.to_er7())


def adt_a03(control: str, discharged: str, followup: str = "", where: str = "",
            **fields: str) -> str:  # fmt: skip
    """ADT^A03 (discharge), with a follow-up consultation in ZFU when ``followup`` is given."""
    values = PATIENT | fields
    message = Message("ADT_A03", version="2.5")
    _header(message, "ADT^A03^ADT_A03", control, "20261217100000")
    message.evn.evn_1 = "A03"
    _pid(message.pid, values)
    message.pv1.pv1_2 = "I"
    message.pv1.pv1_19 = "OPN-778"
    message.pv1.pv1_45 = discharged
    text = str(message.to_er7())
    return text + (f"\rZFU|{followup}|^^^{where}" if followup else "")


def _header(message: Message, kind: str, control: str, sent: str) -> None:
    message.msh.msh_3, message.msh.msh_4 = "HIS", "ZAS"
    message.msh.msh_5, message.msh.msh_6 = "LEAFLETPRESS", "ZAS"
    message.msh.msh_7, message.msh.msh_9, message.msh.msh_10 = sent, kind, control
    message.msh.msh_11 = "P"


def _pid(pid: object, values: dict[str, str]) -> None:
    pid.pid_3 = f"{values['reference']}^^^ZAS^MR"  # type: ignore[attr-defined]
    pid.pid_5 = f"{values['family']}^{values['given']}"  # type: ignore[attr-defined]
    pid.pid_7 = values["birth"]  # type: ignore[attr-defined]
    for phone in ("^PRN^PH^^^03^1234567", f"^NET^Internet^{values['email']}"):  # repetitions
        pid.add_field("pid_13").value = phone  # type: ignore[attr-defined]
    pid.pid_15 = f"{values['language']}^Taal"  # type: ignore[attr-defined]


def send(port: int, *messages: str) -> list[str]:
    """Each message over one connection, as python-hl7's client sends it: the ACKs."""
    with MLLPClient("127.0.0.1", port) as client:
        return [client.send_message(m).decode("utf-8") for m in messages]


def mllp_send(port: int, message: str, folder: Path) -> str:
    """python-hl7's command-line sender, as an interface engine's operator would use it."""
    file = folder / "bericht.hl7"
    file.write_text(message.replace("\r", "\n") + "\n", encoding="utf-8")
    done = subprocess.run(
        [str(Path(sys.executable).parent / "mllp_send"), "--port", str(port), "--file",
         str(file), "--loose", "127.0.0.1"], capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def send_tls(port: int, message: str, ca_file: str) -> str:
    """One message over TLS (MLLP framing by hand: python-hl7's client has no TLS)."""
    context = ssl.create_default_context(cafile=ca_file)
    raw = socket.create_connection(("127.0.0.1", port), timeout=30)
    with context.wrap_socket(raw, server_hostname="localhost") as tls:
        tls.sendall(b"\x0b" + message.encode() + b"\x1c\r")
        answer = b""
        while not answer.endswith(b"\x1c\r"):
            chunk = tls.recv(4096)
            if not chunk:
                break
            answer += chunk
    return answer.strip(b"\x0b\x1c\r").decode()


def code_of(ack: str) -> tuple[str, str]:
    """MSA-1 and MSA-3 (unescaped) of an acknowledgement, as the interface engine reads it."""
    message = hl7.parse(ack.strip().replace("\n", "\r"))
    return str(message["MSA.F1"]), message.unescape(str(message["MSA.F3"]))
