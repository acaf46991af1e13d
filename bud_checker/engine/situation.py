"""The situation of a company, parsed and validated.

Every key is optional except `date_creation`; a missing key or a `null` means «je ne sais pas». Bad input
raises `SituationError`, whose message is one French sentence naming the field and what is expected.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import field, make_dataclass
from functools import lru_cache
from typing import Any, Callable, Mapping

from ..communes import Commune, load_reference
from .fr import accord
from .schema import NOMBRE_MAX, situation_schema

SCHEMA = situation_schema()
KEYS: tuple[str, ...] = SCHEMA.keys
ACTIVITES: tuple[str, ...] = tuple(SCHEMA["activite"].choix)
ORIGINES: tuple[str, ...] = tuple(SCHEMA["origine"].choix)


def __getattr__(name: str) -> Any:
    """`LIBELLES`: the French label of each key (with the legal values in force today), built on first use."""
    if name == "LIBELLES":
        value = globals()["LIBELLES"] = {champ.id: champ.libelle() for champ in SCHEMA}
        return value
    raise AttributeError(name)


_DATE_MIN = dt.date(1900, 1, 1)
_DATE_MAX = dt.date(2100, 12, 31)
_TRUE = {"true", "oui", "vrai", "1", "o", "yes"}
_FALSE = {"false", "non", "faux", "0", "n", "no"}
_UNKNOWN = {"", "je ne sais pas", "inconnu", "inconnue", "nsp", "null", "none"}
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class SituationError(ValueError):
    """Bad input: `champ` is the key at fault, `message` the French sentence for the user."""

    def __init__(self, champ: str, message: str):
        super().__init__(f"{champ} : {message}")
        self.champ = champ
        self.message = message
        self.champs: tuple[str, ...] = (champ,)  # every field involved, `champ` first

    def to_dict(self) -> dict[str, str]:
        return {"champ": self.champ, "message": self.message}


_PYTHON_TYPES = {"date": dt.date, "commune": str, "choix": str, "booleen": bool, "nombre": float, "entier": int}


def _siege_en_zone(self: Any) -> bool | None:
    """The registered office in the zone: said directly, or implied by the shorthand answered «oui»."""
    if self.siege_dans_zone is not None:
        return self.siege_dans_zone
    return True if self.siege_et_moyens_dans_zone else None

def _activite_et_moyens_en_zone(self: Any) -> bool | None:
    """The whole activity and the operating means in the zone: said directly, or by the shorthand.

    The shorthand answered «non» says only that siège, activity and means are not all in the zone: with
    the siège known to be in the zone, it is the activity or the means that are not."""
    if self.activite_et_moyens_dans_zone is not None:
        return self.activite_et_moyens_dans_zone
    if self.siege_et_moyens_dans_zone is True:
        return True
    if self.siege_et_moyens_dans_zone is False and self.siege_dans_zone is True:
        return False
    return None


def _to_dict(self: Any) -> dict[str, Any]:
    """The situation as JSON-ready input (the inverse of `parse_situation`)."""
    out: dict[str, Any] = {}
    for name in KEYS:
        value = getattr(self, name)
        if value is None:
            continue
        out[name] = value.isoformat() if isinstance(value, dt.date) else value
    return out


# One attribute per field of rules/situation.yaml (None = «je ne sais pas»), then what is resolved from the
# input: the current commune and whether a former code of a merged commune was given.
Situation = make_dataclass(
    "Situation",
    [*((c.id, _PYTHON_TYPES[c.type]) for c in SCHEMA if c.obligatoire),
     *((c.id, _PYTHON_TYPES[c.type] | None, field(default=None)) for c in SCHEMA if not c.obligatoire),
     ("commune", Commune | None, field(default=None)),
     ("commune_code_ancien", bool, field(default=False))],
    frozen=True, slots=True, namespace={"to_dict": _to_dict, "__module__": __name__,
                                        "siege_en_zone": property(_siege_en_zone),
                                        "activite_et_moyens_en_zone": property(_activite_et_moyens_en_zone)},
)
Situation.__doc__ = "The situation of a company: one attribute per field of rules/situation.yaml."


def shown(value: Any, limit: int = 40) -> str:
    """User input echoed in a message: on one line, control characters removed, truncated."""
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in _text(value)).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _is_unknown(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip().lower() in _UNKNOWN)


def _date(key: str, value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        value = value.date()
    if not isinstance(value, dt.date):
        text = _text(value).strip()
        if not _ISO_DATE.match(text):
            raise SituationError(key, f"« {shown(text)} » n'est pas une date au format AAAA-MM-JJ (par exemple "
                                      "2019-05-14).")
        try:
            value = dt.date.fromisoformat(text)
        except ValueError:
            raise SituationError(key, f"« {text} » n'est pas une date qui existe au calendrier ; "
                                      "vérifiez le jour et le mois (format AAAA-MM-JJ).") from None
    if not _DATE_MIN <= value <= _DATE_MAX:
        raise SituationError(key, f"la date {value.isoformat()} est hors des bornes admises "
                                  f"({_DATE_MIN.isoformat()} à {_DATE_MAX.isoformat()}).")
    return value


_MAX_PLAUSIBLE = 1_000_000_000_000_000  # 10 ** 15: an input sanity bound, not law


def _text(value: Any) -> str:
    """str(value), except for an integer too long to print (over 4,300 digits Python refuses): its size."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return f"nombre de {int(value.bit_length() * 0.30103) + 1} chiffres"
    return str(value)


