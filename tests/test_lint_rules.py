"""rules/ is checked against typed models when loaded: `bud-checker lint-rules [DIR]` exits 0 when valid and 2
with one French line naming the file and the key when not."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bud_checker.engine.law import RulesError, load_rules

ROOT = Path(__file__).resolve().parent.parent


def lint(*args):
    return subprocess.run([sys.executable, "-m", "bud_checker.cli", "lint-rules", *map(str, args)],
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def rules_copy(tmp_path):
    target = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", target, ignore=shutil.ignore_patterns("communes_france.json.gz", "tests"))
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_the_rules_of_the_repository_are_valid():
    done = lint()
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Règles valides")
    assert lint(ROOT / "rules").returncode == 0


BROKEN = [
    # (file, old, new, what the message must name)
    ("parameters/taille_et_capital.yaml", "  unite: personnes", "  unitee: personnes",
     ["parameters/taille_et_capital.yaml", "effectif_maximum_exclu", "unitee", "clé inconnue"]),
    ("parameters/taille_et_capital.yaml", "      valeur: 250\n", '      valeur: "250"\n',
     ["parameters/taille_et_capital.yaml", "effectif_maximum_exclu", "valeur", "personnes"]),
    ("parameters/taille_et_capital.yaml", "ref: rgec_annexe_1", "ref: inconnue",
     ["parameters/taille_et_capital.yaml", "référence inconnue", "inconnue"]),
    ("parameters/periode_creation.yaml", "    - depuis: 2018-01-01", "    - depuis: 2018-13-01",
     ["parameters/periode_creation.yaml", "valeur impossible"]),
    ("conditions.yaml", "  confiance: V", "  confiance: X", ["conditions.yaml", "periode_creation", "confiance"]),
    ("references.yaml", "  texte: \"CGI, art. 44 sexdecies\"", "  txt: \"x\"",
     ["references.yaml", "cgi_44_sexdecies"]),
    ("versions.yaml", "    texte_modificateur: lfr_2017_art_17", "    texte_modificateur: loi_inconnue",
     ["versions.yaml", "texte_modificateur", "loi_inconnue"]),
    ("situation.yaml", "    conditions: [creation_nouvelle]", "    conditions: [creation_nouvele]",
     ["situation.yaml", "origine", "conditions", "creation_nouvele"]),
    ("situation.yaml", "    type: booleen\n", "    type: oui_non\n", ["situation.yaml", "type"]),
    ("situation.yaml", "Le régime est réservé aux PME : moins de {effectif_maximum_exclu}",
     "Le régime est réservé aux PME : moins de {effectif_max}", ["situation.yaml", "effectif", "effectif_max"]),
    ("communes/listes.yaml", "    categorie: originale", "    categorie: originelle",
     ["communes/listes.yaml", "categorie"]),
]


@pytest.mark.parametrize("fichier, old, new, named", BROKEN, ids=[f"{b[0]}:{b[3][-1]}" for b in BROKEN])
def test_a_broken_file_is_named_with_its_key(rules_copy, fichier, old, new, named):
    edit(rules_copy / fichier, old, new)
    done = lint(rules_copy)
    assert done.returncode == 2, done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Erreur\u00a0: "), done.stderr
    for word in named:
        assert word in lines[0], lines[0]
    assert "Traceback" not in done.stderr
    with pytest.raises(RulesError):
        load_rules(rules_copy)


def test_invalid_yaml_and_missing_directory(rules_copy, tmp_path):
    (rules_copy / "conditions.yaml").write_text("periode_creation: [\n", encoding="utf-8")
    done = lint(rules_copy)
    assert done.returncode == 2 and "conditions.yaml\u00a0: YAML invalide" in done.stderr
    done = lint(tmp_path / "absent")
    assert done.returncode == 2 and "introuvable" in done.stderr
