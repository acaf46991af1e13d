"""The rules catalogue: what a verdict would otherwise repeat, because it depends on the rules alone.

A verdict (format 3) cites its sources by id, names the general limits it is concerned by and holds only the
research notes and sentences about its own situation. Everything else — the table of every source (title,
address, dated address), the general limits of the tool, the research notes attached to each rule and the
static statement of a rule shown after the sentence about the case — is written once here, for one version of
the rules, and served at `GET /api/v1/regles/<id>` (the verdict's `regles` link).

`catalogue_id` is the rules version followed by a digest of this content: the statements and static notes
live partly in code, so the same `rules/` read by another release may say a rule in other words; a saved
check points to the exact words it was made with. Pure: built from `Rules` once and kept.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from functools import lru_cache
from typing import Any, Callable, Mapping

from .fr import typographie
from .law import Rules, Source

FORMAT = 3
# The path of the catalogue endpoint, as linked from each verdict (`regles`): part of the JSON contract.
CATALOGUE_PATH = "/api/v1/regles/"
AVERTISSEMENT = typographie(
    "Résultat indicatif, établi d'après les informations déclarées et les textes connus à la date des règles "
    "appliquées ; il ne remplace ni l'analyse d'un professionnel ni la position de l'administration fiscale (rescrit).")


def source_entry(source: Source) -> dict[str, Any]:
    """A source as the catalogue writes it: `url_version` (with `{date}`) when its address is dated."""
    out: dict[str, Any] = {"texte": source.texte, "url": source.url}
    if source.url_version:
        out["url_version"] = source.url_version
    if source.complementaire:
        out["complementaire"] = True
    return out


def _statement_variants(rules: Rules, statement: Callable[[Rules, dt.date], str]) -> list[dict[str, Any]]:
    """A rule's statement for every period of stable values: `[{"depuis": None, "texte"}, {"depuis": d, ...}]`
    (`depuis` None: the first, which also stands before the regime, as `Rules.value` does), equal ones merged."""
    out: list[dict[str, Any]] = []
    for day in (None, *rules.breakpoints):
        text = typographie(statement(rules, day or dt.date.min))
        if not out or out[-1]["texte"] != text:
            out.append({"depuis": day.isoformat() if day else None, "texte": text})
    return out


def statement_at(variants: list[Mapping[str, Any]] | None, on: str | None) -> str | None:
    """The statement in force on the ISO date `on` (the date of creation, at which the rules are read)."""
    chosen = None
    for variant in variants or ():
        if variant.get("depuis") is None or (on is not None and variant["depuis"] <= on):
            chosen = variant.get("texte")
    return chosen


@lru_cache(maxsize=4)
def catalogue(rules: Rules) -> dict[str, Any]:
    """The catalogue of `rules` (a shared dict: read it, do not change it)."""
    from .conditions import STATEMENTS
    from .schedules import STATIC_NOTES, TAX_STATEMENTS
    from .verdict import STATIC_REMEDIES_FR, STATIC_STEPS

    notes = {key: [typographie(n) for n in rule.notes] for key, rule in rules.conditions.items() if rule.notes}
    notes |= {key: [typographie(n) for n in values] for key, values in STATIC_NOTES.items()}
    statements = {key: {"position": "apres", "variantes": _statement_variants(rules, function)}
                  for key, function in STATEMENTS.items()}
    statements |= {key: {"position": "avant" if before else "apres", "variantes": _statement_variants(rules, function)}
                   for key, (function, before) in TAX_STATEMENTS.items()}
    body = {
        "regles_version": rules.empreinte,
        "format": FORMAT,
        "avertissement": AVERTISSEMENT,
        "limites": {limite.id: typographie(limite.texte) for limite in rules.limites},
        "notes": notes,
        "regles": statements,
        "demarches": {key: typographie(text) for key, text in STATIC_STEPS.items()},
        "rattrapages": dict(STATIC_REMEDIES_FR),
        "versions": {version.en_vigueur.isoformat(): typographie(version.modification) for version in rules.versions},
        "sources": {key: source_entry(source) for key, source in rules.sources.items()},
    }
    digest = hashlib.sha256(json.dumps(body, ensure_ascii=False, sort_keys=True).encode()).hexdigest()[:8]
    return {"id": f"{rules.empreinte}-{digest}", **body}


def catalogue_id(rules: Rules) -> str:
    return catalogue(rules)["id"]
