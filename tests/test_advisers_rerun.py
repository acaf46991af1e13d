"""Re-running an old situation under today's rules, and what changed: condition by condition, schedule by schedule,
in French (diff.compare_verdicts), on the page and in the API."""

from __future__ import annotations

import copy

import pytest

from advisers_helpers import DOUAI, AdviserClient, adv_app, world
from bud_checker import evaluate
from bud_checker.web.advisers.diff import compare_verdicts
from conftest import page_text


@pytest.fixture(scope="module")
def verdict() -> dict:
    return evaluate(DOUAI).to_dict()


def _changes(diff, section: str) -> list:
    return next(s.changes for s in diff.sections if s.id == section)


def test_the_same_verdict_has_no_change(verdict):
    diff = compare_verdicts(verdict, copy.deepcopy(verdict))
    assert diff.identical and diff.count == 0 and diff.same_rules
    assert diff.to_dict() == {"identique": True, "regles_avant": verdict["regles_version"],
                              "regles_apres": verdict["regles_version"], "sections": []}


def test_status_and_conditions(verdict):
    old = copy.deepcopy(verdict)
    old["statut"], old["regles_version"] = "indetermine", "0ld0ld0ld0ld0ld0"
    pme = next(c for c in old["conditions"] if c["id"] == "taille_pme")
    pme["statut"] = "inconnue"
    pme["references"] = pme["references"][:1]
    pme["motifs_a_confirmer"] = ["Un ancien motif."]
    old["conditions"] = [c for c in old["conditions"] if c["id"] != "capital"]
    diff = compare_verdicts(old, verdict)
    assert not diff.identical and not diff.same_rules
    result = _changes(diff, "resultat")
    assert (result[0].objet, result[0].avant, result[0].apres) == ("Statut", "à confirmer", "éligible")
    conditions = {(c.objet, c.nature): c for c in _changes(diff, "conditions")}
    status = conditions[("« Petite ou moyenne entreprise (PME) » : statut", "modifie")]
    assert (status.avant, status.apres) == ("à vérifier", "remplie")
    assert ("« Petite ou moyenne entreprise (PME) » : motif à confirmer", "retire") in conditions
    assert ("« Petite ou moyenne entreprise (PME) » : texte de référence", "ajoute") in conditions
    added = [c for c in _changes(diff, "conditions") if c.nature == "ajoute" and "capital" in c.objet.lower()]
    assert added and "nouvelle condition : remplie" in added[0].apres


def test_schedules_year_by_year_and_period_by_period(verdict):
    old = copy.deepcopy(verdict)
    profit = old["exonerations"]["impot_benefices"]
    profit["fin_exoneration_totale"] = "2021-12-31"
    profit["periodes"][1]["taux_exoneration"] = 60
    del profit["periodes"][-1]
    cfe = old["exonerations"]["cfe"]  # periods of years (verdict format 3): change the first year, add one
    first = cfe["periodes"][0]
    cfe["periodes"][0:1] = [{**first, "a": first["de"], "part_de_droit": 25}, {**first, "de": first["de"] + 1}]
    cfe["periodes"].append({**cfe["periodes"][-1], "de": cfe["periodes"][-1]["a"] + 1,
                            "a": cfe["periodes"][-1]["a"] + 1})
    old["demarches"][2]["echeance"] = "2019-06-30"
    diff = compare_verdicts(old, verdict)
    changes = {(c.objet, c.nature): c for c in _changes(diff, "exonerations")}
    end = changes[("Impôt sur les bénéfices : fin de l'exonération totale", "modifie")]
    assert (end.avant, end.apres) == ("31 décembre 2021", "30 avril 2021")
    second = [c for c in changes.values() if c.objet.startswith("Impôt sur les bénéfices : du 1er mai 2021")]
    assert second[0].avant == "60\u00a0% exonéré" and second[0].apres == "75\u00a0% exonéré"
    assert any(c.nature == "ajoute" and c.objet.startswith("Impôt sur les bénéfices : du 1er mai 2023")
               for c in changes.values())
    first_year = verdict["exonerations"]["cfe"]["periodes"][0]["de"]
    year = changes[(f"Cotisation foncière des entreprises (CFE) : {first_year}", "modifie")]
    assert year.avant.startswith("25\u00a0% de droit") and year.apres.startswith("50\u00a0% de droit")
    assert any(c.nature == "retire" and c.objet.startswith("Cotisation foncière des entreprises (CFE) : 20")
               for c in changes.values())
    filing = _changes(diff, "demarches")[0]
    assert filing.objet.endswith(": échéance") and filing.avant == "30 juin 2019"


