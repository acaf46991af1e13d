"""The creator's pages on a phone (390 × 844) and a desktop in headless Chromium: the result page fits a phone (no
sideways scrolling, no text under 11 px, verdict and next step on the first screen, details folded, a third of
its former length), the form says «Étape N sur M» and moves the focus to each new step's heading, the glossary;
the advisers' pages do not break on a phone. axe-core finds no serious or critical violation."""

from __future__ import annotations

import re

import pytest

from advisers_helpers import PASSWORD, adv_app, make_adviser, make_org, unique
from browser_helpers import (PHONE, answer, assert_accessible, browser, desktop, fill_douai_check,
                             next_step, phone, pick_commune, sideways_overflow, smallest_text, watched_page)
from conftest import serving

pytestmark = pytest.mark.browser

# The eligible result page of a Douai shop was 22,600 px tall at 390 px before the details were folded.
BEFORE_PX = 22_600
SHOP_2024 = {"date_creation": "2024-03-15", "commune_insee": "59178", "activite": "commerciale",
             "origine": "creation_pure", "effectif": 3, "chiffre_affaires": 180000, "total_bilan": 90000,
             "capital_detenu_par_societes_pct": 0, "siege_dans_zone": True, "activite_et_moyens_dans_zone": True,
             "non_sedentaire": False,
             "salaries_eligibles": 2, "salaries_eligibles_residents_bud": 2, "embauches_eligibles": 2,
             "embauches_eligibles_residents_bud": 2, "deliberation_exoneration_cfe": False,
             "proprietaire_immeuble": False}


def _saved(page, base: str, situation: dict) -> None:
    response = page.request.post(base + "/api/v1/verifications", data=situation)
    assert response.status == 201
    page.goto(response.json()["page"])


def _readable_on_a_phone(page, where: str) -> None:
    assert sideways_overflow(page) <= 0, f"{where}: sideways scrolling"
    smallest = smallest_text(page)
    assert smallest["size"] >= 11, f"{where}: {smallest}"


@pytest.mark.parametrize("situation", [SHOP_2024, {**SHOP_2024, "date_creation": "2019-05-14"}],
                         ids=["2024", "2019"])
def test_an_eligible_result_on_a_phone(phone, live_server, situation):
    _saved(phone, live_server, situation)
    _readable_on_a_phone(phone, "résultat éligible")
    # The first screen holds the verdict and the next step.
    for selector in (".verdict__title .pill", ".next-step"):
        box = phone.locator(selector).bounding_box()
        assert box and box["y"] + box["height"] <= 844, selector
    assert "Prochaine démarche" in phone.locator(".next-step").text_content()
    # The timeline is text on a phone; the tables are cards.
    assert not phone.locator("svg.timeline__svg").is_visible()
    assert phone.locator(".timeline__text").is_visible()
    # Details fold: a condition opens on demand.
    condition = phone.locator("#condition-taille_pme details")
    assert condition.get_attribute("open") is None
    explanation = condition.locator(".fold__body p").first
    assert not explanation.is_visible()
    condition.locator("summary").click()
    assert explanation.is_visible()
    local = phone.locator("details.tax-fold", has=phone.locator("#table-impots-locaux"))
    local.locator("summary").click()
    assert phone.locator("table:has(#table-impots-locaux) tbody tr").first.is_visible()
    row = phone.locator("table:has(#table-impots-locaux) tbody tr").first
    assert row.evaluate("r => getComputedStyle(r).display") == "block"  # a card per row
    _readable_on_a_phone(phone, "tableau des impôts locaux ouvert")  # the table reflowed into cards
    assert_accessible(phone, "résultat éligible sur téléphone")
    phone.screenshot(path=f"/tmp/bud-result-phone-{situation['date_creation'][:4]}.png", full_page=True)


# The same shop with its savings estimated (60,000 € of yearly profit at IS, 800 € of CFE): the estimate adds its
# chart and table, its hypotheses fold.
SHOP_2024_SAVINGS = {**SHOP_2024, "benefice_annuel_estime": 60000, "impot_sur": "is", "cfe_annuelle_estimee": 800,
                     "taxe_fonciere_annuelle_estimee": 0}


