"""What the regime is worth, estimated: the tax saved, year by year, from the exemption schedules.

Pure: reads the schedules the verdict already holds (profit-tax periods of art. 44 sexdecies I, with the
non-sedentary pro rata already in their effective rates; CFE and TFPB years of art. 1463 A / 1466 B / 1383 F)
and the optional figures the user gave (yearly profit, IS or IR, marginal IR rate, yearly CFE and property
tax due without the exemption). The corporate-tax rates come from rules/parameters/impot_societes.yaml
(CGI art. 219), read for each exercise. Never used by the verdict itself.

Assumptions, all stated in `hypotheses`: each 12-month period of the profit schedule is one exercise with
the yearly profit given; the same CFE and property tax every year; the EU State-aid ceiling is not applied.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from dateutil.relativedelta import relativedelta

from .fr import euros, pct, typographie
from .law import Reference, Rules
from .results import add_references
from .schedules import Exoneration, Periode
from .situation import Situation

ESTIMATION_INPUTS = ("benefice_annuel_estime", "cfe_annuelle_estimee", "taxe_fonciere_annuelle_estimee")


@dataclass(frozen=True, slots=True)
class Exercice:
    """One 12-month period of the profit schedule, taken as one exercise."""

    debut: dt.date
    fin: dt.date
    taux_exoneration: float  # the effective share exempt (non-sedentary pro rata included)


def wanted(situation: Situation) -> bool:
    """True when the user gave at least one figure to estimate from."""
    return any(getattr(situation, key) is not None for key in ESTIMATION_INPUTS)


def exercices(rules: Rules, profit: Exoneration) -> list[Exercice]:
    """The profit schedule cut into 12-month periods (the full-exemption period spans several of them)."""
    if not profit.periodes:
        return []
    step = rules.value("duree_periode_degressive_mois", profit.periodes[0].debut).valeur
    out = []
    for period in profit.periodes:
        rate = _effective(period)
        start = period.debut
        while start <= period.fin:
            month_start = dt.date(start.year, start.month, 1)
            end = min(period.fin, month_start + relativedelta(months=step, days=-1))
            out.append(Exercice(start, end, rate))
            start = end + dt.timedelta(days=1)
    return out


def _effective(period: Periode) -> float:
    return period.taux_exoneration if period.taux_exoneration_effectif is None else period.taux_exoneration_effectif


# --- corporate tax (CGI art. 219) ------------------------------------------------------------------------

def _bracket_tax(bareme: list[dict[str, Any]], low: float, high: float) -> float:
    """Tax at the normal rates on the slice [low, high] of the profit."""
    tax, floor = 0.0, 0.0
    for tranche in bareme:
        ceiling = tranche.get("jusqu_a")
        top = high if ceiling is None else min(high, ceiling)
        bottom = max(low, floor)
        if top > bottom:
            tax += (top - bottom) * tranche["taux"] / 100
        if ceiling is None or ceiling >= high:
            break
        floor = ceiling
    return tax


@dataclass(frozen=True, slots=True)
class TauxReduit:
    applique: bool
    taux: float
    plafond: float


def _reduced_rate(rules: Rules, exercice: Exercice, situation: Situation) -> TauxReduit:
    limit = rules.value("is_taux_reduit_ca_maximum", exercice.debut).valeur
    ca = situation.chiffre_affaires
    ca_ok = ca is None or (ca <= limit["montant"] if limit["inclus"] else ca < limit["montant"])
    minimum = rules.value("is_taux_reduit_detention_personnes_physiques_min_pct", exercice.debut).valeur
    held = situation.capital_detenu_par_societes_pct
    capital_ok = held is None or 100 - held >= minimum
    return TauxReduit(ca_ok and capital_ok, rules.value("is_taux_reduit_pme_pct", exercice.debut).valeur,
                      rules.value("is_plafond_taux_reduit_pme", exercice.fin).valeur)


def impot_societes(rules: Rules, exercice: Exercice, benefice: float, situation: Situation) -> float:
    """Corporate tax on `benefice` for the exercise (normal rate by bracket, SME reduced rate if it applies)."""
    if benefice <= 0:
        return 0.0
    bareme = rules.value("is_taux_normal_bareme", exercice.debut).valeur
    tax = _bracket_tax(bareme, 0, benefice)
    reduit = _reduced_rate(rules, exercice, situation)
    if reduit.applique:
        part = min(benefice, reduit.plafond)
        tax += part * reduit.taux / 100 - _bracket_tax(bareme, 0, part)
    return tax


# --- the estimate ----------------------------------------------------------------------------------------

def _by_calendar_year(rows: list[tuple[dt.date, dt.date, float]]) -> dict[int, float]:
    """Amounts of periods spread over calendar years in proportion to their days."""
    out: dict[int, float] = {}
    for debut, fin, amount in rows:
        days = (fin - debut).days + 1
        for year in range(debut.year, fin.year + 1):
            start, end = max(debut, dt.date(year, 1, 1)), min(fin, dt.date(year, 12, 31))
            out[year] = out.get(year, 0.0) + amount * ((end - start).days + 1) / days
    return out


def _local(annual: float | None, tax: Exoneration) -> tuple[dict[int, float], bool]:
    """Yearly local-tax saving; the second value says whether a share on deliberation was left out as unknown."""
    if annual is None or tax.applicable is False:
        return {}, False
    out, unknown = {}, False
    for year in tax.annees:
        extra = year.part_sur_deliberation
        unknown = unknown or extra is None
        out[year.annee] = annual * ((year.part_de_droit or 0) + (extra or 0)) / 100
    return out, unknown


def estimate(rules: Rules, situation: Situation, statut_applicable: bool | None, profit: Exoneration,
             cfe: Exoneration, tfpb: Exoneration, references: tuple[Reference, ...]) -> dict[str, Any] | None:
    """The `economies` block of the verdict, or None when nothing was given to estimate from or nothing is
    exempt (`statut_applicable` False)."""
    if not wanted(situation) or statut_applicable is False:
        return None
    hypotheses: list[str] = []
    periods: list[dict[str, Any]] = []
    profit_rows: list[tuple[dt.date, dt.date, float]] = []
    benefice = situation.benefice_annuel_estime
    profit_estimated = False
    if benefice is not None:
        if benefice <= 0:
            hypotheses.append("Avec un bénéfice nul ou une perte, il n'y a pas d'impôt sur les bénéfices à exonérer : "
                              "aucune économie d'impôt sur les bénéfices.")
            profit_estimated = True
        elif situation.impot_sur is None:
            hypotheses.append("Impôt sur les sociétés ou impôt sur le revenu non indiqué : l'économie d'impôt sur les "
                              "bénéfices n'est pas estimée.")
        elif situation.impot_sur == "ir" and situation.taux_marginal_ir_pct is None:
            hypotheses.append("Taux marginal d'imposition du foyer non indiqué : l'économie d'impôt sur le revenu "
                              "n'est pas estimée.")
        else:
            profit_estimated = True
            periods, profit_rows = _profit_periods(rules, situation, profit, benefice, hypotheses)
    cfe_years, cfe_unknown = _local(situation.cfe_annuelle_estimee, cfe)
    tfpb_years: dict[int, float] = {}
    tfpb_unknown = False
    if situation.taxe_fonciere_annuelle_estimee is not None:
        if situation.proprietaire_immeuble is False:
            hypotheses.append("L'entreprise n'étant pas propriétaire de ses locaux, l'exonération de taxe foncière "
                              "profite au propriétaire : elle n'est pas comptée ici.")
        else:
            tfpb_years, tfpb_unknown = _local(situation.taxe_fonciere_annuelle_estimee, tfpb)
            if situation.proprietaire_immeuble is None:
                hypotheses.append("Taxe foncière : comptée comme si l'entreprise était propriétaire de ses locaux "
                                  "(sinon l'exonération profite au propriétaire).")
    for unknown, what in ((cfe_unknown, "CFE"), (tfpb_unknown, "Taxe foncière")):
        if unknown:
            hypotheses.append(f"{what} : seule la part exonérée de plein droit est comptée ; la part exonérée sur "
                              "délibération de la commune ou de l'intercommunalité s'ajouterait si elle a délibéré.")
    if situation.cfe_annuelle_estimee is not None or situation.taxe_fonciere_annuelle_estimee is not None:
        hypotheses.append("Impôts locaux : le montant annuel indiqué est supposé identique chaque année.")
    if profit_estimated and profit_rows:
        hypotheses.append("Plafond européen des aides d'État non appliqué au montant exonéré.")
    profit_years = _by_calendar_year(profit_rows)
    years = sorted(set(profit_years) | set(cfe_years) | set(tfpb_years))
    rows = []
    for year in years:
        values = {"impot_benefices": _amount(profit_years, year, profit_estimated),
                  "cfe": _amount(cfe_years, year, situation.cfe_annuelle_estimee is not None),
                  "tfpb": _amount(tfpb_years, year, bool(tfpb_years))}
        total = sum(v for v in values.values() if v is not None)
        rows.append({"annee": year, **values, "total": total})
    # Totals from the unrounded amounts (a sum of rounded years can be a euro off).
    estimated = {"impot_benefices": (profit_years, profit_estimated),
                 "cfe": (cfe_years, situation.cfe_annuelle_estimee is not None),
                 "tfpb": (tfpb_years, bool(tfpb_years))}
    totaux = {key: round(sum(values.values())) if flag else None for key, (values, flag) in estimated.items()}
    total = round(sum(sum(values.values()) for values, flag in estimated.values() if flag))
    return {
        "estimation": True,
        "annees": rows,
        "periodes_impot_benefices": periods,
        "totaux": totaux,
        "total": total,
        "hypotheses": [typographie(h) for h in hypotheses],
        "explication": typographie(_explanation(rows, totaux, total, statut_applicable)),
        **_references(references),
    }


def _references(references: tuple[Reference, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    add_references(out, tuple(references))
    return out


def _amount(values: dict[int, float], year: int, estimated: bool) -> int | None:
    if not estimated:
        return None
    return round(values.get(year, 0.0))


def _profit_periods(rules: Rules, situation: Situation, profit: Exoneration, benefice: float,
                    hypotheses: list[str]) -> tuple[list[dict[str, Any]], list[tuple[dt.date, dt.date, float]]]:
    periods, rows = [], []
    reduced_unknown = False
    for exercice in exercices(rules, profit):
        taxable = benefice * (100 - exercice.taux_exoneration) / 100
        if situation.impot_sur == "is":
            without = impot_societes(rules, exercice, benefice, situation)
            with_exemption = impot_societes(rules, exercice, taxable, situation)
            reduit = _reduced_rate(rules, exercice, situation)
            reduced_unknown = reduced_unknown or not reduit.applique
        else:
            rate = situation.taux_marginal_ir_pct / 100
            without, with_exemption = benefice * rate, taxable * rate
        saving = without - with_exemption
        periods.append({"debut": exercice.debut.isoformat(), "fin": exercice.fin.isoformat(),
                        "taux_exoneration": exercice.taux_exoneration, "benefice": round(benefice),
                        "impot_sans_exoneration": round(without), "impot_avec_exoneration": round(with_exemption),
                        "economie": round(saving)})
        rows.append((exercice.debut, exercice.fin, saving))
    hypotheses.append(f"Bénéfice imposable de {euros(benefice)} pour chaque période de douze mois de l'échéancier, "
                      "chacune prise comme un exercice ; l'économie est répartie sur les années civiles au prorata des "
                      "jours.")
    if situation.impot_sur == "is":
        first = exercices(rules, profit)[0]
        reduit = _reduced_rate(rules, first, situation)
        minimum = rules.value("is_taux_reduit_detention_personnes_physiques_min_pct", first.debut).valeur
        if reduced_unknown:
            hypotheses.append("Impôt sur les sociétés au taux normal seulement : le taux réduit des PME ne s'applique "
                              "pas (chiffre d'affaires trop élevé ou capital détenu à moins de "
                              f"{pct(minimum)} par des personnes physiques).")
        else:
            hypotheses.append(f"Impôt sur les sociétés : taux réduit de {pct(reduit.taux)} jusqu'au plafond de "
                              "l'exercice (CGI, art. 219 I b), puis taux normal de l'exercice ; le capital est supposé "
                              f"entièrement libéré et détenu à {pct(minimum)} au moins par des personnes physiques"
                              + (" et le chiffre d'affaires sous le seuil du taux réduit"
                                 if situation.chiffre_affaires is None else "")
                              + ".")
        hypotheses.append("Contributions additionnelles à l'impôt sur les sociétés non comptées.")
    else:
        hypotheses.append(f"Impôt sur le revenu : la part exonérée du bénéfice est comptée au taux marginal de "
                          f"{pct(situation.taux_marginal_ir_pct)} ; les prélèvements sociaux et les cotisations "
                          "sociales, qui ne sont pas exonérés, ne sont pas comptés.")
    return periods, rows


def _explanation(rows: list[dict[str, Any]], totaux: dict[str, int | None], total: float,
                 applicable: bool | None) -> str:
    prefix = "Si les conditions encore à vérifier sont remplies, " if applicable is None else ""
    if not rows or total <= 0:
        text = prefix + "estimation : aucune économie d'impôt chiffrable avec les montants indiqués."
        return text[:1].upper() + text[1:]
    parts = [f"{euros(value)} {label}" for key, label in (("impot_benefices", "d'impôt sur les bénéfices"),
                                                          ("cfe", "de CFE"), ("tfpb", "de taxe foncière"))
             if (value := totaux.get(key))]
    text = (f"estimation : environ {euros(total)} d'impôts en moins de {rows[0]['annee']} à {rows[-1]['annee']}"
            + (f", dont {_join(parts)}" if len(parts) > 1 else "") + ". Ce n'est pas un calcul de l'impôt dû : "
            "il dépend de vos résultats réels, exercice par exercice.")
    text = prefix + text
    return text[:1].upper() + text[1:]


def _join(parts: list[str]) -> str:
    return ", ".join(parts[:-1]) + " et " + parts[-1] if len(parts) > 1 else "".join(parts)

