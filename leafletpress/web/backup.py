"""A backup of an installation, and its restore (`manage.py reservekopie`, `manage.py herstel`).

Input: the installation as its settings name it: the database (SQLite or PostgreSQL), the
shared folder (the days' files, the uploaded lists, the one-patient leaflets, the send log)
and the content folder (``LEAFLETPRESS_PROJECT``).
Output: one file, ``leafletpress-reservekopie-<moment>.tar`` (owner-only), holding:

- ``manifest.json``: version, moment, database engine, retention period and the SHA-256 of
  every other member;
- ``databank.dump`` (PostgreSQL: ``pg_dump`` custom format) or ``databank.sqlite3`` (SQLite's
  online backup);
- ``verzendlog.sqlite``: the send log, by SQLite's online backup;
- ``gedeeld/``: the shared folder's ``dagen/``, ``lijsten/`` and ``folders/``, as retention left
  them (a backup holds patients' data for at most the retention period plus its own age);
- ``inhoud/``: the content folder's ``leaflets/`` and ``config/`` (and ``templates/`` and
  ``styles/`` when it has its own).

Not in it: the hospital's key file (it must be backed up apart: beside the send log it would
undo the keyed hashes) and the secret key; both are settings the restored machine has.

Guarantees:
- The file appears whole or not at all (written under a temporary name, then renamed).
- The send log is copied last, after the database: a message sent while the backup ran is in
  the restored send log even when the restored database does not know of it, so it is never
  sent again.
- A restore checks every member against the manifest before it changes anything, restores
  only into an empty installation (no audit event in the database, no day, list or leaflet in
  the shared folder, no send log), never overwrites a content folder that has leaflets, then
  runs retention (what expired since the backup is deleted at once). Both are audit events;
  the restored audit log is the one backed up, whole.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone

from .. import __version__
from ..common.errors import InputError, OutputError
from ..common.files import sha256_of
from . import service
from .models import SYSTEM, AuditEvent, audit

SHARED_FOLDERS = ("dagen", "lijsten", "folders")
CONTENT_FOLDERS = ("leaflets", "config", "templates", "styles")
SEND_LOG = "verzendlog.sqlite"
MANIFEST = "manifest.json"


def make(folder: Path) -> Path:
    """A backup of this installation in ``folder``; its path."""
    now = timezone.localtime()
    target = folder / f"leafletpress-reservekopie-{now:%Y-%m-%d-%H%M%S}.tar"
    sums: dict[str, str] = {}
    with _staging() as stage, _written(target) as temporary, tarfile.open(temporary, "w") as tar:
        shared, content = Path(settings.SHARED), Path(settings.ROOT)
        for top, names, prefix in ((shared, SHARED_FOLDERS, "gedeeld"),
                                   (content, CONTENT_FOLDERS, "inhoud")):  # fmt: skip
            for path in _files(top, names):
                sums[_add(tar, path, f"{prefix}/{path.relative_to(top)}")] = sha256_of(path)
        dump = _dump_database(stage)
        sums[_add(tar, dump, dump.name)] = sha256_of(dump)
        if service.send_log().is_file():  # last: see the guarantees
            copy = _sqlite_copy(service.send_log(), stage / SEND_LOG)
            sums[_add(tar, copy, SEND_LOG)] = sha256_of(copy)
        manifest = stage / MANIFEST
        manifest.write_text(json.dumps(_description(now, sums), indent=2))
        tar.add(manifest, MANIFEST)
    audit(SYSTEM, "reservekopie", detail=f"{target.name}: {len(sums)} bestanden")
    return target


def _description(now: Any, sums: dict[str, str]) -> dict[str, Any]:
    return {
        "leafletpress": __version__, "gemaakt": now.isoformat(),
        "databank": connection.vendor, "bewaartermijn_dagen": settings.RETENTION_DAYS,
        "auditgebeurtenissen": AuditEvent.objects.count(), "bestanden": sums,
    }  # fmt: skip


def _files(top: Path, names: tuple[str, ...]) -> Iterator[Path]:
    """The regular files under ``top``'s folders ``names``; never a link."""
    for name in names:
        folder = top / name
        if folder.is_dir() and not folder.is_symlink():
            for path in sorted(folder.rglob("*")):
                if path.is_file() and not path.is_symlink() and not _is_link_inside(path, top):
                    yield path


def _is_link_inside(path: Path, top: Path) -> bool:
    return any(parent.is_symlink() for parent in path.relative_to(top).parents if parent.name)


def _add(tar: tarfile.TarFile, path: Path, name: str) -> str:
    tar.add(path, name, recursive=False)
    return name


@contextmanager
def _staging() -> Iterator[Path]:
    """A private folder in this machine's data folder (never the system's /tmp)."""
    stage = Path(tempfile.mkdtemp(prefix="reservekopie-", dir=settings.FILE_UPLOAD_TEMP_DIR))
    try:
        yield stage
    finally:
        shutil.rmtree(stage, ignore_errors=True)


@contextmanager
def _written(target: Path) -> Iterator[Path]:
    """``target`` whole or not at all."""
    if not target.parent.is_dir():
        raise InputError("deze map bestaat niet", file=target.parent, hint="maak ze eerst")
    temporary = target.with_name(f".{target.name}.deel")
    try:
        yield temporary
        with open(temporary, "rb") as done:
            os.fsync(done.fileno())
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def _sqlite_copy(source: Path, target: Path) -> Path:
    """SQLite's online backup: consistent while other processes write."""
    reading = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    with closing(reading) as db, closing(sqlite3.connect(target)) as out:
        db.backup(out)
    return target


