"""Isolation: an adviser of organisation A gets 404 on every case file, check, report and batch of organisation B,
through the pages and the API alike. The routes are read from the application's URL map, so a route added
later is tried too."""

from __future__ import annotations

import pytest

from advisers_helpers import DOUAI, AdviserClient, adv_app, unique, world

ID_ARGS = {"dossier_id", "verification_id", "batch_id"}
CSV = "date_creation;commune_insee;activite\n2019-05-14;59178;commerciale\n2019-02-30;59178;commerciale\n".encode()


@pytest.fixture(scope="module")
def objects(world):
    b = AdviserClient(world.app, world.b1)
    dossier_b = b.new_dossier(unique("Secret Hainaut"), notes="confidentiel B")
    verification_b = b.new_verification(dossier_b, DOUAI)
    rerun = b.api("POST", f"/api/v1/conseillers/dossiers/{dossier_b}/verifications/{verification_b}/relance")
    assert rerun.status_code == 201
    batch = b.client.post("/api/v1/conseillers/lots?nom_fichier=secret-b.csv", data=CSV,
                          headers={"Content-Type": "text/csv", "X-CSRFToken": b.form_token()})
    assert batch.status_code == 202, batch.get_json()
    a = AdviserClient(world.app, world.a1)
    dossier_a = a.new_dossier(unique("Artois SARL"))
    verification_a = a.new_verification(dossier_a, DOUAI)
    nom_b = b.get(f"/api/v1/conseillers/dossiers/{dossier_b}").get_json()["nom"]
    return {"a": a, "b": b, "dossier_a": dossier_a, "verification_a": verification_a, "dossier_b": dossier_b,
            "verification_b": verification_b, "rerun_b": rerun.get_json()["id"], "batch_b": batch.get_json()["id"],
            "nom_b": nom_b}


def workspace_rules(app):
    rules = [rule for rule in app.url_map.iter_rules()
             if rule.endpoint.startswith(("conseillers.", "conseillers_api."))]
    assert len(rules) > 25  # the map was read
    return rules


def _body(rule, method: str):
    """A plausible body, so that a refusal cannot come from a bad body rather than from the lookup."""
    if rule.endpoint.startswith("conseillers_api."):
        if rule.endpoint == "conseillers_api.create_verification_api":
            return {"json": DOUAI}
        if method in ("PATCH", "POST") and "dossier" in rule.endpoint:
            return {"json": {"nom": "Pris par A"}}
        return {"json": {}} if method != "GET" else {}
    if method == "POST" and rule.endpoint == "conseillers.verifier":
        return {"data": {"date_creation": "2019-05-14", "commune": "59178"}}
    if method == "POST" and rule.endpoint == "conseillers.dossier_modifier":
        return {"data": {"nom": "Pris par A", "siren": "", "notes": ""}}
    return {"data": {}}


def _request(client: AdviserClient, rule, method: str, values: dict[str, str]):
    url = rule.build(values, append_unknown=False)[1]
    body = _body(rule, method)
    if method == "GET":
        return client.get(url)
    if rule.endpoint.startswith("conseillers_api."):
        return client.api(method, url, **body)
    return client.post(url, **body)


def _combinations(rule, o) -> list[dict[str, str]]:
    """B's objects, and A's case file with B's check (and B's case file with A's check)."""
    args = set(rule.arguments)
    combos = [{"dossier_id": o["dossier_b"], "verification_id": o["verification_b"], "batch_id": o["batch_b"]}]
    if {"dossier_id", "verification_id"} <= args:
        combos.append({"dossier_id": o["dossier_a"], "verification_id": o["verification_b"]})
        combos.append({"dossier_id": o["dossier_b"], "verification_id": o["verification_a"]})
    return [{k: v for k, v in combo.items() if k in args} for combo in combos]


def test_every_route_with_an_identifier_answers_404_across_organisations(world, objects):
    tried = 0
    for rule in workspace_rules(world.app):
        if not (set(rule.arguments) & ID_ARGS):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for values in _combinations(rule, objects):
                response = _request(objects["a"], rule, method, values)
                assert response.status_code == 404, (rule.rule, method, values, response.status_code)
                if rule.endpoint.startswith("conseillers_api."):
                    assert response.get_json()["erreur"]["message"]
                assert objects["nom_b"] not in response.get_data(as_text=True)
                tried += 1
    assert tried >= 30


