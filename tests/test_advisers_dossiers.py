"""Case files: create, edit, SIREN checked with its Luhn key, search and list; checks made from the case file with
the public form's questions; the history (who, when, which rules); the JSON API over the same."""

from __future__ import annotations

import re

import pytest

from advisers_helpers import (DOUAI, AdviserClient, adv_app, make_adviser, make_org, unique,
                              world)
from conftest import page_text


@pytest.fixture(scope="module")
def adviser(world):
    return AdviserClient(world.app, world.a1)


@pytest.mark.parametrize("raw, expected", [("732 829 320", "732829320"), ("552.100.554", "552100554"),
                                           ("", None), ("  ", None), ("443061841", "443061841")])
def test_siren_accepted(raw, expected):
    from bud_checker.web.advisers.services import clean_siren

    assert clean_siren(raw) == expected


@pytest.mark.parametrize("raw, message", [("123456789", "clé de contrôle"), ("732829321", "clé de contrôle"),
                                          ("000000000", "n'est pas un SIREN valide"), ("12345", "attendu 9 chiffres"),
                                          ("73282932", "9 chiffres"), ("7328293200", "9 chiffres"),
                                          ("ABC829320", "9 chiffres")])
def test_siren_refused(raw, message):
    from bud_checker.web.advisers.services import ValidationError, clean_siren

    with pytest.raises(ValidationError) as error:
        clean_siren(raw)
    assert error.value.champ == "siren" and message in error.value.message


def test_create_a_case_file_through_the_page(adviser):
    nom = unique("Boulangerie Dupont")
    response = adviser.post("/conseillers/dossiers/nouveau", {"nom": nom, "siren": "732 829 320",
                                                              "notes": "Rendez-vous du 3 mars.\nÀ rappeler."})
    assert response.status_code == 303
    page = adviser.get(response.headers["Location"])
    text = page_text(page.get_data(as_text=True))
    assert nom in text and "SIREN 732 829 320" in text and "À rappeler." in text
    assert "Aucune vérification dans ce dossier" in text
    assert "Anne Artois" in text  # created by


def test_case_file_form_errors_are_shown_next_to_the_fields(adviser):
    response = adviser.post("/conseillers/dossiers/nouveau", {"nom": "", "siren": ""})
    assert response.status_code == 422
    assert "Indiquez le nom de l'entreprise" in page_text(response.get_data(as_text=True))
    response = adviser.post("/conseillers/dossiers/nouveau", {"nom": "X", "siren": "123 456 789"})
    assert response.status_code == 422
    text = page_text(response.get_data(as_text=True))
    assert "clé de contrôle" in text and 'aria-invalid="true"' in response.get_data(as_text=True)


def test_one_siren_one_case_file_per_organisation(world, adviser):
    adviser.new_dossier(siren="542051180")
    response = adviser.post("/conseillers/dossiers/nouveau", {"nom": "Doublon", "siren": "542 051 180"})
    assert response.status_code == 422 and "déjà celui du dossier" in page_text(response.get_data(as_text=True))
    # Another organisation may follow the same company.
    other = AdviserClient(world.app, world.b1)
    created = other.api("POST", "/api/v1/conseillers/dossiers", {"nom": "Même société", "siren": "542051180"})
    assert created.status_code == 201


def test_edit_a_case_file(adviser):
    dossier = adviser.new_dossier("Ancien nom")
    form = adviser.get(f"/conseillers/dossiers/{dossier}/modifier")
    assert 'value="Ancien nom"' in form.get_data(as_text=True)
    response = adviser.post(f"/conseillers/dossiers/{dossier}/modifier",
                            {"nom": "Nouveau nom", "siren": "443 061 841", "notes": "modifié"})
    assert response.status_code == 303
    body = adviser.get(f"/api/v1/conseillers/dossiers/{dossier}").get_json()
    assert (body["nom"], body["siren"], body["notes"]) == ("Nouveau nom", "443061841", "modifié")
    assert body["modifie_par"]["email"] == adviser.email


