"""Shared fixtures. Browser and PostgreSQL tests skip when their service is absent, unless
BUD_REQUIRE_ALL=1 (set by scripts/test and CI), where a missing service is a failure."""

from __future__ import annotations

import contextlib
import html as _html
import os
import re as _re
import secrets
import threading
from html.parser import HTMLParser
from typing import Iterator

import pytest

REQUIRE_ALL = os.environ.get("BUD_REQUIRE_ALL") == "1"
pytest.register_assert_rewrite("browser_helpers")  # its assertions report like the tests' own


def skip_or_fail(reason: str) -> None:
    if REQUIRE_ALL:
        pytest.fail(f"{reason} (BUD_REQUIRE_ALL=1: every service must be available)")
    pytest.skip(reason)


@pytest.fixture
def douai_commerce() -> dict:
    """The reference case: a commercial company created on 2019-05-14 in Douai, every answer given."""
    return {
        "date_creation": "2019-05-14",
        "commune_insee": "59178",
        "activite": "commerciale",
        "origine": "creation_pure",
        "effectif": 3,
        "chiffre_affaires": 180000,
        "total_bilan": 90000,
        "capital_detenu_par_societes_pct": 0,
        "siege_et_moyens_dans_zone": True,
        "non_sedentaire": False,
        "salaries_eligibles": 2,
        "salaries_eligibles_residents_bud": 2,
        "embauches_eligibles": 2,
        "embauches_eligibles_residents_bud": 2,
        "deliberation_exoneration_cfe": False,
        "proprietaire_immeuble": False,
    }


# --- The web application (bud_checker.web) --------------------------------------------------------------------

@pytest.fixture(scope="session")
def web_database_url(tmp_path_factory) -> str:
    """An SQLite database for this test session (one per xdist worker), migrated with Alembic like `serve`."""
    from bud_checker.web.commands import upgrade_database

    url = f"sqlite:///{tmp_path_factory.mktemp('web') / 'bud_checker.sqlite3'}"
    upgrade_database({"DATABASE_URL": url, "BUD_ENV": "test", "SECRET_KEY": "tests"})
    return url


@pytest.fixture(scope="session")
def app(web_database_url):
    from bud_checker.web import create_app

    return create_app({"DATABASE_URL": web_database_url, "BUD_ENV": "test", "SECRET_KEY": "tests"})


@pytest.fixture
def client(app):
    return app.test_client()


class _Inputs(HTMLParser):
    """Collects the forms of a page: their inputs and submit buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attributes.get("action"), "inputs": [], "buttons": []})
        elif tag == "input" and self.forms:
            self.forms[-1]["inputs"].append(attributes)
        elif tag == "button" and self.forms:
            self.forms[-1]["buttons"].append(attributes)


def page_forms(text: str) -> list[dict]:
    parser = _Inputs()
    parser.feed(text)
    return parser.forms


def page_text(text: str) -> str:
    """The visible text of a page, tags removed and spaces collapsed (for assertions)."""
    text = _re.sub(r"<(script|style|title)[^>]*>.*?</\1>", " ", text, flags=_re.S)
    return " ".join(_html.unescape(_re.sub(r"<[^>]+>", " ", text)).split())


class FormFlow:
    """Drives the public form step by step through the Flask test client, as a browser without JavaScript."""

    def __init__(self, client) -> None:
        self.client = client
        self.response = client.get("/")
        assert self.response.status_code == 200

    @property
    def html(self) -> str:
        return self.response.get_data(as_text=True)

    def _main_form(self) -> dict:
        forms = [f for f in page_forms(self.html) if f["action"] == "/verifier"]
        assert forms, "no step form on the page"
        return forms[0]

    def hidden(self) -> dict[str, str]:
        return {i["name"]: i.get("value", "") for i in self._main_form()["inputs"]
                if i.get("type") == "hidden" and i.get("name")}

    @property
    def keys(self) -> list[str]:
        return [k for k in self.hidden().get("cles", "").split(",") if k]

    @property
    def group(self) -> str | None:
        return self.hidden().get("groupe")

    def dont_know(self, **answers: str) -> dict[str, str]:
        """«Je ne sais pas» to every question of the step, as the page offers it (the `nsp` choice or the
        `<key>_nsp` box; a field without it is left empty), except the `answers` given for some of them."""
        inputs = [(i.get("name"), i.get("value", "")) for i in self._main_form()["inputs"]]
        chosen = {}
        for key in self.keys:
            boxes = [value for name, value in inputs if name == f"{key}_nsp"]
            if key in answers:
                chosen[key] = answers[key]
            elif (key, "nsp") in inputs:
                chosen[key] = "nsp"
            elif boxes:
                chosen[f"{key}_nsp"] = boxes[0]
            else:
                chosen[key] = ""
        return chosen

    def submit(self, answers: dict | None = None, action: str = "suivant", **kwargs):
        data = {**self.hidden(), **(answers or {}), "action": action}
        self.response = self.client.post("/verifier", data=data, **kwargs)
        return self.response

    def result(self):
        """Ask for the result; follows the 303 to the saved verdict page."""
        self.response = self.client.post("/verifier", data={**self.hidden(), "action": "resultat"})
        assert self.response.status_code == 303, self.response.status_code
        location = self.response.headers["Location"]
        self.response = self.client.get(location)
        return location


@pytest.fixture
def flow(client) -> FormFlow:
    return FormFlow(client)


@contextlib.contextmanager
def serving(app) -> Iterator[str]:
    """`app` on a real HTTP port (threaded werkzeug server, in this process); yields its base URL."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def live_server(app):
    """The application on a real HTTP port, for the browser tests."""
    with serving(app) as url:
        yield url


# --- PostgreSQL (DATABASE_URL_TEST, started by scripts/pg-test) -----------------------------------------------

@contextlib.contextmanager
def pg_database(prefix: str = "bud_test") -> Iterator[str]:
    """A fresh database on the PostgreSQL server of DATABASE_URL_TEST, dropped afterwards; yields its URL."""
    from sqlalchemy.engine import make_url

    base = os.environ.get("DATABASE_URL_TEST")
    if not base:
        skip_or_fail("DATABASE_URL_TEST is not set (eval \"$(scripts/pg-test start)\")")
    import psycopg

    admin = make_url(base).set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"{prefix}_{secrets.token_hex(6)}"
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as error:
        skip_or_fail(f"PostgreSQL server unreachable at {make_url(base).render_as_string()}: {error}")
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def dispose(app) -> None:
    """Close the database connections of `app` (before its database is dropped)."""
    from bud_checker.web.extensions import db

    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="module")
def pg_url():
    """A fresh PostgreSQL database for the module (and xdist worker), dropped afterwards."""
    with pg_database() as url:
        yield url


@pytest.fixture(scope="module")
def pg_app_config() -> dict:
    """More configuration for `pg_app`: a module overrides this fixture to set it."""
    return {}


@pytest.fixture(scope="module")
def pg_app(pg_url, pg_app_config):
    """The application on `pg_url`, migrated with Alembic as `serve` does."""
    from bud_checker.web import create_app
    from bud_checker.web.commands import upgrade_database

    config = {"DATABASE_URL": pg_url, "BUD_ENV": "test", "SECRET_KEY": "postgres-tests", **pg_app_config}
    upgrade_database(config)
    app = create_app(config)
    yield app
    dispose(app)
