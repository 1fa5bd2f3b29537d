"""Issue 26: the content edited, checked, approved and kept in the browser, in-process.

The content folder is a copy (a git repository of its own, begun on first use); the accounts
are made as the README says. The whole path in Chromium is in test_browser.py.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from helpers import KNOWN_NOW, ROOT, all_text
from mailserver import ROWS
from test_cli import GOOD
from test_web import account, data, later, made_day, signed_in, upload, work  # noqa: F401

from leafletpress.check import check_project
from leafletpress.common.project import Project
from leafletpress.content import history
from leafletpress.web import drafts
from leafletpress.web.models import AuditEvent, Day, Draft

pytestmark = pytest.mark.django_db(transaction=True)
NL = "leaflets/avn-hip/nl.md"
FR = "leaflets/avn-hip/fr.md"
ONE_PATIENT = {"leaflet": "avn-hip", "variant": "heupprothese", "site": "cadix", "surgeon": "claes",
               "date": "2026-12-15", "time": "08:30", "name": "Test Patiënt", "lang": "nl",
               "moment": "voor"}  # fmt: skip


@pytest.fixture(autouse=True)
def content(settings, project_copy: Path) -> Path:
    """The hospital's own content folder: a copy, so the browser may change it."""
    settings.ROOT = project_copy
    return project_copy


def typed(client: Client, path: str, text: str, revision: int) -> tuple[int, dict]:
    answer = client.post(
        reverse("content_save"),
        json.dumps({"path": path, "text": text, "revision": revision}),
        content_type="application/json",
    )
    return answer.status_code, answer.json()


def changed(text: str) -> str:
    return text.replace(
        "Het verbindt je bekken met je dijbeen", "Het verbindt je bekken met je bovenbeen"
    )


def submitted(client: Client, path: str = NL, text: str | None = None) -> Draft:
    before = (Path(drafts.service.project().root) / path).read_text()
    status, body = typed(client, path, text or changed(before), 0)
    assert status == 200, body
    draft = Draft.objects.get(pk=body["concept"])
    answer = client.post(
        reverse("content_submit", args=[draft.pk]),
        {"revisie": body["revisie"], "nota": "bovenbeen: zoals patiënten het zeggen"},
    )
    assert answer.status_code == 302
    draft.refresh_from_db()
    assert draft.status == Draft.SUBMITTED, client.session.get("melding")
    return draft


def approve(client: Client, draft: Draft, version: str = "3.4") -> Client:
    return client.post(
        reverse("content_decide", args=[draft.pk]),
        {
            "besluit": "goedkeuren",
            "revisie": draft.revision,
            "versie": version,
            "nota": "nagekeken",
        },
    )


def test_a_draft_is_saved_as_typed_and_never_reaches_the_content_folder(content) -> None:
    editor = signed_in("redactie")
    before = (content / NL).read_text()
    status, body = typed(editor, NL, changed(before), 0)
    assert status == 200 and body["revisie"] == 1
    assert (content / NL).read_text() == before  # approved files only
    assert history.unapproved(drafts.service.project()) == []
    assert Draft.objects.get().editors == ["redactie"]
    assert AuditEvent.objects.filter(action="concept begonnen", leaflet=NL).exists()


def test_two_editors_are_told_before_one_overwrites_the_other(content) -> None:
    first, second = signed_in("redactie"), Client()
    second.force_login(account_named("lien", "redactie"))
    text = (content / NL).read_text()
    assert typed(first, NL, changed(text), 0)[0] == 200
    status, body = typed(second, NL, text + "\nmijn versie", 0)  # typed on the approved text
    assert status == 409 and body["door"] == "redactie"
    assert typed(first, NL, changed(text) + "\nverder", 1)[0] == 200
    status, body = typed(second, NL, "mijn versie", 1)  # one revision behind now
    assert status == 409 and "intussen gewijzigd" in body["fout"]
    assert "verder" in Draft.objects.get().text


