"""The structure tree as a screen reader needs it, finished after WeasyPrint has written it.

Input: the PDF WeasyPrint wrote, tagged, and what its layout says about page breaks. Output
the same PDF with:

* running headers, footers and page numbers (margin boxes) marked as pagination artifacts.
  WeasyPrint marks them as content and keeps them out of the tree (PDF/UA 7.1, 7.8);
* an element that a page break splits (the text, a paragraph, a list, a table) as one element:
  WeasyPrint tags page by page, so a six-item checklist was read as a list of four and a list
  of two. Its parts are joined; what they hold keeps its page (``/Pg``);
* one ``/Link`` for an address printed over several lines;
* header cells with a ``/Scope`` (``/Row`` for the label of its row, ``/Column`` in a row of
  headers) and the ``/IDTree`` that resolves the cells' ``/Headers`` links.

Nothing else changes: the content streams keep their text (only the marks of margin boxes
become artifacts), the pages their layout.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pikepdf
from pikepdf import Array, Dictionary, Name
from weasyprint import Document
from weasyprint.pdf.tags import _get_pdf_tag  # the tags WeasyPrint gives HTML elements

_INLINE = ("LineBox", "TextBox", "InlineBox")


@dataclass(frozen=True)
class Split:
    """A page break that splits elements: the outermost one's place among the top elements of
    the page before and the page after (WeasyPrint's tree has one per box of the body, in its
    order, positioned ones included), and the PDF tags of the split elements, outermost
    first (``['/Part', '/NonStruct', '/L']`` for a box's list going on over the page)."""

    ending: int
    starting: int
    tags: tuple[str, ...]


def _unwrapped(box: Any) -> Any:
    return getattr(box, "_box", box)  # a positioned box's placeholder: the box itself


def _top(page: Any) -> list[Any]:
    """The boxes that become the page's top structure elements: as WeasyPrint builds its
    tree, the page, html and body boxes give their children."""

    def expand(box: Any) -> Iterator[Any]:
        if type(box).__name__ == "PageBox" or box.element_tag in ("html", "body"):
            for child in getattr(box, "children", ()):
                if type(child).__name__ != "MarginBox":
                    yield from expand(_unwrapped(child))
        else:
            yield box

    return list(expand(page._page_box))


def _in_flow(boxes: list[Any]) -> list[Any]:
    return [b for b in boxes if b.style["position"] not in ("absolute", "fixed")]


def _path(box: Any, last: bool) -> Iterator[Any]:
    """The box and its last (or first) in-flow descendants, down to the lines."""
    while box is not None:
        yield box
        children = _in_flow([_unwrapped(c) for c in getattr(box, "children", ())])
        if not children or type(children[0]).__name__ in _INLINE:
            return
        box = children[-1] if last else children[0]


def split_by_breaks(document: Document) -> list[Split | None]:
    """Per page break (after page n), what it splits, read from the layout: a split element
    has boxes on both pages. None: the break splits nothing."""
    found: list[Split | None] = []
    for before, after in zip(document.pages, document.pages[1:], strict=False):
        tops = _top(before), _top(after)
        ending, starting = _in_flow(tops[0])[-1:], _in_flow(tops[1])[:1]
        if not ending or not starting or ending[0].element is not starting[0].element:
            found.append(None)
            continue
        elements = {id(b.element) for b in _path(ending[0], last=True)}
        tags: list[str] = []
        previous = None
        for box in _path(starting[0], last=False):
            if box.element is None or id(box.element) not in elements:
                break
            if box.element is not previous:  # a table's wrapper and table box: one element
                tags.append("/" + _get_pdf_tag(box.element_tag))
            previous = box.element
        found.append(Split(tops[0].index(ending[0]), tops[1].index(starting[0]), tuple(tags)))
    return found


def finish_tags(
    pdf: bytes, splits: list[Split | None], streams: pikepdf.ObjectStreamMode | None = None
) -> bytes:
    """The PDF with its structure tree finished as the module docstring says; its object
    streams as WeasyPrint wrote them, or as ``streams`` says."""
    with pikepdf.open(io.BytesIO(pdf)) as document:
        root = document.Root.get("/StructTreeRoot")
        if root is None:
            return pdf
        parents = _ParentTree(root)
        _artifacts(document, root, parents)
        _join(document, root, parents, splits)
        _join_links(document, root, parents)
        _table_headers(root)
        out = io.BytesIO()
        mode = streams or pikepdf.ObjectStreamMode.preserve
        document.save(out, deterministic_id=True, object_stream_mode=mode)  # same bytes
    return out.getvalue()


class _ParentTree:
    """The ParentTree: per page an array (MCID -> element), per annotation its element."""

    def __init__(self, root: Any) -> None:
        self.nums = root.ParentTree.Nums
        self.slots = {int(self.nums[i]): i + 1 for i in range(0, len(self.nums), 2)}

    def page(self, key: int) -> Any:
        return self.nums[self.slots[key]] if key in self.slots else None

    def point(self, key: int, element: Any) -> None:
        self.nums[self.slots[key]] = element


def _elements(element: Any) -> Iterator[Any]:
    """The structure elements under ``element`` (itself included), depth first."""
    yield element
    kids = element.get("/K")
    for kid in kids if isinstance(kids, Array) else [kids] if kids is not None else []:
        if isinstance(kid, Dictionary) and "/S" in kid:
            yield from _elements(kid)


_MARKED = re.compile(rb"/[A-Za-z]+\s*<</MCID (\d+)>>\s*BDC")  # as WeasyPrint (pydyf) writes it


def _artifacts(document: Any, root: Any, parents: _ParentTree) -> None:
    """Content that the ParentTree gives an element the tree does not reach becomes a
    pagination artifact, and leaves the ParentTree."""
    reached = {kid.objgen for top in root.K for kid in _elements(top)}
    for page in document.pages:
        mapping = parents.page(int(page.obj.get("/StructParents", -1)))
        if mapping is None:
            continue
        orphans = {
            mcid for mcid, element in enumerate(mapping)
            if isinstance(element, Dictionary) and element.objgen not in reached
        }  # fmt: skip
        if not orphans:
            continue
        for mcid in orphans:
            mapping[mcid] = None
        data = page.obj.Contents.read_bytes()

        def artifact(match: re.Match[bytes], orphans: set[int] = orphans) -> bytes:
            if int(match.group(1)) in orphans:
                return b"/Artifact\n<</Type /Pagination>>\nBDC"
            return match.group(0)

        page.obj.Contents = document.make_stream(_MARKED.sub(artifact, data))


def _kids(element: Any) -> list[Any]:
    kids = element.get("/K")
    return list(kids) if isinstance(kids, Array) else [kids] if kids is not None else []


def _structural(kids: list[Any]) -> list[Any]:
    return [k for k in kids if isinstance(k, Dictionary) and "/S" in k]


def _join(document: Any, root: Any, parents: _ParentTree, splits: list[Split | None]) -> None:
    """Join the parts of each element that a page break split."""
    top = root.K[0]  # the /Document element
    number_of = {page.obj.objgen: n for n, page in enumerate(document.pages)}
    tops: dict[int, list[Any]] = {}
    for kid in _structural(_kids(top)):  # each page's top elements, before any is joined
        tops.setdefault(number_of.get(kid.Pg.objgen, -1) if "/Pg" in kid else -1, []).append(kid)
    joined: dict[tuple[int, int], Any] = {}  # an element joined into another: that other
    for number, split in enumerate(splits):
        befores, afters = tops.get(number, []), tops.get(number + 1, [])
        if split is None or split.ending >= len(befores) or split.starting >= len(afters):
            continue
        first, second = befores[split.ending], afters[split.starting]
        first = joined.get(first.objgen, first)
        parent = top
        for tag in split.tags:
            if str(first.S) != tag or str(second.S) != tag:
                break
            before = _structural(_kids(first))
            _move(document, second, first, parents)
            parent.K = Array([k for k in _kids(parent) if k.objgen != second.objgen])
            joined[second.objgen] = first
            moved = _structural(_kids(second))
            if not before or not moved:
                break
            parent, first, second = first, before[-1], moved[0]


def _move(document: Any, source: Any, target: Any, parents: _ParentTree) -> None:
    """Every kid of ``source`` to the end of ``target``'s kids; a marked-content kid keeps its
    page as a marked-content reference."""
    kids = Array(_kids(target))
    for kid in _kids(source):
        if isinstance(kid, Dictionary) and "/S" in kid:
            kid.P = target
        elif isinstance(kid, int):
            parents.page(int(source.Pg.get("/StructParents", -1)))[kid] = target
            kid = document.make_indirect(Dictionary(Type=Name.MCR, Pg=source.Pg, MCID=kid))
        elif kid.get("/Type") == Name.OBJR and "/StructParent" in kid.Obj:
            parents.point(int(kid.Obj.StructParent), target)
        kids.append(kid)
    target.K = kids


def _uri(element: Any) -> str | None:
    """The address a /Link element leads to (its first annotation's)."""
    for kid in _kids(element):
        if isinstance(kid, Dictionary) and kid.get("/Type") == Name.OBJR:
            action = kid.Obj.get("/A")
            return str(action.URI) if action is not None and "/URI" in action else None
    return None


def _join_links(document: Any, root: Any, parents: _ParentTree) -> None:
    """One /Link per address: WeasyPrint makes one for each line an address takes, and a
    screen reader says "link" for each."""
    for element in [e for top in root.K for e in _elements(top)]:
        kids: list[Any] = []
        for kid in _kids(element):
            previous = kids[-1] if kids else None
            if (
                isinstance(kid, Dictionary) and kid.get("/S") == Name.Link
                and isinstance(previous, Dictionary) and previous.get("/S") == Name.Link
                and _uri(kid) is not None and _uri(kid) == _uri(previous)
            ):  # fmt: skip
                _move(document, kid, previous, parents)
            else:
                kids.append(kid)
        if len(kids) != len(_kids(element)):
            element.K = Array(kids)


def _table_headers(root: Any) -> None:
    """``/Scope`` on each header cell: ``/Column`` in a row of headers only, else ``/Row`` (the
    label of its row, as on the appointment card); and the ``/IDTree``."""
    ids = []
    for element in (e for top in root.K for e in _elements(top)):
        if element.S == Name.TR:
            cells = [c for c in _structural(_kids(element)) if c.S in (Name.TH, Name.TD)]
            scope = Name.Column if all(c.S == Name.TH for c in cells) else Name.Row
            for cell in (c for c in cells if c.S == Name.TH):
                attributes = cell.get("/A")
                if attributes is None:
                    cell.A = attributes = Dictionary(O=Name.Table)
                attributes.Scope = scope
        if "/ID" in element:
            ids.append((bytes(element.ID), element))
    if ids:
        names = Array()
        for key, element in sorted(ids, key=lambda pair: pair[0]):
            names.extend([pikepdf.String(key), element])
        root.IDTree = Dictionary(Names=names)
