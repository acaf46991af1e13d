"""Hardening (bud_checker/web/security.py): security headers, no inline script or style, HSTS only over HTTPS and
proxy headers only from a trusted proxy, request size limits, rate limits of the public API and form (memory and
Redis storage), no debug page, and the refusal to start in production without SECRET_KEY."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest

from bud_checker.web.security import CONTENT_SECURITY_POLICY, HSTS, secret_key_problem
from reliability_helpers import redis_server

REPO = Path(__file__).resolve().parent.parent
DOUAI = {"date_creation": "2019-05-14", "commune_insee": "59178"}


def make_app(web_database_url, **config):
    from bud_checker.web import create_app

    return create_app({"DATABASE_URL": web_database_url, "BUD_ENV": "test", "SECRET_KEY": "security-tests", **config})


# --- headers ----------------------------------------------------------------------------------------------------

def test_every_response_carries_the_security_headers(client):
    saved = client.post("/api/v1/verifications", json=DOUAI).get_json()["id"]
    for url in ["/", "/regles", "/api", f"/verifications/{saved}", "/api/v1/openapi.json",
                f"/api/v1/verifications/{saved}", "/static/css/app.css", "/introuvable", "/api/v1/introuvable",
                "/conseillers/connexion"]:
        response = client.get(url)
        headers = response.headers
        assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY, url
        assert headers["X-Content-Type-Options"] == "nosniff", url
        assert headers["X-Frame-Options"] == "DENY", url
        assert headers["Referrer-Policy"] == "same-origin", url
        assert "camera=()" in headers["Permissions-Policy"], url
        assert "Strict-Transport-Security" not in headers, url  # plain HTTP


def test_the_policy_is_strict():
    directives = dict(d.strip().split(" ", 1) for d in CONTENT_SECURITY_POLICY.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert directives["base-uri"] == "'none'" and directives["form-action"] == "'self'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY and "*" not in CONTENT_SECURITY_POLICY


class _Inline(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script" and not attributes.get("src"):
            self.problems.append("inline <script>")
        if tag == "style":
            self.problems.append("<style>")
        for name, _ in attrs:
            if name == "style" or name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...>")


def test_no_template_holds_an_inline_script_style_or_event_handler():
    for path in (REPO / "templates").rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\ssrc=)[^>]*>", text), path
        assert "<style" not in text and not re.search(r"\sstyle=", text), path
        assert not re.search(r"\son[a-z]+=", text), path


def test_rendered_pages_hold_no_inline_script_or_style(client, flow):
    saved = client.post("/api/v1/verifications", json={**DOUAI, "activite": "commerciale"}).get_json()["id"]
    flow.submit({"date_creation": "2019-05-14", "commune": "Douai"})
    pages = [flow.html] + [client.get(url).get_data(as_text=True)
                           for url in ("/", "/regles", "/api", f"/verifications/{saved}", "/conseillers/connexion",
                                       "/x")]
    for html in pages:
        parser = _Inline()
        parser.feed(html)
        assert parser.problems == []


def test_hsts_only_over_https(client):
    assert client.get("/", base_url="https://localhost").headers["Strict-Transport-Security"] == HSTS
    # A client cannot claim HTTPS when no proxy is trusted.
    response = client.get("/", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in response.headers


def test_forwarded_headers_are_honoured_only_behind_a_trusted_proxy(web_database_url):
    behind = make_app(web_database_url, BUD_TRUST_PROXY=1, PUBLIC_API_RATE_LIMIT="2 per minute").test_client()
    response = behind.get("/", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.1"})
    assert response.headers["Strict-Transport-Security"] == HSTS
    body = behind.post("/api/v1/verifications", json=DOUAI, headers={"X-Forwarded-Proto": "https",
                                                                      "X-Forwarded-Host": "bud.example.fr"}).get_json()
    assert body["url"].startswith("https://bud.example.fr/api/v1/verifications/")
    # The rate limit counts per client as the proxy says.
    for _ in range(2):
        assert behind.post("/api/v1/verifications", json=DOUAI,
                           headers={"X-Forwarded-For": "198.51.100.2"}).status_code == 201
    assert behind.post("/api/v1/verifications", json=DOUAI,
                       headers={"X-Forwarded-For": "198.51.100.2"}).status_code == 429
    assert behind.post("/api/v1/verifications", json=DOUAI,
                       headers={"X-Forwarded-For": "198.51.100.3"}).status_code == 201
    # Not behind a proxy: X-Forwarded-For is the client's word and changes nothing.
    direct = make_app(web_database_url, PUBLIC_API_RATE_LIMIT="2 per minute").test_client()
    for forged in ("198.51.100.4", "198.51.100.5"):
        assert direct.post("/api/v1/verifications", json=DOUAI, headers={"X-Forwarded-For": forged}).status_code == 201
    assert direct.post("/api/v1/verifications", json=DOUAI,
                       headers={"X-Forwarded-For": "198.51.100.6"}).status_code == 429


def test_bad_proxy_setting_is_refused_in_french(monkeypatch, web_database_url):
    monkeypatch.setenv("BUD_TRUST_PROXY", "oui")
    with pytest.raises(RuntimeError, match="BUD_TRUST_PROXY : « oui » n'est pas admis"):
        make_app(web_database_url)


# --- size limits --------------------------------------------------------------------------------------------------

def test_bodies_over_64_kib_are_refused(client):
    big = "x" * (65 * 1024)
    response = client.post("/api/v1/verifications", data='{"date_creation": "' + big + '"}',
                           content_type="application/json")
    assert response.status_code == 413 and "64\u00a0Kio" in response.get_json()["erreur"]["message"]
    page = client.post("/verifier", data={"etat": big})
    assert page.status_code == 413 and "Requête trop volumineuse" in page.get_data(as_text=True)


# --- rate limits ------------------------------------------------------------------------------------------------

def test_the_public_api_is_rate_limited_per_address_with_a_french_json_429(web_database_url):
    client = make_app(web_database_url, PUBLIC_API_RATE_LIMIT="3 per minute",
                      PUBLIC_API_READ_RATE_LIMIT="4 per minute").test_client()
    created = [client.post("/api/v1/verifications", json=DOUAI) for _ in range(3)]
    assert [r.status_code for r in created] == [201, 201, 201]
    refused = client.post("/api/v1/verifications", json=DOUAI)
    assert refused.status_code == 429 and refused.mimetype == "application/json"
    assert refused.get_json()["erreur"]["message"].startswith("Trop de requêtes depuis votre adresse")
    assert 1 <= int(refused.headers["Retry-After"]) <= 61
    # Another address is not concerned; reading has its own, larger, limit.
    other = client.post("/api/v1/verifications", json=DOUAI, environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert other.status_code == 201
    reads = [client.get("/api/v1/communes?q=douai").status_code for _ in range(5)]
    assert reads == [200, 200, 200, 200, 429]
    assert client.get("/").status_code == 200  # pages are not limited


def test_the_public_form_is_rate_limited_with_a_french_page(web_database_url):
    app = make_app(web_database_url, PUBLIC_FORM_RATE_LIMIT="2 per minute")
    from conftest import FormFlow, page_text

    flow = FormFlow(app.test_client())
    assert flow.submit({"date_creation": "2019-05-14", "commune": "Douai"}).status_code == 200
    assert flow.submit({"activite": "commerciale"}).status_code in (200, 422)
    refused = flow.submit({"activite": "commerciale"})
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    assert "Trop de requêtes depuis votre adresse" in page_text(refused.get_data(as_text=True))


def test_default_limits_apply_outside_tests_and_can_be_changed_or_turned_off(monkeypatch, web_database_url):
    from bud_checker.web.security import DEFAULT_LIMITS

    production = make_app(web_database_url, BUD_ENV="production")
    for key, (_, default) in DEFAULT_LIMITS.items():
        assert production.config[key] == default
    assert make_app(web_database_url).config["PUBLIC_API_RATE_LIMIT"] == ""  # BUD_ENV=test: off unless set
    monkeypatch.setenv("BUD_RATE_LIMIT_API", "5 per second")
    monkeypatch.setenv("BUD_RATE_LIMIT_FORM", "0")
    configured = make_app(web_database_url, BUD_ENV="production")
    assert configured.config["PUBLIC_API_RATE_LIMIT"] == "5 per second"
    client = configured.test_client()
    assert all(client.post("/verifier", data={"etat": "{"}).status_code == 400 for _ in range(130))  # form: off


@pytest.fixture(scope="module")
def redis_url():
    with redis_server() as url:
        yield url


def test_limits_are_shared_through_redis(web_database_url, redis_url):
    config = {"RATELIMIT_STORAGE_URI": redis_url, "PUBLIC_API_RATE_LIMIT": "3 per minute",
              "RATELIMIT_KEY_PREFIX": f"shared-{time.monotonic_ns()}"}
    first, second = (make_app(web_database_url, **config).test_client() for _ in range(2))
    statuses = [c.post("/api/v1/verifications", json=DOUAI).status_code for c in (first, second, first, second)]
    assert statuses == [201, 201, 201, 429]


def test_a_rate_limit_store_that_is_down_does_not_fail_requests(web_database_url):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens there
    app = make_app(web_database_url, RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{port}/0",
                   PUBLIC_API_RATE_LIMIT="100 per minute")
    response = app.test_client().post("/api/v1/verifications", json=DOUAI)
    assert response.status_code == 201


# --- debug page and errors --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("env, debug",
                         [("production", False), ("local", False), ("test", False), ("development", True)])
def test_no_debug_page_unless_development(monkeypatch, web_database_url, env, debug):
    monkeypatch.setenv("FLASK_DEBUG", "1")
    app = make_app(web_database_url, BUD_ENV=env, DEBUG=True)
    assert app.debug is debug
    if debug:
        return

    @app.get("/boum")
    def boum():
        raise ValueError("secret detail")

    response = app.test_client().get("/boum")
    text = response.get_data(as_text=True)
    assert response.status_code == 500 and "Erreur interne" in text
    assert "Traceback" not in text and "secret detail" not in text and "Werkzeug" not in text


# --- the production secret -----------------------------------------------------------------------------------------

def test_secret_key_is_required_in_production_only():
    assert "SECRET_KEY n'est pas défini" in secret_key_problem({})
    assert secret_key_problem({"BUD_ENV": "production", "SECRET_KEY": "  "})
    assert "BUD_HOSTS" in secret_key_problem({"BUD_ENV": "production", "SECRET_KEY": "s" * 40})
    assert secret_key_problem({"BUD_ENV": "production", "SECRET_KEY": "s" * 40, "BUD_HOSTS": "bud.example"}) is None
    for env in ("local", "development", "test"):
        assert secret_key_problem({"BUD_ENV": env}) is None


def _environment(tmp_path, **extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BUD_", "SECRET_KEY", "DATABASE_URL", "FLASK_"))}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    env.update(extra)
    return env


def test_serve_refuses_to_start_in_production_without_secret_key(tmp_path):
    done = subprocess.run([sys.executable, "-m", "bud_checker.cli", "serve", "--dry-run"], cwd=REPO,
                          env=_environment(tmp_path), capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert done.stderr.startswith("Erreur\u00a0: SECRET_KEY n'est pas défini") and "Traceback" not in done.stderr
    assert not (tmp_path / "db.sqlite3").exists()  # refused before touching anything


def test_gunicorn_refuses_to_start_in_production_without_secret_key(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    done = subprocess.run([sys.executable, "-m", "gunicorn", "--chdir", str(REPO), "--bind", f"127.0.0.1:{port}",
                           "--workers", "2", "wsgi:app"], cwd=REPO, env=_environment(tmp_path), capture_output=True,
                          text=True, timeout=60)
    assert done.returncode != 0  # gunicorn stops (worker boot error), it does not respawn workers forever
    assert "SECRET_KEY n'est pas défini" in done.stderr


def test_scripts_serve_starts_in_local_mode_on_a_fresh_clone(tmp_path):
    done = subprocess.run(["scripts/serve", "--dry-run", "--port", "8765"], cwd=REPO, env=_environment(tmp_path),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "mode local (BUD_ENV=local)" in done.stderr
    assert "gunicorn" in done.stdout and (tmp_path / "db.sqlite3").exists()
    production = subprocess.run(["scripts/serve", "--dry-run"], cwd=REPO,
                                env=_environment(tmp_path, BUD_ENV="production"), capture_output=True, text=True,
                                timeout=300)
    assert production.returncode != 0 and "SECRET_KEY" in production.stderr
