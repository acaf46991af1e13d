"""The questions of the public form, in French, grouped into short steps (WTForms / Flask-WTF).

The questions, their labels, help texts, choices and steps come from `rules/situation.yaml`; numbers quoted in
the help texts (thresholds, shares, durations) are the values of `rules/parameters/` in force on the date of
creation, never written here. A question can be answered «Je ne sais pas» (stored as null, which the engine
treats as unknown) unless the field says otherwise (`je_ne_sais_pas: false`: the date of creation, the one
fact the engine needs to choose the version of the law).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any, Mapping

from flask_wtf import FlaskForm
from wtforms import BooleanField, Field, HiddenField, RadioField, StringField
from wtforms.widgets import DateInput

from ...communes import Commune, load_reference, resolve
from ...engine.fr import nombre_fr
from ...engine.law import current_rules
from ...engine.schema import Champ, Etape
from ...engine.situation import KEYS, SCHEMA
from ...commune_search import commune_label, suggest_communes

try:  # WTForms >= 3.3 deprecates (value, label) tuples in favour of SelectChoice
    from wtforms.fields.choices import SelectChoice

    def choices(pairs: Any) -> list[Any]:
        return [SelectChoice(value, label) for value, label in pairs]
except ImportError:  # pragma: no cover - older WTForms
    def choices(pairs: Any) -> list[Any]:
        return list(pairs)

NSP = "nsp"
NSP_LABEL = "Je ne sais pas"

BOOL_LABELS = {True: "Oui", False: "Non"}
_KINDS = {"date": "date", "commune": "commune", "choix": "choice", "booleen": "bool", "entier": "integer"}


# --- questions: generated from rules/situation.yaml -------------------------------------------------------

@dataclass(frozen=True)
class Question:
    """One field of rules/situation.yaml as the form asks it."""

    champ: Champ

    @property
    def key(self) -> str:
        return self.champ.id

    @property
    def kind(self) -> str:  # date | commune | choice | bool | number | integer | percent
        if self.champ.type == "nombre":
            return "percent" if self.champ.unite == "pourcentage" else "number"
        return _KINDS[self.champ.type]

    @property
    def label(self) -> str:
        return self.champ.intitule()

    @property
    def choices(self) -> Mapping[str, str]:
        return self.champ.choix

    @property
    def unit(self) -> str | None:
        return self.champ.symbole

    @property
    def je_ne_sais_pas(self) -> bool:
        return self.champ.je_ne_sais_pas

    def help_text(self, on: dt.date | None) -> str | None:
        return self.champ.aide(on or dt.date.today(), current_rules())


QUESTIONS: dict[str, Question] = {champ.id: Question(champ) for champ in SCHEMA}
Group = Etape
GROUPS: tuple[Group, ...] = SCHEMA.etapes
GROUPS_BY_ID = {g.id: g for g in GROUPS}
# Not asked by the form (no `etape` in rules/situation.yaml): the shorthand for the two implantation questions
# (for the API, CLI and batch) and the date of the check (today, passed by the door).
NOT_ASKED = frozenset(key for key in KEYS if SCHEMA[key].etape is None)
assert sorted(k for g in GROUPS for k in g.keys) == sorted(set(KEYS) - NOT_ASKED), "a field's etape is a step"


# A question asked only once the one it depends on is answered (`apres` in rules/situation.yaml).
DEPENDS_ON = {champ.id: champ.apres for champ in SCHEMA if champ.apres}


def group_of(key: str) -> Group | None:
    return next((g for g in GROUPS if key in g.keys), None)


# --- the WTForms form of one step --------------------------------------------------------------------------

class StepForm(FlaskForm):
    """Base of every step: the answers so far travel in `etat` (JSON), the step in `groupe`."""

    etat = HiddenField()
    groupe = HiddenField()


def _fields_for(question: Question, on: dt.date | None) -> dict[str, Field]:
    help_text = question.help_text(on)
    kw: dict[str, Any] = {"description": help_text or ""}
    key = question.key
    if question.kind == "date":
        return {key: StringField(question.label, widget=DateInput(), **kw)}
    if question.kind == "commune":
        return {
            "commune": StringField(question.label, **kw),
            "commune_insee": HiddenField(),
            "commune_choix": RadioField("Précisez la commune", choices=[], validate_choice=False),
            "commune_nsp": BooleanField("Je ne sais pas encore"),
        }
    if question.kind in ("choice", "bool"):
        options = question.choices if question.kind == "choice" else {"oui": "Oui", "non": "Non"}
        pairs = [*options.items(), *([(NSP, NSP_LABEL)] if question.je_ne_sais_pas else [])]
        return {key: RadioField(question.label, choices=choices(pairs), validate_choice=False, **kw)}
    return {key: StringField(question.label, **kw), f"{key}_nsp": BooleanField(NSP_LABEL)}


def build_form(keys: list[str], on: dt.date | None, formdata: Any = None, **data: Any) -> StepForm:
    """A form class holding the questions `keys` (plus `etat` and `groupe`), instantiated."""
    attributes: dict[str, Field] = {}
    for key in keys:
        attributes.update(_fields_for(QUESTIONS[key], on))
    form_class = type("EtapeForm", (StepForm,), attributes)
    return form_class(formdata=formdata, **data)


def prefill(keys: list[str], etat: Mapping[str, Any]) -> dict[str, Any]:
    """Form data showing the answers of `etat` for `keys` (when a step is shown again to change it)."""
    data: dict[str, Any] = {}
    for key in keys:
        if key not in etat:
            continue
        value, kind = etat[key], QUESTIONS[key].kind
        if kind == "commune":
            if value is None:
                data["commune_nsp"] = True
            else:
                commune = load_reference().get(value)
                data["commune"] = commune_label(commune) if commune else value
                data["commune_insee"] = value
        elif kind in ("choice", "bool"):
            data[key] = NSP if value is None else ({True: "oui", False: "non"}.get(value, value)
                                                    if kind == "bool" else value)
        elif value is None:
            data[f"{key}_nsp"] = True
        else:
            data[key] = value if kind == "date" else nombre_fr(value).replace("\u202f", " ")
    return data


# --- reading the answers -----------------------------------------------------------------------------------

_DATE_FR = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\s*$")


def _parse_date(text: str) -> str | None:
    """ISO (what a date input sends) or JJ/MM/AAAA (typed where the browser has no date picker) -> ISO text.

    Returns None for text that looks like neither; the calendar check is the engine's."""
    text = (text or "").strip()
    match = _DATE_FR.match(text)
    if match:
        day, month, year = match.groups()
        return f"{year}-{int(month):02d}-{int(day):02d}"
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return text
    return None


