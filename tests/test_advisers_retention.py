"""From a batch to case files, deletion (RGPD) with its audit trail, the retention command, and the comparison of
two checks (issue 10 items 5, 6 and 7)."""

from __future__ import annotations

import copy
import datetime as dt
import io
import os
import subprocess
import sys

import pytest

from advisers_helpers import DOUAI, AdviserClient, adv_app, world
from batch_helpers import xlsx
from conftest import page_text


@pytest.fixture(scope="module")
def adviser(world):
    return AdviserClient(world.app, world.a1)


@pytest.fixture(scope="module")
def other(world):
    return AdviserClient(world.app, world.b1)


def _deletions(app, organisation_name):
    from sqlalchemy import select

    from bud_checker.web.advisers.models import Deletion, Organisation
    from bud_checker.web.extensions import db

    with app.app_context():
        org = db.session.execute(select(Organisation).filter_by(nom=organisation_name)).scalar_one()
        return [(d.nature, d.acteur, d.dossiers, d.verifications, d.lots, d.adviser_id is not None)
                for d in db.session.execute(select(Deletion).filter_by(organisation_id=org.id)
                                            .order_by(Deletion.id)).scalars()]


def _upload(client, data: bytes, name: str, dossiers: bool):
    response = client.client.post(f"/api/v1/conseillers/lots?nom_fichier={name}&dossiers={'1' if dossiers else '0'}",
                                  data=data, headers={"Content-Type": "text/csv", "X-CSRFToken": client.form_token()})
    assert response.status_code == 202, response.get_json()  # accepted (checked at once: the tests' queue is immediate)
    return response.get_json()


# --- 5. from a batch to case files ---------------------------------------------------------------------------

def test_a_client_list_becomes_case_files_by_siren_else_by_name(world, adviser):
    existing = adviser.new_dossier("Boulangerie Dupont", "732829320")
    first = ("Raison sociale;SIREN;date_creation;commune_insee;activite\n"
             "Boulangerie Dupont SAS;732 829 320;14/05/2019;59178;commerciale\n"   # by SIREN: the existing file
             "Garage Martin;;14/05/2019;62498;artisanale\n"                         # new file, by name
             "garage martin;;01/02/2020;62498;artisanale\n"                         # same name: same file
             ";;14/05/2019;59178;commerciale\n"                                    # neither name nor SIREN
             "Mauvaise date;;31/02/2019;59178;commerciale\n"                        # error: nothing recorded
             "SIREN faux;123456789;14/05/2019;59178;commerciale\n")                 # bad SIREN: filed by name
    body = _upload(adviser, first.encode(), "clients.csv", dossiers=True)
    filing = body["synthese"]["dossiers"]
    assert filing["crees"] == 2 and filing["mis_a_jour"] == 1
    assert filing["sans_identite"] == [5] and filing["en_erreur"] == 1
    assert filing["remarques"][0]["ligne"] == 7
    found = adviser.get(f"/api/v1/conseillers/dossiers/{existing}").get_json()
    assert found["nom"] == "Boulangerie Dupont" and found["nombre_verifications"] == 1
    assert found["verifications"][0]["canal"] == "lot"
    assert found["verifications"][0]["lot"] == {"id": body["id"], "ligne": 2}
    garage = adviser.get("/api/v1/conseillers/dossiers?q=garage martin").get_json()["dossiers"]
    assert len(garage) == 1 and garage[0]["nombre_verifications"] == 2
    # The same list again updates the same files: nothing is duplicated.
    again = _upload(adviser, first.encode(), "clients-bis.csv", dossiers=True)["synthese"]["dossiers"]
    assert again["crees"] == 0 and again["mis_a_jour"] == 3
    page = page_text(adviser.get(f"/conseillers/dossiers/{existing}").get_data(as_text=True))
    assert "lot, ligne 2" in page
    # Without the option, no case file is touched.
    _upload(adviser, first.encode(), "clients-ter.csv", dossiers=False)
    assert adviser.get(f"/api/v1/conseillers/dossiers/{existing}").get_json()["nombre_verifications"] == 2


