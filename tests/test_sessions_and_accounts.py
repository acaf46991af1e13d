"""Issue 11 items 4, 7, 8, 9 in the advisers' workspace: sessions kept on the server (sign-out, password change,
deactivation and `bud-checker admin sessions` end them: a replayed cookie answers 401), common passwords refused,
security events logged without personal data, rate limits divided among in-memory workers, a failing shared
store logged, and the SIREN validated by python-stdnum, stored as ASCII digits and unique per organisation."""

from __future__ import annotations

import io
import logging
import socket
import sys

import pytest

from advisers_helpers import PASSWORD, AdviserClient, adv_app, make_adviser, make_org, unique


@pytest.fixture
def org(adv_app):
    return make_org(adv_app, unique("CCI Sessions"))[1]


def _cookie(adviser: AdviserClient) -> str:
    cookie = adviser.client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def _replay(app, cookie: str):
    client = app.test_client()
    client.set_cookie("session", cookie)
    return client


def test_a_cookie_replayed_after_sign_out_answers_401(adv_app, org):
    adviser = AdviserClient(adv_app, make_adviser(adv_app, org))
    copied = _cookie(adviser)
    assert _replay(adv_app, copied).get("/api/v1/conseillers/session").status_code == 200
    assert adviser.post("/conseillers/deconnexion").status_code == 303
    replayed = _replay(adv_app, copied)
    response = replayed.get("/api/v1/conseillers/session")
    assert response.status_code == 401 and response.get_json()["erreur"]["champ"] == "session"
    assert replayed.get("/conseillers/dossiers").status_code == 302  # pages: to the sign-in page


def test_password_change_and_deactivation_end_the_server_sessions(adv_app, org):
    from bud_checker.web.advisers.models import AdviserSession
    from bud_checker.web.advisers.services import find_adviser, set_active, set_password
    from bud_checker.web.extensions import db

    email = make_adviser(adv_app, org)
    first, second = AdviserClient(adv_app, email), AdviserClient(adv_app, email)
    copied = _cookie(first)
    with adv_app.app_context():
        set_password(find_adviser(email), "une autre phrase de passe 2027")
        assert db.session.execute(db.select(AdviserSession).filter_by(
            adviser_id=find_adviser(email).id, ended_at=None)).first() is None
    for cookie in (copied, _cookie(second)):
        assert _replay(adv_app, cookie).get("/api/v1/conseillers/session").status_code == 401
    third = AdviserClient(adv_app, email, "une autre phrase de passe 2027")
    with adv_app.app_context():
        assert set_active(find_adviser(email), False) == 1
    assert third.get("/api/v1/conseillers/session").status_code == 401


def test_admin_sessions_lists_and_ends_an_advisers_sessions(tmp_path, monkeypatch, capsys):
    from bud_checker.cli import main
    from bud_checker.web import create_app

    url = f"sqlite:///{tmp_path / 'sessions.sqlite3'}"
    for key, value in {"DATABASE_URL": url, "BUD_ENV": "test", "SECRET_KEY": "sessions"}.items():
        monkeypatch.setenv(key, value)
    assert main(["admin", "create-organisation", "CCI Sessions"]) == 0
    monkeypatch.setattr(sys, "stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["admin", "create-adviser", "--organisation", "CCI Sessions", "--email", "s.roux@cci.test",
                 "--password-stdin"]) == 0
    app = create_app({"DATABASE_URL": url, "BUD_ENV": "test", "SECRET_KEY": "sessions", "RATELIMIT_ENABLED": False})
    office, phone = AdviserClient(app, "s.roux@cci.test"), AdviserClient(app, "s.roux@cci.test")
    capsys.readouterr()
    assert main(["admin", "sessions", "--email", "s.roux@cci.test"]) == 0
    listing = capsys.readouterr().out
    assert listing.startswith("Sessions ouvertes de s.roux@cci.test\u00a0:") and listing.count("ouverte le") == 2
    number = listing.splitlines()[1].split()[0]
    assert main(["admin", "sessions", "--email", "s.roux@cci.test", "--fermer", number]) == 0
    assert f"Session {number}" in capsys.readouterr().out
    statuses = sorted(c.get("/api/v1/conseillers/session").status_code for c in (office, phone))
    assert statuses == [200, 401]
    assert main(["admin", "sessions", "--email", "s.roux@cci.test", "--fermer", "tout"]) == 0
    assert "1 session fermée" in capsys.readouterr().out
    assert [c.get("/api/v1/conseillers/session").status_code for c in (office, phone)] == [401, 401]
    assert main(["admin", "sessions", "--email", "s.roux@cci.test", "--fermer", "zzzz"]) == 2
    assert "aucune session ouverte" in capsys.readouterr().err


