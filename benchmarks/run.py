"""BUD Checker benchmarks: engine vs a plain floor, start-up and memory, batch, commune search, HTTP.

Usage (from the repository root, after scripts/bootstrap):
    .venv/bin/python benchmarks/run.py                  # everything
    .venv/bin/python benchmarks/run.py --only engine,search
    .venv/bin/python benchmarks/run.py --quick          # shorter runs (smoke test)

Prints a table (figure, target, met?) and writes benchmarks/results/latest.json.
These are benchmarks, not tests: nothing here fails the test suite.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from situations import situations  # noqa: E402 - after sys.path: benchmarks/ is a folder of scripts

RESULTS: list[dict] = []


def record(section: str, name: str, value: float, unit: str, target: str | None = None, met: bool | None = None,
           **extra) -> None:
    RESULTS.append({"section": section, "figure": name, "value": value, "unit": unit, "target": target,
                    "met": met, **extra})
    flag = "" if met is None else ("  OK" if met else "  NOT MET")
    target_text = f"  (target {target})" if target else ""
    print(f"  {name:<48} {value:>12,.2f} {unit:<10}{target_text}{flag}", flush=True)


def pin_to_one_core() -> set[int] | None:
    """Run on one core (the engine figures are per core); returns the previous affinity, to restore it."""
    if hasattr(os, "sched_setaffinity"):
        try:
            previous = os.sched_getaffinity(0)
            os.sched_setaffinity(0, {sorted(previous)[0]})
            return previous
        except OSError:
            pass
    return None


def restore_affinity(previous: set[int] | None) -> None:
    """Give the other sections (and the processes they start: batch workers, gunicorn, wrk) every core again."""
    if previous and hasattr(os, "sched_setaffinity"):
        try:
            os.sched_setaffinity(0, previous)
        except OSError:
            pass


# --- engine -------------------------------------------------------------------------------------------------

def bench_engine(quick: bool) -> None:
    print("Engine (one core, 1,000 varied situations, explanations included)")
    from baseline import decide

    from bud_checker import evaluate

    cases = situations(1000)
    verdicts = [evaluate(s) for s in cases]  # warm-up, and the agreement check below
    disagreements = sum(1 for s, v in zip(cases, verdicts) if decide(s)[0] != v.statut)
    floor_periods = sum(1 for s, v in zip(cases, verdicts)
                        if [(p[0].isoformat(), p[1].isoformat(), p[2]) for p in decide(s)[1]]
                        != [(p.debut.isoformat(), p.fin.isoformat(), p.taux_exoneration)
                            for p in v.exonerations["impot_benefices"].periodes])
    rounds = 3 if quick else 10

    def timed(function) -> float:
        best = float("inf")
        for _ in range(rounds):
            gc.collect()
            start = time.perf_counter()
            for s in cases:
                function(s)
            best = min(best, time.perf_counter() - start)
        return len(cases) / best

    from bud_checker.web.jsonio import dumps

    engine = timed(evaluate)
    engine_json = timed(lambda s: evaluate(s).to_dict())
    json_verdicts = timed(lambda s: dumps(evaluate(s).to_dict()))  # what the API and the storage write
    stdlib_json = timed(lambda s: json.dumps(evaluate(s).to_dict(), ensure_ascii=False))
    floor = timed(decide)
    record("engine", "engine verdicts/s", engine, "verdicts/s", "> 10,000", engine > 10_000)
    record("engine", "engine verdicts/s incl. to_dict()", engine_json, "verdicts/s")
    record("engine", "JSON verdicts/s (evaluate + to_dict + orjson)", json_verdicts, "verdicts/s", "> 10,000",
           json_verdicts > 10_000)
    json_ratio = engine / json_verdicts
    record("engine", "JSON verdict time / evaluation time", json_ratio, "x", "< 4", json_ratio <= 4)
    record("engine", "JSON verdicts/s with the standard json module", stdlib_json, "verdicts/s")
    douai = dumps(evaluate({"date_creation": "2019-05-14", "commune_insee": "59178", "activite": "commerciale",
                            "origine": "creation_pure", "effectif": 3, "chiffre_affaires": 180000,
                            "total_bilan": 90000}).to_dict())
    record("engine", "typical Douai verdict, JSON size", len(douai) / 1024, "KB")
    record("engine", "floor (plain function) verdicts/s", floor, "verdicts/s")
    ratio = floor / engine
    record("engine", "engine time / floor time", ratio, "x", "< 5", ratio < 5)
    record("engine", "statut disagreements engine vs floor", disagreements, "cases", "0", disagreements == 0)
    record("engine", "schedule disagreements engine vs floor", floor_periods, "cases", "0", floor_periods == 0)
    cold = subprocess.run([sys.executable, "-c", COLD], capture_output=True, text=True, check=True, cwd=ROOT)
    record("engine", "engine verdicts/s, first pass (cold memo caches)", float(cold.stdout), "verdicts/s")
    statuts = {k: sum(1 for v in verdicts if v.statut == k) for k in ("eligible", "non_eligible", "indetermine")}
    print(f"  (mix: {statuts})")


COLD = r"""
import sys, time
sys.path.insert(0, "benchmarks")
from situations import situations
from bud_checker import evaluate
cases = situations(1000, seed=99)
evaluate({"date_creation": "2019-05-14", "commune_insee": "59178"})  # loads rules and communes before timing
start = time.perf_counter()
for s in cases:
    evaluate(s)
