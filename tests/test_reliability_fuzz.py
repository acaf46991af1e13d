"""Property-based tests (hypothesis) of every form and JSON endpoint, through the Flask test client, on SQLite and
on PostgreSQL: whatever is sent, the answer is never a 500, and every refusal names its field (JSON
`erreur.champ`, or an error summary whose entries link to the field or name it).

The engine's own properties are in tests/test_properties.py; the OpenAPI contract is fuzzed by schemathesis
(tests/test_openapi_schemathesis.py)."""

from __future__ import annotations

import json
import re
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consistency_helpers import day_of
from bud_checker import evaluate
from bud_checker.engine.situation import KEYS, LIBELLES
from bud_checker.web.public.forms import GROUPS, QUESTIONS
from reliability_helpers import BACKENDS, dispose, migrated_database

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))

# --- strategies ---------------------------------------------------------------------------------------------

NASTY = ["", " ", "0", "-1", "-0", "1e309", "NaN", "Infinity", "2019-02-30", "30/02/2019", "14/05/2019",
         "2019-05-14", "0000-00-00", "9999-12-31", "Douai", "douai", "59178", "62300", "59", "2A004", "\x00",
         "'; DROP TABLE verifications;--", "<script>alert(1)</script>", "é" * 300, "oui", "non", "nsp", "1 000",
         "12,5", "1\u202f000", "100 %", "  180 000 € ", "Saint-Étienne", "\ud7ff", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "%s%s%n",
         "../../etc/passwd"]
NASTY += ["\r\n", "a\rb\nc", "/conseillers/dossiers\r\nSet-Cookie: x=1", "\x00\x00"]
texts = st.one_of(st.sampled_from(NASTY), st.text(max_size=40))
# Issue 11's hostile values: numbers beyond a float (1.8e308) or long (up to 4,000 digits: json.dumps refuses more,
# the raw bodies below go beyond), lone surrogates (only in JSON: a form cannot carry one), NUL, CR/LF.
huge_numbers = st.one_of(st.sampled_from([10**309, -10**309, 2**64, 2**63, 10**4000, -(10**4000)]),
                         st.integers(10**16, 10**400))
surrogates = st.sampled_from(["\ud800", "x\udfffy", "\udbff\udc00\ud800", "a\x00b"])
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.integers(-10**40, 10**40),
                         st.floats(allow_nan=True, allow_infinity=True), texts, huge_numbers, surrogates)
deep_documents = st.builds(lambda n, opener, value: (opener * n) + value + ("]" if opener == "[" else "}") * n,
                           st.integers(900, 3000), st.sampled_from(["[", '{"a":']),
                           st.sampled_from(["1", "[]", "null"]))
long_number_bodies = st.builds(lambda key, digits, sign: '{"date_creation": "2019-05-14", "%s": %s%s}'
                               % (key, sign, "9" * digits), st.sampled_from(list(KEYS)), st.integers(300, 6000),
                               st.sampled_from(["", "-"]))
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=6)
situation_keys = st.one_of(st.sampled_from(list(KEYS)), st.sampled_from(list(KEYS)), st.text(max_size=12))
situations = st.dictionaries(situation_keys, json_values, max_size=8)
likely_situations = st.fixed_dictionaries(
    {"date_creation": st.one_of(st.dates().map(str), texts)},
    optional={key: st.one_of(json_scalars, st.sampled_from(["commerciale", "creation_pure", "59178", True, 3]))
              for key in KEYS if key != "date_creation"})

FIELD_NAMES = sorted({name for key in KEYS for name in (
    ["commune", "commune_insee", "commune_choix", "commune_nsp"] if key == "commune_insee" else [key, f"{key}_nsp"])})
form_answers = st.dictionaries(st.sampled_from(FIELD_NAMES), texts, max_size=10)

ERROR_SUMMARY = re.compile(r'<div class="error-summary"[^>]*>(.*?)</div>', re.S)
ITEM = re.compile(r"<li>(.*?)</li>", re.S)
LABELS = list(LIBELLES.values()) + [q.label for q in QUESTIONS.values()]


