"""One PDF written for several patients -> one PDF per patient.

Input: a finished tagged PDF (standards.py) whose first ``covers`` pages are the first pages
of as many patients whose leaflets share the rest, and whose other pages are that rest, as
``render.Renderer`` writes a group of patients. Output: for one of those patients, the PDF of
their own first page followed by the rest, as a screen reader and a printer would find it had
it been written for them alone: the same pages, structure tree, bookmarks, links and named
destinations, and a valid PDF/UA-1 (or PDF/A-1b) file still.

Guarantee: nothing of another patient stays in the file. Their pages go, and with them every
structure element, annotation and bookmark of those pages and every image only they used
(qpdf writes only what is still reachable). The fonts, subset once for the whole group, are
cut down to the glyphs this patient's pages draw (subset.py): their programs, widths and
Unicode maps hold no letter of another patient's name, no digit of their dates, as when the
leaflet is made alone. A font that cannot be cut (none WeasyPrint writes today) makes
``leaflet`` refuse with ``OthersWouldStay`` if it holds anything more: the patient is then made
alone.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pikepdf
from pikepdf import Array, Dictionary, ObjectStreamMode

from .subset import Drawing, Fonts, OthersWouldStay, drawing, drawn, font_id, union

_KINDS = ("/Font", "/XObject", "/ExtGState", "/Pattern", "/Shading")  # resources, by name


class Together:
    """The group's PDF, from which each patient's leaflet is taken in turn. What belongs to
    which first page is read once; each leaflet is then a fresh copy with the others' parts
    deleted (their positions are the same in every copy)."""

    def __init__(self, pdf: bytes, covers: int) -> None:
        self.pdf = pdf  # written by standards.write_pdf(..., to_split=True): quick to open
        self.covers = covers
        with pikepdf.open(io.BytesIO(pdf)) as document:
            pages = [p.obj for p in document.pages]
            number = {page.objgen: n for n, page in enumerate(pages[:covers])}
            if "/AcroForm" in document.Root:  # fields outlive their pages: not split
                raise OthersWouldStay("a form with fields")
            streams = [list(drawing(page)) for page in pages]
            self.used = [_used(drawn_by) for drawn_by in streams]
            self.drawn = [drawn(drawn_by) for drawn_by in streams]
            # Object streams packed again, not as the group's were (PDF/A-1 has none)
            self.streams = ObjectStreamMode.disable
            if document.pdf_version >= "1.5":
                self.streams = ObjectStreamMode.generate
            resources: Any = pages[0].get("/Resources")
            fonts = {font_id(f): f for f in (resources.get("/Font") or {}).values()}
            all_drawn = union(self.drawn)
            fonts.update((key, document.get_object(key)) for key in all_drawn)
            self.fonts = Fonts(list(fonts.values()), all_drawn)
            root = document.Root.get("/StructTreeRoot")
            # Per first page: its top elements (a first page is never joined to the next
            # page, structure.py), its ParentTree keys (page and annotations), its IDs
            self.tops: list[list[int]] = [[] for _ in range(covers)]
            self.keys: list[set[int]] = [_keys(page) for page in pages[:covers]]
            self.ids: list[list[int]] = [[] for _ in range(covers)]
            if root is not None:
                for index, kid in enumerate(root.K[0].K):
                    if (n := number.get(_page_of(kid))) is not None:  # type: ignore[arg-type]
                        self.tops[n].append(index)
                names = root.IDTree.Names if "/IDTree" in root else Array()
                for index in range(0, len(names), 2):
                    if (n := number.get(_page_of(names[index + 1]))) is not None:  # type: ignore[arg-type]
                        self.ids[n].append(index)
            # The header cells and the cells that name them (renumbered in each leaflet), per
            # first page, and those of the rest
            self.labelled: list[list[tuple[int, int]]] = [[] for _ in range(covers + 1)]
            for element in _labelled(root.K[0]) if root is not None else ():
                self.labelled[number.get(_page_of(element), covers)].append(element.objgen)  # type: ignore[arg-type]

    def leaflet(self, own: int) -> bytes:
        """The leaflet of the patient whose first page is page ``own`` (0-based); raises
        OthersWouldStay if a font that cannot be cut would hold glyphs only others' pages draw."""
        others = [n for n in range(self.covers) if n != own]
        with pikepdf.open(io.BytesIO(self.pdf)) as document:
            pages = list(document.pages)
            gone = {pages[n].obj.objgen for n in others}
            root = document.Root.get("/StructTreeRoot")
            if root is not None:
                top = root.K[0]
                for index in sorted((i for n in others for i in self.tops[n]), reverse=True):
                    del top.K[index]
                keys = set().union(*(self.keys[n] for n in others))
                root.ParentTree.Nums = _pairs(root.ParentTree.Nums, lambda k, _: int(k) in keys)
                if "/IDTree" in root:
                    ids = {i for n in others for i in self.ids[n]}
                    root.IDTree.Names = _pairs(root.IDTree.Names, lambda _, i: i in ids)
                labelled = self.labelled[own] + self.labelled[self.covers]
                _renumber(document, root, [pages[own], *pages[self.covers :]], labelled)
            if "/Outlines" in document.Root:
                with document.open_outline() as outline:
                    outline.root[:] = _kept_bookmarks(outline.root, gone)
            _retarget(document.Root.get("/Names"), gone, pages[own].obj)
            kept = [pages[own], *pages[self.covers :]]
            _own_resources(document, kept, [self.used[own], *self.used[self.covers :]])
            self.fonts.cut(document, union([self.drawn[own], *self.drawn[self.covers :]]))
            for n in others:
                document.pages.remove(pages[n])
            # Written once, numbered in the order of its own objects (qpdf packs object
            # streams in the group's order), then packed: the same bytes, whoever it was
            # made with
            first = io.BytesIO()
            document.save(
                first, object_stream_mode=ObjectStreamMode.disable, fix_metadata_version=False
            )
        with pikepdf.open(first) as document:
            del document.trailer["/ID"]  # the group's: both made from this file's content
            out = io.BytesIO()
            document.save(
                out,
                deterministic_id=True,
                object_stream_mode=self.streams,
                fix_metadata_version=False,  # the group's, the same
            )
        return out.getvalue()


