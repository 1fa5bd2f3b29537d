"""The hospital, its sites and its surgeons, loaded from config/ and validated on load."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from holidays.registry import EntityLoader
from pydantic import AfterValidator, BeforeValidator, Field, StrictBool, StrictInt

from ..common.errors import ContentError
from ..common.project import Project
from ..common.validation import (
    ContentErrors,
    HexColour,
    HttpUrl,
    Localised,
    M,
    Slug,
    Strict,
    Text,
    in_language,
    load_yaml,
    validate,
)


class Colours(Strict):
    primary: HexColour
    accent: HexColour
    tint: HexColour


def _time_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("onbekende tijdzone (bv. Europe/Brussels)") from None
    return name


def _holiday_country(code: str) -> str:
    """A country whose public holidays are known: the codes ``list_supported_countries``
    gives, read from the holidays library's table (listing them imported every country's
    module: 40-60 ms at each start of every process). Its other names (classes, stock
    markets) are no country: their calendars move no deadline off a Belgian holiday."""
    if code not in EntityLoader.get_country_codes():
        raise ValueError("onbekend land voor de feestdagen (bv. BE)")
    return code


# A publisher's label, which leaflets print in their own language: until 0.1.0 the value carried
# it ("VU: ..."); one written so is printed with one label, not two.
_PUBLISHER_LABEL = re.compile(
    r"^\s*(?:(?:v\.\s?u\.|[ée]\.\s?r\.)\s*:?"  # "V.U." and "É.R.", with or without a colon
    r"|(?:vu|[ée]r|verantwoordelijke uitgever|[ée]diteur responsable|responsible publisher)\s*:)"
    r"\s*",
    re.IGNORECASE,
)


def _publisher(name: str) -> str:
    name = _PUBLISHER_LABEL.sub("", name, count=1)
    if not name:
        raise ValueError("geef naam en adres van de verantwoordelijke uitgever (zonder 'VU:')")
    return name


TimeZone = Annotated[str, AfterValidator(_time_zone)]
HolidayCountry = Annotated[str, AfterValidator(_holiday_country)]


_SIGN_OFF = '{by: "dr. …", when: JJJJ-MM-DD, value: …}'


def _sign_off(data: Any) -> Any:
    if data is not None and not isinstance(data, dict):
        raise ValueError(f"schrijf de goedkeuring als {_SIGN_OFF}")
    return data


class _SignOff(Strict):
    """Who approved a policy setting, when, and the value they approved: a later change of the
    setting's value needs a new sign-off."""

    by: Text
    when: date


class _Setting(Strict):
    value: Any
    signed_off: Any

    @property
    def signed(self) -> bool:
        """Signed off for the value it has now."""
        return self.signed_off is not None and self.signed_off.value == self.value


class _MinutesSignOff(_SignOff):
    value: StrictInt


class Arrival(_Setting):
    value: StrictInt = Field(default=60, ge=0, le=240)  # minutes before the procedure
    signed_off: Annotated[_MinutesSignOff | None, BeforeValidator(_sign_off)] = None


class _SwitchSignOff(_SignOff):
    value: StrictBool


class Switch(_Setting):
    value: StrictBool = True
    signed_off: Annotated[_SwitchSignOff | None, BeforeValidator(_sign_off)] = None


class Policy(Strict):
    """Hospital policy that leaflets print but their approved text does not carry; each setting
    needs a medical owner's sign-off (config/hospital.yaml, ``policy``)."""

    arrival_minutes_before: Arrival = Arrival()  # page 1: "Aanmelden om"
    # The warning-signs box ends with "bel 112" for severe breathlessness or chest pain.
    call_112_for_breathlessness: Switch = Switch()

    def unsigned(self) -> tuple[str, ...]:
        """The settings no one has signed off for their present value."""
        return tuple(name for name in type(self).model_fields if not getattr(self, name).signed)


class Readability(Strict):
    """The reading level the editors' report measures against (content/readability.py)."""

    target: Literal["A2", "B1", "B2"] = "B1"


class Hospital(Strict):
    example: bool = False
    name: Text
    full_name: Text
    website: HttpUrl
    logo: str | None = None
    colours: Colours
    ombudsman_url: HttpUrl
    appointments_url: HttpUrl | None = None  # where patients make an appointment online
    # The language of the hospital's own pages (ombudsman_url, appointments_url): a leaflet in
    # another language says so after the address ("(en néerlandais)").
    pages_lang: Literal["nl", "fr", "en"] = "nl"
    publisher: Annotated[Text, AfterValidator(_publisher)] | None = None  # without "VU:"
    timezone: TimeZone = "Europe/Brussels"  # appointments and derived times are in it
    holidays: HolidayCountry = "BE"  # public holidays: deadlines move to the working day before
    policy: Policy = Policy()
    readability: Readability = Readability()


