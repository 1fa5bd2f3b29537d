"""Personalisation -> HTML: the leaflet template (Jinja2) filled for one visit.

Kept apart from PDF rendering so that `check` can try every template without importing
WeasyPrint. Every value is HTML-escaped (autoescape); missing values fail (StrictUndefined).
"""

from __future__ import annotations

import re
from datetime import timedelta

from babel import Locale
from babel.dates import format_date
from babel.units import format_unit
from jinja2 import (
    BytecodeCache,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateError,
    TemplateSyntaxError,
)
from jinja2.bccache import Bucket
from markupsafe import Markup, escape

from .. import __version__
from ..common.errors import ContentError
from ..common.project import Project
from ..common.validation import in_language
from ..content.labels import Labels, dated, day_and_time, load_labels, long_date, short_date
from ..content.leaflet import DEFAULT_LANGUAGE, HTML_LANG
from ..content.markup import PLACEHOLDER_RE, body_html, fill
from ..content.registry import Registry
from ..visit.personalise import Aftercare, Personalisation, Step, placeholder_values
from .qr import qr_data_uri

# A leaflet is rendered in two parts: the patient's own first page, and the rest, which is the
# same for every patient with the same procedure, campus, surgeon and day.
COVER = "cover.html.j2"
COVERS = "covers.html.j2"  # the first pages of several patients who share the rest, together
# First pages laid out in one document at most (render.py): the gain levels off well before,
# and a batch that is stopped waits for the group in hand. (Whoever a leaflet is made with,
# its bytes are the same: split.py.)
TOGETHER = 16
LEAFLET = "leaflet.html.j2"
SEPARATORS = "separators.html.j2"  # sheets between leaflets in a print file


def _css_string(value: object) -> Markup:
    """A CSS string literal; safe inside <style> whatever the text contains."""
    text = str(value)
    escaped = "".join(c if c.isalnum() or c in " .,:;-_()/'" else f"\\{ord(c):x} " for c in text)
    return Markup(f'"{escaped}"')


_URL_BREAK = re.compile(r"(?<=[?&#])|(?<=[^/:]/)")  # after "?", "&", "#", or a path's "/"
_URL_CHUNK = 24  # a longer piece between two of those may wrap every this many characters


def _url_text(url: str) -> Markup:
    """A printed URL exactly as typed, that wraps only after a '/', '?', '&' or '#' (or inside
    a very long piece), never at a hyphen that belongs to it; a link in the PDF, for the
    patient who reads it on a screen (emailed)."""
    chunks = [
        piece[i : i + _URL_CHUNK]
        for piece in _URL_BREAK.split(url)
        for i in range(0, len(piece), _URL_CHUNK)
    ]
    # One text per link (one annotation a line): a break only after a chunk (U+200B ZERO WIDTH
    # SPACE), none inside it (U+2060 WORD JOINER between its characters)
    text = "\u200b".join(str(escape("\u2060".join(c))) for c in chunks if c)
    return Markup(f'<a class="url" href="{escape(url)}">{text}</a>')


def _step(step: Step, labels: Labels, locale: str) -> dict[str, str | Markup]:
    """A recovery milestone as printed, by its kind: 'rond 16 of 17 december 2026 (na 1 à 2
    dagen)', 'tot ongeveer 26 januari 2027 (de eerste 6 weken)', 'kan duren tot
    ongeveer maart 2027 (tot 3 maanden)'; month-long spans to the month; one without a number
    as worded, one passed by the discharge day in its ``done`` words."""
    milestone = step.milestone
    if step.passed:
        return {"text": milestone.done or milestone.text, "when": "", "span": ""}
    if step.dates is None or milestone.unit is None:
        return {"text": milestone.text, "when": milestone.when or "", "span": ""}
    start, end = step.dates
    months = milestone.unit == "months"
    same_month = (start.year, start.month) == (end.year, end.month)
    last = dated(end, "d MMMM y", locale)
    first = dated(start, "d" if same_month else "d MMMM" if start.year == end.year else "d MMMM y",
                  locale)  # fmt: skip
    if months:
        when = format_date(end, "MMMM y", locale=locale)
    elif start == end:
        when = last
    elif end - start == timedelta(days=1):  # '16 of 17 december', '31 december of 1 januari'
        when = labels["either_day"].format(low=first, high=last)
    else:  # '16–19 december 2026', '30 december – 2 januari 2027'
        when = f"{first}{'–' if same_month else ' – '}{last}"
    low, high = milestone.span
    unit = format_unit(high, f"duration-{milestone.unit[:-1]}", length="long", locale=locale)
    span = unit if low == high else labels["range"].format(low=low, high=unit)
    kind = {"from": "around", "until": "until", "up_to": "up_to"}[milestone.kind]
    whole = Markup('<span class="nowrap">{}</span>').format(when)  # '18 of 19 december 2026'
    return {
        "text": milestone.text,
        "when": escape(labels[f"{kind}_month" if months else kind]).format(when=whole),
        "span": labels[f"{kind}_span"].format(span=span),
    }


