"""`manage.py controleer_aanmelding [ACCOUNT] [--claims FILE]`: try the directory sign-in the
settings configure, for one account, and say in Dutch what is wrong (signin_check.py). Exit
status 0 when all is well, 1 when a problem was found."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ...signin_check import check


class Command(BaseCommand):
    help = "Probeer het aanmelden met de directory van het ziekenhuis voor één account."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("account", nargs="?", default="", help="de aanmeldnaam om te zoeken")
        parser.add_argument(
            "--claims",
            metavar="BESTAND",
            help="OpenID Connect: de claims van een ID-token, als JSON",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        claims = None
        if options["claims"]:
            try:
                claims = json.loads(Path(options["claims"]).read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise CommandError(f"{options['claims']}: geen leesbare JSON ({exc})") from None
            if not isinstance(claims, dict):
                raise CommandError(f"{options['claims']}: geen claims, verwacht een JSON-object: "
                                   '{"preferred_username": …, "groups": […]}')  # fmt: skip
        problems = 0
        for finding in check(options["account"], claims):
            self.stdout.write(f"{'in orde' if finding.good else 'FOUT'}: {finding.text}")
            if finding.hint:
                self.stdout.write(f"  oplossing: {finding.hint}")
            problems += not finding.good
        if problems:
            raise CommandError(f"{problems} probleem/problemen gevonden", returncode=1)
