"""The JSON API under /api/v1, through the Flask test client."""

from __future__ import annotations

import datetime as dt
import io
import json
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import jsonschema_rs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consistency_helpers import day_of, made_consistent
from bud_checker import cli, evaluate
from bud_checker.engine.fr import typographie
from bud_checker.engine.situation import ACTIVITES, ORIGINES
from bud_checker.rule_tests import load_cases
from bud_checker.web.api.openapi import openapi_document

REPO = Path(__file__).resolve().parent.parent
CASES = load_cases()


def _validator(component: str):
    document = openapi_document()
    schema = {"$ref": f"#/components/schemas/{component}", "components": document["components"]}
    return jsonschema_rs.validator_for(schema, validate_formats=True)


VERIFICATION = _validator("Verification")
ERROR = _validator("Erreur")
COMMUNE = _validator("Commune")


def _post(client, body, **kwargs):
    if not isinstance(body, (str, bytes)):
        body = json.dumps(body)
    kwargs.setdefault("content_type", "application/json")
    return client.post("/api/v1/verifications", data=body, **kwargs)


def _cli_check(situation: dict, tmp_path: Path) -> tuple[int, str, str]:
    """`bud-checker check FILE`, run in-process through the CLI's own entry point."""
    path = tmp_path / "situation.json"
    path.write_text(json.dumps(situation, ensure_ascii=False), encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        status = cli.main(["check", str(path)])
    return status, out.getvalue(), err.getvalue()


# --- creating and reading --------------------------------------------------------------------------------------

def test_post_saves_and_returns_201_with_location(client, douai_commerce):
    response = _post(client, douai_commerce)
    assert response.status_code == 201
    assert response.mimetype == "application/json"
    body = response.get_json()
    VERIFICATION.validate(body)
    assert response.headers["Location"] == body["url"]
    assert body["url"] == f"http://localhost/api/v1/verifications/{body['id']}"
    assert body["page"] == f"http://localhost/verifications/{body['id']}"
    assert body["situation"] == douai_commerce
    assert body["verdict"] == evaluate(douai_commerce, date_verification=day_of(body["verdict"])).to_dict()
    assert body["verdict"]["statut"] == "eligible"
    assert body["regles_version"] == body["verdict"]["regles_version"]
    assert dt.datetime.fromisoformat(body["cree_le"].replace("Z", "+00:00")).tzinfo is not None
    # The verdict keeps the order of the JSON contract and French text is sent as UTF-8.
    raw = response.get_data(as_text=True)
    assert list(body["verdict"])[:3] == ["statut", "libelle_statut", "resume"]
    assert "éligible" in raw and "\\u00e9" not in raw


def test_get_returns_the_same_verification(client, douai_commerce):
    created = _post(client, douai_commerce).get_json()
    response = client.get(f"/api/v1/verifications/{created['id']}")
    assert response.status_code == 200
    assert response.get_json() == created
    page = client.get(f"/verifications/{created['id']}")
    assert page.status_code == 200 and "Éligible" in page.get_data(as_text=True)


def test_get_renders_the_stored_verdict_even_after_the_rules_change(app, client, douai_commerce, monkeypatch):
    from bud_checker.web.extensions import db
    from bud_checker.web.models import Verification

    created = _post(client, douai_commerce).get_json()
    with app.app_context():
        stored = db.session.get(Verification, created["id"])
        stored.verdict = {**stored.verdict, "regles_version": "0ld0ld0ld0ld0ld0"}
        db.session.commit()

    def forbidden(*args, **kwargs):
        raise AssertionError("a saved verification must not be evaluated again")

    monkeypatch.setattr("bud_checker.web.services.evaluate", forbidden)
    body = client.get(f"/api/v1/verifications/{created['id']}").get_json()
    assert body["verdict"]["regles_version"] == "0ld0ld0ld0ld0ld0"


def test_the_three_reference_cases(client, douai_commerce):
    douai = _post(client, dict(douai_commerce.items())).get_json()["verdict"]
    assert douai["statut"] == "eligible" and douai["libelle_statut"] == "éligible"
    assert douai["exonerations"]["impot_benefices"]["fin_exoneration_totale"] == "2021-04-30"
    lille = _post(client, {**douai_commerce, "commune_insee": "59350"}).get_json()["verdict"]
    assert lille["statut"] == "non_eligible" and lille["libelle_statut"] == "non éligible"
    assert [c["id"] for c in lille["conditions"] if c["statut"] == "non_remplie"] == ["commune_zone"]
    unknown = {**douai_commerce, "salaries_eligibles": None, "salaries_eligibles_residents_bud": None,
               "embauches_eligibles": None, "embauches_eligibles_residents_bud": None}
    doubt = _post(client, unknown).get_json()["verdict"]
    assert doubt["statut"] == "indetermine" and doubt["libelle_statut"] == "à confirmer"
    assert {m["champ"] for m in doubt["informations_manquantes"] if m.get("conditions")} >= {
        "salaries_eligibles", "salaries_eligibles_residents_bud"}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_api_gives_the_same_verdict_as_bud_checker_check(client, case, tmp_path):
    """Every expert rule test: the API's verdict is the CLI's, or both refuse the situation on the same field."""
    status, out, err = _cli_check(case.situation, tmp_path)
    response = _post(client, case.situation)
    body = response.get_json()
    if status == cli.EXIT_OK:
        assert response.status_code == 201, body
        VERIFICATION.validate(body)
        expected = json.loads(out)
        expected.pop("regles_version"), body["verdict"].pop("regles_version")
        assert body["verdict"] == expected
    else:
        assert status == cli.EXIT_BAD_INPUT
        assert response.status_code == 422, body
        ERROR.validate(body)
        assert err.strip() == typographie(f"Erreur : {body['erreur']['champ']} : {body['erreur']['message']}")


def test_api_and_the_installed_command_agree(client, douai_commerce):
    """The real `bud-checker check -` process, once (the parametrised test above runs the CLI in-process)."""
    result = subprocess.run([sys.executable, "-m", "bud_checker.cli", "check", "-"], cwd=REPO, check=True,
                            input=json.dumps(douai_commerce), capture_output=True, text=True)
    assert _post(client, douai_commerce).get_json()["verdict"] == json.loads(result.stdout)


VALID_COMMUNES = ["59178", "59350", "62510", "59526", "62215", "59002", "75056", "62498", "59183"]


@st.composite
def situations(draw) -> dict:
    situation = {"date_creation": draw(st.dates(dt.date(2016, 1, 1), dt.date(2028, 12, 31))).isoformat()}
    optional = {
        "commune_insee": st.sampled_from(VALID_COMMUNES),
        "activite": st.sampled_from(ACTIVITES),
        "origine": st.sampled_from(ORIGINES),
        "effectif": st.integers(0, 400),
        "chiffre_affaires": st.floats(0, 9e7, allow_nan=False),
        "total_bilan": st.integers(0, 9 * 10**7),
        "capital_detenu_par_societes_pct": st.floats(0, 100),
        "siege_et_moyens_dans_zone": st.booleans(),
        "non_sedentaire": st.booleans(),
        "ca_hors_zone_pct": st.integers(0, 100),
        "date_creation_etablissement": st.dates(dt.date(2016, 1, 1), dt.date(2028, 12, 31)).map(dt.date.isoformat),
        "deliberation_exoneration_cfe": st.booleans(),
        "deliberation_exoneration_tfpb": st.booleans(),
        "proprietaire_immeuble": st.booleans(),
    }
    for key, strategy in optional.items():
        if draw(st.booleans()):
            situation[key] = draw(st.none() | strategy)
    if draw(st.booleans()):
        total = draw(st.integers(0, 30))
        situation["salaries_eligibles"] = total
        situation["salaries_eligibles_residents_bud"] = draw(st.integers(0, total))
    if draw(st.booleans()):
        total = draw(st.integers(0, 30))
        situation["embauches_eligibles"] = total
        situation["embauches_eligibles_residents_bud"] = draw(st.integers(0, total))
    return made_consistent(situation)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(situation=situations())
def test_any_valid_situation_is_saved_with_the_engine_verdict(client, situation):
    response = _post(client, situation)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    VERIFICATION.validate(body)
    assert body["verdict"] == evaluate(situation, date_verification=day_of(body["verdict"])).to_dict()


# --- errors -----------------------------------------------------------------------------------------------------

def _error(response, status: int, champ: str | None) -> str:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    ERROR.validate(body)
    assert body["erreur"]["champ"] == champ
    return body["erreur"]["message"]


def test_bad_input_is_a_json_error_naming_the_field_in_french(client):
    assert "n'est pas une date qui existe" in _error(_post(client, {"date_creation": "2019-02-30"}), 422,
                                                     "date_creation")
    assert "obligatoire" in _error(_post(client, {"commune_insee": "59178"}), 422, "date_creation")
    assert "clé inconnue" in _error(_post(client, {"date_creation": "2019-05-14", "nom": "Dupont"}), 422, "nom")
    assert "Attendu un objet JSON" in _error(_post(client, [1, 2]), 422, "situation")
    assert "JSON invalide (ligne 1" in _error(_post(client, "{\"date_creation\": "), 400, "situation")
    assert "Corps vide" in _error(_post(client, ""), 400, "situation")
    assert "UTF-8" in _error(_post(client, b"{\"date_creation\": \"\xe9\"}"), 400, "situation")
    assert "imbrication" in _error(_post(client, "[" * 20000), 400, "situation")
    assert "application/json" in _error(_post(client, "date_creation=2019-05-14",
                                              content_type="application/x-www-form-urlencoded"), 415, "Content-Type")
    assert "application/json" in _error(client.post("/api/v1/verifications"), 415, "Content-Type")


def test_too_large_a_body_is_413(client, app):
    big = {"date_creation": "2019-05-14", "x": "a" * (app.config["MAX_CONTENT_LENGTH"] + 10)}
    assert "trop volumineuse" in _error(_post(client, big), 413, None)


def test_unknown_verification_and_routes(client):
    assert "Aucune vérification" in _error(client.get("/api/v1/verifications/" + "A" * 24), 404, "id")
    assert "Aucune vérification" in _error(client.get("/api/v1/verifications/x"), 404, "id")
    _error(client.get("/api/v1/inconnu"), 404, None)
    message = _error(client.delete("/api/v1/verifications/" + "A" * 24), 405, None)
    assert "DELETE" in message


def test_the_api_needs_no_csrf_token_and_sets_no_cookie(client):
    response = _post(client, {"date_creation": "2019-05-14"})
    assert response.status_code == 201
    assert "Set-Cookie" not in response.headers


# --- communes ---------------------------------------------------------------------------------------------------

def test_communes_search(client):
    body = client.get("/api/v1/communes?q=lievin&limite=3").get_json()
    assert len(body["communes"]) <= 3
    for commune in body["communes"]:
        COMMUNE.validate(commune)
    lievin = body["communes"][0]
    assert lievin["nom"] == "Liévin" and lievin["bud"] is True and lievin["a_confirmer"] is True
    douai = client.get("/api/v1/communes?q=59500").get_json()["communes"][0]
    assert douai["insee"] == "59178" and douai["liste"] == "arrete_2018"
    lille = client.get("/api/v1/communes?q=59350").get_json()["communes"]
    assert any(c["insee"] == "59350" and c["bud"] is False for c in lille)
    assert client.get("/api/v1/communes?q=zzzzzz").get_json() == {"communes": []}


def test_communes_parameter_errors(client):
    assert "obligatoire" in _error(client.get("/api/v1/communes"), 400, "q")
    assert "obligatoire" in _error(client.get("/api/v1/communes?q=%20"), 400, "q")
    assert "trop long" in _error(client.get("/api/v1/communes?q=" + "a" * 101), 400, "q")
    for bad in ("0", "51", "dix", "-1"):
        assert "limite" in _error(client.get(f"/api/v1/communes?q=douai&limite={bad}"), 400, "limite")


# --- the OpenAPI document ---------------------------------------------------------------------------------------

def test_openapi_document(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"].startswith("3.")
    public = {path for path in document["paths"] if not path.startswith("/conseillers/")}  # advisers: their batches
    assert public == {"/verifications", "/verifications/{id}", "/regles/{id}", "/communes", "/openapi.json"}
    situation = document["components"]["schemas"]["Situation"]
    from bud_checker.engine.situation import KEYS

    assert set(situation["properties"]) == set(KEYS)
    assert situation["required"] == ["date_creation"]
    assert situation["properties"]["activite"]["enum"][:-1] == list(ACTIVITES)


# --- the rules catalogue (verdict format 3) ----------------------------------------------------------------------

CATALOGUE = _validator("Catalogue")


def test_the_verdict_links_its_rules_catalogue_which_resolves_every_id(client, douai_commerce):
    from bud_checker.engine.catalogue import catalogue
    from bud_checker.engine.law import current_rules

    verdict = _post(client, douai_commerce).get_json()["verdict"]
    response = client.get(verdict["regles"])
    assert response.status_code == 200
    assert "immutable" in response.headers["Cache-Control"]
    body = response.get_json()
    CATALOGUE.validate(body)
    assert body == catalogue(current_rules()) and body["regles_version"] == verdict["regles_version"]
    assert body["avertissement"] == verdict["avertissement"]
    cited = {ref["source"] for item in [*verdict["conditions"], *verdict["exonerations"].values(),
                                        *verdict["demarches"]]
             for ref in [*item["references"], *item.get("sources_complementaires", [])]}
    assert cited <= set(body["sources"]) and verdict["version"]["source"] in body["sources"]
    assert set(verdict.get("limites", [])) <= set(body["limites"])
    assert {d["id"] for d in verdict["demarches"] if "description" not in d} <= set(body["demarches"])


def test_a_stored_catalogue_is_served_after_the_rules_change(client, app, douai_commerce):
    """A saved check keeps the catalogue of the rules it was made with: stored once, when first used."""
    from bud_checker.web.extensions import db
    from bud_checker.web.models import CatalogueRegles

    created = _post(client, douai_commerce).get_json()
    link = created["verdict"]["regles"]
    catalogue_id = link.rsplit("/", 1)[-1]
    _post(client, {**douai_commerce, "commune_insee": "59350"})
    with app.app_context():
        rows = db.session.query(CatalogueRegles).filter_by(regles_version=created["regles_version"]).all()
        assert [row.id for row in rows] == [catalogue_id]  # once, however many checks cite it
        if db.session.get(CatalogueRegles, "0ld0ld0ld0ld0ld0-00000000") is None:
            db.session.add(CatalogueRegles(id="0ld0ld0ld0ld0ld0-00000000", regles_version="0ld0ld0ld0ld0ld0",
                                           contenu={**rows[0].contenu, "id": "0ld0ld0ld0ld0ld0-00000000",
                                                    "regles_version": "0ld0ld0ld0ld0ld0"}))
            db.session.commit()
    assert client.get("/api/v1/regles/0ld0ld0ld0ld0ld0-00000000").get_json()["regles_version"] == "0ld0ld0ld0ld0ld0"
    missing = client.get("/api/v1/regles/inconnu")
    assert missing.status_code == 404 and missing.get_json()["erreur"]["champ"] == "id"
