"""Pages: they parse what the browser sends and call the engine (service.py); nothing else.

Every view names the roles that may use it; every file is served from here, by id, with
``Cache-Control: no-store`` (see middleware.py) and an audit event.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ..common.errors import LeafletpressError
from ..common.files import spreadsheet_cell
from ..common.project import shipped
from ..day.manifest import JSON_NAME
from ..mail.sendlog import ACCEPTED, FAILED, REFUSED, SENDING, UNCERTAIN
from ..visit.daylist import corrected_list
from . import patients, service, views_feed
from .forms import EDITIONS, LANGUAGES, AuditFilter, MakeForm, PatientForm, UploadForm
from .models import AuditEvent, Day, DayPart, Document, Mailing, audit
from .queueing import queue
from .roles import (
    BEHEER,
    REDACTIE,
    SECRETARIAAT,
    VERZENDEN,
    RoleNeeded,
    may_see,
    role_required,
    roles_of,
    services_of,
)
from .service import PROOF, PROOF_SETTINGS, proof_needed
from .storage import keep


@login_required
def home(request: HttpRequest) -> HttpResponse:
    context: dict[str, Any] = {"today": date.today(), "waiting": []}
    if SECRETARIAAT in roles_of(request.user):
        done = Day.objects.filter(status=Day.DONE, purged__isnull=True).order_by("-created")
        context["waiting"] = [
            d
            for d in _seen_days(request, done[:200])  # rows left over
            if d.outcome.get("refused") and not d.outcome.get("dealt")
        ]
        mine = Document.objects.filter(made_by=request.user, purged__isnull=True)
        context["my_leaflets"] = mine.select_related("patient").order_by("-created")[:8]
        days = Day.objects.filter(made_by=request.user, purged__isnull=True)
        context["my_days"] = days.order_by("-created")[:5]
        shown = [d.who for d in context["my_leaflets"]]
        if shown:  # her own leaflets, by reference: audited like any list of patients
            audit(request.user, "startpagina bekeken", covers=shown)
    return render(request, "web/home.html", context)


@role_required(SECRETARIAAT)
@require_http_methods(["GET", "POST"])
def search(request: HttpRequest) -> HttpResponse:
    """Find a leaflet again by reference or name (issue 24, item 4). A POST: a name never
    goes into a URL or a log; the audit log says that she searched and whom she found."""
    text = request.POST.get("zoek", "").strip()[:120] if request.method == "POST" else ""
    found = patients.search(text, services_of(request.user)) if text else []
    seen = {d.pk for d in _seen_days(request, [f.day for f in found if f.day])}
    found = [f for f in found if f.day is None or f.day.pk in seen]  # days she may open
    if text:
        how = "op referentie" if found and all(f.reference == text.lower() for f in found) else ""
        audit(request.user, "gezocht", detail=f"{len(found)} gevonden {how}".strip(),
              covers=[f.who for f in found])  # fmt: skip
    known = service.choices()["leaflets"]
    rows = [
        {"leaflet": f, "title": known.get(f.leaflet, {}).get("title", f.leaflet),
         "site": service.site_name(f.site)}
        for f in found
    ]  # fmt: skip
    return render(request, "web/search.html", {"text": text, "rows": rows, "asked": bool(text)})


# --- health (issue 25, item 4) ----------------------------------------------------------------


@require_GET
def health(request: HttpRequest) -> HttpResponse:
    """For the load balancer and the monitoring, without signing in: 200 when every check
    passes, else 503; JSON with each check's verdict, nothing about patients."""
    from django.http import JsonResponse

    from .health import report

    ok, checks = report()
    body = {"status": "ok" if ok else "fout", "checks": checks}
    return JsonResponse(body, status=200 if ok else 503, json_dumps_params={"ensure_ascii": False})


# --- the user guide -------------------------------------------------------------------------

GUIDE = shipped("docs/hulp")  # the guide, with the code


@login_required
@require_GET
def guide(request: HttpRequest) -> HttpResponse:
    """The secretaries' guide (docs/hulp/hulp.md), in the app: its pictures are made by the
    browser tests (``make guide``), so they show the app as it is."""
    from markdown_it import MarkdownIt

    text = (GUIDE / "hulp.md").read_text(encoding="utf-8")
    html = MarkdownIt("commonmark", {"html": False}).render(text)  # our text; no raw HTML
    return render(request, "web/hulp.html", {"guide": mark_safe(html)})


@login_required
@require_GET
def guide_picture(request: HttpRequest, name: str) -> HttpResponse:
    path = GUIDE / f"{name}.png"
    if not re.fullmatch(r"[a-z0-9-]+", name) or not path.is_file():
        raise Http404("geen afbeelding")
    return FileResponse(path.open("rb"), content_type="image/png")


# --- one patient ----------------------------------------------------------------------------


def _form_context(
    form: PatientForm, values: dict[str, str], request: HttpRequest
) -> dict[str, Any]:
    """The form with the choices that follow from what is chosen so far: the leaflets of the
    account's services only."""
    found = service.choices()
    mine = _services_for_leaflets(request)
    leaflets = {k: v for k, v in found["leaflets"].items() if mine is None or v["service"] in mine}
    if values.get("leaflet") in leaflets:
        slug = values["leaflet"]
    else:  # none yet, or no longer offered: the first, and none of another leaflet's procedures
        slug, values = next(iter(leaflets), ""), values | {"variant": ""}
    current = leaflets.get(slug, {"variants": {}, "sites": {}, "followup_sites": {}})
    discharge = current.get("discharge", False)
    site = values.get("site") if values.get("site") in current["sites"] else ""
    surgeons = {
        key: name for key, (name, sites) in found["surgeons"].items() if not site or site in sites
    }
    return {
        "form": form,
        "values": values,
        "leaflets": {k: v["title"] for k, v in leaflets.items()},
        "leaflet": slug,
        "variants": current["variants"],
        "sites": current["sites"],
        "surgeons": surgeons,
        "followup_sites": current["followup_sites"],
        "discharge_possible": discharge,
        "languages": dict(LANGUAGES),
        "editions": dict(EDITIONS),
        "moment": "ontslag" if discharge and values.get("moment") == "ontslag" else "voor",
    }


