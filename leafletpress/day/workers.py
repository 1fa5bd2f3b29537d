"""The worker side of a clinic day: one warm Renderer per process, fed chunks of leaflets.

Leaflets that share a text go to the same worker, so its layout is made once (see
``pdf.render``). Small days run in this process: starting workers would cost more.

Each worker journals every leaflet as soon as it is written, stops between two leaflets when
the day is interrupted (Ctrl-C, SIGTERM), and dies with the batch that started it: it never
writes on after the batch, and its lock, are gone.
"""

from __future__ import annotations

import atexit
import gc
import hashlib
import multiprocessing
import os
import signal
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import groupby
from multiprocessing.connection import wait
from multiprocessing.synchronize import Event as EventType
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ..common.errors import FULL, DiskFullError, LeafletpressError, output_error
from ..common.files import write_atomic
from ..common.project import Edition, Project
from ..content.leaflet import Leaflet, load_leaflet
from ..content.registry import load_registry
from ..pdf.compose import TOGETHER
from ..printing.printfile import build_print_file
from ..visit.appointment import Visit
from ..visit.personalise import Personalisation, personalise
from .journal import JOURNAL, inputs_digest, record_done

if TYPE_CHECKING:
    from ..pdf.render import Rendered, Renderer

T = TypeVar("T")
MIN_CHUNK = 6  # below this many leaflets, starting worker processes costs more than it saves
# Leaflets in the print files of a day with several campuses above which those are built in
# worker processes, side by side, even when every leaflet was made already (the web's days)
MIN_MERGED = 60


@dataclass(frozen=True)
class Task:
    row: int
    visit: Visit
    lang: str
    layout: str
    archive: bool
    path: str  # where to write, absolute
    fingerprint: str  # of everything the leaflet is made from (journal.py)
    inputs: str = ""  # of the content and code (journal.inputs_digest): what was loaded is
    # loaded again when it changed (a worker that lives for days, while editors publish)


@dataclass(frozen=True)
class Result:
    row: int
    status: str  # made | unchanged | failed
    pages: int = 0
    sha256: str = ""
    problem: str | None = None


_renderer: Renderer | None = None
_leaflets: dict[tuple[str, str], Leaflet] = {}
_inputs = ""  # the content the renderer and the leaflets were loaded from
_stop: EventType | threading.Event | None = None  # set by the batch when it is interrupted


def _start_worker(root: str, stop: EventType) -> None:
    """In each worker process: Ctrl-C and SIGTERM are the batch's to handle (it stops us
    between two leaflets; a service manager sends SIGTERM to every process of the service),
    and the worker ends when the batch process ends, however it ends."""
    global _stop
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _stop = stop
    batch = multiprocessing.parent_process()
    if batch is not None:
        threading.Thread(target=_die_with, args=(batch.sentinel,), daemon=True).start()
    _init_renderer(root)


def _die_with(sentinel: int) -> None:
    wait([sentinel])
    if _renderer is not None:  # os._exit runs no clean-up: the fonts' copy goes first
        _renderer.remove_fonts()
    os._exit(1)  # the batch is gone: a PDF being written stays a .part file, cleaned later


def _init_renderer(root: str) -> Renderer:
    global _renderer
    if _renderer is None or str(_renderer.project.root) != root:
        from ..pdf.render import Renderer, tune_gc

        project = Project(Path(root))
        if _renderer is None:
            atexit.register(_release_renderer)
        _renderer = Renderer(project, load_registry(project))
        _leaflets.clear()
        tune_gc()
    return _renderer


def warm(root: str) -> None:
    """Load the renderer now, in a process that waits for days (the web's worker), instead of
    during its first day (WeasyPrint, the content, the templates: about a second), and with
    several campuses, start the server its print files' workers are forked from. The
    content's digest is taken before and after: content that changed meanwhile is loaded
    again for that day, as any changed since (``render_tasks``)."""
    global _inputs, _renderer
    project = Project(Path(root))
    before = inputs_digest(project)
    renderer = _init_renderer(root)
    if inputs_digest(project) == before:
        _inputs = before
    else:
        _renderer = None
    if len(renderer.composer.registry.sites) > 1:
        warm_up(0, None, MIN_MERGED + 1)


