"""Batch checks: a table of situations (CSV or XLSX) in, one verdict row per line out (CSV and XLSX), a summary.

A pure module over the engine, used by the command line (`bud-checker batch`) and by the advisers' workspace
alike: no Flask, no database, no command-line import. Its entry point, `check_table`, takes the uploaded bytes
and an optional progress callback and returns the result files and the summary, so that it can run inside a
task queue's worker as well as in a request.

Reading (as advisers' spreadsheets are made): CSV in UTF-8 or Windows-1252, `;` `,` or tab, or an Excel
workbook (.xlsx, first sheet, header row); headers as the situation keys or their French labels; Excel dates
and numbers as such, text dates `31/12/2024` or `2024-12-31`, amounts `120 000 €` or `120000,50`, «oui»/«non»,
the French labels of the choices; a `commune` column holding a name, a postal code or an INSEE code, resolved as
the form does (`communes.resolve`). A bad line never stops the others: it gets its own French message quoting
the value as written. Whole-file problems (empty, no header, too wide, too long, too many lines) raise
`BatchError` with one French sentence.

Writing: people's columns first (statut, conditions by their French names, the commune and date understood,
the end of full exemption, the first CFE year, the warnings, the error with its field), then the machine codes
so that a program can read the file back. Every text cell that a spreadsheet could take for a formula is
neutralised (OWASP rule: a leading apostrophe in the CSV; a text cell, never a formula, in the XLSX).
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import functools
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from typing import IO, Any, Callable, Iterable, Iterator, Sequence

from .communes import Commune, load_reference, normalize, resolve
from .dates import today_in_france
from .engine.fr import typographie
from .engine.law import current_rules
from .engine.situation import SCHEMA, SituationError
from .engine.verdict import AVERTISSEMENT, Verdict, evaluate

# --- limits of one file ---------------------------------------------------------------------------------------

MAX_BYTES = 16 * 1024 * 1024      # the workspace's upload limit (ADVISER_BATCH_MAX_BYTES)
MAX_LIGNES_WEB = 10_000           # lines of situations per file in the workspace
MAX_COLONNES = 200                # a situation has 20 keys; copied columns leave room, 20,000 do not
MAX_CARACTERES_LIGNE = 20_000     # characters in one line of a CSV
MAX_XLSX_DECOMPRESSE = 256 * 1024 * 1024  # an .xlsx is a zip: its parts, once decompressed
_CHUNK = 2_000  # lines per task when a batch is spread over worker processes

STATUT_FR = {"eligible": "Éligible", "non_eligible": "Non éligible", "indetermine": "À confirmer", "erreur": "Erreur"}


class BatchError(ValueError):
    """The file as a whole cannot be read (no header, too many lines...): a French message for the user, in French
    typography (written with ordinary spaces: `typographie` puts the non-breaking ones)."""

    def __init__(self, message: str) -> None:
        super().__init__(typographie(message))


def size_text(limit: int) -> str:
    """A byte count as people read it: «16 Mio», «64 Kio»."""
    for unit, size in (("Mio", 1024 * 1024), ("Kio", 1024)):
        if limit >= size:
            value = limit / size
            return f"{value:g}\u00a0{unit}".replace(".", ",")
    return f"{limit}\u00a0octets"


# --- headers --------------------------------------------------------------------------------------------------

_STOP_WORDS = {"le", "la", "les", "l", "de", "du", "des", "d", "un", "une"}


@functools.lru_cache(maxsize=4096)
def _key(text: str) -> str:
    """Header or choice normalised for matching: no accents, lowercase, no articles, words joined by «_»."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.split(r"[^a-z0-9]+", text.lower())
    return "_".join(w for w in words if w and w not in _STOP_WORDS)


COMMUNE = "commune"   # a column holding a name, a postal code or an INSEE code
NOM, SIREN = "nom", "siren"  # the client's identity: copied, and used to file each line in a case file

# Headers accepted for the situation's columns, from rules/situation.yaml: the key, its label and its `alias`;
# a commune may also be given by name or postal code (COMMUNE).
_HEADER_ALIASES: dict[str, str] = {}
for _champ in SCHEMA:
    for _alias in (_champ.id, _champ.libelle(), *_champ.alias):
        _HEADER_ALIASES[_key(_alias)] = _champ.id
_HEADER_ALIASES.update({_key(alias): COMMUNE for alias in (
    "commune", "ville", "localite", "commune_d_implantation", "code_postal", "cp", "commune_ou_code_postal")})
_IDENTITY_ALIASES = {_key(alias): key for alias, key in {
    "nom": NOM, "raison_sociale": NOM, "entreprise": NOM, "nom_entreprise": NOM, "nom_de_l_entreprise": NOM,
    "denomination": NOM, "client": NOM, "societe": NOM, "nom_du_client": NOM,
    "siren": SIREN, "n_siren": SIREN, "numero_siren": SIREN, "no_siren": SIREN,
}.items()}
# Choices: their values and the other spellings of rules/situation.yaml (`alias_choix`).
_CHOICES: dict[str, str] = {}
for _champ in SCHEMA:
    _CHOICES.update({_key(value): value for value in _champ.choix})
    _CHOICES.update({_key(alias): value for alias, value in _champ.alias_choix.items()})

_NUMERIC_KEYS = set(SCHEMA.of_type("nombre", "entier"))
_DATE_KEYS = set(SCHEMA.of_type("date"))
_CHOICE_KEYS = set(SCHEMA.of_type("choix"))
_FRENCH_DATE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]00:00(?::00)?)?$")
_CODE = re.compile(r"^[0-9][0-9abAB][0-9]{3}$")
_SPACES = re.compile(r"[\s\u00a0\u202f]+")
_FRENCH_NUMBER = re.compile(r"^-?(?:\d+|\d{1,3}(?:\.\d{3})+)(?:,\d+)?$")  # 120000,50 or 120.000,50
_DOT_NUMBER = re.compile(r"^-?\d+\.\d+$")