@role_required(SECRETARIAAT, REDACTIE)
@require_http_methods(["GET", "POST"])
def patient(request: HttpRequest) -> HttpResponse:
    values = {k: v.strip() for k, v in request.POST.items() if k != "csrfmiddlewaretoken"}
    form = PatientForm(request.POST if request.method == "POST" else None)
    if values.get("edition", "a5") not in dict(EDITIONS):
        form.add_error("edition", "kies een uitvoering uit de lijst")
    chosen = service.service_of(values.get("leaflet", ""))
    mine = _services_for_leaflets(request)
    if request.method == "POST" and mine is not None and chosen not in mine:  # need to know
        form.add_error("leaflet", "deze folder hoort niet bij uw dienst: kies er een uit de lijst")
    if request.method == "POST" and form.is_valid():
        try:
            made = service.make_one(values, service.edition_of(values.get("edition", "")))
        except LeafletpressError as exc:  # content or configuration: for the editors
            made = [exc]
        if isinstance(made, service.Made):
            return redirect("document", _keep(request, made, values).id)
        for problem in made:
            form.add_error(_field_of(problem, form), _message(problem))
    status = 400 if form.errors else 200
    context = _form_context(form, values, request)
    return render(request, "web/patient.html", context, status=status)


def _services_for_leaflets(request: HttpRequest) -> set[str] | None:
    """Whose leaflets the form offers: the secretariat's services; redactie previews any
    leaflet for a fictional patient, and sees only its own previews (None: every service)."""
    return services_of(request.user) if SECRETARIAAT in roles_of(request.user) else None


def _field_of(exc: LeafletpressError, form: PatientForm) -> str | None:
    field = {"lang": "lang", "language": "lang"}.get(exc.field or "", exc.field)
    return field if field in form.fields else None  # else a whole-form error


def _message(exc: LeafletpressError) -> str:
    where = f"{exc.file}: " if exc.file and exc.field is None else ""
    return where + exc.message + (f" — {exc.hint}" if exc.hint else "")


@transaction.atomic
def _keep(request: HttpRequest, made: service.Made, values: dict[str, str]) -> Document:
    visit = made.p.visit
    document = Document(
        made_by=request.user,
        who=made.who,
        leaflet=visit.leaflet,
        variant=visit.variant,
        moment=visit.moment,
        language=made.p.leaflet.lang,
        edition=values.get("edition") or "a5",
        pages=made.pages,
        sha256=service.sha256(made.pdf),
        warnings=made.warnings,
        service=service.service_of(visit.leaflet),
    )
    keep(document.name, made.pdf)
    if made.booklet is not None:
        keep(document.print_name, made.booklet)
    document.save()
    patients.index_document(document, made.p, made.who)
    meta = made.p.leaflet.meta
    audit(request.user, "folder gemaakt", made.who, f"{meta.code} {meta.version} {visit.variant}",
          f"{visit.moment}, {document.edition}, {made.p.leaflet.lang}",
          service=document.service)  # fmt: skip
    return document


@role_required(SECRETARIAAT, REDACTIE)
@require_POST
def patient_choices(request: HttpRequest) -> HttpResponse:
    """The selects that depend on each other, for htmx to swap in as the user chooses, with
    the moment's fields as they were sent (an unbound form emptied the hour she had typed). A
    POST: the form it sends holds the patient's name, which must never be in a URL or a log."""
    values = {k: v for k, v in request.POST.items() if k != "csrfmiddlewaretoken"}
    form = PatientForm(initial=values)  # shown as sent, not yet checked
    return render(request, "web/_choices.html", _form_context(form, values, request))


def _document(request: HttpRequest, pk: Any) -> Document:
    """A leaflet, for the secretariat; redactie sees only the previews it made itself. Its
    PDF deleted at the end of the retention period: 410 Gone."""
    found = Document.objects.all()
    if SECRETARIAAT not in roles_of(request.user):
        found = found.filter(made_by=request.user)
    elif (mine := services_of(request.user)) is not None:  # need to know
        found = found.filter(service__in=mine)
    document = get_object_or_404(found, pk=pk)
    if document.purged:
        raise Purged(document.purged)
    return document


class Purged(Exception):
    """Files deleted at the end of the retention period: middleware.Gone answers 410."""


def _day(request: HttpRequest, pk: Any, **wanted: Any) -> Day:
    """A day of the account's services whose files are still there."""
    found = _visible_day(request, pk, **wanted)
    if found.purged:
        raise Purged(found.purged)
    return found


