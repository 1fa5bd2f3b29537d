"""File names for leaflets: never the patient's name, safe on every file system."""

from __future__ import annotations

from ..common.keyed import keyed
from .appointment import Visit


def pseudonym(visit: Visit) -> str:
    """A short stable id for a visit without patient reference: no name in file names, and
    nothing that tells who it is to someone without the hospital's key."""
    key = "|".join(
        str(x)
        for x in (
            visit.patient.name,
            visit.patient.birth_date,
            visit.leaflet,
            visit.variant,
            visit.site,
            visit.date,
            visit.time,
        )
    )
    if visit.discharge is not None:  # the same patient's leaflets before and at discharge differ
        key += f"|ontslag|{visit.discharge.date}"
    return "p" + keyed(key)[:10]  # keyed: a guessed name and birth date confirm nothing (F16)


def leaflet_file_name(visit: Visit, lang: str, suffix: str = "") -> str:
    """'<date>/<reference>_<HHMM>_<leaflet>-<variant>[-<lang>][suffix].pdf' before the
    operation; '<discharge date>/<reference>_<leaflet>-<variant>[-<lang>]-ontslag[suffix].pdf'
    at discharge. References are already restricted to [A-Za-z0-9._-], so the name is safe
    on every file system."""
    who = visit.patient.reference or pseudonym(visit)
    language = "" if lang == "nl" else f"-{lang}"
    hour = "" if visit.time is None else f"_{visit.time:%H%M}"
    moment = "" if visit.discharge is None else f"-{visit.moment}"
    return (
        f"{visit.day.isoformat()}/{who}{hour}_{visit.leaflet}-{visit.variant}"
        f"{language}{moment}{suffix}.pdf"
    )
