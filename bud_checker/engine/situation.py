"""The situation of a company, parsed and validated.

Every key is optional except `date_creation`; a missing key or a `null` means «je ne sais pas». Bad input
raises `SituationError`, whose message is one French sentence naming the field and what is expected.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, fields
from functools import lru_cache
from typing import Any, Callable, Mapping

from ..communes import Commune, load_reference

ACTIVITES = ("industrielle", "commerciale", "artisanale", "liberale", "agricole", "civile")
ORIGINES = ("creation_pure", "reprise", "transfert", "concentration", "restructuration", "extension")
IMPOTS_SUR = ("is", "ir")

# The public labels of each key, in French, used in error messages and by the adapters.
LIBELLES: dict[str, str] = {
    "date_creation": "date de création (début d'activité)",
    "commune_insee": "commune d'implantation (code INSEE)",
    "activite": "nature de l'activité",
    "origine": "origine de l'entreprise",
    "effectif": "effectif salarié",
    "chiffre_affaires": "chiffre d'affaires annuel (€)",
    "total_bilan": "total du bilan (€)",
    "capital_detenu_par_societes_pct": "part du capital détenue par d'autres sociétés (%)",
    "siege_et_moyens_dans_zone": "siège, activité et moyens d'exploitation dans le bassin",
    "siege_dans_zone": "siège social dans le bassin",
    "activite_et_moyens_dans_zone": "ensemble de l'activité et moyens d'exploitation dans le bassin",
    "non_sedentaire": "activité non sédentaire",
    "ca_hors_zone_pct": "part du chiffre d'affaires réalisée hors du bassin (%)",
    "salaries_eligibles": "salariés en CDI ou CDD d'au moins 12 mois",
    "salaries_eligibles_residents_bud": "dont salariés résidant dans un bassin urbain à dynamiser",
    "embauches_eligibles": "salariés embauchés depuis la création (CDI ou CDD d'au moins 12 mois)",
    "embauches_eligibles_residents_bud": "dont embauchés résidant dans un bassin urbain à dynamiser",
    "date_creation_etablissement": "date de création de l'établissement",
    "deliberation_exoneration_cfe": "délibération de l'intercommunalité qui perçoit la CFE exonérant l'autre moitié (art. 1466 B)",
    "deliberation_exoneration_tfpb": "délibération de la commune (et de l'intercommunalité pour sa part) exonérant l'autre moitié de taxe foncière (art. 1383 F II)",
    "proprietaire_immeuble": "entreprise propriétaire de l'immeuble",
    "date_verification": "date de la vérification",
    # Optional, for the savings estimate only (never read by the conditions).
    "benefice_annuel_estime": "bénéfice imposable annuel estimé (€)",
    "impot_sur": "impôt sur les bénéfices (IS ou IR)",
    "taux_marginal_ir_pct": "taux marginal d'imposition du foyer à l'impôt sur le revenu (%)",
    "cfe_annuelle_estimee": "CFE annuelle estimée sans exonération (€)",
    "taxe_fonciere_annuelle_estimee": "taxe foncière annuelle estimée sans exonération (€)",
}

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


@dataclass(frozen=True, slots=True)
class Situation:
    date_creation: dt.date
    commune_insee: str | None = None
    activite: str | None = None
    origine: str | None = None
    effectif: float | None = None
    chiffre_affaires: float | None = None
    total_bilan: float | None = None
    capital_detenu_par_societes_pct: float | None = None
    siege_et_moyens_dans_zone: bool | None = None
    siege_dans_zone: bool | None = None
    activite_et_moyens_dans_zone: bool | None = None
    non_sedentaire: bool | None = None
    ca_hors_zone_pct: float | None = None
    # Counts of employees: part-time employees count pro rata of their contract hours, so decimals are allowed.
    salaries_eligibles: float | None = None
    salaries_eligibles_residents_bud: float | None = None
    embauches_eligibles: float | None = None
    embauches_eligibles_residents_bud: float | None = None
    date_creation_etablissement: dt.date | None = None
    deliberation_exoneration_cfe: bool | None = None
    deliberation_exoneration_tfpb: bool | None = None
    proprietaire_immeuble: bool | None = None
    # The day the check is made (to tell past deadlines from those ahead); the doors pass today's date.
    date_verification: dt.date | None = None
    benefice_annuel_estime: float | None = None
    impot_sur: str | None = None
    taux_marginal_ir_pct: float | None = None
    cfe_annuelle_estimee: float | None = None
    taxe_fonciere_annuelle_estimee: float | None = None
    # Resolved, not input: the current commune and whether a former code of a merged commune was given.
    commune: Commune | None = None
    commune_code_ancien: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The situation as JSON-ready input (the inverse of `parse_situation`)."""
        out: dict[str, Any] = {}
        for name in KEYS:
            value = getattr(self, name)
            if value is None:
                continue
            out[name] = value.isoformat() if isinstance(value, dt.date) else value
        return out

    @property
    def siege_en_zone(self) -> bool | None:
        """The registered office in the zone: said directly, or implied by the shorthand answered «oui»."""
        if self.siege_dans_zone is not None:
            return self.siege_dans_zone
        return True if self.siege_et_moyens_dans_zone else None

    @property
    def activite_et_moyens_en_zone(self) -> bool | None:
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