print(len(cases) / (time.perf_counter() - start))
"""


# --- start-up and memory ------------------------------------------------------------------------------------

# The peak is VmHWM, this process's own: ru_maxrss also counts, after exec, the peak of the process that started
# it (here the benchmark itself, which has run the engine section by then).
STARTUP = r"""
import time, resource
start = time.perf_counter()
from bud_checker import evaluate
from bud_checker.engine.law import current_rules
from bud_checker.communes import load_reference
current_rules(); load_reference()
evaluate({"date_creation": "2019-05-14", "commune_insee": "59178"})
elapsed = time.perf_counter() - start
try:
    with open("/proc/self/status") as status:
        peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024
except (OSError, StopIteration):
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(elapsed, peak)
"""


def bench_startup(quick: bool) -> None:
    print("Start-up (fresh process: import + rules + commune reference + first verdict)")
    runs = []
    for _ in range(3 if quick else 7):
        out = subprocess.run([sys.executable, "-c", STARTUP], capture_output=True, text=True, check=True, cwd=ROOT)
        elapsed, rss = out.stdout.split()
        runs.append((float(elapsed), float(rss)))
    median = statistics.median(r[0] for r in runs)
    rss = max(r[1] for r in runs)
    record("startup", "start-up time (median)", median, "s", "< 0.5", median < 0.5)
    record("startup", "engine process peak RSS", rss, "MB", "< 100", rss < 100)


# --- batch --------------------------------------------------------------------------------------------------

def bench_batch(quick: bool) -> None:
    lines = 10_000 if quick else 100_000
    print(f"Batch ({lines:,} CSV lines end to end: bud-checker batch IN.csv OUT.csv)")
    import csv

    from bud_checker.engine.situation import KEYS

    work = Path(tempfile.mkdtemp(prefix="bud-bench-"))
    try:
        source = work / "in.csv"
        with source.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(KEYS), delimiter=";")
            writer.writeheader()
            for s in situations(lines, seed=7):
                writer.writerow({k: ("oui" if v is True else "non" if v is False else v) for k, v in s.items()})
        start = time.perf_counter()
        subprocess.run([str(ROOT / ".venv" / "bin" / "bud-checker"), "batch", str(source), str(work / "out.csv"),
                        "--sans-progression"], check=True, capture_output=True, cwd=ROOT)
        elapsed = time.perf_counter() - start
        target = 20 * lines / 100_000
        record("batch", f"batch of {lines:,} lines", elapsed, "s", f"< {target:g}", elapsed < target)
        record("batch", "batch throughput", lines / elapsed, "lines/s")
    finally:
        shutil.rmtree(work, ignore_errors=True)


# --- commune search -----------------------------------------------------------------------------------------

def _p50_p99(samples: list[float]) -> tuple[float, float]:
    samples = sorted(samples)
    return samples[len(samples) // 2], samples[int(len(samples) * 0.99) - 1]


def bench_search(quick: bool) -> None:
    print("Commune search (full national reference)")
    from bud_checker.communes import load_reference

    reference = load_reference()
    queries = ["Douai", "douai", "lievin", "Liévin", "st amand", "saint", "la", "le", "59500", "62300", "75001",
               "59178", "62498", "hénin", "bruay", "Valenciennes", "marseille", "lyon", "pa", "bo", "sa", "ville",
               "roeulx", "aire sur la lys", "Béthune", "BETHUNE", "sur", "mont", "62", "591", "2A004", "Ajaccio"]
    for q in queries:
        reference.search(q)
    samples = []
    for _ in range(20 if quick else 100):
        for q in queries:
            start = time.perf_counter()
            reference.search(q)
            samples.append((time.perf_counter() - start) * 1000)
    p50, p99 = _p50_p99(samples)
    record("search", "commune search p50", p50, "ms")
    record("search", "commune search p99", p99, "ms", "< 5", p99 < 5)

    # What the commune field and /api/v1/communes answer: the basin first, then the reference's matches, and
    # names close to the query when fewer than 8 match (typos: rapidfuzz over the names of similar length).
    from bud_checker.communes import CommuneSuggester
    from bud_checker.engine.law import current_rules
    from bud_checker.engine.zone import basin_codes

    suggester = CommuneSuggester(reference, basin_codes(current_rules()))
    typed = queries + ["bully", "lievn", "valencienes", "bethnue", "marseile", "courieres", "douaii", "hnin beaumont",
                       "bruay la buisiere", "sallaumines", "xqzwk", "noyelle"]
    for q in typed:
        suggester.suggest(q, 8)
    samples = []
    for _ in range(20 if quick else 100):
        for q in typed:
            start = time.perf_counter()
            suggester.suggest(q, 8)
            samples.append((time.perf_counter() - start) * 1000)
    p50, p99 = _p50_p99(samples)
    record("search", "commune suggestions p50 (basin first, typos)", p50, "ms")
    record("search", "commune suggestions p99 (basin first, typos)", p99, "ms", "< 5", p99 < 5)


def describe_machine() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "ram_gb": ram_gb, "python": platform.python_version(),
            "system": f"{platform.system()} {platform.release()}"}


SECTIONS = {"engine": bench_engine, "startup": bench_startup, "batch": bench_batch, "search": bench_search}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated sections: " + ", ".join(SECTIONS) + ", http, hello")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--output", default=str(ROOT / "benchmarks" / "results" / "latest.json"))
    args = parser.parse_args()
    wanted = args.only.split(",") if args.only else [*SECTIONS, "http", "hello"]
    machine = describe_machine()
    print(f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['ram_gb']} GB RAM, "
          f"Python {machine['python']}, {machine['system']}")
    for name in wanted:
        if name == "http":
            from http_bench import bench_http

            bench_http(args.quick, record)
            continue
        if name == "hello":
            from http_bench import bench_against_hello

            bench_against_hello(args.quick, record)
            continue
        if name not in SECTIONS:
            print(f"unknown section {name!r}", file=sys.stderr)
            return 2
        if name == "engine":
            previous = pin_to_one_core()
            try:
                SECTIONS[name](args.quick)
            finally:
                restore_affinity(previous)
            continue
        SECTIONS[name](args.quick)
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps({"machine": machine,
                                  "date": time.strftime("%Y-%m-%d %H:%M"), "quick": args.quick,
                                  "results": RESULTS}, indent=2, ensure_ascii=False), encoding="utf-8")
    missed = [r["figure"] for r in RESULTS if r["met"] is False]
    print(f"\n{len(RESULTS)} figures, {len(missed)} target(s) not met{': ' + ', '.join(missed) if missed else ''}")
    print(f"JSON written to {output.relative_to(ROOT) if output.is_relative_to(ROOT) else output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
