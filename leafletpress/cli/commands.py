"""The sub-commands: each parses its options into engine calls and prints the results.

No rendering logic here. Messages are Dutch; exit codes are in common/errors.py and the README.
"""

from __future__ import annotations

import argparse
import json
import logging
import shlex
import shutil
import sys
import time as clock
from collections.abc import Iterable
from datetime import date, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..common.errors import (
    EXIT_INTERRUPTED,
    EXIT_MAIL,
    EXIT_OK,
    EXIT_PROBLEMS,
    InputError,
    output_error,
)
from ..common.files import own_folder
from ..common.project import CHECKOUT, DEFAULT_FORMAT, Edition, Project, shipped
from ..content import history
from ..content.leaflet import (
    DEFAULT_LANGUAGE,
    DISCHARGE,
    catalogue,
    load_leaflet,
    load_translation,
)
from ..content.registry import load_registry
from ..visit.appointment import make_visit, parse_date, parse_moment, parse_time
from ..visit.calendar import demo_date
from ..visit.personalise import hospital_calendar, personalise, warnings

if TYPE_CHECKING:
    from ..content.registry import Registry
    from ..day.batch import Outcome
    from ..pdf.render import Renderer
    from ..visit.daylist import DayList
    from ..visit.personalise import Personalisation
    from ..visit.plan import Entry, Plan


def say(message: str) -> None:
    print(message, file=sys.stderr)


