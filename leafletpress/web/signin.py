"""Sign-in with the hospital's directory: settings from the environment, roles from groups.

``LEAFLETPRESS_SIGN_IN`` chooses: ``local`` (the default: accounts kept by the app), ``ldap``
(LDAP or Active Directory, with django-auth-ldap) or ``oidc`` (OpenID Connect, with
mozilla-django-oidc). Local accounts keep working in every mode (a way in when the directory
is down). ``LEAFLETPRESS_ROLE_GROUPS`` maps each role to the directory's group(s): LDAP group
DNs, or names in the identity provider's ``groups`` claim. At each sign-in the account's roles
are set from its groups, so taking someone out of a group takes the role away.

Input: the environment. Output: Django settings (``settings_from``) and the backends that
sign in (``backends.OIDCBackend``, and ``sync_roles`` on each sign-in from the directory).
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

MODES = ("local", "ldap", "oidc")
AXES = "axes.backends.AxesStandaloneBackend"  # first: refuses a locked-out sign-in
LOCAL = "django.contrib.auth.backends.ModelBackend"
LDAP = "leafletpress.web.backends.DirectoryLDAPBackend"
OIDC = "leafletpress.web.backends.OIDCBackend"
ROLES = (
    "secretariaat",
    "verzenden",
    "redactie",
    "goedkeuring",
    "beheer",
)  # roles.ROLES, without Django
SERVICE = "dienst: "  # a service's group: "dienst: Orthopedie en Traumatologie" (roles.py)


def settings_from(env: Mapping[str, str]) -> dict[str, Any]:
    """The sign-in settings the environment asks for; a clear error for what is missing."""
    mode = env.get("LEAFLETPRESS_SIGN_IN", "local")
    if mode not in MODES:
        raise ImproperlyConfigured(f"LEAFLETPRESS_SIGN_IN is '{mode}': kies {', '.join(MODES)}")
    found: dict[str, Any] = {"SIGN_IN": mode, "ROLE_GROUPS": _role_groups(env, mode),
                             "SERVICE_GROUPS": _service_groups(env)}  # fmt: skip
    if mode == "ldap":  # local accounts first: a directory that hangs never stops them
        found |= _ldap(env)
        found["AUTHENTICATION_BACKENDS"] = [AXES, LOCAL, LDAP]
    elif mode == "oidc":
        found |= _oidc(env)
        found["AUTHENTICATION_BACKENDS"] = [AXES, LOCAL, OIDC]
    else:
        found["AUTHENTICATION_BACKENDS"] = [AXES, LOCAL]
    return found


def _service_groups(env: Mapping[str, str]) -> dict[str, list[str]]:
    """LEAFLETPRESS_SERVICE_GROUPS: {"service": "group" or ["group", ...]}, as JSON; the
    service as leaflets name it (front matter ``service``). Empty: services are set by beheer."""
    text = env.get("LEAFLETPRESS_SERVICE_GROUPS", "")
    if not text:
        return {}
    example = '{"Orthopedie en Traumatologie": "cn=orthopedie,ou=groepen,dc=zas,dc=be"}'
    try:
        found = json.loads(text)
    except ValueError:
        found = None
    if isinstance(found, dict):
        groups = {k: [v] if isinstance(v, str) else v for k, v in found.items()}
        if groups and all(isinstance(k, str) and k.strip() and isinstance(v, list) and v and
                          all(isinstance(n, str) and n.strip() for n in v)
                          for k, v in groups.items()):  # fmt: skip
            return groups
    raise ImproperlyConfigured(
        f"LEAFLETPRESS_SERVICE_GROUPS: geef per dienst een groep of een lijst van groepen, als "
        f"JSON ('{text[:60]}'); bv. {example}"
    )


def _need(env: Mapping[str, str], name: str, example: str) -> str:
    if not env.get(name):
        raise ImproperlyConfigured(f"zet {name}, bv. {example}")
    return env[name]


def _role_groups(env: Mapping[str, str], mode: str) -> dict[str, list[str]]:
    """LEAFLETPRESS_ROLE_GROUPS: {"role": "group" or ["group", ...]}, as JSON."""
    if mode == "local":
        return {}
    example = '{"secretariaat": "cn=folders-secretariaat,ou=groepen,dc=zas,dc=be"}'
    text = _need(env, "LEAFLETPRESS_ROLE_GROUPS", example)
    try:
        found = json.loads(text)
    except ValueError:
        raise ImproperlyConfigured(
            f"LEAFLETPRESS_ROLE_GROUPS is geen geldige JSON ('{text[:60]}'); bv. {example}"
        ) from None
    wrong = ImproperlyConfigured(
        f"LEAFLETPRESS_ROLE_GROUPS: geef voor één of meer rollen ({', '.join(ROLES)}) een "
        f"groep of een lijst van groepen; bv. {example}"
    )
    if not isinstance(found, dict) or not found or set(found) - set(ROLES):
        raise wrong
    groups = {role: [names] if isinstance(names, str) else names for role, names in found.items()}
    for names in groups.values():
        if not isinstance(names, list) or not names:
            raise wrong
        if not all(isinstance(name, str) and name.strip() for name in names):
            raise wrong
    return groups


def _ldap(env: Mapping[str, str]) -> dict[str, Any]:
    import ldap
    from django_auth_ldap.config import (
        GroupOfNamesType,
        LDAPSearch,
        NestedActiveDirectoryGroupType,
    )

    kind = env.get("LEAFLETPRESS_LDAP_GROUP_TYPE", "groupOfNames")
    types = {"groupOfNames": GroupOfNamesType, "activeDirectory": NestedActiveDirectoryGroupType}
    if kind not in types:
        raise ImproperlyConfigured(
            f"LEAFLETPRESS_LDAP_GROUP_TYPE is '{kind}': kies groupOfNames of activeDirectory"
        )
    users = _need(env, "LEAFLETPRESS_LDAP_USERS", "ou=mensen,dc=zas,dc=be")
    groups = _need(env, "LEAFLETPRESS_LDAP_GROUPS", "ou=groepen,dc=zas,dc=be")
    user_filter = env.get("LEAFLETPRESS_LDAP_USER_FILTER", "(uid=%(user)s)")
    options: dict[Any, Any] = {ldap.OPT_REFERRALS: 0, ldap.OPT_NETWORK_TIMEOUT: 5,
                               ldap.OPT_TIMEOUT: 10}  # a server that hangs: an error  # fmt: skip
    if ca := env.get("LEAFLETPRESS_LDAP_CA_FILE"):
        options[ldap.OPT_X_TLS_CACERTFILE] = ca
        options[ldap.OPT_X_TLS_NEWCTX] = 0
    url = _need(env, "LEAFLETPRESS_LDAP_URL", "ldaps://dc1.zas.be")
    start_tls = env.get("LEAFLETPRESS_LDAP_START_TLS") == "1"
    if url.lower().startswith("ldap://") and not start_tls and not _loopback(url):
        raise ImproperlyConfigured(
            f"LEAFLETPRESS_LDAP_URL is '{url}': zonder versleuteling gaan de wachtwoorden "
            "leesbaar over het netwerk; gebruik ldaps://… of zet LEAFLETPRESS_LDAP_START_TLS=1"
        )
    return {
        "AUTH_LDAP_SERVER_URI": url,
        "AUTH_LDAP_BIND_DN": env.get("LEAFLETPRESS_LDAP_BIND_DN", ""),
        "AUTH_LDAP_BIND_PASSWORD": env.get("LEAFLETPRESS_LDAP_BIND_PASSWORD", ""),
        "AUTH_LDAP_START_TLS": start_tls,
        "AUTH_LDAP_CONNECTION_OPTIONS": options,
        "AUTH_LDAP_USER_SEARCH": LDAPSearch(users, ldap.SCOPE_SUBTREE, user_filter),
        "AUTH_LDAP_GROUP_SEARCH": LDAPSearch(groups, ldap.SCOPE_SUBTREE),
        "AUTH_LDAP_GROUP_TYPE": types[kind](),
        "AUTH_LDAP_USER_ATTR_MAP": {
            "first_name": "givenName",
            "last_name": "sn",
            "email": "mail",
        },
        "AUTH_LDAP_ALWAYS_UPDATE_USER": True,
        "AUTH_LDAP_FIND_GROUP_PERMS": False,
    }


def _oidc(env: Mapping[str, str]) -> dict[str, Any]:
    """The provider; its endpoints are read from its discovery document at the first sign-in
    through it (backends.py), so a provider that is down stops nothing else."""
    issuer = _need(env, "LEAFLETPRESS_OIDC_ISSUER", "https://login.zas.be/realms/zas")
    if not issuer.lower().startswith("https://") and not _loopback(issuer):
        raise ImproperlyConfigured(
            f"LEAFLETPRESS_OIDC_ISSUER is '{issuer}': zonder https kan wie het adres beantwoordt "
            "zijn eigen sleutel geven en zich als iedereen aanmelden; gebruik https://…"
        )
    return {
        "OIDC_ISSUER": issuer.rstrip("/"),
        "OIDC_RP_CLIENT_ID": _need(env, "LEAFLETPRESS_OIDC_CLIENT_ID", "leafletpress"),
        "OIDC_RP_CLIENT_SECRET": _need(env, "LEAFLETPRESS_OIDC_CLIENT_SECRET", "(geheim)"),
        "OIDC_RP_SIGN_ALGO": "RS256",
        "OIDC_RP_SCOPES": env.get("LEAFLETPRESS_OIDC_SCOPES", "openid email profile groups"),
        "OIDC_USE_PKCE": True,
        "OIDC_CREATE_USER": True,
        "OIDC_STORE_ID_TOKEN": False,
        "OIDC_AUTHENTICATE_CLASS": "leafletpress.web.backends.OIDCStart",
        "LOGIN_REDIRECT_URL_FAILURE": "/aanmelden/?mislukt=1",
    }


def without_password(request: Any, credentials: Mapping[str, Any] | None = None) -> bool:
    """For django-axes, which counts wrong passwords per account and address: a sign-in that
    names no account (through the OpenID Connect provider, which locks out its own accounts)
    is neither counted nor locked out here, or a few failed ones from one terminal server
    would lock everybody there out of the provider's sign-in."""
    return not (credentials or {}).get("username")