class Site(Strict):
    name: Text
    address: Text
    phone: Text
    contact_url: HttpUrl
    urgent_phone: Text | None = None  # warning signs after an operation: required at discharge
    day_hospital: bool = False
    report_to: Localised  # a text, or one per language (nl, fr, en)
    # The consultations held here (e.g. orthopedie), each with where to report for it.
    consultations: dict[Slug, Localised] = Field(default_factory=dict)
    # From this day on no longer offered or accepted; kept so that older days still read it.
    retired: date | None = None


class Surgeon(Strict):
    name: Text
    title: Localised | None = None  # "dr.", or one per language: {nl: dr., fr: Dr, en: Dr}
    service: Text
    sites: list[Slug] = Field(min_length=1)
    # From this day on no longer offered or accepted (left, retired); kept so that older
    # days and manifests still name them.
    retired: date | None = None

    @property
    def display_name(self) -> str:
        return self.name_in("nl")

    def name_in(self, lang: str) -> str:
        """The name with its title as written in `lang`."""
        return f"{in_language(self.title, lang) if self.title else ''} {self.name}".strip()


class _SitesFile(Strict):
    example: bool = False
    sites: dict[Slug, Site] = Field(min_length=1)


class _SurgeonsFile(Strict):
    example: bool = False
    surgeons: dict[Slug, Surgeon] = Field(min_length=1)


@dataclass(frozen=True)
class Registry:
    hospital: Hospital
    sites: dict[str, Site]
    surgeons: dict[str, Surgeon]
    logo_path: Path | None
    example_files: tuple[str, ...]
    fonts_dir: Path  # the bundled fonts: what a leaflet can print (fonts.py)

    @property
    def unsigned_policy(self) -> tuple[str, ...]:
        """``policy.<setting>`` for each hospital policy setting still to be signed off."""
        return tuple(f"policy.{name}" for name in self.hospital.policy.unsigned())

    @property
    def example(self) -> bool:
        """Example data somewhere: every page says VOORBEELD."""
        return bool(self.example_files or self.unsigned_policy)


def load_registry(project: Project) -> Registry:
    """Load and cross-check config/; every problem names its file and key."""
    problems: list[ContentError] = []

    def load(name: str, model: type[M]) -> M | None:
        shown = f"config/{name}"
        try:
            return validate(model, load_yaml(project.config_dir / name, shown), shown)
        except ContentErrors as exc:
            problems.extend(exc.problems)
        except ContentError as exc:
            problems.append(exc)
        return None

    hospital = load("hospital.yaml", Hospital)
    sites_file = load("sites.yaml", _SitesFile)
    surgeons_file = load("surgeons.yaml", _SurgeonsFile)

    logo_path = None
    if hospital is not None and hospital.logo:
        assets = (project.config_dir / "assets").resolve()
        logo_path = (project.config_dir / hospital.logo).resolve()
        if not logo_path.is_relative_to(assets) or not logo_path.is_file():
            problems.append(
                ContentError(
                    f"logo '{hospital.logo}' niet gevonden in config/assets/",
                    file="config/hospital.yaml",
                    field="logo",
                    hint="zet het logo (SVG of PNG) in config/assets/ en verwijs ernaar "
                    "als assets/<bestand>",
                )
            )
    if sites_file is not None and surgeons_file is not None:
        for key, surgeon in surgeons_file.surgeons.items():
            for index, site in enumerate(surgeon.sites):
                if site not in sites_file.sites:
                    problems.append(
                        ContentError(
                            f"onbekende campus '{site}'",
                            file="config/surgeons.yaml",
                            field=f"surgeons.{key}.sites.{index}",
                            hint=f"kies uit: {', '.join(sites_file.sites)}",
                        )
                    )
    if problems:
        raise ContentErrors(problems)
    assert hospital and sites_file and surgeons_file
    examples = tuple(
        f"config/{name}"
        for name, data in (
            ("hospital.yaml", hospital),
            ("sites.yaml", sites_file),
            ("surgeons.yaml", surgeons_file),
        )
        if data.example
    )
    return Registry(
        hospital, sites_file.sites, surgeons_file.surgeons, logo_path, examples,
        project.styles_dir / "fonts",
    )  # fmt: skip
