"""Personalisation -> HTML (Jinja2) -> PDF (WeasyPrint), with a warm, reusable Renderer.

One Renderer loads templates, fonts and stylesheets once and then serves many documents:
that is what makes a clinic day fast. Rendering reads nothing but the project's own assets
(``styles/`` and ``config/assets/``) and ``data:`` URIs; every other URL is refused.
"""

from __future__ import annotations

import gc
import logging
import mimetypes
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateError,
    TemplateSyntaxError,
)
from markupsafe import Markup, escape
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse, URLFetchingError

from . import __version__
from .content import HTML_LANG
from .errors import ContentError
from .i18n import load_labels, placeholder_values, short_date
from .markup import body_html, fill
from .project import DEFAULT_FORMAT, FORMATS, Project
from .qr import qr_data_uri
from .registry import Registry
from .visit import Personalisation

log = logging.getLogger(__name__)
TEMPLATE = "leaflet.html.j2"


def tune_gc() -> None:
    """Fit the garbage collector to rendering; call once per process, after the imports.

    Layout allocates millions of short-lived objects: by default Python collects every 700
    allocations and rescans everything imported so far, which costs 10-15% of a leaflet.
    Cycles are still collected, just less often; imported modules are left out of the scans.
    """
    gc.set_threshold(50_000, 50, 100)
    gc.freeze()


class AssetFetcher(URLFetcher):
    """Serve ``data:`` URIs and files inside the allowed folders; refuse everything else."""

    def __init__(self, allowed: tuple[Path, ...]) -> None:
        super().__init__(allowed_protocols={"data"}, timeout=1)
        self.allowed = allowed
        self.refused: deque[str] = deque(maxlen=100)  # recent refusals, for tests and logs

    def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
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


def _css_string(value: object) -> Markup:
    """A CSS string literal; safe inside <style> whatever the text contains."""
    text = str(value)
    escaped = "".join(c if c.isalnum() or c in " .,:;-_()/'" else f"\\{ord(c):x} " for c in text)
    return Markup(f'"{escaped}"')


def _url_text(url: str) -> Markup:
    """A printed URL that wraps only after a '/', never at a hyphen that belongs to it."""
    scheme, sep, rest = url.partition("://")
    host, *segments = rest.split("/")
    chunks = [f"{scheme}{sep}{host}/"] + [f"{s}/" for s in segments[:-1]] + segments[-1:]
    spans = (f'<span class="nowrap">{escape(c)}</span>' for c in chunks if c)
    return Markup('<span class="url">' + "<wbr>".join(spans) + "</span>")


@dataclass(frozen=True)
class Rendered:
    pdf: bytes
    pages: int


class Renderer:
    """Turns personalisations into PDFs; keep one per process and reuse it."""

    def __init__(self, project: Project, registry: Registry) -> None:
        self.project = project
        self.registry = registry
        self.env = Environment(
            loader=FileSystemLoader(project.templates_dir),
            autoescape=True,
            undefined=StrictUndefined,
            keep_trailing_newline=True,
        )
        self.env.filters["css_string"] = _css_string
        self.env.filters["url"] = _url_text
        self.fetcher = AssetFetcher(project.asset_dirs)
        self.font_config = FontConfiguration()
        self._stylesheets: dict[str, list[CSS]] = {}
        self._image_cache: dict = {}
        self.base_url = project.root.resolve().as_uri() + "/"

    def stylesheets(self, fmt: str) -> list[CSS]:
        if fmt not in self._stylesheets:
            sheets = []
            for name in ("leaflet.css", FORMATS[fmt]):
                path = self.project.styles_dir / name
                if not path.is_file():
                    raise ContentError("stijlblad ontbreekt", file=f"styles/{name}")
                sheets.append(
                    CSS(filename=path, url_fetcher=self.fetcher, font_config=self.font_config)
                )
            self._stylesheets[fmt] = sheets
        return self._stylesheets[fmt]

    def html(self, p: Personalisation, fmt: str = DEFAULT_FORMAT) -> str:
        """The complete HTML of one personalised leaflet."""
        leaflet, hospital = p.leaflet, self.registry.hospital
        labels = load_labels(self.project.templates_dir, leaflet.lang)
        values = placeholder_values(p, labels)
        qr_codes = [
            (labels["qr_contact"].format(site=p.site.name), p.site.contact_url),
            (labels["qr_online"], leaflet.meta.url),
        ]
        logo = self.registry.logo_path
        context = {
            "lang": HTML_LANG[leaflet.lang],
            "format": fmt,
            "labels": labels,
            "hospital": hospital,
            "logo_url": logo.as_uri() if logo else None,
            "meta": leaflet.meta,
            "variant_label": values["procedure"],
            "updated": short_date(leaflet.meta.updated, p.locale),
            "patient": p.visit.patient,
            "birth_date": (
                short_date(p.visit.patient.birth_date, p.locale)
                if p.visit.patient.birth_date
                else None
            ),
            "v": values,
            "site": p.site,
            "qr_codes": [
                {
                    "label": label,
                    "url": url,
                    "src": qr_data_uri(url),
                    "alt": labels["qr_alt"].format(url=url),
                }
                for label, url in qr_codes
            ],
            "body": Markup(fill(body_html(leaflet.body, p.visit.variant), values)),
            "generator": f"leafletpress {__version__}",
        }
        try:
            return self.env.get_template(TEMPLATE).render(context)
        except TemplateSyntaxError as exc:
            raise ContentError(f"sjabloonfout: {exc.message}", file=f"templates/{exc.name}",
                               row=exc.lineno) from None  # fmt: skip
        except TemplateError as exc:
            raise ContentError(f"sjabloonfout: {exc}", file=f"templates/{TEMPLATE}") from None

    def pdf(self, html: str, fmt: str = DEFAULT_FORMAT) -> Rendered:
        document = HTML(string=html, base_url=self.base_url, url_fetcher=self.fetcher).render(
            stylesheets=self.stylesheets(fmt),
            font_config=self.font_config,
            cache=self._image_cache,
        )
        return Rendered(document.write_pdf(), len(document.pages))

    def render(self, p: Personalisation, fmt: str = DEFAULT_FORMAT) -> Rendered:
        return self.pdf(self.html(p, fmt), fmt)