def account_named(name: str, role: str) -> User:
    user = User.objects.create_user(name, password="x" * 20)
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


def test_nobody_approves_a_draft_they_wrote_and_the_approver_sees_the_difference(content) -> None:
    both = Client()
    both.force_login(writer := account_named("an", "redactie"))
    writer.groups.add(Group.objects.get_or_create(name="goedkeuring")[0])
    draft = submitted(both)
    answer = approve(both, draft)
    assert answer.status_code == 302
    assert "zelf schreef" in both.session["melding"]
    assert Draft.objects.get().status == Draft.SUBMITTED
    owner = signed_in("goedkeuring")
    page = owner.get(reverse("content_draft", args=[draft.pk])).content.decode()
    assert '<del><span class="visually-hidden">verwijderd: </span>zitten' not in page
    assert "bovenbeen" in page and "<ins>" in page and "<del>" in page
    assert "Goedgekeurd nu" in page and "Met dit concept" in page  # pages side by side
    assert 'value="3.4"' in page  # the next version, suggested


def test_an_approved_draft_is_the_next_version_with_who_when_and_why(content) -> None:
    draft = submitted(signed_in("redactie"))
    answer = approve(signed_in("goedkeuring"), draft)
    assert answer.status_code == 302
    text = (content / NL).read_text()
    assert "bovenbeen" in text and 'version: "3.4"' in text
    assert f"updated: {KNOWN_NOW.date().isoformat()}" in text
    newest = history.versions(drafts.service.project(), NL)[0]
    assert newest.username == "goedkeuring" and newest.note == "nagekeken"
    log = subprocess.run(
        ["git", "-C", str(content), "log", "-1", "--format=%an%n%B"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Geschreven-door: redactie" in log  # IT reads it with ordinary tools
    actions = list(AuditEvent.objects.filter(leaflet=NL).values_list("action", flat=True))
    assert {"concept begonnen", "concept ingediend", "versie goedgekeurd"} <= set(actions)
    overview = signed_in("redactie").get(reverse("content_check")).content.decode()
    assert "Loopt achter op het Nederlands" in overview  # fr and en translate 3.3


def test_a_draft_sent_back_carries_the_comment_and_can_be_edited_again(content) -> None:
    editor = signed_in("redactie")
    draft = submitted(editor)
    owner = signed_in("goedkeuring")
    owner.post(
        reverse("content_decide", args=[draft.pk]),
        {"besluit": "terugsturen", "opmerking": "zeg ook waarom"},
    )
    draft.refresh_from_db()
    assert draft.status == Draft.EDITING and draft.comment == "zeg ook waarom"
    page = editor.get(reverse("content_edit", args=[NL])).content.decode()
    assert "Teruggestuurd door goedkeuring" in page and "zeg ook waarom" in page


def test_a_submitted_draft_is_not_changed_under_the_approvers_eyes(content) -> None:
    editor = signed_in("redactie")
    draft = submitted(editor)
    status, body = typed(editor, NL, "iets anders", draft.revision)
    assert status == 409 and "ter goedkeuring" in body["fout"]


def test_the_check_names_the_line_as_it_is_typed(content) -> None:
    editor = signed_in("redactie")
    text = (content / NL).read_text().replace("Daardoor sterft", "[[onbekend]] Daardoor sterft")
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "[[onbekend]]" in row)
    crlf = text.replace("\n", "\r\n")  # as a browser's form sends it
    html = editor.post(reverse("content_findings"), {"path": NL, "text": crlf}).content.decode()
    assert f'data-line="{line}"' in html and "onbekend" in html
    assert "Leesbaarheid (doel: B1)" in html and "Wat is avasculaire necrose?" in html


def test_a_front_matter_error_points_at_its_key(content) -> None:
    text = (content / NL).read_text().replace("fasting_hours: 6", "fasting_hours: zes")
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "fasting_hours" in row)
    found = drafts.findings(NL, text)
    assert any(f.line == line and not f.warning for f in found), found


