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


def _shown_texts(full: dict) -> list[str]:
    """What a reader must find on the page: every note, limit, explanation (with the rule's statement) and
    step description of the verdict resolved against its catalogue."""
    texts = [*full["limites"], *(n for entry in full["certitude"] for n in entry["notes"])]
    texts += [c["explication"] for c in full["conditions"]]
    texts += [e["explication"] for e in full["exonerations"].values() if e.get("applicable") is not False]
    texts += [d["description"] for d in full["demarches"]]
    return texts


def test_pages_show_every_source_and_note_of_the_catalogue(app, client):
    """Format 3: the result page and the advisers' view resolve the ids against the catalogue, so they show
    every source (title and address), limit, note and statement, as with format 2."""
    import html as html_module

    from bud_checker.engine.catalogue import catalogue
    from bud_checker.engine.contract import read
    from bud_checker.engine.law import current_rules
    from conftest import page_text

    situation = {"date_creation": "2024-03-14", "commune_insee": "59178", "activite": "commerciale",
                 "origine": "creation_pure", "effectif": 3, "chiffre_affaires": 200000, "total_bilan": 100000,
                 "capital_detenu_par_societes_pct": 0, "siege_et_moyens_dans_zone": True, "non_sedentaire": False,
                 "salaries_eligibles": 2, "salaries_eligibles_residents_bud": 1}
    created = client.post("/api/v1/verifications", json=situation).get_json()
    assert "sources" not in created["verdict"]
    full = read(created["verdict"], catalogue(current_rules()))
    page = client.get(f"/verifications/{created['id']}").get_data(as_text=True)
    text, raw = page_text(page), html_module.unescape(page)
    for source in full["sources"].values():
        assert source["texte"] in text and source["url"] in raw, source
    bare = "".join(text.split())  # glossary terms are marked up: compare without spaces
    for sentence in _shown_texts(full):
        assert "".join(sentence.split()) in bare, sentence
    assert "bejuris" in text and "Le III de l'art. 44 sexdecies" in text  # a case note, a general limit
    assert "temps partiels au prorata" in text  # the hiring clause's statement, from the catalogue


def test_a_saved_check_of_the_second_shape_shows_its_own_sources_after_the_rules_change(app, client):
    """A check saved in format 2 keeps its own sources table (its inline catalogue once upgraded): its page
    shows those sources and notes, whatever the rules of the day say."""
    from bud_checker.engine.catalogue import catalogue
    from bud_checker.engine.contract import read
    from bud_checker.engine.law import current_rules
    from bud_checker.web.extensions import db
    from bud_checker.web.models import Verification, utcnow
    from conftest import page_text

    fresh = evaluate({"date_creation": "2024-03-14", "commune_insee": "62498", "activite": "commerciale"})
    full = read(fresh.to_dict(), catalogue(current_rules()))
    saved = {key: value for key, value in full.items() if key not in ("lecture", "regles")}
    for key in ("cfe", "tfpb", "cvae"):
        saved["exonerations"][key].pop("periodes")
    saved["format"] = 2
    saved["regles_version"] = "0ld0ld0ld0ld0ld0"
    saved["sources"]["cgi_44_sexdecies"] = {**saved["sources"]["cgi_44_sexdecies"],
                                            "texte": "CGI, art. 44 sexdecies (titre d'alors)"}
    saved["certitude"][0]["notes"].append("Note d'une ancienne version des règles.")
    with app.app_context():
        db.session.add(Verification(id="ancienne-verification-format-2", created_at=utcnow(), situation={},
                                    verdict=saved, statut=saved["statut"], regles_version="0ld0ld0ld0ld0ld0",
                                    canal="api"))
        db.session.commit()
    text = page_text(client.get("/verifications/ancienne-verification-format-2").get_data(as_text=True))
    assert "CGI, art. 44 sexdecies (titre d'alors)" in text and "Note d'une ancienne version des règles." in text
    bare = "".join(text.split())
    for sentence in _shown_texts(full):
        assert "".join(sentence.split()) in bare, sentence
    body = client.get("/api/v1/verifications/ancienne-verification-format-2").get_json()
    assert body["verdict"]["format"] == CURRENT_FORMAT and "sources" in body["verdict"]["catalogue"]


def test_a_check_whose_catalogue_was_not_stored_reads_with_todays_if_the_rules_are_the_same(app):
    """A database copied without its catalogues: a check made with today's rules still shows its sources."""
    from bud_checker.web.catalogues import read_verdict

    verdict = evaluate({"date_creation": "2024-03-14", "commune_insee": "59178"}).to_dict()
    lost = {**verdict, "regles": verdict["regles"].rsplit("-", 1)[0] + "-00000000"}
    with app.app_context():
        shown = read_verdict(lost)
    assert shown["sources"]["cgi_44_sexdecies"]["url"].startswith("https://www.legifrance.gouv.fr/")
    other = {**lost, "regles_version": "0ld0ld0ld0ld0ld0"}
    with app.app_context():
        assert read_verdict(other)["sources"]["cgi_44_sexdecies"]["url"] is None  # never another rules' sources
