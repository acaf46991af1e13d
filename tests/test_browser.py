"""The real flow in headless Chromium (Playwright, sync API): type a commune, pick a suggestion, answer, read the
verdict; keyboard use, no JavaScript, small screens, print; and an axe-core accessibility check of every page
(no serious or critical violation)."""

from __future__ import annotations

import re

import pytest

from browser_helpers import (answer, assert_accessible, douai_flow, first_step, lille_flow, next_step, open_browser,
                             watched_page)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    with open_browser() as browser:
        yield browser


@pytest.fixture
def page(browser):
    """A fresh French browser context; fails the test on any console error (a CSP violation, a 404, ...)."""
    with watched_page(browser) as page:
        yield page


def test_douai_commerce_is_eligible(page, live_server):
    page.goto(live_server + "/")
    assert_accessible(page, "accueil")
    douai_flow(page, live_server)
    assert re.search(r"/verifications/[A-Za-z0-9_-]{24}$", page.url)
    assert page.locator("h1").inner_text().strip() == "Éligible"
    # checked today, long after 2024: the headline says the profit-tax periods are over
    assert "terminées depuis le 30 avril 2024" in page.locator(".verdict__resume").inner_text()
    assert page.locator("svg.timeline__svg").is_visible()
    assert page.locator(".condition--ok").count() == 8
    assert page.get_by_role("heading", name="Ce qu'il faut faire, et quand").is_visible()
    assert_accessible(page, "verdict éligible")


def test_lille_is_not_eligible_because_of_the_commune(page, live_server):
    first_step(page, live_server, "Lill", "Lille (59)")
    assert "Votre réponse suffit à conclure" in page.locator("h1").inner_text()
    assert_accessible(page, "conclusion anticipée")
    page.get_by_role("button", name="Voir le résultat détaillé").click()
    page.wait_for_url(re.compile(r"/verifications/"))
    assert page.locator("h1").inner_text().strip() == "Non éligible"
    assert "Lille (59) ne figure pas sur la liste" in page.locator(".essentials").inner_text()
    assert_accessible(page, "verdict non éligible")


def test_je_ne_sais_pas_on_the_hiring_clause_is_a_confirmer(page, live_server):
    douai_flow(page, live_server, hiring_unknown=True)
    assert page.locator("h1").inner_text().strip() == "À confirmer"
    todo = page.locator("#a-verifier").locator("..").inner_text()
    assert "Combien de salariés en CDI ou en CDD d'au moins 12 mois" in todo
    assert_accessible(page, "verdict à confirmer")


def test_commune_chosen_with_the_keyboard_only(page, live_server):
    page.goto(live_server + "/")
    page.keyboard.press("Tab")  # skip link
    assert page.evaluate("document.activeElement.textContent") == "Aller au contenu"
    page.locator("#date_creation").fill("2019-05-14")
    page.locator("#commune").focus()
    page.keyboard.type("Lievi", delay=40)
    page.get_by_role("option").first.wait_for()
    assert page.locator("#commune").get_attribute("aria-expanded") == "true"
    page.keyboard.press("ArrowDown")
    assert page.locator("#commune").get_attribute("aria-activedescendant") == "commune-suggestions-0"
    page.keyboard.press("Enter")
    assert page.locator("#commune").input_value() == "Liévin (62)"
    assert page.locator("#commune_insee").input_value() == "62510"
    assert page.locator("#commune").get_attribute("aria-expanded") == "false"
    page.keyboard.press("Tab")  # «Je ne sais pas encore»
    page.keyboard.press("Tab")  # «Continuer»
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("h1").inner_text().splitlines()[-1] == "Votre activité"
    # Radios are reachable and answerable with the keyboard too.
    page.keyboard.press("Tab")  # the focus is on the step's heading: the first answer is one Tab away
    assert page.evaluate("document.activeElement.id") == "activite-0"
    page.keyboard.press("ArrowDown")
    assert page.locator("#activite-1").is_checked()


def test_errors_are_announced_and_linked(page, live_server):
    page.goto(live_server + "/")
    with page.expect_navigation():
        page.get_by_role("button", name="Continuer").click()
    summary = page.locator(".error-summary")
    assert summary.is_visible()
    assert page.evaluate("document.activeElement.classList.contains('error-summary')")
    assert page.title().startswith("Erreur : ")
    assert_accessible(page, "résumé des erreurs")
    summary.get_by_role("link").first.click()
    assert page.evaluate("document.activeElement.id") == "date_creation"


def test_the_form_works_without_javascript(browser, live_server):
    with watched_page(browser, java_script_enabled=False) as page:
        page.goto(live_server + "/")
        page.locator("#date_creation").fill("2019-05-14")
        page.locator("#commune").fill("Douai")
        next_step(page)
        assert page.locator("h1").inner_text().splitlines()[-1] == "Votre activité"
        answer(page, {"activite": "commerciale", "origine": "creation_pure"})
        next_step(page)
        assert page.locator("h1").inner_text().splitlines()[-1] == "Où vous exercez"
        answer(page, {"non_sedentaire": "non", "siege_dans_zone": "oui", "activite_et_moyens_dans_zone": "oui"})
        next_step(page)
        assert page.locator("h1").inner_text().splitlines()[-1] == "Taille et capital"


def test_small_screen_and_print(browser, live_server):
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="fr-FR", is_mobile=True)
    page = context.new_page()
    try:
        douai_flow(page, live_server)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"horizontal scrolling on a small screen: {overflow}px"
        assert_accessible(page, "verdict sur petit écran")
        page.emulate_media(media="print")
        assert not page.locator(".site-nav").is_visible()
        assert not page.locator(".verdict__actions").is_visible()
        assert page.locator(".conditions").is_visible()
    finally:
        context.close()


def test_rules_and_api_pages_are_accessible(page, live_server):
    for path in ("/regles", "/api"):
        page.goto(live_server + path)
        assert_accessible(page, path)
    page.goto(live_server + "/regles#condition-clause_embauche")
    assert page.locator("#condition-clause_embauche").is_visible()
