"""How leaflets are emailed (config/email.yaml), validated on load. Secrets stay out of it:
the SMTP password comes from the environment variable the file names."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, Field, model_validator

from ..common.errors import ContentError
from ..common.project import Project
from ..common.validation import Strict, Text, load_yaml, validate

EMAIL_CONFIG = "email.yaml"


def _mailbox(value: str) -> str:
    """A sender or reply-to address every server takes: valid, and in ASCII."""
    try:
        valid = validate_email(value, check_deliverability=False, allow_smtputf8=False)
        return valid.ascii_email or valid.normalized  # a domain in any script, as IDNA
    except EmailNotValidError:
        raise ValueError("geen geldig e-mailadres (in gewone letters, zonder accenten)") from None


Mailbox = Annotated[str, AfterValidator(_mailbox)]


class Sender(Strict):
    name: Text
    address: Mailbox


class Smtp(Strict):
    host: Text
    port: int = Field(ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: Text | None = None
    password_env: Text = "LEAFLETPRESS_SMTP_PASSWORD"
    ca_file: str | None = None
    timeout_seconds: float = Field(default=30, gt=0, le=600)

    @model_validator(mode="after")
    def _no_password_in_clear(self) -> Smtp:
        if self.username and self.security == "none":
            raise ValueError("aanmelden zonder TLS stuurt het wachtwoord leesbaar: kies "
                             "security: starttls of tls, of laat username weg")  # fmt: skip
        return self


class EmailConfig(Strict):
    example: bool = False
    sender: Sender
    reply_to: Mailbox | None = None
    smtp: Smtp
    rate_per_minute: float = Field(default=30, gt=0)
    retries: int = Field(default=3, ge=0, le=10)
    retry_wait_seconds: float = Field(default=5, ge=0, le=600)
    protect_pdf: bool = False
    # birth_date_ddmmyyyy keeps out a casual reader only (a birth date is guessed in minutes);
    # letter_code is a code the patient got on paper, from the list's letter code column.
    password_rule: Literal["birth_date_ddmmyyyy", "letter_code"] = "birth_date_ddmmyyyy"

    def password(self) -> str | None:
        """The SMTP password from the environment; None without authentication."""
        if self.smtp.username is None:
            return None
        password = os.environ.get(self.smtp.password_env)
        if not password:
            raise ContentError(
                f"het wachtwoord voor {self.smtp.username} ontbreekt",
                file=f"config/{EMAIL_CONFIG}",
                field="smtp.password_env",
                hint=f"zet de omgevingsvariabele {self.smtp.password_env} (nooit in een bestand "
                "in de repository)",
            )
        return password


def load_email_config(project: Project) -> EmailConfig:
    shown = f"config/{EMAIL_CONFIG}"
    config = validate(EmailConfig, load_yaml(project.config_dir / EMAIL_CONFIG, shown), shown)
    if config.smtp.ca_file and not _resolve(project, config.smtp.ca_file).is_file():
        raise ContentError(
            f"certificaat '{config.smtp.ca_file}' niet gevonden", file=shown, field="smtp.ca_file"
        )
    return config


def ca_path(project: Project, config: EmailConfig) -> Path | None:
    return _resolve(project, config.smtp.ca_file) if config.smtp.ca_file else None


def _resolve(project: Project, name: str) -> Path:
    path = Path(name)
    return path if path.is_absolute() else project.config_dir / path
