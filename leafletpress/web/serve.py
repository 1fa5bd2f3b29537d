"""`make serve`: set up, then run the web server and its workers until Ctrl-C.

Migrates the database, says how to make the first account when there is none, and starts
gunicorn on 127.0.0.1:8000 with one worker per core beside it (``LEAFLETPRESS_WORKERS``;
`manage.py werk`, which first queues again what a stop interrupted): the workers share each
day; and the appointment feed's listener (`manage.py luister`, on 127.0.0.1:2575 for senders
on this machine). Ctrl-C (or SIGTERM) stops them all. In a hospital, run them as services instead
(docs/install.md).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

from leafletpress.common.project import CHECKOUT

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leafletpress.web.settings")

ADDRESS = os.environ.get("LEAFLETPRESS_ADDRESS", "127.0.0.1:8000")
WORKERS = int(os.environ.get("LEAFLETPRESS_WORKERS", os.cpu_count() or 1))
FIRST_ACCOUNT = (
    "Er is nog geen account. Maak het eerste, bijvoorbeeld:\n"
    "  LEAFLETPRESS_WACHTWOORD='kies-een-lang-wachtwoord' "
    f"{'.venv/bin/python manage.py' if CHECKOUT else 'leafletpress-web'} maak_account NAAM "
    "--rol secretariaat --rol beheer"
)


def own_content() -> None:
    """In a checkout without LEAFLETPRESS_PROJECT: the content folder data/inhoud, begun from
    the example on the first run, so that editing in the browser never changes the example
    leafletpress ships (its own git history is begun there on the first edit)."""
    if CHECKOUT is None or "LEAFLETPRESS_PROJECT" in os.environ:
        return
    folder = CHECKOUT / "data" / "inhoud"
    if not folder.is_dir():
        shutil.copytree(CHECKOUT / "leaflets", folder / "leaflets")
        shutil.copytree(CHECKOUT / "config", folder / "config")
        print(f"Inhoudsmap begonnen: {folder} (een kopie van het voorbeeld)", flush=True)
    os.environ["LEAFLETPRESS_PROJECT"] = str(folder)


def prepare() -> None:
    import django
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)
    if not get_user_model().objects.exists():
        print(FIRST_ACCOUNT, flush=True)


def main() -> int:
    from django.core.exceptions import ImproperlyConfigured

    own_content()
    try:
        prepare()
    except ImproperlyConfigured as exc:  # a setting from the environment: its message only
        print(f"instelling: {exc}", file=sys.stderr)
        return 2
    python = sys.executable
    workers = [_worker() for _ in range(WORKERS)]
    listener = subprocess.Popen([python, "-m", "leafletpress.web.manage", "luister"])
    server = subprocess.Popen(
        [python, "-m", "gunicorn", "leafletpress.web.wsgi", "--bind", ADDRESS, "--config",
         "python:leafletpress.web.gunicorn_config",  # its lines in the app's one format
         "--workers", "2", "--threads", "2", "--timeout", "120"]
    )  # fmt: skip
    print(f"leafletpress draait op http://{ADDRESS}/ (Ctrl-C om te stoppen)", flush=True)
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while not stopping and server.poll() is None:
        if listener.returncode is None and listener.poll() is not None:
            print("de koppeling (luister) stopte: zie de reden hierboven; de rest draait door",
                  flush=True)  # fmt: skip
        for number, worker in enumerate(workers):
            if worker.poll() is not None:  # started again: `werk` picks up its work
                print("een worker stopte: opnieuw gestart", flush=True)
                workers[number] = _worker()
        time.sleep(0.5)
    _end(server, listener, *workers)
    return 0 if stopping else 1


def _worker() -> subprocess.Popen[bytes]:
    """`manage.py werk`: hervat (what stopped workers left, the watch), then db_worker."""
    command = [sys.executable, "-m", "leafletpress.web.manage", "werk", "--", "--interval", "0.5"]
    return subprocess.Popen(command)


def _end(*processes: subprocess.Popen[bytes]) -> None:
    """Ask all to stop; a worker in the middle of a day stops at its next leaflet and hands
    its part back. Whatever still runs after a minute in all is killed (the next start
    resumes it)."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + 60
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


if __name__ == "__main__":
    sys.exit(main())