def _parse_number(text: str, integer: bool) -> float | int | None:
    cleaned = (text or "").strip().replace("\u202f", "").replace("\xa0", "").replace(" ", "").replace(",", ".")
    cleaned = cleaned.removesuffix("€").removesuffix("%")
    if not re.fullmatch(r"-?\d+(\.\d+)?", cleaned):
        return None
    value = float(cleaned)
    if value.is_integer():
        return int(value)
    return value


@dataclass
class CommuneResolution:
    insee: str | None = None
    candidates: list[Commune] = field(default_factory=list)
    error: str | None = None


def code_ambiguity(code: str) -> CommuneResolution | None:
    """A five-digit code that is the INSEE code of one commune and the postal code of others (BUD.md § 5.5:
    59500, 62300…): the user chooses. The communes of the basin come first, then by population."""
    from ...engine.zone import classify

    reference = load_reference()
    own = reference.get(code)
    others = reference.postal_code_homonyms(code)
    if own is None or own.insee != code or not others:
        return None
    rules = current_rules()
    ranked = sorted(others, key=lambda c: classify(c, None, rules).bud is None)
    names = ", ".join(c.nom for c in ranked[:3]) + (" et d'autres communes" if len(ranked) > 3 else "")
    return CommuneResolution(
        candidates=[*ranked[:9], own],
        error=f"{code} est le code postal de {names}, et aussi le code INSEE de {own.nom} ({own.departement}) : "
              "choisissez la commune où l'entreprise est implantée.")


