"""Leaflet Markdown -> HTML for one variant, and the placeholders filled in afterwards.

Editors write Markdown with two additions (documented in the README):

* blocks ``::: variant a b`` / ``::: moment voor`` / ``::: checklist Title`` /
  ``::: contact Title`` / ``::: info Title`` closed by ``:::`` (use ``::::`` for a block
  around other blocks);
* placeholders ``[[name]]`` from the closed list ``PLACEHOLDERS``.

Markdown is rendered once per leaflet, variant and moment, with raw HTML disabled. At
discharge the first ``contact`` box (the warning signs and whom to call) is lifted out of the
text onto the discharge card. Personal values are
put in afterwards by ``fill``: HTML-escaped and never parsed as Markdown or as a template, so a
patient called ``**x**`` or ``{{ 7*7 }}`` is printed exactly like that.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from html import escape
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.container import container_plugin

from ..common.errors import ContentError
from .leaflet import DISCHARGE, MOMENTS, Leaflet

# The closed list of placeholders, with what each becomes in the patient's leaflet.
PLACEHOLDERS: dict[str, str] = {
    "patient_name": "name of the patient",
    "procedure": "label of the chosen variant, e.g. 'Totale heupprothese'",
    "date": "day of the procedure, e.g. 'dinsdag 3 december 2026'",
    "time": "time of the procedure, e.g. '08:30'",
    "arrival_time": "time to report, e.g. '07:30'",
    "fasting_from": "day and time from which to fast, e.g. 'dinsdag 3 december 2026 om 02:30'",
    "blood_thinners_by": "last day to report blood thinners, e.g. 'maandag 23 november 2026'",
    "surgeon": "surgeon's title and name, e.g. 'dr. Lotte Verbeeck'",
    "site": "campus name, e.g. 'ZAS Augustinus'",
    "site_address": "campus address",
    "site_phone": "campus phone number",
    "report_to": "where to report on the day",
    "urgent_phone": "campus number for warning signs, day and night",
}
# Placeholders about the day of the operation itself: meaningless in the discharge edition.
BEFORE_ONLY = ("time", "arrival_time", "fasting_from", "blood_thinners_by", "report_to")

BOXES = ("checklist", "contact", "info")
BLOCKS = ("variant", "moment", *BOXES)
PLACEHOLDER_RE = re.compile(r"\[\[\s*([A-Za-z0-9_]+)\s*\]\]")
_FENCE_RE = re.compile(r"^\s*(:{3,})\s*(.*?)\s*$")


def _render_box(
    self: object, tokens: Sequence[Token], idx: int, _options: object, env: dict[str, Any]
) -> str:
    token = tokens[idx]
    if token.type.startswith("container_contact"):
        env["contact_depth"] = env.get("contact_depth", 0) + token.nesting
    if token.nesting == -1:
        advice = ""  # the first warning-signs box ends with the hospital's emergency advice
        if token.type == "container_contact_close" and env["contact_depth"] == 0:
            advice = env.pop("contact_end", "")
        return f"{advice}</aside>\n"
    kind, _, title = token.info.strip().partition(" ")
    heading = f'<h3 class="box-title">{escape(title.strip())}</h3>\n' if title.strip() else ""
    number = env["boxes"] = env.get("boxes", 0) + 1  # the layout finds a box by it (render.py)
    return f'<aside class="box box-{kind}" data-box="{number}">\n{heading}'


def _render_nothing(*_args: object) -> str:
    return ""


@cache
def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "typographer": True})
    md.enable("replacements")
    md.disable("smartquotes")  # Dutch "'s ochtends" must keep its apostrophe
    container_plugin(md, "variant", render=_render_nothing)
    container_plugin(md, "moment", render=_render_nothing)
    for kind in BOXES:
        container_plugin(md, kind, render=_render_box)
    return md


_CHOICES = ("variant", "moment")  # blocks kept only for the variant or moment they name


def _select(tokens: list[Token], chosen: dict[str, str]) -> list[Token]:
    """Drop every ``::: variant`` / ``::: moment`` block that does not name the chosen one."""
    kept: list[Token] = []
    skipping = 0
    for token in tokens:
        kind = token.type.removeprefix("container_").rpartition("_")[0]
        if kind in _CHOICES and token.nesting == 1:
            if skipping or chosen[kind] not in token.info.split()[1:]:
                skipping += 1
                continue
        elif kind in _CHOICES and token.nesting == -1 and skipping:
            skipping -= 1
            continue
        if not skipping:
            kept.append(token)
    return kept


def _lift(tokens: list[Token], kind: str) -> tuple[list[Token], list[Token]]:
    """The first ``kind`` box's tokens, and the others without it."""
    start = next((i for i, t in enumerate(tokens) if t.type == f"container_{kind}_open"), None)
    if start is None:
        return [], tokens
    depth, end = 0, start
    for end in range(start, len(tokens)):
        depth += tokens[end].nesting if tokens[end].type.startswith(f"container_{kind}") else 0
        if depth == 0:
            break
    return tokens[start : end + 1], tokens[:start] + tokens[end + 1 :]