def test_the_preview_is_the_draft_for_a_fictional_patient(content) -> None:
    editor = signed_in("redactie")
    text = changed((content / NL).read_text())
    body = editor.post(
        reverse("content_preview"),
        {"path": NL, "text": text, "variant": "osteotomie", "moment": "voor", "edition": "a5"},
    ).json()
    assert body["sleutel"] and body["paginas"] >= 4
    pdf = drafts.previews() / f"{body['sleutel']}.pdf"
    words = all_text(pdf.read_bytes())
    assert "Voorbeeld Patiënt" in words and "bovenbeen" in words and "Osteotomie" in words
    image = editor.get(reverse("content_preview_page", args=[body["sleutel"], 1]))
    assert image["Content-Type"] == "image/png"


def test_a_translation_that_lags_is_previewed_in_its_own_language(content) -> None:
    approve(signed_in("goedkeuring"), submitted(signed_in("redactie")))  # Dutch 3.4 now
    french = (content / FR).read_text().replace("articulation sphérique", "articulation ronde")
    made = drafts.preview(FR, french, {"variant": "heupprothese"})
    words = all_text((drafts.previews() / f"{made.key}.pdf").read_bytes())
    assert "articulation ronde" in words and "Nécrose avasculaire" in words
    found = drafts.findings(FR, french)
    assert any("loopt achter" in f.message and f.line for f in found)


def test_a_hand_edit_in_the_content_folder_is_never_printed(content, cli) -> None:
    drafts.project()  # the history begun, as the web app does on first use
    path = content / NL
    path.write_text(path.read_text().replace("kogelgewricht", "KOGEL"))
    code, out, err = cli("--project", str(content), "check")
    assert code == 1 and "gewijzigd buiten de goedkeuring om" in out + err
    code, _, err = cli("--project", str(content), *GOOD, "--out-dir", str(content.parent / "uit"))
    assert code == 3 and "niet goedgekeurd" in err and "leaflets/avn-hip/nl.md" in err
    assert not (content.parent / "uit").exists() or not any((content.parent / "uit").rglob("*.pdf"))
    secretary = signed_in("secretariaat")
    answer = secretary.post(
        reverse("patient"),
        ONE_PATIENT,
    )
    assert "niet goedgekeurd" in answer.content.decode()


def test_restoring_an_old_version_is_a_new_draft_approved_again(content) -> None:
    draft = submitted(signed_in("redactie"))
    approve(signed_in("goedkeuring"), draft)
    first = history.versions(drafts.service.project(), NL)[-1]
    editor = signed_in("redactie")
    editor.post(reverse("content_restore", args=[NL]), {"versie": first.commit})
    restored = Draft.objects.get(status=Draft.EDITING)
    assert "bovenbeen" not in restored.text and "bovenbeen" in (content / NL).read_text()
    page = editor.get(reverse("content_versions", args=[NL]) + "?op=2026-11-25").content.decode()
    assert "De versie van" in page  # the one in force at the end of that day
    page = editor.get(
        reverse("content_versions", args=[NL]), {"versie": first.commit}
    ).content.decode()
    key = re.search(r"/inhoud/voorbeeld/([0-9a-f]{32})\.pdf", page)[1]
    printed = all_text(editor.get(reverse("content_preview_pdf", args=[key])).getvalue())
    assert "bovenbeen" not in printed and "Voorbeeld Patiënt" in printed  # as printed then


def test_a_day_keeps_the_version_it_started_with(content) -> None:
    secretary = signed_in("secretariaat")
    upload(secretary, ROWS[:2])
    day = Day.objects.latest("created")
    drafts.project()
    version = drafts.service.content_version()
    secretary.post(reverse("day_make", args=[day.id]), {"edition": "a5", "vervangt": ""})
    draft = submitted(signed_in("redactie"))  # approved while the day waits for a worker
    approve(signed_in("goedkeuring"), draft)
    work()
    day.refresh_from_db()
    assert day.status == Day.DONE and day.content == version
    manifest = next(day.out_dir.rglob("manifest*.json"))
    assert '"3.3"' in manifest.read_text()  # not 3.4


