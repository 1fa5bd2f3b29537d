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
- ``gedeeld/``: the shared folder's ``dagen/``, ``lijsten/``, ``folders/`` and ``koppeling/``
  (the appointment feed's messages), as retention left them (a backup holds patients' data
  for at most the retention period plus its own age);
- ``inhoud/``: the content folder's ``leaflets/`` and ``config/`` (and ``templates/`` and
  ``styles/`` when it has its own), and its history (``.git``: every approved version) once
  the browser began one.

Not in it: the hospital's key file (it must be backed up apart: beside the send log it would
undo the keyed hashes) and the secret key; both are settings the restored machine has.

Guarantees:
- The file appears whole or not at all (written under a temporary name, read back and checked
  against its manifest, then renamed); a stopped backup (SIGTERM, Ctrl-C) leaves nothing.
  Files that change while it runs are copied as they were when read (a temporary ``.part``
  file, or one deleted meanwhile, is left out).
- The send log is copied last, after the database: a message sent while the backup ran is in
  the restored send log even when the restored database does not know of it, so it is never
  sent again.
- A restore checks every member against the manifest before it changes anything (and takes
  only the members the manifest lists), restores only into an empty installation (no audit
  event in the database, no file in the shared folder's days, lists or leaflets, no send log)
  or one whose restore of the same backup was interrupted (it is simply run again), the
  database last. It replaces a content folder only when that is the untouched example
  (``leafletpress init``); one with the hospital's own leaflets is kept, the backup's put
  beside it. The command then migrates (a backup of an older release) and runs retention (what
  expired since the backup is deleted at once). Both are audit events; the restored audit log
  is the one backed up, whole.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from .. import __version__
from ..common.errors import InputError, OutputError, output_error
from ..common.files import sha256_of
from ..common.project import Project, shipped
from ..content import history as content_history
from . import service
from .models import SYSTEM, AuditEvent, audit

SHARED_FOLDERS = ("dagen", "lijsten", "folders", "koppeling")  # the last: the feed's messages
CONTENT_FOLDERS = ("leaflets", "config", "templates", "styles")
SEND_LOG = "verzendlog.sqlite"
MANIFEST = "manifest.json"
DATABASES = {"sqlite": "databank.sqlite3", "postgresql": "databank.dump"}
# In the shared folder while a restore runs or after it stopped: the backup (by its checksums)
# and what was decided for the content folder, so that running it again finishes it.
RESTORING = ".herstel-bezig"


@contextmanager
def interruptible() -> Iterator[None]:
    """SIGTERM and SIGHUP (a closed terminal) as Ctrl-C: the command stops with its
    ``finally`` blocks run (nothing left behind)."""

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def make(folder: Path) -> Path:
    """A backup of this installation in ``folder``; its path."""
    now = timezone.localtime()
    sums: dict[str, str] = {}
    try:
        with _staging() as stage, _written(folder, now) as (temporary, named):
            with tarfile.open(temporary, "w") as tar:
                for prefix, top, names, follow in (
                    ("gedeeld", Path(settings.SHARED), SHARED_FOLDERS, False),
                    ("inhoud", Path(settings.ROOT), _content_folders(), True),  # links followed
                ):  # fmt: skip
                    for path, name in _files(top, names, follow):
                        _add_read(tar, sums, path, f"{prefix}/{name}")
                _add_copy(tar, sums, _dump_database(stage))
                if service.send_log().is_file():  # last: see the guarantees
                    _add_copy(tar, sums, _sqlite_copy(service.send_log(), stage / SEND_LOG))
                manifest = stage / MANIFEST
                manifest.write_text(json.dumps(_description(now, sums), indent=2))
                tar.add(manifest, MANIFEST)
            _check(temporary, sums)
    except OSError as exc:
        raise output_error(exc, "de reservekopie kon niet geschreven worden", folder) from None
    audit(SYSTEM, "reservekopie", detail=f"{named[0].name}: {len(sums)} bestanden")
    return named[0]


def _content_folders() -> tuple[str, ...]:
    """The content folder's folders, and its history (``.git``: who approved what, when and
    why) once the browser began one; never leafletpress's own repository."""
    history_begun = content_history.enabled(service.project())
    return (*CONTENT_FOLDERS, ".git") if history_begun else CONTENT_FOLDERS


def _description(now: Any, sums: dict[str, str]) -> dict[str, Any]:
    return {
        "leafletpress": __version__, "gemaakt": now.isoformat(),
        "databank": connection.vendor, "bewaartermijn_dagen": settings.RETENTION_DAYS,
        "auditgebeurtenissen": AuditEvent.objects.count(), "bestanden": sums,
    }  # fmt: skip


def _files(top: Path, names: tuple[str, ...], follow: bool) -> Iterator[tuple[Path, str]]:
    """The regular files under ``top``'s folders ``names`` (each may itself be a link) and
    their names from there; links inside only when ``follow`` (the content folder, a checkout's
    links); never a temporary ``.part`` file."""
    for name in names:
        folder = top / name
        if not folder.is_dir():
            continue
        root = folder.resolve()  # dagen/ may be a link to another volume; inside, no link is
        for base, dirs, files in os.walk(root, followlinks=follow):
            dirs.sort()
            for file in sorted(files):
                path = Path(base) / file
                if (follow or not path.is_symlink()) and not file.endswith(".part"):
                    yield path, f"{name}/{path.relative_to(root)}"


def _add_read(tar: tarfile.TarFile, sums: dict[str, str], path: Path, name: str) -> None:
    """A file as read once: what is hashed is what is written, even while it changes."""
    try:
        data = path.read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        return  # deleted meanwhile (retention, a worker's finished temporary file)
    member = tarfile.TarInfo(name)
    member.size, member.mtime, member.mode = len(data), int(time.time()), 0o600
    tar.addfile(member, io.BytesIO(data))
    sums[name] = hashlib.sha256(data).hexdigest()


def _add_copy(tar: tarfile.TarFile, sums: dict[str, str], path: Path) -> None:
    """A copy of ours in the staging folder (the database, the send log): it stays still."""
    tar.add(path, path.name, recursive=False)
    sums[path.name] = sha256_of(path)


def _check(tar_path: Path, sums: dict[str, str]) -> None:
    """The written file read back: every member there, as hashed."""
    with tarfile.open(tar_path) as tar:
        for name, expected in sums.items():
            found = tar.extractfile(name)
            if found is None or hashlib.file_digest(found, "sha256").hexdigest() != expected:
                raise OutputError(f"'{name}' werd niet goed geschreven", file=tar_path)


@contextmanager
def _staging() -> Iterator[Path]:
    """A private folder in this machine's data folder (never the system's /tmp); retention
    deletes one a stopped process left."""
    stage = Path(tempfile.mkdtemp(prefix="reservekopie-", dir=settings.FILE_UPLOAD_TEMP_DIR))
    try:
        yield stage
    finally:
        shutil.rmtree(stage, ignore_errors=True)


@contextmanager
def _written(folder: Path, now: Any) -> Iterator[tuple[Path, list[Path]]]:
    """A temporary file in ``folder``, and a list that gets the name it has once whole (never
    another backup's, also of one started in the same second)."""
    if not folder.is_dir():
        raise InputError("deze map bestaat niet", file=folder,
                         hint="maak ze, van de gebruiker leafletpress: install -d -m 0700 "
                         "-o leafletpress -g leafletpress MAP")  # fmt: skip
    handle, name = tempfile.mkstemp(
        dir=folder, prefix=".leafletpress-reservekopie-", suffix=".deel"
    )
    os.close(handle)
    temporary = Path(name)
    named: list[Path] = []
    try:
        yield temporary, named
        with open(temporary, "rb") as done:
            os.fsync(done.fileno())
        stem, number = f"leafletpress-reservekopie-{now:%Y-%m-%d-%H%M%S}", 1
        while True:  # a name no other backup has, claimed at once (a link fails if it exists)
            target = folder / (f"{stem}.tar" if number == 1 else f"{stem}-{number}.tar")
            try:
                os.link(temporary, target)
                named.append(target)
                break
            except FileExistsError:
                number += 1
    finally:
        temporary.unlink(missing_ok=True)


def _sqlite_copy(source: Path, target: Path) -> Path:
    """SQLite's online backup: consistent while other processes write."""
    reading = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    with closing(reading) as db, closing(sqlite3.connect(target)) as out:
        db.backup(out)
    return target


def _dump_database(stage: Path) -> Path:
    target = stage / DATABASES[connection.vendor]
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        with closing(sqlite3.connect(target)) as out:
            connection.connection.backup(out)
        return target
    _postgres("pg_dump", "--format=custom", "--no-owner", "--no-privileges",
              f"--file={target}")  # fmt: skip
    return target


# libpq's variables for what DATABASE_URL's query may set (sslmode=verify-full&sslrootcert=…)
_LIBPQ = {"sslmode": "PGSSLMODE", "sslrootcert": "PGSSLROOTCERT", "sslcert": "PGSSLCERT",
          "sslkey": "PGSSLKEY", "sslcrl": "PGSSLCRL", "connect_timeout": "PGCONNECT_TIMEOUT",
          "target_session_attrs": "PGTARGETSESSIONATTRS"}  # fmt: skip


def _postgres(program: str, *args: str) -> None:
    """pg_dump or pg_restore against the configured database, as the app connects to it (its
    TLS options too; the password from the environment, never on a command line)."""
    found = shutil.which(program) or _newest(program)
    db = connection.settings_dict
    env = os.environ | {"PGPASSWORD": db.get("PASSWORD") or "", "PGHOST": db.get("HOST") or "",
                        "PGPORT": str(db.get("PORT") or ""), "PGUSER": db.get("USER") or "",
                        "PGDATABASE": db["NAME"]}  # fmt: skip
    env |= {_LIBPQ[k]: str(v) for k, v in (db.get("OPTIONS") or {}).items() if k in _LIBPQ}
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
        if manifest["databank"] != connection.vendor:
            raise InputError(
                f"deze reservekopie is van een {manifest['databank']}-databank, deze installatie "
                f"gebruikt {connection.vendor}", file=backup,
                hint="herstel in een installatie met hetzelfde soort databank")  # fmt: skip
        shared = Path(settings.SHARED)
        marker = _refuse_unless_empty(shared, manifest["sha256"])
        for name in SHARED_FOLDERS:
            if (stage / "gedeeld" / name).is_dir():
                shutil.copytree(stage / "gedeeld" / name, shared / name, dirs_exist_ok=True)
        if (stage / SEND_LOG).is_file():
            _sqlite_copy(stage / SEND_LOG, service.send_log())
        manifest["inhoud"] = _restore_content(stage / "inhoud", marker)
        _restore_database(stage)  # last, whole or not: until then the database is empty
        call_command("migrate", verbosity=0)  # a backup of an older release
        audit(SYSTEM, "hersteld", detail=f"uit {backup.name}, gemaakt {manifest['gemaakt']}")
        (shared / RESTORING).unlink()
    return manifest


def restoring() -> bool:
    """Whether a restore is under way (or was interrupted): no worker may start then."""
    return (Path(settings.SHARED) / RESTORING).exists()


def _unpacked(backup: Path, stage: Path) -> dict[str, Any]:
    """The members the manifest lists, in ``stage``, each checked against it."""
    unreadable = InputError("geen leesbare reservekopie van leafletpress", file=backup,
                            hint="kies een bestand dat 'reservekopie' maakte")  # fmt: skip
    try:
        with tarfile.open(backup) as tar:
            listed = tar.extractfile(MANIFEST)
            manifest = json.loads(listed.read()) if listed else None
            if not _complete(manifest):
                raise unreadable
            sums = manifest["bestanden"]
            manifest["sha256"] = hashlib.sha256(
                json.dumps(sums, sort_keys=True).encode()
            ).hexdigest()
            tar.extractall(stage, members=[m for m in tar.getmembers() if m.name in sums],
                           filter="data")  # fmt: skip
    except (OSError, tarfile.TarError, ValueError, KeyError) as exc:
        raise InputError(f"geen leesbare reservekopie ({exc})", file=backup,
                         hint="kies een bestand dat 'reservekopie' maakte") from None  # fmt: skip
    for name, expected in sums.items():
        if not (stage / name).is_file() or sha256_of(stage / name) != expected:
            raise InputError(f"'{name}' ontbreekt of is beschadigd: er is niets hersteld",
                             file=backup, hint="neem een andere reservekopie")  # fmt: skip
    return dict(manifest)


def _complete(manifest: Any) -> bool:
    """A manifest as ``make`` writes it, with its database."""
    return (
        isinstance(manifest, dict) and isinstance(manifest.get("gemaakt"), str)
        and manifest.get("databank") in DATABASES and isinstance(manifest.get("bestanden"), dict)
        and DATABASES[manifest["databank"]] in manifest["bestanden"]
        and all(isinstance(v, str) for v in manifest["bestanden"].values())
    )  # fmt: skip


def _refuse_unless_empty(shared: Path, backup: str) -> dict[str, str]:
    """The restore's marker, written: the database must be empty (also on a retry: it is
    restored last and whole), the shared folder too unless this very backup's restore was
    interrupted there (then it goes on)."""
    marker = shared / RESTORING
    ongoing = json.loads(marker.read_text()) if marker.is_file() else None
    if AuditEvent._meta.db_table in connection.introspection.table_names():
        events = AuditEvent.objects.exists()  # (a database that does not answer: its error)
    else:
        events = False  # a new database, without tables
    hint = ("een nieuwe, lege databank en een lege gedeelde map (docs/install.md, 9. Backup "
            "and restore); er is niets veranderd")  # fmt: skip
    if events:
        raise InputError("herstellen kan alleen in een lege installatie: de databank heeft al "
                         "gebeurtenissen", file="DATABASE_URL", hint=hint)  # fmt: skip
    if ongoing is not None and ongoing.get("reservekopie") != backup:
        raise InputError(f"een herstel van een andere reservekopie werd onderbroken ({RESTORING} "
                         "in de gedeelde map)", file=shared, hint="herstel die opnieuw, of "
                         "begin met een lege gedeelde map")  # fmt: skip
    taken = [n for n in SHARED_FOLDERS
             if any(p.is_file() or p.is_symlink() for p in (shared / n).rglob("*"))]  # fmt: skip
    if ongoing is None and (taken or service.send_log().exists()):
        raise InputError(f"herstellen kan alleen in een lege installatie: {shared} is niet "
                         "leeg", file=shared, hint=hint)  # fmt: skip
    ongoing = ongoing or {"reservekopie": backup}
    shared.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps(ongoing))
    return ongoing


