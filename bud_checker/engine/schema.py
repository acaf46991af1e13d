"""The description of the situation's fields, read once from `rules/situation.yaml`.

Every door (the engine's parser, the forms, the batch, the OpenAPI document, /regles) reads the fields from
here: their type, unit, bounds, French label, question, help text, choices, whether «je ne sais pas» is
allowed, the form step that asks them and the conditions that read them.
"""

from __future__ import annotations

import datetime as dt
import string
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Iterator, Mapping

from .fr import typographie, valeur_fr
from .law import Rules, RulesError, current_rules, read_yaml, rules_dir
from .rules_schema import SituationModel, check

TYPES = ("date", "commune", "choix", "booleen", "nombre", "entier")
UNITES = ("euros", "pourcentage", "personnes", "salaries")
NOMBRE_MAX = 1e15  # larger amounts are refused as implausible
UNIT_SYMBOLS = {"euros": "€", "pourcentage": "%", "personnes": "personnes", "salaries": "salariés"}

_FORMATTER = string.Formatter()


def placeholders(template: str | None) -> set[str]:
    """The {names} of a text template."""
    return {name for _, name, _, _ in _FORMATTER.parse(template or "") if name}


def _capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]


@dataclass(frozen=True, slots=True)
class Etape:
    """A step of the form: the fields it asks, in the order of `rules/situation.yaml`."""

    id: str
    titre: str
    keys: tuple[str, ...]
    echeancier: bool = False  # only refines the schedules; never changes the verdict


@dataclass(frozen=True, slots=True, eq=False)
class Champ:
    """One input field of the situation."""

    id: str
    type: str
    libelle_modele: str
    question_modele: str
    etape: str | None = None  # None: not asked by the form
    description: str | None = None
    unite: str | None = None
    min: float = 0
    max: float = NOMBRE_MAX
    obligatoire: bool = False
    je_ne_sais_pas: bool = True
    intitule_modele: str | None = None
    aide_modele: str | None = None
    choix: Mapping[str, str] = field(default_factory=dict)
    alias: tuple[str, ...] = ()
    alias_choix: Mapping[str, str] = field(default_factory=dict)
    conditions: tuple[str, ...] = ()
    echeanciers: tuple[str, ...] = ()
    questions: Mapping[str, str] = field(default_factory=dict)
    si: Mapping[str, Any] = field(default_factory=dict)
    au_plus: str | None = None
    apres: str | None = None  # asked once this other field is answered (on a later step), never after «je ne sais pas»

    # --- texts, with the legal values in force on a date ----------------------------------------------------

    def texte(self, template: str, on: dt.date | None = None, rules: Rules | None = None, **extra: Any) -> str:
        """`template` with each {parameter_id} replaced by its value in force on `on` (today by default), in
        French typography (non-breaking spaces before «:», «;», «?»)."""
        names = placeholders(template)
        if not names:
            return typographie(template)
        values: dict[str, Any] = dict(extra)
        missing = names - set(values)
        if missing:
            rules = rules or current_rules()
            day = on or dt.date.today()
            for name in missing:
                values[name] = valeur_fr(rules.param(name).unite, rules.value(name, day).valeur)
        return typographie(template.format_map(values))

    def libelle(self, on: dt.date | None = None, rules: Rules | None = None) -> str:
        return self.texte(self.libelle_modele, on, rules)

    def intitule(self, on: dt.date | None = None, rules: Rules | None = None) -> str:
        if self.intitule_modele:
            return self.texte(self.intitule_modele, on, rules)
        return _capitalized(self.libelle(on, rules))

    def question(self, on: dt.date | None = None, rules: Rules | None = None, variante: str | None = None,
                 **extra: Any) -> str:
        template = self.questions[variante] if variante else self.question_modele
        return self.texte(template, on, rules, **extra)

    def aide(self, on: dt.date | None = None, rules: Rules | None = None) -> str | None:
        return self.texte(self.aide_modele, on, rules) if self.aide_modele else None

    @property
    def symbole(self) -> str | None:
        """The unit as shown after a value (€, %, personnes, salariés)."""
        return UNIT_SYMBOLS.get(self.unite or "")

    @property
    def numerique(self) -> bool:
        return self.type in ("nombre", "entier")

    def asked(self, answers: Mapping[str, Any]) -> bool:
        """Whether the form asks it, given the answers so far (`si`)."""
        return all(answers.get(key) == value for key, value in self.si.items())