def _number(key: str, value: Any, *, integer: bool = False, maximum: float | None = None,
            signed: bool = False) -> float | int:
    kind = "un nombre entier" if integer else "un nombre"
    expected = kind if signed else f"{kind} positif ou nul"
    if isinstance(value, bool):
        raise SituationError(key, f"attendu {expected}, pas une valeur oui/non.")
    if isinstance(value, str):
        text = value.strip().replace("\u202f", "").replace("\xa0", "").replace(" ", "").replace(",", ".")
        try:
            value = float(text) if text else math.nan
        except ValueError:
            raise SituationError(key, f"« {shown(value.strip())} » n'est pas {kind} ; attendu {expected}.") from None
    if not isinstance(value, (int, float)) or isinstance(value, complex):
        raise SituationError(key, f"attendu {expected}.")
    if isinstance(value, int) and not -_MAX_PLAUSIBLE <= value <= _MAX_PLAUSIBLE:
        # Not formatted: an integer of 310 digits overflows a float, one of 4,301 cannot even be printed.
        raise SituationError(key, f"nombre trop grand pour être plausible ; attendu {kind} d'au plus 15 chiffres.")
    if isinstance(value, float) and not math.isfinite(value):
        raise SituationError(key, f"attendu {kind} fini" + ("." if signed else ", positif ou nul."))
    if value < 0 and not signed:
        raise SituationError(key, f"la valeur {value:g} est négative ; attendu {kind} positif ou nul.")
    if maximum is not None and value > maximum:
        raise SituationError(key, f"la valeur {value:g} dépasse {maximum:g} ; attendu un pourcentage entre 0 et "
                                  f"{maximum:g}.")
    if abs(value) > 1e15:
        raise SituationError(key, f"la valeur {value:g} est trop grande pour être plausible.")
    if integer:
        if isinstance(value, float) and not value.is_integer():
            raise SituationError(key, f"la valeur {value:g} n'est pas un nombre entier de salariés.")
        return int(value)
    return value


