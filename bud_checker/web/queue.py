"""Batches on a task queue (huey): an upload stores the file and answers at once; a worker checks its lines.

    BUD_QUEUE_URL   where the queue lives. Default: an SQLite file beside the database (or instance/taches.sqlite3
                    for another database): no extra service, for one machine. `redis://host:6379/1` when several
                    machines share the work (each runs `bud-checker worker`).
    BUD_QUEUE_WORKERS  workers started by `bud-checker serve` beside gunicorn (default 1; 0: none, the work is
                    done by `bud-checker worker` elsewhere).

The queue's name is derived from the database URL, so that two sites (or two test servers) sharing a queue file
or a Redis never take each other's batches.

A batch goes `en_attente` -> `en_cours` -> `termine`, or `echec` with a French reason (`raison_echec`):
- a file that cannot be read as a whole (no header, too many lines...) fails at once, without retry;
- an unexpected error is retried (BATCH_ATTEMPTS in all), then fails;
- a worker killed mid-batch (its batch stays `en_cours` and stops reporting progress for STALE_AFTER seconds):
  `recover_interrupted` queues it again while attempts remain, else marks it `echec`. It runs when a worker
  starts and then every STALE_AFTER / 2 seconds (30 at most) in every worker.
Progress (`lignes_faites`, `lignes_total`, `maj_le`) is written at most every PROGRESS_SECONDS.

Tests without a server (`BUD_ENV=test` and no BUD_QUEUE_URL) run tasks at once, within the request (huey's
immediate mode).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from huey import Huey, RedisHuey, SqliteHuey

if TYPE_CHECKING:
    from flask import Flask
log = logging.getLogger(__name__)

BATCH_ATTEMPTS = 3
STALE_AFTER = 90  # seconds without progress: the worker of an «en_cours» batch is gone (BUD_BATCH_STALE_SECONDS)
PROGRESS_SECONDS = 1.0
REASON_INTERRUPTED = ("Le traitement du lot a été interrompu à {fait} lignes sur {total} (arrêt du processus de "
                      "vérification) et n'a pas pu reprendre après {tentatives} tentatives. Renvoyez le fichier ; si "
                      "l'échec se répète, signalez-le à l'administrateur du site.")
REASON_UNEXPECTED = ("Une erreur inattendue a empêché la vérification du lot ({tentatives} tentatives). Renvoyez le "
                     "fichier ; si l'échec se répète, signalez-le à l'administrateur du site.")


def queue_url(environ: dict[str, str] | None = None) -> str:
    from .config import INSTANCE_DIR, default_database_url

    environ = os.environ if environ is None else environ
    explicit = (environ.get("BUD_QUEUE_URL") or "").strip()
    if explicit:
        return explicit
    database = environ.get("DATABASE_URL") or default_database_url()
    if database.startswith("sqlite:///") and database != "sqlite:///:memory:":
        path = Path(database.removeprefix("sqlite:///"))
        return f"sqlite:///{path.with_name(path.stem + '.taches.sqlite3')}"
    return f"sqlite:///{INSTANCE_DIR / 'taches.sqlite3'}"


def queue_name(environ: dict[str, str] | None = None) -> str:
    from .config import default_database_url, normalize_database_url

    environ = os.environ if environ is None else environ
    database = normalize_database_url(environ.get("DATABASE_URL") or default_database_url())
    return "bud-" + hashlib.sha256(database.encode()).hexdigest()[:12]


def make_huey(environ: dict[str, str] | None = None) -> Huey:
    environ = os.environ if environ is None else environ
    name = queue_name(environ)
    immediate = environ.get("BUD_ENV") == "test" and not environ.get("BUD_QUEUE_URL")
    url = queue_url(environ)
    if immediate:
        return Huey(name, immediate=True)
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey(name, url=url)
    if url.startswith("sqlite:///"):
        from .config import private_sqlite_file

        path = url.removeprefix("sqlite:///")
        private_sqlite_file(path)
        return SqliteHuey(name, filename=path)
    raise RuntimeError(f"BUD_QUEUE_URL : « {url} » n'est pas admis ; attendu sqlite:///chemin ou redis://hôte:port/n.")


huey = make_huey()


# --- the application the worker uses ----------------------------------------------------------------------------

_APP_LOCK = threading.Lock()
_WORKER_APP: Any = None


def _application() -> Flask:
    """The Flask application of the request (immediate mode), or one per worker process, from the environment."""
    from flask import current_app, has_app_context

    global _WORKER_APP
    if has_app_context():
        return current_app._get_current_object()
    with _APP_LOCK:
        if _WORKER_APP is None:
            from . import create_app

            _WORKER_APP = create_app()
        return _WORKER_APP


def _in_app(work: Callable[[], Any]) -> Any:
    from flask import has_app_context

    if has_app_context():
        return work()
    with _application().app_context():
        return work()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


# --- the tasks -------------------------------------------------------------------------------------------------

def enqueue(batch_id: str) -> None:
    check_batch(batch_id)


@huey.task(retries=0, context=True)
def check_batch(batch_id: str, task: Any = None) -> str:
    return _in_app(lambda: _check(batch_id))


def _check(batch_id: str) -> str:
    from ..batch import BatchError
    from .advisers.models import Batch
    from .advisers.services import store_batch_results, unpack
    from .extensions import db

    batch = db.session.get(Batch, batch_id)
    if batch is None or batch.fini:
        return "absent" if batch is None else batch.etat
    batch.etat, batch.tentatives, batch.maj_le = "en_cours", (batch.tentatives or 0) + 1, _now()
    batch.lignes_faites = 0
    db.session.commit()
    last = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] < PROGRESS_SECONDS and done < total:
            return
        last[0] = now
        db.session.execute(db.update(Batch).where(Batch.id == batch_id)
                           .values(lignes_faites=done, lignes_total=total, maj_le=_now()))
        db.session.commit()

    try:
        store_batch_results(batch, unpack(batch.fichier_source), progress)
    except BatchError as problem:  # the file as a whole: no retry would change it
        db.session.rollback()
        _fail(batch_id, _capitalized(str(problem)))
        return "echec"
    except Exception:  # logged; retried by recover_interrupted while attempts remain
        db.session.rollback()
        log.exception("batch %s: unexpected error (attempt %s)", batch_id, batch.tentatives)
        batch = db.session.get(Batch, batch_id)
        if batch.tentatives >= BATCH_ATTEMPTS:
            _fail(batch_id, REASON_UNEXPECTED.format(tentatives=batch.tentatives))
            return "echec"
        batch.etat, batch.maj_le = "en_attente", _now()
        db.session.commit()
        check_batch.schedule((batch_id,), delay=5)
        return "en_attente"
    log.info("batch %s done: %s lines", batch_id, batch.lignes_total)
    return "termine"


def _capitalized(message: str) -> str:
    return message[:1].upper() + message[1:]


def _fail(batch_id: str, reason: str) -> None:
    from .advisers.models import Batch
    from .extensions import db

    db.session.execute(db.update(Batch).where(Batch.id == batch_id)
                       .values(etat="echec", raison_echec=reason, maj_le=_now(), termine_le=_now()))
    db.session.commit()


def stale_after() -> float:
    try:
        return max(1.0, float(os.environ.get("BUD_BATCH_STALE_SECONDS", STALE_AFTER)))
    except ValueError:
        return float(STALE_AFTER)


def recover_interrupted(stale_seconds: float | None = None) -> list[str]:
    """Batches left «en_cours» by a worker that stopped (killed, machine restarted): queued again while attempts
    remain, else «echec» with a French reason. Returns the ids handled."""
    from sqlalchemy import select

    from .advisers.models import Batch
    from .extensions import db

    def work() -> list[str]:
        limit = _now() - dt.timedelta(seconds=stale_seconds if stale_seconds is not None else stale_after())
        stale = db.session.execute(select(Batch).where(Batch.etat == "en_cours", Batch.maj_le < limit)
                                   .with_for_update(skip_locked=True, of=Batch)).scalars().all()
        handled = []
        for batch in stale:
            handled.append(batch.id)
            if (batch.tentatives or 0) >= BATCH_ATTEMPTS:
                batch.etat, batch.termine_le = "echec", _now()
                batch.raison_echec = REASON_INTERRUPTED.format(fait=batch.lignes_faites or 0,
                                                               total=batch.lignes_total or "?",
                                                               tentatives=batch.tentatives)
                log.warning("batch %s interrupted %s times: failed", batch.id, batch.tentatives)
            else:
                batch.etat, batch.maj_le = "en_attente", _now()
                log.warning("batch %s interrupted (attempt %s): queued again", batch.id, batch.tentatives)
        db.session.commit()
        for batch_id in handled:
            if db.session.get(Batch, batch_id).etat == "en_attente":
                check_batch(batch_id)
        return handled

    return _in_app(work)


def _watch_interrupted() -> None:
    """In every worker: look for interrupted batches every half STALE_AFTER (at most every 30 s)."""
    pause = min(30.0, stale_after() / 2)
    while True:
        time.sleep(pause)
        try:
            recover_interrupted()
        except Exception:  # logged: the database is down, try again later
            log.warning("could not look for interrupted batches", exc_info=True)


# --- the worker ----------------------------------------------------------------------------------------------

def run_worker(workers: int = 1, nice: int = 10) -> None:
    """Run huey's consumer in this process (`bud-checker worker`), below the web server's priority so that the
    pages keep answering while batches are checked."""
    try:
        os.nice(nice)
    except OSError:  # pragma: no cover - not allowed: run at the normal priority
        pass
    app = _application()  # the application and the rules loaded before the first batch
    try:
        recover_interrupted()
    except Exception:  # logged: the database may not be up yet, the periodic task will do it
        log.warning("could not look for interrupted batches at start-up", exc_info=True)
    from .extensions import db

    with app.app_context():
        db.engine.dispose()  # no connection shared with the worker processes forked below
    threading.Thread(target=_watch_interrupted, daemon=True, name="interrupted-batches").start()
    consumer = huey.create_consumer(workers=workers, worker_type="thread" if workers == 1 else "process",
                                    periodic=False, initial_delay=0.1, backoff=1.15, max_delay=1.0)
    consumer.run()
