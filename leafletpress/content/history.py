"""The content folder's history: every approved version is a git commit by its approver.

Input: a project (the hospital's content folder). Output: commits of approved files, the
versions of a file with who, when and why, a file's text at a version, the version in force
at a moment, a read-only copy of the whole folder at a version (a day is made with the version
it started with; a past leaflet is printed as it was), a folder with drafts laid over the
approved files (to check and preview a draft without touching what is printed), and what in
the folder differs from the last approved version.

Guarantees: the history is an ordinary git repository in the content folder (IT backs it up
and reads it with ``git log``); it is begun only in a folder that is its own, never inside
another repository such as leafletpress's source; one approval at a time (a lock in
``.git``); an approval that fails leaves the files as they were; once the history is begun,
a file that differs from its last approved version is *unapproved*, and ``check``, the
command line and the web app refuse to print it.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ..common.errors import ContentError
from ..common.files import write_atomic
from ..common.project import CHECKOUT, Project

# What the history holds (and so what is printed): the text and the hospital's data.
TRACKED = ("leaflets", "config", "templates", "styles")
_MARK = "leafletpress.inhoud"  # git config key: this repository is a content history
_SHA = re.compile(r"[0-9a-f]{40}")
# Files the browser may change: a leaflet in one language, the campuses, the surgeons, the
# appointment feed's codes.
EDITABLE = re.compile(
    r"leaflets/[a-z0-9][a-z0-9-]{0,59}/(nl|fr|en)\.md|config/(sites|surgeons|koppeling)\.yaml"
)
_LOCK_NAME = "leafletpress.lock"
KEPT = 10  # versions extracted per machine (snapshot): the days being made use one or two


@dataclass(frozen=True)
class Person:
    """Who a commit is by: the account's name, and its user name (as git's e-mail field)."""

    name: str
    username: str

    @property
    def email(self) -> str:
        return f"{self.username}@leafletpress"


@dataclass(frozen=True)
class Version:
    commit: str
    when: datetime
    by: str  # the approver's name
    username: str
    subject: str
    note: str  # the change note: why

    @property
    def short(self) -> str:
        return self.commit[:10]


class HistoryError(ContentError):
    """The history cannot be read or written (git missing, a folder that is not ours)."""


class GitMissing(HistoryError):
    """No git on this machine: a folder with a history cannot say what is approved."""


# Files editors' tools leave beside the text: never taken for an unapproved change.
IGNORED = ("*~", ".*.swp", ".*.swo", "*.bak", ".DS_Store", "Thumbs.db", "*.part", ".*.part")


def _git(project: Project, *args: str, text_in: bytes | None = None,
         env: Mapping[str, str] | None = None) -> bytes:  # fmt: skip
    root = str(project.root.resolve())
    command = ["git", "-C", root, "-c", f"safe.directory={root}", "-c", "core.quotepath=off",
               *args]  # fmt: skip
    try:
        done = subprocess.run(command, input=text_in, capture_output=True, check=False,
                              env={**os.environ, "LC_ALL": "C", "GIT_OPTIONAL_LOCKS": "0",
                                   **(env or {})})  # fmt: skip
    except FileNotFoundError:
        raise GitMissing(
            "git ontbreekt: de geschiedenis van de inhoud kan niet gelezen worden",
            file=project.root,
            hint="installeer git (apt-get install git)",
        ) from None
    if done.returncode != 0:
        said = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise HistoryError(
            f"git {args[0]}: {said[-1] if said else 'mislukt'}",
            file=project.root,
            hint="laat IT de inhoudsmap nakijken (git status)",
        )
    return done.stdout


def enabled(project: Project) -> bool:
    """Whether the content folder keeps its history (it was begun with ``begin``)."""
    if not (project.root / ".git").is_dir():
        return False
    try:
        return _git(project, "config", "--get", _MARK).strip() == b"true"
    except GitMissing:
        raise  # a history we cannot read: nothing is printed rather than anything
    except HistoryError:
        return False


def begin(project: Project, who: Person) -> str:
    """Make the content folder a history (if it is not one yet), its files as they are the
    first version. Refuses leafletpress's own checkout and a folder inside another repository."""
    if enabled(project):
        return head(project)
    if refused := refusal(project):
        raise refused
    root = project.root.resolve()
    _git(project, "init", "--quiet", "--initial-branch=main")  # the same folder again: nothing
    (root / ".git" / "info").mkdir(exist_ok=True)
    (root / ".git" / "info" / "exclude").write_text("\n".join(IGNORED) + "\n")
    with locked(project):  # two first edits at once: one first version
        if not enabled(project):
            present = [name for name in TRACKED if (root / name).is_dir()]
            _git(project, "add", "--", *present)
            _commit(project, who, "Begin van de geschiedenis: de inhoud zoals ze was",
                    allow_empty=True)  # fmt: skip
            _git(project, "config", _MARK, "true")
    return head(project)


