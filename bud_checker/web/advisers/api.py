"""JSON API of the advisers' workspace, under /api/v1/conseillers.

Authenticated by the session cookie of the workspace (sign in on /conseillers/connexion). Not exempt from
CSRF protection: every POST/PATCH sends the token of `GET /session` in an `X-CSRFToken` header. Errors are
the public API's `{"erreur": {"champ": ..., "message": ...}}`: 401 (not signed in), 404 (unknown, or another
organisation's: the API never says which), 400/415/422 (bad input), 413 (too large).

    GET   /session                                           who is signed in, the CSRF token, the rules version
    GET   /dossiers?q=&page=                                 search and list case files
    POST  /dossiers                                          {"nom", "siren"?, "notes"?} -> 201
    GET   /dossiers/<id>                                     the case file and its history of checks
    PATCH /dossiers/<id>                                     change nom, siren, notes
    DELETE /dossiers/<id>                                    the case file with its checks -> 204
    GET   /dossiers/<id>/verifications                       its checks, newest first
    POST  /dossiers/<id>/verifications                       a situation (the public API's body) -> 201
    GET   /dossiers/<id>/verifications/<vid>                 one check, with its verdict
    POST  /dossiers/<id>/verifications/<vid>/relance         the same situation under today's rules -> 201 + changes
    GET   /dossiers/<id>/verifications/<vid>/comparaison?avec=<vid2>   what differs between two checks
    GET   /dossiers/<id>/verifications/<vid>/rapport.pdf     the printable report
    GET   /lots                                              batches of the organisation
    POST  /lots?dossiers=1                                   a CSV or XLSX (multipart field `fichier`, or the
                                                             body) -> 202 with `etat` (en_attente, en_cours, termine,
                                                             echec) and `progression` (lignes_faites, lignes_total): a
                                                             worker checks it; with dossiers=1, it files each line in
                                                             its case file
    GET   /lots/<id>                                         state, progress, then the summary and the lines in error
    DELETE /lots/<id>                                        the batch with its stored files -> 204
    GET   /lots/<id>/resultats.csv | resultats.xlsx          the result files
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

from flask import current_app, jsonify, request, url_for
from flask_login import current_user, login_required
from flask_wtf.csrf import CSRFError, generate_csrf, validate_csrf
from wtforms.validators import ValidationError as WTFValidationError

from ...batch import MAX_LIGNES_WEB, BatchError
from ...engine.contract import upgrade
from ...engine.law import current_rules
from ...engine.situation import SituationError
from ..errors import api_error, capitalized
from ..extensions import db
from ..json_body import read_json_body
from . import api_bp
from .diff import compare_verdicts
from .models import Batch, Dossier, DossierVerification
from .reports import send_report_pdf
from .routes import XLSX_MIME, send_results
from .services import (PAGE_SIZE, ValidationError, create_dossier, delete_batch, delete_dossier, get_batch, get_dossier,
                       get_verification, history,
                       list_batches, previous_verification, record_dossier_verification, rerun, submit_batch,
                       search_dossiers, update_dossier)

NOT_FOUND = {
    "dossier": "Aucun dossier de votre organisation n'a cet identifiant.",
    "verification": "Aucune vérification de ce dossier n'a cet identifiant.",
    "lot": "Aucun lot de votre organisation n'a cet identifiant.",
}
DOSSIER_KEYS = ("nom", "siren", "notes")


class Refusal(Exception):
    """An error answer (`api_error`), raised by the helpers below and sent as it is by the blueprint."""

    def __init__(self, response) -> None:
        super().__init__(response.status_code)
        self.response = response


@api_bp.errorhandler(Refusal)
def _refused(refusal: Refusal):
    return refusal.response


@api_bp.after_request
def _private(response):
    response.headers["Cache-Control"] = "no-store"
    return response


def _time(value) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _adviser(adviser) -> dict[str, Any]:
    return {"id": adviser.id, "email": adviser.email, "nom": adviser.nom}


def dossier_body(dossier: Dossier, *, nombre: int | None = None) -> dict[str, Any]:
    return {
        "id": dossier.id,
        "url": url_for("conseillers_api.get_dossier_api", dossier_id=dossier.id, _external=True),
        "page": url_for("conseillers.dossier", dossier_id=dossier.id, _external=True),
        "nom": dossier.nom,
        "siren": dossier.siren,
        "notes": dossier.notes,
        "cree_le": _time(dossier.created_at),
        "cree_par": _adviser(dossier.created_by),
        "modifie_le": _time(dossier.updated_at),
        "modifie_par": _adviser(dossier.updated_by),
        **({"nombre_verifications": nombre} if nombre is not None else {}),
    }


def verification_summary(v: DossierVerification) -> dict[str, Any]:
    return {
        "id": v.id,
        "url": url_for("conseillers_api.get_verification_api", dossier_id=v.dossier_id, verification_id=v.id,
                       _external=True),
        "page": url_for("conseillers.verification", dossier_id=v.dossier_id, verification_id=v.id, _external=True),
        "rapport_pdf": url_for("conseillers.rapport_pdf", dossier_id=v.dossier_id, verification_id=v.id,
                               _external=True),
        "cree_le": _time(v.created_at),
        "par": _adviser(v.adviser),
        "canal": v.canal,
        "relance_de": v.relance_de_id,
        "lot": {"id": v.lot_id, "ligne": v.lot_ligne} if v.canal == "lot" else None,
        "statut": v.statut,
        "regles_version": v.regles_version,
    }


def verification_body(v: DossierVerification) -> dict[str, Any]:
    return {**verification_summary(v), "situation": v.situation, "verdict": upgrade(v.verdict)}


def batch_body(batch: Batch) -> dict[str, Any]:
    return {
        "id": batch.id,
        "url": url_for("conseillers_api.get_batch_api", batch_id=batch.id, _external=True),
        "page": url_for("conseillers.lot", batch_id=batch.id, _external=True),
        "nom_fichier": batch.nom_fichier,
        "cree_le": _time(batch.created_at),
        "par": _adviser(batch.adviser),
        "regles_version": batch.regles_version,
        "etat": batch.etat,
        "progression": batch.progression,
        "raison_echec": batch.raison_echec,
        "termine_le": _time(batch.termine_le) if batch.termine_le else None,
        "synthese": batch.synthese,
        "resultats_csv": url_for("conseillers_api.batch_csv_api", batch_id=batch.id, _external=True)
        if batch.etat == "termine" else None,
        "resultats_xlsx": url_for("conseillers_api.batch_xlsx_api", batch_id=batch.id, _external=True)
        if batch.etat == "termine" else None,
    }


def _org() -> int:
    return current_user.organisation_id


def _json_object() -> dict[str, Any]:
    """The JSON object of the body; refused otherwise."""
    data, error = read_json_body("corps")
    if error is not None:
        raise Refusal(error)
    if not isinstance(data, dict):
        raise Refusal(api_error(422, "Attendu un objet JSON (clé : valeur).", "corps"))
    return data


def _dossier_fields() -> dict[str, Any]:
    """The body of a case file's creation or change: an object with no other key than nom, siren, notes."""
    data = _json_object()
    unknown = sorted(set(data) - set(DOSSIER_KEYS))
    if unknown:
        raise Refusal(api_error(422, f"Clé inconnue : « {unknown[0]} » ; clés admises : {', '.join(DOSSIER_KEYS)}.",
                                unknown[0]))
    return data