def _dump_database(stage: Path) -> Path:
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        target = stage / "databank.sqlite3"
        with closing(sqlite3.connect(target)) as out:
            connection.connection.backup(out)
        return target
    target = stage / "databank.dump"
    _postgres("pg_dump", "--format=custom", "--no-owner", "--no-privileges",
              f"--file={target}")  # fmt: skip
    return target


def _postgres(program: str, *args: str) -> None:
    """pg_dump or pg_restore against the configured database (its password from the
    environment, never on a command line)."""
    found = shutil.which(program) or _newest(program)
    db = connection.settings_dict
    env = os.environ | {"PGPASSWORD": db.get("PASSWORD") or "", "PGHOST": db.get("HOST") or "",
                        "PGPORT": str(db.get("PORT") or ""), "PGUSER": db.get("USER") or "",
                        "PGDATABASE": db["NAME"]}  # fmt: skip
    done = subprocess.run([found, *args], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise OutputError(f"{program} mislukte: {done.stderr.strip()[-300:]}", file=db["NAME"])


def _newest(program: str) -> str:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{program}"),
                   key=lambda p: int(p.parts[4]))  # fmt: skip
    if not found:
        raise OutputError(f"{program} ontbreekt", file=program,
                          hint="apt-get install postgresql-client")  # fmt: skip
    return str(found[-1])


# --- restore ---------------------------------------------------------------------------------


def restore(backup: Path) -> dict[str, Any]:
    """This installation made again from ``backup``; what the backup said of itself."""
    with _staging() as stage:
        manifest = _unpacked(backup, stage)
        _refuse_unless_empty()
        if manifest["databank"] != connection.vendor:
            raise InputError(
                f"deze reservekopie is van een {manifest['databank']}-databank, deze installatie "
                f"gebruikt {connection.vendor}", file=backup,
                hint="herstel in een installatie met hetzelfde soort databank")  # fmt: skip
        _restore_database(stage)
        Path(settings.SHARED).mkdir(parents=True, exist_ok=True)
        if (stage / SEND_LOG).is_file():
            _sqlite_copy(stage / SEND_LOG, service.send_log())
        for name in SHARED_FOLDERS:
            if (stage / "gedeeld" / name).is_dir():
                shutil.copytree(stage / "gedeeld" / name, Path(settings.SHARED) / name)
        manifest["inhoud"] = _restore_content(stage / "inhoud")
    audit(SYSTEM, "hersteld", detail=f"uit {backup.name}, gemaakt {manifest['gemaakt']}")
    return manifest


def _unpacked(backup: Path, stage: Path) -> dict[str, Any]:
    """The backup's members in ``stage``, each checked against the manifest."""
    try:
        with tarfile.open(backup) as tar:
            tar.extractall(stage, filter="data")
        manifest = json.loads((stage / MANIFEST).read_text())
    except (OSError, tarfile.TarError, ValueError, KeyError) as exc:
        raise InputError(f"geen leesbare reservekopie ({exc})", file=backup,
                         hint="kies een bestand dat 'reservekopie' maakte") from None  # fmt: skip
    for name, expected in manifest["bestanden"].items():
        if not (stage / name).is_file() or sha256_of(stage / name) != expected:
            raise InputError(f"'{name}' ontbreekt of is beschadigd: er is niets hersteld",
                             file=backup, hint="neem een andere reservekopie")  # fmt: skip
    return dict(manifest)


def _refuse_unless_empty() -> None:
    try:
        events = AuditEvent.objects.exists()
    except DatabaseError:  # no tables yet: a new database
        events = False
    shared = Path(settings.SHARED)
    taken = [n for n in SHARED_FOLDERS if (shared / n).is_dir() and any((shared / n).iterdir())]
    if events or taken or service.send_log().exists():
        what = "de databank heeft al gebeurtenissen" if events else f"{shared} is niet leeg"
        raise InputError(f"herstellen kan alleen in een lege installatie: {what}",
                         file=shared if not events else "DATABASE_URL",
                         hint="een nieuwe, lege databank en een lege gedeelde map "
                         "(docs/install.md, 'Reservekopie'); er is niets veranderd")  # fmt: skip


def _restore_database(stage: Path) -> None:
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        with closing(sqlite3.connect(stage / "databank.sqlite3")) as source:
            source.backup(connection.connection)
        connection.close()
        return
    name = connection.settings_dict["NAME"]
    _postgres("pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges",
              "--single-transaction", "--exit-on-error", "-d", name,
              str(stage / "databank.dump"))  # fmt: skip
    connection.close()


def _restore_content(backed_up: Path) -> str:
    """The content folder from the backup, unless this one has leaflets of its own: then the
    backup's copy is put beside the data, and said where."""
    content = Path(settings.ROOT)
    if not backed_up.is_dir():
        return "niet in de reservekopie"
    if (content / "leaflets").is_dir() and any((content / "leaflets").iterdir()):
        aside = Path(settings.DATA) / f"inhoud-uit-reservekopie-{timezone.now():%Y%m%d%H%M%S}"
        shutil.copytree(backed_up, aside)
        return f"{content} heeft al folders: niet overschreven; die van de reservekopie: {aside}"
    for folder in backed_up.iterdir():
        shutil.copytree(folder, content / folder.name, dirs_exist_ok=True)
    return f"hersteld in {content}"
