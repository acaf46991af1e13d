"""The map of the BUD zone, drawn as inline SVG from `zone_map.json` (built by scripts/build_zone_map.py from the
IGN/INSEE outlines of 2018 and the project's rules; nothing is fetched at run time, from shared/ or elsewhere).

Colours are classes (`zone-map__c--<classe>`, in static/css/app.css): the pages carry no inline style, as the
Content-Security-Policy requires. The large map (`/zone`) draws every commune of Nord and Pas-de-Calais; the
small one (result page) draws the basin, widened to take in the user's commune, with that commune marked.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from markupsafe import Markup, escape

from ..communes import load_reference
from ..engine.law import Rules, current_rules

MAP_FILE = Path(__file__).resolve().parent / "zone_map.json"
OUTLINES_VINTAGE = "2018"  # the vintage of the outlines (shared/data/geo), a data attribution, not law
SOURCE = "IGN – Admin Express COG {millesime}\u00a0; INSEE – COG {millesime}".format(millesime=OUTLINES_VINTAGE)
# The classes of the map, in the legend's order, with their legend (the list ids come from rules/communes/).
LEGEND = (
    ("arrete_2018", "Classée en BUD par {acte}"),
    ("limitrophe_2019", "Commune limitrophe classée par {acte}"),
    ("candidat_non_source",
     "Pas-de-Calais\u00a0: dans le périmètre officiel du BUD, présence dans l'arrêté à confirmer"),
    ("en_partie", "En partie : absorbe une ancienne commune classée"),
    ("hors_zone_a_confirmer",
     "Hors des listes, dans une intercommunalité dont la liste n'a pu être lue\u00a0: à confirmer"),
    ("hors_zone", "Hors zone"),
)
BASIN_CLASSES = ("arrete_2018", "limitrophe_2019", "candidat_non_source")


@dataclass(frozen=True)
class MapCommune:
    insee: str  # the 2018 code of the outline
    nom: str
    classe: str
    d: str
    d_petite: str
    x: float
    y: float
    bbox: tuple[int, int, int, int]


@dataclass(frozen=True)
class ZoneMap:
    width: int
    height: int
    communes: tuple[MapCommune, ...]
    by_current_code: dict[str, tuple[MapCommune, ...]]  # a current INSEE code -> the outlines of 2018 it covers

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys((key for key, _ in LEGEND), 0)
        for commune in self.communes:
            counts[commune.classe] = counts.get(commune.classe, 0) + 1
        return counts

    def outlines_of(self, insee: str | None) -> tuple[MapCommune, ...]:
        return self.by_current_code.get(insee or "", ())


@functools.cache
def load_map() -> ZoneMap:
    document = json.loads(MAP_FILE.read_text(encoding="utf-8"))
    communes = tuple(MapCommune(c["insee"], c["nom"], c["classe"], c["d"], c["d_petite"], c["x"], c["y"],
                                tuple(c["bbox"])) for c in document["communes"])
    reference = load_reference()
    by_code: dict[str, list[MapCommune]] = {}
    for commune in communes:
        current = reference.get(commune.insee)
        by_code.setdefault(current.insee if current else commune.insee, []).append(commune)
    return ZoneMap(document["largeur"], document["hauteur"], communes, {k: tuple(v) for k, v in by_code.items()})


# The colours of app.css («The map of the zone») again as presentation attributes, for renderers that do not
# apply the page's stylesheet to an inline SVG (WeasyPrint, for the public PDF); on the site the stylesheet's
# rules take precedence over them. Keep both in step.
PAINT = {
    "arrete_2018": "#1a6b3a", "limitrophe_2019": "#7cc28a", "candidat_non_source": "url(#zone-hachures)",
    "en_partie": "#b7dcbf", "hors_zone_a_confirmer": "#d8d0ea", "hors_zone": "#e3e7ec",
}
MARKER_PAINT = 'fill="#a1231b" stroke="#ffffff" stroke-width="2"'
HALO_PAINT = 'fill="none" stroke="#a1231b" stroke-width="2"'


def _paint(key: str, here: bool = False) -> str:
    stroke = 'stroke="#000000" stroke-width="2.5"' if here else 'stroke="#ffffff" stroke-width="0.6"'
    return f'fill="{PAINT.get(key, "#e3e7ec")}" fill-rule="evenodd" stroke-linejoin="round" {stroke}'


def _marker(outlines: tuple[MapCommune, ...], radius: float) -> str:
    if not outlines:
        return ""
    main = max(outlines, key=lambda c: (c.bbox[2] - c.bbox[0]) * (c.bbox[3] - c.bbox[1]))
    return (f'<circle class="zone-map__marker-halo" cx="{main.x}" cy="{main.y}" r="{radius * 1.6:g}" {HALO_PAINT}/>'
            f'<circle class="zone-map__marker" cx="{main.x}" cy="{main.y}" r="{radius:g}" {MARKER_PAINT}/>')


# The hatching of «à confirmer» (colour alone must not carry the difference), in presentation attributes; its id is
# the one app.css names. One map per page.
DEFS = ('<defs><pattern id="zone-hachures" width="5" height="5" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="5" height="5" fill="#f2b45a"/>'
        '<rect width="1.6" height="5" fill="#8a5300"/></pattern></defs>')


def _view_box(zone: ZoneMap, outlines: tuple[MapCommune, ...], margin: int) -> tuple[int, int, int, int]:
    """The basin's box widened to the communes `outlines`, with `margin` around, kept within the map."""
    boxes = [c.bbox for c in zone.communes if c.classe in BASIN_CLASSES] + [c.bbox for c in outlines]
    x0 = max(0, min(b[0] for b in boxes) - margin)
    y0 = max(0, min(b[1] for b in boxes) - margin)
    x1 = min(zone.width, max(b[2] for b in boxes) + margin)
    y1 = min(zone.height, max(b[3] for b in boxes) + margin)
    return x0, y0, x1, y1


