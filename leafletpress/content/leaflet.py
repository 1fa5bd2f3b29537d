"""Leaflets: ``leaflets/<slug>/<lang>.md``, YAML front matter + Markdown body.

One approved text serves two moments: ``voor`` (before the operation: appointment, fasting,
blood thinners) and ``ontslag`` (at discharge: recovery, follow-up, warning signs). Passages for
one moment only are marked in the Markdown (``::: moment voor``); the facts a discharge card
needs (the consultation that does the follow-up, each variant's recovery milestones) are in
the front matter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator

from ..common.errors import ContentError, InputError, choices, clipped
from ..common.project import Project
from ..common.validation import HttpUrl, Slug, Strict, Text, parse_yaml, validate
from .languages import language_code, language_name

# Languages a leaflet may be written in, with the Babel locale used for dates.
LOCALES = {"nl": "nl_BE", "fr": "fr_BE", "en": "en_GB"}
HTML_LANG = {"nl": "nl-BE", "fr": "fr-BE", "en": "en-GB"}
DEFAULT_LANGUAGE = "nl"

# The moments a leaflet is made for: key -> what it is called in messages.
BEFORE, DISCHARGE = "voor", "ontslag"
MOMENTS = {BEFORE: "voor de ingreep", DISCHARGE: "bij ontslag"}

_VERSION = re.compile(r"[0-9]{1,6}(?:\.[0-9]{1,6}){0,5}", re.ASCII)  # 3.4, 3.4.1
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)---[ \t]*\n", re.DOTALL)


UNITS = ("days", "weeks", "months")


def _span(value: object) -> tuple[int, int]:
    """6 -> (6, 6); [1, 2] -> (1, 2); anything else refused in words an editor reads."""
    given = value if isinstance(value, list) and len(value) == 2 else [value]
    numbers = [n for n in given if isinstance(n, int) and not isinstance(n, bool)]
    if len(numbers) != len(given):
        raise ValueError("schrijf een geheel getal (6) of [van, tot] (bv. [1, 2])")
    low, high = numbers[0], numbers[-1]
    if not 0 <= low <= high <= 366:
        raise ValueError("een termijn van 0 tot 366, het kleinste getal eerst")
    return (low, high)


Span = Annotated[tuple[int, int], BeforeValidator(_span)]


class Milestone(Strict):
    """A step of recovery as the leaflet words it, and how its date is meant (``kind``):

    - ``from`` (the default): a step that starts around a date, after ``days``, ``weeks`` or
      ``months`` from the operation day (one number, or [from, to] for "1 à 2 dagen"):
      "rond 2 februari 2027 (na 6 weken)";
    - ``until``: a restriction that lasts until then: "tot ongeveer 26 januari 2027 (de
      eerste 6 weken)";
    - ``up_to``: an upper limit, which may come sooner: "kan duren tot ongeveer maart 2027
      (tot 3 maanden)";
    - without a number: printed as worded, with ``when`` if the text gives one in words ("reken
      op een aantal maanden"), never a date.

    ``done`` is how a step reads when its date has come by the discharge day ("Je revalidatie
    is gestart in het ziekenhuis"); a step without it is then left off the card."""

    text: Text
    kind: Literal["from", "until", "up_to"] = "from"
    days: Span | None = None
    weeks: Span | None = None
    months: Span | None = None
    when: Text | None = None
    done: Text | None = None

    @model_validator(mode="after")
    def _one_span(self) -> Milestone:
        given = [name for name in (*UNITS, "when") if getattr(self, name) is not None]
        if len(given) > 1:
            raise ValueError("geef hoogstens één van days, weeks, months of when")
        if self.kind != "from" and self.unit is None:
            raise ValueError(f"kind: {self.kind} hoort bij een termijn (days, weeks of months)")
        return self

    @property
    def unit(self) -> str | None:
        """'days', 'weeks' or 'months'; None when the milestone has no number."""
        return next((u for u in UNITS if getattr(self, u) is not None), None)

    @property
    def span(self) -> tuple[int, int]:
        """(from, to) in ``unit``; equal for a single number; (0, 0) without a number."""
        span: tuple[int, int] = getattr(self, self.unit) if self.unit else (0, 0)
        return span


class Variant(Strict):
    label: Text
    recovery: list[Milestone] = Field(
        default_factory=list
    )  # printed on the discharge card, as approximate dates


class Discharge(Strict):
    """What the discharge edition needs beyond the text: which consultation does the
    follow-up (campuses listing it under ``consultations`` in config/sites.yaml)."""

    consultation: Slug


class Timing(Strict):
    fasting_hours: int = Field(ge=0, le=24)
    blood_thinner_notice_days: int = Field(ge=0, le=60)

    # Until leaflet version 3.2 the arrival time was here; it is hospital policy now.
    arrival_minutes_before: Any = Field(default=None, exclude=True)

    @field_validator("arrival_minutes_before")
    @classmethod
    def _arrival_is_policy(cls, value: Any) -> None:
        if value is not None:
            raise ValueError(
                "is ziekenhuisbeleid, geen folderinhoud: haal het hier weg; het staat in "
                "config/hospital.yaml onder policy, met de goedkeuring van de medisch "
                "verantwoordelijke"
            )


class LeafletMeta(Strict):
    title: Text
    subtitle: Text | None = None
    code: Text
    version: Text
    updated: date
    review_by: date
    url: HttpUrl
    # The language of the page at `url` when it is not the leaflet's own (a translation that
    # links to the Dutch page): the QR code then says so ("More information online (in Dutch)").
    url_lang: Literal["nl", "fr", "en"] | None = None
    service: Text
    sites: list[Slug] = Field(min_length=1)
    variants: dict[Slug, Variant] = Field(min_length=1)
    timing: Timing
    discharge: Discharge | None = None  # without it, the leaflet has no discharge edition


@dataclass(frozen=True)
class Leaflet:
    slug: str
    lang: str
    shown_as: str  # path as shown in messages, e.g. leaflets/avn-hip/nl.md
    meta: LeafletMeta
    body: str
    body_first_line: int  # file line number of the body's first line

    def require_variant(self, variant: str) -> str:
        if variant not in self.meta.variants:
            raise InputError(
                f"onbekende variant '{clipped(variant)}' voor folder '{self.slug}'",
                field="variant",
                hint=f"kies uit: {choices(self.meta.variants)}",
            )
        return variant

    def require_discharge(self) -> Discharge:
        """The discharge facts, or a refusal when this leaflet has no discharge edition."""
        if self.meta.discharge is None:
            raise InputError(
                f"folder '{self.slug}' heeft geen versie bij ontslag",
                field="moment",
                hint="maak de folder voor de ingreep, of vraag de redactie om de ontslagversie "
                "('discharge:' in de front matter)",
            )
        return self.meta.discharge


def catalogue(project: Project) -> dict[str, list[str]]:
    """Leaflet slugs with the languages they exist in."""
    found: dict[str, list[str]] = {}
    if project.leaflets_dir.is_dir():
        for folder in sorted(project.leaflets_dir.iterdir()):
            langs = sorted(p.stem for p in folder.glob("*.md") if p.stem in LOCALES)
            if folder.is_dir() and langs:
                found[folder.name] = langs
    return found


def parse_leaflet(text: str, slug: str, lang: str, shown_as: str) -> Leaflet:
    match = _FRONT_MATTER.match(text)
    if not match:
        raise ContentError(
            "front matter ontbreekt",
            file=shown_as,
            row=1,
            hint="begin het bestand met een regel '---', de gegevens in YAML, en weer '---'",
        )
    data = parse_yaml(match.group(1), shown_as, first_line=2)
    meta = validate(LeafletMeta, data, shown_as)
    body_first_line = match.group(0).count("\n") + 1
    return Leaflet(slug, lang, shown_as, meta, text[match.end() :], body_first_line)


def load_leaflet(project: Project, slug: str, lang: str = DEFAULT_LANGUAGE) -> Leaflet:
    """Load one leaflet; an unknown slug or language is refused with the valid ones."""
    available = catalogue(project)
    if slug not in available:
        raise InputError(
            f"onbekende folder '{clipped(slug)}'",
            field="leaflet",
            hint=f"kies uit: {choices(available)}",
        )
    if lang not in available[slug]:
        raise InputError(
            f"folder '{slug}' bestaat niet in taal '{lang}'",
            field="lang",
            hint=f"beschikbaar: {choices(available[slug])}",
        )
    path = project.leaflets_dir / slug / f"{lang}.md"
    shown_as = project.relative(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ContentError("is geen UTF-8-tekst", file=shown_as, hint="bewaar als UTF-8") from None
    return parse_leaflet(text, slug, lang, shown_as)


def version_key(version: str) -> tuple[int, ...] | None:
    """'3.10' -> (3, 10), so versions compare as numbers; None if not dotted numbers."""
    if not _VERSION.fullmatch(version):
        return None
    return tuple(int(p) for p in version.split("."))


def translates(translation: LeafletMeta, dutch: LeafletMeta) -> bool:
    """Whether a translation's version is the Dutch version it translates, or that version
    with a further number for corrections of the translation alone ('3.1' or '3.1.2')."""
    ours, theirs = version_key(translation.version), version_key(dutch.version)
    if ours is None or theirs is None:
        return translation.version == dutch.version
    return ours[: len(theirs)] == theirs


def lags_behind(translation: LeafletMeta, dutch: LeafletMeta) -> bool:
    """True when a translation was made from an older version than the current Dutch one."""
    ours, theirs = version_key(translation.version), version_key(dutch.version)
    if ours is None or theirs is None:
        return translation.version != dutch.version
    return ours < theirs


def facts_differ(translation: LeafletMeta, dutch: LeafletMeta) -> list[str]:
    """The front-matter facts a translation must take over unchanged but does not: 'code',
    'sites', 'timing', 'discharge', 'variants' (other keys), 'variants.<key>.recovery' (other
    days, weeks or months, another kind, or a ``done`` wording in one and not the other)."""
    fields = [
        name
        for name in ("code", "sites", "timing", "discharge")
        if getattr(translation, name) != getattr(dutch, name)
    ]
    if set(translation.variants) != set(dutch.variants):
        return [*fields, "variants"]
    return fields + [
        f"variants.{key}.recovery"
        for key, variant in translation.variants.items()
        if _spans(variant) != _spans(dutch.variants[key])
    ]


def _spans(variant: Variant) -> list[tuple[str | None, tuple[int, int], str, bool]]:
    return [(m.unit, m.span, m.kind, m.done is not None) for m in variant.recovery]


def load_translation(project: Project, slug: str, wanted: str) -> tuple[Leaflet, list[str]]:
    """The leaflet in the patient's language, with warnings; never silently another one.

    ``wanted`` is a code or a name ('fr', 'Frans', 'French'). A language the leaflet lacks
    falls back to Dutch, with a warning; so does a translation of an older Dutch version, or
    one whose facts (timing, recovery, ...) differ from the Dutch, which `check` refuses.
    An unrecognisable language is refused, as it is probably a typing error.
    """
    code = language_code(wanted) if wanted else DEFAULT_LANGUAGE
    if code is None:
        raise InputError(
            f"onbekende taal '{clipped(wanted)}'",
            field="lang",
            hint=f"schrijf een taalcode of -naam, bv. {', '.join(LOCALES)} of Frans",
        )
    available = catalogue(project).get(slug, [])
    if code == DEFAULT_LANGUAGE or code not in available:
        leaflet = load_leaflet(project, slug, DEFAULT_LANGUAGE)
        if code == DEFAULT_LANGUAGE:
            return leaflet, []
        return leaflet, [
            f"'{slug}' bestaat niet in het {language_name(code)}: Nederlandse versie gemaakt"
        ]
    leaflet = load_leaflet(project, slug, code)
    dutch = load_leaflet(project, slug, DEFAULT_LANGUAGE)
    if lags_behind(leaflet.meta, dutch.meta):
        return dutch, [
            f"de vertaling in het {language_name(code)} (versie {leaflet.meta.version}) loopt "
            f"achter op het Nederlands (versie {dutch.meta.version}): Nederlandse versie gemaakt"
        ]
    if differ := facts_differ(leaflet.meta, dutch.meta):  # e.g. other fasting hours
        return dutch, [
            f"de vertaling in het {language_name(code)} wijkt af van het Nederlands "
            f"({', '.join(differ)}): Nederlandse versie gemaakt"
        ]
    return leaflet, []
