#!/usr/bin/env python3
"""What this machine is missing for leafletpress, and the Debian packages that bring it.

Input: a group of needs (``system``: what ``make demo`` and ``make serve`` need; ``test``: what
``make test`` needs on top) and the machine as it is: commands on ``PATH``, files, libraries.
Output: with ``--plan``, the packages apt would be asked for, one per line (nothing when all is
there); otherwise, as root, those packages installed; as another user, the command to run.

Guarantees:
- apt is asked only for packages whose need is not met. A need is met by whatever meets it,
  from any source: a ``node`` and ``npm`` from NodeSource, a Java in ``/opt``, PostgreSQL of any
  major version. apt is never asked for ``npm`` when an ``npm`` command exists.
- A tool that is there but too old (Node.js below what ``tests/oidc`` declares, Java below 11)
  is a need not met, and the message says which version was found.
- A package apt cannot install does not stop the others: each is tried on its own, and the
  message names the package, apt's reason in one line, and the command to run.
- Nothing is printed when nothing is missing.

This is the one place that decides what is missing; the Makefile only calls it. It runs with
the system's Python before any virtual environment exists, so it uses the standard library only.
``--root DIR`` reads files under DIR instead of ``/`` and only plans (with ``PATH`` that is how
the tests make up a machine: tools present, tools absent).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
PYTHON_AT_LEAST = (3, 11)
JAVA_AT_LEAST = 11  # PDFBox Preflight 2 runs on Java 11 and later
LIBRARY_FOLDERS = ("usr/lib/*-linux-gnu", "usr/lib", "lib/*-linux-gnu", "lib", "usr/local/lib")


class Machine:
    """The machine as the needs see it: files under ``root``, commands on ``path``."""

    def __init__(self, root: Path = Path("/"), path: str | None = None) -> None:
        self.root = root
        self.path = os.environ.get("PATH", "") if path is None else path

    def file(self, pattern: str) -> bool:
        """Whether a file matches ``pattern`` (an absolute path, globs allowed) under root."""
        return any(self.root.glob(pattern.lstrip("/")))

    def command(self, name: str) -> str | None:
        return shutil.which(name, path=self.path)

    def output(self, *command: str) -> str:
        """What a command prints (stdout and stderr), or "" when it cannot run."""
        found = self.command(command[0])
        if found is None:
            return ""
        try:
            done = subprocess.run(
                [found, *command[1:]], capture_output=True, text=True, timeout=30,
                env={**os.environ, "PATH": self.path},
            )  # fmt: skip
        except (OSError, subprocess.SubprocessError):
            return ""
        return done.stdout + done.stderr

    def library(self, soname: str) -> bool:
        if any(self.file(f"{folder}/{soname}") for folder in LIBRARY_FOLDERS):
            return True
        return self.root == Path("/") and soname in _ldconfig_cache()


def _ldconfig_cache() -> str:
    """``ldconfig -p``: libraries elsewhere (/opt, a conda prefix) that the loader knows; found
    also when /sbin is not on PATH (a user who is not root)."""
    for ldconfig in (shutil.which("ldconfig"), "/sbin/ldconfig", "/usr/sbin/ldconfig"):
        if ldconfig and os.access(ldconfig, os.X_OK):
            return subprocess.run([ldconfig, "-p"], capture_output=True, text=True).stdout
    return ""


@dataclass(frozen=True)
class Need:
    """One thing leafletpress needs, how to tell it is there, and what brings it.

    ``packages`` are alternatives, the first that apt knows is asked for (names change between
    Debian releases). ``check`` returns None when the need is met, else what was found ("not
    found", "v16.20.2, too old")."""

    what: str
    packages: tuple[str, ...]
    check: Callable[[Machine], str | None]


def _present(test: Callable[[Machine], bool]) -> Callable[[Machine], str | None]:
    return lambda machine: None if test(machine) else "niet gevonden"


def _major(text: str, pattern: str) -> int | None:
    found = re.search(pattern, text)
    return int(found.group(1)) if found else None


def node_needed() -> int:
    """The lowest Node.js major version tests/oidc declares (package.json, engines.node)."""
    package = json.loads((HERE / "tests/oidc/package.json").read_text(encoding="utf-8"))
    declared = _major(package["engines"]["node"], r">=\s*(\d+)")
    if declared is None:
        raise SystemExit('tests/oidc/package.json: engines.node moet de vorm ">=N" hebben')
    return declared


def _version_at_least(
    command: Sequence[str], pattern: str, least: int
) -> Callable[[Machine], str | None]:
    def check(machine: Machine) -> str | None:
        if machine.command(command[0]) is None:
            return "niet gevonden"
        major = _major(machine.output(*command), pattern)
        if major is None:
            return f"{command[0]} gevonden, maar de versie is niet te lezen"
        return None if major >= least else f"versie {major} gevonden, {least} of nieuwer nodig"

    return check


def _python_header(machine: Machine) -> bool:
    include = sysconfig.get_paths()["include"]
    return machine.file(f"{include}/Python.h")


def _python_venv(machine: Machine) -> bool:
    """Debian's python3 makes no virtual environment without python3-venv (ensurepip)."""
    if machine.root != Path("/"):
        return True  # a made-up machine: the Python that runs this one is the one in question
    return (
        subprocess.run([sys.executable, "-c", "import ensurepip"], capture_output=True).returncode
        == 0
    )


# What `make demo` and `make serve` need. WeasyPrint needs Pango (>= 1.44) and, to subset fonts
# quickly, HarfBuzz-subset. python-ldap (sign-in with the hospital's directory) is built from
# source against OpenLDAP's and SASL's headers and Python's own.
SYSTEM = (
    Need("Pango", ("libpango-1.0-0",), _present(lambda m: m.library("libpango-1.0.so.0"))),
    Need("PangoFT2", ("libpangoft2-1.0-0",), _present(lambda m: m.library("libpangoft2-1.0.so.0"))),
    Need(
        "HarfBuzz-subset",
        ("libharfbuzz-subset0",),
        _present(lambda m: m.library("libharfbuzz-subset.so.0")),
    ),
    Need("venv van Python", ("python3-venv",), _present(_python_venv)),
    Need("Python.h", ("python3-dev",), _present(_python_header)),
    Need("een C-compiler (gcc)", ("gcc",), _present(lambda m: m.command("gcc") is not None)),
    Need(
        "ldap.h (OpenLDAP)",
        ("libldap-dev", "libldap2-dev"),
        _present(lambda m: m.file("/usr/include/ldap.h")),
    ),
    Need(
        "sasl.h (Cyrus SASL)",
        ("libsasl2-dev",),
        _present(lambda m: m.file("/usr/include/sasl/sasl.h")),
    ),
    # The content's history: every approved version a commit (content/history.py).
    Need("git", ("git",), _present(lambda m: m.command("git") is not None)),
)

# What `make test` needs on top: the PDF/A validator (Apache PDFBox Preflight, Java), Debian's
# headless Chromium (Playwright cannot download one here), and the real servers the tests start:
# OpenLDAP's slapd, nginx, PostgreSQL, and an OpenID Connect provider from npm (tests/oidc/);
# systemd-analyze checks the units in deploy/systemd/.
PREFLIGHT_JARS = {
    "preflight": "libpdfbox2-java",
    "pdfbox2": "libpdfbox2-java",
    "fontbox2": "libpdfbox2-java",
    "xmpbox": "libpdfbox2-java",
    "commons-logging": "libcommons-logging-java",
    "javax.activation": "libactivation-java",
    "jaxb-api": "libjaxb-api-java",
}


def _jar(name: str) -> Callable[[Machine], str | None]:
    return _present(lambda m: m.file(f"/usr/share/java/{name}.jar"))


def test_needs() -> tuple[Need, ...]:
    node = node_needed()
    jars = tuple(Need(f"{name}.jar", (pkg,), _jar(name)) for name, pkg in PREFLIGHT_JARS.items())
    return (
        Need(
            f"Java {JAVA_AT_LEAST} of nieuwer",
            ("default-jre-headless",),
            _version_at_least(("java", "-version"), r'version "(?:1\.)?(\d+)', JAVA_AT_LEAST),
        ),
        *jars,
        Need("Chromium", ("chromium",), _present(lambda m: m.file("/usr/bin/chromium"))),
        Need(
            "DejaVu-lettertypen (voor Chromium)",
            ("fonts-dejavu-core",),
            _present(lambda m: m.file("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")),
        ),
        Need("slapd (OpenLDAP)", ("slapd",), _present(lambda m: m.file("/usr/sbin/slapd"))),
        Need("nginx", ("nginx",), _present(lambda m: m.file("/usr/sbin/nginx"))),
        Need(
            "systemd-analyze",
            ("systemd",),
            _present(lambda m: m.command("systemd-analyze") is not None),
        ),
        Need(
            "PostgreSQL (elke versie)",
            ("postgresql",),
            _present(lambda m: m.file("/usr/lib/postgresql/*/bin/initdb")),
        ),
        Need(
            f"Node.js {node} of nieuwer",
            ("nodejs",),
            _version_at_least(("node", "--version"), r"v(\d+)\.", node),
        ),
        Need("npm", ("npm",), _present(lambda m: m.command("npm") is not None)),
    )


GROUPS: dict[str, Callable[[], tuple[Need, ...]]] = {
    "system": lambda: SYSTEM,
    "test": test_needs,
}


def unmet(needs: Sequence[Need], machine: Machine) -> list[tuple[Need, str]]:
    """The needs not met on this machine, each with what was found instead."""
    found = [(need, need.check(machine)) for need in needs]
    return [(need, why) for need, why in found if why is not None]


def packages_for(missing: Sequence[tuple[Need, str]], known: Callable[[str], bool]) -> list[str]:
    """One package per unmet need (the first alternative apt knows), each asked for once."""
    chosen: list[str] = []
    for need, _ in missing:
        package = next((p for p in need.packages if known(p)), need.packages[0])
        if package not in chosen:
            chosen.append(package)
    return chosen


# --- apt ------------------------------------------------------------------------------------

APT = ["apt-get", "-y", "-q", "--no-install-recommends"]
APT_ENV = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}