KEYS: tuple[str, ...] = tuple(f.name for f in fields(Situation) if f.name not in {"commune", "commune_code_ancien"})
assert set(KEYS) == set(LIBELLES)


def _show(value: Any, limit: int = 40) -> str:
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
            raise SituationError(key, f"« {_show(text)} » n'est pas une date au format AAAA-MM-JJ (par exemple 2019-05-14).")
        try:
            value = dt.date.fromisoformat(text)
        except ValueError:
            raise SituationError(key, f"« {text} » n'est pas une date qui existe au calendrier ; "
                                      "vérifiez le jour et le mois (format AAAA-MM-JJ).") from None
    if not _DATE_MIN <= value <= _DATE_MAX:
        raise SituationError(key, f"la date {value.isoformat()} est hors des bornes admises "
                                  f"({_DATE_MIN.isoformat()} à {_DATE_MAX.isoformat()}).")
    return value


_MAX_PLAUSIBLE = 10**15


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
            raise SituationError(key, f"« {_show(value.strip())} » n'est pas {kind} ; attendu {expected}.") from None
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
        raise SituationError(key, f"la valeur {value:g} dépasse {maximum:g} ; attendu un pourcentage entre 0 et 100.")
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
    raise SituationError(key, f"« {_show(_text(value))} » n'est pas une réponse admise ; attendu oui (true), non (false) "
                              "ou « je ne sais pas » (null).")


def _choice(key: str, value: Any, choices: tuple[str, ...]) -> str:
    text = str(value).strip().lower() if isinstance(value, str) else None
    if text not in choices:
        raise SituationError(key, f"« {_show(_text(value))} » n'est pas une valeur admise ; valeurs admises : {', '.join(choices)}.")
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
        raise SituationError(key, f"« {_show(code)} » n'est pas un code INSEE (5 caractères, par exemple 59178 pour Douai ; "
                                  "ce n'est pas le code postal).")
    reference = load_reference()
    commune = reference.get(code)
    if commune is None:
        postal = reference.by_postal_code(code)
        if postal:
            names = ", ".join(f"{c.nom} (code INSEE {c.insee})" for c in postal[:4])
            raise SituationError(key, f"{code} n'est pas un code INSEE mais le code postal de : {names}"
                                      f"{' et d’autres' if len(postal) > 4 else ''} ; indiquez le code INSEE de la commune.")
        raise SituationError(key, f"le code INSEE {code} ne correspond à aucune commune française connue ; "
                                  "vérifiez-le ou recherchez la commune par son nom.")
    return code, commune, reference.is_former_code(code)


_INTEGERS: set[str] = set()
_PERCENTAGES = {"capital_detenu_par_societes_pct", "ca_hors_zone_pct", "taux_marginal_ir_pct"}
# Employee counts are numbers, not integers: part-time employees count pro rata (BUD.md § 2.9).
_NUMBERS = {"effectif", "chiffre_affaires", "total_bilan", "cfe_annuelle_estimee", "taxe_fonciere_annuelle_estimee",
            "salaries_eligibles", "salaries_eligibles_residents_bud", "embauches_eligibles",
            "embauches_eligibles_residents_bud"}
_SIGNED_NUMBERS = {"benefice_annuel_estime"}  # a loss is a negative profit
_BOOLEANS = {"siege_et_moyens_dans_zone", "siege_dans_zone", "activite_et_moyens_dans_zone", "non_sedentaire",
             "deliberation_exoneration_cfe", "deliberation_exoneration_tfpb", "proprietaire_immeuble"}
_DATES = {"date_creation", "date_creation_etablissement", "date_verification"}


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


_PARSERS: dict[str, Callable[[str, Any], Any]] = {
    **{key: _date_cached for key in _DATES},
    **{key: _fast_number(_number, integer=True) for key in _INTEGERS},
    **{key: _fast_number(_number, maximum=100) for key in _PERCENTAGES},
    **{key: _fast_number(_number) for key in _NUMBERS},
    **{key: (lambda key, value: _number(key, value, signed=True)) for key in _SIGNED_NUMBERS},
    **{key: (lambda key, value: value if value.__class__ is bool else _boolean(key, value)) for key in _BOOLEANS},
    "activite": lambda key, value: _choice(key, value, ACTIVITES),
    "origine": lambda key, value: _choice(key, value, ORIGINES),
    "impot_sur": lambda key, value: _choice(key, value, IMPOTS_SUR),
}