def _release_renderer() -> None:
    """Free the renderer while WeasyPrint is still whole: left to the interpreter's last
    clean-up, its font configuration may be freed after WeasyPrint's modules are gone, and
    Python then prints an 'Exception ignored' traceback after a successful run."""
    global _renderer
    _renderer = None
    gc.collect()


def render_tasks(
    root: str,
    tasks: list[Task],
    before_each: Callable[[], None] | None = None,
    after_each: Callable[[Result], None] | None = None,
) -> list[Result]:
    """Render and write each task's leaflet; a failure is reported, the others go on.
    ``before_each`` (in this process only) may stop the work before a leaflet by raising;
    ``after_each`` hears of each leaflet as it is journaled. Neighbours with one text are
    made together (``Renderer.render_many``)."""
    global _renderer, _inputs
    if tasks and _inputs and tasks[0].inputs != _inputs:  # the content changed since
        _renderer = None  # loaded: the renderer (registry) and the leaflets again
    _inputs = tasks[0].inputs if tasks else _inputs
    renderer = _init_renderer(root)
    results = []
    made = _made(renderer, tasks)
    for task in tasks:
        if _stop is not None and _stop.is_set():
            if isinstance(_stop, threading.Event):  # in the batch's own process: end it here
                raise KeyboardInterrupt
            break  # interrupted: what is done is journaled; the rest is made next time
        if before_each is not None:
            before_each()
        try:
            rendered = next(made)
            if isinstance(rendered, Exception):
                raise rendered
            path = Path(task.path)
            write_atomic(path, rendered.pdf)
            digest = hashlib.sha256(rendered.pdf).hexdigest()
            record = {"file": path.name, "fingerprint": task.fingerprint, "sha256": digest,
                      "pages": rendered.pages}  # fmt: skip
            record_done(path.parent / JOURNAL, record)
            results.append(Result(task.row, "made", rendered.pages, digest))
        except DiskFullError:
            raise  # no room for this one, nor for the next: the batch stops here
        except OSError as exc:  # WeasyPrint's own temporary files, on a full disk
            if exc.errno in FULL:
                raise output_error(exc, "kan niet schrijven", Path(task.path)) from None
            problem = f"interne fout ({type(exc).__name__}: {exc}); meld dit als programmafout"
            results.append(Result(task.row, "failed", problem=problem))
        except LeafletpressError as exc:
            results.append(Result(task.row, "failed", problem=str(exc)))
        except Exception as exc:  # a bug: keep going with the other patients, report it
            problem = f"interne fout ({type(exc).__name__}: {exc}); meld dit als programmafout"
            results.append(Result(task.row, "failed", problem=problem))
        if after_each is not None:
            after_each(results[-1])
    return results


def _made(renderer: Renderer, tasks: list[Task]) -> Iterator[Rendered | Exception]:
    """Each task's leaflet (or why it failed) in turn, made only when asked for: runs of
    tasks of one edition go to ``render_many`` together."""
    for (layout, archive), run in groupby(tasks, key=lambda t: (t.layout, t.archive)):
        ps = [_personalised(renderer, task) for task in run]
        ready = iter(renderer.render_many([p for p in ps if isinstance(p, Personalisation)],
                                          layout, archive))  # fmt: skip
        for p in ps:
            yield next(ready) if isinstance(p, Personalisation) else p


def _personalised(renderer: Renderer, task: Task) -> Personalisation | Exception:
    try:
        key = (task.visit.leaflet, task.lang)
        if key not in _leaflets:
            _leaflets[key] = load_leaflet(renderer.project, *key)
        return personalise(task.visit, _leaflets[key], renderer.composer.registry)
    except Exception as exc:
        return exc