def refusal(project: Project) -> HistoryError | None:
    """Why this folder cannot keep a history (leafletpress's own checkout, a folder inside
    another repository), without beginning one; None when it can (or does)."""
    root = project.root.resolve()
    if CHECKOUT is not None and root == CHECKOUT.resolve():
        return HistoryError(
            "de voorbeeldinhoud van leafletpress zelf wordt niet in de browser bewerkt",
            file=root,
            hint="zet LEAFLETPRESS_PROJECT op een eigen inhoudsmap ('leafletpress init MAP'; "
            "make serve doet dat in data/inhoud)",
        )
    if not (root / ".git").exists() and _inside_other(project):
        return HistoryError(
            "de inhoudsmap ligt in een andere git-repository",
            file=root,
            hint="kies een inhoudsmap buiten elke repository",
        )
    return None


def _inside_other(project: Project) -> bool:
    """Inside another repository's work tree, and not a folder it ignores (data/inhoud of a
    checkout, which ``make serve`` uses, is ignored by leafletpress's own repository)."""
    try:
        _git(project, "rev-parse", "--show-toplevel")
    except HistoryError:
        return False
    try:
        _git(project, "check-ignore", "--quiet", str(project.root.resolve()))
    except HistoryError:
        return True  # not ignored (check-ignore answers 1)
    return False


def head(project: Project) -> str:
    return _git(project, "rev-parse", "HEAD").decode().strip()


def _identity(who: Person) -> dict[str, str]:
    now = datetime.now(UTC).isoformat()  # the app's clock, as the audit log's
    return {"GIT_AUTHOR_NAME": who.name, "GIT_AUTHOR_EMAIL": who.email,
            "GIT_COMMITTER_NAME": who.name, "GIT_COMMITTER_EMAIL": who.email,
            "GIT_AUTHOR_DATE": now, "GIT_COMMITTER_DATE": now}  # fmt: skip


def _commit(project: Project, who: Person, message: str, allow_empty: bool = False) -> None:
    _git(project, "commit", "--quiet", "--no-verify", "--file=-",
         *(["--allow-empty"] if allow_empty else []), text_in=message.encode(),
         env=_identity(who))  # fmt: skip


