"""The glyphs a PDF's pages draw, and the PDF's fonts cut down to a set of glyphs.

Input: pages read with pikepdf, and their fonts as WeasyPrint writes them: composite (Type0)
fonts whose embedded TrueType or OpenType program is a subset that kept its glyph IDs, with
a widths array (/W), a ToUnicode map of ``bfchar`` pairs and, in PDF/A-1, a CIDSet.

Output: ``drawing`` lists the content streams a page draws (its own, forms, patterns, masks);
``drawn`` reads which glyphs they draw with each font. ``Fonts``
reads a document's fonts once; ``Fonts.cut`` then rewrites them, in a copy of that document,
to hold only the glyphs given: the font program (subset again with HarfBuzz, as WeasyPrint
subsets it, glyph IDs kept so that the pages' text is unchanged), its widths, its Unicode
map, its CIDSet and the width of its bounding box.

Guarantee: after ``cut``, a font holds no glyph beyond those given, save the parts of
composite glyphs (an accent that an "é" is drawn with: the program needs them, and they map
to no character). A font it cannot rewrite (not composite, no embedded program) is left
whole, and ``cut`` raises ``OthersWouldStay`` if it holds a glyph beyond those given.
"""

from __future__ import annotations

import re
import struct
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pikepdf
import uharfbuzz as hb
from pikepdf import Array, Dictionary

FontId = tuple[int, int]  # a font dictionary's object number and generation
Glyphs = dict[FontId, set[int]]  # per font, a set of glyphs (CIDs: WeasyPrint's are GIDs)

_NAMED = re.compile(rb"/([^\s/\[\]<>(){}%]+)")  # a name in a content stream: a resource's
_PAIR_BLOCKS = b"beginbfchar", b"endbfchar"
_PAIR = re.compile(rb"<[0-9A-Fa-f]{4}> <(?:[0-9A-Fa-f]{4})*>")  # "<cid> <utf-16be>" ("<>": none)
_SUBSET = (
    hb.SubsetFlags.RETAIN_GIDS  # the pages' text keeps its glyph IDs
    | hb.SubsetFlags.PASSTHROUGH_UNRECOGNIZED
    | hb.SubsetFlags.NOTDEF_OUTLINE  # .notdef stays as it is (drawn for a missing glyph)
)


class OthersWouldStay(Exception):
    """Something of other patients would stay in a leaflet: a font that cannot be cut and
    holds their glyphs, say. The patient is made alone instead."""


def font_id(obj: Any) -> FontId:
    return (obj.objgen[0], obj.objgen[1])


def union(sets: list[Glyphs]) -> Glyphs:
    found: Glyphs = defaultdict(set)
    for glyphs in sets:
        for key, value in glyphs.items():
            found[key] |= value
    return found


def drawing(page: Any) -> Iterator[tuple[Any, Any, set[bytes]]]:
    """Each content stream a page draws, with its resources and the names it uses: the page's
    own first, then, each once, every form, tiling pattern and soft mask it draws (in theirs)."""
    seen: set[tuple[int, int]] = set()
    todo = [(page, page.get("/Resources"))]
    while todo:
        stream, resources = todo.pop()
        contents = stream.Contents if "/Contents" in stream else stream
        parts = contents if isinstance(contents, Array) else [contents]
        names = set(_NAMED.findall(b"\n".join(part.read_bytes() for part in parts)))
        yield stream, resources, names
        for kind in ("/XObject", "/Pattern", "/ExtGState"):
            entries: Any = resources.get(kind) if resources is not None else None
            for key in list(entries.keys()) if entries is not None else []:
                inner = entries[key] if key[1:].encode() in names else None
                if kind == "/ExtGState" and inner is not None:
                    mask = inner.get("/SMask")
                    inner = mask.get("/G") if isinstance(mask, Dictionary) else None
                if (
                    isinstance(inner, pikepdf.Stream)
                    and (inner.get("/Subtype") == "/Form" or inner.get("/PatternType") == 1)
                    and inner.objgen not in seen
                ):
                    seen.add(inner.objgen)
                    todo.append((inner, inner.get("/Resources") or resources))


Drawing = list[tuple[Any, Any, set[bytes]]]  # what ``drawing`` yields for a page


_SET_FONT, _SHOW_EACH = pikepdf.Operator("Tf"), pikepdf.Operator("TJ")


