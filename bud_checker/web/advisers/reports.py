"""The printable report of a check in a case file: one HTML document (print stylesheet) and its PDF (WeasyPrint).

The report is rendered from the stored verdict, like every page: it reads the same whenever it is printed.
The PDF is made by ..pdf (WeasyPrint, fetching nothing from the network).
"""

from __future__ import annotations

import io
from typing import Any, Mapping

from flask import Response, render_template, send_file

from ...engine.situation import LIBELLES
from ..pdf import html_to_pdf
from ..presentation import verdict_view
from ..public.forms import QUESTIONS, answer_text
from .models import DossierVerification
from .services import format_siren


def all_references(verdict: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every source the verdict cites (the version of the article applied, conditions, exemptions, filings),
    grouped by address, in the order they first appear: {url, textes, pour, complementaire}. Official
    sources come first; the complementary ones (editors, translations) after them."""
    from ...engine.contract import resolve
    from ..catalogues import read_verdict
    from ..presentation import TAX_LABELS

    verdict = read_verdict(verdict)
    sources = verdict.get("sources") or {}
    grouped: dict[str, dict[str, Any]] = {}

    def add(ref: Mapping[str, Any], where: str) -> None:
        text = ref.get("texte", "")
        if ref.get("version"):
            text += f" (version en vigueur le {_date_fr(ref['version'])})"
        entry = grouped.setdefault(ref.get("url") or text, {"url": ref.get("url"), "textes": [], "pour": [],
                                                            "complementaire": bool(ref.get("complementaire"))})
        if text not in entry["textes"]:
            entry["textes"].append(text)
        if where not in entry["pour"]:
            entry["pour"].append(where)

    def add_all(item: Mapping[str, Any], where: str) -> None:
        for ref in resolve(item.get("references"), sources) + resolve(item.get("sources_complementaires"), sources):
            add(ref, where)

    version = verdict.get("version") or {}
    article = sources.get(version.get("source") or "")
    if article:
        add({"texte": article.get("texte"), "version": article.get("version"),
             "url": article.get("url")}, "texte appliqué")
    modificateur = sources.get(version.get("texte_modificateur") or "")
    if modificateur:
        add(modificateur, "texte appliqué")
    for condition in verdict.get("conditions") or []:
        add_all(condition, condition["libelle"])
    for key, data in (verdict.get("exonerations") or {}).items():
        add_all(data or {}, TAX_LABELS.get(key, key))
    for demarche in verdict.get("demarches") or []:
        add_all(demarche, demarche["titre"])
    if verdict.get("economies"):
        add_all(verdict["economies"], "estimation des économies")
    entries = list(grouped.values())
    return [e for e in entries if not e["complementaire"]] + [e for e in entries if e["complementaire"]]


def _date_fr(value: Any) -> str:
    from ...engine.fr import date_fr
    from ..presentation import iso_date

    day = iso_date(value)
    return date_fr(day) if day else str(value)


def report_context(verification: DossierVerification) -> dict[str, Any]:
    from ..catalogues import read_verdict

    dossier = verification.dossier
    verdict = read_verdict(verification.verdict)
    answers = [{"label": QUESTIONS[key].label, "value": answer_text(key, verification.situation.get(key))}
               for key in LIBELLES if key in verification.situation]
    return {
        "verification": verification,
        "dossier": dossier,
        "organisation": dossier.organisation,
        "siren": format_siren(dossier.siren),
        "v": verdict,
        "view": verdict_view(verdict, verification.created_at),
        "answers": answers,
        "references": all_references(verdict),
    }


def render_report_html(verification: DossierVerification, *, for_pdf: bool = False) -> str:
    return render_template("conseillers/rapport.html", for_pdf=for_pdf, **report_context(verification))


def render_report_pdf(verification: DossierVerification) -> bytes:
    return html_to_pdf(render_report_html(verification, for_pdf=True))


def send_report_pdf(verification: DossierVerification, *, as_attachment: bool = False) -> Response:
    """The report as a PDF answer (shown in the browser, or downloaded with `as_attachment`)."""
    return send_file(io.BytesIO(render_report_pdf(verification)), mimetype="application/pdf",
                     as_attachment=as_attachment,
                     download_name=f"rapport-bud-{verification.created_at:%Y-%m-%d}-{verification.id[:8]}.pdf",
                     max_age=0)