# --- the table read from the file -----------------------------------------------------------------------------

@dataclass(slots=True)
class Record:
    ligne: int                          # the line (CSV) or row (XLSX) of the file; the header is 1
    cells: list[Any]
    erreur: SituationError | None = None  # the line could not be read as a row (an unclosed quote...)


@dataclass(slots=True)
class Table:
    header: list[str]
    records: list[Record]
    format: str                  # «csv» or «xlsx»
    encoding: str | None = None  # CSV only
    delimiter: str | None = None
    sheet: str | None = None     # XLSX only


def read_table(data: bytes, *, max_lines: int | None = None) -> Table:
    """The header and the rows of a CSV or XLSX file (recognised by its content, not its name)."""
    if not data.strip():
        raise BatchError("fichier : le fichier est vide ; attendu un tableau (CSV ou Excel .xlsx) avec une ligne "
                         "d'en-tête puis une situation par ligne.")
    if data[:4] == b"PK\x03\x04":
        table = _read_xlsx(data)
    elif data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise BatchError("fichier : classeur Excel 97-2003 (.xls) non lu ; enregistrez-le au format .xlsx "
                         "ou CSV, puis renvoyez-le.")
    else:
        table = _read_csv(data)
    _check_width(table.header)
    if max_lines is not None and len(table.records) > max_lines:
        raise BatchError(f"fichier : {_n(len(table.records))} lignes de situations ; la limite est de {_n(max_lines)} "
                         "par fichier. Découpez le fichier.")
    return table


def check_file(data: bytes, *, max_lines: int | None = None) -> int:
    """Whether the file can be checked as a whole (read, header recognised, limits), without checking any line:
    the number of lines of situations, or `BatchError`. For a door that queues the checking (a task queue) and
    must refuse a bad file at once."""
    table = read_table(data, max_lines=max_lines)
    _layout(table)
    return len(table.records)


def _n(number: int) -> str:
    """An integer with French digit grouping (narrow no-break space): 10 000."""
    return f"{number:,}".replace(",", "\u202f")


def _check_width(header: list[str]) -> None:
    if len(header) > MAX_COLONNES:
        raise BatchError(f"en-tête : {_n(len(header))} colonnes ; au plus {MAX_COLONNES} par fichier. Gardez les "
                         "colonnes de la situation et quelques colonnes d'identification.")


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


def _read_csv(data: bytes) -> Table:
    text, encoding = decode(data)
    lines = io.StringIO(text, newline="").readlines()  # physical lines, ends kept (\n, \r\n or \r)
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        raise BatchError("fichier : le fichier est vide ; attendu une ligne d'en-tête puis une situation par ligne.")
    delimiter = _delimiter(lines[first])
    try:
        header = next(csv.reader([lines[first]], delimiter=delimiter))
    except (StopIteration, csv.Error) as error:
        raise BatchError(f"fichier : en-tête illisible ({error}).") from None
    _check_width(header)
    for number, line in enumerate(lines, start=1):
        if len(line) > MAX_CARACTERES_LIGNE:
            raise BatchError(f"ligne {number} : {_n(len(line))} caractères ; au plus {_n(MAX_CARACTERES_LIGNE)} par "
                             "ligne. Vérifiez que le fichier est bien un tableau de situations, une par ligne.")
    records = list(_csv_records(lines, first + 1, delimiter))
    return Table(header, records, "csv", encoding, delimiter)


def _csv_records(lines: list[str], start: int, delimiter: str) -> Iterator[Record]:
    """The records from physical line `start` on. A quoted value may span lines (a note with a line break), but
    one that swallows lines holding the separator is an unclosed quote: its line is put in error and the
    reading goes on at the next line, so that no other line is lost."""
    position = start

    def feed() -> Iterator[str]:
        nonlocal position
        while position < len(lines):
            position += 1
            yield lines[position - 1]

    while position < len(lines):
        begin = position
        reader = csv.reader(feed(), delimiter=delimiter)
        try:
            for row in reader:
                span = lines[begin:position]
                if len(span) > 1 and any(("\n" in cell or "\r" in cell) and delimiter in cell for cell in row):
                    alone = next(csv.reader([lines[begin].rstrip("\r\n")], delimiter=delimiter), [])
                    yield Record(begin + 1, alone, SituationError(
                        "ligne", "guillemet « \" » ouvert et jamais fermé : la ligne n'a pas pu être lue (les "
                                 "lignes suivantes l'ont été) ; fermez le guillemet ou retirez-le."))
                    position = begin + 1
                    break
                if any(cell.strip() for cell in row):
                    yield Record(begin + 1, row)
                begin = position
            else:
                return
        except csv.Error as error:
            yield Record(begin + 1, [], SituationError("ligne", f"ligne illisible ({error}) ; corrigez-la."))
            position = begin + 1


