"""`generate.py check`: validate all content, configuration and templates before printing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, time, timedelta
from pathlib import Path
from typing import Any

from .common.errors import ContentError, LeafletpressError, clipped
from .common.project import Project
from .common.validation import ContentErrors, Translations
from .content import history
from .content.fonts import described, hint, unprintable
from .content.labels import load_labels
from .content.languages import language_name
from .content.leaflet import (
    BEFORE,
    DEFAULT_LANGUAGE,
    DISCHARGE,
    Leaflet,
    catalogue,
    facts_differ,
    lags_behind,
    load_leaflet,
    translates,
)
from .content.markup import discharge_findings, lint
from .content.registry import Registry, load_registry
from .feed.mapping import SHOWN as FEED_SHOWN
from .feed.mapping import load_mapping
from .feed.mapping import problems as feed_problems
from .mail.config import EMAIL_CONFIG, load_email_config
from .pdf.compose import Composer
from .visit.appointment import make_visit
from .visit.personalise import personalise

REVIEW_SOON = timedelta(days=30)


@dataclass(frozen=True)
class Problem:
    error: LeafletpressError
    warning: bool = False

    def __str__(self) -> str:
        return f"{'waarschuwing' if self.warning else 'fout'}: {self.error}"


def _error(message: str, **where: Any) -> Problem:
    return Problem(ContentError(message, **where))


def _warn(message: str, **where: Any) -> Problem:
    return Problem(ContentError(message, **where), warning=True)


def _collect(exc: ContentError) -> list[Problem]:
    return [Problem(e) for e in (exc.problems if isinstance(exc, ContentErrors) else [exc])]


def check_project(project: Project, today: date, only: str | None = None) -> list[Problem]:
    """Every problem found, errors and warnings; an empty list means ready to print. With
    ``only`` (a leaflet's folder name), the configuration and that leaflet alone."""
    problems = _unapproved(project)
    registry: Registry | None = None
    try:
        registry = load_registry(project)
    except ContentError as exc:
        problems += _collect(exc)
    else:
        problems += _example_data(registry)

    if (project.config_dir / EMAIL_CONFIG).is_file():
        try:
            if load_email_config(project).example:
                problems.append(
                    _warn(
                        "bevat voorbeeldgegevens (example: true)",
                        file=f"config/{EMAIL_CONFIG}",
                        hint="vul de echte mailserver en afzender in en verwijder 'example: true'",
                    )
                )
        except ContentError as exc:
            problems += _collect(exc)

    problems += _check_feed(project, registry)
    composer = Composer(project, registry) if registry is not None else None
    leaflets = catalogue(project)
    if not leaflets:
        problems.append(
            _error("geen folders gevonden", file="leaflets/", hint="maak leaflets/<naam>/nl.md")
        )
    for slug, langs in leaflets.items():
        if only is not None and slug != only:
            continue
        if DEFAULT_LANGUAGE not in langs:
            problems.append(
                _error(
                    f"de basisversie {DEFAULT_LANGUAGE}.md ontbreekt",
                    file=f"leaflets/{slug}/",
                    hint="elke folder heeft een Nederlandse versie nodig",
                )
            )
        loaded: dict[str, Leaflet] = {}
        for lang in sorted(langs, key=lambda lang: lang != DEFAULT_LANGUAGE):  # Dutch first
            try:
                leaflet = loaded[lang] = load_leaflet(project, slug, lang)
            except ContentError as exc:
                problems += _collect(exc)
                continue
            found = _check_leaflet(leaflet, registry, today)
            found += _check_printable(leaflet, project.styles_dir / "fonts")
            if lang != DEFAULT_LANGUAGE and DEFAULT_LANGUAGE in loaded:
                found += _check_translation(project, leaflet, loaded[DEFAULT_LANGUAGE], registry)
            if composer is not None and not any(not p.warning for p in found):
                found += _try_compose(composer, leaflet, today)
            problems += found
    return problems


def _check_feed(project: Project, registry: Registry | None) -> list[Problem]:
    """The appointment feed's codes (config/koppeling.yaml), if the hospital has a feed."""
    try:
        mapping = load_mapping(project)
    except ContentError as exc:
        return _collect(exc)
    if mapping is None:
        return []
    found = [Problem(e) for e in feed_problems(mapping, project, registry)] if registry else []
    if mapping.example:
        found.append(_warn("bevat voorbeeldgegevens (example: true)", file=FEED_SHOWN,
                           hint="vul de codes van het eigen ziekenhuissysteem in en verwijder "
                                "'example: true'"))  # fmt: skip
    return found


def _unapproved(project: Project) -> list[Problem]:
    """Files changed in a content folder with a history, but not approved (history.py)."""
    return [
        _error(
            "gewijzigd buiten de goedkeuring om: wordt niet gedrukt",
            file=path,
            hint="laat de wijziging in de browser goedkeuren, of zet ze terug met "
            f"'git checkout -- {path}' in de inhoudsmap",
        )
        for path in history.unapproved(project)
    ]


def _example_data(registry: Registry) -> list[Problem]:
    """What makes every page say VOORBEELD: example configuration, and hospital policy that
    no medical owner has signed off yet."""
    found = [
        _warn(
            "bevat voorbeeldgegevens (example: true)",
            file=name,
            hint="vul de echte gegevens in en verwijder 'example: true'",
        )
        for name in registry.example_files
    ]
    policy = registry.hospital.policy
    for name in policy.unsigned():
        setting = getattr(policy, name)
        now, said = _yaml(setting.value), "heeft goedkeuring nodig"
        if setting.signed_off is not None:
            said = f"is gewijzigd na de goedkeuring van {_yaml(setting.signed_off.value)}"
        found.append(
            _warn(
                f"{said} (nu: {now}): ziekenhuisbeleid dat de folders drukken, niet uit de "
                "goedgekeurde tekst",
                file="config/hospital.yaml",
                field=f"policy.{name}",
                hint="laat de medisch verantwoordelijke de waarde nakijken en zet eronder "
                f'signed_off: {{by: "dr. …", when: JJJJ-MM-DD, value: {now}}}',
            )
        )
    return found


def _yaml(value: object) -> str:
    """A policy value as YAML writes it: 60, true."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def _check_leaflet(leaflet: Leaflet, registry: Registry | None, today: date) -> list[Problem]:
    meta, where = leaflet.meta, leaflet.shown_as
    found = [
        _error(f.message, file=where, row=f.line, hint=f.hint)
        for f in lint(leaflet.body, leaflet.body_first_line, list(meta.variants))
    ]
    found += _check_timing_in_text(leaflet, registry)
    found += _check_moments(leaflet, registry)
    if meta.review_by < today:
        found.append(
            _warn(
                f"herzieningsdatum {meta.review_by:%d/%m/%Y} is voorbij",
                file=where,
                field="review_by",
                hint="laat de inhoud nakijken en pas versie en datums aan",
            )
        )
    elif meta.review_by - today <= REVIEW_SOON:
        found.append(
            _warn(
                f"herzieningsdatum {meta.review_by:%d/%m/%Y} nadert",
                file=where,
                field="review_by",
                hint="plan het nakijken van de inhoud",
            )
        )
    if registry is not None and (meta.discharge or "[[urgent_phone]]" in leaflet.body):
        found += [
            _error(
                f"{registry.sites[site].name} heeft geen nummer voor klachten, dag en nacht",
                file="config/sites.yaml",
                field=f"sites.{site}.urgent_phone",
                hint=f"vul het in: {where} drukt het (bij ontslag, bij de alarmsignalen)",
            )
            for site in meta.sites
            if site in registry.sites and not registry.sites[site].urgent_phone
        ]
    if registry is not None:
        found += [
            _warn(
                f"{registry.sites[site].name} is geen campus meer sinds "
                f"{registry.sites[site].retired:%d/%m/%Y}: niet meer aangeboden",
                file=where,
                field=f"sites.{index}",
                hint="haal de campus uit 'sites' van deze folder",
            )
            for index, site in enumerate(meta.sites)
            if site in registry.sites and (gone := registry.sites[site].retired) and gone <= today
        ]
        found += [
            _error(
                f"onbekende campus '{site}'",
                file=where,
                field=f"sites.{index}",
                hint=f"kies uit: {', '.join(registry.sites)}",
            )
            for index, site in enumerate(meta.sites)
            if site not in registry.sites
        ]
    return found


def _check_translation(
    project: Project, leaflet: Leaflet, dutch: Leaflet, registry: Registry | None
) -> list[Problem]:
    """A translation must say the same things as the Dutch leaflet it translates."""
    ours, theirs, where = leaflet.meta, dutch.meta, leaflet.shown_as
    found = []
    if lags_behind(ours, theirs):
        found.append(
            _warn(
                f"vertaling loopt achter: versie {ours.version}, Nederlands is versie "
                f"{theirs.version}; tot ze bijgewerkt is, krijgen patiënten de Nederlandse",
                file=where,
                field="version",
                hint=f"vertaal de wijzigingen sinds {ours.version} en zet version op "
                f"{theirs.version}",
            )
        )
    elif not translates(ours, theirs):
        found.append(
            _error(
                f"versie {ours.version} vertaalt geen Nederlandse versie (die is {theirs.version})",
                file=where,
                field="version",
                hint=f"{theirs.version}, of {theirs.version}.1, .2 ... voor verbeteringen van "
                "alleen de vertaling",
            )
        )
    facts = []
    for name in facts_differ(ours, theirs):
        message, hint = _differs(name, dutch)
        facts.append(_error(message, file=where, field=name, hint=hint))
    facts += _check_facts_in_text(leaflet, dutch)
    if lags_behind(ours, theirs):  # the Dutch is printed meanwhile: to do, not a stop
        facts = [Problem(p.error, warning=True) for p in facts]
    found += facts
    found += _check_labels(project, leaflet.lang)
    if registry is not None:
        found += _check_configured_texts(leaflet, registry)
    return found


# Medicines a text may name, as each language writes them: a translation names the same ones
# as the Dutch (the French once added "antiagrégant, comme l'aspirine": medical advice the
# approved text does not give).
_MEDICINES = {
    "aspirine": {"nl": r"aspirine|acetylsalicyl", "fr": r"aspirine", "en": r"aspirin"},
    "plaatjesremmers": {"nl": r"plaatjesremmer|antiaggregant", "fr": r"antiagrégant",
                        "en": r"antiplatelet"},
    "antistollingsmiddelen": {"nl": r"antistolling|anticoagul", "fr": r"anticoagulant",
                              "en": r"anticoagulant"},
    "paracetamol": {"nl": r"paracetamol|dafalgan", "fr": r"paracétamol|dafalgan",
                    "en": r"paracetamol|dafalgan"},
    "ontstekingsremmers": {"nl": r"ontstekingsremmer|ibuprofen",
                           "fr": r"anti-inflammatoire|ibuprofène",
                           "en": r"anti-inflammator|ibuprofen"},
}  # fmt: skip
_NUMBER = re.compile(r"(?<![\w\[])\d+(?:[.,:]\d+)?(?![\w\]])")


def _facts(leaflet: Leaflet) -> tuple[set[str], set[str]]:
    """The numbers (times, temperatures, counts) and the medicines a text names."""
    text = leaflet.body.lower()
    numbers = {n.replace(",", ".").replace(":", ".") for n in _NUMBER.findall(text)}
    medicines = {
        name
        for name, words in _MEDICINES.items()
        if leaflet.lang in words and re.search(words[leaflet.lang], text)
    }
    return numbers, medicines


def _check_facts_in_text(leaflet: Leaflet, dutch: Leaflet) -> list[Problem]:
    """A number or a medicine in the translation's text and not in the Dutch one, or the
    other way round: a translation says what the Dutch says, nothing more or less."""
    (numbers, medicines), (dutch_numbers, dutch_medicines) = _facts(leaflet), _facts(dutch)
    found = []
    for kind, ours, theirs in (("getal", numbers, dutch_numbers),
                               ("geneesmiddel", medicines, dutch_medicines)):  # fmt: skip
        for extra in sorted(ours - theirs):
            found.append(_warn(f"{kind} '{extra}' staat in de vertaling, niet in het Nederlands",
                               file=leaflet.shown_as,
                               hint="een vertaling zegt wat het Nederlands zegt; voeg het eerst "
                               "toe aan de Nederlandse tekst, met goedkeuring"))  # fmt: skip
        for missing in sorted(theirs - ours):
            found.append(_warn(f"{kind} '{missing}' staat in het Nederlands, niet in de vertaling",
                               file=leaflet.shown_as, hint="vertaal het mee"))  # fmt: skip
    return found


def _differs(name: str, dutch: Leaflet) -> tuple[str, str]:
    """What to say of a fact a translation does not take over from the Dutch leaflet."""
    if name == "variants":
        keys = ", ".join(dutch.meta.variants)
        return f"andere varianten dan {dutch.shown_as}", f"gebruik dezelfde sleutels: {keys}"
    if name.endswith(".recovery"):
        return f"andere herstelstappen dan {dutch.shown_as}", (
            "vertaal enkel 'text', 'when' en 'done'; de termijnen (days, weeks, months) en "
            "'kind' zijn die van het Nederlands"
        )
    return f"verschilt van {dutch.shown_as}", "een vertaling neemt deze gegevens ongewijzigd over"


# How each language writes the timing rules in running text: "6 uur vóór", "10 jours avant".
_TIMING_IN_TEXT = {
    "nl": {"fasting_hours": r"uur", "blood_thinner_notice_days": r"dagen",
           "arrival_minutes_before": r"minuten", "before": r"v[oó]{2}r"},
    "fr": {"fasting_hours": r"heures?", "blood_thinner_notice_days": r"jours?",
           "arrival_minutes_before": r"minutes?", "before": r"avant"},
    "en": {"fasting_hours": r"hours?", "blood_thinner_notice_days": r"days?",
           "arrival_minutes_before": r"minutes?", "before": r"before"},
}  # fmt: skip


def _check_timing_in_text(leaflet: Leaflet, registry: Registry | None) -> list[Problem]:
    """A number the text gives for a timing rule ("6 uur vóór de ingreep") must be the one in
    the front matter (or, for arrival, the hospital's policy), which computes the times on
    page 1: patients read both."""
    words = _TIMING_IN_TEXT.get(leaflet.lang)
    if words is None:
        return []
    rules = leaflet.meta.timing.model_dump()
    if registry is not None:
        rules["arrival_minutes_before"] = registry.hospital.policy.arrival_minutes_before.value
    found = []
    for field, wanted in rules.items():
        source = "timing"
        if field == "arrival_minutes_before":
            source = "config/hospital.yaml: policy"
        pattern = rf"(\d+)\s+{words[field]}\s+{words['before']}\b"
        for match in re.finditer(pattern, leaflet.body):
            if int(match.group(1)) != wanted:
                line = leaflet.body_first_line + leaflet.body.count("\n", 0, match.start())
                found.append(
                    _error(
                        f"de tekst zegt '{' '.join(match.group(0).split())}', maar "
                        f"{source}.{field} is {wanted}",
                        file=leaflet.shown_as,
                        row=line,
                        hint=f"maak tekst en {source}.{field} gelijk (de tijden op pagina 1 "
                        f"komen uit {source})",
                    )
                )
    return found


def _check_printable(leaflet: Leaflet, fonts: Path) -> list[Problem]:
    """Every character of the text is in a bundled font (content/fonts.py): no empty box,
    and no font of the machine's in the PDF."""
    found = []
    lines = [leaflet.meta.title, leaflet.meta.subtitle or "", *leaflet.body.splitlines()]
    for offset, line in enumerate(lines):
        if missing := unprintable(line, fonts):
            found.append(
                _error(
                    f"deze tekens kan de folder niet drukken: {described(missing)}",
                    file=leaflet.shown_as,
                    row=leaflet.body_first_line + offset - 2 if offset >= 2 else None,
                    field=None if offset >= 2 else ("title", "subtitle")[offset],
                    hint=hint(missing),
                )
            )
    return found


def _check_labels(project: Project, lang: str) -> list[Problem]:
    """Every Dutch label has a translation in templates/i18n/<lang>.yaml."""
    try:
        missing = set(load_labels(project.templates_dir, DEFAULT_LANGUAGE)) - set(
            load_labels(project.templates_dir, lang)
        )
    except ContentError as exc:
        return _collect(exc)
    return [
        _error(
            f"label '{key}' ontbreekt",
            file=f"templates/i18n/{lang}.yaml",
            hint=f"vertaal '{key}' uit templates/i18n/{DEFAULT_LANGUAGE}.yaml",
        )
        for key in sorted(missing)
    ]


def _check_configured_texts(leaflet: Leaflet, registry: Registry) -> list[Problem]:
    """Campus directions and surgeon titles printed on this translation's page 1 are
    translated too (a warning: they print in Dutch until they are)."""
    sites = leaflet.meta.sites
    untranslated = (
        [
            ("config/sites.yaml", f"sites.{key}.report_to")
            for key in sites
            if key in registry.sites and _lacks(registry.sites[key].report_to, leaflet.lang)
        ]
        + [
            (
                "config/sites.yaml",
                f"sites.{key}.consultations.{leaflet.meta.discharge.consultation}",
            )
            for key in _holding(leaflet, registry)
            if leaflet.meta.discharge
            and _lacks(
                registry.sites[key].consultations[leaflet.meta.discharge.consultation], leaflet.lang
            )
        ]
        + [
            ("config/surgeons.yaml", f"surgeons.{key}.title")
            for key, surgeon in registry.surgeons.items()
            if set(surgeon.sites) & set(sites) and _lacks(surgeon.title, leaflet.lang)
        ]
    )
    return [
        _warn(
            f"niet vertaald in het {language_name(leaflet.lang)}: wordt in het Nederlands gedrukt",
            file=file,
            field=field,
            hint=f"schrijf {{nl: ..., {leaflet.lang}: ...}}",
        )
        for file, field in untranslated
    ]


def _holding(leaflet: Leaflet, registry: Registry) -> list[str]:
    """The campuses where this leaflet's follow-up can be (none without a discharge edition)."""
    if leaflet.meta.discharge is None:
        return []
    wanted = leaflet.meta.discharge.consultation
    return [key for key, site in registry.sites.items() if wanted in site.consultations]


def _check_moments(leaflet: Leaflet, registry: Registry | None) -> list[Problem]:
    """What the discharge edition needs: a consultation some campus holds, a warning-signs
    box for the card, no passage about the day of the operation itself, and milestones."""
    meta, where = leaflet.meta, leaflet.shown_as
    if meta.discharge is None:
        if "::: moment" in leaflet.body or ":::: moment" in leaflet.body:
            return [
                _warn(
                    "heeft '::: moment'-blokken, maar geen versie bij ontslag",
                    file=where,
                    field="discharge",
                    hint="voeg 'discharge: {consultation: ...}' toe aan de front matter",
                )
            ]
        return []
    found = []
    if registry is not None and not _holding(leaflet, registry):
        found.append(
            _error(
                f"geen campus houdt raadpleging '{meta.discharge.consultation}'",
                file=where,
                field="discharge.consultation",
                hint="voeg ze toe onder 'consultations:' van een campus in config/sites.yaml",
            )
        )
    for key, variant in meta.variants.items():
        found += [
            _error(f.message, file=where, row=f.line, hint=f.hint)
            for f in discharge_findings(leaflet.body, leaflet.body_first_line, key)
        ]
        found += [
            _error(
                f"variant '{key}': '{clipped(step.text)}' bevat opmaak of een plaatshouder",
                file=where,
                field=f"variants.{key}.recovery",
                hint="schrijf de herstelstappen als gewone tekst: ze worden gedrukt zoals ze er "
                "staan",
            )
            for step in variant.recovery
            if any(
                mark in f"{step.text} {step.when or ''} {step.done or ''}"
                for mark in ("[[", "**", "__", "`")
            )
        ]
        if not variant.recovery:
            found.append(
                _warn(
                    f"variant '{key}': geen herstelstappen voor de ontslagkaart",
                    file=where,
                    hint=f"voeg 'recovery:' toe onder variants.{key}",
                )
            )
    return found


def _lacks(value: Translations | None, lang: str) -> bool:
    """A configured text that has no version in `lang` (a plain text is Dutch)."""
    return value is not None and not getattr(value, lang)


def _try_compose(composer: Composer, leaflet: Leaflet, today: date) -> list[Problem]:
    """Compose the HTML of every variant for a sample visit: catches template mistakes."""
    registry = composer.registry
    pairs = [
        (site, key)
        for site in leaflet.meta.sites
        for key, surgeon in registry.surgeons.items()
        if site in surgeon.sites
    ]
    if not pairs:
        return [
            _error(
                "geen chirurg opereert in de campussen van deze folder",
                file=leaflet.shown_as,
                field="sites",
                hint="voeg de campus toe aan een chirurg in config/surgeons.yaml",
            )
        ]
    site, surgeon = pairs[0]
    found = []
    on = today + timedelta(days=30)
    moments: list[dict[str, object]] = [{"moment": BEFORE, "time": time(8, 0)}]
    for followup in _holding(leaflet, registry)[:1]:  # a discharge with a planned follow-up
        moments.append(
            {
                "moment": DISCHARGE,
                "discharge_date": on + timedelta(days=2),
                "followup_date": on + timedelta(days=40),
                "followup_site": followup,
            }
        )
    for variant, moment in ((v, m) for v in leaflet.meta.variants for m in moments):
        visit = make_visit(
            name="Test",
            leaflet=leaflet.slug,
            variant=variant,
            surgeon=surgeon,
            site=site,
            date=on,
            language=leaflet.lang,
            **moment,
        )
        try:
            p = personalise(visit, leaflet, registry)
            composer.cover(p, total_pages=1)
            composer.leaflet(p)
        except LeafletpressError as exc:
            found.append(Problem(exc))
        except Exception as exc:  # a template bug: report it against the templates
            found.append(
                _error(
                    f"sjabloon faalt voor variant '{variant}' ({visit.moment}): {exc}",
                    file="templates/leaflet.html.j2",
                )
            )
    return found
