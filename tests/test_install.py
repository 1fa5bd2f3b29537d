"""leafletpress installed as a hospital's server gets it (docs/install.md): a release, not a git
checkout, and no internet. Built as `make wheelhouse` builds it (leafletpress's wheel and a wheel
of every dependency that requirements/web.txt pins, hashes checked), installed with
`pip install --no-index` into a fresh virtual environment in a temporary folder, and run from
a folder outside the checkout: the CLI's demo, a content folder of the hospital's own, and the
web app with a worker, as the systemd units in deploy/ start them."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from datetime import date, timedelta
from importlib.metadata import version
from pathlib import Path

import psycopg
import pytest
import requests
import requests.adapters
import trustme
from conftest import CLOCK
from deployment import FORM, PASSWORD, Postgres, Secretary, preview
from directory import OidcProvider, wait_for
from helpers import ROOT, free_port, page_texts
from packaging.requirements import Requirement
from testclock import SETTING

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
    # Not part of the release: the test suite's clock (tests/clock/), in every process.
    run(venv / "bin/pip", "install", "--quiet", f"time-machine=={version('time-machine')}",
        env=build | {"VIRTUAL_ENV": str(venv)}, cwd=top)  # fmt: skip
    env |= {"PYTHONPATH": str(CLOCK), "LEAFLETPRESS_TEST_CLOCK": os.environ[SETTING]}
    work = top / "srv"
    work.mkdir()
    return {"venv": venv, "env": env, "work": work}


def _canonical(name: str) -> str:
    """A distribution's name as PEP 503 compares them: fhir.resources is fhir-resources."""
    return re.sub(r"[-_.]+", "-", name).lower()


def test_the_lock_file_pins_every_dependency_within_the_range_pyproject_asks_for() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["web"]]
    for lock, asked in (
        ("web", wanted),
        ("test", [*wanted, *project["optional-dependencies"]["test"]]),
    ):
        text = (ROOT / f"requirements/{lock}.txt").read_text()
        pinned = dict(re.findall(r"^([A-Za-z0-9_.-]+)==([^ ;\\]+)", text, re.MULTILINE))
        pinned = {_canonical(name): version for name, version in pinned.items()}
        for line in asked:
            need = Requirement(line)
            if need.name == "leafletpress":
                continue
            name = _canonical(need.name)
            assert name in pinned, f"requirements/{lock}.txt pint {name} niet: make lock"
            assert need.specifier.contains(pinned[name]), f"{name} {pinned[name]}: make lock"
        assert "--hash=sha256:" in text


def test_an_installed_wheel_outside_the_checkout_runs_the_demo_with_its_own_fonts(server) -> None:
    venv, env, work = server["venv"], server["env"], server["work"]
    where = run(venv / "bin/python", "-c", "import leafletpress.common.project as p; "
                "print(p.CHECKOUT, p.shipped('styles'))", env=env, cwd=work)  # fmt: skip
    assert where.split() == ["None", str(next(venv.glob("lib/python*/site-packages")) /
                                        "leafletpress/bundled/styles")]  # fmt: skip
    version = re.search(
        r'__version__ = "([^"]+)"', (ROOT / "leafletpress/__init__.py").read_text()
    )[1]
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
    for odd, said in (("een-bestand", "een bestand, geen map"), ("een-link", "een link naar")):
        (work / "een-bestand").touch()
        if not (work / "een-link").is_symlink():
            (work / "een-link").symlink_to(work / "nergens")
        refused = subprocess.run([venv / "bin/leafletpress", "init", odd], env=env, cwd=work,
                                 capture_output=True, text=True)  # fmt: skip
        assert refused.returncode == 2 and said in refused.stderr, refused.stderr
    assert "0 fout(en)" in run(venv / "bin/leafletpress", "--project", "inhoud", "check",
                               env=env, cwd=work)  # fmt: skip


# --- as deploy/ runs it: PostgreSQL, the systemd units' command lines, nginx in front ----------

