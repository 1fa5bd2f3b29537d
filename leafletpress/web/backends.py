"""Signing in with the hospital's directory: LDAP / Active Directory (django-auth-ldap) or
OpenID Connect (mozilla-django-oidc), set up by signin.py from the environment.

Guarantees: a directory sign-in never enters a local account (one with a password of its own,
or a superuser), whatever the case of its name; a directory account is never a superuser and
gets its roles from its groups only; the OpenID Connect provider's discovery document is read
at the first sign-in through it, not at start, so a provider that is down stops neither the
local accounts nor the workers. The provider's ID token is checked for its audience (this
client) and its times with five minutes' leeway for clocks that differ; a token that fails is a
failed sign-in with its reason in the log, never an error page.
"""

from __future__ import annotations

import json
import logging
import urllib.request
from typing import Any

import jwt
import requests
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_auth_ldap.backend import LDAPBackend
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings
from mozilla_django_oidc.views import (
    OIDCAuthenticationCallbackView,
    OIDCAuthenticationRequestView,
)

from .signin import directory_groups, sync_roles

DISCOVERED = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
}
_discovery: dict[str, dict[str, Any]] = {}
CLOCK_SKEW = 300  # seconds the provider's clock may differ from ours (Kerberos allows as much)
refused = logging.getLogger("django.security.oidc")  # where security alerts look


def account_name(claims: dict[str, Any]) -> str:
    """The account an ID token is for: ``preferred_username``; else the email address if the
    provider verified it; '' when there is none (the sign-in is refused)."""
    name = str(claims.get("preferred_username") or "").strip()
    if not name and claims.get("email_verified") is True:
        name = str(claims.get("email") or "").strip()
    return name if len(name) <= 150 else ""


class ProviderUnreachable(Exception):
    """The OpenID Connect provider did not give its discovery document."""


def local(user: AbstractBaseUser | Any) -> bool:
    """An account of leafletpress itself: it signs in with its own password only."""
    return bool(user.pk) and (user.has_usable_password() or user.is_superuser)


def _from_settings(attr: str, *args: Any) -> Any:
    """mozilla-django-oidc's settings, with the provider's endpoints from its discovery
    document (read once per process, again after a failure)."""
    if attr not in DISCOVERED:
        return import_from_settings(attr, *args)
    issuer = settings.OIDC_ISSUER
    if issuer not in _discovery:
        url = f"{issuer}/.well-known/openid-configuration"
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                _discovery[issuer] = json.load(response)
        except (OSError, ValueError) as exc:
            raise ProviderUnreachable(f"{url}: {exc}") from None
    return _discovery[issuer][DISCOVERED[attr]]


class DirectoryLDAPBackend(LDAPBackend):
    def get_or_build_user(self, username: str, ldap_user: Any) -> tuple[Any, bool]:
        user, built = super().get_or_build_user(username, ldap_user)
        if not built and local(user):
            if request := getattr(ldap_user, "_request", None):
                request.local_account = True
            raise ldap_user.AuthenticationFailed("a local account of that name")
        return user, built


