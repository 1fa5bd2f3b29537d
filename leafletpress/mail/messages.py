"""One patient's email: subject and body from templates/email/<lang>/, the leaflet attached
under a clean name, optionally protected with a password (AES-256, pypdf).

The message carries no medical details: no procedure or leaflet title in the subject, body or
attachment name, only the appointment's date, time and campus (at discharge: the discharge day
and campus), and the hospital's contacts.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, time
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateError
from pypdf import PdfReader, PdfWriter

from ..common.errors import ContentError
from ..common.project import Project
from ..content.labels import clock, long_date
from ..content.leaflet import DEFAULT_LANGUAGE, HTML_LANG, LOCALES
from ..content.registry import Registry
from .config import EmailConfig


@dataclass(frozen=True)
class Letter:
    """What goes into one message."""

    recipient: str
    patient_name: str
    birth_date: date | None
    lang: str
    site: str  # key
    day: date  # of the operation, or of the discharge
    at: time | None  # of the operation; none at discharge
    moment: str  # voor or ontslag
    code: str  # the leaflet's document code, for the attachment's name
    pdf: bytes
    letter_code: str = ""  # the code on the appointment letter (password_rule letter_code)
    changed: bool = False  # an earlier version of this leaflet went to this address


def pdf_password(birth_date: date) -> str:
    """The password rule 'birth_date_ddmmyyyy': 12 March 1958 -> '12031958'."""
    return f"{birth_date:%d%m%Y}"


def protect(pdf: bytes, password: str) -> bytes:
    """The PDF encrypted with AES-256; it opens only with ``password``."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.encrypt(user_password=password, algorithm="AES-256")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


class EmailComposer:
    """Builds messages; templates are loaded once."""

    def __init__(self, project: Project, registry: Registry, config: EmailConfig) -> None:
        self.registry, self.config = registry, config
        self.folder = project.templates_dir / "email"
        self.env = Environment(
            loader=FileSystemLoader(self.folder),
            undefined=StrictUndefined,
            autoescape=False,  # plain text; values are inserted, never evaluated
        )

    def _text(self, lang: str, name: str, context: dict[str, object]) -> str:
        try:
            return self.env.get_template(f"{lang}/{name}").render(context).strip()
        except TemplateError as exc:
            raise ContentError(
                f"e-mailsjabloon: {exc}", file=f"templates/email/{lang}/{name}"
            ) from None

    def message(self, letter: Letter) -> EmailMessage:
        has_templates = letter.lang in LOCALES and (self.folder / letter.lang).is_dir()
        lang = letter.lang if has_templates else DEFAULT_LANGUAGE
        locale = LOCALES[lang]
        protected = self.config.protect_pdf
        context = {
            "patient_name": letter.patient_name,
            "date": long_date(letter.day, locale),
            "time": clock(letter.at, locale) if letter.at else "",
            "moment": letter.moment,
            "site": self.registry.sites[letter.site],
            "hospital": self.registry.hospital,
            "protected": protected,
            "rule": self.config.password_rule,
            "changed": letter.changed,
        }
        sender = self.config.sender
        message = EmailMessage()
        message["From"] = formataddr((sender.name, sender.address))
        message["To"] = letter.recipient
        if self.config.reply_to:
            message["Reply-To"] = self.config.reply_to
        message["Subject"] = self._text(lang, "subject.txt.j2", context)
        message["Date"] = formatdate(localtime=True)
        message["Message-ID"] = make_msgid(domain=sender.address.rpartition("@")[2] or None)
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(self._text(lang, "body.txt.j2", context) + "\n")
        pdf = letter.pdf
        if protected and self.config.password_rule == "letter_code":
            assert letter.letter_code, "checked before composing"
            pdf = protect(pdf, letter.letter_code)
        elif protected:
            assert letter.birth_date is not None, "checked before composing"
            pdf = protect(pdf, pdf_password(letter.birth_date))
        moment = "-ontslag" if letter.moment == "ontslag" else ""  # two leaflets, two names
        name = f"{self.registry.hospital.name}-{letter.code}{moment}.pdf".replace(" ", "-")
        message.add_attachment(pdf, maintype="application", subtype="pdf", filename=name)
        message["Content-Language"] = HTML_LANG[lang]  # after the parts: set_content drops it
        return message