UNKNOWN = "(onbekend account)"  # what is kept of a name no account has: it may be a password


def typed_account(request: Any, credentials: Mapping[str, Any] | None = None) -> str:
    """For django-axes: the account a failed sign-in names, if there is one. Axes stored what
    was typed, and a password typed in the name field was shown to beheer in clear."""
    from django.contrib.auth import get_user_model

    typed = str((credentials or {}).get("username") or request.POST.get("username", ""))[:150]
    return typed if get_user_model().objects.filter(username=typed).exists() else UNKNOWN


def directory_groups(value: Any) -> list[str]:
    """The ``groups`` claim as names: a name or a list of them; anything else is no group."""
    found = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    return [name.strip() for name in found if isinstance(name, str) and name.strip()]


def _same(name: str) -> str:
    """A group as compared: case and the spaces around a DN's parts do not count."""
    return ",".join(part.strip() for part in name.split(",")).lower()


def mapped(groups: Iterable[str]) -> tuple[list[str], list[str]]:
    """The roles and the services a directory account's groups give it."""
    from django.conf import settings

    held = {_same(g) for g in groups}
    roles = [role for role, names in settings.ROLE_GROUPS.items()
             if held & {_same(n) for n in names}]  # fmt: skip
    services = [service for service, names in settings.SERVICE_GROUPS.items()
                if held & {_same(n) for n in names}]  # fmt: skip
    return roles, services