def _read_xlsx(data: bytes) -> Table:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = set(archive.namelist())
        unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        raise BatchError("fichier : classeur Excel illisible ou endommagé ; enregistrez-le à nouveau au format .xlsx "
                         "ou CSV.") from None
    if "xl/workbook.xml" not in names:
        kind = "classeur OpenDocument (.ods)" if "content.xml" in names else "archive qui n'est pas un classeur .xlsx"
        raise BatchError(f"fichier : {kind} ; enregistrez le tableau au format Excel (.xlsx) ou CSV.")
    if unpacked > MAX_XLSX_DECOMPRESSE:
        raise BatchError(f"fichier : le classeur décompressé dépasse {size_text(MAX_XLSX_DECOMPRESSE)} ; gardez la "
                         "seule feuille des situations ou découpez le fichier.")
    from openpyxl import load_workbook

    try:
        sheet, rows, has_formula = _xlsx_rows(load_workbook(io.BytesIO(data), read_only=True, data_only=False))
        if has_formula:  # the values Excel computed and saved, for the cells holding a formula
            _, computed, _ = _xlsx_rows(load_workbook(io.BytesIO(data), read_only=True, data_only=True))
            rows = {number: [_computed(cell, _at(computed.get(number), c)) for c, cell in enumerate(row)]
                    for number, row in rows.items()}
    except BatchError:
        raise
    except Exception as error:  # noqa: BLE001 - openpyxl raises many kinds on a damaged file
        raise BatchError(f"fichier : classeur Excel illisible ({type(error).__name__}) ; enregistrez-le à nouveau "
                         "au format .xlsx ou CSV.") from None
    if not rows:
        raise BatchError(f"fichier : la première feuille (« {sheet} ») est vide ; mettez les situations sur la "
                         "première feuille, avec une ligne d'en-tête.")
    numbers = list(rows)  # the sheet's row numbers of the non-empty rows, in order
    header_cells = list(rows[numbers[0]])
    while header_cells and not _filled(header_cells[-1]):
        header_cells.pop()
    header = [_as_text(v) for v in header_cells]
    records = [Record(number, rows[number]) for number in numbers[1:]]
    return Table(header, records, "xlsx", sheet=sheet)


def _at(row: list[Any] | None, index: int) -> Any:
    return row[index] if row is not None and index < len(row) else None


class _Formula(str):
    """A formula's text, kept when the file holds no computed value for it."""


def _computed(cell: Any, value: Any) -> Any:
    if isinstance(cell, str) and cell.startswith("="):
        return value if value is not None else _Formula(cell)
    return cell


def _xlsx_rows(workbook: Any) -> tuple[str, dict[int, list[Any]], bool]:
    """The first sheet's title and its non-empty rows by row number (the header is usually row 1)."""
    sheet = workbook.worksheets[0]
    rows: dict[int, list[Any]] = {}
    has_formula = False
    for number, row in enumerate(sheet.iter_rows(values_only=True, max_col=MAX_COLONNES + 1), start=1):
        if not any(_filled(v) for v in row):
            continue
        cells = [v if v is None or isinstance(v, (str, int, float, bool, dt.date, dt.time)) else _as_text(v)
                 for v in row]
        has_formula = has_formula or any(isinstance(v, str) and v.startswith("=") for v in cells)
        rows[number] = cells
    title = sheet.title
    workbook.close()
    return title, rows, has_formula


