"""The JSON contract of a verdict across its shapes: read a saved verdict of any shape as the current one.

Shape 1 (no `format` key, the first shape) wrote every reference in full at each use
(`{"texte", "version", "url"}`) and listed research notes as points to confirm. Shape 2 (`"format": 2`) wrote
each source once in a `sources` table and cited it by id (`{"source": id, "precision": ...}`), with
`fondement`, `limites` (texts) and `certitude`, and one object per year for the local taxes (`annees`).
Shape 3 (`"format": 3`, `Verdict.to_dict()`) leaves what depends on the rules alone to the rules catalogue
(engine/catalogue.py: the sources table, the general limits by id, the rules' own notes and statements, the
static descriptions of the steps), writes the local-tax years as periods (`periodes`: `{"de", "a", ...}`) and
leaves out the keys that carry nothing (docs/contrat-json.md lists what an absent key means).

`upgrade` is pure and idempotent: every reader (pages, reports, comparisons, the API) applies it, so that a
verdict saved in any shape reads the same; a verdict of shape 1 or 2 keeps its own sources, limits and notes
in an inline `catalogue` (they were the sources of the rules it was made with). `read` resolves a verdict
against its catalogue into the full view the pages and reports show (`annees` expands periods to years).
What the old verdict said is kept word for word: its reasons to confirm stay its reasons to confirm.
"""

from __future__ import annotations

import copy
from typing import Any, Mapping

from .catalogue import statement_at

CURRENT_FORMAT = 3
_ARTICLE = "cgi_44_sexdecies"
LOCAL_TAXES = ("cfe", "tfpb", "cvae")


def is_current(verdict: Mapping[str, Any]) -> bool:
    return verdict.get("format") == CURRENT_FORMAT


def source_view(entry: Mapping[str, Any] | None, version: str | None) -> dict[str, Any]:
    """A catalogue entry as shown: its address at the version applied when the source has dated addresses."""
    entry = entry or {}
    out: dict[str, Any] = {"texte": entry.get("texte"), "url": entry.get("url")}
    if entry.get("url_version") and version:
        out["url"] = entry["url_version"].format(date=version)
        out["version"] = version
    elif entry.get("version"):
        out["version"] = entry["version"]
    if entry.get("complementaire"):
        out["complementaire"] = True
    return out


def resolve(references: list[Mapping[str, Any]] | None, sources: Mapping[str, Mapping[str, Any]] | None,
            ) -> list[dict[str, Any]]:
    """References as they are shown: `{texte, url, version, complementaire}` (the title with its paragraph);
    `sources` is a resolved table (`read(...)["sources"]`) or a verdict of shape 2's."""
    out = []
    for ref in references or ():
        if "source" not in ref:  # shape 1: written in full
            out.append({"texte": ref.get("texte", ""), "url": ref.get("url"), "version": ref.get("version"),
                        "complementaire": bool(ref.get("complementaire"))})
            continue
        source = (sources or {}).get(ref["source"]) or {}
        texte = source.get("texte") or ref["source"]
        if ref.get("precision"):
            texte = f"{texte}, {ref['precision']}"
        out.append({"texte": texte, "url": source.get("url"), "version": source.get("version"),
                    "complementaire": bool(source.get("complementaire"))})
    return out


def annees(periodes: list[Mapping[str, Any]] | None, impot: str | None = None) -> list[dict[str, Any]]:
    """A local tax's periods expanded to one row per year, as a yearly table needs them:
    `{"annee", "part_de_droit", "phase", "part_sur_deliberation"?, "cvae_supprimee"?}` (the keys of shape 2;
    `cvae_supprimee` on every CVAE row when `impot` is «cvae»)."""
    out = []
    for period in periodes or ():
        row = {key: value for key, value in period.items() if key not in ("de", "a")}
        row.setdefault("part_de_droit", None)
        if impot == "cvae":
            row.setdefault("cvae_supprimee", False)
        for year in range(int(period["de"]), int(period["a"]) + 1):
            out.append({"annee": year, **row})
    return out


