"""Issue 12, items 1, 2, 4, 5 and 8 through the Flask test client: the savings estimate (engine and page),
«Modifier mes réponses», the deadlines as iCalendar, the public PDF and the other schemes when not eligible."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess

import pytest

from bud_checker import evaluate
from bud_checker.engine import economies
from bud_checker.engine.law import current_rules
from bud_checker.engine.situation import SituationError, parse_situation
from bud_checker.web.extensions import db
from bud_checker.web.models import Verification
from advisers_helpers import adv_app, world
from conftest import FormFlow, page_text

DOUAI_SHOP_2024 = {
    "date_creation": "2024-03-12", "commune_insee": "59178", "activite": "commerciale", "origine": "creation_pure",
    "siege_et_moyens_dans_zone": True, "effectif": 2, "chiffre_affaires": 250000, "capital_detenu_par_societes_pct": 0,
    "salaries_eligibles": 1, "salaries_eligibles_residents_bud": 1, "non_sedentaire": False,
    "deliberation_exoneration_cfe": False, "deliberation_exoneration_tfpb": None, "proprietaire_immeuble": True,
}


def _record(app, situation: dict) -> str:
    from bud_checker.web.services import record_verification

    with app.app_context():
        return record_verification(situation).id


# --- item 1: the savings estimate, in the engine -------------------------------------------------------------

def test_is_savings_follow_the_schedule_and_article_219_rates():
    verdict = evaluate({**DOUAI_SHOP_2024, "benefice_annuel_estime": 60000, "impot_sur": "is"}).to_dict()
    savings = verdict["economies"]
    assert savings["estimation"] is True
    periods = savings["periodes_impot_benefices"]
    # 100 % for the two first 12-month periods (to the end of the 23rd month after March 2024), then 75/50/25 %.
    assert [p["taux_exoneration"] for p in periods] == [100, 100, 75, 50, 25]
    assert periods[0]["debut"] == "2024-03-12" and periods[1]["fin"] == "2026-02-28"
    # Exercises opened from 2022 and closed from 31/12/2022: 15 % up to 42 500 €, 25 % above.
    assert periods[0]["impot_sans_exoneration"] == round(42500 * 0.15 + 17500 * 0.25)
    assert periods[2]["impot_avec_exoneration"] == round(15000 * 0.15)  # a quarter of 60 000 € taxable
    assert periods[2]["economie"] == 10750 - 2250
    assert savings["totaux"]["impot_benefices"] == 10750 * 2 + 8500 + 6250 + 3750
    assert [row["annee"] for row in savings["annees"]][0] == 2024
    assert (sum(row["impot_benefices"] for row in savings["annees"])
            == pytest.approx(savings["totaux"]["impot_benefices"], abs=3))
    assert savings["totaux"]["cfe"] is None and savings["totaux"]["tfpb"] is None, "not given, not estimated"
    assert "estimation" in savings["explication"].lower()


def test_2018_rates_and_the_38_120_ceiling_are_read_from_the_rules():
    rules = current_rules()
    exercise = economies.Exercice(dt.date(2018, 5, 1), dt.date(2019, 4, 30), 100)
    situation = parse_situation({"date_creation": "2018-05-01", "chiffre_affaires": 100000})
    assert economies.impot_societes(rules, exercise, 100000, situation) == pytest.approx(38120 * 0.15 + 61880 * 0.28)
    big = parse_situation({"date_creation": "2018-05-01", "chiffre_affaires": 9_000_000})  # over 7.63 M€ before 2021
    assert economies.impot_societes(rules, exercise, 600000, big) == pytest.approx(500000 * 0.28 + 100000 * 0.333333)
    later = economies.Exercice(dt.date(2021, 5, 1), dt.date(2022, 4, 30), 100)
    assert economies.impot_societes(rules, later, 100000, big) == pytest.approx(38120 * 0.15 + 61880 * 0.265)
    held = parse_situation({"date_creation": "2021-05-01", "capital_detenu_par_societes_pct": 40})
    assert economies.impot_societes(rules, later, 100000, held) == pytest.approx(100000 * 0.265), "< 75 % by persons"


def test_ir_savings_use_the_marginal_rate_and_the_non_sedentary_pro_rata():
    verdict = evaluate({**DOUAI_SHOP_2024, "non_sedentaire": True, "ca_hors_zone_pct": 40,
                        "benefice_annuel_estime": 30000, "impot_sur": "ir", "taux_marginal_ir_pct": 30}).to_dict()
    periods = verdict["economies"]["periodes_impot_benefices"]
    assert periods[0]["taux_exoneration"] == 60, "40 % of the turnover outside the zone is taxed"
    assert periods[0]["economie"] == round(30000 * 0.6 * 0.30)
    assert any("taux marginal" in h for h in verdict["economies"]["hypotheses"])


def test_a_loss_means_no_profit_tax_saving_and_says_so():
    verdict = evaluate({**DOUAI_SHOP_2024, "benefice_annuel_estime": -8000, "impot_sur": "is",
                        "cfe_annuelle_estimee": 1000}).to_dict()
    savings = verdict["economies"]
    assert savings["totaux"]["impot_benefices"] == 0
    assert any("perte" in h for h in savings["hypotheses"])
    assert savings["totaux"]["cfe"] == 7 * 500 + 375 + 250 + 125, "half the base de plein droit, no deliberation"


def test_local_savings_count_the_deliberated_half_only_when_voted():
    voted = evaluate({**DOUAI_SHOP_2024, "deliberation_exoneration_cfe": True, "cfe_annuelle_estimee": 1000,
                      "deliberation_exoneration_tfpb": True, "taxe_fonciere_annuelle_estimee": 2000}).to_dict()
    assert voted["economies"]["totaux"]["cfe"] == 7 * 1000 + 750 + 500 + 250
    assert voted["economies"]["totaux"]["tfpb"] == 7 * 2000 + 1500 + 1000 + 500
    tenant = evaluate({**DOUAI_SHOP_2024, "proprietaire_immeuble": False,
                       "taxe_fonciere_annuelle_estimee": 2000}).to_dict()
    assert tenant["economies"]["totaux"]["tfpb"] is None
    assert any("propriétaire" in h for h in tenant["economies"]["hypotheses"])


def test_no_figures_or_not_eligible_means_no_estimate():
    assert evaluate(DOUAI_SHOP_2024).to_dict().get("economies") is None  # absent: no estimate
    lille = evaluate({"date_creation": "2024-03-12", "commune_insee": "59350", "benefice_annuel_estime": 60000,
                      "impot_sur": "is"}).to_dict()
    assert lille["statut"] == "non_eligible" and lille.get("economies") is None


def test_savings_inputs_are_validated_with_french_messages():
    with pytest.raises(SituationError) as error:
        parse_situation({"date_creation": "2024-03-12", "impot_sur": "tva"})
    assert error.value.champ == "impot_sur" and "valeurs admises : is, ir" in error.value.message
    with pytest.raises(SituationError) as error:
        parse_situation({"date_creation": "2024-03-12", "taux_marginal_ir_pct": 120})
    assert error.value.champ == "taux_marginal_ir_pct"
    with pytest.raises(SituationError):
        parse_situation({"date_creation": "2024-03-12", "cfe_annuelle_estimee": -3})
    parsed = parse_situation({"date_creation": "2024-03-12", "benefice_annuel_estime": "-1 500"})
    assert parsed.benefice_annuel_estime == -1500


# --- items 1 and 2 through the form --------------------------------------------------------------------------

def _douai_2024_until_savings(flow: FormFlow) -> None:
    flow.submit({"date_creation": "12/03/2024", "commune": "Douai"})
    flow.submit({"activite": "commerciale", "origine": "creation_pure"})
    flow.submit({"non_sedentaire": "non", "siege_dans_zone": "oui", "activite_et_moyens_dans_zone": "oui"})
    flow.submit({"effectif": "2", "chiffre_affaires": "250000", "capital_detenu_par_societes_pct": "0"})
    flow.submit({"salaries_eligibles": "1", "salaries_eligibles_residents_bud": "1"})
    assert flow.group == "echeancier"
    flow.submit({"date_creation_etablissement": "", "deliberation_exoneration_cfe": "non",
                 "deliberation_exoneration_tfpb": "nsp", "proprietaire_immeuble": "oui"})
    assert flow.group == "economies"
    assert "servent seulement à estimer vos économies" in page_text(flow.html)


def test_the_savings_step_is_optional_and_the_result_shows_table_and_chart(app, flow):
    _douai_2024_until_savings(flow)
    flow.submit({"benefice_annuel_estime": "60 000", "impot_sur": "is", "taux_marginal_ir_pct_nsp": "y",
                 "cfe_annuelle_estimee": "800", "taxe_fonciere_annuelle_estimee_nsp": "y"})
    assert flow.response.status_code == 303
    html = flow.client.get(flow.response.headers["Location"]).get_data(as_text=True)
    text = page_text(html)
    assert "Vos économies estimation" in text
    assert "Économies estimées par année civile" in text and "2024" in text
    assert '<svg class="savings-chart__svg"' in html and 'role="img"' in html
    assert " style=" not in html and not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert "Hypothèses de l'estimation" in text and "CGI, art. 219" in text


def test_skipping_the_savings_step_still_saves_and_offers_it_later(app, flow):
    _douai_2024_until_savings(flow)
    location = flow.result()
    text = page_text(flow.html)
    assert "Éligible" in text and "Estimer vos économies" in text
    assert f"{location}/modifier?groupe=economies" in flow.html


def test_modifier_mes_reponses_prefills_everything_and_makes_a_new_check(app, client):
    old_id = _record(app, DOUAI_SHOP_2024)
    page = client.get(f"/verifications/{old_id}")
    assert f'href="/verifications/{old_id}/modifier"' in page.get_data(as_text=True)
    form_page = client.get(f"/verifications/{old_id}/modifier")
    assert form_page.status_code == 200
    flow = FormFlow(client)
    flow.response = form_page
    assert flow.group == "entreprise"
    html = flow.html
    assert 'value="2024-03-12"' in html and 'value="Douai (59)"' in html
    assert "Modifiez vos réponses" in page_text(html)
    # Every answer travels along: change only the turnover step.
    flow.response = client.get(f"/verifications/{old_id}/modifier?groupe=taille")
    assert flow.group == "taille" and 'value="250 000"' in flow.html
    flow.submit({"effectif": "2", "chiffre_affaires": "400000", "capital_detenu_par_societes_pct": "0"})
    # The questions left unanswered are optional (schedule, savings): skipped; every other answer is kept.
    assert flow.response.status_code == 200 and flow.group in ("echeancier", "economies")
    assert "(facultatif)" in page_text(flow.html)
    flow.submit(action="resultat")
    assert flow.response.status_code == 303
    new_id = flow.response.headers["Location"].rsplit("/", 1)[1]
    assert new_id != old_id
    with app.app_context():
        old, new = db.session.get(Verification, old_id), db.session.get(Verification, new_id)
        assert old.situation == DOUAI_SHOP_2024, "the old check stays as it was"
        assert new.situation["chiffre_affaires"] == 400000
        assert {k: v for k, v in new.situation.items() if k != "chiffre_affaires" and v is not None} == \
            {k: v for k, v in DOUAI_SHOP_2024.items() if k != "chiffre_affaires" and v is not None}


def test_modifier_of_an_unknown_check_is_404(client):
    assert client.get("/verifications/" + "x" * 24 + "/modifier").status_code == 404


# --- item 4: deadlines as iCalendar --------------------------------------------------------------------------

def test_deadlines_calendar_parses_back_with_forms_offices_and_past_steps(app, client):
    from icalendar import Calendar

    verification_id = _record(app, DOUAI_SHOP_2024)
    response = client.get(f"/verifications/{verification_id}/echeances.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    assert "attachment" in response.headers["Content-Disposition"]
    calendar = Calendar.from_ical(response.data)
    events = list(calendar.walk("VEVENT"))
    assert len(events) == 4, "CFE request, CFE yearly declaration, TFPB declaration, and its next deadline"
    tfpb_next = next(e for e in events if "(années suivantes)" in str(e["SUMMARY"]))
    assert tfpb_next.decoded("DTSTART") >= dt.date.today() and not str(tfpb_next["SUMMARY"]).startswith("[")
    summaries = [str(e["SUMMARY"]) for e in events]
    cfe = next(e for e in events if "Demander l'exonération de CFE" in str(e["SUMMARY"]))
    assert cfe.decoded("DTSTART") == dt.date(2024, 12, 31)
    assert "1447-C-SD" in str(cfe["DESCRIPTION"]) and "Où s'adresser" in str(cfe["DESCRIPTION"])
    assert "impots.gouv.fr/formulaire/1447-c-sd" in str(cfe["DESCRIPTION"])
    assert str(cfe["URL"]).endswith(f"/verifications/{verification_id}")
    # Checked today (December 2026): the 2024 and 2025 deadlines have passed, and come after the upcoming ones.
    today = dt.date.today()
    past = [e for e in events if e.decoded("DTSTART") < today]
    upcoming = [e for e in events if e.decoded("DTSTART") >= today]
    assert past and all(str(e["SUMMARY"]).startswith("[Échéance passée]") for e in past)
    assert all("Délai dépassé" in str(e["DESCRIPTION"]) for e in past if "CFE" in str(e["SUMMARY"])), "what can be done"
    assert summaries == [str(e["SUMMARY"]) for e in upcoming + past]
    assert len({str(e["UID"]) for e in events}) == len(events)


def test_the_tfpb_declaration_says_what_to_file_without_an_unverified_number(app, client):
    """Art. 1383 F IV: a declaration on the administration's model to the tax office of the building's place; no
    numbered form was found for this regime (rules/demarches_formulaires.yaml), so none is shown as fact."""
    from bud_checker.engine.guidance import for_demarche

    step = for_demarche(current_rules(), "declaration_tfpb")
    (form,) = step["formulaires"]
    assert form["numero"] is None and "modèle établi par l'administration" in form["libelle"]
    assert [o["id"] for o in step["ou"]] == ["impots_fonciers"]
    verification_id = _record(app, DOUAI_SHOP_2024)
    text = page_text(client.get(f"/verifications/{verification_id}").get_data(as_text=True))
    assert "Pas de formulaire numéroté connu pour ce régime" in text
    assert "Le service des impôts fonciers du lieu de l'immeuble (Douai)" in text


def test_result_page_names_forms_and_where_to_go(app, client):
    verification_id = _record(app, DOUAI_SHOP_2024)
    html = client.get(f"/verifications/{verification_id}").get_data(as_text=True)
    text = page_text(html)
    assert "1447-C-SD" in text and "Où s'adresser" in text and "1447-M-SD" in text
    assert f"/verifications/{verification_id}/echeances.ics" in html
    for url in re.findall(r'class="[^"]*"[^>]*href="(https?://[^"]+)"|href="(https?://[^"]+)"', html):
        link = url[0] or url[1]
        assert re.match(r"https://(www\.)?(legifrance\.gouv\.fr|bofip\.impots\.gouv\.fr|impots\.gouv\.fr|www\.impots\.gouv\.fr|"
                        r"entreprendre\.service-public\.fr|lannuaire\.service-public\.fr|www\.cci\.fr|eur-lex\.europa\.eu|"
                        r"[a-z0-9.-]+)", link)


def test_a_non_eligible_check_has_no_calendar_link(app, client):
    verification_id = _record(app, {"date_creation": "2019-05-14", "commune_insee": "59350"})
    html = client.get(f"/verifications/{verification_id}").get_data(as_text=True)
    assert "echeances.ics" not in html
    assert client.get(f"/verifications/{verification_id}/echeances.ics").status_code == 200  # an empty calendar


# --- item 8: other schemes when not eligible -----------------------------------------------------------------

def test_a_freelancer_in_lens_is_pointed_to_other_schemes(app, client):
    verification_id = _record(app, {"date_creation": "2024-03-12", "commune_insee": "62498", "activite": "liberale"})
    text = page_text(client.get(f"/verifications/{verification_id}").get_data(as_text=True))
    assert "Non éligible" in text
    assert "D'autres dispositifs peuvent vous concerner" in text
    assert "ACRE" in text and "Jeune entreprise innovante" in text


def test_the_other_schemes_depend_on_the_failing_condition():
    from bud_checker.engine.guidance import alternatives

    rules = current_rules()
    outside = {d["id"] for d in alternatives(rules, ["commune_zone"])}
    takeover = {d["id"] for d in alternatives(rules, ["creation_nouvelle"])}
    assert "entreprises_nouvelles_44_sexies" in outside and "entreprises_nouvelles_44_sexies" not in takeover
    assert "france_ruralites_revitalisation" in takeover
    for item in alternatives(rules, list(rules.conditions)):
        assert item["url"].startswith(("https://entreprendre.service-public.fr/", "https://www.legifrance.gouv.fr/"))
        for source in item["sources"]:
            assert source["url"].startswith(("https://entreprendre.service-public.fr/", "https://bofip.impots.gouv.fr/",
                                             "https://www.legifrance.gouv.fr/")), source


def test_the_qpv_schemes_are_offered_outside_the_basin_or_for_an_extension_not_for_an_activity():
    """QPV (CGI art. 1466 A I septies and 1383 C ter, BOI-IF-CFE-10-30-50-60): a quarter of many towns, for
    creations and extensions of establishments; commercial activity and small-business thresholds of its own."""
    from bud_checker.engine.guidance import alternatives

    rules = current_rules()
    for failing in (["commune_zone"], ["creation_nouvelle"], ["periode_creation"], ["implantation"]):
        qpv = next((d for d in alternatives(rules, failing) if d["id"] == "qpv"), None)
        assert qpv is not None, failing
    assert qpv["url"] == "https://entreprendre.service-public.fr/vosdroits/F34020"
    assert {s["texte"].split(" ")[0] for s in qpv["sources"]} >= {"BOI-IF-CFE-10-30-50-60", "BOI-IF-TFB-10-160-60"}
    for failing in (["activite"], ["taille_pme"], ["capital"]):
        assert "qpv" not in {d["id"] for d in alternatives(rules, failing)}, failing


def test_a_shop_in_lille_is_pointed_to_the_qpv_schemes(app, client):
    verification_id = _record(app, {"date_creation": "2024-03-12", "commune_insee": "59350", "activite": "commerciale"})
    html = client.get(f"/verifications/{verification_id}").get_data(as_text=True)
    assert 'href="https://entreprendre.service-public.fr/vosdroits/F34020"' in html
    text = page_text(html)
    assert "Quartiers prioritaires de la politique de la ville (QPV)" in text
    assert "BOI-IF-CFE-10-30-50-60" in text


def test_an_eligible_check_lists_no_other_scheme(app, client):
    verification_id = _record(app, DOUAI_SHOP_2024)
    assert "D'autres dispositifs" not in client.get(f"/verifications/{verification_id}").get_data(as_text=True)


# --- item 5: the public PDF ----------------------------------------------------------------------------------

@pytest.mark.skipif(shutil.which("pdfinfo") is None, reason="poppler-utils (pdfinfo) not installed")
def test_public_pdf_of_a_typical_eligible_check_is_at_most_six_a4_pages(app, client, tmp_path):
    verification_id = _record(app, {**DOUAI_SHOP_2024, "benefice_annuel_estime": 60000, "impot_sur": "is",
                                    "cfe_annuelle_estimee": 800, "taxe_fonciere_annuelle_estimee": 1500})
    response = client.get(f"/verifications/{verification_id}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    path = tmp_path / "resultat.pdf"
    path.write_bytes(response.data)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    assert 1 <= pages <= 6, info
    assert "595.28 x 841.89" in info or "A4" in info
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "Éligible" in text or "éligible" in text
    assert "estimation" in text and "1447-C-SD" in text
    assert "CGI, art. 44 sexdecies, version en vigueur le" in text, "the text applied is named in the header"


def test_public_pdf_shows_the_commune_on_the_small_map_in_colour(app, client, tmp_path):
    """The small map of the result page, in the PDF too: WeasyPrint does not apply the page's stylesheet to an
    inline SVG, so the map carries its colours as presentation attributes (zone_map.PAINT)."""
    from PIL import Image

    verification_id = _record(app, DOUAI_SHOP_2024)
    path = tmp_path / "resultat.pdf"
    path.write_bytes(client.get(f"/verifications/{verification_id}.pdf").data)
    text = subprocess.run(["pdftotext", "-l", "1", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "Votre commune sur la carte" in text and "Douai (59) est marquée d'un point rouge" in text
    subprocess.run(["pdftoppm", "-r", "120", "-f", "1", "-l", "1", "-png", str(path), str(tmp_path / "p")], check=True)
    (image,) = tmp_path.glob("p*.png")
    colours = Image.open(image).convert("RGB").getcolors(1_000_000)
    def near(rgb, target):
        return all(abs(a - b) <= 12 for a, b in zip(rgb, target))
    green = sum(n for n, rgb in colours if near(rgb, (0x1A, 0x6B, 0x3A)))  # the communes classed in 2018
    red = sum(n for n, rgb in colours if near(rgb, (0xA1, 0x23, 0x1B)))  # the marker on Douai
    assert green > 200 and red > 5, (green, red)
    html = client.get(f"/verifications/{verification_id}").get_data(as_text=True)
    assert html.count('id="carte-mini"') == 1, "the page shows it once, from the same macro"


def test_pdf_of_an_unknown_check_is_404(client):
    assert client.get("/verifications/" + "y" * 24 + ".pdf").status_code == 404


# --- the advisers' check and report show the estimate too ----------------------------------------------------

def test_an_advisers_check_with_figures_shows_the_estimate_on_its_page_and_report(world):
    from advisers_helpers import DOUAI, AdviserClient

    adviser = AdviserClient(world.app, world.a1)
    dossier = adviser.new_dossier("Épicerie du Beffroi")
    verification = adviser.new_verification(dossier, {**DOUAI, "benefice_annuel_estime": 50000, "impot_sur": "is"})
    base = f"/conseillers/dossiers/{dossier}/verifications/{verification}"
    page = page_text(adviser.get(base).get_data(as_text=True))
    assert "Vos économies estimation" in page and "Hypothèses de l'estimation" in page
    report = adviser.get(base + "/rapport").get_data(as_text=True)
    assert "Économies estimées par année civile" in page_text(report)
    assert "bofip.impots.gouv.fr/doctrine/pgp/2063-PGP" in report, "the corporate-tax sources are in the references"
