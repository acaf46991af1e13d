"""What a saved public check offers besides its page: change the answers (a new check; the old one stays),
its PDF, and its deadlines as an iCalendar file. Everything is read from the stored check."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any, Mapping

from flask import Response, abort, render_template, request, send_file, url_for

from ...engine.fr import typographie
from ...engine.guidance import alternatives, for_demarche
from ...engine.law import current_rules
from ...engine.situation import LIBELLES
from ..models import Verification
from ..pdf import html_to_pdf
from ..presentation import iso_date, verdict_view
from ..savings_view import savings_view
from ..services import find_verification
from ..zone_map import small_svg
from . import bp
from .forms import GROUPS, GROUPS_BY_ID, QUESTIONS, answer_text
from .routes import render_edit

ICS_PRODID = "-//BUD Checker//Echeances//FR"


def _found(verification_id: str) -> Verification:
    found = find_verification(verification_id)
    if found is None:
        abort(404)
    return found


def answers_of(found: Verification) -> list[dict[str, str]]:
    return [{"label": QUESTIONS[key].label, "value": answer_text(key, found.situation.get(key))}
            for key in LIBELLES if key in found.situation]


def demarches_view(verdict: Mapping[str, Any], view: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The filing steps in the order of the verdict view (still ahead first, past ones last), each with its
    forms and the offices to go to."""
    rules = current_rules()
    commune = (verdict.get("commune") or {}).get("nom")
    steps = []
    for demarche in view["demarches"]:
        extra = for_demarche(rules, demarche.get("id"))
        if commune:  # say which office: the one of the commune of the establishment
            extra["ou"] = [{**o, "libelle": f"{o['libelle']} ({commune})"} for o in extra["ou"]]
        steps.append({**demarche, **extra})
    return steps


def result_context(found: Verification) -> dict[str, Any]:
    """Everything the result page and its PDF show (the stored verdict, nothing evaluated again)."""
    view = verdict_view(found.verdict, found.created_at)
    verdict = view["verdict"]  # in the current shape, whatever the shape it was saved in
    failing = [c["id"] for c in verdict["conditions"] if c["statut"] == "non_remplie"]
    return {
        "verification": found, "v": verdict, "view": view, "answers": answers_of(found),
        "all_asked": all(key in found.situation for key in LIBELLES),
        "savings": savings_view(verdict),
        "steps": demarches_view(verdict, view),
        "alternatives": alternatives(current_rules(), failing) if verdict["statut"] == "non_eligible" else [],
        "mini_map": _mini_map(verdict.get("commune") or {}),
    }


def _mini_map(commune: Mapping[str, Any]) -> Any:
    """The user's commune on the small map of the basin (the page and its PDF); None outside Nord and
    Pas-de-Calais."""
    if not commune:
        return None
    return small_svg(commune.get("insee"), f"{commune.get('nom')} ({commune.get('departement')})")


@bp.get("/verifications/<verification_id>/modifier")
def modifier(verification_id: str):
    """The form again, every answer of the saved check filled in; the step chosen (default: the first one)."""
    found = _found(verification_id)
    etat = {key: value for key, value in found.situation.items() if key in LIBELLES}
    return render_edit(GROUPS_BY_ID.get(request.args.get("groupe", ""), GROUPS[0]), etat)


@bp.get("/verifications/<verification_id>.pdf")
def verification_pdf(verification_id: str):
    found = _found(verification_id)
    html = render_template("public/resultat_pdf.html", for_pdf=True,
                           page_url=url_for(".verification", verification_id=found.id, _external=True),
                           **result_context(found))
    return send_file(io.BytesIO(html_to_pdf(html)), mimetype="application/pdf",
                     download_name=f"verification-bud-{found.created_at:%Y-%m-%d}-{found.id[:8]}.pdf", max_age=0)


def _ics_description(step: Mapping[str, Any], page_url: str, past: bool) -> str:
    lines = []
    if past:
        lines.append("Échéance déjà passée à la date de la vérification.")
    lines.append(step["description"])
    if step.get("passee") and step.get("rattrapage"):
        lines.append(step["rattrapage"])
    for form in step.get("formulaires") or []:
        if form.get("numero"):
            text = f"Formulaire {form['numero']} : {form['libelle']}"
            if form.get("confiance") != "V":
                text += " (numéro à vérifier)"
        else:
            text = form["libelle"]
        if form.get("url"):
            text += f" — {form['url']}"
        lines.append(text)
    for office in step.get("ou") or []:
        lines.append(f"Où s'adresser : {office['libelle']} — {office['url']}")
    lines.append(f"Votre vérification : {page_url}")
    return typographie("\n\n".join(lines))


def deadlines_calendar(found: Verification, page_url: str) -> bytes:
    """One all-day event per dated step, and one for the next deadline of a missed step that can still be made
    for later years (`prochaine_echeance`): upcoming ones first, past ones marked as such in their title."""
    from icalendar import Alarm, Calendar, Event

    context = result_context(found)
    calendar = Calendar()
    calendar.add("prodid", ICS_PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", "Régime BUD : vos échéances")
    stamp = found.created_at.astimezone(dt.timezone.utc)
    entries = []
    for step in context["steps"]:
        if not step.get("echeance"):
            continue
        entries.append((iso_date(step["echeance"]), step, bool(step.get("passee")), ""))
        later = iso_date(step.get("prochaine_echeance"))
        if step.get("passee") and later:
            entries.append((later, step, False, " (années suivantes)"))
    entries.sort(key=lambda e: (e[2], e[0]))  # still ahead first, by date; then the past ones
    for day, step, past, suffix in entries:
        event = Event()
        event.add("uid", f"{found.id}-{step.get('id') or step['titre']}-{day.isoformat()}@bud-checker")
        event.add("dtstamp", stamp)
        event.add("dtstart", day)
        event.add("dtend", day + dt.timedelta(days=1))
        event.add("summary", ("[Échéance passée] " if past else "") + f"BUD : {step['titre']}{suffix}")
        event.add("description", _ics_description(step, page_url, past))
        event.add("url", page_url)
        event.add("categories", ["Régime BUD", "passée" if past else "à venir"])
        event.add("transp", "TRANSPARENT")
        if not past:
            alarm = Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", f"Dans sept jours : {step['titre']}")
            alarm.add("trigger", dt.timedelta(days=-7))
            event.add_component(alarm)
        calendar.add_component(event)
    return calendar.to_ical()


@bp.get("/verifications/<verification_id>/echeances.ics")
def echeances_ics(verification_id: str):
    found = _found(verification_id)
    body = deadlines_calendar(found, url_for(".verification", verification_id=found.id, _external=True))
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = f'attachment; filename="echeances-bud-{found.id[:8]}.ics"'
    return response
