"""Batch checks: a CSV of situations in, one verdict row per line out (CSV and XLSX), plus a summary.

A thin adapter over the engine: it reads spreadsheets as advisers make them (UTF-8 or Windows-1252,
`;` or `,`, a header with the situation keys or their French labels, dates as 2019-05-14 or 14/05/2019,
«oui»/«non», French labels of the choices) and never lets a bad line stop the others.
"""

from __future__ import annotations

import csv
import io
import os
import re
import unicodedata
from dataclasses import dataclass
from typing import IO, Any, Callable, Iterable

from .communes import load_reference, normalize
from .engine.situation import ACTIVITES, KEYS, LIBELLES, ORIGINES, SituationError
from .engine.verdict import LIBELLES_STATUT, Verdict, evaluate

MAX_LIGNES_WEB = 10_000
_CHUNK = 2_000  # lines per task when a batch is spread over worker processes

OUTPUT_COLUMNS = (
    ("ligne", "Ligne"),
    ("statut", "Statut"),
    ("libelle_statut", "Verdict"),
    ("conditions_non_remplies", "Conditions non remplies"),
    ("conditions_inconnues", "Conditions à vérifier"),
    ("informations_manquantes", "Informations manquantes"),
    ("points_a_confirmer", "Points à confirmer"),
    ("fin_exoneration_totale", "Fin de l'exonération totale d'impôt sur les bénéfices"),
    ("premiere_annee_cfe", "Première année d'exonération de CFE"),
    ("resume", "Résumé"),
    ("erreur_champ", "Champ en erreur"),
    ("erreur", "Erreur"),
)


class BatchError(ValueError):
    """The file as a whole cannot be read (no header, too many lines...): a French message for the user."""


_STOP_WORDS = {"le", "la", "les", "l", "de", "du", "des", "d", "un", "une"}