@contextmanager
def locked(project: Project) -> Iterator[None]:
    """One writer of the history at a time, on this machine or another sharing the folder."""
    fd = os.open(project.root / ".git" / _LOCK_NAME, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW,
                 0o600)  # fmt: skip
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def commit(project: Project, changes: Mapping[str, str], who: Person, message: str) -> str:
    """Commit ``changes`` (path in the folder -> text) as ``who``, then write them into the
    folder; the new commit. The commit is made beside the folder's own index (a temporary
    one), so a ``git status`` running meanwhile never stops it, and lands with one atomic
    update of HEAD, or not at all. Stopped after that and before the files are written (a
    killed worker), the folder shows the old files as unapproved until ``settle`` (which
    every later commit runs first) writes them."""
    for path in changes:
        if not EDITABLE.fullmatch(path):
            raise HistoryError(f"'{path}' kan niet in de browser gewijzigd worden", file=path)
    with locked(project):
        settle(project)
        if stray := unapproved(project):
            raise HistoryError(
                f"de inhoudsmap heeft wijzigingen buiten de browser om: {', '.join(stray)}",
                hint="laat IT ze terugzetten (git checkout -- BESTAND), wissen (een nieuw "
                "bestand) of vastleggen (git commit), en probeer opnieuw",
            )
        parent = head(project)
        with tempfile.TemporaryDirectory(dir=project.root / ".git") as scratch:
            index = {"GIT_INDEX_FILE": str(Path(scratch) / "index")}
            _git(project, "read-tree", parent, env=index)
            for path, text in changes.items():
                blob = _git(project, "hash-object", "-w", "--stdin", "--path", path,
                            text_in=text.encode("utf-8")).decode().strip()  # fmt: skip
                _git(project, "update-index", "--add", "--cacheinfo", f"100644,{blob},{path}",
                     env=index)  # fmt: skip
            tree = _git(project, "write-tree", env=index).decode().strip()
        made = _git(project, "commit-tree", tree, "-p", parent, text_in=message.encode(),
                    env=_identity(who)).decode().strip()  # fmt: skip
        _git(project, "update-ref", "-m", "leafletpress: goedgekeurd", "HEAD", made, parent)
        settle(project)
        return made


def settle(project: Project) -> None:
    """Write into the folder the files of commits made by ``commit`` whose writing was
    stopped (a process killed in between), and bring the folder's index up to date."""
    changed = _git(project, "diff", "--name-only", "-z", "HEAD", "--").decode().split("\0")
    for path in filter(None, changed):
        on_disk = project.root / path
        if not EDITABLE.fullmatch(path) or on_disk.is_symlink():
            continue
        last = _git(project, "log", "-1", "--format=%H", "HEAD", "--", path).decode().strip()
        before = text_at(project, last, path, parent=True) if last else None
        try:
            stopped = on_disk.read_text(encoding="utf-8") == before  # the old file, left
        except (FileNotFoundError, UnicodeDecodeError):
            stopped = before is None
        if stopped:  # never a change made by hand since: that stays unapproved
            write_atomic(on_disk, _git(project, "show", f"HEAD:{path}"))
    with contextlib.suppress(HistoryError):  # the index, for people who run git status there
        _git(project, "reset", "--quiet", "HEAD", "--", *_present(project))


def _present(project: Project) -> list[str]:
    return [name for name in TRACKED if (project.root / name).exists()]


def unapproved(project: Project) -> list[str]:
    """The files in the folder that differ from their last approved version (changed, added
    or removed by hand; never an editor's backup file, ``IGNORED``); empty when the history
    is not begun. Compared with the approved version itself (HEAD), not the folder's index."""
    if not enabled(project):
        return []
    present = _present(project)
    if not present:
        return []
    changed = _git(project, "diff", "--name-only", "-z", "HEAD", "--", *present)
    added = _git(project, "ls-files", "--others", "--exclude-standard", "-z", "--", *present)
    return sorted(
        {p for p in (changed + b"\0" + added).decode("utf-8", "replace").split("\0") if p}
    )


def refuse_unapproved(project: Project) -> None:
    """Raise when something in the folder is not approved: nothing unapproved is printed."""
    if stray := unapproved(project):
        raise ContentError(
            f"niet goedgekeurd (gewijzigd buiten de goedkeuring om): {', '.join(stray)}",
            file=project.root,
            hint="laat de wijziging in de browser goedkeuren, of zet ze terug met "
            "'git checkout -- <bestand>' in de inhoudsmap",
        )


_FIELDS = "%H%x1f%aI%x1f%an%x1f%ae%x1f%s%x1f%b%x1e"


def versions(project: Project, path: str | None = None, limit: int = 200) -> list[Version]:
    """Approved versions, newest first: of one file, or of the whole folder."""
    args = ["log", f"--max-count={limit}", f"--format={_FIELDS}", "HEAD"]
    out = _git(project, *args, *(["--", path] if path else [])).decode("utf-8", "replace")
    found = []
    for record in filter(None, (r.strip("\n") for r in out.split("\x1e"))):
        sha, when, name, email, subject, body = record.split("\x1f", 5)
        username = email.removesuffix("@leafletpress")
        found.append(Version(sha, datetime.fromisoformat(when), name, username, subject,
                             _note(body)))  # fmt: skip
    return found


