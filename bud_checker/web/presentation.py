"""Turn a stored verdict (the JSON contract) into what the verdict page shows: labels, tables, a timeline.

Everything is read from the verdict dictionary as it was saved; nothing is evaluated again, so a saved check
renders the same after the rules change.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Mapping

from ..engine.contract import resolve
from ..engine.fr import date_fr, nombre_fr, typographie
from .catalogues import read_verdict

CONDITION_STATUS = {
    "remplie": {"label": "Remplie", "icon": "✓", "class": "ok"},
    "non_remplie": {"label": "Non remplie", "icon": "✗", "class": "ko"},
    "inconnue": {"label": "À vérifier", "icon": "?", "class": "unknown"},
}
# A condition still unknown when another one already fails: it cannot change the verdict, so it is not asked.
NOT_EXAMINED = {"label": "Non examinée", "icon": "–", "class": "skipped"}
VERDICT_CLASS = {"eligible": "ok", "non_eligible": "ko", "indetermine": "unknown"}
TAX_LABELS = {
    "impot_benefices": "Impôt sur les bénéfices",
    "cfe": "Cotisation foncière des entreprises (CFE)",
    "tfpb": "Taxe foncière sur les propriétés bâties (TFPB)",
    "cvae": "Cotisation sur la valeur ajoutée des entreprises (CVAE)",
}
TAX_SHORT = {"impot_benefices": "Impôt sur les bénéfices", "cfe": "CFE", "tfpb": "Taxe foncière", "cvae": "CVAE"}
PHASES = {"exoneration": "exonération", "abattement": "abattement dégressif"}
CONFIANCE_LABELS = {"V": "vérifiée dans un texte officiel", "S": "source secondaire", "U": "non vérifiée"}
# What each condition rests on (rules/conditions.yaml, `fondement`), for the «Sources et degré de certitude» detail.
FONDEMENT_LABELS = {
    "texte": "texte officiel de l'article lu",
    "doctrine": "doctrine de l'administration (BOFiP) ou fiches officielles",
    "sources_concordantes": "sources secondaires concordantes, aucune contradiction connue",
    "incertain": "point non vérifié",
}


def iso_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except (TypeError, ValueError):
        return None


def pct_text(value: float | None) -> str:
    return "—" if value is None else f"{nombre_fr(value)}\u00a0%"


# --- the timeline picture ---------------------------------------------------------------------------------

@dataclass
class Segment:
    x: float
    width: float
    rate: float | None
    label: str
    title: str
    fill: str
    text_fill: str
    show_label: bool
    abolished: bool = False
    debut: dt.date | None = None
    fin: dt.date | None = None


@dataclass
class Row:
    label: str
    y: float
    segments: list[Segment] = field(default_factory=list)


@dataclass
class Timeline:
    width: int
    height: int
    label_width: int
    rows: list[Row]
    ticks: list[dict[str, Any]]
    marker: dict[str, Any] | None
    legend: list[dict[str, Any]]
    axis_y: float
    row_height: int


# A single hue from dark (fully exempt) to light (little exempt); text colour keeps a 4.5:1 contrast.
_SHADES = ((100, "#0d5c46", "#ffffff"), (75, "#2b7a62", "#ffffff"), (50, "#6fb09a", "#0b1f19"),
           (25, "#a9d3c4", "#0b1f19"), (0.001, "#d9ede6", "#0b1f19"))
_ABOLISHED = ("#eeeeee", "#3d3d3d")


def _shade(rate: float | None) -> tuple[str, str]:
    if rate is None or rate <= 0:
        return "#ffffff", "#3d3d3d"
    for threshold, fill, text in _SHADES:
        if rate >= threshold:
            return fill, text
    return _SHADES[-1][1], _SHADES[-1][2]


def build_timeline(verdict: Mapping[str, Any]) -> Timeline | None:
    verdict = read_verdict(verdict)  # the yearly rows of the local taxes (`annees`); a view is read once
    exonerations = verdict.get("exonerations") or {}
    spans: list[tuple[str, list[tuple[dt.date, dt.date, float | None, str, bool]]]] = []
    profit = exonerations.get("impot_benefices") or {}
    if profit.get("applicable") is not False and profit.get("periodes"):
        items = []
        for period in profit["periodes"]:
            rate = period.get("taux_exoneration_effectif", period["taux_exoneration"])
            start, end = iso_date(period["debut"]), iso_date(period["fin"])
            items.append((start, end, rate, f"{TAX_SHORT['impot_benefices']} : {pct_text(rate)} exonéré du "
                                            f"{date_fr(start)} au {date_fr(end)}", False))
        spans.append((TAX_SHORT["impot_benefices"], items))
    for tax in ("cfe", "tfpb", "cvae"):
        data = exonerations.get(tax) or {}
        if data.get("applicable") is False or not data.get("annees"):
            continue
        items = []
        for year in data["annees"]:
            abolished = bool(year.get("cvae_supprimee"))
            de_droit = year.get("part_de_droit")
            extra = year.get("part_sur_deliberation")
            rate = None if abolished else (de_droit or 0) + (extra or 0)
            if abolished:
                title = f"{TAX_SHORT[tax]} {year['annee']} : impôt supprimé"
            else:
                title = f"{TAX_SHORT[tax]} {year['annee']} : {pct_text(rate)} de la base exonéré"
                if extra is None:
                    title += " (plus la part sur délibération, si la commune a délibéré)"
            items.append((dt.date(year["annee"], 1, 1), dt.date(year["annee"], 12, 31), rate, title, abolished))
        spans.append((TAX_SHORT[tax], items))
    if not spans:
        return None

    start = min(item[0] for _, items in spans for item in items)
    end = max(item[1] for _, items in spans for item in items)
    first_year, last_year = start.year, end.year
    origin, finish = dt.date(first_year, 1, 1), dt.date(last_year, 12, 31)
    width, label_width, row_height, top = 820, 200, 34, 10
    plot = width - label_width - 10
    total_days = (finish - origin).days + 1

    def x_of(day: dt.date) -> float:
        return round(label_width + plot * (day - origin).days / total_days, 1)

    rows = []
    for index, (label, items) in enumerate(spans):
        row = Row(label, top + index * (row_height + 8))
        for begin, stop, rate, title, abolished in items:
            x0, x1 = x_of(begin), x_of(stop + dt.timedelta(days=1))
            fill, text = _ABOLISHED if abolished else _shade(rate)
            text_label = "supprimée" if abolished else pct_text(rate).replace("\u00a0", " ")
            row.segments.append(Segment(x0, round(x1 - x0 - 1, 1), rate, text_label, title, fill, text,
                                        show_label=(x1 - x0) >= (len(text_label) * 6.5 + 4), abolished=abolished,
                                        debut=begin, fin=stop))
        rows.append(row)
    axis_y = top + len(spans) * (row_height + 8)
    years = list(range(first_year, last_year + 2))
    step = 1 if len(years) <= 14 else 2
    ticks = [{"x": x_of(dt.date(year, 1, 1)) if year <= last_year else float(label_width + plot), "label": str(year),
              "show": (year - first_year) % step == 0 and year <= last_year} for year in years]
    creation = iso_date((verdict.get("situation") or {}).get("date_creation"))
    marker = None
    if creation and origin <= creation <= finish:
        marker = {"x": x_of(creation), "label": f"Création : {date_fr(creation)}"}
    legend = []
    upper = None
    for threshold, fill, _ in _SHADES:
        if threshold >= 100:
            label = f"{threshold:g} %"
        elif threshold >= 1:
            label = f"{threshold:g} à {upper - 1:g} %"
        else:
            label = f"moins de {upper:g} %"
        legend.append({"fill": fill, "label": label})
        upper = threshold
    return Timeline(width, axis_y + 48, label_width, rows, ticks, marker, legend, axis_y, row_height)


def timeline_lines(timeline: Timeline) -> list[dict[str, Any]]:
    """The timeline as text, for small screens: per tax, its runs of equal shares («100 % de 2025 à 2029»)."""
    out = []
    for row in timeline.rows:
        runs: list[list[Segment]] = []
        for segment in row.segments:
            last = runs[-1][-1] if runs else None
            yearly = segment.debut and segment.fin and (segment.debut.month, segment.debut.day) == (1, 1)
            if (last is not None and yearly and last.rate == segment.rate and last.abolished == segment.abolished
                    and last.fin and segment.debut and (segment.debut - last.fin).days == 1):
                runs[-1].append(segment)
            else:
                runs.append([segment])
        items = []
        for run in runs:
            first, last = run[0], run[-1]
            if first.abolished:
                share = "impôt supprimé"
            else:
                share = f"{pct_text(first.rate)} exonéré" if first.rate else "aucune exonération"
            if first.debut and (first.debut.month, first.debut.day) == (1, 1) and last.fin and \
                    (last.fin.month, last.fin.day) == (12, 31):
                when = (f"en {first.debut.year}" if first.debut.year == last.fin.year
                        else f"de {first.debut.year} à {last.fin.year}")
            elif first.debut and last.fin:
                when = f"du {date_fr(first.debut)} au {date_fr(last.fin)}"
            else:
                when = ""
            items.append({"quand": when, "part": share, "rate": first.rate or 0, "abolished": first.abolished})
        same = next((line for line in out if line["items"] == items), None)
        if same is not None:  # «CFE et taxe foncière»: one list for taxes exempted alike
            same["labels"].append(row.label)
        else:
            out.append({"labels": [row.label], "items": items})
    for line in out:
        first, *others = line["labels"]
        # Inside a list a name takes a small letter, an abbreviation keeps its capitals («CFE, taxe foncière et CVAE»).
        others = [label if label[:2].isupper() else label[:1].lower() + label[1:] for label in others]
        line["label"] = first if not others else ", ".join([first, *others[:-1]]) + " et " + others[-1]
    return out


# --- tables and lists -------------------------------------------------------------------------------------

def _local_cell(year: Mapping[str, Any] | None) -> str:
    if year is None:
        return "—"
    if year.get("cvae_supprimee"):
        return "impôt supprimé"
    text = pct_text(year.get("part_de_droit"))
    extra = year.get("part_sur_deliberation")
    if extra is None:
        return text + " (+ ? sur délibération)"
    if extra:
        return text + f" + {pct_text(extra)} sur délibération"
    return text


LOCAL_TAXES = ("cfe", "tfpb", "cvae")


def local_table(exonerations: Mapping[str, Any]) -> dict[str, Any] | None:
    """One row per year, one column per local tax that applies (CFE, TFPB, CVAE), as parts of the base."""
    taxes = [key for key in LOCAL_TAXES
             if (exonerations.get(key) or {}).get("applicable") is not False
             and (exonerations.get(key) or {}).get("annees")]
    if not taxes:
        return None
    by_tax = {key: {y["annee"]: y for y in exonerations[key]["annees"]} for key in taxes}
    years = sorted({year for rows in by_tax.values() for year in rows})
    rows = []
    for year in years:
        phases = {by_tax[key][year]["phase"] for key in taxes if year in by_tax[key]}
        rows.append({"annee": year, "phase": ", ".join(PHASES.get(p, p) for p in sorted(phases)),
                     "cells": [_local_cell(by_tax[key].get(year)) for key in taxes]})
    unknown = any(y.get("part_sur_deliberation") is None and not y.get("cvae_supprimee")
                  for key in taxes for y in exonerations[key]["annees"])
    return {"columns": [TAX_SHORT[key] for key in taxes], "rows": rows, "deliberation_inconnue": unknown}


def profit_table(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for period in data.get("periodes") or []:
        rate = period["taux_exoneration"]
        effective = period.get("taux_exoneration_effectif")
        rows.append({"debut": date_fr(iso_date(period["debut"])), "fin": date_fr(iso_date(period["fin"])),
                     "exonere": pct_text(rate), "impose": pct_text(100 - rate),
                     "effectif": None if effective is None else pct_text(effective)})
    return rows


def _with_refs(item: Mapping[str, Any], sources: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a condition, exemption or filing whose `references` (official) and `complementaires` are
    resolved against the verdict's `sources` table, ready to show."""
    official = resolve(item.get("references"), sources)
    others = resolve(item.get("sources_complementaires"), sources)
    return {**item, "references": [r for r in official if not r["complementaire"]],
            "complementaires": others + [r for r in official if r["complementaire"]]}


