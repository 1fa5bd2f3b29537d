"""Personalisation -> HTML (compose.py) -> PDF (WeasyPrint), with a warm, reusable Renderer.

One Renderer loads templates, fonts and stylesheets once and then serves many documents:
that is what makes a clinic day fast. A leaflet is laid out in two parts: the patient's own
first page, and the rest, which is laid out once and reused for every patient whose text is
the same (same procedure, campus, surgeon and day); both are joined into one PDF.

``render_many`` goes further for patients who share a text: their first pages are laid out
as one document, written with the rest as one PDF (each page drawn, each font subset once),
and that PDF is split into one leaflet per patient (split.py). A first page that takes more
than one page (a very long name) is made alone, as ``render`` makes it, and so is a patient
whose name holds a compatibility character (``_spelled_otherwise``). Each leaflet's fonts are
cut down to the glyphs of its own pages (split.py): no letter of another patient's name. If
the first pages' layout shows that a stylesheet carries something from one page to the next
(``_shared``), that layout's first pages are made one by one from then on.

Rendering reads nothing but the project's own assets (``styles/`` and ``config/assets/``) and
``data:`` URIs; every other URL is refused.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import mimetypes
import multiprocessing.util
import shutil
import unicodedata
from collections import OrderedDict, deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from . import libraries  # noqa: F401  # isort: skip  # WeasyPrint, imported quickly: first

from weasyprint import CSS, HTML, Document
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse, URLFetchingError

from ..common.errors import ContentError
from ..common.project import DEFAULT_FORMAT, FLOWING, LAYOUTS, Project
from ..content.registry import Registry
from ..visit.personalise import Personalisation
from .compose import TOGETHER, Composer
from .split import Together
from .standards import write_pdf

log = logging.getLogger(__name__)


# Whatever a hospital's own stylesheets say: no automatic hyphenation. WeasyPrint prints its
# hyphens as real ones (U+002D), which a screen reader reads aloud ("afge- sproken").
_ALWAYS = "* { hyphens: manual !important; }"


def tune_gc() -> None:
    """Fit the garbage collector to rendering; call once per process, after the imports.

    Layout allocates millions of short-lived objects: by default Python collects every 700
    allocations and rescans everything imported so far, which costs 10-15% of a leaflet.
    Cycles are still collected, just less often; imported modules are left out of the scans.
    So rarely, in fact, that a long-running renderer grows by about 0.2 MB per leaflet: the
    Renderer therefore collects every COLLECT_EVERY leaflets, which keeps memory flat.
    """
    gc.set_threshold(50_000, 50, 100)
    gc.freeze()


def _boxes(box: Any) -> Iterator[Any]:
    """A box of WeasyPrint's layout tree and every box under it (no public API walks it)."""
    stack = [box]
    while stack:
        box = stack.pop()
        yield box
        stack.extend(getattr(box, "children", ()))


def _split_boxes(document: Document) -> set[str]:
    """The numbers (``data-box``, markup.py) of the call-out boxes laid out over more than one
    page. Boxes avoid breaks inside, so only a box taller than a page is split."""
    pages_of: dict[str, set[int]] = {}
    for number, page in enumerate(document.pages):
        for box in _boxes(page._page_box):
            if box.element_tag == "aside" and (key := box.element.get("data-box")):
                pages_of.setdefault(key, set()).add(number)
    return {key for key, pages in pages_of.items() if len(pages) > 1}


class SharedBoxes(ValueError):
    """First pages laid out together would show something of each other (``_shared``)."""


def _cover_of_each_page(document: Document) -> list[int]:
    """For each page of a document of first pages (covers.html.j2), whose first page it is
    (0-based, in their order): a first page that flows over takes two. Raises SharedBoxes if
    one could show something of another (``_shared``)."""
    found: list[int] = []
    elements: list[object] = []
    cover_of: dict[int, int] = {}  # the id of each element of a first page -> that page
    for page in document.pages:
        box = page._page_box  # WeasyPrint's layout tree: no public API walks it
        for tag in ("html", "body"):
            box = next(c for c in box.children if c.element_tag == tag)
        cover = next(
            c.element for c in map(lambda c: getattr(c, "_box", c), box.children)
            if c.element is not None and "cover" in (c.element.get("class") or "").split()
        )  # fmt: skip
        if not elements or elements[-1] is not cover:
            elements.append(cover)
            cover_of.update((id(e), len(elements) - 1) for e in cover.iter())
        found.append(len(elements) - 1)
    _shared(document, found, cover_of)
    return found


