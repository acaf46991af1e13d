"""The map of the zone: the committed bud_checker/web/zone_map.json is what scripts/build_zone_map.py builds from the
outlines of shared/data/geo and the current rules; /zone (map, search, list, without JavaScript) and the small map
of the result page."""

from __future__ import annotations

import importlib.util
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from bud_checker.communes import load_reference
from bud_checker.engine.law import current_rules
from bud_checker.web.security import CONTENT_SECURITY_POLICY
from bud_checker.web.zone_map import MAP_FILE, SOURCE, load_map, small_svg
from conftest import page_text

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "scripts" / "build_zone_map.py"


def _script():
    spec = importlib.util.spec_from_file_location("build_zone_map", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_map_is_what_the_script_builds_from_the_current_rules():
    script = _script()
    if not all((script.DEFAULT_GEO_DIR / name).exists() for name in script.GEO_FILES):
        pytest.skip(f"{script.DEFAULT_GEO_DIR}: the IGN/INSEE outlines are not on this machine")
    built = script.dumps(script.build(script.DEFAULT_GEO_DIR, current_rules()))
    assert MAP_FILE.read_text(encoding="utf-8") == built, "rebuild it: python scripts/build_zone_map.py"


def test_the_classes_of_the_map_are_the_rules_classification():
    """Runs without shared/: the class of every outline is recomputed from the rules and the commune reference."""
    document = json.loads(MAP_FILE.read_text(encoding="utf-8"))
    codes = [c["insee"] for c in document["communes"]]
    expected = _script().classify_codes(codes, current_rules())
    assert {c["insee"]: c["classe"] for c in document["communes"]} == expected
    assert document["source"] == SOURCE == "IGN – Admin Express COG 2018\u00a0; INSEE – COG 2018"


def test_every_listed_commune_is_drawn_in_its_class():
    rules = current_rules()
    zone, reference = load_map(), load_reference()
    assert len(zone.communes) == 1539  # 648 in Nord, 891 in Pas-de-Calais (COG 2018)
    for row in rules.communes_bud.values():
        outlines = zone.outlines_of(reference.get(row.insee).insee)
        assert outlines, row.nom
        assert {c.classe for c in outlines} == {row.liste.id}, row.nom
    counts = Counter(c.classe for c in zone.communes)
    by_list = Counter(row.liste.id for row in rules.communes_bud.values())
    assert counts["arrete_2018"] == by_list["arrete_2018"] == 75
    assert counts["limitrophe_2019"] == by_list["limitrophe_2019"] == 9
    assert counts["candidat_non_source"] == by_list["candidat_non_source"] == 75
    # Every outline is drawn, on both maps, with integer relative path commands only.
    for commune in zone.communes:
        assert re.fullmatch(r"M[-\d ]+(l[-\d ]+z(m[-\d ]+l[-\d ]+z)*)", commune.d), commune.nom
    assert sum(1 for c in zone.communes if not c.d_petite) <= 2  # a speck of a commune may vanish on the small map


def test_zone_page_without_javascript(client):
    response = client.get("/zone")
    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    html = response.get_data(as_text=True)
    text = page_text(html)
    assert "IGN – Admin Express COG 2018 ; INSEE – COG 2018" in text and "Licence Ouverte" in text
    assert html.count('<svg class="zone-map zone-map--large"') == 1
    assert "zone-map__c--here" not in html
    assert not re.search(r"\sstyle=|<style|<script(?![^>]*\ssrc=)", html)
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "") or "localhost" in html
    # The text alternative: every BUD commune is in the list, as a link marking it on the map.
    rules = current_rules()
    for row in rules.communes_bud.values():
        assert f'commune={load_reference().get(row.insee).insee}#carte' in html, row.nom
    assert "Douai" in text and "Liévin" in text and "Bully-les-Mines" in text


def test_find_douai_on_the_map(client):
    html = client.get("/zone?q=douai").get_data(as_text=True)
    text = page_text(html)
    assert "Communes trouvées pour « douai »" in text
    assert "Douai (59) est marquée sur la carte : classée en BUD" in text
    assert html.count("zone-map__c--here") == 1
    assert 'class="zone-map__marker"' in html
    # From the list or a result: the same commune by its code.
    html = client.get("/zone?commune=59178").get_data(as_text=True)
    assert html.count("zone-map__c--here") == 1 and "Douai (59) est marquée" in page_text(html)


def test_zone_search_edge_cases(client):
    text = page_text(client.get("/zone?q=lievn").get_data(as_text=True))
    assert "Liévin (62)" in text and "orthographe proche" in text
    assert "Liévin (62) est marquée" not in text  # a guess is offered, never marked for the user
    text = page_text(client.get("/zone?q=marseille").get_data(as_text=True))
    assert "Hors du Nord et du Pas-de-Calais : pas sur cette carte" in text
    text = page_text(client.get("/zone?q=zzqqxx").get_data(as_text=True))
    assert "Aucune commune trouvée pour « zzqqxx »" in text
    lille = client.get("/zone?q=lille").get_data(as_text=True)
    assert "Lille (59)" in page_text(lille)
    for bad in ("commune=abc", "commune=" + "9" * 500, "commune=13055", "q=" + "a" * 1000, "q=%00"):
        response = client.get("/zone?" + bad)
        assert response.status_code == 200, bad
        assert "zone-map__c--here" not in response.get_data(as_text=True), bad


def test_result_page_shows_the_commune_on_the_small_map(client, douai_commerce):
    saved = client.post("/api/v1/verifications", json=douai_commerce).get_json()
    html = client.get(f"/verifications/{saved['id']}").get_data(as_text=True)
    assert html.count('<svg class="zone-map zone-map--small"') == 1
    assert html.count("zone-map__c--here") == 1
    assert "/zone?commune=59178#carte" in html
    assert len(small_svg("59178", "Douai (59)")) < 60_000  # a small picture, not the whole map
    marseille = client.post("/api/v1/verifications", json={**douai_commerce, "commune_insee": "13055"}).get_json()
    html = client.get(f"/verifications/{marseille['id']}").get_data(as_text=True)
    assert "zone-map--small" not in html
