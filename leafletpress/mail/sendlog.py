"""The send log: every attempt to email a leaflet, in SQLite (WAL), so nothing goes out twice.

A message is *claimed* before it is handed to the server: in one write transaction the log
checks that it was never accepted and that no attempt is under way, and records a 'sending'
attempt with its owner (host and process). Two runs, in two processes or on two machines
sharing the log, can therefore never both send it. The attempt is then updated with the
server's answer. A message the server accepted is never sent again (unless --resend). An
attempt left at 'sending' (the program was killed in between) or 'uncertain' (the whole
message went out but no answer came) may have arrived: it is reported, and not repeated
without --resend; and never while its owner is still running.
"""

from __future__ import annotations

import hashlib
import os
import socket
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ..common.errors import OutputError
from ..common.files import open_regular
from ..common.keyed import check, keyed

SEND_LOG = "sendlog.sqlite"  # in the output folder, shared by every day

ACCEPTED, SENDING, REFUSED, FAILED = "accepted", "sending", "refused", "failed"
UNCERTAIN = "uncertain"
BUSY = "busy"  # another run, still alive, is sending this message now (never stored)

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
    response TEXT,
    owner TEXT
);
CREATE INDEX IF NOT EXISTS attempts_message ON attempts (sha256, recipient);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
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


def _unusable(path: Path, exc: sqlite3.DatabaseError) -> OutputError:
    return OutputError(
        f"het verzendlogboek is beschadigd of bezet ({exc})",
        file=path,
        hint="er is niets verstuurd; probeer later opnieuw, of vraag de beheerder het logboek "
        "na te kijken (verwijder het nooit: het onthoudt wat al verstuurd is)",
    )


def _started(pid: int) -> str:
    """When a process started (Linux: clock ticks since boot), so that a process id that was
    given to another program later is not mistaken for the run that wrote an attempt."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rpartition(")")[2].split()[19]


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{_started(os.getpid())}"


def _alive(owner: str | None) -> bool:
    """Whether the run that wrote an attempt is still running (on this machine)."""
    host, pid, started = [*(owner or "").split(":"), "", ""][:3]
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False  # another machine's run: its lock would have kept us out of the day
    now = _started(int(pid))  # '' when no such process
    return bool(now) and (now == started or not started)


FORGOTTEN = "hmac:"  # how an address the log no longer keeps begins
UNKEYED = "sha256:"  # how older versions kept it: its plain SHA-256, confirmable (F10)


def forgotten(address: str) -> str:
    """What the log keeps of an address after the retention period: enough to recognise the
    same address again (never twice; in any case), not to read it, nor to confirm a guess
    without the hospital's key (common/keyed.py)."""
    return rekeyed(UNKEYED + hashlib.sha256(address.lower().encode()).hexdigest())


def rekeyed(unkeyed: str) -> str:
    """An address forgotten the old way ('sha256:…'), in the keyed form: the same as
    ``forgotten`` of that address."""
    return FORGOTTEN + keyed(unkeyed.removeprefix(UNKEYED))


