"""The map of the zone in headless Chromium, on a phone (390 × 844) and a desktop: find a commune, filter the list,
without JavaScript, the small map of the result page; axe-core finds no serious or critical violation."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from browser_helpers import (PHONE, assert_accessible, browser, desktop, phone, sideways_overflow,
                             smallest_text, watched_page)

pytestmark = pytest.mark.browser


def test_find_douai_on_the_map_on_a_phone(phone, live_server):
    phone.goto(live_server + "/")
    phone.get_by_role("link", name="La zone").click()
    phone.wait_for_url("**/zone")
    assert phone.locator("svg.zone-map--large").is_visible()
    assert_accessible(phone, "/zone sur téléphone")
    phone.get_by_label("Chercher une commune (nom ou code postal)").fill("douai")
    with phone.expect_navigation():
        phone.get_by_role("button", name="Chercher").click()
    marked = phone.locator("#commune-marquee")
    assert "Douai (59) est marquée sur la carte" in marked.inner_text()
    douai = phone.locator("svg.zone-map--large .zone-map__c--here path")
    assert douai.count() == 1
    box = douai.bounding_box()
    assert box and box["width"] > 3 and 0 <= box["x"] <= 390 - box["width"]
    assert phone.locator(".zone-map__marker").is_visible()
    assert sideways_overflow(phone) <= 0
    smallest = smallest_text(phone)
    assert smallest["size"] >= 11, smallest
    assert_accessible(phone, "/zone?q=douai sur téléphone")
    phone.screenshot(path="/tmp/bud-zone-douai-phone.png", full_page=False)


def test_the_list_filters_as_you_type_and_links_to_the_map(desktop, live_server):
    desktop.goto(live_server + "/zone")
    field = desktop.get_by_label("Filtrer la liste")
    assert field.is_visible()
    field.fill("bully")
    expect(desktop.locator("#zone-filtre-compte")).to_have_text("1 commune affichée")
    visible = desktop.locator(".zone-group__list li:visible")
    assert visible.count() == 1 and "Bully-les-Mines" in visible.inner_text()
    with desktop.expect_navigation():
        visible.get_by_role("link").click()
    assert "Bully-les-Mines (62) est marquée" in desktop.locator("#commune-marquee").inner_text()
    assert_accessible(desktop, "/zone?commune=62186")
    field = desktop.get_by_label("Filtrer la liste")
    field.fill("st amand")
    expect(desktop.locator("#zone-filtre-compte")).to_contain_text("affichée")
    assert "Saint-Amand-les-Eaux" in desktop.locator(".zone-group__list li:visible").first.inner_text()


def test_the_zone_without_javascript(browser, live_server):
    with watched_page(browser, java_script_enabled=False, **PHONE) as page:
        page.goto(live_server + "/zone")
        assert not page.locator("[data-zone-filter]").is_visible()  # the filter needs the script: not offered
        page.locator("#zone-q").fill("Lievn")
        with page.expect_navigation():
            page.get_by_role("button", name="Chercher").click()
        assert "Liévin (62)" in page.locator(".zone-results").inner_text()
        with page.expect_navigation():
            page.get_by_role("link", name="Voir Liévin sur la carte").click()
        assert "Liévin (62) est marquée" in page.locator("#commune-marquee").inner_text()


def test_the_result_page_shows_the_commune_on_a_phone(phone, live_server, douai_commerce):
    response = phone.request.post(live_server + "/api/v1/verifications", data=douai_commerce)
    phone.goto(response.json()["page"])
    small = phone.locator("svg.zone-map--small")
    small.scroll_into_view_if_needed()
    assert small.is_visible()
    assert phone.locator("svg.zone-map--small .zone-map__c--here").count() == 1
    phone.get_by_role("link", name="Voir la carte de la zone et la liste des communes").click()
    phone.wait_for_url("**/zone?commune=59178#carte")
    assert "Douai (59) est marquée" in phone.locator("#commune-marquee").inner_text()
