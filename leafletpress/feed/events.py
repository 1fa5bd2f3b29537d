"""What one message from the hospital system says, and the day-list row it becomes.

Input: an ``Event`` (from ``hl7v2.py`` or ``fhir.py``): the hospital system's own codes and
only the patient's fields a leaflet needs (reference, name, birth date, email, language).
Output: ``row``: the row as an uploaded list would have it (the fields of
``config/columns.yaml``), with each code the mapping does not know said in Dutch; and
``day_list``: a day's rows as a CSV file that ``visit/daylist.py`` reads like any upload, so
the feed is checked by the same ``Planner.check`` as a list.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
from dataclasses import dataclass
from datetime import date, datetime

from ..visit.daylist import FIELDS, REQUIRED, Columns
from .mapping import SHOWN, Mapping

BOOKED, CHANGED, CANCELLED, DISCHARGED = "geboekt", "gewijzigd", "geannuleerd", "ontslagen"
BEFORE, DISCHARGE = "voor", "ontslag"  # the moments of visit/appointment.py
MAX_TEXT = 200  # a field kept from a message: a name, an address, a code
JOINERS = "\u200c\u200d"  # zero-width (non-)joiners: part of Persian and Indic names
# A list's fields as an answer to the hospital system names them.
FIELD_NAMES = {"reference": "patiëntnummer", "name": "naam", "birth_date": "geboortedatum",
               "email": "e-mailadres", "language": "taal", "lang": "taal", "leaflet": "folder",
               "variant": "ingreep", "surgeon": "chirurg", "site": "campus", "date": "datum",
               "time": "uur", "moment": "moment", "discharge_date": "ontslagdatum",
               "followup_date": "controledatum", "followup_time": "controle-uur",
               "followup_site": "controlecampus"}  # fmt: skip


class Unusable(Exception):
    """A message that was understood but cannot be used (HL7 AE): why, in Dutch."""


class Malformed(Exception):
    """A message that is not one we read (HL7 AR): why, in Dutch."""


@dataclass(frozen=True)
class Event:
    """One message: what happened to which appointment, in the hospital system's codes."""

    control: str  # MSH-10, or the FHIR resource's id and version: a message seen twice
    kind: str  # "SIU^S12", "ADT^A03", "FHIR Appointment"
    action: str  # BOOKED, CHANGED, CANCELLED, DISCHARGED
    appointment: str  # the appointment's id in the hospital system
    sent: str = ""  # when the system sent it (ISO): an older message never wins
    reference: str = ""  # the patient's number (PID-3)
    name: str = ""
    birth_date: str = ""  # ISO
    email: str = ""
    language: str = ""  # as the system codes it
    procedure: str = ""  # codes, mapped by config/koppeling.yaml
    surgeon: str = ""
    site: str = ""
    start: str = ""  # the appointment's local date and time (ISO)
    discharge: str = ""  # the discharge date (ISO), ADT^A03
    followup: str = ""  # a follow-up consultation's local date and time (ISO), if known
    followup_site: str = ""

    @property
    def moment(self) -> str:
        return DISCHARGE if self.discharge else BEFORE

    @property
    def day(self) -> date | None:
        """The day whose list the appointment is on: the operation's, or the discharge's."""
        when = self.discharge or self.start[:10]
        return date.fromisoformat(when) if when else None

    @property
    def digest(self) -> str:
        """What the message says (not when it was sent, nor its number): the same message
        sent again has the same digest; another one under a used number has not."""
        said = dataclasses.asdict(self) | {"control": "", "sent": ""}
        return hashlib.sha256(json.dumps(said, sort_keys=True).encode()).hexdigest()

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Event:
        data = json.loads(text)
        return cls(**{f.name: str(data.get(f.name, "")) for f in dataclasses.fields(cls)})

    def discharged(self, discharge: Event) -> Event:
        """This appointment's leaflet at discharge: the operation's details, the discharge's
        date and follow-up, and the patient's details as the discharge message gives them."""
        patient = {k: getattr(discharge, k) or getattr(self, k)
                   for k in ("reference", "name", "birth_date", "email", "language")}  # fmt: skip
        return dataclasses.replace(
            self, **patient, control=discharge.control, kind=discharge.kind,
            action=DISCHARGED, appointment=f"{self.appointment}/ontslag", sent=discharge.sent,
            discharge=discharge.discharge, followup=discharge.followup,
            followup_site=discharge.followup_site,
        )  # fmt: skip


def clean(value: object, limit: int = MAX_TEXT) -> str:
    """A field from a message as text: no control characters, no runs of spaces."""
    text = "".join(ch if ch.isprintable() or ch in JOINERS else " " for ch in str(value or ""))
    return " ".join(text.split())[:limit]


@dataclass(frozen=True)
class Mapped:
    values: dict[str, str]  # field of config/columns.yaml -> cell
    unknown: tuple[str, ...] = ()  # codes the mapping does not know, in Dutch
    ignored: bool = False  # a procedure without a leaflet (``ignore``): nothing to make


def row(event: Event, mapping: Mapping) -> Mapped:
    """The list row of an appointment. A code the mapping does not know goes in as sent, so
    the row is refused as an uploaded one would be, and ``unknown`` says which code to add."""
    if mapping.ignored(event.procedure):
        return Mapped({}, ignored=True)
    unknown = []
    procedure = mapping.procedure(event.procedure)
    if procedure is None:
        unknown.append(f"procedurecode '{event.procedure}' staat niet in {SHOWN}: voeg hem toe "
                       "onder procedures (folder en variant), of onder ignore als er geen "
                       "folder bij hoort")  # fmt: skip
    surgeon = mapping.surgeons.get(event.surgeon)
    if surgeon is None and event.surgeon:
        unknown.append(f"chirurgcode '{event.surgeon}' staat niet in {SHOWN} onder surgeons")
    site = mapping.sites.get(event.site)
    if site is None and event.site:
        unknown.append(f"locatiecode '{event.site}' staat niet in {SHOWN} onder sites")
    followup_site = mapping.sites.get(event.followup_site, event.followup_site)
    when = datetime.fromisoformat(event.start) if event.start else None
    followup = datetime.fromisoformat(event.followup) if event.followup else None
    values = {
        "reference": event.reference, "name": event.name, "birth_date": event.birth_date,
        "email": event.email, "language": mapping.language(event.language),
        "leaflet": procedure.leaflet if procedure else event.procedure,
        "variant": procedure.variant if procedure else "",
        "surgeon": surgeon or event.surgeon, "site": site or event.site,
        "date": when.date().isoformat() if when else "",
        "time": when.strftime("%H:%M") if when and event.moment == BEFORE else "",
        "moment": event.moment, "discharge_date": event.discharge,
        "followup_date": followup.date().isoformat() if followup else "",
        "followup_time": followup.strftime("%H:%M") if followup else "",
        "followup_site": followup_site if followup else "",
    }  # fmt: skip
    return Mapped(values, tuple(unknown))


def day_list(rows: list[dict[str, str]], columns: Columns) -> bytes:
    """Rows as a CSV list (UTF-8, ';') under this hospital's own header names, which
    ``read_day_list`` reads back as it reads an upload. A field the hospital's columns do not
    name is left out (it has no header to go under)."""
    names = columns.fields()
    fields = [f for f in FIELDS if names[f] and (f in REQUIRED or any(r.get(f) for r in rows))]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([names[f][0] for f in fields])
    for values in rows:
        writer.writerow([values.get(f, "") for f in fields])
    return out.getvalue().encode("utf-8-sig")