class SendLog:
    def __init__(self, path: Path) -> None:
        self.path = path
        # Created owner-only, a regular file, never through a link (SQLite gives its -wal and
        # -shm the same mode).
        os.close(open_regular(path, os.O_WRONLY | os.O_CREAT, "kan het verzendlogboek niet openen"))
        for part in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            if part.is_file() and not part.is_symlink():
                part.chmod(0o600)  # also a log written before it was made owner-only
        try:
            self.db = sqlite3.connect(path, timeout=30, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")  # an accepted message is on disk at once
            self.db.executescript(_SCHEMA)
            columns = {row[1] for row in self.db.execute("PRAGMA table_info(attempts)")}
            if "owner" not in columns:  # a log from before owners were recorded
                self.db.execute("ALTER TABLE attempts ADD COLUMN owner TEXT")
        except sqlite3.DatabaseError as exc:
            raise _unusable(path, exc) from None
        self._forgotten: bool = False
        self._unkeyed: bool | None = None

    def state(self, message: Message) -> str | None:
        """'accepted' if ever accepted; 'busy' if a running process is sending it; else the
        last attempt's status; None if never tried. An address the log has forgotten (after
        the retention period) is still recognised: never twice holds for ever."""
        to, forms = self._to(message.recipient)
        rows = self.db.execute(
            f"SELECT status, owner, id FROM attempts WHERE sha256 = ? AND {to} ORDER BY id",
            (message.sha256, *forms),
        ).fetchall()
        accepted = [number for status, _, number in rows if status == ACCEPTED]
        if accepted and not self._other_version(message, after=accepted[-1]):
            return ACCEPTED
        if accepted:  # moved back: her last message is another version, so this one goes
            return None
        if not rows:
            return None
        status, owner, _ = rows[-1]
        return BUSY if status == SENDING and _alive(owner) else str(status)

    def _to(self, recipient: str) -> tuple[str, list[str]]:
        """The SQL condition (and its values) for attempts to this address, however the log
        keeps it: as sent, in any case, or forgotten."""
        forms = [recipient.lower()]
        if self._forgets():  # the key only when the log holds forgotten addresses
            for spelling in {recipient, recipient.lower()}:  # as it may have been sent
                plain = UNKEYED + hashlib.sha256(spelling.encode()).hexdigest()
                forms += [plain, rekeyed(plain)]  # an older version's form, until re-keyed
        others = ", ".join("?" * (len(forms) - 1)) or "NULL"
        return f"(lower(recipient) = ? OR recipient IN ({others}))", forms

    def told_before(self, message: Message) -> bool:
        """Whether this address was sent another version of this patient's leaflet for the
        same day (a corrected appointment): the message then says that it changed."""
        return self._other_version(message, after=0)

    def _other_version(self, message: Message, after: int) -> bool:
        """An accepted message to this address, later than attempt ``after``, of another
        version of the same patient's leaflet for the same day."""
        to, forms = self._to(message.recipient)
        found = self.db.execute(
            "SELECT 1 FROM attempts WHERE status = ? AND id > ? AND lower(reference) = ?"
            f" AND leaflet = ? AND day = ? AND sha256 != ? AND {to} LIMIT 1",
            (ACCEPTED, after, message.reference.lower(), message.leaflet, message.day,
             message.sha256, *forms),
        ).fetchone()  # fmt: skip
        return found is not None

    def _forgets(self) -> bool:
        """Whether the log holds forgotten addresses (asked again until it does: a retention
        run may forget some while this log is open); if keyed ones, checked to be keyed with
        this key (a lost or another machine's key file would send everything again)."""
        if self._forgotten:
            return True
        found = self.db.execute("SELECT value FROM meta WHERE name = 'sleutel'").fetchone()
        if found is not None:
            self.check_key(found[0])
        elif self._unkeyed is None:  # only older versions wrote these: looked for once
            unkeyed = f"SELECT 1 FROM attempts WHERE recipient LIKE '{UNKEYED}%' LIMIT 1"
            self._unkeyed = bool(self.db.execute(unkeyed).fetchone())
        self._forgotten = found is not None or bool(self._unkeyed)
        return self._forgotten

    def check_key(self, kept: str | None = None) -> None:
        """Refuse a key other than the one the log's forgotten addresses were hashed with;
        the first time, remember this one."""
        if kept is None:
            self.db.execute("INSERT OR IGNORE INTO meta VALUES ('sleutel', ?)", (check(),))
            kept = self.db.execute("SELECT value FROM meta WHERE name = 'sleutel'").fetchone()[0]
        if kept != check():
            raise OutputError(
                "het verzendlogboek werd met een andere sleutel gemaakt: het zou niet meer "
                "herkennen wie al een e-mail kreeg",
                file=self.path,
                hint="zet het sleutelbestand (LEAFLETPRESS_KEY_FILE) terug dat bij dit logboek "
                "hoort, of geef elke machine hetzelfde; er is niets verstuurd",
            )

    def verdict(self, sha256: str) -> tuple[str, str] | None:
        """A leaflet file's fate, whatever the address: ('accepted', when) if it was ever
        accepted, else its last attempt's (status, when); None if never tried."""
        rows = self.db.execute(
            "SELECT status, COALESCE(finished, started) FROM attempts WHERE sha256 = ?"
            " ORDER BY status = ?, id",
            (sha256, ACCEPTED),
        ).fetchall()
        return (str(rows[-1][0]), str(rows[-1][1])) if rows else None

    def claim(self, message: Message, resend: bool = False) -> tuple[int | None, str | None]:
        """Record a 'sending' attempt if this message may go out now, atomically. Returns
        (attempt id, None), or (None, the state that stops it: accepted, busy, sending or
        uncertain). --resend passes accepted and unfinished attempts, never a busy one."""
        try:
            self.db.execute("BEGIN IMMEDIATE")  # one writer at a time, from check to insert
        except sqlite3.DatabaseError as exc:
            raise _unusable(self.path, exc) from None
        try:
            state = self.state(message)
            stops = {BUSY} if resend else {ACCEPTED, BUSY, SENDING, UNCERTAIN}
            if state in stops:
                return None, state
            return self._insert(message), None
        finally:
            self.db.execute("COMMIT")

    def _insert(self, message: Message) -> int:
        cursor = self.db.execute(
            "INSERT INTO attempts (started, day, row, reference, leaflet, version, sha256,"
            " recipient, status, owner) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (_now(), message.day, message.row, message.reference, message.leaflet,
             message.version, message.sha256, message.recipient, SENDING, _owner()),
        )  # fmt: skip
        return int(cursor.lastrowid or 0)

    def finish(self, attempt: int, status: str, response: str) -> None:
        self.db.execute(
            "UPDATE attempts SET finished = ?, status = ?, response = ? WHERE id = ?",
            (_now(), status, response[:500], attempt),
        )

    def close(self) -> None:
        self.db.close()