_OWN_COUNTERS = {"list-item", "page"}  # counted within a list, or per page of each leaflet


def _shared(document: Document, owners: list[int], cover_of: dict[int, int]) -> None:
    """Raise SharedBoxes if a first page could show something of another, as a hospital's
    stylesheet may make it do: a box of another first page (fixed boxes repeat on every page,
    running ones go to the margins); anything that carries over to the next page (a named
    string, a counter, a footnote number); or pages unlike each other (margins, page
    selectors such as :first or :left, page numbers). Read from the layout, not the
    stylesheets' text, which escapes and imports hide."""
    margins: set[tuple[object, ...]] = set()
    for page, owner in zip(document.pages, owners, strict=True):
        for box in _boxes(page._page_box):
            style = box.style
            if (
                cover_of.get(id(box.element), owner) != owner
                or style["string_set"] != "none"
                or {name for name, _ in style["counter_reset"]} - _OWN_COUNTERS
                or {name for name, _ in style["counter_set"]} - _OWN_COUNTERS
                or (
                    style["counter_increment"] != "auto"
                    and {name for name, _ in style["counter_increment"]} - _OWN_COUNTERS
                )
                or (box.element_tag or "").endswith("::footnote-call")
            ):
                raise SharedBoxes(f"page {len(margins) + 1}: {box.element_tag}")
        margins.add(_page_frame(page._page_box))
        if len(margins) > 1:
            raise SharedBoxes("first pages unlike each other")


def _page_frame(page: object) -> tuple[object, ...]:
    """A page's size and margins, and what its margin boxes show, where."""
    texts = []
    for box in getattr(page, "children", ()):
        if hasattr(box, "at_keyword"):
            shown = "".join(getattr(inner, "text", "") for inner in _boxes(box))
            texts.append((box.at_keyword, box.position_x, box.position_y, shown))
    sides = ("margin_top", "margin_right", "margin_bottom", "margin_left", "width", "height")
    return (*(getattr(page, side) for side in sides), tuple(texts))


def _spelled_otherwise(p: Personalisation) -> bool:
    """Whether the patient's name holds a compatibility character ("ﬁ", "ﻻ", a full-width
    letter): one drawn with the glyph of another spelling ("fi", "لا"). A PDF gives each glyph
    one text, the first drawn: made with others, the patient's name could read as theirs."""
    return any(unicodedata.normalize("NFKC", c) != c for c in p.visit.patient.name)


