"""tools/deps.py decides what a machine is missing: driven here on made-up machines (a folder as
the file system, a PATH of small scripts as the commands), and against the real apt."""

from __future__ import annotations

import importlib.util
import os
import stat
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from helpers import ROOT

DEPS = ROOT / "tools" / "deps.py"
spec = importlib.util.spec_from_file_location("deps", DEPS)
assert spec and spec.loader
deps = sys.modules["deps"] = importlib.util.module_from_spec(spec)
spec.loader.exec_module(deps)

# What a machine with everything has, file by file, and its commands with what they print.
FILES = (
    "usr/lib/x86_64-linux-gnu/libpango-1.0.so.0",
    "usr/lib/x86_64-linux-gnu/libpangoft2-1.0.so.0",
    "usr/lib/x86_64-linux-gnu/libharfbuzz-subset.so.0",
    sysconfig.get_paths()["include"].lstrip("/") + "/Python.h",
    "usr/include/ldap.h",
    "usr/include/sasl/sasl.h",
    *(f"usr/share/java/{jar}.jar" for jar in deps.PREFLIGHT_JARS),
    "usr/bin/chromium",
    "usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "usr/sbin/slapd",
    "usr/sbin/nginx",
    "usr/lib/postgresql/15/bin/initdb",
)
COMMANDS = {
    "gcc": "gcc (Debian 12.2.0-14) 12.2.0",
    "node": "v20.20.2",  # NodeSource's, which brings its own npm
    "npm": "10.8.2",
    "java": 'openjdk version "17.0.15" 2025-04-15',
    "systemd-analyze": "systemd 252 (252.38-1~deb12u1)",
    "git": "git version 2.39.5",
}


def machine(tmp_path: Path, without: tuple[str, ...] = (), **commands: str) -> tuple[Path, str]:
    """A made-up machine: (root folder, PATH). ``without`` drops files (by the start of their
    path) and commands; keyword arguments replace what a command prints."""
    root, bin_ = tmp_path / "root", tmp_path / "bin"
    for name in FILES:
        if not name.startswith(without):
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).touch()
    bin_.mkdir()
    for name, says in (COMMANDS | commands).items():
        if name not in without:
            script = bin_ / name
            script.write_text(f"#!/bin/sh\necho '{says}' >&2\n")
            script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return root, str(bin_)


def plan(group: str, root: Path, path: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, str(DEPS), group, "--plan", "--root", str(root)],
        capture_output=True, text=True, env={**os.environ, "PATH": path}, check=True,
    )  # fmt: skip
    return done.stdout.split()


@pytest.mark.parametrize(
    ("without", "commands", "asked"),
    [
        ((), {}, []),
        (("npm",), {}, ["npm"]),
        (("node", "npm"), {}, ["nodejs", "npm"]),
        ((), {"node": "v16.20.2"}, ["nodejs"]),
        ((), {"node": "v22.1.0"}, []),
        (("java",), {}, ["default-jre-headless"]),
        ((), {"java": 'java version "1.8.0_292"'}, ["default-jre-headless"]),
        ((), {"java": 'openjdk version "21.0.2" 2024-01-16'}, []),  # a JDK in /opt, say
        (("usr/share/java/preflight", "usr/share/java/xmpbox"), {}, ["libpdfbox2-java"]),
        (("usr/share/java/jaxb-api",), {}, ["libjaxb-api-java"]),
        (("usr/bin/chromium", "usr/sbin/slapd"), {}, ["chromium", "slapd"]),
        (("usr/lib/postgresql",), {}, ["postgresql"]),
    ],
)
def test_the_test_plan_asks_apt_only_for_what_is_missing(
    tmp_path, without, commands, asked
) -> None:
    assert plan("test", *machine(tmp_path, without, **commands)) == asked


def test_an_npm_of_any_origin_is_never_asked_for(tmp_path) -> None:
    """The fault of issue 20: Debian's npm conflicts with NodeSource's nodejs."""
    root, path = machine(tmp_path, ("usr/bin/chromium",))
    assert plan("test", root, path) == ["chromium"]


