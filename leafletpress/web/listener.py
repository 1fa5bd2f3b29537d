"""The MLLP listener: HL7 v2 messages from the hospital's interface engine, over TCP (with
TLS as an option), with python-hl7's asyncio MLLP streams. A service of its own
(``leafletpress-web luister``), beside the web app and the workers.

Input: connections from ``settings.FEED_SENDERS`` only (any other is closed at once, and
audited); on each, one message after another. Output: per message, an acknowledgement sent
only after the message is stored and applied (feed.accept, one transaction): AA; AE with
the reason in Dutch; AR for what is not a message we read, or when it could not be stored
(the sender then sends it again; a message sent twice is applied once).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import ssl
import time
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import close_old_connections
from hl7.mllp import start_hl7_server

from ..feed import hl7v2
from ..feed.events import Event, Malformed, Unusable, clean
from . import feed, service
from .models import FEED, audit

log = logging.getLogger(__name__)
MAX_MESSAGE = 1_000_000  # bytes: an appointment is a few hundred
# Tests only: end the process right after a message is stored, before its acknowledgement.
FAULT = os.environ.get("LEAFLETPRESS_FEED_FAULT", "")


def senders() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """The addresses (or networks) allowed to send; a wrong one stops the listener."""
    return [ipaddress.ip_network(a, strict=False) for a in settings.FEED_SENDERS]


def tls() -> ssl.SSLContext | None:
    """TLS when a certificate is configured; client certificates when a CA is."""
    if not settings.FEED_TLS_CERT:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(settings.FEED_TLS_CERT, settings.FEED_TLS_KEY or None)
    if settings.FEED_TLS_CLIENTS:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(settings.FEED_TLS_CLIENTS)
    return context


def address() -> tuple[str, int]:
    host, _, port = settings.FEED_ADDRESS.rpartition(":")
    return host.strip("[]") or "0.0.0.0", int(port)


async def serve(ready: asyncio.Event | None = None) -> None:
    """Listen until the process is stopped."""
    allowed, context = senders(), tls()
    host, port = address()

    async def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _conversation(reader, writer, allowed)

    server = await start_hl7_server(connected, host, port, ssl=context, limit=MAX_MESSAGE)
    log.info("koppeling luistert op %s:%d%s", host, port, " (TLS)" if context else "")
    if ready is not None:
        ready.set()
    async with server:
        await server.serve_forever()


async def _conversation(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    allowed: list[ipaddress.IPv4Network | ipaddress.IPv6Network],
) -> None:
    peer = str((writer.get_extra_info("peername") or ("?",))[0])
    try:
        if not any(_address(peer) in network for network in allowed):
            await asyncio.to_thread(_refused, peer)
            return
        while True:
            try:
                block = await _next_block(reader)
            except asyncio.IncompleteReadError:
                return  # the sender closed the connection
            if isinstance(block, str):
                answer = hl7v2.ack(None, "AR", block)
            else:
                answer = await asyncio.to_thread(_handle, block, peer)
            writer.writeblock(answer)  # type: ignore[attr-defined]
            await writer.drain()
    except (ConnectionError, ssl.SSLError) as exc:
        log.warning("koppeling: verbinding met %s verbroken (%s)", peer, type(exc).__name__)
    finally:
        writer.close()


def _address(peer: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    found = ipaddress.ip_address(peer.split("%")[0])
    mapped = getattr(found, "ipv4_mapped", None)  # ::ffff:10.0.0.5 is 10.0.0.5
    return mapped or found


_refused_at: dict[str, float] = {}  # address -> when its refusal was last said
SAID_EVERY = 900  # seconds: an address that keeps trying is said once a quarter


def _refused(peer: str) -> None:
    """Said in the log and the audit log once a quarter per address: a scanner that
    connects a thousand times a minute leaves one line, not a thousand."""
    now = time.monotonic()
    if now - _refused_at.get(peer, -SAID_EVERY) < SAID_EVERY:
        return
    if len(_refused_at) > 10_000:
        _refused_at.clear()
    _refused_at[peer] = now
    close_old_connections()
    log.warning("koppeling: verbinding van %s geweigerd (geen toegelaten afzender)", peer)
    audit(FEED, "verbinding geweigerd", detail=f"{clean(peer, 60)}: geen toegelaten afzender "
                                               "(LEAFLETPRESS_FEED_SENDERS); hoogstens één "
                                               "melding per kwartier per adres")  # fmt: skip


def _read(message: Any, zone: ZoneInfo) -> Event:
    """What the message says; a message our reader fails on is one we cannot use (AE, said
    and logged): never AR, which would have the engine send it again for ever."""
    try:
        return hl7v2.parse(message, zone)
    except (Malformed, Unusable):
        raise
    except Exception as exc:
        log.exception("koppeling: een bericht kon niet gelezen worden")
        raise Unusable(f"kon niet gelezen worden ({type(exc).__name__}): meld dit aan wie "
                       "leafletpress beheert") from None  # fmt: skip


async def _next_block(reader: asyncio.StreamReader) -> bytes | str:
    """The next MLLP block's message, or why it is refused. A block too big is read to its
    end and dropped (python-hl7's own reader drops what it read of it, and the rest would be
    read as the next message); so the message after it is read from its start."""
    try:
        block = await reader.readuntil(END)
    except asyncio.LimitOverrunError as exc:
        while True:  # the block, to its end, without keeping it
            await reader.readexactly(exc.consumed)
            try:
                await reader.readuntil(END)
                return f"bericht groter dan {MAX_MESSAGE // 1000} kB"
            except asyncio.LimitOverrunError as more:
                exc = more
    if not block.startswith(START):
        return "geen MLLP-blok (begint niet met het teken VT, 0x0B)"
    return block[len(START) : -len(END)]


START, END = b"\x0b", b"\x1c\r"  # MLLP's start and end of a block


def _handle(block: bytes, peer: str) -> bytes:
    """One message: read, stored and applied, answered."""
    close_old_connections()
    message = None
    try:
        message = hl7v2.read(block)
        zone = service.engine(recent=feed.RECENT).registry.hospital.timezone
        event = _read(message, ZoneInfo(zone))
        answer = feed.accept("hl7", peer, block, event)
    except (Malformed, Unusable) as exc:
        code = "AE" if isinstance(exc, Unusable) else "AR"
        control = hl7v2.control_of(message) if message is not None else ""
        audit(FEED, "bericht geweigerd", detail=f"HL7 {clean(control, 60)} van {peer}: {code} "
                                                f"({exc})"[:300])  # fmt: skip
        return hl7v2.ack(message, code, str(exc), control)
    except Exception:  # the database or the disk: not stored, so the sender must send again
        log.exception("koppeling: bericht van %s niet opgeslagen", peer)
        return hl7v2.ack(message, "AR", "niet opgeslagen door een storing bij leafletpress: "
                                        "stuur het bericht opnieuw")  # fmt: skip
    if FAULT == "na-opslaan":
        os._exit(70)  # the test of a listener killed between storing and acknowledging
    return hl7v2.ack(message, answer.code, answer.text)
