"""The advisers' workspace in headless Chromium, as an adviser uses it: sign in, create a case file, run a check
(commune picked from the suggestions), open the report and its PDF, upload a CSV; axe-core on every page."""

from __future__ import annotations

import re

import pytest

from advisers_helpers import PASSWORD, adv_app, make_adviser, make_org, unique
from browser_helpers import assert_accessible, fill_douai_check, open_browser, watched_page
from conftest import serving

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def workspace(adv_app):
    """The application (no sign-in rate limit) on a real port, and an adviser to sign in with."""
    org = make_org(adv_app, unique("CCI Navigateur"))[1]
    email = make_adviser(adv_app, org, nom="Nina Navigateur")
    with serving(adv_app) as url:
        yield url, email, org


@pytest.fixture(scope="module")
def browser():
    with open_browser() as browser:
        yield browser


@pytest.fixture(scope="module")
def page(browser, workspace):
    """One signed-in browser for the module, failing on any console error (CSP violation, missing file...)."""
    with watched_page(browser, timeout=15_000, accept_downloads=True) as page:
        yield page


def test_an_advisers_day(page, workspace, tmp_path):
    base, email, org = workspace
    page.goto(base + "/conseillers/dossiers")
    page.wait_for_url(re.compile(r"/conseillers/connexion"))
    assert_accessible(page, "sign-in")
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Se connecter").click()
    assert page.url.endswith("/conseillers/dossiers")
    assert org in page.locator(".workspace-bar").inner_text()
    assert_accessible(page, "case files")

    page.get_by_role("link", name="Nouveau dossier").click()
    page.get_by_label("Nom de l'entreprise cliente").fill("Fromagerie du Beffroi")
    page.get_by_label("SIREN (facultatif)").fill("732 829 320")
    with page.expect_navigation():
        page.get_by_role("button", name="Créer le dossier").click()
    assert page.locator("h1").inner_text() == "Fromagerie du Beffroi"
    assert_accessible(page, "case file")

    page.get_by_role("link", name="Nouvelle vérification").click()
    assert_accessible(page, "check form")
    fill_douai_check(page)
    page.wait_for_url(re.compile(r"/verifications/[A-Za-z0-9_-]{22,}$"))
    assert "Éligible" in page.locator(".verdict__title").inner_text()
    assert_accessible(page, "check")

    with page.expect_navigation():
        page.get_by_role("button", name="Relancer avec les règles du jour").click()
    assert "Aucun changement" in page.locator(".diff-section").inner_text()

    with page.expect_download() as download:
        page.evaluate("url => { const a = document.createElement('a'); a.href = url + '?telecharger=1'; a.click(); }",
                      page.get_by_role("link", name="Rapport PDF").get_attribute("href"))
    pdf = tmp_path / "rapport.pdf"
    download.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF-")

    page.get_by_role("link", name="Rapport à imprimer").click()
    page.wait_for_url(re.compile(r"/rapport$"))
    assert_accessible(page, "report")
    page.emulate_media(media="print")
    assert page.locator(".rapport__toolbar").is_hidden()
    assert org.upper() in page.locator(".rapport__org").inner_text().upper()
    page.emulate_media(media="screen")

    page.goto(base + "/conseillers/lots")
    assert_accessible(page, "batches")
    csv_file = tmp_path / "clients.csv"
    csv_file.write_bytes("nom;date de création;commune;activité\nA;14/05/2019;Douai;commerciale\n"
                         "B;30/02/2019;Douai;commerciale\n".encode("cp1252"))
    page.get_by_label("Fichier des situations (Excel ou CSV)").set_input_files(str(csv_file))
    with page.expect_navigation():
        page.get_by_role("button", name="Vérifier le fichier").click()
    assert "Lot « clients.csv »" in page.locator("h1").inner_text()
    assert " ".join(page.locator(".counts").inner_text().split()) == (
        "2 lignes 0 éligible 0 non éligible 1 à confirmer 1 en erreur")
    assert_accessible(page, "batch")

    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url(re.compile(r"/conseillers/connexion$"))
    page.goto(base + "/conseillers/dossiers")
    page.wait_for_url(re.compile(r"/conseillers/connexion"))
