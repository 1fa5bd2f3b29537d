"""`manage.py koppeling_voorbeeld` (`make feed-demo`): the example hospital system's messages
(examples/koppeling/) sent to the running listener (`make serve` starts one), as its
interface engine would send them: three bookings, a change, a cancellation and a discharge,
moved by whole weeks to the demo's day, as `generate.py demo` moves the example lists (a
Tuesday at least two weeks ahead on which no date they name is a public holiday). Prints
each acknowledgement; the day appears under "Dagen" a few seconds later."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import hl7
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from hl7.client import MLLPClient

from ....common.errors import LeafletpressError
from ....common.project import CHECKOUT
from ....content.registry import load_registry
from ....visit.calendar import demo_date
from ....visit.personalise import hospital_calendar
from ... import listener
from ...service import project

EXAMPLE_DAY = date(2026, 12, 15)  # the examples' operation day; the others follow from it


class Command(BaseCommand):
    help = "Stuur de voorbeeldberichten (examples/koppeling/) naar de koppeling."

    def handle(self, *args: Any, **options: Any) -> None:
        folder = (CHECKOUT / "examples" / "koppeling") if CHECKOUT else None
        if folder is None or not folder.is_dir():
            raise CommandError("de voorbeeldberichten staan in examples/koppeling/ van een "
                               "kopie van leafletpress (git clone)")  # fmt: skip
        texts = {
            path.name: path.read_text(encoding="utf-8") for path in sorted(folder.glob("*.hl7"))
        }
        try:  # the demo's day, with no date it uses on a public holiday (as `make demo`'s)
            closed = hospital_calendar(load_registry(project())).holidays
        except LeafletpressError as exc:  # its configuration, named in the error
            raise CommandError(str(exc)) from None
        uses = {
            (_day(found) - EXAMPLE_DAY).days
            for text in texts.values()
            for found in _DATE.finditer(text)
        }
        shift = demo_date(date.today(), closed, uses) - EXAMPLE_DAY
        try:
            host, port = listener.address()
        except ValueError:  # no port, or not a number
            host, port = "", 0
        if not 0 < port < 2**16:
            raise CommandError(f"LEAFLETPRESS_FEED_ADDRESS '{settings.FEED_ADDRESS}' is geen "
                               "adres: schrijf host:poort, bv. 127.0.0.1:2575")  # fmt: skip
        host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        try:
            with MLLPClient(host, port) as client:  # python-hl7's, as mllp_send uses
                for name, text in texts.items():
                    for message in _messages(text, shift):
                        answer = client.send_message(message).decode("utf-8", "replace")
                        self.stdout.write(f"{name}: {_said(answer)}")
        except OSError as exc:
            raise CommandError(f"de koppeling luistert niet op {host}:{port} ({exc}): start "
                               "eerst make serve") from None  # fmt: skip


_DATE = re.compile(r"\b(20\d\d)(\d\d)(\d\d)(?=\d{0,6}\b)")  # a date, or the day of a time


def _day(found: re.Match[str]) -> date:
    return date(int(found[1]), int(found[2]), int(found[3]))


def _messages(text: str, shift: timedelta) -> list[str]:
    """The file's messages (each begins with MSH), their dates moved by ``shift``."""
    text = _DATE.sub(lambda found: f"{_day(found) + shift:%Y%m%d}", text)
    parts = re.split(r"\n(?=MSH\|)", text.strip())
    return ["\r".join(line for line in part.splitlines() if line.strip()) + "\r" for part in parts]


def _said(answer: str) -> str:
    """The acknowledgement as a line: 'AA (bericht ZAS-SIU-0001)', with its reason."""
    ack = hl7.parse(answer.strip().replace("\n", "\r"))
    text = ack.unescape(str(ack["MSA.F3"]))
    return f"{ack['MSA.F1']} (bericht {ack['MSA.F2']}){': ' + text if text else ''}"