@dataclass(frozen=True)
class Body:
    """A leaflet's text as HTML for one variant and moment, placeholders still in place."""

    html: str
    card_box: str = ""  # at discharge: the warning-signs box, for the discharge card


def _parts(source: str, variant: str, moment: str) -> tuple[list[Token], list[Token]]:
    """The tokens printed for one variant and moment: the card's box (at discharge) and the
    rest of the text."""
    tokens = _select(_parser().parse(source), {"variant": variant, "moment": moment})
    return _lift(tokens, "contact") if moment == DISCHARGE else ([], tokens)


@cache
def body_html(source: str, variant: str, moment: str = "voor", contact_end: str = "") -> Body:
    """The leaflet body for one variant and moment; at discharge without its contact box,
    which goes on the discharge card. ``contact_end``: HTML that ends the first contact box,
    the warning signs (the hospital's emergency advice; see Policy in content/registry.py)."""
    md = _parser()
    # A soft hyphen (pasted from a word processor) would print as a real one at a line end,
    # read aloud as "ontstekings- remmers": words are kept whole.
    box, tokens = _parts(source.replace("\u00ad", ""), variant, moment)
    render, env = md.renderer.render, {"contact_end": contact_end}
    card_box = str(render(box, md.options, env))  # first: the first contact box, if lifted
    return Body(str(render(tokens, md.options, env)), card_box)


def discharge_findings(source: str, first_line: int, variant: str) -> list[Finding]:
    """What stops the discharge edition of one variant: no warning-signs box for the card,
    or a placeholder of the operation day in the text printed then (with its line)."""
    box, tokens = _parts(source, variant, DISCHARGE)
    findings = []
    if not box:
        findings.append(
            Finding(
                None,
                f"variant '{variant}': de tekst bij ontslag heeft geen 'contact'-blok",
                "het eerste '::: contact'-blok (de alarmsignalen) komt op de ontslagkaart",
            )
        )
    for token in box + tokens:
        for name in PLACEHOLDER_RE.findall(token.content if token.type == "inline" else ""):
            if name in BEFORE_ONLY and token.map:
                findings.append(
                    Finding(
                        first_line + token.map[0],
                        f"variant '{variant}': [[{name}]] staat in de tekst bij ontslag",
                        "zet die passage in een blok '::: moment voor'",
                    )
                )
    return findings


# Values that must not be broken over two lines (a phone number read across a line break
# is easily misdialled).
UNBROKEN = ("site_phone", "urgent_phone")
_FILL_RE = re.compile(PLACEHOLDER_RE.pattern + r"([.,;:!?)]*)")


def fill(html: str, values: Mapping[str, str]) -> str:
    """Put escaped personal values in place of ``[[name]]``; one pass, never re-scanned."""

    def value(match: re.Match[str]) -> str:
        name, punctuation = match.group(1), match.group(2)
        if name in UNBROKEN:  # with the punctuation after it: no comma alone on a line
            phone = f'<span class="phone">{escape(values[name])}</span>'
            return f'<span class="nowrap">{phone}{punctuation}</span>'
        return escape(values[name]) + punctuation

    return _FILL_RE.sub(value, html)


@dataclass(frozen=True)
class Finding:
    line: int | None
    message: str
    hint: str


# Markdown that editors may know from elsewhere, but that a leaflet does not print as such:
# token type -> (what, how to write it instead).
_UNSUPPORTED = {
    "table_open": ("een tabel wordt niet als tabel gedrukt (je ziet de | tekens)",
                   "schrijf de tabel als lijst, of vraag een blok aan"),
    "html_block": ("HTML wordt niet weergegeven (je ziet de code)", "schrijf het in Markdown"),
    "html_inline": ("HTML wordt niet weergegeven (je ziet de code)", "schrijf het in Markdown"),
    "image": ("afbeeldingen uit de tekst worden niet gedrukt",
              "vraag het logo- of afbeeldingsblok aan bij de beheerder"),
}  # fmt: skip