@contextlib.contextmanager
def _stored_or_422(bad_input: type[Exception]) -> Iterator[None]:
    """Around a write: `bad_input` raised inside rolls it back and answers 422, naming the field."""
    try:
        yield
    except bad_input as problem:
        db.session.rollback()
        if isinstance(problem, SituationError):
            raise Refusal(api_error(422, problem.message, problem.champ)) from None
        if isinstance(problem, BatchError):
            raise Refusal(api_error(422, capitalized(str(problem)), "fichier")) from None
        raise Refusal(api_error(422, capitalized(problem.message), problem.champ)) from None


def _found(found, kind: str):
    """`found`, or a 404 that does not say whether the object exists in another organisation."""
    if found is None:
        raise Refusal(api_error(404, NOT_FOUND[kind], "id"))
    return found


def _dossier(dossier_id: str) -> Dossier:
    return _found(get_dossier(_org(), dossier_id), "dossier")


def _verification(dossier_id: str, verification_id: str) -> DossierVerification:
    return _found(get_verification(_org(), dossier_id, verification_id), "verification")


def _batch(batch_id: str) -> Batch:
    return _found(get_batch(_org(), batch_id), "lot")


def _created(body: dict[str, Any]):
    response = jsonify(body)
    response.status_code = 201
    response.headers["Location"] = body["url"]
    return response