@pytest.mark.parametrize("password", ["password1234", "azertyuiop123", "Bonjour123456", "motdepasse1234",
                                      "qwertyuiop12"])
def test_common_passwords_are_refused(password):
    from bud_checker.web.advisers.auth import check_password_rules

    problem = check_password_rules(password, "a.martin@cci.test")
    assert problem and "les plus courants" in problem


def test_a_passphrase_is_accepted():
    from bud_checker.web.advisers.auth import check_password_rules

    assert check_password_rules("quatre mots sans rapport", "a.martin@cci.test") is None
    assert "au moins 12" in check_password_rules("court", None)


def test_security_events_are_logged_without_personal_data(adv_app, org, caplog):
    caplog.set_level(logging.INFO, logger="bud_checker.security")
    email = make_adviser(adv_app, org)
    AdviserClient(adv_app, email, login=False).login(password="pas le bon mot de passe")
    adviser = AdviserClient(adv_app, email)
    adviser.post("/conseillers/deconnexion")
    lines = [record.getMessage() for record in caplog.records if record.name == "bud_checker.security"]
    assert any(line.startswith("sign_in_failed adviser=") for line in lines)
    assert any(line.startswith("sign_in adviser=") for line in lines)
    assert any(line.startswith("session_ended adviser=") and "reason=deconnexion" in line for line in lines)
    text = "\n".join(lines)
    assert email not in text and "@" not in text and PASSWORD not in text and "127.0.0.1" not in text


def test_deletions_are_logged_as_security_events_without_personal_data(adv_app, org, caplog, tmp_path):
    """Deleting a case file or a batch (page and API), deactivating an account and the retention purge each leave
    one line on the security log: the adviser's id (or «administration»), what kind, how many; never a name, a
    file name, an e-mail address or the identifier of what was deleted."""
    import datetime as dt

    from bud_checker.web.advisers.services import find_adviser, plan_purge, purge, set_active

    caplog.set_level(logging.INFO, logger="bud_checker.security")
    email = make_adviser(adv_app, org)
    adviser = AdviserClient(adv_app, email)
    with adv_app.app_context():
        adviser_id = find_adviser(email).id
    secret_name = unique("Boulangerie Secrète")
    by_api = adviser.new_dossier(secret_name, notes="notes privées")
    adviser.new_verification(by_api, {"date_creation": "2019-05-14", "commune_insee": "59178"})
    by_page = adviser.new_dossier(unique("Garage"))
    upload = adviser.client.post("/api/v1/conseillers/lots?nom_fichier=clients-prives.csv",
                                 data=b"date_creation;commune_insee\n14/05/2019;59178\n",
                                 headers={"Content-Type": "text/csv", "X-CSRFToken": adviser.form_token()})
    assert upload.status_code == 202, upload.get_json()
    batch_id = upload.get_json()["id"]
    kept = adviser.new_dossier(unique("Ancien client"))
    caplog.clear()
    assert adviser.api("DELETE", f"/api/v1/conseillers/dossiers/{by_api}").status_code in (200, 204)
    assert adviser.post(f"/conseillers/dossiers/{by_page}/supprimer").status_code == 303
    assert adviser.api("DELETE", f"/api/v1/conseillers/lots/{batch_id}").status_code in (200, 204)
    with adv_app.app_context():
        organisation = find_adviser(email).organisation_id
        plan = plan_purge(dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=1))
        # This organisation's only: the database is shared with the other tests.
        plan.dossiers = {key: value for key, value in plan.dossiers.items() if key == organisation}
        plan.lots = {key: value for key, value in plan.lots.items() if key == organisation}
        done = purge(plan)
        set_active(find_adviser(email), False)
    assert list(done) == [organisation] and done[organisation].dossiers == 1  # the case file left
    lines = [record.getMessage() for record in caplog.records if record.name == "bud_checker.security"]
    deleted = [line for line in lines if line.startswith("deleted ")]
    assert f"deleted nature=dossier adviser={adviser_id} organisation=" in deleted[0]
    assert "dossiers=1 verifications=1 lots=0" in deleted[0]
    assert deleted[1].startswith(f"deleted nature=dossier adviser={adviser_id} ") and "verifications=0" in deleted[1]
    assert deleted[2].startswith(f"deleted nature=lot adviser={adviser_id} ") and deleted[2].endswith("lots=1")
    assert deleted[3] == (f"deleted nature=purge adviser=administration organisation={organisation} dossiers=1 "
                          "verifications=0 lots=0")
    assert f"adviser_deactivated adviser={adviser_id}" in lines
    text = "\n".join(lines)
    for private in (email, "@", secret_name, "Secrète", "notes privées", "clients-prives", by_api, by_page, batch_id,
                    kept, "127.0.0.1"):
        assert private not in text, private


