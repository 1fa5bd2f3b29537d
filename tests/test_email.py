"""Emailing a batch: against a real SMTP server on 127.0.0.1 (aiosmtpd) with STARTTLS and
authentication; messages are read back as the server received them."""

from __future__ import annotations

import email
import hashlib
import io
import json
import shutil
import socket
import sqlite3
import subprocess
import sys
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pypdf
import pytest
import trustme
from helpers import ROOT, all_text, free_port, real_config
from mailserver import PASSWORD, PASSWORD_ENV, ROWS, Server, configure
from openpyxl import Workbook

from leafletpress.cli import main
from leafletpress.mail.sendlog import Message, SendLog

ADDRESSES = ["marie.peeters@example.org", "helene@example.org", "john.smith@example.org"]
NAMES = ["Marie Peeters", "Hélène Dubois", "John Smith", "Jan Janssens", "Tom Aerts"]


@pytest.fixture
def server(work, ca):
    running = Server(ca[0], port_of(work)).start()
    yield running
    running.stop()


# --- a batch to email -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> Path:
    """A project copy with a batch made from ROWS (made once; copied per test)."""
    work = tmp_path_factory.mktemp("made")
    project = work / "project"
    for name in ("leaflets", "config", "templates", "styles"):
        shutil.copytree(ROOT / name, project / name)
    real_config(project)  # leaflets that say VOORBEELD are never sent
    (work / "dag.csv").write_text("\n".join(ROWS), encoding="utf-8")
    code = main(["--project", str(project), "batch", str(work / "dag.csv"),
                 "--out-dir", str(work / "out"), "-q", "--jobs", "1"])  # fmt: skip
    assert code == 0
    return work


@pytest.fixture
def work(made, tmp_path, ca, monkeypatch) -> Path:
    shutil.copytree(made, tmp_path / "w")
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    configure(tmp_path / "w", port=free_port(), ca_file=ca[1])
    return tmp_path / "w"


def email_cli(work: Path, capsys, *options: str) -> tuple[int, str, str]:
    code = main(["--project", str(work / "project"), "email", str(work / "out/2026-12-15"),
                 "--list", str(work / "dag.csv"), *options])  # fmt: skip
    out, err = capsys.readouterr()
    return code, out, err


def port_of(work: Path) -> int:
    text = (work / "project/config/email.yaml").read_text(encoding="utf-8")
    return int(text.split("port: ")[1].split()[0])


def patient_pdf(work: Path, reference: str) -> bytes:
    [path] = (work / "out/2026-12-15").glob(f"{reference}_*.pdf")
    return path.read_bytes()


def attachment(message: EmailMessage) -> tuple[str, bytes]:
    [part] = list(message.iter_attachments())
    return part.get_filename(), part.get_content()


def assert_nothing_personal(text: str) -> None:
    for secret in NAMES + ADDRESSES:
        assert secret not in text, f"{secret!r} in the output"


# --- the tests ------------------------------------------------------------------------------


def test_a_dry_run_writes_complete_messages_and_sends_nothing(work, ca, capsys) -> None:
    server = Server(ca[0], port_of(work)).start()
    try:
        code, out, err = email_cli(work, capsys)
    finally:
        server.stop()
    assert server.mailbox.received == [], "a dry run never talks to the server"
    assert code == 1, "two rows have no usable address"
    outbox = work / "out/2026-12-15/dag/outbox"
    assert out.strip().endswith("outbox")
    emls = sorted(outbox.glob("*.eml"))
    assert [p.name.split("_")[0] for p in emls] == ["PAT-1", "PAT-2", "PAT-3"]
    assert "proefdraai: 3 bericht(en) klaar als .eml" in err and "2 zonder e-mail" in err
    assert "rij 5 (PAT-4): geen e-mail: geen geldig e-mailadres" in err
    assert "rij 6 (PAT-5): geen e-mail: geen geldig e-mailadres" in err
    assert_nothing_personal(out + err)
    message = email.message_from_bytes(emls[0].read_bytes(), policy=default_policy)
    assert message["To"] == "marie.peeters@example.org"
    assert attachment(message)[1] == patient_pdf(work, "PAT-1")