def certainty_view(verdict: Mapping[str, Any]) -> dict[str, Any]:
    """The «Sources et degré de certitude» detail: what each rule rests on, research notes, every source."""
    notes = {entry["objet"]: entry.get("notes") or [] for entry in verdict.get("certitude") or []}
    rows = [{"libelle": c["libelle"], "fondement": FONDEMENT_LABELS.get(c.get("fondement")),
             "notes": notes.get(c["id"], [])} for c in verdict["conditions"]]
    rows += [{"libelle": TAX_LABELS[key], "fondement": FONDEMENT_LABELS.get((data or {}).get("fondement")),
              "notes": notes[key]} for key, data in (verdict.get("exonerations") or {}).items()
             if key in notes and key in TAX_LABELS]
    sources = [{**s, "id": key} for key, s in (verdict.get("sources") or {}).items()]
    return {"rows": [r for r in rows if r["fondement"] or r["notes"]],
            "officielles": [s for s in sources if not s.get("complementaire")],
            "complementaires": [s for s in sources if s.get("complementaire")]}


def verdict_view(verdict: Mapping[str, Any], created_at: dt.datetime | None = None) -> dict[str, Any]:
    """Everything the verdict page needs besides the verdict itself (a verdict saved in any shape)."""
    verdict = read_verdict(verdict)
    sources = verdict.get("sources") or {}
    checked_on = created_at.date() if created_at else None
    labels = {c["id"]: c["libelle"] for c in verdict["conditions"]} | TAX_LABELS
    motifs = {c["id"]: c.get("motifs_a_confirmer") or [] for c in verdict["conditions"]}
    motifs |= {key: (data or {}).get("motifs_a_confirmer") or []
               for key, data in (verdict.get("exonerations") or {}).items()}
    points: dict[str, list[str]] = {}
    for point in verdict.get("points_a_confirmer") or []:
        if point["objet"] not in points:
            points[point["objet"]] = [*motifs.get(point["objet"], [])]
    demarches = []
    # The day of the check: the verdict's own (engine input), else the day it was saved (older verdicts).
    today = iso_date(verdict.get("date_verification")) or checked_on
    for demarche in verdict.get("demarches") or []:
        deadline = iso_date(demarche.get("echeance"))
        passee = demarche.get("passee")
        if passee is None:
            passee = bool(deadline and today and deadline < today)
        demarches.append({**_with_refs(demarche, sources), "echeance_fr": date_fr(deadline) if deadline else None,
                          "passee": passee})
    # Still ahead first, then the steps without a date, then those whose deadline has passed.
    demarches.sort(key=lambda d: (bool(d["passee"]), d.get("echeance") is None and not d["passee"]))
    exonerations = verdict.get("exonerations") or {}
    taxes = []
    for key in ("impot_benefices", "cfe", "tfpb", "cvae"):
        data = exonerations.get(key)
        if data is None:
            continue
        data = _with_refs(data, sources)
        taxes.append({"id": key, "label": TAX_LABELS[key], "data": data,
                      "rows": profit_table(data) if key == "impot_benefices" else [],
                      "has_effective": any(p.get("taux_exoneration_effectif") is not None
                                           for p in data.get("periodes") or [])})
    decided_against = verdict["statut"] == "non_eligible"
    conditions = []
    for condition in verdict["conditions"]:
        status = CONDITION_STATUS[condition["statut"]]
        if decided_against and condition["statut"] == "inconnue":
            status = NOT_EXAMINED
        conditions.append({**_with_refs(condition, sources), "status": status, "examined": status is not NOT_EXAMINED})
    deciding = [m for m in verdict.get("informations_manquantes") or [] if m.get("conditions")]
    refining = [m for m in verdict.get("informations_manquantes") or [] if not m.get("conditions")]
    version = verdict.get("version") or {}
    article = sources.get(version.get("source")) or {}
    modificateur = sources.get(version.get("texte_modificateur")) or {}
    return {
        "verdict": verdict,
        "class": VERDICT_CLASS.get(verdict["statut"], "unknown"),
        "version_url": article.get("url"),
        "version_article": article.get("texte") or "CGI, art. 44 sexdecies",
        "texte_modificateur": modificateur.get("texte"),
        "limites": verdict.get("limites") or [],
        "certitude": certainty_view(verdict),
        "conditions": conditions,
        "points": [{"objet": labels.get(key, key), "motifs": motifs} for key, motifs in points.items()],
        "demarches": demarches,
        "taxes": taxes,
        "any_applicable": any(t["data"].get("applicable") is not False for t in taxes),
        "timeline": build_timeline(verdict),
        "local_table": local_table(exonerations),
        "essentiel": essentials(verdict, demarches, today),
        "next_step": next_step(demarches, today),
        "warnings": input_warnings(verdict),
        "deciding": [{**m, "condition_labels": [labels.get(c, c) for c in m["conditions"]]} for m in deciding],
        "refining": refining,
        "checked_on": checked_on,
        "version_date": iso_date(verdict.get("version_loi")),
    }


