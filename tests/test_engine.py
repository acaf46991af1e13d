"""The engine's public contract: evaluate(situation) -> Verdict, Verdict.to_dict() JSON."""

import json

import pytest

from bud_checker import SituationError, evaluate
from bud_checker.engine.catalogue import catalogue
from bud_checker.engine.conditions import CONDITION_IDS
from bud_checker.engine.contract import read, resolve
from bud_checker.engine.law import current_rules

ORDER = ["periode_creation", "commune_zone", "activite", "creation_nouvelle", "taille_pme", "capital",
         "implantation", "clause_embauche"]


def full(situation):
    """The verdict as pages read it: resolved against the rules catalogue (engine/contract.read)."""
    return read(evaluate(situation).to_dict(), catalogue(current_rules()))


def test_condition_order_is_the_contract():
    assert list(CONDITION_IDS) == ORDER


def test_douai_commerce_is_eligible_with_complete_schedule(douai_commerce):
    verdict = full(douai_commerce)
    assert verdict["statut"] == "eligible"
    assert verdict["version_loi"] == "2019-01-01"
    assert [c["id"] for c in verdict["conditions"]] == ORDER
    assert all(c["statut"] == "remplie" for c in verdict["conditions"])
    for condition in verdict["conditions"]:
        assert condition["explication"]
        assert condition["references"], condition["id"]
        for ref in resolve(condition["references"], verdict["sources"]):
            assert ref["texte"] and ref["url"].startswith("https://")
    periods = verdict["exonerations"]["impot_benefices"]["periodes"]
    assert periods == [
        {"debut": "2019-05-14", "fin": "2021-04-30", "taux_exoneration": 100},
        {"debut": "2021-05-01", "fin": "2022-04-30", "taux_exoneration": 75},
        {"debut": "2022-05-01", "fin": "2023-04-30", "taux_exoneration": 50},
        {"debut": "2023-05-01", "fin": "2024-04-30", "taux_exoneration": 25},
    ]
    cfe = verdict["exonerations"]["cfe"]["annees"]
    assert [a["annee"] for a in cfe] == list(range(2020, 2030))
    assert [a["part_de_droit"] for a in cfe] == [50] * 7 + [37.5, 25, 12.5]
    assert all(a["part_sur_deliberation"] == 0 for a in cfe)
    assert [a["annee"] for a in verdict["exonerations"]["tfpb"]["annees"]] == list(range(2020, 2030))
    assert verdict["exonerations"]["cvae"]["nulle_du_fait_du_chiffre_affaires"] is True
    assert "nulle de toute façon" in verdict["exonerations"]["cvae"]["explication"]
    assert verdict["informations_manquantes"] == [
        {"champ": "date_creation_etablissement", "question": verdict["informations_manquantes"][0]["question"],
         "conditions": []}]
    json.dumps(verdict)  # the whole verdict is JSON-serialisable


def test_douai_verdict_cites_the_article_as_it_stood(douai_commerce):
    verdict = full(douai_commerce)
    periode = verdict["conditions"][0]
    assert any("44 sexdecies" in r["texte"] and r["version"] == "2019-01-01" and r["url"].endswith("/2019-01-01")
               for r in resolve(periode["references"], verdict["sources"]))
    article = verdict["sources"][verdict["version"]["source"]]
    assert article["url"].endswith("LEGIARTI000036354541/2019-01-01")


def test_profit_tax_references_cite_the_version_applied(douai_commerce):
    """Issue 8 item 2: the profit-tax schedule cites the article as it stood on the date applied, not 2018."""
    verdict = full({**douai_commerce, "date_creation": "2024-03-14"})
    cited = {r["source"] for r in verdict["exonerations"]["impot_benefices"]["references"]}
    assert "cgi_44_sexdecies" in cited
    assert verdict["sources"]["cgi_44_sexdecies"]["url"].endswith("/2023-12-31")
    assert verdict["sources"]["cgi_44_sexdecies"]["version"] == "2023-12-31"


def test_lille_is_not_eligible_because_of_the_commune(douai_commerce):
    verdict = full({**douai_commerce, "commune_insee": "59350"})
    assert verdict["statut"] == "non_eligible"
    failing = [c["id"] for c in verdict["conditions"] if c["statut"] == "non_remplie"]
    assert failing == ["commune_zone"]
    assert "Lille" in verdict["conditions"][1]["explication"]
    assert "ne figure pas" in verdict["conditions"][1]["explication"]
    assert verdict["exonerations"]["impot_benefices"]["periodes"] == []
    assert verdict["demarches"] == []


def test_unknown_hiring_clause_gives_indetermine_naming_what_to_check(douai_commerce):
    situation = {k: v for k, v in douai_commerce.items() if not k.startswith(("salaries", "embauches"))}
    verdict = full(situation)
    assert verdict["statut"] == "indetermine"
    assert verdict["libelle_statut"] == "à confirmer"
    clause = verdict["conditions"][-1]
    assert clause["statut"] == "inconnue"
    asked = {m["champ"] for m in verdict["informations_manquantes"] if m["conditions"]}
    assert asked == {"salaries_eligibles", "salaries_eligibles_residents_bud", "embauches_eligibles",
                     "embauches_eligibles_residents_bud"}
    assert "clause d'emploi ou d'embauche" in verdict["resume"]