def _restore_database(stage: Path) -> None:
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        with closing(sqlite3.connect(stage / DATABASES["sqlite"])) as source:
            source.backup(connection.connection)
        connection.close()
        return
    name = connection.settings_dict["NAME"]
    _postgres("pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges",
              "--single-transaction", "--exit-on-error", "-d", name,
              str(stage / DATABASES["postgresql"]))  # fmt: skip
    connection.close()


def _restore_content(backed_up: Path, marker: dict[str, str]) -> str:
    """The content folder from the backup, unless this one has the hospital's own leaflets:
    then the backup's copy is put beside the data, and said where. The decision is kept in the
    restore's marker, so a retry finishes what it began."""
    content = Path(settings.ROOT)
    folders = [backed_up / n for n in (*CONTENT_FOLDERS, ".git") if (backed_up / n).is_dir()]
    if not folders:
        return "niet in de reservekopie"
    if "inhoud" not in marker:
        same = all(_same_files(content / f.name, f) for f in folders)
        example = Project(shipped("leaflets").parent)
        own = [n for n in ("leaflets", "config")
               if (content / n).is_dir() and any((content / n).iterdir())
               and not _same_files(content / n, example.root / n)]  # fmt: skip
        marker["inhoud"] = "gelijk" if same else "ernaast" if own else "vervangen"
        (Path(settings.SHARED) / RESTORING).write_text(json.dumps(marker))
    if marker["inhoud"] == "gelijk":
        return f"{content} is al gelijk aan die van de reservekopie"
    if marker["inhoud"] == "ernaast":
        aside = Path(settings.DATA) / f"inhoud-uit-reservekopie-{timezone.now():%Y%m%d%H%M%S}"
        shutil.copytree(backed_up, aside, dirs_exist_ok=True)
        return (
            f"{content} heeft al eigen folders: niet overschreven; die van de reservekopie: {aside}"
        )
    for folder in folders:  # the untouched example that 'init' began: each folder swapped whole
        new, old = content / f".{folder.name}.herstel", content / f".{folder.name}.oud"
        shutil.rmtree(new, ignore_errors=True)  # of an interrupted try
        shutil.rmtree(old, ignore_errors=True)
        shutil.copytree(folder, new)
        if folder.name == ".git":  # a backup keeps no empty folder; git needs these
            for name in ("refs/heads", "refs/tags", "objects"):
                (new / name).mkdir(parents=True, exist_ok=True)
        if (content / folder.name).is_symlink():
            raise InputError("een link, geen map: niet vervangen", file=content / folder.name)
        if (content / folder.name).exists():
            os.replace(content / folder.name, old)
        os.replace(new, content / folder.name)
        shutil.rmtree(old, ignore_errors=True)
    return f"hersteld in {content}"


def _same_files(one: Path, other: Path) -> bool:
    def listed(top: Path) -> dict[str, bytes]:
        return {str(p.relative_to(top)): p.read_bytes() for p in top.rglob("*") if p.is_file()}

    return other.is_dir() and listed(one) == listed(other)