def _filled(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def _as_text(value: Any) -> str:
    """A cell as the user wrote it: dates as JJ/MM/AAAA, numbers without a useless «.0»."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%d/%m/%Y") if value.time() == dt.time() else value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, bool):
        return "VRAI" if value else "FAUX"
    if isinstance(value, float):
        return f"{value:g}".replace(".", ",") if not value.is_integer() else str(int(value))
    text = getattr(value, "text", None)  # an array formula
    return str(text if isinstance(text, str) else value)


# --- one line: the cells read as a situation ------------------------------------------------------------------

def _show(value: Any, limit: int = 60) -> str:
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in _as_text(value)).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _date_value(key: str, cell: Any) -> dt.date:
    if isinstance(cell, dt.datetime):
        return cell.date()
    if isinstance(cell, dt.date):
        return cell
    if isinstance(cell, (int, float)) and not isinstance(cell, bool):
        raise SituationError(key, f"« {_show(cell)} » est un nombre, pas une date ; écrivez la date au format "
                                  "JJ/MM/AAAA (par exemple 14/05/2019) ou mettez la colonne au format date.")
    text = str(cell).strip()
    french, iso = _FRENCH_DATE.match(text), _ISO_DATE.match(text)
    if french:
        day, month, year = (int(part) for part in french.groups())
    elif iso:
        year, month, day = (int(part) for part in iso.groups())
    else:
        raise SituationError(key, f"« {_show(text)} » n'est pas une date ; attendu JJ/MM/AAAA (par exemple "
                                  "14/05/2019) ou AAAA-MM-JJ.")
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise SituationError(key, f"« {_show(text)} » n'est pas une date qui existe au calendrier ; vérifiez le "
                                  "jour et le mois.") from None


def _number_value(cell: Any) -> Any:
    """A number written the French way (`120 000 €`, `120000,50`, `12,5 %`) as a number; anything else as it
    is, for the engine to refuse with the value quoted."""
    if isinstance(cell, bool) or not isinstance(cell, str):
        return cell
    text = _SPACES.sub("", cell).removesuffix("€").removesuffix("EUR").removesuffix("%")
    if _FRENCH_NUMBER.match(text):
        text = text.replace(".", "").replace(",", ".")
    elif not _DOT_NUMBER.match(text):
        return cell.strip()
    value = float(text)
    return int(value) if value.is_integer() and abs(value) < 1e15 else value


def _plain_value(key: str, cell: Any) -> Any:
    if key in _DATE_KEYS:
        return _date_value(key, cell)
    if key in _NUMERIC_KEYS:
        return _number_value(cell)
    if isinstance(cell, bool) or isinstance(cell, (dt.date, dt.time)):
        return cell if isinstance(cell, bool) else _as_text(cell)
    if isinstance(cell, float):
        return int(cell) if cell.is_integer() else _as_text(cell)
    if key in _CHOICE_KEYS and isinstance(cell, str):
        return _CHOICES.get(_key(cell), cell.strip())
    return cell.strip() if isinstance(cell, str) else cell


def _commune_label(commune: Commune) -> str:
    return f"{commune.nom} ({commune.departement}, code INSEE {commune.insee})"


def _commune_from_text(key: str, cell: Any) -> tuple[str, str | None]:
    """The INSEE code meant by a name, a postal code or an INSEE code, and a warning when a postal code was
    read; SituationError naming the candidates when the value may mean several communes."""
    text = _as_text(cell).strip()
    if isinstance(cell, (int, float)) and len(text) == 4:
        text = "0" + text  # a spreadsheet dropped the leading zero
    found = _resolved(text)
    if found.commune is not None:
        warning = None
        if found.code_insee_de is not None:
            other = found.code_insee_de
            warning = (f"« {_show(text)} » lu comme code postal (commune : {found.commune.nom}) ; c'est aussi le code "
                       f"INSEE d'une autre commune : {other.nom} ({other.departement}).")
        return found.commune.insee, warning
    if found.candidates:
        wanted = normalize(text)
        candidates = [c for c in found.candidates if normalize(c.nom) == wanted] or list(found.candidates)
        names = ", ".join(_commune_label(c) for c in candidates[:5])
        more = " (et d'autres)" if len(candidates) > 5 else ""
        raise SituationError(key, f"« {_show(text)} » peut désigner plusieurs communes : {names}{more} ; indiquez "
                                  "le nom de la commune avec son département, ou son code INSEE.")
    raise SituationError(key, f"aucune commune ne correspond à « {_show(text)} » ; vérifiez l'orthographe, ou "
                              "indiquez le code postal ou le code INSEE.")


@dataclass(frozen=True, slots=True)
class _Layout:
    columns: dict[int, str]    # column index -> situation key (or COMMUNE)
    copied: dict[int, str]     # column index -> header, copied to the output as it is
    identity: dict[str, int]   # NOM / SIREN -> column index
    width: int
    delimiter: str | None
    date_verification: dt.date | None = None  # the day of the check (lines may give their own)
    # The verdicts of the situations already met in this file (or this worker's chunk of it): a client list often
    # holds the same situation on several lines, evaluated once. Bounded: cleared past MEMO_SIZE situations.
    memo: dict[tuple[Any, ...], Verdict] = field(default_factory=dict, compare=False, repr=False)


def _layout(table: Table) -> _Layout:
    columns: dict[int, str] = {}
    copied: dict[int, str] = {}
    identity: dict[str, int] = {}
    for index, name in enumerate(table.header):
        name = name.strip()
        key = _HEADER_ALIASES.get(_key(name))
        if key and key not in columns.values():
            columns[index] = key
        elif name:
            copied[index] = name
            role = _IDENTITY_ALIASES.get(_key(name))
            if role and role not in identity:
                identity[role] = index
    if "date_creation" not in columns.values():
        found = ", ".join(f"« {_show(n, 30)} »" for n in table.header[:6] if n.strip()) or "aucune"
        raise BatchError(f"en-tête : colonne de la date de création introuvable (colonnes lues : {found}) ; "
                         "la première ligne doit nommer les colonnes, par exemple "
                         "« date_creation ; commune ; activite » ou « Date de création ; Commune ; Activité ».")
    return _Layout(columns, copied, identity, len(table.header), table.delimiter)


@dataclass(slots=True)
class BatchLine:
    ligne: int  # line number in the file (the header is line 1)
    extra: dict[str, Any]
    verdict: Verdict | None = None
    erreur_champ: str | None = None
    erreur: str | None = None
    avertissements: list[str] = field(default_factory=list)
    situation: dict[str, Any] | None = None   # the situation evaluated, JSON-ready
    commune_insee: Any = None                 # the commune understood, even when the line is then refused
    nom: str | None = None
    siren: str | None = None
    # Set instead of `verdict` when the line was evaluated in a worker process (run_batch(workers=N)).
    precomputed: dict[str, Any] | None = None

    @property
    def statut(self) -> str:
        if self.precomputed is not None:
            return self.precomputed["statut"]
        return self.verdict.statut if self.verdict is not None else "erreur"

    def output(self) -> dict[str, Any]:
        if self.precomputed is None:
            self.precomputed = _output(self)
        return self.precomputed


def _cell(row: list[Any], index: int) -> Any:
    return row[index] if index < len(row) else None


def _evaluate_line(layout: _Layout, record: Record) -> BatchLine:
    row = record.cells
    line = BatchLine(record.ligne, {name: _cell(row, i) for i, name in layout.copied.items()})
    for role, index in layout.identity.items():
        value = _cell(row, index)
        setattr(line, role, _show(value, 200) if _filled(value) else None)
    try:
        if record.erreur is not None:
            raise record.erreur
        if len(row) > layout.width and any(_filled(v) for v in row[layout.width:]):
            where = f"« {layout.delimiter} »" if layout.delimiter else "de colonnes"
            raise SituationError("ligne", f"{len(row)} valeurs pour {layout.width} colonnes ; vérifiez les "
                                          f"séparateurs {where} et les guillemets de cette ligne.")
        if any(isinstance(v, str) and "\ufffd" in v for v in row):
            raise SituationError("ligne", "caractères illisibles : la ligne n'est ni en UTF-8 ni en Windows-1252.")
        situation: dict[str, Any] = {}
        free_commune = None
        for index, key in layout.columns.items():
            cell = _cell(row, index)
            if not _filled(cell):
                continue
            if isinstance(cell, _Formula):
                raise SituationError(key, f"la cellule contient une formule (« {_show(cell)} ») dont le classeur n'a "
                                          "pas enregistré la valeur ; ouvrez-le dans le tableur et enregistrez-le, ou "
                                          "saisissez la valeur.")
            if key == COMMUNE:
                free_commune = cell
            elif (key == "commune_insee" and not _CODE.match(_as_text(cell).strip())
                  and not isinstance(cell, (int, float))):
                situation[key], _ = _commune_from_text(key, cell)
            else:
                situation[key] = _plain_value(key, cell)
        if free_commune is not None and "commune_insee" not in situation:
            situation["commune_insee"], warning = _commune_from_text("commune", free_commune)
            if warning:
                line.avertissements.append(warning)
        line.commune_insee = situation.get("commune_insee")
        line.verdict = _verdict_of(layout, situation)
        line.situation = line.verdict.situation.to_dict()
        line.avertissements.extend(_engine_warnings(line.verdict))  # an INSEE code that is also a postal code...
    except SituationError as error:
        line.erreur_champ, line.erreur = error.champ, typographie(error.message)
    line.avertissements = [typographie(warning) for warning in line.avertissements]
    return line


MEMO_SIZE = 4_096


def _verdict_of(layout: _Layout, situation: dict[str, Any]) -> Verdict:
    """The engine's verdict on `situation`, once per distinct situation of the file (see `_Layout.memo`)."""
    try:
        key = tuple(sorted(situation.items()))
        found = layout.memo.get(key)
    except TypeError:  # a value that cannot be a key (none is expected): evaluated as it is
        return evaluate(situation, date_verification=layout.date_verification)
    if found is None:
        found = evaluate(situation, date_verification=layout.date_verification)
        if len(layout.memo) >= MEMO_SIZE:
            layout.memo.clear()
        layout.memo[key] = found
    return found


def _engine_warnings(verdict: Verdict) -> list[str]:
    """The engine's warnings about the input (an INSEE code that is also another commune's postal code...)."""
    return [item.message for item in verdict.avertissements if item.message]


@functools.lru_cache(maxsize=4096)
def _resolved(text: str) -> Any:
    return resolve(text)


def _evaluate_chunk(layout: _Layout, chunk: list[Record]) -> list[BatchLine]:
    """Run in a worker process: returns lines with their output rows only (verdicts stay in the worker)."""
    out = []
    for record in chunk:
        line = _evaluate_line(layout, record)
        line.output()
        line.verdict = None
        out.append(line)
    return out


# --- the result -----------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Column:
    id: str
    titre: str
    description: str
    kind: str = "text"   # text | date | int
    width: int = 18
    machine: bool = False


PEOPLE_COLUMNS = (
    Column("statut_fr", "Statut", "Éligible, Non éligible, À confirmer (une information manque ou un point reste à "
           "confirmer) ou Erreur (la ligne n'a pas pu être vérifiée).", width=14),
    Column("conditions_non_remplies_fr", "Conditions non remplies", "Les conditions du régime que la situation ne "
           "remplit pas.", width=40),
    Column("conditions_a_verifier_fr", "Conditions à vérifier", "Les conditions qui restent à vérifier faute "
           "d'information.", width=40),
    Column("informations_manquantes_fr", "Informations manquantes", "Les réponses qui décideraient du résultat.",
           width=40),
    Column("points_a_confirmer_fr", "Points à confirmer",
           "Ce qu'il reste à confirmer, et auprès de qui (sur les lignes "
           "éligibles ou à confirmer ; une ligne non éligible l'est quoi qu'il en soit).", width=50),
    Column("commune_fr", "Commune retenue", "La commune comprise à partir du fichier.", width=24),
    Column("commune_insee_fr", "Code INSEE retenu", "Le code INSEE de cette commune.", width=11),
    Column("departement_fr", "Département", "Le département de cette commune.", width=8),
    Column("liste_bud_fr", "Liste BUD", "Le texte qui classe la commune en bassin urbain à dynamiser, ou « hors BUD ».",
           width=30),
    Column("date_creation_fr", "Date de création retenue", "La date de début d'activité comprise à partir du fichier.",
           kind="date", width=12),
    Column("fin_exoneration_totale_fr", "Fin de l'exonération totale d'impôt sur les bénéfices",
           "Dernier jour de l'exonération totale d'impôt sur les bénéfices (elle est ensuite dégressive).",
           kind="date", width=16),
    Column("premiere_annee_cfe_fr", "Première année d'exonération de CFE", "Première année où la CFE est exonérée.",
           kind="int", width=12),
    Column("resume", "Résumé", "Le verdict en une phrase.", width=60),
    Column("avertissements_fr", "Avertissements", "Ce que la lecture du fichier a supposé (un code postal lu comme "
           "tel...) ou signalé.", width=40),
    Column("erreur_champ_fr", "Champ en erreur", "La colonne à corriger quand la ligne est en erreur.", width=20),
    Column("erreur", "Erreur", "Pourquoi la ligne n'a pas pu être vérifiée, et comment la corriger.", width=50),
)
MACHINE_COLUMNS = (
    Column("statut", "statut", "Code du statut : eligible, non_eligible, indetermine ou erreur.", machine=True),
    Column("conditions_non_remplies", "conditions_non_remplies", "Codes des conditions non remplies, séparés par "
           "des virgules.", machine=True),
    Column("conditions_inconnues", "conditions_inconnues", "Codes des conditions à vérifier.", machine=True),
    Column("informations_manquantes", "informations_manquantes", "Codes des champs manquants.", machine=True),
    Column("points_a_confirmer", "points_a_confirmer", "Codes des conditions ayant un point à confirmer.",
           machine=True),
    Column("commune_insee", "commune_insee", "Code INSEE retenu.", machine=True),
    Column("liste_bud", "liste_bud", "Code de la liste BUD (arrete_2018, limitrophe_2019, candidat_non_source).",
           machine=True),
    Column("date_creation", "date_creation", "Date de création retenue (AAAA-MM-JJ).", machine=True),
    Column("fin_exoneration_totale", "fin_exoneration_totale", "Fin de l'exonération totale (AAAA-MM-JJ).",
           machine=True),
    Column("premiere_annee_cfe", "premiere_annee_cfe", "Première année d'exonération de CFE.", kind="int",
           machine=True),
    Column("erreur_champ", "erreur_champ", "Code du champ en erreur.", machine=True),
    Column("regles_version", "regles_version", "Version des règles appliquées.", machine=True),
)
LIGNE = Column("ligne", "Ligne", "Le numéro de la ligne dans le fichier envoyé (l'en-tête est la ligne 1).",
               kind="int", width=7)
OUTPUT_COLUMNS = (LIGNE, *PEOPLE_COLUMNS, *MACHINE_COLUMNS)


def field_label(champ: str | None) -> str | None:
    if champ is None:
        return None
    if champ == COMMUNE:
        return "commune"
    if champ == "ligne":
        return "ligne entière"
    return SCHEMA[champ].libelle() if champ in SCHEMA.champs else champ


def _liste(commune: dict[str, Any] | None) -> tuple[str | None, str | None]:
    if not commune:
        return None, None
    if not commune.get("bud"):
        return "hors BUD", None
    liste = current_rules().listes.get(commune.get("liste"))
    text = liste.acte if liste is not None else commune.get("liste")
    if commune.get("confiance_liste") == "non_sourcee":
        text += " (classement à confirmer)"
    return text, commune.get("liste")


def _output(line: BatchLine) -> dict[str, Any]:
    row: dict[str, Any] = {"ligne": line.ligne, **{f"[{k}]": v for k, v in line.extra.items()},
                           "avertissements_fr": " ; ".join(line.avertissements) or None}
    if line.verdict is None:
        row.update({"statut": "erreur", "statut_fr": STATUT_FR["erreur"], "erreur_champ": line.erreur_champ,
                    "erreur_champ_fr": field_label(line.erreur_champ), "erreur": line.erreur})
        commune = load_reference().get(str(line.commune_insee)) if line.commune_insee is not None else None
        if commune is not None and line.erreur_champ not in ("commune_insee", COMMUNE):
            row.update({"commune_fr": commune.nom, "commune_insee_fr": commune.insee,
                        "departement_fr": commune.departement, "commune_insee": commune.insee})
        return row
    v = line.verdict
    failing = [c for c in v.conditions if c.statut.value == "non_remplie"]
    unknown = [c for c in v.conditions if c.statut.value == "inconnue"]
    missing = [m for m in v.informations_manquantes if m["conditions"]]
    to_confirm = [c for c in v.conditions if c.a_confirmer]
    motifs = [m for c in v.conditions for m in c.motifs_a_confirmer]
    motifs += [m for e in v.exonerations.values() if e.applicable is not False for m in e.motifs_a_confirmer]
    profit = v.exonerations["impot_benefices"]
    cfe = v.exonerations["cfe"]
    full_end = profit.extra.get("fin_exoneration_totale") if profit.applicable is not False else None
    first_cfe = cfe.extra.get("premiere_annee") if cfe.applicable is not False else None
    commune = v.commune or {}
    liste_fr, liste_code = _liste(v.commune)
    created = v.situation.date_creation
    row.update({
        "statut": v.statut,
        "statut_fr": STATUT_FR[v.statut],
        "conditions_non_remplies_fr": " ; ".join(c.libelle for c in failing) or None,
        "conditions_a_verifier_fr": " ; ".join(c.libelle for c in unknown) or None,
        "informations_manquantes_fr": " ; ".join(
            SCHEMA[m["champ"]].libelle() if m["champ"] in SCHEMA.champs else m["champ"] for m in missing) or None,
        # What is left to confirm matters when it could change the verdict: not on a line that fails anyway.
        "points_a_confirmer_fr": (" ".join(dict.fromkeys(motifs)) or None) if v.statut != "non_eligible" else None,
        "commune_fr": commune.get("nom"),
        "commune_insee_fr": commune.get("insee"),
        "departement_fr": commune.get("departement"),
        "liste_bud_fr": liste_fr,
        "date_creation_fr": created,
        "fin_exoneration_totale_fr": dt.date.fromisoformat(full_end) if full_end else None,
        "premiere_annee_cfe_fr": first_cfe,
        "resume": v.resume,
        "conditions_non_remplies": ", ".join(c.id for c in failing),
        "conditions_inconnues": ", ".join(c.id for c in unknown),
        "informations_manquantes": ", ".join(m["champ"] for m in missing),
        "points_a_confirmer": ", ".join(c.id for c in to_confirm),
        "commune_insee": commune.get("insee"),
        "liste_bud": liste_code,
        "date_creation": created.isoformat(),
        "fin_exoneration_totale": full_end,
        "premiere_annee_cfe": first_cfe,
        "regles_version": v.regles_version,
    })
    return row


@dataclass(slots=True)
class BatchResult:
    lines: list[BatchLine]
    encoding: str | None
    delimiter: str | None
    columns: dict[str, str]          # header in the file -> situation key
    ignored_columns: list[str]       # carried over to the output as identifiers
    format: str = "csv"
    sheet: str | None = None
    regles_version: str = ""
    date: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))

    def summary(self) -> dict[str, Any]:
        counts = {"eligible": 0, "non_eligible": 0, "indetermine": 0, "erreur": 0}
        failing: dict[str, int] = {}
        labels = {c.id: c.libelle for c in current_rules().conditions.values()} if self.lines else {}
        for line in self.lines:
            counts[line.statut] += 1
            for code in filter(None, (line.output().get("conditions_non_remplies") or "").split(", ")):
                label = labels.get(code, code)
                failing[label] = failing.get(label, 0) + 1
        return {"lignes": len(self.lines), **counts, "format": self.format, "feuille": self.sheet,
                "encodage": self.encoding, "separateur": self.delimiter, "colonnes_reconnues": self.columns,
                "colonnes_reprises": self.ignored_columns,
                "conditions_non_remplies": dict(sorted(failing.items(), key=lambda item: -item[1])),
                "regles_version": self.regles_version, "date": self.date.isoformat(timespec="seconds")}

    def rows(self) -> Iterable[dict[str, Any]]:
        return (line.output() for line in self.lines)

    def output_columns(self) -> list[Column]:
        copied = [Column(f"[{name}]", name, "Colonne recopiée telle quelle de votre fichier.", width=20)
                  for name in self.ignored_columns]
        return [LIGNE, *copied, *PEOPLE_COLUMNS, *MACHINE_COLUMNS]

    def header(self) -> list[tuple[str, str]]:
        return [(c.id, c.titre) for c in self.output_columns()]