def test_an_eligible_result_is_a_third_of_its_former_length_on_a_phone(phone, live_server):
    _saved(phone, live_server, SHOP_2024)
    height = phone.evaluate("document.documentElement.scrollHeight")
    assert height <= BEFORE_PX / 3, f"{height} px"
    _saved(phone, live_server, SHOP_2024_SAVINGS)
    height = phone.evaluate("document.documentElement.scrollHeight")
    assert height <= BEFORE_PX * 0.4, f"with the savings: {height} px"


def test_what_folds_on_a_phone_opens_on_demand(phone, live_server):
    """The postal-code warning's list of communes, what to do about a missed step («Et maintenant ?»), the steps
    that concern only some creators and «Où s'adresser» fold; each opens with its summary, by keyboard too."""
    _saved(phone, live_server, SHOP_2024)
    warning = phone.locator("#avertissements-titre").locator("..")
    assert "59178 est aussi le code postal de 4 autres communes" in warning.inner_text()
    assert not warning.get_by_text("Hasnon").is_visible()
    warning.locator("summary").click()
    assert warning.get_by_text("Hasnon").is_visible()
    essentials = phone.locator("#essentiel-titre").locator("..")
    remedy = essentials.locator("details.remedy-fold").first
    assert not remedy.locator(".fold__body").is_visible()
    remedy.locator("summary").focus()
    phone.keyboard.press("Enter")
    assert "Délai dépassé" in remedy.locator(".fold__body").inner_text()
    assert remedy.locator(".fold__body").is_visible()
    steps = phone.locator("#demarches-titre").locator("..")
    some = steps.locator("details.steps-some")
    assert "Selon votre situation : 2 autres démarches" in some.locator("> summary").inner_text()
    assert not some.get_by_role("heading", name="Opter si une autre exonération de CFE est possible").is_visible()
    some.locator("> summary").click()
    assert some.get_by_role("heading", name="Opter si une autre exonération de CFE est possible").is_visible()
    assert some.locator("> .fold__body > ol").get_attribute("start") == str(steps.locator("> ol > li").count() + 1)
    offices = phone.locator("#ou-titre").locator("xpath=ancestor::details")
    assert offices.get_attribute("open") is None
    offices.locator("> summary").click()
    assert phone.get_by_role("link", name=re.compile("^La chambre de commerce")).is_visible()
    _readable_on_a_phone(phone, "résultat éligible, tout ouvert")
    assert_accessible(phone, "résultat éligible, détails ouverts")


def test_the_result_on_a_desktop_keeps_the_picture_and_the_tables(desktop, live_server):
    _saved(desktop, live_server, SHOP_2024)
    assert desktop.locator("svg.timeline__svg").is_visible()
    assert not desktop.locator(".timeline__text").is_visible()
    desktop.locator("details.tax-fold", has=desktop.locator("#table-impots-locaux")).locator("summary").click()
    assert desktop.locator("table:has(#table-impots-locaux) thead th").first.is_visible()
    assert_accessible(desktop, "résultat sur ordinateur")


def test_not_eligible_and_a_confirmer_on_a_phone(phone, live_server):
    _saved(phone, live_server, {**SHOP_2024, "commune_insee": "59350"})  # Lille
    _readable_on_a_phone(phone, "non éligible")
    assert phone.locator("#condition-commune_zone details").get_attribute("open") is not None
    assert_accessible(phone, "non éligible sur téléphone")
    _saved(phone, live_server, {k: v for k, v in SHOP_2024.items() if "salaries" not in k and "embauches" not in k})
    _readable_on_a_phone(phone, "à confirmer")
    assert phone.locator("#a-verifier").is_visible()
    box = phone.locator(".next-step").bounding_box()  # what to verify, on the first screen
    assert box and box["y"] + box["height"] <= 844
    assert "points qui manquent pour conclure" in phone.locator(".next-step").text_content()
    assert_accessible(phone, "à confirmer sur téléphone")


def test_printing_opens_the_folded_details(desktop, live_server):
    _saved(desktop, live_server, SHOP_2024)
    desktop.emulate_media(media="print")
    assert desktop.locator("#condition-taille_pme .fold__body p").first.is_visible()
    assert desktop.locator("#table-impots-locaux").is_visible()
    for folded in ("details.remedy-fold .fold__body", "details.notice-fold .fold__body", "details.steps-some ol",
                   ".offices .fold__body li"):
        assert desktop.locator(folded).first.is_visible(), folded


