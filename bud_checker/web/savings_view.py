"""The savings estimate of a stored verdict (`verdict["economies"]`) as the result page and the PDF show it:
a table year by year and a small stacked-bar chart (SVG drawn by the template from these numbers, no script,
no inline style). Read from the stored verdict only: nothing is estimated again."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from ..engine.fr import date_fr, euros
from .presentation import _with_refs, iso_date

COLUMNS = (("impot_benefices", "Impôt sur les bénéfices", "#0d5c46"), ("cfe", "CFE", "#6fb09a"),
           ("tfpb", "Taxe foncière", "#c98a1b"))


@dataclass
class Bar:
    x: float
    label: str
    total_text: str
    parts: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Chart:
    width: int
    height: int
    base_y: float
    bars: list[Bar]
    bar_width: float
    legend: list[dict[str, str]]
    description: str


def _money(value: int | None) -> str:
    return "—" if value is None else euros(value)


def _chart(rows: list[Mapping[str, Any]], columns: list[tuple[str, str, str]]) -> Chart | None:
    top = max((row["total"] for row in rows), default=0)
    if top <= 0:
        return None
    width, height, label_band, value_band = 360, 190, 20, 16
    plot = height - label_band - value_band
    slot = (width - 4) / len(rows)
    bar_width = round(min(slot * 0.7, 40), 1)
    base_y = height - label_band
    bars = []
    for index, row in enumerate(rows):
        x = round(2 + index * slot + (slot - bar_width) / 2, 1)
        bar = Bar(x, str(row["annee"]) if len(rows) <= 12 or index % 2 == 0 else "", euros(row["total"]))
        y = base_y
        for key, label, colour in columns:
            value = row.get(key) or 0
            if value <= 0:
                continue
            h = round(plot * value / top, 1)
            y = round(y - h, 1)
            bar.parts.append({"y": y, "height": h, "fill": colour,
                              "title": f"{row['annee']}, {label}\u00a0: {euros(value)}"})
        bars.append(bar)
    description = "\u202f; ".join(f"{row['annee']}\u00a0: {euros(row['total'])}" for row in rows)
    legend = [{"label": label, "fill": colour} for _, label, colour in columns]
    return Chart(width, height, base_y, bars, bar_width, legend, description)


def savings_view(verdict: Mapping[str, Any]) -> dict[str, Any] | None:
    data = verdict.get("economies")
    if not data:
        return None
    data = _with_refs(data, verdict.get("sources") or {})
    rows = data.get("annees") or []
    columns = [c for c in COLUMNS if any(r.get(c[0]) is not None for r in rows)]
    table = [{"annee": r["annee"], "cells": [_money(r.get(key)) for key, _, _ in columns], "total": _money(r["total"])}
             for r in rows]
    totaux = data.get("totaux") or {}
    periods = []
    for p in data.get("periodes_impot_benefices") or []:
        periods.append({"periode": f"du {date_fr(iso_date(p['debut']))} au {date_fr(iso_date(p['fin']))}",
                        "taux": f"{p['taux_exoneration']:g}\u00a0%".replace(".", ","),
                        "sans": _money(p["impot_sans_exoneration"]), "avec": _money(p["impot_avec_exoneration"]),
                        "economie": _money(p["economie"])})
    return {
        "data": data,
        "columns": [label for _, label, _ in columns],
        "rows": table,
        "totals": [_money(totaux.get(key)) for key, _, _ in columns],
        "total": _money(data.get("total")),
        "periods": periods,
        "chart": _chart(rows, columns),
    }