@dataclass(frozen=True, slots=True, eq=False)
class SituationSchema:
    champs: Mapping[str, Champ]
    etapes: tuple[Etape, ...]
    fichier: Path

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(self.champs)

    def __getitem__(self, key: str) -> Champ:
        return self.champs[key]

    def __iter__(self) -> Iterator[Champ]:
        return iter(self.champs.values())

    def of_type(self, *types: str) -> tuple[str, ...]:
        return tuple(key for key, champ in self.champs.items() if champ.type in types)

    def read_by(self, condition_id: str) -> tuple[str, ...]:
        """The fields a condition reads (their `conditions` name it)."""
        return tuple(key for key, champ in self.champs.items() if condition_id in champ.conditions)


def _build(raw: Any, path: Path) -> SituationSchema:
    where = path.name
    check(SituationModel, raw, where)
    champs: dict[str, Champ] = {}
    for key, item in raw["champs"].items():
        data = dict(item)
        data["libelle_modele"] = data.pop("libelle")
        data["question_modele"] = data.pop("question")
        data["intitule_modele"] = data.pop("intitule", None)
        data["aide_modele"] = data.pop("aide", None)
        for name in ("alias", "conditions", "echeanciers"):
            if name in data:
                data[name] = tuple(data[name] or ())
        champs[key] = Champ(id=key, **data)
    for key, champ in champs.items():
        if champ.etape is not None and champ.etape not in raw["etapes"]:
            raise RulesError(f"{where} : champs.{key}.etape : étape inconnue {champ.etape!r} (absente de « etapes »)")
        for other in (*champ.si, *([champ.au_plus] if champ.au_plus else []), *([champ.apres] if champ.apres else [])):
            if other not in champs:
                raise RulesError(f"{where} : champs.{key} : champ inconnu {other!r}")
        if (champ.type == "choix") != bool(champ.choix):
            raise RulesError(f"{where} : champs.{key}.choix : obligatoire pour le type choix, et pour lui seul")
        if champ.obligatoire and champ.je_ne_sais_pas:
            raise RulesError(f"{where} : champs.{key}.je_ne_sais_pas : un champ obligatoire n'admet pas « je ne sais "
                             "pas »")
    etapes = tuple(
        Etape(step_id, item["titre"], tuple(k for k, c in champs.items() if c.etape == step_id),
              bool(item.get("echeancier")))
        for step_id, item in raw["etapes"].items()
    )
    return SituationSchema(champs, etapes, path)


def check_against_rules(schema: SituationSchema, rules: Rules) -> None:
    """Every condition a field names exists in conditions.yaml; every {parameter} of its texts exists."""
    where = schema.fichier.name
    for champ in schema:
        for condition_id in champ.conditions:
            if condition_id not in rules.conditions:
                raise RulesError(f"{where} : champs.{champ.id}.conditions : condition inconnue {condition_id!r} "
                                 "(absente de conditions.yaml)")
        texts = {"libelle": champ.libelle_modele, "intitule": champ.intitule_modele, "question": champ.question_modele,
                 "aide": champ.aide_modele, **{f"questions.{k}": v for k, v in champ.questions.items()}}
        for name, text in texts.items():
            extra = {"nom", "insee", "sujet"} if name.startswith("questions.") else set()
            for placeholder in placeholders(text) - extra:
                if placeholder not in rules.parametres:
                    raise RulesError(f"{where} : champs.{champ.id}.{name} : paramètre inconnu {{{placeholder}}}")


def read_schema(directory: Path) -> SituationSchema:
    path = directory / "situation.yaml"
    return _build(read_yaml(path), path)


@cache
def situation_schema() -> SituationSchema:
    """The fields of this installation's `rules/situation.yaml`, read once per process."""
    return read_schema(rules_dir())
