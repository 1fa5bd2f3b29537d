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
``leaflet`` refuse with ``OthersGlyphs`` if it holds anything more: the patient is then made
alone.
"""

from __future__ import annotations

import io
import re
from typing import Any

import pikepdf
from pikepdf import Array, Dictionary

from .subset import Fonts, drawn, font_id, union

_NAMED = re.compile(rb"/([^\s/\[\]<>(){}%]+)")  # a name in a content stream: a resource's
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
            self.names = [_names(page, page.get("/Resources")) for page in pages]
            self.rest_names = set().union(*self.names[covers:])
            self.drawn = [drawn(page, page.get("/Resources")) for page in pages]
            resources: Any = pages[0].get("/Resources")
            fonts = {font_id(f): f for f in (resources.get("/Font") or {}).values()}
            fonts.update((key, document.get_object(key)) for key in union(self.drawn))
            self.fonts = Fonts(list(fonts.values()), union(self.drawn))
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

    def leaflet(self, own: int) -> bytes:
        """The leaflet of the patient whose first page is page ``own`` (0-based); raises
        OthersGlyphs if a font that cannot be cut would hold glyphs only others' pages draw."""
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
            if "/Outlines" in document.Root:
                with document.open_outline() as outline:
                    outline.root[:] = _kept_bookmarks(outline.root, gone)
            _retarget(document.Root.get("/Names"), gone, pages[own].obj)
            kept = [pages[own], *pages[self.covers :]]
            _own_resources(document, kept, self.rest_names | self.names[own])
            self.fonts.cut(document, union([self.drawn[own], *self.drawn[self.covers :]]))
            for n in others:
                document.pages.remove(pages[n])
            out = io.BytesIO()
            document.save(out, deterministic_id=True)  # the same leaflet, the same bytes
        return out.getvalue()


def _names(drawn: Any, resources: Any) -> set[bytes]:
    """The resource names a page (or form) uses, with those of the forms it draws."""
    names = set(_NAMED.findall(drawn.Contents.read_bytes() if "/Contents" in drawn
                               else drawn.read_bytes()))  # fmt: skip
    forms: Any = resources.get("/XObject") if resources is not None else None
    for key in list(forms.keys()) if forms is not None else []:
        form = forms[key]
        if key[1:].encode() in names and form.get("/Subtype") == "/Form":
            names |= _names(form, form.get("/Resources"))
    return names


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


def _own_resources(document: Any, pages: list[Any], used: set[bytes]) -> None:
    """The pages' resources (WeasyPrint gives every page the same) without the fonts and
    images that only other patients' pages use; the forms the pages draw share the fonts."""
    shared = pages[0].obj.Resources
    own = Dictionary({key: shared[key] for key in shared.keys()})  # noqa: SIM118
    left_out = set()
    for kind in (k for k in _KINDS if k in shared):
        entries = shared[kind]
        kept = {key: entries[key] for key in entries.keys() if key[1:].encode() in used}  # noqa: SIM118
        if len(kept) < len(entries.keys()):
            own[kind] = document.make_indirect(Dictionary(kept))
            left_out.add(kind)
    if not left_out:
        return
    for form in own.get("/XObject", {}).values() if "/Font" in left_out else ():
        inner: Any = form.get("/Resources")
        fonts = inner.get("/Font") if inner is not None else None
        if fonts is not None and fonts.objgen == shared.Font.objgen:  # the pages' fonts
            form.Resources.Font = own.Font
    resources = document.make_indirect(own)
    for page in pages:
        page.obj.Resources = resources
