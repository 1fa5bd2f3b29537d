"""`generate.py email`: a batch's leaflets to their patients. A dry run by default: the
complete messages go to an outbox folder as .eml files; with --send they go to the server.

Addresses and birth dates come from the day's list, which must be the very list the batch was
made from (its SHA-256 is in the manifest); the manifest itself holds no contact data. Every
attempt is in the send log, so a message the server accepted is never sent twice, and a run
that stopped half-way is finished by running it again.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from datetime import date
from datetime import time as time_of_day
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from pathlib import Path
from typing import Any

from email_validator import EmailNotValidError, validate_email

from ..common.errors import (
    BusyError,
    ContentError,
    InputError,
    MailError,
    OutputError,
    clipped,
)
from ..common.files import exclusive, own_folder, write_atomic
from ..common.project import Project
from ..content.registry import Registry
from ..day.manifest import JSON_NAME, MADE, read_manifest
from ..visit.appointment import parse_date
from ..visit.daylist import Row, read_day_list
from .config import EMAIL_CONFIG, EmailConfig, ca_path, load_email_config
from .messages import EmailComposer, Letter
from .sendlog import (
    ACCEPTED,
    BUSY,
    FAILED,
    REFUSED,
    SEND_LOG,
    SENDING,
    UNCERTAIN,
    Message,
    SendLog,
)
from .smtp import Fatal, Mailer, Refused, Temporary, Uncertain, Unreachable, wire

OUTBOX = "outbox"
LOCK = ".email.lock"


@dataclass
class Report:
    """What happened to each leaflet of the batch: (row, reference, detail) per outcome."""

    written: list[Path] = field(default_factory=list)  # dry run: the .eml files
    ready: list[tuple[int, str, str]] = field(default_factory=list)  # survey: would be sent
    sample: EmailMessage | None = None  # survey: the first message, as it would go out
    sent: list[tuple[int, str, str]] = field(default_factory=list)
    already: list[tuple[int, str, str]] = field(default_factory=list)  # accepted earlier
    uncertain: list[tuple[int, str, str]] = field(default_factory=list)
    unaddressed: list[tuple[int, str, str]] = field(default_factory=list)
    refused: list[tuple[int, str, str]] = field(default_factory=list)
    failed: list[tuple[int, str, str]] = field(default_factory=list)
    not_tried: list[tuple[int, str, str]] = field(default_factory=list)
    stopped: str | None = None  # why sending stopped early
    server_trouble: bool = False  # stopped because the server refuses us or is unreachable
    example_settings: bool = False  # config/email.yaml is example data: nothing can be sent
    # The leaflets say VOORBEELD (example configuration or unsigned policy, now or when the
    # batch was made): nothing can be sent.
    example_leaflets: bool = False

    @property
    def complete(self) -> bool:
        """Every leaflet sent (or written, in a dry run); a stop always leaves a failure."""
        return not any(
            (self.uncertain, self.unaddressed, self.refused, self.failed, self.not_tried)
        )


def _hide(text: str, address: str) -> str:
    """A server's answer for printing: servers often repeat the address; logs must not."""
    return text.replace(address, "<adres>")


def _refuse_example_data(config: EmailConfig, marked: bool) -> None:
    """Nothing is sent with example mail settings, nor leaflets that say VOORBEELD."""
    if config.example:
        raise ContentError(
            "bevat voorbeeldgegevens: er wordt niets verstuurd",
            file=f"config/{EMAIL_CONFIG}",
            hint="vul de mailserver en afzender van het ziekenhuis in en verwijder "
            "'example: true'; zonder --send kan je de berichten al bekijken",
        )
    if marked:
        raise ContentError(
            "de folders dragen 'VOORBEELD — niet voor patiënten': er wordt niets verstuurd",
            file="config/",
            hint="vul de gegevens van het ziekenhuis in en laat het beleid goedkeuren "
            "('check' zegt wat nog ontbreekt), maak de batch opnieuw en verstuur dan",
        )


