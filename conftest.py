"""The experts' rule tests (rules/tests/*.yaml) are collected by pytest itself: one test item per case, named
by its file and its `nom`, reported with the differences between the verdict and what is `attendu`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

RULE_TESTS = Path(__file__).resolve().parent / "rules" / "tests"


class RuleCaseFailure(AssertionError):
    """The verdict differs from the case's `attendu`."""


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix == ".yaml" and file_path.parent == RULE_TESTS:
        return RuleFile.from_parent(parent, path=file_path)
    return None


class RuleFile(pytest.File):
    def collect(self):  # one item per case of the file
        from bud_checker.rule_tests import load_cases

        for case in load_cases([self.path]):
            yield RuleItem.from_parent(self, name=case.nom, case=case)


class RuleItem(pytest.Item):
    def __init__(self, *, case: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case

    def runtest(self) -> None:
        from bud_checker.rule_tests import run_case

        failures = run_case(self.case)
        if failures:
            raise RuleCaseFailure(failures)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, RuleCaseFailure):
            lines = "\n".join(f"  - {failure}" for failure in excinfo.value.args[0])
            return f"{self.case.id} : le verdict diffère de « attendu »\n{lines}"
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"règle : {self.case.id}"