@dataclass(frozen=True)
class _Uses:
    """What a page draws with (``_used``)."""

    names: set[bytes]  # the resource names its own content uses
    objects: set[tuple[int, int]]  # every object those and the names of what it draws lead to
    drawers: set[tuple[int, int]]  # the forms, patterns and masks it draws


def _used(streams: Drawing) -> _Uses:
    """What a page draws with, from its streams (``drawing``)."""
    uses = _Uses(set(), set(), set())
    for n, (stream, resources, names) in enumerate(streams):
        if n == 0:  # the page's own come first
            uses.names.update(names)
        else:
            uses.drawers.add(stream.objgen)
        for kind in _KINDS:
            entries: Any = resources.get(kind) if resources is not None else None
            for key in list(entries.keys()) if entries is not None else []:
                if key[1:].encode() in names and entries[key].is_indirect:
                    uses.objects.add(entries[key].objgen)
    return uses


_ID = re.compile(rb"(\d+)(-.*)", re.DOTALL)  # a header cell's ID: "<table>-<row>-<column>"


def _labelled(element: Any) -> Iterator[Any]:
    """The structure elements under ``element`` with an /ID or /Headers."""
    attributes = element.get("/A")
    if "/ID" in element or (isinstance(attributes, Dictionary) and "/Headers" in attributes):
        yield element
    kids = element.get("/K")
    for kid in kids if isinstance(kids, Array) else [kids]:
        if isinstance(kid, Dictionary) and "/S" in kid:
            yield from _labelled(kid)


def _renumber(document: Any, root: Any, pages: list[Any], labelled: list[Any]) -> None:
    """The structure's numbers counted in this leaflet, whoever else was in the group: the
    ParentTree keys from 0 (as alone), the header cells' IDs by table from 1 ("1-0-0"). In
    the group they count the pages and elements of the others' first pages before this one:
    how many there were, and something of what they held."""
    nums = root.ParentTree.Nums
    new = {int(nums[n]): k for k, n in enumerate(range(0, len(nums), 2))}  # kept in order
    root.ParentTree.Nums = Array(
        item for n in range(0, len(nums), 2) for item in (new[int(nums[n])], nums[n + 1])
    )
    if "/ParentTreeNextKey" in root:
        root.ParentTreeNextKey = len(new)
    for page in (p.obj for p in pages):
        if "/StructParents" in page:
            page.StructParents = new.get(int(page.StructParents), page.StructParents)
        for annotation in page.get("/Annots", ()):
            if "/StructParent" in annotation:
                annotation.StructParent = new.get(
                    int(annotation.StructParent), annotation.StructParent
                )
    names = root.IDTree.Names if "/IDTree" in root else Array()
    keys = [_ID.fullmatch(bytes(names[n])) for n in range(0, len(names), 2)]
    if not keys or not all(keys):
        return
    tables = sorted({int(key.group(1)) for key in keys if key is not None})
    table = {number: str(n + 1).encode() for n, number in enumerate(tables)}

    def renamed(key: Any) -> pikepdf.String:
        found = _ID.fullmatch(bytes(key))
        if found is None or int(found.group(1)) not in table:
            return key  # type: ignore[no-any-return]
        return pikepdf.String(table[int(found.group(1))] + found.group(2))

    for element in (document.get_object(objgen) for objgen in labelled):
        if "/ID" in element:
            element.ID = renamed(element.ID)
        attributes = element.get("/A")
        if isinstance(attributes, Dictionary) and "/Headers" in attributes:
            attributes.Headers = Array(renamed(key) for key in attributes.Headers)
    pairs = sorted(((renamed(names[n]), names[n + 1]) for n in range(0, len(names), 2)),
                   key=lambda pair: bytes(pair[0]))  # fmt: skip
    root.IDTree.Names = Array(item for pair in pairs for item in pair)


