"""The advisers' workspace on PostgreSQL (DATABASE_URL_TEST): its migration up and down, the case files, checks,
batches (binary columns) and search, and isolation."""

from __future__ import annotations

import io

import pytest

from advisers_helpers import DOUAI, PASSWORD, AdviserClient, make_adviser, make_org
from consistency_helpers import day_of
from bud_checker import evaluate
from conftest import page_text

pytestmark = pytest.mark.postgres  # pg_url and pg_app: tests/conftest.py


@pytest.fixture(scope="module")
def pg_app_config() -> dict:
    """No sign-in rate limit: the test signs in several advisers from the same address."""
    return {"RATELIMIT_ENABLED": False}


def test_workspace_on_postgresql(pg_app):
    _, org_a = make_org(pg_app, "CCI Artois")
    _, org_b = make_org(pg_app, "CCI Hainaut")
    a = AdviserClient(pg_app, make_adviser(pg_app, org_a, nom="Anne"), PASSWORD)
    b = AdviserClient(pg_app, make_adviser(pg_app, org_b), PASSWORD)

    dossier = a.new_dossier("Crêperie Sainte-Barbe", siren="732829320")
    duplicate = a.api("POST", "/api/v1/conseillers/dossiers", {"nom": "Autre", "siren": "732 829 320"})
    assert duplicate.status_code == 422
    assert [d["nom"] for d in a.get("/api/v1/conseillers/dossiers?q=CREPERIE").get_json()["dossiers"]] == [
        "Crêperie Sainte-Barbe"]

    check = a.new_verification(dossier, DOUAI)
    body = a.get(f"/api/v1/conseillers/dossiers/{dossier}/verifications/{check}").get_json()
    assert body["verdict"] == evaluate(DOUAI, date_verification=day_of(body["verdict"])).to_dict()
    rerun = a.api("POST", f"/api/v1/conseillers/dossiers/{dossier}/verifications/{check}/relance").get_json()
    assert rerun["changements"]["identique"] is True
    page = page_text(a.get(f"/conseillers/dossiers/{dossier}").get_data(as_text=True))
    assert "Historique des vérifications" in page and "Anne" in page

    data = ("date_création;commune_insee;activite\n"
            + "14/05/2019;59178;commerciale\n30/02/2019;Atlantis;x\n" * 200).encode("cp1252")
    upload = a.post("/conseillers/lots", {"fichier": (io.BytesIO(data), "lot.csv")}, content_type="multipart/form-data")
    assert upload.status_code == 303
    batch = upload.headers["Location"].rsplit("/", 1)[1]
    assert a.get(f"/conseillers/lots/{batch}/fichier-source").data == data
    assert a.get(f"/conseillers/lots/{batch}/resultats.xlsx").data[:2] == b"PK"
    assert a.get(f"/api/v1/conseillers/lots/{batch}").get_json()["synthese"]["erreur"] == 200

    for url in (f"/conseillers/dossiers/{dossier}", f"/conseillers/dossiers/{dossier}/verifications/{check}/rapport",
                f"/api/v1/conseillers/dossiers/{dossier}/verifications/{check}", f"/conseillers/lots/{batch}",
                f"/api/v1/conseillers/lots/{batch}/resultats.csv"):
        assert b.get(url).status_code == 404, url
    assert pg_app.test_client().get(f"/api/v1/verifications/{check}").status_code == 404


def test_the_migration_goes_down_and_up_again(pg_app, pg_url):
    """Last of the module: it drops the workspace's tables (and their rows) before creating them again."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import inspect

    from bud_checker.web import create_app
    from bud_checker.web.config import MIGRATIONS_DIR
    from bud_checker.web.extensions import db

    app = create_app({"DATABASE_URL": pg_url, "BUD_ENV": "test", "SECRET_KEY": "x"})
    with app.app_context():
        downgrade(directory=str(MIGRATIONS_DIR), revision="0001")
        assert "dossiers" not in inspect(db.engine).get_table_names()
        upgrade(directory=str(MIGRATIONS_DIR))
        assert {"organisations", "conseillers", "dossiers", "dossier_verifications", "lots"} <= set(
            inspect(db.engine).get_table_names())
        db.engine.dispose()
