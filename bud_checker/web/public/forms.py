"""The questions of the public form, in French, grouped into short steps (WTForms / Flask-WTF).

Labels come from the engine's `LIBELLES`; numbers quoted in the help texts (thresholds, shares, durations)
are read from `rules/` for the date of creation, never written here. Every question can be answered
«Je ne sais pas» (stored as null, which the engine treats as unknown), except the date of creation, the
one fact the engine needs to choose the version of the law.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from flask_wtf import FlaskForm
from wtforms import BooleanField, Field, HiddenField, RadioField, StringField
from wtforms.widgets import DateInput

from ...communes import Commune, load_reference, resolve
from ...engine.fr import euros, nombre_fr, pct
from ...engine.law import Rules, current_rules
from ...engine.situation import ACTIVITES, IMPOTS_SUR, LIBELLES, ORIGINES
from ..services import commune_label, suggest_communes

try:  # WTForms >= 3.3 deprecates (value, label) tuples in favour of SelectChoice
    from wtforms.fields.choices import SelectChoice

    def choices(pairs: Any) -> list[Any]:
        return [SelectChoice(value, label) for value, label in pairs]
except ImportError:  # pragma: no cover - older WTForms
    def choices(pairs: Any) -> list[Any]:
        return list(pairs)

NSP = "nsp"
NSP_LABEL = "Je ne sais pas"

ACTIVITE_LABELS = {
    "industrielle": "Industrielle (fabrication, transformation)",
    "commerciale": "Commerciale (achat-revente, hôtellerie, restauration, location de biens meubles…)",
    "artisanale": "Artisanale",
    "liberale": "Libérale (conseil, santé, professions intellectuelles : bénéfices non commerciaux)",
    "agricole": "Agricole",
    "civile": "Civile (par exemple la gestion d'un patrimoine immobilier)",
}
ORIGINE_LABELS = {
    "creation_pure": "Création pure : rien n'est repris d'une entreprise existante",
    "reprise": "Reprise d'une entreprise ou d'une activité existante",
    "transfert": "Transfert d'une activité existante (déménagement dans le bassin)",
    "concentration": "Concentration : regroupement d'activités existantes",
    "restructuration": "Restructuration d'activités existantes",
    "extension": "Extension d'une activité existante (nouvel établissement d'une entreprise existante)",
}
IMPOT_SUR_LABELS = {
    "is": "Impôt sur les sociétés (IS)",
    "ir": "Impôt sur le revenu (IR) : entreprise individuelle, ou société ayant opté pour l'IR",
}
assert set(ACTIVITE_LABELS) == set(ACTIVITES) and set(ORIGINE_LABELS) == set(ORIGINES)
assert set(IMPOT_SUR_LABELS) == set(IMPOTS_SUR)
BOOL_LABELS = {True: "Oui", False: "Non"}


def _label(key: str) -> str:
    text = LIBELLES[key]
    return text[:1].upper() + text[1:]


def _param(rules: Rules, parameter: str, on: dt.date) -> Any:
    return rules.value(parameter, on).valeur


# --- help texts: short explanations of legal notions, with the figures of the rules in force --------------

def _help_activite(rules: Rules, on: dt.date) -> str:
    return ("Le régime vise les activités industrielles, commerciales ou artisanales. Une activité est artisanale "
            "quand elle consiste à fabriquer, transformer, réparer ou rendre un service avec un savoir-faire manuel "
            "(boulangerie, coiffure, bâtiment, réparation…), le plus souvent avec une immatriculation au registre "
            "des métiers.")


def _help_origine(rules: Rules, on: dt.date) -> str:
    return ("Il y a reprise dès que vous reprenez, même en partie, les moyens d'exploitation (local, matériel, "
            "salariés) ou la clientèle d'une entreprise existante. S'installer dans le bassin sans rien reprendre "
            "est une création pure, même si vous avez exercé ailleurs auparavant.")


def _help_effectif(rules: Rules, on: dt.date) -> str:
    return (f"Le régime est réservé aux PME : moins de {nombre_fr(_param(rules, 'effectif_maximum_exclu', on))} "
            "personnes, en comptant les entreprises liées ou partenaires. Pour une création, donnez une estimation "
            "de bonne foi.")


def _help_chiffre_affaires(rules: Rules, on: dt.date) -> str:
    return (f"Annuel, hors taxes ; prévisionnel pour une création. Une PME réalise au plus "
            f"{euros(_param(rules, 'chiffre_affaires_maximum', on))}, ou a un total de bilan d'au plus "
            f"{euros(_param(rules, 'total_bilan_maximum', on))}.")


def _help_total_bilan(rules: Rules, on: dt.date) -> str:
    return (f"Utile seulement si le chiffre d'affaires dépasse {euros(_param(rules, 'chiffre_affaires_maximum', on))} "
            "ou n'est pas connu ; prévisionnel pour une création.")


def _help_capital(rules: Rules, on: dt.date) -> str:
    return (f"Le capital ne doit pas être détenu pour plus de "
            f"{pct(_param(rules, 'capital_detenu_par_societes_maximum_pct', on))} par d'autres sociétés, directement "
            "ou indirectement. Indiquez 0 si seules des personnes physiques sont associées.")


def _help_siege(rules: Rules, on: dt.date) -> str:
    return ("Le siège social doit se trouver dans une commune classée en bassin urbain à dynamiser, même pour une "
            "activité non sédentaire.")


def _help_activite_moyens(rules: Rules, on: dt.date) -> str:
    return ("Toute l'activité et les moyens d'exploitation (local, matériel) doivent être dans le bassin. Si vous "
            "travaillez en partie ailleurs (marchés, chantiers, tournées), répondez « Non » : la question sur "
            "l'activité non sédentaire décide alors.")


def _help_non_sedentaire(rules: Rules, on: dt.date) -> str:
    seuil = pct(_param(rules, 'seuil_ca_hors_zone_non_sedentaire_pct', on))
    return ("Une activité est non sédentaire quand elle s'exerce surtout hors d'un local fixe : marchés, commerce "
            "ambulant, chantiers, services à domicile. Elle peut bénéficier du régime si le siège est dans le bassin "
            f"et si au plus {seuil} du chiffre d'affaires est réalisé hors du bassin.")


def _help_ca_hors_zone(rules: Rules, on: dt.date) -> str:
    seuil = pct(_param(rules, 'seuil_ca_hors_zone_non_sedentaire_pct', on))
    return (f"Sur un exercice (prévisionnel pour une création). Jusqu'à {seuil}, tout le bénéfice suit le régime ; "
            "au-delà, la règle est à confirmer auprès de votre service des impôts des entreprises.")


def _help_clause(rules: Rules, on: dt.date) -> str:
    part = pct(_param(rules, "part_minimale_residents_bud_pct", on))
    mois = _param(rules, "duree_minimale_cdd_mois", on)
    return (f"Clause d'emploi ou d'embauche : à la clôture de chaque exercice, au moins {part} de vos salariés en CDI "
            f"ou en CDD d'au moins {mois} mois doivent habiter une commune classée en bassin urbain à dynamiser, ou au "
            f"moins {part} de ceux que vous avez embauchés depuis la création. Comptez les salariés à la date de "
            "clôture.")


def _help_embauches(rules: Rules, on: dt.date) -> str:
    return ("Si la clause d'emploi n'est pas respectée ou pas connue, la clause d'embauche peut suffire : elle ne "
            "compte que les salariés embauchés depuis la création (CDI ou CDD d'au moins "
            f"{_param(rules, 'duree_minimale_cdd_mois', on)} mois).")


def _help_date_creation(rules: Rules, on: dt.date | None) -> str:
    return ("La date de début d'activité (ou la date prévue), qui est la date de création au sens du régime ; "
            "elle figure sur l'extrait d'immatriculation.")


def _help_commune(rules: Rules, on: dt.date | None) -> str:
    return "Tapez le nom de la commune ou son code postal, puis choisissez-la dans la liste."


def _help_deliberation(rules: Rules, on: dt.date) -> str:
    return ("La moitié de la base est exonérée de plein droit ; l'autre moitié seulement si la collectivité qui "
            "perçoit la CFE l'a décidé. Dans une communauté d'agglomération (c'est le cas de presque tout le bassin "
            "minier), c'est l'intercommunalité seule qui perçoit la CFE et qui délibère, pas la commune : "
            "posez-lui la question.")


def _help_deliberation_tfpb(rules: Rules, on: dt.date) -> str:
    return ("Pour la taxe foncière, la commune et l'intercommunalité délibèrent chacune pour leur part. La mairie "
            "peut vous le dire.")


def _help_etablissement(rules: Rules, on: dt.date) -> str:
    return "Laissez « Je ne sais pas » si l'établissement a été créé le jour du début d'activité."


def _help_proprietaire(rules: Rules, on: dt.date) -> str:
    return ("La taxe foncière est due par le propriétaire des locaux : si vous êtes locataire, c'est votre bailleur "
            "qui peut bénéficier de l'exonération.")


def _help_benefice(rules: Rules, on: dt.date) -> str:
    return ("Le bénéfice imposable d'une année, prévisionnel pour une création : il sert seulement à estimer "
            "l'économie d'impôt. Avec 0 ou une perte (nombre négatif), il n'y a pas d'impôt sur les bénéfices à exonérer.")


def _help_impot_sur(rules: Rules, on: dt.date) -> str:
    return ("Une SARL, une SAS ou une SA est en principe à l'impôt sur les sociétés ; une entreprise individuelle "
            "(micro-entreprise comprise) est à l'impôt sur le revenu, sauf option.")


def _help_taux_marginal(rules: Rules, on: dt.date) -> str:
    return ("Seulement à l'impôt sur le revenu : le taux de la tranche la plus haute du barème atteinte par votre "
            "foyer, indiqué sur votre avis d'impôt sur le revenu.")


def _help_cfe_annuelle(rules: Rules, on: dt.date) -> str:
    return ("Ce que vous paieriez chaque année sans l'exonération : le montant d'un avis de CFE, ou une estimation "
            "demandée à votre service des impôts des entreprises.")


def _help_taxe_fonciere(rules: Rules, on: dt.date) -> str:
    return ("Seulement si l'entreprise est propriétaire de ses locaux : la taxe foncière annuelle des locaux "
            "professionnels, sans l'exonération.")


# --- questions ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Question:
    key: str
    kind: str  # date | commune | choice | bool | number | integer | percent
    label: str
    help: Callable[[Rules, Any], str] | None = None
    choices: Mapping[str, str] = field(default_factory=dict)
    unit: str | None = None

    def help_text(self, on: dt.date | None) -> str | None:
        if self.help is None:
            return None
        return self.help(current_rules(), on or dt.date.today())


QUESTIONS: dict[str, Question] = {q.key: q for q in (
    Question("date_creation", "date", "Date de création (début d'activité)", _help_date_creation),
    Question("commune_insee", "commune", "Commune d'implantation de l'entreprise", _help_commune),
    Question("activite", "choice", _label("activite"), _help_activite, ACTIVITE_LABELS),
    Question("origine", "choice", _label("origine"), _help_origine, ORIGINE_LABELS),
    Question("siege_et_moyens_dans_zone", "bool",
             "Le siège social, l'activité et les moyens d'exploitation sont-ils tous dans le bassin ?"),
    Question("non_sedentaire", "bool", "L'activité est-elle non sédentaire (marchés, tournées, chantiers…) ?",
             _help_non_sedentaire),
    Question("siege_dans_zone", "bool", "Le siège social est-il dans une commune du bassin ?", _help_siege),
    Question("activite_et_moyens_dans_zone", "bool",
             "Toute l'activité et les moyens d'exploitation sont-ils dans le bassin ?", _help_activite_moyens),
    Question("effectif", "number", _label("effectif"), _help_effectif, unit="personnes"),
    Question("chiffre_affaires", "number", _label("chiffre_affaires"), _help_chiffre_affaires, unit="€"),
    Question("total_bilan", "number", _label("total_bilan"), _help_total_bilan, unit="€"),
    Question("capital_detenu_par_societes_pct", "percent", _label("capital_detenu_par_societes_pct"), _help_capital,
             unit="%"),
    Question("salaries_eligibles", "number", _label("salaries_eligibles"), _help_clause, unit="salariés"),
    Question("salaries_eligibles_residents_bud", "number", _label("salaries_eligibles_residents_bud"), unit="salariés"),
    Question("embauches_eligibles", "number", _label("embauches_eligibles"), _help_embauches, unit="salariés"),
    Question("embauches_eligibles_residents_bud", "number", _label("embauches_eligibles_residents_bud"),
             unit="salariés"),
    Question("ca_hors_zone_pct", "percent", _label("ca_hors_zone_pct"), _help_ca_hors_zone, unit="%"),
    Question("date_creation_etablissement", "date", _label("date_creation_etablissement"), _help_etablissement),
    Question("deliberation_exoneration_cfe", "bool",
             "Votre intercommunalité, qui perçoit la CFE, a-t-elle délibéré pour exonérer l'autre moitié de la CFE ?",
             _help_deliberation),
    Question("deliberation_exoneration_tfpb", "bool",
             "La commune a-t-elle délibéré pour exonérer l'autre moitié de la taxe foncière ?", _help_deliberation_tfpb),
    Question("proprietaire_immeuble", "bool", "L'entreprise est-elle propriétaire de ses locaux ?", _help_proprietaire),
    Question("date_verification", "date", _label("date_verification")),
    Question("benefice_annuel_estime", "number", "Bénéfice imposable annuel estimé", _help_benefice, unit="€"),
    Question("impot_sur", "choice", "Votre entreprise est-elle à l'impôt sur les sociétés ou à l'impôt sur le revenu ?",
             _help_impot_sur, IMPOT_SUR_LABELS),
    Question("taux_marginal_ir_pct", "percent", "Taux marginal d'imposition de votre foyer (impôt sur le revenu)",
             _help_taux_marginal, unit="%"),
    Question("cfe_annuelle_estimee", "number", "CFE annuelle sans exonération (estimation)", _help_cfe_annuelle, unit="€"),
    Question("taxe_fonciere_annuelle_estimee", "number", "Taxe foncière annuelle sans exonération (estimation)",
             _help_taxe_fonciere, unit="€"),
)}
assert set(QUESTIONS) == set(LIBELLES)
# Not asked by the form: the shorthand for the two implantation questions (for the API, CLI and batch) and the
# date of the check (today, passed by the door).
NOT_ASKED = frozenset({"siege_et_moyens_dans_zone", "date_verification"})


@dataclass(frozen=True)
class Group:
    id: str
    titre: str
    keys: tuple[str, ...]
    echeancier: bool = False  # only refines the schedules; never changes the verdict


GROUPS: tuple[Group, ...] = (
    Group("entreprise", "Votre entreprise", ("date_creation", "commune_insee")),
    Group("activite", "Votre activité", ("activite", "origine")),
    # The mobile-activity question comes first: a non-sedentary activity partly outside the zone may qualify.
    Group("implantation", "Où vous exercez", ("non_sedentaire", "siege_dans_zone", "activite_et_moyens_dans_zone",
                                              "ca_hors_zone_pct")),
    Group("taille", "Taille et capital", ("effectif", "chiffre_affaires", "capital_detenu_par_societes_pct")),
    Group("bilan", "Total du bilan", ("total_bilan",)),
    Group("salaries", "Vos salariés", ("salaries_eligibles", "salaries_eligibles_residents_bud")),
    Group("embauches", "Vos embauches", ("embauches_eligibles", "embauches_eligibles_residents_bud")),
    Group("echeancier", "Pour préciser l'échéancier", (
        "date_creation_etablissement", "deliberation_exoneration_cfe", "deliberation_exoneration_tfpb",
        "proprietaire_immeuble"), echeancier=True),
    # The last, optional step: figures for the savings estimate only.
    Group("economies", "Estimer vos économies", (
        "benefice_annuel_estime", "impot_sur", "taux_marginal_ir_pct", "cfe_annuelle_estimee",
        "taxe_fonciere_annuelle_estimee"), echeancier=True),
)
GROUPS_BY_ID = {g.id: g for g in GROUPS}
assert sorted(k for g in GROUPS for k in g.keys) == sorted(set(LIBELLES) - NOT_ASKED)
# A question asked only once the one it depends on is answered (on the next step): no resident hires to count
# when there was no hire.
DEPENDS_ON = {"embauches_eligibles_residents_bud": "embauches_eligibles"}


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
        return {key: RadioField(question.label, choices=choices([*options.items(), (NSP, NSP_LABEL)]), validate_choice=False,
                                **kw)}
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
            return CommuneResolution(candidates=close, error=f"Aucune commune ne s'écrit «\u00a0{text[:60]}\u00a0»\u00a0: "
                                                             "choisissez la vôtre parmi les noms proches, ou corrigez "
                                                             "la saisie.")
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
                if key == "date_creation":
                    errors[key] = "Indiquez la date de début d'activité, par exemple 14/05/2019."
                else:
                    answers[key] = None  # an optional date: empty means «je ne sais pas»
                continue
            iso = _parse_date(raw)
            if iso is None:
                errors[key] = f"« {raw[:30]} » n'est pas une date : indiquez-la au format JJ/MM/AAAA, par exemple 14/05/2019."
            else:
                answers[key] = iso
        elif kind in ("choice", "bool"):
            value = form[key].data
            allowed = set(question.choices) if kind == "choice" else {"oui", "non"}
            if value == NSP:
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
