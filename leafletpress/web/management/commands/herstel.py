"""`manage.py herstel BESTAND`: this installation made again from a backup, into an empty
database and shared folder (backup.py), then retention run. Stop the web app and the workers
first; run it as the role that owns the tables (docs/install.md, 'Reservekopie')."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ....common.errors import LeafletpressError
from ...backup import restore
from ...retention import purge


class Command(BaseCommand):
    help = "Herstel een installatie uit een reservekopie (in een lege databank en gedeelde map)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("bestand", help="de reservekopie (leafletpress-reservekopie-….tar)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            manifest = restore(Path(options["bestand"]))
        except (LeafletpressError, OSError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"Hersteld: de reservekopie van {manifest['gemaakt']} (leafletpress "
            f"{manifest['leafletpress']}), {manifest['auditgebeurtenissen']} auditgebeurtenissen; "
            f"inhoud: {manifest['inhoud']}."
        )
        self.stdout.write(f"Bewaartermijn toegepast: {purge()}.")
