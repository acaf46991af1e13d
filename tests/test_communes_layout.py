"""The layout of the commune reference file (one commune row per line, scripts/build_communes_reference.py) and
the two ways bud_checker.communes reads it: slice by slice in that layout, keeping each row as its line of text,
and whole in any other layout. Both must give the same reference, the same as the JSON document says."""

from __future__ import annotations

import gzip
import importlib.util
import json
from pathlib import Path

import pytest

from bud_checker import communes
from bud_checker.communes import Commune, CommuneReference, reference_path

REPO = Path(__file__).resolve().parent.parent
COLUMNS = ["insee", "nom", "departement", "codes_postaux", "epci", "epci_nom", "anciens_codes", "population"]


def build_script():
    spec = importlib.util.spec_from_file_location("build_communes_reference",
                                                  REPO / "scripts" / "build_communes_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write(path: Path, text: str) -> Path:
    path.write_bytes(gzip.compress(text.encode("utf-8"), mtime=0))
    return path


def commune_of(row: list, columns: list[str]) -> Commune:
    value = dict(zip(columns, row))
    return Commune(insee=value["insee"], nom=value["nom"], departement=value["departement"],
                   codes_postaux=tuple(value["codes_postaux"]), epci=value["epci"], epci_nom=value["epci_nom"],
                   anciens_codes=tuple(value["anciens_codes"]))


@pytest.fixture(scope="module")
def document() -> dict:
    with gzip.open(reference_path(), "rb") as handle:
        return json.loads(handle.read())


def test_the_committed_file_is_in_the_build_script_layout(document):
    text = gzip.decompress(reference_path().read_bytes()).decode("utf-8")
    assert build_script().render_json(document) == text
    assert '"communes":[\n["75056","Paris","75",' in text


def test_both_layouts_give_what_the_document_says(document, tmp_path):
    lines = CommuneReference()
    whole = CommuneReference(write(tmp_path / "whole.json.gz",
                                   json.dumps(document, ensure_ascii=False, separators=(",", ":"))))
    assert isinstance(lines._rows, communes._RowLines) and isinstance(whole._rows, list)
    columns = document["commune_columns"]
    insee, population, former = (columns.index(name) for name in ("insee", "population", "anciens_codes"))
    assert len(lines) == len(whole) == len(document["communes"])
    for row in document["communes"]:
        expected = commune_of(row, columns)
        assert lines.get(row[insee]) == whole.get(row[insee]) == expected
        assert lines.population(row[insee]) == whole.population(row[insee]) == row[population]
        for code in row[former]:
            assert lines.get(code) == expected and lines.is_former_code(code) and whole.is_former_code(code)
    for query in ("douai", "st amand", "lomme", "59500", "595", "2A004", "paris 15", "e", "zzzz", "75101"):
        assert lines.search(query, limit=20) == whole.search(query, limit=20), query
    assert (lines.source, lines.generated_on) == (whole.source, whole.generated_on) == (document["source"],
                                                                                       document["generated_on"])


SMALL = {
    "format_version": 1,
    "generated_on": "2026-01-01",
    "source": {"package": "test", "version": "0"},
    "commune_columns": COLUMNS,
    "communes": [
        ["59178", "Douai", "59", ["59500"], "200044618", "CA Douaisis Agglo", [], 40000],
        ["59504", "Rœulx", "59", ["59172"], None, None, ["59998", "59999"], 3700],
        ["98735", "Île \\\"de\\\" test, [x]", "987", [], None, None, [], None],
    ],
    "arrondissements_municipaux": [],
    "communes_deleguees_associees": [{"insee": "59999", "nom": "Vieux-Rœulx", "type": "commune-deleguee",
                                      "commune": "59504"}],
}


@pytest.mark.parametrize("slice_bytes", [1, 40, 1 << 16])
@pytest.mark.parametrize("layout", ["lines", "whole", "rows over several lines"])
def test_a_small_file_in_every_layout(tmp_path, monkeypatch, layout, slice_bytes):
    monkeypatch.setattr(communes, "_SLICE_BYTES", slice_bytes)  # rows parsed 1, 2... at a time
    text = build_script().render_json(SMALL)
    if layout == "whole":
        text = json.dumps(SMALL, ensure_ascii=False)
    elif layout == "rows over several lines":  # still JSON, no longer one row per line: read whole
        text = text.replace('"Douai",', '"Douai",\n').replace('3700],\n', '3700],')
    ref = CommuneReference(write(tmp_path / "communes_france.json.gz", text))
    assert isinstance(ref._rows, communes._RowLines) == (layout == "lines")
    assert len(ref) == 3
    for row in SMALL["communes"]:
        assert ref.get(row[0]) == commune_of(row, COLUMNS)
    assert ref.get("98735").nom == 'Île \\"de\\" test, [x]' and ref.get("98735").codes_postaux == ()
    assert ref.population("98735") is None and ref.population("59999") == 3700
    assert ref.get("59998").insee == "59504" and ref.is_former_code("59999")
    assert [c.insee for c in ref.search("vieux")] == ["59504"]
    assert [c.insee for c in ref.search("59")] == ["59178", "59504"]
    assert [c.insee for c in ref.search("de test")] == ["98735"]


def test_no_commune_at_all(tmp_path):
    ref = CommuneReference(write(tmp_path / "c.json.gz", build_script().render_json(
        {**SMALL, "communes": [], "communes_deleguees_associees": []})))
    assert len(ref) == 0 and ref.get("59178") is None and ref.search("douai") == [] and ref.search("59") == []


def test_a_broken_row_is_an_error(tmp_path):
    text = build_script().render_json(SMALL).replace('"Douai",', '"Douai"')
    with pytest.raises(ValueError):
        CommuneReference(write(tmp_path / "c.json.gz", text))