@role_required(SECRETARIAAT, REDACTIE)
@require_GET
def document(request: HttpRequest, pk: Any) -> HttpResponse:
    doc = _document(request, pk)
    audit(request.user, "folder bekeken", doc.who, f"{doc.leaflet} {doc.variant}", doc.moment,
          service=doc.service)  # fmt: skip
    pages = range(1, service.page_count(doc.path) + 1)  # the patient's copy, also of a booklet
    can_download = SECRETARIAAT in roles_of(request.user)
    known = service.choices()["leaflets"].get(doc.leaflet, {})
    shown = {  # as she knows them: the leaflet's title, the procedure, "Nederlands"
        "title": known.get("title", doc.leaflet),
        "variant": known.get("variants", {}).get(doc.variant, doc.variant),
        "language": dict(LANGUAGES).get(doc.language, doc.language),
    }
    context = {"doc": doc, "pages": pages, "can_download": can_download, "shown": shown}
    return render(request, "web/document.html", context)


@role_required(SECRETARIAAT, REDACTIE)
@require_GET
def document_page(request: HttpRequest, pk: Any, page: int) -> HttpResponse:
    doc = _document(request, pk)
    image = service.page_image(doc.path, page)
    if image is None:
        raise Http404("geen pagina")
    _seen(request, f"folder {doc.id}", "folder bekeken", doc.who, f"{doc.leaflet} {doc.variant}",
          "als afbeelding", service=doc.service)  # fmt: skip
    return HttpResponse(image, content_type="image/png")


def _seen(request: HttpRequest, what: str, *event: str, service: Any = "") -> None:
    """An audit event for patient data shown as an image, once per session and thing: a
    leaflet's page images, a day's previews (issue 23, F4)."""
    seen = request.session.get("gezien", [])
    if what not in seen:
        audit(request.user, *event, service=service)
        request.session["gezien"] = [*seen, what][-500:]


@role_required(SECRETARIAAT)
@require_GET
def document_pdf(request: HttpRequest, pk: Any) -> HttpResponse:
    """The patient's copy; ``?boekje=1`` a booklet's print file; ``?afdrukken=1`` to open."""
    doc = _document(request, pk)
    inline = request.GET.get("afdrukken") == "1"
    booklet = doc.booklet and request.GET.get("boekje") == "1"
    detail = f"{doc.moment}{', boekje' if booklet else ''}"
    audit(request.user, "folder afgedrukt" if inline else "folder gedownload", doc.who,
          f"{doc.leaflet} {doc.variant}", detail, service=doc.service)  # fmt: skip
    return FileResponse(
        (doc.print_path if booklet else doc.path).open("rb"),
        content_type="application/pdf",
        as_attachment=not inline,
        filename=service.document_name(doc, booklet),
    )


# --- a clinic day ---------------------------------------------------------------------------


