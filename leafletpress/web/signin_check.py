"""Before go-live: does signing in with the hospital's directory work, for one account?
(`manage.py controleer_aanmelding`, docs/install.md "Sign-in").

Input: the sign-in settings (signin.py) and an account name; for OpenID Connect, optionally
the claims of one of its ID tokens as JSON (the provider's token tester shows them).
Output: findings, each good or a problem with what to do, in Dutch, in the order they are
tried: LDAP: the service account's bind, the account's search, its groups and the roles and
services they give, each configured group looked up; OpenID Connect: the discovery document
and the provider's keys, then what a sample of claims gives (account name, roles, services).
Nothing is changed: no account is made, no role given.

It uses the sign-in's own code paths (django-auth-ldap's user and group searches, the
OpenID Connect backend's account name and the same group mapping), so what it says is what
a sign-in will do.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import requests
from django.conf import settings
from django.contrib.auth import get_user_model

from .backends import account_name, local
from .signin import directory_groups, mapped

OBJECT_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)


@dataclass(frozen=True)
class Finding:
    good: bool
    text: str
    hint: str = ""


def check(account: str, claims: dict[str, Any] | None = None) -> Iterator[Finding]:
    mode = settings.SIGN_IN
    if mode == "ldap":
        yield from _ldap(account)
    elif mode == "oidc":
        yield from _oidc(claims)
    else:
        yield Finding(True, "LEAFLETPRESS_SIGN_IN=local: alleen accounts van leafletpress zelf")
    if account:
        yield from _local_account(account, mode)


def _local_account(account: str, mode: str) -> Iterator[Finding]:
    user = get_user_model().objects.filter(username=account).first()
    if user is not None and local(user) and mode != "local":
        yield Finding(
            False,
            f"'{account}' is ook een lokaal account: wie zich met de directory "
            "zo aanmeldt, wordt geweigerd",
            "laat beheer het lokale account "
            "verwijderen, of geef het een andere naam (het noodaccount)",
        )


def _roles(groups: list[str], who: str) -> Iterator[Finding]:
    roles, services = mapped(groups)
    if roles:
        yield Finding(
            True,
            f"{who} krijgt de rol(len) {', '.join(roles)}"
            + (f" en dienst(en) {', '.join(services)}" if services else ""),
        )
    else:
        yield Finding(
            False,
            f"{who} krijgt geen rol: geen van de groepen in LEAFLETPRESS_ROLE_GROUPS",
            "zet de persoon in een van die groepen, of "
            "kijk de namen in LEAFLETPRESS_ROLE_GROUPS na",
        )


# --- LDAP ------------------------------------------------------------------------------------


def _ldap(account: str) -> Iterator[Finding]:
    import ldap
    from django_auth_ldap.backend import LDAPBackend, _LDAPUser

    backend = LDAPBackend()
    url, bind = settings.AUTH_LDAP_SERVER_URI, settings.AUTH_LDAP_BIND_DN or "(anoniem)"
    try:
        connection = _LDAPUser(backend, username=account or "-")._get_connection()
        connection.simple_bind_s(settings.AUTH_LDAP_BIND_DN, settings.AUTH_LDAP_BIND_PASSWORD)
    except (ldap.SERVER_DOWN, ldap.TIMEOUT, ldap.CONNECT_ERROR) as exc:
        yield Finding(
            False,
            f"{url} antwoordt niet ({_said(exc)})",
            "kijk het adres, de poort, "
            "de firewall en het certificaat (LEAFLETPRESS_LDAP_CA_FILE) na",
        )
        return
    except (ldap.INVALID_CREDENTIALS, ldap.INVALID_DN_SYNTAX, ldap.UNWILLING_TO_PERFORM) as exc:
        yield Finding(
            False,
            f"het dienstaccount {bind} kan niet aanmelden bij {url} ({_said(exc)})",
            "kijk LEAFLETPRESS_LDAP_BIND_DN (een volledige DN) en _BIND_PASSWORD na",
        )
        return
    except ldap.LDAPError as exc:
        yield Finding(False, f"aanmelden bij {url} mislukte ({_said(exc)})")
        return
    yield Finding(True, f"aangemeld bij {url} als {bind}")
    yield from _groups_exist(connection)
    if account:
        wrong = list(_user_search(connection, account))
        yield from wrong or _ldap_account(_LDAPUser(backend, username=account), account)


def _ldap_account(user: Any, account: str) -> Iterator[Finding]:
    import ldap

    try:
        dn = user.dn
    except ldap.LDAPError as exc:
        yield Finding(
            False,
            f"zoeken naar '{account}' mislukte ({_said(exc)})",
            "kijk LEAFLETPRESS_LDAP_USERS en _USER_FILTER na",
        )
        return
    if dn is None:
        search = settings.AUTH_LDAP_USER_SEARCH
        yield Finding(
            False,
            f"geen (of meer dan één) '{account}' in {search.base_dn} met {search.filterstr}",
            "kijk de naam, LEAFLETPRESS_LDAP_USERS en "
            "_USER_FILTER na (Active Directory: (sAMAccountName=%(user)s))",
        )
        return
    yield Finding(True, f"'{account}' gevonden: {dn}")
    groups = sorted(user.group_dns)
    yield Finding(True, f"groepen: {'; '.join(groups) or '(geen)'}")
    yield from _roles(groups, f"'{account}'")


def _user_search(connection: Any, account: str) -> Iterator[Finding]:
    """The search itself: a base that does not exist or a filter that is not one is named as
    such (django-auth-ldap only says it found no one)."""
    import ldap
    from ldap.filter import escape_filter_chars

    search = settings.AUTH_LDAP_USER_SEARCH
    try:
        connection.search_s(search.base_dn, ldap.SCOPE_BASE, attrlist=["1.1"])
    except ldap.NO_SUCH_OBJECT:
        yield Finding(False, f"de zoekbasis {search.base_dn} bestaat niet in de directory",
                      "kijk LEAFLETPRESS_LDAP_USERS na")  # fmt: skip
        return
    except ldap.LDAPError:
        return  # said by the search that follows
    try:
        wanted = search.filterstr % {"user": escape_filter_chars(account)}
        connection.search_s(search.base_dn, ldap.SCOPE_SUBTREE, wanted, ["1.1"])
    except (ldap.FILTER_ERROR, ValueError, TypeError, KeyError) as exc:
        yield Finding(False, f"{search.filterstr} is geen geldige LDAP-filter ({_said(exc)})",
                      "kijk LEAFLETPRESS_LDAP_USER_FILTER na, bv. (uid=%(user)s)")  # fmt: skip
    except ldap.LDAPError:
        pass


def _groups_exist(connection: Any) -> Iterator[Finding]:
    """Each group named in the settings, looked up: a typo in a DN gives no one a role."""
    import ldap

    named = {
        g
        for groups in (*settings.ROLE_GROUPS.values(), *settings.SERVICE_GROUPS.values())
        for g in groups
    }
    for group in sorted(named):
        try:
            connection.search_s(group, ldap.SCOPE_BASE, attrlist=["1.1"])
        except ldap.NO_SUCH_OBJECT:
            yield Finding(
                False,
                f"de groep {group} bestaat niet in de directory",
                "kijk de naam na in LEAFLETPRESS_ROLE_GROUPS of _SERVICE_GROUPS",
            )
        except ldap.LDAPError as exc:
            yield Finding(False, f"de groep {group} kan niet gelezen worden ({_said(exc)})")


def _said(exc: Exception) -> str:
    info = exc.args[0] if exc.args and isinstance(exc.args[0], dict) else {}
    return str(info.get("desc") or info.get("info") or exc)


# --- OpenID Connect --------------------------------------------------------------------------


def _oidc(claims: dict[str, Any] | None) -> Iterator[Finding]:
    issuer = settings.OIDC_ISSUER
    try:
        found = _json(f"{issuer}/.well-known/openid-configuration")
        keys = _json(found["jwks_uri"]).get("keys", [])
    except (requests.RequestException, ValueError, KeyError, TypeError) as exc:
        yield Finding(
            False,
            f"de aanmeldserver {issuer} geeft geen discovery-document of sleutels ({exc})",
            "kijk LEAFLETPRESS_OIDC_ISSUER na (zonder "
            "/.well-known/…) en of deze server hem kan bereiken",
        )
        return
    if found.get("issuer", "").rstrip("/") != issuer:
        yield Finding(
            False,
            f"de aanmeldserver noemt zich {found.get('issuer')}, niet {issuer}",
            "zet LEAFLETPRESS_OIDC_ISSUER precies zo",
        )
        return
    if not keys:
        yield Finding(False, f"de aanmeldserver {issuer} geeft geen sleutels ({found['jwks_uri']})",
                      "zonder sleutel kan geen ID-token gecontroleerd worden: vraag het de "
                      "beheerder van de aanmeldserver")  # fmt: skip
        return
    yield Finding(
        True,
        f"aanmeldserver {issuer}: {len(keys)} sleutel(s), "
        f"aanmelden via {found.get('authorization_endpoint')}",
    )
    asked = set(settings.OIDC_RP_SCOPES.split()) - set(found.get("scopes_supported") or [])
    if asked and found.get("scopes_supported"):
        yield Finding(
            False,
            f"de aanmeldserver kent de scope(s) {', '.join(sorted(asked))} niet",
            "haal ze uit LEAFLETPRESS_OIDC_SCOPES (Entra ID: groepen komen via de "
            "tokenconfiguratie van de app, niet via een scope)",
        )
    if claims is not None:
        yield from _claims(claims)


def _claims(claims: dict[str, Any]) -> Iterator[Finding]:
    name = account_name(claims)
    if not name:
        yield Finding(
            False,
            "deze claims geven geen accountnaam (preferred_username, of een "
            "geverifieerd e-mailadres)",
            "laat de aanmeldserver preferred_username meegeven (scope profile)",
        )
        return
    yield Finding(True, f"accountnaam: {name}")
    if "groups" in (claims.get("_claim_names") or {}) or claims.get("hasgroups"):
        yield Finding(
            False,
            "de groepen staan niet in het token (te veel groepen: Entra ID "
            "geeft dan een verwijzing)",
            "beperk de groepen in de tokenconfiguratie "
            "tot de groepen die aan de app toegewezen zijn",
        )
    groups = directory_groups(claims.get("groups"))
    named = [g for names in settings.ROLE_GROUPS.values() for g in names]
    if any(OBJECT_ID.fullmatch(g) for g in groups) and not any(
        OBJECT_ID.fullmatch(g) for g in named
    ):
        yield Finding(
            False,
            "de groups-claim bevat object-id's (Entra ID), LEAFLETPRESS_ROLE_GROUPS namen",
            "zet de object-id's van de groepen "
            "in LEAFLETPRESS_ROLE_GROUPS (Entra-beheercentrum, Groepen, Object-id)",
        )
    yield from _roles(groups, f"'{name}'")


def _json(url: str) -> dict[str, Any]:
    """As the sign-in reads the provider (requests, with its certificates)."""
    answer = requests.get(url, timeout=5)
    answer.raise_for_status()
    found = answer.json()
    if not isinstance(found, dict):
        raise ValueError(f"{url}: geen JSON-object")
    return found