def drawn(streams: Drawing) -> Glyphs:
    """The glyphs a page draws, per font, in its streams (``drawing``)."""
    found: Glyphs = defaultdict(set)
    for stream, resources, _ in streams:
        fonts = resources.get("/Font") if resources is not None else None
        font: FontId | None = None
        wide = True
        for instruction in pikepdf.parse_content_stream(stream, "Tf Tj TJ ' \""):
            operands: Any = instruction.operands
            operator = instruction.operator
            if operator == _SET_FONT:
                chosen = fonts[operands[0]] if fonts is not None and operands[0] in fonts else None
                font = font_id(chosen) if chosen is not None else None
                wide = chosen is None or chosen.get("/Subtype") == "/Type0"
            elif font is not None:
                shown = operands[0] if operator == _SHOW_EACH else [operands[-1]]
                found[font].update(_codes(shown, 2 if wide else 1))
    return found


# A TJ array of hex strings of whole 2-byte codes, empty strings and numbers only, as
# WeasyPrint writes it and qpdf unparses it: read in one pass, without an object per item.
# Each item is matched once, never split again (atomic): an array of any other form is
# refused in a time linear in its length (backtracking made that exponential in its numbers)
_CODES_ONLY = re.compile(rb"\[(?>\s*+(?:<(?:[0-9A-Fa-f]{4})*+>|\(\)|[-+]?[0-9]*\.?[0-9]+))*+\s*+\]")
_HEX = re.compile(rb"<([0-9A-Fa-f]*)>")


def _codes(shown: Any, step: int) -> Iterator[int]:
    """The character codes (glyphs, in a composite font) of the strings ``shown``: a TJ
    array, or a list of one string. Codes are ``step`` bytes; a string's odd last byte is a
    code of its own."""
    if step == 2 and isinstance(shown, Array):
        raw = shown.unparse()
        if _CODES_ONLY.fullmatch(raw):  # letter by letter: 30,000 items in a group's pages
            data = bytes.fromhex(b"".join(_HEX.findall(raw)).decode())
            yield from struct.unpack(f">{len(data) // 2}H", data)
            return
    for item in shown:
        if isinstance(item, pikepdf.String):
            code = bytes(item)
            yield from (int.from_bytes(code[i : i + step]) for i in range(0, len(code), step))


@dataclass
class _Font:
    """What a composite font says of its glyphs, read once: its widths and Unicode pairs."""

    widths: dict[int, Any]  # CID -> width (a pikepdf number, written back as it was)
    pairs: dict[int, bytes]  # CID -> its ToUnicode line, "<0041> <0041>"
    cmap: tuple[bytes, bytes]  # the ToUnicode stream before its pairs and after them
    program: FontId  # the embedded font program (a stream several fonts may share)
    cid_set: bool  # has a CIDSet (PDF/A-1)


class Fonts:
    """The fonts of a document, read once, to be cut down in copies of it (``cut``)."""

    def __init__(self, fonts: list[Any], glyphs: Glyphs) -> None:
        """``fonts``: the document's font dictionaries; ``glyphs``: what its pages draw."""
        self.composite: dict[FontId, _Font] = {}
        self.whole: Glyphs = {}  # fonts that cannot be cut: the glyphs they hold
        for font in fonts:
            if (read := _read(font)) is not None:
                self.composite[font_id(font)] = read
            else:
                self.whole[font_id(font)] = glyphs.get(font_id(font), set())

    def cut(self, document: Any, keep: Glyphs) -> None:
        """Rewrite the fonts of ``document`` (a copy of the one read) to hold only the glyphs
        ``keep`` gives each, and .notdef. Every font is rewritten, whether or not it held
        more: what is left depends on those glyphs alone, never on the fonts read (the group's
        drawing order, what their subset held). Raises OthersWouldStay for a font that cannot be
        cut and holds more."""
        if any(held - keep.get(key, set()) for key, held in self.whole.items()):
            raise OthersWouldStay(sorted(self.whole))
        programs: dict[FontId, set[int]] = defaultdict(set)  # what each program keeps
        for key, font in self.composite.items():
            kept = keep.get(key, set()) | {0}
            programs[font.program] |= kept
            _cut_font(document.get_object(key), font, kept)
        for key, kept in programs.items():
            program = document.get_object(key)
            data = _subset(program.read_bytes(), kept)
            program.write(data)  # qpdf compresses it again on save
            if "/Length1" in program:
                program.Length1 = len(data)


