"""Running a clinic day: the planned leaflets rendered in parallel and resumably, then per day
folder one print file per site and the manifest.

Resuming: after a leaflet is written (atomically), a line goes into the day folder's journal
(``.journal.jsonl``): its file name, fingerprint and SHA-256. The fingerprint hashes the row's
visit, the paper format and every leaflet, config, template and style file. A later run skips
a leaflet whose file is still there, unchanged, under the same fingerprint; anything else is
rendered again. Print files and manifest are rebuilt from the files on disk at the end, so an
interrupted run followed by a resumed one gives the same outputs as one that ran through.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import multiprocessing
import os
import signal
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import __version__
from ..common.errors import LeafletpressError, OutputError
from ..common.files import sha256_of, write_atomic
from ..common.project import Edition, Project
from ..content.leaflet import load_leaflet
from ..content.registry import Registry, load_registry
from ..pdf.compose import Composer
from ..printing.printfile import build_print_file
from ..visit.appointment import Visit, parse_date
from ..visit.daylist import DayList
from ..visit.personalise import personalise
from ..visit.plan import Entry, Plan
from .manifest import write_manifest

if TYPE_CHECKING:
    from ..pdf.render import Renderer

JOURNAL = ".journal.jsonl"
LOCK = ".lock"
PRINT_PREFIX = "print-"
# A print file holds at most this many leaflets (about 300 sheets, a printer's paper tray);
# a bigger campus day gets print-<site>-1.pdf, -2, ... This also bounds the memory it takes.
PRINT_PART_LEAFLETS = 100
MIN_CHUNK = 6  # below this many leaflets, starting worker processes costs more than it saves


@dataclass(frozen=True)
class Task:
    row: int
    visit: Visit
    lang: str
    layout: str
    archive: bool
    path: str  # where to write, absolute


@dataclass(frozen=True)
class Result:
    row: int
    status: str  # made | unchanged | failed
    pages: int = 0
    sha256: str = ""
    problem: str | None = None


@dataclass
class Outcome:
    """What a batch did, for the summary line."""

    made: int = 0
    unchanged: int = 0
    failed: list[tuple[int, str]] = field(default_factory=list)  # (row, problem)
    print_files: list[Path] = field(default_factory=list)
    manifests: list[Path] = field(default_factory=list)
    strays: list[Path] = field(default_factory=list)  # PDFs in a day folder not in this list


# --- worker side: one warm Renderer per process ------------------------------------------

_renderer: Renderer | None = None
_leaflets: dict[tuple[str, str], Any] = {}


def _init_renderer(root: str) -> Renderer:
    global _renderer
    if _renderer is None or str(_renderer.project.root) != root:
        from ..pdf.render import Renderer, tune_gc

        project = Project(Path(root))
        _renderer = Renderer(project, load_registry(project))
        _leaflets.clear()
        tune_gc()
    return _renderer


def _start_worker(root: str) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's: it stops cleanly
    _init_renderer(root)


def _render_tasks(root: str, tasks: list[Task]) -> list[Result]:
    renderer = _init_renderer(root)
    results = []
    for task in tasks:
        try:
            key = (task.visit.leaflet, task.lang)
            if key not in _leaflets:
                _leaflets[key] = load_leaflet(renderer.project, *key)
            p = personalise(task.visit, _leaflets[key], renderer.composer.registry)
            rendered = renderer.render(p, task.layout, task.archive)
            write_atomic(Path(task.path), rendered.pdf)
            digest = hashlib.sha256(rendered.pdf).hexdigest()
            results.append(Result(task.row, "made", rendered.pages, digest))
        except LeafletpressError as exc:
            results.append(Result(task.row, "failed", problem=str(exc)))
        except Exception as exc:  # a bug: keep going with the other patients, report it
            problem = f"interne fout ({type(exc).__name__}: {exc}); meld dit als programmafout"
            results.append(Result(task.row, "failed", problem=problem))
    return results


def _print_task(
    root: str,
    target: str,
    leaflets: list[str],
    title: str,
    separators: str | None,
    edition: Edition,
) -> tuple[int, str, list[int]]:
    """Build one print file; returns its page count, SHA-256 and each leaflet's first page."""
    sheets = None
    if separators:  # on the print file's paper: A4 for booklets
        layout = "a4" if edition.booklet else edition.layout
        sheets = _init_renderer(root).pdf(separators, layout).pdf
    built = build_print_file([Path(f) for f in leaflets], title, sheets, edition.booklet)
    write_atomic(Path(target), built.pdf)
    return built.pages, hashlib.sha256(built.pdf).hexdigest(), [p.first_page for p in built.placed]