def test_sent_messages_arrive_intact_in_the_patients_language(work, server, capsys) -> None:
    code, _, err = email_cli(work, capsys, "--send")
    assert code == 1 and "3 verstuurd" in err, err
    assert_nothing_personal(err)
    expected = {
        "marie.peeters@example.org": ("nl-BE", "Informatie voor je afspraak op dinsdag 15 december 2026", "PAT-1", "Beste Marie Peeters"),  # noqa: E501
        "helene@example.org": ("fr-BE", "Informations pour votre rendez-vous du mardi 15 décembre 2026", "PAT-2", "Bonjour Hélène Dubois"),  # noqa: E501
        "john.smith@example.org": ("en-GB", "Information for your appointment on Tuesday 15 December 2026", "PAT-3", "Dear John Smith"),  # noqa: E501
    }  # fmt: skip
    for address, (lang, subject, reference, greeting) in expected.items():
        [message] = server.mailbox.to(address)
        assert message["Content-Language"] == lang
        assert message["Subject"].startswith(subject)
        assert message["From"] == "ZAS Patiëntenfolders <folders@zas.be>"
        assert message["Reply-To"] == "info@zas.be"
        name, pdf = attachment(message)
        assert pdf == patient_pdf(work, reference), "attachment bytes identical to the PDF"
        assert name == "ZAS-ORT-AVN-01.pdf", "a clean name: no patient, no diagnosis"
        body = message.get_body(("plain",)).get_content()
        assert greeting in body and "03 000 00 0" in body and "https://www.zas.be" in body
        medical = ("necrose", "nécrose", "necrosis", "heupprothese", "prothèse", "hip")
        assert not any(word in (message["Subject"] + body).lower() for word in medical)


def test_nothing_is_sent_twice_unless_asked(work, server, capsys) -> None:
    email_cli(work, capsys, "--send")
    _, _, err = email_cli(work, capsys, "--send")
    assert "0 verstuurd, 3 al eerder verstuurd" in err
    _, _, err = email_cli(work, capsys)
    assert "proefdraai: 0 bericht(en) klaar als .eml, 3 al eerder verstuurd" in err
    assert len(server.mailbox.received) == 3
    email_cli(work, capsys, "--send", "--resend")
    assert len(server.mailbox.received) == 6, "--resend sends again"


def test_the_send_log_records_every_attempt(work, server, capsys) -> None:
    server.mailbox.refuse.add("helene@example.org")
    email_cli(work, capsys, "--send")
    db = sqlite3.connect(work / "out/sendlog.sqlite")
    assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    rows = db.execute(
        "SELECT reference, leaflet, version, sha256, recipient, status, response, started"
        " FROM attempts ORDER BY id"
    ).fetchall()
    assert [(r[0], r[5]) for r in rows] == [
        ("PAT-1", "accepted"), ("PAT-2", "refused"), ("PAT-3", "accepted")]  # fmt: skip
    assert rows[0][1:3] == ("ORT-AVN-01", "3.3") and rows[0][4] == "marie.peeters@example.org"
    assert rows[0][6].startswith("250 2.0.0 Ok: queued as") and rows[1][6].startswith("550")
    assert rows[0][3] == hashlib.sha256(patient_pdf(work, "PAT-1")).hexdigest()


def test_a_refused_recipient_is_reported_and_sent_when_fixed(work, server, capsys) -> None:
    server.mailbox.refuse.add("helene@example.org")
    code, _, err = email_cli(work, capsys, "--send")
    assert code == 1 and "2 verstuurd" in err
    assert "rij 3 (PAT-2): geweigerd door de server: 550 5.1.1 <<adres>>" in err
    assert_nothing_personal(err)
    server.mailbox.refuse.clear()
    code, _, err = email_cli(work, capsys, "--send")
    assert "1 verstuurd, 2 al eerder verstuurd" in err
    for address in ADDRESSES:
        assert len(server.mailbox.to(address)) == 1, address


