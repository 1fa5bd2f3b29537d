"""The command line: parses input, calls the engine, prints results. No rendering logic here.

``parser`` holds the grammar (one function per sub-command), ``commands`` what each does.
Messages are Dutch; exit codes are in common/errors.py and the README.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import signal
import threading
import traceback
from collections.abc import Callable, Sequence

from ..common.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, InputError, LeafletpressError
from .commands import say
from .parser import build_parser

# Visit fields as the user typed them on the command line.
_OPTIONS = {"name": "--patient", "leaflet": "FOLDER", "birth_date": "--birth-date"}


def _log_to_stderr(verbose: bool) -> None:
    """Log lines on stderr. WeasyPrint's own warnings are about our templates, not the user's
    input: shown with -v only. They are filtered at the handler, not silenced at their logger,
    so the tests still see every one of them."""
    console = logging.StreamHandler()
    console.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    if not verbose:
        console.addFilter(
            lambda record: (
                not record.name.startswith("weasyprint") or record.levelno >= logging.ERROR
            )
        )
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, handlers=[console])


def _interrupt(signum: int, frame: object) -> None:
    """SIGTERM (a service manager, `kill`) stops a run as Ctrl-C does: cleanly, workers too."""
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    os.umask(0o077)  # everything we create holds patient data: owner only (README, Privacy)
    gc.set_threshold(50_000, 50, 100)  # start-up allocates a lot too; see pdf.render.tune_gc
    args = build_parser().parse_args(argv)
    _log_to_stderr(args.verbose)
    command: Callable[[argparse.Namespace], int] = args.func
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt)
    try:
        return command(args)
    except LeafletpressError as exc:
        if isinstance(exc, InputError) and exc.field and not exc.file:
            exc.field = _OPTIONS.get(exc.field, "--" + exc.field.replace("_", "-"))
        say(f"fout: {exc}")
        return exc.exit_code
    except KeyboardInterrupt:
        say("onderbroken")
        return EXIT_INTERRUPTED
    except Exception:
        traceback.print_exc()
        say(
            "interne fout: dit is een programmafout, geen fout in je invoer. "
            "Meld ze met de tekst hierboven."
        )
        return EXIT_INTERNAL
