"""Load YAML and validate it with pydantic, turning every problem into a message that names
the file and the key (in Dutch), so an editor can fix it without reading Python."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, TypeVar

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, StringConstraints, ValidationError

from .errors import ContentError

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=40)]
HttpUrl = Annotated[str, StringConstraints(pattern=r"^https?://[^\s<>\"'`\\]+$", max_length=300)]
HexColour = Annotated[str, StringConstraints(pattern=r"^#[0-9a-fA-F]{6}$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class Strict(BaseModel):
    """Base for configuration models: unknown keys are typos, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Translations(Strict):
    """A configured text in each language; Dutch is required, the others fall back to it."""

    nl: Text
    fr: Text | None = None
    en: Text | None = None


def _as_translations(value: Any) -> Any:
    return {"nl": value} if isinstance(value, str) else value


# A text, or one per language: {nl: ..., fr: ...}. A plain text is the Dutch one.
Localised = Annotated[Translations, BeforeValidator(_as_translations)]


def in_language(value: Translations, lang: str) -> str:
    """The text in `lang`, or in Dutch when that translation is missing."""
    return getattr(value, lang, None) or value.nl


class ContentErrors(ContentError):
    """Several content problems at once, so an editor sees them all in one run."""

    def __init__(self, problems: list[ContentError]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


_MESSAGES = {
    "missing": "ontbreekt",
    "extra_forbidden": "onbekende sleutel (tikfout?)",
    "string_pattern_mismatch": "heeft niet de juiste vorm",
    "string_too_short": "mag niet leeg zijn",
    "string_too_long": "is te lang (maximaal {max_length} tekens)",
    "string_type": "moet tekst zijn",
    "date_from_datetime_parsing": "is geen geldige datum (gebruik JJJJ-MM-DD)",
    "date_parsing": "is geen geldige datum (gebruik JJJJ-MM-DD)",
    "date_type": "is geen geldige datum (gebruik JJJJ-MM-DD)",
    "int_parsing": "moet een geheel getal zijn",
    "int_type": "moet een geheel getal zijn",
    "bool_parsing": "moet true of false zijn",
    "bool_type": "moet true of false zijn",
    "dict_type": "moet een lijst van sleutels en waarden zijn",
    "model_type": "moet een lijst van sleutels en waarden zijn",
    "int_from_float": "moet een geheel getal zijn",
    "list_type": "moet een lijst zijn",
    "greater_than_equal": "is te klein",
    "less_than_equal": "is te groot",
    "too_short": "mag niet leeg zijn",
}


def dutch(error: Any) -> str:
    """A pydantic error in Dutch, without the offending value."""
    message = _MESSAGES.get(error["type"])
    if error["type"] == "literal_error":  # ctx: "'from', 'until' or 'up_to'"
        return "kies " + str((error.get("ctx") or {}).get("expected", "")).replace(" or ", " of ")
    if message is None:
        return str(error["msg"]).removeprefix("Value error, ")
    return message.format_map(error.get("ctx") or {})


def _with_value(error: Any) -> str:
    message = dutch(error)
    if error["type"] not in ("missing", "extra_forbidden") and "input" in error:
        shown = repr(error["input"])
        message += f" (nu: {shown[:60]})"
    return message


def load_yaml(path: Path, shown_as: str) -> Any:
    """Parse a YAML file; syntax errors name the line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ContentError("bestand ontbreekt", file=shown_as) from None
    except UnicodeDecodeError:
        raise ContentError(
            "is geen UTF-8-tekst", file=shown_as, hint="bewaar het bestand als UTF-8"
        ) from None
    except OSError as exc:  # a folder of that name, no right to read it
        raise ContentError(
            f"kan niet gelezen worden ({exc.strerror})",
            file=shown_as,
            hint="het moet een bestand zijn dat leafletpress mag lezen",
        ) from None
    return parse_yaml(text, shown_as)


class _Loader(yaml.SafeLoader):
    """YAML as people write it by hand: no anchors and aliases (``*a`` repeated a million
    times is a few hundred bytes), and a key given twice is a mistake, never the last one
    silently winning (a second ``version:`` under the approved one)."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.MarkedYAMLError(problem="verwijzingen (*naam) worden niet aanvaard",
                                       problem_mark=event.start_mark)  # fmt: skip
        return super().compose_node(parent, index)

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, str | int) and key in seen:
                raise yaml.MarkedYAMLError(problem=f"sleutel '{key}' staat er twee keer",
                                           problem_mark=key_node.start_mark)  # fmt: skip
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def parse_yaml(text: str, shown_as: str, first_line: int = 1) -> Any:
    try:
        return yaml.load(text, Loader=_Loader)  # a SafeLoader: nothing is ever run
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        row = mark.line + first_line if mark is not None else None
        problem = getattr(exc, "problem", None) or "ongeldige YAML"
        raise ContentError(
            f"ongeldige YAML: {problem}",
            file=shown_as,
            row=row,
            hint="controleer inspringing, dubbele punten en aanhalingstekens",
        ) from None


M = TypeVar("M", bound=BaseModel)


def validate(model: type[M], data: Any, shown_as: str, prefix: str = "") -> M:
    """Validate data against a model; all problems are reported with their key path."""
    try:
        return model.model_validate(data if data is not None else {})
    except ValidationError as exc:
        prefixes = prefix.split(".") if prefix else []
        problems = []
        for error in exc.errors():
            key = ".".join(str(part) for part in (*prefixes, *error["loc"]))
            problems.append(ContentError(_with_value(error), file=shown_as, field=key or None))
        raise ContentErrors(problems) from None
