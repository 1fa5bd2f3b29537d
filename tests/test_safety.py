"""Patient data is escaped and never evaluated; rendering reads only project assets; files are
written atomically and only inside the output folder."""

from __future__ import annotations

import http.server
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import ROOT, normalise, page_texts

from leafletpress.common.errors import OutputError
from leafletpress.common.files import inside, write_atomic
from leafletpress.content.markup import body_html, fill
from leafletpress.visit.naming import leaflet_file_name

HOSTILE_NAMES = [
    "<img src=file:///etc/passwd>",
    "{{ 7*7 }}",
    "**x**",
    "Ünal Çelik-O'Brien",
    "{% include 'leaflet.html.j2' %}",
    "[[patient_name]] & <b>vet</b>",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_patient_names_are_printed_literally(renderer, personalisation, name: str) -> None:
    p = personalisation(name=name)
    html = renderer.composer.whole(p)
    assert "<img src=file" not in html and "<b>vet" not in html, "name must be HTML-escaped"
    first_page = normalise(page_texts(renderer.render(p).pdf)[0])
    assert name in first_page
    assert not renderer.fetcher.refused, "an escaped name must not even try to fetch"


def test_template_syntax_in_a_name_is_not_evaluated(renderer, personalisation) -> None:
    text = normalise(page_texts(renderer.render(personalisation(name="{{ 7*7 }}")).pdf)[0])
    assert "{{ 7*7 }}" in text and "Patiënt 49" not in text


def test_placeholder_values_are_escaped_and_filled_in_one_pass() -> None:
    html = fill("<p>[[patient_name]] [[site]]</p>", {"patient_name": "[[site]] <i>", "site": "X"})
    assert html == "<p>[[site]] &lt;i&gt; X</p>"


def test_raw_html_and_file_images_in_leaflet_markdown_are_not_rendered() -> None:
    html = body_html("<script>alert(1)</script>\n\n![x](file:///etc/passwd)\n", "any").html
    assert "<script>" not in html
    assert 'src="file:' not in html


@pytest.fixture
def http_server() -> Iterator[tuple[str, list[str]]]:
    """A real HTTP server on 127.0.0.1 that records every request it gets."""
    requests: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requests.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/svg+xml")
            self.end_headers()
            self.wfile.write(b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>')

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", requests
    server.shutdown()
    server.server_close()


def test_rendering_fetches_nothing_from_the_network_or_outside_the_assets(
    renderer, http_server, tmp_path: Path, weasyprint_warnings
) -> None:
    base, requests = http_server
    secret = tmp_path / "secret.svg"
    secret.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>')
    attempts = [
        f"{base}/tracker.svg",
        secret.as_uri(),
        "file:///etc/passwd",
        "styles/../../../etc/passwd",
    ]
    html = '<html lang="nl"><body>' + "".join(f'<img src="{u}">' for u in attempts)
    html += f'<p style="background: url({base}/bg.png)">x</p>'
    html += f'<link rel="stylesheet" href="{base}/evil.css"></body></html>'
    renderer.fetcher.refused.clear()
    renderer.pdf(html)
    assert requests == [], "the local HTTP server must receive no request"
    refused = " ".join(renderer.fetcher.refused)
    assert base in refused and "secret.svg" in refused and "/etc/passwd" in refused
    failed = [r.getMessage() for r in weasyprint_warnings]
    assert all(m.startswith("Failed to load") for m in failed) and len(failed) >= 4, failed
    weasyprint_warnings.clear()  # provoked on purpose: WeasyPrint says each load failed


def test_a_weasyprint_warning_fails_the_test_that_caused_it(renderer, weasyprint_warnings) -> None:
    renderer.pdf('<html lang="nl"><body><p style="colour: red; margin: 1cm">x</p></body></html>')
    assert [r.getMessage() for r in weasyprint_warnings] == [
        "Ignored `colour: red` at 1:1, unknown property."
    ], "the autouse fixture sees WeasyPrint's warnings, so it can fail a test"
    weasyprint_warnings.clear()


def test_project_assets_are_still_served(renderer, project) -> None:
    font = (project.styles_dir / "fonts" / "OpenSans-Regular.ttf").resolve().as_uri()
    assert renderer.fetcher.fetch(font).read(4) == b"\x00\x01\x00\x00"


def test_write_is_atomic_and_leaves_nothing_half_written(tmp_path: Path) -> None:
    target = tmp_path / "day" / "a.pdf"
    write_atomic(target, b"%PDF-1.7 first")

    with pytest.raises(TypeError):
        write_atomic(target, "not bytes")  # type: ignore[arg-type]
    assert target.read_bytes() == b"%PDF-1.7 first", "old file intact"
    assert sorted(p.name for p in target.parent.iterdir()) == ["a.pdf"], "no temp file left"


def test_unwritable_folder_gives_an_output_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputError) as error:
        write_atomic(blocker / "a.pdf", b"x")
    assert "file" in str(error.value)


@pytest.mark.parametrize("name", ["../evil.pdf", "/etc/evil.pdf", "a/../../evil.pdf", "."])
def test_nothing_is_written_outside_the_output_folder(tmp_path: Path, name: str) -> None:
    with pytest.raises(OutputError):
        inside(tmp_path / "out", name)


def test_file_names_carry_no_patient_name(personalisation) -> None:
    with_ref = personalisation(name="Marie Peeters", reference="PAT-7").visit
    assert leaflet_file_name(with_ref, "nl") == "2026-12-15/PAT-7_0830_avn-hip-heupprothese.pdf"
    anonymous = personalisation(name="Marie Peeters", reference=None).visit
    name = leaflet_file_name(anonymous, "nl")
    assert "Marie" not in name and "Peeters" not in name
    assert name.startswith("2026-12-15/p") and name.endswith("_0830_avn-hip-heupprothese.pdf")
    other = personalisation(name="Jan Janssens", reference=None).visit
    assert leaflet_file_name(other, "nl") != name, "two patients never share a file"


# --- the output folder is not a way out (issue 12) -----------------------------------------

DAY_LIST = (
    "Referentie;Naam;E-mail;Folder;Ingreep;Chirurg;Campus;Datum;Uur\n"
    "PAT-1;Marie Peeters;marie@example.org;avn-hip;heupprothese;claes;cadix;15/12/2026;8u00\n"
)
SECRET = b"someone else's file\n"


def link_lock(out: Path, target: Path) -> None:
    (out / "2026-12-15").mkdir(parents=True)
    (out / "2026-12-15/.lock").symlink_to(target)


def link_journal(out: Path, target: Path) -> None:
    (out / "2026-12-15").mkdir(parents=True)
    (out / "2026-12-15/.journal.jsonl").symlink_to(target)


def link_day_folder(out: Path, target: Path) -> None:
    out.mkdir()
    (out / "2026-12-15").symlink_to(target.parent, target_is_directory=True)


def link_outbox(out: Path, target: Path) -> None:
    target.rename(target.with_suffix(".eml"))  # what the dry run would delete
    (out / "2026-12-15/dag/outbox").symlink_to(target.parent, target_is_directory=True)


def link_send_log(out: Path, target: Path) -> None:
    (out / "sendlog.sqlite").symlink_to(target)


@pytest.mark.parametrize(
    ("command", "plant"),
    [
        pytest.param("batch", link_lock, id="a .lock linked to another file is not truncated"),
        pytest.param("batch", link_journal, id="a journal linked elsewhere is not appended to"),
        pytest.param("batch", link_day_folder, id="a day folder linked elsewhere gets no PDFs"),
        pytest.param("email", link_outbox, id="an outbox linked elsewhere is not emptied"),
        pytest.param("email", link_send_log, id="a send log linked elsewhere is not used"),
    ],
)
def test_links_in_the_output_folder_are_never_followed(
    cli, tmp_path: Path, command: str, plant
) -> None:
    listing = tmp_path / "dag.csv"
    listing.write_text(DAY_LIST, encoding="utf-8")
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    elsewhere.mkdir()
    target = elsewhere / "file"
    target.write_bytes(SECRET)
    batch = ("batch", str(listing), "--out-dir", str(out), "-q")
    email = ("email", str(out / "2026-12-15"), "--list", str(listing))
    if command == "email":
        assert cli(*batch)[0] == 0
    plant(out, target)
    code, _, err = cli(*(batch if command == "batch" else email))
    assert code == 4 and "Traceback" not in err, err
    assert "symbolische koppeling" in err or "kan" in err, err
    assert sorted(p.name for p in elsewhere.iterdir()) in (["file"], ["file.eml"])
    assert next(elsewhere.iterdir()).read_bytes() == SECRET, "the other file is untouched"


@pytest.mark.parametrize("where", ["a-file", "/dev/null"], ids=["a file", "/dev/null"])
def test_an_output_folder_that_is_a_file_is_refused(cli, tmp_path: Path, where: str) -> None:
    listing = tmp_path / "dag.csv"
    listing.write_text(DAY_LIST, encoding="utf-8")
    out = tmp_path / where if where == "a-file" else Path(where)
    if where == "a-file":
        out.write_text("")
    code, _, err = cli("batch", str(listing), "--out-dir", str(out))
    assert code == 4 and "Traceback" not in err and "kan de map niet maken" in err, err


def test_patient_data_at_rest_is_for_its_owner_only(cli, tmp_path: Path) -> None:
    listing = tmp_path / "dag.csv"
    listing.write_text(DAY_LIST, encoding="utf-8")
    out = tmp_path / "out"
    previous = os.umask(0o022)  # a usual shell: files readable by every local account
    try:
        assert cli("batch", str(listing), "--out-dir", str(out), "-q")[0] == 0
        cli("email", str(out / "2026-12-15"), "--list", str(listing))
    finally:
        os.umask(previous)
    made = list(out.rglob("*"))
    assert any(p.suffix == ".eml" for p in made) and any(p.name == "sendlog.sqlite" for p in made)
    loose = [f"{p.relative_to(out)} {p.stat().st_mode & 0o777:o}" for p in [out, *made]
             if p.stat().st_mode & 0o077]  # fmt: skip
    assert loose == [], "PDFs, print files, manifests, messages and the send log: 0600/0700"


@pytest.mark.parametrize(
    ("command", "where"),
    [
        pytest.param("batch", "2026-12-15/.lock", id="a FIFO as the day's lock"),
        pytest.param("batch", "2026-12-15/.journal.jsonl", id="a FIFO as the journal"),
        pytest.param("email", "sendlog.sqlite", id="a FIFO as the send log"),
        pytest.param("email", "2026-12-15/dag/.email.lock", id="a FIFO as the email lock"),
    ],
)
def test_odd_files_in_the_output_folder_are_refused_never_waited_on(
    cli, tmp_path: Path, command: str, where: str
) -> None:
    import subprocess
    import sys

    listing = tmp_path / "dag.csv"
    listing.write_text(DAY_LIST, encoding="utf-8")
    out = tmp_path / "out"
    if command == "email":
        assert cli("batch", str(listing), "--out-dir", str(out), "-q")[0] == 0
    (out / where).parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(out / where)
    args = (["batch", str(listing), "--out-dir", str(out)] if command == "batch"
            else ["email", str(out / "2026-12-15"), "--list", str(listing)])  # fmt: skip
    done = subprocess.run([sys.executable, str(ROOT / "generate.py"), *args],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 4 and "geen gewoon bestand" in done.stderr, done.stderr
