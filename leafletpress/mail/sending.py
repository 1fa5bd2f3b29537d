"""`generate.py email`: a batch's leaflets to their patients. A dry run by default: the
complete messages go to an outbox folder as .eml files; with --send they go to the server.

Addresses and birth dates come from the day's list, which must be the very list the batch was
made from (its SHA-256 is in the manifest); the manifest itself holds no contact data. Every
attempt is in the send log, so a message the server accepted is never sent twice, and a run
that stopped half-way is finished by running it again.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from datetime import date
from datetime import time as time_of_day
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from email_validator import EmailNotValidError, validate_email

from ..common.errors import ContentError, InputError
from ..common.files import sha256_of, write_atomic
from ..common.project import Project
from ..content.registry import Registry
from ..day.manifest import JSON_NAME, read_manifest
from ..visit.appointment import parse_date
from ..visit.daylist import read_day_list
from .config import EMAIL_CONFIG, EmailConfig, ca_path, load_email_config
from .messages import EmailComposer, Letter
from .sendlog import ACCEPTED, FAILED, REFUSED, SEND_LOG, SENDING, Message, SendLog
from .smtp import Fatal, Mailer, Refused, Temporary, Unreachable

OUTBOX = "outbox"


@dataclass
class Report:
    """What happened to each leaflet of the batch: (row, reference, detail) per outcome."""

    written: list[Path] = field(default_factory=list)  # dry run: the .eml files
    sent: list[tuple[int, str, str]] = field(default_factory=list)
    already: list[tuple[int, str, str]] = field(default_factory=list)  # accepted earlier
    uncertain: list[tuple[int, str, str]] = field(default_factory=list)
    unaddressed: list[tuple[int, str, str]] = field(default_factory=list)
    refused: list[tuple[int, str, str]] = field(default_factory=list)
    failed: list[tuple[int, str, str]] = field(default_factory=list)
    not_tried: list[tuple[int, str, str]] = field(default_factory=list)
    stopped: str | None = None  # why sending stopped early
    server_trouble: bool = False  # stopped because the server refuses us or is unreachable

    @property
    def complete(self) -> bool:
        """Every leaflet sent (or written, in a dry run); a stop always leaves a failure."""
        return not any((self.uncertain, self.unaddressed, self.refused, self.failed))


def _hide(text: str, address: str) -> str:
    """A server's answer for printing: servers often repeat the address; logs must not."""
    return text.replace(address, "<adres>")


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
) -> Report:
    folder, manifest = _batch_manifest(batch)
    day = read_day_list(list_path, project, sheet, shown=shown)  # a missing file: its message
    if sha256_of(list_path) != manifest["batch"]["source_sha256"]:
        raise InputError(
            f"{shown or list_path} is niet de lijst waarmee deze batch gemaakt is",
            field="list",
            hint="geef dezelfde lijst, of maak de batch opnieuw met deze lijst",
        )
    config = load_email_config(project)
    if send and config.example:
        raise ContentError(
            "bevat voorbeeldgegevens: er wordt niets verstuurd",
            file=f"config/{EMAIL_CONFIG}",
            hint="vul de mailserver en afzender van het ziekenhuis in en verwijder "
            "'example: true'; zonder --send kan je de berichten al bekijken",
        )
    run = _Emailing(folder, manifest["batch"]["date"], config, resend)
    run.rows = {row.number: row.values for row in day.rows}
    run.composer = EmailComposer(project, registry, config)
    if send:
        run.mailer = Mailer(config, config.password(), ca_path(project, config))
    else:
        run.empty_outbox()
    try:
        for record in manifest["leaflets"]:
            if record["status"] in ("made", "unchanged"):
                run.one(record)
    finally:
        run.close()
    return run.report


def _batch_manifest(batch: Path) -> tuple[Path, dict[str, Any]]:
    """The batch folder (given as the folder or its manifest) and its manifest."""
    folder = batch.parent if batch.name == JSON_NAME else batch
    if not (folder / JSON_NAME).is_file():
        raise InputError(
            f"geen {JSON_NAME} in {batch}",
            field="batch",
            hint="geef de map van een batch, bv. output/2026-12-15, of zijn manifest.json",
        )
    return folder, read_manifest(folder)


