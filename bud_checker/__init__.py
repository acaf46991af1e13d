"""BUD Checker: eligibility to the French «bassins urbains à dynamiser» tax regime (CGI art. 44 sexdecies).

The engine is pure Python: `evaluate(situation) -> Verdict`, with `Verdict.to_dict()` as the JSON contract.
"""

from .engine.situation import Situation, SituationError
from .engine.verdict import Verdict, evaluate

__all__ = ["Situation", "SituationError", "Verdict", "evaluate"]
__version__ = "0.1.0"
