"""Folded A5 booklets: the leaflet's A5 pages imposed two-up on A4 landscape (pikepdf).

Print the sheets duplex, flipping on the short edge, fold the stack in the middle, and the
booklet reads in order (saddle stitch). The page count is padded with blank pages to a
multiple of 4, at the end, so the last page is the back cover.
"""

from __future__ import annotations

import io

import pikepdf
from pikepdf import Name

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


def impose_pages(target: pikepdf.Pdf, pages: list[pikepdf.Page]) -> int:
    """Add ``pages`` (of another, open PDF) to ``target`` as booklet sheets, each page placed
    as it is (a form XObject, not scaled); returns how many sides were added."""
    box = pages[0].mediabox
    width, height = float(box[2]) - float(box[0]), float(box[3]) - float(box[1])
    fold, bottom = SHEET_WIDTH / 2, (SHEET_HEIGHT - height) / 2
    forms = [target.copy_foreign(page.as_form_xobject()) for page in pages]
    sides = saddle_stitch(len(pages))
    for halves in sides:
        side = target.add_blank_page(page_size=(SHEET_WIDTH, SHEET_HEIGHT))
        for half, (index, left) in enumerate(zip(halves, (fold - width, fold), strict=True)):
            if index is not None:  # placed as add_overlay does, by a name of our own:
                where = pikepdf.Rectangle(left, bottom, left + width, bottom + height)
                name = side.add_resource(forms[index], Name.XObject, Name(f"/Half{half}"))
                placed = side.calc_form_xobject_placement(forms[index], name, where)
                side.contents_add(b"q\n" + placed + b"\nQ\n")  # (its own are random)
    return len(sides)


def impose(pdf: bytes) -> bytes:
    """A leaflet PDF (A5) as a booklet to print on A4."""
    with pikepdf.open(io.BytesIO(pdf)) as source, pikepdf.new() as target:
        impose_pages(target, list(source.pages))
        for key, value in source.docinfo.items():
            target.docinfo[key] = value
        buffer = io.BytesIO()
        target.save(buffer, deterministic_id=True)
    return buffer.getvalue()
