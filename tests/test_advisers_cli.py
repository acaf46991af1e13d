"""`bud-checker admin ...`: organisations and advisers are created from the command line only (no open sign-up);
passwords come from the terminal or standard input, never from the command line."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest

from advisers_helpers import AdviserClient
from bud_checker.engine.fr import typographie

PASSWORD = "mot de passe du conseiller 1"


@pytest.fixture
def database(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'admin.sqlite3'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("BUD_ENV", "test")
    monkeypatch.setenv("SECRET_KEY", "cli-tests")
    return url


def run(capsys, monkeypatch, *argv: str, stdin: str | None = None) -> tuple[int, str, str]:
    from bud_checker.cli import main

    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin or ""))
    code = main(["admin", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def app_for(url: str):
    from bud_checker.web import create_app

    return create_app({"DATABASE_URL": url, "BUD_ENV": "test", "SECRET_KEY": "cli-tests", "RATELIMIT_ENABLED": False})


def test_create_an_organisation_and_an_adviser_who_can_sign_in(database, capsys, monkeypatch):
    code, out, _ = run(capsys, monkeypatch, "create-organisation", "CCI Artois")
    assert code == 0 and "Organisation créée\u00a0: CCI Artois" in out
    code, out, err = run(capsys, monkeypatch, "create-adviser", "--organisation", "cci artois", "--email",
                         "A.Martin@CCI-Artois.fr", "--nom", "Anne Martin", "--password-stdin", stdin=PASSWORD + "\n")
    assert code == 0, err
    assert "Conseiller créé\u00a0: a.martin@cci-artois.fr (CCI Artois)" in out
    assert PASSWORD not in out + err
    adviser = AdviserClient(app_for(database), "a.martin@cci-artois.fr", PASSWORD)
    body = adviser.get("/api/v1/conseillers/session").get_json()
    assert body["organisation"]["nom"] == "CCI Artois" and body["conseiller"]["nom"] == "Anne Martin"
    code, out, _ = run(capsys, monkeypatch, "list")
    assert code == 0 and "CCI Artois" in out and "a.martin@cci-artois.fr — Anne Martin" in out


@pytest.mark.parametrize("argv, stdin, message", [
    (["create-organisation", "  "], None, "indiquez le nom"),
    (["create-adviser", "--organisation", "Inconnue", "--email", "x@cci.fr", "--password-stdin"], PASSWORD,
     "aucune organisation ne s'appelle « Inconnue »"),
    (["create-adviser", "--organisation", "CCI Test", "--email", "pas-une-adresse", "--password-stdin"], PASSWORD,
     "n'est pas une adresse"),
    (["create-adviser", "--organisation", "CCI Test", "--email", "x@cci.fr", "--password-stdin"], "court",
     "au moins 12 caractères"),
    (["create-adviser", "--organisation", "CCI Test", "--email", "x@cci.fr", "--password-stdin"], "",
     "l'entrée standard est vide"),
    (["create-adviser", "--organisation", "CCI Test", "--email", "x@cci.fr"], PASSWORD,
     "pas de terminal pour le demander ; utilisez --password-stdin"),
    (["set-password", "--email", "personne@cci.fr", "--password-stdin"], PASSWORD, "aucun conseiller"),
])
def test_errors_are_one_french_line_with_status_2(database, capsys, monkeypatch, argv, stdin, message):
    assert run(capsys, monkeypatch, "create-organisation", "CCI Test")[0] == 0
    code, out, err = run(capsys, monkeypatch, *argv, stdin=stdin)
    assert code == 2 and typographie(message) in err and err.startswith("Erreur\u00a0: ") and err.count("\n") == 1, err


def test_no_duplicates(database, capsys, monkeypatch):
    assert run(capsys, monkeypatch, "create-organisation", "CCI Test")[0] == 0
    code, _, err = run(capsys, monkeypatch, "create-organisation", "cci  test")
    assert code == 2 and "existe déjà" in err
    argv = ["create-adviser", "--organisation", "CCI Test", "--email", "x@cci.fr", "--password-stdin"]
    assert run(capsys, monkeypatch, *argv, stdin=PASSWORD)[0] == 0
    code, _, err = run(capsys, monkeypatch, *argv, stdin=PASSWORD)
    assert code == 2 and "déjà l'adresse x@cci.fr" in err


def test_password_is_asked_twice_on_a_terminal(database, capsys, monkeypatch):
    import getpass

    assert run(capsys, monkeypatch, "create-organisation", "CCI Test")[0] == 0
    answers = iter([PASSWORD, PASSWORD + "!"])
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": next(answers))

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    from bud_checker.cli import main

    monkeypatch.setattr(sys, "stdin", Terminal())
    code = main(["admin", "create-adviser", "--organisation", "CCI Test", "--email", "t@cci.fr"])
    assert code == 2 and "les deux saisies diffèrent" in capsys.readouterr().err
    answers = iter([PASSWORD, PASSWORD])
    code = main(["admin", "create-adviser", "--organisation", "CCI Test", "--email", "t@cci.fr"])
    assert code == 0


def test_set_password_and_deactivate_end_the_sessions(database, capsys, monkeypatch):
    run(capsys, monkeypatch, "create-organisation", "CCI Test")
    run(capsys, monkeypatch, "create-adviser", "--organisation", "CCI Test", "--email", "x@cci.fr", "--password-stdin",
        stdin=PASSWORD)
    app = app_for(database)
    session = AdviserClient(app, "x@cci.fr", PASSWORD)
    new = "un autre mot de passe long"
    code, out, _ = run(capsys, monkeypatch, "set-password", "--email", "X@cci.fr", "--password-stdin", stdin=new)
    assert code == 0 and "sessions ouvertes sont fermées" in out
    assert session.get("/conseillers/dossiers").status_code == 302
    session = AdviserClient(app, "x@cci.fr", new)
    assert run(capsys, monkeypatch, "deactivate-adviser", "--email", "x@cci.fr")[0] == 0
    assert session.get("/conseillers/dossiers").status_code == 302
    assert AdviserClient(app, "x@cci.fr", new, login=False).login().status_code == 401
    assert "[désactivé]" in run(capsys, monkeypatch, "list")[1]
    assert run(capsys, monkeypatch, "deactivate-adviser", "--email", "x@cci.fr", "--reactiver")[0] == 0
    assert AdviserClient(app, "x@cci.fr", new, login=False).login().status_code == 303


def test_the_installed_command(tmp_path):
    """`bud-checker admin` is registered on the real entry point, and migrates a fresh database first."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite3'}", "BUD_ENV": "test",
           "SECRET_KEY": "cli-tests"}
    command = [sys.executable, "-m", "bud_checker", "admin", "create-organisation", "CCI Littoral"]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Organisation créée\u00a0: CCI Littoral" in result.stdout
    help_text = subprocess.run([sys.executable, "-m", "bud_checker", "admin", "--help"], capture_output=True,
                               text=True, env=env, timeout=120).stdout
    for command in ("create-organisation", "create-adviser", "set-password", "deactivate-adviser", "list"):
        assert command in help_text
