"""Shared fixtures: a warm renderer, rendered leaflets, and readers for real PDFs."""

from __future__ import annotations

import io
import re
import shutil
from collections.abc import Callable
from datetime import date, time
from pathlib import Path

import pypdf
import pypdfium2 as pdfium
import pytest
import zxingcpp

from leafletpress.cli import main
from leafletpress.common.project import Project
from leafletpress.content.leaflet import load_leaflet
from leafletpress.content.registry import load_registry
from leafletpress.pdf.render import Renderer
from leafletpress.visit.appointment import make_visit
from leafletpress.visit.personalise import personalise

ROOT = Path(__file__).resolve().parent.parent
VISIT_DATE = date(2026, 12, 15)  # a Tuesday
MM_PER_PT = 25.4 / 72


def visit_fields(**overrides: object) -> dict[str, object]:
    fields: dict[str, object] = {
        "name": "Marie Peeters",
        "reference": "PAT-0042",
        "birth_date": date(1958, 3, 12),
        "leaflet": "avn-hip",
        "variant": "heupprothese",
        "surgeon": "wouters",
        "site": "augustinus",
        "date": VISIT_DATE,
        "time": time(8, 30),
    }
    fields.update(overrides)
    return fields


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


# --- reading real PDFs ------------------------------------------------------------------


def page_texts(pdf: bytes) -> list[str]:
    """Text per page, as pdfium extracts it (pypdf garbles some WeasyPrint fonts)."""
    document = pdfium.PdfDocument(pdf)
    return [document[i].get_textpage().get_text_range() for i in range(len(document))]


def normalise(text: str) -> str:
    """Undo hyphenation and line breaks, so phrases can be searched for."""
    text = text.replace("\r", "").replace("\ufffe", "")  # pdfium marks hyphenation with U+FFFE
    text = text.replace("-\n", "-")  # a real hyphen at a line end: "Çelik-\nO'Brien"
    return re.sub(r"\s+", " ", text).strip()


def all_text(pdf: bytes) -> str:
    return normalise("\n".join(page_texts(pdf)))


def decode_qr_codes(pdf: bytes, page: int = 0, dpi: int = 150) -> list[str]:
    image = pdfium.PdfDocument(pdf)[page].render(scale=dpi / 72).to_pil()
    return sorted(result.text for result in zxingcpp.read_barcodes(image))


def page_sizes_mm(pdf: bytes) -> list[tuple[float, float]]:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return [
        (
            round(float(p.mediabox.width) * MM_PER_PT, 1),
            round(float(p.mediabox.height) * MM_PER_PT, 1),
        )
        for p in reader.pages
    ]


def embedded_fonts(pdf: bytes) -> dict[str, bool]:
    """Font name -> whether its font program is embedded in the file."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    fonts: dict[str, bool] = {}
    for page in reader.pages:
        for ref in (page["/Resources"].get("/Font") or {}).values():
            font = ref.get_object()
            descriptors = [font.get("/FontDescriptor")]
            descriptors += [
                d.get_object().get("/FontDescriptor") for d in font.get("/DescendantFonts", [])
            ]
            embedded = any(
                d is not None
                and any(k in d.get_object() for k in ("/FontFile", "/FontFile2", "/FontFile3"))
                for d in descriptors
            )
            fonts[str(font["/BaseFont"])] = embedded
    return fonts


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


def edit(path: Path, old: str, new: str) -> None:
    """Change a copied project file; the text to replace must be there."""
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """A writable copy of the project's content, config, templates and styles."""
    for name in ("leaflets", "config", "templates", "styles"):
        shutil.copytree(ROOT / name, tmp_path / "project" / name)
    return tmp_path / "project"