def run_email(
    batch: Path,
    list_path: Path,
    project: Project,
    registry: Registry,
    *,
    send: bool = False,
    resend: bool = False,
    sheet: str | None = None,
    shown: str | None = None,
    survey: bool = False,
    on_progress: Callable[[int, int], None] | None = None,
    on_sent: Callable[[int, str], None] | None = None,
    send_log: Path | None = None,
) -> Report:
    """Email (or, by default, write to the outbox) each leaflet of the batch. ``survey``
    sends and writes nothing: the report says what a send would do, with its first message.
    ``on_progress`` hears (leaflets handled, leaflets in all) after each leaflet, ``on_sent``
    (row, reference) as soon as the server accepted a message. ``send_log``: one log for
    batches in different output folders (the web app's days), instead of the folder's own."""
    day = read_day_list(list_path, project, sheet, shown=shown)  # a missing file: its message
    folder, manifest = _batch_manifest(batch, day.sha256)
    if day.sha256 != manifest["batch"]["source_sha256"]:
        raise InputError(
            f"{shown or list_path} is niet de lijst waarmee deze batch gemaakt is",
            field="list",
            hint="geef dezelfde lijst, of maak de batch opnieuw met deze lijst",
        )
    if day.source != manifest["batch"].get("read_as", day.source):
        raise InputError(
            f"de batch las '{clipped(manifest['batch']['read_as'])}', niet '{day.source}'",
            field="sheet",
            hint="geef hetzelfde werkblad met --sheet als bij de batch",
        )
    config = load_email_config(project)
    marked = registry.example or bool(manifest["batch"].get("example"))
    if send:
        _refuse_example_data(config, marked)
    busy = BusyError(
        "een andere e-mailrun verstuurt al de folders van deze dag",
        file=folder,
        hint="wacht tot die klaar is; dezelfde opdracht verstuurt daarna wat nog overblijft",
    )
    with ExitStack() as stack:
        if not survey:  # a survey only reads: it may look while a run is sending
            stack.enter_context(exclusive(folder / LOCK, busy))
        run = _Emailing(folder, manifest, config, resend, survey)
        run.on_sent = on_sent
        run.report.example_settings = config.example
        run.report.example_leaflets = marked
        stack.callback(run.close)
        run.rows = {row.number: row for row in day.rows}
        run.composer = EmailComposer(project, registry, config)
        run.check_outbox()
        if send and not survey:
            run.mailer = Mailer(config, config.password(), ca_path(project, config))
        elif not survey:
            run.empty_outbox()
        run.log = SendLog(send_log or _send_log(folder, manifest))
        records = [r for r in manifest["leaflets"] if r["status"] in MADE]
        for done, record in enumerate(records, 1):
            run.one(record)
            if on_progress:
                on_progress(done, len(records))
    return run.report


def verdicts(manifest_path: Path, send_log: Path | None = None) -> dict[int, tuple[str, str]]:
    """Per row of a batch (by its manifest): what the send log says of its leaflet, as
    (status, when); rows never tried are left out."""
    manifest = read_manifest(manifest_path)
    log = SendLog(send_log or _send_log(manifest_path.parent, manifest))
    try:
        found = {
            r["row"]: log.verdict(r["sha256"]) for r in manifest["leaflets"] if r.get("sha256")
        }
    finally:
        log.close()
    return {row: verdict for row, verdict in found.items() if verdict}


def _batch_manifest(batch: Path, list_sha256: str) -> tuple[Path, dict[str, Any]]:
    """The list's folder and its manifest. ``batch`` is a list's folder or its manifest, or a
    day folder: then the list folder made from this very list (by its SHA-256) is taken.
    Paths are resolved: '.' is a folder like any other."""
    given = batch.resolve()
    if given.name == JSON_NAME:
        return given.parent, read_manifest(given)
    found = sorted(given.glob(f"*/{JSON_NAME}"))  # the day's lists
    if (given / JSON_NAME).is_file():  # a list folder, or a day folder of an older version
        found.append(given / JSON_NAME)
    if not found:
        raise InputError(
            f"geen {JSON_NAME} in {batch}",
            field="batch",
            hint="geef de map van een dag, bv. output/2026-12-15, of het manifest van een lijst",
        )
    for path in found:
        with contextlib.suppress(InputError):  # a damaged one counts only if it is the only one
            manifest = read_manifest(path)
            if manifest["batch"]["source_sha256"] == list_sha256:
                return path.parent, manifest
    if len(found) == 1:
        return found[0].parent, read_manifest(found[0])
    raise InputError(
        f"geen batch van deze lijst in {batch}",
        field="batch",
        hint=f"lijsten van deze dag: {', '.join(p.parent.name for p in found)}; geef de lijst "
        "waarmee de batch gemaakt is",
    )


