"""`bud-checker batch IN OUT.csv [--xlsx OUT.xlsx]`: the command-line door of the batch checks (`batch.py`)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from . import cli


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("batch", help="vérifier un fichier de situations, CSV ou Excel (une par ligne)")
    parser.add_argument("entree", help="fichier CSV (UTF-8 ou Windows-1252, séparateur ; ou ,) ou classeur .xlsx")
    parser.add_argument("sortie", help="fichier CSV de résultats")
    parser.add_argument("--xlsx", help="écrire aussi les résultats au format Excel")
    parser.add_argument("--sans-progression", action="store_true", help="ne pas afficher la barre de progression")
    parser.add_argument("--processus", type=int, default=os.cpu_count() or 1,
                        help="nombre de processus pour les gros fichiers (par défaut : un par cœur)")
    parser.set_defaults(func=cmd_batch)


def cmd_batch(args: Any) -> int:
    from tqdm import tqdm

    from .batch import BatchError, run_batch, summary_text, write_csv, write_xlsx

    source = Path(args.entree)
    if not source.is_file():
        sys.stderr.write(f"Erreur : entree : « {args.entree} » introuvable ; indiquez le chemin d'un fichier CSV "
                         "ou Excel.\n")
        return cli.EXIT_BAD_INPUT
    bars: list[tqdm] = []

    def progress(done: int, total: int) -> None:
        if not bars:
            bars.append(tqdm(total=total, unit=" lignes", disable=args.sans_progression, file=sys.stderr,
                             desc="Vérification", mininterval=0.5))
        bars[0].update(done - bars[0].n)

    def close() -> None:
        for bar in bars:
            bar.close()

    try:
        result = run_batch(source.read_bytes(), progress=progress, workers=args.processus)
    except BatchError as error:
        close()
        sys.stderr.write(f"Erreur : {error}\n")
        return cli.EXIT_BAD_INPUT
    close()
    try:
        with open(args.sortie, "w", encoding="utf-8", newline="") as handle:
            write_csv(result, handle)
        if args.xlsx:
            with open(args.xlsx, "wb") as handle:
                write_xlsx(result, handle)
    except OSError as error:
        sys.stderr.write(f"Erreur : sortie : impossible d'écrire le fichier ({error.strerror}).\n")
        return cli.EXIT_BAD_INPUT
    sys.stderr.write(summary_text(result) + "\n")
    return cli.EXIT_OK


if register not in cli._EXTENSIONS:
    cli._EXTENSIONS.append(register)
