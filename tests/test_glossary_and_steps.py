"""The glossary (/glossaire, rules/glossaire.yaml, <abbr> on first use) and «Étape N sur M» in the form, without
JavaScript (the Flask test client)."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlparse

import yaml

from bud_checker.engine.law import current_rules
from bud_checker.web.security import CONTENT_SECURITY_POLICY
from conftest import page_text

OFFICIAL = ("legifrance.gouv.fr", "service-public.fr", "impots.gouv.fr", "insee.fr", "eur-lex.europa.eu",
            "sig.ville.gouv.fr")


def test_the_glossary_page(client):
    response = client.get("/glossaire")
    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    html = response.get_data(as_text=True)
    for sigle in ("CFE", "TFPB", "CVAE", "EPCI", "SIE", "BIC", "BNC", "QPV", "PME", "SIREN", "BUD", "CGI"):
        assert re.search(rf'<dfn><abbr title="[^"]+">{sigle}</abbr></dfn>', html), sigle
        assert f'id="{sigle.lower()}"' in html, sigle
    text = page_text(html)
    assert "Rescrit" in text
    assert "{" not in text  # every placeholder filled from the rules


def test_every_entry_cites_an_official_source_and_no_threshold_is_written_twice(app):
    rules = current_rules()
    raw = yaml.safe_load((rules.directory / "glossaire.yaml").read_text(encoding="utf-8"))
    for item in raw["termes"]:
        assert item.get("sources"), item
        for source in item["sources"]:
            url = rules.sources[source["ref"]].url if "ref" in source else source["url"]
            host = urlparse(url).hostname or ""
            assert url.startswith("https://") and any(host == d or host.endswith("." + d) for d in OFFICIAL), url
        # Figures of the law come from rules/parameters (placeholders), never written in a definition.
        law_figure = r"\b(19|20)\d\d\b|\d[\d\s\u202f]*(€|%|personnes|mois|salariés|millions|ans)"
        assert not re.search(law_figure, item["definition"]), item
    with app.test_request_context():
        from bud_checker.web.glossary import entries

        pme = next(e for e in entries() if e.sigle == "PME")
        today = dt.date.today()
        assert f"moins de {rules.value('effectif_maximum_exclu', today).valeur}" in pme.definition


def test_abbreviations_are_marked_on_first_use_only(client, douai_commerce):
    html = client.get("/").get_data(as_text=True)
    assert '<abbr title="bassin urbain à dynamiser">BUD</abbr>' in html
    assert 'href="/glossaire"' in html
    saved = client.post("/api/v1/verifications", json=douai_commerce).get_json()
    html = client.get(f"/verifications/{saved['id']}").get_data(as_text=True)
    assert '<span class="pill pill--ok pill--large">' in html  # the verdict's colour class (presentation.verdict_view)
    marked = re.findall(r'<abbr title="cotisation foncière des entreprises">CFE</abbr>', html)
    assert len(marked) == 1  # the first use; later ones are plain text
    assert page_text(html).count("CFE") > 3  # used again further down, unmarked
    # Outside a <summary> the first use links to its entry of the glossary.
    assert re.search(r'<a class="gloss" href="/glossaire#cfe"><abbr', html) or \
        re.search(r"<summary>[^<]*<h\d[^>]*>[^<]*<abbr title=\"cotisation foncière", html)


def _title(html: str) -> str:
    return page_text(re.search(r"<title>(.*?)</title>", html, re.S).group(1))


def test_step_n_of_m_for_a_shop_in_douai(flow):
    assert "Étape 1 sur 5" in page_text(flow.html)
    assert "autofocus" not in re.search(r'<h2 class="step-title"[^>]*>', flow.html).group(0)
    flow.submit({"date_creation": "14/05/2019", "commune": "Douai"})
    assert flow.group == "activite"
    heading = re.search(r'<h1 class="step-title"[^>]*>(.*?)</h1>', flow.html, re.S)
    assert 'tabindex="-1" autofocus' in heading.group(0)  # the focus goes to the new step's heading
    assert page_text(heading.group(1)) == "Étape 2 sur 5 Votre activité"
    assert _title(flow.html).startswith("Étape 2 sur 5 : Votre activité")
    flow.submit({"activite": "commerciale", "origine": "creation_pure"})
    assert "Étape 3 sur 5" in page_text(flow.html)
    flow.submit({"non_sedentaire": "non", "siege_dans_zone": "oui", "activite_et_moyens_dans_zone": "oui"})
    assert "Étape 4 sur 5" in page_text(flow.html)
    # The turnover unknown: the total of the balance sheet is asked, and the count grows by one.
    flow.submit({"effectif": "3", "chiffre_affaires_nsp": "y", "capital_detenu_par_societes_pct": "0"})
    assert flow.group == "bilan"
    assert "Étape 5 sur 6" in page_text(flow.html)
    flow.submit({"total_bilan": "90000"})
    assert flow.group == "salaries" and "Étape 6 sur 6" in page_text(flow.html)
    flow.submit({"salaries_eligibles": "2", "salaries_eligibles_residents_bud": "2"})
    assert flow.group == "echeancier"
    text = page_text(flow.html)
    assert "Étape facultative" in text and "Étape 7" not in text
    assert 'id="conclusion-titre" tabindex="-1" autofocus' in flow.html  # decided: the focus on the conclusion


def test_errors_keep_the_focus_on_the_error_summary(flow):
    flow.submit({"date_creation": "14/05/2019", "commune": "Douai"})
    flow.submit({"activite": "", "origine": "creation_pure"})
    assert flow.response.status_code == 422
    assert flow.html.count("autofocus") == 1
    assert re.search(r'class="error-summary"[^>]*autofocus', flow.html)
    assert "Étape 2 sur 5" in page_text(flow.html)


def test_editing_a_step_shows_no_count(flow):
    flow.submit({"date_creation": "14/05/2019", "commune": "Douai"})
    flow.submit(action="modifier:entreprise")
    assert "Étape" not in page_text(re.search(r'<form class="step-form".*?</form>', flow.html, re.S).group(0))
