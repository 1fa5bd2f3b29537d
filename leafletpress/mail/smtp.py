"""Talks to the SMTP server: STARTTLS or implicit TLS, login, a rate limit, and a reconnect
after a dropped connection. Every failure becomes one of three kinds, so the caller decides
per message: Refused (the server will not take this recipient: do not retry), Temporary
(retry later), or Fatal (wrong password, no server: stop, report once)."""

from __future__ import annotations

import contextlib
import smtplib
import socket
import ssl
import time
from collections.abc import Callable
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from pathlib import Path

from .config import EmailConfig


class Refused(Exception):
    """The server refused this message for good (5xx)."""


class Temporary(Exception):
    """Worth another try: a 4xx answer, a timeout, a dropped connection."""


class Unreachable(Temporary):
    """No connection to the server (yet): down, wrong host or port, or a timeout."""


class Fatal(Exception):
    """Nothing can be sent: an unknown host, a refused login, an untrusted certificate."""


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

    def send(self, message: EmailMessage) -> str:
        """Hand one message to the server; returns its answer ("250 ... queued as ..."), or
        raises Refused, Temporary or Fatal."""
        wait = self.last_sent + self.interval - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        if self.smtp is None:
            self.smtp = self._connect()
        smtp = self.smtp
        try:
            steps: tuple[Callable[[], tuple[int, bytes]], ...] = (
                lambda: smtp.mail(self.config.sender.address),
                lambda: smtp.rcpt(str(message["To"])),
                lambda: smtp.data(message.as_bytes(policy=SMTP_POLICY)),
            )
            for step in steps:
                code, text = step()
                if code not in (250, 251):
                    self._reset()
                    kind = Temporary if 400 <= code < 500 else Refused
                    raise kind(_answer(code, text))
        except smtplib.SMTPResponseException as exc:  # data() raises instead of returning
            self._reset()
            kind = Temporary if 400 <= exc.smtp_code < 500 else Refused
            raise kind(_answer(exc.smtp_code, exc.smtp_error)) from None
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self.smtp = None  # connect again for the next try
            raise Temporary(f"verbinding verbroken ({exc or type(exc).__name__})") from None
        finally:
            self.last_sent = time.monotonic()
        return _answer(code, text)

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