class OIDCBackend(OIDCAuthenticationBackend):
    """An account per ``preferred_username`` (the name staff know), roles from ``groups``."""

    get_settings = staticmethod(_from_settings)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        try:
            super().__init__(*args, **kwargs)
            self.usable = True
        except ProviderUnreachable:
            self.usable = False  # local sign-ins go on; this one refuses

    def authenticate(self, request: HttpRequest | None, **kwargs: Any) -> Any:
        if not self.usable:
            return None
        try:
            return super().authenticate(request, **kwargs)
        except (SuspiciousOperation, jwt.PyJWTError, requests.RequestException) as exc:
            refused.warning("aanmelden met OpenID Connect geweigerd: %s", exc)
            return None

    def _verify_jws(self, payload: Any, key: Any) -> Any:
        """The ID token: signature and algorithm, issuer, audience (and ``azp`` when there are
        more audiences), and its times (iat, exp, nbf), all required."""
        algorithm = jwt.get_unverified_header(payload).get("alg")
        if algorithm != self.OIDC_RP_SIGN_ALGO:
            raise SuspiciousOperation(f"ID-token met algoritme {algorithm!r}")
        try:
            claims = jwt.decode(
                payload, key, algorithms=[algorithm], audience=self.OIDC_RP_CLIENT_ID,
                leeway=CLOCK_SKEW, options={"require": ["iss", "aud", "iat", "exp"]},
            )  # fmt: skip
        except jwt.InvalidTokenError as exc:
            hint = " (verschillen de klokken van deze server en de aanmeldserver?)"
            timing = isinstance(exc, jwt.ImmatureSignatureError | jwt.ExpiredSignatureError)
            raise SuspiciousOperation(f"ID-token ongeldig: {exc}{hint if timing else ''}") from None
        issuer = str(self.get_settings("OIDC_ISSUER")).rstrip("/")
        if str(claims["iss"]).rstrip("/") != issuer:
            raise SuspiciousOperation(f"ID-token van een andere uitgever: {claims['iss']!r}")
        if claims.get("azp", self.OIDC_RP_CLIENT_ID) != self.OIDC_RP_CLIENT_ID:
            raise SuspiciousOperation(f"ID-token voor een andere toepassing: {claims['azp']!r}")
        return claims

    def verify_claims(self, claims: dict[str, Any]) -> bool:
        return bool(self.get_username(claims))

    def get_username(self, claims: dict[str, Any]) -> str:
        return account_name(claims)

    def filter_users_by_claims(self, claims: dict[str, Any]) -> Any:
        return self.UserModel.objects.filter(username__iexact=self.get_username(claims))

    def create_user(self, claims: dict[str, Any]) -> Any:
        user = self.UserModel.objects.create_user(self.get_username(claims),
                                                  email=claims.get("email", ""))  # fmt: skip
        user.set_unusable_password()
        user.save()
        return self.update_user(user, claims)

    def update_user(self, user: Any, claims: dict[str, Any]) -> Any:
        from .models import DirectorySubject

        if local(user):
            return None  # never a local account: the sign-in fails
        subject = str(claims.get("sub") or "")
        bound = DirectorySubject.objects.get_or_create(user=user, defaults={"subject": subject})[0]
        if not subject or bound.subject != subject:  # the name now belongs to someone else
            refused.warning("aanmelden met OpenID Connect geweigerd: account %s hoort bij een "
                            "andere persoon bij de aanmeldserver", user.pk)  # fmt: skip
            return None
        sync_roles(user, directory_groups(claims.get("groups")))
        return user


class OIDCStart(OIDCAuthenticationRequestView):
    """ "Aanmelden met je ziekenhuisaccount": to the provider, or, when it does not answer,
    back to the sign-in page saying so (503)."""

    get_settings = staticmethod(_from_settings)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.unreachable = False
        if settings.SIGN_IN != "oidc":  # the parent reads the provider's settings: there are none
            return
        try:
            super().__init__(*args, **kwargs)
        except ProviderUnreachable:
            self.unreachable = True

    def get(self, request: HttpRequest) -> HttpResponse:
        if settings.SIGN_IN != "oidc":
            return render(request, "web/404.html", status=404)
        if self.unreachable:
            request.directory_down = True  # type: ignore[attr-defined]
            return render(request, "web/login.html", {"next": ""}, status=503)
        response: HttpResponse = super().get(request)
        return response


class OIDCCallback(OIDCAuthenticationCallbackView):
    """Back from the provider (404 unless OpenID Connect is the sign-in)."""

    def get(self, request: HttpRequest) -> HttpResponse:
        if settings.SIGN_IN != "oidc":
            return render(request, "web/404.html", status=404)
        response: HttpResponse = super().get(request)
        return response