class _InProcess(Executor):
    """Runs tasks in this process: for small batches, where starting workers costs more."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            future.set_exception(exc)
        return future


# --- parent side ------------------------------------------------------------------------


def inputs_digest(project: Project) -> str:
    """A hash of everything a leaflet is made from, besides the row itself."""
    digest = hashlib.sha256(__version__.encode())
    tops = (project.leaflets_dir, project.config_dir, project.templates_dir, project.styles_dir)
    for top in tops:
        for path in sorted(top.rglob("*")):
            if path.is_file():
                digest.update(str(path.relative_to(project.root)).encode() + b"\0")
                digest.update(path.read_bytes())
    return digest.hexdigest()


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """One batch at a time per day folder."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / LOCK, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OutputError(
                "een andere batch schrijft al in deze map",
                file=folder,
                hint="wacht tot die klaar is en start dan opnieuw",
            ) from None
        yield


class _Journal:
    """Finished leaflets of a day folder, appended as they are written."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / JOURNAL
        self.done: dict[str, dict[str, Any]] = {}
        if self.path.is_file():
            for line in self.path.read_text(encoding="utf-8").splitlines():
                try:
                    record = json.loads(line)
                    self.done[record["file"]] = record
                except (ValueError, KeyError, TypeError):
                    continue  # a line cut short by a crash: that leaflet is made again

    def is_done(self, file: Path, fingerprint: str) -> dict[str, Any] | None:
        record = self.done.get(file.name)
        unchanged = (
            record is not None
            and record.get("fingerprint") == fingerprint
            and file.is_file()
            and sha256_of(file) == record.get("sha256")
        )
        return record if unchanged else None

    def add(self, records: list[dict[str, Any]]) -> None:
        with open(self.path, "a", encoding="utf-8") as handle:
            for record in records:
                handle.write(json.dumps(record) + "\n")
                self.done[record["file"]] = record
            handle.flush()
            os.fsync(handle.fileno())

    def compact(self, keep: set[str]) -> None:
        lines = "".join(json.dumps(r) + "\n" for f, r in self.done.items() if f in keep)
        write_atomic(self.path, lines.encode("utf-8"))


def _clean_parts(folder: Path) -> None:
    """Remove temporary files left by a run that was killed mid-write."""
    for part in folder.glob(".*.part"):
        part.unlink(missing_ok=True)


def _executor(jobs: int, tasks: int) -> Executor:
    if jobs <= 1 or tasks <= MIN_CHUNK:
        return _InProcess()
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["leafletpress.pdf.render"])  # workers start with it imported
    return ProcessPoolExecutor(max_workers=jobs, mp_context=context)


def _chunks(tasks: list[Task], keys: dict[int, str], workers: int) -> list[list[Task]]:
    """Tasks that share a leaflet text go to one worker, so its layout is made once; groups
    larger than a fair share are split so every core stays busy. Biggest first, so the last
    tasks are small and no core waits long for the others."""
    groups: dict[str, list[Task]] = defaultdict(list)
    for task in tasks:
        groups[keys[task.row]].append(task)
    size = max(MIN_CHUNK, -(-len(tasks) // (workers * 4)))
    ordered = sorted(groups.values(), key=len, reverse=True)
    return [group[i : i + size] for group in ordered for i in range(0, len(group), size)]


def run_batch(
    day: DayList,
    plan: Plan,
    project: Project,
    registry: Registry,
    out_dir: Path,
    edition: Edition,
    *,
    force: bool = False,
    separators: bool = False,
    jobs: int | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> Outcome:
    """Make every planned leaflet, then the print files and manifest of each day folder."""
    started = datetime.now().astimezone()
    outcome = Outcome()
    root = str(project.root)
    # What the patient's PDF depends on (booklets are imposed in the print files only).
    fingerprint_base = inputs_digest(project) + edition.layout + str(edition.archive)
    entries = {e.row: e for e in plan.entries}
    folders = sorted({(out_dir / e.file).parent for e in plan.entries})
    results: dict[int, Result] = {}
    tasks: list[Task] = []
    fingerprints: dict[int, str] = {}
    with ExitStack() as stack:
        for folder in folders:
            stack.enter_context(_locked(folder))
            _clean_parts(folder)
        journals = {folder: _Journal(folder) for folder in folders}
        for entry in plan.entries:
            target = out_dir / entry.file
            fingerprint = hashlib.sha256(
                (fingerprint_base + entry.p.visit.model_dump_json()).encode()
            ).hexdigest()
            fingerprints[entry.row] = fingerprint
            record = None if force else journals[target.parent].is_done(target, fingerprint)
            if record:
                results[entry.row] = Result(
                    entry.row, "unchanged", record["pages"], record["sha256"]
                )
            else:
                tasks.append(
                    Task(
                        entry.row,
                        entry.p.visit,
                        entry.p.leaflet.lang,
                        edition.layout,
                        edition.archive,
                        str(target),
                    )
                )
        composer = Composer(project, registry)
        keys = {
            t.row: hashlib.sha256(composer.leaflet(entries[t.row].p).encode()).hexdigest()
            for t in tasks
        }
        done = len(results)
        if on_progress:
            on_progress(done, len(plan.entries))
        workers = jobs or os.cpu_count() or 1
        executor = stack.enter_context(_executor(workers, len(tasks)))
        chunks = _chunks(tasks, keys, workers)
        futures = [executor.submit(_render_tasks, root, chunk) for chunk in chunks]
        try:
            for future in as_completed(futures):
                chunk_results = future.result()
                made = [r for r in chunk_results if r.status == "made"]
                by_folder: dict[Path, list[dict[str, Any]]] = defaultdict(list)
                for r in made:
                    target = out_dir / entries[r.row].file
                    by_folder[target.parent].append(
                        {
                            "file": target.name,
                            "fingerprint": fingerprints[r.row],
                            "sha256": r.sha256,
                            "pages": r.pages,
                        }
                    )
                for folder, records in by_folder.items():
                    journals[folder].add(records)
                results.update((r.row, r) for r in chunk_results)
                done += len(chunk_results)
                if on_progress:
                    on_progress(done, len(plan.entries))
        except BrokenProcessPool:
            raise LeafletpressError(
                "een werkproces stopte onverwacht (te weinig geheugen of afgebroken?)",
                hint="start dezelfde opdracht opnieuw: wat klaar was, wordt niet opnieuw gemaakt",
            ) from None
        except BaseException:
            for future in futures:
                future.cancel()
            raise

        finished = datetime.now().astimezone()
        finish = _DayFinisher(day, plan, results, registry, composer, executor, root, edition)
        for folder in folders:
            names = finish(folder, separators, started, finished, outcome)
            journals[folder].compact(names)
    for row, result in sorted(results.items()):
        if result.status == "made":
            outcome.made += 1
        elif result.status == "unchanged":
            outcome.unchanged += 1
        else:
            outcome.failed.append((row, result.problem or ""))
    return outcome


@dataclass
class _DayFinisher:
    """Builds a day folder's print files and manifest from the files on disk."""

    day: DayList
    plan: Plan
    results: dict[int, Result]
    registry: Registry
    composer: Composer
    executor: Executor
    root: str
    edition: Edition

    def __post_init__(self) -> None:
        self.source_sha256 = sha256_of(self.day.path)  # once, not per day folder

    def __call__(
        self,
        folder: Path,
        separators: bool,
        started: datetime,
        finished: datetime,
        outcome: Outcome,
    ) -> set[str]:
        """Returns the names of this day's leaflet files."""
        entries = [e for e in self.plan.entries if Path(e.file).parent.name == folder.name]
        names = {Path(e.file).name for e in entries}
        placed, prints = self._print_files(folder, entries, separators, outcome)
        outcome.strays += sorted(
            path
            for path in folder.glob("*.pdf")
            if path.name not in names and not path.name.startswith(PRINT_PREFIX)
        )
        records = [self._record(e, placed.get(e.row)) for e in entries]
        records += self._refused(folder.name)
        records.sort(key=lambda r: r["row"])
        count = defaultdict(int)
        for record in records:
            count[record["status"]] += 1
        batch = {
            "source": self.day.path.name,
            "source_sha256": self.source_sha256,
            "read_as": self.day.source,
            "date": folder.name,
            "started": started.isoformat(timespec="seconds"),
            "finished": finished.isoformat(timespec="seconds"),
            "leafletpress": __version__,
            "format": self.edition.name,
            "separator_sheets": separators,
            "counts": dict(sorted(count.items())),
        }
        outcome.manifests += write_manifest(folder, batch, records, prints)
        return names

    def _print_files(
        self, folder: Path, entries: list[Entry], separators: bool, outcome: Outcome
    ) -> tuple[dict[int, tuple[str, int]], list[dict[str, Any]]]:
        """One print file per site, in appointment order. Returns where each leaflet landed
        (row -> print file, first page) and the print files for the manifest."""
        good = [e for e in entries if self.results[e.row].status != "failed"]
        by_site: dict[str, list[Entry]] = defaultdict(list)
        for entry in sorted(good, key=lambda e: (e.p.visit.time, e.row)):
            by_site[entry.p.visit.site].append(entry)
        parts = []  # (site, file name, leaflets)
        for site, items in sorted(by_site.items()):
            size = PRINT_PART_LEAFLETS
            chunks = [items[i : i + size] for i in range(0, len(items), size)]
            for number, chunk in enumerate(chunks, start=1):
                suffix = f"-{number}" if len(chunks) > 1 else ""
                parts.append((site, f"{PRINT_PREFIX}{site}{suffix}.pdf", chunk))
        futures = []
        for site, name, items in parts:
            site_name = self.registry.sites[site].name
            sheets = None
            if separators:
                sheets = self.composer.separators(
                    site_name, f"{items[0].p.visit.date:%d/%m/%Y}", [self._sheet(e) for e in items]
                )
            future = self.executor.submit(
                _print_task,
                self.root,
                str(folder / name),
                [str(folder / Path(e.file).name) for e in items],
                f"{self.registry.hospital.name} · {site_name} · {folder.name} · {name}",
                sheets,
                self.edition,
            )
            futures.append(future)
        placed: dict[int, tuple[str, int]] = {}
        prints = []
        for (site, name, items), future in zip(parts, futures, strict=True):
            pages, digest, firsts = future.result()
            prints.append({"site": site, "file": name, "pages": pages, "sha256": digest})
            outcome.print_files.append(folder / name)
            for entry, first in zip(items, firsts, strict=True):
                placed[entry.row] = (name, first)
        for old in folder.glob(f"{PRINT_PREFIX}*.pdf"):  # a site no longer on the list
            if old.name not in {p["file"] for p in prints}:
                old.unlink()
        return placed, prints

    def _sheet(self, entry: Entry) -> dict[str, object]:
        visit, meta = entry.p.visit, entry.p.leaflet.meta
        return {
            "name": visit.patient.name,
            "who": entry.who,
            "time": f"{visit.time:%H:%M}",
            "leaflet": meta.title,
            "variant": meta.variants[visit.variant].label,
            "lang": entry.p.leaflet.lang,
            "pages": self.results[entry.row].pages,
        }

    def _record(self, entry: Entry, placed: tuple[str, int] | None) -> dict[str, Any]:
        visit, meta, result = entry.p.visit, entry.p.leaflet.meta, self.results[entry.row]
        return {
            "row": entry.row,
            "status": result.status,
            "reference": entry.who,
            "date": visit.date.isoformat(),
            "time": f"{visit.time:%H:%M}",
            "site": visit.site,
            "leaflet": visit.leaflet,
            "code": meta.code,
            "version": meta.version,
            "variant": visit.variant,
            "language": entry.p.leaflet.lang,
            "file": Path(entry.file).name,
            "pages": result.pages or None,
            "sha256": result.sha256 or None,
            "print_file": placed[0] if placed else None,
            "print_page": placed[1] if placed else None,
            "warnings": list(entry.warnings),
            "problem": result.problem,
        }

    def _refused(self, day_name: str) -> list[dict[str, Any]]:
        """Refused rows of this day; a row without a readable date is listed in every day."""
        problems: dict[int, list[str]] = defaultdict(list)
        for refusal in self.plan.refusals:
            problems[refusal.row].append(refusal.problem)
        rows = {row.number: row for row in self.day.rows}
        records = []
        for number, found in problems.items():
            values = rows[number].values
            try:
                on = parse_date(values.get("date", "")).isoformat()
            except LeafletpressError:
                on = None
            if on not in (None, day_name):
                continue
            records.append(
                {
                    "row": number,
                    "status": "refused",
                    "reference": values.get("reference") or None,
                    "date": values.get("date") or None,
                    "time": values.get("time") or None,
                    "site": values.get("site") or None,
                    "leaflet": values.get("leaflet") or None,
                    "code": None,
                    "version": None,
                    "variant": values.get("variant") or None,
                    "language": values.get("language") or None,
                    "file": None,
                    "pages": None,
                    "sha256": None,
                    "print_file": None,
                    "print_page": None,
                    "warnings": [],
                    "problem": " | ".join(found),
                }
            )
        return records
