"""The logs (leafletpress/web/logs.py): one format for the commands, the requests and gunicorn,
JSON lines when asked, the level a setting, no banner lines, the request id and account on a
request's lines, and never a patient's name or address while a day is made and emailed."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.urls import reverse
from helpers import ROOT, free_port
from mailserver import ROWS
from test_web import account, data, made_day, mail_server, sender, work  # noqa: F401

from leafletpress.web import logs

pytestmark = pytest.mark.django_db(transaction=True)
KEYS = ["tijd", "niveau", "logger", "request_id", "account", "bericht"]


def environment(tmp_path: Path, **settings: str) -> dict[str, str]:
    database = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    return os.environ | {"LEAFLETPRESS_DATA": str(tmp_path / "data"), "DATABASE_URL": database,
                         **settings}  # fmt: skip


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)  # fmt: skip


@pytest.mark.parametrize("shape", ["json", "text"])
def test_a_worker_writes_every_line_in_the_chosen_format_and_no_banner(tmp_path, shape) -> None:
    env = environment(tmp_path, LEAFLETPRESS_LOG_FORMAT=shape)
    assert manage(env, "migrate", "-v0").returncode == 0
    done = manage(env, "werk", "--", "--batch", "--no-startup-delay")
    lines = done.stderr.splitlines()
    assert done.returncode == 0 and lines, done.stderr
    assert not any("AXES" in line or "pikepdf" in line for line in lines)
    for line in lines:
        if shape == "json":
            assert list(json.loads(line)) == KEYS
        else:
            assert re.match(  # the moment in UTC, as every process writes it
                r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (INFO|WARNING) \S+ \[- -\] ", line
            )
    assert any("django_tasks" in line for line in lines)  # the worker's own lines, all of them


def test_the_level_is_a_setting_and_a_wrong_one_is_named(tmp_path) -> None:
    env = environment(tmp_path, LEAFLETPRESS_LOG_LEVEL="WARNING")
    assert manage(env, "migrate", "-v0").returncode == 0
    assert manage(env, "werk", "--", "--batch", "--no-startup-delay").stderr == ""
    for setting, value in (("LEAFLETPRESS_LOG_LEVEL", "luid"), ("LEAFLETPRESS_LOG_FORMAT", "xml")):
        with pytest.raises(ImproperlyConfigured, match=setting):
            logs.config({setting: value})
        wrong = manage(environment(tmp_path, **{setting: value}), "check")
        assert wrong.returncode == 2 and setting in wrong.stderr and "Traceback" not in wrong.stderr


def test_gunicorn_writes_its_own_lines_in_the_same_format(tmp_path) -> None:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "leafletpress.web.wsgi", "--config",
         "python:leafletpress.web.gunicorn_config", "--bind", f"127.0.0.1:{port}"],
        cwd=ROOT, env=environment(tmp_path, LEAFLETPRESS_LOG_FORMAT="json"),
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    first = server.stderr.readline()  # "Starting gunicorn …"
    for _ in range(100):
        try:
            requests.get(f"http://127.0.0.1:{port}/gezond/", timeout=5)  # not an access line
            break
        except requests.ConnectionError:
            time.sleep(0.1)
    server.terminate()
    rest = server.communicate(timeout=60)[1]
    records = [json.loads(line) for line in [first, *rest.splitlines()] if line]
    assert "gunicorn.error" in {r["logger"] for r in records}
    assert any("Listening at" in r["bericht"] for r in records), records
    assert not any(r["logger"] == "gunicorn.access" for r in records)  # nginx keeps those


def capture() -> tuple[logging.Handler, io.StringIO]:
    """A handler as the app's console one, JSON lines into a buffer, on the root logger."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.addFilter(logs.Context())
    handler.setFormatter(logs.Json())
    handler.setLevel(logging.DEBUG)
    handler.addFilter(lambda record: not record.name.startswith("mail.log"))  # the test's server
    logging.getLogger().addHandler(handler)
    return handler, buffer


def test_a_requests_lines_carry_its_id_and_account_and_the_answer_names_the_id() -> None:
    client = Client()
    client.force_login(account("secretariaat"))
    handler, buffer = capture()
    try:
        given = client.get(f"/folder/{uuid.uuid4()}/", headers={"X-Request-ID": "nginx-42"})
        made_up = client.get(f"/folder/{uuid.uuid4()}/", headers={"X-Request-ID": "a b\nc"})
    finally:
        logging.getLogger().removeHandler(handler)
    assert given.status_code == 404 and given["X-Request-ID"] == "nginx-42"
    assert re.fullmatch(r"[0-9a-f]{16}", made_up["X-Request-ID"])  # not a line break of its own
    lines = [json.loads(line) for line in buffer.getvalue().splitlines()]
    missing = [line for line in lines if line["logger"] == "django.request"]
    assert [(r["request_id"], r["account"]) for r in missing] == [
        ("nginx-42", "secretariaat"), (made_up["X-Request-ID"], "secretariaat")]  # fmt: skip


def test_making_and_emailing_a_day_logs_no_patient_name_or_address(smtp, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    handler, buffer = capture()
    try:
        client = sender()
        day = made_day(client)
        client.post(reverse("day_email_send", args=[day.id]))
        work()
    finally:
        logging.getLogger().removeHandler(handler)
    assert len(smtp.mailbox.received) == 3
    written = buffer.getvalue()
    assert written.count("\n") > 10  # the worker, the tasks, the mail server said things
    for row in ROWS[1:]:
        _, name, birth, _, address, *_ = row.split(";")
        for private in (name, *name.split(), birth, address):
            assert not private or private not in written, private


@pytest.mark.parametrize("formatter", [logs.Text(), logs.Json()], ids=["text", "json"])
def test_an_address_is_hidden_in_the_message_and_in_a_traceback(formatter) -> None:
    try:
        raise ValueError("geen bezorging aan o'brien@zäs.be")
    except ValueError:
        args = ("RCPT", '550 <"marie peeters"@example.org>')
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "de server weigert %s: %s",
                                   args, sys.exc_info())  # fmt: skip
    logs.Context().filter(record)
    line = formatter.format(record)
    assert "de server weigert RCPT: 550 <<adres>>" in line and "geen bezorging aan <adres>" in line
    assert "@" not in line
