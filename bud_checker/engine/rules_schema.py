"""Typed models of the files of `rules/` (pydantic v2), checked every time the rules are loaded.

Each file is validated against its model: an unknown key is refused (a misspelt key never loads silently),
each value is typed by its unit (a date, a percentage, an amount in euros, a number of months, a list of
codes…; a number written as a quoted string is refused), and every reference to another entry (a source of
references.yaml, a parameter, a condition, a commune list) must resolve. An error is one French line naming the
file and the key: `RulesError("parameters/taille_et_capital.yaml : effectif_maximum_exclu.valeurs.0.valeur : …")`.

Extending a file: add the key to its model below (with its type), then use it in `law.py`. A key that only
documents (read by no code) still needs its line here, so that a typo in it is caught.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr, ValidationError

Confiance = Literal["V", "S", "U"]
Fondement = Literal["texte", "doctrine", "sources_concordantes", "incertain"]
Id = Annotated[StrictStr, Field(pattern=r"^[a-z0-9_]+$")]
Number = StrictInt | StrictFloat
Percentage = Annotated[Number, Field(ge=0, le=100)]
NonNegative = Annotated[Number, Field(ge=0)]
Count = Annotated[StrictInt, Field(ge=0)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class _Lax(BaseModel):
    """Dates: YAML gives `datetime.date` objects; a quoted ISO date is also accepted."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# --- references.yaml ----------------------------------------------------------------------------------------

class SourceModel(Strict):
    texte: StrictStr
    url: Annotated[StrictStr, Field(pattern=r"^https://")]
    confiance: Confiance
    url_version: Annotated[StrictStr, Field(pattern=r"^https://.*\{date\}")] | None = None
    complementaire: StrictBool = False  # an editor, a translation, an aid portal: not an official source
    verification: StrictStr | None = None  # what was re-read, where and when (documentation)


class CitationModel(Strict):
    ref: Id
    precision: StrictStr | None = None
    version: dt.date | StrictStr | None = None


# --- parameters/*.yaml: dated values typed by their unit ---------------------------------------------------

class Echeance(Strict):
    """A deadline: a day of a month, in the reference year + `annee`, possibly the n-th working day after."""

    annee: Annotated[StrictInt, Field(ge=-5, le=5)] = 0
    mois: Annotated[StrictInt, Field(ge=1, le=12)]
    jour: Annotated[StrictInt, Field(ge=1, le=31)]
    jours_ouvres_apres: Annotated[StrictInt, Field(ge=1, le=31)] | None = None


class Tranche(Strict):
    """A bracket of a scale (bareme): the rate up to `jusqu_a` (absent for the last bracket)."""

    jusqu_a: NonNegative | None = None
    taux: Percentage


class BorneEuros(Strict):
    """An amount used as a bound, with whether the bound itself is admitted."""

    montant: NonNegative
    inclus: StrictBool


