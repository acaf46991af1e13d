"""Expert rule tests: YAML files under rules/tests/, readable and writable without Python.

A file holds a `titre`, an optional `situation_de_base` (merged under each case's situation; a key set to
`null` in a case removes it) and a list of `cas`; each case gives a `situation` and what is `attendu`:

    statut: eligible | non_eligible | indetermine
    version_loi: 2019-01-01                       # the article version applied
    conditions: {periode_creation: remplie, ...}  # only the conditions named are checked
    a_confirmer: {commune_zone: true, ...}        # the «à confirmer» flag of the conditions named
    fin_exoneration_totale: 2021-04-30
    impot_benefices: [{debut: ..., fin: ..., taux_exoneration: 100}, ...]  # the whole list, keys given only
    cfe: [{annee: 2020, part_de_droit: 50, part_sur_deliberation: 0}]      # the years named
    tfpb: [...]                                   # likewise
    cvae: [...]                                   # likewise (cvae_supprimee, parts)
    cvae_nulle_du_fait_du_chiffre_affaires: true
    exonerations_applicables: {cfe: false, ...}
    informations_manquantes: [capital_detenu_par_societes_pct, ...]  # fields that must be asked (subset)
    informations_non_demandees: [embauches_eligibles_residents_bud]  # fields that must not be asked
    erreur: {champ: date_creation}                # the situation must be refused, naming this field
    verdict_a_confirmer: true                     # an uncertain point could change this verdict
    fondements: {commune_zone: incertain, ...}    # what each condition named rests on
    resume_commence_par: "Éligible, à confirmer : classement de la commune"
    resume_contient: ["…", ...]                   # phrases the headline must contain
    resume_exclut: ["exonération totale"]         # phrases the headline must not contain
    explication_contient: {periode_creation: "loi de finances pour 2027"}
    limites_au_plus: 3                            # the general limits, stated once, stay short
    sources_officielles: true                     # every reference shown is on an official host
    version_citee: {cgi_44_sexdecies: 2023-12-31} # the dated source points to this version, everywhere
    avertissements: [{code: code_postal_homonyme, message_contient: "Douai"}]  # warnings (keys given only)
    demarches: [{id: demande_cfe, passee: true}]  # the steps named by id (keys given only; *_contient: text)
    demarches_absentes: [se_renseigner_deliberation]           # steps that must not be listed
    explications_contiennent: {implantation: "15 %", cfe: "intercommunalité"}  # condition or tax, and its points
    references_contiennent: {cvae: ["1586 quater"]}  # texts of the references of a condition or tax
    questions_contiennent: {deliberation_exoneration_cfe: "intercommunalité"}  # the question asked for a field

Texts are compared with ordinary spaces: write «Éligible, à confirmer : …», the verdict's non-breaking spaces
match.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import yaml

from .engine.catalogue import catalogue
from .engine.contract import read
from .engine.law import current_rules, rules_dir
from .engine.situation import SituationError
from .engine.verdict import evaluate


@dataclass(frozen=True)
class RuleCase:
    fichier: str
    titre: str
    nom: str
    situation: dict[str, Any]
    attendu: dict[str, Any]

    @property
    def id(self) -> str:
        return f"{Path(self.fichier).stem}: {self.nom}"


def _plain(value: Any) -> Any:
    """YAML dates become ISO strings, so that expectations compare with the JSON verdict."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def default_paths() -> list[Path]:
    return sorted((rules_dir() / "tests").glob("*.yaml"))


def load_cases(paths: Iterable[Path | str] | None = None) -> list[RuleCase]:
    files: list[Path] = []
    for path in (paths or default_paths()):
        path = Path(path)
        files.extend(sorted(path.glob("*.yaml")) if path.is_dir() else [path])
    cases = []
    for path in files:
        with path.open(encoding="utf-8") as handle:
            document = yaml.safe_load(handle) or {}
        base = document.get("situation_de_base") or {}
        for raw in document.get("cas") or []:
            situation = {**base, **(raw.get("situation") or {})}
            situation = {k: v for k, v in situation.items() if v is not None}
            # A YAML date stays a date for the engine, as a JSON string would be parsed.
            situation = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in situation.items()}
            cases.append(RuleCase(str(path), document.get("titre", path.stem), raw["nom"], situation,
                                  _plain(raw.get("attendu") or {})))
    return cases


