"""The layers import one way (README, «Architecture»): the engine is pure; the CLI and the web are doors that
never import each other (the CLI names the web's commands by string and loads them only when run); the batch
module serves both and imports neither; no module borrows a private helper of another package."""

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "bud_checker"
WEB_LIBRARIES = ("flask", "flask_wtf", "flask_login", "flask_limiter", "flask_sqlalchemy", "flask_migrate",
                 "sqlalchemy", "wtforms", "werkzeug", "alembic", "weasyprint", "gunicorn", "openpyxl")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    """(absolute module, names imported from it) for every import of the file, at any depth."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((alias.name, []) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.append((target, [alias.name for alias in node.names]))
    return found


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imported(module: str) -> set[str]:
    return {target for target, _ in _imports(MODULES[module])}


def _top(name: str) -> str:
    return name.split(".")[0]


@pytest.mark.parametrize("module", [m for m in MODULES if m.startswith("bud_checker.engine")])
def test_the_engine_is_pure(module):
    for target in _imported(module):
        assert _top(target) not in WEB_LIBRARIES, f"{module} imports {target}"
        if target.startswith("bud_checker"):
            assert target.startswith(("bud_checker.engine", "bud_checker.communes", "bud_checker.resources")), \
                f"{module} imports {target}"


@pytest.mark.parametrize("module", [m for m in MODULES if m.startswith("bud_checker.web")])
def test_the_web_never_imports_the_cli(module):
    for target in _imported(module):
        assert not target.startswith("bud_checker.cli"), f"{module} imports {target}"


@pytest.mark.parametrize("module", ["bud_checker.cli", "bud_checker.batch", "bud_checker.rule_tests",
                                    "bud_checker.communes", "bud_checker.exits",
                                    "bud_checker.resources"])
def test_the_cli_and_the_shared_modules_import_no_web_module(module):
    for target in _imported(module):
        assert not target.startswith("bud_checker.web") and _top(target) not in WEB_LIBRARIES[:-1], \
            f"{module} imports {target}"
    if module != "bud_checker.cli":
        assert not any(t.startswith("bud_checker.cli") for t in _imported(module)), module


def test_no_module_imports_a_private_name_of_another_package():
    for module, path in MODULES.items():
        package = module.rpartition(".")[0]
        for target, names in _imports(path):
            if not target.startswith("bud_checker"):
                continue
            target_package = target if target in MODULES and MODULES[target].name == "__init__.py" else \
                target.rpartition(".")[0]
            private = [n for n in names if n.startswith("_") and not n.startswith("__")]
            assert not private or target_package == package, f"{module} imports {private} from {target}"


def test_lazy_commands_name_existing_click_commands():
    import click

    from bud_checker.cli import LAZY_COMMANDS, cli

    for name in LAZY_COMMANDS:
        command = cli.get_command(click.Context(cli), name)
        assert isinstance(command, click.Command), name


ENGINE_COMMANDS = [
    ["check", "SITUATION"],
    ["communes", "Douai"],
    ["test-rules", str(ROOT / "rules" / "tests" / "01_periode_creation.yaml")],
    ["lint-rules"],
    ["batch", "BATCH_IN", "BATCH_OUT", "--sans-progression", "--processus", "1"],
]


@pytest.mark.parametrize("argv", ENGINE_COMMANDS, ids=lambda argv: argv[0])
def test_engine_commands_load_no_web_module(argv, tmp_path, douai_commerce):
    situation = tmp_path / "situation.json"
    situation.write_text(json.dumps(douai_commerce), encoding="utf-8")
    batch_in = tmp_path / "in.csv"
    batch_in.write_text("date_creation;commune_insee\n2019-05-14;59178\n", encoding="utf-8")
    argv = [{"SITUATION": str(situation), "BATCH_IN": str(batch_in), "BATCH_OUT": str(tmp_path / "out.csv")}.get(a, a)
            for a in argv]
    script = (
        "import json, sys\n"
        "from bud_checker.cli import main\n"
        f"status = main({argv!r})\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in "
        f"{WEB_LIBRARIES!r} or m.startswith('bud_checker.web'))\n"
        "print(json.dumps({'status': status, 'loaded': loaded}), file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    report = json.loads(done.stderr.strip().splitlines()[-1])
    assert report["status"] == 0, done.stderr
    assert report["loaded"] == [], f"{argv[0]} loads {report['loaded']}"