@api_bp.get("/session")
@login_required
def session_api():
    return jsonify({
        "conseiller": _adviser(current_user),
        "organisation": {"id": current_user.organisation.id, "nom": current_user.organisation.nom},
        "csrf_token": generate_csrf(),
        "regles_version": current_rules().empreinte,
    })


# --- case files -----------------------------------------------------------------------------------------------

@api_bp.get("/dossiers")
@login_required
def list_dossiers_api():
    try:
        page = max(1, int(request.args.get("page", "1")))
    except ValueError:
        return api_error(400, "Paramètre page : attendu un nombre entier à partir de 1.", "page")
    result = search_dossiers(_org(), request.args.get("q", ""), page)
    return jsonify({
        "dossiers": [{**dossier_body(row.dossier, nombre=row.nombre),
                      "derniere_verification": verification_summary(row.derniere) if row.derniere else None}
                     for row in result.rows],
        "total": result.total, "page": result.page, "pages": result.pages, "par_page": PAGE_SIZE,
    })


@api_bp.post("/dossiers")
@login_required
def create_dossier_api():
    data = _dossier_fields()
    with _stored_or_422(ValidationError):
        dossier = create_dossier(current_user, data.get("nom"), data.get("siren"), data.get("notes"))
    return _created(dossier_body(dossier, nombre=0))


@api_bp.get("/dossiers/<dossier_id>")
@login_required
def get_dossier_api(dossier_id: str):
    found = _dossier(dossier_id)
    checks = history(found)
    return jsonify({**dossier_body(found, nombre=len(checks)),
                    "verifications": [verification_summary(v) for v in checks]})


@api_bp.patch("/dossiers/<dossier_id>")
@login_required
def update_dossier_api(dossier_id: str):
    found = _dossier(dossier_id)
    data = _dossier_fields()
    with _stored_or_422(ValidationError):
        update_dossier(current_user, found, data.get("nom", found.nom), data.get("siren", found.siren),
                       data.get("notes", found.notes))
    return jsonify(dossier_body(found, nombre=len(history(found))))


@api_bp.delete("/dossiers/<dossier_id>")
@login_required
def delete_dossier_api(dossier_id: str):
    """The case file and all its checks; 204. Another organisation's answers 404, as an unknown one."""
    delete_dossier(current_user, _dossier(dossier_id))
    return "", 204


# --- checks ---------------------------------------------------------------------------------------------------

@api_bp.get("/dossiers/<dossier_id>/verifications")
@login_required
def list_verifications_api(dossier_id: str):
    return jsonify({"verifications": [verification_summary(v) for v in history(_dossier(dossier_id))]})


@api_bp.post("/dossiers/<dossier_id>/verifications")
@login_required
def create_verification_api(dossier_id: str):
    found = _dossier(dossier_id)
    data = _json_object()
    with _stored_or_422(SituationError):
        verification = record_dossier_verification(current_user, found, data, canal="api")
    return _created(verification_body(verification))


@api_bp.get("/dossiers/<dossier_id>/verifications/<verification_id>")
@login_required
def get_verification_api(dossier_id: str, verification_id: str):
    return jsonify(verification_body(_verification(dossier_id, verification_id)))