def test_rate_limit_hits_are_logged(web_database_url, caplog):
    from bud_checker.web import create_app

    caplog.set_level(logging.INFO, logger="bud_checker.security")
    app = create_app({"DATABASE_URL": web_database_url, "BUD_ENV": "test", "SECRET_KEY": "limits",
                      "PUBLIC_API_READ_RATE_LIMIT": "1 per minute"})
    client = app.test_client()
    assert client.get("/api/v1/communes?q=douai").status_code == 200
    refused = client.get("/api/v1/communes?q=douai")
    assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 60
    assert any(r.getMessage() == "rate_limited endpoint=api.communes" for r in caplog.records)


def test_in_memory_limits_are_divided_among_the_workers(web_database_url, monkeypatch):
    from bud_checker.web import create_app
    from bud_checker.web.advisers.auth import per_worker

    app = create_app({"DATABASE_URL": web_database_url, "BUD_ENV": "test", "SECRET_KEY": "limits",
                      "BUD_WEB_WORKERS": 4})
    assert per_worker(app, "10 per minute;50 per hour") == "3 per minute;13 per hour"
    assert per_worker(app, "5/minute") == "2/minute"
    app.config["RATELIMIT_STORAGE_URI"] = "redis://127.0.0.1:6379/0"
    assert per_worker(app, "10 per minute") == "10 per minute"  # a shared store counts every worker's requests
    app.config["RATELIMIT_STORAGE_URI"], app.config["BUD_WEB_WORKERS"] = "memory://", 4
    limited = create_app({"DATABASE_URL": web_database_url, "BUD_ENV": "test", "SECRET_KEY": "limits",
                          "BUD_WEB_WORKERS": 2, "PUBLIC_API_READ_RATE_LIMIT": "4 per minute"})
    client = limited.test_client()
    assert [client.get("/api/v1/communes?q=lens").status_code for _ in range(3)] == [200, 200, 429]


def test_a_shared_store_that_fails_is_logged(web_database_url, caplog):
    from bud_checker.web import create_app

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    caplog.set_level(logging.WARNING, logger="flask-limiter")
    app = create_app({"DATABASE_URL": web_database_url, "BUD_ENV": "test", "SECRET_KEY": "limits",
                      "RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:{port}/0",
                      "PUBLIC_API_READ_RATE_LIMIT": "50 per minute"})
    assert app.test_client().get("/api/v1/communes?q=douai").status_code == 200
    assert any("storage unreachable" in r.getMessage().lower() or "falling back" in r.getMessage().lower()
               for r in caplog.records if r.name == "flask-limiter"), [r.getMessage() for r in caplog.records]


