"""`manage.py luister`: the appointment feed's MLLP listener (listener.py), as a service of
its own (deploy/systemd/leafletpress-koppeling.service). Its address, senders and TLS come
from the environment (docs/koppeling.md); a setting that cannot work stops it at once with
a line that says which."""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ... import listener
from ...backup import restoring


class Command(BaseCommand):
    help = "Luister naar de HL7-berichten van het ziekenhuissysteem (MLLP)."

    def handle(self, *args: Any, **options: Any) -> None:
        if restoring():
            raise CommandError("een herstel uit een reservekopie is bezig: maak het af met "
                               "herstel, dan start de koppeling")  # fmt: skip
        try:
            listener.senders()
            listener.address()
        except ValueError as exc:
            raise CommandError(f"LEAFLETPRESS_FEED_SENDERS of LEAFLETPRESS_FEED_ADDRESS klopt "
                               f"niet: {exc}") from None  # fmt: skip
        try:
            listener.tls()
        except (OSError, ssl.SSLError) as exc:
            raise CommandError("het TLS-certificaat of de sleutel van de koppeling is niet te "
                               "lezen (LEAFLETPRESS_FEED_TLS_CERT, LEAFLETPRESS_FEED_TLS_KEY, "
                               f"LEAFLETPRESS_FEED_TLS_CLIENTS): {exc}") from None  # fmt: skip
        try:
            asyncio.run(listener.serve())
        except OSError as exc:
            raise CommandError(f"kan niet luisteren op {listener.address()}: {exc}") from None
        except KeyboardInterrupt:
            return