def _unsupported(source: str, first_line: int) -> list[Finding]:
    """Tables, raw HTML and images, found by a parser that knows them."""
    md = MarkdownIt("commonmark", {"html": True}).enable("table")
    findings, seen = [], set()
    for token in md.parse(source):
        for item in [token, *(token.children or [])]:
            if item.type in _UNSUPPORTED and token.map:
                number = first_line + token.map[0]
                if (number, item.type) not in seen:
                    seen.add((number, item.type))
                    findings.append(Finding(number, *_UNSUPPORTED[item.type]))
    return findings


def _block_findings(
    number: int, kind: str, names: list[str], variants: Sequence[str]
) -> list[Finding]:
    """What is wrong with the block opened on line ``number`` as ``::: kind names``."""
    if kind not in BLOCKS:
        return [
            Finding(number, f"onbekend bloktype '{kind}'", f"gebruik een van: {', '.join(BLOCKS)}")
        ]
    if kind == "moment" and (not names or not set(names) <= set(MOMENTS)):
        return [
            Finding(
                number,
                f"onbekend moment '{' '.join(names)}'",
                "schrijf '::: moment voor' of '::: moment ontslag'",
            )
        ]
    if kind != "variant":
        return []
    findings = [
        Finding(
            number,
            f"variant '{name}' is niet gedeclareerd",
            f"declareer ze onder 'variants:' of kies uit: {', '.join(variants)}",
        )
        for name in names
        if name not in variants
    ]
    if not names:
        findings.append(
            Finding(number, "'::: variant' zonder variant", "noem minstens één variant")
        )
    return findings


def lint(source: str, first_line: int, variants: Sequence[str]) -> list[Finding]:
    """Editor mistakes that would print wrongly: unknown placeholders, undeclared variants or
    unknown moments, unknown or unclosed blocks, and Markdown a leaflet does not print
    (tables, HTML, images). ``first_line`` is the file line of the body's first line."""
    findings: list[Finding] = _unsupported(source, first_line)
    open_blocks: list[tuple[int, int, str]] = []  # (marker length, line, kind)
    moments: list[tuple[int, set[str]]] = []  # open moment blocks: (marker length, moments)
    for number, line in enumerate(source.splitlines(), start=first_line):
        for match in PLACEHOLDER_RE.finditer(line):
            if match.group(1) not in PLACEHOLDERS:
                findings.append(
                    Finding(
                        number,
                        f"onbekende plaatshouder [[{match.group(1)}]]",
                        f"gebruik een van: {', '.join(PLACEHOLDERS)}",
                    )
                )
        fence = _FENCE_RE.match(line)
        if not fence:
            continue
        marker, params = len(fence.group(1)), fence.group(2)
        if not params:
            if open_blocks and open_blocks[-1][0] == marker:
                open_blocks.pop()
                if moments and moments[-1][0] == marker:
                    moments.pop()
            else:
                findings.append(
                    Finding(number, "':::' sluit geen open blok", "verwijder deze regel")
                )
            continue
        kind, *names = params.split()
        if kind in BOXES and any(block[2] in BOXES for block in open_blocks):
            findings.append(
                Finding(
                    number,
                    f"'::: {kind}' staat in een ander kader: een kader in een kader wordt niet "
                    "goed gedrukt",
                    "sluit het eerste kader voor je een nieuw begint",
                )
            )
        open_blocks.append((marker, number, kind))
        findings += _block_findings(number, kind, names, variants)
        if kind == "moment":
            if moments and not moments[-1][1] & set(names):
                findings.append(
                    Finding(
                        number,
                        f"'::: moment {' '.join(names)}' staat in een blok voor een ander "
                        "moment en wordt nooit gedrukt",
                        "zet het blok buiten het andere moment-blok",
                    )
                )
            moments.append((marker, set(names)))
    for marker, number, _kind in open_blocks:
        findings.append(
            Finding(
                number, "blok wordt nooit gesloten", f"sluit het af met een regel '{':' * marker}'"
            )
        )
    return findings


def refuse_unprintable(leaflet: Leaflet, variant: str, moment: str) -> None:
    """Never print a text that `check` refuses: the first mistake, with its line (exit 3);
    `check` lists them all."""
    found = _mistakes(
        leaflet.body, leaflet.body_first_line, tuple(leaflet.meta.variants), variant, moment
    )
    if found:
        raise ContentError(
            found[0].message,
            file=leaflet.shown_as,
            row=found[0].line,
            hint=f"{found[0].hint}; 'check' toont alle fouten",
        )


@cache
def _mistakes(
    source: str, first_line: int, variants: tuple[str, ...], variant: str, moment: str
) -> tuple[Finding, ...]:
    found = lint(source, first_line, variants)
    if moment == DISCHARGE:
        found += discharge_findings(source, first_line, variant)
    return tuple(found)