def test_the_page_option_files_an_xlsx_too(adviser):
    data = xlsx([["Entreprise", "Date de création", "Commune"],
                 ["Menuiserie Lefebvre", dt.datetime(2019, 5, 14), "Liévin"]])
    response = adviser.post("/conseillers/lots", {"fichier": (io.BytesIO(data), "liste.xlsx"), "dossiers": "1"},
                            content_type="multipart/form-data")
    assert response.status_code == 303
    page = page_text(adviser.get(response.headers["Location"]).get_data(as_text=True))
    assert "1 dossier créé" in page
    assert adviser.get("/api/v1/conseillers/dossiers?q=Menuiserie Lefebvre").get_json()["total"] == 1


# --- 6. deletion ---------------------------------------------------------------------------------------------

def test_deleting_a_case_file_through_the_page_after_confirmation(world, adviser):
    dossier = adviser.new_dossier("À supprimer SARL", notes="informations du client")
    adviser.new_verification(dossier, DOUAI)
    adviser.new_verification(dossier, {**DOUAI, "effectif": 5})
    confirm = adviser.get(f"/conseillers/dossiers/{dossier}/supprimer")
    assert confirm.status_code == 200
    text = page_text(confirm.get_data(as_text=True))
    assert "2 vérifications" in text and "ne peut pas être annulée" in text
    assert adviser.get(f"/conseillers/dossiers/{dossier}").status_code == 200  # the GET deletes nothing
    response = adviser.post(f"/conseillers/dossiers/{dossier}/supprimer")
    assert response.status_code == 303 and response.headers["Location"].endswith("/conseillers/dossiers")
    listed = page_text(adviser.get(response.headers["Location"]).get_data(as_text=True))
    assert "Dossier « À supprimer SARL » supprimé, avec ses 2 vérifications." in listed
    assert adviser.get(f"/conseillers/dossiers/{dossier}").status_code == 404
    assert adviser.get(f"/api/v1/conseillers/dossiers/{dossier}").status_code == 404
    last = _deletions(world.app, world.org_a)[-1]
    assert last == ("dossier", world.a1, 1, 2, 0, True)


def test_deleting_through_the_api_answers_204_and_leaves_no_content_in_the_audit(world, adviser):
    dossier = adviser.new_dossier("Client API", "552100554", notes="note très personnelle")
    verification = adviser.new_verification(dossier, DOUAI)
    adviser.api("POST", f"/api/v1/conseillers/dossiers/{dossier}/verifications/{verification}/relance")
    response = adviser.api("DELETE", f"/api/v1/conseillers/dossiers/{dossier}")
    assert response.status_code == 204 and response.data == b""
    assert adviser.api("DELETE", f"/api/v1/conseillers/dossiers/{dossier}").status_code == 404
    assert _deletions(world.app, world.org_a)[-1] == ("dossier", world.a1, 1, 2, 0, True)
    batch = _upload(adviser, b"date_creation\n14/05/2019\n", "a-effacer.csv", dossiers=False)
    response = adviser.api("DELETE", f"/api/v1/conseillers/lots/{batch['id']}")
    assert response.status_code == 204
    assert adviser.get(batch["url"]).status_code == 404
    assert adviser.get(batch["resultats_csv"]).status_code == 404
    assert _deletions(world.app, world.org_a)[-1] == ("lot", world.a1, 0, 0, 1, True)
    from sqlalchemy import text

    from bud_checker.web.extensions import db

    with world.app.app_context():
        rows = db.session.execute(text("SELECT * FROM suppressions")).all()
    flat = " ".join(str(value) for row in rows for value in row)
    assert "Client API" not in flat and "552100554" not in flat and "note très" not in flat


