"""`bud-checker serve` and `bud-checker db-upgrade`: click commands, loaded by the CLI when run
(bud_checker.cli.LAZY_COMMANDS); this module never imports the CLI.

`serve` brings the database to the latest Alembic revision (creating it on first run: an SQLite file under
instance/ unless DATABASE_URL says otherwise), prints the URL, then replaces itself with gunicorn serving
`bud_checker.web.wsgi:app`.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from ..engine.fr import typographie
from ..exits import EXIT_FAILED, EXIT_OK

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_WORKERS = 2


def upgrade_database(config: dict[str, Any] | None = None) -> str:
    """Apply the Alembic migrations up to the latest revision; returns the database URL (password hidden)."""
    from flask_migrate import upgrade
    from sqlalchemy.engine import make_url

    from . import create_app
    from .config import MIGRATIONS_DIR
    from .extensions import init_migrations

    app = create_app({"BUD_WARMUP": False, **(config or {})})
    init_migrations(app)
    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR))
    return make_url(app.config["SQLALCHEMY_DATABASE_URI"]).render_as_string(hide_password=True)


def forwarded_allow_ips(environ: dict[str, str] | None = None) -> str:
    """gunicorn's own trust of X-Forwarded-Proto & co. (its default trusts 127.0.0.1 and ::1): none unless
    BUD_TRUST_PROXY >= 1, then the proxies' addresses (BUD_PROXY_IPS, default the loopback addresses)."""
    from .security import trusted_proxies

    environ = os.environ if environ is None else environ
    if not trusted_proxies(environ):
        return ""
    return (environ.get("BUD_PROXY_IPS") or "127.0.0.1,::1").strip()


def gunicorn_argv(host: str, port: int, workers: int, environ: dict[str, str] | None = None) -> list[str]:
    from .accesslog import FORMAT

    return [
        sys.executable, "-m", "gunicorn",
        "--bind", f"{host}:{port}",
        "--workers", str(workers),
        "--timeout", "30",
        "--graceful-timeout", "10",
        "--forwarded-allow-ips", forwarded_allow_ips(environ),
        "--access-logfile", "-",
        "--access-logformat", FORMAT,
        "--logger-class", "bud_checker.web.accesslog.PrivateAccessLogger",
        "--config", "python:bud_checker.web.gunicorn_conf",  # starts and stops the batch workers
        "bud_checker.web.wsgi:app",
    ]


def display_url(host: str, port: int) -> str:
    if host in ("0.0.0.0", ""):
        shown = "127.0.0.1"
    else:
        shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"http://{shown}:{port}/"


class _Bounded(click.ParamType):
    """An integer in [low, high], refused with a French message."""

    def __init__(self, name: str, what: str, low: int, high: int, unit: str):
        self.name, self.what, self.low, self.high, self.unit = name, what, low, high, unit

    def convert(self, value: Any, param: Any, ctx: Any) -> int:
        if isinstance(value, int):
            number = value
        else:
            try:
                number = int(value)
            except ValueError:
                self.fail(f"« {value} » n'est pas {self.what}", param, ctx)
        if not self.low <= number <= self.high:
            self.fail(f"{number} : attendu {self.unit}", param, ctx)
        return number


PORT = _Bounded("port", "un numéro de port", 1, 65535, "un port de 1 à 65535")
WORKERS = _Bounded("processus", "un nombre de processus", 1, 64, "de 1 à 64 processus")
TASK_WORKERS = _Bounded("processus", "un nombre de processus", 0, 16, "de 0 à 16 processus")
_CONTEXT = {"help_option_names": ["-h", "--help"]}


@click.command(context_settings=_CONTEXT,
               short_help="créer ou migrer la base de données puis lancer le site (gunicorn)")
