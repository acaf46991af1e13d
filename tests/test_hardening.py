"""Hardening of issue 11: hostile input never answers 500 (huge and long numbers, deep nesting, lone surrogates,
NUL, CR/LF in ?suivant=, wide CSV), JSON errors in French, the production secret's length and the accepted host
names, gunicorn's forwarded-header trust, the private access log, the SQLite file's mode, and 503 with Retry-After
while the database is down. On SQLite and PostgreSQL where a database is involved."""

from __future__ import annotations

import io
import json
import os
import re
import socket
import stat

import pytest

from advisers_helpers import AdviserClient, make_adviser, make_org, unique
from reliability_helpers import BACKENDS, dispose, migrated_database
from bud_checker.engine.fr import typographie

DOUAI = {"date_creation": "2019-05-14", "commune_insee": "59178"}
NUMERIC = ["effectif", "chiffre_affaires", "total_bilan", "capital_detenu_par_societes_pct", "salaries_eligibles",
           "embauches_eligibles", "ca_hors_zone_pct"]
HUGE = [str(10**309), "9" * 5000, "-" + "9" * 5000, "1e400", "-1e400", str(2**64)]


@pytest.fixture(scope="module", params=BACKENDS)
def hostile(request, tmp_path_factory):
    from bud_checker.web import create_app

    with migrated_database(request.param, tmp_path_factory.mktemp("hostile")) as url:
        app = create_app({"DATABASE_URL": url, "BUD_ENV": "test", "SECRET_KEY": "hostile", "RATELIMIT_ENABLED": False})
        _, organisation = make_org(app, unique("CCI Hostile"))
        adviser = AdviserClient(app, make_adviser(app, organisation))
        adviser.dossier = adviser.new_dossier("Entreprise témoin")
        yield app, adviser
        dispose(app)


def _json_4xx(response, champ: str | set[str]):
    assert 400 <= response.status_code < 500, (response.status_code, response.get_data(as_text=True)[:300])
    error = response.get_json()["erreur"]
    assert error["champ"] in ({champ} if isinstance(champ, str) else champ), error
    assert "Traceback" not in error["message"], error
    assert not re.search(r"\b(the|is|not|Expecting|invalid|exceeds)\b", error["message"]), error  # French only
    return error


@pytest.mark.parametrize("number", HUGE)
def test_huge_and_long_numbers_are_refused_naming_the_field(hostile, number):
    app, adviser = hostile
    client = app.test_client()
    for key in [*NUMERIC, "commune_insee", "date_creation"]:
        body = '{"date_creation": "2019-05-14", "%s": %s}' % (key, number)
        if key == "date_creation":
            body = '{"date_creation": %s}' % number
        for response in (client.post("/api/v1/verifications", data=body, content_type="application/json"),
                         adviser.api("POST", f"/api/v1/conseillers/dossiers/{adviser.dossier}/verifications", None,
                                     data=body, content_type="application/json")):
            _json_4xx(response, key)
        for value in (number, number.lstrip("-")):
            page = adviser.post(f"/conseillers/dossiers/{adviser.dossier}/verifier",
                                {"date_creation": "2019-05-14", key if key != "commune_insee" else "commune": value})
            assert page.status_code == 422, (key, page.status_code)


@pytest.mark.parametrize("etat", ["[" * 2000 + "]" * 2000, '{"a":' * 2000 + "1" + "}" * 2000,
                                  '{"date_creation":"2019-05-14","effectif":%s}' % ("9" * 5000),
                                  '{"date_creation":"2019-05-14","effectif":%s}' % (10**309),
                                  '{"date_creation":"\\ud800"}', '{"date_creation":"2019-05-14","effectif":1e999}'])
def test_the_form_state_nested_deep_or_holding_hostile_values_is_a_french_4xx(hostile, etat):
    from conftest import page_text

    app, _ = hostile
    client = app.test_client()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get("/").get_data(as_text=True)).group(1)
    response = client.post("/verifier", data={"csrf_token": token, "etat": etat, "groupe": "entreprise",
                                              "cles": "effectif", "action": "suivant"})
    assert response.status_code in (400, 422)
    assert "relues" in page_text(response.get_data(as_text=True))


def test_deep_json_bodies_are_refused_in_french(hostile):
    app, adviser = hostile
    for body in ["[" * 2000 + "]" * 2000, '{"a":' * 2000 + "1" + "}" * 2000]:
        response = app.test_client().post("/api/v1/verifications", data=body, content_type="application/json")
        assert _json_4xx(response, "situation")["message"].startswith("JSON invalide\u00a0: imbrication trop profonde")
        response = adviser.api("POST", "/api/v1/conseillers/dossiers", None, data=body, content_type="application/json")
        _json_4xx(response, {"situation", "corps"})