def parse_situation(data: Any) -> Situation:
    """Validate a JSON-like mapping and return the `Situation`; raise `SituationError` on bad input."""
    if isinstance(data, Situation):
        return data
    if not isinstance(data, Mapping):
        raise SituationError("situation", "attendu un objet JSON (clé : valeur), par exemple "
                                          "{\"date_creation\": \"2019-05-14\", \"commune_insee\": \"59178\"}.")
    for key in data:
        if key not in LIBELLES:
            raise SituationError(_show(key, 60), "clé inconnue ; clés admises : " + ", ".join(KEYS) + ".")
    values: dict[str, Any] = {}
    for key, raw in data.items():
        if raw is None or (raw.__class__ is str and _is_unknown(raw)):
            continue
        if key == "commune_insee":
            values[key], values["commune"], values["commune_code_ancien"] = _commune(key, raw)
        else:
            values[key] = _PARSERS[key](key, raw)
    if "date_creation" not in values:
        raise SituationError("date_creation", "obligatoire ; indiquez la date de début d'activité au format AAAA-MM-JJ.")
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
    for part, whole, what in (("salaries_eligibles_residents_bud", "salaries_eligibles", "salariés"),
                              ("embauches_eligibles_residents_bud", "embauches_eligibles", "embauchés")):
        if part in values and whole in values and values[part] > values[whole]:
            refuse(part, (whole,), f"{_n(values[part])} résidents pour {_n(values[whole])} {what} au total ; le nombre "
                                   "de résidents ne peut pas dépasser le total.")
    effectif, salaries = values.get("effectif"), values.get("salaries_eligibles")
    if effectif is not None and salaries is not None and salaries > effectif:
        refuse("effectif", ("salaries_eligibles",),
               f"l'effectif ({_n(effectif)}) est inférieur au nombre de salariés en CDI ou CDD d'au moins 12 mois "
               f"({_n(salaries)}), qui en font partie ; corrigez l'effectif ou le nombre de salariés.")
    # The hiring clause counts, at the closing date, the qualifying employees hired since creation: they are
    # among the qualifying employees counted at that date (BUD.md § 2.9), so they cannot outnumber them.
    embauches = values.get("embauches_eligibles")
    if embauches is not None and salaries is not None and embauches > salaries:
        refuse("embauches_eligibles", ("salaries_eligibles",),
               f"{_n(embauches)} salariés embauchés depuis la création pour {_n(salaries)} salariés en CDI ou CDD "
               "d'au moins 12 mois à la clôture : les embauchés comptés sont ceux encore présents à la clôture, ils ne "
               "peuvent pas être plus nombreux ; corrigez l'un des deux nombres.")
    if embauches is not None and effectif is not None and embauches > effectif:
        refuse("embauches_eligibles", ("effectif",),
               f"{_n(embauches)} salariés embauchés depuis la création et présents à la clôture pour un effectif de "
               f"{_n(effectif)} ; corrigez l'un des deux nombres.")
    hired_residents, residents = values.get("embauches_eligibles_residents_bud"), values.get("salaries_eligibles_residents_bud")
    if hired_residents is not None and residents is not None and hired_residents > residents:
        refuse("embauches_eligibles_residents_bud", ("salaries_eligibles_residents_bud",),
               f"{_n(hired_residents)} embauchés résidant dans un BUD pour {_n(residents)} salariés résidant dans un BUD : "
               "les embauchés présents à la clôture font partie des salariés ; corrigez l'un des deux nombres.")
    shorthand, siege, activite = (values.get("siege_et_moyens_dans_zone"), values.get("siege_dans_zone"),
                                  values.get("activite_et_moyens_dans_zone"))
    if shorthand is True and (siege is False or activite is False):
        refuse("siege_et_moyens_dans_zone", ("siege_dans_zone", "activite_et_moyens_dans_zone"),
               "réponse « oui » (tout est dans le bassin) contredite par siege_dans_zone ou activite_et_moyens_dans_zone "
               "à « non » ; retirez l'une des réponses.")
    if shorthand is False and siege is True and activite is True:
        refuse("siege_et_moyens_dans_zone", ("siege_dans_zone", "activite_et_moyens_dans_zone"),
               "réponse « non » contredite par siege_dans_zone et activite_et_moyens_dans_zone à « oui » ; "
               "retirez l'une des réponses.")
