"""Accounts of the advisers' workspace: sign-in and sign-out, argon2 hashes, password change, session cookie
flags, session end, deactivation, CSRF, and the rate limit on sign-in."""

from __future__ import annotations

import time

import pytest

from advisers_helpers import PASSWORD, AdviserClient, adv_app, make_adviser, make_org, unique
from conftest import page_text


@pytest.fixture(scope="module")
def org(adv_app):
    return make_org(adv_app, unique("CCI Grand Lille"))[1]


@pytest.fixture
def email(adv_app, org):
    return make_adviser(adv_app, org, nom="Claire Conseil")


def test_sign_in_leads_to_the_case_files_and_sets_a_safe_cookie(adv_app, email):
    adviser = AdviserClient(adv_app, email, login=False)
    response = adviser.login()
    assert response.status_code == 303 and response.headers["Location"] == "/conseillers/dossiers"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # BUD_ENV=test over plain HTTP
    page = adviser.get("/conseillers/dossiers")
    assert page.status_code == 200
    text = page_text(page.get_data(as_text=True))
    assert "Claire Conseil" in text and "Se déconnecter" in text
    assert page.headers["Cache-Control"] == "no-store"


def test_password_is_stored_as_an_argon2id_hash(adv_app, email):
    from bud_checker.web.advisers.services import find_adviser

    with adv_app.app_context():
        adviser = find_adviser(email)
        assert adviser.password_hash.startswith("$argon2id$")
        assert PASSWORD not in adviser.password_hash


@pytest.mark.parametrize("who, password", [("known", "mauvais mot de passe"), ("unknown", PASSWORD), ("known", "")])
def test_wrong_credentials_are_refused_without_saying_which(adv_app, email, who, password):
    adviser = AdviserClient(adv_app, email if who == "known" else "personne@cci.test", login=False)
    response = adviser.login(password=password)
    assert response.status_code == 401
    text = page_text(response.get_data(as_text=True))
    assert "Connexion impossible" in text
    assert adviser.get("/conseillers/dossiers").status_code == 302


def test_the_email_address_is_not_case_sensitive(adv_app, email):
    assert AdviserClient(adv_app, email, login=False).login(email=f"  {email.upper()} ").status_code == 303


def test_sign_in_needs_the_csrf_token(adv_app, email):
    client = adv_app.test_client()
    client.get("/conseillers/connexion")
    response = client.post("/conseillers/connexion", data={"email": email, "password": PASSWORD})
    assert response.status_code == 400


def test_after_sign_in_the_adviser_goes_back_where_they_were_going_but_never_elsewhere(adv_app, email):
    adviser = AdviserClient(adv_app, email, login=False)
    redirect = adviser.get("/conseillers/lots")
    assert redirect.status_code == 302 and "suivant=/conseillers/lots" in redirect.headers["Location"]
    assert adviser.login(next_url="/conseillers/lots").headers["Location"] == "/conseillers/lots"
    for evil in ("https://evil.example/", "//evil.example/conseillers/", "/conseillers/..\\evil", "/autre"):
        adviser = AdviserClient(adv_app, email, login=False)
        assert adviser.login(next_url=evil).headers["Location"] == "/conseillers/dossiers", evil


def test_sign_out(adv_app, email):
    adviser = AdviserClient(adv_app, email)
    assert adviser.get("/conseillers/deconnexion").status_code == 405  # a link cannot sign anyone out
    response = adviser.post("/conseillers/deconnexion")
    assert response.status_code == 303
    assert adviser.get("/conseillers/dossiers").status_code == 302
    assert adviser.get("/api/v1/conseillers/session").status_code == 401


def test_password_change_ends_the_other_sessions(adv_app, email):
    here = AdviserClient(adv_app, email)
    elsewhere = AdviserClient(adv_app, email)
    new = "une toute nouvelle phrase 2026"
    bad = [
        ({"current": "faux", "new": new, "confirm": new}, "actuel est incorrect"),
        ({"current": PASSWORD, "new": new, "confirm": new + "x"}, "diffèrent"),
        ({"current": PASSWORD, "new": "court", "confirm": "court"}, "au moins 12 caractères"),
        ({"current": PASSWORD, "new": PASSWORD, "confirm": PASSWORD}, "doit différer"),
    ]
    for data, message in bad:
        response = here.post("/conseillers/mot-de-passe", data)
        assert response.status_code == 422 and message in page_text(response.get_data(as_text=True)), message
    response = here.post("/conseillers/mot-de-passe", {"current": PASSWORD, "new": new, "confirm": new})
    assert response.status_code == 303
    assert here.get("/conseillers/dossiers").status_code == 200  # this session goes on
    assert elsewhere.get("/conseillers/dossiers").status_code == 302  # the other one is closed
    assert AdviserClient(adv_app, email, login=False).login().status_code == 401  # old password
    assert AdviserClient(adv_app, email, new, login=False).login().status_code == 303


