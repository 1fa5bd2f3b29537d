"""The command line's grammar: one function per sub-command, each adding its own options.

Help texts are Dutch, like every message; argparse's own words are translated below.
"""

from __future__ import annotations

import argparse
from typing import TypeAlias

from .. import __version__
from ..common.project import DEFAULT_FORMAT, FORMATS
from ..content.leaflet import BEFORE, DEFAULT_LANGUAGE, LOCALES
from . import commands
from .commands import PROG

DEFAULT_OUT = "output"

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

Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Gepersonaliseerde, drukklare patiëntenfolders (PDF).",
        epilog="Exitcodes: 0 gelukt, 1 problemen gevonden, 2 ongeldige invoer, "
        "3 inhoud of configuratie ongeldig, 4 kan PDF niet schrijven, 5 mailserver weigert of "
        "is onveilig, 6 een andere run werkt al in dezelfde map, 70 interne fout, 130 onderbroken.",
    )
    parser.set_defaults(example_said=False)  # the demo's own runs: said once already
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
    subcommands = parser.add_subparsers(
        title="opdrachten", dest="command", required=True, metavar="OPDRACHT"
    )
    for add in (_add_list, _add_check, _add_leaflet, _add_batch, _add_email, _add_demo, _add_init):
        add(subcommands)
    return parser


def _add_list(subcommands: Commands) -> None:
    sub = subcommands.add_parser(
        "list",
        help="toon folders, varianten, campussen en chirurgen",
        description="Toon folders, varianten, campussen en chirurgen.",
    )
    sub.add_argument("--json", action="store_true", help="uitvoer als JSON, voor scripts")
    sub.set_defaults(func=commands.cmd_list)


def _add_check(subcommands: Commands) -> None:
    sub = subcommands.add_parser(
        "check",
        help="controleer alle inhoud en configuratie",
        description="Controleer folders, configuratie en sjablonen. Stopt met code 1 bij fouten.",
    )
    sub.add_argument("--strict", action="store_true", help="ook waarschuwingen doen falen")
    sub.set_defaults(func=commands.cmd_check)


def _add_leaflet(subcommands: Commands) -> None:
    sub = subcommands.add_parser(
        "leaflet",
        help="maak de folder voor één patiënt",
        description="Maak de gepersonaliseerde folder voor één patiënt en toon het pad: voor "
        "de ingreep (afspraak, nuchter, bloedverdunners) of bij ontslag (herstel, controle, "
        "wie bellen bij klachten).",
        epilog="Voorbeelden: generate.py leaflet avn-hip --variant heupprothese --site cadix "
        "--surgeon claes --date 03/12/2026 --time 8u30 --patient 'Marie Peeters' "
        "--reference PAT-0042 | generate.py leaflet avn-hip --moment ontslag --variant "
        "heupprothese --site cadix --surgeon claes --date 03/12/2026 --discharge-date "
        "05/12/2026 --followup-date 14/01/2027 --followup-time 10u30 --followup-site "
        "hoge-beuken --patient 'Marie Peeters' --reference PAT-0042",
    )
    sub.add_argument("leaflet", metavar="FOLDER", help="welke folder, bv. avn-hip (zie 'list')")
    sub.add_argument("--variant", required=True, help="variant van de ingreep")
    sub.add_argument("--site", required=True, help="campus (zie 'list')")
    sub.add_argument("--surgeon", required=True, help="chirurg (zie 'list')")
    sub.add_argument(
        "--moment",
        default=BEFORE,
        help="voor: de folder vóór de ingreep (standaard); ontslag: de folder bij ontslag",
    )
    sub.add_argument("--date", required=True, help="dag van de ingreep: 2026-12-03 of 03/12/2026")
    sub.add_argument("--time", help="uur van de ingreep: 08:30 of 8u30 (niet bij ontslag)")
    sub.add_argument("--discharge-date", metavar="DATUM", help="bij ontslag: dag van ontslag")
    sub.add_argument(
        "--followup-date",
        metavar="DATUM",
        help="bij ontslag: dag van de controle (weg te laten als ze nog niet gepland is)",
    )
    sub.add_argument("--followup-time", metavar="UUR", help="bij ontslag: uur van de controle")
    sub.add_argument(
        "--followup-site",
        metavar="CAMPUS",
        help="bij ontslag: campus van de controle (een campus met die raadpleging; zie 'list')",
    )
    sub.add_argument("--patient", required=True, metavar="NAAM", help="naam van de patiënt")
    sub.add_argument(
        "--reference", metavar="REF", help="patiëntreferentie (komt in de bestandsnaam)"
    )
    sub.add_argument("--birth-date", metavar="DATUM", help="geboortedatum (optioneel)")
    sub.add_argument(
        "--lang",
        metavar="TAAL",
        default=DEFAULT_LANGUAGE,
        help=f"taal van de patiënt: {', '.join(LOCALES)}, of een taalnaam zoals Frans "
        "(standaard nl; ontbreekt de vertaling, dan Nederlands met een waarschuwing)",
    )
    sub.add_argument(
        "--output",
        metavar="BESTAND",
        help="bestandsnaam binnen de uitvoermap (standaard "
        "<datum>/<referentie>_<uur>_<folder>-<variant>.pdf)",
    )
    _add_edition(sub)
    sub.set_defaults(func=commands.cmd_leaflet)