def _compare_years(label: str, expected: list[dict[str, Any]], actual: list[dict[str, Any]]) -> list[str]:
    by_year = {row["annee"]: row for row in actual}
    failures = []
    for row in expected:
        got = by_year.get(row["annee"])
        if got is None:
            failures.append(f"{label} : année {row['annee']} absente "
                            f"(années calculées : {sorted(by_year) or 'aucune'})")
            continue
        for key, value in row.items():
            if got.get(key) != value:
                failures.append(f"{label} {row['annee']} : {key} attendu {value!r}, obtenu {got.get(key)!r}")
    return failures


def run_case(case: RuleCase) -> list[str]:
    """The list of differences between the expectation and the engine's verdict (empty when the case passes)."""
    attendu = case.attendu
    try:
        # The verdict as pages show it: resolved against the rules catalogue (sources, limits, statements).
        verdict = read(evaluate(case.situation).to_dict(), catalogue(current_rules()))
    except SituationError as error:
        expected_error = attendu.get("erreur")
        if expected_error is None:
            return [f"situation refusée : {error}"]
        if expected_error.get("champ") not in (None, error.champ):
            return [f"erreur attendue sur {expected_error['champ']!r}, obtenue sur {error.champ!r} : {error.message}"]
        return []
    if "erreur" in attendu:
        return [f"la situation devait être refusée (champ {attendu['erreur'].get('champ')!r}), "
                f"verdict {verdict['statut']}"]
    failures = []
    for key in ("statut", "version_loi"):
        if key in attendu and verdict[key] != attendu[key]:
            failures.append(f"{key} attendu {attendu[key]!r}, obtenu {verdict[key]!r}")
    conditions = {c["id"]: c for c in verdict["conditions"]}
    for condition_id, statut in (attendu.get("conditions") or {}).items():
        if condition_id not in conditions:
            failures.append(f"condition inconnue {condition_id!r}")
        elif conditions[condition_id]["statut"] != statut:
            failures.append(f"condition {condition_id} attendue {statut!r}, "
                            f"obtenue {conditions[condition_id]['statut']!r} "
                            f"({conditions[condition_id]['explication']})")
    for condition_id, flag in (attendu.get("a_confirmer") or {}).items():
        if condition_id in conditions and conditions[condition_id]["a_confirmer"] != flag:
            failures.append(f"a_confirmer de {condition_id} attendu {flag!r}")
    exonerations = verdict["exonerations"]
    if "fin_exoneration_totale" in attendu:
        got = exonerations["impot_benefices"].get("fin_exoneration_totale")
        if got != attendu["fin_exoneration_totale"]:
            failures.append(f"fin_exoneration_totale attendue {attendu['fin_exoneration_totale']!r}, obtenue {got!r}")
    if "impot_benefices" in attendu:
        periods = exonerations["impot_benefices"]["periodes"]
        expected = attendu["impot_benefices"]
        if len(periods) != len(expected):
            failures.append(f"impot_benefices : {len(expected)} périodes attendues, {len(periods)} obtenues")
        for index, (want, got) in enumerate(zip(expected, periods), start=1):
            for key, value in want.items():
                if got.get(key) != value:
                    failures.append(f"impot_benefices période {index} : {key} attendu {value!r}, "
                                    f"obtenu {got.get(key)!r}")
    for tax in ("cfe", "tfpb", "cvae"):
        if tax in attendu:
            failures += _compare_years(tax, attendu[tax], exonerations[tax]["annees"])
    for tax, flag in (attendu.get("exonerations_applicables") or {}).items():
        if exonerations[tax]["applicable"] != flag:
            failures.append(f"exonération {tax} : applicable attendu {flag!r}, "
                            f"obtenu {exonerations[tax]['applicable']!r}")
    if "cvae_nulle_du_fait_du_chiffre_affaires" in attendu:
        got = exonerations["cvae"].get("nulle_du_fait_du_chiffre_affaires")
        if got != attendu["cvae_nulle_du_fait_du_chiffre_affaires"]:
            failures.append("cvae_nulle_du_fait_du_chiffre_affaires attendu "
                            f"{attendu['cvae_nulle_du_fait_du_chiffre_affaires']!r}, obtenu {got!r}")
    failures += _certainty(attendu, verdict, conditions)
    failures += _compare_texts(attendu, verdict, conditions, exonerations)
    asked = {m["champ"] for m in verdict["informations_manquantes"]}
    for champ in attendu.get("informations_manquantes") or []:
        if champ not in asked:
            failures.append(f"information manquante attendue : {champ} (demandées : {sorted(asked)})")
    for champ in attendu.get("informations_non_demandees") or []:
        if champ in asked:
            failures.append(f"information qui ne devait pas être demandée : {champ}")
    return failures


