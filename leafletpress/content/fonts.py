"""Which characters a leaflet can print: those in the fonts bundled in ``styles/fonts/``.

A character outside them would print as an empty box, or come from whatever font the machine
happens to have. So names are checked before rendering (``visit.personalise``) and content
and labels by ``check``; no other font ever ends up in a PDF.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from pathlib import Path

from fontTools.ttLib import TTFont

_CJK = ("CJK", "HANGUL", "HIRAGANA", "KATAKANA")  # in the characters' Unicode names


@cache
def printable(fonts_dir: Path) -> frozenset[int]:
    """Every code point that some bundled font has a glyph for."""
    points: set[int] = set()
    for path in sorted(fonts_dir.glob("*.ttf")):
        with TTFont(path, lazy=True) as font:
            points |= set(font.getBestCmap())
    return frozenset(points)


def unprintable(text: str, fonts_dir: Path) -> list[str]:
    """The characters of ``text`` that no bundled font has (spaces and marks of layout aside),
    each once, in order."""
    have = printable(fonts_dir)
    missing: list[str] = []
    for char in text:
        if ord(char) not in have and not char.isspace() and char not in missing:
            missing.append(char)
    return missing


def described(chars: list[str]) -> str:
    """'山 (U+5C71), 田 (U+7530)' for a message; at most five."""
    shown = ", ".join(f"{c} (U+{ord(c):04X})" for c in chars[:5])
    return shown + (f" en {len(chars) - 5} meer" if len(chars) > 5 else "")


def hint(chars: list[str]) -> str:
    """What to tell the secretary: Chinese, Japanese and Korean are refused on purpose."""
    if any(script in unicodedata.name(c, "") for c in chars for script in _CJK):
        return (
            "Chinese, Japanse en Koreaanse tekens worden niet gedrukt: schrijf de naam in "
            "Latijnse letters, zoals op de identiteitskaart"
        )
    return "deze tekens staan in geen enkel lettertype van de folders; schrijf ze anders"
