"""Backups and their restore (leafletpress/web/backup.py): a running installation with a day
made and emailed is backed up, lost (database emptied, shared folder gone), restored; nothing
is sent twice and the audit log is whole. A restore refuses a damaged backup and an
installation that is not empty, before it changes anything. The same on PostgreSQL, with the
installed wheel, is in tests/test_install.py."""

from __future__ import annotations

import io
import shutil
import tarfile
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from test_web import data, made_day, mail_server, sender, work  # noqa: F401

from leafletpress.web.models import AuditEvent, Day
from leafletpress.web.service import send_log

pytestmark = pytest.mark.django_db(transaction=True)


def back_up(folder: Path) -> Path:
    said = io.StringIO()
    call_command("reservekopie", str(folder), stdout=said)
    made = Path(said.getvalue().split(": ", 1)[1].rsplit(" (", 1)[0])
    assert made.parent == folder and made.stat().st_mode & 0o077 == 0  # owner-only
    return made


def lose_everything(shared: Path) -> None:
    """A machine lost: an empty database, no shared folder."""
    call_command("flush", "--noinput", verbosity=0)
    shutil.rmtree(shared)


def events() -> list[tuple]:
    return list(AuditEvent.objects.order_by("id").values_list("id", "at", "user", "action",
                                                              "reference", "detail"))  # fmt: skip


def test_a_day_emailed_then_restored_from_a_backup_sends_nothing_twice_and_keeps_its_audit(
    smtp, tmp_path: Path
) -> None:
    client = sender()
    day = made_day(client)
    client.post(reverse("day_email_send", args=[day.id]))
    work()
    sent = len(smtp.mailbox.received)
    assert sent == 3
    before = events()
    backup = back_up(tmp_path)
    with tarfile.open(backup) as tar:
        names = tar.getnames()
    assert {"manifest.json", "databank.sqlite3", "verzendlog.sqlite"} <= set(names)
    assert any(n.startswith(f"gedeeld/dagen/{day.id}/") and n.endswith("manifest.json")
               for n in names)  # fmt: skip
    assert "inhoud/leaflets/avn-hip/nl.md" in names and not any("sleutel" in n for n in names)

    lose_everything(Path(settings.SHARED))
    said = io.StringIO()
    call_command("herstel", str(backup), stdout=said)
    assert "Hersteld" in said.getvalue() and "niet overschreven" in said.getvalue()

    after = events()
    assert after[: len(before)] == before  # the audit log, whole
    assert [e[3] for e in after[len(before) :]] == ["hersteld"]
    assert Day.objects.get(id=day.id).status == Day.DONE
    assert send_log().is_file()
    again = Client()
    again.force_login(get_user_model().objects.get(username="zender"))
    assert again.get(reverse("day_file", args=[day.id, "afdruk", 0])).status_code == 200
    again.post(reverse("day_email_send", args=[day.id]))
    work()
    assert len(smtp.mailbox.received) == sent  # never twice


@pytest.mark.parametrize(
    ("damage", "said"),
    [
        (lambda backup: backup.write_bytes(backup.read_bytes()[:5000]), "geen leesbare"),
        (lambda backup: _replace_member(backup, "verzendlog.sqlite"), "is beschadigd"),
        (lambda backup: None, "herstellen kan alleen in een lege installatie"),
    ],
    ids=["cut short", "a member changed", "installation not empty"],
)
def test_a_restore_refuses_before_it_changes_anything(
    damage, said: str, smtp, tmp_path: Path
) -> None:
    client = sender()
    made_day(client)
    client.post(reverse("day_email_send", args=[Day.objects.get().id]))
    work()
    backup = back_up(tmp_path)
    damage(backup)
    before = events()
    with pytest.raises(CommandError, match=said):
        call_command("herstel", str(backup), stdout=io.StringIO())
    assert events() == before


def _replace_member(backup: Path, name: str) -> None:
    """The backup with one member's bytes changed, the manifest left as it was."""
    rebuilt = backup.with_suffix(".nieuw")
    with tarfile.open(backup) as old, tarfile.open(rebuilt, "w") as new:
        for member in old.getmembers():
            content = old.extractfile(member).read()
            if member.name == name:
                content = content[:-1] + bytes([content[-1] ^ 1])
            new.addfile(member, io.BytesIO(content))
    rebuilt.replace(backup)
