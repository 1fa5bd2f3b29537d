"""How names typed by people are compared: column headers, and campuses, surgeons, variants and
languages written in cells or options."""

from __future__ import annotations

import unicodedata


def match_key(text: str) -> str:
    """'Geboorte-datum ' -> 'geboortedatum': case, accents, spaces and punctuation ignored."""
    normalised = unicodedata.normalize("NFKD", text).casefold()
    return "".join(c for c in normalised if c.isalnum())