def _send_log(folder: Path, manifest: dict[str, Any]) -> Path:
    """One send log per output folder, however the day folder was typed; the manifest says
    where its output folder is. Never through a symbolic link."""
    root = (folder / str(manifest["batch"].get("output_root", ".."))).resolve()
    path: Path = root / SEND_LOG
    if path.is_symlink():
        raise OutputError(
            "het verzendlogboek is een symbolische koppeling",
            file=path,
            hint="verwijder de koppeling; het logboek hoort als gewoon bestand in de uitvoermap",
        )
    return path


class _Emailing:
    """One email run over a batch: each leaflet to the outbox (dry run) or to the server."""

    def __init__(
        self, folder: Path, manifest: dict[str, Any], config: EmailConfig, resend: bool,
        survey: bool,
    ) -> None:  # fmt: skip
        self.folder, self.day = folder, manifest["batch"]["date"]
        self.pdfs = (folder / str(manifest["batch"].get("pdf_folder", "."))).resolve()
        self.config, self.resend, self.survey = config, resend, survey
        self.outbox = folder / OUTBOX
        self.report = Report()
        self.rows: dict[int, Row] = {}
        self.composer: EmailComposer
        self.log: SendLog | None = None
        self.mailer: Mailer | None = None
        self.on_sent: Callable[[int, str], None] | None = None

    def check_outbox(self) -> None:
        """The outbox is a folder of ours: never a link to elsewhere, where removing a sent
        message's copy, or emptying it for a dry run, would delete someone else's files."""
        own_folder(self.outbox, self.folder, create=False)

    def empty_outbox(self) -> None:
        for old in own_folder(self.outbox, self.folder).glob("*.eml"):
            if old.is_file() and not old.is_symlink():
                old.unlink()

    def one(self, record: dict[str, Any]) -> None:
        """Write or send one leaflet's message, or say why not."""
        assert self.log is not None
        report, who = self.report, (record["row"], record["reference"])
        row = self.rows.get(record["row"])
        if row is None or record.get("row_key", row.key) != row.key:
            report.failed.append((*who, "deze rij van de lijst is niet meer die van de batch"))
            return
        values = row.values
        if record["site"] not in self.composer.registry.sites:
            report.failed.append((*who, f"onbekende campus '{clipped(record['site'])}'"))
            return
        address, why_not = _recipient(values, self.config)
        if address is None:
            report.unaddressed.append((*who, why_not))
            return
        if report.stopped:
            report.not_tried.append((*who, "gestopt na de fout hierboven"))
            return
        message_id = Message(
            self.day, record["row"], record["reference"], record["code"], record["version"],
            record["sha256"], address.text,
        )  # fmt: skip
        if self._stopped_by(self.log.state(message_id), who):
            return
        path = self.pdfs / Path(record["file"]).name
        pdf = path.read_bytes() if path.is_file() else b""
        if hashlib.sha256(pdf).hexdigest() != record["sha256"]:
            report.failed.append((*who, "de PDF is weg of veranderd sinds de batch"))
            return
        letter = _letter(record, values, address.text, pdf, self.log.told_before(message_id))
        if self.survey:
            report.ready.append((*who, ""))
            if report.sample is None:
                report.sample = self.composer.message(letter)
            return
        message = self.composer.message(letter)
        eml = self.outbox / f"{Path(record['file']).stem}.eml"
        if self.mailer is None:
            write_atomic(eml, wire(message, address.smtputf8))
            report.written.append(eml)
        elif self._deliver(message_id, message, address, who) == ACCEPTED and eml.is_file():
            eml.unlink()  # a dry run's copy: addresses do not linger

    def _stopped_by(self, state: str | None, who: tuple[int, str]) -> bool:
        """Whether the send log forbids sending now; if so, it is reported."""
        if state == BUSY:
            self.report.not_tried.append((*who, "een andere run verstuurt dit bericht nu"))
        elif self.resend:
            return False
        elif state == ACCEPTED:
            self.report.already.append((*who, "eerder verstuurd"))
        elif state in (SENDING, UNCERTAIN):
            self.report.uncertain.append((*who, _WHY_UNCERTAIN[state]))
        else:
            return False
        return True

    def _deliver(
        self, message_id: Message, message: EmailMessage, address: Address, who: tuple[int, str]
    ) -> str | None:
        """Send one message: claimed in the send log first, retried with growing waits after
        temporary failures, then reported. After a message fails every try, the server is in
        trouble: the run stops there. Returns the final status."""
        assert self.mailer is not None and self.log is not None
        report, config = self.report, self.config
        for attempt in range(config.retries + 1):
            entry, state = self.log.claim(message_id, self.resend)
            if entry is None:
                self._stopped_by(state, who)
                return state
            try:
                answer = self.mailer.send(message, address.text, address.smtputf8)
            except Refused as exc:
                self.log.finish(entry, REFUSED, str(exc))
                report.refused.append((*who, _hide(str(exc), address.text)))
                return REFUSED
            except Uncertain as exc:
                self.log.finish(entry, UNCERTAIN, str(exc))
                report.uncertain.append((*who, _hide(str(exc), address.text)))
                return UNCERTAIN
            except Temporary as exc:
                self.log.finish(entry, FAILED, str(exc))
                if attempt < config.retries:
                    time.sleep(config.retry_wait_seconds * 2**attempt)
                    continue
                report.failed.append((*who, _hide(str(exc), address.text)))
                report.stopped = str(exc) if isinstance(exc, Unreachable) else "de server faalt"
                report.server_trouble = isinstance(exc, Unreachable)
                return FAILED
            except Fatal as exc:
                self.log.finish(entry, FAILED, str(exc))
                report.failed.append((*who, "niet verstuurd: de server stopt de run (hieronder)"))
                report.stopped = _hide(str(exc), address.text)
                report.server_trouble = True
                return FAILED
            self.log.finish(entry, ACCEPTED, answer)
            report.sent.append((*who, answer))
            if self.on_sent:
                self.on_sent(*who)
            return ACCEPTED
        return None

    def close(self) -> None:
        if self.mailer is not None:
            self.mailer.close()
        if self.log is not None:
            self.log.close()


