"""What the verdict points to beyond itself, read from rules/: the forms and offices for each filing step
(rules/demarches_formulaires.yaml) and, when a check is not eligible, the other schemes worth a look
(rules/autres_dispositifs.yaml). Nothing here is computed: these are links to official pages, chosen by the
step or by the failing condition."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterable

import yaml

from .fr import typographie
from .law import CONFIANCES, Reference, Rules, RulesError


@dataclass(frozen=True, slots=True)
class Formulaire:
    numero: str | None
    libelle: str
    url: str | None
    confiance: str
    references: tuple[Reference, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"numero": self.numero, "libelle": self.libelle, "url": self.url, "confiance": self.confiance,
                "sources": [{"texte": r.texte, "url": r.url} for r in self.references]}


@dataclass(frozen=True, slots=True)
class Guichet:
    id: str
    libelle: str
    aide: str
    url: str
    confiance: str

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "libelle": self.libelle, "aide": self.aide, "url": self.url, "confiance": self.confiance}


@dataclass(frozen=True, slots=True)
class Dispositif:
    id: str
    titre: str
    resume: str
    url: str
    confiance: str
    conditions: tuple[str, ...]
    references: tuple[Reference, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "titre": self.titre, "resume": self.resume, "url": self.url, "confiance": self.confiance,
                "sources": [{"texte": r.texte, "url": r.url} for r in self.references]}


@dataclass(frozen=True, slots=True)
class Guidance:
    guichets: dict[str, Guichet]
    formulaires: dict[str, tuple[Formulaire, ...]]
    ou: dict[str, tuple[str, ...]]
    dispositifs: tuple[Dispositif, ...]
    selon_le_cas: frozenset[str] = frozenset()  # steps that concern only some creators (`selon_le_cas: true`)


def _read(rules: Rules, name: str) -> Any:
    with (rules.directory / name).open(encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


def _tag(value: Any, where: str) -> str:
    if value not in CONFIANCES:
        raise RulesError(f"{where}: confiance manquante ou invalide")
    return value


def _citations(rules: Rules, item: dict[str, Any], where: str) -> tuple[Reference, ...]:
    """The `references` of an entry ({ref, precision}), each known to references.yaml."""
    refs = []
    for citation in item.get("references") or []:
        source = rules.sources.get(citation["ref"])
        if source is None:
            raise RulesError(f"{where}: référence inconnue {citation['ref']!r}")
        refs.append(source.cite(citation.get("precision")))
    return tuple(refs)


@lru_cache(maxsize=8)
def guidance(rules: Rules) -> Guidance:
    """Both files, checked: every reference known, every condition id real, every office defined."""
    raw = _read(rules, "demarches_formulaires.yaml")
    guichets = {key: Guichet(key, typographie(item["libelle"]), typographie(item["aide"]), item["url"],
                             _tag(item.get("confiance"), key))
                for key, item in raw["ou_s_adresser"].items()}
    formulaires, ou, selon_le_cas = {}, {}, set()
    for step, item in raw["demarches"].items():
        if item.get("selon_le_cas"):
            selon_le_cas.add(step)
        forms = []
        for form in item.get("formulaires") or []:
            refs = _citations(rules, form, f"demarches_formulaires.yaml: {step}")
            forms.append(Formulaire(form.get("numero"), typographie(form["libelle"]), form.get("url"),
                                    _tag(form.get("confiance"), step), refs))
        formulaires[step] = tuple(forms)
        offices = tuple(item.get("ou") or ())
        unknown = [o for o in offices if o not in guichets]
        if unknown:
            raise RulesError(f"demarches_formulaires.yaml: {step}: guichet inconnu {unknown}")
        ou[step] = offices
    raw = _read(rules, "autres_dispositifs.yaml")
    dispositifs = []
    for key, item in raw["dispositifs"].items():
        conditions = tuple(item["conditions"])
        unknown = [c for c in conditions if c not in rules.conditions]
        if unknown:
            raise RulesError(f"autres_dispositifs.yaml: {key}: condition inconnue {unknown}")
        dispositifs.append(Dispositif(key, typographie(item["titre"]), typographie(item["resume"]), item["url"],
                                      _tag(item.get("confiance"), key), conditions,
                                      _citations(rules, item, f"autres_dispositifs.yaml: {key}")))
    return Guidance(guichets, formulaires, ou, tuple(dispositifs), frozenset(selon_le_cas))


def for_demarche(rules: Rules, demarche_id: str | None) -> dict[str, Any]:
    """The forms and offices of one filing step, and whether it concerns only some creators (`selon_le_cas`);
    nothing for an unknown or missing id."""
    found = guidance(rules)
    if not demarche_id or demarche_id not in found.formulaires:
        return {"formulaires": [], "ou": [], "selon_le_cas": False}
    return {"formulaires": [f.to_dict() for f in found.formulaires[demarche_id]],
            "ou": [found.guichets[o].to_dict() for o in found.ou[demarche_id]],
            "selon_le_cas": demarche_id in found.selon_le_cas}


def alternatives(rules: Rules, failing_conditions: Iterable[str]) -> list[dict[str, Any]]:
    """The other schemes worth a look when these conditions fail, in the order of the file."""
    failing = set(failing_conditions)
    return [d.to_dict() for d in guidance(rules).dispositifs if failing & set(d.conditions)]