def _key(text: str) -> str:
    """Header or choice normalised for matching: no accents, lowercase, no articles, words joined by «_»."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.split(r"[^a-z0-9]+", text.lower())
    return "_".join(w for w in words if w and w not in _STOP_WORDS)


_HEADER_ALIASES: dict[str, str] = {}
for _name in KEYS:
    _HEADER_ALIASES[_key(_name)] = _name
    _HEADER_ALIASES[_key(LIBELLES[_name])] = _name
_HEADER_ALIASES.update({_key(alias): key for alias, key in {
    "date_de_creation": "date_creation", "date_debut_activite": "date_creation", "debut_d_activite": "date_creation",
    "date_de_debut_d_activite": "date_creation", "code_insee": "commune_insee", "insee": "commune_insee",
    "commune": "commune_insee", "activite_exercee": "activite", "nature_de_l_activite": "activite",
    "ca": "chiffre_affaires", "chiffre_d_affaires": "chiffre_affaires", "bilan": "total_bilan",
    "effectif_salarie": "effectif", "capital_detenu_par_societes": "capital_detenu_par_societes_pct",
    "capital_detenu_par_des_societes": "capital_detenu_par_societes_pct",
    "part_du_capital_detenue_par_des_societes": "capital_detenu_par_societes_pct",
    "salaries_residents_bud": "salaries_eligibles_residents_bud",
    "embauches_residents_bud": "embauches_eligibles_residents_bud",
    "part_du_ca_hors_zone": "ca_hors_zone_pct", "ca_hors_zone": "ca_hors_zone_pct",
}.items()})
_CHOICES = {_key(value): value for value in (*ACTIVITES, *ORIGINES)}
_CHOICES.update({_key(alias): value for alias, value in {"creation": "creation_pure", "creation_ex_nihilo": "creation_pure", "liberal": "liberale",
                 "industriel": "industrielle", "commercial": "commerciale", "artisanal": "artisanale",
                 "agriculture": "agricole", "civil": "civile"}.items()})
_FRENCH_DATE = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\s*$")
_CODE = re.compile(r"^\s*[0-9][0-9abAB][0-9]{3}\s*$")


@dataclass(slots=True)
class BatchLine:
    ligne: int  # line number in the file (the header is line 1)
    extra: dict[str, str]
    verdict: Verdict | None = None
    erreur_champ: str | None = None
    erreur: str | None = None
    # Set instead of `verdict` when the line was evaluated in a worker process (run_batch(workers=N)).
    precomputed: dict[str, Any] | None = None

    @property
    def statut(self) -> str:
        if self.precomputed is not None:
            return self.precomputed["statut"]
        return self.verdict.statut if self.verdict is not None else "erreur"

    def output(self) -> dict[str, Any]:
        if self.precomputed is not None:
            return self.precomputed
        row: dict[str, Any] = {"ligne": self.ligne, **{f"[{k}]": v for k, v in self.extra.items()}}
        if self.verdict is None:
            row.update({"statut": "erreur", "libelle_statut": "erreur de saisie", "erreur_champ": self.erreur_champ,
                        "erreur": self.erreur})
            return row
        v = self.verdict
        profit = v.exonerations["impot_benefices"]
        cfe = v.exonerations["cfe"]
        row.update({
            "statut": v.statut,
            "libelle_statut": LIBELLES_STATUT[v.statut],
            "conditions_non_remplies": ", ".join(c.id for c in v.conditions if c.statut.value == "non_remplie"),
            "conditions_inconnues": ", ".join(c.id for c in v.conditions if c.statut.value == "inconnue"),
            "informations_manquantes": ", ".join(m["champ"] for m in v.informations_manquantes if m["conditions"]),
            "points_a_confirmer": ", ".join(c.id for c in v.conditions if c.a_confirmer),
            "fin_exoneration_totale": profit.extra.get("fin_exoneration_totale") if profit.applicable is not False else None,
            "premiere_annee_cfe": cfe.extra.get("premiere_annee") if cfe.applicable is not False else None,
            "resume": v.resume,
        })
        return row


@dataclass(slots=True)
class BatchResult:
    lines: list[BatchLine]
    encoding: str
    delimiter: str
    columns: dict[str, str]          # header in the file -> situation key
    ignored_columns: list[str]       # carried over to the output as identifiers

    def summary(self) -> dict[str, Any]:
        counts = {"eligible": 0, "non_eligible": 0, "indetermine": 0, "erreur": 0}
        for line in self.lines:
            counts[line.statut] += 1
        return {"lignes": len(self.lines), **counts, "encodage": self.encoding,
                "separateur": self.delimiter, "colonnes_reconnues": self.columns,
                "colonnes_reprises": self.ignored_columns}

    def rows(self) -> Iterable[dict[str, Any]]:
        return (line.output() for line in self.lines)

    def header(self) -> list[tuple[str, str]]:
        first = OUTPUT_COLUMNS[:1]
        extra = [(f"[{name}]", name) for name in self.ignored_columns]
        return [*first, *extra, *OUTPUT_COLUMNS[1:]]


def decode(data: bytes) -> tuple[str, str]:
    """Text and encoding name: UTF-8 (with or without BOM), else Windows-1252, line by line if mixed."""
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    lines, fallback = [], False
    for raw in data.splitlines(keepends=True):
        try:
            lines.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            fallback = True
            lines.append(raw.decode("cp1252", errors="replace"))
    text = "".join(lines)
    if text.startswith("\ufeff"):
        text = text[1:]
    return text, "windows-1252" if fallback else "utf-8"


def _delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (";", ",", "\t")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


_NUMERIC_KEYS = {"effectif", "chiffre_affaires", "total_bilan", "capital_detenu_par_societes_pct", "ca_hors_zone_pct",
                 "salaries_eligibles", "salaries_eligibles_residents_bud", "embauches_eligibles",
                 "embauches_eligibles_residents_bud"}
_PLAIN_INT = re.compile(r"^[0-9]{1,15}$")


def _value(key: str, raw: str) -> Any:
    """Spreadsheet conventions -> what the engine accepts; the engine still validates everything."""
    value = raw.strip()
    if key in _NUMERIC_KEYS and _PLAIN_INT.match(value):
        return int(value)
    if key in ("date_creation", "date_creation_etablissement"):
        match = _FRENCH_DATE.match(value)
        if match:
            day, month, year = match.groups()
            return f"{year}-{int(month):02d}-{int(day):02d}"
        return value
    if key in ("activite", "origine") and value:
        return _CHOICES.get(_key(value), value)
    if key == "commune_insee" and value and not _CODE.match(value):
        return _commune_by_name(value)
    return value


def _commune_by_name(value: str) -> str:
    wanted = normalize(value)
    matches = [c for c in load_reference().search(value, limit=20) if normalize(c.nom) == wanted]
    if len(matches) == 1:
        return matches[0].insee
    if len(matches) > 1:
        names = ", ".join(f"{c.nom} ({c.departement}, {c.insee})" for c in matches[:4])
        raise SituationError("commune_insee", f"« {value} » désigne plusieurs communes ({names}) ; indiquez le code INSEE.")
    raise SituationError("commune_insee", f"aucune commune ne s'appelle « {value} » ; indiquez le code INSEE à 5 caractères.")


@dataclass(frozen=True, slots=True)
class _Layout:
    columns: dict[int, str]
    ignored: dict[int, str]
    width: int
    delimiter: str


def _evaluate_line(layout: _Layout, number: int, row: list[str]) -> BatchLine:
    line = BatchLine(number, {layout.ignored[i]: row[i] for i in layout.ignored if i < len(row)})
    try:
        if len(row) > layout.width:
            raise SituationError("ligne", f"{len(row)} valeurs pour {layout.width} colonnes ; vérifiez les séparateurs "
                                          f"« {layout.delimiter} » et les guillemets de cette ligne.")
        if "\ufffd" in "".join(row):
            raise SituationError("ligne", "caractères illisibles : la ligne n'est ni en UTF-8 ni en Windows-1252.")
        situation = {key: _value(key, row[i]) for i, key in layout.columns.items() if i < len(row) and row[i].strip()}
        line.verdict = evaluate(situation)
    except SituationError as error:
        line.erreur_champ, line.erreur = error.champ, error.message
    return line


def _evaluate_chunk(layout: _Layout, chunk: list[tuple[int, list[str]]]) -> list[BatchLine]:
    """Run in a worker process: returns lines with their output rows only (verdicts stay in the worker)."""
    out = []
    for number, row in chunk:
        line = _evaluate_line(layout, number, row)
        out.append(BatchLine(line.ligne, line.extra, None, line.erreur_champ, line.erreur, line.output()))
    return out


def run_batch(data: bytes, *, max_lines: int | None = None,
              progress: Callable[[int, int], None] | None = None, workers: int = 1) -> BatchResult:
    """Evaluate every line of a CSV file. Raises `BatchError` only when the file as a whole is unusable.

    With `workers` > 1 (the CLI, for large files), lines are evaluated in worker processes and come back
    with their output rows (`BatchLine.precomputed`) instead of `Verdict` objects."""
    if not data.strip():
        raise BatchError("fichier : le fichier est vide ; attendu un CSV avec une ligne d'en-tête puis une situation par ligne.")
    text, encoding = decode(data)
    first_line = text.split("\n", 1)[0]
    delimiter = _delimiter(first_line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as error:
        raise BatchError(f"fichier : en-tête illisible ({error}).") from None
    columns: dict[int, str] = {}
    ignored: dict[int, str] = {}
    for index, name in enumerate(header):
        key = _HEADER_ALIASES.get(_key(name))
        if key and key not in columns.values():
            columns[index] = key
        elif name.strip():
            ignored[index] = name.strip()
    if "date_creation" not in columns.values():
        raise BatchError("en-tête : colonne date_creation (« date de création ») introuvable ; la première ligne doit "
                         "nommer les colonnes, par exemple date_creation;commune_insee;activite.")
    try:
        records = list(reader)
    except csv.Error as error:
        raise BatchError(f"fichier : CSV mal formé ({error}).") from None
    records = [(number, row) for number, row in enumerate(records, start=2) if any(cell.strip() for cell in row)]
    if max_lines is not None and len(records) > max_lines:
        raise BatchError(f"fichier : {len(records)} lignes de situations ; la limite est de {max_lines} par fichier. "
                         "Découpez le fichier.")
    layout = _Layout(columns, ignored, len(header), delimiter)
    total = len(records)
    lines: list[BatchLine] = []
    if workers > 1 and total >= 4 * _CHUNK:
        import concurrent.futures
        import multiprocessing

        chunks = [records[i:i + _CHUNK] for i in range(0, total, _CHUNK)]
        context = multiprocessing.get_context("fork")
        with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context) as pool:
            for part in pool.map(_evaluate_chunk, [layout] * len(chunks), chunks):
                lines.extend(part)
                if progress is not None:
                    progress(len(lines), total)
    else:
        for done, (number, row) in enumerate(records, start=1):
            lines.append(_evaluate_line(layout, number, row))
            if progress is not None:
                progress(done, total)
    return BatchResult(lines, encoding, delimiter, {header[i]: k for i, k in columns.items()},
                       list(ignored.values()))


def write_csv(result: BatchResult, stream: IO[str]) -> None:
    """Results as CSV for French spreadsheets: `;`, UTF-8 with BOM, French column titles."""
    header = result.header()
    stream.write("\ufeff")
    writer = csv.writer(stream, delimiter=";", lineterminator="\r\n")
    writer.writerow([title for _, title in header])
    for row in result.rows():
        writer.writerow(["" if row.get(key) is None else row.get(key) for key, _ in header])


def write_xlsx(result: BatchResult, stream: IO[bytes]) -> None:
    """Results and summary as an Excel workbook (openpyxl, write-only mode for large files)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font

    def cell_value(value):  # noqa: ANN001, ANN202 - control characters (from the CSV) are refused by the format
        return ILLEGAL_CHARACTERS_RE.sub("\ufffd", value) if isinstance(value, str) else value

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Résultats")
    header = result.header()
    bold = Font(bold=True)
    cells = []
    for _, title in header:
        cell = WriteOnlyCell(sheet, value=cell_value(title))
        cell.font = bold
        cells.append(cell)
    sheet.append(cells)
    for row in result.rows():
        sheet.append([cell_value(row.get(key)) for key, _ in header])
    summary = workbook.create_sheet("Synthèse")
    data = result.summary()
    for label, key in (("Lignes traitées", "lignes"), ("Éligibles", "eligible"), ("Non éligibles", "non_eligible"),
                       ("À confirmer", "indetermine"), ("Lignes en erreur", "erreur"), ("Encodage lu", "encodage"),
                       ("Séparateur", "separateur")):
        summary.append([label, data[key]])
    summary.append(["Colonnes reconnues", cell_value(", ".join(f"{k} → {v}" for k, v in data["colonnes_reconnues"].items()))])
    if data["colonnes_reprises"]:
        summary.append(["Colonnes reprises telles quelles", cell_value(", ".join(data["colonnes_reprises"]))])
    workbook.save(stream)


