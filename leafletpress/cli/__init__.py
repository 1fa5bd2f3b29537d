"""The command line: parses input, calls the engine, prints results. No rendering logic here.

``parser`` holds the grammar (one function per sub-command), ``commands`` what each does.
Messages are Dutch; exit codes are in common/errors.py and the README.
"""

from __future__ import annotations

import argparse
import gc
import logging
import traceback
from collections.abc import Callable, Sequence

from ..common.errors import EXIT_INTERNAL, InputError, LeafletpressError
from .commands import say
from .parser import build_parser

# Visit fields as the user typed them on the command line.
_OPTIONS = {"name": "--patient", "leaflet": "FOLDER", "birth_date": "--birth-date"}


def main(argv: Sequence[str] | None = None) -> int:
    gc.set_threshold(50_000, 50, 100)  # start-up allocates a lot too; see render.tune_gc
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        format="%(levelname)s: %(message)s", level=logging.INFO if args.verbose else logging.WARNING
    )
    # WeasyPrint's own warnings are about our templates, not the user's input.
    logging.getLogger("weasyprint").setLevel(logging.INFO if args.verbose else logging.ERROR)
    command: Callable[[argparse.Namespace], int] = args.func
    try:
        return command(args)
    except LeafletpressError as exc:
        if isinstance(exc, InputError) and exc.field and not exc.file:
            exc.field = _OPTIONS.get(exc.field, "--" + exc.field.replace("_", "-"))
        say(f"fout: {exc}")
        return exc.exit_code
    except KeyboardInterrupt:
        say("onderbroken")
        return 130
    except Exception:
        traceback.print_exc()
        say(
            "interne fout: dit is een programmafout, geen fout in je invoer. "
            "Meld ze met de tekst hierboven."
        )
        return EXIT_INTERNAL