def _read(font: Any) -> _Font | None:
    """A composite font as WeasyPrint writes it (Identity-H, one "<cid> <text>" pair a line in
    bfchar blocks, an embedded program), or None for any other: it is not cut."""
    if font.get("/Subtype") != "/Type0" or font.get("/Encoding") != "/Identity-H":
        return None
    descriptor = font.DescendantFonts[0].FontDescriptor
    program = descriptor.get("/FontFile2", descriptor.get("/FontFile3"))
    if program is None or "/ToUnicode" not in font:
        return None
    cmap = font.ToUnicode.read_bytes()
    start, end = cmap.find(_PAIR_BLOCKS[0]), cmap.rfind(_PAIR_BLOCKS[1])
    if start < 0 or b"bfrange" in cmap:
        return None
    start = cmap.rfind(b"\n", 0, start) + 1  # the line "N beginbfchar"
    end += len(_PAIR_BLOCKS[1]) + 1
    pairs = {}
    for line in cmap[start:end].splitlines():
        if line.startswith(b"<"):
            if not _PAIR.fullmatch(line):
                return None
            pairs[int(line[1 : line.index(b">")], 16)] = line
    return _Font(
        widths=_widths(font.DescendantFonts[0].get("/W", Array())),
        pairs=pairs,
        cmap=(cmap[:start], cmap[end:]),
        program=font_id(program),
        cid_set="/CIDSet" in descriptor,
    )


def _widths(array: Any) -> dict[int, Any]:
    """A /W array as CID -> width: runs "c [w1 w2 ...]" and ranges "c_first c_last w"."""
    found: dict[int, Any] = {}
    n = 0
    while n + 1 < len(array):
        if isinstance(array[n + 1], Array):
            found.update(enumerate(array[n + 1], start=int(array[n])))
            n += 2
        else:
            found.update(dict.fromkeys(range(int(array[n]), int(array[n + 1]) + 1), array[n + 2]))
            n += 3
    return found


def _cut_font(obj: Any, font: _Font, kept: set[int]) -> None:
    """Widths, Unicode map, CIDSet and bounding box of ``obj`` for the glyphs ``kept``."""
    descendant = obj.DescendantFonts[0]
    descriptor = descendant.FontDescriptor
    widths = {cid: width for cid, width in sorted(font.widths.items()) if cid in kept}
    runs: list[list[Any]] = []
    for cid, width in widths.items():
        if cid - 1 not in widths:
            runs.append([cid, []])
        runs[-1][1].append(width)
    descendant.W = Array(item for cid, run in runs for item in (cid, Array(run)))
    lines = [line for cid, line in sorted(font.pairs.items()) if cid in kept]
    blocks = b"".join(
        b"%d beginbfchar\n%s\nendbfchar\n" % (len(chunk), b"\n".join(chunk))
        for chunk in (lines[n : n + 100] for n in range(0, len(lines), 100))
    )
    obj.ToUnicode.write(font.cmap[0] + blocks + font.cmap[1])
    box = descriptor.get("/FontBBox")
    if isinstance(box, Array) and len(box) == 4:
        box[2] = max(widths.values(), key=float, default=0)
    if "/Flags" in descriptor:  # FixedPitch, as WeasyPrint sets it: all widths the same
        fixed = len(widths) > 1 and len({float(w) for w in widths.values()}) == 1
        descriptor.Flags = int(descriptor.Flags) & ~1 | fixed
    if font.cid_set:  # one bit per CID, the first the highest of the first byte
        size = max(widths, default=0) // 8 + 1
        bits = sum(1 << (size * 8 - 1 - cid) for cid in widths)
        descriptor.CIDSet.write(bits.to_bytes(size))


def _subset(program: bytes, glyphs: set[int]) -> bytes:
    """A font program (TrueType or OpenType) with only ``glyphs``, their IDs kept."""
    wanted = hb.SubsetInput()
    for glyph in glyphs:
        wanted.glyph_set.add(glyph)
    wanted.flags = _SUBSET
    try:
        return bytes(hb.subset(hb.Face(hb.Blob(program)), wanted).blob.data)
    except Exception as exc:  # HarfBuzz could not read it: the patient is made alone
        raise OthersWouldStay("HarfBuzz could not subset the font") from exc
