"""Three-valued results: each condition is met, not met, or unknown (the situation did not say).

Modelled on Publicodes: an unknown result carries the facts that would decide it, so that an adapter can
ask exactly the next useful question.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from .law import Reference


class Statut(StrEnum):
    REMPLIE = "remplie"
    NON_REMPLIE = "non_remplie"
    INCONNUE = "inconnue"


@dataclass(frozen=True, slots=True)
class InformationManquante:
    """A fact the situation did not give, and the question that would obtain it."""

    champ: str
    question: str

    def to_dict(self) -> dict[str, str]:
        return {"champ": self.champ, "question": self.question}


@dataclass(frozen=True, slots=True, eq=False)
class ConditionResult:
    """Immutable: a result depends only on the facts its condition reads, so it may be shared."""

    id: str
    libelle: str
    statut: Statut
    explication: str
    references: tuple[Reference, ...]
    motifs_a_confirmer: tuple[str, ...] = ()
    informations_manquantes: tuple[InformationManquante, ...] = ()

    @property
    def a_confirmer(self) -> bool:
        return bool(self.motifs_a_confirmer)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "libelle": self.libelle,
            "statut": self.statut.value,
            "explication": self.explication,
            "references": [r.to_dict() for r in self.references],
            "a_confirmer": self.a_confirmer,
            "motifs_a_confirmer": list(self.motifs_a_confirmer),
            "informations_manquantes": [i.to_dict() for i in self.informations_manquantes],
        }


def all_of(statuts: list[Statut]) -> Statut:
    """Kleene conjunction: not met if any is not met, else unknown if any is unknown, else met."""
    if Statut.NON_REMPLIE in statuts:
        return Statut.NON_REMPLIE
    if Statut.INCONNUE in statuts:
        return Statut.INCONNUE
    return Statut.REMPLIE


def any_of(statuts: list[Statut]) -> Statut:
    """Kleene disjunction: met if any is met, else unknown if any is unknown, else not met."""
    if Statut.REMPLIE in statuts:
        return Statut.REMPLIE
    if Statut.INCONNUE in statuts:
        return Statut.INCONNUE
    return Statut.NON_REMPLIE
