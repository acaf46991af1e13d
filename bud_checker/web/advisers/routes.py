"""The pages of the advisers' workspace, under /conseillers.

Every page but the sign-in page needs a signed-in adviser, and every object is looked up within the adviser's
organisation (services.py): another organisation's case file, check, report or batch answers 404.
"""

from __future__ import annotations

import io
from typing import Any, Callable
from urllib.parse import urlsplit

from flask import Response, abort, current_app, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from flask_wtf.csrf import CSRFError, validate_csrf
from wtforms.validators import ValidationError as WTFValidationError

from ...batch import MAX_LIGNES_WEB, BatchError, size_text
from ...engine.fr import accord
from ...engine.law import current_rules
from ...engine.situation import KEYS, LIBELLES, SituationError
from ..errors import api_error, capitalized
from ..extensions import db
from ..models import utcnow
from ..templating import flash_fr
from ..public.forms import GROUPS, QUESTIONS
from . import API_PREFIX, PAGES_PREFIX, bp
from .auth import end_current_session, end_sessions, open_session, security_event, verify_password
from .diff import STATUT_LABELS, compare_verdicts
from .forms import DossierForm, LoginForm, PasswordChangeForm, build_check_form, read_check_form
from .models import BATCH_STATE_LABELS, Batch
from .reports import render_report_html, report_context, send_report_pdf
from .services import (ValidationError, create_dossier, delete_batch, delete_dossier, dossier_counts, find_adviser,
                       format_siren, get_batch, get_dossier,
                       get_verification, history, list_batches, previous_verification, record_dossier_verification,
                       rerun, result_basename, search_dossiers, set_password, submit_batch, unpack,
                       update_dossier)

LOT_REFRESH_SECONDS = 2
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --- the whole workspace ------------------------------------------------------------------------------------

@bp.after_request
def _private(response: Response) -> Response:
    """Pages about clients: never cached by a browser or a proxy, never indexed."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


@bp.app_context_processor
def _workspace_globals() -> dict[str, Any]:
    return {"format_siren": format_siren, "STATUT_FR": STATUT_LABELS, "STATUT_LOT": BATCH_STATE_LABELS}


def unauthorized():
    """Flask-Login's answer to a visitor who is not signed in: 401 JSON for the API, the sign-in page otherwise."""
    if request.path.startswith(API_PREFIX):
        return api_error(401, "Connexion requise : connectez-vous à l'espace conseillers.", "session")
    target = request.full_path.rstrip("?") if request.method == "GET" else None
    return redirect(url_for("conseillers.connexion", suivant=target) if target else url_for("conseillers.connexion"))


def _safe_next(value: str | None) -> str | None:
    """Only a path inside the workspace (no other host, no scheme): never an open redirect."""
    if not value or not value.startswith(PAGES_PREFIX + "/") or value.startswith("//") or "\\" in value:
        return None
    if any(ord(char) < 0x20 or ord(char) == 0x7f for char in value):  # CR/LF, NUL...: never into a header
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return None
    return value


def _org() -> int:
    return current_user.organisation_id


# --- accounts -------------------------------------------------------------------------------------------------

@bp.route("/connexion", methods=["GET", "POST"])
def connexion():
    if current_user.is_authenticated:
        return redirect(url_for(".dossiers"))
    form = LoginForm()
    error = None
    status = 200
    if request.method == "POST":
        if form.validate():
            adviser = find_adviser(form.email.data)
            if verify_password(adviser, form.password.data) and adviser.actif:
                target = _safe_next(request.args.get("suivant"))
                open_session(adviser)  # a fresh session (and CSRF token), recorded on the server
                adviser.last_login_at = utcnow()
                db.session.commit()
                security_event("sign_in", adviser=adviser.id)
                return redirect(target or url_for(".dossiers"), code=303)
            db.session.rollback()
            # Which adviser, when the address is one: no e-mail address nor client address in the log.
            security_event("sign_in_failed", adviser=adviser.id if adviser is not None else "inconnu")
            error = "Adresse électronique ou mot de passe incorrect."
        else:
            error = "Indiquez votre adresse électronique et votre mot de passe."
        status = 401
        form.password.data = ""
    return render_template("conseillers/connexion.html", form=form, error=error,
                           insecure_transport=_cookie_will_be_refused()), status


