"""Three-valued results: each condition is met, not met, or unknown (the situation did not say).

Modelled on Publicodes: an unknown result carries the facts that would decide it, so that an adapter can
ask exactly the next useful question.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from enum import StrEnum
from typing import Any, Callable, Iterable

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

    def __post_init__(self) -> None:
        from .fr import typographie

        object.__setattr__(self, "question", typographie(self.question))

    def to_dict(self) -> dict[str, str]:
        return {"champ": self.champ, "question": self.question}


AUPRES_DU_SIE = "votre service des impôts des entreprises (SIE)"


@dataclass(frozen=True, slots=True)
class PointAConfirmer:
    """An uncertain point of law that could change this verdict (BUD.md: a [U] point that matters here):
    what to confirm (`quoi`, a few words for the headline), with whom, and why (`motif`, one plain sentence)."""

    quoi: str
    aupres_de: str
    motif: str

    def to_dict(self, objet: str) -> dict[str, str]:
        """The entry of the verdict's `points_a_confirmer` (the motif is written once, at its `objet`)."""
        return {"objet": objet, "quoi": self.quoi, "aupres_de": self.aupres_de}


def merge_references(references: Iterable[Reference]) -> tuple[Reference, ...]:
    """One reference per source, in order of first citation: the first citation of a source (the rule's own,
    with its paragraph) stands for the later ones."""
    by_source: dict[str, Reference] = {}
    for ref in references:
        by_source.setdefault(ref.source.id, ref)
    return tuple(by_source.values())


def split_references(references: tuple[Reference, ...]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(official references, sources complémentaires), each as `{"source": id, "precision": ...}` (new dicts on
    every call: the caller may change them)."""
    official, others = _split_references(references)
    return [dict(r) for r in official], [dict(r) for r in others]


@lru_cache(maxsize=8192)
def _split_references(references: tuple[Reference, ...]) -> tuple[tuple[dict[str, Any], ...], ...]:
    """The memoised part of `split_references`: the results' reference tuples are themselves memoised (the
    engine's caches), so the same tuple is written again and again by to_dict()."""
    official = tuple(r.to_dict() for r in references if not r.complementaire)
    others = tuple(r.to_dict() for r in references if r.complementaire)
    return official, others


def add_references(out: dict[str, Any], references: tuple[Reference, ...]) -> None:
    """`references` (official) and, when there are any, `sources_complementaires`."""
    official, others = split_references(references)
    out["references"] = official
    if others:
        out["sources_complementaires"] = others


def json_cache() -> Any:
    """The slot of an immutable result that keeps its JSON form (`cached_json`): not an argument, not compared,
    not copied by `dataclasses.replace`."""
    return field(default=None, init=False, repr=False, compare=False)


def cached_json(result: Any, build: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """`result`'s JSON form, built once: conditions, exemptions and steps are immutable and shared between
    verdicts. A shallow copy is returned; its lists and nested objects are shared and must not be changed."""
    cached = result._json
    if cached is None:
        cached = build()
        object.__setattr__(result, "_json", cached)
    return dict(cached)


@dataclass(frozen=True, slots=True, eq=False)
class ConditionResult:
    """Immutable: a result depends only on the facts its condition reads, so it may be shared.

    `fondement` is what the rule rests on (texte, doctrine, sources_concordantes, incertain); `points` the
    uncertain points that could change this verdict; `notes` research notes for the expert detail."""

    id: str
    libelle: str
    statut: Statut
    explication: str
    references: tuple[Reference, ...]
    points: tuple[PointAConfirmer, ...] = ()
    informations_manquantes: tuple[InformationManquante, ...] = ()
    fondement: str = "texte"
    notes: tuple[str, ...] = ()
    _json: dict[str, Any] | None = json_cache()  # the JSON form, built once (cached_json)

    @property
    def a_confirmer(self) -> bool:
        return bool(self.points)

    @property
    def motifs_a_confirmer(self) -> tuple[str, ...]:
        return tuple(p.motif for p in self.points)

    def to_dict(self) -> dict[str, Any]:
        return cached_json(self, self._to_dict)

    def _to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "libelle": self.libelle, "statut": self.statut.value,
                               "explication": self.explication}
        if self.fondement != "texte":  # absent: «texte» (the official text read)
            out["fondement"] = self.fondement
        add_references(out, self.references)
        if self.points:  # absent `a_confirmer`: false
            out["a_confirmer"] = True
            out["motifs_a_confirmer"] = list(self.motifs_a_confirmer)
        if self.informations_manquantes:
            out["informations_manquantes"] = [i.to_dict() for i in self.informations_manquantes]
        return out


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
