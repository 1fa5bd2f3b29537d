"""One print file per site: the day's leaflets in appointment order, ready for a duplex printer.

Every leaflet starts on a fresh sheet: an odd page count gets a blank back page. In booklet
mode every leaflet is imposed as a folded A5 booklet of its own (booklet.py). An optional
separator sheet (printed one side, blank back) names the patient, so the secretary can tell
the stack apart; it stays in the print file and is never in the patient's own PDF.
"""

from __future__ import annotations

import gc
import io
from dataclasses import dataclass
from pathlib import Path

import pikepdf
from pypdf import PageObject, PdfReader, PdfWriter

from .booklet import impose_pages


@dataclass(frozen=True)
class Placed:
    """Where a leaflet landed in the print file (1-based page numbers)."""

    file: Path
    first_page: int
    pages: int


def _append(writer: PdfWriter, pages: list[PageObject]) -> None:
    """Append pages, then a blank one if needed, so the next item starts on a fresh sheet."""
    for page in pages:
        writer.add_page(page)
    if len(pages) % 2:
        box = pages[-1].mediabox
        writer.add_blank_page(width=box.width, height=box.height)


def _untagged_pages(path: Path) -> list[PageObject]:
    """A leaflet's pages without its structure tree (tags).

    The tags of several documents cannot be merged into one, and paper needs none. Dropping
    them first (qpdf, via pikepdf) also saves pypdf from parsing the whole tree of every
    leaflet, which made print files about 4 times slower to build.
    """
    with pikepdf.open(path) as source:
        for key in ("/StructTreeRoot", "/MarkInfo"):
            if key in source.Root:
                del source.Root[key]
        for page in source.pages:
            if "/StructParents" in page.obj:
                del page.obj["/StructParents"]
        buffer = io.BytesIO()
        source.save(buffer, object_stream_mode=pikepdf.ObjectStreamMode.disable)
    return list(PdfReader(buffer).pages)


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
    leaflet as an A5 booklet on A4 sheets."""
    writer = PdfWriter()
    sheets = PdfReader(io.BytesIO(separators)) if separators else None
    placed = []
    for index, path in enumerate(leaflets):
        if sheets is not None:
            _append(writer, [sheets.pages[index]])
        first = len(writer.pages) + 1
        pages = _untagged_pages(path)
        if booklet:
            placed.append(Placed(path, first, impose_pages(writer, pages)))
        else:
            _append(writer, pages)
            placed.append(Placed(path, first, len(pages)))
        if index % 20 == 19:
            gc.collect()  # each reader is cyclic garbage once copied; don't let it pile up
    writer.add_metadata({"/Title": title, "/Producer": "leafletpress"})
    # The same fonts and page contents recur for every patient of a group: store them once.
    writer.compress_identical_objects()
    buffer = io.BytesIO()
    writer.write(buffer)
    built = PrintFile(buffer.getvalue(), len(writer.pages), placed)
    del writer, sheets
    gc.collect()
    return built