def next_step(demarches: list[dict[str, Any]], today: dt.date | None) -> dict[str, Any] | None:
    """The step the result page puts under the verdict: the earliest deadline still ahead, counting a missed step
    that can still be made for the following years (its `prochaine_echeance`); else the first step."""
    ahead = []
    for demarche in demarches:
        if demarche.get("passee"):
            when = iso_date(demarche.get("prochaine_echeance"))
            if when and (today is None or when >= today):
                ahead.append((when, demarche))
        elif iso_date(demarche.get("echeance")):
            ahead.append((iso_date(demarche.get("echeance")), demarche))
    if ahead:
        when, demarche = min(ahead, key=lambda item: item[0])
        return {"titre": demarche["titre"], "echeance_fr": date_fr(when)}
    return {"titre": demarches[0]["titre"], "echeance_fr": None} if demarches else None


def input_warnings(verdict: Mapping[str, Any]) -> list[dict[str, str | None]]:
    """The warnings about the input, each with a one-line `resume` the page shows before the full `message`
    (which it folds): a code that is also the postal code of other communes names how many, and how many of
    them are in the basin (where the answer could change)."""
    out = []
    for warning in verdict.get("avertissements") or []:
        communes = warning.get("communes") or []
        resume = None
        if warning.get("code") == "code_postal_homonyme" and warning.get("code_saisi") and communes:
            count = len(communes)
            in_basin = sum(1 for c in communes if c.get("bud"))
            others = "d'une autre commune" if count == 1 else f"de {count} autres communes"
            resume = f"{warning['code_saisi']} est aussi le code postal {others}"
            if in_basin:
                resume += (", classée en bassin urbain à dynamiser" if count == 1 else
                           f", dont {in_basin} classée{'s' if in_basin > 1 else ''} en bassin urbain à dynamiser")
            resume = typographie(resume + " : vérifiez la commune retenue.")
        out.append({"resume": resume, "message": warning.get("message")})
    return out


