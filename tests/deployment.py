"""leafletpress deployed as a hospital runs it on more than one machine, on 127.0.0.1:
PostgreSQL from Debian (a private cluster in a scratch folder), gunicorn, and db_workers that
each have a data folder of their own and share one folder of files, as separate machines
would. Used by tests/test_deployment.py and benchmarks/bench_load.py."""

from __future__ import annotations

import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg
import requests
from helpers import free_port

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "Folders-op-meer-machines-2026"


def _as_postgres(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: then it runs as Debian's 'postgres' user."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


class Postgres:
    """A PostgreSQL cluster of its own: initdb, pg_ctl start, one database."""

    def __init__(self) -> None:
        found = sorted(  # the newest server installed (a client alone has no initdb)
            (Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")),
            key=lambda p: int(p.parts[4]),
        )
        if not found:
            raise RuntimeError("PostgreSQL ontbreekt: apt-get install postgresql (make test)")
        self.bin = found[-1]
        self.folder = Path(tempfile.mkdtemp(prefix="leafletpress-pg-"))
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        self.port = free_port()
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/leafletpress"

    def start(self) -> Postgres:
        data = self.folder / "data"
        run = {"check": True, "capture_output": True}
        subprocess.run(_as_postgres([str(self.bin / "initdb"), "-D", str(data), "-U",
                                     "postgres", "--auth=trust", "-E", "UTF8"]), **run)  # fmt: skip
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = str(self.folder / "log")
        start = [str(self.bin / "pg_ctl"), "-D", str(data), "-w", "-o", options, "-l", log, "start"]
        subprocess.run(_as_postgres(start), **run)
        with psycopg.connect(f"postgres://postgres@127.0.0.1:{self.port}/postgres",
                             autocommit=True) as db:  # fmt: skip
            db.execute("CREATE DATABASE leafletpress")
        return self

    def stop(self) -> None:
        subprocess.run(_as_postgres([str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"),
                                     "-m", "immediate", "stop"]), capture_output=True)  # fmt: skip
        shutil.rmtree(self.folder, ignore_errors=True)

    def query(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.url) as db:
            return db.execute(sql, args).fetchall()


class Deployment:
    """gunicorn and N workers on one PostgreSQL and one shared folder; each worker its own
    data folder (a machine of its own)."""

    def __init__(self, database: Postgres, scratch: Path, lease_seconds: int = 120) -> None:
        self.database, self.scratch = database, scratch
        self.shared = scratch / "gedeeld"
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = os.environ | {
            "DATABASE_URL": database.url,
            "LEAFLETPRESS_SHARED": str(self.shared),
            "LEAFLETPRESS_WORKER_LEASE_SECONDS": str(lease_seconds),
            # every machine the same key, as the README asks (the tests' own, if set)
            "LEAFLETPRESS_KEY_FILE": os.environ.get(
                "LEAFLETPRESS_KEY_FILE", str(scratch / "sleutel")
            ),
        }
        self.env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        self.workers: list[subprocess.Popen[bytes]] = []
        self.server: subprocess.Popen[bytes] | None = None

    def machine(self, name: str) -> dict[str, str]:
        """The environment of one machine: its own data folder and /tmp (systemd's
        PrivateTmp), the shared ones."""
        (self.scratch / name / "tmp").mkdir(parents=True, exist_ok=True)
        return self.env | {
            "LEAFLETPRESS_DATA": str(self.scratch / name),
            "TMPDIR": str(self.scratch / name / "tmp"),
        }

    def manage(self, *args: str, **env: str) -> None:
        subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, check=True,
                       env=self.machine("web") | env, capture_output=True)  # fmt: skip

    def start_server(self, processes: int = 2, threads: int = 2) -> Deployment:
        self.manage("migrate", "-v0")
        self.server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "leafletpress.web.wsgi", "--bind",
             f"127.0.0.1:{self.port}", "--workers", str(processes), "--threads", str(threads),
             "--timeout", "300"],
            cwd=ROOT, env=self.machine("web"), stderr=subprocess.DEVNULL,
        )  # fmt: skip
        for _ in range(200):
            try:
                requests.get(f"{self.base}/aanmelden/", timeout=5)
                return self
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError("gunicorn antwoordt niet")

    def start_worker(self, name: str) -> subprocess.Popen[bytes]:
        worker = subprocess.Popen(  # as every worker machine starts it: hervat, the watch
            [sys.executable, "manage.py", "werk", "--", "--interval", "0.2",
             "--no-startup-delay"],
            cwd=ROOT, env=self.machine(name), stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.workers.append(worker)
        return worker

    def stop(self) -> None:
        for process in [*self.workers, *([self.server] if self.server else [])]:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in [*self.workers, *([self.server] if self.server else [])]:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()

    def account(self, name: str, *roles: str) -> None:
        flags = [arg for role in roles for arg in ("--rol", role)]
        self.manage("maak_account", name, *flags, LEAFLETPRESS_WACHTWOORD=PASSWORD)

    def user(self, name: str) -> Secretary:
        return Secretary(self.base, name)


class Secretary:
    """One person's browser session, as requests."""

    def __init__(self, base: str, name: str) -> None:
        self.base, self.web = base, requests.Session()
        self.web.get(f"{base}/aanmelden/")
        signed = self.web.post(f"{base}/aanmelden/", {"username": name, "password": PASSWORD,
                               "csrfmiddlewaretoken": self.token})  # fmt: skip
        assert signed.url == f"{base}/", f"{name} kon niet aanmelden"

    @property
    def token(self) -> str:
        return self.web.cookies["csrftoken"]

    def post(self, path: str, data: dict[str, str], **options: Any) -> requests.Response:
        return self.web.post(self.base + path, data | {"csrfmiddlewaretoken": self.token},
                             timeout=300, **options)  # fmt: skip

    def get(self, path: str) -> requests.Response:
        return self.web.get(self.base + path, timeout=300)

    def start_day(self, listing: bytes, edition: str = "a5") -> str:
        """Upload a list and make it; the day's page, as a path."""
        checked = self.post("/dag/", {}, files={"lijst": ("dag.csv", listing)})
        assert checked.status_code == 200 and "/dag/" in checked.url, checked.text[:300]
        path = checked.url.removeprefix(self.base)
        made = self.post(path + "maak", {"edition": edition})
        assert made.status_code == 200, made.status_code
        return path

    def day_id(self, path: str) -> str:
        found = re.search(r"/dag/([0-9a-f-]{36})/", path)
        assert found
        return found.group(1)


FORM = {
    "moment": "voor", "leaflet": "avn-hip", "variant": "heupprothese", "site": "cadix",
    "surgeon": "claes", "time": "8u30", "lang": "nl", "edition": "a5",
}  # fmt: skip


def preview(user: Secretary, name: str, reference: str, on: str) -> tuple[float, bytes]:
    """One leaflet as a secretary makes it: post the form, see page 1, download the PDF.
    Returns the seconds from posting until page 1 showed, and the PDF."""
    started = time.perf_counter()
    page = user.post("/folder/", FORM | {"name": name, "reference": reference, "date": on})
    image = re.search(r'src="(/folder/[0-9a-f-]+/pagina/1\.png)"', page.text)
    assert page.status_code == 200 and image, (page.status_code, page.text[:300])
    shown = user.get(image.group(1))
    assert shown.status_code == 200 and shown.headers["Content-Type"] == "image/png"
    seconds = time.perf_counter() - started
    pdf = user.get(image.group(1).rsplit("/pagina/", 1)[0] + "/pdf")
    assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-", pdf.status_code
    return seconds, pdf.content


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, round(0.95 * len(values)) - 1)]
