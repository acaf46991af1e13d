"""National reference of French communes and its search.

Pure Python (no Flask, no database). The reference is read once from
``rules/communes/communes_france.json.gz`` (built by
``scripts/build_communes_reference.py`` from the npm package
``@etalab/decoupage-administratif``, Licence Ouverte) and indexed in memory:

* ``get`` resolves a current INSEE code, the former code of a merged commune
  (commune déléguée/associée or older code) or a municipal arrondissement code
  (Paris, Lyon, Marseille) to the current commune;
* ``search`` finds communes by name (accent-, case-, punctuation- and
  "saint"/"st"-insensitive), postal code, INSEE code or postal code prefix.

Indexes are built at load time with C-level string operations rather than
Python loops over the ~35,000 communes. Names are kept, normalized, one per
line in descending population order, each line ending with a tag that gives its
rank: ``str.find`` walks such a text at C speed and its first hits are already
the most populated communes, so a query never sorts a large candidate set. The
same tagged lines, sorted, answer exact and prefix queries by bisection.

Memory (every gunicorn worker holds a reference): the build script writes one
commune row per line, so the rows are parsed a slice of lines at a time and the
~400,000 objects of the whole document never exist at once (freed, most of that
memory would stay with the process). The rows are then kept as the JSON text
they came in, with the offset of each line: a row is parsed again the first
time its ``Commune`` is asked for, and that ``Commune`` is cached.
"""

from __future__ import annotations

import functools
import gc
import gzip
import json
import math
import os
import re
import unicodedata
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import accumulate, compress, islice
from operator import itemgetter
from pathlib import Path
from typing import Any

__all__ = ["Commune", "CommuneReference", "CommuneSuggester", "Resolution", "Suggestion", "load_reference", "normalize",
           "reference_path", "resolve"]

RULES_DIR_ENV = "BUD_RULES_DIR"
REFERENCE_FILENAME = "communes_france.json.gz"
SUPPORTED_FORMAT = 1


@dataclass(frozen=True, slots=True)
class Commune:
    insee: str
    nom: str
    departement: str
    codes_postaux: tuple[str, ...]
    epci: str | None
    epci_nom: str | None
    anciens_codes: tuple[str, ...]


# --------------------------------------------------------------------------- #
# Normalisation
# --------------------------------------------------------------------------- #


