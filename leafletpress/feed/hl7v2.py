"""HL7 v2 messages from the hospital system's interface engine, read with python-hl7.

Input: one message as received over MLLP (bytes). Output: an ``Event`` with the fields in
``events.py`` and nothing else of the message; or ``Malformed`` (answered AR: not a message,
or a type we do not read) or ``Unusable`` (answered AE: a field we need is missing). ``ack``
writes the acknowledgement, with the reason in Dutch in MSA-3.

Read, per type (docs/koppeling.md has the table for the interface engine):

* every message: MSH-7 (sent), MSH-9 (type), MSH-10 (control id);
* SIU^S12 booked, S13 rescheduled, S14 modified, S15 cancelled (S17 deleted, as S15):
  SCH-2 (else SCH-1) the appointment id; PID-3, -5, -7, -13 (email), -15; AIS-3 the
  procedure and AIS-4 its start (else SCH-11.4); AIL-3 the location (facility, else point
  of care); AIP-3 the surgeon (the AIP with role SURG, else the first);
* ADT^A03 discharge: PID; PV1-45 the discharge date; a follow-up consultation in ZFU-1 (date
  and time) and ZFU-2 (location), when the system sends one.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import hl7

from .events import BOOKED, CANCELLED, CHANGED, DISCHARGED, Event, Malformed, Unusable, clean

TYPES = {"SIU^S12": BOOKED, "SIU^S13": CHANGED, "SIU^S14": CHANGED, "SIU^S15": CANCELLED,
         "SIU^S17": CANCELLED, "ADT^A03": DISCHARGED}  # fmt: skip
SURGEON_ROLES = ("SURG", "SUR", "OP")
MAX_CONTROL = 199  # characters of MSH-10: a longer one is refused, never cut
# HL7's DTM, strictly: a date with the hour and minutes (and seconds, a fraction, an offset).
HOUR = re.compile(r"\d{12}(\d{2}(\.\d{1,4})?)?([+-]\d{4})?")
DAY = re.compile(r"\d{8}(\d{4}(\d{2}(\.\d{1,4})?)?)?([+-]\d{4})?")
APPLICATION = "LEAFLETPRESS"


def decode(data: bytes) -> str:
    """The message's text: UTF-8, else Windows-1252 (what older systems send); segments
    end in a carriage return, however the sender ended them."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    return text.replace("\r\n", "\r").replace("\n", "\r").strip("\r\x00 ") + "\r"


def read(data: bytes) -> hl7.Message:
    """The message, parsed; ``Malformed`` if it is not one."""
    text = decode(data)
    if not text.startswith("MSH"):
        raise Malformed("geen HL7-bericht: het begint niet met een MSH-segment")
    try:
        message = hl7.parse(text)
    except Exception as exc:  # python-hl7 raises what it meets: any of them means malformed
        raise Malformed(f"geen leesbaar HL7-bericht ({type(exc).__name__})") from None
    if sum(1 for segment in text.split("\r") if segment.startswith("MSH")) > 1:
        raise Malformed("meer dan één bericht in één MLLP-blok: stuur elk bericht apart")
    return message