def test_a_deactivated_adviser_is_signed_out_and_cannot_sign_in(adv_app, email):
    from bud_checker.web.advisers.services import find_adviser
    from bud_checker.web.extensions import db

    adviser = AdviserClient(adv_app, email)
    with adv_app.app_context():
        find_adviser(email).actif = False
        db.session.commit()
    assert adviser.get("/conseillers/dossiers").status_code == 302
    assert AdviserClient(adv_app, email, login=False).login().status_code == 401


def test_a_session_lasts_at_most_the_configured_hours(adv_app, email):
    from bud_checker.web.advisers.auth import LOGIN_TIME_KEY

    adviser = AdviserClient(adv_app, email)
    with adviser.client.session_transaction() as session:
        session[LOGIN_TIME_KEY] = time.time() - (adv_app.config["ADVISER_SESSION_HOURS"] * 3600 + 60)
    assert adviser.get("/conseillers/dossiers").status_code == 302


def test_the_json_api_needs_the_csrf_header(adv_app, email):
    adviser = AdviserClient(adv_app, email)
    response = adviser.client.post("/api/v1/conseillers/dossiers", json={"nom": "Sans jeton"})
    assert response.status_code == 400
    assert response.get_json()["erreur"]["champ"] == "csrf_token"
    response = adviser.api("POST", "/api/v1/conseillers/dossiers", {"nom": "Avec jeton"})
    assert response.status_code == 201


def test_the_session_endpoint_says_who_is_signed_in(adv_app, org, email):
    body = AdviserClient(adv_app, email).get("/api/v1/conseillers/session").get_json()
    assert body["conseiller"]["email"] == email and body["organisation"]["nom"] == org
    assert body["csrf_token"] and body["regles_version"]


def test_cookie_is_secure_in_production_and_over_https(web_database_url, adv_app, email):
    from bud_checker.web import create_app

    production = create_app({"DATABASE_URL": web_database_url, "BUD_ENV": "production", "SECRET_KEY": "tests",
                             "BUD_WARMUP": False, "RATELIMIT_ENABLED": False})
    adviser = AdviserClient(production, email, login=False)
    assert "Secure" in adviser.login().headers["Set-Cookie"]
    # Served over plain HTTP to another machine, the sign-in page warns that the browser would drop the cookie.
    page = production.test_client().get("/conseillers/connexion", base_url="http://bud.example")
    assert "HTTPS" in page_text(page.get_data(as_text=True))
    https = adv_app.test_client()
    response = https.get("/conseillers/connexion", base_url="https://localhost")
    assert "Secure" in response.headers["Set-Cookie"]


def test_sign_in_is_rate_limited_per_address_and_per_email(web_database_url, adv_app, org):
    from bud_checker.web import create_app

    limited = create_app({"DATABASE_URL": web_database_url, "BUD_ENV": "test", "SECRET_KEY": "tests",
                          "ADVISER_LOGIN_LIMIT_PER_EMAIL": "3 per minute",
                          "ADVISER_LOGIN_LIMIT_PER_ADDRESS": "6 per minute"})
    target = make_adviser(adv_app, org)
    other = make_adviser(adv_app, org)
    attacker = AdviserClient(limited, target, login=False)
    # Successful sign-ins do not count.
    for _ in range(4):
        assert AdviserClient(limited, target, login=False).login().status_code == 303
    for _ in range(3):
        assert attacker.login(password="devine").status_code == 401
    blocked = attacker.login(password="devine")
    assert blocked.status_code == 429
    assert "Trop de tentatives" in page_text(blocked.get_data(as_text=True))
    assert attacker.login().status_code == 429  # even the right password, from this address now
    assert 1 <= int(blocked.headers["Retry-After"]) <= 60  # from Flask-Limiter's own headers
    # From the owner's usual address the failures made elsewhere do not count: failures are counted per e-mail
    # address AND client address.
    remote = {"REMOTE_ADDR": "203.0.113.7"}
    for email in (target, other):
        client = limited.test_client()
        token = AdviserClient(limited, email, login=False).token(
            client.get("/conseillers/connexion", environ_base=remote).get_data(as_text=True))
        response = client.post("/conseillers/connexion",
                               data={"csrf_token": token, "email": email, "password": PASSWORD}, environ_base=remote)
        assert response.status_code == 303, email
    # Per address: 3 more failures from the first address on other e-mail addresses reach its limit of 6.
    for index in range(3):
        assert attacker.login(email=f"x{index}@cci.test", password="devine").status_code == 401
    assert attacker.login(email=other).status_code == 429