def _svg(here: str | None, *, detail: str, margin: int, size: str, head: str, titles: bool, radius: float) -> Markup:
    zone = load_map()
    outlines = zone.outlines_of(here)
    x0, y0, x1, y1 = _view_box(zone, outlines, margin)
    marked = {c.insee for c in outlines}
    parts = [f'<svg class="zone-map zone-map--{size}" viewBox="{x0} {y0} {x1 - x0} {y1 - y0}" role="img" ', head,
             DEFS]
    # One group per class (the class, and so the colour, is set once); the marked commune last, on top.
    by_class: dict[str, list[str]] = {}
    on_top = []
    for c in zone.communes:
        bx0, by0, bx1, by1 = c.bbox
        path = getattr(c, detail)
        if bx1 < x0 or by1 < y0 or bx0 > x1 or by0 > y1 or not path:
            continue
        element = f'<path d="{path}"><title>{escape(c.nom)}</title></path>' if titles else f'<path d="{path}"/>'
        by_class.setdefault(c.classe, []).append(element)
        if c.insee in marked:
            on_top.append((c.classe, element))
    for key, _ in LEGEND:
        if by_class.get(key):
            parts.append(f'<g class="zone-map__c zone-map__c--{key}" {_paint(key)}>{"".join(by_class[key])}</g>')
    for key, element in on_top:
        parts.append(f'<g class="zone-map__c zone-map__c--{key} zone-map__c--here" {_paint(key, True)}>{element}</g>')
    parts.append(_marker(outlines, radius))
    parts.append("</svg>")
    return Markup("".join(parts))