def sync_roles(user: Any, groups: Iterable[str]) -> None:
    """Give a directory account exactly the roles its groups map to; never more (not a
    superuser; the admin only for beheer, as maak_account does)."""
    from django.conf import settings
    from django.contrib.auth.models import Group

    wanted, found = mapped(groups)
    services = [f"{SERVICE}{service}" for service in found]
    user.is_superuser, user.is_staff = False, "beheer" in wanted
    user.save()
    others = user.groups.exclude(name__in=ROLES)
    if settings.SERVICE_GROUPS:  # the directory says which services: beheer's are replaced
        others = others.exclude(name__startswith=SERVICE)
    given = [*wanted, *services]
    user.groups.set([*others, *(Group.objects.get_or_create(name=name)[0] for name in given)])


def ldap_signed_in(sender: Any, user: Any, ldap_user: Any, **kwargs: Any) -> None:
    """django-auth-ldap's populate_user: the account's roles from its LDAP groups."""
    sync_roles(user, ldap_user.group_dns)


def ldap_unreachable(sender: Any, request: Any = None, exception: Any = None, **kw: Any) -> None:
    """django-auth-ldap's ldap_error: when the directory does not answer, the sign-in page
    says so, instead of "wrong password"."""
    import ldap

    if request is not None and isinstance(exception, ldap.SERVER_DOWN | ldap.TIMEOUT):
        request.directory_down = True


def _loopback(url: str) -> bool:
    """A server on this machine (tests, a development setup): its traffic never leaves it."""
    host = urlsplit(url).hostname or ""
    return host == "localhost" or (_is_address(host) and ipaddress.ip_address(host).is_loopback)


def client_address(request: Any) -> str | None:
    """The address a request comes from. Behind ``settings.PROXIES`` proxies, the entry the
    nearest of them appended to X-Forwarded-For (counted from the right: what a client wrote
    there itself is further left, and never trusted); else the connection's own address."""
    from django.conf import settings

    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    proxies = getattr(settings, "PROXIES", 0)
    if proxies and len(forwarded) >= proxies and _is_address(forwarded[-proxies]):
        return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR") or None


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
