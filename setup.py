"""Build step for the wheel: the folders leafletpress ships at the top of the repository
(templates/, styles/ with the fonts, the example content leaflets/ and config/, examples/ and the
user guide docs/hulp/) are copied into the package as ``leafletpress/bundled/``, so an installed
leafletpress has them; a checkout uses them where they are (see leafletpress/common/project.py).
Everything else is declared in pyproject.toml."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

SHIPPED = ("templates", "styles", "leaflets", "config", "examples", "docs/hulp")


class BuildWithContent(build_py):
    def run(self) -> None:
        super().run()
        bundled = Path(self.build_lib) / "leafletpress" / "bundled"
        for name in SHIPPED:
            shutil.rmtree(bundled / name, ignore_errors=True)
            shutil.copytree(name, bundled / name, ignore=shutil.ignore_patterns("__pycache__"))


setup(cmdclass={"build_py": BuildWithContent})