# --- SIREN ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("typed", ["732 829 320", "７３２ ８２９ ３２０", "٧٣٢٨٢٩٣٢٠", "732.829.320", "732-829-320"])
def test_a_siren_in_any_digits_is_stored_as_ascii_and_unique_per_organisation(adv_app, org, typed):
    from bud_checker.web.advisers.services import clean_siren

    assert clean_siren(typed) == "732829320"
    adviser = AdviserClient(adv_app, make_adviser(adv_app, org))
    created = adviser.api("POST", "/api/v1/conseillers/dossiers", {"nom": "Première", "siren": "732829320"})
    assert created.status_code == 201
    again = adviser.api("POST", "/api/v1/conseillers/dossiers", {"nom": "Seconde", "siren": typed})
    assert again.status_code == 422 and again.get_json()["erreur"]["champ"] == "siren"
    assert "déjà celui du dossier «\u00a0Première\u00a0»" in again.get_json()["erreur"]["message"]
    found = adviser.get("/api/v1/conseillers/dossiers?q=" + typed.replace(" ", "")).get_json()["dossiers"]
    assert [d["nom"] for d in found] == ["Première"]
    other = AdviserClient(adv_app, make_adviser(adv_app, make_org(adv_app, unique("CCI Autre"))[1]))
    assert other.api("POST", "/api/v1/conseillers/dossiers", {"nom": "Ailleurs", "siren": typed}).status_code == 201


def test_the_migration_stores_other_digits_as_ascii(tmp_path):
    import sqlalchemy as sa
    from alembic.command import downgrade, upgrade

    from bud_checker.web import create_app
    from bud_checker.web.commands import upgrade_database
    from bud_checker.web.extensions import init_migrations

    url = f"sqlite:///{tmp_path / 'siren.sqlite3'}"
    upgrade_database({"DATABASE_URL": url, "BUD_ENV": "test", "SECRET_KEY": "siren"})
    app = create_app({"DATABASE_URL": url, "BUD_ENV": "test", "SECRET_KEY": "siren"})
    init_migrations(app)
    with app.app_context():
        config = app.extensions["migrate"].migrate.get_config()
        downgrade(config, "0005_lots_file")
        engine = sa.create_engine(url)
        with engine.begin() as connection:
            connection.execute(sa.text(
                "INSERT INTO organisations (id, nom, created_at) VALUES (1, 'CCI', '2026-01-01')"))
            connection.execute(sa.text(
                "INSERT INTO conseillers (id, organisation_id, email, password_hash, auth_id, actif, created_at, "
                "password_changed_at) VALUES (1, 1, 'a@cci.test', 'x', 'y', 1, '2026-01-01', '2026-01-01')"))
            for number, (identifier, siren) in enumerate([("d1", "732829320"), ("d2", "７３２８２９３２０"),
                                                         ("d3", "５５２１００５５４")]):
                connection.execute(sa.text(
                    "INSERT INTO dossiers (id, organisation_id, nom, nom_recherche, siren, notes, created_at, "
                    "created_by_id, updated_at, updated_by_id) VALUES (:id, 1, :id, :id, :siren, '', :at, 1, :at, 1)"),
                    {"id": identifier, "siren": siren, "at": f"2026-01-0{number + 1}"})
        upgrade(config, "head")
        with engine.connect() as connection:
            rows = dict(connection.execute(sa.text("SELECT id, siren FROM dossiers")).fetchall())
            notes = connection.execute(sa.text("SELECT notes FROM dossiers WHERE id = 'd2'")).scalar_one()
        engine.dispose()
    assert rows == {"d1": "732829320", "d2": None, "d3": "552100554"}
    assert "SIREN 732829320 retiré" in notes