_TRAILER = re.compile(r"[A-Z][A-Za-z-]+: .*")


def _note(body: str) -> str:
    """A commit's body without its trailers (``Concept: …``, ``Geschreven-door: …``)."""
    paragraphs = body.strip().split("\n\n")
    if paragraphs and all(_TRAILER.fullmatch(line) for line in paragraphs[-1].splitlines()):
        paragraphs = paragraphs[:-1]
    return "\n\n".join(paragraphs).strip()


def landed(project: Project, path: str, marker: str) -> str | None:
    """The commit of ``path`` whose message holds ``marker`` (``Concept: <id>``), if any: an
    approval whose commit landed while its process was stopped before it said so."""
    out = _git(project, "log", "-1", "--format=%H", "--fixed-strings", f"--grep={marker}",
               "HEAD", "--", path)  # fmt: skip
    return out.decode().strip() or None


def text_at(project: Project, commit: str, path: str, parent: bool = False) -> str | None:
    """A file's text at a version (or just before it); None if it did not exist then."""
    if not _SHA.fullmatch(commit):
        raise HistoryError(f"onbekende versie '{commit[:40]}'")
    try:
        return _git(project, "show", f"{commit}{'^' if parent else ''}:{path}").decode("utf-8")
    except HistoryError:
        return None


def snapshot(project: Project, commit: str, cache: Path) -> Project:
    """The whole folder as it was at ``commit``, extracted once into ``cache`` (a folder of
    this machine) and then reused: read-only, never changed by a later approval."""
    if not _SHA.fullmatch(commit):
        raise HistoryError(f"onbekende versie '{commit[:40]}'")
    target = cache / commit
    if target.is_dir():
        return Project(target)
    cache.mkdir(mode=0o700, parents=True, exist_ok=True)
    for old in sorted(cache.glob("[0-9a-f]*"), key=lambda p: p.stat().st_mtime)[:-KEPT]:
        shutil.rmtree(old, ignore_errors=True)  # older versions: a day is made in hours
    archive = _git(project, "archive", "--format=tar", commit)
    part = Path(tempfile.mkdtemp(dir=cache, prefix=f".{commit}.", suffix=".part"))
    try:
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r:") as tar:
            tar.extractall(part, filter="data")
        try:
            part.rename(target)
        except OSError:  # another process extracted it at the same moment
            if not target.is_dir():
                raise
    finally:
        shutil.rmtree(part, ignore_errors=True)
    return Project(target)


def overlay(project: Project, drafts: Mapping[str, str], into: Path) -> Project:
    """A folder that reads as the project with ``drafts`` (path -> text) in place of (or
    beside) the approved files: links to everything else. For checking and previewing a draft;
    the content folder itself is never touched."""
    into.mkdir(mode=0o700, parents=True, exist_ok=True)
    root = project.root.resolve()
    for top in TRACKED:
        if (root / top).exists():
            _link_tree(root / top, into / top, {p for p in drafts if p.startswith(f"{top}/")})
    for path, text in drafts.items():
        target = into / path
        if target.is_symlink():
            target.unlink()
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return Project(into)


def _link_tree(source: Path, target: Path, changed: set[str]) -> None:
    """``target`` as a link to ``source``; or, where a changed file lies below it, a real
    folder of links one level deeper."""
    prefix = f"{target.name}/"
    if not changed:
        target.symlink_to(source, target_is_directory=True)
        return
    target.mkdir()
    for child in source.iterdir():
        below = {p.removeprefix(prefix) for p in changed if p.startswith(prefix)}
        inner = {p for p in below if p.startswith(f"{child.name}/")}
        if child.is_dir() and inner:
            _link_tree(child, target / child.name, inner)
        elif child.name not in below:
            (target / child.name).symlink_to(child, target_is_directory=child.is_dir())
