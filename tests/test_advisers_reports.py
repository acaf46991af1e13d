"""The printable report of a check: the HTML with its print stylesheet, and the PDF (WeasyPrint) with the
organisation's name, the date, the rules version and every reference."""

from __future__ import annotations

import html
import shutil
import subprocess

import pytest

from advisers_helpers import DOUAI, AdviserClient, adv_app, world
from conftest import page_text, skip_or_fail


@pytest.fixture(scope="module")
def check(world):
    adviser = AdviserClient(world.app, world.a1)
    dossier = adviser.new_dossier("Boulangerie du Beffroi", siren="732829320")
    verification = adviser.new_verification(dossier, DOUAI)
    body = adviser.get(f"/api/v1/conseillers/dossiers/{dossier}/verifications/{verification}").get_json()
    base = f"/conseillers/dossiers/{dossier}/verifications/{verification}"
    return {"adviser": adviser, "base": base, "body": body, "org": world.org_a}


@pytest.fixture(scope="module")
def pdf(check) -> bytes:
    response = check["adviser"].get(check["base"] + "/rapport.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    return response.data


def _urls(verdict: dict) -> set[str]:
    """Every address the verdict cites: its sources, resolved against its rules catalogue, each once."""
    from bud_checker.engine.catalogue import catalogue
    from bud_checker.engine.contract import read
    from bud_checker.engine.law import current_rules

    shown = read(verdict, catalogue(current_rules()))
    return {source["url"] for source in shown["sources"].values() if source.get("url")}


def test_html_report_has_everything_a_client_needs(check):
    response = check["adviser"].get(check["base"] + "/rapport")
    assert response.status_code == 200
    source = response.get_data(as_text=True)
    text = page_text(source)
    verdict = check["body"]["verdict"]
    assert check["org"] in text
    assert "Boulangerie du Beffroi — SIREN 732 829 320" in text
    assert "Anne Artois" in text
    assert check["body"]["regles_version"] in text and check["body"]["id"] in text
    assert "version en vigueur le 1er janvier 2019" in text
    assert "Résultat : éligible" in text and "Résultat indicatif" in text
    unescaped = html.unescape(source)
    missing = [url for url in _urls(verdict) if url not in unescaped]
    assert not missing, missing
    assert "Références" in text
    assert "css/rapport.css" in source and 'data-print' in source  # print stylesheet and print button
    assert "site-nav" not in source  # a document, not a page of the site


def test_the_print_stylesheet_exists():
    from bud_checker.web.config import REPO_ROOT

    css = (REPO_ROOT / "bud_checker/web/static/css/rapport.css").read_text(encoding="utf-8")
    assert "@page" in css and "@media print" in css and "counter(pages)" in css


def test_pdf_report(pdf):
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert 20_000 < len(pdf) < 2_000_000


def test_pdf_text(check, pdf, tmp_path):
    """The PDF's own text (pdftotext, from poppler-utils, installed by scripts/system-deps)."""
    if shutil.which("pdftotext") is None:
        skip_or_fail("pdftotext is not installed (apt-get install poppler-utils)")
    path = tmp_path / "rapport.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    flat = " ".join(text.split())
    assert check["org"].upper() in flat  # the heading is in capitals
    assert "Boulangerie du Beffroi" in flat and "732 829 320" in flat
    assert check["body"]["regles_version"] in flat
    assert "Page 1 /" in flat and "rapport BUD" in flat
    assert "https://www.legifrance.gouv.fr/codes/article_lc/LEGIARTI000036354541/2019-01-01" in flat.replace(" ", "")
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    assert "A4" in info and f"Author: {check['org']}".replace(" ", "") in info.replace(" ", "")


def test_pdf_can_be_downloaded_as_an_attachment(check):
    response = check["adviser"].get(check["base"] + "/rapport.pdf?telecharger=1")
    assert response.headers["Content-Disposition"].startswith("attachment; filename=rapport-bud-")


def test_weasyprint_reads_only_the_applications_static_files(adv_app):
    from bud_checker.web.pdf import static_fetcher as _static_fetcher

    with adv_app.test_request_context():
        fetcher = _static_fetcher()
        assert b"@page" in fetcher.fetch("http://rapport.invalid/static/css/rapport.css").read()
        for url in ("https://example.com/x.css", "file:///etc/passwd", "http://rapport.invalid/static/../../README.md",
                    "http://rapport.invalid/static/%2e%2e/%2e%2e/README.md"):
            with pytest.raises(ValueError):
                fetcher.fetch(url)


def test_a_report_shows_the_check_as_it_was_computed(world):
    """A stored check keeps its own rules version on its report, whatever today's rules. (Its own check: the
    module's shared one must stay as computed for the other tests, in any order.)"""
    from bud_checker.web.advisers.models import DossierVerification
    from bud_checker.web.extensions import db

    adviser = AdviserClient(world.app, world.a1)
    dossier = adviser.new_dossier("Atelier du Beffroi")
    verification = adviser.new_verification(dossier, DOUAI)
    check = {"adviser": adviser, "base": f"/conseillers/dossiers/{dossier}/verifications/{verification}"}
    with world.app.app_context():
        stored = db.session.get(DossierVerification, verification)
        verdict = dict(stored.verdict)
        verdict["regles_version"] = "anciennes0000000"
        stored.verdict, stored.regles_version = verdict, "anciennes0000000"
        db.session.commit()
    text = page_text(check["adviser"].get(check["base"] + "/rapport").get_data(as_text=True))
    assert "anciennes0000000" in text