DEPLOY = ROOT / "deploy"
UNITS = ("leafletpress-migrate.service", "leafletpress-web.service", "leafletpress.target",
         "leafletpress-worker@.service", "leafletpress-reservekopie.service",
         "leafletpress-reservekopie.timer", "leafletpress-koppeling.service")  # fmt: skip


def unit(name: str, venv: Path, **changes: str) -> dict[str, list[str]]:
    """A unit of deploy/systemd/ as the test's machine has it: its venv, and ``changes``."""
    text = (DEPLOY / "systemd" / name).read_text().replace("/opt/leafletpress/venv", str(venv))
    for old, new in changes.items():
        assert old in text, f"{name} heeft geen {old}"
        text = text.replace(old, new)
    keys: dict[str, list[str]] = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            keys.setdefault(key, []).append(value)
    return keys


def settings_file(name: str) -> dict[str, str]:
    lines = (DEPLOY / name).read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def test_every_unit_passes_systemd_analyze_verify(server, tmp_path: Path) -> None:
    for name in UNITS:  # at the paths the installed venv has
        text = (DEPLOY / "systemd" / name).read_text()
        (tmp_path / name).write_text(text.replace("/opt/leafletpress/venv", str(server["venv"])))
    names = [name.replace("@.", "@1.") for name in UNITS]
    done = subprocess.run(["systemd-analyze", "verify", *names], cwd=tmp_path,
                          capture_output=True, text=True)  # fmt: skip
    assert (done.returncode, done.stdout + done.stderr) == (0, "")  # unknown keys only warn


def test_the_proxy_and_the_units_give_the_app_time_to_answer_and_to_stop() -> None:
    nginx = (DEPLOY / "nginx/leafletpress.conf").read_text()
    web = unit("leafletpress-web.service", Path("/venv"))
    line = web["ExecStart"][0]
    timeout = int(re.search(r"--timeout (\d+)", line).group(1))
    graceful = int(re.search(r"--graceful-timeout (\d+)", line).group(1))
    proxy = int(re.search(r"proxy_read_timeout (\d+)s;", nginx).group(1))
    assert proxy > timeout  # a request the app ends is answered by the app, never cut by nginx
    assert int(web["TimeoutStopSec"][0]) > graceful  # gunicorn finishes before systemd kills it
    worker = unit("leafletpress-worker@.service", Path("/venv"))
    assert int(worker["TimeoutStopSec"][0]) >= 60  # a worker finishes its leaflet first


def database_roles(database: Postgres) -> None:
    """As docs/install.md says: two roles, the database owned by the first."""
    with psycopg.connect(database.url, autocommit=True) as db:
        db.execute("CREATE ROLE leafletpress_eigenaar LOGIN")
        db.execute("CREATE ROLE leafletpress LOGIN")
        db.execute("ALTER DATABASE leafletpress OWNER TO leafletpress_eigenaar")
        db.execute("ALTER SCHEMA public OWNER TO pg_database_owner")


def grant(database: Postgres, statements: str = "") -> None:
    """deploy/postgresql.sql (or ``statements``), as a superuser."""
    with psycopg.connect(database.url, autocommit=True) as db:
        db.execute(statements or (DEPLOY / "postgresql.sql").read_text())


def role_url(database: Postgres, role: str) -> str:
    return database.url.replace("postgres@", f"{role}@")


