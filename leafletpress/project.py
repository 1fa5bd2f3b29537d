"""Where a project's content, configuration, templates and styles live."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DEFAULT_ROOT = Path(__file__).resolve().parent.parent

# Paper formats: name -> stylesheet in styles/ that sets the page size.
FORMATS = {"a5": "a5.css", "a4": "a4.css"}
DEFAULT_FORMAT = "a5"


@dataclass(frozen=True)
class Project:
    """A folder holding leaflets/, config/, templates/ and styles/."""

    root: Path = DEFAULT_ROOT

    @property
    def leaflets_dir(self) -> Path:
        return self.root / "leaflets"

    @property
    def config_dir(self) -> Path:
        return self.root / "config"

    @property
    def templates_dir(self) -> Path:
        return self.root / "templates"

    @property
    def styles_dir(self) -> Path:
        return self.root / "styles"

    @property
    def asset_dirs(self) -> tuple[Path, ...]:
        """The only folders rendering may read files from."""
        return (self.styles_dir.resolve(), (self.config_dir / "assets").resolve())

    def relative(self, path: Path) -> str:
        """A path as users see it in messages: relative to the project when possible."""
        try:
            return str(path.resolve().relative_to(self.root.resolve()))
        except ValueError:
            return str(path)