@pytest.mark.parametrize("body, expected", [
    ("{bad", "JSON invalide (ligne 1, colonne 2) : une clé doit être une chaîne entre guillemets doubles."),
    ('{"a": 1,,}', "JSON invalide (ligne 1, colonne 9)"),
    ('{"a" 1}', "séparateur attendu"),
    ('{"a": "sans fin', "chaîne non fermée"),
    ('{"a": nul}', "valeur attendue"),
    ("{} {}", "des caractères suivent la fin du document"),
])
def test_json_parse_errors_are_in_french(hostile, body, expected):
    app, _ = hostile
    response = app.test_client().post("/api/v1/verifications", data=body, content_type="application/json")
    assert response.status_code == 400
    assert typographie(expected) in response.get_json()["erreur"]["message"]


@pytest.mark.parametrize("field", ["nom", "notes", "siren"])
@pytest.mark.parametrize("value", ["\\ud800", "x\\udfffy", "a\\u0000b"])
def test_lone_surrogates_and_nul_in_a_case_file_are_refused_naming_the_field(hostile, field, value):
    _, adviser = hostile
    fields = {"nom": "Société", field: "@"}
    body = json.dumps(fields).replace('"@"', f'"{value}"')
    for method, url in (("POST", "/api/v1/conseillers/dossiers"),
                        ("PATCH", f"/api/v1/conseillers/dossiers/{adviser.dossier}")):
        response = adviser.api(method, url, None, data=body, content_type="application/json")
        _json_4xx(response, field)


def test_nul_in_a_multipart_form_is_not_a_server_error(hostile):
    _, adviser = hostile
    token = adviser.form_token()
    response = adviser.client.post("/conseillers/dossiers/nouveau", content_type="multipart/form-data",
                                   data={"csrf_token": token, "nom": "a\x00b", "siren": "", "notes": "x\x00"})
    assert response.status_code in (303, 422)
    response = adviser.client.post("/conseillers/lots", content_type="multipart/form-data", data={
        "csrf_token": token, "fichier": (io.BytesIO(b"date_creation;effectif\n2019-05-14;\x00\n"), "a\x00.csv")})
    assert response.status_code < 500
    response = adviser.client.post("/verifier", content_type="multipart/form-data",
                                   data={"csrf_token": token, "etat": "", "date_creation": "2019\x00"})
    assert response.status_code < 500


@pytest.mark.parametrize("target", ["/conseillers/dossiers%0d%0aSet-Cookie:%20x=1", "/conseillers/%0D%0ALocation:%20http://evil",
                                    "/conseillers/dossiers%00", "/conseillers/%09x"])
def test_cr_lf_in_the_next_address_after_sign_in_is_ignored(hostile, target):
    app, adviser = hostile
    response = AdviserClient(app, adviser.email, login=False).login(next_url=target)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/conseillers/dossiers")
    assert "Set-Cookie: x" not in str(response.headers)


def test_a_wide_csv_is_refused_naming_the_file(hostile):
    _, adviser = hostile
    wide = ";".join(["date_creation"] + [f"c{i}" for i in range(20_000)]) + "\n2019-05-14" + ";x" * 20_000 + "\n"
    response = adviser.api("POST", "/api/v1/conseillers/lots", None, data=wide.encode(), content_type="text/csv")
    error = _json_4xx(response, "fichier")
    assert "colonnes" in error["message"] or "caractères" in error["message"], error


# --- the production settings ------------------------------------------------------------------------------------

def test_production_refuses_a_short_secret_key():
    from bud_checker.web.security import secret_key_problem

    problem = secret_key_problem({"BUD_ENV": "production", "SECRET_KEY": "a", "BUD_HOSTS": "bud.example"})
    assert problem and "trop courte (1 octets)" in problem and "32" in problem
    assert secret_key_problem({"BUD_ENV": "production", "SECRET_KEY": "k" * 31, "BUD_HOSTS": "bud.example"})
    assert secret_key_problem({"BUD_ENV": "production", "SECRET_KEY": "k" * 32, "BUD_HOSTS": "bud.example"}) is None
    assert secret_key_problem({"BUD_ENV": "local", "SECRET_KEY": "a"}) is None


