#!/usr/bin/env python3
"""The database a previous release leaves behind, for the upgrade test (tests/test_install.py).

Input: a release tag (``v0.2.0``). Output: ``tests/fixtures/upgrade-<tag>.sql``, a plain SQL
dump (``pg_dump --inserts``, no owner, no privileges) of a PostgreSQL database that this
release's own code migrated and used: an account ``an`` (secretariaat, verzenden; password
below), one patient's leaflet and the example clinic day made by its worker, with their audit
events. Run it once per release, from the checkout, with the checkout's .venv:

    .venv/bin/python tools/upgrade_fixture.py v0.2.0

The release's code runs from a temporary copy of the tag (``git archive``), against a private
PostgreSQL cluster (tests/deployment.py), so nothing of the current code is used.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(HERE / "tests"))
from deployment import PASSWORD, Postgres  # noqa: E402

USE = f"""
import leafletpress
assert leafletpress.__file__.startswith("RELEASE"), leafletpress.__file__
from django.core.management import call_command
from django.test import Client
web = Client()
assert web.post("/aanmelden/", {{"username": "an", "password": "{PASSWORD}"}}).status_code == 302
made = web.post("/folder/", {{"moment": "voor", "leaflet": "avn-hip", "variant": "heupprothese",
    "site": "cadix", "surgeon": "claes", "time": "8u30", "lang": "nl", "edition": "a5",
    "name": "Marie Peeters", "reference": "PAT-0042", "date": "15/12/2026"}})
assert made.status_code in (200, 302), made.status_code
with open("examples/dag-2026-12-15.csv", "rb") as listing:
    checked = web.post("/dag/", {{"lijst": listing}}, follow=True)
day = checked.redirect_chain[-1][0]
assert web.post(day + "maak", {{"edition": "a5"}}).status_code in (200, 302)
call_command("db_worker", "--batch")
"""


def main(tag: str) -> int:
    out = HERE / "tests" / "fixtures" / f"upgrade-{tag}.sql"
    database = Postgres().start()
    try:
        with tempfile.TemporaryDirectory(prefix="leafletpress-release-") as folder:
            release = Path(folder)
            archive = subprocess.run(["git", "archive", tag], cwd=HERE, check=True,
                                     capture_output=True).stdout  # fmt: skip
            subprocess.run(["tar", "-x", "-C", str(release)], input=archive, check=True)
            env = {"PATH": "/usr/bin:/bin", "HOME": folder, "DATABASE_URL": database.url,
                   "LEAFLETPRESS_DATA": str(release / "data"), "LEAFLETPRESS_HOSTS": "testserver",
                   "LEAFLETPRESS_KEY_FILE": str(release / "sleutel")}  # fmt: skip
            account = ["maak_account", "an", "--rol", "secretariaat", "--rol", "verzenden"]
            use = ["shell", "-c", USE.replace("RELEASE", folder)]
            for command in (["migrate", "-v0"], account, use):
                subprocess.run([sys.executable, "manage.py", *command], cwd=release, check=True,
                               env=env | {"LEAFLETPRESS_WACHTWOORD": PASSWORD})  # fmt: skip
        dump = subprocess.run(
            [str(database.bin / "pg_dump"), "--inserts", "--no-owner", "--no-privileges",
             database.url], check=True, capture_output=True, text=True,
        ).stdout  # fmt: skip
        header = f"-- The database leafletpress {tag} leaves: tools/upgrade_fixture.py {tag}\n"
        out.write_text(header + dump)
    finally:
        database.stop()
    print(out.relative_to(HERE))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "v0.2.0"))