def print_task(
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


def _context() -> Any:
    """Workers are forked from a server process that has imported WeasyPrint and this module
    (with pikepdf) once: each starts warm. The server ignores Ctrl-C (serverstart.py).

    The server is a ``python -c``, which would put the working directory first on its path
    (Python 3.11's forkserver does not pass this process's path on): it imports leafletpress
    from where this process did, never from a ``leafletpress`` folder where the command was
    typed, nor from another checkout installed in the same environment."""
    from multiprocessing import forkserver

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(
        ["leafletpress.day.serverstart", "leafletpress.pdf.render", __name__]
    )
    ours = str(Path(__file__).resolve().parents[2])
    path = os.pathsep.join(filter(None, [ours, os.environ.get("PYTHONPATH")]))
    with _environment(PYTHONSAFEPATH="1", PYTHONPATH=path):
        forkserver.ensure_running()
    return context


@contextmanager
def _environment(**values: str) -> Iterator[None]:
    """``values`` in this process's environment (for a process started now), then as it was."""
    before = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                del os.environ[name]
            else:
                os.environ[name] = value


def in_workers(jobs: int, tasks: int, merged: int) -> bool:
    """Whether a day is worth worker processes: ``tasks`` leaflets to make, ``merged``
    leaflets in print files built side by side."""
    return jobs > 1 and (tasks > MIN_CHUNK or merged > MIN_MERGED)


def warm_up(tasks: int, jobs: int | None, merged: int = 0) -> None:
    """Start that server now, for a day that will have workers: its imports (about a second)
    then run while this process reads and checks the list (or makes a web day's parts), not
    after."""
    if in_workers(jobs or os.cpu_count() or 1, tasks, merged):
        _context()


class _InProcess(Executor):
    """Runs tasks in this process: for small batches, where starting workers costs more."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        """Run at once. An error is the future's, as in a pool; Ctrl-C is not: it stops the
        day here and now, instead of being kept while every other chunk is rendered."""
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:
            future.set_exception(exc)
        return future


class Workers:
    """Where a day is rendered: worker processes, or this process for a small day. Leaving
    the block after an error or an interrupt stops the workers between two leaflets."""

    def __init__(self, root: str, jobs: int, tasks: int, merged: int = 0) -> None:
        self._stop: EventType | None = None
        self._signals: dict[int, Any] = {}
        self.executor: Executor
        if not in_workers(jobs, tasks, merged):
            self.executor = _InProcess()
            self._stop_between_leaflets()
            return
        context = _context()
        self._stop = context.Event()
        self.executor = ProcessPoolExecutor(
            max_workers=jobs,
            mp_context=context,
            initializer=_start_worker,
            initargs=(root, self._stop),
        )

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        global _stop
        if kind is not None and self._stop is not None:
            self._stop.set()
        self.executor.shutdown(wait=True, cancel_futures=kind is not None)
        for signum, handler in self._signals.items():
            signal.signal(signum, handler)
        if self._signals:
            _stop = None

    def _stop_between_leaflets(self) -> None:
        """Rendering in this process: Ctrl-C and SIGTERM set a flag that is checked between
        two leaflets. (Raised in the middle of WeasyPrint, an interrupt can land in one of
        its C callbacks, where Python reports it and carries on.)"""
        global _stop
        if threading.current_thread() is not threading.main_thread():
            return
        local = threading.Event()
        _stop = local
        for signum in (signal.SIGINT, signal.SIGTERM):
            self._signals[signum] = signal.signal(signum, lambda *_: local.set())


def runs(items: list[T], text: Callable[[T], str]) -> list[list[T]]:
    """``items`` by leaflet text (``text`` gives it), each text's in their order and in runs
    of at most TOGETHER: the patients whose first pages are made together. The same list
    gives the same runs however many workers share it."""
    groups: dict[str, list[T]] = defaultdict(list)
    for item in items:
        groups[text(item)].append(item)
    return [g[i : i + TOGETHER] for g in groups.values() for i in range(0, len(g), TOGETHER)]


def chunks(tasks: list[Task], keys: dict[int, str], workers: int) -> list[list[Task]]:
    """Tasks that share a leaflet text go to one worker, so its layout is made once; groups
    larger than a fair share are split (between two runs) so every core stays busy. Biggest
    first, so the last tasks are small and no core waits long for the others."""
    size = max(MIN_CHUNK, -(-len(tasks) // (workers * 4)))
    found: list[list[Task]] = []
    last = None
    for run in runs(tasks, lambda task: keys[task.row]):
        text = keys[run[0].row]
        if text == last and len(found[-1]) + len(run) <= size:
            found[-1].extend(run)
        else:
            found.append(list(run))
        last = text
    return sorted(found, key=len, reverse=True)
