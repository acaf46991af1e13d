"""The rules as a tax expert audits them: generated from `rules/` (through `current_rules()`) and from the expert
rule tests (`load_cases()`), never written a second time.

Which tests exercise what is derived from the tests themselves, not declared:
* a condition is exercised by the tests that state its expected result (`attendu.conditions` or `a_confirmer`);
* a dated value of a parameter is exercised by the tests that check something depending on the parameter (a
  condition that lists it in `rules/conditions.yaml`, or, for a parameter no condition lists, an expected
  schedule or exemption) and whose date falls in the period where that value applies: the date of creation
  or of the establishment, or, for a value fixed per tax year, the years of the expected schedule.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..engine.fr import date_fr, euros, nombre_fr, pct
from ..engine.law import Parameter, ParameterValue, current_rules
from ..engine.schema import NOMBRE_MAX
from ..engine.situation import LIBELLES, SCHEMA
from ..rule_tests import RuleCase, load_cases

CONFIANCES = {
    "V": ("vérifiée", "lue dans un texte officiel ou primaire"),
    "S": ("source secondaire", "lue seulement dans des sources secondaires (fiches, éditeurs juridiques)"),
    "U": ("non vérifiée", "non vérifiée"),
}
TYPE_LABELS = {"date": "date", "commune": "commune (code INSEE)", "choix": "choix", "booleen": "oui / non",
               "nombre": "nombre", "entier": "nombre entier"}
SCHEDULE_EXPECTATIONS = ("impot_benefices", "fin_exoneration_totale", "cfe", "tfpb", "cvae",
                         "exonerations_applicables", "cvae_nulle_du_fait_du_chiffre_affaires")


def _case_dates(case: RuleCase) -> set[dt.date]:
    """The dates at which a test reads the rules: its creation, and its establishment's when given."""
    dates = set()
    for key in ("date_creation", "date_creation_etablissement"):
        try:
            dates.add(dt.date.fromisoformat(str(case.situation.get(key))))
        except ValueError:
            pass
    return dates


def _case_tax_years(case: RuleCase) -> set[int]:
    return {row["annee"] for key in ("cfe", "tfpb", "cvae") for row in case.attendu.get(key) or []
            if isinstance(row, dict) and isinstance(row.get("annee"), int)}


def _value_in_force(parameter: Parameter, on: dt.date) -> ParameterValue:
    return parameter.at(on) or parameter.first()


def case_anchor(case: RuleCase) -> str:
    stem = Path(case.fichier).stem
    slug = re.sub(r"[^a-z0-9]+", "-", case.nom.lower().encode("ascii", "ignore").decode()).strip("-")[:50]
    return f"test-{stem}-{slug}"


def format_value(parameter: Parameter, value: Any) -> str:
    unit = parameter.unite
    if unit == "date" and isinstance(value, dt.date):
        return date_fr(value)
    if unit == "booleen":
        return "oui" if value else "non"
    if unit == "pourcentage":
        return pct(value)
    if unit == "liste_codes":
        return ", ".join(value)
    if unit == "liste_jours":
        return ", ".join(date_fr(dt.date(2000, int(d[:2]), int(d[3:]))).rsplit(" ", 1)[0] for d in value)
    if unit == "liste_jours_apres_paques":
        return ", ".join(f"Pâques + {nombre_fr(v)} j" for v in value)
    if unit == "liste_pourcentages":
        return ", ".join(pct(v) for v in value)
    if unit == "euros":
        return euros(value)
    if unit == "mois":
        return f"{nombre_fr(value)} mois"
    if unit == "ans":
        return f"{nombre_fr(value)} ans"
    if unit == "personnes":
        return f"{nombre_fr(value)} personnes"
    if unit == "echeance" and isinstance(value, dict):
        years = {0: "de l'année de référence", 1: "de l'année suivant l'année de référence",
                 -1: "de l'année précédant l'année de référence"}
        year = years.get(value.get("annee"), f"de l'année de référence {value.get('annee'):+d}")
        day = date_fr(dt.date(2000, value["mois"], value["jour"])).rsplit(" ", 1)[0]  # a leap year: any day
        if value.get("jours_ouvres_apres"):
            return f"le {value['jours_ouvres_apres']}e jour ouvré suivant le {day} {year}"
        return f"le {day} {year}"
    return str(value)


def _case_view(case: RuleCase) -> dict[str, Any]:
    attendu = case.attendu
    expected = []
    for key, value in attendu.items():
        expected.append({"cle": key, "valeur": value})
    return {
        "anchor": case_anchor(case),
        "fichier": Path(case.fichier).name,
        "titre": case.titre,
        "nom": case.nom,
        "situation": [{"cle": k, "libelle": LIBELLES.get(k, k), "valeur": v} for k, v in case.situation.items()],
        "attendu": expected,
        "erreur": "erreur" in attendu,
    }


def _source_view(citation: Any) -> dict[str, Any]:
    reference = citation.reference()
    return {"texte": reference.texte, "url": reference.url, "version": reference.version,
            "confiance": citation.source.confiance}


