"""French formatting of dates, amounts and percentages for explanations (numbers: Babel, the CLDR rules for
French: narrow no-break space between thousands, decimal comma, up to three decimals)."""

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


def accord(value: float | None, singulier: str, pluriel: str) -> str:
    """The word that agrees with a number, by the French rule: singular below 2 (0, 1, 1,5), plural from 2."""
    return pluriel if value is None or abs(value) >= 2 else singulier


@lru_cache(maxsize=4096)
def nombre_fr(value: float) -> str:
    """12500000 -> «12 500 000»; 37.5 -> «37,5»; 0.375 -> «0,375»."""
    if float(value).is_integer():  # the common case, without loading Babel's locale data
        return f"{int(value):,}".replace(",", "\u202f")
    from babel.numbers import format_decimal

    return format_decimal(value, locale="fr_FR")


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


ORDINAUX = ("premier", "deuxième", "troisième", "quatrième", "cinquième", "sixième", "septième", "huitième",
            "neuvième", "dixième")


def jour_echeance_fr(spec: dict, lendemain: bool = False) -> str:
    """A deadline of rules/parameters/demarches.yaml as a day of the year: «le 31 décembre», «le deuxième jour
    ouvré suivant le 1er mai»; with `lendemain`, the day after it («le 1er janvier», for «avant le …»)."""
    day = dt.date(2000, spec["mois"], spec["jour"]) + dt.timedelta(days=1 if lendemain else 0)  # a leap year
    text = f"le {date_fr(day).rsplit(' ', 1)[0]}"
    count = spec.get("jours_ouvres_apres")
    if count:
        rang = ORDINAUX[count - 1] if count <= len(ORDINAUX) else f"{count}e"
        text = f"le {rang} jour ouvré suivant {text}"
    return text