def test_a_dropped_connection_is_retried_and_nothing_doubles(work, server, capsys) -> None:
    server.mailbox.drop_next_rcpt = True  # before the message went out: safe to try again
    _, _, err = email_cli(work, capsys, "--send")
    assert "3 verstuurd" in err, err
    email_cli(work, capsys, "--send")
    for address in ADDRESSES:
        assert len(server.mailbox.to(address)) == 1, address


def test_a_server_that_is_down_stops_the_run_and_loses_nothing(work, ca, capsys) -> None:
    code, _, err = email_cli(work, capsys, "--send")
    assert code == 5 and "Traceback" not in err
    assert err.count("niet bereikbaar") <= 3, "one message, not one per patient"
    assert "start dezelfde opdracht opnieuw" in err
    server = Server(ca[0], port_of(work)).start()
    try:
        code, _, err = email_cli(work, capsys, "--send")
    finally:
        server.stop()
    assert "3 verstuurd" in err
    for address in ADDRESSES:
        assert len(server.mailbox.to(address)) == 1, address


def test_a_wrong_password_gives_one_clear_message(work, server, capsys, monkeypatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "fout")
    code, _, err = email_cli(work, capsys, "--send")
    assert code == 5 and "de server weigert de aanmelding (535" in err
    assert err.count("aanmelding") <= 2 and "Traceback" not in err
    assert server.mailbox.received == []
    monkeypatch.delenv(PASSWORD_ENV)
    code, _, err = email_cli(work, capsys, "--send")
    assert code == 3 and f"zet de omgevingsvariabele {PASSWORD_ENV}" in err


def test_an_untrusted_certificate_is_refused(work, server, capsys, tmp_path) -> None:
    other = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    configure(work, port=server.port, ca_file=other)
    code, _, err = email_cli(work, capsys, "--send")
    assert code == 5 and "geen veilige verbinding" in err
    assert server.mailbox.received == []


def test_protected_pdfs_open_with_the_birth_date(work, server, capsys, ca) -> None:
    configure(work, port=server.port, ca_file=ca[1], protect_pdf="true")
    email_cli(work, capsys, "--send")
    [message] = server.mailbox.to("marie.peeters@example.org")
    _, pdf = attachment(message)
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert reader.is_encrypted
    assert reader.decrypt("01011990") == pypdf.PasswordType.NOT_DECRYPTED
    assert reader.decrypt("12031958") != pypdf.PasswordType.NOT_DECRYPTED
    assert "/AESV3" in str(reader.trailer["/Encrypt"]["/CF"]), "AES-256"
    assert "Jouw afspraak" in all_text(_decrypted(pdf, "12031958"))
    body = message.get_body(("plain",)).get_content()
    assert "je geboortedatum als acht cijfers" in body and "12031958" not in body


def test_protected_pdfs_can_open_with_the_code_of_the_appointment_letter(
    work, server, capsys, ca
) -> None:
    """A birth date is guessed in minutes (issue 23, F15): a code the patient got on paper is
    the option for a hospital that needs more. A row without its code is not sent."""
    rows = [f"{ROWS[0]};Briefcode", f"{ROWS[1]};K7PX-3Q9M", f"{ROWS[2]};"]
    (work / "dag.csv").write_text("\n".join(rows), encoding="utf-8")
    shutil.rmtree(work / "out")
    assert main(["--project", str(work / "project"), "batch", str(work / "dag.csv"),
                 "--out-dir", str(work / "out"), "-q", "--jobs", "1"]) == 0  # fmt: skip
    configure(work, port=server.port, ca_file=ca[1], protect_pdf="true",
              password_rule="letter_code")  # fmt: skip
    capsys.readouterr()
    _, out, err = email_cli(work, capsys, "--send")
    [message] = server.mailbox.received
    _, pdf = attachment(message)
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert reader.decrypt("12031958") == pypdf.PasswordType.NOT_DECRYPTED, "not the birth date"
    assert reader.decrypt("K7PX-3Q9M") != pypdf.PasswordType.NOT_DECRYPTED
    body = message.get_body(("plain",)).get_content()
    assert "de code op je afspraakbrief" in body and "K7PX" not in body
    why = "geen bruikbare code van de afspraakbrief (minstens 8 tekens, letters en cijfers)"
    assert why in out + err