def keys_of(value) -> set[str]:
    """The keys of a JSON object as an error may name them (the engine names an unknown key as it shows user input:
    on one line, control characters removed, truncated)."""
    from bud_checker.engine.situation import shown

    if not isinstance(value, dict):
        return set()
    return {str(k) for k in value} | {shown(k, 60) for k in value}


def assert_json_error(response, allowed: set[int], champs: set[str] | None = None) -> dict:
    assert response.status_code in allowed, (response.status_code, response.get_data(as_text=True)[:500])
    assert response.mimetype == "application/json"
    body = response.get_json()
    error = body["erreur"]
    assert isinstance(error["message"], str) and len(error["message"]) > 5
    assert error["champ"] is not None, f"error without its field: {body}"
    if champs is not None:
        assert error["champ"] in champs, body
    return error


def assert_page_names_fields(response) -> None:
    """A refused form: an error summary whose every entry links to a field of the page, or names one."""
    html = response.get_data(as_text=True)
    assert "Traceback" not in html
    summary = ERROR_SUMMARY.search(html)
    assert summary, f"{response.status_code} without an error summary"
    items = ITEM.findall(summary.group(1)) or [summary.group(1)]
    for item in items:
        link = re.search(r'href="#([^"]+)"', item)
        if link:
            assert f'id="{link.group(1)}"' in html, f"link to a missing field #{link.group(1)}"
        elif response.status_code == 422:
            assert any(label.lower() in item.lower() for label in LABELS), f"an error naming no field: {item}"


# --- the applications -------------------------------------------------------------------------------------------

@pytest.fixture(scope="module", params=BACKENDS)
def fuzz_app(request, tmp_path_factory):
    from bud_checker.web import create_app

    with migrated_database(request.param, tmp_path_factory.mktemp("fuzz")) as url:
        app = create_app({"DATABASE_URL": url, "BUD_ENV": "test", "SECRET_KEY": "fuzz", "RATELIMIT_ENABLED": False})
        yield app
        dispose(app)


@pytest.fixture(scope="module")
def adviser(fuzz_app):
    from advisers_helpers import AdviserClient, make_adviser, make_org, unique

    _, organisation = make_org(fuzz_app, unique("CCI Fuzz"))
    client = AdviserClient(fuzz_app, make_adviser(fuzz_app, organisation))
    client.dossier = client.new_dossier("Entreprise témoin")
    return client


# --- the public JSON API --------------------------------------------------------------------------------------

@FUZZ
@given(situation=st.one_of(situations, likely_situations))
def test_api_creation_answers_201_or_names_the_field(fuzz_app, situation):
    client = fuzz_app.test_client()
    response = client.post("/api/v1/verifications", data=json.dumps(situation), content_type="application/json")
    if response.status_code == 201:
        body = response.get_json()
        fresh = evaluate(body["situation"], date_verification=day_of(body["verdict"])).to_dict()
        assert body["verdict"] == json.loads(json.dumps(fresh))
        again = client.get(f"/api/v1/verifications/{body['id']}")
        assert again.status_code == 200 and again.get_data() == response.get_data()
    else:
        assert_json_error(response, {422}, set(KEYS) | keys_of(situation))


@FUZZ
@given(body=st.one_of(st.binary(max_size=200), texts.map(str.encode),
                      json_values.map(lambda v: json.dumps(v).encode()), deep_documents.map(str.encode),
                      long_number_bodies.map(str.encode)),
       content_type=st.sampled_from(["application/json", "application/json; charset=utf-8", "text/plain", "",
                                     "application/x-www-form-urlencoded", "multipart/form-data", "text/json",
                                     "application/problem+json", "application/json; charset=latin-1"]))
def test_api_any_body_answers_without_a_server_error(fuzz_app, body, content_type):
    response = fuzz_app.test_client().post("/api/v1/verifications", data=body, content_type=content_type or None)
    if response.status_code != 201:
        assert_json_error(response, {400, 415, 422}, set(KEYS) | {"situation", "Content-Type"}
                          | keys_of(_maybe_object(body)))


def _maybe_object(body: bytes):
    try:
        return json.loads(body)
    except (ValueError, RecursionError):  # invalid, nested too deep, or a number too long for Python
        return None