@api_bp.post("/dossiers/<dossier_id>/verifications/<verification_id>/relance")
@login_required
def rerun_api(dossier_id: str, verification_id: str):
    found = _verification(dossier_id, verification_id)
    with _stored_or_422(SituationError):
        fresh = rerun(current_user, found)
    return _created({**verification_body(fresh),
                     "changements": compare_verdicts(found.verdict, fresh.verdict).to_dict()})


@api_bp.get("/dossiers/<dossier_id>/verifications/<verification_id>/comparaison")
@login_required
def compare_api(dossier_id: str, verification_id: str):
    found = _verification(dossier_id, verification_id)
    other_id = request.args.get("avec")
    if other_id:
        other = _verification(dossier_id, other_id)
    else:
        other = previous_verification(found)
        if other is None:
            return api_error(404, "Cette vérification est la première du dossier : rien à comparer.", "avec")
    older, newer = sorted((other, found), key=lambda v: v.created_at)
    return jsonify({"avant": verification_summary(older), "apres": verification_summary(newer),
                    "changements": compare_verdicts(older.verdict, newer.verdict).to_dict()})


@api_bp.get("/dossiers/<dossier_id>/verifications/<verification_id>/rapport.pdf")
@login_required
def report_api(dossier_id: str, verification_id: str):
    return send_report_pdf(_verification(dossier_id, verification_id))


# --- batches --------------------------------------------------------------------------------------------------

@api_bp.get("/lots")
@login_required
def list_batches_api():
    return jsonify({"lots": [batch_body(b) for b in list_batches(_org())]})


@api_bp.post("/lots")
@login_required
def create_batch():
    """A CSV or XLSX as multipart (field `fichier`) or as the body (Content-Type: text/csv or the XLSX type, name
    in ?nom_fichier=).
    Exempt from the global CSRF check to raise the size limit first; the X-CSRFToken header is checked here."""
    limit = current_app.config["ADVISER_BATCH_MAX_BYTES"]
    request.max_content_length = limit
    try:
        validate_csrf(request.headers.get("X-CSRFToken") or request.headers.get("X-CSRF-Token")
                      or request.form.get("csrf_token"))
    except WTFValidationError as problem:
        raise CSRFError(str(problem)) from None
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("fichier")
        if upload is None or not upload.filename:
            return api_error(400, "Champ fichier manquant : envoyez le CSV dans le champ « fichier ».", "fichier")
        data, name = upload.read(limit + 1), upload.filename
    elif request.mimetype in ("text/csv", "text/plain", "application/csv"):
        data, name = request.get_data(cache=False), request.args.get("nom_fichier") or "situations.csv"
    elif request.mimetype == XLSX_MIME:
        data, name = request.get_data(cache=False), request.args.get("nom_fichier") or "situations.xlsx"
    else:
        return api_error(415, f"Type de contenu « {request.mimetype or 'aucun'} » non admis : envoyez le fichier en "
                              "multipart/form-data (champ « fichier »), en text/csv ou en "
                              f"{XLSX_MIME}.", "Content-Type")
    with _stored_or_422(BatchError):
        filing = request.args.get("dossiers") or request.form.get("dossiers")
        batch = submit_batch(current_user, data, name, MAX_LIGNES_WEB, dossiers=filing in ("1", "oui", "true"))
    response = _created(batch_body(batch))
    response.status_code = 202  # accepted: a worker checks the lines; follow `etat` and `progression` at `url`
    return response


@api_bp.get("/lots/<batch_id>")
@login_required
def get_batch_api(batch_id: str):
    return jsonify(batch_body(_batch(batch_id)))


@api_bp.delete("/lots/<batch_id>")
@login_required
def delete_batch_api(batch_id: str):
    """The batch with its stored files (sent and results); 204. The checks it left in case files stay."""
    delete_batch(current_user, _batch(batch_id))
    return "", 204


@api_bp.get("/lots/<batch_id>/resultats.csv")
@login_required
def batch_csv_api(batch_id: str):
    return send_results(_batch(batch_id), "csv")


@api_bp.get("/lots/<batch_id>/resultats.xlsx")
@login_required
def batch_xlsx_api(batch_id: str):
    return send_results(_batch(batch_id), "xlsx")

