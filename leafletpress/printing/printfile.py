"""One print file per site: the day's leaflets in appointment order, ready for a duplex printer.

Every leaflet starts on a fresh sheet: an odd page count gets a blank back page. In booklet
mode every leaflet is imposed as a folded A5 booklet of its own (booklet.py). An optional
separator sheet (printed one side, blank back) names the patient, so the secretary can tell
the stack apart; it stays in the print file and is never in the patient's own PDF.
"""

from __future__ import annotations

import hashlib
import io
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pikepdf

from .booklet import impose_pages

# Paper needs no tags: the structure trees of several documents cannot be merged into one.
_TAGS = ("/StructTreeRoot", "/MarkInfo")


@dataclass(frozen=True)
class Placed:
    """Where a leaflet landed in the print file (1-based page numbers)."""

    file: Path
    first_page: int
    pages: int


@dataclass(frozen=True)
class PrintFile:
    pdf: bytes
    pages: int
    placed: list[Placed]


def build_print_file(
    leaflets: list[Path], title: str, separators: bytes | None = None, booklet: bool = False
) -> PrintFile:
    """Merge ``leaflets`` in the given order. ``separators``, when given, is a PDF with one
    page per leaflet, placed before it on a sheet of its own. ``booklet``: impose each
    leaflet as an A5 booklet on A4 sheets. The same bytes from the same files."""
    placed = []
    with ExitStack() as open_files, pikepdf.new() as target:
        # pikepdf copies a page's streams when the target is saved: its file stays open.
        sheets = None
        if separators:
            sheets = open_files.enter_context(pikepdf.open(io.BytesIO(separators)))
        for index, path in enumerate(leaflets):
            if sheets is not None:
                _append(target, [sheets.pages[index]])
            first = len(target.pages) + 1
            source = open_files.enter_context(pikepdf.open(path))
            for key in _TAGS:
                if key in source.Root:
                    del source.Root[key]
            pages = list(source.pages)
            if booklet:
                placed.append(Placed(path, first, impose_pages(target, pages)))
            else:
                _append(target, pages)
                placed.append(Placed(path, first, len(pages)))
        for page in target.pages:
            if "/StructParents" in page.obj:
                del page.obj["/StructParents"]
        target.docinfo["/Title"] = title
        target.docinfo["/Producer"] = "leafletpress"
        _store_once(target)
        buffer = io.BytesIO()
        target.save(buffer, object_stream_mode=pikepdf.ObjectStreamMode.generate,
                    deterministic_id=True)  # fmt: skip
        return PrintFile(buffer.getvalue(), len(target.pages), placed)


def _append(target: pikepdf.Pdf, pages: list[pikepdf.Page]) -> None:
    """Append pages, then a blank one if needed, so the next item starts on a fresh sheet."""
    target.pages.extend(pages)
    if len(pages) % 2:
        box = pages[-1].mediabox
        target.add_blank_page(page_size=(float(box[2]) - float(box[0]),
                                         float(box[3]) - float(box[1])))  # fmt: skip


def _store_once(pdf: pikepdf.Pdf) -> None:
    """The same fonts, images and page contents recur for every patient of a group (and the
    same rest of the leaflet): point every page at one copy of each, so it is stored once.
    Two objects are the same when their content is, references followed."""
    digests: dict[tuple[int, int], bytes] = {}
    first: dict[bytes, pikepdf.Object] = {}
    walked: set[tuple[int, int]] = set()

    def one_copy(holder: pikepdf.Object, key: str | int) -> None:
        value = holder[key]
        if not isinstance(value, (pikepdf.Dictionary, pikepdf.Array, pikepdf.Stream)):
            return
        if value.is_indirect:
            same = first.setdefault(_digest(value, digests), value)
            if same.objgen != value.objgen:
                holder[key] = same
                return
            if value.objgen in walked:
                return
            walked.add(value.objgen)
        inner = value.stream_dict if isinstance(value, pikepdf.Stream) else value
        for k in range(len(inner)) if isinstance(inner, pikepdf.Array) else list(inner.keys()):
            one_copy(inner, k)

    for page in pdf.pages:
        for key in ("/Resources", "/Contents"):  # not /Parent, /Annots: they lead to pages
            if key in page.obj:
                one_copy(page.obj, key)


def _digest(obj: object, digests: dict[tuple[int, int], bytes]) -> bytes:
    """A digest of ``obj``'s content, with what it refers to (not its object number)."""
    if not isinstance(obj, pikepdf.Object):
        return repr(obj).encode()
    if obj.is_indirect and obj.objgen in digests:
        return digests[obj.objgen]
    if obj.is_indirect:
        digests[obj.objgen] = repr(obj.objgen).encode()  # a cycle ends here, as itself
    h = hashlib.blake2b(digest_size=16)
    items: list[tuple[object, object]]
    if isinstance(obj, pikepdf.Stream):
        raw = obj.read_raw_bytes()
        h.update(b"S%d:" % len(raw) + raw)  # each part with its length: no two read alike
        items = sorted((k, v) for k, v in obj.stream_dict.items() if k != "/Length")
    elif isinstance(obj, pikepdf.Dictionary):
        h.update(b"D%d:" % len(obj.keys()))
        items = sorted(obj.items())
    elif isinstance(obj, pikepdf.Array):
        h.update(b"A%d:" % len(obj))
        items = list(enumerate(obj))
    else:
        return b"P" + obj.unparse()
    for k, v in items:
        key, value = str(k).encode(), _digest(v, digests)
        h.update(b"%d:%s%d:%s" % (len(key), key, len(value), value))
    if obj.is_indirect:
        digests[obj.objgen] = h.digest()
    return h.digest()
