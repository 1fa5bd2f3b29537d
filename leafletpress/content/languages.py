"""Which language a person means: 'fr', 'FR', 'fr-BE', 'Frans', 'français' and 'French' are
all French. Names come from Babel (CLDR), in the three languages leafletpress speaks."""

from __future__ import annotations

from functools import cache

from babel import Locale

from ..common.matching import match_key as _key

_UI_LANGUAGES = ("nl", "fr", "en")  # leaflet.LOCALES (not imported: leaflet imports us)


@cache
def _codes() -> dict[str, str]:
    table: dict[str, str] = {}
    for ui in _UI_LANGUAGES:
        for code, name in Locale.parse(ui).languages.items():
            if code.isalpha():  # plain languages, not regional variants such as nl_BE
                table.setdefault(_key(code), code)
                table.setdefault(_key(name), code)
    return table


def language_code(text: str) -> str | None:
    """The ISO 639 code of a language written as a code or a name, or None if unknown."""
    return _codes().get(_key(text.strip().replace("_", "-").split("-")[0]))


def language_name(code: str) -> str:
    """A language's name in Dutch, for messages: 'fr' -> 'Frans'."""
    return str(Locale.parse("nl").languages.get(code, code))