def _add_batch(subcommands: Commands) -> None:
    sub = subcommands.add_parser(
        "batch",
        help="maak alle folders van een dag uit een lijst (CSV of Excel)",
        description="Lees de afsprakenlijst van een dag (CSV of XLSX) en maak per patiënt een "
        "folder, per campus een afdrukbestand (recto verso) en een manifest. Rijen met fouten "
        "worden gemeld en overgeslagen; de andere worden gemaakt. Opnieuw starten na een "
        "onderbreking gaat verder waar het stopte.",
        epilog="Voorbeeld: generate.py batch examples/dag-2026-12-15.csv --separators",
    )
    sub.add_argument("file", metavar="BESTAND", help="de lijst: .csv of .xlsx")
    _add_sheet(sub)
    sub.add_argument(
        "--separators",
        action="store_true",
        help="scheidingsblad met de naam van de patiënt vóór elke folder in de afdrukbestanden",
    )
    sub.add_argument(
        "--force",
        action="store_true",
        help="alles opnieuw maken, ook wat al klaar en ongewijzigd is",
    )
    sub.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="enkel problemen en de samenvatting (voor geplande taken)",
    )
    sub.add_argument(
        "--jobs", type=int, metavar="N", help="aantal processen (standaard: alle processorkernen)"
    )
    _add_edition(sub)
    sub.set_defaults(func=commands.cmd_batch)


def _add_email(subcommands: Commands) -> None:
    sub = subcommands.add_parser(
        "email",
        help="mail de folders van een batch naar de patiënten",
        description="Mail elke folder van een batch naar de patiënt. Standaard een proefdraai: "
        "de volledige berichten komen als .eml in <batch>/outbox/; --send verstuurt ze echt. "
        "Een bericht dat de server aanvaardde, gaat nooit een tweede keer.",
        epilog="Voorbeeld: generate.py email output/2026-12-15 --list dag.csv --send",
    )
    sub.add_argument("batch", metavar="BATCH", help="de map van de batch, of zijn manifest")
    sub.add_argument(
        "--list",
        required=True,
        metavar="BESTAND",
        help="de lijst waarmee de batch gemaakt is (e-mailadressen, geboortedatums)",
    )
    _add_sheet(sub)
    sub.add_argument("--send", action="store_true", help="echt versturen")
    sub.add_argument(
        "--resend",
        action="store_true",
        help="ook berichten die al verstuurd zijn (of onderbroken werden) opnieuw versturen",
    )
    sub.set_defaults(func=commands.cmd_email)


def _add_demo(subcommands: Commands) -> None:
    sub = subcommands.add_parser(
        "demo",
        help="maak voorbeeldfolders van elke variant",
        description="Maak de AVN-folder in elke variant voor voorbeeldpatiënten, in output/demo/; "
        "daarna de voorbeeldlijsten (examples/), verschoven naar de dag van de demo, als "
        "dagbatch met hun e-mails als proefdraai (output/demo/dag/).",
    )
    _add_edition(sub)
    sub.add_argument(
        "--no-lists", action="store_true", help="alleen de voorbeeldfolders, geen voorbeeldlijsten"
    )
    sub.set_defaults(func=commands.cmd_demo)


def _add_init(subcommands: Commands) -> None:
    sub = subcommands.add_parser(
        "init",
        help="begin een inhoudsmap voor het ziekenhuis, met de voorbeeldinhoud",
        description="Kopieer de voorbeeldinhoud (leaflets/ en config/ van het voorbeeldziekenhuis) "
        "naar een nieuwe map: de inhoudsmap van het ziekenhuis (LEAFLETPRESS_PROJECT, --project). "
        "Pas daarna config/ aan en controleer met 'check'.",
    )
    sub.add_argument(
        "folder", metavar="MAP", help="de nieuwe inhoudsmap (leeg of nog niet aanwezig)"
    )
    sub.set_defaults(func=commands.cmd_init)


def _add_sheet(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "--sheet", metavar="NAAM", help="werkblad in de Excel-lijst (standaard het eerste)"
    )


def _add_edition(sub: argparse.ArgumentParser) -> None:
    """Paper format, large print, archive standard, and where the files go."""
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
        help="PDF/A-1b voor het patiëntendossier (standaard: toegankelijke PDF/UA-1)",
    )
    sub.add_argument(
        "--out-dir", default=DEFAULT_OUT, metavar="MAP", help="uitvoermap (standaard output/)"
    )