def _texts(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def _compare_texts(attendu: dict[str, Any], verdict: dict[str, Any], conditions: dict[str, Any],
                   exonerations: dict[str, Any]) -> list[str]:
    """The expectations on sentences, warnings and steps (spaces compared as ordinary spaces)."""
    import json
    verdict = json.loads(_plain_spaces(json.dumps(verdict, ensure_ascii=False)))
    conditions = {c["id"]: c for c in verdict["conditions"]}
    exonerations = verdict["exonerations"]
    failures = []
    for text in _texts(attendu.get("resume_exclut")):
        if text in verdict["resume"]:
            failures.append(f"le résumé ne devait pas contenir « {text} » : {verdict['resume']}")
    warnings = verdict.get("avertissements") or []
    expected_warnings = attendu.get("avertissements")
    if expected_warnings is not None:
        if not expected_warnings and warnings:
            failures.append(f"aucun avertissement attendu, obtenus : {[w['code'] for w in warnings]}")
        for want in expected_warnings:
            found = [w for w in warnings if w["code"] == want.get("code", w["code"])
                     and all(t in w["message"] for t in _texts(want.get("message_contient")))]
            if not found:
                failures.append(f"avertissement attendu {want!r}, obtenus : {[w['message'] for w in warnings]}")
    steps = {d.get("id"): d for d in verdict.get("demarches") or []}
    for want in attendu.get("demarches") or []:
        got = steps.get(want.get("id"))
        if got is None:
            failures.append(f"démarche {want.get('id')!r} absente (démarches : {sorted(k for k in steps if k)})")
            continue
        for key, value in want.items():
            if key.endswith("_contient"):
                field_name = key.removesuffix("_contient")
                for text in _texts(value):
                    if text not in (got.get(field_name) or ""):
                        failures.append(f"démarche {want['id']} : {field_name} devait contenir « {text} » : "
                                        f"{got.get(field_name)}")
            elif got.get(key) != value:
                failures.append(f"démarche {want['id']} : {key} attendu {value!r}, obtenu {got.get(key)!r}")
    for step_id in attendu.get("demarches_absentes") or []:
        if step_id in steps:
            failures.append(f"la démarche {step_id!r} ne devait pas figurer")
    for key, value in (attendu.get("explications_contiennent") or {}).items():
        item = conditions.get(key) or exonerations.get(key)
        text = (item or {}).get("explication", "") + " " + " ".join((item or {}).get("motifs_a_confirmer") or [])
        for part in _texts(value):
            if part not in text:
                failures.append(f"l'explication de {key} devait contenir « {part} » : {text.strip()}")
    for key, value in (attendu.get("references_contiennent") or {}).items():
        item = conditions.get(key) or exonerations.get(key) or {}
        sources = verdict.get("sources") or {}

        def cited_text(ref: dict[str, Any], sources: dict[str, Any] = sources) -> str:
            # Verdict shape 2: {source: id, precision}; shape 1: the full text at each use.
            texte = ref.get("texte") or (sources.get(ref.get("source")) or {}).get("texte", "")
            return f"{texte}, {ref['precision']}" if ref.get("precision") and "texte" not in ref else texte
        cited = " | ".join(cited_text(r) for r in item.get("references") or [])
        for part in _texts(value):
            if part not in cited:
                failures.append(f"les références de {key} devaient citer « {part} » : {cited}")
    questions = {m["champ"]: m["question"] for m in verdict["informations_manquantes"]}
    for champ, value in (attendu.get("questions_contiennent") or {}).items():
        for part in _texts(value):
            if part not in questions.get(champ, ""):
                failures.append(f"la question sur {champ} devait contenir « {part} » : {questions.get(champ)}")
    return failures


def _plain_spaces(text: str) -> str:
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def _certainty(attendu: dict[str, Any], verdict: dict[str, Any], conditions: dict[str, Any]) -> list[str]:
    """Expectations on certainty (issue 8 items 1 and 8): the verdict's flag, each condition's footing, the
    headline and the explanations."""
    failures = []
    if "verdict_a_confirmer" in attendu and verdict["a_confirmer"] != attendu["verdict_a_confirmer"]:
        failures.append(f"verdict à confirmer attendu {attendu['verdict_a_confirmer']!r} "
                        f"(points : {[p['quoi'] for p in verdict['points_a_confirmer']]})")
    for condition_id, fondement in (attendu.get("fondements") or {}).items():
        got = conditions.get(condition_id, {}).get("fondement")
        if got != fondement:
            failures.append(f"fondement de {condition_id} attendu {fondement!r}, obtenu {got!r}")
    resume = _plain_spaces(verdict["resume"])
    if "resume_commence_par" in attendu and not resume.startswith(_plain_spaces(attendu["resume_commence_par"])):
        failures.append(f"résumé attendu commençant par {attendu['resume_commence_par']!r}, obtenu {resume!r}")
    for phrase in attendu.get("resume_contient") or []:
        if _plain_spaces(phrase) not in resume:
            failures.append(f"résumé sans {phrase!r} : {resume!r}")
    for condition_id, phrase in (attendu.get("explication_contient") or {}).items():
        text = _plain_spaces(conditions.get(condition_id, {}).get("explication", ""))
        if _plain_spaces(phrase) not in text:
            failures.append(f"explication de {condition_id} sans {phrase!r} : {text!r}")
    for source_id, version in (attendu.get("version_citee") or {}).items():
        got = (verdict["sources"].get(source_id) or {}).get("version")
        if got != version:
            failures.append(f"{source_id} cité dans la version {got!r}, attendu {version!r}")
    if attendu.get("sources_officielles"):
        from .engine.law import is_official_url

        for item in [*verdict["conditions"], *verdict["exonerations"].values(), *verdict["demarches"]]:
            for ref in item["references"]:
                source = verdict["sources"][ref["source"]]
                if source.get("complementaire") or not is_official_url(source["url"]):
                    failures.append(f"référence non officielle : {source['texte']} ({source['url']})")
    if "limites_au_plus" in attendu and len(verdict["limites"]) > attendu["limites_au_plus"]:
        failures.append(f"{len(verdict['limites'])} limites, au plus {attendu['limites_au_plus']} attendues")
    return failures


def run(paths: Iterable[Path | str] | None = None) -> tuple[list[tuple[RuleCase, list[str]]], int, int]:
    results = [(case, run_case(case)) for case in load_cases(paths)]
    failed = sum(1 for _, failures in results if failures)
    return results, len(results) - failed, failed