def resolve_commune(text: str, chosen: str | None, hidden: str | None) -> CommuneResolution:
    """The commune meant by the form: a choice among listed candidates, the suggestion picked (hidden INSEE
    code set by the script), or the text typed (name, postal code or INSEE code)."""
    reference = load_reference()
    if chosen and reference.get(chosen):
        return CommuneResolution(insee=reference.get(chosen).insee)
    text = (text or "").strip()
    if hidden:
        commune = reference.get(hidden)
        if commune is not None and (not text or text == commune_label(commune)):
            return CommuneResolution(insee=commune.insee)
    if not text:
        return CommuneResolution(error="Indiquez la commune (nom ou code postal), ou cochez « Je ne sais pas encore ».")
    compact = "".join(text.split())
    if compact.isdigit() and len(compact) == 5:
        # BUD.md § 5.5: a code that is one commune's INSEE code and others' postal code is never read silently.
        ambiguous = code_ambiguity(compact)
        if ambiguous is not None:
            return ambiguous
    found = resolve(text, reference)
    if found.commune is not None:
        return CommuneResolution(insee=found.commune.insee)
    if not found.candidates:
        # Nothing spelt so: the names that resemble it, offered as a choice, never taken for the user.
        close = [s.commune for s in suggest_communes(text, 10) if s.approchee]
        if close:
            return CommuneResolution(candidates=close,
                                     error=f"Aucune commune ne s'écrit «\u00a0{text[:60]}\u00a0»\u00a0: "
                                           "choisissez la vôtre parmi les noms proches, ou corrigez la saisie.")
        return CommuneResolution(error=f"Aucune commune ne correspond à « {text[:60]} » : vérifiez l'orthographe ou "
                                       "tapez le code postal.")
    return CommuneResolution(candidates=list(found.candidates),
                             error=f"Plusieurs communes correspondent à « {text[:60]} » : choisissez la vôtre.")


def read_answers(form: StepForm, keys: list[str]) -> tuple[dict[str, Any], dict[str, str], list[Commune]]:
    """The answers of the step, as situation values (None = «je ne sais pas»), and the errors by field name.

    Also returns the candidate communes when the commune typed is ambiguous."""
    answers: dict[str, Any] = {}
    errors: dict[str, str] = {}
    candidates: list[Commune] = []
    for key in keys:
        question = QUESTIONS[key]
        kind = question.kind
        if kind == "commune":
            if form.commune_nsp.data:
                answers[key] = None
                continue
            resolution = resolve_commune(form.commune.data, form.commune_choix.data, form.commune_insee.data)
            if resolution.insee:
                answers[key] = resolution.insee
            else:
                errors["commune"] = resolution.error or "Commune introuvable."
                candidates = resolution.candidates
        elif kind == "date":
            raw = (form[key].data or "").strip()
            if not raw:
                if not question.je_ne_sais_pas:
                    errors[key] = f"Indiquez la {question.champ.libelle()}, par exemple 14/05/2019."
                else:
                    answers[key] = None  # an optional date: empty means «je ne sais pas»
                continue
            iso = _parse_date(raw)
            if iso is None:
                errors[key] = (f"« {raw[:30]} » n'est pas une date : "
                               "indiquez-la au format JJ/MM/AAAA, par exemple 14/05/2019.")
            else:
                answers[key] = iso
        elif kind in ("choice", "bool"):
            value = form[key].data
            allowed = set(question.choices) if kind == "choice" else {"oui", "non"}
            if value == NSP and question.je_ne_sais_pas:
                answers[key] = None
            elif value in allowed:
                answers[key] = value if kind == "choice" else value == "oui"
            else:
                errors[key] = "Choisissez une réponse (ou « Je ne sais pas »)."
        else:
            if form[f"{key}_nsp"].data:
                answers[key] = None
                continue
            raw = (form[key].data or "").strip()
            if not raw:
                errors[key] = "Indiquez un nombre, ou cochez « Je ne sais pas »."
                continue
            value = _parse_number(raw, kind == "integer")
            if value is None:
                errors[key] = f"« {raw[:30]} » n'est pas un nombre : indiquez un nombre comme 12 ou 180000."
            else:
                answers[key] = value
    return answers, errors, candidates


def answer_text(key: str, value: Any) -> str:
    """An answer as shown back to the user."""
    if value is None:
        return NSP_LABEL
    question = QUESTIONS.get(key)
    if question is None:
        return str(value)
    kind = question.kind
    if kind == "commune":
        commune = load_reference().get(str(value))
        return commune_label(commune) if commune else str(value)
    if kind == "date":
        from ...engine.fr import date_fr
        try:
            return date_fr(dt.date.fromisoformat(str(value)))
        except ValueError:
            return str(value)
    if kind == "bool":
        return BOOL_LABELS.get(value, str(value)) if isinstance(value, bool) else str(value)
    if kind == "choice":
        label = question.choices.get(value, str(value))
        return label.split(" (")[0].split(" :")[0]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        text = nombre_fr(value)
        if question.unit == "%":
            return f"{text}\u00a0%"
        if question.unit == "€":
            return f"{text}\u00a0€"
        return text
    return str(value)
