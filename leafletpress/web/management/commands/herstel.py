"""`manage.py herstel BESTAND`: this installation made again from a backup, into an empty
database and shared folder (backup.py), then retention run. Stop the web app and the workers
first; run it as the role that owns the tables (docs/install.md, 9. Backup and restore).
An interrupted restore of the same backup can simply be run again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ....common.errors import LeafletpressError
from ...backup import interruptible, restore
from ...retention import purge


class Command(BaseCommand):
    help = "Herstel een installatie uit een reservekopie (in een lege databank en gedeelde map)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("bestand", help="de reservekopie (leafletpress-reservekopie-….tar)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            with interruptible():
                manifest = restore(Path(options["bestand"]))
        except LeafletpressError as exc:
            raise CommandError(str(exc)) from None
        except (OSError, KeyboardInterrupt) as exc:  # a full disk, SIGTERM: again goes on
            raise CommandError(f"herstellen onderbroken ({exc or 'gestopt'}): herstel opnieuw "
                               "dezelfde reservekopie, het gaat verder") from None  # fmt: skip
        self.stdout.write(
            f"Hersteld: de reservekopie van {manifest['gemaakt']} (leafletpress "
            f"{manifest['leafletpress']}), {manifest['auditgebeurtenissen']} auditgebeurtenissen; "
            f"inhoud: {manifest['inhoud']}."
        )
        self.stdout.write(f"Bewaartermijn toegepast: {purge()}.")