def run_batch(data: bytes, *, max_lines: int | None = None,
              progress: Callable[[int, int], None] | None = None, workers: int = 1,
              date_verification: dt.date | None = None) -> BatchResult:
    """Evaluate every line of a CSV or XLSX file. Raises `BatchError` only when the file as a whole is unusable.

    `progress(done, total)` is called as lines are checked. With `workers` > 1 (the CLI, for large files), lines
    are evaluated in worker processes and come back with their output rows (`BatchLine.precomputed`) instead of
    `Verdict` objects. `date_verification`: the day of the check, which tells past deadlines from those ahead
    (default: today in France, computed here once for the whole file)."""
    table = read_table(data, max_lines=max_lines)
    layout = dataclasses.replace(_layout(table), date_verification=date_verification or today_in_france())
    records = table.records
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
        for done, record in enumerate(records, start=1):
            lines.append(_evaluate_line(layout, record))
            if progress is not None:
                progress(done, total)
    if progress is not None and total == 0:
        progress(0, 0)
    return BatchResult(lines, table.encoding, table.delimiter,
                       {table.header[i].strip(): k for i, k in layout.columns.items()},
                       list(layout.copied.values()), table.format, table.sheet, current_rules().empreinte)


@dataclass(frozen=True, slots=True)
class BatchFiles:
    """What a batch gives back: the result, the two result files and the summary (with its one-line text)."""

    result: BatchResult
    csv: bytes
    xlsx: bytes
    summary: dict[str, Any]


