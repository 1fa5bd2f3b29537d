"""The command line: parses input, calls the engine, prints results. No rendering logic here.

Messages are Dutch; exit codes are in errors.py and the README.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import sys
import time as clock
import traceback
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from .. import __version__
from ..common.errors import (
    EXIT_INTERNAL,
    EXIT_MAIL,
    EXIT_OK,
    EXIT_PROBLEMS,
    InputError,
    LeafletpressError,
)
from ..common.project import DEFAULT_FORMAT, FORMATS, Edition, Project
from ..content.leaflet import DEFAULT_LANGUAGE, LOCALES, catalogue, load_leaflet, load_translation
from ..content.registry import load_registry
from ..visit.appointment import make_visit, parse_date, parse_time
from ..visit.personalise import personalise, warnings

if TYPE_CHECKING:
    from ..content.registry import Registry
    from ..pdf.render import Renderer
    from ..visit.personalise import Personalisation

DEFAULT_OUT = Path("output")

# argparse's own words, in Dutch (it looks them up through its module-level gettext `_`).
_ARGPARSE_NL = {
    "usage: ": "gebruik: ",
    "options": "opties",
    "positional arguments": "argumenten",
    "show this help message and exit": "toon deze hulp en stop",
    "the following arguments are required: %s": "deze argumenten ontbreken: %s",
    "unrecognized arguments: %s": "onbekende argumenten: %s",
    "expected one argument": "verwacht één waarde",
    "invalid choice: %(value)r (choose from %(choices)s)": (
        "ongeldige keuze: %(value)r (kies uit %(choices)s)"
    ),
    "%(prog)s: error: %(message)s\n": "%(prog)s: fout: %(message)s\n",
    "ambiguous option: %(option)s could match %(matches)s": (
        "dubbelzinnige optie: %(option)s kan %(matches)s zijn"
    ),
}
argparse._ = lambda text: _ARGPARSE_NL.get(text, text)  # type: ignore[attr-defined]


# Visit fields as the user typed them on the command line.
_OPTIONS = {"name": "--patient", "leaflet": "FOLDER", "birth_date": "--birth-date"}


def _say(message: str) -> None:
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
    return project, load_registry(project)


def _renderer(project: Project, registry: Registry) -> Renderer:
    """A warm renderer. WeasyPrint is imported only here, so `list` and `check` start fast."""
    from ..pdf.render import Renderer, tune_gc

    tune_gc()
    return Renderer(project, registry)


# --- list -------------------------------------------------------------------------------


def cmd_list(args: argparse.Namespace) -> int:
    project, registry = _loaded(args)
    leaflets = []
    for slug, langs in catalogue(project).items():
        meta = load_leaflet(
            project, slug, DEFAULT_LANGUAGE if DEFAULT_LANGUAGE in langs else langs[0]
        ).meta
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
    if args.json:
        print(
            json.dumps(
                {"leaflets": leaflets, "sites": sites, "surgeons": surgeons},
                ensure_ascii=False,
                indent=2,
            )
        )
        return EXIT_OK
    print("Folders:")
    for item in leaflets:
        print(
            f"  {item['slug']:<14} {item['title']} ({item['code']} versie {item['version']}, "
            f"talen: {', '.join(item['languages'])})"
        )
        for key, label in item["variants"].items():
            print(f"    --variant {key:<14} {label}")
        print(f"    campussen: {', '.join(item['sites'])}")
    print("Campussen:")
    for key, site in sites.items():
        print(f"  {key:<14} {site['name']}{'  (dagziekenhuis)' if site['day_hospital'] else ''}")
    print("Chirurgen:")
    for key, surgeon in surgeons.items():
        print(f"  {key:<14} {surgeon['name']} ({', '.join(surgeon['sites'])})")
    return EXIT_OK


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
) -> Path:
    from ..common.files import inside, write_atomic
    from ..printing.booklet import impose
    from ..visit.naming import leaflet_file_name

    suffix = "-groot" * edition.large_print + "-boekje" * edition.booklet
    target = inside(out_dir, output or leaflet_file_name(p.visit, p.leaflet.lang, suffix))
    if target.suffix.lower() != ".pdf":
        raise InputError(
            f"'{output}' eindigt niet op .pdf",
            field="output",
            hint="geef een bestandsnaam zoals folder.pdf",
        )
    pdf = renderer.render(p, edition.layout, edition.archive).pdf
    write_atomic(target, impose(pdf) if edition.booklet else pdf)
    return target


def _edition(args: argparse.Namespace) -> Edition:
    if args.large_print and args.format not in (None, "a4"):
        raise InputError(
            f"grote letters bestaan niet als {args.format}",
            field="format",
            hint="grote letters worden altijd op A4 gedrukt: laat --format weg",
        )
    fmt = "a4" if args.large_print else args.format or DEFAULT_FORMAT
    return Edition(fmt, args.large_print, args.archive)


def cmd_leaflet(args: argparse.Namespace) -> int:
    project, registry = _loaded(args)
    leaflet, notes = load_translation(project, args.leaflet, args.lang)
    visit = make_visit(
        name=args.patient,
        reference=args.reference,
        birth_date=parse_date(args.birth_date, "birth_date") if args.birth_date else None,
        language=leaflet.lang,
        leaflet=args.leaflet,
        variant=args.variant,
        surgeon=args.surgeon,
        site=args.site,
        date=parse_date(args.date),
        time=parse_time(args.time),
    )
    p = personalise(visit, leaflet, registry)
    for warning in notes + warnings(p, date.today()):
        _say(f"waarschuwing: {warning}")
    started = clock.perf_counter()
    path = _render_to_file(
        _renderer(project, registry), p, _edition(args), Path(args.out_dir), args.output
    )
    print(_shown(path))
    logging.getLogger(__name__).info("klaar in %.2f s", clock.perf_counter() - started)
    return EXIT_OK


# Example visits for `demo`: one per variant, spread over sites, surgeons and times.
DEMO_VISITS = (
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


def demo_date(today: date) -> date:
    """A Tuesday at least 14 days ahead, so no deadline in the demo has passed."""
    day = today + timedelta(days=14)
    return day + timedelta(days=(1 - day.weekday()) % 7)


def cmd_demo(args: argparse.Namespace) -> int:
    project, registry = _loaded(args)
    leaflet = load_leaflet(project, "avn-hip", DEFAULT_LANGUAGE)
    renderer = _renderer(project, registry)
    edition = _edition(args)
    on = demo_date(date.today())
    started = clock.perf_counter()
    for example in DEMO_VISITS:
        visit = make_visit(
            **{**example, "time": parse_time(example["time"])},
            leaflet="avn-hip",
            date=on,
            language=DEFAULT_LANGUAGE,
        )
        p = personalise(visit, leaflet, registry)
        path = _render_to_file(renderer, p, edition, Path(args.out_dir) / "demo", None)
        print(_shown(path))
    _say(
        f"{len(DEMO_VISITS)} folders gemaakt in {clock.perf_counter() - started:.1f} s "
        f"(ingreep op {on:%d/%m/%Y}); open ze met een PDF-lezer."
    )
    return EXIT_OK


# --- batch -------------------------------------------------------------------------------


def cmd_batch(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from ..day.batch import run_batch
    from ..visit.daylist import read_day_list
    from ..visit.plan import plan

    started = clock.perf_counter()
    edition = _edition(args)
    project, registry = _loaded(args)
    day = read_day_list(Path(args.file), project, args.sheet, shown=args.file)
    planned = plan(day, project, registry, date.today())
    for refusal in planned.refusals:
        _say(f"fout: {args.file}, {refusal}")
    for entry in planned.entries:
        for warning in entry.warnings:
            _say(f"waarschuwing: {args.file}, rij {entry.row} ({entry.who}): {warning}")
    refused = len({r.row for r in planned.refusals})
    if not args.quiet:
        _say(
            f"{len(day.rows)} rijen gelezen ({day.source}): {len(planned.entries)} in orde, "
            f"{refused} geweigerd."
        )
    outcome = None
    if planned.entries:
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
            try:
                outcome = run_batch(
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
            except KeyboardInterrupt:
                _say(
                    "onderbroken: wat klaar was, blijft bewaard. Start dezelfde opdracht "
                    "opnieuw om verder te gaan."
                )
                return 130
        for row, problem in outcome.failed:
            _say(f"fout: {args.file}, rij {row}: {problem}")
        for path in outcome.print_files + outcome.manifests:
            print(_shown(path))
        if outcome.strays and not args.quiet:
            _say(
                f"let op: {len(outcome.strays)} PDF('s) in {_shown(outcome.strays[0].parent)} "
                "horen niet bij deze lijst (geannuleerd of uit een andere lijst?), bv. "
                f"{outcome.strays[0].name}"
            )
    made = outcome.made + outcome.unchanged if outcome else 0
    failed = len(outcome.failed) if outcome else 0
    reused = (
        f" ({outcome.unchanged} ongewijzigd van een vorige run)"
        if outcome and outcome.unchanged
        else ""
    )
    _say(
        f"{len(day.rows)} rijen gelezen, {made} folders gemaakt{reused}, {refused} rijen "
        f"geweigerd{f', {failed} mislukt' if failed else ''}; "
        f"{clock.perf_counter() - started:.1f} s"
    )
    return EXIT_PROBLEMS if refused or failed else EXIT_OK


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
    where = f"{args.batch}, rij"
    for label, items in (
        ("geen e-mail", report.unaddressed),
        ("geweigerd door de server", report.refused),
        ("mislukt", report.failed),
        ("onzeker, niet opnieuw verstuurd (controleer; --resend verstuurt toch)", report.uncertain),
        ("niet geprobeerd", report.not_tried),
    ):
        for row, reference, detail in items:
            _say(f"fout: {where} {row} ({reference}): {label}: {detail}")
    if report.stopped:
        _say(f"gestopt: {report.stopped}. Niets gaat verloren: start dezelfde opdracht opnieuw.")
    if not args.send:
        if report.written:
            print(_shown(report.written[0].parent))
        _say(
            f"proefdraai: {len(report.written)} bericht(en) klaar als .eml, "
            f"{len(report.already)} al eerder verstuurd, {len(report.unaddressed)} zonder "
            f"e-mail; niets verstuurd (verstuur met --send); "
            f"{clock.perf_counter() - started:.1f} s"
        )
    else:
        _say(
            f"{len(report.sent)} verstuurd, {len(report.already)} al eerder verstuurd, "
            f"{len(report.refused) + len(report.failed) + len(report.not_tried)} niet verstuurd, "
            f"{len(report.unaddressed)} zonder e-mail; {clock.perf_counter() - started:.1f} s"
        )
    if report.server_trouble:
        return EXIT_MAIL
    return EXIT_OK if report.complete else EXIT_PROBLEMS


# --- parser -------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="generate.py",
        description="Gepersonaliseerde, drukklare patiëntenfolders (PDF).",
        epilog="Exitcodes: 0 gelukt, 1 problemen gevonden, 2 ongeldige invoer, "
        "3 inhoud of configuratie ongeldig, 4 kan PDF niet schrijven, 5 mailserver weigert of "
        "is onveilig, 70 interne fout.",
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"leafletpress {__version__}",
        help="toon het versienummer en stop",
    )
    parser.add_argument(
        "--project",
        metavar="MAP",
        help="map met leaflets/, config/, templates/ en styles/ (standaard: deze installatie)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="meer uitleg tijdens het werk")
    commands = parser.add_subparsers(
        title="opdrachten", dest="command", required=True, metavar="OPDRACHT"
    )

    p_list = commands.add_parser(
        "list",
        help="toon folders, varianten, campussen en chirurgen",
        description="Toon folders, varianten, campussen en chirurgen.",
    )
    p_list.add_argument("--json", action="store_true", help="uitvoer als JSON, voor scripts")
    p_list.set_defaults(func=cmd_list)

    p_check = commands.add_parser(
        "check",
        help="controleer alle inhoud en configuratie",
        description="Controleer folders, configuratie en sjablonen. Stopt met code 1 bij fouten.",
    )
    p_check.add_argument("--strict", action="store_true", help="ook waarschuwingen doen falen")
    p_check.set_defaults(func=cmd_check)

    def add_sheet(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--sheet", metavar="NAAM", help="werkblad in de Excel-lijst (standaard het eerste)"
        )

    def add_output(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--format",
            choices=FORMATS,
            help=f"papierformaat (standaard {DEFAULT_FORMAT}); booklet: A5-boekje op A4, "
            "dubbelzijdig afdrukken (omslaan langs de korte zijde) en in het midden vouwen",
        )
        sub.add_argument(
            "--large-print",
            action="store_true",
            help="grote letters voor slechtzienden: A4, alle tekst minstens 16 pt",
        )
        sub.add_argument(
            "--archive",
            action="store_true",
            help="PDF/A-1a voor het patiëntendossier (standaard: toegankelijke PDF/UA-1)",
        )
        sub.add_argument(
            "--out-dir",
            default=str(DEFAULT_OUT),
            metavar="MAP",
            help="uitvoermap (standaard output/)",
        )

    p_leaflet = commands.add_parser(
        "leaflet",
        help="maak de folder voor één patiënt",
        description="Maak de gepersonaliseerde folder voor één patiënt en toon het pad.",
        epilog="Voorbeeld: generate.py leaflet avn-hip --variant heupprothese --site cadix "
        "--surgeon claes --date 03/12/2026 --time 8u30 --patient 'Marie Peeters' "
        "--reference PAT-0042",
    )
    p_leaflet.add_argument(
        "leaflet", metavar="FOLDER", help="welke folder, bv. avn-hip (zie 'list')"
    )
    p_leaflet.add_argument("--variant", required=True, help="variant van de ingreep")
    p_leaflet.add_argument("--site", required=True, help="campus (zie 'list')")
    p_leaflet.add_argument("--surgeon", required=True, help="chirurg (zie 'list')")
    p_leaflet.add_argument(
        "--date", required=True, help="dag van de ingreep: 2026-12-03 of 03/12/2026"
    )
    p_leaflet.add_argument("--time", required=True, help="uur van de ingreep: 08:30 of 8u30")
    p_leaflet.add_argument("--patient", required=True, metavar="NAAM", help="naam van de patiënt")
    p_leaflet.add_argument(
        "--reference", metavar="REF", help="patiëntreferentie (komt in de bestandsnaam)"
    )
    p_leaflet.add_argument("--birth-date", metavar="DATUM", help="geboortedatum (optioneel)")
    p_leaflet.add_argument(
        "--lang",
        metavar="TAAL",
        default=DEFAULT_LANGUAGE,
        help=f"taal van de patiënt: {', '.join(LOCALES)}, of een taalnaam zoals Frans "
        "(standaard nl; ontbreekt de vertaling, dan Nederlands met een waarschuwing)",
    )
    p_leaflet.add_argument(
        "--output",
        metavar="BESTAND",
        help="bestandsnaam binnen de uitvoermap (standaard "
        "<datum>/<referentie>_<uur>_<folder>-<variant>.pdf)",
    )
    add_output(p_leaflet)
    p_leaflet.set_defaults(func=cmd_leaflet)

    p_batch = commands.add_parser(
        "batch",
        help="maak alle folders van een dag uit een lijst (CSV of Excel)",
        description="Lees de afsprakenlijst van een dag (CSV of XLSX) en maak per patiënt een "
        "folder, per campus een afdrukbestand (recto verso) en een manifest. Rijen met fouten "
        "worden gemeld en overgeslagen; de andere worden gemaakt. Opnieuw starten na een "
        "onderbreking gaat verder waar het stopte.",
        epilog="Voorbeeld: generate.py batch examples/dag-2026-12-15.csv --separators",
    )
    p_batch.add_argument("file", metavar="BESTAND", help="de lijst: .csv of .xlsx")
    add_sheet(p_batch)
    p_batch.add_argument(
        "--separators",
        action="store_true",
        help="scheidingsblad met de naam van de patiënt vóór elke folder in de afdrukbestanden",
    )
    p_batch.add_argument(
        "--force",
        action="store_true",
        help="alles opnieuw maken, ook wat al klaar en ongewijzigd is",
    )
    p_batch.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="enkel problemen en de samenvatting (voor geplande taken)",
    )
    p_batch.add_argument(
        "--jobs", type=int, metavar="N", help="aantal processen (standaard: alle processorkernen)"
    )
    add_output(p_batch)
    p_batch.set_defaults(func=cmd_batch)

    p_email = commands.add_parser(
        "email",
        help="mail de folders van een batch naar de patiënten",
        description="Mail elke folder van een batch naar de patiënt. Standaard een proefdraai: "
        "de volledige berichten komen als .eml in <batch>/outbox/; --send verstuurt ze echt. "
        "Een bericht dat de server aanvaardde, gaat nooit een tweede keer.",
        epilog="Voorbeeld: generate.py email output/2026-12-15 --list dag.csv --send",
    )
    p_email.add_argument("batch", metavar="BATCH", help="de map van de batch, of zijn manifest")
    p_email.add_argument(
        "--list",
        required=True,
        metavar="BESTAND",
        help="de lijst waarmee de batch gemaakt is (e-mailadressen, geboortedatums)",
    )
    add_sheet(p_email)
    p_email.add_argument("--send", action="store_true", help="echt versturen")
    p_email.add_argument(
        "--resend",
        action="store_true",
        help="ook berichten die al verstuurd zijn (of onderbroken werden) opnieuw versturen",
    )
    p_email.set_defaults(func=cmd_email)

    p_demo = commands.add_parser(
        "demo",
        help="maak voorbeeldfolders van elke variant",
        description="Maak de AVN-folder in elke variant voor voorbeeldpatiënten, in output/demo/.",
    )
    add_output(p_demo)
    p_demo.set_defaults(func=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    gc.set_threshold(50_000, 50, 100)  # start-up allocates a lot too; see render.tune_gc
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        format="%(levelname)s: %(message)s", level=logging.INFO if args.verbose else logging.WARNING
    )
    # WeasyPrint's own warnings are about our templates, not the user's input.
    logging.getLogger("weasyprint").setLevel(logging.INFO if args.verbose else logging.ERROR)
    command: Callable[[argparse.Namespace], int] = args.func
    try:
        return command(args)
    except LeafletpressError as exc:
        if isinstance(exc, InputError) and exc.field and not exc.file:
            exc.field = _OPTIONS.get(exc.field, "--" + exc.field.replace("_", "-"))
        _say(f"fout: {exc}")
        return exc.exit_code
    except KeyboardInterrupt:
        _say("onderbroken")
        return 130
    except Exception:
        traceback.print_exc()
        _say(
            "interne fout: dit is een programmafout, geen fout in je invoer. "
            "Meld ze met de tekst hierboven."
        )
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