@functools.lru_cache(maxsize=512)
def large_svg(here: str | None = None) -> Markup:
    """The basin and its surroundings in Nord and Pas-de-Calais, widened to take in `here` (a current INSEE
    code), marked. Each commune carries its name as a tooltip."""
    zone = load_map()
    head = ('aria-labelledby="carte-titre carte-desc" xmlns="http://www.w3.org/2000/svg">'
            '<title id="carte-titre">Carte des communes classées en bassin urbain à dynamiser, dans le Nord et le '
            'Pas-de-Calais</title>'
            f'<desc id="carte-desc">{escape(_description(zone))} La liste des communes, après la carte, en donne '
            'le même contenu.</desc>')
    return _svg(here, detail="d", margin=40, size="large", head=head, titles=True, radius=6)


@functools.lru_cache(maxsize=512)
def small_svg(here: str | None, label: str) -> Markup | None:
    """The basin, widened to the user's commune `here` and marking it; None when `here` is not in Nord or
    Pas-de-Calais (the map would not show it). `label`: the commune's name, for the picture's text."""
    if not load_map().outlines_of(here):
        return None
    head = (f'aria-labelledby="carte-mini-titre" xmlns="http://www.w3.org/2000/svg">'
            f"<title id=\"carte-mini-titre\">{escape(label)}, marquée d'un point rouge sur la carte du bassin urbain à "
            'dynamiser</title>')
    return _svg(here, detail="d_petite", margin=12, size="small", head=head, titles=False, radius=6)


def _description(zone: ZoneMap) -> str:
    counts = zone.counts()
    listes = current_rules().listes
    return (f"{counts['arrete_2018']} communes classées par {listes['arrete_2018'].acte} (Nord), "
            f"{counts['limitrophe_2019']} communes limitrophes classées par {listes['limitrophe_2019'].acte} et "
            f"{counts['candidat_non_source']} communes du Pas-de-Calais à confirmer, dans le bassin minier qui va "
            "de Béthune et Lens à Douai, Valenciennes et Denain.")


def legend(rules: Rules) -> list[dict[str, str]]:
    """The legend's entries, the acts that classified each list named from rules/communes/listes.yaml."""
    return [{"id": key, "label": label.format(acte=rules.listes[key].acte) if key in rules.listes else label}
            for key, label in LEGEND]


def basin_list(rules: Rules) -> list[dict[str, Any]]:
    """The text alternative of the map: the communes of each BUD list, by department then name."""
    from ..communes import normalize

    reference = load_reference()
    groups = []
    for entry in legend(rules)[:3]:
        key = entry["id"]
        rows = []
        for row in rules.communes_bud.values():
            if row.liste.id != key:
                continue
            commune = reference.get(row.insee)
            rows.append({"insee": commune.insee if commune else row.insee, "nom": commune.nom if commune else row.nom,
                         "departement": row.departement, "a_confirmer": row.confiance.a_confirmer,
                         "confiance": row.confiance.libelle, "cle": normalize(commune.nom if commune else row.nom)})
        rows.sort(key=lambda r: (r["departement"], r["cle"]))
        confidences: dict[str, int] = {}
        for row in rules.communes_bud.values():
            if row.liste.id == key:
                confidences[row.confiance.libelle] = confidences.get(row.confiance.libelle, 0) + 1
        sources = ("Sources\u00a0: "
                   + "\u00a0; ".join(f"{label} ({count})" for label, count in confidences.items()) + ".")
        groups.append({"id": key, "legende": entry["label"], "communes": rows, "sources": sources})
    zone = load_map()
    others = sorted(({"insee": c.insee, "nom": c.nom, "departement": c.insee[:2], "cle": normalize(c.nom),
                      "a_confirmer": True, "confiance": ""}
                     for c in zone.communes if c.classe == "hors_zone_a_confirmer"),
                    key=lambda r: (r["departement"], r["cle"]))
    if others:
        groups.append({"id": "hors_zone_a_confirmer", "legende": LEGEND[4][1], "communes": others,
                       "sources": "Ces communes ne figurent sur aucune liste lue : la liste de leur intercommunalité "
                                  "est incomplète. Faites confirmer leur situation par le service des impôts des "
                                  "entreprises."})
    return groups
