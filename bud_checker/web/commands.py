"""`bud-checker serve` and `bud-checker db-upgrade`: registered on the CLI (bud_checker.cli._EXTENSIONS).

`serve` brings the database to the latest Alembic revision (creating it on first run: an SQLite file under
instance/ unless DATABASE_URL says otherwise), prints the URL, then replaces itself with gunicorn serving
`wsgi:app`.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from .. import cli
from .config import REPO_ROOT

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
        "--chdir", str(REPO_ROOT),
        "--bind", f"{host}:{port}",
        "--workers", str(workers),
        "--timeout", "30",
        "--graceful-timeout", "10",
        "--forwarded-allow-ips", forwarded_allow_ips(environ),
        "--access-logfile", "-",
        "--access-logformat", FORMAT,
        "--logger-class", "bud_checker.web.accesslog.PrivateAccessLogger",
        "--config", "python:bud_checker.web.gunicorn_conf",  # starts and stops the batch workers
        "wsgi:app",
    ]


def display_url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else (f"[{host}]" if ":" in host and not host.startswith("[") else host)
    return f"http://{shown}:{port}/"


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"« {text} » n'est pas un numéro de port") from None
    if not 0 < value < 65536:
        raise argparse.ArgumentTypeError(f"{value} : attendu un port de 1 à 65535")
    return value


def _workers(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"« {text} » n'est pas un nombre de processus") from None
    if not 1 <= value <= 64:
        raise argparse.ArgumentTypeError(f"{value} : attendu de 1 à 64 processus")
    return value


def cmd_serve(args: argparse.Namespace) -> int:
    from .security import secret_key_problem

    problem = secret_key_problem()  # production without SECRET_KEY: refuse before touching anything
    if problem:
        sys.stderr.write(problem + "\n")
        return cli.EXIT_FAILED
    try:
        database = upgrade_database()
    except Exception as error:  # noqa: BLE001 - reported in French, no traceback
        sys.stderr.write(f"Erreur : base de données : migration impossible ({type(error).__name__} : {error}).\n")
        return cli.EXIT_FAILED
    if not _has_module("gunicorn"):
        sys.stderr.write("Erreur : gunicorn n'est pas installé (scripts/bootstrap l'installe).\n")
        return cli.EXIT_FAILED
    print(f"Base de données à jour : {database}", flush=True)
    print(f"BUD Checker : {display_url(args.host, args.port)}  (Ctrl+C pour arrêter)", flush=True)
    argv = gunicorn_argv(args.host, args.port, args.workers)
    if args.lots is not None:
        os.environ["BUD_QUEUE_WORKERS"] = str(args.lots)
    os.environ["BUD_WEB_WORKERS"] = str(args.workers)  # in-memory rate limits are divided among the workers
    if args.dry_run:
        print(" ".join(argv))
        return cli.EXIT_OK
    os.execv(sys.executable, argv)
    return cli.EXIT_FAILED  # pragma: no cover - execv does not return


def _task_workers(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"« {text} » n'est pas un nombre de processus") from None
    if not 0 <= value <= 16:
        raise argparse.ArgumentTypeError(f"{value} : attendu de 0 à 16 processus")
    return value


def cmd_worker(args: argparse.Namespace) -> int:
    """The task queue's consumer: checks the batches uploaded on any machine sharing the queue."""
    import logging

    from .security import secret_key_problem

    problem = secret_key_problem()
    if problem:
        sys.stderr.write(problem + "\n")
        return cli.EXIT_FAILED
    logging.basicConfig(level=logging.INFO, format="[%(asctime)s] [worker %(process)d] %(levelname)s %(name)s: %(message)s")
    from .queue import queue_url, run_worker

    print(f"Vérification des lots : file {_hidden(queue_url())}, {args.processus} processus", flush=True)
    try:
        run_worker(workers=args.processus)
    except KeyboardInterrupt:
        return cli.EXIT_OK
    return cli.EXIT_OK


def _hidden(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True) if "://" in url else url
    except Exception:  # noqa: BLE001 - not an SQLAlchemy-shaped URL (redis://...): shown without its password
        import re

        return re.sub(r"://[^@/]*@", "://***@", url)


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    try:
        database = upgrade_database()
    except Exception as error:  # noqa: BLE001
        sys.stderr.write(f"Erreur : base de données : migration impossible ({type(error).__name__} : {error}).\n")
        return cli.EXIT_FAILED
    print(f"Base de données à jour : {database}")
    return cli.EXIT_OK


def _has_module(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


def register(subparsers: Any) -> None:
    serve = subparsers.add_parser("serve", help="créer ou migrer la base de données puis lancer le site (gunicorn)")
    serve.add_argument("--host", default=DEFAULT_HOST, help=f"adresse d'écoute (défaut : {DEFAULT_HOST})")
    serve.add_argument("--port", type=_port, default=DEFAULT_PORT, help=f"port (défaut : {DEFAULT_PORT})")
    serve.add_argument("--workers", type=_workers, default=DEFAULT_WORKERS,
                       help=f"processus gunicorn (défaut : {DEFAULT_WORKERS})")
    serve.add_argument("--lots", type=_task_workers, default=None,
                       help="processus de vérification des lots lancés avec le site (défaut : BUD_QUEUE_WORKERS ou 1 ; "
                            "0 si d'autres machines lancent bud-checker worker)")
    serve.add_argument("--dry-run", action="store_true", help="migrer la base, afficher la commande gunicorn sans la lancer")
    serve.set_defaults(func=cmd_serve)

    worker = subparsers.add_parser("worker", help="vérifier les lots envoyés (file de tâches) sur cette machine")
    worker.add_argument("--processus", type=_workers, default=1,
                        help="lots vérifiés en parallèle par cette machine (défaut : 1)")
    worker.set_defaults(func=cmd_worker)

    upgrade = subparsers.add_parser("db-upgrade", help="créer ou migrer la base de données (Alembic) sans lancer le site")
    upgrade.set_defaults(func=cmd_db_upgrade)


cli._EXTENSIONS.append(register)