def test_only_the_configured_host_names_are_answered(web_database_url):
    from bud_checker.web import create_app

    app = create_app({"DATABASE_URL": web_database_url, "BUD_ENV": "test", "SECRET_KEY": "hosts",
                      "BUD_HOSTS": "bud.example, .cci.example"})
    client = app.test_client()
    for host in ("bud.example", "bud.example:8443", "conseil.cci.example"):
        assert client.get("/", headers={"Host": host}).status_code == 200, host
    page = client.get("/conseillers/dossiers", headers={"Host": "evil.example"})
    assert page.status_code == 400 and "Nom d'hôte non admis" in page.get_data(as_text=True)
    assert "evil" not in page.headers.get("Location", "") and "evil" not in page.get_data(as_text=True)
    api = client.post("/api/v1/verifications", json=DOUAI, headers={"Host": "evil.example"})
    assert api.status_code == 400 and api.get_json()["erreur"]["champ"] == "Host"
    created = client.post("/api/v1/verifications", json=DOUAI, headers={"Host": "bud.example"})
    assert created.get_json()["url"].startswith("http://bud.example/")


def test_gunicorn_trusts_forwarded_headers_only_behind_a_declared_proxy():
    from bud_checker.web.commands import forwarded_allow_ips, gunicorn_argv

    assert forwarded_allow_ips({"BUD_TRUST_PROXY": "0"}) == ""
    assert forwarded_allow_ips({}) == ""
    assert forwarded_allow_ips({"BUD_TRUST_PROXY": "1"}) == "127.0.0.1,::1"
    assert forwarded_allow_ips({"BUD_TRUST_PROXY": "1", "BUD_PROXY_IPS": "10.0.0.5"}) == "10.0.0.5"
    argv = gunicorn_argv("127.0.0.1", 8000, 2, {})
    assert argv[argv.index("--forwarded-allow-ips") + 1] == ""
    assert "bud_checker.web.accesslog.PrivateAccessLogger" in argv


def test_the_access_log_keeps_no_query_string_nor_identifier():
    from types import SimpleNamespace

    from bud_checker.web.accesslog import FORMAT, PrivateAccessLogger, clean_path
    from gunicorn.config import Config

    assert clean_path("/verifications/Ab3dEf_hIjKlMn0pQrStUvWx?x=1") == "/verifications/…"
    assert clean_path("/conseillers/dossiers/Ab3dEf_hIjKlMn0pQrStUvWx/verifications/zz3dEf-hIjKlMn0pQrStUvWx/rapport") \
        == "/conseillers/dossiers/…/verifications/…/rapport"
    assert clean_path("/communes?q=Douai") == "/communes"
    assert clean_path("/conseillers/dossiers") == "/conseillers/dossiers"
    logger = PrivateAccessLogger(Config())
    environ = {"REQUEST_METHOD": "GET", "RAW_URI": "/verifications/Ab3dEf_hIjKlMn0pQrStUvWx?q=secret",
               "PATH_INFO": "/verifications/Ab3dEf_hIjKlMn0pQrStUvWx", "QUERY_STRING": "q=secret",
               "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1", "HTTP_REFERER": "http://x/?q=secret",
               "HTTP_USER_AGENT": "test", "HTTP_COOKIE": "session=secret"}
    import datetime as dt

    atoms = logger.atoms(SimpleNamespace(status="200 OK", headers=[], sent=10), SimpleNamespace(headers=[
        ("COOKIE", "session=secret")]), environ, dt.timedelta(milliseconds=5))
    line = FORMAT % atoms
    assert "secret" not in line and "Ab3dEf" not in line and "GET /verifications/… HTTP/1.1" in line


def test_the_sqlite_file_and_instance_folder_are_private(tmp_path):
    from bud_checker.web import create_app

    os.umask(0o022)
    database = tmp_path / "nouveau" / "bud.sqlite3"
    create_app({"DATABASE_URL": f"sqlite:///{database}", "BUD_ENV": "test", "SECRET_KEY": "modes"})
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
    assert stat.S_IMODE(database.parent.stat().st_mode) == 0o700
    from bud_checker.web.config import instance_secret_key

    instance_secret_key(tmp_path / "instance")
    assert stat.S_IMODE((tmp_path / "instance").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "instance" / "secret_key").stat().st_mode) == 0o600


# --- outages ------------------------------------------------------------------------------------------------------

