"""The README cannot drift from the program: its command, option and exit-code tables are read
here and compared with what the CLI really accepts and returns (as datasette tests its docs)."""

from __future__ import annotations

import argparse
import fcntl
import re
from pathlib import Path

import pytest
from helpers import ROOT, edit, real_config

from leafletpress.cli import commands
from leafletpress.cli.parser import build_parser
from leafletpress.common import errors

README = (ROOT / "README.md").read_text(encoding="utf-8")
ONE_PATIENT = ["leaflet", "avn-hip", "--variant", "heupprothese", "--site", "cadix",
               "--surgeon", "claes", "--date", "15/12/2026", "--time", "8u30",
               "--patient", "Marie Peeters"]  # fmt: skip


def table_after(heading: str) -> list[list[str]]:
    """The first Markdown table after a heading line: its body rows, cells stripped."""
    lines = README[README.index(f"\n{heading}\n") :].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split(" | ")])
    return rows


def documented_options(heading: str) -> set[str]:
    """`--x`, `-q` and `FILE` names in the first column of the table under a heading."""
    return {
        name
        for row in table_after(heading)
        for name in re.findall(r"`([^`]+)`", row[0])
        if name.startswith("-") or name.isupper()
    }


def real_options(parser: argparse.ArgumentParser) -> set[str]:
    names = set()
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
            continue
        names |= set(action.option_strings) or {action.metavar or action.dest}
    return names


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    [action] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


def test_the_readme_lists_every_command_and_no_other() -> None:
    documented = [row[0].strip("`") for row in table_after("## Commands")]
    assert documented == list(subcommands())


@pytest.mark.parametrize("command", [None, *subcommands()])
def test_each_commands_option_table_matches_what_it_accepts(command: str | None) -> None:
    parser = build_parser() if command is None else subcommands()[command]
    heading = "### `generate.py`" if command is None else f"### `generate.py {command}`"
    assert documented_options(heading) == real_options(parser)


def test_the_option_tables_can_fail() -> None:
    """Guard against a reader that finds nothing on both sides and calls that agreement."""
    assert {"--variant", "FOLDER", "--out-dir"} <= documented_options("### `generate.py leaflet`")
    assert {"-q", "--quiet", "BESTAND"} <= documented_options("### `generate.py batch`")


def exit_codes() -> dict[int, str]:
    return {int(code): meaning for code, meaning in table_after("### Exit codes")}


def test_the_exit_code_table_is_every_code_the_program_has() -> None:
    constants = {value for name, value in vars(errors).items() if name.startswith("EXIT_")}
    assert set(exit_codes()) == constants
    epilog = build_parser().epilog or ""
    assert all(re.search(rf"\b{code}\b", epilog) for code in constants), "--help says them too"


def _check_strict(cli, project_copy: Path, tmp_path: Path, monkeypatch) -> tuple[int, str, str]:
    return cli("check", "--strict")  # the shipped configuration is example data: a warning


def _bad_option(cli, project_copy: Path, tmp_path: Path, monkeypatch) -> tuple[int, str, str]:
    return cli(*ONE_PATIENT, "--variant", "knie", "--out-dir", str(tmp_path))


def _broken_content(cli, project_copy: Path, tmp_path: Path, monkeypatch) -> tuple[int, str, str]:
    edit(project_copy / "config/sites.yaml", "    phone: 03 000 00 02\n", "")
    return cli("--project", str(project_copy), *ONE_PATIENT, "--out-dir", str(tmp_path))


def _unwritable(cli, project_copy: Path, tmp_path: Path, monkeypatch) -> tuple[int, str, str]:
    (tmp_path / "a-file").write_text("")
    return cli(*ONE_PATIENT, "--out-dir", str(tmp_path / "a-file"))


def _mail_server_unknown(
    cli, project_copy: Path, tmp_path: Path, monkeypatch
) -> tuple[int, str, str]:
    real_config(project_copy)
    config = project_copy / "config/email.yaml"
    edit(config, "example: true", "example: false")
    edit(config, "host: smtp.zas.be", "host: smtp.example.invalid")
    edit(config, "security: starttls", "security: none")
    edit(config, "  username: folders@zas.be", "")
    listing = tmp_path / "dag.csv"
    listing.write_text(
        "Naam;E-mail;Folder;Ingreep;Chirurg;Campus;Datum;Uur\n"
        "Marie Peeters;marie@example.org;avn-hip;heupprothese;claes;cadix;15/12/2026;8u00\n"
    )
    project = ("--project", str(project_copy))
    assert cli(*project, "batch", str(listing), "--out-dir", str(tmp_path), "-q")[0] == 0
    return cli(*project, "email", str(tmp_path / "2026-12-15"), "--list", str(listing), "--send")


def _busy(cli, project_copy: Path, tmp_path: Path, monkeypatch) -> tuple[int, str, str]:
    day = tmp_path / "2026-12-15"
    day.mkdir()
    with open(day / ".lock", "w") as lock:  # another batch holds the day
        fcntl.flock(lock, fcntl.LOCK_EX)
        listing = tmp_path / "dag.csv"
        listing.write_text(
            "Naam;Folder;Ingreep;Chirurg;Campus;Datum;Uur\n"
            "Marie Peeters;avn-hip;heupprothese;claes;cadix;15/12/2026;8u00\n"
        )
        return cli("batch", str(listing), "--out-dir", str(tmp_path))


