"""gunicorn hooks of `bud-checker serve` (`--config python:bud_checker.web.gunicorn_conf`): the batch workers of the
task queue (web/queue.py) start with the web server and stop with it.

BUD_QUEUE_WORKERS (default 1) task workers run `bud-checker worker` as children of gunicorn's master; one that
stops unexpectedly is started again (after a pause of RESTART_DELAY seconds); 0 starts none (the batches are then
checked by `bud-checker worker` on other machines, sharing the queue through Redis: BUD_QUEUE_URL=redis://...).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gunicorn.arbiter import Arbiter
RESTART_DELAY = 2.0
_workers: list[subprocess.Popen] = []
_stopping = threading.Event()


def _count() -> int:
    try:
        return max(0, min(16, int(os.environ.get("BUD_QUEUE_WORKERS", "1"))))
    except ValueError:
        return 1


def _start() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "bud_checker.cli", "worker"], env=dict(os.environ))


def _supervise(server: Arbiter, index: int) -> None:
    while not _stopping.is_set():
        process = _workers[index]
        status = process.wait()
        if _stopping.is_set():
            return
        server.log.warning("batch worker %s stopped (status %s): started again", process.pid, status)
        time.sleep(RESTART_DELAY)
        if not _stopping.is_set():
            _workers[index] = _start()


def when_ready(server: Arbiter) -> None:
    for index in range(_count()):
        _workers.append(_start())
        server.log.info("batch worker started: pid %s", _workers[index].pid)
        threading.Thread(target=_supervise, args=(server, index), daemon=True, name=f"batch-worker-{index}").start()


def on_exit(server: Arbiter) -> None:
    _stopping.set()
    for process in _workers:
        if process.poll() is None:
            process.terminate()
    for process in _workers:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