# The type of a value for each unit of rules/parameters/ (add a unit here with its type).
UNIT_TYPES: dict[str, Any] = {
    "date": dt.date,
    "pourcentage": Percentage,
    "liste_pourcentages": list[Percentage],
    "euros": NonNegative,
    "mois": Count,
    "ans": Count,
    "personnes": Count,
    "booleen": StrictBool,
    "echeance": Echeance,
    "liste_codes": list[Id],
    "texte": StrictStr,
    "liste": Annotated[list[StrictStr], Field(min_length=1)],  # a list of texts (e.g. beginnings of EPCI names)
    "liste_jours": list[Annotated[StrictStr, Field(pattern=r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")]],
    "liste_jours_apres_paques": list[Annotated[StrictInt, Field(ge=-60, le=70)]],
    "bareme": Annotated[list[Tranche], Field(min_length=1)],
    "euros_borne": BorneEuros,
}


class ValueModel(_Lax):
    depuis: dt.date
    valeur: Any
    confiance: Confiance
    references: Annotated[list[CitationModel], Field(min_length=1)]


class ParameterModel(_Lax):
    libelle: StrictStr
    unite: Literal[tuple(UNIT_TYPES)]  # type: ignore[valid-type]  # built from UNIT_TYPES: pydantic reads it, mypy cannot
    description: StrictStr | None = None
    par_annee_d_imposition: StrictBool = False
    valeurs: Annotated[list[ValueModel], Field(min_length=1)]


# --- conditions.yaml, versions.yaml, communes/listes.yaml ---------------------------------------------------

class ConditionModel(_Lax):
    libelle: StrictStr
    resume: StrictStr
    confiance: Confiance
    fondement: Fondement
    notes: list[StrictStr] = []
    parametres: list[Id] = []
    references: Annotated[list[CitationModel], Field(min_length=1)]


class VersionModel(_Lax):
    en_vigueur: dt.date
    texte_modificateur: Id | None = None
    modification: StrictStr
    confiance: Confiance


class VersionsModel(_Lax):
    article: Id
    versions: Annotated[list[VersionModel], Field(min_length=1)]


class CommuneListModel(_Lax):
    libelle: StrictStr
    acte: StrictStr
    categorie: Literal["originale", "limitrophe"]
    classee_depuis: dt.date
    references: Annotated[list[CitationModel], Field(min_length=1)]


class ConfidenceModel(Strict):
    libelle: StrictStr
    fondement: Fondement | None = None
    a_confirmer: StrictBool


class ListesModel(_Lax):
    listes: dict[Id, CommuneListModel]
    confiances: dict[Id, ConfidenceModel]
    sources_fichiers: dict[StrictStr, StrictStr] = {}


class LimiteModel(Strict):
    """rules/limites.yaml: a general limit of the tool, stated once per verdict."""

    texte: StrictStr
    conditions: list[Id] = []
    exoneration: StrictBool = False


# --- situation.yaml -----------------------------------------------------------------------------------------

class EtapeModel(Strict):
    titre: StrictStr
    echeancier: StrictBool = False


class ChampModel(Strict):
    etape: Id | None = None  # none: not asked by the form (the API, CLI and batch still accept it)
    description: StrictStr | None = None  # added to the API's description of the field
    apres: Id | None = None  # asked once this other field is answered
    type: Literal["date", "commune", "choix", "booleen", "nombre", "entier"]
    unite: Literal["euros", "pourcentage", "personnes", "salaries"] | None = None
    min: Number = 0
    max: Number = 1e15
    obligatoire: StrictBool = False
    je_ne_sais_pas: StrictBool = True
    libelle: StrictStr
    intitule: StrictStr | None = None
    question: Annotated[StrictStr, Field(pattern=r"\?$")]
    aide: StrictStr | None = None
    choix: dict[Id, StrictStr] = {}
    alias: list[StrictStr] = []
    alias_choix: dict[StrictStr, Id] = {}
    conditions: list[Id] = []
    echeanciers: list[Id] = []
    questions: dict[Id, StrictStr] = {}
    si: dict[Id, StrictBool | StrictStr | Number] = {}
    au_plus: Id | None = None


class SituationModel(Strict):
    etapes: dict[Id, EtapeModel]
    champs: dict[Id, ChampModel]


# --- validation ---------------------------------------------------------------------------------------------

def _location(error: dict[str, Any]) -> str:
    return ".".join(str(part) for part in error["loc"])


_MESSAGES = {
    "extra_forbidden": "clé inconnue",
    "missing": "clé obligatoire absente",
    "literal_error": "valeur non admise",
    "date_from_datetime_parsing": "date invalide (attendu AAAA-MM-JJ)",
    "date_parsing": "date invalide (attendu AAAA-MM-JJ)",
    "date_type": "attendu une date AAAA-MM-JJ",
    "int_type": "attendu un nombre entier (sans guillemets)",
    "float_type": "attendu un nombre (sans guillemets)",
    "string_type": "attendu un texte",
    "bool_type": "attendu true ou false",
    "list_type": "attendu une liste",
    "dict_type": "attendu un objet (clé : valeur)",
    "model_type": "attendu un objet (clé : valeur)",
    "greater_than_equal": "valeur trop petite",
    "less_than_equal": "valeur trop grande",
    "string_pattern_mismatch": "forme non admise",
    "too_short": "liste vide",
}


def french(error: ValidationError, fichier: str, prefix: str = "") -> str:
    """The first error of a validation, as one French line naming the file and the key."""
    errors = error.errors(include_url=False)
    # A misspelt key is both unknown and missing: report the unknown one, naming the key expected there.
    first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    where = ".".join(p for p in (prefix, _location(first)) if p)
    message = _MESSAGES.get(first["type"], first["msg"])
    if first["type"] == "extra_forbidden":
        missing = [e["loc"][-1] for e in errors if e["type"] == "missing" and e["loc"][:-1] == first["loc"][:-1]]
        if missing:
            message += f" ; clé attendue : {', '.join(map(str, missing))}"
    if first["type"] not in ("missing", "extra_forbidden") and "input" in first:
        shown = repr(first["input"])
        message += f" ({shown[:60]})"
    if first["type"] == "literal_error":
        expected = first.get("ctx", {}).get("expected")
        if expected:
            message += f" ; valeurs admises : {expected}"
    return f"{fichier} : {where} : {message}" if where else f"{fichier} : {message}"


_ADAPTERS: dict[Any, Any] = {}


def _adapter(kind: Any) -> Any:
    from pydantic import TypeAdapter

    adapter = _ADAPTERS.get(kind)
    if adapter is None:
        adapter = _ADAPTERS[kind] = TypeAdapter(kind)
    return adapter


def check(kind: Any, raw: Any, fichier: str, prefix: str = "") -> Any:
    """Validate `raw` (a file, or a part of one at `prefix`) against `kind`; RulesError on the first error."""
    from .law import RulesError

    try:
        return _adapter(kind).validate_python(raw)
    except ValidationError as error:
        raise RulesError(french(error, fichier, prefix)) from None


def check_value(unite: str, valeur: Any, fichier: str, where: str) -> None:
    """A parameter's value has the type of its unit (strict: a number written as a quoted string is refused)."""
    from .law import RulesError

    try:
        _adapter(UNIT_TYPES[unite]).validate_python(valeur, strict=True)
    except ValidationError as error:
        raise RulesError(french(error, fichier, where).replace(f"{where}.", f"{where} : ", 1)
                         .rstrip() + f" ; attendu une valeur de l'unité « {unite} »") from None


SOURCES = dict[Id, SourceModel]
PARAMETERS = dict[Id, ParameterModel]
CONDITIONS = dict[Id, ConditionModel]
LIMITES = dict[Id, LimiteModel]
