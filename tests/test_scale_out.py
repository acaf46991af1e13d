"""Scaling out: two separate application processes (two `bud-checker serve`, two gunicorn workers each, on two
ports, as two machines behind a load balancer would be) on one PostgreSQL database, one Redis for the rate
limits and one SECRET_KEY. Nothing lives in a process's memory that another process would need: a verification
created through one is read through the other, an adviser signed in on one is signed in on the other (the
session is the signed cookie), a CSRF token issued by one is accepted by the other, and the rate limit counts
the requests of both."""

from __future__ import annotations

import json
import re
import secrets
import subprocess
import sys
from http.cookies import SimpleCookie

import pytest

from reliability_helpers import (REPO, Server, create_adviser_with_the_cli, http, migrated_database, redis_server,
                               server_environment)

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

PASSWORD = "une phrase de passe pour deux serveurs"
API_LIMIT = 6


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    directory = tmp_path_factory.mktemp("scale")
    with migrated_database("postgres", directory) as url, redis_server() as redis_url:
        shared = {"SECRET_KEY": secrets.token_urlsafe(48), "RATELIMIT_STORAGE_URI": redis_url,
                  "BUD_RATE_LIMIT_API": f"{API_LIMIT} per minute", "BUD_COOKIE_SECURE": "0"}
        env = server_environment(url, **shared)
        # The adviser is created on the server, with the admin command, as the README says.
        create_adviser_with_the_cli(env, "CCI Échelle", "e.leroy@cci.test", PASSWORD, nom="Emma Leroy")
        servers = [Server(dict(env), workers=2, log_path=directory / f"serve-{n}.log") for n in (1, 2)]
        try:
            for server in servers:
                server.start()
            yield servers
        finally:
            for server in servers:
                server.stop()


def _cookie(headers: dict[str, str], jar: dict[str, str]) -> dict[str, str]:
    for name, value in headers.items():
        if name.lower() == "set-cookie":
            for morsel in SimpleCookie(value).values():
                jar[morsel.key] = morsel.value
    return jar


def _cookie_header(jar: dict[str, str]) -> dict[str, str]:
    return {"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())}


def test_a_verification_created_on_one_process_is_read_on_the_other(cluster):
    first, second = cluster
    status, headers, body = http("POST", first.url + "/api/v1/verifications",
                                 {"date_creation": "2019-05-14", "commune_insee": "59178", "activite": "commerciale"})
    assert status == 201
    created = json.loads(body)
    status, _, again = http("GET", f"{second.url}/api/v1/verifications/{created['id']}")
    assert status == 200
    read = json.loads(again)
    for key in ("url", "page"):  # absolute addresses: each names the host it was asked through
        created.pop(key), read.pop(key)
    assert read == created
    status, _, page = http("GET", f"{second.url}/verifications/{created['id']}")
    assert status == 200 and "Douai" in page.decode()


def test_an_adviser_signed_in_on_one_process_is_signed_in_on_the_other(cluster):
    first, second = cluster
    jar: dict[str, str] = {}
    status, headers, page = http("GET", first.url + "/conseillers/connexion")
    _cookie(headers, jar)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.decode()).group(1)
    form = f"csrf_token={token}&email=e.leroy%40cci.test&password={PASSWORD.replace(' ', '+')}".encode()
    status, headers, _ = http("POST", first.url + "/conseillers/connexion", form,
                              {"Content-Type": "application/x-www-form-urlencoded", **_cookie_header(jar)})
    assert status == 303, status
    _cookie(headers, jar)

    # The other process knows the session: it is the signed cookie, not something one process remembers.
    status, headers, page = http("GET", second.url + "/conseillers/dossiers", headers=_cookie_header(jar))
    assert status == 200 and "Emma Leroy" in page.decode()
    _cookie(headers, jar)  # the session now holds the CSRF token the page was given
    status, headers, body = http("GET", second.url + "/api/v1/conseillers/session", headers=_cookie_header(jar))
    assert status == 200
    _cookie(headers, jar)
    session = json.loads(body)
    assert session["conseiller"]["nom"] == "Emma Leroy"
    # A CSRF token issued by one process is accepted by the other; what one writes, the other reads.
    status, _, body = http("POST", first.url + "/api/v1/conseillers/dossiers", {"nom": "Boulangerie des Deux Rives"},
                           {**_cookie_header(jar), "X-CSRFToken": session["csrf_token"]})
    assert status == 201, body
    dossier = json.loads(body)["id"]
    status, _, body = http("GET", f"{second.url}/api/v1/conseillers/dossiers/{dossier}", headers=_cookie_header(jar))
    assert status == 200 and json.loads(body)["nom"] == "Boulangerie des Deux Rives"
    # Both run the same rules: the caches of each process are built from the same files.
    status, _, other = http("GET", first.url + "/api/v1/conseillers/session", headers=_cookie_header(jar))
    assert json.loads(other)["regles_version"] == session["regles_version"]
    # Signed out on one, signed out on both? The cookie is cleared in the browser; a password change ends every
    # session on every process (the session names the adviser's auth_id, kept in the database).
    subprocess.run([sys.executable, "-m", "bud_checker.cli", "admin", "set-password", "--email", "e.leroy@cci.test",
                    "--password-stdin"], input=PASSWORD + " bis\n", cwd=REPO, env=first.env, check=True,
                   capture_output=True, text=True)
    for server in cluster:
        status, headers, _ = http("GET", server.url + "/conseillers/dossiers", headers=_cookie_header(jar))
        assert status in (302, 303) and "/conseillers/connexion" in headers["Location"]


def test_the_rate_limit_counts_the_requests_of_every_process(cluster):
    # Four workers in two processes, one count (Redis): the limit holds for the client as a whole. The count
    # starts from zero and is emptied again afterwards, so the other tests of this module run in any order.
    import redis

    store = redis.Redis.from_url(cluster[0].env["RATELIMIT_STORAGE_URI"])
    store.flushdb()
    statuses = []
    try:
        for index in range(2 * API_LIMIT):
            server = cluster[index % 2]
            status, headers, body = http("POST", server.url + "/api/v1/verifications", {"date_creation": "2019-05-14"})
            statuses.append(status)
    finally:
        store.flushdb()
    assert statuses == [201] * API_LIMIT + [429] * API_LIMIT, statuses
    assert json.loads(body)["erreur"]["message"].startswith("Trop de requêtes")
