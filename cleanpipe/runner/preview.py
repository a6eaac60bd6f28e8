"""``cleanpipe plan``: the mixture plan in seconds, without writing output.

From the cleaned data of an earlier run of the same sources when every map task of it is
still valid (exact: tokens after filtering and dedup), else from a quick estimate on the raw
inputs (every record read, tokens estimated from bytes; no stages, no dedup, so it shows an
upper bound of what cleaning leaves).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cleanpipe.config import Config
from cleanpipe.document import Document
from cleanpipe.hashing import fingerprint
from cleanpipe.io import fs
from cleanpipe.io.layout import Layout
from cleanpipe.io.readers import ReadOptions, read_input
from cleanpipe.mixture import MixturePlan, plan_mixture
from cleanpipe.runner.barrier import dedup_inputs, row_hash, surviving_hashes
from cleanpipe.runner.tasks import map_fingerprint, map_tasks, read_marker
from cleanpipe.tokens import TokenEstimator


@dataclass(frozen=True)
class PlanPreview:
    plan: MixturePlan
    basis: str  # "staged" or "raw-estimate"
    detail: str


def preview_plan(config: Config) -> PlanPreview:
    """The plan a run of ``config`` would make (raises ``PlanError`` when it cannot be met)."""
    root = config.output.path
    layout = Layout(root)
    tasks = map_tasks(config)
    fingerprints = [map_fingerprint(t, config) for t in tasks]
    staged = all(
        (marker := read_marker(layout.staged(t.source, t.part, "done.json"))) is not None
        and marker.get("fingerprint") == fp
        for t, fp in zip(tasks, fingerprints, strict=True)
    )
    # the earlier run's dedup result counts only if it was made from these tasks and this
    # dedup config (surviving_hashes reads its removed rows)
    dedup = read_marker(layout.dedup_marker)
    wanted = fingerprint(dedup_inputs(config, fingerprints))
    if staged and dedup is not None and dedup.get("fingerprint") == wanted:
        hashes, tokens = surviving_hashes(config, root, tasks)
        return PlanPreview(
            plan_mixture(config, hashes, tokens),
            "staged",
            f"cleaned data of the earlier run in {root} (after filtering and dedup)",
        )
    hashes_l: dict[str, list[int]] = {s: [] for s in config.sources}
    tokens_l: dict[str, list[int]] = {s: [] for s in config.sources}
    for task in tasks:
        source = config.sources[task.source]
        options = ReadOptions(source.name, source.text_field, source.id_field, source.max_doc_bytes)
        estimator = TokenEstimator(config.mixture.tokenizer, "estimate", config.seed)
        for item in task.files:
            name = fs.display(item.path)
            records = enumerate(read_input(item, options))
            docs = [(pos, r) for pos, r in records if isinstance(r, Document)]
            keys = [f"{name}:{pos}" for pos, _ in docs]
            counts = estimator.count(keys, [d.text for _, d in docs])
            hashes_l[task.source].extend(
                row_hash(config.seed, task.source, name, pos) for pos, _ in docs
            )
            tokens_l[task.source].extend(counts)
    hashes = {s: np.array(v, dtype=np.uint64) for s, v in hashes_l.items()}
    tokens = {s: np.array(v, dtype=np.int64) for s, v in tokens_l.items()}
    return PlanPreview(
        plan_mixture(config, hashes, tokens),
        "raw-estimate",
        "quick estimate on the raw inputs (before filtering and dedup, tokens estimated from "
        "bytes): cleaning will leave fewer tokens; run once, then `cleanpipe plan` is exact",
    )
