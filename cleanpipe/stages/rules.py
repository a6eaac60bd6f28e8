"""Decisions: what a stage's verdict is (:class:`Drop`, :data:`Verdict`) and thresholds over
measured signals (:class:`Rules`), whose failure says by how much.

"Score first, decide second" (NeMo Curator's ``ScoreFilter``): a filter stores what it
measured, then :meth:`Rules.first_failure` applies the limits to exactly those numbers and
builds the drop's detail from them (``mean_word_length 2.1 < 3.0``). This module imports
nothing else from the package, so the stage base and the text measurements can both use it.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ABOVE",
    "AT_OR_ABOVE",
    "AT_OR_BELOW",
    "BELOW",
    "Drop",
    "Rule",
    "Rules",
    "Verdict",
    "describe_failure",
    "format_against",
]


@dataclass(frozen=True, slots=True)
class Drop:
    """A failed rule and what was measured against which threshold.

    ``rule`` becomes the reason (``<stage>:<rule>``) exactly as a plain rule name would;
    ``detail`` is for people reading rejects/: the measured value and the limit it crossed
    (``mean_word_length 2.1 < 3.0``), so nobody has to rerun to see by how much. Build it
    only for a dropped document, from the numbers already stored in ``doc.meta``.
    """

    rule: str
    detail: str = ""


#: what ``check``/``process`` return: ``None`` keeps, a rule name or a :class:`Drop` drops.
Verdict = str | Drop | None


# -- thresholds --------------------------------------------------------------------------

Comparison = Callable[[float, float], bool]
#: fail when the signal is above / at or above / below / at or below the limit.
ABOVE: Comparison = operator.gt
AT_OR_ABOVE: Comparison = operator.ge
BELOW: Comparison = operator.lt
AT_OR_BELOW: Comparison = operator.le
#: how a failed comparison reads in a drop's detail (``mean_word_length 2.1 < 3.0``).
_FAILED_AS = {ABOVE: ">", AT_OR_ABOVE: ">=", BELOW: "<", AT_OR_BELOW: "<="}
#: meta rounds ratios to 4 decimals (:func:`ratio`); a detail never needs more.
_MAX_DECIMALS = 6


def _decimals_for(x: float, significant: int) -> int:
    """Decimals that show ``x`` to ``significant`` significant digits (0 for 0 or big x)."""
    if not x:
        return 0
    return max(0, significant - 1 - math.floor(math.log10(abs(x))))


def _exact_decimals(x: float) -> int:
    """Fewest decimals that show ``x`` exactly (``0.3`` -> 1, ``3`` -> 0), at most 6."""
    for decimals in range(_MAX_DECIMALS):
        if round(x, decimals) == x:
            return decimals
    return _MAX_DECIMALS


def format_against(value: float, limit: float) -> tuple[str, str]:
    """``value`` and ``limit`` as a reader compares them: counts as integers; ratios to two
    significant digits, the limit with as many decimals (``0.42``, ``0.30``), more where
    needed to show the limit exactly or to tell the value apart from it (``0.301 > 0.300``).
    """
    if isinstance(value, int) and float(limit).is_integer():
        return str(int(value)), str(int(limit))
    if isinstance(value, int):
        return str(value), f"{limit:.{_exact_decimals(limit)}f}"
    decimals = max(_decimals_for(value or limit, 2), _exact_decimals(limit))
    while (
        decimals < _MAX_DECIMALS
        and value != limit
        and round(value, decimals) == round(limit, decimals)
    ):
        decimals += 1
    return f"{value:.{decimals}f}", f"{limit:.{decimals}f}"


def describe_failure(signal: str, value: float, fails: Comparison, limit: float) -> str:
    """The detail of a failed threshold: ``mean_word_length 2.1 < 3.0``."""
    shown, bound = format_against(value, limit)
    return f"{signal} {shown} {_FAILED_AS.get(fails, fails.__name__)} {bound}"


Rule = tuple[str, Comparison, float | None] | tuple[str, Comparison, float | None, str]


class Rules:
    """Ordered thresholds over named signals: ``(rule, fails_when, limit)``, optionally with
    a fourth element, the detail to report instead of the comparison: a template filled
    from the signals (``"contains {bad_words} bad words"``; ``{{`` for a literal brace),
    for on/off rules whose ``True > 0`` would say nothing.

    A rule whose limit is ``None`` is disabled and left out. :meth:`first_failure` returns
    the first rule whose signal crosses its limit, as a :class:`Drop`
    whose detail shows the stored value against the limit (formatted only then, never for
    a document that passes); signals missing from the measurement (a rule skipped for a
    document) never fail.
    """

    def __init__(self, rules: Iterable[Rule]) -> None:
        self.rules = [
            (rule[0], rule[1], rule[2], rule[3] if len(rule) > 3 else None)  # type: ignore[misc]
            for rule in rules
            if rule[2] is not None
        ]

    def first_failure(self, signals: Mapping[str, Any]) -> Drop | None:
        for name, fails, limit, template in self.rules:
            value = signals.get(name)
            if value is not None and fails(value, limit):
                if template is not None:
                    return Drop(name, template.format_map(signals))
                return Drop(name, describe_failure(name, value, fails, limit))
        return None
