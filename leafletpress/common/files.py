"""Writing outputs: atomically, and only inside the chosen folder."""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import LeafletpressError, OutputError, output_error

PRIVATE_FILE, PRIVATE_FOLDER = 0o600, 0o700  # patient data: for the account that runs us


def sha256_of(path: Path) -> str:
    """A file's SHA-256, read in pieces (a database dump may be large)."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def write_atomic(path: Path, data: bytes) -> None:
    """Write to a temporary file beside ``path``, then rename: readers never see half a PDF,
    and an interrupted run leaves nothing behind under the final name. The file is readable
    by its owner only (0600), as every file leafletpress writes: they hold patient data."""
    try:
        path.parent.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    except OSError as exc:
        raise output_error(exc, "kan de map niet aanmaken", path.parent) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise output_error(exc, "kan niet schrijven", path) from None
        raise


def open_regular(path: Path, flags: int, problem: str) -> int:
    """A file descriptor for ``path`` if it is a regular file: never through a symbolic link,
    never a FIFO or device that would hang or feed us (created owner-only when asked)."""
    odd = OutputError(
        f"{problem}: geen gewoon bestand (een koppeling, map of speciaal bestand)",
        file=path,
        hint="verwijder het; leafletpress maakt het opnieuw",
    )
    try:
        fd = os.open(path, flags | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, PRIVATE_FILE)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENXIO, errno.EISDIR):
            raise odd from None
        raise OutputError(f"{problem}: {exc.strerror}", file=path) from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise odd
    return fd


@contextmanager
def exclusive(lock: Path, busy: LeafletpressError) -> Iterator[None]:
    """Hold ``lock`` (a file, created if needed, never through a symbolic link) for as long
    as the block runs; raise ``busy`` at once if another process holds it."""
    fd = open_regular(lock, os.O_WRONLY | os.O_CREAT, "kan niet vergrendelen")
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise busy from None
        yield
    finally:
        os.close(fd)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # what Excel and LibreOffice run (OWASP)


def spreadsheet_cell(value: object) -> object:
    """A value for a CSV that people open in Excel or LibreOffice: text that a spreadsheet
    would run as a formula gets a leading apostrophe, so it is shown, never evaluated.
    Numbers and empty cells are left as they are; JSON keeps the exact value."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def own_folder(folder: Path, root: Path, create: bool = True) -> Path:
    """``folder`` as a real folder of ours inside ``root``: never a symbolic link, a file, or a
    path that leads outside ``root`` (on a shared drive, a link could send patients' files
    anywhere). Made if needed, owner-only, also when an older version made it."""
    outside = not folder.resolve().is_relative_to(root.resolve())
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()) or outside:
        raise OutputError(
            "is een symbolische koppeling of een bestand, geen gewone map",
            file=folder,
            hint="verwijder het: leafletpress schrijft alleen in gewone mappen binnen de "
            "uitvoermap",
        )
    if create:
        try:
            folder.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(
                f"kan de map niet maken: {exc.strerror}",
                file=folder,
                hint="kies met --out-dir een map waarin je mag schrijven",
            ) from None
        folder.chmod(PRIVATE_FOLDER)
    return folder


def inside(folder: Path, relative: str | Path) -> Path:
    """``folder / relative``, refusing anything that would land outside ``folder``."""
    base = folder.resolve()
    target = (base / relative).resolve()
    if not target.is_relative_to(base) or target == base:
        raise OutputError(
            f"'{relative}' valt buiten de uitvoermap {folder}",
            field="output",
            hint="geef een bestandsnaam binnen de uitvoermap (zonder '..')",
        )
    return target
