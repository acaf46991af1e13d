"""Public pages: the step-by-step form, the saved verdicts, the rules and the commune suggestions."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from flask import abort, jsonify, redirect, render_template, request, url_for

from ...communes import load_reference
from ...engine.law import current_rules
from ...engine.situation import LIBELLES, SituationError
from ...engine.verdict import NON_ELIGIBLE
from ..jsonio import BodyError, loads_body
from ..rules_catalogue import catalogue
from ...commune_search import commune_payload, search_communes
from ..services import find_verification, record_verification
from ..zone_map import SOURCE, basin_list, large_svg, load_map
from ..zone_map import legend as zone_legend
from . import bp
from .flow import Step, next_step, step_position, undecided_facts
from .forms import GROUPS, GROUPS_BY_ID, QUESTIONS, answer_text, build_form, choices, prefill, read_answers

SUGGESTION_LIMIT = 8


def _load_etat(raw: str | None) -> tuple[dict[str, Any], str | None]:
    """The answers carried from step to step, or an error message if they cannot be read back."""
    if not raw:
        return {}, None
    try:
        etat = loads_body(raw, whole="etat")
    except BodyError:  # not JSON, nested too deep, a number too large, a lone surrogate...: not what we wrote
        return {}, "Vos réponses précédentes n'ont pas pu être relues : recommencez, s'il vous plaît."
    if not isinstance(etat, dict) or any(key not in LIBELLES for key in etat):
        return {}, "Vos réponses précédentes n'ont pas pu être relues : recommencez, s'il vous plaît."
    if any(not isinstance(v, (str, int, float, bool, type(None))) for v in etat.values()):
        return {}, "Vos réponses précédentes n'ont pas pu être relues : recommencez, s'il vous plaît."
    return etat, None


def _dump_etat(etat: dict[str, Any]) -> str:
    order = {key: index for index, key in enumerate(LIBELLES)}
    return json.dumps(dict(sorted(etat.items(), key=lambda item: order[item[0]])), ensure_ascii=False,
                      separators=(",", ":"))


def _creation_date(etat: dict[str, Any]) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(etat.get("date_creation")))
    except ValueError:
        return None


def _summary(etat: dict[str, Any]) -> list[dict[str, Any]]:
    """The answers given so far, by step, for the «Vos réponses» box."""
    groups = []
    for group in GROUPS:
        rows = [{"key": key, "label": QUESTIONS[key].label, "value": answer_text(key, etat[key])}
                for key in group.keys if key in etat]
        if rows:
            groups.append({"group": group, "rows": rows})
    return groups


def _candidate_label(commune, typed: str) -> str:
    """«Douai (59) – code postal 59500»; the commune whose INSEE code was typed says so (BUD.md § 5.5)."""
    postal = ", ".join(commune.codes_postaux[:3])
    label = f"{commune.nom} ({commune.departement}) – code postal {postal}"
    if typed == commune.insee and typed not in commune.codes_postaux:
        label += f", code INSEE {commune.insee}"
    return label


def _render_step(step: Step, etat: dict[str, Any], *, form=None, errors: dict[str, str] | None = None,
                 general_errors: list[str] | None = None, candidates=None, status: int = 200, editing: bool = False):
    on = _creation_date(etat)
    if form is None and step.group is not None:
        form = build_form(step.keys, on, etat=_dump_etat(etat), groupe=step.group.id)
    if form is not None:
        form.etat.data = _dump_etat(etat)
        if candidates:
            typed = "".join(str(form.commune.data or "").split())
            form.commune_choix.choices = choices(
                (c.insee, f"{_candidate_label(c, typed)} – {commune_payload(c)['classement']}") for c in candidates)
    errors = errors or {}
    error_list = [{"field": name, "message": message} for name, message in errors.items()]
    error_list += [{"field": None, "message": message} for message in general_errors or []]
    conditions = step.verdict["conditions"] if step.verdict else []
    return render_template(
        "public/etape.html",
        step=step, form=form, keys=step.keys, questions=QUESTIONS, errors=errors, error_list=error_list,
        etat_json=_dump_etat(etat), summary=_summary(etat), conditions=conditions,
        undecided=undecided_facts(step.verdict) if step.verdict else [], editing=editing,
        non_eligible=bool(step.verdict and step.verdict["statut"] == NON_ELIGIBLE),
        first_step=step.group is GROUPS[0] and not etat,
        position=None if editing else step_position(etat, step),
    ), status


def render_edit(group, etat: dict[str, Any]):
    """The step `group` shown again with the answers of `etat` filled in, to change them."""
    keys = [key for key in group.keys if key in etat] or list(group.keys)
    if group is GROUPS[0]:
        keys = list(group.keys)
    try:
        verdict = next_step(etat).verdict
    except SituationError:
        verdict = None
    form = build_form(keys, _creation_date(etat), etat=_dump_etat(etat), groupe=group.id, **prefill(keys, etat))
    return _render_step(Step(group, keys, verdict), etat, form=form, editing=True)


@bp.get("/")
def index():
    step = next_step({})
    return _render_step(step, {})


@bp.get("/verifier")
def verifier_get():
    return redirect(url_for(".index"))


@bp.post("/verifier")
def verifier():
    etat, problem = _load_etat(request.form.get("etat"))
    if problem:
        return _render_step(next_step({}), {}, general_errors=[problem], status=400)
    action = request.form.get("action", "suivant")

    if action == "resultat":
        try:
            verification = record_verification(etat, canal="formulaire")
        except SituationError as error:
            return _render_step(next_step({}), {}, general_errors=[f"{error.message}"], status=400)
        return redirect(url_for(".verification", verification_id=verification.id), code=303)

    if action.startswith("modifier:"):
        group = GROUPS_BY_ID.get(action.split(":", 1)[1])
        if group is None:
            abort(400)
        return render_edit(group, etat)

    group = GROUPS_BY_ID.get(request.form.get("groupe", ""))
    keys = [key for key in request.form.get("cles", "").split(",") if key]
    if group is None or not keys or any(key not in group.keys for key in keys):
        return _render_step(next_step({}), {}, general_errors=[
            "Le formulaire envoyé est incomplet : recommencez, s'il vous plaît."], status=400)
    on = _creation_date(etat)
    form = build_form(keys, on, formdata=request.form)
    answers, errors, candidates = read_answers(form, keys)
    general: list[str] = []
    merged = {**etat, **answers}
    if not errors:
        try:
            step = next_step(merged)
        except SituationError as error:
            # An inconsistency involves several fields: show it on the one asked in this step.
            champ = next((c for c in getattr(error, "champs", (error.champ,)) if c in keys), error.champ)
            field = "commune" if champ == "commune_insee" else champ
            if champ in keys:
                errors[field] = error.message[:1].upper() + error.message[1:]
            else:
                general.append(f"{LIBELLES.get(error.champ, error.champ)} : {error.message}")
        else:
            if step.finished and step.verdict["statut"] != NON_ELIGIBLE:
                # Nothing left to ask: save and show the verdict.
                verification = record_verification(merged, canal="formulaire")
                return redirect(url_for(".verification", verification_id=verification.id), code=303)
            return _render_step(step, merged)
    try:
        previous = next_step(etat).verdict
    except SituationError:
        previous = None
    return _render_step(Step(group, keys, previous), etat, form=form, errors=errors, general_errors=general,
                        candidates=candidates, status=422)


@bp.get("/verifications/<verification_id>")
def verification(verification_id: str):
    from .results import result_context  # results imports this module

    found = find_verification(verification_id)
    if found is None:
        abort(404)
    return render_template("public/verification.html",
                           share_url=url_for(".verification", verification_id=found.id, _external=True),
                           **result_context(found))


@bp.get("/regles")
def regles():
    return render_template("public/regles.html", cat=catalogue())


@bp.get("/communes")
def communes():
    """Suggestions for the commune field (JSON, used by static/js/communes.js)."""
    query = (request.args.get("q") or "").strip()[:100]
    if len(query) < 2:
        return jsonify({"communes": []})
    return jsonify({"communes": search_communes(query, SUGGESTION_LIMIT)})


@bp.get("/zone")
def zone():
    """The map of the zone and its list of communes; `q` searches a commune, `commune` (an INSEE code) marks one."""
    zone_map = load_map()
    query = (request.args.get("q") or "").strip()[:100]
    results = []
    if query:
        for payload in search_communes(query, SUGGESTION_LIMIT):
            results.append({**payload, "on_map": bool(zone_map.outlines_of(payload["insee"]))})
    code = (request.args.get("commune") or "").strip()[:10]
    commune = load_reference().get(code) if code else None
    here = None
    if commune is not None and zone_map.outlines_of(commune.insee):
        here = commune_payload(commune)
    elif results and results[0]["on_map"] and not results[0]["approchee"]:
        here = results[0]
    rules = current_rules()
    groups = basin_list(rules)
    return render_template(
        "public/zone.html", q=query, results=results, marked=here, svg=large_svg(here["insee"] if here else None),
        legend=zone_legend(rules), counts=zone_map.counts(), groups=groups,
        total=len(rules.communes_bud), source=SOURCE)


@bp.get("/glossaire")
def glossaire():
    from ..glossary import entries

    return render_template("public/glossaire.html", entries=entries())


@bp.get("/api")
def api_doc():
    return render_template("public/api.html")
