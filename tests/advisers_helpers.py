"""Fixtures and helpers of the advisers' workspace tests (imported by tests/test_advisers_*.py).

`world` holds two organisations with their advisers; `AdviserClient` signs in through the real sign-in page
(CSRF token included) and posts forms and JSON with the token, as a browser or a script would.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from typing import Any

import pytest

PASSWORD = "phrase de passe solide 42"
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


@pytest.fixture(scope="session")
def adv_app(web_database_url):
    """The application on the session's migrated SQLite database, without the sign-in rate limit (tests sign in
    hundreds of times from the same address; the limit has its own tests with its own application)."""
    from bud_checker.web import create_app

    return create_app({"DATABASE_URL": web_database_url, "BUD_ENV": "test", "SECRET_KEY": "tests",
                       "RATELIMIT_ENABLED": False})


def unique(prefix: str) -> str:
    return f"{prefix} {secrets.token_hex(4)}"


def make_org(app, name: str | None = None):
    from bud_checker.web.advisers.services import create_organisation

    with app.app_context():
        organisation = create_organisation(name or unique("CCI"))
        return organisation.id, organisation.nom


def make_adviser(app, org_name: str, email: str | None = None, password: str = PASSWORD, nom: str | None = None):
    from bud_checker.web.advisers.services import create_adviser, find_organisation

    email = email or f"{secrets.token_hex(5)}@cci.test"
    with app.app_context():
        create_adviser(find_organisation(org_name), email, password, nom)
    return email


class AdviserClient:
    """A Flask test client signed in as an adviser."""

    def __init__(self, app, email: str, password: str = PASSWORD, *, login: bool = True) -> None:
        self.app = app
        self.client = app.test_client()
        self.email = email
        self.password = password
        self._token: str | None = None
        if login:
            response = self.login()
            assert response.status_code == 303, response.get_data(as_text=True)[:500]

    # -- tokens --
    def token(self, html: str | None = None) -> str:
        if html is None:
            html = self.client.get("/conseillers/connexion").get_data(as_text=True)
        match = CSRF_META.search(html) or CSRF_INPUT.search(html)
        assert match, "no CSRF token on the page"
        return next(group for group in match.groups() if group)

    def login(self, email: str | None = None, password: str | None = None, next_url: str | None = None):
        html = self.client.get("/conseillers/connexion").get_data(as_text=True)
        url = "/conseillers/connexion" + (f"?suivant={next_url}" if next_url else "")
        self._token = None
        return self.client.post(url, data={"csrf_token": self.token(html), "email": email or self.email,
                                           "password": password if password is not None else self.password})

    def api_token(self) -> str:
        response = self.client.get("/api/v1/conseillers/session")
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()["csrf_token"]

    # -- requests --
    def get(self, url: str, **kwargs):
        return self.client.get(url, **kwargs)

    def form_token(self) -> str:
        """The CSRF token of this session (the same for every form until the session changes)."""
        if self._token is None:
            page = self.client.get("/conseillers/dossiers")
            self._token = self.token(page.get_data(as_text=True)) if page.status_code == 200 else self.token()
        return self._token

    def post(self, url: str, data: dict | None = None, **kwargs):
        return self.client.post(url, data={"csrf_token": self.form_token(), **(data or {})}, **kwargs)

    def api(self, method: str, url: str, json: Any = None, **kwargs):
        headers = {"X-CSRFToken": self.form_token(), **kwargs.pop("headers", {})}
        return self.client.open(url, method=method, json=json, headers=headers, **kwargs)

    # -- shortcuts --
    def new_dossier(self, nom: str | None = None, siren: str | None = None, notes: str = "") -> str:
        response = self.api("POST", "/api/v1/conseillers/dossiers", {"nom": nom or unique("Entreprise"),
                                                                      "siren": siren, "notes": notes})
        assert response.status_code == 201, response.get_json()
        return response.get_json()["id"]

    def new_verification(self, dossier_id: str, situation: dict) -> str:
        response = self.api("POST", f"/api/v1/conseillers/dossiers/{dossier_id}/verifications", situation)
        assert response.status_code == 201, response.get_json()
        return response.get_json()["id"]


@dataclass
class World:
    """Two organisations: A (advisers a1 and a2) and B (adviser b1)."""

    app: Any
    org_a: str
    org_b: str
    a1: str
    a2: str
    b1: str
    ids: dict[str, str] = field(default_factory=dict)


@pytest.fixture(scope="module")
def world(adv_app) -> World:
    _, org_a = make_org(adv_app, unique("CCI Artois"))
    _, org_b = make_org(adv_app, unique("CCI Hainaut"))
    return World(adv_app, org_a, org_b, make_adviser(adv_app, org_a, nom="Anne Artois"),
                 make_adviser(adv_app, org_a, nom="Alain Artois"), make_adviser(adv_app, org_b, nom="Bruno Hainaut"))


DOUAI = {
    "date_creation": "2019-05-14", "commune_insee": "59178", "activite": "commerciale", "origine": "creation_pure",
    "effectif": 3, "chiffre_affaires": 180000, "total_bilan": 90000, "capital_detenu_par_societes_pct": 0,
    "siege_et_moyens_dans_zone": True, "non_sedentaire": False, "salaries_eligibles": 2,
    "salaries_eligibles_residents_bud": 2, "embauches_eligibles": 2, "embauches_eligibles_residents_bud": 2,
    "deliberation_exoneration_cfe": False, "proprietaire_immeuble": False,
}
