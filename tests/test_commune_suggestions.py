"""Commune suggestions (bud_checker.communes.CommuneSuggester): the basin's communes first, typos tolerated; in the
form's suggestions, the no-JavaScript form and the API."""

from __future__ import annotations

import json

import pytest

from bud_checker.communes import CommuneSuggester, load_reference, normalize
from bud_checker.engine.law import current_rules
from bud_checker.engine.zone import basin_codes
from conftest import page_forms, page_text


@pytest.fixture(scope="module")
def basin() -> frozenset[str]:
    return basin_codes(current_rules())


@pytest.fixture(scope="module")
def suggester(basin) -> CommuneSuggester:
    return CommuneSuggester(load_reference(), basin)


def names(suggestions) -> list[str]:
    return [s.commune.nom for s in suggestions]


def test_the_basin_holds_every_listed_commune(basin):
    rules = current_rules()
    assert len(basin) == len(rules.communes_bud) == 159
    assert {"59178", "62510", "62186", "59526"} <= basin  # Douai, Liévin, Bully-les-Mines, Saint-Amand-les-Eaux


@pytest.mark.parametrize("query, first", [
    ("bully", "Bully-les-Mines"),
    ("Bully", "Bully-les-Mines"),
    ("st amand", "Saint-Amand-les-Eaux"),
    ("saint-amand", "Saint-Amand-les-Eaux"),
    ("lievn", "Liévin"),
    ("lievin", "Liévin"),
    ("doua", "Douai"),
    ("Douai", "Douai"),
    ("valencienes", "Valenciennes"),
    ("bethnue", "Béthune"),
    ("henin", "Hénin-Beaumont"),
    ("courieres", "Courrières"),
    ("bruay la buisiere", "Bruay-la-Buissière"),
])
def test_first_suggestion(suggester, query, first):
    assert names(suggester.suggest(query, 8))[0] == first


def test_typos_are_marked_and_exact_names_are_not(suggester):
    lievn = suggester.suggest("lievn", 8)
    assert lievn[0].approchee and lievn[0].commune.insee == "62510"
    assert not any(s.approchee for s in suggester.suggest("Liévin", 8)[:1])
    # Many matches as typed: nothing approximate is added.
    assert not any(s.approchee for s in suggester.suggest("saint", 8))
    # A typo far from every name suggests nothing; two characters are never read as a typo.
    assert suggester.suggest("xqzwk", 8) == []
    assert not any(s.approchee for s in suggester.suggest("zq", 8))


def test_basin_prefix_matches_come_before_the_others(suggester, basin):
    for query in ("bully", "lens", "saint", "noyelles", "la", "hen", "bru", "lille"):
        found = [s for s in suggester.suggest(query, 10) if not s.approchee]
        in_basin = [s.commune.insee in basin and normalize(s.commune.nom).startswith(normalize(query))
                    for s in found]
        # Once a suggestion is not a basin commune starting with the query, none after it is.
        assert in_basin == sorted(in_basin, reverse=True), (query, names(found))
    # Within the basin: exact name, then prefix, then population.
    assert names(suggester.suggest("lens", 3))[0] == "Lens"
    noyelles = names(suggester.suggest("noyelles", 3))
    assert noyelles[0] == "Noyelles-sous-Lens"  # the most populated of the basin's Noyelles


def test_the_other_communes_of_france_still_come(suggester):
    assert "Lille" in names(suggester.suggest("lille", 8))[:2]
    assert names(suggester.suggest("marseile", 8))[0] == "Marseille"
    assert names(suggester.suggest("Strasbourg", 8))[0] == "Strasbourg"
    assert "Bully" in names(suggester.suggest("bully", 8))  # the Bully of the Rhône, Loire, Seine-Maritime


def test_postal_codes(suggester, basin):
    assert names(suggester.suggest("59500", 8))[0] == "Douai"
    assert names(suggester.suggest("59000", 8))[0] == "Lille"
    first = suggester.suggest("62", 5)
    assert all(s.commune.insee in basin for s in first)  # the basin's communes of the Pas-de-Calais first


def test_without_a_preferred_set_the_order_is_the_reference_order():
    reference = load_reference()
    plain = CommuneSuggester(reference)
    for query in ("bully", "st amand", "douai", "59", "lens"):
        assert [s.commune for s in plain.suggest(query, 8)] == reference.search(query, 8)


def test_limits_and_bad_input(suggester):
    assert suggester.suggest("", 8) == [] and suggester.suggest("   ", 8) == []
    assert suggester.suggest("douai", 0) == []
    assert suggester.suggest(None, 8) == []  # type: ignore[arg-type]  # bad input on purpose
    assert len(suggester.suggest("saint", 3)) == 3
    assert len(suggester.suggest("a" * 100, 8)) <= 8


# --- the doors ---------------------------------------------------------------------------------------------------

def test_form_suggestions_carry_the_bud_status(client):
    data = client.get("/communes?q=bully").get_json()["communes"]
    assert data[0]["nom"] == "Bully-les-Mines" and data[0]["bud"] is True and data[0]["approchee"] is False
    assert "classée en BUD" in data[0]["classement"]
    bully_rhone = next(c for c in data if c["nom"] == "Bully" and c["departement"] == "69")
    assert bully_rhone["bud"] is False and bully_rhone["classement"].startswith("hors BUD")
    lievn = client.get("/communes?q=lievn").get_json()["communes"]
    assert lievn[0]["nom"] == "Liévin" and lievn[0]["approchee"] is True


def test_api_ranks_and_tolerates_typos(client):
    for query, first in (("bully", "Bully-les-Mines"), ("st amand", "Saint-Amand-les-Eaux"), ("lievn", "Liévin")):
        body = client.get("/api/v1/communes", query_string={"q": query, "limite": 5}).get_json()
        assert body["communes"][0]["nom"] == first
        assert len(body["communes"]) <= 5
    document = client.get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/communes"]["get"]
    assert "fautes de frappe" in operation["description"]
    assert "approchee" in document["components"]["schemas"]["Commune"]["required"]


def test_a_typo_without_javascript_offers_the_close_names(flow):
    flow.submit({"date_creation": "2019-05-14", "commune": "lievn"})
    assert flow.response.status_code == 422
    text = page_text(flow.html)
    assert "Aucune commune ne s'écrit « lievn »" in text
    choices = [i for f in page_forms(flow.html) for i in f["inputs"] if i.get("name") == "commune_choix"]
    assert choices and choices[0]["value"] == "62510"
    assert "Liévin (62)" in text and "classée en BUD" in text
    flow.submit({"date_creation": "2019-05-14", "commune": "lievn", "commune_choix": "62510"})
    assert flow.group == "activite"
    assert json.loads(flow.hidden()["etat"])["commune_insee"] == "62510"