def check_table(data: bytes, *, max_lines: int | None = None,
                progress: Callable[[int, int], None] | None = None) -> BatchFiles:
    """The batch's one entry point for a door: the uploaded bytes in, the result files and the summary out."""
    result = run_batch(data, max_lines=max_lines, progress=progress)
    text = io.StringIO(newline="")
    write_csv(result, text)
    workbook = io.BytesIO()
    write_xlsx(result, workbook)
    summary = {**result.summary(), "texte": summary_text(result)}
    return BatchFiles(result, text.getvalue().encode("utf-8"), workbook.getvalue(), summary)


# --- writing: CSV and XLSX, nothing a spreadsheet could execute -----------------------------------------------

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """OWASP's rule against spreadsheet formula injection: a text starting with = + - @ tab or carriage return
    gets a leading apostrophe, so a spreadsheet shows it as text instead of computing it."""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _csv_value(column: Column, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat() if column.machine else value.strftime("%d/%m/%Y")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return neutralise(_as_text(value))


def write_csv(result: BatchResult, stream: IO[str]) -> None:
    """Results as CSV for French spreadsheets: `;`, UTF-8 with BOM, French column titles first."""
    columns = result.output_columns()
    stream.write("\ufeff")
    writer = csv.writer(stream, delimiter=";", lineterminator="\r\n")
    writer.writerow([neutralise(c.titre) for c in columns])
    pairs = [(c.id, c) for c in columns]
    for row in result.rows():
        cells = []
        for key, column in pairs:  # most cells are empty or plain text: those need no conversion
            value = row.get(key)
            if value is None:
                cells.append("")
            elif type(value) is str and not value.startswith(_FORMULA_STARTS):
                cells.append(value)
            else:
                cells.append(_csv_value(column, value))
        writer.writerow(cells)


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index)


