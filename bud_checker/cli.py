"""`bud-checker`: one command-line entry point over the engine (and, later, the web server and batch).

Bad input exits with status 2 and one French line on stderr naming the field; never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any, Callable, Sequence

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors in French with exit code 2."""

    def error(self, message: str) -> None:  # pragma: no cover - exercised through main()
        self.print_usage(sys.stderr)
        sys.stderr.write(f"bud-checker : erreur d'utilisation : {message}\n")
        raise SystemExit(EXIT_BAD_INPUT)


def _fail(message: str) -> int:
    sys.stderr.write(message.rstrip("\n") + "\n")
    return EXIT_BAD_INPUT


def _read_json(source: str) -> Any:
    if source == "-":
        text = sys.stdin.read()
    else:
        path = Path(source)
        if not path.is_file():
            raise ValueError(f"fichier : « {source} » introuvable ; indiquez le chemin d'un fichier JSON ou - pour l'entrée standard.")
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise ValueError(f"fichier : « {source} » n'est pas encodé en UTF-8 ; enregistrez-le en UTF-8.") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"situation : JSON invalide (ligne {error.lineno}, colonne {error.colno}) : {error.msg} ; "
                         "attendu un objet JSON comme {\"date_creation\": \"2019-05-14\"}.") from None


def cmd_check(args: argparse.Namespace) -> int:
    from .dates import today_in_france
    from .engine.situation import SituationError
    from .engine.verdict import evaluate

    try:
        data = _read_json(args.file)
        verdict = evaluate(data, date_verification=today_in_france())
    except ValueError as error:  # SituationError is a ValueError
        if isinstance(error, SituationError):
            return _fail(f"Erreur : {error.champ} : {error.message}")
        return _fail(f"Erreur : {error}")
    json.dump(verdict.to_dict(), sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
    if verdict.commune is not None:
        sys.stderr.write(f"Commune retenue : {verdict.commune['nom']} ({verdict.commune['departement']}), code INSEE "
                         f"{verdict.commune['insee']}.\n")
    for warning in verdict.avertissements:
        sys.stderr.write(f"Attention : {warning.message}\n")
    return EXIT_OK


def cmd_communes(args: argparse.Namespace) -> int:
    from .communes import load_reference
    from .engine.fr import date_fr
    from .engine.law import current_rules
    from .engine.zone import classify

    query = " ".join(args.query).strip()
    if not query:
        return _fail("Erreur : recherche : indiquez un nom, un code postal ou un code INSEE de commune.")
    reference = load_reference()
    found = reference.search(query, limit=args.limit)
    if not found:
        print(f"Aucune commune ne correspond à « {query} ».")
        return EXIT_FAILED
    rules = current_rules()
    rows = []
    for commune in found:
        classement = classify(commune, query if reference.get(query.upper()) else None, rules)
        row = classement.bud or classement.ancienne_commune_bud
        if classement.bud:
            status = f"BUD depuis le {date_fr(row.liste.classee_depuis)} ({row.liste.id}, {row.confiance.id})"
            if row.confiance.id == "non_sourcee":
                status += " — classement à confirmer"
        elif row:
            status = f"en partie : ancienne commune {row.nom} ({row.insee}) classée BUD"
        else:
            status = "hors BUD" + (" (à confirmer : liste du Pas-de-Calais non lue)" if classement.epci_liste_incomplete else "")
        rows.append({"insee": commune.insee, "nom": commune.nom, "departement": commune.departement,
                     "codes_postaux": list(commune.codes_postaux), "bud": bool(classement.bud),
                     "liste": row.liste.id if classement.bud else None,
                     "classee_depuis": row.liste.classee_depuis.isoformat() if classement.bud else None,
                     "statut": status})
    if args.json:
        json.dump(rows, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        for row in rows:
            postal = ", ".join(row["codes_postaux"][:3])
            print(f"{row['insee']}  {row['nom']} ({row['departement']}, {postal}) : {row['statut']}")
    return EXIT_OK


def cmd_test_rules(args: argparse.Namespace) -> int:
    from .rule_tests import run

    missing = [p for p in args.paths if not Path(p).exists()]
    if missing:
        return _fail(f"Erreur : chemin : « {missing[0]} » introuvable ; indiquez un fichier YAML ou un dossier de tests.")
    try:
        results, passed, failed = run(args.paths or None)
    except (OSError, ValueError, KeyError) as error:
        return _fail(f"Erreur : tests : fichier de tests illisible ({error}).")
    for case, failures in results:
        if failures:
            print(f"ÉCHEC {case.id}")
            for failure in failures:
                print(f"    - {failure}")
        elif args.verbose:
            print(f"ok    {case.id}")
    print(f"{passed} passed, {failed} failed")
    return EXIT_OK if failed == 0 and passed > 0 else EXIT_FAILED


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {}


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="bud-checker", description="Vérificateur du régime des bassins urbains à dynamiser (BUD).")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    check = sub.add_parser("check", help="évaluer une situation (JSON) et afficher le verdict JSON")
    check.add_argument("file", help="fichier JSON de la situation, ou - pour l'entrée standard")
    check.set_defaults(func=cmd_check)

    communes = sub.add_parser("communes", help="rechercher une commune et son classement en BUD")
    communes.add_argument("query", nargs="+", help="nom, code postal ou code INSEE")
    communes.add_argument("--limit", type=int, default=10)
    communes.add_argument("--json", action="store_true", help="sortie JSON")
    communes.set_defaults(func=cmd_communes)

    tests = sub.add_parser("test-rules", help="exécuter les tests de règles YAML des experts")
    tests.add_argument("paths", nargs="*", help="fichiers ou dossiers (par défaut rules/tests/)")
    tests.add_argument("-v", "--verbose", action="store_true")
    tests.set_defaults(func=cmd_test_rules)

    for register in _EXTENSIONS:
        register(sub)
    return parser


# Adapters (web server, batch, admin) add their sub-commands here, so this module stays importable
# without Flask.
_EXTENSIONS: list[Callable[[Any], None]] = []


EXTENSION_MODULES = ("bud_checker.web.commands", "bud_checker.batch_command", "bud_checker.web.advisers.commands")


def _load_extensions() -> None:
    """Import the adapter modules that exist; each appends its sub-commands to `_EXTENSIONS`."""
    for name in EXTENSION_MODULES:
        try:
            spec = importlib.util.find_spec(name)
        except ModuleNotFoundError:  # the parent package is absent
            spec = None
        if spec is not None:
            importlib.import_module(name)


def main(argv: Sequence[str] | None = None) -> int:
    _load_extensions()
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    # Run the imported module's main, so that adapters register with the same `_EXTENSIONS` list.
    from bud_checker.cli import main as _main

    raise SystemExit(_main())
