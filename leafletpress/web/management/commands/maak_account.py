"""`manage.py maak_account NAAM --rol secretariaat`: an account with a role, for scripts.

The password comes from the environment variable LEAFLETPRESS_WACHTWOORD (never from the
command line, where other users could read it), or is asked for on a terminal.
"""

from __future__ import annotations

import getpass
import os
from typing import Any

from django.contrib.auth.models import Group, User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ... import service
from ...models import SYSTEM, audit, name_problem
from ...roles import BEHEER, ROLES
from ...signin import SERVICE


class Command(BaseCommand):
    help = "Maak een account met een rol (of geef een bestaand account een nieuw wachtwoord)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("naam", help="de gebruikersnaam")
        parser.add_argument(
            "--rol",
            required=True,
            action="append",
            choices=list(ROLES),
            help="secretariaat, redactie of beheer (mag herhaald worden)",
        )
        parser.add_argument(
            "--dienst",
            action="append",
            default=[],
            help="de dienst zoals de folders hem noemen, bv. 'Orthopedie en Traumatologie' "
            "(mag herhaald worden; telt als LEAFLETPRESS_NEED_TO_KNOW aan staat)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        known = {v["service"] for v in service.choices()["leaflets"].values()}
        if unknown := [d for d in options["dienst"] if d.strip() not in known]:
            choices = ", ".join(sorted(known - {""}))
            raise CommandError(
                f"onbekende dienst '{unknown[0]}': kies uit {choices} (zoals de folders hem noemen)"
            )
        if problem := name_problem(options["naam"]):
            raise CommandError(f"'{options['naam']}': {problem}; kies een andere naam")
        taken = User.objects.filter(username__iexact=options["naam"]).exclude(
            username=options["naam"]).first()  # fmt: skip
        if taken is not None:
            raise CommandError(f"'{options['naam']}' lijkt op het bestaande account "
                               f"'{taken.username}': kies een andere naam")  # fmt: skip
        password = os.environ.get("LEAFLETPRESS_WACHTWOORD") or self._ask()
        found = User.objects.filter(username=options["naam"]).first()
        try:  # checked before any account is made
            validate_password(password, found or User(username=options["naam"]))
        except ValidationError as exc:
            raise CommandError("wachtwoord te zwak: " + " ".join(exc.messages)) from None
        user, created = User.objects.get_or_create(username=options["naam"])
        before = sorted(user.groups.values_list("name", flat=True))
        user.set_password(password)
        user.is_staff = BEHEER in options["rol"]  # the admin is for beheer
        user.save()
        for group in [*options["rol"], *(f"{SERVICE}{d.strip()}" for d in options["dienst"])]:
            user.groups.add(Group.objects.get_or_create(name=group)[0])
        after = sorted(user.groups.values_list("name", flat=True))
        audit(SYSTEM, "account gemaakt" if created else "account bijgewerkt",
              detail=f"{user.username} (maak_account): {', '.join(before) or '(geen)'} → "
              f"{', '.join(after)}{'' if created else '; nieuw wachtwoord'}")  # fmt: skip
        verb = "gemaakt" if created else "bijgewerkt"
        services = f", dienst {', '.join(options['dienst'])}" if options["dienst"] else ""
        self.stdout.write(
            f"account '{user.username}' {verb} met rol {', '.join(options['rol'])}{services}"
        )

    def _ask(self) -> str:
        if not os.isatty(0):
            raise CommandError("geef het wachtwoord in LEAFLETPRESS_WACHTWOORD")
        first, second = getpass.getpass("Wachtwoord: "), getpass.getpass("Nog eens: ")
        if first != second:
            raise CommandError("de wachtwoorden verschillen")
        return first