class _XlsxCells:
    """Cells for openpyxl's write-only mode: text always as text (never a formula), dates as dates."""

    def __init__(self, sheet: Any) -> None:
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
        from openpyxl.styles import Alignment, Font, PatternFill

        self.sheet = sheet
        self.new = WriteOnlyCell
        self.illegal = ILLEGAL_CHARACTERS_RE
        self.bold = Font(bold=True)
        self.header_fill = PatternFill("solid", fgColor="DDE3EA")
        self.wrap = Alignment(wrap_text=True, vertical="top")
        self.fills = {"eligible": PatternFill("solid", fgColor="D7EFD9"),
                      "non_eligible": PatternFill("solid", fgColor="F6D5D5"),
                      "indetermine": PatternFill("solid", fgColor="FBEBC8"),
                      "erreur": PatternFill("solid", fgColor="E4E4E4")}

    def text(self, value: str, **style: Any) -> Any:
        value = self.illegal.sub("\ufffd", value)
        cell = self.new(self.sheet, value=value)
        cell.data_type = "s"  # never a formula, whatever it starts with
        if value.startswith(_FORMULA_STARTS):
            cell.quotePrefix = True  # and it stays text when the cell is edited
        for name, item in style.items():
            setattr(cell, name, item)
        return cell

    def value(self, column: Column | None, value: Any, **style: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, str) or isinstance(value, _Formula):
            if column is not None and column.kind == "int" and value.isdigit() and len(value) < 10:
                value = int(value)
            else:
                return self.text(value, **style)
        if isinstance(value, (dt.date, dt.datetime)):
            cell = self.new(self.sheet, value=value)
            cell.number_format = "DD/MM/YYYY" if not isinstance(value, dt.datetime) or value.time() == dt.time() \
                else "DD/MM/YYYY HH:MM"
        elif isinstance(value, (bool, int, float)):
            if not style:
                return value
            cell = self.new(self.sheet, value=value)
        else:
            return self.text(_as_text(value), **style)
        for name, item in style.items():
            setattr(cell, name, item)
        return cell

    def header(self, titles: Sequence[str]) -> list[Any]:
        return [self.text(title, font=self.bold, fill=self.header_fill, alignment=self.wrap) for title in titles]


