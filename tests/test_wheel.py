"""The package installs anywhere: the wheel carries rules/, templates/, static files and migrations/; installed
in a fresh virtualenv, `bud-checker check`, `db-upgrade` and the site work from another directory."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


def _run(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: int = 900) -> subprocess.CompletedProcess:
    done = subprocess.run(list(args), cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{args}\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    work = tmp_path_factory.mktemp("wheel")
    _run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(work / "dist"), str(ROOT),
         cwd=work)
    wheel = next((work / "dist").glob("bud_checker-*.whl"))
    _run(sys.executable, "-m", "venv", str(work / "venv"), cwd=work)
    pip = work / "venv" / "bin" / "pip"
    _run(str(pip), "install", "--quiet", "--disable-pip-version-check", "-c", str(ROOT / "constraints.txt"),
         f"{wheel}[web]", cwd=work)
    elsewhere = work / "ailleurs"
    elsewhere.mkdir()
    return {"wheel": wheel, "bin": work / "venv" / "bin", "cwd": elsewhere}


def test_the_wheel_carries_the_data_directories(installed):
    names = zipfile.ZipFile(installed["wheel"]).namelist()
    for expected in ("bud_checker/_data/rules/references.yaml", "bud_checker/_data/rules/situation.yaml",
                     "bud_checker/_data/rules/communes/communes_france.json.gz",
                     "bud_checker/_data/templates/public/etape.html", "bud_checker/_data/migrations/env.py",
                     "bud_checker/web/static/css/app.css"):
        assert expected in names, expected
    assert not any(name.startswith(("tests/", "rules/")) for name in names)


def test_check_and_lint_from_another_directory(installed, douai_commerce):
    situation = installed["cwd"] / "situation.json"
    situation.write_text(json.dumps(douai_commerce), encoding="utf-8")
    done = _run(str(installed["bin"] / "bud-checker"), "check", str(situation), cwd=installed["cwd"])
    assert json.loads(done.stdout)["statut"] == "eligible"
    linted = _run(str(installed["bin"] / "bud-checker"), "lint-rules", cwd=installed["cwd"])
    assert linted.stdout.startswith("Règles valides")
    assert "passed, 0 failed" in _run(str(installed["bin"] / "bud-checker"), "test-rules", cwd=installed["cwd"]).stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_db_upgrade_and_the_site_from_another_directory(installed):
    env = {**os.environ, "BUD_ENV": "production", "SECRET_KEY": "wheel-test-" + "x" * 40, "BUD_HOSTS": "127.0.0.1",
           "DATABASE_URL": f"sqlite:///{installed['cwd'] / 'bud.sqlite3'}", "BUD_INSTANCE_DIR": str(installed["cwd"])}
    env.pop("BUD_RULES_DIR", None)
    bud = str(installed["bin"] / "bud-checker")
    assert "Base de données à jour" in _run(bud, "db-upgrade", cwd=installed["cwd"], env=env).stdout
    port = _free_port()
    server = subprocess.Popen([bud, "serve", "--port", str(port), "--workers", "1"], cwd=installed["cwd"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                    home = response.read().decode("utf-8")
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    server.kill()
                    pytest.fail(f"the installed site did not answer:\n{server.communicate()[0][-3000:]}")
                time.sleep(0.5)
        assert "bassins urbains à dynamiser" in home and "Date de création" in home
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/static/css/app.css", timeout=10) as response:
            assert response.status == 200
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/regles", timeout=30) as response:
            assert "Les informations demandées" in response.read().decode("utf-8")
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