def test_a_retired_surgeon_is_no_longer_offered_or_accepted(content) -> None:
    manager = signed_in("beheer")
    text = (content / "config/surgeons.yaml").read_text()
    retired = text.replace(
        "    sites: [cadix, palfijn]\n", "    sites: [cadix, palfijn]\n    retired: 2026-11-01\n", 1
    )
    status, body = typed(manager, "config/surgeons.yaml", retired, 0)
    assert status == 200
    answer = manager.post(
        reverse("content_submit", args=[body["concept"]]),
        {"revisie": body["revisie"], "nota": "dr. Claes is met pensioen"},
    )
    assert answer.status_code == 302 and "claes" not in drafts.service.choices()["surgeons"]
    secretary = signed_in("secretariaat")
    page = secretary.post(
        reverse("patient"),
        ONE_PATIENT,
    ).content.decode()
    assert "geen chirurg van het ziekenhuis meer" in page
    assert (
        history.versions(drafts.service.project(), "config/surgeons.yaml")[0].username == "beheer"
    )


def test_the_history_of_approvals_is_in_the_backup_and_comes_back_with_it(
    content, settings, tmp_path
) -> None:
    approve(signed_in("goedkeuring"), submitted(signed_in("redactie")))
    said = io.StringIO()
    call_command("reservekopie", str(tmp_path), stdout=said)
    backup = said.getvalue().split(": ", 1)[1].rsplit(" (", 1)[0]
    call_command("flush", "--noinput", verbosity=0)  # the machine lost
    shutil.rmtree(settings.SHARED)
    begun = tmp_path / "nieuw"  # as 'leafletpress init' begins one
    for name in ("leaflets", "config"):
        shutil.copytree(ROOT / name, begun / name)
    settings.ROOT = begun
    call_command("herstel", backup, stdout=io.StringIO())
    restored = history.versions(drafts.service.project(), NL)
    assert [v.note for v in restored] == ["nagekeken", ""] and history.unapproved(
        Project(begun)
    ) == []


def test_a_leaflet_is_redacties_and_the_hospitals_data_beheers(content) -> None:
    page = signed_in("beheer").get(reverse("content_edit", args=[NL]))
    assert page.status_code == 403 and "ze is voor de rol redactie" in page.content.decode()
    own = signed_in("redactie").get(reverse("content_edit", args=["config/surgeons.yaml"]))
    assert own.status_code == 403 and "ze is voor de rol beheer" in own.content.decode()


def test_the_source_checkouts_example_is_never_edited(settings) -> None:
    settings.ROOT = ROOT
    page = signed_in("redactie").get(reverse("content_check")).content.decode()
    assert "schrijven niet" in page
    assert typed(signed_in("redactie"), NL, "x", 0)[0] == 409


def test_the_cli_prints_the_approved_version_only(content, cli, tmp_path) -> None:
    draft = submitted(signed_in("redactie"))

    def printed() -> str:
        code, _, err = cli("--project", str(content), *GOOD, "--out-dir", str(tmp_path))
        assert code == 0, err
        return all_text(max(tmp_path.rglob("*.pdf"), key=lambda p: p.stat().st_mtime).read_bytes())

    assert "bovenbeen" not in printed()
    approve(signed_in("goedkeuring"), draft)
    assert "bovenbeen" in printed()


# --- what the hostile review of issue 26 found ---------------------------------------------


