"""Writing outputs: atomically, and only inside the chosen folder."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from .errors import OutputError

_UMASK = os.umask(0)
os.umask(_UMASK)


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_atomic(path: Path, data: bytes) -> None:
    """Write to a temporary file beside ``path``, then rename: readers never see half a PDF,
    and an interrupted run leaves nothing behind under the final name."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    except OSError as exc:
        raise OutputError(f"kan de map niet aanmaken: {exc.strerror}", file=path.parent) from None
    try:
        os.chmod(tmp, 0o666 & ~_UMASK)  # as open() would; mkstemp makes it owner-only
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise OutputError(f"kan niet schrijven: {exc.strerror}", file=path) from None
        raise


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