def _width(column: Column, values: Iterable[Any]) -> float:
    if column.width != 20 or not column.id.startswith("["):
        return column.width
    longest = max([len(column.titre), *(len(_as_text(v)) for v in values)], default=10)
    return min(max(longest + 2, 10), 40)


def write_xlsx(result: BatchResult, stream: IO[bytes]) -> None:
    """Results, summary and legend as an Excel workbook: real dates and numbers, frozen header, filter, widths."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Résultats")
    cells = _XlsxCells(sheet)
    columns = result.output_columns()
    sample = [line.output() for line in result.lines[:200]]
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[_column_letter(index)].width = _width(column, (r.get(column.id) for r in sample))
    sheet.freeze_panes = "B2"
    last = f"{_column_letter(len(columns))}{len(result.lines) + 1}"
    sheet.auto_filter.ref = f"A1:{last}"
    sheet.append(cells.header([c.titre for c in columns]))
    statut = next(i for i, c in enumerate(columns) if c.id == "statut_fr")
    for row in result.rows():
        values = [cells.value(c, row.get(c.id)) for c in columns]
        values[statut] = cells.value(None, row.get("statut_fr"), fill=cells.fills[row["statut"]])
        sheet.append(values)
    _write_summary(workbook, result)
    _write_legend(workbook, result, columns)
    workbook.save(stream)


def _write_summary(workbook: Any, result: BatchResult) -> None:
    sheet = workbook.create_sheet("Synthèse")
    cells = _XlsxCells(sheet)
    sheet.column_dimensions["A"].width = 60
    sheet.column_dimensions["B"].width = 14
    sheet.column_dimensions["C"].width = 12
    data = result.summary()
    total = data["lignes"] or 1
    sheet.append([cells.text("Synthèse du lot", font=cells.bold)])
    sheet.append([])
    sheet.append(cells.header(["Statut", "Lignes", "Part"]))
    for code in ("eligible", "non_eligible", "indetermine", "erreur"):
        share = cells.new(sheet, value=data[code] / total)
        share.number_format = "0 %"
        sheet.append([cells.text(STATUT_FR[code], fill=cells.fills[code]), data[code], share])
    sheet.append([cells.text("Total", font=cells.bold), data["lignes"]])
    sheet.append([])
    sheet.append(cells.header(["Condition non remplie", "Lignes"]))
    if data["conditions_non_remplies"]:
        for label, count in data["conditions_non_remplies"].items():
            sheet.append([cells.text(label), count])
    else:
        sheet.append([cells.text("Aucune")])
    sheet.append([])
    sheet.append(cells.header(["Lecture du fichier", ""]))
    facts = [("Format", "Excel (.xlsx)" if result.format == "xlsx" else "CSV")]
    if result.format == "xlsx":
        facts.append(("Feuille lue", result.sheet or ""))
    else:
        facts += [("Encodage", result.encoding or ""), ("Séparateur", f"« {result.delimiter} »")]
    facts.append(("Colonnes reconnues", ", ".join(f"{k} → {v}" for k, v in result.columns.items())))
    if result.ignored_columns:
        facts.append(("Colonnes recopiées telles quelles", ", ".join(result.ignored_columns)))
    facts += [("Version des règles", result.regles_version), ("Date de la vérification", _run_date(result))]
    for label, value in facts:
        sheet.append([cells.text(label), cells.text(value)])


def _run_date(result: BatchResult) -> str:
    """The date and time of the run, in France's time (the workspace's users)."""
    try:
        from zoneinfo import ZoneInfo

        local = result.date.astimezone(ZoneInfo("Europe/Paris"))
    except (ImportError, KeyError, ValueError, OSError):  # no time-zone database: say UTC
        return result.date.strftime("%d/%m/%Y à %H:%M (UTC)")
    return local.strftime("%d/%m/%Y à %H:%M")


def _write_legend(workbook: Any, result: BatchResult, columns: list[Column]) -> None:
    sheet = workbook.create_sheet("Légende")
    cells = _XlsxCells(sheet)
    sheet.column_dimensions["A"].width = 40
    sheet.column_dimensions["B"].width = 100
    sheet.append([cells.text("Légende des colonnes", font=cells.bold)])
    sheet.append([cells.text("Version des règles"), cells.text(result.regles_version)])
    sheet.append([cells.text("Date de la vérification"), cells.text(_run_date(result))])
    sheet.append([cells.text("Avertissement"), cells.text(AVERTISSEMENT, alignment=cells.wrap)])
    sheet.append([])
    sheet.append(cells.header(["Colonne", "Signification"]))
    for column in columns:
        sheet.append([cells.text(column.titre), cells.text(column.description, alignment=cells.wrap)])


def summary_text(result: BatchResult) -> str:
    data = result.summary()
    return typographie(f"{data['lignes']} lignes : {data['eligible']} éligibles, {data['non_eligible']} non "
                       f"éligibles, {data['indetermine']} à confirmer, {data['erreur']} en erreur.")