_WHY_UNCERTAIN = {
    SENDING: "een vorige poging werd onderbroken",
    UNCERTAIN: "de server antwoordde niet nadat hij het bericht kreeg",
}


@dataclass(frozen=True)
class Address:
    """A patient's address as it goes out: its domain in ASCII (IDNA) where the rest allows;
    ``smtputf8`` when letters outside ASCII before the @ need a server that takes them."""

    text: str
    smtputf8: bool


MIN_LETTER_CODE = 8


def _strong(code: str) -> bool:
    """A letter code worth a password: 8 characters or more, with letters and digits."""
    return (len(code) >= MIN_LETTER_CODE and any(c.isalpha() for c in code)
            and any(c.isdigit() for c in code))  # fmt: skip


def _recipient(values: dict[str, str], config: EmailConfig) -> tuple[Address | None, str]:
    """The row's address, or None and why it cannot be emailed."""
    try:
        valid = validate_email(values.get("email", ""), check_deliverability=False)
    except EmailNotValidError:
        return None, "geen geldig e-mailadres"
    if config.protect_pdf and config.password_rule == "letter_code":
        if not _strong(values.get("letter_code", "")):
            why = f"minstens {MIN_LETTER_CODE} tekens, letters en cijfers"
            return None, f"geen bruikbare code van de afspraakbrief ({why}), nodig als wachtwoord"
    elif config.protect_pdf and not values.get("birth_date"):
        return None, "geen geboortedatum, nodig voor het wachtwoord van de PDF"
    if valid.ascii_email:
        return Address(valid.ascii_email, False), ""
    return Address(valid.normalized, True), ""


