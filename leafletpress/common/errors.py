"""User-facing errors: each names where the problem is and how to fix it.

Messages are Dutch (the users' language); the CLI prints them without a traceback and exits
with the error's code.
"""

from __future__ import annotations

import errno
from collections.abc import Iterable
from pathlib import Path

# Exit codes, documented in the README.
EXIT_OK = 0
EXIT_PROBLEMS = 1  # `check` found problems, or some documents could not be made
EXIT_USAGE = 2  # invalid command-line input (also argparse's own code)
EXIT_CONTENT = 3  # leaflets/ or config/ are invalid
EXIT_OUTPUT = 4  # the PDF could not be written
EXIT_MAIL = 5  # the mail server cannot be reached safely, or refuses our login
EXIT_BUSY = 6  # another run is working on the same day folder: wait, then run again
EXIT_INTERNAL = 70  # a bug: please report it
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT, as shells report it)


class LeafletpressError(Exception):
    """A problem the user can fix. Carries where it is (file, row, field) and a hint."""

    exit_code = EXIT_PROBLEMS

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        row: int | None = None,
        field: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = str(file) if file is not None else None
        self.row = row
        self.field = field
        self.hint = hint

    def __reduce__(self) -> tuple[object, ...]:
        """Pickled whole (file, row, hint), so a worker process's error reaches the batch."""
        return (self.__class__, (self.message,), self.__dict__)

    def where(self) -> str:
        parts = []
        if self.file:
            parts.append(self.file)
        if self.row is not None:
            parts.append(f"rij {self.row}")
        if self.field and self.field.startswith("-"):
            parts.append(f"optie {self.field}")  # as typed on the command line
        elif self.field and self.field.isupper():
            parts.append(f"argument {self.field}")
        elif self.field:
            parts.append(f"veld '{self.field}'")
        return ", ".join(parts)

    def __str__(self) -> str:
        where = self.where()
        text = f"{where}: {self.message}" if where else self.message
        if self.hint:
            text += f"\n  oplossing: {self.hint}"
        return text


class InputError(LeafletpressError):
    """The visit or command-line input is invalid (unknown site, impossible date...)."""

    exit_code = EXIT_USAGE


class ContentError(LeafletpressError):
    """Leaflet content or configuration is invalid; an editor or admin must fix a file."""

    exit_code = EXIT_CONTENT


class OutputError(LeafletpressError):
    """A PDF could not be written."""

    exit_code = EXIT_OUTPUT


class MailError(LeafletpressError):
    """The mail server cannot be reached safely, or refuses our login or sender."""

    exit_code = EXIT_MAIL


FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)  # no room: disk, quota, file size limit


class DiskFullError(OutputError):
    """No room left to write (disk full, quota, file size limit): the run stops there."""


def output_error(exc: OSError, message: str, file: Path) -> OutputError:
    """An OSError while writing, as the user's error: a full disk is its own kind."""
    if exc.errno in FULL:
        return DiskFullError(
            "de schijf is vol (of het quotum is op)",
            file=file,
            hint="maak plaats en start dezelfde opdracht opnieuw: wat klaar is, blijft",
        )
    return OutputError(f"{message}: {exc.strerror}", file=file)


class BusyError(LeafletpressError):
    """Another run holds the day folder (a batch, or an email run): nothing was done."""

    exit_code = EXIT_BUSY


def clipped(value: object, limit: int = 40) -> str:
    """A value as a message echoes it: at most ``limit`` characters, so that a pasted
    paragraph or a crafted cell never floods a message, a log or a manifest."""
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def choices(values: Iterable[object]) -> str:
    """Format valid options for a hint: 'a, b, c'."""
    return ", ".join(sorted(str(v) for v in values)) or "(geen)"
