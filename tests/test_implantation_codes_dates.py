"""Issue 8 items 3 to 7 through every door: the non-sedentary trader of Denain, postal codes typed as INSEE codes,
answers that cannot all be true, the local-tax steps and the date of the check (engine, CLI, API, form, page)."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest

from bud_checker import evaluate
from bud_checker.engine.situation import SituationError
from bud_checker.web.presentation import verdict_view
from conftest import page_forms, page_text

# A market trader based in Denain (59172) making 5 % of the turnover outside the basin (BUD.md § 2.6).
DENAIN_MOBILE = {
    "date_creation": "2025-09-01", "commune_insee": "59172", "activite": "commerciale", "origine": "creation_pure",
    "effectif": 1, "chiffre_affaires": 45000, "capital_detenu_par_societes_pct": 0, "siege_dans_zone": True,
    "activite_et_moyens_dans_zone": False, "non_sedentaire": True, "ca_hors_zone_pct": 5, "salaries_eligibles": 0,
}
DOUAI_2019 = {
    "date_creation": "2019-04-15", "commune_insee": "59178", "activite": "commerciale", "origine": "creation_pure",
    "effectif": 2, "chiffre_affaires": 90000, "capital_detenu_par_societes_pct": 0, "siege_et_moyens_dans_zone": True,
    "salaries_eligibles": 2, "salaries_eligibles_residents_bud": 2, "proprietaire_immeuble": False,
}
CHECK_DAY = dt.date(2026, 12, 1)


def cli(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "bud_checker.cli", *args], input=stdin, capture_output=True,
                          text=True, timeout=60)


# --- engine ---------------------------------------------------------------------------------------------------

def test_the_mobile_trader_of_denain_is_eligible():
    verdict = evaluate(DENAIN_MOBILE, date_verification=CHECK_DAY).to_dict()
    assert verdict["statut"] == "eligible"
    implantation = next(c for c in verdict["conditions"] if c["id"] == "implantation")
    assert implantation["statut"] == "remplie" and "ne dépasse pas 15\u00a0%" in implantation["explication"]


def test_the_date_of_the_check_is_an_input_and_caches_follow_it():
    """The same situation checked on two days: each verdict has its own `passee` (nothing stale in a cache)."""
    before = evaluate(DOUAI_2019, date_verification=dt.date(2019, 6, 1)).to_dict()
    after = evaluate(DOUAI_2019, date_verification=CHECK_DAY).to_dict()
    again = evaluate(DOUAI_2019, date_verification=dt.date(2019, 6, 1)).to_dict()

    def step(verdict: dict, step_id: str) -> dict:
        return next(d for d in verdict["demarches"] if d["id"] == step_id)
    assert step(before, "demande_cfe")["passee"] is False and step(after, "demande_cfe")["passee"] is True
    assert before == again
    assert "exonération totale d'impôt sur les bénéfices jusqu'au 31 mars 2021" in before["resume"]
    assert "terminées depuis le 31 mars 2024" in after["resume"]
    # The situation's own date prevails over the door's.
    own = evaluate({**DOUAI_2019, "date_verification": "2019-06-01"}, date_verification=CHECK_DAY).to_dict()
    assert own["date_verification"] == "2019-06-01" and step(own, "demande_cfe")["passee"] is False
    # Without any date the engine says nothing about the past.
    assert step(evaluate(DOUAI_2019).to_dict(), "demande_cfe").get("passee") is None  # absent: not known


def test_essentials_list_what_is_ahead_first_and_what_can_still_be_done():
    verdict = evaluate(DOUAI_2019, date_verification=CHECK_DAY).to_dict()
    items = verdict_view(verdict)["essentiel"]
    lines = [item["texte"] for item in items]
    assert lines[0].startswith("À faire au plus tard le 31 décembre 2026 : prévenir votre bailleur")
    past = [item for item in items if item["texte"].startswith("Échéance passée")]
    # What can still be done about a missed step comes with it (the page folds it under «Et maintenant ?»).
    assert past and all("Délai dépassé" in item["suite"] for item in past)
    assert items.index(past[0]) > 0
    assert "ces périodes sont terminées depuis le 31 mars 2024" in lines[-1]
    assert not any(line.startswith("À faire au plus tard le 31 décembre 2019") for line in lines)


def test_the_next_step_is_the_earliest_deadline_still_ahead_even_of_a_missed_step():
    """Checked in December 2026, a 2019 creation's dated steps have all passed, but the TFPB declaration can still
    be made for the following years: that is the next step under the verdict, with its new deadline."""
    view = verdict_view(evaluate(DOUAI_2019, date_verification=CHECK_DAY).to_dict())
    assert view["next_step"]["titre"].startswith("Prévenir votre bailleur")
    assert view["next_step"]["echeance_fr"] == "31 décembre 2026"
    early = verdict_view(evaluate({**DOUAI_2019, "date_verification": "2019-06-01"}).to_dict())
    assert early["next_step"]["echeance_fr"] == "31 décembre 2019", "the first deadline ahead, while ahead"


@pytest.mark.parametrize("changes, champ", [
    ({"date_creation_etablissement": "2019-04-14"}, "date_creation_etablissement"),
    ({"effectif": 0, "salaries_eligibles": 3, "salaries_eligibles_residents_bud": 3}, "effectif"),
    ({"salaries_eligibles_residents_bud": 3}, "salaries_eligibles_residents_bud"),
    ({"embauches_eligibles": 3}, "embauches_eligibles"),
    ({"siege_dans_zone": False}, "siege_et_moyens_dans_zone"),
])
def test_answers_that_cannot_all_be_true_are_refused(changes, champ):
    with pytest.raises(SituationError) as raised:
        evaluate({**DOUAI_2019, **changes})
    assert raised.value.champ == champ


def test_employee_counts_take_part_time_pro_rata():
    verdict = evaluate({**DOUAI_2019, "effectif": 3, "salaries_eligibles": 2.5,
                        "salaries_eligibles_residents_bud": 1.25}).to_dict()
    clause = next(c for c in verdict["conditions"] if c["id"] == "clause_embauche")
    assert clause["statut"] == "remplie" and "1,25" in clause["explication"]


# --- CLI ------------------------------------------------------------------------------------------------------

def test_cli_mobile_trader_and_postal_code_warning():
    result = cli("check", "-", stdin=json.dumps(DENAIN_MOBILE))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["statut"] == "eligible"
    assert "Commune retenue\u00a0: Denain (59)" in result.stderr
    result = cli("check", "-", stdin=json.dumps({**DOUAI_2019, "commune_insee": "59500"}))
    assert result.returncode == 0
    verdict = json.loads(result.stdout)
    assert verdict["commune"]["nom"] == "Ribécourt-la-Tour" and verdict["statut"] == "non_eligible"
    assert verdict["avertissements"][0]["communes"][0] == {"insee": "59178", "nom": "Douai", "bud": True}
    assert "Attention\u00a0: 59500 est le code INSEE de Ribécourt-la-Tour" in result.stderr
    assert verdict["date_verification"] is not None  # the CLI passes today's date


def test_cli_refuses_inconsistent_answers_with_exit_2():
    result = cli("check", "-", stdin=json.dumps({**DOUAI_2019, "effectif": 0, "salaries_eligibles": 3,
                                                 "salaries_eligibles_residents_bud": 3}))
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("Erreur\u00a0: effectif\u00a0: ")


# --- API ------------------------------------------------------------------------------------------------------

def _post(client, body):
    return client.post("/api/v1/verifications", data=json.dumps(body), content_type="application/json")


def test_api_mobile_trader_postal_codes_and_consistency(client):
    response = _post(client, DENAIN_MOBILE)
    assert response.status_code == 201 and response.get_json()["verdict"]["statut"] == "eligible"
    verdict = _post(client, {**DOUAI_2019, "commune_insee": "62300"}).get_json()["verdict"]
    warning = verdict["avertissements"][0]
    assert warning["code"] == "code_postal_homonyme" and warning["code_saisi"] == "62300"
    assert "62300 est le code INSEE d'Équihen-Plage" in warning["message"] and "de Lens" in warning["message"]
    response = _post(client, {**DOUAI_2019, "date_creation_etablissement": "2018-01-01"})
    assert response.status_code == 422
    assert response.get_json()["erreur"]["champ"] == "date_creation_etablissement"
    body = _post(client, {**DOUAI_2019, "date_verification": "2026-12-01"}).get_json()
    steps = {d["id"]: d for d in body["verdict"]["demarches"]}
    assert steps["declaration_tfpb"]["passee"] is True
    assert steps["declaration_tfpb"]["prochaine_echeance"] == "2026-12-31"
    assert "Transmettez-lui" in steps["declaration_tfpb"]["description"]


def test_api_page_shows_the_warning_and_the_commune_code(client):
    location = _post(client, {**DOUAI_2019, "commune_insee": "59500"}).get_json()["page"]
    text = page_text(client.get(location.replace("http://localhost", "")).get_data(as_text=True))
    assert "À vérifier dans votre saisie" in text
    assert "Ribécourt-la-Tour (59, code INSEE 59500)" in text


# --- the form -------------------------------------------------------------------------------------------------

def test_the_form_asks_about_a_mobile_activity_before_concluding(flow):
    flow.submit({"date_creation": "2025-09-01", "commune": "Denain"})
    flow.submit({"activite": "commerciale", "origine": "creation_pure"})
    assert flow.group == "implantation" and flow.keys[0] == "non_sedentaire"
    # The honest «non» to «tout dans le bassin ?», with the mobile activity said in the same step: no verdict yet.
    flow.submit({"non_sedentaire": "oui", "siege_dans_zone": "oui", "activite_et_moyens_dans_zone": "non"})
    assert flow.response.status_code == 200
    assert flow.group == "implantation" and flow.keys == ["ca_hors_zone_pct"]
    assert "Non éligible" not in page_text(flow.html)
    flow.submit({"ca_hors_zone_pct": "5"})
    flow.submit({"effectif": "1", "chiffre_affaires": "45000", "capital_detenu_par_societes_pct": "0"})
    flow.submit({"salaries_eligibles": "0", "salaries_eligibles_residents_bud": "0"})
    assert flow.group == "echeancier"
    location = flow.result()
    assert "Éligible" in page_text(flow.html)
    assert 'class="pill pill--ok pill--large"' in flow.html and "essentials--ok" in flow.html
    assert location.startswith("/verifications/")


def _denain_commerce(flow, effectif: str) -> None:
    """A commerce created in Denain in September 2025, seat and means in the zone: the steps up to its hiring."""
    flow.submit({"date_creation": "2025-09-01", "commune": "Denain"})
    flow.submit({"activite": "commerciale", "origine": "creation_pure"})
    flow.submit({"non_sedentaire": "non", "siege_dans_zone": "oui", "activite_et_moyens_dans_zone": "oui"})
    flow.submit({"effectif": effectif, "chiffre_affaires": "45000", "capital_detenu_par_societes_pct": "0"})


def test_the_form_does_not_ask_resident_hires_without_a_hire(flow):
    _denain_commerce(flow, effectif="3")
    flow.submit({"salaries_eligibles": "2,5", "salaries_eligibles_residents_bud": "1"})
    assert flow.group == "embauches" and flow.keys == ["embauches_eligibles"]
    flow.submit({"embauches_eligibles": "0"})
    assert "embauches_eligibles_residents_bud" not in flow.keys
    assert "Non éligible" in page_text(flow.html)  # 1 resident for 2.5 employees, and no hire


def test_the_form_shows_an_inconsistency_on_the_field_just_asked(flow):
    _denain_commerce(flow, effectif="1")
    flow.submit({"salaries_eligibles": "3", "salaries_eligibles_residents_bud": "3"})
    assert flow.response.status_code == 422
    assert 'href="#salaries_eligibles"' in flow.html
    assert "L'effectif (1) est inférieur au nombre de salariés" in page_text(flow.html)


def test_the_choice_between_postal_and_insee_code_names_both(flow):
    flow.submit({"date_creation": "2021-06-01", "commune": "62300"})
    assert flow.response.status_code == 422
    labels = page_text(flow.html)
    assert "62300 est le code postal de Lens" in labels
    assert "Équihen-Plage (62) – code postal 62224, code INSEE 62300" in labels
    values = [i["value"] for f in page_forms(flow.html) for i in f["inputs"] if i.get("name") == "commune_choix"]
    assert values[0] == "62498" and values[-1] == "62300"