class Hospital:
    """leafletpress on one machine as docs/install.md sets it up: PostgreSQL with the roles and
    privileges of deploy/postgresql.sql, the settings of deploy/leafletpress.env, the command
    lines of deploy/systemd/ (migrate as the owner, then gunicorn and two workers as the app),
    nginx with deploy/nginx/leafletpress.conf in front over HTTPS, and an OpenID Connect
    provider. All on 127.0.0.1."""

    def __init__(self, server: dict, top: Path) -> None:
        self.venv, self.top = server["venv"], top
        self.database = Postgres().start()
        self.app_port, self.https, self.http = free_port(), free_port(), free_port()
        self.base = f"https://localhost:{self.https}"
        self.provider = OidcProvider(f"{self.base}/oidc/callback/").start()
        self.processes: list[subprocess.Popen[bytes]] = []
        self.env = server["env"] | settings_file("leafletpress.env") | {
            "LEAFLETPRESS_SECRET_KEY": "een-geheime-sleutel-voor-deze-test-" * 2,
            "LEAFLETPRESS_HOSTS": "localhost", "DATABASE_URL": self.role_url("leafletpress"),
            "LEAFLETPRESS_PROJECT": str(top / "inhoud"), "LEAFLETPRESS_DATA": str(top / "data"),
            "LEAFLETPRESS_SHARED": str(top / "gedeeld"),
            "LEAFLETPRESS_KEY_FILE": str(top / "etc/sleutel"),
            # The real clock, as the provider's and PostgreSQL's: an ID token from the future
            # would be refused. Nothing here depends on the day it runs.
            SETTING: "+0s",
        } | self.provider.environment()  # fmt: skip

    def role_url(self, role: str) -> str:
        return role_url(self.database, role)

    def start(self) -> Hospital:
        database_roles(self.database)
        grant(self.database)
        run(self.venv / "bin/leafletpress", "init", self.top / "inhoud", env=self.env, cwd=self.top)
        (self.top / "etc").mkdir()
        (self.top / "run").mkdir(mode=0o700)  # RuntimeDirectory=
        self.migrate()
        self.account("an", "secretariaat")
        self.services()
        self.nginx()
        healthy(self, 0)  # nginx and gunicorn answer (the workers may still be starting)
        return self

    @property
    def owner(self) -> dict[str, str]:
        """The environment of leafletpress-migrate.service: the role that owns the tables."""
        return self.env | settings_file("eigenaar.env") | {
            "DATABASE_URL": self.role_url("leafletpress_eigenaar")}  # fmt: skip

    def migrate(self) -> None:
        for line in unit("leafletpress-migrate.service", self.venv)["ExecStart"]:
            run(*shlex.split(line), env=self.owner, cwd=self.top)

    def services(self) -> None:
        """gunicorn and two workers, as leafletpress-web.service and -worker@.service."""
        web = unit("leafletpress-web.service", self.venv, **{
            "127.0.0.1:8000": f"127.0.0.1:{self.app_port}",
            "/run/leafletpress-web": str(self.top / "run")})  # fmt: skip
        self.services_running = [self.spawn(web["ExecStart"][0])] + [
            self.spawn(unit("leafletpress-worker@.service", self.venv, **{"%i": n})["ExecStart"][0])
            for n in ("1", "2")
        ]  # fmt: skip

    def stop_services(self) -> None:
        for process in self.services_running:
            process.terminate()
        for process in self.services_running:
            process.wait(timeout=120)

    def account(self, name: str, *roles: str) -> None:
        flags = [arg for role in roles for arg in ("--rol", role)]
        run(self.venv / "bin/leafletpress-web", "maak_account", name, *flags,
            env=self.env | {"LEAFLETPRESS_WACHTWOORD": PASSWORD}, cwd=self.top)  # fmt: skip

    def spawn(self, line: str) -> subprocess.Popen[bytes]:
        self.processes.append(subprocess.Popen(shlex.split(line), env=self.env, cwd=self.top,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))  # fmt: skip
        return self.processes[-1]

    def nginx(self) -> None:
        folder = self.top / "nginx"
        folder.mkdir()
        ca = trustme.CA()
        ca.cert_pem.write_to_path(str(folder / "ca.pem"))
        ca.issue_cert("localhost").private_key_and_cert_chain_pem.write_to_path(
            str(folder / "tls.pem")
        )
        self.ca = str(folder / "ca.pem")
        site = (DEPLOY / "nginx/leafletpress.conf").read_text()
        for old, new in {
            "127.0.0.1:8000": f"127.0.0.1:{self.app_port}", "folders.zas.be;": "localhost;",
            "listen 80;": f"listen 127.0.0.1:{self.http};",
            "listen 443 ssl;": f"listen 127.0.0.1:{self.https} ssl;",
            "/etc/ssl/certs/folders.zas.be.pem": str(folder / "tls.pem"),
            "/etc/ssl/private/folders.zas.be.key": str(folder / "tls.pem"),
        }.items():  # fmt: skip
            assert old in site, f"deploy/nginx/leafletpress.conf heeft geen {old}"
            site = site.replace(old, new)
        (folder / "leafletpress.conf").write_text(site)
        kinds = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        temp = " ".join(f"{kind}_temp_path {folder / kind};" for kind in kinds)
        user = "user root;" if os.geteuid() == 0 else ""
        (folder / "nginx.conf").write_text(
            f"{user} daemon off; worker_processes 1; pid {folder}/nginx.pid;\n"
            f"error_log {folder}/error.log; events {{}}\n"
            f"http {{ access_log {folder}/access.log; {temp}\n"
            f"include {folder}/leafletpress.conf; }}\n"
        )  # fmt: skip
        self.processes.append(subprocess.Popen(
            ["/usr/sbin/nginx", "-p", str(folder), "-c", str(folder / "nginx.conf")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))  # fmt: skip

    def session(self, address: str = "127.0.0.1") -> requests.Session:
        """A workstation's browser: its own address, trusting the hospital's CA."""
        web = requests.Session()
        web.verify, web.trust_env = self.ca, False  # not REQUESTS_CA_BUNDLE: this CA
        web.headers["Referer"] = f"{self.base}/"  # as a browser sends it: Django's HTTPS CSRF check
        web.mount("https://", FromAddress(address))
        web.mount("http://", FromAddress(address))
        return web

    def stop(self) -> None:
        for process in reversed(self.processes):  # KillSignal=SIGTERM, then TimeoutStopSec
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=120)
            except subprocess.TimeoutExpired:
                process.kill()
        self.provider.stop()
        self.database.stop()