def _cookie_will_be_refused() -> bool:
    """True when the session cookie will be Secure but the page came over plain HTTP to a host other than this
    machine: a browser would then drop the cookie and the adviser could never stay signed in."""
    host = (request.host or "").rsplit(":", 1)[0].strip("[]")
    return (bool(current_app.config.get("ADVISER_COOKIE_SECURE")) and not request.is_secure
            and host not in ("localhost", "127.0.0.1", "::1"))


@bp.post("/deconnexion")
@login_required
def deconnexion():
    end_current_session("deconnexion")  # ended on the server: a copy of the cookie no longer signs in
    flash_fr("Vous êtes déconnecté.", "info")
    return redirect(url_for(".connexion"), code=303)


@bp.route("/mot-de-passe", methods=["GET", "POST"])
@login_required
def mot_de_passe():
    form = PasswordChangeForm()
    errors: dict[str, str] = {}
    if request.method == "POST":
        if not form.validate():
            errors = {name: field.errors[0] for name, field in form._fields.items() if field.errors}
        elif not verify_password(current_user._get_current_object(), form.current.data):
            errors["current"] = "Le mot de passe actuel est incorrect."
        elif form.new.data != form.confirm.data:
            errors["confirm"] = "Les deux saisies du nouveau mot de passe diffèrent."
        elif form.new.data == form.current.data:
            errors["new"] = "Le nouveau mot de passe doit différer de l'actuel."
        else:
            adviser = current_user._get_current_object()
            try:
                set_password(adviser, form.new.data)
            except ValidationError as problem:
                errors["new"] = problem.message
            else:
                # The other sessions of this adviser end (new auth_id, and on the server); this one continues.
                end_sessions(adviser, "mot_de_passe")
                open_session(adviser)
                db.session.commit()
                flash_fr("Votre mot de passe a été changé. Vos autres sessions ont été fermées.", "ok")
                return redirect(url_for(".dossiers"), code=303)
    status = 422 if errors else 200
    return render_template("conseillers/mot_de_passe.html", form=form, errors=errors), status


# --- case files -----------------------------------------------------------------------------------------------

@bp.get("/")
@login_required
def accueil():
    return redirect(url_for(".dossiers"))


def _page_number() -> int:
    try:
        return max(1, int(request.args.get("page", "1")))
    except ValueError:
        return 1


@bp.get("/dossiers")
@login_required
def dossiers():
    result = search_dossiers(_org(), request.args.get("q", ""), _page_number())
    return render_template("conseillers/dossiers.html", result=result)


def _dossier_form_errors(form: DossierForm) -> dict[str, str]:
    return {name: field.errors[0] for name, field in form._fields.items() if field.errors and name != "csrf_token"}


@bp.route("/dossiers/nouveau", methods=["GET", "POST"])
@login_required
def dossier_nouveau():
    form = DossierForm()
    errors: dict[str, str] = {}
    if request.method == "POST":
        if form.validate():
            try:
                dossier = create_dossier(current_user, form.nom.data, form.siren.data, form.notes.data)
            except ValidationError as problem:
                db.session.rollback()
                errors[problem.champ] = capitalized(problem.message)
            else:
                flash_fr(f"Dossier « {dossier.nom} » créé.", "ok")
                return redirect(url_for(".dossier", dossier_id=dossier.id), code=303)
        else:
            errors = _dossier_form_errors(form)
    page = render_template("conseillers/dossier_form.html", form=form, errors=errors, dossier=None)
    return page, (422 if errors else 200)


def _or_404(found):
    """`found`, or 404 (also for another organisation's objects: never confirm they exist)."""
    if found is None:
        abort(404)
    return found


def _dossier_or_404(dossier_id: str):
    return _or_404(get_dossier(_org(), dossier_id))


