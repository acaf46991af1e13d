"""`bud-checker`: one click group over the engine, the batch and the web server's operations.

Commands are imported only when run (`LAZY_COMMANDS`): `check`, `communes`, `test-rules`, `lint-rules` and
`batch` load the engine only, never Flask or SQLAlchemy. The web's commands (`serve`, `db-upgrade`, `admin`)
live in the web package, which never imports this module. Adding a command: write a click command (in the
module of the door it operates) and add one line to `LAZY_COMMANDS`.

Bad input exits with status 2 and one French line on stderr naming the field; never a traceback.
"""

from __future__ import annotations

import importlib
import json
import re
import sys
from pathlib import Path
from typing import Any, Sequence

import click

from .exits import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK

__all__ = ["EXIT_BAD_INPUT", "EXIT_FAILED", "EXIT_OK", "LAZY_COMMANDS", "cli", "main"]

# name -> "module:attribute" of a click command, imported when the command is run or its help shown.
LAZY_COMMANDS: dict[str, str] = {
    "check": "bud_checker.cli:check",
    "communes": "bud_checker.cli:communes",
    "test-rules": "bud_checker.cli:test_rules",
    "lint-rules": "bud_checker.cli:lint_rules",
    "batch": "bud_checker.batch_command:batch",
    "serve": "bud_checker.web.commands:serve",
    "db-upgrade": "bud_checker.web.commands:db_upgrade",
    "worker": "bud_checker.web.commands:worker",
    "admin": "bud_checker.web.advisers.commands:admin",
}


