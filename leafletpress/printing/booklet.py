"""Folded A5 booklets: the leaflet's A5 pages imposed two-up on A4 landscape (pypdf).

Print the sheets duplex, flipping on the short edge, fold the stack in the middle, and the
booklet reads in order (saddle stitch). The page count is padded with blank pages to a
multiple of 4, at the end, so the last page is the back cover.
"""

from __future__ import annotations

import io

from pypdf import PageObject, PdfReader, PdfWriter, Transformation

# The sheet: A4 landscape. Two A5 pages take 296 of its 297 mm, so they meet at the fold.
SHEET_WIDTH, SHEET_HEIGHT = 297 * 72 / 25.4, 210 * 72 / 25.4


def saddle_stitch(pages: int) -> list[tuple[int | None, int | None]]:
    """Per printed side, in print order: the pages (0-based) on its left and right half;
    None is a blank half. Sheet 1 carries the last and first page on its front."""
    total = -(-pages // 4) * 4
    sides: list[tuple[int, int]] = []
    for sheet in range(total // 4):
        sides.append((total - 1 - 2 * sheet, 2 * sheet))  # front
        sides.append((2 * sheet + 1, total - 2 - 2 * sheet))  # back
    return [
        (left if left < pages else None, right if right < pages else None) for left, right in sides
    ]


def impose_pages(writer: PdfWriter, pages: list[PageObject]) -> int:
    """Add ``pages`` to ``writer`` as booklet sheets; returns how many sides were added."""
    width, height = float(pages[0].mediabox.width), float(pages[0].mediabox.height)
    fold, bottom = SHEET_WIDTH / 2, (SHEET_HEIGHT - height) / 2
    sides = saddle_stitch(len(pages))
    for halves in sides:
        side = writer.add_blank_page(width=SHEET_WIDTH, height=SHEET_HEIGHT)
        for index, left in zip(halves, (fold - width, fold), strict=True):
            if index is not None:
                move = Transformation().translate(left, bottom)
                side.merge_transformed_page(pages[index], move)
    return len(sides)


def impose(pdf: bytes) -> bytes:
    """A leaflet PDF (A5) as a booklet to print on A4."""
    reader = PdfReader(io.BytesIO(pdf))
    writer = PdfWriter()
    impose_pages(writer, list(reader.pages))
    if reader.metadata:
        writer.add_metadata(dict(reader.metadata))
    writer.compress_identical_objects()
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()
