"""Mixture plan: how many tokens of each source the output takes, and which documents.

Given available tokens ``T_s`` per source (after filtering and dedup), target shares ``w_s``
(weights, normalised) and a budget ``B``, a source is sampled for ``epochs_s = w_s * B / T_s``
epochs. Whole epochs are whole copies of the source; the fractional part is an exact token
quota filled in seeded-hash order of document ids, so the choice does not depend on input
order or worker count and small quotas are not missed (as coin flips per document would).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from cleanpipe.config import Config
from cleanpipe.errors import PlanError

#: Hoffmann et al. 2022 (Chinchilla): about 20 training tokens per parameter.
CHINCHILLA_TOKENS_PER_PARAM = 20.0
#: Muennighoff et al. 2023 ("Scaling Data-Constrained Language Models"): repeating data up to
#: about 4 epochs costs little, beyond that repeated tokens are worth much less than new ones.
#: A plan warns about every source repeated more often (the report and the CLI show it).
EPOCH_WARNING = 4.0


@dataclass(frozen=True)
class SourcePlan:
    source: str
    available_tokens: int
    available_docs: int
    weight: float  # normalised target share
    target_tokens: float
    epochs: float
    max_epochs: float
    whole_copies: int
    #: documents whose id hash is <= this threshold get one more copy (the fractional epoch);
    #: -1 means none do.
    threshold: int
    quota_tokens: int  # tokens the fractional part aimed for
    sampled_tokens: int  # tokens the plan takes in all: whole copies + fractional part

    def copies(self, doc_hash: int) -> int:
        return self.whole_copies + (1 if doc_hash <= self.threshold else 0)


@dataclass(frozen=True)
class MixturePlan:
    budget_tokens: float
    budget_rule: str  # "total_tokens", "max", "chinchilla"
    sources: dict[str, SourcePlan]
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "budget_tokens": self.budget_tokens,
            "budget_rule": self.budget_rule,
            "sources": {name: asdict(plan) for name, plan in self.sources.items()},
            "warnings": list(self.warnings),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MixturePlan:
        return cls(
            data["budget_tokens"],
            data["budget_rule"],
            {n: SourcePlan(**p) for n, p in data["sources"].items()},
            tuple(data.get("warnings", ())),
        )


def normalised_weights(config: Config) -> dict[str, float]:
    total = sum(s.weight for s in config.sources.values())
    return {name: s.weight / total for name, s in config.sources.items()}


def max_epochs_of(config: Config, source: str) -> float:
    own = config.sources[source].max_epochs
    return own if own is not None else config.mixture.max_epochs


def max_budget(config: Config, available: dict[str, int]) -> float:
    """The largest budget at which no source exceeds its max_epochs."""
    weights = normalised_weights(config)
    return float(
        min(max_epochs_of(config, s) * available[s] / w for s, w in weights.items() if w > 0)
    )


def budget(config: Config, available: dict[str, int]) -> tuple[float, str]:
    """The token budget ``B`` and the rule it came from (``max`` is also the default)."""
    rule = config.mixture.total_tokens
    if isinstance(rule, int):
        return float(rule), "total_tokens"
    if isinstance(rule, dict):
        return CHINCHILLA_TOKENS_PER_PARAM * rule["chinchilla_params"], "chinchilla"
    return max_budget(config, available), "max"


def check_epochs(config: Config, available: dict[str, int], total: float) -> None:
    """Fail before sampling when a source would need more epochs than allowed; the message
    names each such source and the ways out that apply to this config."""
    problems = []
    empty = []
    for source, weight in normalised_weights(config).items():
        need = weight * total
        have = available[source]
        limit = max_epochs_of(config, source)
        if have == 0 and weight > 0:
            empty.append(source)
            problems.append(
                f"source {source!r}: no tokens left after reading, filtering and dedup, the "
                f"mixture needs {need:,.0f}"
            )
            continue
        epochs = need / have if have else 0.0
        if epochs > limit + 1e-9:
            problems.append(
                f"source {source!r}: {have:,} tokens available, the mixture needs "
                f"{need:,.0f} ({epochs:.2f} epochs > max_epochs {limit:g})"
            )
    if not problems:
        return
    ways = []
    if empty:
        ways.append(
            f"see why {', '.join(repr(s) for s in empty)} lost every document (the report's "
            "funnel and rejects/; a wrong text_field or input format is common), or remove it"
        )
    rule = config.mixture.total_tokens
    if len(empty) < len(problems) or rule != "max":
        ways += ["lower the source's weight", "raise its max_epochs"]
        if rule != "max":
            ways.append("lower mixture.total_tokens")
            ways.append("use mixture.total_tokens: max (the largest budget every source can meet)")
        if config.mixture.on_shortfall != "shrink" and not empty:
            ways.append(
                "set mixture.on_shortfall: shrink (lower the budget until every source fits)"
            )
    raise PlanError(
        "the mixture cannot be met:\n  " + "\n  ".join(problems) + "\nways out: " + "; ".join(ways)
    )


def fractional_threshold(hashes: np.ndarray, tokens: np.ndarray, quota: float) -> int:
    """The hash threshold that takes documents in ascending hash order until their tokens
    come closest to ``quota``; ``-1`` takes none."""
    if quota <= 0 or len(hashes) == 0:
        return -1
    order = np.argsort(hashes, kind="stable")
    cumulative = np.cumsum(tokens[order])
    # first position where the running total reaches the quota; take it if that lands closer
    i = int(np.searchsorted(cumulative, quota))
    if i >= len(order):
        return int(hashes[order[-1]])
    before = cumulative[i - 1] if i > 0 else 0
    if quota - before < cumulative[i] - quota:
        return int(hashes[order[i - 1]]) if i > 0 else -1
    return int(hashes[order[i]])


def plan_mixture(
    config: Config, doc_hashes: dict[str, np.ndarray], doc_tokens: dict[str, np.ndarray]
) -> MixturePlan:
    """Plan every source from the (hash, tokens) of its documents that survived dedup."""
    available = {s: int(doc_tokens[s].sum()) for s in config.sources}
    total, rule = budget(config, available)
    warnings = []
    if config.mixture.on_shortfall == "shrink" and total > (cap := max_budget(config, available)):
        warnings.append(
            f"on_shortfall: shrink lowered the budget from {total:,.0f} to {cap:,.0f} tokens so "
            "that no source exceeds its max_epochs"
        )
        total, rule = cap, f"{rule}+shrink"
    check_epochs(config, available, total)
    plans: dict[str, SourcePlan] = {}
    for source, weight in normalised_weights(config).items():
        have = available[source]
        target = weight * total
        epochs = target / have if have else 0.0
        whole = int(math.floor(epochs + 1e-12))
        quota = (epochs - whole) * have
        threshold = fractional_threshold(doc_hashes[source], doc_tokens[source], quota)
        taken = (
            int(doc_tokens[source][doc_hashes[source] <= threshold].sum()) if threshold >= 0 else 0
        )
        plans[source] = SourcePlan(
            source=source,
            available_tokens=have,
            available_docs=len(doc_tokens[source]),
            weight=weight,
            target_tokens=target,
            epochs=epochs,
            max_epochs=max_epochs_of(config, source),
            whole_copies=whole,
            threshold=threshold,
            quota_tokens=int(round(quota)),
            sampled_tokens=whole * have + taken,
        )
    for name, p in plans.items():
        if p.epochs > EPOCH_WARNING + 1e-9:
            warnings.append(
                f"source {name!r} is repeated {p.epochs:.2f} times; beyond ~{EPOCH_WARNING:g} "
                "epochs repeated data is worth much less than new data (Muennighoff et al. 2023)"
            )
    if rule.startswith("max"):
        warnings.extend(_max_rule_warnings(plans))
    return MixturePlan(total, rule, plans, tuple(warnings))


def _max_rule_warnings(plans: dict[str, SourcePlan]) -> list[str]:
    """``total_tokens: max`` stops where the first source reaches its max_epochs: that source
    is repeated that often, which its weight alone may not make obvious."""
    out = []
    for name, p in plans.items():
        if p.max_epochs > 1 and p.epochs >= p.max_epochs - 1e-9 and p.available_tokens:
            out.append(
                f"total_tokens: max repeats source {name!r} {p.epochs:.2f} times (its "
                "max_epochs) to reach the largest budget every source can meet; lower its "
                "max_epochs or weight, or set total_tokens, to repeat it less"
            )
    return out