class _SameAnchors(logging.Filter):
    """First pages laid out together repeat their anchors ('appointment-title'); WeasyPrint
    says so, keeps the first, and split.py points each patient's to their own page."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Anchor defined twice")


_SAME_ANCHORS = _SameAnchors()


def _marked_tall(html: str, numbers: set[str]) -> str:
    """The HTML with the boxes ``numbers`` marked ``data-tall``: they may break (leaflet.css)."""
    for key in numbers:
        html = html.replace(f'data-box="{key}"', f'data-box="{key}" data-tall', 1)
    return html


class AssetFetcher(URLFetcher):
    """Serve ``data:`` URIs and files inside the allowed folders; refuse everything else."""

    def __init__(self, allowed: tuple[Path, ...]) -> None:
        super().__init__(allowed_protocols={"data"}, timeout=1)
        self.allowed = allowed
        self.refused: deque[str] = deque(maxlen=100)  # recent refusals, for tests and logs

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> URLFetcherResponse:
        scheme = urlsplit(url).scheme.lower()
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme == "file":
            path = Path(unquote(urlsplit(url).path)).resolve()
            if any(path.is_relative_to(folder) for folder in self.allowed) and path.is_file():
                kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": kind})
        self.refused.append(url)
        log.warning("rendering tried to read %s: refused (not a project asset)", url[:200])
        raise URLFetchingError(f"refused: {url[:200]}")


def _remove_fonts(font_config: FontConfiguration) -> None:
    """WeasyPrint copies the fonts of @font-face rules to a temporary folder that it removes
    only when their FontConfiguration is freed: never, in a process that ends with a renderer
    still alive (a batch worker, the web's)."""
    folder = getattr(font_config, "_folder", None)  # WeasyPrint 70's (a test checks it)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)
        font_config._folder = None


@dataclass(frozen=True)
class Rendered:
    pdf: bytes
    pages: int


class Renderer:
    """Turns personalisations into PDFs; keep one per process and reuse it."""

    # Laid-out leaflet bodies kept for reuse (a few MB each). Batches render patients sorted
    # by body, so two are enough and memory stays flat however long the day is; every body
    # kept is also scanned at each garbage collection (6 kept cost 4 ms a leaflet).
    BODIES_KEPT = 2
    # Leaflets between full garbage collections (see tune_gc). A collection scans every live
    # object (50-70 ms in a batch worker): every 8 leaflets that was 6.5 ms a leaflet, every
    # 32 it is 1.5 ms, for a few MB more between two.
    COLLECT_EVERY = 32

    def __init__(self, project: Project, registry: Registry) -> None:
        self.project = project
        self.composer = Composer(project, registry)
        self.fetcher = AssetFetcher(project.asset_dirs)
        self.font_config = FontConfiguration()
        # When this renderer is freed, or when this process ends (a multiprocessing worker
        # too, which skips atexit): exitpriority makes multiprocessing's exit function run it;
        # never in a process forked from this one
        self.remove_fonts = multiprocessing.util.Finalize(
            self, _remove_fonts, args=(self.font_config,), exitpriority=0
        )
        self._stylesheets: dict[str, list[CSS]] = {}
        self._image_cache: dict[str, object] = {}
        self._bodies: OrderedDict[tuple[str, str], Document] = OrderedDict()
        self._apart: dict[str, bool] = {}  # per layout: first pages made one by one (_joins)
        self.base_url = project.root.resolve().as_uri() + "/"
        self.layouts = 0  # documents laid out so far (tests check the reuse)
        self.rendered = 0

    def stylesheets(self, layout: str) -> list[CSS]:
        """The project's stylesheets for ``layout``, then what no project may change."""
        if layout not in self._stylesheets:
            sheets = []
            for name in ("leaflet.css", *LAYOUTS[layout]):
                path = self.project.styles_dir / name
                if not path.is_file():
                    raise ContentError("stijlblad ontbreekt", file=f"styles/{name}")
                sheets.append(
                    CSS(filename=path, url_fetcher=self.fetcher, font_config=self.font_config)
                )
            sheets.append(CSS(string=_ALWAYS, font_config=self.font_config))
            self._stylesheets[layout] = sheets
        return self._stylesheets[layout]

    def layout(self, html: str, layout: str = DEFAULT_FORMAT) -> Document:
        """Lay out a document. A call-out box is kept on one page (``break-inside: avoid``);
        one taller than a page is laid out again as ``data-tall``, so that it flows on from
        where it starts rather than leaving a page empty and its heading alone."""
        document = self._laid_out(html, layout)
        if tall := _split_boxes(document):
            document = self._laid_out(_marked_tall(html, tall), layout)
        return document

    def _laid_out(self, html: str, layout: str) -> Document:
        self.layouts += 1
        return HTML(string=html, base_url=self.base_url, url_fetcher=self.fetcher).render(
            stylesheets=self.stylesheets(layout),
            font_config=self.font_config,
            cache=self._image_cache,
        )

    def pdf(self, html: str, layout: str = DEFAULT_FORMAT) -> Rendered:
        """Any HTML as one document: separator sheets, and the tests and benchmarks."""
        document = self.layout(html, layout)
        return Rendered(write_pdf(document), len(document.pages))

    def _body(self, html: str, layout: str) -> Document:
        key = (layout, hashlib.sha256(html.encode("utf-8")).hexdigest())
        if key in self._bodies:
            self._bodies.move_to_end(key)
        else:
            self._bodies[key] = self.layout(html, layout)
            if len(self._bodies) > self.BODIES_KEPT:
                self._bodies.popitem(last=False)
        return self._bodies[key]

    def render(
        self, p: Personalisation, layout: str = DEFAULT_FORMAT, archive: bool = False
    ) -> Rendered:
        """One patient's leaflet: page 1 laid out for them, the rest reused when it can be.
        Tagged PDF/UA-1; with ``archive``, PDF/A-1b (tagged too) for the patient record."""
        if layout in FLOWING:
            document = self.layout(self.composer.whole(p), layout)
            return self._done(document, archive)
        cover_pages = 1
        while True:  # a second round only if the cover does not fit on one page
            body = self._body(self.composer.leaflet(p, cover_pages), layout)
            cover = self.layout(self.composer.cover(p, total_pages=len(body.pages)), layout)
            if len(cover.pages) == cover_pages:
                break
            cover_pages = len(cover.pages)
        return self._done(cover.copy(cover.pages + body.pages[cover_pages:]), archive)

    def render_many(
        self, ps: Sequence[Personalisation], layout: str = DEFAULT_FORMAT, archive: bool = False
    ) -> Iterator[Rendered | Exception]:
        """Each patient's leaflet in turn, as ``render`` would make it; patients next to each
        other who share a text are made together (module docstring). A patient whose leaflet
        fails gets the error in their place, and the others go on."""
        if layout in FLOWING or not self._joins(layout):
            yield from (self._alone(p, layout, archive) for p in ps)
            return
        texts: list[str | Exception] = []
        for p in ps:
            try:
                texts.append(self.composer.leaflet(p))
            except Exception as exc:  # this patient's own: the others go on
                texts.append(exc)
        start = 0
        while start < len(ps):
            text = texts[start]
            if isinstance(text, Exception):
                yield text
                start += 1
                continue
            end = start + 1
            while end < len(ps) and end - start < TOGETHER and texts[end] == text:
                end += 1
            yield from self._together(ps[start:end], text, layout, archive)
            start = end

    def _joins(self, layout: str) -> bool:
        """Whether first pages of ``layout`` may be laid out together: the project's templates
        can (covers.html.j2), and its stylesheets did not show one in another (SharedBoxes)."""
        if layout not in self._apart:
            self._apart[layout] = not self.composer.joins_covers()
        return not self._apart[layout]

    def _alone(self, p: Personalisation, layout: str, archive: bool) -> Rendered | Exception:
        try:
            return self.render(p, layout, archive)
        except Exception as exc:
            return exc

    def _together(
        self, ps: Sequence[Personalisation], text: str, layout: str, archive: bool
    ) -> Iterator[Rendered | Exception]:
        """The leaflets of patients with one text (``text``, their leaflet after page 1)."""
        members = [n for n, p in enumerate(ps) if not _spelled_otherwise(p)]
        if len(members) < 2 or self._apart.get(layout):
            yield from (self._alone(p, layout, archive) for p in ps)
            return
        try:
            body = self._body(text, layout)
            html = self.composer.covers([ps[n] for n in members], len(body.pages))
            logging.getLogger("weasyprint").addFilter(_SAME_ANCHORS)
            try:
                covers = self.layout(html, layout)
            finally:
                logging.getLogger("weasyprint").removeFilter(_SAME_ANCHORS)
            owners = _cover_of_each_page(covers)
            alone = {n for n in owners if owners.count(n) > 1}  # flows over: made alone
            pages = [page for page, n in zip(covers.pages, owners, strict=True) if n not in alone]
            together = None
            if pages:
                group = covers.copy(pages + body.pages[1:])
                together = Together(write_pdf(group, archive, to_split=True), len(pages))
        except Exception as exc:  # each is made alone, and says so
            if isinstance(exc, SharedBoxes):  # the stylesheet's: from now on, for every group
                log.warning("first pages would show each other's (%s): made one by one", exc)
                self._apart[layout] = True
            else:  # one patient's, most likely
                log.warning("first pages together failed (%s): each made alone", type(exc).__name__)
            yield from (self._alone(p, layout, archive) for p in ps)
            return
        place = {members[n]: k for k, n in enumerate(n for n in owners if n not in alone)}
        for n, p in enumerate(ps):
            if together is None or n not in place:
                yield self._alone(p, layout, archive)
                continue
            try:
                pdf = together.leaflet(place[n])
            except Exception:
                yield self._alone(p, layout, archive)
                continue
            yield self._counted(Rendered(pdf, len(body.pages)))

    def _done(self, document: Document, archive: bool) -> Rendered:
        return self._counted(Rendered(write_pdf(document, archive), len(document.pages)))

    def _counted(self, result: Rendered) -> Rendered:
        self.rendered += 1
        if self.rendered % self.COLLECT_EVERY == 0:
            gc.collect()
        return result
