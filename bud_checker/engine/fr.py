"""French formatting of dates, amounts and percentages for explanations."""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache

MOIS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
        "novembre", "décembre")


def date_fr(date: dt.date) -> str:
    """2019-05-01 -> «1er mai 2019»."""
    day = "1er" if date.day == 1 else str(date.day)
    return f"{day} {MOIS[date.month - 1]} {date.year}"


@lru_cache(maxsize=4096)
def nombre_fr(value: float) -> str:
    """12500000 -> «12 500 000»; 37.5 -> «37,5»."""
    if float(value).is_integer():
        text = f"{int(value):,}".replace(",", "\u202f")
    else:
        text = f"{value:,.2f}".rstrip("0").rstrip(".").replace(",", "\u202f").replace(".", ",")
    return text


def euros(value: float) -> str:
    return f"{nombre_fr(value)}\u00a0€"


def pct(value: float) -> str:
    return f"{nombre_fr(value)}\u00a0%"


_SPACE_BEFORE = re.compile(r"(?<=\S) (?=[;:!?»])")
_SPACE_AFTER = re.compile(r"« ")


@lru_cache(maxsize=1 << 14)
def typographie(text: str) -> str:
    """French typography for a sentence shown to users: a non-breaking space before «:» and a narrow one before
    «;», «!», «?», and non-breaking spaces inside «…» (texts are written with ordinary spaces)."""
    if " " not in text:
        return text
    text = _SPACE_BEFORE.sub(lambda m: "\u00a0" if text[m.end()] in ":»" else "\u202f", text)
    return _SPACE_AFTER.sub("«\u00a0", text)


def valeur_fr(unite: str, value: object) -> str:
    """A parameter's value as quoted in a sentence: 50 %, 50 000 000 €, 1er janvier 2019, 250, 12."""
    if unite == "pourcentage":
        return pct(value)
    if unite == "euros":
        return euros(value)
    if unite == "date" and isinstance(value, dt.date):
        return date_fr(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return nombre_fr(value)
    return str(value)
