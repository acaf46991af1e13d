"""Shared by the reliability, security and scale-out tests: a migrated database on SQLite or PostgreSQL (a fresh
PostgreSQL database per module on the server of DATABASE_URL_TEST, dropped afterwards), and real servers
(`bud-checker serve`, i.e. gunicorn) driven by wrk, through the helpers of benchmarks/http_bench.py."""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Iterator

import pytest

from conftest import dispose, pg_database, skip_or_fail  # dispose: for the reliability tests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))

# After sys.path: benchmarks/ is a folder of scripts, not a package. Some names are for the test modules.
from http_bench import (Server, WRK, children, free_port, post_script,  # noqa: E402 - after sys.path
                        rss_mb, run_wrk, server_environment)

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@contextlib.contextmanager
def migrated_database(backend: str, directory: Path) -> Iterator[str]:
    """The URL of a database brought to the latest migration, as `bud-checker serve` would."""
    from bud_checker.web.commands import upgrade_database

    if backend == "sqlite":
        url = f"sqlite:///{directory / 'bud_checker.sqlite3'}"
        upgrade_database({"DATABASE_URL": url, "BUD_ENV": "test", "SECRET_KEY": "reliability"})
        yield url
        return
    with pg_database("bud_rel") as url:
        upgrade_database({"DATABASE_URL": url, "BUD_ENV": "test", "SECRET_KEY": "reliability"})
        yield url


def http(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None,
         timeout: float = 10) -> tuple[int, dict[str, str], bytes]:
    """A plain HTTP request (urllib): status, headers, body; HTTP errors are answers, not exceptions."""
    data = None
    headers = dict(headers or {})
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers.setdefault("Content-Type", "application/json")
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    """A throw-away redis-server on a free loopback port (no persistence); yields its redis:// URL."""
    executable = shutil.which("redis-server")
    if executable is None:
        skip_or_fail("redis-server not found (scripts/system-deps installs Debian's redis-server)")
    pytest.importorskip("redis")
    port = free_port()
    process = subprocess.Popen([executable, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("redis-server did not start")
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


class CookieJar:
    """The cookies a real server set, sent back as a browser would (`headers()`)."""

    def __init__(self) -> None:
        self.cookies: dict[str, str] = {}

    def keep(self, headers: dict[str, str]) -> dict[str, str]:
        from http.cookies import SimpleCookie

        for name, value in headers.items():
            if name.lower() == "set-cookie":
                self.cookies.update({morsel.key: morsel.value for morsel in SimpleCookie(value).values()})
        return self.headers()

    def headers(self) -> dict[str, str]:
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}


def create_adviser_with_the_cli(env: dict[str, str], organisation: str, email: str, password: str,
                                nom: str | None = None) -> None:
    """An organisation and its adviser, created for a served site with the admin command, as the README says."""
    admin = [sys.executable, "-m", "bud_checker.cli", "admin"]
    subprocess.run(admin + ["create-organisation", organisation], cwd=REPO, env=env, check=True,
                   capture_output=True, text=True)
    subprocess.run(admin + ["create-adviser", "--organisation", organisation, "--email", email,
                            *(["--nom", nom] if nom else []), "--password-stdin"],
                   input=password + "\n", cwd=REPO, env=env, check=True, capture_output=True, text=True)


def sign_in_over_http(base_url: str, email: str, password: str) -> CookieJar:
    """Sign an adviser in on a real server through its sign-in page (CSRF token included)."""
    import re
    from urllib.parse import urlencode

    jar = CookieJar()
    status, headers, page = http("GET", base_url + "/conseillers/connexion")
    jar.keep(headers)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.decode()).group(1)
    form = urlencode({"csrf_token": token, "email": email, "password": password}).encode()
    status, headers, _ = http("POST", base_url + "/conseillers/connexion", form,
                              {"Content-Type": "application/x-www-form-urlencoded", **jar.headers()})
    assert status == 303, status
    jar.keep(headers)
    return jar
