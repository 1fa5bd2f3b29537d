"""Roles: what each kind of account may do. A role is a Django group of that name.

- ``secretariaat``: make, download and print leaflets; run a clinic day.
- ``verzenden``: email a finished day's leaflets to the patients (with the secretariat's role).
- ``redactie``: write and change the leaflets in the browser (drafts), check them, preview
  any leaflet as images (no patient PDFs).
- ``goedkeuring``: the medical owner: approves a draft written by someone else, or sends it
  back; only then is it printed.
- ``beheer``: accounts and roles, unblocking accounts (in the admin), the audit log, and the
  hospital's own data (campuses, consultations, surgeons).

Need to know (``LEAFLETPRESS_NEED_TO_KNOW=1``, or a directory's ``LEAFLETPRESS_SERVICE_GROUPS``):
an account also has one or more *services* (a Django group ``dienst: <service>``, the
service a leaflet names in its front matter); it sees and makes only the leaflets and days
of its services. Without it, the whole secretariat shares everything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden

from .signin import SERVICE

SECRETARIAAT, VERZENDEN = "secretariaat", "verzenden"
REDACTIE, GOEDKEURING, BEHEER = "redactie", "goedkeuring", "beheer"
ROLES = {
    SECRETARIAAT: "folders maken, downloaden en afdrukken; een dag verwerken",
    VERZENDEN: "de folders van een dag e-mailen naar de patiënten",
    REDACTIE: "folderteksten schrijven en wijzigen, controleren; elke folder bekijken",
    GOEDKEURING: "wijzigingen van anderen in de folderteksten goedkeuren of terugsturen",
    BEHEER: "accounts en rollen, campussen en chirurgen, het auditlog",
}


class RoleNeeded(PermissionDenied):
    """This account lacks ``role`` for what it asked (a page or a file): the 403 page names it."""

    def __init__(self, role: str) -> None:
        super().__init__(role)
        self.role = role


def services_of(user: Any) -> set[str] | None:
    """The services whose patients the account may see; None: every service (need-to-know
    is off, or a superuser)."""
    if not settings.NEED_TO_KNOW or getattr(user, "is_superuser", False):
        return None
    if not getattr(user, "is_authenticated", False):
        return set()
    names = user.groups.filter(name__startswith=SERVICE).values_list("name", flat=True)
    return {name.removeprefix(SERVICE) for name in names}


def may_see(user: Any, services: Iterable[str]) -> bool:
    """Whether all of ``services`` are the account's (need to know)."""
    mine = services_of(user)
    return mine is None or set(services) <= mine


def roles_of(user: Any) -> set[str]:
    if not user.is_authenticated:
        return set()
    if user.is_superuser:
        return set(ROLES)
    return set(user.groups.filter(name__in=ROLES).values_list("name", flat=True))


def role_required(*allowed: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., Any]]:
    """Anonymous: to the sign-in page (htmx: a 403, for the page to say so). Signed in without
    the role: a clear 403 page."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                if getattr(request, "htmx", False):  # htmx would swap the sign-in page in
                    return HttpResponseForbidden("Je bent afgemeld.")  # app.js says so
                from django.contrib.auth.views import redirect_to_login

                return redirect_to_login(request.get_full_path())
            if not roles_of(request.user) & set(allowed):
                raise RoleNeeded(" of ".join(allowed))  # views.forbidden: the 403 page
            return view(request, *args, **kwargs)

        return guarded

    return decorator


def context(request: HttpRequest) -> dict[str, object]:
    """Templates show only what the user's roles allow."""
    return {"user_roles": roles_of(request.user), "sign_in": settings.SIGN_IN}
