"""Load and fault tests against the real server (`bud-checker serve --workers 2`: gunicorn on loopback), driven by
wrk, on SQLite and on PostgreSQL, each bounded to a few seconds of load:

- under load, no error at all, and every verification created can be read back through the API byte for byte;
- a gunicorn worker killed (SIGKILL) during the load is replaced, the requests that fail are at most those in
  flight, and every stored row is intact: its JSON parses, its verdict is the engine's for its situation under
  the stored rules version;
- SQLite runs in WAL mode with a busy timeout: two processes writing at once never see «database is locked».
"""

from __future__ import annotations

import concurrent.futures
import json
import multiprocessing
import os
import signal
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from consistency_helpers import day_of
from bud_checker import evaluate
from bud_checker.engine.law import current_rules
from conftest import skip_or_fail
from reliability_helpers import (BACKENDS, WRK, Server, http, migrated_database, post_script, run_wrk,
                                 server_environment)

CONNECTIONS = 16
LOAD_SECONDS = 6


@pytest.fixture(scope="module", params=BACKENDS)
def served(request, tmp_path_factory):
    if not os.path.exists(WRK):
        skip_or_fail("wrk not found (scripts/system-deps installs Debian's wrk)")
    directory = tmp_path_factory.mktemp("load")
    with migrated_database(request.param, directory) as url:
        server = Server(server_environment(url), workers=2, log_path=directory / "serve.log")
        server.start()
        try:
            yield server, url
        finally:
            server.stop()


@pytest.fixture(scope="module")
def bodies():
    from http_bench import situation_bodies

    return situation_bodies(1000)


def _rows(url: str) -> list[tuple]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return list(connection.execute(text(
                "SELECT id, CAST(situation AS TEXT), CAST(verdict AS TEXT), statut, regles_version "
                "FROM verifications")))
    finally:
        engine.dispose()