def parse(message: hl7.Message, zone: ZoneInfo) -> Event:
    """What the message says. ``zone``: the hospital's, for times sent with an offset (times
    without one are the hospital's own)."""
    kind = f"{_get(message, 'MSH.F9.R1.C1')}^{_get(message, 'MSH.F9.R1.C2')}".upper()
    control = control_of(message)
    if not control or len(control) > MAX_CONTROL:
        raise Malformed(f"MSH-10 (berichtnummer) {'is te lang' if control else 'ontbreekt'}: "
                        "zonder eigen nummer (hoogstens 199 tekens) kan een bericht dat twee "
                        "keer komt niet herkend worden")  # fmt: skip
    if kind not in TYPES:
        raise Malformed(f"berichttype {clean(kind, 20)} wordt niet gelezen: stuur SIU^S12, "
                        "S13, S14, S15 of ADT^A03")  # fmt: skip
    action = TYPES[kind]
    common = {"control": control, "kind": kind, "action": action,
              "sent": _instant(_get(message, "MSH.F7"), zone),
              **_patient(message)}  # fmt: skip
    if action == DISCHARGED:
        return _discharge(message, common, zone)
    appointment = clean(_get(message, "SCH.F2.R1.C1") or _get(message, "SCH.F1.R1.C1"), 80)
    if not appointment:
        raise Unusable("SCH-2 en SCH-1 (het afspraaknummer) ontbreken")
    if action == CANCELLED:
        return Event(**common, appointment=appointment)
    start = _get(message, "AIS.F4") or _get(message, "SCH.F11.R1.C4")
    event = Event(
        **common, appointment=appointment,
        procedure=clean(_get(message, "AIS.F3.R1.C1"), 60),
        start=_when(start, zone, "AIS-4", soon=True) or "",
        site=clean(_get(message, "AIL.F3.R1.C4") or _get(message, "AIL.F3.R1.C1"), 60),
        surgeon=_surgeon(message),
    )  # fmt: skip
    for field, value in (("AIS-3 (de ingreep)", event.procedure), ("AIS-4 (het uur)", start),
                         ("PID-3 (het patiëntnummer)", event.reference),
                         ("PID-5 (de naam)", event.name)):  # fmt: skip
        if not value:
            raise Unusable(f"{field} ontbreekt")
    return event


def control_of(message: hl7.Message) -> str:
    """MSH-10, the message's control id ('' when it has none)."""
    return clean(_get(message, "MSH.F10"), MAX_CONTROL + 1)


def _discharge(message: hl7.Message, common: dict[str, Any], zone: ZoneInfo) -> Event:
    discharged = _when(_get(message, "PV1.F45"), zone, "PV1-45", hour=False)
    if not discharged:
        raise Unusable("PV1-45 (de ontslagdatum) ontbreekt")
    if not common["reference"]:
        raise Unusable("PID-3 (het patiëntnummer) ontbreekt")
    return Event(
        **common, appointment=clean(_get(message, "PV1.F19.R1.C1"), 80),
        discharge=discharged[:10], followup=_when(_get(message, "ZFU.F1"), zone, "ZFU-1") or "",
        followup_site=clean(_get(message, "ZFU.F2.R1.C4") or _get(message, "ZFU.F2.R1.C1"), 60),
    )  # fmt: skip


def _patient(message: hl7.Message) -> dict[str, str]:
    """Of PID, the fields a leaflet needs, and nothing else."""
    family, given = _get(message, "PID.F5.R1.C1"), _get(message, "PID.F5.R1.C2")
    birth = _get(message, "PID.F7")
    return {
        "reference": clean(_get(message, "PID.F3.R1.C1"), 40),
        "name": clean(f"{given} {family}"),
        "birth_date": _date(birth),
        "email": _email(message),
        "language": clean(_get(message, "PID.F15.R1.C1"), 20),
    }


def _email(message: hl7.Message) -> str:
    """PID-13's repetition for the internet (XTN-2 NET, or an address with @ in XTN-4)."""
    for n in range(1, 11):
        address = _get(message, f"PID.F13.R{n}.C4")
        if "@" in address:
            return clean(address, 254)
    return ""


def _surgeon(message: hl7.Message) -> str:
    """AIP-3's id: the personnel resource with role SURG, else the first one."""
    try:
        segments = message.segments("AIP")
    except KeyError:
        return ""
    found = [(str(_part(s, 4)).upper(), str(_part(s, 3))) for s in segments]
    chosen = next((code for role, code in found if role in SURGEON_ROLES), found[0][1])
    return clean(chosen, 60)


def _part(segment: Any, field: int) -> str:
    """The first component of a segment's field, '' when it is not there."""
    try:
        value = segment(field)
        while isinstance(value, hl7.Repetition | hl7.Field) and len(value):
            value = value[0]
        return str(value)
    except (IndexError, KeyError):
        return ""


