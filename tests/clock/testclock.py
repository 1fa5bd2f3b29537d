"""The test suite's clock: every Python process of a test run on one known moment, ticking on.

Input: ``LEAFLETPRESS_TEST_CLOCK``, a moment (``2026-11-25T09:00:00+01:00``) or an offset from
the real clock (``-691200s``, ``+365d``). conftest.py sets it and puts
this folder on ``PYTHONPATH``, so that every Python process the tests start (the CLI, gunicorn,
the workers) imports ``sitecustomize`` and with it this module at start-up.
Output: that process's wall clock (``time.time``, ``datetime.now``, ``date.today``) moved with
time-machine, ticking on; monotonic clocks and sleeps are left alone.
Guarantees: the first process turns a moment into an offset and passes that on, so every
process started later shares one clock; ``start()`` moves a process once. So no test depends on
the day it runs on: a leaflet for 15/12/2026 is three weeks ahead in every run. A test that
moves its own clock further (``time_machine.travel``) moves only its own process: a process it
starts gets its clock from this variable in its environment. Programs that
are not Python (Chromium, PostgreSQL, slapd, Node.js) keep the real clock, which is later.
(libfaketime would move them too, but under it Python 3.11's ``time.sleep`` hangs or fails
with EINVAL, so it cannot carry a test run.)
"""

from __future__ import annotations

import os
import re
import time
from datetime import datetime

SETTING = "LEAFLETPRESS_TEST_CLOCK"
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_started = False


def offset(value: str, now: float) -> float:
    """Seconds from ``now`` (the real clock) to ``value``: a moment, or an offset (+365d)."""
    relative = re.fullmatch(r"([+-]\d+)([smhd])", value)
    if relative:
        return int(relative.group(1)) * UNITS[relative.group(2)]
    return datetime.fromisoformat(value).timestamp() - now


def start() -> None:
    global _started
    if _started or not os.environ.get(SETTING):
        return
    import time_machine

    hatch = time_machine.escape_hatch  # the real clock, also when something travels already
    real = hatch.time.time() if hatch.is_travelling() else time.time()
    seconds = offset(os.environ[SETTING], real)
    os.environ[SETTING] = f"{round(seconds):+d}s"
    time_machine.travel(real + seconds, tick=True).start()
    _started = True
