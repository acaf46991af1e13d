"""Batches on the task queue (bud_checker/web/queue.py): an upload answers at once with `etat` and `progression`,
a worker checks the lines, the page follows it without JavaScript (Refresh header) and shows the results when
done; a worker killed mid-batch leaves the batch retried, then «echec» with a French reason, never «en_cours»
forever; two 10,000-line uploads leave GET / answering normally. The first tests use the tests' immediate queue;
the others a real `bud-checker serve` (gunicorn + its batch worker) on loopback, with the default SQLite queue."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import statistics
import threading
import time

import pytest

from advisers_helpers import AdviserClient, adv_app, make_adviser, make_org, unique
from conftest import page_text
from reliability_helpers import (Server, create_adviser_with_the_cli, http, migrated_database, server_environment,
                               sign_in_over_http)

LINE = "14/05/2019;59178;commerciale;3\n"
HEADER = "date_creation;commune_insee;activite;effectif\n"


def csv_of(lines: int) -> bytes:
    return (HEADER + LINE * lines).encode()


def varied_csv_of(lines: int) -> bytes:
    """`lines` different situations (a situation met again in a file is evaluated once: a file of one repeated
    line is checked too fast to be seen on its way)."""
    start = dt.date(2018, 1, 1)
    return (HEADER + "".join(f"{start + dt.timedelta(days=n // 4):%d/%m/%Y};59178;commerciale;{n % 4}\n"
                             for n in range(lines))).encode()


@pytest.fixture
def adviser(adv_app):
    _, organisation = make_org(adv_app, unique("CCI File"))
    return AdviserClient(adv_app, make_adviser(adv_app, organisation))


def test_an_upload_answers_with_its_state_and_progress(adviser):
    response = adviser.client.post("/api/v1/conseillers/lots?nom_fichier=file.csv", data=csv_of(20),
                                   headers={"Content-Type": "text/csv", "X-CSRFToken": adviser.form_token()})
    assert response.status_code == 202
    body = response.get_json()
    assert body["etat"] == "termine"  # the tests' queue is immediate
    assert body["progression"] == {"lignes_faites": 20, "lignes_total": 20, "pourcentage": 100}
    assert body["synthese"]["lignes"] == 20 and body["resultats_csv"]
    again = adviser.get(f"/api/v1/conseillers/lots/{body['id']}").get_json()
    assert again["etat"] == "termine" and again["raison_echec"] is None


def test_a_batch_still_running_shows_a_progress_bar_that_refreshes_and_no_results(adviser, adv_app):
    from bud_checker.web.advisers.models import Batch
    from bud_checker.web.extensions import db

    response = adviser.post("/conseillers/lots", {"fichier": (__import__("io").BytesIO(csv_of(5)), "en-cours.csv")},
                            content_type="multipart/form-data")
    batch_id = response.headers["Location"].rsplit("/", 1)[-1]
    with adv_app.app_context():
        batch = db.session.get(Batch, batch_id)
        batch.etat, batch.lignes_faites, batch.lignes_total = "en_cours", 2, 5
        db.session.commit()
    page = adviser.get(f"/conseillers/lots/{batch_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Refresh"] == "2"
    assert re.search(r'<progress[^>]*max="5"[^>]*value="2"', html)
    assert "2 lignes vérifiées sur 5 (40 %)" in page_text(html)
    assert "Résultats Excel" not in html
    assert adviser.get(f"/conseillers/lots/{batch_id}/resultats.csv").status_code == 409
    body = adviser.get(f"/api/v1/conseillers/lots/{batch_id}").get_json()
    assert body["etat"] == "en_cours" and body["progression"]["pourcentage"] == 40 and body["resultats_csv"] is None
    listing = page_text(adviser.get("/conseillers/lots").get_data(as_text=True))
    assert "En cours 2 / 5 lignes" in listing


def test_an_interrupted_batch_is_queued_again_then_fails_with_a_french_reason(adviser, adv_app):
    import datetime as dt

    from bud_checker.web import queue
    from bud_checker.web.advisers.models import Batch
    from bud_checker.web.extensions import db

    response = adviser.client.post("/api/v1/conseillers/lots?nom_fichier=coupe.csv", data=csv_of(3),
                                   headers={"Content-Type": "text/csv", "X-CSRFToken": adviser.form_token()})
    batch_id = response.get_json()["id"]
    old = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)
    with adv_app.app_context():
        batch = db.session.get(Batch, batch_id)
        batch.etat, batch.maj_le, batch.tentatives, batch.lignes_faites = "en_cours", old, 1, 1
        db.session.commit()
        assert batch_id in queue.recover_interrupted()
        assert db.session.get(Batch, batch_id).etat == "termine"  # queued again (and, here, checked at once)
        batch = db.session.get(Batch, batch_id)
        batch.etat, batch.maj_le, batch.tentatives = "en_cours", old, queue.BATCH_ATTEMPTS
        db.session.commit()
        queue.recover_interrupted()
        batch = db.session.get(Batch, batch_id)
        assert batch.etat == "echec" and batch.raison_echec.startswith("Le traitement du lot a été interrompu")
    page = page_text(adviser.get(f"/conseillers/lots/{batch_id}").get_data(as_text=True))
    assert "La vérification de ce lot a échoué" in page and "Renvoyez le fichier" in page


def test_a_file_unreadable_as_a_whole_is_refused_at_once(adviser):
    response = adviser.client.post("/api/v1/conseillers/lots", data=b"nom;ville\nA;B\n",
                                   headers={"Content-Type": "text/csv", "X-CSRFToken": adviser.form_token()})
    assert response.status_code == 422 and "date_creation" in response.get_json()["erreur"]["message"]


def test_every_state_of_a_batch_answers_as_the_openapi_document_says(adviser, adv_app):
    """The `Lot` schema of /api/v1/openapi.json (202 answer and GET), in each `etat`, and the 409 of results asked
    before the end."""
    import jsonschema_rs

    from bud_checker.web.advisers.models import Batch
    from bud_checker.web.api.openapi import openapi_document
    from bud_checker.web.extensions import db

    document = openapi_document()
    lot = jsonschema_rs.validator_for({"$ref": "#/components/schemas/Lot", "components": document["components"]},
                                      validate_formats=True)
    error = jsonschema_rs.validator_for({"$ref": "#/components/schemas/Erreur", "components": document["components"]})
    upload = document["paths"]["/conseillers/lots"]["post"]["responses"]
    assert {"202", "401", "413", "415", "422", "503"} <= set(upload)
    response = adviser.client.post("/api/v1/conseillers/lots?nom_fichier=etats.csv", data=csv_of(4),
                                   headers={"Content-Type": "text/csv", "X-CSRFToken": adviser.form_token()})
    assert response.status_code == 202 and response.headers["Location"] == response.get_json()["url"]
    lot.validate(response.get_json())
    batch_id = response.get_json()["id"]
    states = {"en_attente": (0, None, None), "en_cours": (2, 4, None),
              "echec": (2, 4, "Une erreur inattendue a empêché la vérification du lot (3 tentatives).")}
    for etat, (done, total, reason) in states.items():
        with adv_app.app_context():
            batch = db.session.get(Batch, batch_id)
            batch.etat, batch.lignes_faites, batch.lignes_total, batch.raison_echec = etat, done, total, reason
            db.session.commit()
        body = adviser.get(f"/api/v1/conseillers/lots/{batch_id}").get_json()
        lot.validate(body)
        assert body["etat"] == etat and body["progression"]["lignes_faites"] == done
        assert body["progression"]["lignes_total"] == total and body["raison_echec"] == reason
        assert body["resultats_csv"] is None
        refused = adviser.get(f"/api/v1/conseillers/lots/{batch_id}/resultats.csv")
        assert refused.status_code == 409
        error.validate(refused.get_json())


# --- a real server: gunicorn and its batch worker --------------------------------------------------------------

PASSWORD = "une phrase de passe pour les lots"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    directory = tmp_path_factory.mktemp("queue")
    with migrated_database("sqlite", directory) as url:
        env = server_environment(url, BUD_COOKIE_SECURE="0", BUD_BATCH_STALE_SECONDS="3")
        create_adviser_with_the_cli(env, "CCI Lots", "l.petit@cci.test", PASSWORD)
        server = Server(env, workers=2, log_path=directory / "serve.log")
        server.start()
        try:
            yield server
        finally:
            server.stop()


def _signed_in(server):
    jar = sign_in_over_http(server.url, "l.petit@cci.test", PASSWORD)
    status, headers, body = http("GET", server.url + "/api/v1/conseillers/session", headers=jar.headers())
    return {**jar.keep(headers), "X-CSRFToken": json.loads(body)["csrf_token"]}


def _upload(server, headers, data, name):
    started = time.monotonic()
    status, _, body = http("POST", f"{server.url}/api/v1/conseillers/lots?nom_fichier={name}", data,
                           {**headers, "Content-Type": "text/csv"}, timeout=30)
    return status, json.loads(body), time.monotonic() - started


def _wait(server, headers, batch_id, until, timeout=240):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = json.loads(http("GET", f"{server.url}/api/v1/conseillers/lots/{batch_id}", headers=headers)[2])
        if until(body):
            return body
        time.sleep(0.3)
    pytest.fail(f"batch {batch_id} still {body['etat']} {body['progression']}:\n{server.log()}")


def _latency(server) -> float:
    started = time.monotonic()
    status, _, _ = http("GET", server.url + "/")
    assert status == 200
    return time.monotonic() - started


@pytest.mark.slow
def test_two_large_uploads_answer_at_once_and_the_public_pages_keep_answering(served):
    headers = _signed_in(served)
    assert len(served.batch_worker_pids()) == 1  # bud-checker serve started its batch worker
    before = [_latency(served) for _ in range(20)]
    results = []
    threads = [threading.Thread(
                   target=lambda n=n: results.append(_upload(served, headers, varied_csv_of(10_000), f"gros-{n}.csv")))
               for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for status, body, elapsed in results:
        assert status == 202 and elapsed < 1.0, (status, elapsed)
        assert body["etat"] in ("en_attente", "en_cours") and body["progression"]["lignes_total"] == 10_000
    during = []
    seen_progress = set()
    while True:
        during.append(_latency(served))
        states = [json.loads(http("GET", f"{served.url}/api/v1/conseillers/lots/{body['id']}", headers=headers)[2])
                  for _, body, _ in results]
        seen_progress.update(s["progression"]["lignes_faites"] for s in states if s["etat"] == "en_cours")
        if all(s["etat"] == "termine" for s in states):
            break
        assert all(s["etat"] in ("en_attente", "en_cours", "termine") for s in states), \
            ([(s["etat"], s["raison_echec"]) for s in states], served.log())
        assert len(during) < 3000, "the batches did not finish"
        time.sleep(0.1)
    assert len([p for p in seen_progress if 0 < p < 10_000]) >= 2  # progress was reported on the way
    assert states[0]["synthese"]["lignes"] == 10_000
    # «Answering normally»: the median latency of GET / stays of the order it was with no batch running.
    assert statistics.median(during) < max(0.1, 4 * statistics.median(before)), (before, during)
    status, _, data = http("GET", states[0]["resultats_csv"].replace("http://127.0.0.1", "http://127.0.0.1"),
                           headers=headers)
    assert status == 200 and data.count(b"\r\n") == 10_001


@pytest.mark.slow
def test_a_batch_worker_killed_mid_batch_is_replaced_and_the_batch_completes_or_fails(served):
    headers = _signed_in(served)
    status, body, _ = _upload(served, headers, varied_csv_of(10_000), "tue.csv")
    assert status == 202
    _wait(served, headers, body["id"], lambda b: b["etat"] == "en_cours" and b["progression"]["lignes_faites"] > 0)
    [worker] = served.batch_worker_pids()
    os.kill(worker, signal.SIGKILL)
    final = _wait(served, headers, body["id"], lambda b: b["etat"] in ("termine", "echec"))
    assert final["etat"] == "termine", final  # retried by the worker started in its place
    assert final["synthese"]["lignes"] == 10_000
    replacement = served.batch_worker_pids()
    assert len(replacement) == 1 and replacement != [worker]
