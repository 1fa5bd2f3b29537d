"""More than one machine, on 127.0.0.1: PostgreSQL from Debian, gunicorn, and workers with a
data folder each that share one folder of files (tests/deployment.py). A day is shared by two
workers, one of them killed mid-part; twenty people make leaflets while three days render."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from types import SimpleNamespace

import psycopg
import pytest
from deployment import Deployment, Postgres, preview
from helpers import ROOT, all_text

sys.path.insert(0, str(ROOT / "benchmarks"))
from clinic_day import clinic_day

ON = date.today() + timedelta(days=30)


@pytest.fixture(scope="module")
def postgres():
    database = Postgres().start()
    yield database
    database.stop()


@pytest.fixture
def deployment(postgres, tmp_path):
    """A fresh database for each test: the schema, then the accounts."""
    with psycopg.connect(postgres.url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as db:
        db.execute("DROP DATABASE IF EXISTS leafletpress WITH (FORCE)")
        db.execute("CREATE DATABASE leafletpress")
    running = Deployment(postgres, tmp_path, lease_seconds=4).start_server()
    running.account("an", "secretariaat")
    yield running
    running.stop()


def test_a_deployment_started_outside_the_tests_has_every_setting_a_machine_needs(
    tmp_path, monkeypatch
) -> None:
    """`make bench` starts one without the tests' environment: with no key file of its own,
    the load benchmark stopped at its first `manage.py` (machines that share a folder need
    one). Every machine of the deployment has the same, as the README asks."""
    monkeypatch.delenv("LEAFLETPRESS_KEY_FILE")
    deployment = Deployment(SimpleNamespace(url="postgresql://127.0.0.1:9/none"), tmp_path)
    deployment.manage("check")  # no database needed: the settings are what is checked
    keys = {deployment.machine(name)["LEAFLETPRESS_KEY_FILE"] for name in ("web", "a", "b")}
    assert keys == {str(tmp_path / "sleutel")}


def test_a_web_server_whose_content_does_not_load_starts_and_leaves_it_to_the_first_page(
    tmp_path,
) -> None:
    """Each gunicorn worker loads the engine as it starts (wsgi.py). Content that does not
    load must not stop it there: gunicorn would give up on its workers and the hospital see
    no page at all, rather than the page that says what is wrong."""
    for name in ("leaflets", "config"):
        shutil.copytree(ROOT / name, tmp_path / "inhoud" / name)
    (tmp_path / "inhoud" / "config" / "sites.yaml").write_text("sites: [\n", encoding="utf-8")
    env = os.environ | {"LEAFLETPRESS_PROJECT": str(tmp_path / "inhoud"),
                        "LEAFLETPRESS_DATA": str(tmp_path / "data")}  # fmt: skip
    booted = subprocess.run([sys.executable, "-c", "import leafletpress.web.wsgi"], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert booted.returncode == 0, booted.stderr
    assert "de inhoud laadt niet (ContentErrors)" in booted.stderr


def wait_until(condition, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if found := condition():
            return found
        time.sleep(0.05)
    raise AssertionError(f"niet binnen {seconds} s: {what}")


def test_two_workers_share_a_day_and_one_killed_mid_part_leaves_its_rows_to_the_other(
    deployment, postgres
) -> None:
    an = deployment.user("an")
    # One leaflet text for all 40 (parts are runs of up to 16 patients of one text; with the
    # generated day's 27 texts most parts held one or two, never seen half made)
    listing = re.sub(r";avn-hip;\w+;[\w-]+;\w+;", ";avn-hip;heupprothese;claes;cadix;",
                     clinic_day(40, ON))  # fmt: skip
    day = an.day_id(an.start_day(listing.encode()))
    first, second = deployment.start_worker("machine-a"), deployment.start_worker("machine-b")
    mid_part = (  # a part of machine A with some leaflets made and some not
        "SELECT id FROM web_daypart WHERE status = 'bezig' AND worker LIKE %s AND done > 0"
        " AND done < jsonb_array_length(rows)"
    )
    killed = wait_until(lambda: postgres.query(mid_part, f"%:{first.pid}"), 120,
                        "machine A halfway a part")[0][0]  # fmt: skip
    first.send_signal(signal.SIGKILL)
    wait_until(lambda: postgres.query("SELECT 1 FROM web_day WHERE status = 'klaar'"), 240,
               "the day made")  # fmt: skip

    parts = postgres.query("SELECT id, rows, worker, claims, made, found FROM web_daypart")
    made = Counter(row for *_, rows_made, _ in parts for row in rows_made)
    found = [row for *_, rows_found in parts for row in rows_found]
    assert max(made.values()) == 1, "no leaflet made twice"
    assert sorted([*made, *found]) == sorted(row for _, rows, *_ in parts for row in rows)
    taken_over = next(p for p in parts if p[0] == killed)
    assert taken_over[2].endswith(f":{second.pid}") and taken_over[3] >= 2
    assert taken_over[5], "what machine A made before it was killed is kept, not made again"

    outcome = postgres.query("SELECT outcome FROM web_day")[0][0]  # JSON, read by psycopg
    assert outcome["counts"] == {"made": 40}
    manifest = deployment.shared / "dagen" / day / outcome["manifests"][0]["path"]
    for record in json.loads(manifest.read_text())["leaflets"]:  # each PDF as journaled
        pdf = (manifest.parent.parent / record["file"]).read_bytes()
        assert hashlib.sha256(pdf).hexdigest() == record["sha256"]
    printed = an.get(f"/dag/{day}/afdruk/0")  # served by gunicorn from the shared folder
    assert printed.status_code == 200 and printed.content[:5] == b"%PDF-"


def test_the_database_itself_keeps_the_audit_log_append_only(deployment, postgres) -> None:
    deployment.user("an")  # signing in is an audit event
    with psycopg.connect(postgres.url) as db:
        for change in ("UPDATE web_auditevent SET detail = 'x'", "DELETE FROM web_auditevent",
                       "TRUNCATE web_auditevent"):  # fmt: skip
            with pytest.raises(psycopg.errors.RaiseException, match="auditlog"):
                db.execute(change)
            db.rollback()
    assert postgres.query("SELECT count(*) FROM web_auditevent")[0][0] >= 1


def test_twenty_people_make_leaflets_while_three_days_render_and_each_gets_their_own(
    deployment, postgres
) -> None:
    users = [f"sec{n}" for n in range(20)]
    for name in users:
        deployment.account(name, "secretariaat")
    for machine in ("machine-a", "machine-b"):
        deployment.start_worker(machine)
    an = deployment.user("an")
    days = [an.start_day(clinic_day(30, ON + timedelta(days=n)).encode()) for n in range(3)]
    on = (ON + timedelta(days=10)).strftime("%d/%m/%Y")

    def person(number: int) -> list[tuple[str, bytes]]:
        user = deployment.user(users[number])
        names = [(f"Patiënt {number}-{k} Ölçer", f"LOAD-{number:02}-{k}") for k in range(2)]
        return [(name, preview(user, name, reference, on)[1]) for name, reference in names]

    with ThreadPoolExecutor(20) as crowd:
        made = [item for items in crowd.map(person, range(20)) for item in items]
    assert len(made) == 40
    for name, pdf in made:  # every PDF is the one its request asked for, and only that one
        text = all_text(pdf)
        assert name in text
        assert not any(other in text for other, _ in made if other != name)
    wait_until(lambda: postgres.query("SELECT count(*) FROM web_day WHERE status = 'klaar'")
               [0][0] == 3, 300, "the three days made")  # fmt: skip
    assert postgres.query("SELECT count(*) FROM web_day WHERE status = 'mislukt'")[0][0] == 0
    for path in days:
        assert "90 folders" not in an.get(path).text  # each day is its own 30
        assert "30 folders gemaakt" in an.get(path + "voortgang").text
    deployment.stop()  # as systemd stops them: each machine's /tmp as it was (render.py)
    assert [p.relative_to(deployment.scratch) for p in deployment.scratch.glob("*/tmp/*")] == []
