"""A real SMTP server on 127.0.0.1 (aiosmtpd) for the email tests, the CLI's and the web
app's: STARTTLS and login as a hospital's server would, and ways to make it misbehave."""

from __future__ import annotations

import asyncio
import email
import ssl
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword

USER, PASSWORD, PASSWORD_ENV = "folders", "geheim-42", "LEAFLETPRESS_TEST_SMTP_PASSWORD"
# A day's list to email: three addresses, one row without, one with an address that is not one.
ROWS = [
    "Referentie;Naam;Geboortedatum;Taal;E-mail;Folder;Ingreep;Chirurg;Campus;Datum;Uur",
    "PAT-1;Marie Peeters;12/03/1958;nl;marie.peeters@example.org;avn-hip;heupprothese;claes;cadix;15/12/2026;8u00",  # noqa: E501
    "PAT-2;Hélène Dubois;02/11/1970;fr;helene@example.org;avn-hip;osteotomie;claes;cadix;15/12/2026;8u30",  # noqa: E501
    "PAT-3;John Smith;21/07/1963;en;john.smith@example.org;avn-hip;decompressie;claes;palfijn;15/12/2026;9u00",  # noqa: E501
    "PAT-4;Jan Janssens;;nl;;avn-hip;heupprothese;claes;cadix;15/12/2026;9u30",
    "PAT-5;Tom Aerts;05/05/1944;nl;tom.aerts(at)example;avn-hip;heupprothese;claes;cadix;15/12/2026;10u00",  # noqa: E501
]  # fmt: skip


class Mailbox:
    """aiosmtpd handler: keeps what it accepts; can refuse addresses or drop a connection."""

    def __init__(self) -> None:
        self.received: list[EmailMessage] = []
        self.envelopes: list[Envelope] = []
        self.refuse: set[str] = set()
        self.drop_next_data = False
        self.drop_next_rcpt = False
        self.answer_after = 0.0  # seconds the server takes to answer after the data
        self.refuse_sender = ""  # an answer to every MAIL FROM (a server-wide refusal)
        self.answer_data = ""  # an answer after the data instead of "250 ... queued"
        self.no_ehlo = False  # an old server that knows HELO only

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        if self.no_ehlo:
            return ["502 5.5.2 EHLO not implemented"]
        session.host_name = hostname
        return responses

    async def handle_MAIL(self, server, session, envelope, address, options) -> str:
        if self.refuse_sender:
            return self.refuse_sender
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, options) -> str:
        if self.drop_next_rcpt:  # the connection breaks before the message was sent
            self.drop_next_rcpt = False
            server.transport.close()
            return "421 closing"
        if address in self.refuse:
            return f"550 5.1.1 <{address}>: Recipient address rejected"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.drop_next_data:  # the connection breaks before the server took the message
            self.drop_next_data = False
            server.transport.close()
            return "421 closing"
        parsed = email.message_from_bytes(envelope.content, policy=default_policy)
        self.received.append(parsed)  # type: ignore[arg-type]
        self.envelopes.append(envelope)
        if self.answer_after:  # queued, but the answer comes late
            await asyncio.sleep(self.answer_after)
        if self.answer_data:
            return self.answer_data
        return f"250 2.0.0 Ok: queued as Q{len(self.received)}"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.received if m["To"] == address]


def _authenticate(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535


class Server:
    """STARTTLS and login required, as a hospital's server would; or, with ``secure=False``, a
    plain relay without either. ``smtputf8`` offers addresses in any script."""

    def __init__(
        self, ca: trustme.CA, port: int, *, secure: bool = True, smtputf8: bool = False
    ) -> None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1").configure_cert(context)
        self.mailbox = Mailbox()
        self.port = port
        security = {
            "tls_context": context,
            "require_starttls": True,
            "auth_required": True,
            "auth_require_tls": True,
            "authenticator": _authenticate,
        }
        self.controller = Controller(
            self.mailbox,
            hostname="127.0.0.1",
            port=port,
            enable_SMTPUTF8=smtputf8,
            **(security if secure else {}),
        )

    def start(self) -> Server:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()


def configure(work: Path, **settings: object) -> None:
    values: dict[str, object] = {
        "host": "127.0.0.1", "security": "starttls", "protect_pdf": "false",
        "retries": 2, "retry_wait_seconds": 0.05, "rate_per_minute": 6000,
    } | settings  # fmt: skip
    (work / "project/config/email.yaml").write_text(
        f"""sender: {{name: ZAS Patiëntenfolders, address: folders@zas.be}}
reply_to: info@zas.be
smtp:
  host: {values["host"]}
  port: {values["port"]}
  security: {values["security"]}
  {f"username: {USER}" if values.get("login", True) else ""}
  password_env: {PASSWORD_ENV}
  ca_file: {values["ca_file"]}
  timeout_seconds: {values.get("timeout", 5)}
rate_per_minute: {values["rate_per_minute"]}
retries: {values["retries"]}
retry_wait_seconds: {values["retry_wait_seconds"]}
protect_pdf: {values["protect_pdf"]}
password_rule: {values.get("password_rule", "birth_date_ddmmyyyy")}
""",
        encoding="utf-8",
    )
