"""Writing outputs: atomically, inside the chosen folder, with names that carry no patient name."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from .errors import OutputError
from .visit import Visit

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


def pseudonym(visit: Visit) -> str:
    """A short stable id for a visit without patient reference: no name in file names."""
    key = "|".join(
        str(x)
        for x in (
            visit.patient.name,
            visit.patient.birth_date,
            visit.leaflet,
            visit.variant,
            visit.site,
            visit.date,
            visit.time,
        )
    )
    return "p" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:10]


def leaflet_file_name(visit: Visit, lang: str, suffix: str = "") -> str:
    """'<date>/<reference>_<HHMM>_<leaflet>-<variant>[-<lang>][suffix].pdf'; references are
    already restricted to [A-Za-z0-9._-], so the name is safe on every file system."""
    who = visit.patient.reference or pseudonym(visit)
    language = "" if lang == "nl" else f"-{lang}"
    return (
        f"{visit.date.isoformat()}/{who}_{visit.time:%H%M}_{visit.leaflet}-{visit.variant}"
        f"{language}{suffix}.pdf"
    )
