"""The hospital's own key, for what must be recognised without being readable: the pseudonym
of a row without reference, and an address the send log has forgotten (issue 23, F10, F16).

Input: a key. Output: ``keyed(text)``, an HMAC-SHA-256 of the text in hex. Guarantee: without
the key, a guess (a name and birth date, an address) cannot be confirmed against what is kept,
because the key is never where the kept files are (manifests, send log, audit log).

Where the key lives: in a file of its own, readable by its owner only, never in the database
or the output folders: ``LEAFLETPRESS_KEY_FILE`` (the command line's default
``~/.local/share/leafletpress/sleutel``; the web app's ``<data>/sleutel``, the same file on
every machine). It is made on first use. Losing it changes the pseudonyms of new files; the
send log notices a different key (``check``) rather than forget what it sent.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import threading
from collections.abc import Callable
from pathlib import Path

from .errors import OutputError

KEY_BYTES = 32
_lock = threading.Lock()
_key: bytes | None = None
_source: Callable[[], bytes] | None = None


def use(source: Callable[[], bytes]) -> None:
    """Take the key from ``source`` (called once, when it is first needed)."""
    global _key, _source
    with _lock:
        _key, _source = None, source


def keyed(text: str) -> str:
    return hmac.new(key(), text.encode("utf-8"), hashlib.sha256).hexdigest()


def key() -> bytes:
    global _key
    with _lock:
        if _key is None:
            _key = _source() if _source is not None else from_file(key_file())
        return _key


def check() -> str:
    """A check value of the key: stored beside what was hashed with it, it tells a different
    key (a lost or another machine's key file) from a hash that does not match."""
    return keyed("leafletpress: sleutelcontrole")[:16]


def key_file() -> Path:
    if named := os.environ.get("LEAFLETPRESS_KEY_FILE"):
        return Path(named)
    try:
        return Path.home() / ".local" / "share" / "leafletpress" / "sleutel"
    except RuntimeError:  # no home folder
        raise OutputError(
            "geen plaats voor de sleutel voor schuilnamen: er is geen thuismap",
            hint="zet LEAFLETPRESS_KEY_FILE op een bestand dat alleen jij kan lezen",
        ) from None


def from_file(path: Path) -> bytes:
    """The key in ``path``; a new one, written owner-only, if there is no such file."""
    try:
        if not path.exists():
            _create(path)
        if path.stat().st_mode & 0o077:
            raise ValueError("het bestand is leesbaar voor anderen: chmod 600")
        text = path.read_text(encoding="ascii").strip()
        found = bytes.fromhex(text)
    except (OSError, ValueError) as exc:
        raise OutputError(
            f"de sleutel voor schuilnamen is niet te gebruiken ({exc})",
            file=path,
            hint="zet LEAFLETPRESS_KEY_FILE op een bestand dat alleen jij kan lezen; "
            "bestaat het niet, dan maakt leafletpress er een",
        ) from None
    if len(found) < 16:
        raise OutputError(
            "de sleutel voor schuilnamen is te kort",
            file=path,
            hint=f"het bestand hoort {KEY_BYTES * 2} hexadecimale tekens te bevatten",
        )
    return found


def _create(path: Path) -> None:
    """A new key, whole or not at all: written beside it, then linked in (two processes
    starting at once both end up with the one that was linked first)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as file:
            file.write(secrets.token_hex(KEY_BYTES) + "\n")
            file.flush()
            os.fsync(file.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(draft, path)
    finally:
        draft.unlink()