def _a_bug(cli, project_copy: Path, tmp_path: Path, monkeypatch) -> tuple[int, str, str]:
    monkeypatch.setattr(commands, "_catalogue", lambda *a: 1 / 0)
    return cli("list")


def _ctrl_c(cli, project_copy: Path, tmp_path: Path, monkeypatch) -> tuple[int, str, str]:
    def interrupted(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(commands, "_catalogue", interrupted)
    return cli("list")


# One way to reach each documented exit code, through the real CLI: (cli, project copy, an
# empty folder, monkeypatch) -> (exit code, stdout, stderr).
REACH = {
    0: lambda cli, *_: cli("list"),
    1: _check_strict,
    2: _bad_option,
    3: _broken_content,
    4: _unwritable,
    5: _mail_server_unknown,
    6: _busy,
    70: _a_bug,
    130: _ctrl_c,
}


@pytest.mark.parametrize("code", sorted(exit_codes()))
def test_each_documented_exit_code_is_what_the_cli_returns(
    code: int, cli, project_copy: Path, tmp_path: Path, monkeypatch
) -> None:
    assert set(REACH) == set(exit_codes()), "every documented code has a way to reach it here"
    returned, _, err = REACH[code](cli, project_copy, tmp_path, monkeypatch)
    assert returned == code, err
    assert ("Traceback" in err) == (code == errors.EXIT_INTERNAL), err


# --- docs/install.md, the chapter for IT ------------------------------------------------------

INSTALL = (ROOT / "docs" / "install.md").read_text(encoding="utf-8")


def _anchors(text: str) -> set[str]:
    """GitHub's anchors for a Markdown file's headings."""
    headings = re.findall(r"^#+ (.+)$", text, re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-") for h in headings}


def test_every_command_install_md_runs_is_one_the_app_has() -> None:
    from django.core.management import get_commands

    named = set(re.findall(r"(?:leafletpress-web|lpweb) ([a-z_]+)", INSTALL)) - {"herstel"}
    assert named and named <= set(get_commands()), named - set(get_commands())
    assert "herstel" in get_commands()


def test_every_setting_install_md_names_is_read_by_the_app_and_every_one_is_documented() -> None:
    sources = [*(ROOT / "leafletpress").rglob("*.py"), ROOT / "tests/clock/testclock.py"]
    read = set(re.findall(r"LEAFLETPRESS_[A-Z_]+[A-Z]", "".join(p.read_text() for p in sources)))
    documented = set(re.findall(r"LEAFLETPRESS_[A-Z_]+[A-Z]", INSTALL + README))
    assert documented - read == set()
    development = {
        "LEAFLETPRESS_ADDRESS",
        "LEAFLETPRESS_WORKERS",
        "LEAFLETPRESS_DEBUG",
        "LEAFLETPRESS_FEED_FAULT",
    }  # the last: the tests' listener that dies
    assert read - documented - development == set()


def test_every_file_in_deploy_is_explained_and_every_one_named_is_there() -> None:
    shipped = {str(p.relative_to(ROOT)) for p in (ROOT / "deploy").rglob("*") if p.is_file()}
    named = set(re.findall(r"deploy/[\w./@-]+[\w]", INSTALL))
    folders = {n for n in named if (ROOT / n).is_dir()}
    assert named - folders <= shipped, (named - folders) - shipped
    unexplained = {
        f for f in shipped if f not in named and not any(f.startswith(d) for d in folders)
    }
    assert unexplained == set()


def test_the_messages_that_need_attention_are_the_ones_the_app_writes() -> None:
    code = "".join(p.read_text() for p in (ROOT / "leafletpress").rglob("*.py"))
    table = INSTALL[INSTALL.index("The messages that need someone's attention") :]
    rows = [line.split("|")[1:4] for line in table.splitlines()
            if line.startswith(("| ERROR", "| WARNING"))]  # fmt: skip
    assert len(rows) >= 5
    for level, logger, message in rows:
        words = re.split(r"<[a-z]+>|…|\(…\)", message.strip().strip("`"))
        fixed = max(words, key=len).strip(" :")
        assert fixed in code, f"{message} staat niet in de code"
        module = logger.strip().strip("`")
        assert module.startswith(("leafletpress", "django")) and level.strip() in {
            "ERROR",
            "WARNING",
        }


def test_the_links_between_the_readme_and_install_md_arrive() -> None:
    for text, target, anchors in ((README, "docs/install.md", _anchors(INSTALL)),
                                  (INSTALL, "../README.md", _anchors(README))):  # fmt: skip
        for anchor in re.findall(rf"\]\({re.escape(target)}#([\w-]+)\)", text):
            assert anchor in anchors, f"{target}#{anchor}"
    for anchor in re.findall(r"\]\(#([\w-]+)\)", INSTALL):
        assert anchor in _anchors(INSTALL), anchor
