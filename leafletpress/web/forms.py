"""The web forms. They only carry text: the engine parses and checks it (the CLI's rules and
messages), so a field's error reads exactly as the command line would say it."""

from __future__ import annotations

from typing import Any

from django import forms

from ..content.leaflet import LOCALES

EDITIONS = [
    ("a5", "A5 (standaard)"),
    ("a4", "A4"),
    ("booklet", "A5-boekje op A4"),
    ("large", "Grote letters (A4)"),
    ("archive", "Archief (PDF/A)"),
]
LANGUAGES = [("nl", "Nederlands"), ("fr", "Frans"), ("en", "Engels")]
assert {code for code, _ in LANGUAGES} == set(LOCALES)
MOMENTS = [("voor", "Voor de ingreep"), ("ontslag", "Bij ontslag")]


def _text(label: str, help_text: str = "", required: bool = False, **attrs: str) -> Any:
    return forms.CharField(
        label=label,
        help_text=help_text,
        required=required,
        max_length=200,
        strip=True,
        widget=forms.TextInput(attrs=attrs),
    )


def _select(label: str, choices: list[tuple[str, str]], **attrs: str) -> Any:
    return forms.CharField(
        label=label, required=False, widget=forms.Select(choices=choices, attrs=attrs)
    )


class PatientForm(forms.Form):
    """One patient's leaflet. The selects are filled from the content (see views.choices)."""

    moment = _select("Moment", MOMENTS)
    leaflet = _select("Folder", [])
    variant = _select("Ingreep", [])
    site = _select("Campus", [])
    surgeon = _select("Chirurg", [])
    date = _text("Dag van de ingreep", "bv. 15/12/2026", autocomplete="off")
    time = _text("Uur van de ingreep", "bv. 8u30 of 08:30", autocomplete="off")
    discharge_date = _text("Dag van ontslag", "bv. 17/12/2026", autocomplete="off")
    followup_date = _text("Dag van de controle", "leeg als ze nog niet gepland is")
    followup_time = _text("Uur van de controle", "bv. 10u30")
    followup_site = _select("Campus van de controle", [])
    name = _text("Naam van de patiënt", "zoals hij op de folder moet staan", autocomplete="off")
    reference = _text("Patiëntnummer", "komt in de bestandsnaam, niet de naam", autocomplete="off")
    birth_date = _text("Geboortedatum", "niet verplicht", autocomplete="off")
    lang = _select("Taal van de patiënt", LANGUAGES)
    edition = _select("Uitvoering", EDITIONS)


class UploadForm(forms.Form):
    lijst = forms.FileField(
        label="Afsprakenlijst van de dag",
        help_text="CSV of Excel (.xlsx), zoals het ziekenhuis ze exporteert",
    )


class MakeForm(forms.Form):
    edition = _select("Uitvoering", EDITIONS[:3])
    separators = forms.BooleanField(
        label="Scheidingsblad met de naam vóór elke folder in de afdrukbestanden",
        required=False,
        initial=True,
    )


DAY_FORMATS = ["%d/%m/%Y", "%d-%m-%Y", "%Y-%m-%d"]
NOT_LISTED = "kies een actie uit de lijst"
NOT_A_DAY = {"invalid": "geen bestaande dag: schrijf ze als 31/12/2026"}


class AuditFilter(forms.Form):
    """The audit page's filters. Sent by POST: a reference typed in here stays out of URLs."""

    van = forms.DateField(label="Van", help_text="bv. 01/12/2026", required=False,
                          input_formats=DAY_FORMATS, error_messages=NOT_A_DAY)  # fmt: skip
    tot = forms.DateField(label="Tot en met", help_text="bv. 31/12/2026", required=False,
                          input_formats=DAY_FORMATS, error_messages=NOT_A_DAY)  # fmt: skip
    account = forms.CharField(label="Account", required=False, max_length=150)
    actie = forms.ChoiceField(label="Actie", required=False, choices=[],
                              error_messages={"invalid_choice": NOT_LISTED})  # fmt: skip
    referentie = forms.CharField(label="Referentie", required=False, max_length=40)

    def __init__(self, *args: Any, actions: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["actie"].choices = [("", "alle acties"), *((a, a) for a in actions)]

    def clean(self) -> dict[str, Any]:
        found = super().clean() or {}
        for name in ("van", "tot"):
            if found.get(name) and not 2000 <= found[name].year <= 2100:
                self.add_error(name, "kies een dag tussen 2000 en 2100")
                found.pop(name, None)
        if found.get("van") and found.get("tot") and found["van"] > found["tot"]:
            self.add_error("tot", "‘tot en met’ ligt vóór ‘van’: draai ze om")
        return found


class NewLeafletForm(forms.Form):
    """A new leaflet: what the program needs to begin it; the text is written in the editor."""

    title = forms.CharField(
        label="Titel",
        max_length=120,
        help_text="Zoals de patiënt ze leest, bv. ‘Een staaroperatie’",
    )
    slug = forms.SlugField(
        label="Korte naam",
        max_length=60,
        allow_unicode=False,
        help_text="Kleine letters, cijfers en streepjes, bv. staar-oog; "
        "zo heet de folder in de lijst van de dag",
    )
    code = forms.CharField(label="Documentcode", max_length=40, help_text="bv. OOG-STAAR-01")
    service = forms.CharField(label="Dienst", max_length=120, help_text="bv. Oogziekten")
    url = forms.URLField(
        label="Webpagina voor meer uitleg",
        max_length=300,
        assume_scheme="https",
        help_text="De QR-code op de folder wijst ernaar",
    )
    sites = forms.MultipleChoiceField(
        label="Campussen waar de ingreep gebeurt", widget=forms.CheckboxSelectMultiple
    )
    variants = forms.CharField(
        label="Varianten van de ingreep",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Eén per regel, bv. ‘Linkeroog’; een folder heeft er minstens één",
    )
    consultation = forms.ChoiceField(
        label="Opvolging na ontslag",
        required=False,
        help_text="Met een raadpleging krijgt de folder ook een versie bij ontslag",
    )

    def __init__(self, *args: Any, registry: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        serving = {k: s for k, s in registry.sites.items() if s.retired is None}
        self.fields["sites"].choices = [(k, s.name) for k, s in serving.items()]
        held = sorted({c for s in serving.values() for c in s.consultations})
        self.fields["consultation"].choices = [("", "Geen versie bij ontslag")] + [
            (c, c) for c in held
        ]

    def clean_variants(self) -> list[tuple[str, str]]:
        from django.utils.text import slugify

        labels = [
            line.strip() for line in self.cleaned_data["variants"].splitlines() if line.strip()
        ]
        found = [
            (slugify(label)[:40] or f"variant-{n}", label) for n, label in enumerate(labels, 1)
        ]
        if not found:
            raise forms.ValidationError("geef minstens één variant")
        if len({key for key, _ in found}) != len(found):
            raise forms.ValidationError("twee varianten hebben bijna dezelfde naam")
        return found
