"""HTTP benchmark: the real server (`bud-checker serve --workers 2`, i.e. gunicorn on wsgi:app) on a free loopback
port, driven by wrk (Debian package `wrk`; scripts/system-deps installs it).

    POST /api/v1/verifications   JSON bodies taken in turn from the 1,000 benchmark situations (Lua script)
    GET  /                       the form's first page
at 1, 16 and 64 connections, for a bounded duration each; wrk's --latency output is parsed into throughput,
p50, p99 and errors (non-2xx/3xx responses + socket errors). Then the resident memory of each gunicorn worker
is read from /proc.

The server runs on a temporary SQLite database (WAL). With BENCH_DATABASE_URL=postgresql://... the POST series
runs a second time against that database (a variable of its own, not DATABASE_URL, so that a benchmark never
writes into a database configured for something else). Rate limits stay on, at a level the load cannot reach,
so that their cost is measured.

The helpers (Server, run_wrk, post_script, ...) are also used by the load and fault tests
(tests/test_reliability_load.py).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
WRK = shutil.which("wrk") or "/usr/bin/wrk"
UNLIMITED = "1000000 per minute"


# --- the server ---------------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_environment(database_url: str, **extra: str) -> dict[str, str]:
    """A production environment for a throw-away server: its own secret, no inherited database or limits."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("BUD_", "RATELIMIT_", "DATABASE_URL", "SECRET_KEY", "FLASK_"))}
    env.update({
        "BUD_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "BUD_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": database_url,
        "BUD_RATE_LIMIT_API": UNLIMITED,
        "BUD_RATE_LIMIT_API_READ": UNLIMITED,
        "BUD_RATE_LIMIT_FORM": UNLIMITED,
        "PYTHONUNBUFFERED": "1",
    })
    env.update(extra)
    return env


@dataclass
class Server:
    """`bud-checker serve` in its own process group; `stop()` ends the whole group."""

    env: dict[str, str]
    workers: int = 2
    port: int = field(default_factory=free_port)
    log_path: Path | None = None
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> "Server":
        if self.log_path is None:
            self.log_path = Path(tempfile.mkstemp(prefix="bud-serve-", suffix=".log")[1])
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bud_checker.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port),
             "--workers", str(self.workers)],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server stopped (status {self.process.returncode}):\n{self.log()}")
            if len(self.worker_pids()) == self.workers and self._answers():
                # Every worker imported the application (a request reached one): give the others a moment.
                for _ in range(4 * self.workers):
                    self._answers()
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the server did not answer within {timeout:g} s:\n{self.log()}")

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/api/v1/openapi.json", timeout=5) as response:
                return response.status == 200
        except (OSError, urllib.error.URLError):
            return False

    def log(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-5000:] if self.log_path else ""
        except OSError:
            return ""

    def worker_pids(self) -> list[int]:
        """The gunicorn workers: the children of the master (the process `serve` replaced itself with), less the
        batch workers it started (`bud-checker worker`)."""
        if self.process is None:
            return []
        return [pid for pid in children(self.process.pid) if not _is_batch_worker(pid)]

    def batch_worker_pids(self) -> list[int]:
        """The batch workers of the task queue started with the server."""
        if self.process is None:
            return []
        return [pid for pid in children(self.process.pid) if _is_batch_worker(pid)]

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)

    def __enter__(self) -> "Server":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _is_batch_worker(pid: int) -> bool:
    try:
        return b"bud_checker.cli\x00worker" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces and parentheses, so split after the last ")".
        fields = stat[stat.rfind(")") + 2:].split()
        if len(fields) > 1 and int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry))
    return sorted(found)


