"""A checked day's list put in the workers' queue: by the secretary ("Maak de folders") or by
the appointment feed (feed.py), the same way.

Input: a Day still ``gecontroleerd``, its list as checked (``service.Checked``), the made day
it corrects if any (``patients.Correction``) and the options. Output: the Day saved as queued
(with the content version it is made with, its refused rows and, for a correction, what
changed), its patients indexed for the search; the caller enqueues ``make_day`` after the
transaction. Runs inside the caller's transaction, with the Day's row locked.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from . import patients, service
from .models import Day, Mailing


def queue(the_day: Day, checked: service.Checked, fix: patients.Correction | None,
          options: dict[str, Any]) -> bool | None:  # fmt: skip
    """True when queued; None when the day it corrects is being emailed or was replaced
    meanwhile (try again later); False when another request queued it at the same moment."""
    the_day.services = sorted(service.services_in(checked))  # the content may have changed
    the_day.rows = len(checked.listing.rows) if checked.listing else 0
    the_day.good = the_day.total = len(checked.planned.entries) if checked.planned else 0
    the_day.status = Day.QUEUED
    the_day.content = service.content_version()  # made with it, whatever is approved later
    the_day.outcome = the_day.outcome | options | {"refused": service.refused_rows(checked)}
    if fix is not None and not _replace(the_day, fix):
        return None
    try:
        with transaction.atomic():
            the_day.save()
    except IntegrityError:  # the same, at the same moment (one day replaces another once)
        return False
    patients.index_day(the_day, checked.planned.entries if checked.planned else [])
    return True


def _replace(the_day: Day, fix: patients.Correction) -> bool:
    """Make a corrected list in the folder of the day it replaces: the engine's journal keeps
    the unchanged leaflets; the day records what changed. False if that day was replaced
    (or purged) meanwhile, or is being emailed."""
    earlier = Day.objects.select_for_update().filter(pk=fix.earlier.pk, purged__isnull=True,
                                                     status=Day.DONE).first()  # fmt: skip
    if earlier is None or Day.objects.filter(replaces=earlier).exclude(pk=the_day.pk).exists():
        return False
    if earlier.mailings.filter(status__in=[Mailing.QUEUED, Mailing.RUNNING]).exists():
        return False  # its leaflets are being emailed: replaced after that
    changes = fix.changes
    the_day.replaces, the_day.folder = earlier, earlier.folder or str(earlier.id)
    the_day.outcome["correction"] = {
        "earlier": str(earlier.id),
        "summary": changes.summary,
        "same": changes.same + [c.row for c in changes.changed if not c.reprint],
        "changed": [
            {"row": c.row, "reference": c.who, "what": list(c.what)} for c in changes.changed
        ],
        "new": [{"row": row, "reference": who} for row, who in changes.new],
        "gone": [{"row": row, "reference": who} for row, who in changes.gone],
        "held": [{"row": row, "reference": who} for row, who in changes.held],
    }
    return True