def test_a_fact_every_translation_shares_is_changed_in_dutch_and_the_translations_lag(
    content,
) -> None:
    text = (content / NL).read_text().replace("fasting_hours: 6", "fasting_hours: 8")
    text = text.replace("Vanaf 6 uur vóór", "Vanaf 8 uur vóór")
    draft = submitted(signed_in("redactie"), NL, text)
    assert approve(signed_in("goedkeuring"), draft).status_code == 302
    assert "fasting_hours: 8" in (content / NL).read_text()
    problems = check_project(Project(content), KNOWN_NOW.date())
    lagging = [p for p in problems if p.error.file == FR and "timing" in str(p.error)]
    assert lagging and all(p.warning for p in lagging)  # the Dutch is printed meanwhile


BOMB = "".join(f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9) if n else 'x'}]\n" for n in range(9))


@pytest.mark.parametrize(
    ("change", "said"),
    [
        pytest.param(lambda t: t.replace("---\n", "---\n" + BOMB, 1), "verwijzingen",
                     id="an alias that multiplies itself is refused at once"),
        pytest.param(lambda t: t.replace('version: "3.3"\n', 'version: "3.3"\nversion: "9"\n'),
                     "twee keer", id="a key given twice is refused, not the last one taken"),
    ],
)  # fmt: skip
def test_yaml_a_person_would_not_write_is_refused_at_its_line(content, change, said) -> None:
    text = change((content / NL).read_text())
    started = time.monotonic()
    found = [f for f in drafts.findings(NL, text) if not f.warning and not f.file]
    assert time.monotonic() - started < 5
    assert any(said in f.message and f.line for f in found), found


def test_an_editors_stray_files_are_no_change_but_a_new_leaflet_file_is(content, cli) -> None:
    drafts.project()
    (content / "leaflets/avn-hip/nl.md~").write_text("backup")
    (content / "config/.DS_Store").write_bytes(b"\0")
    assert history.unapproved(Project(content)) == []
    code, _, err = cli("--project", str(content), *GOOD, "--out-dir", str(content.parent / "uit"))
    assert code == 0, err
    (content / "leaflets/knie").mkdir()
    (content / "leaflets/knie/nl.md").write_text("---\n")
    assert history.unapproved(Project(content)) == ["leaflets/knie/nl.md"]


def test_an_approval_is_not_stopped_by_a_git_status_or_a_stale_index_lock(content) -> None:
    draft = submitted(signed_in("redactie"))
    (content / ".git/index.lock").write_text("")  # IT's git status, or one that was killed
    assert approve(signed_in("goedkeuring"), draft).status_code == 302
    assert Draft.objects.get(pk=draft.pk).status == Draft.APPROVED
    assert "bovenbeen" in (content / NL).read_text()
    (content / ".git/index.lock").unlink()
    assert history.unapproved(Project(content)) == []


def test_an_approval_stopped_after_its_commit_is_finished_when_approved_again(content) -> None:
    draft = submitted(signed_in("redactie"))
    folder = Project(content)
    before = (content / NL).read_text()
    landed = history.commit(folder, {NL: draft.text}, history.Person("B", "goedkeuring"),
                            f"Goedgekeurd\n\nnagekeken\n\nConcept: {draft.pk}\n")  # fmt: skip
    (content / NL).write_text(before)  # killed before the file was written
    assert history.unapproved(folder) == [NL]
    history.settle(folder)  # as the next commit does first
    assert history.unapproved(folder) == [] and "bovenbeen" in (content / NL).read_text()
    (content / NL).write_text(before.replace("kogelgewricht", "HAND"))  # a hand edit stays
    history.settle(folder)
    assert history.unapproved(folder) == [NL]
    (content / NL).write_text(draft.text)
    approve(signed_in("goedkeuring"), draft)  # the retry: no second commit, the draft decided
    assert Draft.objects.get(pk=draft.pk).commit == landed == history.head(folder)


@pytest.mark.parametrize("version", ["3.²", "٣.٥", "3." + "9" * 5000, '3.4"\nx: "1'])
def test_a_version_that_is_no_version_is_refused_in_words(content, version) -> None:
    draft = submitted(signed_in("redactie"))
    answer = approve(signed_in("goedkeuring"), draft, version)
    assert answer.status_code == 302 and Draft.objects.get(pk=draft.pk).status == Draft.SUBMITTED