def _verification_or_404(dossier_id: str, verification_id: str):
    return _or_404(get_verification(_org(), dossier_id, verification_id))


def _batch_or_404(batch_id: str):
    return _or_404(get_batch(_org(), batch_id))


@bp.get("/dossiers/<dossier_id>")
@login_required
def dossier(dossier_id: str):
    found = _dossier_or_404(dossier_id)
    return render_template("conseillers/dossier.html", dossier=found, verifications=history(found),
                           regles_du_jour=current_rules().empreinte)


@bp.route("/dossiers/<dossier_id>/modifier", methods=["GET", "POST"])
@login_required
def dossier_modifier(dossier_id: str):
    found = _dossier_or_404(dossier_id)
    form = DossierForm(obj=None if request.method == "POST" else found)
    if request.method == "GET":
        form.siren.data = format_siren(found.siren)
    errors: dict[str, str] = {}
    if request.method == "POST":
        if form.validate():
            try:
                update_dossier(current_user, found, form.nom.data, form.siren.data, form.notes.data)
            except ValidationError as problem:
                db.session.rollback()
                errors[problem.champ] = capitalized(problem.message)
            else:
                flash_fr("Dossier mis à jour.", "ok")
                return redirect(url_for(".dossier", dossier_id=found.id), code=303)
        else:
            errors = _dossier_form_errors(form)
    page = render_template("conseillers/dossier_form.html", form=form, errors=errors, dossier=found)
    return page, (422 if errors else 200)


@bp.route("/dossiers/<dossier_id>/supprimer", methods=["GET", "POST"])
@login_required
def dossier_supprimer(dossier_id: str):
    """A confirmation page, then the deletion of the case file with all its checks (CSRF-checked form)."""
    found = _dossier_or_404(dossier_id)
    nom = found.nom

    def delete() -> str:
        removed = delete_dossier(current_user, found)
        verifications = accord(removed.verifications, "vérification", "vérifications")
        return f"Dossier « {nom} » supprimé, avec ses {removed.verifications} {verifications}."

    return _confirm_deletion(delete, ".dossiers",
                             lambda: {"objet": "dossier", "dossier": found, "nombre": dossier_counts(found)})


def _confirm_deletion(delete: Callable[[], str], done: str, page: Callable[[], dict[str, Any]]) -> Response | str:
    """A deletion in two steps, for a case file or a batch. GET: the confirmation page, showing `page()`
    (conseillers/supprimer.html). POST, its CSRF-checked form: `delete()`, which says what it removed in the
    message flashed, then the list `done`."""
    if request.method == "POST":
        flash_fr(delete(), "ok")
        return redirect(url_for(done), code=303)
    return render_template("conseillers/supprimer.html", **page())


# --- checks in a case file ----------------------------------------------------------------------------------

@bp.route("/dossiers/<dossier_id>/verifier", methods=["GET", "POST"])
@login_required
def verifier(dossier_id: str):
    found = _dossier_or_404(dossier_id)
    source = None
    if request.method == "GET" and request.args.get("depuis"):
        source = _verification_or_404(found.id, request.args["depuis"])
    errors: dict[str, str] = {}
    general: list[str] = []
    candidates: list = []
    if request.method == "POST":
        form = build_check_form(formdata=request.form)  # CSRF: checked by CSRFProtect before the view
        situation, errors, candidates = read_check_form(form)
        if not errors:
            try:
                verification = record_dossier_verification(current_user, found, situation, canal="formulaire")
            except SituationError as problem:
                db.session.rollback()
                field = "commune" if problem.champ == "commune_insee" else problem.champ
                if field in form:
                    errors[field] = capitalized(problem.message)
                else:
                    general.append(f"{LIBELLES.get(problem.champ, problem.champ)} : {problem.message}")
            else:
                return redirect(url_for(".verification", dossier_id=found.id, verification_id=verification.id),
                                code=303)
    else:
        form = build_check_form(source.situation if source else None)
    if candidates:
        form.commune_choix.choices = [(c.insee, f"{c.nom} ({c.departement}) – {', '.join(c.codes_postaux[:3])}")
                                      for c in candidates]
    error_list = [{"field": name, "message": message} for name, message in errors.items()]
    error_list += [{"field": None, "message": message} for message in general]
    status = 422 if error_list else 200
    return render_template("conseillers/verification_form.html", dossier=found, form=form, groups=GROUPS,
                           questions=QUESTIONS, errors=errors, error_list=error_list, source=source), status


