"""The glossary (rules/glossaire.yaml): the /glossaire page and the <abbr> marking of abbreviations in the pages.

`gloss` (a Jinja filter) escapes a text and marks the first use, on the page being rendered, of each
abbreviation of the glossary: `<abbr title="cotisation foncière des entreprises">CFE</abbr>`, inside a link to
its entry of /glossaire (touch screens show no title), or without the link where a link may not go (a
<summary>, a <label>). Later uses stay plain text.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import string
from dataclasses import dataclass
from typing import Any

import yaml
from flask import g, url_for
from markupsafe import Markup, escape

from ..engine.fr import euros, nombre_fr
from ..engine.law import Rules, current_rules


@dataclass(frozen=True)
class Source:
    texte: str
    url: str


@dataclass(frozen=True)
class Entry:
    id: str  # the anchor in /glossaire
    sigle: str | None
    terme: str  # what is shown as the entry's name
    developpe: str | None
    definition: str
    sources: tuple[Source, ...]


def _typography(text: str) -> str:
    """French spacing: a no-break space before : ; ! ? and inside « »."""
    text = re.sub(r" ([:;!?])", "\u00a0\\1", text)
    return text.replace("« ", "«\u00a0").replace(" »", "\u00a0»")


def _format_value(rules: Rules, parameter: str, on: dt.date) -> str:
    value = rules.value(parameter, on).valeur
    unit = rules.param(parameter).unite
    return euros(value) if unit == "euros" else nombre_fr(value)


@functools.lru_cache(maxsize=4)
def _entries(rules: Rules, on: dt.date) -> tuple[Entry, ...]:
    raw = yaml.safe_load((rules.directory / "glossaire.yaml").read_text(encoding="utf-8"))
    entries = []
    for item in raw["termes"]:
        sigle = item.get("sigle")
        name = sigle or item["terme"]
        fields = {field for _, field, _, _ in string.Formatter().parse(item["definition"]) if field}
        definition = _typography(item["definition"].format(**{f: _format_value(rules, f, on) for f in fields}))
        sources = []
        for source in item.get("sources", []):
            if "ref" in source:
                cited = rules.sources[source["ref"]]
                sources.append(Source(cited.texte, cited.url))
            else:
                sources.append(Source(source["texte"], source["url"]))
        entries.append(Entry(re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-"), sigle, name,
                             item.get("developpe"), definition, tuple(sources)))
    return tuple(sorted(entries, key=lambda e: e.terme.lower()))


def entries() -> tuple[Entry, ...]:
    return _entries(current_rules(), dt.date.today())


@functools.lru_cache(maxsize=4)
def _pattern(rules: Rules) -> re.Pattern[str]:
    sigles = sorted((e.sigle for e in _entries(rules, dt.date.today()) if e.sigle), key=len, reverse=True)
    return re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, sigles)) + r")(?![\w-])")


def gloss(text: Any, link: bool = True) -> Markup:
    """`text`, escaped, with the first use on this page of each abbreviation of the glossary marked."""
    if text is None:
        return Markup("")
    text = str(text)
    rules = current_rules()
    by_sigle = {e.sigle: e for e in _entries(rules, dt.date.today()) if e.sigle}
    seen: set[str] = g.setdefault("glossary_seen", set())
    parts: list[str] = []
    last = 0
    for match in _pattern(rules).finditer(text):
        sigle = match.group(1)
        if sigle in seen:
            continue
        seen.add(sigle)
        entry = by_sigle[sigle]
        parts.append(str(escape(text[last:match.start()])))
        abbr = f'<abbr title="{escape(entry.developpe)}">{escape(sigle)}</abbr>'
        if link:
            href = url_for("public.glossaire", _anchor=entry.id)
            abbr = f'<a class="gloss" href="{href}">{abbr}</a>'
        parts.append(abbr)
        last = match.end()
    parts.append(str(escape(text[last:])))
    return Markup("".join(parts))


def mark_seen(*sigles: str) -> str:
    """For a template: count these abbreviations as already explained on this page (returns "")."""
    g.setdefault("glossary_seen", set()).update(sigles)
    return ""