@click.option("--host", default=DEFAULT_HOST, help=f"adresse d'écoute (défaut : {DEFAULT_HOST})")
@click.option("--port", type=PORT, default=DEFAULT_PORT, help=f"port (défaut : {DEFAULT_PORT})")
@click.option("--workers", type=WORKERS, default=DEFAULT_WORKERS,
              help=f"processus gunicorn (défaut : {DEFAULT_WORKERS})")
@click.option("--lots", type=TASK_WORKERS, default=None,
              help="processus de vérification des lots lancés avec le site (défaut : BUD_QUEUE_WORKERS ou 1 ; "
                   "0 si d'autres machines lancent bud-checker worker)")
@click.option("--dry-run", is_flag=True, help="migrer la base, afficher la commande gunicorn sans la lancer")
def serve(host: str, port: int, workers: int, lots: int | None, dry_run: bool) -> int:
    """Créer ou migrer la base de données puis lancer le site (gunicorn)."""
    from .security import secret_key_problem

    problem = secret_key_problem()  # production without SECRET_KEY: refuse before touching anything
    if problem:
        sys.stderr.write(problem + "\n")
        return EXIT_FAILED
    try:
        database = upgrade_database()
    except Exception as error:  # noqa: BLE001 - reported in French, no traceback
        sys.stderr.write(f"Erreur : base de données : migration impossible ({type(error).__name__} : {error}).\n")
        return EXIT_FAILED
    if not _has_module("gunicorn"):
        sys.stderr.write("Erreur : gunicorn n'est pas installé (scripts/bootstrap l'installe).\n")
        return EXIT_FAILED
    print(typographie(f"Base de données à jour : {database}"), flush=True)
    print(typographie(f"BUD Checker : {display_url(host, port)}  (Ctrl+C pour arrêter)"), flush=True)
    argv = gunicorn_argv(host, port, workers)
    if lots is not None:
        os.environ["BUD_QUEUE_WORKERS"] = str(lots)
    os.environ["BUD_WEB_WORKERS"] = str(workers)  # in-memory rate limits are divided among the workers
    if dry_run:
        print(" ".join(argv))
        return EXIT_OK
    os.execv(sys.executable, argv)
    return EXIT_FAILED  # pragma: no cover - execv does not return


@click.command(context_settings=_CONTEXT, short_help="vérifier les lots envoyés (file de tâches) sur cette machine")
@click.option("--processus", type=WORKERS, default=1, help="lots vérifiés en parallèle par cette machine (défaut : 1)")
def worker(processus: int) -> int:
    """Vérifier les lots envoyés (file de tâches) sur cette machine : le consommateur de la file partagée."""
    import logging

    from .security import secret_key_problem

    problem = secret_key_problem()
    if problem:
        sys.stderr.write(problem + "\n")
        return EXIT_FAILED
    logging.basicConfig(level=logging.INFO,
                        format="[%(asctime)s] [worker %(process)d] %(levelname)s %(name)s: %(message)s")
    from .queue import queue_url, run_worker

    print(typographie(f"Vérification des lots : file {_hidden(queue_url())}, {processus} processus"), flush=True)
    try:
        run_worker(workers=processus)
    except KeyboardInterrupt:
        return EXIT_OK
    return EXIT_OK


def _hidden(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True) if "://" in url else url
    except Exception:  # noqa: BLE001 - not an SQLAlchemy-shaped URL (redis://...): shown without its password
        import re

        return re.sub(r"://[^@/]*@", "://***@", url)


@click.command("db-upgrade", context_settings=_CONTEXT,
               short_help="créer ou migrer la base de données (Alembic) sans lancer le site")
def db_upgrade() -> int:
    """Créer ou migrer la base de données (Alembic) sans lancer le site."""
    try:
        database = upgrade_database()
    except Exception as error:  # noqa: BLE001 - Alembic's or the driver's: reported in French, no traceback
        sys.stderr.write(f"Erreur : base de données : migration impossible ({type(error).__name__} : {error}).\n")
        return EXIT_FAILED
    print(typographie(f"Base de données à jour : {database}"))
    return EXIT_OK


def _has_module(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None
