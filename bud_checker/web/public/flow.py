"""Which question to ask next: the engine decides.

After each step the answers so far are evaluated. While the verdict is «à confirmer» for want of facts the
user has not been asked yet, the next step is the first group holding one of those facts (the engine names
them in `informations_manquantes` with the conditions they decide). Once no such fact is left, the verdict is
decided: a «non éligible» needs nothing more; otherwise the remaining questions only refine the schedules
and are offered as an optional step, followed by the optional figures of the savings estimate
(«Estimer vos économies»). Facts answered «je ne sais pas» are never asked again.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, Mapping

from ...engine.catalogue import catalogue
from ...engine.contract import read
from ...engine.law import current_rules
from ...engine.situation import SCHEMA
from ...engine.verdict import ELIGIBLE, INDETERMINE, NON_ELIGIBLE, evaluate
from .forms import DEPENDS_ON, GROUPS, GROUPS_BY_ID, Group

FIRST = GROUPS[0]


@dataclass
class Step:
    """What to show next. `group` is None when nothing is left to ask (`verdict` is then final)."""

    group: Group | None
    keys: list[str] = field(default_factory=list)
    verdict: dict[str, Any] | None = None

    @property
    def decided(self) -> bool:
        """True when the answers still to give cannot change the verdict."""
        return self.verdict is not None and (self.group is None or self.group.echeancier)

    @property
    def finished(self) -> bool:
        return self.group is None


def situation_of(etat: Mapping[str, Any]) -> dict[str, Any]:
    """The situation for the engine: the known answers (null means «je ne sais pas», i.e. absent)."""
    return {key: value for key, value in etat.items() if value is not None}


def _relevant_schedule_keys(group: Group, etat: Mapping[str, Any]) -> list[str]:
    # A field with `si` in rules/situation.yaml (e.g. the share of turnover outside the zone) is asked only
    # when those answers were given (a non-sedentary activity).
    return [key for key in group.keys if key not in etat and SCHEMA[key].asked(etat)]


def _waits(key: str, pending: list[str], etat: Mapping[str, Any]) -> bool:
    """A dependent question (resident hires) waits for the one it depends on (hires), and is not asked when that
    one was answered «je ne sais pas» (nothing to count) — nor, by the engine, when it was 0."""
    parent = DEPENDS_ON.get(key)
    return parent is not None and (parent in pending or (parent in etat and etat[parent] is None))


def next_step(etat: Mapping[str, Any]) -> Step:
    """The next step for the answers `etat` (raises `SituationError` if they are invalid)."""
    if "date_creation" not in etat or etat.get("date_creation") is None:
        return Step(FIRST, list(FIRST.keys))
    verdict = _full_verdict(situation_of(etat))
    if verdict["statut"] == INDETERMINE:
        deciding = [m["champ"] for m in verdict["informations_manquantes"] if m["conditions"]]
        pending = [key for key in deciding if key not in etat]
        for group in GROUPS:
            keys = [key for key in group.keys if key in pending and not _waits(key, pending, etat)]
            if keys:
                return Step(group, keys, verdict)
    if verdict["statut"] == NON_ELIGIBLE:
        return Step(None, [], verdict)
    assert verdict["statut"] in (ELIGIBLE, INDETERMINE)
    schedule = GROUPS_BY_ID["echeancier"]
    keys = _relevant_schedule_keys(schedule, etat)
    if keys:
        return Step(schedule, keys, verdict)
    savings = GROUPS_BY_ID["economies"]
    keys = [key for key in savings.keys if key not in etat]
    if keys:
        return Step(savings, keys, verdict)
    return Step(None, [], verdict)


def undecided_facts(verdict: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The facts that would decide a verdict still «à confirmer»."""
    return [m for m in verdict.get("informations_manquantes", []) if m.get("conditions")]


@dataclass(frozen=True)
class Position:
    """«Étape `number` sur `total`»: the steps answered, this one, and the steps that may still come."""

    number: int
    total: int


def step_position(etat: Mapping[str, Any], step: Step) -> Position | None:
    """Where `step` stands in the form, or None for the optional last step (it refines, never decides).

    The total counts the groups still holding a fact that could decide the verdict, but not a group whose
    conditions an earlier pending group may already settle (the total of the balance sheet after the turnover,
    the hiring clause after the employment clause): such a group is asked only if needed, and the total then
    grows by one."""
    group = step.group
    if group is None or group.echeancier:
        return None
    done = [g for g in GROUPS if g is not group and not g.echeancier and any(key in etat for key in g.keys)]
    verdict = step.verdict
    if verdict is None:  # the first step: the facts missing when nothing but a date is known
        verdict = _blank_verdict(str(etat.get("date_creation") or "")[:10])
    missing = {m["champ"]: set(m["conditions"]) for m in verdict.get("informations_manquantes", []) if m["conditions"]}
    covered = {condition for key in step.keys for condition in missing.get(key, set())}
    if group is FIRST:
        covered |= {"periode_creation", "commune_zone"}
    remaining = 0
    for later in GROUPS[GROUPS.index(group) + 1:]:
        if later.echeancier or later in done:
            continue
        conditions = set().union(*(missing.get(key, set()) for key in later.keys if key not in etat))
        if not conditions or conditions <= covered:
            continue
        covered |= conditions
        remaining += 1
    number = len(done) + 1
    return Position(number, number + remaining)


@functools.lru_cache(maxsize=8)
def _blank_verdict(date_creation: str) -> dict[str, Any]:
    import datetime as dt

    try:
        day = dt.date.fromisoformat(date_creation)
    except ValueError:
        day = dt.date.today()
    return _full_verdict({"date_creation": day.isoformat()})


def _full_verdict(situation: Mapping[str, Any]) -> dict[str, Any]:
    """The verdict with its keys at their defaults and its catalogue resolved (engine/contract.read)."""
    return read(evaluate(situation).to_dict(), catalogue(current_rules()))