def _get(message: hl7.Message, key: str) -> str:
    try:
        return str(message[key]).strip()
    except (KeyError, IndexError, ValueError):
        return ""


def _when(value: str, zone: ZoneInfo, field: str, hour: bool = True,
          soon: bool = False) -> str | None:  # fmt: skip
    """An HL7 date and time in the hospital's time (ISO); None when it is empty. ``hour``:
    the hour is needed (an appointment), else the date will do (a discharge). ``soon``: a
    day within a year before and two years after today (2062 is a typo, not a booking)."""
    moment = _moment(value, zone, field, hour)
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(zone).replace(tzinfo=None)
    today = datetime.now(zone).date()
    if soon and not today - timedelta(days=366) <= moment.date() <= today + timedelta(days=731):
        raise Unusable(f"{field} ligt meer dan een jaar terug of twee jaar vooruit "
                       f"(nu: {clean(value, 30)}): is het jaartal juist?")  # fmt: skip
    return str(moment.isoformat(timespec="seconds"))


def _instant(value: str, zone: ZoneInfo) -> str:
    """When a message was sent (MSH-7), in UTC, to compare two messages: the hour after a
    clock goes back is later than the hour before it. '' when not given."""
    moment = _moment(value, zone, "MSH-7", hour=False)
    if moment is None:
        return ""
    local = moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)
    return str(local.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds"))


def _moment(value: str, zone: ZoneInfo, field: str, hour: bool) -> datetime | None:
    """HL7's DTM, strictly (python-hl7 alone reads '2026-12-15' as 1 January 2026)."""
    if not value:
        return None
    try:
        if not (HOUR if hour else DAY).fullmatch(value):
            raise ValueError(value)
        moment = hl7.parse_datetime(value)
        if moment is not None and moment.tzinfo is not None:
            moment.astimezone(zone)  # an offset that leaves the calendar: refused here
    except (ValueError, OverflowError):
        wanted = "JJJJMMDDUUMM" if hour else "JJJJMMDD"
        raise Unusable(
            f"{field} is geen geldige datum en tijd (nu: {clean(value, 30)}; "
            f"verwacht: {wanted}, eventueel met seconden en +ZZZZ)"
        ) from None
    return moment if isinstance(moment, datetime) else None


def _date(value: str) -> str:
    """A birth date as ISO; '' when it is missing or not a date (the list's check says so)."""
    try:
        return datetime.strptime(value[:8], "%Y%m%d").date().isoformat() if value else ""
    except ValueError:
        return clean(value, 20)


def ack(message: hl7.Message | None, code: str, text: str = "", control: str = "") -> bytes:
    """The acknowledgement: AA, AE or AR, with the reason in MSA-3 (Dutch). A message too
    broken to read gets an ACK addressed to nobody in particular."""
    if message is not None:
        answer = message.create_ack(code, application=APPLICATION)
        if text:
            answer.segment("MSA").assign_field(escape(clean(text, 500)), 3)
        return str(answer).encode("utf-8")
    stamp = datetime.now().strftime("%Y%m%d%H%M%S")
    bare = hl7.parse(f"MSH|^~\\&|{APPLICATION}|||||{stamp}||ACK|{stamp}|P|2.5\rMSA|{code}|\r")
    bare.segment("MSA").assign_field(escape(control), 2)
    bare.segment("MSA").assign_field(escape(clean(text, 500)), 3)
    return str(bare).encode("utf-8")


ESCAPES = {"\\": "\\E\\", "|": "\\F\\", "^": "\\S\\", "&": "\\T\\", "~": "\\R\\"}


def escape(text: str) -> str:
    """HL7's escapes for its separators only: the answer is UTF-8, so 'ë' stays 'ë'
    (python-hl7's escape writes every non-ASCII letter as a byte of Latin-1)."""
    return "".join(ESCAPES.get(ch, ch) for ch in text)
