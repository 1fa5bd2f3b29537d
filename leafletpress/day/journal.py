"""What a day folder already holds: the journal of finished leaflets, the lock that keeps a
second batch out, and the fingerprint of everything a leaflet is made from.

After a leaflet is written (atomically), a line goes into the day folder's journal
(``.journal.jsonl``): its file name, fingerprint and SHA-256. The fingerprint hashes the row's
visit, the paper format and every leaflet, config, template and style file. A later run skips
a leaflet whose file is still there, unchanged, under the same fingerprint; anything else is
rendered again.
"""

from __future__ import annotations

import hashlib
import json
import os
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from .. import __version__
from ..common.errors import BusyError, output_error
from ..common.files import exclusive, open_regular, own_folder, sha256_of, write_atomic
from ..common.project import Project

JOURNAL = ".journal.jsonl"
LOCK = ".lock"


def inputs_digest(project: Project) -> str:
    """A hash of everything a leaflet is made from, besides the row itself: the project's
    files and leafletpress's own code (an upgrade that changes how leaflets are made, at the
    same version number, makes them again)."""
    digest = hashlib.sha256(__version__.encode())
    code = Path(__file__).resolve().parents[1]
    tops = (project.leaflets_dir, project.config_dir, project.templates_dir, project.styles_dir)
    for top in (*tops, code):
        for path in sorted(top.rglob("*")):
            shipped = top == code and code / "bundled" in path.parents  # counted above if used
            if path.is_file() and path.suffix != ".pyc" and not shipped:
                digest.update(str(path.relative_to(top.parent)).encode() + b"\0")
                digest.update(path.read_bytes())
    return digest.hexdigest()


def locked(out_dir: Path, folder: Path) -> AbstractContextManager[None]:
    """One batch at a time per day folder, a real folder inside the output folder."""
    busy = BusyError(
        "een andere batch schrijft al in deze map",
        file=folder,
        hint="wacht tot die klaar is en start dan opnieuw",
    )
    return exclusive(own_folder(folder, out_dir) / LOCK, busy)


def clean_parts(folder: Path) -> None:
    """Remove temporary files left by a run that was killed mid-write."""
    for part in folder.glob(".*.part"):
        if part.is_file() or part.is_symlink():
            part.unlink(missing_ok=True)


class Journal:
    """Finished leaflets of a day folder. Each worker appends a line as soon as it has written
    a leaflet, so an interrupted day loses at most the leaflets being rendered."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / JOURNAL
        self.done = self._read()

    def _read(self) -> dict[str, dict[str, Any]]:
        done: dict[str, dict[str, Any]] = {}
        if not os.path.lexists(self.path):
            return done
        fd = open_regular(self.path, os.O_RDONLY, "kan het logboek niet lezen")
        with os.fdopen(fd, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                try:
                    record = json.loads(line)
                except ValueError:
                    continue  # a line cut short by a crash: that leaflet is made again
                if isinstance(record, dict) and isinstance(record.get("file"), str):
                    done[record["file"]] = record
        return done

    def is_done(self, file: Path, fingerprint: str) -> dict[str, Any] | None:
        record = self.done.get(file.name)
        unchanged = (
            record is not None
            and record.get("fingerprint") == fingerprint
            and file.is_file()
            and not file.is_symlink()
            and sha256_of(file) == record.get("sha256")
        )
        return record if unchanged else None

    def compact(self, keep: set[str]) -> None:
        """Rewrite the journal with one line per leaflet (the workers' lines included): this
        list's, and another list's of the same day while its file is there."""
        self.done = self._read()
        folder = self.path.parent
        kept = {f: r for f, r in self.done.items() if f in keep or (folder / f).is_file()}
        lines = "".join(json.dumps(r) + "\n" for r in kept.values())
        write_atomic(self.path, lines.encode("utf-8"))


def record_done(journal: Path, record: dict[str, Any]) -> None:
    """Append one finished leaflet to the journal, on disk before returning. One write of a
    short line with O_APPEND: lines from several workers never mix."""
    line = (json.dumps(record) + "\n").encode("utf-8")
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT
    fd = open_regular(journal, flags, "kan het logboek niet bijwerken")
    try:
        os.write(fd, line)
        os.fsync(fd)
    except OSError as exc:
        raise output_error(exc, "kan het logboek niet bijwerken", journal) from None
    finally:
        os.close(fd)