# Letters that NFKD does not decompose into an ASCII base letter.
_LETTERS = {
    "œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ß": "ss", "ẞ": "ss", "ø": "o", "Ø": "o",
    "đ": "d", "Đ": "d", "ð": "d", "Ð": "d", "ł": "l", "Ł": "l", "þ": "th", "Þ": "th", "ı": "i",
}  # fmt: skip
# After NFKD, combining marks (accents) are dropped by the ASCII encoding; any
# other non-ASCII character (dashes, typographic quotes, other scripts) becomes a space.
_NON_ASCII_RE = re.compile("[^\x00-\x7f\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
# ASCII: letters to lowercase, digits and line feeds kept, everything else to a space.
_BYTE_TABLE = bytes(
    c + 32 if 65 <= c <= 90 else c if (97 <= c <= 122 or 48 <= c <= 57 or c == 10) else 32 for c in range(256)
)


def _fold(text: str) -> str:
    """Lowercase unaccented ASCII letters and digits; anything else to spaces
    (line feeds are kept, for the bulk version). Works at C speed on long text."""
    if not text.isascii():
        for letter, replacement in _LETTERS.items():
            if letter in text:
                text = text.replace(letter, replacement)
        text = _NON_ASCII_RE.sub(" ", unicodedata.normalize("NFKD", text))
    return text.encode("ascii", "ignore").translate(_BYTE_TABLE).decode("ascii")


def normalize(text: str) -> str:
    """Lowercase, strip accents (œ -> oe, æ -> ae), turn punctuation into spaces
    and collapse whitespace: ``"Rœulx"`` -> ``"roeulx"``,
    ``"L'Abergement-Clémenciat"`` -> ``"l abergement clemenciat"``."""
    return " ".join(_fold(text).split())


def _normalize_lines(names: list[str]) -> list[str]:
    """``normalize`` of many names at once (one pass over one long string)."""
    return _normalize_text("\n".join(names)) if names else []


def _normalize_text(text: str) -> list[str]:
    """``normalize`` of each line of ``text`` (one pass over the whole text)."""
    text = _fold(text)
    while "  " in text:
        text = text.replace("  ", " ")
    return text.replace(" \n", "\n").replace("\n ", "\n").strip(" ").split("\n")


# Names are indexed as written ("saint ..."): the abbreviations are expanded in
# the query instead.
_ABBREVIATIONS = {"st": "saint", "ste": "sainte"}


def _query_variants(query: str) -> list[str]:
    """Normalized patterns for a name query: "st"/"ste" words become
    "saint"/"sainte"; as the last word, which may be incomplete, "st"/"ste" are
    kept as typed ("st" may start "strasbourg") and also looked up as "saint "/"sainte "."""
    words = normalize(query).split()
    if not words:
        return []
    head = "".join(_ABBREVIATIONS.get(word, word) + " " for word in words[:-1])
    last = words[-1]
    variants = [head + last]
    if last in _ABBREVIATIONS:
        variants.append(head + _ABBREVIATIONS[last] + " ")
    return variants


# --------------------------------------------------------------------------- #
# Tagged texts
# --------------------------------------------------------------------------- #

# A line of an index text is "\n" + key + "\x01" + tag, where the tag is the
# line number written with the letters A-J for the digits 0-9: a normalized query
# (lowercase letters, digits, spaces) can never match inside a tag.
_TAG_SEP = "\x01"
_TO_TAG = str.maketrans("0123456789", "ABCDEFGHIJ")
_FROM_TAG = str.maketrans("ABCDEFGHIJ", "0123456789")
_MAX_CHAR = "\U0010ffff"
_WORD_SUFFIX_RE = re.compile(r" (?=([^\n]*))")
# Sorted candidates up to this many are ranked directly; a larger range means
# the key is common, and scanning the rank-ordered text finds the best quickly.
_SMALL_RANGE = 128


def _tag_parts(count: int) -> list[str]:
    """``["\\x01A\\n", "\\x01B\\n", ..., "\\x01BA\\n", ...]``: the tail of lines 0 to count - 1."""
    if not count:
        return []
    tags = "\n".join(map(str, range(count))).translate(_TO_TAG)
    return (_TAG_SEP + tags.replace("\n", "\n" + _TAG_SEP) + "\n").splitlines(keepends=True)


def _tagged_text(keys: list[str], head: str = "", tags: Sequence[str] | None = None) -> str:
    """``"\\n" + head + key + tag + "\\n" + head + key + tag ...``, built without a Python loop.
    ``tags``: ``_tag_parts(n)`` for some n >= len(keys), when the caller has it already."""
    parts: list[str] = [""] * (2 * len(keys))
    parts[0::2] = keys
    parts[1::2] = _tag_parts(len(keys)) if tags is None else tags[: len(keys)]
    text = "\n" + "".join(parts)
    if head:
        text = text.replace("\n", "\n" + head)[: -len(head)]
    return text


def _line_at(text: str, pos: int) -> tuple[int, int]:
    """Line number of the line containing ``pos`` and the offset of its end."""
    sep = text.index(_TAG_SEP, pos)
    end = text.index("\n", sep)
    return int(text[sep + 1 : end].translate(_FROM_TAG)), end


def _entry_line(entry: str) -> int:
    """Line number of a sorted entry (key or key suffix followed by its tag)."""
    return int(entry[entry.rindex(_TAG_SEP) + 1 :].translate(_FROM_TAG))


def _scan(text: str, pattern: str, targets: Sequence[int], skip: set[int], need: int) -> list[int]:
    """Targets of the first lines of ``text`` (so the best ranked) that contain
    ``pattern``, without repeats and ignoring ``skip``, at most ``need``."""
    found: list[int] = []
    seen: set[int] = set()
    pos = text.find(pattern)
    while pos >= 0 and len(found) < need:
        line, end = _line_at(text, pos)
        target = targets[line]
        if target not in skip and target not in seen:
            seen.add(target)
            found.append(target)
        pos = text.find(pattern, end)
    return found


class _NameIndex:
    """Normalized names of one family; name ``line`` (in rank order, best first)
    leads to the commune ``targets[line]``.

    * ``text``: the tagged lines, for substring search in rank order;
    * ``compact``: the same without spaces (so ignoring hyphens and apostrophes);
    * ``sorted_keys``: the tagged lines sorted, for exact and prefix matches;
    * ``word_keys``: sorted suffixes of each tagged line starting at its second,
      third... word, for word-prefix matches.
    """

    __slots__ = ("targets", "text", "compact", "sorted_keys", "word_keys")

    def __init__(self, keys: list[str], targets: Sequence[int], tags: Sequence[str] | None = None) -> None:
        self.targets = targets
        self.text = _tagged_text(keys, tags=tags)
        self.compact = self.text.replace(" ", "")
        self.sorted_keys = self.text.split("\n")[1:-1]
        self.sorted_keys.sort()
        self.word_keys = _WORD_SUFFIX_RE.findall(self.text)
        self.word_keys.sort()

    def _lines_to_targets(self, lines: Iterable[int], skip: set[int], need: int) -> list[int]:
        found: list[int] = []
        seen: set[int] = set()
        for line in lines:
            target = self.targets[line]
            if target not in skip and target not in seen:
                seen.add(target)
                found.append(target)
                if len(found) >= need:
                    break
        return found

    def _ranged(self, entries: list[str], low: str, high: str, marker: str, skip: set[int], need: int) -> list[int]:
        lo = bisect_left(entries, low)
        hi = bisect_left(entries, high, lo)
        if hi - lo <= _SMALL_RANGE or not marker:
            return self._lines_to_targets(sorted(map(_entry_line, entries[lo:hi])), skip, need)
        return _scan(self.text, marker + low, self.targets, skip, need)

    def exact(self, key: str, skip: set[int], need: int) -> list[int]:
        return self._ranged(self.sorted_keys, key + _TAG_SEP, key + "\x02", "", skip, need)

    def prefix(self, prefix: str, skip: set[int], need: int) -> list[int]:
        return self._ranged(self.sorted_keys, prefix, prefix + _MAX_CHAR, "\n", skip, need)

    def word_prefix(self, prefix: str, skip: set[int], need: int) -> list[int]:
        return self._ranged(self.word_keys, prefix, prefix + _MAX_CHAR, " ", skip, need)

    def substring(self, pattern: str, skip: set[int], need: int) -> list[int]:
        return _scan(self.text, pattern, self.targets, skip, need)

    def compact_substring(self, pattern: str, skip: set[int], need: int) -> list[int]:
        return _scan(self.compact, pattern, self.targets, skip, need)


# --------------------------------------------------------------------------- #
# Reference
# --------------------------------------------------------------------------- #


def reference_path() -> Path:
    """Path of the reference file: ``$BUD_RULES_DIR/communes/...`` when the
    variable is set, else the repository's ``rules/communes/...``."""
    override = os.environ.get(RULES_DIR_ENV)
    if override:
        rules_dir = Path(override)
    else:
        from .resources import data_dir

        rules_dir = data_dir("rules")
    return rules_dir / "communes" / REFERENCE_FILENAME


# --------------------------------------------------------------------------- #
# Reading the file
# --------------------------------------------------------------------------- #

# scripts/build_communes_reference.py writes the value of "communes" as "[",
# a line feed, the rows one a line separated by ",\n", a line feed and "]". JSON
# strings hold no raw line feed, so each of these lines is one whole row.
_ROWS_OPEN = b'"communes":[\n'
_ROWS_CLOSE = b"\n]"
# Rows parsed at once: about 600, a few hundred kilobytes of objects.
_SLICE_BYTES = 1 << 16


class _NotOneRowPerLine(Exception):
    """The file is not laid out one commune row per line: it is read whole instead."""


class _RowLines:
    """The commune rows as the lines of JSON they were read from (``text`` is the
    whole file, 3 MB), each parsed again when asked for: a row as Python objects
    takes some 10 times the memory of its text, and ``Commune`` objects are
    cached, so a row is seldom asked for twice."""

    __slots__ = ("text", "starts")

    def __init__(self, text: bytes, start: int) -> None:
        self.text = text
        # starts[i]: offset of row i in text; row i ends 2 bytes ("," and "\n")
        # before starts[i + 1]. Filled by ``slices``.
        self.starts = array("I", [start])

    def slices(self, end: int) -> Iterator[list[list[Any]]]:
        """The rows of the lines of ``text[start:end]``, some ~600 at a time."""
        text, start = self.text, self.starts[-1]
        while start < end:
            cut = text.find(b"\n", start + _SLICE_BYTES, end)
            if cut < 0:
                cut = end
            piece = text[start:cut]
            try:
                rows = json.loads(b"[" + piece.removesuffix(b",") + b"]")
            except ValueError:
                raise _NotOneRowPerLine from None
            lines = piece.split(b"\n")
            # One row a line: as many lines as rows, each line break between "]," and "[".
            if len(lines) != len(rows) or piece.count(b"],\n[") != len(rows) - 1 or not piece.startswith(b"["):
                raise _NotOneRowPerLine
            self.starts.extend(islice(accumulate(map((1).__add__, map(len, lines)), initial=start), 1, None))
            del lines
            yield rows
            start = cut + 1
        self.starts[-1] = end + 2  # the last row has no comma after it

    def __len__(self) -> int:
        return len(self.starts) - 1

    def __getitem__(self, i: int) -> list[Any]:
        return json.loads(self.text[self.starts[i] : self.starts[i + 1] - 2])


def _read(raw: bytes) -> tuple[Any, Sequence[list[Any]], Iterator[list[list[Any]]]]:
    """The JSON document (its ``communes`` left empty in the build script's
    layout), its commune rows, and the same rows a slice at a time.

    In the build script's layout the rows are parsed slice by slice, so that the
    ~300,000 objects they make never all exist at once (freed, much of that
    memory would stay with the process), and kept as their text. Any other
    layout of the same JSON is parsed whole."""
    start = raw.find(_ROWS_OPEN)
    if start >= 0:
        body = start + len(_ROWS_OPEN)
        end = raw.find(_ROWS_CLOSE, body - 1)
        if end >= 0:
            try:
                document = json.loads(raw[:body] + raw[end:])
            except ValueError:
                document = None
            # The rows cut out must have been the whole value of the top-level "communes".
            if isinstance(document, dict) and document.get("communes") == []:
                rows = _RowLines(raw, body)
                return document, rows, rows.slices(end)
    return _read_whole(raw)


def _read_whole(raw: bytes) -> tuple[Any, Sequence[list[Any]], Iterator[list[list[Any]]]]:
    document = json.loads(raw)
    rows = document.get("communes", []) if isinstance(document, dict) else []
    return document, rows, iter([rows])


class _Columns:
    """What the indexes need of the rows, gathered slice by slice as a few texts
    (no object per commune survives a slice)."""

    def __init__(self, columns: list[str]) -> None:
        self.code_of, self.name_of, self.postal_of, self.former_of = (
            itemgetter(columns.index(name)) for name in ("insee", "nom", "codes_postaux", "anciens_codes")
        )
        self.count = 0
        self.codes: list[str] = []  # per slice: its INSEE codes, one a line
        self.names: list[str] = []  # per slice: its names, one a line
        self.postal: list[str] = []  # per slice: one line per commune, its postal codes separated by spaces
        self.former: list[tuple[int, str]] = []  # (row, its former codes, one a line)

    def read(self, row_slices: Iterable[list[list[Any]]]) -> None:
        for rows in row_slices:
            if rows:
                self.add(rows)

    def add(self, rows: list[list[Any]]) -> None:
        self.codes.append("\n".join(map(self.code_of, rows)))
        self.names.append("\n".join(map(self.name_of, rows)))
        self.postal.append("\n".join(map(" ".join, map(self.postal_of, rows))))
        former = list(map(self.former_of, rows))
        self.former += [(self.count + i, "\n".join(former[i])) for i in compress(range(len(rows)), former)]
        self.count += len(rows)

    @staticmethod
    def lines(parts: list[str]) -> list[str]:
        return "\n".join(parts).split("\n") if parts else []


_INSEE_RE = re.compile(r"(?:\d{2}|2[AB])\d{3}")
_POSTAL_RE = re.compile(r"\d{5}")
_POSTAL_PREFIX_RE = re.compile(r"\d{2,4}")


class CommuneReference:
    """In-memory national reference of current communes, with its indexes.

    Use ``load_reference()`` for the shared, cached instance; the constructor
    reads ``path`` (default: ``reference_path()``) and builds a new one."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else reference_path()
        # Loading creates a few hundred thousand objects, none in a cycle: the
        # cyclic garbage collector would scan them (and all that is alive) again
        # and again for nothing, so it is paused meanwhile.
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            self._load()
        finally:
            if gc_was_enabled:
                gc.enable()

    def _load(self) -> None:
        with gzip.open(self.path, "rb") as handle:
            raw = handle.read()
        try:
            self._build(*_read(raw))
        except _NotOneRowPerLine:
            self._build(*_read_whole(raw))

    def _build(self, document: Any, rows: Sequence[list[Any]], row_slices: Iterator[list[list[Any]]]) -> None:
        version = document.get("format_version") if isinstance(document, dict) else None
        if version != SUPPORTED_FORMAT:
            raise ValueError(f"{self.path}: format {version!r} non pris en charge")
        self.source: dict[str, Any] = dict(document.get("source", {}))
        self.generated_on: str | None = document.get("generated_on")

        column_names: list[str] = document["commune_columns"]
        self._col = {name: column_names.index(name) for name in column_names}
        columns = _Columns(column_names)
        columns.read(row_slices)
        count = columns.count
        self._rows = rows
        self._communes: list[Commune | None] = [None] * count

        # Rows come in ranking order (population descending, then INSEE code):
        # a commune's rank is its row number and every index below lists
        # communes best first.
        tags = _tag_parts(count)
        self._names = _NameIndex(_normalize_text("\n".join(columns.names)) if count else [], range(count), tags)
        # Postal codes: one tagged line per commune, each code preceded by a space
        # ("\n 13001 13002\x01TAG\n").
        self._postal_text = _tagged_text(columns.lines(columns.postal), " ", tags)
        del tags

        # Codes: current, former (merged communes), municipal arrondissements.
        self._current: dict[str, int] = dict(zip(columns.lines(columns.codes), range(count)))
        self._former: dict[str, int] = {}
        for i, codes in columns.former:
            self._former.update(dict.fromkeys(codes.split("\n"), i))
        del columns
        self._arrondissements: dict[str, int] = {
            a["insee"]: self._current[a["commune"]] for a in document.get("arrondissements_municipaux", [])
        }

        # Other names that lead to a current commune: communes déléguées/associées
        # and municipal arrondissements, ordered by the rank of that commune.
        others = [(self._current[o["commune"]], o["nom"]) for o in document.get("communes_deleguees_associees", [])]
        others += [(self._current[a["commune"]], a["nom"]) for a in document.get("arrondissements_municipaux", [])]
        others.sort()
        self._other_names = _NameIndex(_normalize_lines([name for _, name in others]), [i for i, _ in others])

    # -- lookups ------------------------------------------------------------ #

    def __len__(self) -> int:
        return len(self._rows)

    def _commune(self, i: int) -> Commune:
        commune = self._communes[i]
        if commune is None:
            row, col = self._rows[i], self._col
            commune = Commune(
                insee=row[col["insee"]],
                nom=row[col["nom"]],
                departement=row[col["departement"]],
                codes_postaux=tuple(row[col["codes_postaux"]]),
                epci=row[col["epci"]],
                epci_nom=row[col["epci_nom"]],
                anciens_codes=tuple(row[col["anciens_codes"]]),
            )
            self._communes[i] = commune
        return commune

    @staticmethod
    def _clean_code(code: str) -> str:
        code = str(code).strip().upper()
        if len(code) == 4 and code.isdigit():  # leading zero lost by a spreadsheet
            code = "0" + code
        return code

    def _index_of(self, code: str) -> int | None:
        code = self._clean_code(code)
        for table in (self._current, self._former, self._arrondissements):
            i = table.get(code)
            if i is not None:
                return i
        return None

    def get(self, code: str) -> Commune | None:
        """The current commune for a current INSEE code, a former code of a
        merged commune or a municipal arrondissement code; None if unknown."""
        i = self._index_of(code)
        return None if i is None else self._commune(i)

    def is_former_code(self, code: str) -> bool:
        """True when ``code`` is not a current INSEE code but the former code of
        a commune merged into a current one."""
        code = self._clean_code(code)
        return code not in self._current and code in self._former

    def by_postal_code(self, code: str) -> list[Commune]:
        """Every commune with the postal code ``code`` (five digits), most populated first."""
        code = str(code).strip()
        if not _POSTAL_RE.fullmatch(code):
            return []
        return [self._commune(i) for i in self._postal_exact(code)]

    def _postal_exact(self, code: str) -> list[int]:
        """Rows with the postal code ``code``: a five-digit prefix of a five-digit code is the code itself."""
        if not _POSTAL_RE.fullmatch(code):
            return []
        return self._search_postal(code, len(self._rows))

    def postal_code_homonyms(self, code: str) -> list[Commune]:
        """The communes other than the one whose INSEE code is ``code`` that have ``code`` as a postal code
        (BUD.md § 5.5: 59500 is Ribécourt-la-Tour's INSEE code and Douai's postal code). Most populated first;
        empty when the code is no postal code of another commune."""
        code = self._clean_code(code)
        own = self._index_of(code)
        return [self._commune(i) for i in self._postal_exact(code) if i != own]

    def population(self, code: str) -> int | None:
        """Population of the commune ``code`` resolves to (None if unknown)."""
        i = self._index_of(code)
        return None if i is None else self._rows[i][self._col["population"]]

    # -- search ------------------------------------------------------------- #

    def search(self, query: str, limit: int = 10) -> list[Commune]:
        """Communes matching ``query``, best first, at most ``limit``.

        * 5 digits: communes with that postal code (most populated first), then
          the commune whose INSEE code (current or former) it is;
        * an INSEE code of Corsica (2A/2B): that commune;
        * 2 to 4 digits: communes with a postal code starting with them (other
          digit-only queries match nothing);
        * otherwise a name, accent-, case- and punctuation-insensitive, "st"
          and "ste" standing for "saint" and "sainte": exact name, then name
          prefix, then word prefix, then substring, then substring ignoring
          spaces (so "labergement" finds "L'Abergement-Clémenciat"); within a
          tier, most populated first. The names of communes déléguées/associées
          and municipal arrondissements also lead to their current commune
          ("Lomme" -> Lille): by exact name or prefix just after the name
          prefix tier, by word prefix just after the word prefix tier.
        """
        if not isinstance(query, str) or limit <= 0:
            return []
        compact = "".join(query.split()).upper()
        if not compact:
            return []
        if _POSTAL_RE.fullmatch(compact) or _INSEE_RE.fullmatch(compact):
            found = self._search_postal(compact, len(self._rows)) if compact.isdigit() else []
            i = self._index_of(compact)
            if i is not None and i not in found:
                found.append(i)
            return [self._commune(i) for i in found[:limit]]
        if compact.isdigit():
            if not _POSTAL_PREFIX_RE.fullmatch(compact):
                return []
            return [self._commune(i) for i in self._search_postal(compact, limit)]
        return [self._commune(i) for i in self._search_name(query, limit)]

    def _search_postal(self, prefix: str, need: int) -> list[int]:
        """Best ranked communes with a postal code starting with ``prefix``."""
        return _scan(self._postal_text, " " + prefix, range(len(self._rows)), set(), need)

    def _search_name(self, query: str, limit: int) -> list[int]:
        variants = _query_variants(query)
        if not variants:
            return []
        results: list[int] = []
        taken: set[int] = set()
        names, others = self._names, self._other_names
        whole = list(dict.fromkeys(v.strip() for v in variants))
        # Without spaces; variants ending with a complete word ("saint ") are left
        # out, they would match any word starting the same way.
        compact = list(dict.fromkeys(v.replace(" ", "") for v in variants if not v.endswith(" ")))
        tiers: list[tuple[Callable[[str, set[int], int], list[int]], list[str]]] = [
            (names.exact, whole),
            (names.prefix, variants),
            (others.exact, whole),
            (others.prefix, variants),
            (names.word_prefix, variants),
            (others.word_prefix, variants),
            (names.substring, variants),
            (names.compact_substring, compact),
        ]
        for tier, patterns in tiers:
            need = limit - len(results)
            if need <= 0:
                break
            candidates = {i for pattern in patterns for i in tier(pattern, taken, need)}
            for i in sorted(candidates)[:need]:  # row number = rank
                results.append(i)
                taken.add(i)
        return results


@functools.cache
def load_reference() -> CommuneReference:
    """The national reference, loaded once per process."""
    return CommuneReference()


@dataclass(frozen=True, slots=True)
class Resolution:
    """The commune meant by a free text (a name, a postal code or an INSEE code), as the form reads it.

    ``commune`` is set when the text designates exactly one commune; otherwise ``candidates`` lists the
    communes it may mean (none: nothing matches). ``postal`` tells that the commune was found by its postal
    code."""

    text: str
    commune: Commune | None = None
    candidates: tuple[Commune, ...] = ()
    postal: bool = False
    code_insee_de: Commune | None = None  # read as a postal code, the text is also this commune's INSEE code


def resolve(text: str, reference: CommuneReference | None = None, limit: int = 10) -> Resolution:
    """Resolve ``text`` to one commune, or list the candidates.

    A five-digit text is read as a postal code first, as the form does: the one commune with that postal code
    (``62800``: Liévin, though it is also the INSEE code of Souastre, given in ``code_insee_de``), or, when
    several communes share it (``62300``: Lens and Éleu-dit-Leauwette; also the INSEE code of Équihen-Plage),
    the candidates, never one of them picked silently; otherwise the commune with that INSEE code. A name
    matching one commune exactly (accents and case ignored; «Saint-Amand (62)» restricted to department 62) is
    that commune."""
    reference = reference or load_reference()
    text = (text or "").strip()
    if not text:
        return Resolution(text)
    aside = re.search(r"\(([^)]*)\)", text)
    query = re.sub(r"\(.*?\)", " ", text).strip() or text
    found = reference.search(query, limit=limit)
    department = aside.group(1).strip().upper() if aside else ""
    if re.fullmatch(r"[0-9][0-9AB]", department):  # «Saint-Amand (62)»: the department settles it
        found = [c for c in found if c.departement == department]
    compact = "".join(query.split()).upper()
    if compact.isdigit() and len(compact) == 5:
        by_postal = [c for c in found if compact in c.codes_postaux]
        by_code = reference.get(compact)
        other = by_code if by_code is not None and by_code not in by_postal else None
        if len(by_postal) == 1:
            return Resolution(text, by_postal[0], postal=True, code_insee_de=other)
        if by_postal:
            return Resolution(text, candidates=(*by_postal, *([other] if other else [])))
    if len(found) == 1:
        return Resolution(text, found[0])
    wanted = normalize(query)
    exact = [c for c in found if normalize(c.nom) == wanted]
    if len(exact) == 1:
        return Resolution(text, exact[0])
    return Resolution(text, candidates=(*exact, *(c for c in found if c not in exact)))  # exact names first


# --------------------------------------------------------------------------- #
# Suggestions (the commune field, the API): a chosen set first, typos tolerated
# --------------------------------------------------------------------------- #

# rapidfuzz's ratio (0-100, a normalised Indel similarity) at least this for a
# name to be suggested although it matches nothing as typed; at least the
# second when other communes match as typed; and never more than _FUZZY_SPREAD
# below the closest name.
_FUZZY_MIN_SCORE = 80
_FUZZY_MIN_SCORE_AFTER_MATCHES = 88
_FUZZY_SPREAD = 8
_FUZZY_MIN_LENGTH = 3


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A suggested commune; ``approchee`` when its name only resembles what was typed (a typo)."""

    commune: Commune
    approchee: bool = False


class _Preferred:
    """A set of communes ranked before all others (the BUD basin), with their normalized names, best ranked first."""

    __slots__ = ("ranks", "names", "postal")

    def __init__(self, reference: CommuneReference, codes: Iterable[str]) -> None:
        ranks = {i for i in map(reference._index_of, codes) if i is not None}
        self.ranks: list[int] = sorted(ranks)
        communes = [reference._commune(i) for i in self.ranks]
        self.names: list[str] = _normalize_lines([c.nom for c in communes])
        self.postal: list[tuple[str, ...]] = [c.codes_postaux for c in communes]


class CommuneSuggester:
    """Suggestions for what someone is typing in a commune field.

    The communes of ``preferred`` (for this tool, the communes of the basin) come first when their name is the
    query or starts with it, or has a word starting with it (exact name, then name prefix, then word prefix; most
    populated first within each), or when a postal code of theirs starts with the digits typed. Then come the
    reference's own matches (``CommuneReference.search``). When these are fewer than asked for, names close to
    the query (at least 3 characters typed; rapidfuzz ratio >= 80, or >= 88 after matches as typed, and within 8
    of the closest) fill the list, marked ``approchee``: the preferred communes first (their full name or its
    beginning), then the others, closest first."""

    def __init__(self, reference: CommuneReference, preferred: Iterable[str] = ()) -> None:
        self.reference = reference
        self.preferred = _Preferred(reference, preferred)
        # Every normalized name and its rank, by length, built at the first typo.
        self._by_length: dict[int, tuple[list[str], list[int]]] | None = None

    def _names_of_length(self, low: int, high: int) -> Iterator[tuple[list[str], list[int]]]:
        """The normalized names of ``low`` to ``high`` characters, with their ranks, by length (a ratio of at
        least 80 needs lengths within a factor of 1.5, so a typo is compared with some of the names only)."""
        if self._by_length is None:
            text = self.reference._names.text
            by_length: dict[int, tuple[list[str], list[int]]] = {}
            for rank, line in enumerate(text[1:-1].split("\n")):
                name = line[: line.find(_TAG_SEP)]
                names, ranks = by_length.setdefault(len(name), ([], []))
                names.append(name)
                ranks.append(rank)
            self._by_length = by_length
        for size in range(low, high + 1):
            if size in self._by_length:
                yield self._by_length[size]

    def suggest(self, query: str, limit: int = 10) -> list[Suggestion]:
        if not isinstance(query, str) or limit <= 0:
            return []
        compact = "".join(query.split())
        if not compact:
            return []
        if compact.isdigit():
            first = [rank for rank, codes in zip(self.preferred.ranks, self.preferred.postal)
                     if any(code.startswith(compact) for code in codes)]
            variants: list[str] = []
        else:
            variants = _query_variants(query)
            first = self._preferred_by_name(variants)
        ranks = list(dict.fromkeys(first))[:limit]
        taken = set(ranks)
        reference = self.reference
        for commune in reference.search(query, limit=limit + len(ranks)):
            if len(ranks) >= limit:
                break
            rank = reference._current[commune.insee]
            if rank not in taken:
                ranks.append(rank)
                taken.add(rank)
        suggestions = [Suggestion(reference._commune(rank)) for rank in ranks]
        if len(suggestions) < limit and variants and len(compact) >= _FUZZY_MIN_LENGTH:
            cutoff = _FUZZY_MIN_SCORE_AFTER_MATCHES if suggestions else _FUZZY_MIN_SCORE
            for rank in self._close_names(variants, taken, limit - len(suggestions), cutoff):
                suggestions.append(Suggestion(reference._commune(rank), approchee=True))
        return suggestions

    def _preferred_by_name(self, variants: list[str]) -> list[int]:
        whole = [v.strip() for v in variants]
        exact, prefix, word = [], [], []
        for rank, name in zip(self.preferred.ranks, self.preferred.names):
            if name in whole:
                exact.append(rank)
            elif any(name.startswith(v) for v in variants):
                prefix.append(rank)
            elif any((" " + v) in (" " + name) for v in variants):
                word.append(rank)
        return exact + prefix + word

    def _close_names(self, variants: list[str], taken: set[int], need: int, cutoff: float) -> list[int]:
        from rapidfuzz import fuzz, process  # imported at the first typo only

        patterns = list(dict.fromkeys(v.strip() for v in variants))
        scores: dict[int, float] = {}
        preferred = set(self.preferred.ranks)
        # Preferred communes: the whole name, or its beginning (a name still being typed, with a typo).
        for pattern in patterns:
            size = len(pattern)
            for rank, name in zip(self.preferred.ranks, self.preferred.names):
                if rank in taken:
                    continue
                score = max(fuzz.ratio(pattern, name), fuzz.ratio(pattern, name[:size]) if size >= 4 else 0)
                if score >= cutoff and score > scores.get(rank, 0):
                    scores[rank] = score
        for pattern in patterns:
            # ratio = 200 * matches / (len(a) + len(b)) >= cutoff needs len(b) within these bounds.
            low = math.ceil(len(pattern) * cutoff / (200 - cutoff))
            high = math.floor(len(pattern) * (200 - cutoff) / cutoff)
            for names, ranks in self._names_of_length(low, high):
                for _, score, i in process.extract(pattern, names, scorer=fuzz.ratio, processor=None,
                                                   limit=need + len(taken) + 5, score_cutoff=cutoff):
                    rank = ranks[i]
                    if rank not in taken and score > scores.get(rank, 0):
                        scores[rank] = score
        if not scores:
            return []
        floor = max(scores.values()) - _FUZZY_SPREAD
        ordered = sorted((rank for rank, score in scores.items() if score >= floor),
                         key=lambda rank: (rank not in preferred, -scores[rank], rank))
        return ordered[:need]
