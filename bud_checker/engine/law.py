"""The law as data: loads `rules/` and answers «which value was in force on this date?».

Nothing legal is written here: every date, rate, duration and threshold comes from the YAML files of
`rules/`, each value with the date from which it applies, its references and its confidence tag
(V = read in an official text, S = secondary source, U = unverified).
"""

from __future__ import annotations

import bisect
import csv
import datetime as dt
import hashlib
import os
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import yaml

from .rules_schema import CONDITIONS, LIMITES, PARAMETERS, SOURCES, ListesModel, VersionsModel, check, check_value

try:  # the C loader is ten times faster; fall back to pure Python where libyaml is absent
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on the PyYAML build
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]  # the pure-Python loader, same interface

CONFIANCES = ("V", "S", "U")
# What a condition rests on (BUD.md, «How each tag reaches the user»): the article read in its official text,
# the administration's doctrine or fiches, agreeing secondary sources, or an uncertain point.
FONDEMENTS = ("texte", "doctrine", "sources_concordantes", "incertain")
# Hosts of official sources: a reference shown to users must be on one of them (or under one of them).
OFFICIAL_HOSTS = ("legifrance.gouv.fr", "bofip.impots.gouv.fr", "impots.gouv.fr", "service-public.fr",
                  "eur-lex.europa.eu", "prefectures-regions.gouv.fr", "assemblee-nationale.fr", "senat.fr",
                  "gouv.fr")


def is_official_url(url: str) -> bool:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host = (parts.hostname or "").rstrip(".").lower()
    return parts.scheme == "https" and any(host == h or host.endswith("." + h) for h in OFFICIAL_HOSTS)


def rules_dir() -> Path:
    """The `rules/` directory: `BUD_RULES_DIR` if set, else this installation's (bud_checker.resources)."""
    override = os.environ.get("BUD_RULES_DIR")
    if override:
        return Path(override)
    from ..resources import data_dir

    return data_dir("rules")


def read_yaml(path: Path) -> Any:
    """A YAML file of rules/; RulesError naming the file when it is missing or not valid YAML."""
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.load(handle, Loader=_Loader)
    except OSError:
        raise RulesError(f"{_name(path)} : fichier introuvable ou illisible") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (ligne {mark.line + 1})" if mark else ""
        raise RulesError(f"{_name(path)} : YAML invalide{where}") from None
    except ValueError as error:  # a date that does not exist (2018-13-01), met while reading the YAML
        raise RulesError(f"{_name(path)} : valeur impossible ({error})") from None


def _name(path: Path) -> str:
    """The file as named in messages: relative to rules/ (parameters/x.yaml), else its name."""
    parts = path.parts
    if "parameters" in parts or "communes" in parts:
        return "/".join(parts[-2:])
    return path.name


class RulesError(Exception):
    """`rules/` is malformed: raised at load time, never while evaluating a situation."""


@dataclass(frozen=True, slots=True, eq=False)
class Reference:
    """One legal source, as cited next to a result: which source, which paragraph, which version.

    In a verdict a reference is written `{"source": id, "precision": ...}`: the source itself (title, address,
    the version applied) is written once, in the verdict's `sources` table."""

    source: "Source"
    precision: str | None
    version: str | None

    @property
    def texte(self) -> str:
        return f"{self.source.texte}, {self.precision}" if self.precision else self.source.texte

    @property
    def url(self) -> str:
        return self.source.url_at(self.version)

    @property
    def confiance(self) -> str:
        return self.source.confiance

    @property
    def complementaire(self) -> bool:
        return self.source.complementaire

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source.id, "precision": self.precision} if self.precision else {"source": self.source.id}


@dataclass(frozen=True, slots=True, eq=False)
class Source:
    """An entry of rules/references.yaml."""

    id: str
    texte: str
    url: str
    confiance: str
    url_version: str | None = None
    complementaire: bool = False

    def cite(self, precision: str | None = None, version: str | None = None) -> Reference:
        return _cite(self, precision, version)

    def url_at(self, version: str | None) -> str:
        """The address of the text as it stood on `version` (when the source has versioned addresses)."""
        return self.url_version.format(date=version) if (self.url_version and version) else self.url

    def to_dict(self, version: str | None = None) -> dict[str, Any]:
        """The entry of a verdict's `sources` table; `version` is the version applied (versioned sources)."""
        out: dict[str, Any] = {"texte": self.texte, "url": self.url_at(version)}
        if self.url_version and version:
            out["version"] = version
        if self.complementaire:
            out["complementaire"] = True
        return out


