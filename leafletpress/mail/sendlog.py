"""The send log: every attempt to email a leaflet, in SQLite (WAL), so nothing goes out twice.

An attempt is written as 'sending' before the message is handed to the server and updated
with the server's answer after. A message the server accepted is never sent again (unless
the user says --resend). An attempt left at 'sending' (the program was killed in between)
may or may not have gone out: it is reported, and not repeated without --resend.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

SEND_LOG = "sendlog.sqlite"  # in the output folder, shared by every day

ACCEPTED, SENDING, REFUSED, FAILED = "accepted", "sending", "refused", "failed"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS attempts (
    id INTEGER PRIMARY KEY,
    started TEXT NOT NULL,
    finished TEXT,
    day TEXT NOT NULL,
    row INTEGER NOT NULL,
    reference TEXT NOT NULL,
    leaflet TEXT NOT NULL,
    version TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    recipient TEXT NOT NULL,
    status TEXT NOT NULL,
    response TEXT
);
CREATE INDEX IF NOT EXISTS attempts_message ON attempts (sha256, recipient);
"""


@dataclass(frozen=True)
class Message:
    """What identifies one message: this leaflet file, to this address."""

    day: str
    row: int
    reference: str
    leaflet: str
    version: str
    sha256: str
    recipient: str


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class SendLog:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = sqlite3.connect(path, timeout=30, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")  # an accepted message is on disk at once
        self.db.executescript(_SCHEMA)

    def state(self, message: Message) -> str | None:
        """'accepted' if ever accepted; else the last attempt's status; None if never tried."""
        rows = self.db.execute(
            "SELECT status FROM attempts WHERE sha256 = ? AND recipient = ? ORDER BY id",
            (message.sha256, message.recipient),
        ).fetchall()
        statuses = [status for (status,) in rows]
        if ACCEPTED in statuses:
            return ACCEPTED
        return statuses[-1] if statuses else None

    def begin(self, message: Message) -> int:
        cursor = self.db.execute(
            "INSERT INTO attempts (started, day, row, reference, leaflet, version, sha256,"
            " recipient, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (_now(), message.day, message.row, message.reference, message.leaflet,
             message.version, message.sha256, message.recipient, SENDING),
        )  # fmt: skip
        return int(cursor.lastrowid or 0)

    def finish(self, attempt: int, status: str, response: str) -> None:
        self.db.execute(
            "UPDATE attempts SET finished = ?, status = ?, response = ? WHERE id = ?",
            (_now(), status, response[:500], attempt),
        )

    def close(self) -> None:
        self.db.close()