def _boolean(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise SituationError(key, f"« {shown(_text(value))} » n'est pas une réponse admise ; attendu oui (true), non "
                              "(false) ou « je ne sais pas » (null).")


def _choice(key: str, value: Any, choices: tuple[str, ...]) -> str:
    text = str(value).strip().lower() if isinstance(value, str) else None
    if text not in choices:
        raise SituationError(key, f"« {shown(_text(value))} » n'est pas une valeur admise ; valeurs admises : "
                                  f"{', '.join(choices)}.")
    return text


def _commune(key: str, value: Any) -> tuple[str, Commune, bool]:
    if value.__class__ is str:
        return _commune_code(key, value)
    return _commune_any(key, value)


@lru_cache(maxsize=8192)
def _commune_code(key: str, value: str) -> tuple[str, Commune, bool]:
    return _commune_any(key, value)


def _commune_any(key: str, value: Any) -> tuple[str, Commune, bool]:
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise SituationError(key, "attendu un code INSEE de commune à 5 caractères, par exemple 59178 pour Douai.")
    if isinstance(value, int) and not 0 <= value < 10**5:
        raise SituationError(key, "attendu un code INSEE de commune à 5 caractères, par exemple 59178 pour Douai.")
    code = str(value).strip().upper()
    if isinstance(value, int) and len(code) == 4:
        code = "0" + code  # a spreadsheet dropped the leading zero
    if not re.fullmatch(r"[0-9][0-9AB][0-9]{3}", code):
        raise SituationError(key, f"« {shown(code)} » n'est pas un code INSEE (5 caractères, par exemple 59178 pour "
                                  "Douai ; ce n'est pas le code postal).")
    reference = load_reference()
    commune = reference.get(code)
    if commune is None:
        postal = reference.by_postal_code(code)
        if postal:
            names = ", ".join(f"{c.nom} (code INSEE {c.insee})" for c in postal[:4])
            raise SituationError(key, f"{code} n'est pas un code INSEE mais le code postal de : {names}"
                                      f"{' et d’autres' if len(postal) > 4 else ''} ; indiquez le code INSEE de la "
                                      "commune.")
        raise SituationError(key, f"le code INSEE {code} ne correspond à aucune commune française connue ; "
                                  "vérifiez-le ou recherchez la commune par son nom.")
    return code, commune, reference.is_former_code(code)


def _date_cached(key: str, value: Any) -> dt.date:
    if value.__class__ is str:
        return _iso_date(key, value)
    return _date(key, value)


@lru_cache(maxsize=8192)
def _iso_date(key: str, value: str) -> dt.date:
    return _date(key, value)


def _fast_number(parse: Callable[..., float | int], **options: Any) -> Callable[[str, Any], float | int]:
    integer, maximum = options.get("integer", False), options.get("maximum")

    def run(key: str, value: Any) -> float | int:
        # Plain in-range JSON numbers need no conversion; everything else goes through the full check.
        cls = value.__class__
        if (cls is int or (cls is float and not integer and value == value)) and 0 <= value <= (maximum or 1e15):
            return value
        return parse(key, value, **options)

    return run


def _parser(champ: Any) -> Callable[[str, Any], Any]:
    if champ.type == "date":
        return _date_cached
    if champ.type in ("nombre", "entier"):
        maximum = champ.max if champ.max < NOMBRE_MAX else None
        if champ.min < 0:  # a signed amount (a loss is a negative profit): the full check every time
            return lambda key, value: _number(key, value, integer=champ.type == "entier", maximum=maximum, signed=True)
        return _fast_number(_number, integer=champ.type == "entier", maximum=maximum)
    if champ.type == "booleen":
        return lambda key, value: value if value.__class__ is bool else _boolean(key, value)
    if champ.type == "choix":
        allowed = tuple(champ.choix)
        return lambda key, value: _choice(key, value, allowed)
    return _commune  # pragma: no cover - the commune is parsed apart (it resolves two more attributes)


_PARSERS: dict[str, Callable[[str, Any], Any]] = {c.id: _parser(c) for c in SCHEMA}
_REQUIRED = tuple(c for c in SCHEMA if c.obligatoire)
_AT_MOST = tuple((c.id, c.au_plus) for c in SCHEMA if c.au_plus)


def parse_situation(data: Any) -> Situation:
    """Validate a JSON-like mapping and return the `Situation`; raise `SituationError` on bad input."""
    if isinstance(data, Situation):
        return data
    if not isinstance(data, Mapping):
        raise SituationError("situation", "attendu un objet JSON (clé : valeur), par exemple "
                                          "{\"date_creation\": \"2019-05-14\", \"commune_insee\": \"59178\"}.")
    for key in data:
        if key not in _PARSERS:
            raise SituationError(shown(key, 60), "clé inconnue ; clés admises : " + ", ".join(KEYS) + ".")
    values: dict[str, Any] = {}
    for key, raw in data.items():
        if raw is None or (raw.__class__ is str and _is_unknown(raw)):
            continue
        if _PARSERS[key] is _commune:
            values[key], values["commune"], values["commune_code_ancien"] = _commune(key, raw)
        else:
            values[key] = _PARSERS[key](key, raw)
    for champ in _REQUIRED:
        if champ.id not in values:
            raise SituationError(champ.id, f"obligatoire ; indiquez la {champ.libelle()}"
                                           + (" au format AAAA-MM-JJ." if champ.type == "date" else "."))
    check_consistency(values)
    return Situation(**values)


def _n(value: float) -> str:
    return f"{value:g}".replace(".", ",")


def check_consistency(values: Mapping[str, Any]) -> None:
    """Answers that cannot all be true together: refused, naming the field and the fix.

    `SituationError.champs` lists every field involved (a form shows the error on the one it just asked)."""
    def refuse(champ: str, others: tuple[str, ...], message: str) -> None:
        error = SituationError(champ, message)
        error.champs = (champ, *others)
        raise error

    created, etablissement = values.get("date_creation"), values.get("date_creation_etablissement")
    if created is not None and etablissement is not None and etablissement < created:
        refuse("date_creation_etablissement", ("date_creation",),
               f"l'établissement ne peut pas avoir été créé ({etablissement.isoformat()}) avant le début d'activité de "
               f"l'entreprise ({created.isoformat()}) ; corrigez l'une des deux dates.")
    for part, whole, what in (("salaries_eligibles_residents_bud", "salaries_eligibles", ("salarié", "salariés")),
                              ("embauches_eligibles_residents_bud", "embauches_eligibles", ("embauché", "embauchés"))):
        if part in values and whole in values and values[part] > values[whole]:
            refuse(part, (whole,), f"{_n(values[part])} {accord(values[part], 'résident', 'résidents')} pour "
                                   f"{_n(values[whole])} {accord(values[whole], *what)} au total ; le nombre de "
                                   "résidents ne peut pas dépasser le total.")
    effectif, salaries = values.get("effectif"), values.get("salaries_eligibles")
    if effectif is not None and salaries is not None and salaries > effectif:
        refuse("effectif", ("salaries_eligibles",),
               f"l'effectif ({_n(effectif)}) est inférieur au nombre de {SCHEMA['salaries_eligibles'].libelle()} "
               f"({_n(salaries)}), qui en font partie ; corrigez l'effectif ou le nombre de salariés.")
    # The hiring clause counts, at the closing date, the qualifying employees hired since creation: they are
    # among the qualifying employees counted at that date (BUD.md § 2.9), so they cannot outnumber them.
    embauches = values.get("embauches_eligibles")
    if embauches is not None and salaries is not None and embauches > salaries:
        refuse("embauches_eligibles", ("salaries_eligibles",),
               f"{_n(embauches)} {accord(embauches, 'salarié embauché', 'salariés embauchés')} depuis la création, "
               f"plus que de {SCHEMA['salaries_eligibles'].libelle()} à la clôture ({_n(salaries)}) : les embauchés "
               "comptés sont ceux encore présents à la clôture, ils ne peuvent pas être plus nombreux ; corrigez l'un "
               "des deux nombres.")
    if embauches is not None and effectif is not None and embauches > effectif:
        refuse("embauches_eligibles", ("effectif",),
               f"{_n(embauches)} {accord(embauches, 'salarié embauché', 'salariés embauchés')} depuis la création "
               f"et {accord(embauches, 'présent', 'présents')} à la clôture pour un effectif de {_n(effectif)} ; "
               "corrigez l'un des deux nombres.")
    hired_residents = values.get("embauches_eligibles_residents_bud")
    residents = values.get("salaries_eligibles_residents_bud")
    if hired_residents is not None and residents is not None and hired_residents > residents:
        refuse("embauches_eligibles_residents_bud", ("salaries_eligibles_residents_bud",),
               f"{_n(hired_residents)} {accord(hired_residents, 'embauché', 'embauchés')} résidant dans un BUD pour "
               f"{_n(residents)} {accord(residents, 'salarié', 'salariés')} résidant dans un BUD : les embauchés "
               "présents à la clôture font partie des salariés ; corrigez l'un des deux nombres.")
    shorthand, siege, activite = (values.get("siege_et_moyens_dans_zone"), values.get("siege_dans_zone"),
                                  values.get("activite_et_moyens_dans_zone"))
    if shorthand is True and (siege is False or activite is False):
        refuse("siege_et_moyens_dans_zone", ("siege_dans_zone", "activite_et_moyens_dans_zone"),
               "réponse « oui » (tout est dans le bassin) contredite par siege_dans_zone ou "
               "activite_et_moyens_dans_zone à « non » ; retirez l'une des réponses.")
    if shorthand is False and siege is True and activite is True:
        refuse("siege_et_moyens_dans_zone", ("siege_dans_zone", "activite_et_moyens_dans_zone"),
               "réponse « non » contredite par siege_dans_zone et activite_et_moyens_dans_zone à « oui » ; "
               "retirez l'une des réponses.")
