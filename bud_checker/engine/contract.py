"""The JSON contract of a verdict across its shapes: read a saved verdict of any shape as the current one.

Shape 1 (no `format` key, the first shape) wrote every reference in full at each use
(`{"texte", "version", "url"}`) and listed research notes as points to confirm. Shape 2 (`"format": 2`,
`Verdict.to_dict()`) writes each source once in a `sources` table and cites it by id
(`{"source": id, "precision": ...}`), with `fondement`, `limites` and `certitude`.

`upgrade` is pure and idempotent: the Alembic migration 0003 applies it to the stored checks, and every reader
(pages, reports, comparisons) applies it again, so that a verdict saved in either shape reads the same.
What the old verdict said is kept word for word: its reasons to confirm stay its reasons to confirm.
"""

from __future__ import annotations

import copy
from typing import Any, Mapping

CURRENT_FORMAT = 2
_ARTICLE = "cgi_44_sexdecies"


def is_current(verdict: Mapping[str, Any]) -> bool:
    return verdict.get("format") == CURRENT_FORMAT


def resolve(references: list[Mapping[str, Any]] | None, sources: Mapping[str, Mapping[str, Any]] | None,
            ) -> list[dict[str, Any]]:
    """References as they are shown: `{texte, url, version, complementaire}` (the title with its paragraph)."""
    out = []
    for ref in references or ():
        if "source" not in ref:  # shape 1: written in full
            out.append({"texte": ref.get("texte", ""), "url": ref.get("url"), "version": ref.get("version"),
                        "complementaire": bool(ref.get("complementaire"))})
            continue
        source = (sources or {}).get(ref["source"]) or {}
        texte = source.get("texte", ref["source"])
        if ref.get("precision"):
            texte = f"{texte}, {ref['precision']}"
        out.append({"texte": texte, "url": source.get("url"), "version": source.get("version"),
                    "complementaire": bool(source.get("complementaire"))})
    return out


class _Table:
    """Builds the `sources` table of an old verdict: one entry per distinct (title, address, version)."""

    def __init__(self) -> None:
        self.sources: dict[str, dict[str, Any]] = {}
        self._ids: dict[tuple[Any, ...], str] = {}

    def add(self, texte: str, url: str | None, version: str | None, wanted: str | None = None) -> str:
        key = (texte, url, version)
        if key in self._ids:
            return self._ids[key]
        source_id = wanted if wanted and wanted not in self.sources else f"s{len(self.sources) + 1}"
        entry: dict[str, Any] = {"texte": texte, "url": url}
        if version:
            entry["version"] = version
        self.sources[source_id] = entry
        self._ids[key] = source_id
        return source_id

    def cite(self, references: list[Mapping[str, Any]] | None) -> list[dict[str, str]]:
        return [{"source": self.add(r.get("texte", ""), r.get("url"), r.get("version"))} for r in references or ()]


def _commune_epci(verdict: dict[str, Any]) -> None:
    """`commune.epci` is the intercommunality's code and `epci_nom` its name (as in /api/v1/communes); verdicts
    saved before held the name in `epci`: the code is looked up from the commune's INSEE code."""
    commune = verdict.get("commune")
    if not isinstance(commune, dict) or "epci_nom" in commune:
        return
    from ..communes import load_reference

    found = load_reference().get(str(commune.get("insee", "")))
    commune["epci_nom"] = commune.get("epci")
    commune["epci"] = found.epci if found is not None else None


def upgrade(verdict: Mapping[str, Any]) -> dict[str, Any]:
    """The verdict in the current shape (a copy; a current verdict is returned as it is)."""
    if not isinstance(verdict, Mapping) or "statut" not in verdict:
        return verdict  # type: ignore[return-value]
    if is_current(verdict):
        commune = verdict.get("commune")
        if not isinstance(commune, Mapping) or "epci_nom" in commune:
            return verdict  # type: ignore[return-value]
        fixed = copy.deepcopy(dict(verdict))
        _commune_epci(fixed)
        return fixed
    old = copy.deepcopy(dict(verdict))
    _commune_epci(old)
    table = _Table()
    version = dict(old.get("version") or {})
    article_id = None
    if version.get("url"):
        article_id = table.add(version.get("article", "CGI, art. 44 sexdecies"), version.pop("url"),
                               version.get("en_vigueur"), wanted=_ARTICLE)
    modificateur = version.get("texte_modificateur")
    version["texte_modificateur"] = table.add(modificateur, None, None) if modificateur else None
    if version["texte_modificateur"]:
        table.sources[version["texte_modificateur"]]["url"] = None
    version.pop("modification", None)
    version.pop("article", None)
    version["source"] = article_id
    old["version"] = version
    for condition in old.get("conditions") or ():
        condition["references"] = table.cite(condition.get("references"))
        condition.setdefault("fondement", None)
        if not condition.get("motifs_a_confirmer"):
            condition.pop("motifs_a_confirmer", None)
    for data in (old.get("exonerations") or {}).values():
        if isinstance(data, dict):
            data["references"] = table.cite(data.get("references"))
            data.setdefault("fondement", None)
            if not data.get("motifs_a_confirmer"):
                data.pop("motifs_a_confirmer", None)
    for demarche in old.get("demarches") or ():
        demarche["references"] = table.cite(demarche.get("references"))
    labels = {c.get("id"): c.get("libelle", c.get("id")) for c in old.get("conditions") or ()}
    points = []
    for point in old.get("points_a_confirmer") or ():
        objet = point.get("objet")
        label = str(labels.get(objet, objet))
        entry = {"objet": objet, "quoi": label[:1].lower() + label[1:],
                 "aupres_de": "votre service des impôts des entreprises (SIE)"}
        if entry not in points:
            points.append(entry)
    old["points_a_confirmer"] = points
    old["a_confirmer"] = bool(points)
    old.setdefault("limites", [])
    old.setdefault("certitude", [])
    old["sources"] = table.sources
    old["format"] = CURRENT_FORMAT
    return old