@role_required(SECRETARIAAT)
@require_http_methods(["GET", "POST"])
def days(request: HttpRequest) -> HttpResponse:
    too_big = f"het bestand is groter dan {settings.MAX_UPLOAD_BYTES // 2**20} MB"
    if int(request.META.get("CONTENT_LENGTH") or 0) > settings.MAX_UPLOAD_BYTES + 2**16:
        context = {"form": UploadForm(), "refused": too_big, "recent": []}  # before reading it
        return render(request, "web/days.html", context, status=413)
    posted = request.method == "POST"
    form = UploadForm(request.POST if posted else None, request.FILES if posted else None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["lijst"]
        if upload.size > settings.MAX_UPLOAD_BYTES:
            form.add_error(
                "lijst", f"het bestand is groter dan {settings.MAX_UPLOAD_BYTES // 2**20} MB"
            )
        else:
            kept = _kept_list(request, upload.name, upload.read())
            if isinstance(kept, Day):
                return redirect("day", kept.id)
            refusal, status = kept
            context = {"form": form, "recent": _recent_days(request),
                       "unreadable" if status == 400 else "refused": refusal}  # fmt: skip
            return render(request, "web/days.html", context, status=status)
    status = 400 if form.errors else 200
    context = {"form": form, "recent": _recent_days(request)}
    return render(request, "web/days.html", context, status=status)


DOUBLE_CLICK = timedelta(seconds=30)


def _kept_list(request: HttpRequest, name: str, data: bytes) -> Day | tuple[Any, int]:
    """An uploaded list, kept only if it is a list of the account's services, within its
    quota and the disk's headroom (F13); else why not, and the HTTP status."""
    digest = service.sha256(data)
    twice = Day.objects.filter(made_by=request.user, sha256=digest, status=Day.CHECKED,
                               created__gte=timezone.now() - DOUBLE_CLICK).first()  # fmt: skip
    if twice is not None:
        return twice  # the same list a moment ago: a double click, not a second day
    if refused := service.upload_limits(request.user, len(data)):
        return refused
    day = Day(made_by=request.user, source_name=name[:120], suffix=service.list_suffix(data),
              sha256=digest, size=len(data))  # fmt: skip
    keep(day.upload_name, data)
    try:
        checked = service.check_day(day.upload, day.source_name)
        services = service.services_in(checked)
        mine = services_of(request.user)
        others = {k: rows for k, rows in services.items() if mine is not None and k not in mine}
        if not checked.file_error and not others:
            day.services = sorted(services)
            entries = checked.planned.entries if checked.planned else []
            day.dates = sorted({entry.p.visit.day.isoformat() for entry in entries})
            day.rows = len(checked.listing.rows) if checked.listing else 0
            day.good = len(entries)
            day.save()
    finally:
        if day._state.adding:
            day.upload.unlink()  # never kept: not a list, not hers to see, or it failed
    if checked.file_error:
        return checked.file_error, 400
    if others:
        return service.not_yours(others), 403
    audit(request.user, "lijst opgeladen", detail=f"sha256 {day.sha256[:16]}, dag {day.id}",
          service=day.services)  # fmt: skip
    return day


def _recent_days(request: HttpRequest) -> list[Day]:
    found = Day.objects.select_related("made_by").order_by("-created")
    if services_of(request.user) is None:
        return list(found[:15])
    return _seen_days(request, found[:500])[:15]


def _visible_day(request: HttpRequest, pk: Any, **wanted: Any) -> Day:
    """A day of the account's services (need to know): any other is not found."""
    found = get_object_or_404(Day, pk=pk, **wanted)
    if not _seen_days(request, [found]):
        raise Http404("geen dag van uw dienst")
    return found


def _seen_days(request: HttpRequest, days: Iterable[Day]) -> list[Day]:
    """Need to know: the days of the account's services (its services read once); one that
    names no known leaflet (a typo in every row, or a day from before services) only for
    whoever uploaded it."""
    mine = services_of(request.user)
    if mine is None:
        return list(days)
    me = request.user.pk
    return [day for day in days if set(day.services) <= mine
            and (day.services or day.made_by_id == me)]  # type: ignore[attr-defined]  # fmt: skip


@role_required(SECRETARIAAT)
@require_GET
def day(request: HttpRequest, pk: Any) -> HttpResponse:
    the_day = _visible_day(request, pk)
    earlier = (
        Day.objects.filter(sha256=the_day.sha256, created__lt=the_day.created)
        .exclude(pk=the_day.pk)
        .order_by("-created")
        .first()
    )
    context: dict[str, Any] = {
        "day": the_day,
        "earlier": earlier,
        "make": MakeForm(),
        "editions": dict(EDITIONS[:3]),
        "feed": views_feed.about(the_day),
    }
    detail = f"dag {the_day.id} ({the_day.status})"
    if the_day.status == Day.CHECKED and not the_day.purged:
        context["checked"] = checked = service.check_day(the_day.upload, the_day.source_name)
        context["correction"] = fix = _correction(request, the_day, checked)
        context["wait"] = _being_made(request, the_day)
        context["notice"] = request.session.pop(f"dag {the_day.id}", "")  # from day_make
        entries = checked.planned.entries if checked.planned else []
        context["seconds"] = _named(
            request, patients.seconds(the_day, entries, fix and fix.earlier)
        )
        shown = [s.who for s in context["seconds"]]
        if fix is not None:
            shown += [who for _, who in fix.changes.gone] + [c.who for c in fix.changes.changed]
        if checked.bad_rows:
            detail += f"; {service.shown_rows(checked)}"
    else:  # a made day lists its patients and their warnings by reference
        shown = [w["reference"] for w in the_day.outcome.get("warnings", [])]
        shown += [item["name"].split("_")[0] for item in the_day.outcome.get("leaflets", [])]
        if the_day.status == Day.DONE and not the_day.purged:
            context["patients"] = _patients_of(the_day)
    audit(request.user, "dag bekeken", detail=detail,
          covers=shown, service=the_day.services)  # fmt: skip
    return render(request, "web/day.html", context)


def _patients_of(the_day: Day) -> list[dict[str, Any]]:
    """A made day's patients as she knows them (time, name, reference, campus, leaflet), in
    appointment order, each with its download (issue 24, item 5). Names come from the list,
    which is kept until the end of the retention period."""
    checked = service.check_day(the_day.upload, the_day.source_name)
    names = (
        {r.number: r.values.get("name", "") for r in checked.listing.rows}
        if checked.listing
        else {}
    )
    files = {item["row"]: n for n, item in enumerate(the_day.outcome.get("leaflets", []))}
    known = service.choices()["leaflets"]
    return [
        {"leaflet": p, "name": names.get(p.row or 0, ""), "file": files.get(p.row),
         "title": known.get(p.leaflet, {}).get("title", p.leaflet),
         "variant": known.get(p.leaflet, {}).get("variants", {}).get(p.variant, p.variant),
         "site": service.site_name(p.site),
         "language": "" if p.language == "nl" else dict(LANGUAGES).get(p.language, p.language)}
        for p in the_day.patients.order_by("date", "time", "row")
        if p.row in files
    ]  # fmt: skip


def _named(request: HttpRequest, seconds: list[patients.Second]) -> list[patients.Second]:
    """A list she may not open (need to know) is not named, nor linked to."""
    seen = {d.pk for d in _seen_days(request, [s.leaflet.day for s in seconds if s.leaflet.day])}
    return [s if s.leaflet.day is None or s.leaflet.day.pk in seen
            else dataclasses.replace(s, where="in een lijst van een andere dienst", shown=False)
            for s in seconds]  # fmt: skip


def _correction(
    request: HttpRequest, the_day: Day, checked: service.Checked
) -> patients.Correction | None:
    """The earlier upload of the same day this list corrects, among the days she may see."""
    source = the_day.outcome.get("corrects")  # made from one of its rows ("Wijzig")
    if source:
        made = patients.correctable(Day.objects.filter(pk=source))
        return patients.correction(the_day, checked, _seen_days(request, made), forced=True)
    candidates = _seen_days(request, patients.correction_candidates(the_day)[:20])
    return patients.correction(the_day, checked, candidates)


@role_required(SECRETARIAAT)
@require_GET
def day_preview(request: HttpRequest, pk: Any, row: int) -> HttpResponse:
    """Page 1 of one good row's leaflet, made as the day will make it."""
    the_day = _day(request, pk)
    if the_day.status != Day.CHECKED:  # a preview is for checking; a made day has its PDFs
        raise Http404("geen voorbeeld meer")
    checked = service.check_day(the_day.upload, the_day.source_name)
    entry = next((e for e in (checked.planned.entries if checked.planned else []) if e.row == row),
                 None)  # fmt: skip
    if entry is None:
        raise Http404("geen goede rij")
    image = service.preview_image(entry.p)
    visit = entry.p.visit
    _seen(request, f"dag {the_day.id} rij {row}", "voorbeeld bekeken", entry.who,
          f"{visit.leaflet} {visit.variant}", f"dag {the_day.id}, rij {row}",
          service=the_day.services)  # fmt: skip
    return HttpResponse(image, content_type="image/png")


@role_required(SECRETARIAAT)
@require_POST
def day_make(request: HttpRequest, pk: Any) -> HttpResponse:
    from .tasks import make_day

    form = MakeForm(request.POST)
    seen = _visible_day(request, pk)
    checked = fix = None  # checked before the transaction: it holds SQLite's write lock (F19)
    if seen.status == Day.CHECKED and not seen.purged and form.is_valid():
        checked = service.check_day(seen.upload, seen.source_name)
        fix = _correction(request, seen, checked)
        if problem := _not_as_shown(request, seen, fix):
            request.session[f"dag {seen.id}"] = problem
            return redirect("day", seen.id)
        if request.POST.get("vervangt") == SEPARATE:
            fix = None  # she chose: this list beside the earlier one
    with transaction.atomic():
        the_day = get_object_or_404(Day.objects.select_for_update(), pk=pk)
        if the_day.status == Day.FAILED and not the_day.purged:
            return _again(request, the_day)
        if the_day.status != Day.CHECKED or the_day.purged or checked is None:
            return redirect("day", the_day.id)  # already started: never twice
        if checked.planned is None or not checked.planned.entries:
            return redirect("day", the_day.id)  # nothing to make: the check page says why
        if not may_see(request.user, service.services_in(checked)):
            raise Http404("geen dag van uw dienst")
        options = {"edition": form.cleaned_data["edition"] or "a5",
                   "separators": form.cleaned_data["separators"]}  # fmt: skip
        queued = queue(the_day, checked, fix, options)
        if queued is None:
            request.session[f"dag {the_day.id}"] = NOT_NOW
        if not queued:
            return redirect("day", the_day.id)
    make_day.enqueue(str(the_day.id))
    audit(request.user, "dag gestart", detail=f"dag {the_day.id}: {the_day.total} folders",
          covers=[entry.who for entry in checked.planned.entries],
          service=the_day.services)  # fmt: skip
    return redirect("day", the_day.id)


NOT_NOW = ("de vorige lijst wordt nu gemaild of werd intussen al vervangen: wacht tot het "
           "mailen klaar is en kijk de controle dan opnieuw na")  # fmt: skip
SEPARATE = "los"  # "Maak als aparte lijst": the earlier list stays as it is


def _being_made(request: HttpRequest, the_day: Day) -> bool:
    return bool(_seen_days(request, patients.being_made(the_day)[:20]))


def _not_as_shown(request: HttpRequest, seen: Day, fix: patients.Correction | None) -> str:
    """Why the list cannot be made as the check page showed it: the page said which list it
    replaces (or none), and another list of that day was made or started since."""
    if _being_made(request, seen):
        return ("een andere lijst van die dag wordt nu gemaakt: wacht tot ze klaar is en kijk "
                "de controle dan opnieuw na")  # fmt: skip
    shown = request.POST.get("vervangt", "")
    if shown == SEPARATE or shown == (str(fix.earlier.id) if fix else ""):
        return ""
    return ("de lijsten van die dag veranderden sinds je deze pagina opende: kijk na wat deze "
            "lijst nu vervangt en klik dan opnieuw")  # fmt: skip


def _again(request: HttpRequest, the_day: Day) -> HttpResponse:
    """A failed day, tried again: what was made stays made (the journal), the rest is made."""
    from .tasks import make_day

    DayPart.objects.filter(day=the_day).exclude(status=DayPart.DONE).update(
        status=DayPart.OPEN, worker="", heartbeat=None
    )
    Day.objects.filter(pk=the_day.pk).update(status=Day.QUEUED, error="", finisher="")
    transaction.on_commit(lambda: make_day.enqueue(str(the_day.id)))
    audit(request.user, "dag opnieuw gestart", detail=f"dag {the_day.id}",
          service=the_day.services)  # fmt: skip
    return redirect("day", the_day.id)


@role_required(SECRETARIAAT)
@require_POST
def day_dealt(request: HttpRequest, pk: Any) -> HttpResponse:
    """The refused rows of a finished day are dealt with (corrected another way, or not
    needed): it leaves the start page's list of days that still need attention."""
    with transaction.atomic():
        the_day = _visible_day(request, pk)
        the_day = get_object_or_404(Day.objects.select_for_update(), pk=the_day.pk)
        if the_day.status == Day.DONE and the_day.outcome.get("refused"):
            moment = timezone.now().isoformat(timespec="seconds")
            the_day.outcome["dealt"] = {"by": request.user.get_username(), "at": moment}
            the_day.save(update_fields=["outcome"])
            audit(request.user, "geweigerde rijen behandeld", detail=f"dag {the_day.id}",
                  service=the_day.services)  # fmt: skip
    return redirect("day", the_day.id)


def _day_leaflet(request: HttpRequest, pk: Any, row: int) -> tuple[Day, Any, int, Path]:
    """A made day's leaflet of one row: the day, its index row, its place in the results
    (for day_file) and its PDF."""
    the_day = _day(request, pk, status=Day.DONE)
    listed = the_day.outcome.get("leaflets", [])
    number = next((n for n, item in enumerate(listed) if item.get("row") == row), None)
    leaflet = the_day.patients.filter(row=row).first()
    if number is None or leaflet is None:
        raise Http404("geen folder")
    path = the_day.out_dir / listed[number]["path"]
    if not path.resolve().is_relative_to(the_day.out_dir.resolve()) or not path.is_file():
        raise Http404("geen folder")
    return the_day, leaflet, number, path


@role_required(SECRETARIAAT)
@require_GET
def day_leaflet(request: HttpRequest, pk: Any, row: int) -> HttpResponse:
    """A day's leaflet as a one-patient leaflet is shown (issue 24, item 5): its pages, "Open
    om af te drukken", the download, and "Wijzig"."""
    the_day, leaflet, number, path = _day_leaflet(request, pk, row)
    audit(request.user, "folder bekeken", leaflet.who, f"{leaflet.leaflet} {leaflet.variant}",
          f"dag {the_day.id}, rij {row}", service=the_day.services)  # fmt: skip
    known = service.choices()["leaflets"].get(leaflet.leaflet, {})
    shown = {"title": known.get("title", leaflet.leaflet),
             "variant": known.get("variants", {}).get(leaflet.variant, leaflet.variant),
             "language": dict(LANGUAGES).get(leaflet.language, leaflet.language),
             "site": service.site_name(leaflet.site)}  # fmt: skip
    warnings = next((w["warnings"] for w in the_day.outcome.get("warnings", [])
                     if w["row"] == row), [])  # fmt: skip
    context = {"day": the_day, "leaflet": leaflet, "number": number, "shown": shown,
               "warnings": warnings, "pages": range(1, service.page_count(path) + 1)}  # fmt: skip
    return render(request, "web/day_leaflet.html", context)


@role_required(SECRETARIAAT)
@require_GET
def day_leaflet_page(request: HttpRequest, pk: Any, row: int, page: int) -> HttpResponse:
    the_day, leaflet, _, path = _day_leaflet(request, pk, row)
    image = service.page_image(path, page)
    if image is None:
        raise Http404("geen pagina")
    _seen(request, f"dag {the_day.id} folder {row}", "folder bekeken", leaflet.who,
          f"{leaflet.leaflet} {leaflet.variant}", "als afbeelding",
          service=the_day.services)  # fmt: skip
    return HttpResponse(image, content_type="image/png")


@role_required(SECRETARIAAT)
@require_http_methods(["GET", "POST"])
def day_row(request: HttpRequest, pk: Any, row: int) -> HttpResponse:
    """Change one patient's row of a made day (issue 24, item 6): the form holds the row's
    cells under the list's own headers; "Controleer" makes it a corrected list of the day,
    whose check page says what changed and offers to replace the day's leaflet."""
    the_day = _day(request, pk, status=Day.DONE)
    if the_day.feed:
        raise Http404("een afspraak uit het ziekenhuissysteem wijzig je daar")
    if (newer := the_day.replaced()) is not None:
        return redirect("day", newer.id)  # the row as the latest list has it
    listing = service.check_day(the_day.upload, the_day.source_name).listing
    found = next((r for r in listing.rows if r.number == row), None) if listing else None
    if listing is None or found is None:
        raise Http404("geen rij")
    shown = [f for f in listing.headers if f not in service.NOT_SHOWN]  # a password, an address
    cells = [(f, listing.headers[f], found.values.get(f, "")) for f in shown]
    refused = ""
    pending = Day.objects.filter(status=Day.CHECKED, purged__isnull=True,
                                 outcome__corrects=str(the_day.id))  # fmt: skip
    waiting = pending.order_by("-created").first()
    if waiting is not None:  # a change made from the day's list would undo that one
        context = {"day": the_day, "row": row, "cells": cells, "waiting": waiting}
        return render(request, "web/day_row.html", context, status=409 if request.POST else 200)
    if request.method == "POST":
        typed = {f: request.POST.get(f"cel-{f}", "").strip()[:500] for f in shown}
        data = corrected_list(listing, {row: typed})
        kept = _kept_list(request, f"{Path(the_day.source_name).stem} (rij {row} gewijzigd).csv",
                          data)  # fmt: skip
        if isinstance(kept, Day):
            Day.objects.filter(pk=kept.pk).update(outcome={"corrects": str(the_day.id)})
            references = {found.values.get("reference", ""), typed.get("reference", "")}
            audit(request.user, "rij gewijzigd", found.values.get("reference", "")[:40],
                  detail=f"dag {the_day.id}, rij {row}: nieuwe lijst {kept.id}",
                  covers=references, service=the_day.services)  # fmt: skip
            return redirect("day", kept.id)
        refused = str(kept[0])
        cells = [(f, label, typed[f]) for f, label, _ in cells]
    else:
        audit(request.user, "rij bekeken", found.values.get("reference", "")[:40],
              detail=f"dag {the_day.id}, rij {row}", service=the_day.services)  # fmt: skip
    context = {"day": the_day, "row": row, "cells": cells, "refused": refused}
    return render(request, "web/day_row.html", context, status=400 if refused else 200)


@role_required(SECRETARIAAT)
@require_GET
def day_progress(request: HttpRequest, pk: Any) -> HttpResponse:
    the_day = _visible_day(request, pk)
    response = render(request, "web/_progress.html", {"day": the_day})
    if getattr(request, "htmx", False) and the_day.status not in (Day.QUEUED, Day.RUNNING):
        response["HX-Refresh"] = "true"  # made: the whole page, with the day's patients
    return response


FILE_KINDS = {"afdruk": "print_files", "manifest": "manifests", "folder": "leaflets"}


@role_required(SECRETARIAAT)
@require_GET
def day_file(request: HttpRequest, pk: Any, kind: str, number: int) -> HttpResponse:
    """A file of a finished day, by its place in the results: never a path from the URL."""
    the_day = _visible_day(request, pk, status=Day.DONE)
    if the_day.purged and kind != "manifest":
        raise Purged(the_day.purged)
    listed = the_day.outcome.get(FILE_KINDS.get(kind, ""), [])
    if not 0 <= number < len(listed):
        raise Http404("onbekend bestand")
    name, path = listed[number]["name"], the_day.out_dir / listed[number]["path"]
    if not path.resolve().is_relative_to(the_day.out_dir.resolve()) or not path.is_file():
        raise Http404("onbekend bestand")
    covers = [] if kind == "folder" else service.covered(
        path.parent / JSON_NAME, name if kind == "afdruk" else None)  # fmt: skip
    printing = kind == "folder" and request.GET.get("afdrukken") == "1"  # opened to print
    audit(request.user, "folder afgedrukt" if printing else f"{kind} gedownload",
          name.split("_")[0] if kind == "folder" else "",
          detail=f"dag {the_day.id}: {listed[number]['label']}", covers=covers,
          service=the_day.services)  # fmt: skip
    content_type = "application/pdf" if name.endswith(".pdf") else (
        "application/json" if name.endswith(".json") else "text/csv; charset=utf-8")  # fmt: skip
    return FileResponse(path.open("rb"), content_type=content_type, as_attachment=not printing,
                        filename=service.download_name(kind, listed[number]))  # fmt: skip


# --- email to the patients ------------------------------------------------------------------

VERDICTS = {
    ACCEPTED: "verstuurd", REFUSED: "geweigerd door de mailserver", FAILED: "mislukt",
    UNCERTAIN: "onzeker: misschien aangekomen", SENDING: "onderbroken: misschien aangekomen",
}  # fmt: skip


@role_required(VERZENDEN)
@require_GET
def day_email(request: HttpRequest, pk: Any) -> HttpResponse:
    """Before sending: the counts, one message as it will go out, and each row's state."""
    the_day = _day(request, pk, status=Day.DONE)
    if (newer := the_day.replaced()) is not None:  # a tab left open on the earlier list
        return redirect("day_email", newer.id)
    context: dict[str, Any] = {"day": the_day, "mailing": the_day.mailings.first()}
    proof = request.session.pop("proef", None)  # what "Stuur een proef" did, said once
    context["proof"] = proof if proof and proof.get("dag") == str(the_day.id) else None
    context["proof_needed"] = proof_needed()
    try:
        survey = service.email_survey(the_day)
    except LeafletpressError as exc:
        context["problem"] = _message(exc)
    else:
        unaddressed = {row: why for row, _, why in survey.unaddressed}
        rows = [(row, reference, *_row_state(verdict, unaddressed.get(row)))
                for row, reference, verdict in service.email_verdicts(the_day)]  # fmt: skip
        context |= {
            "survey": survey,
            "sample": service.shown_message(survey.sample) if survey.sample else None,
            "rows": rows,
        }
    shown = context["survey"].ready[:1] if "survey" in context else []  # the sample's patient
    audit(request.user, "e-mail voorbereid", detail=f"dag {the_day.id}",
          covers=[reference for _, reference, _ in shown], service=the_day.services)  # fmt: skip
    return render(request, "web/email.html", context)


def _row_state(verdict: tuple[str, str] | None, unaddressed: str | None) -> tuple[str, str]:
    if unaddressed:
        return "niet te versturen", unaddressed
    if verdict is None:
        return "nog niet verstuurd", ""
    status, when = verdict
    moment = timezone.localtime(datetime.fromisoformat(when)).strftime("%d/%m/%Y %H:%M")
    return VERDICTS.get(status, status), moment


@role_required(VERZENDEN)
@require_POST
def day_email_send(request: HttpRequest, pk: Any) -> HttpResponse:
    """Queue the sending; a second click while it runs starts nothing."""
    from .tasks import email_day

    _visible_day(request, pk, status=Day.DONE)
    with transaction.atomic():
        the_day = get_object_or_404(Day.objects.select_for_update(), pk=pk, status=Day.DONE)
        if the_day.purged:
            raise Purged(the_day.purged)
        if any(m.busy for m in the_day.mailings.all()) or proof_needed() or the_day.replaced():
            return redirect("day_email", the_day.id)  # sending, no proof yet, or replaced
        mailing = Mailing.objects.create(day=the_day, started_by=request.user)
    email_day.enqueue(mailing.id)
    audit(request.user, "e-mail gestart", detail=f"dag {the_day.id}", service=the_day.services)
    return redirect("day_email", the_day.id)


@role_required(VERZENDEN)
@require_POST
def day_email_proof(request: HttpRequest, pk: Any) -> HttpResponse:
    """ "Stuur een proef naar mezelf": the day's message for a fictional patient, to her own
    address, before the first real send (issue 24, item 15)."""
    the_day = _day(request, pk, status=Day.DONE)
    to = request.user.email  # type: ignore[union-attr]
    if not to:
        request.session["proef"] = {"dag": str(the_day.id), "fout": NO_ADDRESS}
        return redirect("day_email", the_day.id)
    try:
        answer = service.send_proof(the_day, to)
    except LeafletpressError as exc:
        request.session["proef"] = {"dag": str(the_day.id), "fout": _message(exc)}
        return redirect("day_email", the_day.id)
    request.session["proef"] = {"dag": str(the_day.id), "naar": to}
    said = f"{PROOF_SETTINGS}{service.message_settings()}; dag {the_day.id}, voor een verzonnen "
    audit(request.user, PROOF, detail=f"{said}patiënt, naar het eigen adres ({answer[:60]})",
          service=the_day.services)  # fmt: skip
    return redirect("day_email", the_day.id)


NO_ADDRESS = ("je account heeft geen e-mailadres — vraag de beheerder het in te vullen (bij "
              "aanmelden met de gebruikerslijst van het ziekenhuis komt het daaruit)")  # fmt: skip


@role_required(VERZENDEN)
@require_GET
def day_email_progress(request: HttpRequest, pk: Any) -> HttpResponse:
    the_day = _visible_day(request, pk, status=Day.DONE)
    context = {"day": the_day, "mailing": the_day.mailings.first()}
    response = render(request, "web/_email_progress.html", context)
    if getattr(request, "htmx", False) and not (context["mailing"] and context["mailing"].busy):
        response["HX-Refresh"] = "true"  # the run ended: the counts and each row's state anew
    return response


# --- audit (beheer) -------------------------------------------------------------------------


SHOWN_EVENTS = 500


@role_required(BEHEER)
@require_http_methods(["GET", "POST"])
def audit_log(request: HttpRequest) -> HttpResponse:
    """The audit log, filtered; "Exporteer" gives every matching event as CSV."""
    # order_by(): without it the model's ordering makes each event its own "distinct" row
    actions = sorted(AuditEvent.objects.order_by().values_list("action", flat=True).distinct())
    form = AuditFilter(request.POST or None, actions=actions)
    events = AuditEvent.objects.all()
    if form.is_bound and form.is_valid():
        events = _filtered(events, form.cleaned_data)
        if "exporteer" in request.POST:
            exported = _audit_csv(events)  # first: the export's own event is not in it
            audit(request.user, "auditlog geëxporteerd", detail=_described(form.cleaned_data))
            return exported
    status = 400 if form.errors else 200
    context = {"form": form, "events": events[:SHOWN_EVENTS], "count": events.count(),
               "shown": SHOWN_EVENTS}  # fmt: skip
    return render(request, "web/audit.html", context, status=status)


def _filtered(events: Any, wanted: dict[str, Any]) -> Any:
    """Dates are whole days in Brussels time; account and reference match exactly."""
    zone = timezone.get_current_timezone()
    if wanted.get("van"):
        events = events.filter(at__gte=datetime.combine(wanted["van"], time.min, zone))
    if wanted.get("tot"):
        end = datetime.combine(wanted["tot"] + timedelta(days=1), time.min, zone)
        events = events.filter(at__lt=end)
    for field, column in (("account", "user"), ("actie", "action")):
        if wanted.get(field):
            events = events.filter(**{column: wanted[field]})
    if reference := wanted.get("referentie"):  # also the events about many patients (F6)
        whole = f" {re.escape(reference)} "  # a regex: case counts, as it does for reference=
        events = events.filter(Q(reference=reference) | Q(covers__regex=whole))
    return events


def _described(wanted: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in wanted.items() if v) or "alles"


def _audit_csv(events: Any) -> HttpResponse:
    """For the privacy officer's spreadsheet: ';', UTF-8 with BOM, and no cell a spreadsheet
    would run as a formula (an account name or a detail could start with '=')."""
    text = io.StringIO()
    writer = csv.writer(text, delimiter=";")
    writer.writerow(["wanneer", "account", "account-id", "actie", "referentie", "folder",
                     "details", "dienst", "over de referenties"])  # fmt: skip
    for e in events.iterator():
        moment = timezone.localtime(e.at).isoformat(timespec="seconds")
        cells = (moment, e.user, "" if e.account is None else str(e.account), e.action,
                 e.reference, e.leaflet, e.detail, e.service, " ".join(e.covered))  # fmt: skip
        writer.writerow([spreadsheet_cell(v) for v in cells])
    response = HttpResponse(text.getvalue().encode("utf-8-sig"),
                            content_type="text/csv; charset=utf-8")  # fmt: skip
    stamp = timezone.localtime().strftime("%Y-%m-%d_%H%M")
    response["Content-Disposition"] = f'attachment; filename="auditlog_{stamp}.csv"'
    return response


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    needed = exception.role if isinstance(exception, RoleNeeded) else ""
    return render(request, "web/403.html", {"needed": needed}, status=403)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "web/404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    return render(request, "web/500.html", status=500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form sent with a token of before: the session ended (sign in again), or she signed in
    again meanwhile, in another tab (load the page again). Either way back to the form, where
    the browser fills in again what was typed (static/web/app.js). A refusal for any other
    reason (the request's origin: another site, a proxy that changes the address) is not
    called expired: loading the page again would not help."""
    back = request.path if url_has_allowed_host_and_scheme(request.path, None) else "/"
    referer = request.headers.get("Referer", "")
    ours = url_has_allowed_host_and_scheme(referer, {request.get_host()}, request.is_secure())
    page = (urlsplit(referer).path if ours else "") or "/"
    expired = reason.startswith("CSRF ")  # Django's reasons of a token, not of an origin
    context = {"back": back, "page": page, "expired": expired}
    response = render(request, "web/csrf.html", context, status=403)
    if expired and request.user.is_authenticated:  # a choice on the form: app.js says so
        response["X-Geweigerd"] = "verlopen"
        response["X-Account"] = str(request.user.pk)  # who signed in: she, or someone else
    return response
