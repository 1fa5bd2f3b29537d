"""`manage.py proefmail ADRES`: one test message with config/email.yaml's settings (the ones
the patients' messages use; Django's sendtestemail uses others), to IT's own address. Says
the server's answer, or in Dutch what is wrong; audited."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ....common.errors import LeafletpressError
from ....mail.sending import send_test
from ...models import SYSTEM, audit
from ...service import project


class Command(BaseCommand):
    help = "Stuur één testbericht met de instellingen van config/email.yaml."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("adres", help="je eigen e-mailadres")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            answer = send_test(project(), options["adres"])
        except LeafletpressError as exc:
            audit(SYSTEM, "proefmail mislukt", detail=exc.message[:300])
            raise CommandError(str(exc), returncode=exc.exit_code) from None
        audit(SYSTEM, "proefmail", detail=f"de mailserver antwoordde: {answer}"[:300])
        self.stdout.write(f"Verstuurd; de mailserver antwoordde: {answer}")