class _Emailing:
    """One email run over a batch: each leaflet to the outbox (dry run) or to the server."""

    def __init__(self, folder: Path, day: str, config: EmailConfig, resend: bool) -> None:
        self.folder, self.day, self.config, self.resend = folder, day, config, resend
        self.outbox = folder / OUTBOX
        self.log = SendLog(folder.parent / SEND_LOG)
        self.report = Report()
        self.rows: dict[int, dict[str, str]] = {}
        self.composer: EmailComposer
        self.mailer: Mailer | None = None

    def empty_outbox(self) -> None:
        self.outbox.mkdir(exist_ok=True)
        for old in self.outbox.glob("*.eml"):
            old.unlink()

    def one(self, record: dict[str, Any]) -> None:
        """Write or send one leaflet's message, or say why not."""
        report, who = self.report, (record["row"], record["reference"])
        values = self.rows.get(record["row"], {})
        recipient, why_not = _recipient(values, self.config)
        if why_not:
            report.unaddressed.append((*who, why_not))
            return
        if report.stopped:
            report.not_tried.append((*who, "gestopt na de fout hierboven"))
            return
        message_id = Message(
            self.day, record["row"], record["reference"], record["code"], record["version"],
            record["sha256"], recipient,
        )  # fmt: skip
        state = self.log.state(message_id)
        if state == ACCEPTED and not self.resend:
            report.already.append((*who, "eerder verstuurd"))
            return
        if state == SENDING and not self.resend:
            report.uncertain.append((*who, "een vorige poging werd onderbroken"))
            return
        path = self.folder / Path(record["file"]).name
        pdf = path.read_bytes() if path.is_file() else b""
        if hashlib.sha256(pdf).hexdigest() != record["sha256"]:
            report.failed.append((*who, "de PDF is weg of veranderd sinds de batch"))
            return
        message = self.composer.message(_letter(record, values, recipient, pdf))
        if self.mailer is None:
            eml = self.outbox / f"{Path(record['file']).stem}.eml"
            write_atomic(eml, bytes(message))
            report.written.append(eml)
        else:
            _deliver(self.mailer, self.log, message_id, message, self.config, report, who)

    def close(self) -> None:
        if self.mailer is not None:
            self.mailer.close()
        self.log.close()


def _recipient(values: dict[str, str], config: EmailConfig) -> tuple[str, str]:
    """The row's address and '', or '' and why it cannot be emailed."""
    try:
        address = validate_email(values.get("email", ""), check_deliverability=False).normalized
    except EmailNotValidError:
        return "", "geen geldig e-mailadres"
    if config.protect_pdf and not values.get("birth_date"):
        return "", "geen geboortedatum, nodig voor het wachtwoord van de PDF"
    return address, ""


def _letter(record: dict[str, Any], values: dict[str, str], recipient: str, pdf: bytes) -> Letter:
    birth = values.get("birth_date")
    return Letter(
        recipient=recipient,
        patient_name=values["name"],
        birth_date=parse_date(birth, "birth_date") if birth else None,
        lang=record["language"],
        site=record["site"],
        day=date.fromisoformat(record["date"]),
        at=time_of_day.fromisoformat(record["time"]),
        code=record["code"],
        pdf=pdf,
    )


def _deliver(
    mailer: Mailer,
    log: SendLog,
    message_id: Message,
    message: EmailMessage,
    config: EmailConfig,
    report: Report,
    who: tuple[int, str],
) -> None:
    """Send one message: retried with growing waits after temporary failures, then reported.
    After a message fails every try, the server is in trouble: the run stops there."""
    for attempt in range(config.retries + 1):
        entry = log.begin(message_id)
        try:
            answer = mailer.send(message)
        except Refused as exc:
            log.finish(entry, REFUSED, str(exc))
            report.refused.append((*who, _hide(str(exc), message_id.recipient)))
            return
        except Temporary as exc:
            log.finish(entry, FAILED, str(exc))
            if attempt < config.retries:
                time.sleep(config.retry_wait_seconds * 2**attempt)
                continue
            report.failed.append((*who, _hide(str(exc), message_id.recipient)))
            report.stopped = str(exc) if isinstance(exc, Unreachable) else "de server faalt"
            report.server_trouble = isinstance(exc, Unreachable)
            return
        except Fatal as exc:
            log.finish(entry, FAILED, str(exc))
            report.failed.append((*who, str(exc)))
            report.stopped = str(exc)
            report.server_trouble = True
            return
        log.finish(entry, ACCEPTED, answer)
        report.sent.append((*who, answer))
        return