def summary_text(result: BatchResult) -> str:
    data = result.summary()
    return (f"{data['lignes']} lignes : {data['eligible']} éligibles, {data['non_eligible']} non éligibles, "
            f"{data['indetermine']} à confirmer, {data['erreur']} en erreur.")


def register(subparsers: Any) -> None:
    """`bud-checker batch IN.csv OUT.csv [--xlsx OUT.xlsx]`."""
    parser = subparsers.add_parser("batch", help="vérifier un fichier CSV de situations (une par ligne)")
    parser.add_argument("entree", help="fichier CSV (UTF-8 ou Windows-1252, séparateur ; ou ,)")
    parser.add_argument("sortie", help="fichier CSV de résultats")
    parser.add_argument("--xlsx", help="écrire aussi les résultats au format Excel")
    parser.add_argument("--sans-progression", action="store_true", help="ne pas afficher la barre de progression")
    parser.add_argument("--processus", type=int, default=os.cpu_count() or 1,
                        help="nombre de processus pour les gros fichiers (par défaut : un par cœur)")
    parser.set_defaults(func=_cmd_batch)


def _cmd_batch(args: Any) -> int:
    import sys
    from pathlib import Path

    from tqdm import tqdm

    source = Path(args.entree)
    if not source.is_file():
        sys.stderr.write(f"Erreur : entree : « {args.entree} » introuvable ; indiquez le chemin d'un fichier CSV.\n")
        return 2
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
        return 2
    close()
    try:
        with open(args.sortie, "w", encoding="utf-8", newline="") as handle:
            write_csv(result, handle)
        if args.xlsx:
            with open(args.xlsx, "wb") as handle:
                write_xlsx(result, handle)
    except OSError as error:
        sys.stderr.write(f"Erreur : sortie : impossible d'écrire le fichier ({error.strerror}).\n")
        return 2
    sys.stderr.write(summary_text(result) + "\n")
    return 0


def _register_with_cli() -> None:
    from . import cli

    if register not in cli._EXTENSIONS:
        cli._EXTENSIONS.append(register)


_register_with_cli()