def _language(code: str, p: Personalisation) -> str:
    """A language's name in the leaflet's language: 'néerlandais', 'Dutch'."""
    return str(Locale.parse(p.locale).languages[code])


_POSTCODE = re.compile(r"\b(\d{4}) (?=\w)")


def _address(address: str) -> str:
    """An address whose postcode stays with its town ('2660 Hoboken', never split)."""
    return _POSTCODE.sub("\\1\u00a0", address)


class _Compiled(BytecodeCache):
    """Templates compiled once per process for every Composer (each part of a web day makes
    one: 7 ms each). Jinja checks each against its source's checksum: a changed template is
    compiled again."""

    def __init__(self) -> None:
        self.code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        if (code := self.code.get(bucket.key)) is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.code[bucket.key] = bucket.bytecode_to_string()


_COMPILED = _Compiled()


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
            bytecode_cache=_COMPILED,
        )
        self.env.filters["css_string"] = _css_string
        self.env.filters["url"] = _url_text
        self.env.filters["address"] = _address

    def cover(self, p: Personalisation, total_pages: int) -> str:
        """The HTML of page 1: masthead, title and the appointment card with QR codes."""
        return self._render(COVER, p, total_pages=total_pages, **self._cover_context(p))

    def covers(self, ps: list[Personalisation], total_pages: int) -> str:
        """The first pages of several patients whose leaflets share the rest (the same
        ``leaflet`` HTML), one after the other in one document, each numbered page 1."""
        cards = []
        for p in ps:
            context = self._context(COVER, p, total_pages=total_pages, **self._cover_context(p))
            cards.append(Markup(self._template(COVER, context, block="body")))
        return self._render(COVERS, ps[0], total_pages=total_pages, together=True, covers=cards)

    def joins_covers(self) -> bool:
        """Whether the project's templates can lay out covers together (a project with
        templates of its own from before they could has no covers.html.j2)."""
        return (self.project.templates_dir / COVERS).is_file()

    def leaflet(self, p: Personalisation, cover_pages: int = 1) -> str:
        """The HTML of the leaflet after the cover. It holds no more of the patient than the
        editor's placeholders put in the text, so many patients of a day share one layout."""
        return self._render(LEAFLET, p, total_pages=None, cover_pages=cover_pages)

    def whole(self, p: Personalisation) -> str:
        """Cover and leaflet in one HTML document, as a simple tool would render it."""
        return self._render(LEAFLET, p, total_pages=None, cover_pages=0, **self._cover_context(p))

    def separators(self, site: str, day: str, sheets: list[dict[str, object]]) -> str:
        """Separator sheets for a print file, one per leaflet, in Dutch (for the secretary)."""
        context: dict[str, object] = {
            "lang": HTML_LANG[DEFAULT_LANGUAGE],
            "labels": load_labels(self.project.templates_dir, DEFAULT_LANGUAGE),
            "site": site,
            "day": day,
            "sheets": sheets,
            "generator": f"leafletpress {__version__}",
            "example": self.registry.example,
        }
        return self._template(SEPARATORS, context)

    def _cover_context(self, p: Personalisation) -> dict[str, object]:
        labels = load_labels(self.project.templates_dir, p.leaflet.lang)
        logo = self.registry.logo_path
        birth_date = p.visit.patient.birth_date
        contact = p.site
        card = None
        if p.aftercare is not None:
            contact = p.aftercare.followup_site or p.site
            card = self._discharge_card(p, p.aftercare, labels)
        meta, online = p.leaflet.meta, labels["qr_online"]
        if meta.url_lang not in (None, p.leaflet.lang):  # a page in another language
            online = labels["qr_online_other"].format(language=_language(meta.url_lang, p))
        qr_codes = [
            (labels["qr_contact"].format(site=contact.name), contact.contact_url),
            (online, meta.url),
        ]
        return {
            "card": card,
            "logo_url": logo.as_uri() if logo else None,
            "patient": p.visit.patient,
            "birth_date": short_date(birth_date, p.locale) if birth_date else None,
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
        }

    def _discharge_card(
        self, p: Personalisation, care: Aftercare, labels: Labels
    ) -> dict[str, object]:
        """The discharge card's values, formatted in the patient's language."""
        loc, discharge, site = p.locale, care.discharge, care.followup_site
        when = None
        if care.followup_at is not None:
            when = day_and_time(care.followup_at, labels, loc)
        elif discharge.followup_date is not None:
            when = long_date(discharge.followup_date, loc)
        url = self.registry.hospital.appointments_url
        return {
            "operated_on": long_date(p.visit.date, loc),
            "discharged_on": long_date(discharge.date, loc),
            "followup_when": when,
            "followup_site": site,
            "followup_directions": in_language(
                site.consultations[care.consultation], p.leaflet.lang
            )
            if site
            else None,
            "followup_phone": (site or p.site).phone,
            "appointments_url": url,
            "recovery": [_step(step, labels, loc) for step in care.recovery],
        }

    def _pages_note(self, p: Personalisation, labels: Labels) -> str:
        """' (en néerlandais)' after the hospital's own addresses, when its pages are not in
        the leaflet's language."""
        pages = self.registry.hospital.pages_lang
        if pages == p.leaflet.lang:
            return ""
        return " " + labels["page_in"].format(language=_language(pages, p))

    def _render(self, template: str, p: Personalisation, **context: object) -> str:
        return self._template(template, self._context(template, p, **context))

    def _context(self, template: str, p: Personalisation, **context: object) -> dict[str, object]:
        meta = p.leaflet.meta
        labels = load_labels(self.project.templates_dir, p.leaflet.lang)
        values = placeholder_values(p, labels)
        context |= {
            "lang": HTML_LANG[p.leaflet.lang],
            "labels": labels,
            "hospital": self.registry.hospital,
            "meta": meta,
            "variant_label": values["procedure"],
            "updated": short_date(meta.updated, p.locale),
            "v": values,
            "generator": f"leafletpress {__version__}",
            "example": self.registry.example,
            "moment": p.visit.moment,
            "pages_note": self._pages_note(p, labels),
        }
        emergency = ""
        if self.registry.hospital.policy.call_112_for_breathlessness.value:
            emergency = str(Markup('<p class="emergency">{}</p>').format(labels["call_112"]))
        body = body_html(p.leaflet.body, p.visit.variant, p.visit.moment, emergency)
        if template == LEAFLET:
            context["body"] = Markup(fill(body.html, values))
        if "card" in context:  # the cover; the day-and-night number once, in the box if there
            context["card_box"] = Markup(fill(body.card_box, values))
            context["urgent_in_box"] = "urgent_phone" in PLACEHOLDER_RE.findall(body.card_box)
        return context

    def _template(self, template: str, context: dict[str, object], block: str | None = None) -> str:
        """The template filled in; with ``block``, only that block of it."""
        try:
            loaded = self.env.get_template(template)
            if block is None:
                return loaded.render(context)
            return "".join(loaded.blocks[block](loaded.new_context(context)))
        except TemplateSyntaxError as exc:
            raise ContentError(
                f"sjabloonfout: {exc.message}", file=f"templates/{exc.name}", row=exc.lineno
            ) from None
        except TemplateError as exc:
            raise ContentError(f"sjabloonfout: {exc}", file=f"templates/{template}") from None