def apt_knows(package: str) -> bool:
    policy = subprocess.run(["apt-cache", "policy", package], capture_output=True, text=True)
    candidate = re.search(r"Candidate:\s*(\S+)", policy.stdout)
    return bool(candidate) and candidate.group(1) != "(none)"


def apt_reason(output: str, package: str = "") -> str:
    """apt's reason for refusing ``package``, in one line: the broken dependency that names it
    (else the first one), or the error apt gives."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    broken = [
        line for line in lines if re.search(r" : (Pre)?Depends:| : Conflicts:| : Breaks:", line)
    ]
    named = [
        line for line in broken if package and re.search(rf"(^|\s){re.escape(package)}\b", line)
    ]
    errors = [line.removeprefix("E: ") for line in lines if line.startswith("E: ")]
    specific = [e for e in errors if "held broken packages" not in e]
    reason = (named or broken or specific or errors or lines[-1:] or ["apt gaf geen reden"])[0]
    return re.sub(r"\s+", " ", reason)


def simulate(packages: Sequence[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*APT, "install", "-s", *packages], capture_output=True, text=True, env=APT_ENV
    )


def install(packages: Sequence[str]) -> list[tuple[str, str]]:
    """Install with apt; returns the packages apt refused, each with its reason in one line.

    The whole list is simulated first; when apt refuses it, each package is tried on its own
    so that one that conflicts with the machine does not keep the others out."""
    if simulate(packages).returncode == 0:
        installable, refused = list(packages), []
    else:
        installable, refused = [], []
        for package in packages:
            alone = simulate([package])
            if alone.returncode == 0:
                installable.append(package)
            else:
                refused.append((package, apt_reason(alone.stdout + alone.stderr, package)))
    if installable:
        done = subprocess.run(
            [*APT, "install", *installable], capture_output=True, text=True, env=APT_ENV
        )
        if done.returncode != 0:
            refused += [(p, apt_reason(done.stdout + done.stderr, p)) for p in installable]
    return refused


def command_for(packages: Sequence[str]) -> str:
    return "sudo apt-get install --no-install-recommends " + " ".join(packages)


# --- the command ----------------------------------------------------------------------------


def check_python() -> None:
    if sys.version_info < PYTHON_AT_LEAST:
        found = ".".join(map(str, sys.version_info[:3]))
        raise SystemExit(f"leafletpress heeft Python 3.11 of nieuwer nodig (gevonden: {found}).")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("group", choices=sorted(GROUPS))
    parser.add_argument("--plan", action="store_true", help="print the packages; install none")
    parser.add_argument(
        "--root", type=Path, help="a made-up machine: read files under this folder (implies --plan)"
    )
    args = parser.parse_args(argv)
    check_python()
    machine = Machine(args.root or Path("/"))
    missing = unmet(GROUPS[args.group](), machine)
    if args.plan or args.root:
        for package in packages_for(missing, known=lambda package: True):
            print(package)
        return 0
    if not missing:
        return 0
    described = "; ".join(f"{need.what} ({why})" for need, why in missing)
    if not shutil.which("apt-get") or not shutil.which("apt-cache"):
        print(f"Ontbreekt: {described}.\nInstalleer het met de pakketbeheerder van deze machine "
              "(leafletpress kent alleen apt, op Debian en Ubuntu).", file=sys.stderr)  # fmt: skip
        return 1
    if os.geteuid() != 0:
        packages = packages_for(missing, known=apt_knows)
        print(f"Ontbreekt: {described}.\nVoer uit: {command_for(packages)}", file=sys.stderr)
        return 1
    print(f"Installeren wat ontbreekt: {described}", flush=True)
    subprocess.run(["apt-get", "update", "-qq"], env=APT_ENV, check=False)
    refused = install(packages_for(missing, known=apt_knows))
    # What apt refused may have come with another package all the same (NodeSource's nodejs
    # brings npm, which apt refuses beside it): only a need still not met counts.
    still = unmet([need for need, _ in missing], machine)
    refused = [(p, why) for p, why in refused if any(p in need.packages for need, _ in still)]
    for package, reason in refused:
        print(
            f"Kan {package} niet installeren: {reason}\nVoer uit: {command_for([package])}",
            file=sys.stderr,
        )
    if still and not refused:
        described = "; ".join(f"{need.what} ({why})" for need, why in still)
        print(f"Na de installatie ontbreekt nog: {described}.", file=sys.stderr)
    return 1 if still else 0


if __name__ == "__main__":
    sys.exit(main())
