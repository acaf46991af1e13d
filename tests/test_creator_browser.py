"""Issue 12 items 1, 2, 4, 5, 8 (and 9 for these pages) in headless Chromium, on a phone (390×844) and a
desktop: the Douai shop created in March 2024 with 60 000 € of yearly profit at IS sees its savings year by year,
downloads its deadlines and reads them back with icalendar, changes one answer without retyping the others,
downloads its PDF; a freelancer in Lens is pointed to other schemes. axe-core finds no serious or critical
violation on these pages, which also work without JavaScript."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from browser_helpers import (answer, answer_commerce_steps, assert_accessible, first_step, next_step, open_browser,
                             see_result, watched_page)

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}


@pytest.fixture(scope="module")
def browser():
    with open_browser() as browser:
        yield browser


@pytest.fixture(params=["telephone", "bureau"])
def page(request, browser):
    options = PHONE if request.param == "telephone" else {}
    with watched_page(browser, **options) as page:
        if request.param == "bureau":
            page.set_viewport_size(DESKTOP["viewport"])
        yield page


def _douai_shop_2024(page, base_url: str, *, savings: bool = True, check_step: bool = False) -> None:
    first_step(page, base_url, "Doua", "Douai (59)", date="2024-03-12")
    answer_commerce_steps(page, effectif="2", chiffre_affaires="250000")
    answer(page, {"salaries_eligibles": "1", "salaries_eligibles_residents_bud": "1"})
    next_step(page)
    answer(page, {"deliberation_exoneration_cfe": "non", "deliberation_exoneration_tfpb": None,
                  "proprietaire_immeuble": "non"})
    next_step(page)
    assert "Estimer vos économies" in page.locator("h2.step-title").inner_text()
    if check_step:
        assert_accessible(page, "étape « Estimer vos économies »")
        if page.viewport_size["width"] < 500:
            _no_sideways_scroll(page)
    if savings:
        answer(page, {"benefice_annuel_estime": "60000", "impot_sur": "is", "taux_marginal_ir_pct": None,
                      "cfe_annuelle_estimee": "900", "taxe_fonciere_annuelle_estimee": None})
        next_step(page)
    else:
        see_result(page, "Passer et voir le résultat")
    page.wait_for_url(re.compile(r"/verifications/[A-Za-z0-9_-]{22,}$"))


def _no_sideways_scroll(page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"horizontal scrolling: {overflow}px"


def test_douai_shop_sees_its_savings_year_by_year(page, live_server):
    _douai_shop_2024(page, live_server, check_step=True)
    section = page.locator("#economies")
    assert section.is_visible()
    assert "estimation" in section.locator("h2").inner_text().lower()
    table = section.locator("table.table--savings")
    years = table.locator("tbody th").all_inner_texts()
    assert years[0] == "2024" and years[1] == "2025" and len(years) >= 6
    text = section.inner_text().replace("\u202f", " ")
    assert "40 000 € d'impôt sur les bénéfices".replace(" €", "\xa0€") in text, (
        "10 750 € twice, then 8 500, 6 250, 3 750")
    section.locator("details.savings__periods > summary").click()
    assert "10 750" in section.inner_text().replace("\u202f", " ")
    assert section.locator("svg.savings-chart__svg rect").count() >= 6
    hypotheses = section.locator("details.savings__fold")
    assert "CGI, art. 219" not in section.inner_text(), "the hypotheses and their texts fold"
    hypotheses.locator("> summary").click()
    assert "CGI, art. 219" in section.inner_text()
    if page.viewport_size["width"] < 500:
        _no_sideways_scroll(page)
    assert_accessible(page, "résultat avec économies")


def test_deadlines_download_into_a_calendar(page, live_server):
    from icalendar import Calendar

    _douai_shop_2024(page, live_server, savings=False)
    link = page.get_by_role("link", name="Ajouter les échéances à mon agenda (.ics)")
    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert download.suggested_filename.endswith(".ics")
    calendar = Calendar.from_ical(open(download.path(), "rb").read())
    events = list(calendar.walk("VEVENT"))
    assert {e.decoded("DTSTART") for e in events} >= {dt.date(2024, 12, 31)}
    cfe = next(e for e in events if "CFE" in str(e["SUMMARY"]) and "Demander" in str(e["SUMMARY"]))
    assert "1447-C-SD" in str(cfe["DESCRIPTION"])
    assert str(cfe["SUMMARY"]).startswith("[Échéance passée]"), "31 December 2024 has passed in December 2026"
    steps = page.locator("#demarches-titre").locator("..")
    assert "1447-C-SD" in steps.inner_text()  # the form's number shows without opening «Comment faire»
    steps.locator("details.steps__fold summary").first.click()
    assert "Où s'adresser" in steps.inner_text()


def test_changing_one_answer_keeps_the_others_and_makes_a_new_check(page, live_server):
    _douai_shop_2024(page, live_server)
    first_url = page.url
    with page.expect_navigation():
        page.get_by_role("link", name="Modifier mes réponses").first.click()
    assert page.locator("#date_creation").input_value() == "2024-03-12"
    assert page.locator("#commune").input_value() == "Douai (59)"
    assert_accessible(page, "modifier mes réponses")
    # Change the profit in the savings step, from the answers panel, without retyping anything else.
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile("Modifier.*Estimer vos économies")).click()
    assert page.locator("#benefice_annuel_estime").input_value().replace(" ", "").replace("\u202f", "") == "60000"
    page.locator("#benefice_annuel_estime").fill("80000")
    with page.expect_navigation():
        page.get_by_role("button", name="Continuer").click()
    page.wait_for_url(re.compile(r"/verifications/[A-Za-z0-9_-]{22,}$"))
    assert page.url != first_url, "a new saved check"
    assert page.locator("h1").inner_text().strip() == "Éligible"
    page.locator("#economies details.savings__fold > summary").click()
    periods = page.locator("#economies").inner_text()
    assert "80 000" in periods.replace("\u202f", " ")
    page.goto(first_url)
    assert page.locator("h1").inner_text().strip() == "Éligible", "the old check stays"


def test_the_pdf_of_the_result_downloads(page, live_server):
    _douai_shop_2024(page, live_server)
    href = page.get_by_role("link", name="Télécharger le résultat (PDF)").get_attribute("href")
    response = page.request.get(live_server + href, timeout=90_000)  # WeasyPrint takes seconds on a loaded machine
    assert response.ok and response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF")


def test_a_freelancer_in_lens_is_told_what_else_may_apply(page, live_server):
    first_step(page, live_server, "Lens", "Lens (62)", date="2024-03-12")
    answer(page, {"activite": "liberale", "origine": "creation_pure"})
    next_step(page)
    see_result(page, "Voir le résultat détaillé")
    assert page.locator("h1").inner_text().strip() == "Non éligible"
    others = page.locator("section.alternatives")
    assert others.is_visible()
    links = others.get_by_role("link")
    assert links.count() >= 2
    for href in links.evaluate_all("links => links.map(a => a.href)"):
        assert href.startswith(("https://entreprendre.service-public.fr/", "https://www.legifrance.gouv.fr/"))
    assert_accessible(page, "non éligible, autres dispositifs")


def test_the_new_pages_work_without_javascript(browser, live_server):
    with watched_page(browser, java_script_enabled=False, **PHONE) as page:
        page.goto(live_server + "/")
        page.locator("#date_creation").fill("2024-03-12")
        page.locator("#commune").fill("Douai")
        next_step(page)
        answer_commerce_steps(page, effectif="2", chiffre_affaires="250000")
        answer(page, {"salaries_eligibles": "1", "salaries_eligibles_residents_bud": "1"})
        next_step(page)
        see_result(page, "Passer et voir le résultat")
        assert page.locator("h1").inner_text().strip() == "Éligible"
        with page.expect_navigation():
            page.get_by_role("link", name="Estimer vos économies").click()
        answer(page, {"benefice_annuel_estime": "60000", "impot_sur": "is", "taux_marginal_ir_pct": None,
                      "cfe_annuelle_estimee": None, "taxe_fonciere_annuelle_estimee": None})
        with page.expect_navigation():
            page.get_by_role("button", name="Continuer").click()
        # The schedule questions skipped earlier are offered again (optional): skip them.
        if "/verifications/" not in page.url:
            see_result(page, "Passer et voir le résultat")
        assert page.locator("#economies table.table--savings").is_visible()
        with page.expect_navigation():
            page.get_by_role("link", name="Modifier mes réponses").first.click()
        assert page.locator("#commune").input_value() == "Douai (59)"
