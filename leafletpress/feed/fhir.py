"""FHIR R4 Appointments, the same events as HL7's SIU, validated with ``fhir.resources``.

Input: a posted JSON body: an ``Appointment`` whose ``Patient`` is contained in it, or a
``Bundle`` holding both. Output: an ``Event`` (events.py), or ``Malformed`` (not valid FHIR:
HTTP 400) or ``Unusable`` (valid, but a field we need is missing: 422); ``outcome`` writes the
``OperationOutcome`` that answers it, in Dutch. (R4B's models: its Appointment and Patient are
R4's.)

Read: ``Appointment.identifier[0]`` (else its id) the appointment; ``status`` booked, pending
or proposed (booked), cancelled, noshow or entered-in-error (cancelled); ``serviceType`` (else
``appointmentType``) the procedure code; ``start``; the participants: the Patient, the first
Practitioner (the surgeon: its identifier, else the id in its reference) and the Location.
Of the Patient: ``identifier[0]``, ``name[0]``, ``birthDate``, the ``email`` telecom and
``communication[0].language``.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC
from typing import Any
from zoneinfo import ZoneInfo

from fhir.resources.R4B.appointment import Appointment
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.patient import Patient
from pydantic import ValidationError

from .events import BOOKED, CANCELLED, Event, Malformed, Unusable, clean

KIND = "FHIR Appointment"
STATUSES = {"booked": BOOKED, "pending": BOOKED, "proposed": BOOKED,
            "cancelled": CANCELLED, "noshow": CANCELLED, "entered-in-error": CANCELLED}  # fmt: skip


def parse(body: bytes, zone: ZoneInfo) -> Event:
    """What a posted Appointment (or Bundle) says."""
    appointment, patients = _resources(body)
    status = str(appointment.status or "")
    if status not in STATUSES:
        raise Unusable(
            f"status '{clean(status, 30)}' verandert niets aan een folder: stuur "
            "booked, pending, proposed, cancelled, noshow of entered-in-error"
        )
    version = appointment.meta.versionId if appointment.meta else None
    control = (
        f"Appointment/{appointment.id}/_history/{version}"
        if appointment.id and version
        else f"Appointment/{appointment.id or ''}#{hashlib.sha256(body).hexdigest()[:20]}"
    )
    number = next((i.value for i in appointment.identifier or [] if i.value), appointment.id)
    if not number:
        raise Unusable("Appointment.identifier en Appointment.id ontbreken")
    common = {
        "control": clean(control, 199),
        "kind": KIND,
        "action": STATUSES[status],
        "appointment": clean(number, 80),
        "sent": _local(appointment.meta.lastUpdated, UTC) if appointment.meta else "",
    }
    if STATUSES[status] == CANCELLED:
        return Event(**common)
    patient = _patient_of(appointment, patients)
    kinds = [*(appointment.serviceType or []), appointment.appointmentType]
    codes = [c.code for kind in kinds if kind is not None for c in kind.coding or [] if c.code]
    event = Event(**common, **_patient(patient), procedure=clean(codes[0] if codes else "", 60),
                  start=_local(appointment.start, zone), **_actors(appointment))  # fmt: skip
    for field, value in (("Appointment.serviceType (de ingreep)", event.procedure),
                         ("Appointment.start (het uur)", event.start),
                         ("Patient.identifier (het patiëntnummer)", event.reference),
                         ("Patient.name (de naam)", event.name)):  # fmt: skip
        if not value:
            raise Unusable(f"{field} ontbreekt")
    return event


def _resources(body: bytes) -> tuple[Appointment, dict[str, Patient]]:
    """The Appointment and the Patients beside it, by the references that name them
    ('#p' for a contained one; 'Patient/123', or the entry's fullUrl, in a Bundle)."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise Malformed(f"geen geldige JSON ({clean(exc, 100)})") from None
    kind = data.get("resourceType") if isinstance(data, dict) else None
    if kind not in ("Appointment", "Bundle"):
        raise Malformed("stuur een Appointment (met de Patient in contained) of een Bundle")
    try:
        if kind == "Appointment":
            appointment = Appointment.model_validate(data)
            contained = appointment.contained or []
            return appointment, {f"#{r.id}": r for r in contained if isinstance(r, Patient)}
        bundle = Bundle.model_validate(data)
    except (ValidationError, ValueError, TypeError, RecursionError) as exc:
        errors = exc.errors() if isinstance(exc, ValidationError) else []
        where = ".".join(str(p) for p in errors[0]["loc"]) if errors else ""
        raise Malformed(
            f"geen geldige FHIR R4-{kind} ({len(errors) or 1} fout(en)"
            f"{f', eerst bij {clean(where, 80)}' if where else ''})"
        ) from None
    entries = [e for e in bundle.entry or [] if e.resource is not None]
    appointments = [e.resource for e in entries if isinstance(e.resource, Appointment)]
    if len(appointments) != 1:
        raise Unusable("de Bundle moet precies één Appointment bevatten")
    patients = {}
    for entry in entries:
        if isinstance(entry.resource, Patient):
            patients[f"Patient/{entry.resource.id}"] = entry.resource
            patients[str(entry.fullUrl or "")] = entry.resource
    return appointments[0], patients


def _patient_of(appointment: Appointment, patients: dict[str, Patient]) -> Patient:
    """The Patient the appointment's participant names; never another one beside it."""
    named = [p.actor.reference for p in appointment.participant or [] if p.actor is not None]
    found = {id(patients[r]): patients[r] for r in named if r and r in patients}
    if len(found) != 1:
        raise Unusable("de Patient ontbreekt of is niet eenduidig: een participant van de "
                       "Appointment verwijst naar hem (#id in contained, Patient/id of de "
                       "fullUrl in de Bundle)")  # fmt: skip
    return next(iter(found.values()))


def _patient(patient: Patient) -> dict[str, str]:
    """Of the Patient, the fields a leaflet needs, and nothing else."""
    name = patient.name[0] if patient.name else None
    email = next((t.value for t in patient.telecom or [] if t.system == "email" and t.value), "")
    language = ""
    if patient.communication and patient.communication[0].language.coding:
        language = patient.communication[0].language.coding[0].code or ""
    return {
        "reference": clean(next((i.value for i in patient.identifier or [] if i.value), ""), 40),
        "name": clean(" ".join([*(g or "" for g in name.given or []), name.family or ""]))
        if name
        else "",
        "birth_date": patient.birthDate.isoformat() if patient.birthDate else "",
        "email": clean(email, 254),
        "language": clean(language, 20),
    }


def _actors(appointment: Appointment) -> dict[str, str]:
    """The surgeon's and the location's codes among the participants."""
    found: dict[str, str] = {}
    for participant in appointment.participant or []:
        actor = participant.actor
        if actor is None:
            continue
        reference = actor.reference or ""
        kind = actor.type or reference.split("/")[0]
        code = (actor.identifier.value if actor.identifier else "") or reference.split("/")[-1]
        field = {"Practitioner": "surgeon", "Location": "site"}.get(kind)
        if field and field not in found and code:
            found[field] = clean(code, 60)
    return found


def _local(moment: Any, zone: ZoneInfo | Any) -> str:
    """A FHIR moment as ISO in ``zone``: the hospital's for an appointment, UTC for when a
    resource was last changed (to compare two of them)."""
    if moment is None:
        return ""
    if moment.tzinfo is not None:
        moment = moment.astimezone(zone).replace(tzinfo=None)
    return str(moment.isoformat(timespec="seconds"))


def outcome(severity: str, text: str) -> str:
    """The OperationOutcome that answers a post: ``information`` (accepted) or ``error``."""
    code = "informational" if severity == "information" else "processing"
    issue = {"severity": severity, "code": code, "diagnostics": clean(text, 500)}
    return str(OperationOutcome(issue=[issue]).model_dump_json())