@lru_cache(maxsize=8192)
def _cite(source: Source, precision: str | None, version: str | None) -> Reference:
    """References are immutable and cited again and again: build each one once."""
    return Reference(source, precision, version)


@dataclass(frozen=True, slots=True, eq=False)
class Citation:
    """A pointer from a rule to a source, with the paragraph and the version it cites."""

    source: Source
    precision: str | None = None
    version: str | None = None

    def reference(self, version: str | None = None) -> Reference:
        """The reference, pinned to `version` when the citation does not fix one itself."""
        return self.source.cite(self.precision, self.version or version)


@dataclass(frozen=True, slots=True, eq=False)
class ParameterValue:
    depuis: dt.date
    valeur: Any
    confiance: str
    citations: tuple[Citation, ...]
    refs: tuple[Reference, ...] = ()

    def references(self) -> list[Reference]:
        return list(self.refs)


@dataclass(frozen=True, slots=True, eq=False)
class Parameter:
    """A dated legal value: the value in force on a date is the last one whose `depuis` is not after it."""

    id: str
    libelle: str
    unite: str
    description: str | None
    valeurs: tuple[ParameterValue, ...]
    fichier: str
    par_annee_d_imposition: bool = False
    _starts: tuple[dt.date, ...] = field(default=(), repr=False)

    def at(self, date: dt.date) -> ParameterValue | None:
        """The value in force on `date`, or None before the first one."""
        index = bisect.bisect_right(self._starts, date) - 1
        return self.valeurs[index] if index >= 0 else None

    def first(self) -> ParameterValue:
        return self.valeurs[0]

    def last(self) -> ParameterValue:
        return self.valeurs[-1]


@dataclass(frozen=True, slots=True, eq=False)
class LawVersion:
    en_vigueur: dt.date
    modification: str
    confiance: str
    texte_modificateur: Source | None


@dataclass(frozen=True, slots=True, eq=False)
class ConditionRule:
    id: str
    libelle: str
    resume: str
    confiance: str
    parametres: tuple[str, ...]
    citations: tuple[Citation, ...]
    fondement: str = "texte"
    notes: tuple[str, ...] = ()  # research notes for experts («Sources et degré de certitude»)


@dataclass(frozen=True, slots=True, eq=False)
class Limite:
    """A general limit of the tool (rules/limites.yaml), stated once per verdict when it concerns it."""

    id: str
    texte: str
    conditions: tuple[str, ...]  # empty: every verdict
    exoneration: bool = False  # only where an exemption may apply (not in a «non éligible» verdict)

@dataclass(frozen=True, slots=True, eq=False)
class CommuneList:
    id: str
    libelle: str
    acte: str
    categorie: str
    classee_depuis: dt.date
    citations: tuple[Citation, ...]


@dataclass(frozen=True, slots=True, eq=False)
class Confidence:
    id: str
    libelle: str
    a_confirmer: bool
    fondement: str = "sources_concordantes"


@dataclass(frozen=True, slots=True, eq=False)
class BudCommune:
    """A commune of a BUD list, with the evidence that puts it there."""

    insee: str
    nom: str
    departement: str
    liste: CommuneList
    confiance: Confidence
    sources: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class Rules:
    """Everything `rules/` says, loaded once."""

    directory: Path
    sources: dict[str, Source]
    parametres: dict[str, Parameter]
    versions: tuple[LawVersion, ...]
    article: Source
    conditions: dict[str, ConditionRule]
    listes: dict[str, CommuneList]
    communes_bud: dict[str, BudCommune]
    empreinte: str
    limites: tuple[Limite, ...] = ()
    # Every date on which some parameter changes: between two of them, all values stand still, so the
    # values in force are looked up once per period («epoch») and kept.
    _breakpoints: tuple[dt.date, ...] = field(default=(), repr=False)
    _epochs: dict[int, dict[str, ParameterValue]] = field(default_factory=dict, repr=False)

    def param(self, parameter_id: str) -> Parameter:
        return self.parametres[parameter_id]

    @property
    def breakpoints(self) -> tuple[dt.date, ...]:
        """Every date on which some parameter changes, in order."""
        return self._breakpoints

    def epoch(self, date: dt.date) -> int:
        """The index of the period, between two parameter changes, that contains `date`."""
        return bisect.bisect_right(self._breakpoints, date)

    def canonical_date(self, date: dt.date) -> dt.date:
        """The earliest day of `date`'s year on which exactly the same values are in force as on `date`."""
        epoch = self.epoch(date)
        start = dt.date(date.year, 1, 1)
        return max(start, self._breakpoints[epoch - 1]) if epoch else start

    def values_at(self, date: dt.date) -> dict[str, ParameterValue]:
        """Every parameter's value in force on `date` (before its first value, its first one)."""
        epoch = bisect.bisect_right(self._breakpoints, date)
        values = self._epochs.get(epoch)
        if values is None:
            values = {pid: p.at(date) or p.first() for pid, p in self.parametres.items()}
            self._epochs[epoch] = values
        return values

    def value(self, parameter_id: str, date: dt.date) -> ParameterValue:
        """The value in force on `date`; before the first value, the first one (the regime did not exist)."""
        return self.values_at(date)[parameter_id]

    def version_at(self, date: dt.date) -> LawVersion:
        """The article version in force on `date` (the first one for earlier dates)."""
        starts = [v.en_vigueur for v in self.versions]
        index = bisect.bisect_right(starts, date) - 1
        return self.versions[max(index, 0)]


