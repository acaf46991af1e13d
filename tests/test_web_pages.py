"""The public pages, through the Flask test client: the step-by-step form (as a browser without JavaScript
would use it), the saved verdict pages, /regles, the commune suggestions, configuration and the database."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from consistency_helpers import day_of
from bud_checker import evaluate
from bud_checker.engine.law import current_rules
from bud_checker.engine.situation import LIBELLES
from bud_checker.rule_tests import load_cases
from bud_checker.web import config as web_config
from bud_checker.web.extensions import db
from bud_checker.web.models import Verification
from bud_checker.web.public.forms import NOT_ASKED
from conftest import FormFlow, page_forms, page_text

REPO = Path(__file__).resolve().parent.parent


IMPLANTATION_OK = {"non_sedentaire": "non", "siege_dans_zone": "oui", "activite_et_moyens_dans_zone": "oui"}


def _douai_until_salaries(flow: FormFlow) -> None:
    assert flow.group == "entreprise" and flow.keys == ["date_creation", "commune_insee"]
    flow.submit({"date_creation": "2019-05-14", "commune": "Douai"})
    assert flow.response.status_code == 200
    assert flow.group == "activite"
    flow.submit({"activite": "commerciale", "origine": "creation_pure"})
    assert flow.group == "implantation", "the mobile-activity question comes with the implantation ones"
    assert flow.keys == ["non_sedentaire", "siege_dans_zone", "activite_et_moyens_dans_zone"]
    flow.submit(IMPLANTATION_OK)
    assert flow.group == "taille"
    assert flow.keys == ["effectif", "chiffre_affaires", "capital_detenu_par_societes_pct"]
    flow.submit({"effectif": "3", "chiffre_affaires": "180 000", "capital_detenu_par_societes_pct": "0"})
    assert flow.group == "salaries", "a turnover under the ceiling makes the balance sheet question useless"


def _stored(app, location: str) -> Verification:
    verification_id = location.rsplit("/", 1)[1]
    with app.app_context():
        found = db.session.get(Verification, verification_id)
        db.session.expunge(found)
        return found


# --- the home page and the form ------------------------------------------------------------------------------

def test_home_page_is_the_first_step_in_french(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="fr">' in html
    text = page_text(html)
    assert "bassins urbains à dynamiser" in text
    assert "Je ne sais pas" in text
    assert "Date de création (début d'activité)" in text
    form = next(f for f in page_forms(html) if f["action"] == "/verifier")
    names = {i.get("name") for i in form["inputs"]}
    assert {"csrf_token", "etat", "groupe", "cles", "date_creation", "commune", "commune_insee", "commune_nsp"} <= names
    # Every visible input has a label.
    for input_ in form["inputs"]:
        if input_.get("type") not in ("hidden",):
            assert f'for="{input_["id"]}"' in html, input_


def test_pages_send_security_headers_and_no_inline_script_or_style(client):
    for path in ("/", "/regles", "/api"):
        response = client.get(path)
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
        html = response.get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), f"inline script on {path}"
        assert " style=" not in html, f"inline style on {path}"
        assert "onclick" not in html.lower()


def test_douai_commerce_is_eligible_with_its_schedule(app, flow):
    _douai_until_salaries(flow)
    flow.submit({"salaries_eligibles": "2", "salaries_eligibles_residents_bud": "2"})
    # The verdict is decided: the remaining questions only refine the schedule, and the page says so.
    assert flow.group == "echeancier"
    text = page_text(flow.html)
    assert "Vos réponses suffisent à conclure" in text and "Éligible" in text
    assert "servent seulement à préciser l'échéancier" in text
    assert "non_sedentaire" not in flow.keys and "ca_hors_zone_pct" not in flow.keys  # asked with the implantation
    flow.submit({"date_creation_etablissement": "", "deliberation_exoneration_cfe": "non",
                 "deliberation_exoneration_tfpb": "nsp", "proprietaire_immeuble": "non"})
    assert flow.group == "economies", "the optional last step: the figures of the savings estimate"
    assert "Estimer vos économies" in page_text(flow.html) and "(facultatif)" in page_text(flow.html)
    flow.submit({"benefice_annuel_estime_nsp": "y", "impot_sur": "nsp", "taux_marginal_ir_pct_nsp": "y",
                 "cfe_annuelle_estimee_nsp": "y", "taxe_fonciere_annuelle_estimee_nsp": "y"})
    assert flow.response.status_code == 303, "nothing left to ask: the check is saved"
    location = flow.response.headers["Location"]
    assert re.fullmatch(r"/verifications/[A-Za-z0-9_-]{24}", location)
    page = flow.client.get(location)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    text = page_text(html)
    assert "Éligible" in text
    # Checked today (after 2024): the headline says the profit-tax periods are over, with their end date.
    assert "les périodes d'exonération d'impôt sur les bénéfices sont terminées depuis le 30 avril 2024" in text
    assert '<svg class="timeline__svg"' in html and 'role="img"' in html
    assert "du 14 mai 2019 au 30 avril 2021" in text  # the profit-tax table
    assert "Part de la base exonérée, année par année" in text  # the local taxes table
    assert "31 décembre 2019" in text  # CFE request and TFPB declaration deadlines
    assert "Résultat indicatif" in text
    assert 'rel="noreferrer noopener"' in html
    assert "legifrance.gouv.fr/codes/article_lc/LEGIARTI000036354541/2019-01-01" in html  # the text as it stood
    stored = _stored(app, location)
    assert stored.statut == "eligible" and stored.canal == "formulaire"
    assert stored.situation["commune_insee"] == "59178" and stored.situation["chiffre_affaires"] == 180000
    assert stored.situation["deliberation_exoneration_tfpb"] is None  # «je ne sais pas» is kept as null
    assert stored.verdict == evaluate(stored.situation, date_verification=day_of(stored.verdict)).to_dict()
    assert stored.regles_version == current_rules().empreinte


def test_lille_is_not_eligible_and_the_page_says_the_commune_decided(app, flow):
    flow.submit({"date_creation": "2019-05-14", "commune": "Lille"})
    assert flow.response.status_code == 200
    text = page_text(flow.html)
    assert "Votre réponse suffit à conclure" in text and "Non éligible" in text
    assert "Lille (59) ne figure pas sur la liste" in text
    assert "Les autres questions ne changeraient pas ce résultat" in text
    assert flow.keys == []
    location = flow.result()
    text = page_text(flow.html)
    assert "Non éligible" in text and "Pourquoi" in text
    assert "Non examinée" in text  # the unknown conditions cannot change the verdict
    assert "Vos exonérations" in text and "Aucune exonération" in text
    stored = _stored(app, location)
    assert stored.statut == "non_eligible"
    assert stored.situation == {"date_creation": "2019-05-14", "commune_insee": "59350"}


def test_je_ne_sais_pas_on_the_hiring_clause_gives_a_confirmer_naming_what_to_check(app, flow):
    _douai_until_salaries(flow)
    flow.submit({"salaries_eligibles_nsp": "y", "salaries_eligibles_residents_bud_nsp": "y"})
    assert flow.group == "embauches", "the hiring test can still decide the clause"
    flow.submit({"embauches_eligibles_nsp": "y", "embauches_eligibles_residents_bud_nsp": "y"})
    assert flow.group == "echeancier"
    text = page_text(flow.html)
    assert "À confirmer" in text and "Ce qu'il vous faudra vérifier" in text
    location = flow.result()  # «Passer et voir le résultat»
    text = page_text(flow.html)
    assert "À confirmer" in text
    assert "Ce qu'il faut vérifier pour conclure" in text
    assert "Combien de salariés en CDI ou en CDD d'au moins 12 mois" in text
    assert "(pour : Clause d'emploi ou d'embauche)" in text
    stored = _stored(app, location)
    assert stored.statut == "indetermine"
    assert {m["champ"] for m in stored.verdict["informations_manquantes"] if m.get("conditions")} == {
        "salaries_eligibles", "salaries_eligibles_residents_bud", "embauches_eligibles",
        "embauches_eligibles_residents_bud"}


def test_a_later_answer_can_decide_too(flow):
    flow.submit({"date_creation": "2019-05-14", "commune": "Douai"})
    flow.submit({"activite": "commerciale", "origine": "reprise"})
    assert flow.keys == [], "a takeover decides: nothing else is asked"
    text = page_text(flow.html)
    assert "Votre réponse suffit à conclure" in text and "reprise d'une activité préexistante" in text
    flow.result()
    assert "Non éligible" in page_text(flow.html)


def test_dates_out_of_range_are_refused_on_the_date_field(flow):
    flow.submit({"date_creation": "1850-01-01", "commune": "Douai"})
    assert flow.response.status_code == 422
    assert 'href="#date_creation"' in flow.html
    assert "hors des bornes" in page_text(flow.html)


ALWAYS_ASKED = {"activite", "activite_et_moyens_dans_zone", "benefice_annuel_estime", "ca_hors_zone_pct",
                "capital_detenu_par_societes_pct", "cfe_annuelle_estimee", "chiffre_affaires", "commune_insee",
                "date_creation", "date_creation_etablissement", "deliberation_exoneration_cfe",
                "deliberation_exoneration_tfpb", "effectif", "embauches_eligibles", "impot_sur", "non_sedentaire",
                "origine", "proprietaire_immeuble", "salaries_eligibles", "salaries_eligibles_residents_bud",
                "siege_dans_zone", "taux_marginal_ir_pct", "taxe_fonciere_annuelle_estimee", "total_bilan"}


def test_every_question_accepts_je_ne_sais_pas(app, flow):
    # Each step answered «je ne sais pas» to whatever it asks (a field added to rules/situation.yaml included), but
    # «oui» to the non-sedentary activity, so that the share of turnover made outside the zone is asked too.
    flow.submit({"date_creation": "2019-05-14", "commune_nsp": "y"})
    steps = []
    while flow.response.status_code == 200 and len(steps) < 20:
        steps.append((flow.group, flow.keys))
        flow.submit(flow.dont_know(non_sedentaire="oui"))
    assert [group for group, _ in steps] == ["activite", "implantation", "implantation", "taille", "bilan",
                                             "salaries", "embauches", "echeancier", "economies"]
    assert steps[2][1] == ["ca_hors_zone_pct"], "asked of a non-sedentary activity"
    assert flow.response.status_code == 303
    stored = _stored(app, flow.response.headers["Location"])
    assert stored.statut == "indetermine"
    # Each question asked is kept as «je ne sais pas»; only the date and the non-sedentary activity are answered.
    asked = {key for _, keys in steps for key in keys}
    assert set(stored.situation) == asked | {"date_creation", "commune_insee"}
    assert [k for k, v in stored.situation.items() if v is not None] == ["date_creation", "non_sedentaire"]
    # When nothing is known the engine needs every one of these facts, so the form asks them all (not the API's
    # shorthand nor the date of the check; resident hires are not asked once the number of hires is unknown). A
    # field added since, that no condition names missing then, is not asked: docs/ajouter-un-champ.md.
    assert ALWAYS_ASKED <= asked | {"date_creation", "commune_insee"} <= set(LIBELLES) - NOT_ASKED


def test_postal_code_without_javascript(flow):
    # 59300: Valenciennes's postal code (and Hem-Lenglet's INSEE code)
    flow.submit({"date_creation": "14/05/2019", "commune": "59300"})
    assert flow.response.status_code == 422
    flow.submit({"date_creation": "14/05/2019", "commune": "59300", "commune_choix": "59606"})
    assert flow.group == "activite"
    assert json.loads(flow.hidden()["etat"])["commune_insee"] == "59606"
    assert "Valenciennes (59)" in page_text(flow.html)


def test_a_code_both_postal_and_insee_asks_which_commune_was_meant(flow):
    """BUD.md § 5.5: 59500 is Douai's postal code and Ribécourt-la-Tour's INSEE code."""
    flow.submit({"date_creation": "14/05/2019", "commune": "59500"})
    assert flow.response.status_code == 422
    text = page_text(flow.html)
    assert "59500 est le code postal de Douai, et aussi le code INSEE de Ribécourt-la-Tour" in text
    choices = [i["value"] for f in page_forms(flow.html) for i in f["inputs"] if i.get("name") == "commune_choix"]
    assert choices == ["59178", "59500"], "the commune of the basin first"
    flow.submit({"date_creation": "14/05/2019", "commune": "59500", "commune_choix": "59178"})
    assert flow.group == "activite"
    assert json.loads(flow.hidden()["etat"]) == {"date_creation": "2019-05-14", "commune_insee": "59178"}


def test_ambiguous_commune_offers_a_choice(flow):
    flow.submit({"date_creation": "2019-05-14", "commune": "Saint-Amand"})
    assert flow.response.status_code == 422
    html = flow.html
    assert "Plusieurs communes correspondent" in page_text(html)
    choices = [i for f in page_forms(html) for i in f["inputs"] if i.get("name") == "commune_choix"]
    assert len(choices) >= 2
    wanted = next(c for c in choices if c["value"] == "59526")  # Saint-Amand-les-Eaux
    flow.submit({"date_creation": "2019-05-14", "commune": "Saint-Amand", "commune_choix": wanted["value"]})
    assert flow.group == "activite"
    assert json.loads(flow.hidden()["etat"])["commune_insee"] == "59526"


def test_suggestion_picked_by_the_script_is_used(flow):
    flow.submit({"date_creation": "2019-05-14", "commune": "Douai (59)", "commune_insee": "59178"})
    assert flow.group == "activite"


def test_errors_are_summarised_and_tied_to_their_fields(flow):
    flow.submit({"date_creation": "", "commune": "Xyzzyville"})
    assert flow.response.status_code == 422
    html = flow.html
    assert "<title>Erreur : " in html
    assert 'class="error-summary" role="alert"' in html
    assert 'href="#date_creation"' in html and 'href="#commune"' in html
    assert 'aria-invalid="true"' in html
    assert re.search(r'id="commune"[^>]*aria-describedby="commune-aide commune-erreur"|'
                     r'aria-describedby="commune-aide commune-erreur"[^>]*id="commune"', html)
    text = page_text(html)
    assert "Indiquez la date de création (début d'activité)" in text
    assert "Aucune commune ne correspond à « Xyzzyville »" in text


def test_a_number_needs_a_value_or_je_ne_sais_pas(flow):
    flow.submit({"date_creation": "2019-05-14", "commune": "Douai"})
    flow.submit({"activite": "commerciale", "origine": "creation_pure"})
    flow.submit(IMPLANTATION_OK)
    flow.submit({"effectif": "", "chiffre_affaires": "beaucoup", "capital_detenu_par_societes_pct": "120"})
    assert flow.response.status_code == 422
    text = page_text(flow.html)
    assert "Indiquez un nombre, ou cochez « Je ne sais pas »" in text
    assert "« beaucoup » n'est pas un nombre" in text
    assert flow.group == "taille"


def test_engine_errors_are_shown_on_the_field_at_fault(flow):
    _douai_until_salaries(flow)
    flow.submit({"salaries_eligibles": "2", "salaries_eligibles_residents_bud": "3"})
    assert flow.response.status_code == 422
    html = flow.html
    assert 'href="#salaries_eligibles_residents_bud"' in html
    assert "3 résidents pour 2 salariés au total" in page_text(html)


def test_answers_can_be_changed_and_the_questions_adapt(flow):
    flow.submit({"date_creation": "2019-05-14", "commune": "Lille"})
    assert flow.keys == []
    modify = next(f for f in page_forms(flow.html)
                  if any(b.get("value") == "modifier:entreprise" for b in f["buttons"]))
    data = {i["name"]: i.get("value", "") for i in modify["inputs"] if i.get("name")}
    flow.response = flow.client.post("/verifier", data={**data, "action": "modifier:entreprise"})
    assert flow.response.status_code == 200
    assert flow.group == "entreprise"
    assert 'value="Lille (59)"' in flow.html and 'value="2019-05-14"' in flow.html
    flow.submit({"date_creation": "2019-05-14", "commune": "Douai", "commune_insee": ""})
    assert flow.group == "activite"


def test_help_texts_quote_the_rules_in_force(flow):
    flow.submit({"date_creation": "2019-05-14", "commune": "Douai"})
    flow.submit({"activite": "commerciale", "origine": "creation_pure"})
    flow.submit(IMPLANTATION_OK)
    rules = current_rules()
    limit = rules.value("effectif_maximum_exclu", dt.date(2019, 5, 14)).valeur
    assert f"moins de {limit} personnes" in page_text(flow.html)


def test_legal_notions_have_short_help(flow):
    flow.submit({"date_creation": "2019-05-14", "commune": "Douai"})
    text = page_text(flow.html)
    assert "artisanale quand elle consiste à fabriquer" in text
    assert "Il y a reprise dès que vous reprenez" in text
    _ = flow.submit({"activite": "commerciale", "origine": "creation_pure"})
    assert "Une activité est non sédentaire quand" in page_text(flow.html)
    flow.submit(IMPLANTATION_OK)
    flow.submit({"effectif": "3", "chiffre_affaires": "180000", "capital_detenu_par_societes_pct": "0"})
    assert "Clause d'emploi ou d'embauche : à la clôture de chaque exercice" in page_text(flow.html)


def test_post_without_csrf_token_is_refused(client):
    response = client.post("/verifier", data={"groupe": "entreprise", "cles": "date_creation,commune_insee",
                                              "date_creation": "2019-05-14", "commune": "Douai"})
    assert response.status_code == 400
    assert "Le formulaire a expiré" in page_text(response.get_data(as_text=True))


def test_tampered_answers_restart_the_form(flow):
    flow.response = flow.client.post("/verifier", data={**flow.hidden(), "etat": '{"nom": "Dupont"}',
                                                        "action": "resultat"})
    assert flow.response.status_code == 400
    assert "n'ont pas pu être relues" in page_text(flow.html)
    flow.response = flow.client.post("/verifier", data={**flow.hidden(), "etat": "{not json", "action": "suivant"})
    assert flow.response.status_code == 400


def test_get_on_the_form_action_goes_home(client):
    response = client.get("/verifier")
    assert response.status_code == 302 and response.headers["Location"] == "/"


# --- saved checks -------------------------------------------------------------------------------------------

def test_a_saved_check_is_rendered_from_the_stored_verdict_never_evaluated_again(app, client, douai_commerce,
                                                                                monkeypatch):
    from bud_checker.web.services import record_verification

    with app.app_context():
        verification = db.session.get(Verification, record_verification(douai_commerce).id)
        verification.verdict = {**verification.verdict, "resume": "Résumé tel que calculé à l'époque.",
                                "regles_version": "ancienne0version"}
        db.session.commit()
        verification_id = verification.id

    def forbidden(*args, **kwargs):
        raise AssertionError("a saved check must not be evaluated again")

    monkeypatch.setattr("bud_checker.web.services.evaluate", forbidden)
    monkeypatch.setattr("bud_checker.web.public.flow.evaluate", forbidden)
    text = page_text(client.get(f"/verifications/{verification_id}").get_data(as_text=True))
    assert "Résumé tel que calculé à l'époque." in text
    assert "ancienne0version" in text


def test_unknown_or_malformed_verification_ids_are_404(client):
    for path in ("/verifications/" + "a" * 24, "/verifications/court", "/verifications/%27%20or%201=1"):
        response = client.get(path)
        assert response.status_code == 404
        assert "Cette page n'existe pas" in page_text(response.get_data(as_text=True))


def test_saved_pages_are_not_indexed_and_offer_print_and_share(app, client, douai_commerce):
    from bud_checker.web.services import record_verification

    with app.app_context():
        verification_id = record_verification(douai_commerce).id
    html = client.get(f"/verifications/{verification_id}").get_data(as_text=True)
    assert '<meta name="robots" content="noindex, nofollow">' in html
    assert f"http://localhost/verifications/{verification_id}" in html
    assert "data-print" in html
    css = client.get("/static/css/app.css").get_data(as_text=True)
    assert "@media print" in css


def test_the_public_flow_stores_no_personal_data(app):
    columns = {c.name for c in Verification.__table__.columns}
    assert columns == {"id", "created_at", "situation", "verdict", "statut", "regles_version", "canal"}
    assert not {"nom", "email", "adresse"} & set(LIBELLES)


def test_ids_are_unguessable(app, douai_commerce):
    from bud_checker.web.services import record_verification

    with app.app_context():
        ids = {record_verification(douai_commerce).id for _ in range(20)}
    assert len(ids) == 20
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{24}", i) for i in ids)


def test_created_at_is_utc(app, douai_commerce):
    from bud_checker.web.services import record_verification

    with app.app_context():
        verification_id = record_verification(douai_commerce).id
        db.session.expire_all()
        stored = db.session.get(Verification, verification_id)
        assert stored.created_at.tzinfo is not None
        assert abs((dt.datetime.now(dt.timezone.utc) - stored.created_at).total_seconds()) < 60


# --- /regles ------------------------------------------------------------------------------------------------

def test_rules_page_is_generated_from_rules_and_expert_tests(client):
    response = client.get("/regles")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    text = page_text(html)
    rules = current_rules()
    assert rules.empreinte in text
    for condition in rules.conditions.values():
        assert f'id="condition-{condition.id}"' in html
        assert condition.libelle in text
    for parameter in rules.parametres.values():
        assert f'id="parametre-{parameter.id}"' in html, parameter.id
    for source in rules.sources.values():
        assert source.url.replace("&", "&amp;") in html, source.id
    cases = load_cases()
    assert f"Les tests de règles ({len(cases)})" in text
    for case in cases:
        assert case.nom in text
    assert f"Voir les {len(rules.communes_bud)} communes" in text


def test_rules_page_links_values_to_the_tests_that_exercise_them():
    from bud_checker.web.rules_catalogue import catalogue

    cat = catalogue()
    tests = cat["tests_par_ancre"]
    conditions = {c["id"]: c for c in cat["conditions"]}
    # Every condition is exercised by expert tests that state its expected result.
    for condition in conditions.values():
        assert condition["tests"], condition["id"]
        for anchor in condition["tests"]:
            named = {key for item in tests[anchor]["attendu"] if item["cle"] in ("conditions", "a_confirmer")
                     for key in item["valeur"]}
            assert condition["id"] in named
    # Dated values: the 2018 end of the creation window is exercised by tests created before 2021 only.
    window = next(p for p in conditions["periode_creation"]["parametres"] if p["id"] == "fin_periode_creation")
    first, last = window["valeurs"][0], window["valeurs"][-1]
    assert first["tests"] and last["tests"]
    for anchor in first["tests"]:
        situation = {i["cle"]: i["valeur"] for i in tests[anchor]["situation"]}
        assert str(situation["date_creation"]) < "2020-12-31"
    # A schedule parameter (no condition lists it) is exercised by the tests that expect a schedule.
    profit = next(p for group in cat["autres_parametres"].values() for p in group
                  if p["id"] == "duree_exoneration_totale_mois")
    assert any("06_echeanciers" in anchor for anchor in profit["valeurs"][0]["tests"])


# --- commune suggestions ------------------------------------------------------------------------------------

def test_commune_suggestions(client):
    data = client.get("/communes?q=doua").get_json()
    assert data["communes"][0]["insee"] == "59178"
    assert data["communes"][0]["libelle"] == "Douai (59)"
    assert data["communes"][0]["bud"] is True
    assert client.get("/communes?q=d").get_json() == {"communes": []}
    assert client.get("/communes").get_json() == {"communes": []}
    assert client.get("/communes?q=59000").get_json()["communes"][0]["nom"] == "Lille"


# --- configuration, database, serve -------------------------------------------------------------------------

def test_configuration_from_the_environment(tmp_path):
    settings = web_config.from_environment({"DATABASE_URL": "postgres://u:p@h/db", "BUD_ENV": "development",
                                            "SECRET_KEY": "s"})
    assert settings["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@h/db"
    assert settings["SECRET_KEY"] == "s" and settings["BUD_ENV"] == "development"
    default = web_config.from_environment({})
    assert default["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{REPO / 'instance' / 'bud_checker.sqlite3'}"
    assert default["BUD_ENV"] == "production" and "SECRET_KEY" not in default
    with pytest.raises(RuntimeError, match="BUD_ENV"):
        web_config.from_environment({"BUD_ENV": "staging"})
    key = web_config.instance_secret_key(tmp_path)
    assert len(key) >= 40 and web_config.instance_secret_key(tmp_path) == key
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(app):
    with app.app_context():
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000


def test_migrations_match_the_models(app):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with app.app_context():
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, db.metadata) == []
            assert context.get_current_revision() is not None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_migrates_a_fresh_database_and_runs_gunicorn(tmp_path):
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite3'}",
           "SECRET_KEY": "serve-test-" + "k" * 32, "BUD_ENV": "production", "BUD_HOSTS": "127.0.0.1"}
    process = subprocess.Popen([sys.executable, "-m", "bud_checker.cli", "serve", "--port", str(port),
                                "--workers", "1"],
                               cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            lines.append(line)
            if f"BUD Checker\u00a0: http://127.0.0.1:{port}/" in line:
                break
        else:
            pytest.fail("serve printed no URL:\n" + "".join(lines))
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                    assert response.status == 200
                    assert "bassins urbains à dynamiser" in response.read().decode()
                    break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("gunicorn did not answer")
        request = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/verifications", method="POST",
                                         data=json.dumps({"date_creation": "2019-05-14",
                                                          "commune_insee": "59350"}).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 201
            assert json.loads(response.read())["verdict"]["statut"] == "non_eligible"
        assert (tmp_path / "fresh.sqlite3").exists()
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover
            process.kill()
        process.stdout.close()


def test_serve_rejects_bad_options():
    result = subprocess.run([sys.executable, "-m", "bud_checker.cli", "serve", "--port", "70000"], cwd=REPO,
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert "attendu un port de 1 à 65535" in result.stderr


def test_error_pages_are_french_html(client):
    response = client.get("/nulle-part")
    assert response.status_code == 404
    assert "Page introuvable" in page_text(response.get_data(as_text=True))
    response = client.post("/regles")
    assert response.status_code in (400, 405)