def _count(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT count(*) FROM verifications")).scalar_one()
    finally:
        engine.dispose()


def _recorded(prefix: Path) -> list[bytes]:
    """The 201 bodies wrk's response() hook appended, one per line, to <prefix>.<thread>."""
    lines: list[bytes] = []
    for path in prefix.parent.glob(prefix.name + ".*"):
        lines += [line for line in path.read_bytes().split(b"\n") if line.strip()]
    return lines


def _read_back(server: Server, created: list[bytes]) -> None:
    """Every created verification answers GET with exactly the body its creation returned."""
    def check(line: bytes) -> str | None:
        identifier = json.loads(line)["id"]
        status, _, body = http("GET", f"{server.url}/api/v1/verifications/{identifier}")
        if status != 200:
            return f"{identifier}: {status}"
        if body.rstrip(b"\n") != line.rstrip(b"\n"):
            return f"{identifier}: read back differs from the body of its creation"
        return None

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        problems = [p for p in pool.map(check, created) if p]
    assert problems == [], problems[:5]


def _assert_rows_intact(url: str) -> int:
    """Every row parses, and holds the engine's verdict for its situation under its rules version."""
    version = current_rules().empreinte
    rows = _rows(url)
    for identifier, situation_text, verdict_text, statut, regles_version in rows:
        situation, verdict = json.loads(situation_text), json.loads(verdict_text)
        assert regles_version == verdict["regles_version"] == version, identifier
        assert statut == verdict["statut"], identifier
        fresh = evaluate(situation, date_verification=day_of(verdict)).to_dict()
        assert verdict == json.loads(json.dumps(fresh)), identifier
    return len(rows)


def test_under_load_no_error_and_every_verification_reads_back(served, bodies, tmp_path):
    server, url = served
    before = _count(url)
    record = tmp_path / "created"
    result = run_wrk(server.url + "/api/v1/verifications", CONNECTIONS, LOAD_SECONDS,
                     post_script(bodies, record_to=str(record)), timeout_s=10)
    assert result.errors == 0, result.output
    created = _recorded(record)
    assert result.requests > 100 and len(created) == result.requests, (len(created), result.output)
    # The requests in flight when wrk stopped may have been stored without their answer being counted.
    stored = _count(url) - before
    assert len(created) <= stored <= len(created) + CONNECTIONS, (stored, len(created))
    _read_back(server, created)
    assert len({json.loads(line)["id"] for line in created}) == len(created)
    # The form page under load too.
    page = run_wrk(server.url + "/", CONNECTIONS, 2)
    assert page.errors == 0, page.output


def test_a_worker_killed_during_the_load_loses_only_requests_in_flight(served, bodies, tmp_path):
    server, url = served
    before = _count(url)
    workers = server.worker_pids()
    assert len(workers) == 2
    victim = workers[0]
    record = tmp_path / "created"
    outcome: dict = {}

    def load() -> None:
        try:
            outcome["result"] = run_wrk(server.url + "/api/v1/verifications", CONNECTIONS, LOAD_SECONDS + 2,
                                        post_script(bodies, record_to=str(record)), timeout_s=10)
        except Exception as error:  # noqa: BLE001 - reported below
            outcome["error"] = error

    thread = threading.Thread(target=load)
    thread.start()
    time.sleep(2.5)
    os.kill(victim, signal.SIGKILL)
    thread.join(timeout=LOAD_SECONDS + 60)
    assert "error" not in outcome, outcome.get("error")
    result = outcome["result"]

    # gunicorn replaced the worker.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        now = server.worker_pids()
        if len(now) == 2 and victim not in now:
            break
        time.sleep(0.2)
    else:
        pytest.fail(f"the killed worker was not replaced: {server.worker_pids()}\n{server.log()}")

    print(f"worker {victim} killed: {result.requests} answers, {result.non_2xx} non-2xx, socket errors "
          f"{result.socket_errors}, rows stored {_count(url) - before}")
    # At most the requests in flight failed; the others were all answered, and kept.
    assert result.errors <= CONNECTIONS, result.output
    created = _recorded(record)
    assert len(created) == result.requests - result.non_2xx, (len(created), result.output)
    assert result.requests > 100, result.output
    stored = _count(url) - before
    # A request killed after its commit is stored without an answer; those in flight at the end of the run too.
    assert len(created) <= stored <= len(created) + result.errors + CONNECTIONS, (stored, len(created), result.errors)
    _read_back(server, created)
    assert _assert_rows_intact(url) == _count(url)
    status, _, _ = http("GET", server.url + "/")
    assert status == 200


# --- SQLite: WAL and busy timeout ---------------------------------------------------------------------------------

def _writer(url: str, count: int, queue) -> None:  # runs in a child process
    from bud_checker.web import create_app
    from bud_checker.web.services import record_verification

    app = create_app({"DATABASE_URL": url, "BUD_ENV": "test", "SECRET_KEY": "wal"})
    errors = []
    with app.app_context():
        for index in range(count):
            try:
                record_verification({"date_creation": "2019-05-14", "commune_insee": "59178", "effectif": index}, "api")
            except Exception as error:  # noqa: BLE001 - sent back to the test
                errors.append(f"{type(error).__name__}: {error}")
    queue.put(errors)


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout_and_concurrent_writers_never_fail(tmp_path):
    from bud_checker.web import create_app
    from bud_checker.web.extensions import SQLITE_BUSY_TIMEOUT_MS, db

    with migrated_database("sqlite", tmp_path) as url:
        app = create_app({"DATABASE_URL": url, "BUD_ENV": "test", "SECRET_KEY": "wal"})
        with app.app_context():
            with db.engine.connect() as connection:
                assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
                assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == SQLITE_BUSY_TIMEOUT_MS >= 1000
                assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            db.engine.dispose()
        context = multiprocessing.get_context("spawn")
        queue = context.Queue()
        writers = [context.Process(target=_writer, args=(url, 150, queue)) for _ in range(3)]
        for process in writers:
            process.start()
        results = [queue.get(timeout=120) for _ in writers]
        for process in writers:
            process.join(timeout=30)
        assert results == [[], [], []]
        assert _count(url) == 450
        assert _assert_rows_intact(url) == 450