class FromAddress(requests.adapters.HTTPAdapter):
    """Connections from one loopback address (127.0.0.2, ...): a workstation of its own."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs) -> None:
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


@pytest.fixture(scope="module")
def hospital(server, tmp_path_factory) -> Iterator[Hospital]:
    running = Hospital(server, tmp_path_factory.mktemp("ziekenhuis")).start()
    try:
        yield running
    finally:
        running.stop()


def healthy(hospital: Hospital, seconds: float = 90) -> dict:
    """/gezond/ through nginx, once it says 200 or after ``seconds``; the first answer of any
    kind with ``seconds=0``."""
    deadline, web = time.monotonic() + max(seconds, 60), hospital.session()
    while True:
        try:
            answer = web.get(f"{hospital.base}/gezond/", timeout=10)
            if answer.status_code in (200, 503) and (answer.ok or not seconds
                                                      or time.monotonic() > deadline):  # fmt: skip
                return {**answer.json(), "code": answer.status_code}
        except requests.ConnectionError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.3)


def sign_in(hospital: Hospital, web: requests.Session, name: str = "an",
            password: str = PASSWORD) -> requests.Response:  # fmt: skip
    web.get(f"{hospital.base}/aanmelden/", timeout=30)
    return web.post(f"{hospital.base}/aanmelden/", {"username": name, "password": password,
                    "csrfmiddlewaretoken": web.cookies["csrftoken"]}, timeout=30)  # fmt: skip


def test_an_installed_app_in_production_needs_the_hospitals_content_folder(server) -> None:
    production = server["env"] | {"LEAFLETPRESS_PRODUCTION": "1", "DATABASE_URL": "sqlite:///x",
                                  "LEAFLETPRESS_SECRET_KEY": "x" * 50}  # fmt: skip
    done = subprocess.run([server["venv"] / "bin/leafletpress-web", "check"], env=production,
                          cwd=server["work"], capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 2 and "zet LEAFLETPRESS_PROJECT" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_the_units_start_a_healthy_installation_that_makes_a_leaflet_behind_nginx(hospital) -> None:
    health = healthy(hospital)
    assert health["code"] == 200, health
    web = hospital.session()
    signed = sign_in(hospital, web)
    assert signed.url == f"{hospital.base}/", (signed.status_code, signed.text[:600])
    assert all(cookie.secure for cookie in web.cookies)
    assert "max-age=31536000" in signed.headers["Strict-Transport-Security"]
    on = (date.today() + timedelta(days=30)).strftime("%d/%m/%Y")
    page = web.post(f"{hospital.base}/folder/", FORM | {"name": "Marie Peeters", "reference":
                    "PAT-0042", "date": on, "csrfmiddlewaretoken": web.cookies["csrftoken"]},
                    timeout=120)  # fmt: skip
    pdf_url = re.search(r'href="(/folder/[0-9a-f-]+/pdf)"', page.text)
    assert page.status_code == 200 and pdf_url, page.text[:500]
    pdf = web.get(hospital.base + pdf_url.group(1), timeout=60)
    assert "Marie Peeters" in page_texts(pdf.content)[0]
    assert not (hospital.top / "inhoud/data").exists()  # data where LEAFLETPRESS_DATA says


def test_http_goes_to_https_and_https_reaches_the_app_without_a_redirect_loop(hospital) -> None:
    web = hospital.session()
    plain = web.get(f"http://localhost:{hospital.http}/dag/", allow_redirects=False, timeout=10)
    assert plain.status_code == 301 and plain.headers["Location"] == "https://localhost/dag/"
    start = web.get(f"{hospital.base}/", timeout=30)
    assert start.status_code == 200 and len(start.history) == 1, start.history
    assert start.url == f"{hospital.base}/aanmelden/?next=/"
    # gunicorn without the proxy's X-Forwarded-Proto: sent to HTTPS, as it should be
    direct = requests.get(f"http://127.0.0.1:{hospital.app_port}/aanmelden/", timeout=10,
                          headers={"Host": "localhost"}, allow_redirects=False)  # fmt: skip
    assert direct.status_code == 301 and direct.headers["Location"].startswith("https://")


def test_five_wrong_passwords_lock_out_that_workstation_and_not_the_others_behind_the_proxy(
    hospital,
) -> None:
    hospital.account("bo", "secretariaat")
    guessing = hospital.session("127.0.0.2")
    for _ in range(5):
        assert sign_in(hospital, guessing, "bo", "fout-wachtwoord").url.endswith("/aanmelden/")
    locked = sign_in(hospital, guessing, "bo")  # the right password, from that workstation
    assert locked.status_code == 429 and "geblokkeerd" in locked.text.lower(), locked.text[:300]
    forged = hospital.session("127.0.0.2")
    forged.headers["X-Forwarded-For"] = "127.0.0.9"  # a client's own entry is never trusted
    assert sign_in(hospital, forged, "bo").status_code == 429
    colleague = hospital.session("127.0.0.3")  # her own workstation: not locked out
    assert sign_in(hospital, colleague, "bo").url == f"{hospital.base}/"


def test_a_ten_megabyte_upload_reaches_the_app_and_a_bigger_one_gets_a_dutch_page(hospital) -> None:
    web = hospital.session()
    sign_in(hospital, web)
    for size, status, said in (
        (10 * 2**20 - 4096, 400, "langer dan 1000 tekens"),  # read by the app: not a list
        (10 * 2**20 + 2**19, 413, "groter dan 10 MB"),  # the app's limit, in its words
        (12 * 2**20, 413, "Dit bestand is te groot"),  # nginx's, in Dutch
    ):
        token = {"csrfmiddlewaretoken": web.cookies["csrftoken"]}
        answer = web.post(f"{hospital.base}/dag/", token, timeout=120,
                          files={"lijst": ("dag.csv", b"x" * size)})  # fmt: skip
        assert (answer.status_code, said in answer.text) == (status, True), re.sub(
            r"\s+", " ", re.sub(r"<[^>]+>", " ", answer.text)
        )[-1500:]


def test_the_hospital_sign_in_comes_back_through_nginx_to_the_https_callback(
    hospital, browser
) -> None:
    context = browser.new_context(base_url=hospital.base, locale="nl-BE", ignore_https_errors=True)
    tab = context.new_page()
    tab.goto("/")
    tab.get_by_role("link", name="Aanmelden met je ziekenhuisaccount").click()
    # The provider accepts only the redirect URI registered for it, the public one over HTTPS
    # (it refuses any other with an error page): the app built it from nginx's headers.
    tab.locator("input[name=login]").fill("bo.claes")  # the provider's own sign-in page
    tab.locator("input[name=password]").fill("wat-de-provider-vraagt")
    tab.locator("button[type=submit]").click()
    tab.locator("button[type=submit]").click()  # its consent page
    tab.get_by_role("heading", level=1).wait_for()
    assert tab.url == f"{hospital.base}/" and "Goeiedag bo.claes" in tab.content()
    context.close()


def test_a_running_installation_backed_up_lost_and_restored_is_whole(hospital) -> None:
    """docs/install.md's restore test, on PostgreSQL: a backup while the services run, the
    database and the shared folder lost, restored as the owner of the tables, services again."""
    web = hospital.session()
    sign_in(hospital, web)
    on = (date.today() + timedelta(days=30)).strftime("%d/%m/%Y")
    made = web.post(f"{hospital.base}/folder/", FORM | {"name": "Jan Janssens", "reference":
                    "PAT-0077", "date": on, "csrfmiddlewaretoken": web.cookies["csrftoken"]},
                    timeout=120)  # fmt: skip
    assert made.status_code == 200
    audit = 'SELECT id, at, "user", action, reference, detail FROM web_auditevent ORDER BY id'
    before = hospital.database.query(audit)
    backups = hospital.top / "reservekopieen"
    backups.mkdir()
    said = run(hospital.venv / "bin/leafletpress-web", "reservekopie", backups, env=hospital.env,
               cwd=hospital.top)  # fmt: skip
    backup = next(backups.glob("leafletpress-reservekopie-*.tar"))
    assert backup.name in said and oct(backup.stat().st_mode & 0o777) == "0o600"

    hospital.stop_services()  # docs/install.md: stop, then restore
    with psycopg.connect(
        hospital.database.url.rsplit("/", 1)[0] + "/postgres", autocommit=True
    ) as db:
        db.execute("DROP DATABASE leafletpress WITH (FORCE)")
        db.execute("CREATE DATABASE leafletpress OWNER leafletpress_eigenaar")
    grant(hospital.database)
    shutil.rmtree(hospital.top / "gedeeld")
    said = run(hospital.venv / "bin/leafletpress-web", "herstel", backup, env=hospital.owner,
               cwd=hospital.top)  # fmt: skip
    assert "Hersteld" in said and "al gelijk aan die van de reservekopie" in said, said

    after = hospital.database.query(audit)
    assert after[: len(before)] == before  # the audit log, whole
    assert after[-1][3] == "hersteld"  # ('reservekopie' came after the copy: not in it)
    hospital.services()
    assert healthy(hospital)["code"] == 200
    again = hospital.session()
    assert sign_in(hospital, again).url == f"{hospital.base}/"  # the restored account
    pdf = again.get(hospital.base + re.search(r'href="(/folder/[0-9a-f-]+/pdf)"', made.text)[1],
                    timeout=60)  # fmt: skip
    assert "Jan Janssens" in page_texts(pdf.content)[0]  # the restored shared folder


def test_a_database_that_stops_answering_is_a_503_from_the_health_not_an_error_page(
    hospital,
) -> None:
    server = hospital.database.url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(server, autocommit=True) as db:
        db.execute("ALTER DATABASE leafletpress ALLOW_CONNECTIONS false")
        db.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                   "WHERE datname = 'leafletpress' AND pid <> pg_backend_pid()")  # fmt: skip
    try:
        answer = hospital.session().get(f"{hospital.base}/gezond/", timeout=30)
        assert answer.status_code == 503, answer.text[:300]
        checks = answer.json()["checks"]
        assert checks["database"]["ok"] is False and checks["gedeelde_map"]["ok"] is True
    finally:
        with psycopg.connect(server, autocommit=True) as db:
            db.execute("ALTER DATABASE leafletpress ALLOW_CONNECTIONS true")
    back = healthy(hospital)
    assert back["code"] == 200, back  # and back, without a restart


# --- an upgrade from the previous release ------------------------------------------------------

PREVIOUS = ROOT / "tests/fixtures/upgrade-v0.2.0.sql"  # tools/upgrade_fixture.py v0.2.0


def upgraded(server, top: Path, privileges: str = "") -> tuple[Postgres, dict[str, str]]:
    """The previous release's database, with its data, upgraded as docs/install.md says: the
    new release's migrate and hervat (the migrate unit) as the owner of the tables."""
    database = Postgres().start()
    database_roles(database)
    psql = [database.bin / "psql", "-q", "-v", "ON_ERROR_STOP=1", "-f", PREVIOUS,
            role_url(database, "leafletpress_eigenaar")]  # fmt: skip
    run(*psql, env=server["env"], cwd=top)
    grant(database, privileges)  # as that installation did (it may run again at any time)
    env = server["env"] | {"LEAFLETPRESS_DATA": str(top / "data"), SETTING: "+0s"}
    owner = env | {"DATABASE_URL": role_url(database, "leafletpress_eigenaar")}
    for line in unit("leafletpress-migrate.service", server["venv"])["ExecStart"]:
        run(*shlex.split(line), env=owner, cwd=top)
    return database, env | {"DATABASE_URL": role_url(database, "leafletpress")}