def _shown(path: Path) -> str:
    """A written file as the user can type it: relative to the current folder when inside."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _project(args: argparse.Namespace) -> Project:
    return Project(Path(args.project)) if args.project else Project()


def _loaded(args: argparse.Namespace) -> tuple[Project, Registry]:
    project = _project(args)
    if args.command != "check":  # check lists them with the rest
        history.refuse_unapproved(project)  # a file changed outside the approval: never printed
    registry = load_registry(project)
    # check says it in its own words; the demo's own batch and email runs heard it already
    if registry.example and args.command != "check" and not args.example_said:
        said = []
        if registry.example_files:
            said.append(f"{', '.join(registry.example_files)}: voorbeeldgegevens (example: true)")
        if registry.unsigned_policy:
            said.append(
                f"config/hospital.yaml: {', '.join(registry.unsigned_policy)} nog niet "
                "goedgekeurd (signed_off)"
            )
        say(
            f"waarschuwing: {'; '.join(said)}; elke pagina draagt 'VOORBEELD — niet voor "
            "patiënten'. Vul de gegevens van het ziekenhuis in en laat het beleid goedkeuren "
            "voor je folders meegeeft."
        )
    return project, registry


def _renderer(project: Project, registry: Registry) -> Renderer:
    """A warm renderer. WeasyPrint is imported only here, so `list` and `check` start fast."""
    from ..pdf.render import Renderer, tune_gc

    tune_gc()
    return Renderer(project, registry)


# --- list -------------------------------------------------------------------------------


def cmd_list(args: argparse.Namespace) -> int:
    listing = _catalogue(*_loaded(args))
    if args.json:
        print(json.dumps(listing, ensure_ascii=False, indent=2))
    else:
        _print_catalogue(listing)
    return EXIT_OK


def _catalogue(project: Project, registry: Registry) -> dict[str, Any]:
    """Leaflets, sites and surgeons, as `list --json` gives them to scripts."""
    leaflets = []
    for slug, langs in catalogue(project).items():
        lang = DEFAULT_LANGUAGE if DEFAULT_LANGUAGE in langs else langs[0]
        meta = load_leaflet(project, slug, lang).meta
        leaflets.append(
            {
                "slug": slug,
                "title": meta.title,
                "code": meta.code,
                "version": meta.version,
                "updated": meta.updated.isoformat(),
                "review_by": meta.review_by.isoformat(),
                "languages": langs,
                "sites": meta.sites,
                "variants": {key: v.label for key, v in meta.variants.items()},
            }
        )
    sites = {
        key: {"name": s.name, "day_hospital": s.day_hospital} for key, s in registry.sites.items()
    }
    surgeons = {
        key: {"name": s.display_name, "sites": s.sites} for key, s in registry.surgeons.items()
    }
    return {"leaflets": leaflets, "sites": sites, "surgeons": surgeons}


def _print_catalogue(listing: dict[str, Any]) -> None:
    print("Folders:")
    for item in listing["leaflets"]:
        print(
            f"  {item['slug']:<14} {item['title']} ({item['code']} versie {item['version']}, "
            f"talen: {', '.join(item['languages'])})"
        )
        for key, label in item["variants"].items():
            print(f"    --variant {key:<14} {label}")
        print(f"    campussen: {', '.join(item['sites'])}")
    print("Campussen:")
    for key, site in listing["sites"].items():
        print(f"  {key:<14} {site['name']}{'  (dagziekenhuis)' if site['day_hospital'] else ''}")
    print("Chirurgen:")
    for key, surgeon in listing["surgeons"].items():
        print(f"  {key:<14} {surgeon['name']} ({', '.join(surgeon['sites'])})")


# --- check ------------------------------------------------------------------------------


def cmd_check(args: argparse.Namespace) -> int:
    from ..check import check_project

    problems = check_project(_project(args), date.today())
    for problem in problems:
        print(problem)
    errors = sum(not p.warning for p in problems)
    warns = len(problems) - errors
    print(f"{errors} fout(en), {warns} waarschuwing(en)")
    failed = errors or (args.strict and warns)
    return EXIT_PROBLEMS if failed else EXIT_OK


# --- leaflet and demo ---------------------------------------------------------------------


def _render_to_file(
    renderer: Renderer, p: Personalisation, edition: Edition, out_dir: Path, output: str | None
) -> list[Path]:
    """The leaflet's file: tagged, for reading, emailing or filing. A booklet is a print file
    beside it (``-boekje``: imposed for the printer, untagged, pages out of reading order)."""
    from ..common.files import inside, write_atomic
    from ..printing.booklet import impose
    from ..visit.naming import leaflet_file_name

    suffix = "-groot" * edition.large_print
    target = inside(out_dir, output or leaflet_file_name(p.visit, p.leaflet.lang, suffix))
    if target.suffix.lower() != ".pdf":
        raise InputError(
            f"'{output}' eindigt niet op .pdf",
            field="output",
            hint="geef een bestandsnaam zoals folder.pdf",
        )
    pdf = renderer.render(p, edition.layout, edition.archive).pdf
    if not edition.booklet:
        write_atomic(target, pdf)
        return [target]
    booklet = target.with_name(f"{target.stem}-boekje.pdf")
    write_atomic(booklet, impose(pdf))
    try:  # the two files, or neither
        write_atomic(target, pdf)
    except BaseException:
        booklet.unlink(missing_ok=True)
        raise
    return [target, booklet]


def _edition(args: argparse.Namespace) -> Edition:
    if args.large_print and args.format not in (None, "a4"):
        raise InputError(
            f"grote letters bestaan niet als {args.format}",
            field="format",
            hint="grote letters worden altijd op A4 gedrukt: laat --format weg",
        )
    fmt = "a4" if args.large_print else args.format or DEFAULT_FORMAT
    return Edition(fmt, args.large_print, args.archive)


def _optional(text: str | None, parse: Any, field: str) -> Any:
    return parse(text, field) if text else None


def cmd_leaflet(args: argparse.Namespace) -> int:
    from ..visit.plan import Planner

    project, registry = _loaded(args)
    leaflet, notes = load_translation(project, args.leaflet, args.lang)
    names = Planner(project, registry, date.today())  # campuses and surgeons also by name
    moment = parse_moment(args.moment)
    if moment == DISCHARGE and args.time:
        raise InputError(
            "hoort niet bij een folder bij ontslag",
            field="time",
            hint="laat --time weg; het uur van de controle is --followup-time",
        )
    visit = make_visit(
        moment=moment,
        discharge_date=_optional(args.discharge_date, parse_date, "discharge_date"),
        followup_date=_optional(args.followup_date, parse_date, "followup_date"),
        followup_time=_optional(args.followup_time, parse_time, "followup_time"),
        followup_site=names.followup_sites.key(args.followup_site) if args.followup_site else None,
        name=args.patient,
        reference=args.reference,
        birth_date=parse_date(args.birth_date, "birth_date") if args.birth_date else None,
        language=leaflet.lang,
        leaflet=args.leaflet,
        variant=args.variant,
        surgeon=names.surgeons.key(args.surgeon),
        site=names.sites.key(args.site, leaflet.meta.sites),
        date=parse_date(args.date),
        time=_optional(args.time, parse_time, "time"),
    )
    p = personalise(visit, leaflet, registry)
    for warning in notes + warnings(p, date.today()):
        say(f"waarschuwing: {warning}")
    started = clock.perf_counter()
    paths = _render_to_file(
        _renderer(project, registry), p, _edition(args), Path(args.out_dir), args.output
    )
    for path in paths:
        print(_shown(path))
    logging.getLogger(__name__).info("klaar in %.2f s", clock.perf_counter() - started)
    return EXIT_OK


# Example visits for `demo`: one per variant, spread over sites, surgeons and times.
DEMO_VISITS: tuple[dict[str, object], ...] = (
    {
        "name": "Marie Peeters",
        "reference": "DEMO-0001",
        "birth_date": date(1961, 4, 23),
        "variant": "decompressie",
        "site": "augustinus",
        "surgeon": "verbeeck",
        "time": "08:00",
    },
    {
        "name": "Ünal Çelik-O'Brien",
        "reference": "DEMO-0002",
        "birth_date": date(1958, 3, 12),
        "variant": "heupprothese",
        "site": "cadix",
        "surgeon": "claes",
        "time": "09:30",
    },
    {
        "name": "Jan Janssens",
        "reference": "DEMO-0003",
        "birth_date": None,
        "variant": "osteotomie",
        "site": "palfijn",
        "surgeon": "el-amrani",
        "time": "7u45",
    },
)


# At discharge, two days later: the follow-up campus of each example (one not planned yet),
# six weeks after the operation.
DEMO_FOLLOWUPS = ("hoge-beuken", "middelheim", None)
DEMO_DISCHARGE, DEMO_FOLLOWUP = timedelta(days=2), timedelta(weeks=6)


# The example lists (examples/) are for a Tuesday in December 2026. The demo makes copies moved
# to its own Tuesday, whole weeks later or earlier, so weekdays stay and nothing is in the past.
EXAMPLES = shipped("examples")
PROG = "generate.py" if CHECKOUT else "leafletpress"  # as the user started it
EXAMPLES_DAY = date(2026, 12, 15)
DEMO_LISTS = ("dag-2026-12-15.csv", "ontslag-2026-12-17.csv")
MOVED_FIELDS = ("date", "discharge_date", "followup_date")  # never the birth date


def _example(
    source: Path, project: Project
) -> tuple[list[list[str]], dict[tuple[int, int], date], str, str]:
    """An example list's rows, its appointment dates (MOVED_FIELDS) by (row, column), its
    line ends and its encoding. A list whose columns the project does not know (its own
    config/columns.yaml) is refused, so the demo can leave it out."""
    import csv
    import io

    from ..common.matching import match_key
    from ..visit.daylist import decode_list, load_columns

    text, _, encoding = decode_list(source.read_bytes(), str(source))
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    names = load_columns(project).fields()
    keys = {match_key(name) for field in MOVED_FIELDS for name in names[field]}
    moved = [i for i, header in enumerate(rows[0] if rows else []) if match_key(header) in keys]
    if not moved:
        raise InputError("geen kolom met een datum die config/columns.yaml kent", file=source)
    dates = {}
    for number, row in enumerate(rows[1:], start=1):
        for i in (i for i in moved if i < len(row) and row[i].strip()):
            try:
                dates[number, i] = parse_date(row[i])
            except InputError as exc:
                raise InputError(
                    exc.message, file=source, row=number + 1, field=rows[0][i], hint=exc.hint
                ) from None
    return rows, dates, "\r\n" if "\r\n" in text else "\n", encoding


def demo_uses(project: Project) -> set[int]:
    """The days after the demo's day that the demo uses: its own leaflets' discharge and
    follow-up, and every appointment date of the example lists it moves (those that fit)."""
    uses = {0, DEMO_DISCHARGE.days, DEMO_FOLLOWUP.days}
    for name in DEMO_LISTS:
        try:
            uses |= {
                (day - EXAMPLES_DAY).days for day in _example(EXAMPLES / name, project)[1].values()
            }
        except (OSError, InputError):
            continue  # left out of the demo, which says so
    return uses


def moved_example(source: Path, folder: Path, by: timedelta, project: Project) -> tuple[Path, date]:
    """A copy of an example list (``dag-2026-12-15.csv``) in ``folder`` with its appointment
    dates moved ``by``, in the example's own encoding, separator and line ends, named after its
    moved day; returns the copy and that day (refused as ``_example`` refuses)."""
    import csv
    import io

    from ..common.files import write_atomic

    rows, dates, ends, encoding = _example(source, project)
    for (number, i), day in dates.items():
        rows[number][i] = f"{day + by:%d/%m/%Y}"
    out = io.StringIO(newline="")
    csv.writer(out, delimiter=";", lineterminator=ends).writerows(rows)
    stem, _, named = source.stem.partition("-")
    day = parse_date(named) + by
    target = folder / f"{stem}-{day}.csv"
    write_atomic(target, out.getvalue().encode(encoding))
    return target, day


def _demo_lists(project: Project, on: date, args: argparse.Namespace) -> int:
    """The example clinic day and discharge list moved to the demo's day, each made as a batch
    (in the demo's edition) with its emails as a dry run; each command is shown as a newcomer
    would type it. Example lists that do not fit this project are left out, with a note."""
    from .parser import build_parser

    out_dir = Path(args.out_dir)
    folder = own_folder(out_dir / "demo" / "lijsten", out_dir)
    batch = _shown(out_dir / "demo" / "dag")
    edition = ["--format", args.format] if args.format else []
    edition += ["--large-print"] * args.large_print + ["--archive"] * args.archive
    for name in DEMO_LISTS:
        try:
            copy, day = moved_example(EXAMPLES / name, folder, on - EXAMPLES_DAY, project)
        except (OSError, InputError) as exc:
            say(f"De voorbeeldlijst {name} blijft uit de demo: {exc}")
            continue
        listed = _shown(copy)
        for command in (
            ["batch", listed, "--out-dir", batch, "--separators", *edition],
            ["email", str(Path(batch) / f"{day}"), "--list", listed],
        ):
            say(f"\n$ {PROG} {shlex.join(command)}")
            nested = build_parser().parse_args(["--project", str(project.root), *command])
            nested.example_said = True
            code = int(nested.func(nested))
            if code != EXIT_OK:
                return code
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    project, registry = _loaded(args)
    leaflet = load_leaflet(project, "avn-hip", DEFAULT_LANGUAGE)
    renderer = _renderer(project, registry)
    edition = _edition(args)
    on = demo_date(date.today(), hospital_calendar(registry).holidays, demo_uses(project))
    started = clock.perf_counter()
    folder = own_folder(Path(args.out_dir) / "demo", Path(args.out_dir))
    discharge: dict[str, object] = {"moment": DISCHARGE, "discharge_date": on + DEMO_DISCHARGE}
    for example, followup in zip(DEMO_VISITS, DEMO_FOLLOWUPS, strict=True):
        planned: dict[str, object] = {
            "followup_date": on + DEMO_FOLLOWUP,
            "followup_time": time(10, 30),
            "followup_site": followup,
        }
        moments: tuple[dict[str, object], ...] = (
            {"time": parse_time(str(example["time"]))},
            discharge | (planned if followup else {}),
        )
        for moment in moments:
            visit = make_visit(
                **{**example, **moment}, leaflet="avn-hip", date=on, language=DEFAULT_LANGUAGE
            )
            p = personalise(visit, leaflet, registry)
            for path in _render_to_file(renderer, p, edition, folder, None):
                print(_shown(path))
    say(
        f"{2 * len(DEMO_VISITS)} folders gemaakt in {clock.perf_counter() - started:.1f} s "
        f"(ingreep op {on:%d/%m/%Y}, ontslag twee dagen later); open ze met een PDF-lezer."
    )
    if args.no_lists:
        return EXIT_OK
    say(
        f"De voorbeeldlijsten in examples/ zijn voor {EXAMPLES_DAY:%d/%m/%Y}; de demo maakt ze "
        f"voor {on:%d/%m/%Y} in {_shown(folder / 'lijsten')}."
    )
    return _demo_lists(project, on, args)


# --- batch -------------------------------------------------------------------------------


def cmd_init(args: argparse.Namespace) -> int:
    """A hospital's content folder, started from the example that leafletpress ships."""
    folder = Path(args.folder)
    wrong = ""
    if folder.is_symlink() and not folder.exists():
        wrong = "een link naar iets dat niet bestaat"
    elif folder.exists() and not folder.is_dir():
        wrong = "een bestand, geen map"
    else:
        try:
            wrong = "een map die niet leeg is" if folder.is_dir() and any(folder.iterdir()) else ""
        except OSError as exc:
            wrong = f"een map die niet gelezen kan worden ({exc.strerror})"
    if wrong:
        raise InputError(f"dit is {wrong}: er wordt niets overschreven", file=folder,
                         hint="kies een nieuwe of lege map die je mag schrijven")  # fmt: skip
    example = Project()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for source in (example.leaflets_dir, example.config_dir):
            shutil.copytree(source, folder / source.name)
    except OSError as exc:
        raise output_error(exc, "kan de inhoudsmap niet maken", folder) from exc
    say(f"{_shown(folder)}: leaflets/ en config/ van het voorbeeldziekenhuis.")
    say(f"Pas config/ aan (ziekenhuis, campussen, chirurgen, e-mail) en controleer met: "
        f"{PROG} --project {shlex.quote(str(folder))} check")  # fmt: skip
    return EXIT_OK


def cmd_batch(args: argparse.Namespace) -> int:
    from ..day.workers import warm_up
    from ..visit.daylist import read_day_list
    from ..visit.plan import plan

    started = clock.perf_counter()
    edition = _edition(args)
    project, registry = _loaded(args)
    day = read_day_list(Path(args.file), project, args.sheet, shown=args.file)
    warm_up(len(day.rows), args.jobs)
    planned = plan(day, project, registry, date.today())
    refused = _report_plan(args, day, planned)
    outcome = None
    if planned.entries:
        try:
            outcome = _run_with_progress(args, day, planned, project, registry, edition)
        except KeyboardInterrupt:
            say(
                "onderbroken: wat klaar was, blijft bewaard. Start dezelfde opdracht "
                "opnieuw om verder te gaan."
            )
            return EXIT_INTERRUPTED
        _report_outcome(args, outcome)
    made = outcome.made + outcome.unchanged if outcome else 0
    failed = len(outcome.failed) if outcome else 0
    reused = (
        f" ({outcome.unchanged} ongewijzigd van een vorige run)"
        if outcome and outcome.unchanged
        else ""
    )
    say(
        f"{len(day.rows)} rijen gelezen, {made} folders gemaakt{reused}, {refused} rijen "
        f"geweigerd{f', {failed} mislukt' if failed else ''}; "
        f"{clock.perf_counter() - started:.1f} s"
    )
    return EXIT_PROBLEMS if refused or failed else EXIT_OK


def _report_plan(args: argparse.Namespace, day: DayList, planned: Plan) -> int:
    """Print refusals and warnings of the checked list; returns how many rows were refused."""
    for refusal in planned.refusals:
        say(f"fout: {args.file}, {refusal}")
    shared = _shared(planned.entries)
    for entry in planned.entries:
        for warning in entry.warnings:
            rows = shared[warning]
            if len(rows) <= SAID_PER_ROW:
                say(f"waarschuwing: {args.file}, rij {entry.row} ({entry.who}): {warning}")
            elif entry.row == rows[0]:  # a clinic on a Saturday: once, not once per patient
                say(f"waarschuwing: {args.file}, {len(rows)} rijen ({_rows(rows)}): {warning}")
    refused = len({r.row for r in planned.refusals})
    if day.hidden_rows:  # always said, also with -q: a row that is not made must be noticed
        count = len(day.hidden_rows)
        say(
            f"let op: {count} verborgen {'rij' if count == 1 else 'rijen'} niet gebruikt "
            f"({_rows(day.hidden_rows)}): in Excel verborgen, meestal "
            "geannuleerde afspraken. Maak ze zichtbaar als ze toch moeten."
        )
    if not args.quiet:
        say(
            f"{len(day.rows)} rijen gelezen ({day.source}): {len(planned.entries)} in orde, "
            f"{refused} geweigerd."
        )
    return refused


SAID_PER_ROW = 3  # a warning shared by more rows is said once, with its rows


def _shared(entries: list[Entry]) -> dict[str, list[int]]:
    """Each warning with the rows that have it."""
    found: dict[str, list[int]] = {}
    for entry in entries:
        for warning in entry.warnings:
            found.setdefault(warning, []).append(entry.row)
    return found


def _rows(rows: Iterable[int]) -> str:
    """Row numbers as a reader scans them: 'rij 2-5, 8, 10-12'."""
    runs: list[list[int]] = []
    for row in sorted(rows):
        if runs and row == runs[-1][-1] + 1:
            runs[-1].append(row)
        else:
            runs.append([row])
    return "rij " + ", ".join(f"{r[0]}-{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs)


def _run_with_progress(
    args: argparse.Namespace,
    day: DayList,
    planned: Plan,
    project: Project,
    registry: Registry,
    edition: Edition,
) -> Outcome:
    """The batch, with a progress bar on a terminal (not with -q, nor in a log file)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from ..day.batch import run_batch

    console = Console(stderr=True)
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=args.quiet or not console.is_terminal,
        transient=True,
    ) as progress:
        bar = progress.add_task("folders maken", total=len(planned.entries))
        return run_batch(
            day,
            planned,
            project,
            registry,
            Path(args.out_dir),
            edition,
            force=args.force,
            separators=args.separators,
            jobs=args.jobs,
            on_progress=lambda done, total: progress.update(bar, completed=done),
        )


def _report_outcome(args: argparse.Namespace, outcome: Outcome) -> None:
    for row, problem in outcome.failed:
        say(f"fout: {args.file}, rij {row}: {problem}")
    for path in outcome.print_files + outcome.manifests:
        print(_shown(path))
    if outcome.strays and not args.quiet:
        say(
            f"let op: {len(outcome.strays)} PDF('s) in {_shown(outcome.strays[0].parent)} "
            "horen niet bij deze lijst (geannuleerd of uit een andere lijst?), bv. "
            f"{outcome.strays[0].name}"
        )


# --- email -------------------------------------------------------------------------------


def cmd_email(args: argparse.Namespace) -> int:
    from ..mail.sending import run_email

    started = clock.perf_counter()
    project, registry = _loaded(args)
    report = run_email(
        Path(args.batch),
        Path(args.list),
        project,
        registry,
        send=args.send,
        resend=args.resend,
        sheet=args.sheet,
        shown=args.list,
    )
    if report.example_settings:
        say(
            "waarschuwing: config/email.yaml: voorbeeldgegevens (example: true); er kan niets "
            "verstuurd worden tot de mailserver en afzender van het ziekenhuis ingevuld zijn."
        )
    if report.example_leaflets:
        say(
            "waarschuwing: de folders dragen 'VOORBEELD — niet voor patiënten'; er kan niets "
            "verstuurd worden tot de gegevens ingevuld zijn, het beleid goedgekeurd is en de "
            "batch opnieuw gemaakt is."
        )
    where = f"{args.batch}, rij"
    for label, items in (
        ("geen e-mail", report.unaddressed),
        ("geweigerd door de server", report.refused),
        ("mislukt", report.failed),
        ("onzeker, niet opnieuw verstuurd (controleer; --resend verstuurt toch)", report.uncertain),
        ("niet geprobeerd", report.not_tried),
    ):
        for row, reference, detail in items:
            say(f"fout: {where} {row} ({reference}): {label}: {detail}")
    if report.stopped:
        say(f"gestopt: {report.stopped}. Niets gaat verloren: start dezelfde opdracht opnieuw.")
    if not args.send:
        if report.written:
            print(_shown(report.written[0].parent))
        say(
            f"proefdraai: {len(report.written)} bericht(en) klaar als .eml, "
            f"{len(report.already)} al eerder verstuurd, {len(report.unaddressed)} zonder "
            f"e-mail; niets verstuurd (verstuur met --send); "
            f"{clock.perf_counter() - started:.1f} s"
        )
    else:
        say(
            f"{len(report.sent)} verstuurd, {len(report.already)} al eerder verstuurd, "
            f"{len(report.refused) + len(report.failed) + len(report.not_tried)} niet verstuurd, "
            f"{len(report.unaddressed)} zonder e-mail; {clock.perf_counter() - started:.1f} s"
        )
    if report.server_trouble:
        return EXIT_MAIL
    return EXIT_OK if report.complete else EXIT_PROBLEMS