@FUZZ
@given(q=st.one_of(st.none(), texts, st.text(min_size=90, max_size=120)),
       limite=st.one_of(st.none(), texts, st.integers(-5, 80).map(str)))
def test_api_commune_search_answers_200_or_names_the_parameter(fuzz_app, q, limite):
    params = {k: v for k, v in {"q": q, "limite": limite}.items() if v is not None}
    response = fuzz_app.test_client().get("/api/v1/communes?" + urlencode(params))
    if response.status_code == 200:
        assert isinstance(response.get_json()["communes"], list)
    else:
        assert_json_error(response, {400}, {"q", "limite"})


@FUZZ
@given(identifier=st.one_of(texts, st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef0123456789-_", min_size=22,
                                           max_size=64)).filter(lambda s: s.strip("/") and "/" not in s))
def test_api_unknown_verification_is_a_404_naming_the_id(fuzz_app, identifier):
    client = fuzz_app.test_client()
    response = client.get("/api/v1/verifications/" + quote(identifier, safe=""))
    assert_json_error(response, {404}, {"id"})
    page = client.get("/verifications/" + quote(identifier, safe=""))
    assert page.status_code == 404 and "Traceback" not in page.get_data(as_text=True)


# --- the public form ------------------------------------------------------------------------------------------

def _token(client) -> str:
    html = client.get("/").get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


@FUZZ
@given(answers=form_answers,
       etat=st.one_of(st.just(""), st.just('{"date_creation":"2019-05-14","commune_insee":"59178"}'), texts,
                      situations.map(lambda s: json.dumps(s)), deep_documents, long_number_bodies),
       groupe=st.one_of(st.sampled_from([g.id for g in GROUPS]), texts),
       cles=st.one_of(st.sampled_from([",".join(g.keys) for g in GROUPS]), texts),
       action=st.one_of(st.sampled_from(["suivant", "resultat"] + [f"modifier:{g.id}" for g in GROUPS]), texts))
def test_form_step_never_fails_and_names_the_fields(fuzz_app, answers, etat, groupe, cles, action):
    client = fuzz_app.test_client()
    data = {"csrf_token": _token(client), "etat": etat, "groupe": groupe, "cles": cles, "action": action, **answers}
    response = client.post("/verifier", data=data)
    assert response.status_code in (200, 303, 400, 422), response.status_code
    if response.status_code in (400, 422):
        assert_page_names_fields(response)
    if response.status_code == 303:
        assert client.get(response.headers["Location"]).status_code == 200


@FUZZ
@given(q=texts)
def test_commune_suggestions_always_answer(fuzz_app, q):
    response = fuzz_app.test_client().get("/communes?" + urlencode({"q": q}))
    assert response.status_code == 200 and isinstance(response.get_json()["communes"], list)


# --- the advisers' workspace: forms ------------------------------------------------------------------------------

@FUZZ
@given(email=texts, password=st.one_of(texts, st.text(min_size=250, max_size=300)))
def test_sign_in_refusals_never_fail(fuzz_app, email, password):
    from advisers_helpers import AdviserClient

    client = AdviserClient(fuzz_app, "nobody@cci.test", login=False)
    response = client.login(email=email, password=password)
    assert response.status_code == 401
    assert_page_names_fields(response)


@FUZZ
@given(nom=texts, siren=st.one_of(texts, st.sampled_from(["732 829 320", "123456789", "552100554"])), notes=texts)
def test_case_file_form_never_fails(adviser, nom, siren, notes):
    for url in ("/conseillers/dossiers/nouveau", f"/conseillers/dossiers/{adviser.dossier}/modifier"):
        response = adviser.post(url, {"nom": nom, "siren": siren, "notes": notes})
        assert response.status_code in (303, 422), response.status_code
        if response.status_code == 422:
            assert_page_names_fields(response)
    adviser.post(f"/conseillers/dossiers/{adviser.dossier}/modifier", {"nom": "Entreprise témoin", "siren": ""})


@FUZZ
@given(answers=form_answers)
def test_case_file_check_form_never_fails(adviser, answers):
    response = adviser.post(f"/conseillers/dossiers/{adviser.dossier}/verifier", answers)
    assert response.status_code in (303, 422), response.status_code
    if response.status_code == 422:
        assert_page_names_fields(response)


