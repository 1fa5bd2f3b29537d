"""The appointment feed's web side: the FHIR R4 endpoint the hospital system posts its
Appointments to, and the secretary's "Nagekeken" on a day the feed made.

The endpoint is for a system, not a person: it answers only a sender address of
``settings.FEED_SENDERS`` with the bearer token ``settings.FEED_TOKEN`` (without a token it is
not there: 404), and answers in FHIR (``OperationOutcome``): 200 stored and applied; 422
valid FHIR but not usable, with the reason in Dutch; 400 not valid FHIR; 401, 403, 413.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from ..feed import fhir
from ..feed.events import Malformed, Unusable, clean
from . import feed, service
from .models import FEED, Day, audit
from .roles import SECRETARIAAT, role_required
from .signin import client_address

log = logging.getLogger(__name__)
MAX_BODY = 1_000_000
FHIR_JSON = "application/fhir+json"


def _answer(status: int, text: str, severity: str = "error") -> HttpResponse:
    return HttpResponse(fhir.outcome(severity, text), status=status, content_type=FHIR_JSON)


def _sender_allowed(address: str) -> bool:
    try:
        found = ipaddress.ip_address(address)
        networks = [ipaddress.ip_network(a, strict=False) for a in settings.FEED_SENDERS]
    except ValueError:
        return False
    return any(found in network for network in networks)


@csrf_exempt
@require_POST
def appointment(request: HttpRequest) -> HttpResponse:
    """POST [base]/Appointment: one Appointment (with its Patient contained) or a Bundle."""
    if not settings.FEED_TOKEN:
        raise Http404("geen FHIR-koppeling ingesteld")
    address = client_address(request) or "?"
    if not _sender_allowed(address):  # first: a stranger learns nothing of the token
        audit(FEED, "bericht geweigerd", detail=f"FHIR van {clean(address, 60)}: geen toegelaten "
                                                "afzender")  # fmt: skip
        return _answer(403, "dit adres mag geen afspraken sturen (LEAFLETPRESS_FEED_SENDERS)")
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(given.encode(), settings.FEED_TOKEN.encode()):
        audit(FEED, "bericht geweigerd", detail=f"FHIR van {clean(address, 60)}: geen of een "
                                                "verkeerd token")  # fmt: skip
        response = _answer(401, "geen of een verkeerd token (Authorization: Bearer …)")
        response["WWW-Authenticate"] = 'Bearer realm="leafletpress"'
        return response
    if request.content_type not in (FHIR_JSON, "application/json"):
        return _answer(415, f"stuur {FHIR_JSON}")
    if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_BODY:
        return _answer(413, f"bericht groter dan {MAX_BODY // 1000} kB")
    return _received(request.body, address)


def _received(body: bytes, address: str) -> HttpResponse:
    """A post read, stored and answered: 200, 422 (AE), 400 (AR), 503 (not stored: again)."""
    try:
        zone = service.engine(recent=feed.RECENT).registry.hospital.timezone
        event = fhir.parse(body, ZoneInfo(zone))
    except (Malformed, Unusable) as exc:
        audit(FEED, "bericht geweigerd", detail=f"FHIR van {clean(address, 60)}: {exc}"[:300])
        return _answer(422 if isinstance(exc, Unusable) else 400, str(exc))
    try:
        answer = feed.accept("fhir", address, body, event)
    except Exception:  # the database or the disk: not stored
        log.exception("koppeling: FHIR-bericht van %s niet opgeslagen", address)
        return _answer(503, "niet opgeslagen door een storing bij leafletpress: stuur opnieuw")
    if answer.code == feed.REJECTED:
        return _answer(503 if answer.later else 409, answer.text)
    if answer.code != "AA":
        return _answer(422, answer.text)
    return _answer(200, answer.text or "ontvangen en verwerkt", severity="information")


@role_required(SECRETARIAAT)
@require_POST
def day_checked(request: HttpRequest, pk: Any) -> HttpResponse:
    """ "Nagekeken": she looked at this version of a day the feed made; it may be emailed by
    itself when its time comes (config/koppeling.yaml, timing)."""
    from .views import _visible_day

    seen = _visible_day(request, pk)
    with transaction.atomic():
        the_day = get_object_or_404(Day.objects.select_for_update(), pk=seen.pk)
        if the_day.feed and not the_day.purged and not the_day.outcome.get("checked"):
            feed.checked_by(the_day, request.user)
    return redirect("day", the_day.id)


def about(day: Day) -> dict[str, Any] | None:
    """What the day page says of a day the feed made: the codes to add to the mapping, who
    looked at it, and when it is made and emailed by itself."""
    if not day.feed:
        return None
    mapping = feed.configured()[0]
    on = date.fromisoformat(day.feed.split("|", 1)[0])
    timing = mapping.timing if mapping is not None else None
    before = day.feed.split("|")[1] == "voor"
    email = timing.email if timing is not None and before else None
    unknown = (day.outcome.get("feed") or {}).get("unknown", {})
    return {
        "unknown": sorted(((int(row), said) for row, said in unknown.items())),
        "checked": _moment(day.outcome.get("checked") or {}),
        "cancelled": (day.outcome.get("cancelled") or "")[:10],
        "email_on": None if email is None else on - timedelta(days=email) if email else "boeking",
        "email_unchecked": bool(timing and timing.email_unchecked),
        "newer": None if day == (latest := feed.current(day.feed)) else latest,
    }


def _moment(said: dict[str, str]) -> dict[str, Any] | None:
    """Who did it and when (a moment to show), or None."""
    return {"by": said["by"], "at": datetime.fromisoformat(said["at"])} if said else None