def test_the_previous_releases_database_upgrades_and_the_app_role_uses_the_new_tables(
    server, tmp_path: Path
) -> None:
    database, env = upgraded(server, tmp_path)
    port = free_port()
    web = subprocess.Popen([server["venv"] / "bin/gunicorn", "leafletpress.web.wsgi", "--bind",
                            f"127.0.0.1:{port}"], env=env, cwd=tmp_path,
                           stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        wait_for(port, web, "gunicorn")
        an = Secretary(f"http://127.0.0.1:{port}", "an")  # the account and password of v0.2.0
        assert "dag-2026-12-15.csv" in an.get("/").text  # her day, made by v0.2.0
        _, pdf = preview(an, "Marie Peeters", "PAT-0042", "15/12/2026")
        assert "Marie Peeters" in page_texts(pdf)[0]  # a Document and its search index (0013)
        found = an.post("/zoek/", {"zoek": "PAT-0042"})
        assert re.search(r'href="/folder/[0-9a-f-]{36}/"', found.text), found.text[-2000:]
        kept = len(re.findall(r"INSERT INTO public.web_auditevent ", PREVIOUS.read_text()))
        events = database.query("SELECT count(*) FROM web_auditevent")[0][0]
        assert events > kept  # v0.2.0's events, then today's
    finally:
        web.terminate()
        web.wait(timeout=60)
        database.stop()


def test_without_default_privileges_the_first_new_table_of_an_upgrade_is_refused(
    server, tmp_path: Path
) -> None:
    """Why deploy/postgresql.sql has its ALTER DEFAULT PRIVILEGES: without them the app role
    cannot read a table the upgrade made."""
    statements = (DEPLOY / "postgresql.sql").read_text()
    without = statements[: statements.index("ALTER DEFAULT PRIVILEGES")]
    database, env = upgraded(server, tmp_path, privileges=without)
    try:
        with psycopg.connect(env["DATABASE_URL"]) as db:
            assert db.execute("SELECT count(*) FROM web_day").fetchone() == (1,)  # v0.2.0's
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                db.execute("SELECT count(*) FROM web_patientleaflet")  # 0013's
    finally:
        database.stop()
