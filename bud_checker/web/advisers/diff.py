"""What changed between two verdicts (the JSON contract): condition by condition, schedule by schedule, in French.

Used when an old situation is run again under the rules of the day: the stored verdict is compared with the
fresh one. Only the verdicts are compared, never re-evaluated here.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterable, Iterator, Mapping

from ...communes import load_reference
from ...engine.contract import resolve
from ..catalogues import read_verdict
from ...engine.fr import date_fr, nombre_fr
from ...engine.situation import KEYS, LIBELLES
from ...engine.situation import SCHEMA
from ..presentation import CONDITION_STATUS, PHASES, TAX_LABELS, iso_date, pct_text

STATUT_LABELS = {"eligible": "éligible", "non_eligible": "non éligible", "indetermine": "à confirmer"}
APPLICABLE_LABELS = {True: "exonération", False: "pas d'exonération", None: "sous réserve des conditions à vérifier"}


LONG_TEXT = 160  # characters: longer texts are folded on the page


# How favourable a value is to the company: a change from a higher to a lower rank is a change for the worse.
RANK_STATUT = {"eligible": 2, "indetermine": 1, "non_eligible": 0}
RANK_CONDITION = {"remplie": 2, "inconnue": 1, "non_remplie": 0}
RANK_APPLICABLE = {True: 2, None: 1, False: 0}


def direction(ranks: Mapping[Any, int], before: Any, after: Any) -> str | None:
    """«mieux», «pire», or None when the change is neither (or cannot be ranked)."""
    a, b = ranks.get(before), ranks.get(after)
    if a is None or b is None or a == b:
        return None
    return "mieux" if b > a else "pire"


@dataclass
class Change:
    objet: str
    nature: str  # «modifie», «ajoute» or «retire»
    avant: str | None = None
    apres: str | None = None
    sens: str | None = None  # «mieux» or «pire» for the company, None when neither

    @property
    def long(self) -> bool:
        return max(len(self.avant or ""), len(self.apres or "")) > LONG_TEXT


@dataclass
class Section:
    id: str
    titre: str
    changes: list[Change] = field(default_factory=list)

    def modified(self, objet: str, avant: Any, apres: Any, sens: str | None = None) -> None:
        self.changes.append(Change(objet, "modifie", _text(avant), _text(apres), sens))

    def added(self, objet: str, value: Any = None) -> None:
        self.changes.append(Change(objet, "ajoute", None, _text(value)))

    def removed(self, objet: str, value: Any = None) -> None:
        self.changes.append(Change(objet, "retire", _text(value), None))


@dataclass
class VerdictDiff:
    sections: list[Section]
    regles_avant: str | None
    regles_apres: str | None

    @property
    def identical(self) -> bool:
        return not any(section.changes for section in self.sections)

    @property
    def count(self) -> int:
        return sum(len(section.changes) for section in self.sections)

    @property
    def worse(self) -> int:
        return sum(1 for section in self.sections for change in section.changes if change.sens == "pire")

    @property
    def better(self) -> int:
        return sum(1 for section in self.sections for change in section.changes if change.sens == "mieux")

    @property
    def same_rules(self) -> bool:
        return self.regles_avant == self.regles_apres

    def to_dict(self) -> dict[str, Any]:
        return {
            "identique": self.identical,
            "regles_avant": self.regles_avant,
            "regles_apres": self.regles_apres,
            "sections": [{"id": s.id, "titre": s.titre, "changements": [asdict(c) for c in s.changes]}
                         for s in self.sections if s.changes],
        }


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return str(value)


def _date(value: Any) -> str:
    day = iso_date(value)
    return date_fr(day) if day else "—"


def _ref_texts(refs: Iterable[Mapping[str, Any]] | None) -> list[str]:
    out = []
    for ref in refs or []:
        text = ref.get("texte", "")
        if ref.get("version"):
            text += f" (version en vigueur le {_date(ref['version'])})"
        if text not in out:
            out.append(text)
    return out


def _list_changes(section: Section, objet: str, before: Iterable[str], after: Iterable[str]) -> None:
    before, after = list(before), list(after)
    for item in after:
        if item not in before:
            section.added(objet, item)
    for item in before:
        if item not in after:
            section.removed(objet, item)


def _new_then_removed(before: Mapping[Any, Any], after: Mapping[Any, Any]) -> list[Any]:
    """The keys of `after` in its order, then those of `before` it no longer has."""
    return [*after, *[key for key in before if key not in after]]


def _matched(old: Mapping[str, Any], new: Mapping[str, Any], items: str,
             key: str) -> Iterator[tuple[Any, Mapping[str, Any] | None, Mapping[str, Any] | None]]:
    """The entries of the list `items` of both verdicts, matched on `key`: (key, before or None, after or None)."""
    before = {item[key]: item for item in old.get(items) or []}
    after = {item[key]: item for item in new.get(items) or []}
    for value in _new_then_removed(before, after):
        yield value, before.get(value), after.get(value)


def _keyed_changes(section: Section, objet: Callable[[Any], str], before: Mapping[Any, str],
                   after: Mapping[Any, str], keys: Iterable[Any]) -> None:
    """Row by row (a period, a year...), in the order of `keys`: what was added, removed or changed."""
    for key in keys:
        if key not in before:
            section.added(objet(key), after[key])
        elif key not in after:
            section.removed(objet(key), before[key])
        elif before[key] != after[key]:
            section.modified(objet(key), before[key], after[key])


def _condition_status(value: str | None) -> str:
    return CONDITION_STATUS[value]["label"].lower() if value in CONDITION_STATUS else "absente"


def _conditions(old: Mapping[str, Any], new: Mapping[str, Any]) -> Section:
    section = Section("conditions", "Conditions")
    for _, a, b in _matched(old, new, "conditions", "id"):
        label = (b or a)["libelle"]
        objet = f"« {label} »"
        if a is None:
            section.added(objet, f"nouvelle condition : {_condition_status(b['statut'])}")
            continue
        if b is None:
            section.removed(objet, f"condition retirée (elle était {_condition_status(a['statut'])})")
            continue
        if a["statut"] != b["statut"]:
            section.modified(f"{objet} : statut", _condition_status(a["statut"]), _condition_status(b["statut"]),
                             direction(RANK_CONDITION, a["statut"], b["statut"]))
        if a.get("explication") != b.get("explication"):
            section.modified(f"{objet} : explication", a.get("explication"), b.get("explication"))
        if bool(a.get("a_confirmer")) != bool(b.get("a_confirmer")):
            section.modified(f"{objet} : à confirmer", "oui" if a.get("a_confirmer") else "non",
                             "oui" if b.get("a_confirmer") else "non")
        _list_changes(section, f"{objet} : motif à confirmer", a.get("motifs_a_confirmer") or [],
                      b.get("motifs_a_confirmer") or [])
        _list_changes(section, f"{objet} : texte de référence", _ref_texts(a.get("references")),
                      _ref_texts(b.get("references")))
    return section


def _periods(data: Mapping[str, Any]) -> dict[tuple[str, str], str]:
    out = {}
    for period in data.get("periodes") or []:
        rate = period.get("taux_exoneration")
        text = f"{pct_text(rate)} exonéré"
        effective = period.get("taux_exoneration_effectif")
        if effective is not None:
            text += f" ({pct_text(effective)} effectivement, activité hors du bassin)"
        out[(period.get("debut"), period.get("fin"))] = text
    return out


def _year_text(year: Mapping[str, Any]) -> str:
    if year.get("cvae_supprimee"):
        return "impôt supprimé"
    extra = year.get("part_sur_deliberation")
    text = f"{pct_text(year.get('part_de_droit'))} de droit"
    text += f", {pct_text(extra)} sur délibération" if extra is not None else ", délibération inconnue"
    phase = year.get("phase")
    if phase:
        text += f" ({PHASES.get(phase, phase)})"
    return text


def _taxes(old: Mapping[str, Any], new: Mapping[str, Any]) -> Section:
    section = Section("exonerations", "Exonérations et échéanciers")
    before_all = old.get("exonerations") or {}
    after_all = new.get("exonerations") or {}
    for tax in ("impot_benefices", "cfe", "tfpb", "cvae"):
        a, b = before_all.get(tax), after_all.get(tax)
        label = TAX_LABELS[tax]
        if a is None and b is None:
            continue
        if a is None or b is None:
            (section.added if a is None else section.removed)(label, "exonération" if a is None else None)
            continue
        if a.get("applicable") != b.get("applicable"):
            section.modified(label,
                             APPLICABLE_LABELS.get(a.get("applicable")),
                             APPLICABLE_LABELS.get(b.get("applicable")),
                             direction(RANK_APPLICABLE, a.get("applicable"), b.get("applicable")))
        if tax == "impot_benefices":
            if a.get("fin_exoneration_totale") != b.get("fin_exoneration_totale"):
                ends = (iso_date(a.get("fin_exoneration_totale")), iso_date(b.get("fin_exoneration_totale")))
                sens = None if None in ends or ends[0] == ends[1] else ("mieux" if ends[1] > ends[0] else "pire")
                section.modified(f"{label} : fin de l'exonération totale", _date(a.get("fin_exoneration_totale")),
                                 _date(b.get("fin_exoneration_totale")), sens)
            pa, pb = _periods(a), _periods(b)
            _keyed_changes(section, lambda key, label=label: f"{label} : du {_date(key[0])} au {_date(key[1])}", pa, pb,
                           _new_then_removed(pa, pb))
        else:
            if a.get("premiere_annee") != b.get("premiere_annee"):
                section.modified(f"{label} : première année", a.get("premiere_annee") or "—",
                                 b.get("premiere_annee") or "—")
            ya = {y["annee"]: _year_text(y) for y in a.get("annees") or []}
            yb = {y["annee"]: _year_text(y) for y in b.get("annees") or []}
            _keyed_changes(section, lambda year, label=label: f"{label} : {year}", ya, yb, sorted(set(ya) | set(yb)))
            if (tax == "cvae"
                    and a.get("nulle_du_fait_du_chiffre_affaires") != b.get("nulle_du_fait_du_chiffre_affaires")):
                section.modified(f"{label} : nulle du fait du chiffre d'affaires",
                                 _yes_no(a.get("nulle_du_fait_du_chiffre_affaires")),
                                 _yes_no(b.get("nulle_du_fait_du_chiffre_affaires")))
        if a.get("explication") != b.get("explication"):
            section.modified(f"{label} : explication", a.get("explication"), b.get("explication"))
        _list_changes(section, f"{label} : texte de référence", _ref_texts(a.get("references")),
                      _ref_texts(b.get("references")))
    return section


def _yes_no(value: Any) -> str:
    return {True: "oui", False: "non"}.get(value, "inconnu")


def _demarches(old: Mapping[str, Any], new: Mapping[str, Any]) -> Section:
    section = Section("demarches", "Démarches et échéances")
    for title, a, b in _matched(old, new, "demarches", "titre"):
        objet = f"« {title} »"
        if a is None:
            section.added(objet, f"échéance : {_date(b.get('echeance'))}" if b.get("echeance") else "nouvelle démarche")
        elif b is None:
            section.removed(objet, "démarche retirée")
        elif a.get("echeance") != b.get("echeance"):
            section.modified(f"{objet} : échéance", _date(a.get("echeance")), _date(b.get("echeance")))
    return section


def _resolved(verdict: Mapping[str, Any]) -> dict[str, Any]:
    """The verdict in the current shape, with each reference written in full (its source's title and address),
    so that verdicts of either shape compare text to text."""
    verdict = read_verdict(verdict)
    sources = verdict.get("sources") or {}

    def full(item: Mapping[str, Any]) -> dict[str, Any]:
        return {**item, "references": resolve(item.get("references"), sources)
                + resolve(item.get("sources_complementaires"), sources)}

    return {**verdict,
            "conditions": [full(c) for c in verdict.get("conditions") or []],
            "exonerations": {k: full(v) for k, v in (verdict.get("exonerations") or {}).items()
                             if isinstance(v, Mapping)},
            "demarches": [full(d) for d in verdict.get("demarches") or []]}


def compare_verdicts(old: Mapping[str, Any], new: Mapping[str, Any]) -> VerdictDiff:
    """Everything that differs between two verdicts (saved in either shape), in French, grouped by section."""
    old, new = _resolved(old), _resolved(new)
    result = Section("resultat", "Résultat")
    if old.get("statut") != new.get("statut"):
        result.modified("Statut", STATUT_LABELS.get(old.get("statut"), old.get("statut")),
                        STATUT_LABELS.get(new.get("statut"), new.get("statut")),
                        direction(RANK_STATUT, old.get("statut"), new.get("statut")))
    if old.get("resume") != new.get("resume"):
        result.modified("Résumé", old.get("resume"), new.get("resume"))

    texte = Section("texte", "Texte appliqué")
    if old.get("version_loi") != new.get("version_loi"):
        texte.modified("Version de l'art. 44 sexdecies appliquée", f"en vigueur le {_date(old.get('version_loi'))}",
                       f"en vigueur le {_date(new.get('version_loi'))}")
    commune_a, commune_b = old.get("commune") or {}, new.get("commune") or {}
    if commune_a.get("bud") != commune_b.get("bud") or commune_a.get("liste") != commune_b.get("liste"):
        texte.modified("Classement de la commune", _commune_text(commune_a), _commune_text(commune_b),
                       direction({True: 1, False: 0}, bool(commune_a.get("bud")), bool(commune_b.get("bud"))))

    missing = Section("informations", "Informations qui décideraient du résultat")
    _list_changes(missing, "Information manquante",
                  [m["question"] for m in old.get("informations_manquantes") or [] if m.get("conditions")],
                  [m["question"] for m in new.get("informations_manquantes") or [] if m.get("conditions")])

    points = Section("points", "Points à confirmer")
    _list_changes(points, "Point à confirmer",
                  [p.get("quoi") or p.get("motif", "") for p in old.get("points_a_confirmer") or []],
                  [p.get("quoi") or p.get("motif", "") for p in new.get("points_a_confirmer") or []])

    sections = [result, _answers(old, new), texte, _conditions(old, new), _taxes(old, new), _demarches(old, new),
                missing, points]
    return VerdictDiff(sections, old.get("regles_version"), new.get("regles_version"))


def _commune_text(commune: Mapping[str, Any]) -> str:
    if not commune:
        return "commune non indiquée"
    name = commune.get("nom", "?")
    if commune.get("bud"):
        return f"{name} : classée en BUD ({commune.get('liste')})"
    return f"{name} : hors BUD"


def _answer_text(key: str, value: Any) -> str:
    if value is None:
        return "je ne sais pas"
    if isinstance(value, bool):
        return "oui" if value else "non"
    if key in ("date_creation", "date_creation_etablissement"):
        return _date(value)
    if key == "commune_insee":
        commune = load_reference().get(str(value))
        return f"{commune.nom} ({commune.departement}, {value})" if commune else str(value)
    if isinstance(value, (int, float)):
        return nombre_fr(value)
    label = SCHEMA[key].choix.get(value) if key in SCHEMA.champs else None
    if label:  # the choice's label, short: «Création pure», «Commerciale»
        return re.split(r" \(| :", label, maxsplit=1)[0]
    return str(value)


def _answers(old: Mapping[str, Any], new: Mapping[str, Any]) -> Section:
    """The answers that differ between the two checks (the situations as the verdicts carry them)."""
    section = Section("reponses", "Réponses modifiées")
    before, after = old.get("situation") or {}, new.get("situation") or {}
    for key in [*KEYS, *sorted((set(before) | set(after)) - set(KEYS))]:
        a, b = before.get(key), after.get(key)
        if a != b:
            section.modified(LIBELLES.get(key, key)[:1].upper() + LIBELLES.get(key, key)[1:], _answer_text(key, a),
                             _answer_text(key, b))
    return section
