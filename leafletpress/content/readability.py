"""How readable a leaflet is for patients: a report per section against the hospital's target.

Input: a leaflet's Markdown body (with the file line its body starts on), its language, and
the target level (``readability.target`` in config/hospital.yaml: A2, B1 or B2; B1 by
default). Output: per section (each ``##`` heading), its sentences and words, the average and
the longest sentence, the sentences over the level's limit, long words (syllables, counted
with the hyphenation dictionaries WeasyPrint already uses), rare words (how often a word
occurs in everyday language, from ``wordfreq``), passive sentences where a pattern finds
them, and a reading-ease score (Flesch-Douma for Dutch, Kandel-Moles for French, Flesch for
English). Each finding names its line in the file.

It is a hint for editors, never a refusal: no formula knows the patient, and a medical word
that the text explains is fine. The limits are plain-language rules of thumb (Dutch "B1"
guidance: about 15 words a sentence on average, common words, active verbs).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from typing import Literal

Level = Literal["A2", "B1", "B2"]


@dataclass(frozen=True)
class Limits:
    average_words: float  # per sentence, on average
    sentence_words: int  # one sentence longer than this is named
    syllables: int  # a word with more syllables than this is long
    rarity: float  # a word rarer than this (Zipf: 3 is once per million words) is rare


LIMITS: dict[str, Limits] = {
    "A2": Limits(10, 15, 3, 3.5),
    "B1": Limits(15, 20, 4, 2.5),
    "B2": Limits(20, 25, 5, 2.0),
}


@dataclass
class Sentence:
    line: int
    words: list[str]
    passive: bool = False

    @property
    def text(self) -> str:
        shown = " ".join(self.words)
        return shown if len(shown) <= 90 else shown[:87] + "…"


@dataclass
class Section:
    title: str
    line: int
    sentences: list[Sentence] = field(default_factory=list)
    long_words: dict[str, int] = field(default_factory=dict)  # word -> its first line
    rare_words: dict[str, int] = field(default_factory=dict)
    long_sentences: list[Sentence] = field(default_factory=list)
    passive: list[Sentence] = field(default_factory=list)
    words: int = 0
    syllables: int = 0
    average: float = 0.0
    ease: float | None = None  # reading ease: higher is easier; None for a very short text
    hints: list[str] = field(default_factory=list)

    @property
    def on_target(self) -> bool:
        return not self.hints


@dataclass
class Report:
    lang: str
    target: str
    limits: Limits
    sections: list[Section]


_WORD = re.compile(r"[^\W\d_](?:[\w’'-]*[^\W\d_])?")
_PLACEHOLDER = re.compile(r"\[\[\s*([a-z_]+)\s*\]\]")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"”’)]*\s+(?=[\"“‘(]*[A-ZÀ-Ý0-9])")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")

# Passive voice: a form of the auxiliary with a past participle near it (Dutch puts the
# participle before or after it: "dat je geopereerd wordt", "je wordt verdoofd").
_PASSIVE = {
    "nl": ({"word", "wordt", "worden", "werd", "werden", "geworden"}, (-4, 6),
           re.compile(r"\w*ge\w{2,}(?:d|t|en)|(?:be|ver|ont|her)\w{2,}(?:d|t)")),
    "en": ({"is", "are", "was", "were", "be", "been", "being", "am"}, (1, 3),
           re.compile(r"\w{2,}ed|done|given|taken|seen|made|put|told|kept|held|brought|sent")),
    "fr": ({"est", "sont", "été", "était", "étaient", "sera", "seront", "être", "soit"}, (1, 3),
           re.compile(r"\w{2,}(?:é|ée|és|ées)")),
}  # fmt: skip
_ELIDED = re.compile(r"^(?:[cdjlmnst]|qu)['’]", re.IGNORECASE)  # French: l’os, c’est
_PYPHEN = {"nl": "nl_NL", "fr": "fr_FR", "en": "en_GB"}


def report(body: str, first_line: int, lang: str, target: str = "B1") -> Report:
    """The reading-level report of a leaflet body (see the module's docstring)."""
    limits = LIMITS.get(target, LIMITS["B1"])
    sections = [_measure(s, lang, limits) for s in _sections(body, first_line)]
    return Report(lang, target if target in LIMITS else "B1", limits, [s for s in sections if s])


def _sections(body: str, first_line: int) -> list[Section]:
    """The body cut at its ``##`` headings; the sentences of each, with their lines."""
    sections = [Section("(begin)", first_line)]
    pending: list[tuple[int, str]] = []  # the lines of the paragraph being read

    def flush() -> None:
        if pending:
            sections[-1].sentences += _sentences(pending)
            pending.clear()

    for number, raw in enumerate(body.splitlines(), start=first_line):
        line = raw.strip()
        if line.startswith("## "):
            flush()
            sections.append(Section(_clean(line[3:]), number))
        elif not line or line.startswith((":::", "#")) or _LIST_ITEM.match(raw):
            flush()  # a heading, a block's fence, or a list item ends what came before
            if _LIST_ITEM.match(raw):
                pending.append((number, _LIST_ITEM.sub("", raw)))
            elif line.startswith("#"):
                pending.append((number, line.lstrip("#") + "."))  # a subheading: its own
                flush()
        else:
            pending.append((number, line))
    flush()
    return sections


def _clean(text: str) -> str:
    text = _PLACEHOLDER.sub("X", text)  # a date or a name the patient's copy fills in
    return _LINK.sub(r"\1", text).replace("**", "").replace("__", "").strip()


def _sentences(lines: list[tuple[int, str]]) -> list[Sentence]:
    """Sentences of a paragraph or list item, each with the line it starts on."""
    found: list[Sentence] = []
    text, starts = "", []
    for number, line in lines:
        starts.append((len(text), number))
        text += _clean(line) + " "
    position = 0
    for piece in _SENTENCE_END.split(text):
        index = text.find(piece, position)
        position = index + len(piece)
        if words := _WORD.findall(piece):
            first = max(n for at, n in starts if at <= max(index, 0))
            found.append(Sentence(first, words))
    return found


def _measure(section: Section, lang: str, limits: Limits) -> Section | None:
    if not section.sentences:
        return None
    for sentence in section.sentences:
        lowered = [_ELIDED.sub("", w.lower()) for w in sentence.words]
        section.words += len(lowered)
        if len(lowered) > limits.sentence_words:
            section.long_sentences.append(sentence)
        if _passive(lowered, lang):
            sentence.passive = True
            section.passive.append(sentence)
        for index, (word, lower) in enumerate(zip(sentence.words, lowered, strict=True)):
            count = _syllables(lower, lang)
            section.syllables += count
            if count > limits.syllables:
                section.long_words.setdefault(lower, sentence.line)
            named = index > 0 and word[0].isupper()  # a name (a campus, a medicine), or X
            if len(lower) > 3 and not named and _zipf(lower, lang) < limits.rarity:
                section.rare_words.setdefault(lower, sentence.line)
    section.average = section.words / len(section.sentences)
    section.ease = _ease(lang, section) if section.words >= 30 else None
    section.hints = _hints(section, limits)
    return section


def _passive(words: list[str], lang: str) -> bool:
    if lang not in _PASSIVE:
        return False
    auxiliaries, (before, after), participle = _PASSIVE[lang]
    for at, word in enumerate(words):
        if word in auxiliaries:
            near = words[max(0, at + before) : at] + words[at + 1 : at + 1 + after]
            if any(participle.fullmatch(w) for w in near):
                return True
    return False


def _hints(section: Section, limits: Limits) -> list[str]:
    hints = []
    if section.average > limits.average_words:
        hints.append(
            f"zinnen van gemiddeld {section.average:.0f} woorden: maak ze korter "
            f"(doel: hoogstens {limits.average_words:.0f})"
        )
    if count := len(section.long_sentences):
        hints.append(
            f"{count} zin{'nen' if count > 1 else ''} van meer dan {limits.sentence_words} "
            "woorden: splits ze"
        )
    if section.passive:
        hints.append(f"{len(section.passive)} keer lijdende vorm: zeg wie het doet")
    if section.rare_words:
        hints.append(
            f"{len(section.rare_words)} weinig gebruikte woorden: leg ze uit of kies een "
            "gewoner woord"
        )
    return hints


def _ease(lang: str, s: Section) -> float:
    per_word = s.syllables / s.words
    if lang == "nl":  # Flesch-Douma
        return 206.84 - 0.93 * s.average - 77 * per_word
    if lang == "fr":  # Kandel-Moles
        return 207 - 1.015 * s.average - 73.6 * per_word
    return 206.835 - 1.015 * s.average - 84.6 * per_word  # Flesch


@cache
def _hyphenator(lang: str) -> object:
    import pyphen

    return pyphen.Pyphen(lang=_PYPHEN.get(lang, "nl_NL"))


@cache
def _syllables(word: str, lang: str) -> int:
    positions = _hyphenator(lang).positions(word)  # type: ignore[attr-defined]
    return len(positions) + 1


@cache
def _zipf(word: str, lang: str) -> float:
    from wordfreq import zipf_frequency

    return float(zipf_frequency(word, lang))
