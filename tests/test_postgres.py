"""The web application on PostgreSQL (DATABASE_URL_TEST, started by scripts/pg-test): migrations, the API flow,
the form flow, and saved checks read back exactly as they were computed."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from consistency_helpers import day_of
from bud_checker import evaluate
from conftest import FormFlow, page_text

pytestmark = pytest.mark.postgres  # pg_url and pg_app: tests/conftest.py


def test_it_really_runs_on_postgresql(pg_app):
    from alembic.script import ScriptDirectory

    from bud_checker.web.config import MIGRATIONS_DIR
    from bud_checker.web.extensions import db

    with pg_app.app_context():
        assert db.engine.dialect.name == "postgresql"
        with db.engine.connect() as connection:
            current = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    assert current == ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()


def test_migrations_match_the_models_on_postgresql(pg_app):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from bud_checker.web.extensions import db

    with pg_app.app_context():
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, db.metadata) == []


def test_api_flow_on_postgresql(pg_app, douai_commerce):
    client = pg_app.test_client()
    response = client.post("/api/v1/verifications", json=douai_commerce)
    assert response.status_code == 201
    body = response.get_json()
    assert body["verdict"] == evaluate(douai_commerce, date_verification=day_of(body["verdict"])).to_dict()
    again = client.get(response.headers["Location"].removeprefix("http://localhost"))
    assert again.status_code == 200
    assert again.get_json() == body
    # The JSON column keeps the verdict as written, key order included.
    assert list(again.get_json()["verdict"]) == list(body["verdict"])
    assert again.get_data(as_text=True) == response.get_data(as_text=True)
    created = dt.datetime.fromisoformat(body["cree_le"].replace("Z", "+00:00"))
    assert abs((dt.datetime.now(dt.timezone.utc) - created).total_seconds()) < 60

    lille = client.post("/api/v1/verifications", json={**douai_commerce, "commune_insee": "59350"}).get_json()
    assert lille["verdict"]["statut"] == "non_eligible"
    error = client.post("/api/v1/verifications", json={"date_creation": "2019-02-30"})
    assert error.status_code == 422 and error.get_json()["erreur"]["champ"] == "date_creation"
    assert client.get("/api/v1/verifications/" + "Z" * 24).status_code == 404


def test_form_flow_on_postgresql(pg_app):
    flow = FormFlow(pg_app.test_client())
    flow.submit({"date_creation": "2019-05-14", "commune": "Lille"})
    location = flow.result()
    assert location.startswith("/verifications/")
    assert "Non éligible" in page_text(flow.html)


def test_unicode_and_nulls_survive_the_round_trip(pg_app):
    client = pg_app.test_client()
    situation = {"date_creation": "2019-05-14", "commune_insee": "62510", "activite": None,
                 "non_sedentaire": None}
    body = client.post("/api/v1/verifications", json=situation).get_json()
    stored = client.get(f"/api/v1/verifications/{body['id']}").get_json()
    assert stored["situation"] == situation
    assert "Liévin" in json.dumps(stored["verdict"], ensure_ascii=False)