def _wait_for_focus(page, condition: str) -> None:
    """The page's script moves the focus once the step is shown: wait for it (5 s at most), then it must hold."""
    page.wait_for_function(condition, timeout=5000)
    assert page.evaluate(condition), condition


def test_step_count_and_focus_after_each_step(phone, live_server):
    phone.goto(live_server + "/")
    assert "Étape 1 sur 5" in phone.locator(".step-title").text_content()
    phone.locator("#date_creation").fill("2019-05-14")
    pick_commune(phone, "Doua", "Douai (59)")
    next_step(phone)
    heading = phone.locator("h1.step-title")
    assert heading.text_content().strip() == "Étape 2 sur 5Votre activité"
    _wait_for_focus(phone, "document.activeElement.classList.contains('step-title')")
    assert phone.title().startswith("Étape 2 sur 5")
    phone.keyboard.press("Tab")
    assert phone.evaluate("document.activeElement.id") == "activite-0"  # one Tab to the first answer
    _readable_on_a_phone(phone, "étape 2")
    assert_accessible(phone, "étape 2 sur téléphone")
    answer(phone, {"activite": "commerciale", "origine": "creation_pure"})
    next_step(phone)
    _wait_for_focus(phone, "document.activeElement.textContent.trim().startsWith('Étape 3 sur 5')")
    answer(phone, {"non_sedentaire": "non", "siege_dans_zone": "oui", "activite_et_moyens_dans_zone": "oui"})
    next_step(phone)
    _wait_for_focus(phone, "document.activeElement.textContent.trim().startsWith('Étape 4 sur 5')")
    phone.keyboard.press("Tab")
    assert phone.evaluate("document.activeElement.id") == "effectif"
    answer(phone, {"effectif": "3", "chiffre_affaires": "180000", "capital_detenu_par_societes_pct": "0"})
    next_step(phone)
    assert "Étape 5 sur 5" in phone.locator("h1.step-title").text_content()
    answer(phone, {"salaries_eligibles": "2", "salaries_eligibles_residents_bud": "2"})
    next_step(phone)
    _wait_for_focus(phone, "document.activeElement.id === 'conclusion-titre'")
    assert "Étape facultative" in phone.locator(".step-title").text_content()
    _readable_on_a_phone(phone, "étape facultative")


def test_the_glossary_on_a_phone_and_without_javascript(phone, browser, live_server):
    phone.goto(live_server + "/")
    phone.get_by_role("link", name="Glossaire").first.click()
    phone.wait_for_url("**/glossaire")
    assert phone.locator("#cfe dfn").inner_text() == "CFE"
    _readable_on_a_phone(phone, "glossaire")
    assert_accessible(phone, "glossaire sur téléphone")
    with watched_page(browser, java_script_enabled=False, **PHONE) as page:
        page.goto(live_server + "/glossaire#tfpb")
        assert "taxe foncière sur les propriétés bâties" in page.locator("#tfpb").inner_text()


@pytest.fixture(scope="module")
def workspace(adv_app):
    org = make_org(adv_app, unique("CCI Téléphone"))[1]
    email = make_adviser(adv_app, org, nom="Paul Portable")
    with serving(adv_app) as url:
        yield url, email


def test_the_advisers_pages_do_not_break_on_a_phone(browser, workspace):
    base, email = workspace
    with watched_page(browser, timeout=15_000, **PHONE) as page:
        page.goto(base + "/conseillers/connexion")
        page.get_by_label("Adresse électronique").fill(email)
        page.get_by_label("Mot de passe").fill(PASSWORD)
        with page.expect_navigation():
            page.get_by_role("button", name="Se connecter").click()
        page.get_by_role("link", name="Nouveau dossier").click()
        page.get_by_label("Nom de l'entreprise cliente").fill("Boulangerie du Beffroi")
        with page.expect_navigation():
            page.get_by_role("button", name="Créer le dossier").click()
        page.get_by_role("link", name="Nouvelle vérification").click()
        fill_douai_check(page)
        page.wait_for_url(re.compile(r"/verifications/[A-Za-z0-9_-]{22,}$"))
        assert "Éligible" in page.locator(".verdict__title").inner_text()
        for where in ("check", "dossiers"):
            if where == "dossiers":
                page.goto(base + "/conseillers/dossiers")
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"{where}: {overflow}px"
            assert_accessible(page, f"conseillers {where} sur téléphone")