def test_the_owner_reaches_the_same_routes(world, objects):
    """The 404s above are isolation, not broken routes: B gets an answer on each (GET only: no side effects)."""
    for rule in workspace_rules(world.app):
        if not (set(rule.arguments) & ID_ARGS) or "GET" not in rule.methods:
            continue
        values = {"dossier_id": objects["dossier_b"], "verification_id": objects["verification_b"],
                  "batch_id": objects["batch_b"]}
        url = rule.build({k: v for k, v in values.items() if k in rule.arguments}, append_unknown=False)[1]
        if rule.endpoint == "conseillers.comparer":
            url += f"?a={objects['verification_b']}&b={objects['rerun_b']}"
        if rule.endpoint == "conseillers_api.compare_api":
            url += f"?avec={objects['rerun_b']}"
        response = objects["b"].get(url)
        assert response.status_code == 200, (rule.rule, response.status_code)


def test_query_parameters_naming_another_organisations_check_answer_404(objects):
    a, da, va, vb = objects["a"], objects["dossier_a"], objects["verification_a"], objects["verification_b"]
    assert a.get(f"/conseillers/dossiers/{da}/verifier?depuis={vb}").status_code == 404
    assert a.get(f"/conseillers/dossiers/{da}/comparer?a={va}&b={vb}").status_code == 404
    assert a.get(f"/conseillers/dossiers/{da}/comparer?a={vb}&b={va}").status_code == 404
    assert a.get(f"/api/v1/conseillers/dossiers/{da}/verifications/{va}/comparaison?avec={vb}").status_code == 404
    # and their own, for contrast
    assert a.get(f"/conseillers/dossiers/{da}/verifier?depuis={va}").status_code == 200


def test_lists_and_searches_never_show_another_organisation(objects):
    a = objects["a"]
    nom_b = objects["nom_b"]
    for url in ("/conseillers/dossiers", f"/conseillers/dossiers?q={nom_b.split()[0]}", "/conseillers/lots",
                "/api/v1/conseillers/dossiers", f"/api/v1/conseillers/dossiers?q={nom_b.split()[0]}",
                "/api/v1/conseillers/lots"):
        text = a.get(url).get_data(as_text=True)
        for secret in (nom_b, objects["dossier_b"], objects["verification_b"], objects["batch_b"], "secret-b.csv"):
            assert secret not in text, (url, secret)


def test_b_did_not_lose_anything_to_a(objects):
    """None of A's attempts changed B's case file."""
    body = objects["b"].get(f"/api/v1/conseillers/dossiers/{objects['dossier_b']}").get_json()
    assert body["nom"] == objects["nom_b"] and body["notes"] == "confidentiel B"
    assert {v["par"]["email"] for v in body["verifications"]} == {objects["b"].email}


def test_colleagues_of_the_same_organisation_share_case_files(world, objects):
    a2 = AdviserClient(world.app, world.a2)
    assert a2.get(f"/conseillers/dossiers/{objects['dossier_a']}").status_code == 200
    response = a2.get(f"/api/v1/conseillers/dossiers/{objects['dossier_a']}/verifications/{objects['verification_a']}")
    assert response.status_code == 200 and response.get_json()["par"]["email"] == world.a1


def test_case_file_checks_are_not_public(client, objects):
    """A check made in a case file is not readable through the public pages or API, even with its identifier."""
    for verification_id in (objects["verification_b"], objects["rerun_b"], objects["verification_a"]):
        assert client.get(f"/verifications/{verification_id}").status_code == 404
        assert client.get(f"/api/v1/verifications/{verification_id}").status_code == 404


def test_nothing_without_signing_in(world, objects):
    anonymous = world.app.test_client()
    token_page = anonymous.get("/conseillers/connexion").get_data(as_text=True)
    token = AdviserClient(world.app, world.a1, login=False).token(token_page)
    values = {"dossier_id": objects["dossier_b"], "verification_id": objects["verification_b"],
              "batch_id": objects["batch_b"]}
    for rule in workspace_rules(world.app):
        if rule.endpoint == "conseillers.connexion":
            continue
        url = rule.build({k: v for k, v in values.items() if k in rule.arguments}, append_unknown=False)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if method == "GET":
                response = anonymous.get(url)
            else:
                response = anonymous.open(url, method=method, data={"csrf_token": token},
                                          headers={"X-CSRFToken": token})
            if rule.endpoint.startswith("conseillers_api."):
                assert response.status_code == 401, (rule.rule, method, response.status_code)
                assert response.get_json()["erreur"]["champ"] == "session"
            else:
                assert response.status_code == 302, (rule.rule, method, response.status_code)
                assert response.headers["Location"].startswith("/conseillers/connexion")
            assert objects["nom_b"] not in response.get_data(as_text=True)