@bp.get("/dossiers/<dossier_id>/verifications/<verification_id>")
@login_required
def verification(dossier_id: str, verification_id: str):
    found = _verification_or_404(dossier_id, verification_id)
    previous = previous_verification(found)
    diff = compare_verdicts(previous.verdict, found.verdict) if previous is not None else None
    context = report_context(found)
    return render_template("conseillers/verification.html", previous=previous, diff=diff,
                           regles_du_jour=current_rules().empreinte, **context)


@bp.post("/dossiers/<dossier_id>/verifications/<verification_id>/relancer")
@login_required
def relancer(dossier_id: str, verification_id: str):
    found = _verification_or_404(dossier_id, verification_id)
    try:
        fresh = rerun(current_user, found)
    except SituationError as problem:  # a situation valid then, refused by today's rules of input
        db.session.rollback()
        flash_fr("Cette situation ne peut plus être évaluée telle quelle : "
                 f"{LIBELLES.get(problem.champ, problem.champ)} : "
                 f"{problem.message} Faites une nouvelle vérification à partir de celle-ci.", "ko")
        return redirect(url_for(".verification", dossier_id=dossier_id, verification_id=verification_id), code=303)
    return redirect(url_for(".verification", dossier_id=dossier_id, verification_id=fresh.id), code=303)


@bp.get("/dossiers/<dossier_id>/comparer")
@login_required
def comparer(dossier_id: str):
    """Any two checks of the same case file, the older one first (?a=<id>&b=<id>)."""
    found = _dossier_or_404(dossier_id)
    first = _verification_or_404(found.id, request.args.get("a", ""))
    second = _verification_or_404(found.id, request.args.get("b", ""))
    older, newer = sorted((first, second), key=lambda v: v.created_at)
    return render_template("conseillers/comparer.html", dossier=found, avant=older, apres=newer,
                           diff=compare_verdicts(older.verdict, newer.verdict))


@bp.get("/dossiers/<dossier_id>/verifications/<verification_id>/rapport")
@login_required
def rapport(dossier_id: str, verification_id: str):
    found = _verification_or_404(dossier_id, verification_id)
    return render_report_html(found)


@bp.get("/dossiers/<dossier_id>/verifications/<verification_id>/rapport.pdf")
@login_required
def rapport_pdf(dossier_id: str, verification_id: str):
    return send_report_pdf(_verification_or_404(dossier_id, verification_id),
                           as_attachment=request.args.get("telecharger") == "1")


# --- batches --------------------------------------------------------------------------------------------------

@bp.get("/lots")
@login_required
def lots():
    return _lots_page(None)


def _lots_page(error: str | None) -> str:
    return render_template("conseillers/lots.html", batches=list_batches(_org()), max_lignes=MAX_LIGNES_WEB,
                           max_taille=size_text(current_app.config["ADVISER_BATCH_MAX_BYTES"]), error=error,
                           keys=KEYS, libelles=LIBELLES)


@bp.post("/lots")
@login_required
def lot_nouveau():
    """Upload a CSV: the body may exceed MAX_CONTENT_LENGTH up to ADVISER_BATCH_MAX_BYTES, so this view is exempt
    from the global CSRF check (which would read the body first) and checks the token itself."""
    limit = current_app.config["ADVISER_BATCH_MAX_BYTES"]
    request.max_content_length = limit
    try:
        validate_csrf(request.form.get("csrf_token"))
    except WTFValidationError as problem:
        raise CSRFError(str(problem)) from None
    upload = request.files.get("fichier")
    error = None
    if upload is None or not upload.filename:
        error = "Choisissez un fichier CSV ou Excel (.xlsx) à envoyer."
    else:
        data = upload.read(limit + 1)
        try:
            batch = submit_batch(current_user, data, upload.filename, MAX_LIGNES_WEB,
                                 dossiers=request.form.get("dossiers") == "1")
        except BatchError as problem:
            db.session.rollback()
            error = capitalized(str(problem))
        else:
            if batch.etat == "termine":
                flash_fr(f"Lot vérifié : {batch.synthese['texte']}", "ok")
            elif batch.etat != "echec":
                flash_fr("Fichier reçu : ses lignes sont en cours de vérification. Cette page se met à jour "
                         "d'elle-même ; vous pouvez aussi la quitter et revenir plus tard.", "info")
            return redirect(url_for(".lot", batch_id=batch.id), code=303)
    return _lots_page(error), 422


