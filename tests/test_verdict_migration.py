"""Saved checks stay readable after the verdict shape changed (issue 11 item 2): the Alembic migration rewrites
the verdicts of the first shape, and every reader (page, report, comparison) reads both shapes."""

import datetime as dt
import json
from pathlib import Path

import sqlalchemy as sa

from bud_checker.engine.contract import CURRENT_FORMAT
from bud_checker.engine.verdict import evaluate

DATA = Path(__file__).resolve().parent / "data"


def _old(name: str) -> dict:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def test_the_migration_rewrites_saved_checks_and_the_page_reads_them(tmp_path):
    from flask_migrate import upgrade

    from bud_checker.web import create_app
    from bud_checker.web.config import MIGRATIONS_DIR
    from bud_checker.web.extensions import init_migrations

    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    app = create_app({"DATABASE_URL": url, "BUD_ENV": "test", "SECRET_KEY": "tests", "BUD_WARMUP": False})
    init_migrations(app)
    saved = _old("verdict_format1_lens.json")
    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR), revision="0002_conseillers")
        engine = sa.create_engine(url)
        with engine.begin() as connection:
            connection.execute(sa.text(
                "INSERT INTO verifications (id, created_at, situation, verdict, statut, regles_version, canal) "
                "VALUES (:id, :created_at, :situation, :verdict, :statut, :regles, 'api')"),
                {"id": "ancienne-verification-lens", "created_at": dt.datetime(2026, 11, 20, tzinfo=dt.timezone.utc),
                 "situation": json.dumps(saved["situation"]),
                 "verdict": json.dumps(saved["verdict"], ensure_ascii=False),
                 "statut": saved["verdict"]["statut"], "regles": saved["verdict"]["regles_version"]})
        upgrade(directory=str(MIGRATIONS_DIR))
        with engine.begin() as connection:
            stored = json.loads(connection.execute(sa.text(
                "SELECT verdict FROM verifications WHERE id = 'ancienne-verification-lens'")).scalar_one())
    assert stored["format"] == CURRENT_FORMAT
    assert stored["resume"] == saved["verdict"]["resume"]  # word for word
    assert all("url" not in ref for c in stored["conditions"] for ref in c["references"])
    page = app.test_client().get("/verifications/ancienne-verification-lens")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for condition in saved["verdict"]["conditions"]:
        for ref in condition["references"]:
            assert ref["url"].replace("&", "&amp;") in html, ref["url"]
    api = app.test_client().get("/api/v1/verifications/ancienne-verification-lens")
    assert api.status_code == 200 and api.get_json()["verdict"]["format"] == CURRENT_FORMAT


def test_pages_reports_and_comparisons_read_a_verdict_of_the_first_shape():
    from bud_checker.web.advisers.diff import compare_verdicts
    from bud_checker.web.advisers.reports import all_references
    from bud_checker.web.presentation import verdict_view

    saved = _old("verdict_format1_douai.json")
    old = saved["verdict"]
    view = verdict_view(old)
    assert view["version_url"] == old["version"]["url"]
    assert ([r["url"] for r in view["conditions"][0]["references"]]
            == [r["url"] for r in old["conditions"][0]["references"]])
    urls = {entry["url"] for entry in all_references(old)}
    assert {r["url"] for c in old["conditions"] for r in c["references"]} <= urls
    fresh = evaluate(saved["situation"]).to_dict()
    diff = compare_verdicts(old, fresh)
    assert not diff.identical
    titles = {section["titre"] for section in diff.to_dict()["sections"]}
    assert "Points à confirmer" in titles  # the old reasons to confirm are gone, and the comparison says so
    assert compare_verdicts(fresh, fresh).identical
