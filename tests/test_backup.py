"""Backups and their restore (leafletpress/web/backup.py): a running installation with a day
made and emailed is backed up, lost (database emptied, shared folder gone), restored; nothing
is sent twice and the audit log is whole. A restore refuses a damaged backup and an
installation that is not empty, before it changes anything. The same on PostgreSQL, with the
installed wheel, is in tests/test_install.py."""

from __future__ import annotations

import io
import json
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
    assert (
        "Hersteld" in said.getvalue() and "al gelijk aan die van de reservekopie" in said.getvalue()
    )

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
        (lambda backup: _drop_member(backup, "databank.sqlite3"), "geen leesbare reservekopie"),
        (lambda backup: None, "herstellen kan alleen in een lege installatie"),
    ],
    ids=["cut short", "a member changed", "no database", "installation not empty"],
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


def _drop_member(backup: Path, name: str) -> None:
    """The backup without one member, its manifest without it too."""
    rebuilt = backup.with_suffix(".nieuw")
    with tarfile.open(backup) as old, tarfile.open(rebuilt, "w") as new:
        for member in old.getmembers():
            content = old.extractfile(member).read()
            if member.name == "manifest.json":
                listed = json.loads(content)
                del listed["bestanden"][name]
                content = json.dumps(listed).encode()
                member.size = len(content)
            if member.name != name:
                new.addfile(member, io.BytesIO(content))
    rebuilt.replace(backup)


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


def test_temporary_files_and_links_in_the_shared_folder_stay_out_a_linked_content_folder_in(
    tmp_path: Path, settings
) -> None:
    shared, outside = Path(settings.SHARED), tmp_path / "elders"
    (shared / "dagen/d1").mkdir(parents=True)
    (shared / "dagen/d1/.PAT-1.pdf.x1y2.part").write_bytes(b"half")  # a worker writing
    (shared / "dagen/d1/PAT-1.pdf").write_bytes(b"%PDF-1.7 heel")
    outside.mkdir()
    (outside / "geheim.pdf").write_bytes(b"niet van deze installatie")
    (shared / "dagen/d1/link").symlink_to(outside)
    content = tmp_path / "inhoud"
    content.mkdir()
    (content / "leaflets").symlink_to(Path(settings.ROOT) / "leaflets")  # a link into git
    shutil.copytree(Path(settings.ROOT) / "config", content / "config")
    settings.ROOT = content
    with tarfile.open(back_up(tmp_path)) as tar:
        names = set(tar.getnames())
    assert "gedeeld/dagen/d1/PAT-1.pdf" in names
    assert not any(".part" in n or "geheim" in n for n in names)
    assert "inhoud/leaflets/avn-hip/nl.md" in names


def test_two_backups_in_one_second_are_two_files_and_a_stopped_one_leaves_nothing(
    tmp_path: Path, monkeypatch
) -> None:
    import os
    import signal

    import time_machine

    from leafletpress.web import backup

    with time_machine.travel("2026-11-25 09:00:00 +0100", tick=False):
        first, second = back_up(tmp_path), back_up(tmp_path)
    assert first != second and second.name.endswith("-2.tar")

    def killed(stage: Path) -> Path:
        os.kill(os.getpid(), signal.SIGTERM)  # as systemctl stop does, mid-backup
        raise AssertionError("SIGTERM werd niet opgevangen")

    monkeypatch.setattr(backup, "_dump_database", killed)
    with pytest.raises(CommandError, match="onderbroken"):
        call_command("reservekopie", str(tmp_path), stdout=io.StringIO())
    assert {p.name for p in tmp_path.iterdir() if p.is_file()} == {first.name, second.name}
    assert not any(Path(settings.FILE_UPLOAD_TEMP_DIR).iterdir())  # no staging folder left


def test_an_interrupted_restore_runs_again_and_replaces_the_example_content_init_began(
    smtp, tmp_path: Path, settings, monkeypatch
) -> None:
    from leafletpress.common.project import shipped
    from leafletpress.web import backup as backups

    made_day(sender())
    own_config = (Path(settings.ROOT) / "config/email.yaml").read_text()
    backup = back_up(tmp_path)
    lose_everything(Path(settings.SHARED))
    (Path(settings.SHARED) / "dagen").mkdir(parents=True)  # an emptied shared folder
    begun = tmp_path / "inhoud"  # as 'leafletpress init' begins one
    for name in ("leaflets", "config"):
        shutil.copytree(shipped(name), begun / name)
    settings.ROOT = begun
    real = backups._restore_database

    def full_disk(stage: Path) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(backups, "_restore_database", full_disk)
    with pytest.raises(CommandError, match="herstel opnieuw dezelfde reservekopie"):
        call_command("herstel", str(backup), stdout=io.StringIO())
    monkeypatch.setattr(backups, "_restore_database", real)
    said = io.StringIO()
    call_command("herstel", str(backup), stdout=said)
    assert f"inhoud: hersteld in {begun}" in said.getvalue()  # as decided on the first try
    assert (
        begun / "config/email.yaml"
    ).read_text() == own_config  # the hospital's, not the example's
    assert not (Path(settings.SHARED) / backups.RESTORING).exists()


def test_a_member_the_manifest_does_not_list_is_not_restored(
    smtp, tmp_path: Path, settings
) -> None:
    made_day(sender())
    backup = back_up(tmp_path)
    with tarfile.open(backup, "a") as tar:
        extra = tarfile.TarInfo("gedeeld/folders/PAT-9999.pdf")
        extra.size = 4
        tar.addfile(extra, io.BytesIO(b"%PDF"))
    lose_everything(Path(settings.SHARED))
    call_command("herstel", str(backup), stdout=io.StringIO())
    assert not (Path(settings.SHARED) / "folders/PAT-9999.pdf").exists()


def test_after_an_interrupted_restore_no_worker_starts_and_work_done_meanwhile_stops_a_retry(
    smtp, tmp_path: Path, settings, monkeypatch
) -> None:
    from leafletpress.web import backup as backups
    from leafletpress.web.models import SYSTEM, audit

    made_day(sender())
    backup = back_up(tmp_path)
    lose_everything(Path(settings.SHARED))

    def full_disk(stage: Path) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(backups, "_restore_database", full_disk)
    with pytest.raises(CommandError, match="herstel opnieuw dezelfde reservekopie"):
        call_command("herstel", str(backup), stdout=io.StringIO())
    with pytest.raises(CommandError, match="een herstel uit een reservekopie is bezig"):
        call_command("werk", "--", "--batch", stdout=io.StringIO())
    audit(SYSTEM, "aangemeld")  # the web app was used meanwhile
    monkeypatch.undo()
    with pytest.raises(CommandError, match="de databank heeft al gebeurtenissen"):
        call_command("herstel", str(backup), stdout=io.StringIO())