class LazyGroup(click.Group):
    """A group whose sub-commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.commands:
            return self.commands[name]
        target = LAZY_COMMANDS.get(name)
        if target is None:
            return None
        module, attribute = target.split(":")
        return getattr(importlib.import_module(module), attribute)


CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 110}


@click.group(cls=LazyGroup, context_settings=CONTEXT)
def cli() -> None:
    """Vérificateur du régime des bassins urbains à dynamiser (BUD)."""


def _fail(message: str) -> int:
    sys.stderr.write(message.rstrip("\n") + "\n")
    return EXIT_BAD_INPUT


def _read_json(source: str) -> Any:
    if source == "-":
        text = sys.stdin.read()
    else:
        path = Path(source)
        if not path.is_file():
            raise ValueError(f"fichier : « {source} » introuvable ; "
                             "indiquez le chemin d'un fichier JSON ou - pour l'entrée standard.")
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise ValueError(f"fichier : « {source} » n'est pas encodé en UTF-8 ; enregistrez-le en UTF-8.") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"situation : JSON invalide (ligne {error.lineno}, colonne {error.colno}) : {error.msg} ; "
                         "attendu un objet JSON comme {\"date_creation\": \"2019-05-14\"}.") from None


@click.command(context_settings=CONTEXT, short_help="évaluer une situation (JSON) et afficher le verdict JSON")
@click.argument("file")
@click.option("--complet", is_flag=True,
              help="verdict complet : sources, limites, notes et énoncés des règles lus dans le catalogue des règles")
def check(file: str, complet: bool) -> int:
    """Évaluer une situation (FILE : fichier JSON, ou - pour l'entrée standard) et afficher le verdict JSON."""
    from .dates import today_in_france
    from .engine.catalogue import catalogue
    from .engine.contract import read
    from .engine.law import current_rules
    from .engine.situation import SituationError
    from .engine.verdict import evaluate

    try:
        data = _read_json(file)
        verdict = evaluate(data, date_verification=today_in_france())
    except ValueError as error:  # SituationError is a ValueError
        if isinstance(error, SituationError):
            return _fail(f"Erreur : {error.champ} : {error.message}")
        return _fail(f"Erreur : {error}")
    body = verdict.to_dict()
    if complet:
        body = {key: value for key, value in read(body, catalogue(current_rules())).items() if key != "lecture"}
    json.dump(body, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
    if verdict.commune is not None:
        sys.stderr.write(f"Commune retenue : {verdict.commune['nom']} ({verdict.commune['departement']}), code INSEE "
                         f"{verdict.commune['insee']}.\n")
    for warning in verdict.avertissements:
        sys.stderr.write(f"Attention : {warning.message}\n")
    return EXIT_OK


@click.command(context_settings=CONTEXT, short_help="rechercher une commune et son classement en BUD")
@click.argument("query", nargs=-1, required=True)
@click.option("--limit", type=int, default=10, show_default=True, help="nombre de communes au plus")
@click.option("--json", "as_json", is_flag=True, help="sortie JSON")
def communes(query: tuple[str, ...], limit: int, as_json: bool) -> int:
    """Rechercher une commune (QUERY : nom, code postal ou code INSEE) et son classement en BUD.

    La même recherche que les suggestions du formulaire et l'API : les communes du bassin d'abord, les fautes de
    frappe tolérées (« nom approché »)."""
    from .commune_search import commune_payload, suggest_communes
    from .engine.fr import typographie

    query = " ".join(query).strip()
    if not query:
        return _fail("Erreur : recherche : indiquez un nom, un code postal ou un code INSEE de commune.")
    found = suggest_communes(query, limit)
    if not found:
        print(typographie(f"Aucune commune ne correspond à « {query} »."))
        return EXIT_FAILED
    rows = []
    for suggestion in found:
        row = commune_payload(suggestion.commune, query, suggestion.approchee)
        statut = row["classement"] + (f" — liste {row['liste']}" if row["liste"] else "")
        rows.append({**row, "statut": statut})
    if as_json:
        json.dump(rows, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        for row in rows:
            postal = ", ".join(row["codes_postaux"][:3])
            close = " [nom approché]" if row["approchee"] else ""
            print(typographie(f"{row['insee']}  {row['nom']} ({row['departement']}, {postal}){close} : "
                              f"{row['statut']}"))
    return EXIT_OK


@click.command("test-rules", context_settings=CONTEXT, short_help="exécuter les tests de règles YAML des experts")
@click.argument("paths", nargs=-1)
@click.option("-v", "--verbose", is_flag=True, help="afficher aussi les cas réussis")
def test_rules(paths: tuple[str, ...], verbose: bool) -> int:
    """Exécuter les tests de règles YAML des experts (PATHS : fichiers ou dossiers ; par défaut rules/tests/)."""
    from .rule_tests import run

    missing = [p for p in paths if not Path(p).exists()]
    if missing:
        return _fail(f"Erreur : chemin : « {missing[0]} » introuvable ; "
                     "indiquez un fichier YAML ou un dossier de tests.")
    try:
        results, passed, failed = run(list(paths) or None)
    except (OSError, ValueError, KeyError) as error:
        return _fail(f"Erreur : tests : fichier de tests illisible ({error}).")
    for case, failures in results:
        if failures:
            print(f"ÉCHEC {case.id}")
            for failure in failures:
                print(f"    - {failure}")
        elif verbose:
            print(f"ok    {case.id}")
    print(f"{passed} passed, {failed} failed")
    return EXIT_OK if failed == 0 and passed > 0 else EXIT_FAILED


@click.command("lint-rules", context_settings=CONTEXT, short_help="vérifier les fichiers de règles (rules/)")
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
def lint_rules(directory: Path | None) -> int:
    """Vérifier les fichiers de DIRECTORY (par défaut rules/) : clés connues, valeurs typées par leur unité,
    références résolues. Sortie 0 s'ils sont valides, 2 avec une ligne en français nommant le fichier et la clé."""
    from .engine.fr import typographie
    from .engine.law import RulesError, load_rules, rules_dir

    directory = directory or rules_dir()
    if not directory.is_dir():
        return _fail(f"Erreur : dossier : « {directory} » introuvable ; indiquez le dossier des règles (rules/).")
    try:
        rules = load_rules(directory)
    except RulesError as error:
        return _fail(f"Erreur : {error}")
    sys.stdout.write(typographie(f"Règles valides : {directory} ({len(rules.parametres)} paramètres, "
                                 f"{len(rules.conditions)} conditions, {len(rules.sources)} sources).") + "\n")
    return EXIT_OK


# click's usage messages, in French (click has no French translation of its own).
_USAGE_FR = (
    (re.compile(r"^No such command '(.+)'\.$"), "commande inconnue « {0} » ; voyez bud-checker --help"),
    (re.compile(r"^No such option: (\S+)(?: Did you mean (\S+)\?)?$"), "option inconnue {0}"),
    (re.compile(r"^Missing argument '(.+)'\.$"), "argument manquant {0}"),
    (re.compile(r"^Missing option '(.+)'\.$"), "option obligatoire manquante {0}"),
    (re.compile(r"^Missing command\.$"), "commande manquante ; voyez bud-checker --help"),
    (re.compile(r"^Got unexpected extra arguments? \((.+)\)$"), "argument en trop : {0}"),
    (re.compile(r"^Option '(.+)' requires an argument\.$"), "l'option {0} attend une valeur"),
    (re.compile(r"^Invalid value for '(.+)': (.+)$", re.S), "valeur invalide pour {0} : {1}"),
)


def _french_usage(message: str) -> str:
    for pattern, french in _USAGE_FR:
        match = pattern.match(message)
        if match:
            return french.format(*match.groups())
    return message


class FrenchMessages:
    """sys.stderr while a command runs: it carries messages to people only (verdicts, JSON and tables go to
    stdout), written with ordinary spaces; each is shown in French typography (`typographie`: non-breaking spaces
    before : ; ! ? and inside « »)."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        from .engine.fr import typographie

        return self._stream.write(typographie(text))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (usage errors: 2, with a French line on stderr)."""
    stderr = sys.stderr
    sys.stderr = FrenchMessages(stderr)
    try:
        return _main(argv)
    finally:
        sys.stderr = stderr


def _main(argv: Sequence[str] | None) -> int:
    try:
        status = cli.main(args=list(argv) if argv is not None else None, prog_name="bud-checker",
                          standalone_mode=False)
    except click.UsageError as error:
        if error.ctx is not None:
            sys.stderr.write(error.ctx.get_usage() + "\n")
        sys.stderr.write(f"bud-checker : erreur d'utilisation : {_french_usage(error.format_message())}\n")
        return EXIT_BAD_INPUT
    except click.exceptions.Exit as done:
        return done.exit_code
    except click.Abort:
        sys.stderr.write("\nInterrompu.\n")
        return 130
    except click.ClickException as error:
        sys.stderr.write(f"Erreur : {error.format_message()}\n")
        return error.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
    return status if isinstance(status, int) else EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