def essentials(verdict: Mapping[str, Any], demarches: list[dict[str, Any]],
               today: dt.date | None = None) -> list[dict[str, str | None]]:
    """The verdict in a few lines, from the verdict's own figures: why not, or what is exempted until when.

    What is still ahead comes first (deadlines to meet, exemptions running); then what is over. Each line is
    `{"texte": ..., "suite": ...}`: `suite`, what can still be done about a missed step, the page folds under
    «Et maintenant ?»."""
    if verdict["statut"] == "non_eligible":
        return [_line(c["explication"]) for c in verdict["conditions"] if c["statut"] == "non_remplie"]
    ahead: list[dict[str, str | None]] = []
    running: list[dict[str, str | None]] = []
    over: list[dict[str, str | None]] = []
    for demarche in demarches:
        if not demarche.get("echeance_fr"):
            continue
        what = f"{demarche['titre'][:1].lower()}{demarche['titre'][1:]}"
        if demarche.get("passee"):
            again = iso_date(demarche.get("prochaine_echeance"))
            if again and (today is None or again >= today):
                # Missed for the first year, still possible for the following ones: a thing to do, first.
                ahead.append(_line(f"À faire au plus tard le {date_fr(again)} : {what}, pour les années "
                                   f"d'exonération qui restent (l'échéance du {demarche['echeance_fr']} est passée)."))
                continue
            over.append(_line(f"Échéance passée le {demarche['echeance_fr']} : {what}.", demarche.get("rattrapage")))
        else:
            ahead.append(_line(f"À faire au plus tard le {demarche['echeance_fr']} : {what}."))
    exonerations = verdict.get("exonerations") or {}
    profit = exonerations.get("impot_benefices") or {}
    periods = profit.get("periodes") or []
    if profit.get("applicable") is not False and periods:
        first, last = periods[0], periods[-1]
        rates = ", ".join(pct_text(p["taux_exoneration"]) for p in periods[1:])
        text = (f"Impôt sur les bénéfices : exonération totale du {date_fr(iso_date(first['debut']))} au "
                f"{date_fr(iso_date(first['fin']))}")
        if len(periods) > 1:
            text += f", puis partielle ({rates}) jusqu'au {date_fr(iso_date(last['fin']))}"
        end = iso_date(last["fin"])
        if today and end and end < today:
            over.append(_line(text + f" : ces périodes sont terminées depuis le {date_fr(end)}."))
        else:
            running.append(_line(text + "."))
    for key, what in (("cfe", "CFE"), ("tfpb", "Taxe foncière (pour le propriétaire des locaux)")):
        data = exonerations.get(key) or {}
        years = data.get("annees") or []
        if data.get("applicable") is False or not years:
            continue
        full = [y for y in years if y["phase"] == "exoneration"]
        if not full:
            continue
        share = full[0].get("part_de_droit")
        extra = full[0].get("part_sur_deliberation")
        text = f"{what} : {pct_text(share)} de la base exonérée de {full[0]['annee']} à {full[-1]['annee']}"
        if extra:
            text += f", plus {pct_text(extra)} sur délibération"
        elif extra is None:
            text += ", plus la part exonérée sur délibération si la collectivité qui perçoit l'impôt a délibéré"
        if years[-1]["annee"] > full[-1]["annee"]:
            text += f", puis un abattement dégressif jusqu'en {years[-1]['annee']}"
        if today and years[-1]["annee"] < today.year:
            over.append(_line(text + " : cette période est terminée."))
        else:
            running.append(_line(text + "."))
    return ahead + running + over


def _line(texte: str, suite: str | None = None) -> dict[str, str | None]:
    return {"texte": texte, "suite": suite}