@FUZZ
@given(current=texts, new=texts, confirm=texts)
def test_password_change_refusals_name_the_field(adviser, current, new, confirm):
    response = adviser.post("/conseillers/mot-de-passe", {"current": current, "new": new, "confirm": confirm})
    assert response.status_code == 422
    assert_page_names_fields(response)


# --- the advisers' workspace: JSON API ---------------------------------------------------------------------------

def as_json(value) -> dict:
    """Keyword arguments of AdviserClient.api sending `value` as a JSON body (null included)."""
    return {"json": None, "data": json.dumps(value), "content_type": "application/json"}


DOSSIER_FIELDS = st.dictionaries(st.one_of(st.sampled_from(["nom", "siren", "notes"]), st.text(max_size=6)),
                                 json_values, max_size=4)


@FUZZ
@given(body=st.one_of(DOSSIER_FIELDS, json_values))
def test_adviser_api_case_files_never_fail(adviser, body):
    keys = keys_of(body)
    created = adviser.api("POST", "/api/v1/conseillers/dossiers", **as_json(body))
    if created.status_code != 201:
        assert_json_error(created, {422}, {"nom", "siren", "notes", "corps"} | keys)
    patched = adviser.api("PATCH", f"/api/v1/conseillers/dossiers/{adviser.dossier}", **as_json(body))
    if patched.status_code != 200:
        assert_json_error(patched, {422}, {"nom", "siren", "notes", "corps"} | keys)
    adviser.api("PATCH", f"/api/v1/conseillers/dossiers/{adviser.dossier}", {"nom": "Entreprise témoin", "siren": None})


@FUZZ
@given(situation=st.one_of(situations, likely_situations, json_values))
def test_adviser_api_checks_never_fail(adviser, situation):
    response = adviser.api("POST", f"/api/v1/conseillers/dossiers/{adviser.dossier}/verifications",
                           **as_json(situation))
    if response.status_code == 201:
        body = response.get_json()
        fresh = evaluate(body["situation"], date_verification=day_of(body["verdict"])).to_dict()
        assert body["verdict"] == json.loads(json.dumps(fresh))
    else:
        assert_json_error(response, {422}, set(KEYS) | {"corps"} | keys_of(situation))


wide_headers = st.integers(400, 20_000).map(lambda n: ";".join(["date_creation"] + [f"c{i}" for i in range(n)]))


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(rows=st.lists(st.lists(texts, min_size=1, max_size=5), max_size=6),
       header=st.one_of(st.just("date_creation;commune_insee;activite"), texts, wide_headers),
       encoding=st.sampled_from(["utf-8", "cp1252", "utf-16"]))
def test_adviser_api_batches_never_fail(adviser, rows, header, encoding):
    text = "\r\n".join([header, *(";".join(row) for row in rows)])
    data = text.encode(encoding, errors="replace")
    response = adviser.api("POST", "/api/v1/conseillers/lots", None, data=data, content_type="text/csv")
    if response.status_code == 202:  # accepted: checked at once here (the tests' queue is immediate)
        assert response.get_json()["etat"] in ("termine", "echec")
    else:
        assert_json_error(response, {400, 422}, {"fichier"})


@FUZZ
@given(q=st.one_of(st.none(), texts), page=st.one_of(st.none(), texts, st.integers(-3, 10**6).map(str)),
       avec=texts)
def test_adviser_api_lists_and_comparisons_never_fail(adviser, q, page, avec):
    params = {k: v for k, v in {"q": q, "page": page}.items() if v is not None}
    response = adviser.get("/api/v1/conseillers/dossiers?" + urlencode(params))
    if response.status_code != 200:
        assert_json_error(response, {400}, {"page"})
    pages = adviser.get("/conseillers/dossiers?" + urlencode(params))
    assert pages.status_code == 200
    compare = adviser.get(f"/api/v1/conseillers/dossiers/{adviser.dossier}/verifications/inconnue/comparaison?"
                          + urlencode({"avec": avec}))
    assert_json_error(compare, {404}, {"id", "avec"})
