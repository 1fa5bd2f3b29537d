"""Shared fixtures: a warm renderer, rendered leaflets, the CLI in-process, project copies; and
the known day every test runs on."""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import trustme
from helpers import KNOWN_NOW, ROOT, visit_fields

from leafletpress.cli import main
from leafletpress.common.project import Project
from leafletpress.content.leaflet import load_leaflet
from leafletpress.content.registry import load_registry
from leafletpress.pdf.render import Renderer
from leafletpress.visit.appointment import make_visit
from leafletpress.visit.personalise import personalise

# Every test runs on a known day, three weeks before the examples' clinic day: this process and
# every Python process the tests start (tests/clock/testclock.py); the real date never matters.
CLOCK = Path(__file__).resolve().parent / "clock"
CHROMIUM = "/usr/bin/chromium"
os.environ["LEAFLETPRESS_TEST_CLOCK"] = KNOWN_NOW.isoformat()
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(CLOCK), os.environ.get("PYTHONPATH")]))
sys.path.insert(0, str(CLOCK))
import testclock  # noqa: E402

testclock.start()


# The CLI's key for pseudonyms (common/keyed.py), for every process the tests start: never
# one in the home folder of whoever runs them, and gone with the run.
if "LEAFLETPRESS_KEY_FILE" not in os.environ:
    _KEYS = tempfile.mkdtemp(prefix="leafletpress-key-")
    atexit.register(shutil.rmtree, _KEYS, ignore_errors=True)
    os.environ["LEAFLETPRESS_KEY_FILE"] = str(Path(_KEYS) / "sleutel")
KEY_FILE = Path(os.environ["LEAFLETPRESS_KEY_FILE"])


_ONE_RUN: list[object] = []  # the lock, held for the whole run


def pytest_sessionstart(session: pytest.Session) -> None:
    """One test run at a time in a data folder: two shared its test database
    (data/test.sqlite3), and each corrupted the other's ("malformed database schema"). A POSIX
    lock: a process forked from the run does not hold it, and a killed run lets go of it."""
    import errno
    import fcntl

    from django.conf import settings

    settings.DATA.mkdir(parents=True, exist_ok=True)
    lock = (settings.DATA / "test.lock").open("a+")
    try:
        fcntl.lockf(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno not in (errno.EACCES, errno.EAGAIN):
            return  # a file system without locks (some network mounts): as before
        lock.seek(0)
        pytest.exit(
            f"Er lopen al tests (proces {lock.read().strip() or '?'}) met de gegevensmap "
            f"{settings.DATA} en haar testdatabank: wacht tot ze klaar zijn, of geef deze run "
            "een eigen map met LEAFLETPRESS_DATA=...",
            returncode=pytest.ExitCode.USAGE_ERROR,
        )
    lock.truncate(0)
    lock.write(str(os.getpid()))
    lock.flush()
    _ONE_RUN.append(lock)


@pytest.fixture(autouse=True)
def hospital_key() -> None:
    """The web app in this process and the engine take the tests' key file (the app's own
    setting points into the data folder it had when it started)."""
    from leafletpress.common import keyed

    keyed.use(lambda: keyed.from_file(KEY_FILE))


@pytest.fixture(autouse=True)
def weasyprint_warnings() -> Iterator[list[logging.LogRecord]]:
    """Any warning WeasyPrint logs while a test runs fails that test, as WeasyPrint's own
    ``assert_no_logs`` does: a missing glyph, an unloadable asset, an ignored CSS property.
    A test that provokes one on purpose asks for this list, checks it and empties it."""
    records: list[logging.LogRecord] = []
    recorder = logging.Handler(logging.WARNING)
    recorder.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("weasyprint")
    logger.setLevel(logging.NOTSET)
    logger.addHandler(recorder)
    try:
        yield records
    finally:
        logger.removeHandler(recorder)
    if records:
        pytest.fail(
            "WeasyPrint logged while rendering: "
            + "; ".join(f"{r.levelname} {r.getMessage()}" for r in records[:5])
        )


@pytest.fixture(scope="session")
def project() -> Project:
    return Project(ROOT)


@pytest.fixture(scope="session")
def registry(project: Project):
    return load_registry(project)


@pytest.fixture(scope="session")
def renderer(project: Project, registry) -> Renderer:
    return Renderer(project, registry)


@pytest.fixture(scope="session")
def leaflet(project: Project):
    return load_leaflet(project, "avn-hip")


@pytest.fixture(scope="session")
def personalisation(leaflet, registry) -> Callable[..., object]:
    def make(**overrides: object):
        return personalise(make_visit(**visit_fields(**overrides)), leaflet, registry)

    return make


@pytest.fixture(scope="session")
def render(renderer: Renderer, personalisation) -> Callable[..., bytes]:
    """Render a leaflet as PDF bytes; identical requests are rendered once per session."""
    cache: dict[tuple, bytes] = {}

    def rendered(fmt: str = "a5", **overrides: object) -> bytes:
        key = (fmt, tuple(sorted((k, str(v)) for k, v in overrides.items())))
        if key not in cache:
            cache[key] = renderer.render(personalisation(**overrides), fmt).pdf
        return cache[key]

    return rendered


# --- running the CLI ----------------------------------------------------------------------


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """Run generate.py's main() in-process; returns (exit code, stdout, stderr)."""

    def run(*args: str) -> tuple[int, str, str]:
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse exits on usage errors and --help
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """A writable copy of the project's content, config, templates and styles."""
    for name in ("leaflets", "config", "templates", "styles"):
        shutil.copytree(ROOT / name, tmp_path / "project" / name)
    return tmp_path / "project"


@pytest.fixture(scope="session")
def ca(tmp_path_factory) -> tuple[trustme.CA, Path]:
    authority = trustme.CA()
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    authority.cert_pem.write_to_path(str(path))
    return authority, path


@pytest.fixture
def smtp(request):
    """The real SMTP server on 127.0.0.1 of test_web's ``mail_server`` (a module that asks
    for it imports that fixture), by a name that does not shadow the import."""
    return request.getfixturevalue("mail_server")


@pytest.fixture(scope="module")
def browser():
    """Debian's headless Chromium, driven by Playwright (it cannot download one here)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()
