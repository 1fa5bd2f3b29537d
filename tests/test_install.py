"""leafletpress installed as a hospital's server gets it (docs/install.md): a release, not a git
checkout, and no internet. Built as `make wheelhouse` builds it (leafletpress's wheel and a wheel
of every dependency that requirements/web.txt pins, hashes checked), installed with
`pip install --no-index` into a fresh virtual environment in a temporary folder, and run from
a folder outside the checkout: the CLI's demo, a content folder of the hospital's own, and the
web app with a worker, as the systemd units in deploy/ start them."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from datetime import date, timedelta
from pathlib import Path

import pytest
import requests
from deployment import FORM, PASSWORD, Secretary
from helpers import ROOT, free_port, page_texts
from packaging.requirements import Requirement

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


def run(*command: str | Path, env: dict[str, str], cwd: Path) -> str:
    done = subprocess.run([str(c) for c in command], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=900)  # fmt: skip
    assert done.returncode == 0, f"{command}: {done.stdout[-2000:]}{done.stderr[-2000:]}"
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> dict[str, Path | dict[str, str]]:
    """A server's folder: the wheelhouse, a venv installed from it offline, a clean
    environment (no checkout on the path) and a folder to work in."""
    top = tmp_path_factory.mktemp("server")
    wheels = top / "wheelhouse"
    pip = [sys.executable, "-m", "pip", "wheel", "--quiet", "-w", wheels]
    build = os.environ | {"PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    run(*pip, "--require-hashes", "-r", ROOT / "requirements/web.txt", env=build, cwd=ROOT)
    source = top / "source"  # the files git has, and no build/ left by an earlier build
    listed = run("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard",
                 env=build, cwd=ROOT)  # fmt: skip
    for name in filter(None, listed.split("\0")):
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    run(*pip, "--no-deps", source, env=build, cwd=source)
    venv = top / "venv"
    run(sys.executable, "-m", "venv", venv, env=build, cwd=top)
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(top / "home"), "LANG": "C.UTF-8",
           "PIP_CONFIG_FILE": "/dev/null", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}  # fmt: skip
    run(venv / "bin/pip", "install", "--quiet", "--no-index", "--find-links", wheels,
        "leafletpress[web]", env=env, cwd=top)  # fmt: skip
    work = top / "srv"
    work.mkdir()
    return {"venv": venv, "env": env, "work": work}


def test_the_lock_file_pins_every_dependency_within_the_range_pyproject_asks_for() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["web"]]
    for lock, asked in (
        ("web", wanted),
        ("test", [*wanted, *project["optional-dependencies"]["test"]]),
    ):
        text = (ROOT / f"requirements/{lock}.txt").read_text()
        pinned = dict(re.findall(r"^([A-Za-z0-9_.-]+)==([^ ;\\]+)", text, re.MULTILINE))
        pinned = {name.lower().replace("_", "-"): version for name, version in pinned.items()}
        for line in asked:
            need = Requirement(line)
            if need.name == "leafletpress":
                continue
            name = need.name.lower().replace("_", "-")
            assert name in pinned, f"requirements/{lock}.txt pint {name} niet: make lock"
            assert need.specifier.contains(pinned[name]), f"{name} {pinned[name]}: make lock"
        assert "--hash=sha256:" in text


def test_an_installed_wheel_outside_the_checkout_runs_the_demo_with_its_own_fonts(server) -> None:
    venv, env, work = server["venv"], server["env"], server["work"]
    where = run(venv / "bin/python", "-c", "import leafletpress.common.project as p; "
                "print(p.CHECKOUT, p.shipped('styles'))", env=env, cwd=work)  # fmt: skip
    assert where.split() == ["None", str(next(venv.glob("lib/python*/site-packages")) /
                                        "leafletpress/bundled/styles")]  # fmt: skip
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert run(venv / "bin/leafletpress", "--version", env=env, cwd=work).strip().endswith(version)
    said = run(venv / "bin/leafletpress", "demo", env=env, cwd=work)
    assert "$ leafletpress batch" in said and "generate.py" not in said
    made = sorted((work / "output/demo").rglob("*.pdf"))
    assert len(made) > 10, said
    text = page_texts(made[0].read_bytes())[0]
    assert "Avasculaire" in text or "avasculaire" in text.lower()
    fonts = run(venv / "bin/python", "-c", "import pikepdf,sys; d=pikepdf.open(sys.argv[1]); "
                "print({str(f.get('/BaseFont')) for p in d.pages for f in "
                "p.Resources.get('/Font', {}).values()})", made[0], env=env, cwd=work)  # fmt: skip
    assert "+Open-Sans" in fonts, fonts  # styles/fonts/, bundled: the same pages everywhere


def test_a_hospital_content_folder_is_begun_from_the_example_and_never_overwritten(server) -> None:
    venv, env, work = server["venv"], server["env"], server["work"]
    said = run(venv / "bin/leafletpress", "init", "inhoud", env=env, cwd=work)
    assert "--project inhoud check" in said
    assert sorted(p.name for p in (work / "inhoud").iterdir()) == ["config", "leaflets"]
    again = subprocess.run([venv / "bin/leafletpress", "init", "inhoud"], env=env, cwd=work,
                           capture_output=True, text=True)  # fmt: skip
    assert again.returncode == 2 and "niet leeg" in again.stderr and "Traceback" not in again.stderr
    assert "0 fout(en)" in run(venv / "bin/leafletpress", "--project", "inhoud", "check",
                               env=env, cwd=work)  # fmt: skip


def wait_for(url: str, seconds: float = 60) -> requests.Response:
    deadline = time.monotonic() + seconds
    while True:
        try:
            return requests.get(url, timeout=5)
        except requests.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_the_installed_web_app_migrates_starts_and_makes_a_leaflet_from_the_content_folder(
    server,
) -> None:
    venv, env, work = server["venv"], server["env"], server["work"]
    content = work / "ziekenhuis"
    run(venv / "bin/leafletpress", "init", content, env=env, cwd=work)
    port = free_port()
    app = env | {"LEAFLETPRESS_PROJECT": str(content), "LEAFLETPRESS_DATA": str(work / "data")}
    run(venv / "bin/leafletpress-web", "migrate", "-v0", env=app, cwd=work)
    run(venv / "bin/leafletpress-web", "maak_account", "an", "--rol", "secretariaat",
        env=app | {"LEAFLETPRESS_WACHTWOORD": PASSWORD}, cwd=work)  # fmt: skip
    started = [
        subprocess.Popen([venv / "bin/gunicorn", "leafletpress.web.wsgi", "--bind",
                          f"127.0.0.1:{port}"], env=app, cwd=work, stderr=subprocess.DEVNULL),
        subprocess.Popen([venv / "bin/leafletpress-web", "werk"], env=app, cwd=work,
                         stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL),
    ]  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        health = wait_for(f"{base}/gezond/")
        for _ in range(100):
            if health.status_code == 200:
                break
            time.sleep(0.3)
            health = requests.get(f"{base}/gezond/", timeout=5)
        assert health.status_code == 200, health.text
        secretary = Secretary(base, "an")
        on = (date.today() + timedelta(days=30)).strftime("%d/%m/%Y")
        page = secretary.post("/folder/", FORM | {"name": "Marie Peeters", "reference":
                              "PAT-0042", "date": on})  # fmt: skip
        pdf_url = re.search(r'href="(/folder/[0-9a-f-]+/pdf)"', page.text)
        assert page.status_code == 200 and pdf_url, page.text[:500]
        pdf = secretary.get(pdf_url.group(1))
        assert "Marie Peeters" in page_texts(pdf.content)[0]
        assert (work / "data").is_dir() and not (content / "data").exists()
    finally:
        for process in started:
            process.terminate()
            process.wait(timeout=60)