def test_a_database_that_does_not_answer_gives_a_french_503_with_retry_after(tmp_path):
    from bud_checker.web import create_app

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens there
    app = create_app({"DATABASE_URL": f"postgresql://bud@127.0.0.1:{port}/bud", "BUD_ENV": "test",
                      "SECRET_KEY": "outage", "RATELIMIT_ENABLED": False,
                      "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"connect_timeout": 2}}})
    client = app.test_client()
    assert client.get("/").status_code == 200  # the form needs no database
    identifier = "A" * 24
    for url in (f"/api/v1/verifications/{identifier}",):
        response = client.get(url)
        assert response.status_code == 503 and response.headers["Retry-After"] == "30"
        assert response.get_json()["erreur"]["message"].startswith("Service momentanément indisponible")
    response = client.post("/api/v1/verifications", json=DOUAI)
    assert response.status_code == 503 and "Retry-After" in response.headers
    for url in (f"/verifications/{identifier}",):
        page = client.get(url)
        assert page.status_code == 503 and page.headers["Retry-After"] == "30"
        assert "Service momentanément indisponible" in page.get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"',
                      client.get("/conseillers/connexion").get_data(as_text=True)).group(1)
    signin = client.post("/conseillers/connexion", data={"csrf_token": token, "email": "a@cci.test",
                                                        "password": "une phrase assez longue"})
    assert signin.status_code == 503 and "indisponible" in signin.get_data(as_text=True)
    with client.session_transaction() as session:  # a signed-in adviser's cookie: their pages answer 503 too
        session["_user_id"] = "quelqu-un"
        session["_fresh"] = True
    page = client.get("/conseillers/dossiers")
    assert page.status_code == 503 and "Service momentanément indisponible" in page.get_data(as_text=True)
    assert client.get("/api/v1/conseillers/session").status_code == 503
    # What the OpenAPI document says of a 503 (every operation that touches the database), batches included.
    import jsonschema_rs

    from bud_checker.web.api.openapi import openapi_document

    document = openapi_document()
    error = jsonschema_rs.validator_for({"$ref": "#/components/schemas/Erreur", "components": document["components"]})
    for method, url, path in (("GET", "/api/v1/conseillers/lots", "/conseillers/lots"),
                              ("GET", f"/api/v1/conseillers/lots/{identifier}", "/conseillers/lots/{id}"),
                              ("GET", f"/api/v1/conseillers/lots/{identifier}/resultats.csv",
                               "/conseillers/lots/{id}/resultats.csv"),
                              ("POST", "/api/v1/verifications", "/verifications"),
                              ("GET", f"/api/v1/verifications/{identifier}", "/verifications/{id}")):
        response = client.open(url, method=method, json=DOUAI if method == "POST" else None)
        assert response.status_code == 503 and int(response.headers["Retry-After"]) >= 1, url
        error.validate(response.get_json())
        assert "Retry-After" in document["paths"][path][method.lower()]["responses"]["503"]["headers"]


# --- the JSON written and read ------------------------------------------------------------------------------------

def test_checks_saved_before_orjson_stay_readable(hostile):
    """Rows written by the standard json module (spaces, \\u escapes, NaN) read back through orjson's reader."""
    import sqlalchemy as sa

    from bud_checker import evaluate
    from bud_checker.web.extensions import db

    app, _ = hostile
    verdict = evaluate(DOUAI).to_dict()
    identifier = "Ancien" + "x" * 18
    sqlite = app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")
    note = float("nan") if sqlite else "é"  # PostgreSQL's json type never held NaN
    with app.app_context():
        db.session.execute(sa.text(
            "INSERT INTO verifications (id, created_at, situation, verdict, statut, regles_version, canal) "
            "VALUES (:id, :at, :situation, :verdict, :statut, :version, 'api')"),
            {"id": identifier, "at": "2026-11-01 10:00:00", "situation": json.dumps({**DOUAI, "note": note}),
             "verdict": json.dumps(verdict), "statut": verdict["statut"], "version": verdict["regles_version"]})
        db.session.commit()
    response = app.test_client().get(f"/api/v1/verifications/{identifier}")
    assert response.status_code == 200
    body = response.get_json()
    assert body["verdict"] == json.loads(json.dumps(verdict)) and body["situation"]["note"] == (None if sqlite else "é")
    assert app.test_client().get(f"/verifications/{identifier}").status_code == 200


def test_the_api_writes_orjson_utf8_in_the_contract_order(hostile):
    app, _ = hostile
    response = app.test_client().post("/api/v1/verifications", json=DOUAI)
    raw = response.get_data()
    assert b"\\u00e9" not in raw and "é".encode() in raw  # UTF-8, not \u escapes
    assert list(response.get_json()) == ["id", "url", "page", "cree_le", "regles_version", "situation", "verdict"]