def test_postgresql_of_any_major_version_will_do(tmp_path) -> None:
    root, path = machine(tmp_path, ("usr/lib/postgresql",))
    (root / "usr/lib/postgresql/17/bin").mkdir(parents=True)
    (root / "usr/lib/postgresql/17/bin/initdb").touch()
    assert plan("test", root, path) == []


@pytest.mark.parametrize(
    ("without", "asked"),
    [
        ((), []),
        (("usr/lib/x86_64-linux-gnu/libpango",), ["libpango-1.0-0", "libpangoft2-1.0-0"]),
        (("usr/lib/x86_64-linux-gnu/libharfbuzz",), ["libharfbuzz-subset0"]),
        (("usr/include/ldap.h", "gcc"), ["gcc", "libldap-dev"]),
        (("usr/include/sasl",), ["libsasl2-dev"]),
        ((sysconfig.get_paths()["include"].lstrip("/"),), ["python3-dev"]),
        (("git",), ["git"]),
    ],
)
def test_the_system_plan_asks_apt_only_for_what_is_missing(tmp_path, without, asked) -> None:
    assert plan("system", *machine(tmp_path, without)) == asked


def test_the_node_version_needed_is_the_one_tests_oidc_declares() -> None:
    assert deps.node_needed() == 18


def test_a_made_up_machine_is_only_planned_for_never_installed(tmp_path) -> None:
    root, path = machine(tmp_path, ("usr/sbin/slapd",))
    done = subprocess.run(
        [sys.executable, str(DEPS), "test", "--root", str(root)],
        capture_output=True, text=True, env={**os.environ, "PATH": path},
    )  # fmt: skip
    assert (done.returncode, done.stdout, done.stderr) == (0, "slapd\n", "")


@pytest.mark.parametrize(
    ("apt_says", "reason"),
    [
        (  # apt -q on a machine with NodeSource's nodejs, asked for npm: the line naming it
            "The following packages have unmet dependencies:\n"
            " libnode108 : Conflicts: nodejs-legacy\n"
            " node-jest-worker : Depends: node-types-node but it is not going to be installed\n"
            " nodejs : Conflicts: npm\n"
            "E: Unable to correct problems, you have held broken packages.\n",
            "nodejs : Conflicts: npm",
        ),
        (
            "Some packages could not be installed. This may mean that you have\n"
            "The following packages have unmet dependencies:\n"
            " nodejs : Conflicts: npm\n"
            "E: Unable to correct problems, you have held broken packages.\n",
            "nodejs : Conflicts: npm",
        ),
        ("E: Unable to locate package chromum\n", "Unable to locate package chromum"),
        (
            "E: Package 'slapd' has no installation candidate\n",
            "Package 'slapd' has no installation candidate",
        ),
        ("", "apt gaf geen reden"),
    ],
)
def test_apt_s_reason_is_one_line(apt_says, reason) -> None:
    assert deps.apt_reason(apt_says, "npm") == reason


def test_a_package_apt_does_not_know_is_refused_with_apt_s_reason() -> None:
    """The real apt, simulating only: nothing is installed."""
    done = deps.simulate(["leafletpress-geen-pakket"])
    assert done.returncode != 0
    assert deps.apt_reason(done.stdout + done.stderr) == (
        "Unable to locate package leafletpress-geen-pakket"
    )
    assert not deps.apt_knows("leafletpress-geen-pakket")
    assert deps.apt_knows("coreutils")


def test_the_makefile_leaves_every_apt_decision_to_tools_deps() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "apt-get" not in makefile
    assert "tools/deps.py system" in makefile and "tools/deps.py test" in makefile


def test_this_machine_after_make_test_deps_lacks_nothing_and_nothing_is_said() -> None:
    done = subprocess.run([sys.executable, str(DEPS), "test"], capture_output=True, text=True)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