def test_search_by_name_without_accents_or_by_siren(world):
    org = make_org(world.app, unique("CCI Recherche"))[1]
    adviser = AdviserClient(world.app, make_adviser(world.app, org))
    adviser.new_dossier("Société Générale des Crêpes", siren="356000000")
    adviser.new_dossier("Garage Lefèvre")
    adviser.new_dossier("Crèmerie 100 % bio")

    def names(query: str) -> list[str]:
        return [d["nom"] for d in adviser.get(f"/api/v1/conseillers/dossiers?q={query}").get_json()["dossiers"]]

    assert names("crepes") == ["Société Générale des Crêpes"]
    assert names("GARAGE lefevre") == ["Garage Lefèvre"]
    assert names("356 000") == ["Société Générale des Crêpes"]
    assert names("100 %") == ["Crèmerie 100 % bio"]  # «%» is a character, not a wildcard
    assert names("introuvable") == []
    assert len(names("")) == 3
    page = page_text(adviser.get("/conseillers/dossiers?q=lefevre").get_data(as_text=True))
    assert "Garage Lefèvre" in page and "Crêpes" not in page


def test_the_list_is_paginated(world):
    org = make_org(world.app, unique("CCI Pages"))[1]
    adviser = AdviserClient(world.app, make_adviser(world.app, org))
    for index in range(27):
        adviser.new_dossier(f"Entreprise {index:02d}")
    first = adviser.get("/api/v1/conseillers/dossiers").get_json()
    assert (first["total"], first["pages"], len(first["dossiers"])) == (27, 2, 25)
    assert first["dossiers"][0]["nom"] == "Entreprise 26"  # most recent activity first
    second = adviser.get("/api/v1/conseillers/dossiers?page=2").get_json()
    assert [d["nom"] for d in second["dossiers"]] == ["Entreprise 01", "Entreprise 00"]
    page = page_text(adviser.get("/conseillers/dossiers?page=2").get_data(as_text=True))
    assert "Page 2 sur 2" in page and "Entreprise 00" in page


def _form(adviser, dossier: str, **answers) -> dict:
    """The check form as a browser without JavaScript sends it: every radio at «je ne sais pas» by default."""
    html = adviser.get(f"/conseillers/dossiers/{dossier}/verifier").get_data(as_text=True)
    data = {}
    for name, value in re.findall(r'<input[^>]*checked[^>]*name="([^"]+)"[^>]*value="([^"]+)"', html):
        data[name] = value
    for name, value in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]+)"[^>]*checked', html):
        data[name] = value
    data.update(answers)
    return data


def test_a_check_from_the_case_file_with_the_public_questions(adviser):
    dossier = adviser.new_dossier()
    page = adviser.get(f"/conseillers/dossiers/{dossier}/verifier")
    text = page_text(page.get_data(as_text=True))
    for label in ("Date de création (début d'activité)", "Commune d'implantation de l'entreprise",
                  "Pour préciser l'échéancier", "Je ne sais pas"):
        assert label in text
    data = _form(adviser, dossier, date_creation="14/05/2019", commune="Douai", activite="commerciale",
                 origine="creation_pure", siege_dans_zone="oui", activite_et_moyens_dans_zone="oui", effectif="3",
                 chiffre_affaires="180 000",
                 total_bilan="90000", capital_detenu_par_societes_pct="0", salaries_eligibles="2",
                 salaries_eligibles_residents_bud="2")
    response = adviser.post(f"/conseillers/dossiers/{dossier}/verifier", data)
    assert response.status_code == 303, page_text(response.get_data(as_text=True))[:800]
    result = page_text(adviser.get(response.headers["Location"]).get_data(as_text=True))
    assert "Éligible" in result and "Anne Artois" in result and "règles du jour" in result
    body = adviser.get(f"/api/v1/conseillers/dossiers/{dossier}").get_json()
    assert body["verifications"][0]["statut"] == "eligible"
    check = adviser.get(body["verifications"][0]["url"]).get_json()
    assert check["situation"]["commune_insee"] == "59178" and check["situation"]["chiffre_affaires"] == 180000
    assert "non_sedentaire" not in check["situation"]  # left at «je ne sais pas»


