"""`bud-checker batch IN OUT.csv [--xlsx OUT.xlsx]`: the command-line door of the batch checks (`batch.py`), a
click command loaded by bud_checker.cli when run."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import click

from .exits import EXIT_BAD_INPUT, EXIT_OK


@click.command(context_settings={"help_option_names": ["-h", "--help"]},
               short_help="vérifier un fichier de situations, CSV ou Excel (une par ligne)")
@click.argument("entree")
@click.argument("sortie")
@click.option("--xlsx", help="écrire aussi les résultats au format Excel")
@click.option("--sans-progression", is_flag=True, help="ne pas afficher la barre de progression")
@click.option("--processus", type=int, default=lambda: os.cpu_count() or 1,
              help="nombre de processus pour les gros fichiers (par défaut : un par cœur)")
def batch(entree: str, sortie: str, xlsx: str | None, sans_progression: bool, processus: int) -> int:
    """Vérifier ENTREE, un fichier de situations (CSV en UTF-8 ou Windows-1252, séparateur ; ou , ; ou classeur
    .xlsx), et écrire les résultats dans SORTIE (CSV)."""
    return cmd_batch(SimpleNamespace(entree=entree, sortie=sortie, xlsx=xlsx, sans_progression=sans_progression,
                                     processus=processus))


def cmd_batch(args: Any) -> int:
    from tqdm import tqdm

    from .batch import BatchError, run_batch, summary_text, write_csv, write_xlsx

    source = Path(args.entree)
    if not source.is_file():
        sys.stderr.write(f"Erreur : entree : « {args.entree} » introuvable ; indiquez le chemin d'un fichier CSV "
                         "ou Excel.\n")
        return EXIT_BAD_INPUT
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
        return EXIT_BAD_INPUT
    close()
    try:
        with open(args.sortie, "w", encoding="utf-8", newline="") as handle:
            write_csv(result, handle)
        if args.xlsx:
            with open(args.xlsx, "wb") as handle:
                write_xlsx(result, handle)
    except OSError as error:
        sys.stderr.write(f"Erreur : sortie : impossible d'écrire le fichier ({error.strerror}).\n")
        return EXIT_BAD_INPUT
    sys.stderr.write(summary_text(result) + "\n")
    return EXIT_OK