def test_to_dict_is_the_api_shape(verdict):
    old = copy.deepcopy(verdict)
    old["statut"] = "non_eligible"
    body = compare_verdicts(old, verdict).to_dict()
    assert body["identique"] is False
    assert body["sections"][0] == {"id": "resultat", "titre": "Résultat", "changements": [
        {"objet": "Statut", "nature": "modifie", "avant": "non éligible", "apres": "éligible", "sens": "mieux"}]}


def _age(app, verification_id: str, mutate) -> None:
    """Make a stored check look as if older rules had computed it."""
    from bud_checker.web.advisers.models import DossierVerification
    from bud_checker.web.extensions import db

    with app.app_context():
        stored = db.session.get(DossierVerification, verification_id)
        verdict = copy.deepcopy(stored.verdict)
        mutate(verdict)
        stored.verdict, stored.statut, stored.regles_version = verdict, verdict["statut"], verdict["regles_version"]
        db.session.commit()


def _older_rules(verdict: dict) -> None:
    verdict["statut"], verdict["libelle_statut"] = "indetermine", "à confirmer"
    verdict["regles_version"] = "ancienne00000000"
    clause = next(c for c in verdict["conditions"] if c["id"] == "clause_embauche")
    clause["statut"] = "inconnue"
    verdict["exonerations"]["impot_benefices"]["fin_exoneration_totale"] = "2020-12-31"


def test_rerun_on_the_page_shows_what_changed(world):
    from bud_checker.engine.law import current_rules

    adviser = AdviserClient(world.app, world.a1)
    dossier = adviser.new_dossier()
    old = adviser.new_verification(dossier, DOUAI)
    _age(world.app, old, _older_rules)
    page = page_text(adviser.get(f"/conseillers/dossiers/{dossier}/verifications/{old}").get_data(as_text=True))
    assert "Les règles ont changé depuis cette vérification" in page and "règles antérieures" in page
    response = adviser.post(f"/conseillers/dossiers/{dossier}/verifications/{old}/relancer")
    assert response.status_code == 303
    fresh = page_text(adviser.get(response.headers["Location"]).get_data(as_text=True))
    assert "Ce qui a changé depuis la vérification relancée" in fresh
    assert "Statut à confirmer → éligible" in fresh.replace("avant : ", "").replace("après : ", "")
    assert "« Clause d'emploi ou d'embauche » : statut" in fresh
    assert "fin de l'exonération totale" in fresh and "30 avril 2021" in fresh
    assert f"ancienne00000000 → {current_rules().empreinte}" in fresh
    body = adviser.get(f"/api/v1/conseillers/dossiers/{dossier}").get_json()
    assert [v["canal"] for v in body["verifications"]] == ["relance", "api"]
    assert body["verifications"][0]["relance_de"] == old


def test_rerun_through_the_api_returns_the_changes(world):
    adviser = AdviserClient(world.app, world.a1)
    dossier = adviser.new_dossier()
    old = adviser.new_verification(dossier, DOUAI)
    same = adviser.api("POST", f"/api/v1/conseillers/dossiers/{dossier}/verifications/{old}/relance")
    assert same.status_code == 201 and same.get_json()["changements"]["identique"] is True
    _age(world.app, old, _older_rules)
    response = adviser.api("POST", f"/api/v1/conseillers/dossiers/{dossier}/verifications/{old}/relance")
    assert response.status_code == 201
    body = response.get_json()
    assert body["canal"] == "relance" and body["relance_de"] == old and body["statut"] == "eligible"
    sections = {s["id"]: s for s in body["changements"]["sections"]}
    assert sections["resultat"]["changements"][0]["avant"] == "à confirmer"
    assert body["changements"]["regles_avant"] == "ancienne00000000"
    url = f"/api/v1/conseillers/dossiers/{dossier}/verifications/{body['id']}/comparaison"
    comparison = adviser.get(url).get_json()
    assert comparison["avant"]["id"] == old and comparison["changements"] == body["changements"]


def test_compare_any_two_checks_of_a_case_file(world):
    adviser = AdviserClient(world.app, world.a1)
    dossier = adviser.new_dossier()
    first = adviser.new_verification(dossier, DOUAI)
    second = adviser.new_verification(dossier, {**DOUAI, "effectif": 300})
    compared = adviser.get(f"/conseillers/dossiers/{dossier}/comparer?a={second}&b={first}")
    page = page_text(compared.get_data(as_text=True))
    assert "Statut éligible → non éligible" in page.replace("avant : ", "").replace("après : ", "")
    assert "« Petite ou moyenne entreprise (PME) » : statut" in page
    # The check page compares with the previous check of the file.
    page = page_text(adviser.get(f"/conseillers/dossiers/{dossier}/verifications/{second}").get_data(as_text=True))
    assert "Ce qui a changé depuis la vérification précédente" in page
