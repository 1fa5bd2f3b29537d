"""Where a project's content, configuration, templates and styles live.

A project is the hospital's content folder: ``leaflets/`` and ``config/``, and optionally its own
``templates/`` and ``styles/``. Without them, the ones leafletpress ships are used: in a git
checkout the folders at its top level, in an installed wheel the copies inside the package
(``leafletpress/bundled/``, put there by setup.py). The bundled example content (the AVN
leaflet, the example hospital) is the default project, so ``leafletpress demo`` works anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

_SOURCE = Path(__file__).resolve().parents[2]
# The git checkout leafletpress runs from (make demo, make serve), or None when installed.
CHECKOUT = _SOURCE if (_SOURCE / "pyproject.toml").is_file() else None


def shipped(name: str) -> Path:
    """A folder leafletpress ships (templates, styles, leaflets, config, examples, docs/hulp):
    the checkout's own while running from one, else the installed package's copy."""
    if CHECKOUT and (CHECKOUT / name).is_dir():
        return CHECKOUT / name
    return Path(__file__).resolve().parents[1] / "bundled" / name


DEFAULT_ROOT = shipped("leaflets").parent

# Page layouts: name -> stylesheets in styles/, applied after leaflet.css.
LAYOUTS = {"a5": ("a5.css",), "a4": ("a4.css",), "large": ("a4.css", "large.css")}
# Layouts laid out as one document, page 1 flowing into the text: large print, where the
# appointment takes more than a page. The others give page 1 to the patient alone, so the
# rest can be shared by every patient with the same text (see pdf/render.py).
FLOWING = {"large"}
# Paper formats to choose from; a booklet is the A5 leaflet imposed on A4 (printing/booklet.py).
FORMATS = ("a5", "a4", "booklet")
DEFAULT_FORMAT = "a5"


@dataclass(frozen=True)
class Edition:
    """How leaflets are made: paper format, large print, and the archive standard."""

    format: str = DEFAULT_FORMAT
    large_print: bool = False  # A4, every text at least 16 pt
    archive: bool = False  # PDF/A-1b (and PDF/UA-1) instead of PDF/UA-1 only

    @property
    def layout(self) -> str:
        """The page layout rendered (a key of LAYOUTS)."""
        if self.large_print:
            return "large"
        return "a5" if self.booklet else self.format

    @property
    def booklet(self) -> bool:
        return self.format == "booklet"

    @property
    def name(self) -> str:
        """As recorded in manifests: 'booklet', 'a4, large print, PDF/A-1b', ..."""
        parts = [self.format] + ["large print"] * self.large_print + ["PDF/A-1b"] * self.archive
        return ", ".join(parts)


@dataclass(frozen=True)
class Project:
    """A folder holding leaflets/ and config/, and templates/ and styles/ if it has its own."""

    root: Path = DEFAULT_ROOT

    @property
    def leaflets_dir(self) -> Path:
        return self.root / "leaflets"

    @property
    def config_dir(self) -> Path:
        return self.root / "config"

    @property
    def templates_dir(self) -> Path:
        own = self.root / "templates"
        return own if own.is_dir() else shipped("templates")

    @property
    def styles_dir(self) -> Path:
        own = self.root / "styles"
        return own if own.is_dir() else shipped("styles")

    @property
    def asset_dirs(self) -> tuple[Path, ...]:
        """The only folders rendering may read files from."""
        return (self.styles_dir.resolve(), (self.config_dir / "assets").resolve())

    def relative(self, path: Path) -> str:
        """A path as users see it in messages: relative to the project when possible (also
        through a link: a draft's check reads the approved files through links, history.py)."""
        for inside, root in ((path, self.root), (path.resolve(), self.root.resolve())):
            if inside.is_relative_to(root):
                return str(inside.relative_to(root))
        return str(path)
