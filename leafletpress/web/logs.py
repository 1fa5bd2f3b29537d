"""What the web app, its workers, gunicorn and the commands write to their log: one format.

Input: ``LEAFLETPRESS_LOG_FORMAT`` (``text``, the default, or ``json``: one JSON object per
line) and ``LEAFLETPRESS_LOG_LEVEL`` (``DEBUG`` … ``CRITICAL``; default ``INFO``).
Output: ``config()``, the ``LOGGING`` dict for Django and gunicorn (``gunicorn.conf.py`` style
``logconfig_dict``), and ``RequestLog``, the middleware that gives each request an id (the
proxy's ``X-Request-ID`` when it is a plain token, else a new one; sent back in the answer).
Every line has the moment, the level, the logger, the request id and the account (``-``
outside a request).

Guarantees: no patient data. The app logs references and ids, never a name, a birth date or an
address; an e-mail address in any line (a mail server's answer that quotes one, a traceback)
is written ``<adres>``. Times are UTC in every process. gunicorn's access lines are not
written (nginx has them). Lines that say nothing (django-axes' banner at every command,
pikepdf's start-up line, WeasyPrint's notes about our own templates) are not written.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.signals import request_finished

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
FORMATS = ("text", "json")
_request = contextvars.ContextVar("request_id", default="-")
_account = contextvars.ContextVar("account", default="-")
_TOKEN = re.compile(r"[A-Za-z0-9._-]{1,64}")
# An e-mail address as a mail server may quote one: a quoted or plain local part, a domain
# in any script (or an address literal). Never a URL's path.
_ADDRESS = re.compile(  # (\\: an address in a bytes repr, b'jos\xc3\xa9@…')
    r"(?:\"[^\"\n]*\"|[\w.!#$%&'*+/=?^`{|}~\\-]+)@(?:\[[^\]\s]+\]|[\w\\-]+(?:\.[\w\\-]+)+)"
)


def hidden(text: str) -> str:
    """``text`` with every e-mail address in it written ``<adres>``."""
    return _ADDRESS.sub("<adres>", text) if "@" in text else text


class Context(logging.Filter):
    """Adds the request id and the account."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id, record.account = _request.get(), _account.get()
        return True


class Text(logging.Formatter):
    """One line: the moment in UTC (every process alike), level, logger, request id and
    account (an OIDC account name may look like an address: it is kept), the message;
    addresses hidden in it and in a traceback."""

    converter = time.gmtime
    default_time_format, default_msec_format = "%Y-%m-%dT%H:%M:%S", "%s.%03dZ"

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s %(account)s] "
                         "%(message)s")  # fmt: skip

    def formatMessage(self, record: logging.LogRecord) -> str:  # the account stays as it is
        record.message = hidden(record.message)
        return super().formatMessage(record)

    def formatException(self, ei: Any) -> str:
        return hidden(super().formatException(ei))


class Json(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "tijd": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "niveau": record.levelname, "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "account": getattr(record, "account", "-"), "bericht": hidden(record.getMessage()),
        }  # fmt: skip
        if record.exc_info:
            line["fout"] = hidden(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False)


def config(environ: dict[str, str]) -> dict[str, Any]:
    """The logging configuration the settings ask for; a wrong setting is named."""
    level = environ.get("LEAFLETPRESS_LOG_LEVEL", "INFO").upper()
    shape = environ.get("LEAFLETPRESS_LOG_FORMAT", "text").lower()
    if level not in LEVELS:
        raise ImproperlyConfigured(f"LEAFLETPRESS_LOG_LEVEL is '{level}': kies {', '.join(LEVELS)}")
    if shape not in FORMATS:
        raise ImproperlyConfigured(f"LEAFLETPRESS_LOG_FORMAT is '{shape}': kies text of json")
    formatter = {"()": Json if shape == "json" else Text}
    handler = {  # the level here too: db_worker sets its loggers' own
        "class": "logging.StreamHandler",
        "formatter": "leafletpress",
        "level": level,
        "filters": ["context"],
    }
    quiet = {"level": "WARNING"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": Context}},
        "formatters": {"leafletpress": formatter},
        "handlers": {"console": handler},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "weasyprint": {"level": "ERROR"}, "fontTools": {"level": "ERROR"},
            "axes": quiet, "pikepdf": quiet,
            # gunicorn's own lines, through the same handler (leafletpress-web.service)
            "gunicorn.error": {"level": level, "handlers": ["console"], "propagate": False},
            # each request is in nginx's access log; here it would be every poll and probe
            "gunicorn.access": {"level": "WARNING", "handlers": ["console"], "propagate": False},
        },
    }  # fmt: skip


def _forget(**kwargs: Any) -> None:
    """The answer went out: what this thread logs next is not that request's."""
    _request.set("-")
    _account.set("-")


class RequestLog:
    """Django middleware: the request id and the signed-in account for every line logged
    while a request is handled (and after, by Django itself); the id also in the answer
    (``X-Request-ID``), for the proxy's log."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response
        request_finished.connect(_forget, dispatch_uid="leafletpress.web.logs")

    def __call__(self, request: Any) -> Any:
        given = request.headers.get("X-Request-ID", "")
        request_id = given if _TOKEN.fullmatch(given) else uuid.uuid4().hex[:16]
        _request.set(request_id)  # until the answer is sent: Django logs a 404 or a 500
        user = getattr(request, "user", None)  # after the middleware has answered
        signed_in = user is not None and user.is_authenticated
        _account.set(user.get_username() if signed_in else "-")
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response