def _as_date(value: Any, where: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise RulesError(f"{where}: date invalide {value!r}") from exc


def _citations(raw: list[dict[str, Any]] | None, sources: dict[str, Source], where: str) -> tuple[Citation, ...]:
    citations = []
    for item in raw or []:
        ref = item.get("ref")
        if ref not in sources:
            raise RulesError(f"{where} : référence inconnue {ref!r} (absente de references.yaml)")
        version = item.get("version")
        citations.append(Citation(sources[ref], item.get("precision"), str(version) if version else None))
    return tuple(citations)


def _load_sources(directory: Path) -> dict[str, Source]:
    raw = read_yaml(directory / "references.yaml")
    check(SOURCES, raw, "references.yaml")
    sources = {}
    for key, item in raw.items():
        source = Source(key, item["texte"], item["url"], item["confiance"], item.get("url_version"),
                        bool(item.get("complementaire")))
        addresses = (source.url, source.url_version or source.url)
        if not source.complementaire and not all(is_official_url(u) for u in addresses):
            raise RulesError(f"references.yaml : {key} : une source officielle doit être sur un site officiel "
                             f"({source.url}) ; sinon, marquez-la « complementaire: true »")
        sources[key] = source
    return sources


def _require_official(citations: tuple[Citation, ...], where: str) -> None:
    if citations and all(c.source.complementaire for c in citations):
        raise RulesError(f"{where}: au moins une source officielle doit être citée (les autres sont complémentaires)")


def _load_parameters(directory: Path, sources: dict[str, Source]) -> dict[str, Parameter]:
    parameters: dict[str, Parameter] = {}
    for path in sorted((directory / "parameters").glob("*.yaml")):
        fichier = f"parameters/{path.name}"
        content = read_yaml(path) or {}
        check(PARAMETERS, content, fichier)
        for key, item in content.items():
            where = f"{fichier} : {key}"
            if key in parameters:
                raise RulesError(f"{where} : paramètre défini deux fois")
            values = []
            for index, raw in enumerate(item["valeurs"]):
                check_value(item["unite"], raw["valeur"], fichier, f"{key}.valeurs.{index}.valeur")
                citations = _citations(raw.get("references"), sources, f"{where}.valeurs.{index}")
                _require_official(citations, where)
                values.append(ParameterValue(_as_date(raw.get("depuis"), where), raw.get("valeur"),
                                             raw["confiance"], citations, tuple(c.reference() for c in citations)))
            values.sort(key=lambda v: v.depuis)
            parameters[key] = Parameter(
                id=key, libelle=item["libelle"], unite=item.get("unite", ""),
                description=(item.get("description") or "").strip() or None,
                valeurs=tuple(values), fichier=f"parameters/{path.name}",
                par_annee_d_imposition=bool(item.get("par_annee_d_imposition")),
                _starts=tuple(v.depuis for v in values),
            )
    return parameters


def _load_communes(directory: Path, sources: dict[str, Source]) -> tuple[dict[str, CommuneList], dict[str, BudCommune]]:
    raw = read_yaml(directory / "communes" / "listes.yaml")
    check(ListesModel, raw, "communes/listes.yaml")
    listes = {
        key: CommuneList(key, item["libelle"], item["acte"], item["categorie"], _as_date(item["classee_depuis"], key),
                         _citations(item.get("references"), sources, f"communes/listes.yaml : listes.{key}"))
        for key, item in raw["listes"].items()
    }
    confidences = {key: Confidence(key, item["libelle"], bool(item["a_confirmer"]),
                                   item.get("fondement", "sources_concordantes"))
                   for key, item in raw["confiances"].items()}
    communes: dict[str, BudCommune] = {}
    with (directory / "communes" / "bud_communes.csv").open(encoding="utf-8", newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            if row["list"] not in listes or row["confidence"] not in confidences:
                raise RulesError(f"communes/bud_communes.csv : ligne {line} : liste {row['list']!r} ou confiance "
                                 f"{row['confidence']!r} absente de communes/listes.yaml")
            communes[row["insee_code"]] = BudCommune(
                insee=row["insee_code"], nom=row["name"], departement=row["department"],
                liste=listes[row["list"]], confiance=confidences[row["confidence"]],
                sources=tuple(s.strip() for s in row["source"].split("|") if s.strip()),
            )
    candidates = directory / "communes" / "bud_candidats_non_sources.csv"
    with candidates.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["insee_code"] in communes:
                continue  # a sourced row always wins over a candidate
            communes[row["insee_code"]] = BudCommune(
                insee=row["insee_code"], nom=row["name"], departement=row["insee_code"][:2],
                liste=listes["candidat_non_source"], confiance=confidences["non_sourcee"],
                sources=("Part de la commune dans le contour ANCT du BUD : "
                         f"{row['share_of_commune_inside_anct_bud_polygon']} ; intercommunalité actuelle : "
                         f"{row['epci_2026']}",),
            )
    return listes, communes


def _fingerprint(directory: Path) -> str:
    """A hash of every file under rules/ except the generated national reference (the rules version)."""
    digest = hashlib.sha256()
    for path in sorted(directory.rglob("*")):
        if (path.is_file() and path.suffix in {".yaml", ".csv", ".yml"}
                and "tests" not in path.relative_to(directory).parts):
            digest.update(str(path.relative_to(directory)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def load_rules(directory: Path | None = None) -> Rules:
    directory = directory or rules_dir()
    sources = _load_sources(directory)
    parameters = _load_parameters(directory, sources)
    raw_versions = read_yaml(directory / "versions.yaml")
    check(VersionsModel, raw_versions, "versions.yaml")
    for key, ref in (("article", raw_versions["article"]),
                     *((f"versions.{i}.texte_modificateur", v.get("texte_modificateur"))
                       for i, v in enumerate(raw_versions["versions"]))):
        if ref is not None and ref not in sources:
            raise RulesError(f"versions.yaml : {key} : référence inconnue {ref!r} (absente de references.yaml)")
    article = sources[raw_versions["article"]]
    versions = tuple(sorted(
        (LawVersion(_as_date(v["en_vigueur"], "versions.yaml"), v["modification"], v["confiance"],
                    sources.get(v["texte_modificateur"]) if v.get("texte_modificateur") else None)
         for v in raw_versions["versions"]),
        key=lambda v: v.en_vigueur,
    ))
    raw_conditions = read_yaml(directory / "conditions.yaml")
    check(CONDITIONS, raw_conditions, "conditions.yaml")
    conditions = {
        key: ConditionRule(key, item["libelle"], item["resume"], item["confiance"], tuple(item.get("parametres") or ()),
                           _citations(item.get("references"), sources, f"conditions.yaml : {key}"),
                           item.get("fondement"), tuple(item.get("notes") or ()))
        for key, item in raw_conditions.items()
    }
    for condition in conditions.values():
        if condition.fondement not in FONDEMENTS:
            raise RulesError(f"conditions.yaml: {condition.id}: fondement manquant ou invalide "
                             f"({' / '.join(FONDEMENTS)})")
        _require_official(condition.citations, f"conditions.yaml: {condition.id}")
        for parameter_id in condition.parametres:
            if parameter_id not in parameters:
                raise RulesError(f"conditions.yaml : {condition.id}.parametres : paramètre inconnu {parameter_id!r}")
    listes, communes = _load_communes(directory, sources)
    limites_path = directory / "limites.yaml"
    raw_limites = (read_yaml(limites_path) or {}) if limites_path.exists() else {}
    check(LIMITES, raw_limites, "limites.yaml")
    limites = tuple(Limite(key, " ".join(item["texte"].split()), tuple(item.get("conditions") or ()),
                           bool(item.get("exoneration")))
                    for key, item in raw_limites.items())
    for limite in limites:
        for condition_id in limite.conditions:
            if condition_id not in conditions:
                raise RulesError(f"limites.yaml: {limite.id}: condition inconnue {condition_id}")
    breakpoints = tuple(sorted({v.depuis for p in parameters.values() for v in p.valeurs}))
    rules = Rules(directory, sources, parameters, versions, article, conditions, listes, communes,
                  _fingerprint(directory), limites, breakpoints)
    if (directory / "situation.yaml").exists():
        from .schema import check_against_rules, read_schema

        check_against_rules(read_schema(directory), rules)
    return rules


@cache
def current_rules() -> Rules:
    """The rules of this installation, loaded once per process."""
    return load_rules()