def test_secondary_sources_are_law_and_say_what_they_rest_on(douai_commerce):
    """BUD.md: [V] and [S] points are law; each condition says what it rests on; nothing to confirm for Douai."""
    verdict = full(douai_commerce)
    assert not any(c["a_confirmer"] for c in verdict["conditions"])
    assert verdict["points_a_confirmer"] == [] and verdict["a_confirmer"] is False
    fondements = {c["id"]: c["fondement"] for c in verdict["conditions"]}
    assert fondements["periode_creation"] == "texte" and fondements["creation_nouvelle"] == "doctrine"
    assert fondements["taille_pme"] == fondements["capital"] == "sources_concordantes"
    assert fondements["commune_zone"] == "sources_concordantes"
    assert "à confirmer" not in verdict["resume"] and "sous réserve" not in verdict["resume"]
    assert 1 <= len(verdict["limites"]) <= 4


def test_unsourced_pas_de_calais_commune_is_classified_to_confirm(douai_commerce):
    verdict = evaluate({**douai_commerce, "commune_insee": "62498"}).to_dict()  # Lens
    zone = verdict["conditions"][1]
    assert zone["statut"] == "remplie" and zone["a_confirmer"] and zone["fondement"] == "incertain"
    assert "ANCT" not in zone["explication"]  # research notes stay in the expert detail
    assert [p["quoi"] for p in verdict["points_a_confirmer"]] == ["classement de la commune"]
    assert "SIE" in verdict["points_a_confirmer"][0]["aupres_de"]
    assert verdict["resume"].startswith("Éligible, à confirmer\u00a0: classement de la commune, "
                                        "auprès de votre service")
    assert verdict["commune"]["confiance_liste"] == "non_sourcee"


def test_demarches_give_deadlines(douai_commerce):
    demarches = {d["id"]: d for d in evaluate(douai_commerce).to_dict()["demarches"]}
    assert demarches["demande_cfe"]["echeance"] == "2019-12-31"
    assert demarches["declaration_tfpb"]["echeance"] == "2019-12-31"
    assert demarches["declaration_tfpb"]["destinataire"] == "proprietaire"
    # Second working day after 1 May 2020: Fri 1 (holiday), Mon 4, Tue 5.
    assert demarches["declaration_cfe_annuelle"]["echeance"] == "2020-05-05"


def test_situation_round_trips(douai_commerce):
    verdict = evaluate(douai_commerce)
    assert evaluate(verdict.situation.to_dict()).to_dict() == verdict.to_dict()


def test_former_code_of_merged_commune_resolves():
    from bud_checker.communes import load_reference

    reference = load_reference()
    former = next(code for commune in _sample(reference) for code in commune.anciens_codes
                  if not reference.get(code).insee == code)
    verdict = evaluate({"date_creation": "2019-05-14", "commune_insee": former}).to_dict()
    assert verdict["commune"]["code_saisi_ancien"] is True
    assert verdict["commune"]["insee"] == reference.get(former).insee


def _sample(reference):
    for code in ("49092", "50129", "14654", "27676", "61375", "24053", "01033", "69255"):
        commune = reference.get(code)
        if commune and commune.anciens_codes:
            yield commune


@pytest.mark.parametrize("situation, field", [
    ({"date_creation": "2019-13-01"}, "date_creation"),
    ({"date_creation": "2019-05-14", "commune_insee": "00000"}, "commune_insee"),
    ({"date_creation": "2019-05-14", "effectif": -3}, "effectif"),
    ({"date_creation": "2019-05-14", "ca_hors_zone_pct": 100.5}, "ca_hors_zone_pct"),
    ({"date_creation": "2019-05-14", "origine": "heritage"}, "origine"),
    ({"date_creation": "2019-05-14", "foo": 1}, "foo"),
    ({"date_creation": "2019-05-14", "effectif": True}, "effectif"),
    ({"date_creation": "2019-05-14", "chiffre_affaires": "beaucoup"}, "chiffre_affaires"),
    ({"date_creation": "2019-05-14", "chiffre_affaires": float("nan")}, "chiffre_affaires"),
    ({}, "date_creation"),
    ([], "situation"),
])
def test_bad_input_names_the_field_in_french(situation, field):
    with pytest.raises(SituationError) as error:
        evaluate(situation)
    assert error.value.champ == field
    assert error.value.message and "\n" not in error.value.message


def test_lenient_but_exact_parsing():
    verdict = evaluate({"date_creation": "2019-05-14", "commune_insee": "59178", "chiffre_affaires": "150 000,50",
                        "siege_et_moyens_dans_zone": "oui", "activite": " Commerciale ", "effectif": ""})
    situation = verdict.situation
    assert situation.chiffre_affaires == 150000.5
    assert situation.siege_et_moyens_dans_zone is True
    assert situation.activite == "commerciale"
    assert situation.effectif is None


def test_summary_puts_an_unconfirmed_commune_first(douai_commerce):
    lens = evaluate({**douai_commerce, "commune_insee": "62498"}).to_dict()
    assert lens["statut"] == "eligible"
    assert lens["resume"].startswith("Éligible, à confirmer\u00a0: classement de la commune")
    assert "service des impôts des entreprises" in lens["resume"]
    douai = evaluate(douai_commerce).to_dict()
    assert douai["resume"].startswith("Éligible au régime") and "confirmer" not in douai["resume"]