def test_empty_answers_mean_unknown_and_only_the_date_is_required(adviser):
    dossier = adviser.new_dossier()
    response = adviser.post(f"/conseillers/dossiers/{dossier}/verifier", _form(adviser, dossier, date_creation=""))
    assert response.status_code == 422
    assert "Indiquez la date de création (début d'activité)" in page_text(response.get_data(as_text=True))
    response = adviser.post(f"/conseillers/dossiers/{dossier}/verifier",
                            _form(adviser, dossier, date_creation="2019-05-14"))
    assert response.status_code == 303
    result = page_text(adviser.get(response.headers["Location"]).get_data(as_text=True))
    assert "À confirmer" in result and "Ce qu'il faut vérifier pour conclure" in result


def test_check_form_errors_name_the_field(adviser):
    dossier = adviser.new_dossier()
    response = adviser.post(f"/conseillers/dossiers/{dossier}/verifier",
                            _form(adviser, dossier, date_creation="30/02/2019", effectif="beaucoup", commune="Zzyzx"))
    assert response.status_code == 422
    text = page_text(response.get_data(as_text=True))
    assert "« beaucoup » n'est pas un nombre" in text and "Aucune commune ne correspond à « Zzyzx »" in text
    response = adviser.post(f"/conseillers/dossiers/{dossier}/verifier",
                            _form(adviser, dossier, date_creation="30/02/2019"))
    assert response.status_code == 422 and "n'est pas une date qui existe" in page_text(response.get_data(as_text=True))
    assert adviser.get(f"/api/v1/conseillers/dossiers/{dossier}/verifications").get_json()["verifications"] == []


def test_a_new_check_can_start_from_an_earlier_one(adviser):
    dossier = adviser.new_dossier()
    earlier = adviser.new_verification(dossier, DOUAI)
    html = adviser.get(f"/conseillers/dossiers/{dossier}/verifier?depuis={earlier}").get_data(as_text=True)
    assert 'value="2019-05-14"' in html and 'value="Douai (59)"' in html
    assert re.search(r'name="activite"[^>]*value="commerciale"[^>]*checked'
                     r'|checked[^>]*name="activite"[^>]*value="commerciale"', html)


def test_history_shows_who_when_and_which_rules(world, adviser):
    from bud_checker.engine.law import current_rules

    colleague = AdviserClient(world.app, world.a2)
    dossier = adviser.new_dossier()
    first = adviser.new_verification(dossier, DOUAI)
    second = colleague.new_verification(dossier, {**DOUAI, "effectif": 300})
    body = adviser.get(f"/api/v1/conseillers/dossiers/{dossier}").get_json()
    history = body["verifications"]
    assert [v["id"] for v in history] == [second, first]  # newest first
    assert [v["par"]["email"] for v in history] == [world.a2, world.a1]
    assert {v["regles_version"] for v in history} == {current_rules().empreinte}
    assert [v["statut"] for v in history] == ["non_eligible", "eligible"]
    assert all(v["canal"] == "api" and v["cree_le"].endswith("Z") for v in history)
    text = page_text(adviser.get(f"/conseillers/dossiers/{dossier}").get_data(as_text=True))
    assert "Historique des vérifications" in text and "Alain Artois" in text and "Anne Artois" in text
    assert current_rules().empreinte in text


def test_api_case_file_errors(adviser):
    api = "/api/v1/conseillers/dossiers"
    assert adviser.api("POST", api, {"nom": ""}).get_json()["erreur"]["champ"] == "nom"
    response = adviser.api("POST", api, {"nom": "X", "siren": "123456789"})
    assert response.status_code == 422 and response.get_json()["erreur"]["champ"] == "siren"
    response = adviser.api("POST", api, {"nom": "X", "capital": 3})
    assert response.status_code == 422 and response.get_json()["erreur"]["champ"] == "capital"
    response = adviser.api("POST", api, ["X"])
    assert response.status_code == 422
    response = adviser.client.post(api, data="nom=X", headers={"X-CSRFToken": adviser.form_token(),
                                                               "Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 415
    assert adviser.get(f"{api}?page=zéro").status_code == 400
    dossier = adviser.new_dossier()
    response = adviser.api("POST", f"{api}/{dossier}/verifications", {"date_creation": "2019-02-30"})
    assert response.status_code == 422 and response.get_json()["erreur"]["champ"] == "date_creation"
    response = adviser.api("PATCH", f"{api}/{dossier}", {"siren": None, "notes": "ok"})
    assert response.status_code == 200 and response.get_json()["notes"] == "ok"
