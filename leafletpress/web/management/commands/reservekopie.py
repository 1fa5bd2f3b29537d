"""`manage.py reservekopie [MAP]`: a backup of this installation, as one file in MAP (backup.py
says what is in it). Runs while the app and the workers run."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ....common.errors import LeafletpressError
from ...backup import interruptible, make

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Maak een reservekopie: databank, verzendlogboek, bestanden van de dagen en inhoud."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "map", nargs="?", default=".", help="waar het bestand komt (standaard: hier)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            with interruptible():
                made = make(Path(options["map"]))
        except LeafletpressError as exc:
            log.error("reservekopie mislukt: %s", exc.message)
            raise CommandError(str(exc)) from None
        except KeyboardInterrupt:  # Ctrl-C or SIGTERM (interruptible)
            raise CommandError("onderbroken: geen reservekopie gemaakt, niets achtergelaten",
                               returncode=130) from None  # fmt: skip
        self.stdout.write(f"Reservekopie: {made} ({made.stat().st_size / 2**20:.1f} MB)")
