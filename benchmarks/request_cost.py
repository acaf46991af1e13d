"""CPU time per request, in-process: POST /api/v1/verifications against hello-world routes, and its parts.

    .venv/bin/python benchmarks/request_cost.py              # the table below, 3,000 requests a series
    .venv/bin/python benchmarks/request_cost.py --requests 10000
    .venv/bin/python benchmarks/request_cost.py --profile    # + cProfile of the POST series, by cumulative time
    .venv/bin/python benchmarks/request_cost.py --instructions   # CPU instructions per request (valgrind)

Why: on a machine shared with other jobs, wrk's requests per second say more about the neighbours than about the
code. CPU time (`time.process_time`, this process only) per request does not depend on them. Each request is
handed to the WSGI application directly (a prepared environ, a fresh body stream; no test client, no socket), as
gunicorn's sync worker would, under the production settings `bud-checker serve` uses (BUD_ENV=production, rate
limits on at a level the load cannot reach, a temporary SQLite database in WAL mode, migrated by Alembic).

Series:
    hello-world Flask app        benchmarks/hello_app.py, POST /api/v1/verifications (what benchmarks/run.py --only
                                 hello serves with gunicorn beside ours)
    BUD app, hello route         a route added to our application that reads the JSON body and answers a small JSON
                                 document: our middleware, hooks, headers and session handling, no engine or database
    BUD POST /verifications      the real creation: evaluate, to_dict, INSERT + COMMIT, the 201 answer
then the parts of a creation measured alone (evaluate, to_dict, orjson of the verdict, the database row).

The ratio hello-world CPU / BUD CPU predicts the throughput ratio of `benchmarks/run.py --only hello` on a quiet
machine, where the CPU is the bottleneck; gunicorn's own cost per request (HTTP parsing, access log) and wrk's are
the same for both servers and bring the measured ratio closer to 1.

CPU time still moves by 20-40 % from run to run on a shared two-core virtual machine (the neighbours share the
caches and the cores' other threads). `--instructions` counts the instructions each request executes instead, under
valgrind's callgrind (Debian package `valgrind`), which does not depend on the neighbours at all: the process is
started again under callgrind with instrumentation off, and each series is counted alone (`callgrind_control`
switches it on and off around R and then 2R requests; the difference over R is the count per request, free of the
cost of switching). About 50 times slower than native: a few minutes.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

UNLIMITED = "1000000 per minute"


def production_environment(database_url: str) -> None:
    os.environ.update({
        "BUD_ENV": "production", "SECRET_KEY": "b" * 48, "BUD_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": database_url, "BUD_RATE_LIMIT_API": UNLIMITED, "BUD_RATE_LIMIT_API_READ": UNLIMITED,
        "BUD_RATE_LIMIT_FORM": UNLIMITED,
    })


def environs(path: str, bodies: list[bytes]) -> list[dict[str, Any]]:
    """One WSGI environ per body, as gunicorn builds it for a POST of JSON to 127.0.0.1."""
    from werkzeug.test import EnvironBuilder

    made = []
    for body in bodies:
        builder = EnvironBuilder(path=path, method="POST", data=body, content_type="application/json",
                                 base_url="http://127.0.0.1:8000", environ_base={"REMOTE_ADDR": "127.0.0.1"})
        environ = builder.get_environ()
        environ.pop("wsgi.input")
        made.append(environ)
    return made


def call(app: Callable, environ: dict[str, Any], body: bytes) -> str:
    """One request through the WSGI application; returns the status line."""
    status: list[str] = []

    def start_response(line: str, headers: list, exc_info: Any = None) -> Callable:
        status.append(line)
        return lambda data: None

    request = dict(environ)
    request["wsgi.input"] = io.BytesIO(body)
    result = app(request, start_response)
    try:
        for _ in result:
            pass
    finally:
        close = getattr(result, "close", None)
        if close:
            close()
    return status[0]


def _callgrind(*args: str) -> None:
    import subprocess

    subprocess.run(["callgrind_control", *args, str(os.getpid())], check=True, capture_output=True)


def _dumped_instructions() -> int:
    """Instructions of the last callgrind dump of this process (callgrind.out.<pid>.<n>, its «summary:» line)."""
    dumps = sorted(Path(os.environ["BENCH_CALLGRIND_DIR"]).glob(f"callgrind.out.{os.getpid()}.*"),
                   key=lambda path: int(path.suffix[1:]))
    for line in dumps[-1].read_text().splitlines():
        if line.startswith("totals:"):  # («summary:» counts the events of the part instrumented at start: none)
            return int(line.split()[1])
    raise RuntimeError(f"no instruction count in {dumps[-1]}")


def instructions_per_call(function: Callable[[int], Any], count: int) -> float:
    """Instructions per call under callgrind: (I(2 x count) - I(count)) / count, in thousands, after a first pass
    uncounted (the engine's memo caches then hold these situations, as in the CPU-time series' best round)."""
    for index in range(2 * count):
        function(index)
    measured = []
    for calls in (count, 2 * count):
        gc.collect()
        _callgrind("-z")
        _callgrind("-i", "on")
        for index in range(calls):
            function(index)
        _callgrind("-i", "off")
        _callgrind("-d")
        measured.append(_dumped_instructions())
    return (measured[1] - measured[0]) / count / 1000


def cpu_per_call(function: Callable[[int], Any], count: int, rounds: int = 3) -> float:
    """Best of `rounds` of the CPU time of `count` calls, in milliseconds per call."""
    best = float("inf")
    for _ in range(rounds):
        gc.collect()
        start = time.process_time()
        for index in range(count):
            function(index)
        best = min(best, time.process_time() - start)
    return best / count * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--instructions", action="store_true", help="count instructions under valgrind (callgrind)")
    args = parser.parse_args()
    if args.instructions and "BENCH_CALLGRIND_DIR" not in os.environ:
        import subprocess

        out = tempfile.mkdtemp(prefix="bud-callgrind-")
        requests = args.requests if args.requests != 3000 else 200
        return subprocess.run(["valgrind", "--tool=callgrind", "--instr-atstart=no",
                               f"--callgrind-out-file={out}/callgrind.out.%p", sys.executable, __file__,
                               "--instructions", "--requests", str(requests)],
                              env={**os.environ, "BENCH_CALLGRIND_DIR": out}, stderr=subprocess.DEVNULL).returncode
    measure = instructions_per_call if args.instructions else cpu_per_call
    unit = "k instr." if args.instructions else "ms"
    work = Path(tempfile.mkdtemp(prefix="bud-cost-"))
    production_environment(f"sqlite:///{work / 'cost.sqlite3'}")
    import logging

    logging.disable(logging.WARNING)  # Alembic's progress lines
    from bud_checker.web.commands import upgrade_database

    upgrade_database()
    logging.disable(logging.NOTSET)

    from flask import jsonify, request
    from situations import situations

    import hello_app
    from bud_checker.engine.verdict import evaluate
    from bud_checker.web import create_app
    from bud_checker.web.extensions import csrf
    from bud_checker.web.jsonio import dumps

    app = create_app()

    @app.post("/api/v1/bonjour")
    def bonjour():  # the hello-world route inside our application
        return jsonify({"bonjour": "le monde", "taille": len(request.get_json(silent=True) or {})}), 201

    csrf.exempt(bonjour)  # as the public API is
    cases = situations(1000)
    bodies = [json.dumps(s, separators=(",", ":"), ensure_ascii=False).encode() for s in cases]
    count = args.requests
    post_env = environs("/api/v1/verifications", bodies)
    hello_env = environs("/api/v1/bonjour", bodies)
    statuses = {call(app, post_env[i], bodies[i])[:3] for i in range(len(bodies))}  # warm-up (memo caches)
    assert statuses <= {"201", "422"}, statuses
    assert call(app, hello_env[0], bodies[0]).startswith("201")
    assert call(hello_app.app, post_env[0], bodies[0]).startswith("201")

    def post(i: int) -> None:
        call(app, post_env[i % 1000], bodies[i % 1000])

    rows: list[tuple[str, float]] = []
    rows.append(("hello-world Flask app, POST", measure(
        lambda i: call(hello_app.app, post_env[i % 1000], bodies[i % 1000]), count)))
    rows.append(("BUD app, hello route (POST JSON)", measure(
        lambda i: call(app, hello_env[i % 1000], bodies[i % 1000]), count)))
    rows.append(("BUD POST /api/v1/verifications", measure(post, count)))
    rows.append(("  part: evaluate", measure(lambda i: evaluate(cases[i % 1000]), count)))
    rows.append(("  part: evaluate + to_dict", measure(lambda i: evaluate(cases[i % 1000]).to_dict(), count)))
    rows.append(("  part: evaluate + to_dict + orjson", measure(
        lambda i: dumps(evaluate(cases[i % 1000]).to_dict()), count)))
    from bud_checker.web.services import record_verification

    with app.test_request_context():
        rows.append(("  part: record_verification (+ INSERT, COMMIT)", measure(
            lambda i: record_verification(cases[i % 1000], canal="api"), count)))

    hello, ours = rows[0][1], rows[2][1]
    if args.instructions:
        print(f"Instructions per request (callgrind, {count:,} and {2 * count:,} requests a series), thousands")
    else:
        print(f"CPU time per request, best of 3 x {count:,} requests (ms)")
    for name, value in rows:
        print(f"  {name:<50} {value:10.3f} {unit}")
    print(f"  {'hello-world / BUD POST':<50} {hello / ours:10.3f} x   (target > 0.33)")
    print(f"  {'BUD hello route / BUD POST':<50} {rows[1][1] / ours:10.3f} x")
    if args.profile:
        import cProfile
        import pstats

        profile = cProfile.Profile()
        profile.runcall(lambda: [post(i) for i in range(count)])
        stats = pstats.Stats(profile)
        stats.sort_stats("cumulative").print_stats(45)
        print("Own time (tottime) by package or module:")
        by_package: dict[str, float] = {}
        for (filename, _, name), (_, _, own, _, _) in stats.stats.items():  # type: ignore[attr-defined]  # not in typeshed
            if "site-packages/" in filename:
                key = filename.split("site-packages/")[1].split("/")[0]
            elif str(ROOT) in filename:
                key = filename.removeprefix(str(ROOT) + "/")
            else:
                key = Path(filename).name if "/" in filename else name
            by_package[key] = by_package.get(key, 0.0) + own
        total = sum(by_package.values())
        for key, own in sorted(by_package.items(), key=lambda item: -item[1])[:25]:
            print(f"  {key:<60} {own / count * 1000:7.3f} ms  {own / total:6.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
