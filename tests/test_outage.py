"""A PostgreSQL outage, for real: a throw-away PostgreSQL server of its own (scripts/pg-test on a free port), a
real `bud-checker serve` on it; the database is stopped: pages, adviser pages and the API answer 503 in French
with Retry-After; it is started again: the site answers as before, without a restart."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from reliability_helpers import (REPO, Server, create_adviser_with_the_cli, free_port, http, server_environment,
                               sign_in_over_http)

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
PASSWORD = "une phrase de passe pendant la panne"


def _pg(command: str, port: int, directory: Path) -> str:
    env = {**os.environ, "PGTEST_PORT": str(port), "PGTEST_DIR": str(directory)}
    done = subprocess.run([str(REPO / "scripts" / "pg-test"), command], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def outage(tmp_path_factory):
    if not shutil.which("runuser") and os.geteuid() == 0:  # pragma: no cover
        pytest.skip("runuser missing")
    if not os.environ.get("DATABASE_URL_TEST"):
        from conftest import skip_or_fail

        skip_or_fail("PostgreSQL not available (scripts/pg-test)")
    import tempfile
    port = free_port()
    parent = Path(tempfile.mkdtemp(prefix="bud-pg-outage-"))  # not pytest's 0700 folders: the postgres user reads it
    os.chmod(parent, 0o755)
    directory = parent / "data"
    _pg("start", port, directory)
    url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    try:
        from bud_checker.web.commands import upgrade_database

        upgrade_database({"DATABASE_URL": url, "BUD_ENV": "test", "SECRET_KEY": "outage"})
        env = server_environment(url, BUD_COOKIE_SECURE="0", BUD_QUEUE_WORKERS="0")
        create_adviser_with_the_cli(env, "CCI Panne", "p.durand@cci.test", PASSWORD)
        with Server(env, workers=2, log_path=tmp_path_factory.mktemp("outage-log") / "serve.log") as server:
            yield server, port, directory
    finally:
        _pg("stop", port, directory)
        shutil.rmtree(parent, ignore_errors=True)


def test_a_stopped_database_gives_french_503s_and_the_site_recovers_by_itself(outage):
    server, port, directory = outage
    cookie = sign_in_over_http(server.url, "p.durand@cci.test", PASSWORD).headers()
    status, _, body = http("POST", server.url + "/api/v1/verifications",
                           {"date_creation": "2019-05-14", "commune_insee": "59178"})
    assert status == 201
    saved = json.loads(body)["id"]
    _pg("stop", port, directory)
    try:
        checks = [("GET", f"/verifications/{saved}", None, {}), ("GET", f"/api/v1/verifications/{saved}", None, {}),
                  ("POST", "/api/v1/verifications", {"date_creation": "2019-05-14"}, {}),
                  ("GET", "/conseillers/dossiers", None, cookie), ("GET", "/api/v1/conseillers/session", None, cookie)]
        for method, path, payload, headers in checks:
            status, answer_headers, answer = http(method, server.url + path, payload, headers)
            assert status == 503, (path, status, answer[:300])
            # 30 s, or later when a rate limit's window ends later (Flask-Limiter keeps the larger of the two)
            assert 30 <= int(answer_headers["Retry-After"]) <= 60, path
            assert "Service momentanément indisponible" in answer.decode(), path
        status, _, page = http("GET", server.url + "/")
        assert status == 200  # the form itself needs no database
    finally:
        _pg("start", port, directory)
    deadline = time.monotonic() + 30
    while True:
        status, _, _ = http("GET", f"{server.url}/api/v1/verifications/{saved}")
        if status == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert status == 200
    status, _, page = http("GET", server.url + "/conseillers/dossiers", headers=cookie)
    assert status == 200 and "Dossiers" in page.decode()