def rss_mb(pid: int) -> tuple[float, float]:
    """(current, peak) resident memory of a process, in MB (VmRSS and VmHWM of /proc/<pid>/status)."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024
    return values.get("VmRSS", 0.0), values.get("VmHWM", 0.0)


def private_mb(pid: int) -> tuple[float, float]:
    """(PSS, USS) of a process in MB, from /proc/<pid>/smaps_rollup: its proportional share of the pages it shares
    (libraries, and with it the memory shared with the other workers), and the pages that are its own."""
    values: dict[str, float] = {}
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("Pss", "Private_Clean", "Private_Dirty"):
                values[key] = int(rest.split()[0]) / 1024
    except OSError:
        return 0.0, 0.0
    return values.get("Pss", 0.0), values.get("Private_Clean", 0.0) + values.get("Private_Dirty", 0.0)


# --- wrk ------------------------------------------------------------------------------------------------------

def _lua_string(text: str) -> str:
    level = "=" * 3
    while f"]{level}]" in text:
        level += "="
    return f"[{level}[{text}]{level}]"


def post_script(bodies: list[str], path: str = "/api/v1/verifications", record_to: str | None = None) -> str:
    """A wrk Lua script posting `bodies` in turn (each thread starting elsewhere in the list). With `record_to`,
    every 201 response body is appended, one per line, to `<record_to>.<thread>` (compact JSON has no newline)."""
    lines = ["local bodies = {", *(_lua_string(b) + "," for b in bodies), "}",
             "local requests, counter, out = {}, 0, nil",
             "local next_id = 1",
             "function setup(thread)",
             "  thread:set('tid', next_id)",
             "  next_id = next_id + 1",
             "end",
             "function init(args)",
             "  for i, body in ipairs(bodies) do",
             f"    requests[i] = wrk.format('POST', {_lua_string(path)}, "
             "{['Content-Type'] = 'application/json'}, body)",
             "  end",
             "  counter = ((tid or 1) - 1) * 331",
             "end",
             "function request()",
             "  counter = counter % #requests + 1",
             "  return requests[counter]",
             "end"]
    if record_to:
        lines += ["function response(status, headers, body)",
                  "  if status == 201 then",
                  "    if out == nil then",
                  f"      out = io.open({_lua_string(record_to)} .. '.' .. tostring(tid or 0), 'a')",
                  "      out:setvbuf('no')",
                  "    end",
                  "    out:write(body .. '\\n')",
                  "  end",
                  "end"]
    return "\n".join(lines) + "\n"


@dataclass
class WrkResult:
    connections: int
    duration_s: float
    requests: int
    throughput: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: dict[str, int]
    output: str

    @property
    def errors(self) -> int:
        return self.non_2xx + sum(self.socket_errors.values())


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text.strip())
    if not match:
        raise ValueError(f"unreadable wrk latency {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_wrk(output: str, connections: int) -> WrkResult:
    """The figures of `wrk --latency` output."""
    def grab(pattern: str, default: str | None = None) -> str:
        match = re.search(pattern, output)
        if match is None:
            if default is not None:
                return default
            raise ValueError(f"wrk output without {pattern!r}:\n{output}")
        return match.group(1)

    done = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m|h)", output)
    if done is None:
        raise ValueError(f"wrk output without a request count:\n{output}")
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    socket_errors = dict(zip(("connect", "read", "write", "timeout"), map(int, sockets.groups()))) if sockets else \
        {"connect": 0, "read": 0, "write": 0, "timeout": 0}
    return WrkResult(
        connections=connections,
        duration_s=_ms(done.group(2) + done.group(3)) / 1000,
        requests=int(done.group(1)),
        throughput=float(grab(r"Requests/sec:\s+([\d.]+)")),
        p50_ms=_ms(grab(r"\n\s+50%\s+(\S+)")),
        p99_ms=_ms(grab(r"\n\s+99%\s+(\S+)")),
        non_2xx=int(grab(r"Non-2xx or 3xx responses: (\d+)", "0")),
        socket_errors=socket_errors,
        output=output,
    )


def run_wrk(url: str, connections: int, duration: float, script: str | None = None, timeout_s: float = 5,
            threads: int | None = None) -> WrkResult:
    """wrk on `url` with `connections` connections for `duration` seconds (a Lua script text, optionally)."""
    threads = threads or min(connections, 2)
    args = [WRK, "--latency", "-t", str(threads), "-c", str(connections), "-d", f"{max(1, round(duration))}s",
            "--timeout", f"{max(1, round(timeout_s))}s"]
    script_path = None
    if script is not None:
        handle, script_path = tempfile.mkstemp(prefix="bud-wrk-", suffix=".lua")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(script)
        args += ["-s", script_path]
    try:
        done = subprocess.run(args + [url], capture_output=True, text=True, timeout=duration + 60)
    finally:
        if script_path:
            os.unlink(script_path)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr}{done.stdout}")
    return parse_wrk(done.stdout, connections)


def situation_bodies(count: int = 1000) -> list[str]:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from situations import situations

    return [json.dumps(s, separators=(",", ":"), ensure_ascii=False) for s in situations(count)]


# --- the benchmark ----------------------------------------------------------------------------------------------

CONNECTIONS = (1, 16, 64)
P99_TARGET_MS = 50


def bench_http(quick: bool, record: Callable[..., None]) -> None:
    print("HTTP (bud-checker serve --workers 2 = gunicorn on loopback, driven by wrk)")
    if not os.path.exists(WRK):
        print("  wrk not found: install it (scripts/system-deps, Debian package wrk)")
        record("http", "HTTP benchmark (wrk missing)", 0, "", "wrk installed", False)
        return
    duration = 3 if quick else 10
    work = Path(tempfile.mkdtemp(prefix="bud-bench-http-"))
    databases = [("SQLite", f"sqlite:///{work / 'bench.sqlite3'}")]
    if os.environ.get("BENCH_DATABASE_URL"):
        databases.append(("PostgreSQL", os.environ["BENCH_DATABASE_URL"]))
    bodies = situation_bodies()
    try:
        for index, (label, url) in enumerate(databases):
            server = Server(server_environment(url), workers=2, log_path=work / f"serve-{index}.log")
            with server:
                post = post_script(bodies)
                run_wrk(server.url + "/api/v1/verifications", 16, 2, post)  # warm-up, not recorded
                run_wrk(server.url + "/", 16, 2)
                series = [("POST /api/v1/verifications", "/api/v1/verifications", post)]
                if index == 0:
                    series.append(("GET / (form page)", "/", None))
                for name, path, script in series:
                    suffix = "" if index == 0 else f" [{label}]"
                    for connections in CONNECTIONS:
                        result = run_wrk(server.url + path, connections, duration, script)
                        _record_series(record, f"{name}{suffix}", result)
                if index == 0:
                    for number, pid in enumerate(server.worker_pids(), 1):
                        current, peak = rss_mb(pid)
                        pss, uss = private_mb(pid)
                        record("http", f"gunicorn worker {number} RSS after the load", current, "MB",
                               "< 100", peak < 100, peak_mb=round(peak, 1))
                        record("http", f"gunicorn worker {number} private memory (USS)", uss, "MB",
                               pss_mb=round(pss, 1))
    finally:
        shutil.rmtree(work, ignore_errors=True)


class HelloServer(Server):
    """benchmarks/hello_app.py under the gunicorn settings of `bud-checker serve` (same argv, same workers, same
    access log and logger class), the application aside; no batch worker (it has no batches)."""

    def start(self, timeout: float = 60) -> "Server":
        from bud_checker.web.commands import gunicorn_argv

        if self.log_path is None:
            self.log_path = Path(tempfile.mkstemp(prefix="bud-hello-", suffix=".log")[1])
        argv = gunicorn_argv("127.0.0.1", self.port, self.workers, self.env)
        argv[-1:] = ["--chdir", str(ROOT / "benchmarks"), "hello_app:app"]
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(argv, cwd=ROOT / "benchmarks", env={**self.env, "BUD_QUEUE_WORKERS": "0"},
                                        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the hello server stopped:\n{self.log()}")
            try:
                with urllib.request.urlopen(self.url + "/", timeout=5) as response:
                    if response.status == 200 and len(self.worker_pids()) == self.workers:
                        return self
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the hello server did not answer:\n{self.log()}")


HELLO_RATIO_TARGET = 1 / 3


def bench_against_hello(quick: bool, record: Callable[..., None]) -> None:
    """POST /api/v1/verifications at 16 connections on the real server and on a hello-world Flask application
    under the same gunicorn settings, one after the other in the same run; the ratio of their throughputs."""
    print("HTTP against a hello-world Flask application (same gunicorn settings, 2 workers, 16 connections)")
    if not os.path.exists(WRK):
        record("http", "hello comparison (wrk missing)", 0, "", "wrk installed", False)
        return
    duration = 3 if quick else 10
    work = Path(tempfile.mkdtemp(prefix="bud-bench-hello-"))
    bodies = situation_bodies()
    post = post_script(bodies)
    try:
        env = server_environment(f"sqlite:///{work / 'bench.sqlite3'}")
        with Server(dict(env), workers=2, log_path=work / "serve.log") as server:
            run_wrk(server.url + "/api/v1/verifications", 16, 2, post)  # warm-up
            ours, our_cpu = _with_cpu(server, lambda: run_wrk(server.url + "/api/v1/verifications", 16, duration, post))
        with HelloServer(dict(env), workers=2, log_path=work / "hello.log") as hello:
            run_wrk(hello.url + "/api/v1/verifications", 16, 2, post)
            floor, floor_cpu = _with_cpu(hello, lambda: run_wrk(hello.url + "/api/v1/verifications", 16, duration,
                                                                post))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    record("http", "hello-world Flask POST c=16 throughput", floor.throughput, "req/s", errors=floor.errors)
    record("http", "BUD POST /api/v1/verifications c=16 throughput", ours.throughput, "req/s", errors=ours.errors)
    ratio = ours.throughput / floor.throughput if floor.throughput else 0
    record("http", "BUD throughput / hello-world throughput", ratio, "x", "> 0.33", ratio >= HELLO_RATIO_TARGET)
    # The workers' own CPU time per request (user + system, from /proc): what the throughput becomes on a machine
    # whose cores the server has to itself, whatever the neighbours do to the wall-clock rates above.
    ours_ms, floor_ms = our_cpu / max(ours.requests, 1) * 1000, floor_cpu / max(floor.requests, 1) * 1000
    record("http", "hello-world worker CPU per request", floor_ms, "ms")
    record("http", "BUD worker CPU per request", ours_ms, "ms")
    cpu_ratio = floor_ms / ours_ms if ours_ms else 0
    record("http", "hello-world CPU / BUD CPU per request", cpu_ratio, "x", "> 0.33", cpu_ratio >= HELLO_RATIO_TARGET)


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes, in seconds (/proc/<pid>/stat, fields 14 and 15)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        total += int(fields[11]) + int(fields[12])
    return total / ticks


def _with_cpu(server: Server, load: Callable[[], WrkResult]) -> tuple[WrkResult, float]:
    """`load()`'s result and the CPU time the server's web workers spent meanwhile."""
    pids = server.worker_pids()
    before = _cpu_seconds(pids)
    result = load()
    return result, _cpu_seconds(pids) - before


def _record_series(record: Callable[..., None], name: str, result: WrkResult) -> None:
    c = result.connections
    extra = {"requests": result.requests, "duration_s": result.duration_s, "non_2xx": result.non_2xx,
             "socket_errors": result.socket_errors}
    record("http", f"{name} c={c} throughput", result.throughput, "req/s", **extra)
    record("http", f"{name} c={c} p50", result.p50_ms, "ms")
    if c == 16:
        record("http", f"{name} c={c} p99", result.p99_ms, "ms", f"< {P99_TARGET_MS}", result.p99_ms < P99_TARGET_MS)
    else:
        record("http", f"{name} c={c} p99", result.p99_ms, "ms")
    record("http", f"{name} c={c} errors", result.errors, "requests", "0", result.errors == 0)
