"""The health page for the load balancer and the monitoring (issue 25, item 4): 200 when the
database, the shared and content folders, a worker, the queue and the retention run are well;
503 with the failing check named otherwise; never anything about patients."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from test_web import data, made_day, signed_in, work  # noqa: F401  (data: a fixture)

from leafletpress.web.tasks import keep_watching, make_day

pytestmark = pytest.mark.django_db(transaction=True)


def health() -> tuple[int, dict]:
    answer = Client().get(reverse("health"))  # nobody signed in
    return answer.status_code, answer.json()


def working() -> None:
    """A worker has run: the watch and the retention run are queued, the watch has run."""
    keep_watching()
    DBTaskResult.objects.filter(task_path__endswith=".watch").update(run_after=timezone.now())
    work()


def test_a_well_installation_answers_200_with_every_check_and_no_patient(settings) -> None:
    made_day(signed_in("secretariaat"))
    working()
    status, body = health()
    assert status == 200 and body["status"] == "ok", body
    assert set(body["checks"]) == {"database", "gedeelde_map", "inhoud", "werkers", "wachtrij",
                                   "opruimen", "herstel"}  # fmt: skip
    assert "PAT-" not in str(body) and "Peeters" not in str(body)
    assert str(settings.SHARED) not in str(body)  # no paths either


@pytest.mark.parametrize(
    ("breaks", "check"),
    [
        pytest.param(lambda shared, settings: keep_watching(), "werkers",
                     id="no worker ever seen"),
        pytest.param(
            lambda shared, settings: (shutil.rmtree(shared, ignore_errors=True),
                                      shared.write_text("")),
            "gedeelde_map", id="the shared folder is not a folder",
        ),
        pytest.param(
            lambda shared, settings: setattr(settings, "ROOT", shared / "bestaat-niet"),
            "inhoud", id="the content folder is gone",
        ),
        pytest.param(
            lambda shared, settings: make_day.using(run_after=timezone.now()).enqueue("x")
            and DBTaskResult.objects.update(enqueued_at=timezone.now() - timedelta(hours=1)),
            "wachtrij", id="a task waits for an hour",
        ),
        pytest.param(
            lambda shared, settings: DBTaskResult.objects.filter(
                task_path__endswith=".clean_up").delete(),
            "opruimen", id="no retention run, none queued",
        ),
    ],
)  # fmt: skip
def test_each_failure_answers_503_and_names_its_check(settings, breaks, check) -> None:
    if check != "werkers":
        working()
    breaks(Path(settings.SHARED), settings)
    status, body = health()
    assert status == 503 and body["status"] == "fout"
    failing = [name for name, found in body["checks"].items() if not found["ok"]]
    assert failing == [check], body