def _decrypted(pdf: bytes, password: str) -> bytes:
    reader = pypdf.PdfReader(io.BytesIO(pdf), password=password)
    writer = pypdf.PdfWriter(clone_from=reader)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def test_the_list_must_be_the_batch_list(work, capsys) -> None:
    (work / "dag.csv").write_text("\n".join(ROWS[:3]), encoding="utf-8")
    code, _, err = email_cli(work, capsys)
    assert code == 2 and "is niet de lijst waarmee deze batch gemaakt is" in err


def test_the_rate_limit_spaces_messages(work, server, capsys, ca) -> None:
    configure(work, port=server.port, ca_file=ca[1], rate_per_minute=120)  # one per 0.5 s
    email_cli(work, capsys, "--send")
    db = sqlite3.connect(work / "out/sendlog.sqlite")
    assert db.execute("SELECT count(*) FROM attempts WHERE status = 'accepted'").fetchone() == (3,)
    _, _, err = email_cli(work, capsys, "--send", "--resend")
    seconds = float(err.strip().rsplit(";", 1)[1].removesuffix("s").strip())
    assert seconds >= 1.0, "3 messages at 120 a minute take at least two intervals of 0.5 s"


def test_bad_input_gets_a_clear_message(work, capsys) -> None:
    main(["--project", str(work / "project"), "email", str(work / "out/2026-12-16"),
          "--list", str(work / "dag.csv")])  # fmt: skip
    err = capsys.readouterr().err
    assert "geen manifest.json in" in err and "2026-12-16" in err
    code = main(["--project", str(work / "project"), "email", str(work / "out/2026-12-15"),
                 "--list", str(work / "nope.csv")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "nope.csv" in err and "Traceback" not in err
    configure(work, port=1, ca_file="null", host="smtp.invalid")
    code, _, err = email_cli(work, capsys, "--send")
    assert code == 5 and "onbekende mailserver 'smtp.invalid'" in err, "no retries for a typo"
    configure(work, port=25, ca_file="null", security="none")
    code, _, err = email_cli(work, capsys, "--send")
    assert code == 3 and "wachtwoord leesbaar" in err


def test_example_settings_never_send(work, server, capsys) -> None:
    settings = work / "project/config/email.yaml"
    settings.write_text("example: true\n" + settings.read_text(encoding="utf-8"), "utf-8")
    code, _, err = email_cli(work, capsys, "--send")
    assert code == 3 and "bevat voorbeeldgegevens: er wordt niets verstuurd" in err
    assert server.mailbox.received == []
    code, _, err = email_cli(work, capsys)
    assert "proefdraai: 3 bericht(en)" in err, "a dry run still works"


def test_leaflets_that_say_voorbeeld_are_never_sent(work, server, capsys) -> None:
    """Example configuration or hospital policy not signed off: every page says VOORBEELD,
    so nothing goes to a patient; also when the batch was made before the data was real."""
    hospital = work / "project/config/hospital.yaml"
    real = hospital.read_text(encoding="utf-8")
    hospital.write_text(real.replace("value: 60}", "value: 45}"), encoding="utf-8")  # unsigned
    code, _, err = email_cli(work, capsys, "--send")
    assert code == 3 and "de folders dragen 'VOORBEELD — niet voor patiënten'" in err, err
    assert "laat het beleid goedkeuren" in err
    make_batch(work, ROWS)  # made while the policy is not signed off
    hospital.write_text(real, encoding="utf-8")
    code, _, err = email_cli(work, capsys, "--send")
    assert code == 3 and "maak de batch opnieuw" in err, err
    assert server.mailbox.received == []
    code, _, err = email_cli(work, capsys)
    assert "de folders dragen 'VOORBEELD" in err and "proefdraai: 3 bericht(en)" in err, (
        "a dry run says so, and shows the messages"
    )
    make_batch(work, ROWS)
    _, _, err = email_cli(work, capsys, "--send")  # exit 1: two rows have no address
    assert "3 verstuurd" in err and "VOORBEELD" not in err, err


# --- exactly once: what a review found (issue 12) -------------------------------------------


def make_batch(work: Path, rows: list[str]) -> None:
    """Replace the day's list and make its batch again."""
    (work / "dag.csv").write_text("\n".join(rows), encoding="utf-8")
    code = main(["--project", str(work / "project"), "batch", str(work / "dag.csv"),
                 "--out-dir", str(work / "out"), "-q", "--jobs", "1"])  # fmt: skip
    assert code == 0


def test_two_runs_at_once_send_each_message_once(work, server) -> None:
    server.mailbox.answer_after = 0.3  # a slow server keeps both runs busy at the same time
    configure(work, port=server.port, ca_file=ca_file_of(work), protect_pdf="true", timeout=10)
    command = [
        sys.executable,
        str(ROOT / "generate.py"),
        "--project",
        str(work / "project"),
        "email",
        str(work / "out/2026-12-15"),
        "--list",
        str(work / "dag.csv"),
        "--send",
    ]
    runs = [subprocess.Popen(command, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    errs = [run.communicate(timeout=120)[1] for run in runs]
    for address in ADDRESSES:
        assert len(server.mailbox.to(address)) == 1, (address, errs)
    assert any("een andere e-mailrun" in err for err in errs), errs
    assert all("Traceback" not in err for err in errs), errs


def ca_file_of(work: Path) -> Path:
    text = (work / "project/config/email.yaml").read_text(encoding="utf-8")
    return Path(text.split("ca_file: ")[1].split()[0])


def test_an_answer_too_late_after_the_data_is_uncertain_not_sent_again(
    work, server, capsys
) -> None:
    server.mailbox.answer_after = 2.5  # queued, but the answer comes after our timeout
    configure(work, port=server.port, ca_file=ca_file_of(work), timeout=1)
    code, _, err = email_cli(work, capsys, "--send")
    assert code == 1 and "onzeker" in err, err
    server.mailbox.answer_after = 0
    code, _, err = email_cli(work, capsys, "--send")
    assert "0 verstuurd" in err and "onzeker" in err, err
    for address in ADDRESSES:
        assert len(server.mailbox.to(address)) == 1, address
    log = sqlite3.connect(work / "out/sendlog.sqlite")
    statuses = {s for (s,) in log.execute("SELECT status FROM attempts")}
    assert "failed" not in statuses and "uncertain" in statuses, statuses


def test_a_connection_dropped_after_the_data_is_uncertain(work, server, capsys) -> None:
    server.mailbox.drop_next_data = True  # the server had the whole message: did it keep it?
    code, _, err = email_cli(work, capsys, "--send")
    assert code == 1 and "onzeker" in err and "2 verstuurd" in err, err
    email_cli(work, capsys, "--send")
    assert len(server.mailbox.to("marie.peeters@example.org")) == 0, "uncertain: not resent"
    email_cli(work, capsys, "--send", "--resend")
    assert len(server.mailbox.to("marie.peeters@example.org")) == 1, "--resend sends it"


UTF8_ROWS = [
    ROWS[0],
    "PAT-1;Jürgen Müller;12/03/1958;nl;jürgen@example.org;avn-hip;heupprothese;claes;cadix;15/12/2026;8u00",  # noqa: E501
    "PAT-2;Jan Peeters;02/11/1970;nl;jan@exämple.org;avn-hip;osteotomie;claes;cadix;15/12/2026;8u30",  # noqa: E501
    "PAT-3;John Smith;21/07/1963;en;john.smith@example.org;avn-hip;decompressie;claes;palfijn;15/12/2026;9u00",  # noqa: E501
]  # fmt: skip


@pytest.mark.parametrize("smtputf8", [True, False], ids=["server offers SMTPUTF8", "it does not"])
def test_addresses_in_any_script(work, ca, capsys, smtputf8: bool) -> None:
    make_batch(work, UTF8_ROWS)
    code, _, err = email_cli(work, capsys)  # dry run: valid messages
    assert "proefdraai: 3 bericht(en)" in err, err
    outbox = sorted((work / "out/2026-12-15/dag/outbox").glob("*.eml"))
    to = [email.message_from_bytes(p.read_bytes(), policy=default_policy)["To"] for p in outbox]
    assert to == ["jürgen@example.org", "jan@xn--exmple-cua.org", "john.smith@example.org"], (
        "a domain in any script is written in ASCII (IDNA); letters before the @ stay"
    )
    server = Server(ca[0], port_of(work), smtputf8=smtputf8).start()
    try:
        code, _, err = email_cli(work, capsys, "--send")
    finally:
        server.stop()
    assert "Traceback" not in err, err
    domains = [e.rcpt_tos for e in server.mailbox.envelopes]
    assert ["jan@xn--exmple-cua.org"] in domains, "a domain in any script goes as IDNA"
    assert ["john.smith@example.org"] in domains, "the rows after it are sent too"
    if smtputf8:
        assert code == 0 and "3 verstuurd" in err and ["jürgen@example.org"] in domains
    else:
        assert code == 1 and "2 verstuurd" in err
        assert "rij 2 (PAT-1): geweigerd" in err and "SMTPUTF8" in err, err


def test_a_relay_without_login_is_greeted_first(work, ca, capsys) -> None:
    configure(work, port=port_of(work), ca_file="null", security="none", login=False)
    server = Server(ca[0], port_of(work), secure=False).start()
    try:
        code, _, err = email_cli(work, capsys, "--send")
    finally:
        server.stop()
    assert code == 1 and "3 verstuurd" in err and "503" not in err, err


def test_a_server_that_refuses_every_message_stops_the_run_once(work, server, capsys) -> None:
    server.mailbox.refuse_sender = "550 5.7.1 sender not allowed"
    code, _, err = email_cli(work, capsys, "--send")
    assert code == 5, err
    assert err.count("sender not allowed") == 1, "one problem, not one per patient"
    assert "niet geprobeerd" in err and server.mailbox.received == []


def test_the_send_log_is_the_same_however_the_folder_is_typed(
    work, server, capsys, monkeypatch
) -> None:
    email_cli(work, capsys, "--send")
    monkeypatch.chdir(work / "out/2026-12-15")
    code = main(["--project", str(work / "project"), "email", ".", "--list",
                 str(work / "dag.csv"), "--send"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1 and "0 verstuurd, 3 al eerder verstuurd" in err, err
    assert not (work / "out/2026-12-15/sendlog.sqlite").exists()
    for address in ADDRESSES:
        assert len(server.mailbox.to(address)) == 1, address


def _claim_and_hold(path: str, held: Any, release: Any) -> None:
    log = SendLog(Path(path))
    log.claim(A_MESSAGE)
    held.set()
    release.wait(30)  # then exits without finishing: as if killed mid-send


A_MESSAGE = Message("2026-12-15", 2, "PAT-1", "ORT-AVN-01", "3.1", "ab" * 32, "a@example.org")


def test_a_message_is_claimed_atomically_and_never_sent_by_two_runs(tmp_path) -> None:
    """The send log itself, without the day's lock: a claim held by a running process stops
    every other run, even with --resend; once that process is gone, its attempt is uncertain."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    held, release = context.Event(), context.Event()
    other = context.Process(target=_claim_and_hold, args=(str(tmp_path / "log"), held, release))
    other.start()
    assert held.wait(60)
    log = SendLog(tmp_path / "log")
    assert log.claim(A_MESSAGE) == (None, "busy")
    assert log.claim(A_MESSAGE, resend=True) == (None, "busy"), "never two at once"
    release.set()
    other.join(30)
    assert log.claim(A_MESSAGE) == (None, "sending"), "a killed attempt is uncertain"
    entry, _ = log.claim(A_MESSAGE, resend=True)
    assert entry is not None, "--resend may send it again"
    log.finish(entry, "accepted", "250 OK")
    assert log.claim(A_MESSAGE) == (None, "accepted")


DAMAGED_MANIFESTS = [
    pytest.param(lambda m: "{not json", id="not JSON"),
    pytest.param(lambda m: "[]", id="a list, not a manifest"),
    pytest.param(lambda m: json.dumps({**m, "leaflets": None}), id="no leaflets"),
    pytest.param(lambda m: json.dumps({**m, "batch": {**m["batch"], "date": 15}}), id="a bad day"),
    pytest.param(lambda m: json.dumps({**m, "leaflets": [{**m["leaflets"][0], "file": None}]}),
                 id="a made leaflet without its file"),
    pytest.param(lambda m: json.dumps({**m, "leaflets": [{**m["leaflets"][0], "time": "9u"}]}),
                 id="a time that is not a time"),
    pytest.param(lambda m: json.dumps({**m, "batch": {**m["batch"], "output_root": "/tmp/x"}}),
                 id="a send log elsewhere"),
    pytest.param(lambda m: json.dumps({**m, "batch": {**m["batch"], "pdf_folder": "../x\u0000"}}),
                 id="PDFs elsewhere"),
]  # fmt: skip


@pytest.mark.parametrize("damage", DAMAGED_MANIFESTS)
def test_a_damaged_manifest_is_refused_in_one_sentence(work, capsys, damage) -> None:
    path = work / "out/2026-12-15/dag/manifest.json"
    path.write_text(damage(json.loads(path.read_text(encoding="utf-8"))), encoding="utf-8")
    code, _, err = email_cli(work, capsys)
    assert code == 2 and "is beschadigd of geen manifest" in err and "Traceback" not in err, err


def test_a_message_the_server_accepted_leaves_the_outbox(work, server, capsys) -> None:
    email_cli(work, capsys)  # a dry run first: three messages, addresses and all, on disk
    outbox = work / "out/2026-12-15/dag/outbox"
    assert len(list(outbox.glob("*.eml"))) == 3
    _, _, err = email_cli(work, capsys, "--send")
    assert "3 verstuurd" in err, err
    assert list(outbox.glob("*.eml")) == [], "sent: no copy with the address lingers"


def test_a_list_changed_while_its_batch_ran_is_not_the_batch_list(work, capsys) -> None:
    """The manifest holds the hash of the list as it was read, not as it was later: rows that
    shifted (a row inserted at the top, say) never give one patient another's leaflet."""
    listing = work / "dag.csv"
    lines = listing.read_text(encoding="utf-8").splitlines()
    shifted = [lines[0], ROWS[1].replace("PAT-1;Marie Peeters", "PAT-9;Nieuwe Patiënt")]
    listing.write_text("\n".join(shifted + lines[1:]), encoding="utf-8")
    code, _, err = email_cli(work, capsys)
    assert code == 2 and "is niet de lijst waarmee deze batch gemaakt is" in err, err


def test_each_row_must_still_be_the_row_its_leaflet_was_made_from(work, capsys) -> None:
    path = work / "out/2026-12-15/dag/manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["leaflets"][0]["row_key"] = "0" * 16  # as if row 2 held someone else
    path.write_text(json.dumps(manifest), encoding="utf-8")
    code, _, err = email_cli(work, capsys)
    assert code == 1
    assert "rij 2 (PAT-1): mislukt: deze rij van de lijst is niet meer die van de batch" in err
    assert "proefdraai: 2 bericht(en)" in err, "the others go on"


def test_email_reads_the_sheet_the_batch_read(work, capsys) -> None:
    book = Workbook()
    first = book.active
    first.title = "Cadix"
    for line in ROWS:
        first.append(line.split(";"))
    other = book.create_sheet("Palfijn")
    for line in ROWS[:1] + [r.replace("cadix", "palfijn") for r in ROWS[1:]]:
        other.append(line.split(";"))
    book.save(work / "dag.xlsx")
    project = ["--project", str(work / "project")]
    assert main([*project, "batch", str(work / "dag.xlsx"), "--sheet", "Palfijn",
                 "--out-dir", str(work / "out"), "-q", "--jobs", "1"]) == 0  # fmt: skip
    capsys.readouterr()
    code = main([*project, "email", str(work / "out/2026-12-15"), "--list",
                 str(work / "dag.xlsx")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "de batch las 'Excel, werkblad 'Palfijn''" in err, err
    assert "--sheet" in err


def test_a_claim_of_a_finished_process_whose_id_was_reused_does_not_block(tmp_path) -> None:
    """A killed run's attempt names its process; when that id now belongs to another program
    (the test process itself, started at another time), the message is uncertain, not busy."""
    log = SendLog(tmp_path / "log")
    entry, _ = log.claim(A_MESSAGE)
    log.db.execute("UPDATE attempts SET owner = ? WHERE id = ?",
                   (f"{socket.gethostname()}:1:0", entry))  # fmt: skip
    assert log.claim(A_MESSAGE) == (None, "sending"), "pid 1 runs, but started at another time"
    assert log.claim(A_MESSAGE, resend=True)[0] is not None


def test_a_garbage_send_log_is_refused_in_one_sentence(work, capsys) -> None:
    (work / "out/sendlog.sqlite").write_bytes(b"this is not a database" * 100)
    code, _, err = email_cli(work, capsys)
    assert code == 4 and "het verzendlogboek is beschadigd of bezet" in err, err
    assert "Traceback" not in err


def test_a_linked_outbox_is_refused_when_sending_too(work, server, capsys, tmp_path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    victim = elsewhere / "PAT-1_0800_avn-hip-heupprothese.eml"
    victim.write_text("someone else's")
    (work / "out/2026-12-15/dag/outbox").symlink_to(elsewhere, target_is_directory=True)
    code, _, err = email_cli(work, capsys, "--send")
    assert code == 4 and victim.read_text() == "someone else's", err


def test_an_old_server_that_knows_only_helo_is_greeted_with_helo(work, ca, capsys) -> None:
    configure(work, port=port_of(work), ca_file="null", security="none", login=False)
    server = Server(ca[0], port_of(work), secure=False).start()
    server.mailbox.no_ehlo = True
    try:
        _, _, err = email_cli(work, capsys, "--send")
    finally:
        server.stop()
    assert "3 verstuurd" in err, err


def test_any_success_answer_after_the_data_is_accepted(work, server, capsys) -> None:
    server.mailbox.answer_data = "299 odd but fine"  # 2xx: accepted
    _, _, err = email_cli(work, capsys, "--send")
    assert "3 verstuurd" in err, err


@pytest.mark.parametrize("address", ["not an address", "föl@zas.be"])
def test_a_sender_address_every_server_takes(work, capsys, address: str) -> None:
    settings = work / "project/config/email.yaml"
    text = settings.read_text(encoding="utf-8").replace("folders@zas.be}", f"{address}}}")
    settings.write_text(text, encoding="utf-8")
    code, _, err = email_cli(work, capsys)
    assert code == 3 and "sender.address" in err and "geen geldig e-mailadres" in err, err
