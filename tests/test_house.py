"""House rules that keep the engine readable; the import contract is in `make lint`."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib

import pytest
from helpers import ROOT

PACKAGE = ROOT / "leafletpress"
MAX_BODY_LINES = 60


def function_bodies() -> list[tuple[str, int]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.body[-1].end_lineno - node.body[0].lineno + 1  # type: ignore[operator]
                found.append((f"{path.relative_to(ROOT)}:{node.lineno} {node.name}", lines))
    return found


def test_no_function_body_is_longer_than_sixty_lines() -> None:
    bodies = function_bodies()
    assert len(bodies) > 100, "the walk found the engine's functions"
    assert [(name, n) for name, n in bodies if n > MAX_BODY_LINES] == []


def test_every_module_is_inside_a_layer_of_the_import_contract() -> None:
    """A module outside the layers would be free to import anything: the contract would
    silently not cover it. The root package imports nothing of its own."""
    contract = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    [layers] = [c["layers"] for c in contract["tool"]["importlinter"]["contracts"]]
    children = {
        f"leafletpress.{path.stem if path.is_file() else path.name}"
        for path in PACKAGE.iterdir()
        if (path.suffix == ".py" and path.stem != "__init__") or (path / "__init__.py").is_file()
    }
    # a layer may hold independent siblings: "leafletpress.cli | leafletpress.web"
    assert children == {name.strip() for layer in layers for name in layer.split("|")}
    root = ast.parse((PACKAGE / "__init__.py").read_text(encoding="utf-8"))
    assert not [n for n in ast.walk(root) if isinstance(n, ast.Import | ast.ImportFrom)]


def test_every_stage_package_says_what_it_takes_and_gives() -> None:
    for init in sorted(PACKAGE.glob("*/__init__.py")):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
        if init.parent.name in ("cli", "common"):
            assert doc, init
        else:
            assert "Takes" in doc and ("gives" in doc or "Gives" in doc), init


@pytest.mark.parametrize(
    "script",
    [
        "bench_leaflet.py",
        "bench_batch.py",
        "bench_web.py",
        "bench_load.py",
        "clinic_day.py",
        "bench_week.py",
        "bench_editor.py",
        "bench_feed.py",
    ],
)
def test_the_benchmarks_still_start(script: str) -> None:
    """They import the engine by module path; a move must not break `make bench` unseen."""
    args = [sys.executable, str(ROOT / "benchmarks" / script)]
    done = subprocess.run([*args, "--help"] if script != "clinic_day.py" else [*args, "1"],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr


def test_every_test_and_every_python_process_it_starts_runs_on_the_known_day() -> None:
    """So that no test expires: the real date never reaches a test (conftest.py)."""
    from datetime import date, datetime, timedelta

    from helpers import KNOWN_NOW

    assert date.today() == KNOWN_NOW.date()
    assert timedelta(0) <= datetime.now(KNOWN_NOW.tzinfo) - KNOWN_NOW < timedelta(hours=3)
    child = subprocess.run(
        [sys.executable, "-c", "import datetime; print(datetime.date.today())"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert child.stdout.strip() == KNOWN_NOW.date().isoformat()


def test_no_template_prints_a_developers_comment() -> None:
    """A Django comment {# … #} ends on its line; one spanning two lines was printed on the
    form for the secretary to read (issue 24, item 12)."""
    for template in (ROOT / "leafletpress/web/templates").rglob("*.html"):
        for number, line in enumerate(template.read_text(encoding="utf-8").splitlines(), 1):
            assert "{#" not in line or "#}" in line, f"{template.name}:{number}"