@lru_cache(maxsize=4)
def _catalogue(empreinte: str) -> dict[str, Any]:
    rules = current_rules()
    cases = list(load_cases())
    by_anchor = {case_anchor(case): case for case in cases}

    condition_params = {p: cid for cid, c in rules.conditions.items() for p in c.parametres}
    condition_tests: dict[str, list[str]] = {cid: [] for cid in rules.conditions}
    schedule_tests: list[str] = []
    for case in cases:
        anchor = case_anchor(case)
        named = set((case.attendu.get("conditions") or {})) | set((case.attendu.get("a_confirmer") or {}))
        for cid in named:
            if cid in condition_tests:
                condition_tests[cid].append(anchor)
        if any(key in case.attendu for key in SCHEDULE_EXPECTATIONS):
            schedule_tests.append(anchor)

    def value_tests(parameter: Parameter, value: ParameterValue) -> list[str]:
        owner = condition_params.get(parameter.id)
        candidates = condition_tests[owner] if owner else schedule_tests
        out = []
        for anchor in candidates:
            case = by_anchor[anchor]
            if "erreur" in case.attendu:
                continue
            if parameter.par_annee_d_imposition:
                dates = {dt.date(year, 1, 1) for year in _case_tax_years(case)}
            else:
                dates = _case_dates(case)
            if any(_value_in_force(parameter, on) is value for on in dates):
                out.append(anchor)
        return out

    def parameter_view(parameter: Parameter) -> dict[str, Any]:
        values = []
        for index, value in enumerate(parameter.valeurs):
            until = parameter.valeurs[index + 1].depuis if index + 1 < len(parameter.valeurs) else None
            values.append({
                "depuis": date_fr(value.depuis),
                "jusqua": date_fr(until - dt.timedelta(days=1)) if until else None,
                "valeur": format_value(parameter, value.valeur),
                "confiance": value.confiance,
                "references": [_source_view(c) for c in value.citations],
                "tests": value_tests(parameter, value),
            })
        return {"id": parameter.id, "libelle": parameter.libelle, "description": parameter.description,
                "unite": parameter.unite, "fichier": parameter.fichier, "valeurs": values,
                "par_annee_d_imposition": parameter.par_annee_d_imposition,
                "condition": condition_params.get(parameter.id)}

    conditions = []
    for cid, condition in rules.conditions.items():
        conditions.append({
            "id": cid, "libelle": condition.libelle, "resume": condition.resume, "confiance": condition.confiance,
            "references": [_source_view(c) for c in condition.citations],
            "parametres": [parameter_view(rules.parametres[p]) for p in condition.parametres],
            "tests": condition_tests[cid],
        })
    others: dict[str, list[dict[str, Any]]] = {}
    for parameter in rules.parametres.values():
        if parameter.id not in condition_params:
            others.setdefault(parameter.fichier, []).append(parameter_view(parameter))

    counts: dict[str, dict[str, int]] = {}
    for row in rules.communes_bud.values():
        counts.setdefault(row.liste.id, {}).setdefault(row.confiance.id, 0)
        counts[row.liste.id][row.confiance.id] += 1
    confidences = {row.confiance.id: row.confiance for row in rules.communes_bud.values()}
    listes = [{"id": liste.id, "libelle": liste.libelle, "categorie": liste.categorie,
               "classee_depuis": date_fr(liste.classee_depuis),
               "references": [_source_view(c) for c in liste.citations],
               "effectifs": [{"confiance": confidences[k].libelle, "a_confirmer": confidences[k].a_confirmer,
                              "nombre": n}
                             for k, n in sorted(counts.get(liste.id, {}).items())],
               "total": sum(counts.get(liste.id, {}).values())}
              for liste in rules.listes.values()]
    communes = sorted(({"insee": r.insee, "nom": r.nom, "departement": r.departement, "liste": r.liste.id,
                        "confiance": r.confiance.libelle, "a_confirmer": r.confiance.a_confirmer}
                       for r in rules.communes_bud.values()), key=lambda r: (r["nom"], r["insee"]))
    versions = [{"en_vigueur": date_fr(v.en_vigueur), "modification": v.modification, "confiance": v.confiance,
                 "texte": v.texte_modificateur.texte if v.texte_modificateur else None,
                 "url": rules.article.cite(version=v.en_vigueur.isoformat()).url}
                for v in rules.versions]
    sources = sorted(({"id": s.id, "texte": s.texte, "url": s.url, "confiance": s.confiance}
                      for s in rules.sources.values()), key=lambda s: (s["confiance"], s["texte"]))
    condition_names = {cid: condition.libelle for cid, condition in rules.conditions.items()}
    today = dt.date.today()
    champs = [{"id": c.id, "libelle": c.intitule(today, rules), "question": c.question(today, rules),
               "type": TYPE_LABELS[c.type] + (f" ({c.symbole})" if c.symbole else ""),
               "bornes": (f"de {nombre_fr(c.min)} à {nombre_fr(c.max)}"
                          if c.numerique and c.max < NOMBRE_MAX else None),
               "choix": [{"valeur": value, "libelle": label} for value, label in c.choix.items()],
               "obligatoire": c.obligatoire, "je_ne_sais_pas": c.je_ne_sais_pas,
               "conditions": [{"id": cid, "libelle": condition_names[cid]} for cid in c.conditions],
               "echeanciers": list(c.echeanciers)}
              for c in SCHEMA]
    case_views = [_case_view(case) for case in cases]
    files: dict[str, dict[str, Any]] = {}
    for view in case_views:
        entry = files.setdefault(view["fichier"], {"fichier": view["fichier"], "titre": view["titre"], "cas": []})
        entry["cas"].append(view)
    return {
        "empreinte": rules.empreinte,
        "conditions": conditions,
        "champs": champs,
        "autres_parametres": others,
        "versions": versions,
        "listes": listes,
        "communes": communes,
        "sources": sources,
        "tests": list(files.values()),
        "tests_par_ancre": {v["anchor"]: v for v in case_views},
        "nombre_tests": len(case_views),
        "nombre_parametres": len(rules.parametres),
        "confiances": CONFIANCES,
    }


def catalogue() -> dict[str, Any]:
    return _catalogue(current_rules().empreinte)
