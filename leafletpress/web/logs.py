"""What the web app, its workers, gunicorn and the commands write to their log: one format.

Input: ``LEAFLETPRESS_LOG_FORMAT`` (``text``, the default, or ``json``: one JSON object per
line) and ``LEAFLETPRESS_LOG_LEVEL`` (``DEBUG`` … ``CRITICAL``; default ``INFO``).
Output: ``config()``, the ``LOGGING`` dict for Django and gunicorn (``gunicorn.conf.py`` style
``logconfig_dict``), and ``RequestLog``, the middleware that gives each request an id (the
proxy's ``X-Request-ID`` when it is a plain token, else a new one; sent back in the answer).
Every line has the moment, the level, the logger, the request id and the account (``-``
outside a request).

Guarantees: no patient data. The app logs references and ids, never a name, a birth date or an
address; an e-mail address in any message (a mail server's answer that quotes one) is
replaced by ``<adres>``. Lines that say nothing (django-axes' banner at every command,
pikepdf's start-up line, WeasyPrint's notes about our own templates) are not written.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import uuid
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ImproperlyConfigured

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
FORMATS = ("text", "json")
_request = contextvars.ContextVar("request_id", default="-")
_account = contextvars.ContextVar("account", default="-")
_TOKEN = re.compile(r"[A-Za-z0-9._-]{1,64}")
_ADDRESS = re.compile(r"[^\s<>()\[\],;:\"']+@[^\s<>()\[\],;:\"']+\.[A-Za-z]{2,}")


class Context(logging.Filter):
    """Adds the request id and the account, and hides e-mail addresses."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id, record.account = _request.get(), _account.get()
        message = record.getMessage()
        if "@" in message:
            record.msg, record.args = _ADDRESS.sub("<adres>", message), None
        return True


class Json(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "tijd": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "niveau": record.levelname, "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "account": getattr(record, "account", "-"), "bericht": record.getMessage(),
        }  # fmt: skip
        if record.exc_info:
            line["fout"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


TEXT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s %(account)s] %(message)s"


def config(environ: dict[str, str]) -> dict[str, Any]:
    """The logging configuration the settings ask for; a wrong setting is named."""
    level = environ.get("LEAFLETPRESS_LOG_LEVEL", "INFO").upper()
    shape = environ.get("LEAFLETPRESS_LOG_FORMAT", "text").lower()
    if level not in LEVELS:
        raise ImproperlyConfigured(f"LEAFLETPRESS_LOG_LEVEL is '{level}': kies {', '.join(LEVELS)}")
    if shape not in FORMATS:
        raise ImproperlyConfigured(f"LEAFLETPRESS_LOG_FORMAT is '{shape}': kies text of json")
    formatter = {"()": Json} if shape == "json" else {"format": TEXT}
    handler = {
        "class": "logging.StreamHandler",
        "formatter": "leafletpress",
        "level": level,
        "filters": ["context"],
    }  # fmt: skip  (a level here too: db_worker sets its own)
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
            "gunicorn.access": {"level": level, "handlers": ["console"], "propagate": False},
        },
    }  # fmt: skip


class RequestLog:
    """Django middleware: the request id and the signed-in account for every line logged
    while a request is handled (and after, by Django itself); the id also in the answer
    (``X-Request-ID``), for the proxy's log."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        given = request.headers.get("X-Request-ID", "")
        request_id = given if _TOKEN.fullmatch(given) else uuid.uuid4().hex[:16]
        _request.set(request_id)  # until the thread's next request: Django logs a 404 or a
        user = getattr(request, "user", None)  # 500 after the middleware has answered
        signed_in = user is not None and user.is_authenticated
        _account.set(user.get_username() if signed_in else "-")
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response
