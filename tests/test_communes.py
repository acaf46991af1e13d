"""The national reference of communes (bud_checker.communes) on the real data file."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from bud_checker.communes import Commune, CommuneReference, load_reference, normalize, reference_path


@pytest.fixture(scope="module")
def ref() -> CommuneReference:
    return load_reference()


def codes(communes: list[Commune]) -> list[str]:
    return [c.insee for c in communes]


# -- the data file ------------------------------------------------------------


def test_file_header_size_and_content():
    path = reference_path()
    assert path.name == "communes_france.json.gz"
    assert path.stat().st_size < 3_000_000  # a few MB at most
    with gzip.open(path, "rb") as handle:
        data = json.loads(handle.read())
    assert data["source"]["package"] == "@etalab/decoupage-administratif"
    assert data["source"]["version"] == "6.0.0"
    assert "Licence Ouverte" in data["source"]["licence"]
    assert data["source"]["integrity"].startswith("sha512-")
    assert len(data["generated_on"]) == 10
    columns = data["commune_columns"]
    assert columns[:7] == ["insee", "nom", "departement", "codes_postaux", "epci", "epci_nom", "anciens_codes"]
    assert "population" in columns
    rows = data["communes"]
    insee = [row[columns.index("insee")] for row in rows]
    assert len(insee) == len(set(insee)) > 34_000
    # Rows come in ranking order: population descending, then INSEE code.
    keys = [(-(row[columns.index("population")] or 0), row[columns.index("insee")]) for row in rows]
    assert keys == sorted(keys)
    assert {a["insee"] for a in data["arrondissements_municipaux"]} >= {"75101", "75120", "69381", "13201"}


def test_reference_size_and_types(ref):
    assert 34_000 < len(ref) < 36_000
    douai = ref.get("59178")
    assert isinstance(douai, Commune)
    assert isinstance(douai.codes_postaux, tuple) and isinstance(douai.anciens_codes, tuple)
    with pytest.raises(AttributeError):
        douai.nom = "Autre"  # frozen


def test_load_reference_is_cached():
    assert load_reference() is load_reference()


# -- Douai --------------------------------------------------------------------


def test_douai_by_code(ref):
    douai = ref.get("59178")
    assert douai is not None
    assert douai.insee == "59178"
    assert douai.nom == "Douai"
    assert douai.departement == "59"
    assert douai.codes_postaux == ("59500",)
    assert douai.epci == "200044618"
    assert douai.epci_nom == "CA Douaisis Agglo"
    assert ref.is_former_code("59178") is False
    assert ref.get(" 59178 ") == douai


@pytest.mark.parametrize("query", ["Douai", "douai", "DOUAI", "  Douai  ", "Doùai"])
def test_douai_by_name(ref, query):
    results = ref.search(query)
    assert results, query
    assert results[0].insee == "59178"
    assert results[0].nom == "Douai"


def test_douai_by_postal_code(ref):
    results = ref.search("59500")
    assert results[0].insee == "59178"
    # Every result has the postal code 59500, except the commune whose INSEE code
    # is 59500 (Ribécourt-la-Tour), which comes after the postal code matches.
    for commune in results:
        assert "59500" in commune.codes_postaux or commune.insee == "59500"
    assert results[-1].insee == "59500" and results[-1].nom == "Ribécourt-la-Tour"
    assert ref.search("59 500")[0].insee == "59178"


def test_postal_code_shared_by_several_communes(ref):
    results = ref.search("59310")
    assert len(results) > 5
    assert all("59310" in c.codes_postaux for c in results)
    assert "59526" not in codes(results)


def test_ranking_prefix_then_word_prefix_then_substring(ref):
    found = codes(ref.search("douai"))
    douains, lambres = found.index("27203"), found.index("59329")  # Douains, Lambres-lez-Douai
    assert found[0] == "59178" and douains < lambres
    found = codes(ref.search("lens", limit=20))
    assert found[0] == "62498"  # Lens, exact
    assert found.index("26162") < found.index("62628")  # Lens-Lestang (prefix) < Noyelles-sous-Lens
    # Substring matches come last ("valenciennes" contains "lenc").
    assert "59606" in codes(ref.search("lenciennes"))


def test_ties_are_ranked_by_population(ref):
    results = ref.search("sainte marie", limit=10)
    assert all(c.nom == "Sainte-Marie" for c in results[:5])
    populations = [ref.population(c.insee) or 0 for c in results if c.nom == "Sainte-Marie"]
    assert populations == sorted(populations, reverse=True)
    big = [ref.population(c.insee) or 0 for c in ref.search("a", limit=10)]
    assert big == sorted(big, reverse=True) and big[0] > 100_000


# -- accents, ligatures, saint/st ----------------------------------------------


@pytest.mark.parametrize("query", ["Liévin", "lievin", "LIEVIN", "Lievin"])
def test_lievin(ref, query):
    assert ref.search(query)[0].insee == "62510"


@pytest.mark.parametrize("query", ["st amand", "St-Amand", "saint amand", "Saint-Amand"])
def test_saint_amand_les_eaux_via_st(ref, query):
    found = codes(ref.search(query))
    assert "59526" in found, query


@pytest.mark.parametrize(
    "query", ["Saint-Amand-les-Eaux", "st amand les eaux", "ST-AMAND-LES-EAUX", "saint amand les", "st amand l"]
)
def test_saint_amand_les_eaux_first(ref, query):
    assert ref.search(query)[0].insee == "59526", query


def test_st_alone_still_finds_strasbourg_and_saints(ref):
    found = ref.search("st", limit=10)
    assert "67482" in codes(found)  # Strasbourg
    assert any(c.nom.startswith("Saint-") for c in found)
    assert all(c.nom.startswith("Sainte") for c in ref.search("ste", limit=5))


@pytest.mark.parametrize("query", ["Rœulx", "roeulx", "ROEULX", "Rœulx "])
def test_roeulx(ref, query):
    results = ref.search(query)
    assert results[0].insee == "59504"
    assert results[0].nom == "Rœulx"


def test_apostrophes_and_hyphens(ref):
    assert ref.search("L'Abergement-Clémenciat")[0].insee == "01001"
    assert ref.search("l abergement clemenciat")[0].insee == "01001"
    assert "01001" in codes(ref.search("labergement clem"))
    assert ref.search("villeneuve d'ascq")[0].insee == "59009"
    assert ref.search("Villeneuve-d’Ascq")[0].insee == "59009"  # typographic apostrophe


def test_normalize():
    assert normalize("L'Abergement-Clémenciat") == "l abergement clemenciat"
    assert normalize("Rœulx") == "roeulx"
    assert normalize("ŒUILLY  Æ") == "oeuilly ae"
    assert normalize(" Saint–Étienne-du-Rouvray ") == "saint etienne du rouvray"
    assert normalize("Paris 15e") == "paris 15e"
    assert normalize("") == ""
    assert normalize("-'()") == ""


# -- former codes, arrondissements, Corsica -------------------------------------


def test_commune_nouvelle_former_codes(ref):
    # Cherbourg-en-Cotentin (50129), commune nouvelle of 1 January 2016.
    cherbourg = ref.get("50129")
    assert cherbourg.nom == "Cherbourg-en-Cotentin"
    for former in ("50173", "50203", "50416", "50602"):  # Équeurdreville-Hainneville, La Glacerie, ...
        assert former in cherbourg.anciens_codes
        assert ref.is_former_code(former) is True
        assert ref.get(former) == cherbourg
    assert ref.is_former_code("50129") is False
    # Téteghem-Coudekerque-Village (59588), 2016: Coudekerque-Village was 59154.
    assert ref.get("59154").insee == "59588"
    assert ref.is_former_code("59154")
    # Lille: Lomme and Hellemmes, associated communes.
    assert ref.get("59355").nom == "Lille" and ref.get("59298").nom == "Lille"
    # Search by a former code gives the current commune.
    assert codes(ref.search("50173")) == ["50129"]


def test_former_names_lead_to_current_commune(ref):
    assert "59350" in codes(ref.search("Lomme", limit=3))
    assert ref.search("Hellemmes")[0].insee == "59350"
    assert ref.search("Équeurdreville")[0].insee == "50129"


def test_current_status_wins_over_package_history(ref):
    # 55273 Lamarche-en-Woëvre is listed in the history of 55245 but is today
    # associated with Nonsard-Lamarche (55386).
    assert ref.get("55273").insee == "55386"
    assert "55273" not in ref.get("55245").anciens_codes


def test_corsica(ref):
    ajaccio = ref.get("2A004")
    assert ajaccio is not None
    assert ajaccio.nom == "Ajaccio"
    assert ajaccio.departement == "2A"
    assert "20000" in ajaccio.codes_postaux
    assert ref.get("2a004") == ajaccio
    assert codes(ref.search("2A004")) == ["2A004"]
    assert codes(ref.search("2a004")) == ["2A004"]
    assert ref.search("ajaccio")[0] == ajaccio
    assert ref.search("20000")[0] == ajaccio
    # Corsican codes before 1976 (department 20) resolve too.
    assert ref.is_former_code("20004") and ref.get("20004") == ajaccio
    assert ref.get("2B033").nom == "Bastia"


def test_arrondissements_municipaux(ref):
    paris = ref.get("75056")
    assert paris.nom == "Paris"
    assert ref.get("75101") == paris
    assert ref.get("75120") == paris
    assert ref.is_former_code("75101") is False
    assert ref.get("69381").nom == "Lyon"
    assert ref.get("13201").nom == "Marseille"
    assert "75001" in paris.codes_postaux and "75116" in paris.codes_postaux
    assert ref.search("75001")[0] == paris
    assert ref.search("75101")[0] == paris
    assert ref.search("paris")[0] == paris
    assert ref.search("paris 15")[0] == paris  # "Paris 15e Arrondissement"


# -- unknown and degenerate input --------------------------------------------


@pytest.mark.parametrize("code", ["99999", "00000", "2C004", "", "   ", "abc", "591780", "75"])
def test_unknown_code_returns_none(ref, code):
    assert ref.get(code) is None
    assert ref.is_former_code(code) is False


def test_leading_zero_lost_by_a_spreadsheet(ref):
    assert ref.get("1001") == ref.get("01001")


@pytest.mark.parametrize("query", ["", "   ", "-", "' - '", "\t\n"])
def test_empty_query_returns_nothing(ref, query):
    assert ref.search(query) == []


def test_no_match_and_limits(ref):
    assert ref.search("zzzzqxw") == []
    assert ref.search("6") == []
    assert ref.search("123456") == []
    assert ref.search("douai", limit=0) == []
    assert len(ref.search("a", limit=3)) == 3
    assert len(ref.search("saint", limit=50)) == 50
    assert len(ref.search("a")) == 10


def test_postal_code_prefix(ref):
    results = ref.search("595")
    assert len(results) == 10
    assert all(any(cp.startswith("595") for cp in c.codes_postaux) for c in results)
    assert "59178" in codes(results)  # Douai, the most populated of 595xx
    results = ref.search("59", limit=3)
    assert codes(results) == ["59350", "59599", "59512"]  # Lille, Tourcoing, Roubaix
    assert ref.search("6280")[0].insee == "62510"  # Liévin, 62800


# -- configuration ------------------------------------------------------------


def test_rules_dir_override(tmp_path, monkeypatch):
    data = {
        "format_version": 1,
        "generated_on": "2026-01-01",
        "source": {"package": "test", "version": "0"},
        "commune_columns": [
            "insee", "nom", "departement", "codes_postaux", "epci", "epci_nom", "anciens_codes", "population"
        ],
        "communes": [
            ["59178", "Douai", "59", ["59500"], "200044618", "CA Douaisis Agglo", [], 40000],
            ["59504", "Rœulx", "59", ["59172"], None, None, ["59999"], 3700],
        ],
        "arrondissements_municipaux": [],
        "communes_deleguees_associees": [{"insee": "59999", "nom": "Vieux-Rœulx", "type": "commune-deleguee",
                                          "commune": "59504"}],
    }  # fmt: skip
    target = tmp_path / "communes" / "communes_france.json.gz"
    target.parent.mkdir()
    target.write_bytes(gzip.compress(json.dumps(data).encode("utf-8")))
    monkeypatch.setenv("BUD_RULES_DIR", str(tmp_path))
    assert reference_path() == target
    small = CommuneReference()
    assert len(small) == 2
    assert small.get("59999").nom == "Rœulx" and small.is_former_code("59999")
    assert small.get("59504").epci is None
    assert codes(small.search("roeulx")) == ["59504"]
    assert codes(small.search("vieux")) == ["59504"]
    assert codes(small.search("59")) == ["59178", "59504"]
    monkeypatch.delenv("BUD_RULES_DIR")
    assert reference_path() == Path(__file__).resolve().parent.parent / "rules" / "communes" / target.name


def test_unsupported_format_is_refused(tmp_path):
    path = tmp_path / "communes_france.json.gz"
    path.write_bytes(gzip.compress(b'{"format_version": 99}'))
    with pytest.raises(ValueError, match="non pris en charge"):
        CommuneReference(path)