def periodes(rows: list[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    """Yearly rows (shape 2's `annees`) grouped into periods of consecutive years alike (shape 3)."""
    out: list[dict[str, Any]] = []
    for row in rows or ():
        item: dict[str, Any] = {"de": row["annee"], "a": row["annee"]}
        if row.get("part_de_droit") is not None:
            item["part_de_droit"] = row["part_de_droit"]
        if row.get("part_sur_deliberation") is not None:
            item["part_sur_deliberation"] = row["part_sur_deliberation"]
        item["phase"] = row.get("phase")
        if row.get("cvae_supprimee"):
            item["cvae_supprimee"] = True
        last = out[-1] if out else None
        if last is not None and last["a"] + 1 == item["de"] and \
                {k: v for k, v in last.items() if k not in ("de", "a")} == {k: v for k, v in item.items()
                                                                           if k not in ("de", "a")}:
            last["a"] = item["a"]
        else:
            out.append(item)
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
        return verdict  # type: ignore[return-value]  # not a verdict: given back as it is
    if is_current(verdict):
        commune = verdict.get("commune")
        if not isinstance(commune, Mapping) or "epci_nom" in commune:
            return verdict  # type: ignore[return-value]  # already current: the mapping itself
        fixed = copy.deepcopy(dict(verdict))
        _commune_epci(fixed)
        return fixed
    old = copy.deepcopy(dict(verdict))
    _commune_epci(old)
    if old.get("format") != 2:
        old = _from_first_shape(old)
    return _from_second_shape(old)


def _from_first_shape(old: dict[str, Any]) -> dict[str, Any]:
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
    old["format"] = 2
    return old


def _from_second_shape(old: dict[str, Any]) -> dict[str, Any]:
    """Shape 2 to 3: the verdict's own sources and limits become its inline catalogue (the rules it was made
    with may be gone), its local-tax years become periods; its notes all stay its notes."""
    limites = [text for text in old.get("limites") or () if isinstance(text, str)]
    old["catalogue"] = {"sources": old.pop("sources", None) or {},
                        "limites": {f"limite_{index}": text for index, text in enumerate(limites, start=1)}}
    old["limites"] = [f"limite_{index}" for index in range(1, len(limites) + 1)]
    for key in LOCAL_TAXES:
        data = (old.get("exonerations") or {}).get(key)
        if isinstance(data, dict) and "annees" in data:
            data["periodes"] = periodes(data.pop("annees"))
    old["format"] = CURRENT_FORMAT
    return old


def _statement(catalogue: Mapping[str, Any], objet: str, text: str | None, on: str | None) -> str | None:
    """`text` (the sentence about the case) with the rule's static statement before or after it."""
    entry = (catalogue.get("regles") or {}).get(objet) or {}
    statement = statement_at(entry.get("variantes"), on)
    if not statement:
        return text
    if not text:
        return statement
    return f"{statement} {text}" if entry.get("position") == "avant" else f"{text} {statement}"


def _cited(verdict: Mapping[str, Any]) -> list[str]:
    """Every source id the verdict cites, once, in order of first citation."""
    ids: dict[str, None] = {}
    version = verdict.get("version") or {}
    for key in (version.get("source"), version.get("texte_modificateur")):
        if key:
            ids.setdefault(key)
    items = [*(verdict.get("conditions") or ()), *(verdict.get("exonerations") or {}).values(),
             *(verdict.get("demarches") or ()), verdict.get("economies") or {}]
    for item in items:
        if isinstance(item, Mapping):
            for ref in [*(item.get("references") or ()), *(item.get("sources_complementaires") or ())]:
                if isinstance(ref, Mapping) and ref.get("source"):
                    ids.setdefault(ref["source"])
    return list(ids)


def read(verdict: Mapping[str, Any], catalogue: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A saved verdict of any shape, resolved against its rules catalogue (its inline one, else `catalogue`)
    into the full view that pages, reports and comparisons show: the `sources` it cites (titles and addresses
    at the version applied), `limites` as texts, `certitude` with the rules' own notes first, explanations and
    step descriptions with the rules' statements, `annees` beside the local taxes' periods, and the absent
    keys at their documented defaults (`lecture`: true marks the view, which is read only once). Nothing is
    evaluated again."""
    if isinstance(verdict, Mapping) and verdict.get("lecture") is True:
        return verdict  # type: ignore[return-value]  # already a view: the mapping itself
    verdict = upgrade(verdict)
    if not isinstance(verdict, Mapping) or "statut" not in verdict:
        return verdict  # type: ignore[return-value]  # not a verdict: given back as it is
    catalogue = verdict.get("catalogue") or catalogue or {}
    out = copy.deepcopy(dict(verdict))
    applied = out.get("version_loi")
    on = (out.get("situation") or {}).get("date_creation")
    sources = catalogue.get("sources") or {}
    out["sources"] = {key: source_view(sources.get(key), applied) if key in sources else {"texte": key, "url": None}
                      for key in _cited(out)}
    limites = catalogue.get("limites") or {}
    out["limites"] = [limites.get(key, key) for key in out.get("limites") or ()]
    out.setdefault("avertissement", catalogue.get("avertissement"))
    for key in ("avertissements", "demarches", "informations_manquantes", "points_a_confirmer"):
        out.setdefault(key, [])
    for key in ("date_verification", "commune", "economies"):
        out.setdefault(key, None)
    version = out.setdefault("version", {})
    version.setdefault("texte_modificateur", None)
    changed = (catalogue.get("versions") or {}).get(version.get("en_vigueur"))
    if changed and on and version.get("en_vigueur") and on >= version["en_vigueur"]:
        version["explication"] = f"{version.get('explication', '')} {changed}".strip()  # what that version changed
    for condition in out.get("conditions") or ():
        condition.setdefault("a_confirmer", False)
        condition.setdefault("fondement", "texte")
        condition["explication"] = _statement(catalogue, condition.get("id"), condition.get("explication"), on)
    for key, data in (out.get("exonerations") or {}).items():
        if not isinstance(data, dict):
            continue
        data.setdefault("a_confirmer", False)
        data.setdefault("fondement", "texte")
        data.setdefault("periodes", [])
        if key in LOCAL_TAXES:
            data["annees"] = annees(data["periodes"], key)
        if data.get("applicable") is not False:
            data["explication"] = _statement(catalogue, key, data.get("explication"), on)
    steps = catalogue.get("demarches") or {}
    for demarche in out["demarches"]:
        demarche.setdefault("a_confirmer", False)
        demarche.setdefault("echeance", None)
        if demarche.get("echeance"):
            demarche.setdefault("passee", None)
        if "description" not in demarche:
            demarche["description"] = steps.get(demarche.get("id"), "")
        remedy = (catalogue.get("rattrapages") or {}).get(demarche.get("id"))
        if demarche.get("passee") and "rattrapage" not in demarche and remedy:
            demarche["rattrapage"] = remedy
    for missing in out["informations_manquantes"]:
        missing.setdefault("conditions", [])
    static = catalogue.get("notes") or {}
    own = {entry.get("objet"): list(entry.get("notes") or ()) for entry in out.get("certitude") or ()}
    objets = [c.get("id") for c in out.get("conditions") or ()]
    objets += [key for key, data in (out.get("exonerations") or {}).items()
               if isinstance(data, Mapping) and data.get("applicable") is not False]
    certitude = []
    for objet in objets:
        notes = [*static.get(objet, ()), *own.pop(objet, ())]
        if notes:
            certitude.append({"objet": objet, "notes": notes})
    certitude += [{"objet": objet, "notes": notes} for objet, notes in own.items() if notes]
    out["certitude"] = certitude
    out["lecture"] = True
    return out