@bp.get("/lots/<batch_id>")
@login_required
def lot(batch_id: str):
    found = _batch_or_404(batch_id)
    response = current_app.make_response(render_template("conseillers/lot.html", batch=found,
                                                          refresh=LOT_REFRESH_SECONDS))
    if not found.fini:  # the page follows the batch without JavaScript: the browser asks again
        response.headers["Refresh"] = str(LOT_REFRESH_SECONDS)
    return response


@bp.route("/lots/<batch_id>/supprimer", methods=["GET", "POST"])
@login_required
def lot_supprimer(batch_id: str):
    """A confirmation page, then the deletion of the batch with its stored files (CSRF-checked form)."""
    found = _batch_or_404(batch_id)
    nom = found.nom_fichier

    def delete() -> str:
        delete_batch(current_user, found)
        return f"Lot « {nom} » supprimé, avec le fichier envoyé et ses résultats."

    return _confirm_deletion(delete, ".lots", lambda: {"objet": "lot", "batch": found})


@bp.get("/lots/<batch_id>/resultats.csv")
@login_required
def lot_csv(batch_id: str):
    return send_results(_batch_or_404(batch_id), "csv")


@bp.get("/lots/<batch_id>/resultats.xlsx")
@login_required
def lot_xlsx(batch_id: str):
    return send_results(_batch_or_404(batch_id), "xlsx")


def send_results(batch: Batch, extension: str) -> Response:
    """A batch's result file as a download: `csv` or `xlsx` (pages and API); 409 while it is not «termine»."""
    if batch.etat != "termine":
        abort(409, description="Les résultats de ce lot ne sont pas encore prêts : attendez la fin de sa vérification.")
    if extension == "csv":
        data, mimetype = unpack(batch.resultats_csv), "text/csv; charset=utf-8"
    else:
        data, mimetype = batch.resultats_xlsx, XLSX_MIME
    return send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=True,
                     download_name=f"{result_basename(batch)}.{extension}", max_age=0)


@bp.get("/lots/<batch_id>/fichier-source")
@login_required
def lot_source(batch_id: str):
    found = _batch_or_404(batch_id)
    data = unpack(found.fichier_source)
    mimetype = XLSX_MIME if data[:4] == b"PK\x03\x04" else "text/csv"
    return send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=True, download_name=found.nom_fichier,
                     max_age=0)


@bp.get("/lots/modele.csv")
@login_required
def lot_modele():
    """A header row with every situation key and two example lines, to start a spreadsheet from."""
    header = ";".join(KEYS)
    example = {"date_creation": "14/05/2019", "commune_insee": "59178", "activite": "commerciale",
               "origine": "creation_pure", "effectif": "3", "chiffre_affaires": "180000", "total_bilan": "90000",
               "capital_detenu_par_societes_pct": "0", "siege_et_moyens_dans_zone": "oui", "non_sedentaire": "non",
               "salaries_eligibles": "2", "salaries_eligibles_residents_bud": "2"}
    second = {"date_creation": "2021-03-01", "commune_insee": "Liévin", "activite": "artisanale"}
    lines = [header, ";".join(example.get(k, "") for k in KEYS), ";".join(second.get(k, "") for k in KEYS)]
    body = "\ufeff" + "\r\n".join(lines) + "\r\n"
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": "attachment; filename=modele-situations-bud.csv"})

