"""Real identity servers on 127.0.0.1 for the sign-in tests: OpenLDAP's ``slapd`` (Debian)
with the hospital's people and groups, and an OpenID Connect provider (``oidc-provider`` from
npm, in tests/oidc/)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from pathlib import Path

from helpers import free_port

BASE = "dc=zas,dc=be"
ADMIN, ADMIN_PASSWORD = f"cn=admin,{BASE}", "directory-admin"
GROUP = "cn={},ou=groepen," + BASE
PEOPLE = {  # uid: (password, groups)
    "an.peeters": ("An-heeft-een-wachtwoord", ["folders-secretariaat"]),
    "bo.claes": ("Bo-heeft-een-wachtwoord", ["folders-secretariaat", "folders-verzenden"]),
    "cas.wouters": ("Cas-heeft-een-wachtwoord", ["ict-beheer"]),
    "dirk.maes": ("Dirk-heeft-een-wachtwoord", []),
}
ROLE_GROUPS = {
    "secretariaat": GROUP.format("folders-secretariaat"),
    "verzenden": GROUP.format("folders-verzenden"),
    "beheer": [GROUP.format("ict-beheer"), GROUP.format("folders-beheer")],
}
SLAPD = "/usr/sbin/slapd"
SCHEMAS = ("core", "cosine", "inetorgperson", "nis")


def wait_for(port: int, process: subprocess.Popen[bytes], what: str) -> None:
    for _ in range(200):
        if process.poll() is not None:
            raise RuntimeError(f"{what} stopte: {process.stdout.read() if process.stdout else ''}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"{what} luistert niet op {port}")


def _ldif() -> str:
    entries = [
        f"dn: {BASE}\nobjectClass: dcObject\nobjectClass: organization\ndc: zas\no: ZAS",
        f"dn: ou=mensen,{BASE}\nobjectClass: organizationalUnit\nou: mensen",
        f"dn: ou=groepen,{BASE}\nobjectClass: organizationalUnit\nou: groepen",
    ]
    for uid, (password, _) in PEOPLE.items():
        given, family = (part.capitalize() for part in uid.split("."))
        entries.append(
            f"dn: uid={uid},ou=mensen,{BASE}\nobjectClass: inetOrgPerson\nuid: {uid}\n"
            f"cn: {given} {family}\ngivenName: {given}\nsn: {family}\n"
            f"mail: {uid}@zas.be\nuserPassword: {password}"
        )
    groups = {g for _, groups in PEOPLE.values() for g in groups} | {"folders-beheer"}
    for group in sorted(groups):
        members = [uid for uid, (_, held) in PEOPLE.items() if group in held] or ["niemand"]
        lines = "".join(f"\nmember: uid={m},ou=mensen,{BASE}" for m in members)
        entries.append(f"dn: {GROUP.format(group)}\nobjectClass: groupOfNames\ncn: {group}{lines}")
    return "\n\n".join(entries) + "\n"


class Slapd:
    """slapd with an MDB database in ``folder``, loaded with PEOPLE, on a free port."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.port = folder, free_port()
        self.url = f"ldap://127.0.0.1:{self.port}"
        (folder / "db").mkdir(parents=True)
        includes = "".join(f"include /etc/ldap/schema/{name}.schema\n" for name in SCHEMAS)
        self.config = folder / "slapd.conf"
        self.config.write_text(
            f"{includes}pidfile {folder}/slapd.pid\nmodulepath /usr/lib/ldap\n"
            f'moduleload back_mdb\ndatabase mdb\nsuffix "{BASE}"\nrootdn "{ADMIN}"\n'
            f"rootpw {ADMIN_PASSWORD}\ndirectory {folder}/db\n"
            "access to attrs=userPassword by anonymous auth by * none\n"
            "access to * by * read\n"
        )
        (folder / "data.ldif").write_text(_ldif())
        load = ["/usr/sbin/slapadd", "-f", str(self.config), "-l", str(folder / "data.ldif")]
        subprocess.run(load, check=True, capture_output=True)

    def start(self) -> Slapd:
        self.process = subprocess.Popen(
            [SLAPD, "-f", str(self.config), "-h", f"{self.url}/", "-d", "0"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        wait_for(self.port, self.process, "slapd")
        return self

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def environment(self) -> dict[str, str]:
        """The settings an IT department would give leafletpress for this directory."""
        return self.environment_for(self.url)

    @staticmethod
    def environment_for(url: str) -> dict[str, str]:
        """The same settings, for a directory at ``url``."""
        return {
            "LEAFLETPRESS_SIGN_IN": "ldap",
            "LEAFLETPRESS_LDAP_URL": url,
            "LEAFLETPRESS_LDAP_USERS": f"ou=mensen,{BASE}",
            "LEAFLETPRESS_LDAP_GROUPS": f"ou=groepen,{BASE}",
            "LEAFLETPRESS_ROLE_GROUPS": json.dumps(ROLE_GROUPS),
        }

    def leave(self, uid: str, group: str) -> None:
        """Take someone out of a group, as the hospital's IT would."""
        import ldap

        connection = ldap.initialize(self.url)
        connection.simple_bind_s(ADMIN, ADMIN_PASSWORD)
        member = f"uid={uid},ou=mensen,{BASE}".encode()
        connection.modify_s(GROUP.format(group), [(ldap.MOD_DELETE, "member", [member])])
        connection.unbind_s()


OIDC_DIR = Path(__file__).parent / "oidc"


class OidcProvider:
    """oidc-provider (Node.js) on a free port, with one client for leafletpress."""

    def __init__(self, redirect_uri: str) -> None:
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.client_id, self.client_secret = "leafletpress", "een-geheim-voor-de-test"
        self.redirect_uri = redirect_uri

    def start(self) -> OidcProvider:
        accounts = {uid: {"email": f"{uid}@zas.be", "groups": groups}
                    for uid, (_, groups) in PEOPLE.items()}  # fmt: skip
        env = {**os.environ, "OIDC_ACCOUNTS": json.dumps(accounts)}
        self.process = subprocess.Popen(
            ["node", str(OIDC_DIR / "provider.mjs"), str(self.port), self.client_id,
             self.client_secret, self.redirect_uri],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        wait_for(self.port, self.process, "oidc-provider")
        return self

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)

    def environment(self) -> dict[str, str]:
        return {
            "LEAFLETPRESS_SIGN_IN": "oidc",
            "LEAFLETPRESS_OIDC_ISSUER": self.issuer,
            "LEAFLETPRESS_OIDC_CLIENT_ID": self.client_id,
            "LEAFLETPRESS_OIDC_CLIENT_SECRET": self.client_secret,
            "LEAFLETPRESS_ROLE_GROUPS": json.dumps(
                {
                    "secretariaat": "folders-secretariaat",
                    "verzenden": "folders-verzenden",
                    "beheer": ["ict-beheer", "folders-beheer"],
                }
            ),
        }
