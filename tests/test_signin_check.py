"""`manage.py controleer_aanmelding` (signin_check.py) against the real directories of the
tests: slapd on 127.0.0.1 and oidc-provider; each mistake an IT team makes before go-live is
named, with what to do, and nothing is changed."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from directory import GROUP, OidcProvider, Slapd
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from helpers import free_port
from test_web import account, data, ldap_sign_in, slapd  # noqa: F401

from leafletpress.web.signin import settings_from

pytestmark = pytest.mark.django_db(transaction=True)


def said(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("controleer_aanmelding", *args, stdout=out)
        return 0, out.getvalue()
    except CommandError as exc:
        return exc.returncode, out.getvalue()


@pytest.fixture
def directory(request) -> Slapd:
    """slapd, and the app's settings for it (test_web's ``ldap_sign_in``)."""
    return request.getfixturevalue("ldap_sign_in")


def configure(settings, environment: dict[str, str]) -> None:
    for name, value in settings_from(environment).items():
        setattr(settings, name, value)


def test_an_account_in_the_directory_is_found_with_its_groups_and_roles(directory) -> None:
    code, text = said("bo.claes")
    assert code == 0, text
    assert f"in orde: aangemeld bij {directory.url} als (anoniem)" in text
    assert "in orde: 'bo.claes' gevonden: uid=bo.claes,ou=mensen,dc=zas,dc=be" in text
    assert "krijgt de rol(len) secretariaat, verzenden" in text
    assert not get_user_model().objects.filter(username="bo.claes").exists()  # nothing made


@pytest.mark.parametrize(
    ("change", "account", "problem"),
    [
        ({}, "niemand", "geen (of meer dan één) 'niemand' in ou=mensen,dc=zas,dc=be"),
        ({}, "dirk.maes", "'dirk.maes' krijgt geen rol"),
        ({"LEAFLETPRESS_LDAP_BIND_DN": "cn=admin,dc=zas,dc=be",
          "LEAFLETPRESS_LDAP_BIND_PASSWORD": "fout"}, "bo.claes", "kan niet aanmelden"),
        ({"LEAFLETPRESS_ROLE_GROUPS": json.dumps({"secretariaat": GROUP.format("folders-secr")})},
         "an.peeters", "de groep cn=folders-secr,ou=groepen,dc=zas,dc=be bestaat niet"),
        ({"LEAFLETPRESS_LDAP_USER_FILTER": "(sAMAccountName=%(user)s)"}, "an.peeters",
         "(Active Directory: (sAMAccountName=%(user)s))"),
    ],
    ids=["unknown account", "no role", "wrong bind password", "a group's typo", "AD's filter"],
)  # fmt: skip
def test_each_mistake_is_named_with_what_to_do(
    directory, settings, change, account, problem
) -> None:
    configure(settings, directory.environment() | change)
    code, text = said(account)
    assert code == 1 and problem in text and "oplossing:" in text, text


def test_a_directory_that_does_not_answer_is_named_as_such(settings) -> None:
    url = f"ldap://127.0.0.1:{free_port()}"
    configure(settings, Slapd.environment_for(url))
    code, text = said("an.peeters")
    assert code == 1 and f"FOUT: {url} antwoordt niet" in text, text


def test_a_local_account_with_a_directory_name_is_the_name_clash(directory) -> None:
    account("secretariaat")
    get_user_model().objects.filter(username="secretariaat").update(username="an.peeters")
    code, text = said("an.peeters")
    assert code == 1 and "'an.peeters' is ook een lokaal account" in text


@pytest.fixture
def provider(settings):
    started = OidcProvider("https://folders.zas.be/oidc/callback/").start()
    configure(settings, started.environment())
    yield started
    started.stop()


ENTRA = {  # an ID token's claims as Microsoft Entra ID gives them (groups: object ids)
    "sub": "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ", "preferred_username": "an@zas.be",
    "groups": ["5e1c3d1a-8f3b-4b4e-9c55-0b6f7b6d2a11"],
    "tid": "9188040d-6c67-4c5b-b112-36a304b66dad",
}  # fmt: skip


@pytest.mark.parametrize(
    ("claims", "code", "found"),
    [
        (None, 0, "in orde: aanmeldserver http://127.0.0.1:"),
        ({"sub": "an", "preferred_username": "an.peeters", "groups": ["folders-secretariaat"]},
         0, "'an.peeters' krijgt de rol(len) secretariaat"),
        (ENTRA, 1, "de groups-claim bevat object-id's (Entra ID)"),
        (ENTRA | {"groups": None, "_claim_names": {"groups": "src1"}}, 1, "te veel groepen"),
        ({"sub": "x"}, 1, "deze claims geven geen accountnaam"),
    ],
    ids=["discovery", "a good sample", "Entra ID's object ids", "Entra ID's overage", "no name"],
)  # fmt: skip
def test_openid_connect_discovery_and_a_claims_sample(
    provider, tmp_path: Path, claims, code: int, found: str
) -> None:
    args = []
    if claims is not None:
        (tmp_path / "claims.json").write_text(json.dumps(claims))
        args = ["--claims", str(tmp_path / "claims.json")]
    result, text = said(*args)
    assert (result, found in text) == (code, True), text


def test_a_provider_that_does_not_answer_or_names_another_issuer(provider, settings) -> None:
    settings.OIDC_ISSUER = f"http://127.0.0.1:{free_port()}"
    code, text = said()
    assert code == 1 and "geeft geen discovery-document" in text
    settings.OIDC_ISSUER = provider.issuer.replace("127.0.0.1", "localhost")
    code, text = said()
    assert code == 1 and f"noemt zich {provider.issuer}" in text


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"LEAFLETPRESS_LDAP_BIND_DN": "geen-dn", "LEAFLETPRESS_LDAP_BIND_PASSWORD": "x"},
         "kan niet aanmelden"),
        ({"LEAFLETPRESS_LDAP_USERS": "ou=mensn,dc=zas,dc=be"},
         "de zoekbasis ou=mensn,dc=zas,dc=be bestaat niet"),
        ({"LEAFLETPRESS_LDAP_USER_FILTER": "(uid=%(user)s"}, "is geen geldige LDAP-filter"),
    ],
    ids=["a bind DN that is not one", "a search base's typo", "a filter that is not one"],
)  # fmt: skip
def test_a_mistake_in_the_search_itself_is_named_as_such(directory, settings, change, problem):
    configure(settings, directory.environment() | change)
    code, text = said("an.peeters")
    assert code == 1 and problem in text and "Traceback" not in text, text


def test_a_claims_file_that_is_not_an_object_is_said_so(provider, tmp_path: Path) -> None:
    (tmp_path / "claims.json").write_text('["an.peeters"]')
    with pytest.raises(CommandError, match="verwacht een JSON-object"):
        call_command("controleer_aanmelding", "--claims", str(tmp_path / "claims.json"))