def test_a_deleted_batch_keeps_the_checks_it_filed(adviser):
    body = _upload(adviser, "Raison sociale;date_creation\nGardé SARL;14/05/2019\n".encode(), "garde.csv",
                   dossiers=True)
    dossier = adviser.get("/api/v1/conseillers/dossiers?q=Gardé SARL").get_json()["dossiers"][0]["id"]
    confirm = page_text(adviser.get(f"/conseillers/lots/{body['id']}/supprimer").get_data(as_text=True))
    assert "restent" in confirm
    deleted = adviser.post(f"/conseillers/lots/{body['id']}/supprimer")
    assert deleted.status_code == 303 and deleted.headers["Location"].endswith("/conseillers/lots")
    listed = page_text(adviser.get(deleted.headers["Location"]).get_data(as_text=True))
    assert "Lot « garde.csv » supprimé, avec le fichier envoyé et ses résultats." in listed
    assert adviser.get(body["page"]).status_code == 404
    history = adviser.get(f"/api/v1/conseillers/dossiers/{dossier}").get_json()["verifications"]
    assert len(history) == 1 and history[0]["canal"] == "lot"
    shown = page_text(adviser.get(f"/conseillers/dossiers/{dossier}").get_data(as_text=True))
    assert "lot (supprimé), ligne 2" in shown


def test_deletion_across_organisations_answers_404_and_deletes_nothing(world, adviser, other):
    dossier = adviser.new_dossier("Protégé SA")
    batch = _upload(adviser, b"date_creation\n14/05/2019\n", "protege.csv", dossiers=False)
    assert other.api("DELETE", f"/api/v1/conseillers/dossiers/{dossier}").status_code == 404
    assert other.api("DELETE", f"/api/v1/conseillers/lots/{batch['id']}").status_code == 404
    assert other.get(f"/conseillers/dossiers/{dossier}/supprimer").status_code == 404
    assert other.post(f"/conseillers/dossiers/{dossier}/supprimer").status_code == 404
    assert other.post(f"/conseillers/lots/{batch['id']}/supprimer").status_code == 404
    assert adviser.get(f"/api/v1/conseillers/dossiers/{dossier}").status_code == 200
    assert adviser.get(batch["url"]).status_code == 200
    # Without the CSRF token, nothing is deleted either.
    assert adviser.client.delete(f"/api/v1/conseillers/dossiers/{dossier}").status_code == 400
    assert adviser.client.post(f"/conseillers/dossiers/{dossier}/supprimer").status_code == 400
    assert adviser.get(f"/api/v1/conseillers/dossiers/{dossier}").status_code == 200


# --- 6. retention: bud-checker admin purge -------------------------------------------------------------------

def _cli(args, env, **kwargs):
    return subprocess.run([sys.executable, "-m", "bud_checker.cli", "admin", *args], capture_output=True, text=True,
                          timeout=120, env={**os.environ, **env}, **kwargs)


def test_purge_removes_what_had_no_activity_since_the_date(tmp_path):
    from bud_checker.web import create_app
    from bud_checker.web.advisers.models import Batch, Dossier
    from bud_checker.web.advisers.services import create_adviser, create_dossier, create_organisation
    from bud_checker.web.advisers.services import record_dossier_verification, run_and_store_batch
    from bud_checker.web.commands import upgrade_database
    from bud_checker.web.extensions import db

    url = f"sqlite:///{tmp_path / 'purge.db'}"
    env = {"DATABASE_URL": url, "BUD_ENV": "test", "SECRET_KEY": "tests"}
    old = dt.datetime(2023, 3, 1, tzinfo=dt.timezone.utc)
    os.environ.update(env)
    try:
        upgrade_database()
        app = create_app({"DATABASE_URL": url, "BUD_ENV": "test", "SECRET_KEY": "tests", "BUD_WARMUP": False})
        with app.app_context():
            org = create_organisation("CCI Purge")
            adviser = create_adviser(org, "purge@cci.test", "phrase de passe solide 42")
            stale = create_dossier(adviser, "Ancien client")
            record_dossier_verification(adviser, stale, DOUAI)
            fresh = create_dossier(adviser, "Client actif")
            old_batch = run_and_store_batch(adviser, b"date_creation\n14/05/2019\n", "ancien.csv", 10)
            new_batch = run_and_store_batch(adviser, b"date_creation\n14/05/2019\n", "recent.csv", 10)
            stale.updated_at = old
            old_batch.created_at = old
            db.session.commit()
            stale_id, fresh_id, old_id, new_id = stale.id, fresh.id, old_batch.id, new_batch.id
    finally:
        for key in env:
            os.environ.pop(key, None)
    simulated = _cli(["purge", "--avant", "2024-01-01", "--simulation"], env)
    assert simulated.returncode == 0, simulated.stderr
    assert all(text in simulated.stdout for text in ("Seraient supprimés", stale_id, "rien n'a été"))
    done = _cli(["purge", "--avant", "2024-01-01"], env)
    assert done.returncode == 0, done.stderr
    assert "CCI Purge — 1 dossier (1 vérification) et 1 lot" in done.stdout
    assert stale_id in done.stdout and old_id in done.stdout and fresh_id not in done.stdout
    with app.app_context():
        assert db.session.get(Dossier, stale_id) is None and db.session.get(Dossier, fresh_id) is not None
        assert db.session.get(Batch, old_id) is None and db.session.get(Batch, new_id) is not None
    assert _deletions(app, "CCI Purge") == [("purge", "bud-checker admin purge", 1, 1, 1, False)]
    # BUD_RETENTION_JOURS applies the same command without --avant; bad input exits 2 in French.
    retention = _cli(["purge"], {**env, "BUD_RETENTION_JOURS": "36500"})
    assert retention.returncode == 0 and "Rien à supprimer" in retention.stdout
    for args, extra, message in ((["purge"], {}, "BUD_RETENTION_JOURS"),
                                 (["purge"], {"BUD_RETENTION_JOURS": "deux ans"}, "nombre de jours"),
                                 (["purge", "--avant", "31/12/2024"], {}, "AAAA-MM-JJ"),
                                 (["purge", "--avant", "2999-01-01"], {}, "futur")):
        result = _cli(args, {**env, **extra})
        assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr, result.stderr


