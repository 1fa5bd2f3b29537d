"""Personalisation -> HTML: the leaflet template (Jinja2) filled for one visit.

Kept apart from PDF rendering so that `check` can try every template without importing
WeasyPrint. Every value is HTML-escaped (autoescape); missing values fail (StrictUndefined).
"""

from __future__ import annotations

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateError,
    TemplateSyntaxError,
)
from markupsafe import Markup, escape

from . import __version__
from .content import HTML_LANG
from .errors import ContentError
from .i18n import load_labels, placeholder_values, short_date
from .markup import body_html, fill
from .project import Project
from .qr import qr_data_uri
from .registry import Registry
from .visit import Personalisation

TEMPLATE = "leaflet.html.j2"


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


class Composer:
    """Builds the HTML of personalised leaflets; templates are loaded once and reused."""

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

    def html(self, p: Personalisation) -> str:
        """The complete HTML of one personalised leaflet."""
        leaflet, hospital, locale = p.leaflet, self.registry.hospital, p.locale
        labels = load_labels(self.project.templates_dir, leaflet.lang)
        values = placeholder_values(p, labels)
        qr_codes = [
            (labels["qr_contact"].format(site=p.site.name), p.site.contact_url),
            (labels["qr_online"], leaflet.meta.url),
        ]
        logo = self.registry.logo_path
        birth_date = p.visit.patient.birth_date
        context = {
            "lang": HTML_LANG[leaflet.lang],
            "labels": labels,
            "hospital": hospital,
            "logo_url": logo.as_uri() if logo else None,
            "meta": leaflet.meta,
            "variant_label": values["procedure"],
            "updated": short_date(leaflet.meta.updated, locale),
            "patient": p.visit.patient,
            "birth_date": short_date(birth_date, locale) if birth_date else None,
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
            raise ContentError(
                f"sjabloonfout: {exc.message}", file=f"templates/{exc.name}", row=exc.lineno
            ) from None
        except TemplateError as exc:
            raise ContentError(f"sjabloonfout: {exc}", file=f"templates/{TEMPLATE}") from None
