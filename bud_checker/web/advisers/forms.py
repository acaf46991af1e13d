"""Forms of the advisers' workspace (Flask-WTF: every POST carries a CSRF token).

The check form is the public form's questions (same labels, help texts, parsing and validation, from
`public/forms.py`), all on one page: an adviser usually has the whole file at hand. A field left empty means
«je ne sais pas», as does the explicit choice.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Mapping

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from ...engine.situation import LIBELLES
from ..public.forms import GROUPS, NSP, QUESTIONS, build_form, prefill, read_answers

ALL_KEYS: list[str] = [key for group in GROUPS for key in group.keys]


class LoginForm(FlaskForm):
    email = StringField("Adresse électronique", validators=[DataRequired("Indiquez votre adresse électronique."),
                                                            Length(max=254)])
    password = PasswordField("Mot de passe", validators=[DataRequired("Indiquez votre mot de passe."),
                                                         Length(max=256)])


class PasswordChangeForm(FlaskForm):
    current = PasswordField("Mot de passe actuel", validators=[DataRequired("Indiquez votre mot de passe actuel.")])
    new = PasswordField("Nouveau mot de passe",
                        description="Au moins 12 caractères ; une phrase de passe convient bien.",
                        validators=[DataRequired("Indiquez le nouveau mot de passe.")])
    confirm = PasswordField("Nouveau mot de passe, une seconde fois",
                            validators=[DataRequired("Confirmez le nouveau mot de passe.")])


class DossierForm(FlaskForm):
    nom = StringField("Nom de l'entreprise cliente", validators=[DataRequired("Indiquez le nom de l'entreprise.")])
    siren = StringField("SIREN (facultatif)", description="9 chiffres ; la clé de contrôle est vérifiée.")
    notes = TextAreaField("Notes (facultatif)", description="Visibles par les conseillers de votre organisation.")


def form_date(situation: Mapping[str, Any] | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str((situation or {}).get("date_creation")))
    except ValueError:
        return None


def build_check_form(situation: Mapping[str, Any] | None = None, formdata: Any = None):
    """The public questions, all at once; prefilled with `situation` (answers not given show «je ne sais pas»)."""
    data: dict[str, Any] = {}
    for key in ALL_KEYS:
        if QUESTIONS[key].kind in ("choice", "bool"):
            data[key] = NSP
    if situation:
        known = {key: value for key, value in situation.items() if key in LIBELLES}
        data.update(prefill([key for key in ALL_KEYS if key in known], known))
    return build_form(ALL_KEYS, form_date(situation), formdata=formdata, **({} if formdata is not None else data))


def read_check_form(form: Any) -> tuple[dict[str, Any], dict[str, str], list]:
    """The situation (unknown answers left out), errors by field name and the candidate communes."""
    for key in ALL_KEYS:
        kind = QUESTIONS[key].kind
        if kind == "commune":
            if not (form.commune.data or "").strip() and not form.commune_choix.data:
                form.commune_nsp.data = True  # empty: not known yet
        elif kind in ("number", "integer", "percent") and not (form[key].data or "").strip():
            form[f"{key}_nsp"].data = True
        elif kind in ("choice", "bool") and not form[key].data:
            form[key].data = NSP
    answers, errors, candidates = read_answers(form, ALL_KEYS)
    situation = {key: value for key, value in answers.items() if value is not None}
    return situation, errors, candidates
