"""Talks to the SMTP server: STARTTLS or implicit TLS, EHLO, login, a rate limit, and a
reconnect after a dropped connection. Every failure becomes one of four kinds, so the caller
decides per message:

* Refused: the server will not take this message or recipient (5xx): do not retry;
* Temporary: not sent, worth another try (4xx, or the connection broke before the whole
  message was out);
* Uncertain: the whole message went out but no answer came back (a timeout or a dropped
  connection after the data): the server may have it, so it is never sent again on its own;
* Fatal: nothing can be sent (unknown host, refused login or sender, untrusted certificate,
  a server that does not follow the protocol): stop, report once.
"""

from __future__ import annotations

import contextlib
import re
import smtplib
import socket
import ssl
import time
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.policy import SMTPUTF8 as SMTPUTF8_POLICY
from pathlib import Path

from .config import EmailConfig


class Refused(Exception):
    """The server refused this message for good (5xx)."""


class Temporary(Exception):
    """Worth another try: a 4xx answer, a timeout, a dropped connection."""


class Unreachable(Temporary):
    """No connection to the server (yet): down, wrong host or port, or a timeout."""


class Uncertain(Exception):
    """The message was sent but the server's answer never came: it may have been accepted."""


class Fatal(Exception):
    """Nothing can be sent: an unknown host, a refused login, an untrusted certificate."""


_CRLF = b"\r\n"


def wire(message: EmailMessage, smtputf8: bool = False) -> bytes:
    """The message as it goes over the wire (CRLF line ends); with ``smtputf8``, headers keep
    letters outside ASCII, as servers that offer SMTPUTF8 take them."""
    return message.as_bytes(policy=SMTPUTF8_POLICY if smtputf8 else SMTP_POLICY)


def _answer(code: int, text: bytes | str) -> str:
    return f"{code} {text.decode(errors='replace') if isinstance(text, bytes) else text}".strip()


class Mailer:
    def __init__(self, config: EmailConfig, password: str | None, ca_file: Path | None) -> None:
        self.config, self.password = config, password
        self.context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
        self.smtp: smtplib.SMTP | None = None
        self.interval = 60.0 / config.rate_per_minute
        self.last_sent = float("-inf")

    def _connect(self) -> smtplib.SMTP:
        s = self.config.smtp
        try:
            if s.security == "tls":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    s.host, s.port, timeout=s.timeout_seconds, context=self.context
                )
            else:
                smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout_seconds)
                if s.security == "starttls":
                    smtp.starttls(context=self.context)
            smtp.ehlo_or_helo_if_needed()  # a greeting first, also after STARTTLS, without login
            if s.username:
                self._login(smtp, s.username, self.password or "")
        except smtplib.SMTPAuthenticationError as exc:
            answer = _answer(exc.smtp_code, exc.smtp_error)
            raise Fatal(f"de server weigert de aanmelding ({answer})") from None
        except ssl.SSLError as exc:
            raise Fatal(f"geen veilige verbinding met {s.host}: {exc.reason or exc}") from None
        except smtplib.SMTPNotSupportedError:
            raise Fatal(f"{s.host} kent geen STARTTLS") from None
        except socket.gaierror:  # a typing error in the settings: waiting will not help
            raise Fatal(f"onbekende mailserver '{s.host}' (controleer smtp.host)") from None
        except smtplib.SMTPHeloError as exc:
            answer = _answer(exc.smtp_code, exc.smtp_error)
            raise Fatal(f"{s.host} weigert de begroeting (EHLO: {answer})") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise Unreachable(f"mailserver {s.host}:{s.port} niet bereikbaar ({exc})") from None
        return smtp

    @staticmethod
    def _login(smtp: smtplib.SMTP, username: str, password: str) -> None:
        """Log in with one mechanism, PLAIN or LOGIN (over TLS), so that a wrong password is
        one clear refusal rather than a round of retries with every mechanism."""
        smtp.ehlo_or_helo_if_needed()
        offered = smtp.esmtp_features.get("auth", "").upper().split()
        smtp.user, smtp.password = username, password
        for name, method in (("PLAIN", smtp.auth_plain), ("LOGIN", smtp.auth_login)):
            if name in offered:
                smtp.auth(name, method)
                return
        smtp.login(username, password)

    def send(self, message: EmailMessage, recipient: str, smtputf8: bool = False) -> str:
        """Hand one message to the server; returns its answer ("250 ... queued as ..."), or
        raises Refused, Temporary, Uncertain or Fatal. ``smtputf8``: the address needs it."""
        wait = self.last_sent + self.interval - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        if self.smtp is None:
            self.smtp = self._connect()
        try:
            return self._transaction(self.smtp, message, recipient, smtputf8)
        finally:
            self.last_sent = time.monotonic()

    def _transaction(
        self, smtp: smtplib.SMTP, message: EmailMessage, recipient: str, smtputf8: bool
    ) -> str:
        """MAIL, RCPT, DATA. Until the whole message is out, a failure means it was not sent;
        after, a missing answer means nobody knows."""
        options = []
        if smtputf8:
            if not smtp.has_extn("smtputf8"):
                raise Refused("de mailserver kent geen SMTPUTF8: dit adres kan hij niet aannemen")
            options = ["SMTPUTF8", "BODY=8BITMIME"] if smtp.has_extn("8bitmime") else ["SMTPUTF8"]
        data = re.sub(rb"(?m)^\.", b"..", wire(message, smtputf8))
        try:
            self._expect(smtp.mail(self.config.sender.address, options), "MAIL", sender=True)
            self._expect(smtp.rcpt(recipient), "RCPT")
            self._expect(smtp.docmd("DATA"), "DATA", wanted=(354,))
            smtp.send(data + (b"" if data.endswith(_CRLF) else _CRLF) + b"." + _CRLF)
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self.smtp = None  # connect again for the next try
            raise Temporary(f"verbinding verbroken ({exc or type(exc).__name__})") from None
        try:
            code, text = smtp.getreply()
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self.smtp = None
            raise Uncertain(
                f"geen antwoord na het bericht ({exc or type(exc).__name__}): misschien ontvangen"
            ) from None
        if not 200 <= code < 600:  # no answer a server gives: whether it kept it, nobody knows
            self.smtp = None
            raise Uncertain(f"onleesbaar antwoord na het bericht ({_answer(code, text)})")
        self._expect((code, text), "DATA", wanted=tuple(range(200, 300)))
        return _answer(code, text)

    def _expect(
        self,
        reply: tuple[int, bytes],
        step: str,
        wanted: tuple[int, ...] = (250, 251),
        sender: bool = False,
    ) -> None:
        """Sort a reply that is not the wanted one: a refused sender, or a server out of step
        with us (503), refuses every message alike, so that is Fatal, not one refusal each."""
        code, text = reply
        if code in wanted:
            return
        self._reset()
        answer = _answer(code, text)
        if code == 503 or (sender and code >= 500) or not 200 <= code < 600:
            raise Fatal(f"de server weigert elk bericht ({step}: {answer})")
        raise (Temporary if 400 <= code < 500 else Refused)(answer)

    def _reset(self) -> None:
        try:
            if self.smtp is not None:
                self.smtp.rset()
        except (smtplib.SMTPException, OSError):
            self.smtp = None

    def close(self) -> None:
        if self.smtp is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self.smtp.quit()
            self.smtp = None