def test_control_characters_in_a_change_note_never_reach_the_history(content) -> None:
    draft = submitted(signed_in("redactie"))
    owner = signed_in("goedkeuring")
    note = "na\x1fge\x1eke\x00ken"
    owner.post(reverse("content_decide", args=[draft.pk]), {"besluit": "goedkeuren",
               "revisie": draft.revision, "versie": "3.4", "nota": note})  # fmt: skip
    assert history.versions(Project(content), NL)[0].note == "nagekeken"
    assert owner.get(reverse("content_versions", args=[NL])).status_code == 200


def test_without_git_a_folder_with_a_history_prints_nothing(content, cli, monkeypatch) -> None:
    drafts.project()
    monkeypatch.setenv("PATH", str(content.parent / "leeg"))
    code, _, err = cli("--project", str(content), *GOOD, "--out-dir", str(content.parent / "uit"))
    assert code == 3 and "git ontbreekt" in err


def test_a_retired_campus_is_never_the_fictional_patients(content) -> None:
    sites = (content / "config/sites.yaml").read_text()
    sites = sites.replace(
        "    day_hospital: true\n", "    day_hospital: true\n    retired: 2026-11-01\n", 1
    )
    (content / "config/sites.yaml").write_text(sites)  # augustinus, the leaflet's first campus
    made = drafts.preview(NL, (content / NL).read_text(), {})
    assert made.key and not made.problems


def test_a_translation_is_begun_from_the_dutch_and_approved_as_its_version(content) -> None:
    (content / "leaflets/avn-hip/en.md").unlink()  # before the history begins: never there
    editor = signed_in("redactie")
    page = editor.get(reverse("content_check")).content.decode()
    assert "Vertaling beginnen" in page
    answer = editor.post(reverse("content_translate", args=["avn-hip", "en"]))
    assert answer.status_code == 302 and answer["Location"].endswith("leaflets/avn-hip/en.md")
    draft = Draft.objects.get(path="leaflets/avn-hip/en.md")
    assert draft.text == (content / NL).read_text()  # the translator replaces it
    assert editor.post(reverse("content_translate", args=["avn-hip", "en"])).status_code == 302
    assert Draft.objects.filter(path="leaflets/avn-hip/en.md").count() == 1  # once
    editor.post(reverse("content_submit", args=[draft.pk]), {"revisie": draft.revision,
                "nota": "Engelse vertaling"})  # fmt: skip
    draft.refresh_from_db()
    approve(signed_in("goedkeuring"), draft, "3.3")
    assert 'version: "3.3"' in (content / "leaflets/avn-hip/en.md").read_text()


def test_a_leaflet_that_lists_a_retired_campus_is_a_warning(content) -> None:
    sites = (content / "config/sites.yaml").read_text()
    retired = "    day_hospital: true\n    retired: 2026-11-01\n"
    (content / "config/sites.yaml").write_text(
        sites.replace("    day_hospital: true\n", retired, 1)
    )
    problems = check_project(Project(content), KNOWN_NOW.date())
    said = [p for p in problems if "geen campus meer" in str(p.error)]
    assert said and all(p.warning for p in said) and said[0].error.file == NL


def test_page_images_asked_for_at_once_are_made_one_at_a_time(content) -> None:
    """pdfium is not thread-safe: a page asks for its images at once and gunicorn serves them
    with several threads. Two at once crashed the process (a segmentation fault)."""
    from concurrent.futures import ThreadPoolExecutor

    made = drafts.preview(NL, (content / NL).read_text(), {})
    pdf = drafts.previews() / f"{made.key}.pdf"
    pages = [n for _ in range(40) for n in range(1, made.pages + 1)]
    with ThreadPoolExecutor(max_workers=12) as pool:
        images = list(pool.map(lambda n: drafts.service.page_image(pdf, n), pages))
    assert all(image and image[:4] == b"\x89PNG" for image in images)