def _keys(page: Any) -> set[int]:
    """A page's keys in the ParentTree: its own, and each of its annotations'."""
    keys = {int(page.get("/StructParents", -1))}
    keys.update(int(a.get("/StructParent", -1)) for a in page.get("/Annots", ()))
    return keys


def _page_of(element: Any) -> tuple[int, int] | None:
    """The page (objgen) of a structure element: its own /Pg, or its first kid's."""
    while isinstance(element, Dictionary):
        if "/Pg" in element:
            return tuple(element.Pg.objgen)  # type: ignore[return-value]
        kids = element.get("/K")
        element = kids[0] if isinstance(kids, Array) and len(kids) else kids
    return None


def _pairs(array: Any, dropped: Any) -> Any:
    """A number or name tree's flat [key, value, ...] array without the pairs ``dropped``
    says (given the key, and the pair's index)."""
    return Array(
        item for n in range(0, len(array), 2) if not dropped(array[n], n)
        for item in (array[n], array[n + 1])
    )  # fmt: skip


def _target(item: Any) -> tuple[int, int] | None:
    destination = item.destination
    if destination is None and item.action is not None:
        destination = item.action.get("/D")
    if isinstance(destination, Array) and len(destination):
        return tuple(destination[0].objgen)  # type: ignore[return-value]
    return None


def _kept_bookmarks(items: list[Any], gone: set[tuple[int, int]]) -> list[Any]:
    """The bookmarks without those of other patients' pages. What the last patient's title
    held (the rest of the leaflet: bookmarks nest by heading level) goes under the title
    kept before it, as it does in a leaflet written alone."""
    kept: list[Any] = []
    for item in items:
        children = _kept_bookmarks(item.children, gone)
        if _target(item) in gone:
            (kept[-1].children if kept else kept).extend(children)
        else:
            item.children[:] = children
            kept.append(item)
    return kept


def _retarget(names: Any, gone: set[tuple[int, int]], mine: Any) -> None:
    """Named destinations on another patient's first page lead to this one's. WeasyPrint
    keeps the first of several anchors of one name; every first page is laid out alike above
    the patient's own details, so the point on the page is the same."""
    dests = names.get("/Dests") if names is not None else None
    if dests is None or "/Names" not in dests:
        return
    for n in range(1, len(dests.Names), 2):
        target = dests.Names[n]
        array = target.D if isinstance(target, Dictionary) else target
        if isinstance(array, Array) and len(array) and tuple(array[0].objgen) in gone:
            array[0] = mine


def _own_resources(document: Any, pages: list[Any], used: list[_Uses]) -> None:
    """The pages' resources (WeasyPrint gives every page the same) without the fonts, images
    and forms that only other patients' pages use (``used``: of each page kept). An entry is
    kept if one of the pages leads to its object, or, written in the dictionary itself, if a
    page names it; what the forms they draw share with the pages is cut down too."""
    names = set().union(*(u.names for u in used))
    objects = set().union(*(u.objects for u in used))
    shared = pages[0].obj.Resources
    own = Dictionary({key: shared[key] for key in shared.keys()})  # noqa: SIM118
    cut = {}
    for kind in (k for k in _KINDS if k in shared):
        entries = shared[kind]
        kept = {
            key: value
            for key, value in ((key, entries[key]) for key in entries.keys())  # noqa: SIM118
            if (value.objgen in objects if value.is_indirect else key[1:].encode() in names)
        }
        own[kind] = document.make_indirect(Dictionary(kept))  # a new one even if all is kept:
        if entries.is_indirect:  # the file is the same whoever else was in the group
            cut[entries.objgen] = own[kind]
    for objgen in set().union(*(u.drawers for u in used)):  # drawing with the pages'
        inner: Any = document.get_object(objgen)
        theirs: Any = inner.get("/Resources") if isinstance(inner, pikepdf.Stream) else None
        for kind in _KINDS if isinstance(theirs, Dictionary) else ():
            if kind in theirs and theirs[kind].is_indirect:
                theirs[kind] = cut.get(theirs[kind].objgen, theirs[kind])
    resources = document.make_indirect(own)
    for page in pages:
        page.obj.Resources = resources
