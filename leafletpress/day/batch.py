"""Running a clinic day: the planned leaflets rendered in parallel and resumably (``workers``,
``journal``), then per day folder one print file per site and the manifest (``finish``).

Print files and manifest are rebuilt from the files on disk at the end, so an interrupted run
followed by a resumed one gives the same outputs as one that ran through.

Several machines can share one day: each makes some of its rows with ``render_part`` (no
lock: whoever hands out the rows, the web app's database, keeps them apart), and then one
``run_batch`` with ``parts_made`` finds every leaflet journaled and makes the print files and
manifest.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Collection
from concurrent.futures import Executor, as_completed
from concurrent.futures.process import BrokenProcessPool
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ..common.errors import LeafletpressError
from ..common.files import own_folder
from ..common.project import Edition, Project
from ..content.registry import Registry
from ..pdf.compose import Composer
from ..visit.daylist import DayList
from ..visit.plan import Entry, Plan
from . import workers
from .finish import DayFinisher
from .journal import Journal, clean_parts, inputs_digest, locked
from .workers import Result, Task, Workers

Progress = Callable[[int, int], None]  # (leaflets done, leaflets in all)


@dataclass
class Outcome:
    """What a batch did, for the summary line."""

    made: int = 0
    unchanged: int = 0
    failed: list[tuple[int, str]] = field(default_factory=list)  # (row, problem)
    print_files: list[Path] = field(default_factory=list)
    manifests: list[Path] = field(default_factory=list)
    strays: list[Path] = field(default_factory=list)  # PDFs in a day folder not in this list


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
    on_progress: Progress | None = None,
    parts_made: bool = False,
    earlier: Collection[int] | None = None,
) -> Outcome:
    """Make every planned leaflet, then the print files and manifest of each day folder.
    ``parts_made``: the leaflets already journaled were made for this very run, by
    ``render_part``: the manifest counts them as made, not as unchanged. ``earlier``: the
    list corrects an earlier one made in the same folder; these rows are the same in both
    (journaled: 'unchanged'), and a print file per site holds what the correction made."""
    started = datetime.now().astimezone()
    folders = sorted({(out_dir / e.file).parent for e in plan.entries})
    inputs = inputs_digest(project)
    with ExitStack() as stack:
        for folder in folders:
            stack.enter_context(locked(out_dir, folder))
            clean_parts(folder)
        run = _Run(plan, out_dir, {folder: Journal(folder) for folder in folders}, on_progress)
        found = "made" if parts_made else "unchanged"
        tasks = run.skip_unchanged(inputs, edition, force, found, earlier or ())
        composer = Composer(project, registry)
        wanted = jobs or os.cpu_count() or 1
        merged = side_by_side(plan, out_dir)
        pool = stack.enter_context(Workers(str(project.root), wanted, len(tasks), merged))
        run.render(pool.executor, str(project.root), run.chunks(tasks, composer, wanted))
        finish = DayFinisher(
            day, plan, run.results, registry, composer, pool.executor, str(project.root),
            edition, separators, corrected=earlier is not None, code=inputs,
        )  # fmt: skip
        finished = datetime.now().astimezone()
        outcome = Outcome()
        for folder in folders:
            done = finish(folder, started, finished)
            run.journals[folder].compact(done.names)
            outcome.print_files += done.print_files
            outcome.manifests += done.manifests
            outcome.strays += done.strays
    return run.tally(outcome)


def side_by_side(plan: Plan, out_dir: Path) -> int:
    """The leaflets in print files built side by side (by workers): all, when the day has
    more than one campus."""
    sites = len({((out_dir / e.file).parent, e.p.visit.site) for e in plan.entries})
    return len(plan.entries) if sites > 1 else 0


def render_part(
    plan: Plan,
    rows: Collection[int],
    project: Project,
    registry: Registry,
    out_dir: Path,
    edition: Edition,
    *,
    on_progress: Progress | None = None,
    before_each: Callable[[], None] | None = None,
) -> dict[int, Result]:
    """Make the leaflets of ``rows`` in this process, each journaled as soon as it is written;
    no print files, no manifest, no lock. A row whose leaflet is journaled already (made by
    a machine that stopped mid-part) is 'unchanged': it is never made twice. ``before_each``
    runs before each leaflet and may stop the part by raising (its owner changed)."""
    part = Plan([e for e in plan.entries if e.row in rows])
    folders = sorted({(out_dir / e.file).parent for e in part.entries})
    journals = {own_folder(folder, out_dir): Journal(folder) for folder in folders}
    run = _Run(part, out_dir, journals, on_progress)
    tasks = run.skip_unchanged(inputs_digest(project), edition, force=False)
    composer = Composer(project, registry)
    run.progress()  # in this process; the caller stops it between two (``before_each``)

    def journaled(result: Result) -> None:
        run.results[result.row] = result
        run.progress()

    for chunk in run.chunks(tasks, composer, 1):
        workers.render_tasks(str(project.root), chunk, before_each, journaled)
    return run.results


@dataclass
class _Run:
    """The leaflets of one batch run: which to skip, which to render, and their results."""

    plan: Plan
    out_dir: Path
    journals: dict[Path, Journal]
    on_progress: Progress | None
    results: dict[int, Result] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.entries: dict[int, Entry] = {e.row: e for e in self.plan.entries}

    def skip_unchanged(
        self, inputs: str, edition: Edition, force: bool, found: str = "unchanged",
        earlier: Collection[int] = (),
    ) -> list[Task]:  # fmt: skip
        """Tasks for the leaflets not already made from the same input; the others get the
        status ``found`` ('unchanged' for the rows in ``earlier``). The patient's PDF depends
        on the layout, not on booklet imposition."""
        base = inputs + edition.layout + str(edition.archive)
        tasks = []
        for entry in self.plan.entries:
            target = self.out_dir / entry.file
            fingerprint = hashlib.sha256(
                (base + entry.p.visit.model_dump_json()).encode()
            ).hexdigest()
            record = None if force else self.journals[target.parent].is_done(target, fingerprint)
            if record:
                status = "unchanged" if entry.row in earlier else found
                self.results[entry.row] = Result(
                    entry.row, status, record["pages"], record["sha256"]
                )
            else:
                visit, lang = entry.p.visit, entry.p.leaflet.lang
                layout, archive = edition.layout, edition.archive
                task = Task(entry.row, visit, lang, layout, archive, str(target), fingerprint,
                            inputs)  # fmt: skip
                tasks.append(task)
        return tasks

    def chunks(self, tasks: list[Task], composer: Composer, count: int) -> list[list[Task]]:
        """The tasks in chunks for the workers, grouped by identical leaflet text."""
        keys = {
            t.row: hashlib.sha256(composer.leaflet(self.entries[t.row].p).encode()).hexdigest()
            for t in tasks
        }
        return workers.chunks(tasks, keys, count)

    def render(self, executor: Executor, root: str, chunks: list[list[Task]]) -> None:
        """Render every chunk (the workers journal each leaflet as it is written)."""
        self.progress()
        futures = [executor.submit(workers.render_tasks, root, chunk) for chunk in chunks]
        try:
            for future in as_completed(futures):
                self.results.update((r.row, r) for r in future.result())
                self.progress()
        except BrokenProcessPool:
            raise LeafletpressError(
                "een werkproces stopte onverwacht (te weinig geheugen of afgebroken?)",
                hint="start dezelfde opdracht opnieuw: wat klaar was, wordt niet opnieuw gemaakt",
            ) from None
        except BaseException:
            for future in futures:
                future.cancel()
            raise

    def progress(self) -> None:
        if self.on_progress:
            self.on_progress(len(self.results), len(self.plan.entries))

    def tally(self, outcome: Outcome) -> Outcome:
        for row, result in sorted(self.results.items()):
            if result.status == "made":
                outcome.made += 1
            elif result.status == "unchanged":
                outcome.unchanged += 1
            else:
                outcome.failed.append((row, result.problem or ""))
        return outcome
