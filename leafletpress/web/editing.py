"""The content in the browser: the overview, the editor, approval, history, a new leaflet.

Pages for ``redactie`` (write), ``goedkeuring`` (approve or send back) and ``beheer`` (the
campuses and surgeons). They parse what the browser sends and call drafts.py; nothing else.
The editor's script (static/web/editor.js) saves as one types, and asks for the check, the
reading-level report and the preview of what was typed.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ..check import check_project
from ..common.errors import LeafletpressError
from ..content import history
from ..content.leaflet import MOMENTS
from . import drafts, service
from .forms import EDITIONS, NewLeafletForm
from .models import Draft, audit
from .roles import BEHEER, GOEDKEURING, REDACTIE, RoleNeeded, role_required, roles_of

_KEY = re.compile(r"[0-9a-f]{32}")
MAX_TEXT = 200_000  # characters: a leaflet is about 15 000
TOO_LONG = "de tekst is te lang (meer dan 200 000 tekens)"
NO_DRAFT = (
    "00000000-0000-0000-0000-000000000000"  # in the editor's form actions until the first save
)
CONTENT_ROLES = (REDACTIE, GOEDKEURING, BEHEER)


def _may_edit(request: HttpRequest, path: str) -> None:
    """Leaflets are ``redactie``'s, the campuses and surgeons ``beheer``'s."""
    if not drafts.editable(path):
        raise Http404("geen bestand dat in de browser gewijzigd wordt")
    needed = BEHEER if path in drafts.CONFIG_FILES else REDACTIE
    if needed not in roles_of(request.user):
        raise RoleNeeded(needed)


def _refused(request: HttpRequest, exc: Exception, to: str, *args: Any) -> HttpResponse:
    """Back to the page, which says why (a refusal, or the engine's error with its hint)."""
    request.session["melding"] = exc.message if isinstance(exc, drafts.Refused) else str(exc)
    return redirect(to, *args)


def _notice(request: HttpRequest) -> str:
    """Why the last step was refused (an error banner)."""
    return str(request.session.pop("melding", ""))


def _done(request: HttpRequest) -> str:
    """What the last step did (a status banner)."""
    return str(request.session.pop("gelukt", ""))


@role_required(*CONTENT_ROLES)
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    problems = check_project(service.project(), timezone.localdate())
    waiting = Draft.objects.filter(status=Draft.SUBMITTED).order_by("saved")
    return render(
        request,
        "web/inhoud.html",
        {
            "entries": drafts.overview(),
            "waiting": waiting,
            "config": _config_files(),
            "unavailable": drafts.unavailable(),
            "errors": [p for p in problems if not p.warning],
            "warnings": [p for p in problems if p.warning],
            "notice": _notice(request),
            "done": _done(request),
        },
    )


def _config_files() -> list[tuple[str, str, Draft | None]]:
    return [(path, name, drafts.open_draft(path)) for path, name in drafts.CONFIG_FILES.items()
            if drafts.approved_text(path) is not None]  # fmt: skip


@role_required(REDACTIE, BEHEER)
@require_GET
def edit(request: HttpRequest, path: str) -> HttpResponse:
    _may_edit(request, path)
    if problem := drafts.unavailable():
        request.session["melding"] = problem
        return redirect("content_check")
    draft = drafts.open_draft(path)
    text = draft.text if draft else drafts.approved_text(path)
    if text is None:
        raise Http404("dit bestand bestaat nog niet: begin een nieuwe folder")
    leaflet = drafts.parsed(path, text)
    others = [n for n in (draft.editors if draft else []) if n != request.user.username]
    return render(
        request,
        "web/bewerk.html",
        {
            "path": path,
            "name": drafts.shown_name(path),
            "text": text,
            "draft": draft,
            "revision": draft.revision if draft else 0,
            "others": others,
            "leaflet": leaflet,
            "moments": MOMENTS,
            "editions": EDITIONS,
            "is_data": path in drafts.CONFIG_FILES,
            "notice": _notice(request),
            "done": _done(request),
            "lines": range(1, text.count("\n") + 2),
            "NO_DRAFT": NO_DRAFT,
            "campuses": list(service.registry().sites),
            "services": sorted({s.service for s in service.registry().surgeons.values()}),
        },
    )


def _posted_text(request: HttpRequest) -> tuple[str, str]:
    """The file and the text the editor's script sent as a form."""
    path, text = request.POST.get("path", ""), _typed(request.POST.get("text", ""))
    if not drafts.editable(path):
        raise Http404("geen bestand dat in de browser gewijzigd wordt")
    return path, text


def _choice(values: Any) -> dict[str, str]:
    """The fictional patient's variant, moment and edition, as the page chose them."""
    return {k: values.get(k, "") for k in ("variant", "moment", "edition")}


def _typed(text: str) -> str:
    """What was typed, with the line ends the files have (a form sends CR LF)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _posted_json(request: HttpRequest) -> dict[str, Any]:
    try:
        found = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return {}
    return found if isinstance(found, dict) else {}


@role_required(REDACTIE, BEHEER)
@require_POST
def save(request: HttpRequest) -> JsonResponse:
    """An autosave: ``{path, text, revision}`` -> the new revision, or 409 with who changed it."""
    posted = _posted_json(request)
    path, text = str(posted.get("path", "")), _typed(str(posted.get("text", "")))
    try:
        _may_edit(request, path)
        revision = int(posted.get("revision", -1))
    except RoleNeeded:
        return JsonResponse({"fout": "je rol mag dit bestand niet wijzigen"}, status=403)
    except (TypeError, ValueError):
        return JsonResponse({"fout": "ongeldige revisie"}, status=400)
    if len(text) > MAX_TEXT:
        return JsonResponse({"fout": TOO_LONG}, status=413)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return JsonResponse({"fout": "de tekst bevat ongeldige tekens"}, status=400)
    try:
        draft = drafts.save(request.user, path, text, revision)
    except LeafletpressError as exc:  # the content folder cannot keep a history here
        return JsonResponse({"fout": f"{exc.message}: {exc.hint}"}, status=409)
    except drafts.Refused as exc:
        other = exc.draft
        return JsonResponse(
            {
                "fout": exc.message,
                "door": other.saved_by if other else "",
                "om": timezone.localtime(other.saved).strftime("%H:%M") if other else "",
            },
            status=409,
        )
    saved = timezone.localtime(draft.saved).strftime("%H:%M:%S")
    return JsonResponse({"revisie": draft.revision, "bewaard": saved, "concept": str(draft.pk)})


@role_required(REDACTIE, BEHEER, GOEDKEURING)
@require_POST
def check(request: HttpRequest) -> HttpResponse:
    """The check's findings and the reading-level report of what was typed (HTML)."""
    path, text = _posted_text(request)
    if len(text) > MAX_TEXT:
        return JsonResponse({"fout": TOO_LONG}, status=413)
    found = drafts.findings(path, text)
    leaflet = drafts.parsed(path, text)
    return render(
        request,
        "web/_bevindingen.html",
        {
            "mine": [f for f in found if not f.file],
            "elsewhere": [f for f in found if f.file],
            "reading": drafts.reading(path, text),
            "variants": leaflet.meta.variants if leaflet else {},
        },
    )


@role_required(REDACTIE, BEHEER, GOEDKEURING)
@require_POST
def preview(request: HttpRequest) -> JsonResponse:
    path, text = _posted_text(request)
    if len(text) > MAX_TEXT:
        return JsonResponse({"fout": TOO_LONG}, status=413)
    choice = _choice(request.POST)
    made = drafts.preview(path, text, choice)
    return JsonResponse(
        {
            "sleutel": made.key,
            "paginas": made.pages,
            "fouten": made.problems,
            "waarschuwingen": made.warnings,
        }
    )


def _preview_file(key: str) -> Any:
    if not _KEY.fullmatch(key):
        raise Http404("onbekend voorbeeld")
    path = drafts.previews() / f"{key}.pdf"
    if not path.is_file():
        raise Http404("dit voorbeeld is niet meer bewaard: het wordt opnieuw gemaakt")
    return path


@role_required(*CONTENT_ROLES)
@require_GET
def preview_page(request: HttpRequest, key: str, page: int) -> HttpResponse:
    image = service.page_image(_preview_file(key), page)
    if image is None:
        raise Http404("geen pagina")
    return HttpResponse(image, content_type="image/png")


@role_required(*CONTENT_ROLES)
@require_GET
def preview_pdf(request: HttpRequest, key: str) -> FileResponse:
    """The fictional patient's leaflet as a PDF (a draft, or a past version), to print."""
    return FileResponse(
        _preview_file(key).open("rb"),
        content_type="application/pdf",
        filename=f"voorbeeld-{key[:8]}.pdf",
    )


# --- the steps of a draft -------------------------------------------------------------------


def _draft(pk: Any) -> Draft:
    return get_object_or_404(Draft, pk=pk)


def _revision(request: HttpRequest) -> int:
    try:
        return int(request.POST.get("revisie", "-1"))
    except ValueError:
        return -1


@role_required(REDACTIE, BEHEER)
@require_POST
def submit(request: HttpRequest, pk: Any) -> HttpResponse:
    draft = _draft(pk)
    try:
        _may_edit(request, draft.path)
        if draft.path in drafts.CONFIG_FILES:
            drafts.publish(request.user, draft, _revision(request), request.POST.get("nota", ""))
            request.session["gelukt"] = "Gepubliceerd: elke folder gebruikt nu deze gegevens."
            return redirect("content_check")
        drafts.submit(request.user, draft, _revision(request), request.POST.get("nota", ""))
    except (drafts.Refused, LeafletpressError) as exc:
        return _refused(request, exc, "content_edit", draft.path)
    request.session["gelukt"] = "Ingediend: een medisch verantwoordelijke keurt het goed."
    return redirect("content_draft", draft.pk)


@role_required(REDACTIE, BEHEER)
@require_POST
def withdraw(request: HttpRequest, pk: Any) -> HttpResponse:
    draft = _draft(pk)
    _may_edit(request, draft.path)
    if request.POST.get("wat") == "terughalen":
        drafts.recall(request.user, draft)
        return redirect("content_edit", draft.path)
    drafts.withdraw(request.user, draft)
    request.session["gelukt"] = "Het concept is ingetrokken; de goedgekeurde tekst blijft."
    return redirect("content_check")


@role_required(*CONTENT_ROLES)
@require_GET
def review(request: HttpRequest, pk: Any) -> HttpResponse:
    """A draft against the approved version: the text's differences, and for the chosen
    variant, moment and edition the pages of both side by side."""
    draft = _draft(pk)
    before = drafts.approved_text(draft.path) or ""
    choice = _choice(request.GET)
    pages = None
    if draft.path not in drafts.CONFIG_FILES and draft.is_open:
        old = drafts.preview(draft.path, before, choice) if before else drafts.Preview()
        new = drafts.preview(draft.path, draft.text, choice)
        pages = {"old": old, "new": new, "changed": _changed_pages(old, new),
                 "numbers": range(1, max(old.pages, new.pages) + 1)}  # fmt: skip
    roles = roles_of(request.user)
    return render(
        request,
        "web/concept.html",
        {
            "draft": draft,
            "name": drafts.shown_name(draft.path, draft.text),
            "diff": _diff(before, draft.text),
            "pages": pages,
            "choice": choice,
            "leaflet": drafts.parsed(draft.path, draft.text),
            "moments": MOMENTS,
            "editions": EDITIONS,
            "may_decide": GOEDKEURING in roles and draft.status == Draft.SUBMITTED,
            "own": request.user.username in draft.editors,
            "version": drafts.suggested_version(draft),
            "notice": _notice(request),
            "done": _done(request),
        },
    )


def _changed_pages(old: drafts.Preview, new: drafts.Preview) -> list[int]:
    """The pages whose text differs between the approved version and the draft."""
    if not old.key or not new.key:
        return list(range(1, new.pages + 1))
    before = service.page_texts(drafts.previews() / f"{old.key}.pdf")
    after = service.page_texts(drafts.previews() / f"{new.key}.pdf")
    count = max(len(before), len(after))
    before, after = before + [""] * (count - len(before)), after + [""] * (count - len(after))
    return [n for n, (a, b) in enumerate(zip(before, after, strict=True), 1) if a != b]


@dataclass
class Line:
    kind: str  # "same", "del", "add", or "gap" between hunks
    old: int | None
    new: int | None
    text: str


def _diff(before: str, after: str) -> list[Line]:
    """The changed lines with two lines of context around each change."""
    old, new = before.splitlines(), after.splitlines()
    shown: list[Line] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for number, group in enumerate(matcher.get_grouped_opcodes(2)):
        if number:
            shown.append(Line("gap", None, None, "…"))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                shown += [Line("same", i + 1, j1 + i - i1 + 1, old[i]) for i in range(i1, i2)]
                continue
            shown += [Line("del", i + 1, None, old[i]) for i in range(i1, i2)]
            shown += [Line("add", None, j + 1, new[j]) for j in range(j1, j2)]
    return shown


@role_required(GOEDKEURING)
@require_POST
def decide(request: HttpRequest, pk: Any) -> HttpResponse:
    draft = _draft(pk)
    try:
        if request.POST.get("besluit") == "goedkeuren":
            drafts.approve(
                request.user,
                draft,
                _revision(request),
                request.POST.get("versie", ""),
                request.POST.get("nota", ""),
            )
            request.session["gelukt"] = "Goedgekeurd: vanaf nu wordt deze versie gedrukt."
            return redirect("content_check")
        drafts.send_back(request.user, draft, request.POST.get("opmerking", ""))
    except (drafts.Refused, LeafletpressError) as exc:
        return _refused(request, exc, "content_draft", draft.pk)
    request.session["gelukt"] = "Teruggestuurd naar de redactie, met je opmerking."
    return redirect("content_check")


# --- history --------------------------------------------------------------------------------


@role_required(*CONTENT_ROLES)
@require_GET
def versions(request: HttpRequest, path: str) -> HttpResponse:
    """Every approved version of a file, who approved it, when and why; one shown, also as
    it was in force on a chosen day, and as the fictional patient's leaflet."""
    if not drafts.editable(path):
        raise Http404("geen bestand dat in de browser gewijzigd wordt")
    if problem := drafts.unavailable():
        request.session["melding"] = problem
        return redirect("content_check")
    folder = service.project()  # looking never begins a history: the first edit does
    listed = history.versions(folder, path) if history.enabled(folder) else []
    chosen, on = request.GET.get("versie", ""), request.GET.get("op", "")
    if on:  # the version in force at the end of that day: the last approved before it
        try:
            end = timezone.make_aware(datetime.combine(date.fromisoformat(on), time.max))
        except ValueError:
            end = None
        chosen = next((v.commit for v in listed if end and v.when <= end), "")
    shown = next((v for v in listed if v.commit == chosen), None)
    text = history.text_at(folder, shown.commit, path) if shown else None
    choice = _choice(request.GET)
    made = (
        drafts.preview(path, text, choice, shown.commit)
        if shown and text and drafts.slug_lang(path)
        else None
    )
    audit(request.user, "versies bekeken", leaflet=path, detail=shown.short if shown else "")
    return render(
        request,
        "web/versies.html",
        {
            "path": path,
            "name": drafts.shown_name(path),
            "versions": listed,
            "shown": shown,
            "text": text,
            "made": made,
            "on": on,
            "may_restore": REDACTIE in roles_of(request.user) or BEHEER in roles_of(request.user),
            "notice": _notice(request),
            "done": _done(request),
        },
    )


@role_required(REDACTIE, BEHEER)
@require_POST
def restore(request: HttpRequest, path: str) -> HttpResponse:
    try:
        _may_edit(request, path)
        drafts.restore(request.user, path, request.POST.get("versie", ""))
    except (drafts.Refused, LeafletpressError) as exc:
        request.session["melding"] = getattr(exc, "message", str(exc))
        return redirect("content_versions", path)
    request.session["gelukt"] = "Teruggezet als nieuw concept: het wordt gedrukt na goedkeuring."
    return redirect("content_edit", path)


# --- a new leaflet --------------------------------------------------------------------------


@role_required(REDACTIE)
@require_POST
def translate(request: HttpRequest, slug: str, lang: str) -> HttpResponse:
    """Begin a leaflet's translation from its approved Dutch text."""
    try:
        draft = drafts.new_translation(request.user, slug, lang)
    except (drafts.Refused, LeafletpressError) as exc:
        return _refused(request, exc, "content_check")
    request.session["gelukt"] = "Vertaling begonnen met de Nederlandse tekst: vertaal ze hier."
    return redirect("content_edit", draft.path)


@role_required(REDACTIE)
@require_http_methods(["GET", "POST"])
def new(request: HttpRequest) -> HttpResponse:
    if problem := drafts.unavailable():
        request.session["melding"] = problem
        return redirect("content_check")
    form = NewLeafletForm(request.POST or None, registry=service.registry())
    if request.method == "POST" and form.is_valid():
        try:
            draft = drafts.new_leaflet(request.user, form.cleaned_data["slug"], form.cleaned_data)
        except drafts.Refused as exc:
            form.add_error("slug", exc.message)
        else:
            return redirect("content_edit", draft.path)
    return render(request, "web/nieuw.html", {"form": form})
