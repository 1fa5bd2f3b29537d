"""The hospital system's codes, and when leaflets from its messages are made and emailed:
``config/koppeling.yaml``.

Input: the content folder. Output: ``Mapping``, validated (every problem names the file and
the key, in Dutch), or None when the hospital has no feed. ``check`` checks that each code
leads to a leaflet, variant, surgeon and campus that exist (``problems``).
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BeforeValidator, Field, StringConstraints, field_validator

from ..common.errors import ContentError
from ..common.project import Project
from ..common.validation import Slug, Strict, load_yaml, validate
from ..content.leaflet import LOCALES, catalogue, load_leaflet
from ..content.registry import Registry

MAPPING_FILE = "koppeling.yaml"
SHOWN = f"config/{MAPPING_FILE}"

# A code as hospital systems write them: letters, digits and a few signs, never a separator
# of HL7 (| ^ ~ \ &) or a space at either end.
Code = Annotated[str, BeforeValidator(lambda v: str(v) if isinstance(v, int) else v),
                 StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._/:-]{0,59}$")]  # fmt: skip
DAYS_BEFORE = re.compile(r"^([1-9]\d{0,2}) dagen? voor(af)?$")


def _days_before(value: object) -> object:
    """'14 dagen voor' -> 14; 'bij boeking' (made) -> 0; 'nooit' (emailed) -> None."""
    if value == "bij boeking":
        return 0
    if value in ("nooit", None):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and (found := DAYS_BEFORE.match(value.strip())):
        return int(found.group(1))
    raise ValueError("schrijf 'bij boeking', 'nooit' of een aantal dagen: '14 dagen voor'")


DaysBefore = Annotated[int | None, BeforeValidator(_days_before), Field(ge=0, le=365)]


class Procedure(Strict):
    leaflet: Slug
    variant: Slug


class Timing(Strict):
    """When a day from the feed is made and emailed, counted back from its date."""

    make: DaysBefore = 0  # 0: as soon as it is booked
    email: DaysBefore = None  # None: never by itself (the secretary sends it)
    reminders: str = "nooit"
    # Email a day no secretary has looked at ("Nagekeken")? Off: a person looks first.
    email_unchecked: bool = False

    @field_validator("reminders")
    @classmethod
    def _no_reminders(cls, value: str) -> str:
        if value != "nooit":
            raise ValueError("herinneringen bestaan nog niet: schrijf 'nooit'")
        return value


class Mapping(Strict):
    """Per kind of code in the hospital system's messages, what it is here."""

    example: bool = False
    procedures: dict[Code, Procedure] = Field(min_length=1)  # AIS-3 / serviceType
    ignore: tuple[Code, ...] = ()  # procedures without a leaflet: accepted, nothing kept
    surgeons: dict[Code, Slug] = Field(default_factory=dict)  # AIP-3 / Practitioner
    sites: dict[Code, Slug] = Field(default_factory=dict)  # AIL-3 / Location
    languages: dict[Code, str] = Field(default_factory=dict)  # PID-15 / communication
    timing: Timing = Field(default_factory=Timing)

    @field_validator("languages")
    @classmethod
    def _known_languages(cls, value: dict[str, str]) -> dict[str, str]:
        for code, lang in value.items():
            if lang not in LOCALES:
                raise ValueError(f"taal '{lang}' (code {code}) bestaat niet: kies nl, fr of en")
        return value

    def procedure(self, code: str) -> Procedure | None:
        return self.procedures.get(code.strip())

    def ignored(self, code: str) -> bool:
        return code.strip() in self.ignore

    def language(self, code: str) -> str:
        """PID-15's code as a language here, else as sent: the list's reader knows 'fr',
        'FR' and 'Frans', and refuses what it does not know, as in an uploaded list."""
        return self.languages.get(code.strip()) or code.strip()


def load_mapping(project: Project) -> Mapping | None:
    """The hospital's feed configuration; None if it has none (no feed)."""
    path = project.config_dir / MAPPING_FILE
    if not path.is_file():
        return None
    return validate(Mapping, load_yaml(path, SHOWN), SHOWN)


def problems(mapping: Mapping, project: Project, registry: Registry) -> list[ContentError]:
    """Codes that lead nowhere: a leaflet, variant, surgeon or campus that does not exist."""
    found: list[ContentError] = []
    leaflets = catalogue(project)
    for code, wanted in mapping.procedures.items():
        where = f"procedures.{code}"
        if wanted.leaflet not in leaflets:
            found.append(ContentError(f"folder '{wanted.leaflet}' bestaat niet", file=SHOWN,
                                      field=f"{where}.leaflet",
                                      hint=f"kies uit: {', '.join(sorted(leaflets))}"))  # fmt: skip
            continue
        try:
            variants = load_leaflet(project, wanted.leaflet, "nl").meta.variants
        except ContentError:
            continue  # the leaflet's own error is reported with it
        if wanted.variant not in variants:
            found.append(ContentError(f"variant '{wanted.variant}' bestaat niet in "
                                      f"{wanted.leaflet}", file=SHOWN, field=f"{where}.variant",
                                      hint=f"kies uit: {', '.join(variants)}"))  # fmt: skip
        if code in mapping.ignore:
            found.append(
                ContentError(
                    "staat ook onder ignore",
                    file=SHOWN,
                    field=where,
                    hint="een code heeft een folder of wordt genegeerd",
                )
            )
    for kind, known, shown in (("surgeons", registry.surgeons, "chirurg"),
                               ("sites", registry.sites, "campus")):  # fmt: skip
        for code, key in getattr(mapping, kind).items():
            if key not in known:
                found.append(
                    ContentError(
                        f"{shown} '{key}' bestaat niet",
                        file=SHOWN,
                        field=f"{kind}.{code}",
                        hint=f"kies uit: {', '.join(sorted(known))}",
                    )
                )
    return found