def _letter(
    record: dict[str, Any], values: dict[str, str], recipient: str, pdf: bytes, changed: bool
) -> Letter:
    birth = values.get("birth_date")
    return Letter(
        recipient=recipient,
        patient_name=values["name"],
        birth_date=parse_date(birth, "birth_date") if birth else None,
        letter_code=values.get("letter_code", ""),
        lang=record["language"],
        site=record["site"],
        day=date.fromisoformat(record["date"]),
        at=time_of_day.fromisoformat(record["time"]) if record.get("time") else None,
        moment=record.get("moment", "voor"),
        code=record["code"],
        pdf=pdf,
        changed=changed,
    )


# A fictional patient for the proof message: a real patient's leaflet never goes to staff.
PROOF_PATIENT = {"name": "Proef Patiënt", "reference": "PROEF-0000", "birth_date": "01/01/1970",
                 "letter_code": "PROEF2026", "email": ""}  # fmt: skip


def send_proof(project: Project, registry: Registry, letter: Letter) -> str:
    """One message as the patients' will go out (server, sender, text, attachment and its
    password), for a fictional patient (``PROOF_PATIENT``), to ``recipient``: a member of
    staff, before the first real send. Never in the send log. Returns the server's answer;
    raises the engine's error, in Dutch, when it cannot go."""
    config = load_email_config(project)
    _refuse_example_data(config, registry.example)
    try:
        address = validate_email(letter.recipient, check_deliverability=False)
    except EmailNotValidError:
        raise InputError(
            f"'{clipped(letter.recipient)}' is geen geldig e-mailadres",
            field="email",
            hint="vraag de beheerder het e-mailadres van je account na te kijken",
        ) from None
    to = address.ascii_email or address.normalized
    message = EmailComposer(project, registry, config).message(replace(letter, recipient=to))
    subject = message["Subject"]
    del message["Subject"]
    message["Subject"] = f"[PROEF] {subject}"
    mailer = Mailer(config, config.password(), ca_path(project, config))
    try:
        return mailer.send(message, to, address.ascii_email is None)
    except (Refused, Temporary, Uncertain, Fatal) as exc:
        raise OutputError(
            f"de proef kon niet verstuurd worden: {_hide(str(exc), to)}",
            file=f"config/{EMAIL_CONFIG}",
            hint="kijk de mailserver en afzender na (of vraag het de dienst informatica); "
            "er is niets naar patiënten verstuurd",
        ) from None
    finally:
        mailer.close()


def send_test(project: Project, recipient: str) -> str:
    """One plain message with config/email.yaml's server and sender to ``recipient`` (IT's own
    address): the settings tried before the first patient is emailed. No patient data, never
    in the send log. Returns the server's answer; raises the engine's error, in Dutch."""
    config = load_email_config(project)
    try:
        address = validate_email(recipient, check_deliverability=False)
    except EmailNotValidError:
        raise InputError(f"'{clipped(recipient)}' is geen geldig e-mailadres",
                         hint="geef je eigen e-mailadres") from None  # fmt: skip
    to, s = address.ascii_email or address.normalized, config.smtp
    message = EmailMessage()
    message["From"] = formataddr((config.sender.name, config.sender.address))
    message["To"], message["Subject"] = to, "[TEST] leafletpress: de e-mailinstellingen werken"
    message["Date"], message["Message-ID"] = formatdate(localtime=True), make_msgid("leafletpress")
    message.set_content(
        f"Dit testbericht ging via {s.host}:{s.port} ({s.security}"
        f"{', aangemeld als ' + s.username if s.username else ''}) met de instellingen van "
        f"config/{EMAIL_CONFIG}.\nHet bevat geen gegevens van patiënten.\n"
    )
    mailer = Mailer(config, config.password(), ca_path(project, config))
    try:
        return mailer.send(message, to, address.ascii_email is None)  # jörg@…: SMTPUTF8
    except (Refused, Temporary, Uncertain, Fatal) as exc:
        raise MailError(
            f"het testbericht kon niet verstuurd worden: {_hide(str(exc), to)}",
            file=f"config/{EMAIL_CONFIG}",
            hint="kijk smtp.host, port, security, username en het wachtwoord "
            f"({s.password_env}) na",
        ) from None
    finally:
        mailer.close()