# --- 7. comparison -------------------------------------------------------------------------------------------

def test_a_change_for_the_worse_is_shown_as_such_and_changed_answers_are_listed(adviser):
    dossier = adviser.new_dossier("Comparaison SARL")
    good = adviser.new_verification(dossier, DOUAI)
    bad = adviser.new_verification(dossier, {**DOUAI, "commune_insee": "59350", "effectif": 4})  # Lille: outside
    html = adviser.get(f"/conseillers/dossiers/{dossier}/comparer?a={good}&b={bad}").get_data(as_text=True)
    text = page_text(html)
    assert "Réponses modifiées" in text
    assert "Commune d'implantation (code INSEE) avant : Douai (59, 59178) → après : Lille (59, 59350)" in text
    assert "Effectif salarié avant : 3 → après : 4" in text
    assert "moins favorable" in text and "plus favorable" not in text
    items = html.split("<li class=\"diff__item")[1:]
    statut = next(item for item in items if '"diff__objet">Statut<' in item)
    assert "diff__item--pire" in statut.split(">", 1)[0] and "tag--ko" in statut and "tag--ok" not in statut
    assert sum("diff__item--pire" in item.split(">", 1)[0] for item in items) >= 3
    assert not any("diff__item--mieux" in item.split(">", 1)[0] for item in items)
    back = page_text(adviser.get(f"/conseillers/dossiers/{dossier}/comparer?a={bad}&b={good}").get_data(as_text=True))
    assert "moins favorable" in back  # the older one is always «before»: the order of a and b does not matter


def test_the_direction_of_each_change():
    from bud_checker.web.advisers.diff import compare_verdicts

    verdict = {"statut": "eligible", "situation": {"date_creation": "2019-05-14", "effectif": 3},
               "conditions": [{"id": "c", "libelle": "Condition", "statut": "remplie"}],
               "exonerations": {"cfe": {"applicable": True}}}
    worse = copy.deepcopy(verdict)
    worse.update(statut="indetermine")
    worse["conditions"][0]["statut"] = "inconnue"
    worse["exonerations"]["cfe"]["applicable"] = None
    worse["situation"]["effectif"] = None
    diff = compare_verdicts(verdict, worse)
    changes = {c.objet: c for s in diff.sections for c in s.changes}
    assert changes["Statut"].sens == "pire"
    assert changes["« Condition » : statut"].sens == "pire"
    assert changes["Cotisation foncière des entreprises (CFE)"].sens == "pire"
    assert changes["Effectif salarié"].avant == "3" and changes["Effectif salarié"].apres == "je ne sais pas"
    assert changes["Effectif salarié"].sens is None
    assert diff.worse == 3 and diff.better == 0
    assert compare_verdicts(worse, verdict).better == 3
