"""Report samples: bottom-k by id hash, folded task by task in bounded memory."""

from __future__ import annotations

import random

from cleanpipe.document import Document
from cleanpipe.report.samples import SIGNAL_SAMPLE, SignalCollector, id_hash, merge_collected


def _docs(n: int, seed: int) -> list[Document]:
    rng = random.Random(seed)
    return [
        Document(
            f"crawl-{seed}/page-{i}",
            "text",
            "web",
            {
                "lang": rng.choice(["en", "en", "de"]),
                "lang_score": round(rng.random(), 4),
                "gopher_quality": {"mean_word_length": rng.uniform(3, 7), "short": True},
            },
        )
        for i in range(n)
    ]


def test_folding_tasks_one_by_one_equals_one_collector_over_everything() -> None:
    tasks = [_docs(1_500, seed) for seed in range(3)]  # 4,500 > SIGNAL_SAMPLE: some are cut
    collectors = []
    whole = SignalCollector()
    for docs in tasks:
        part = SignalCollector()
        for i, doc in enumerate(docs):
            reason = "gopher_quality:short" if i % 7 == 0 else None
            part.observe(doc, reason)
            whole.observe(doc, reason)
        collectors.append(part)
    # a generator: one task at a time, as the driver reads them back from Parquet
    folded = merge_collected((c.to_dict(), c.signal_table()) for c in collectors)
    assert folded == merge_collected([(whole.to_dict(), whole.signal_table())])
    assert len(folded["signals"]["lang_score"]) == SIGNAL_SAMPLE
    assert "gopher_quality.short" not in folded["signals"]  # booleans are not signals
    assert sum(folded["languages"].values()) == 4_500
    assert len(folded["examples"]["gopher_quality:short"]) == 3
    # the sample is the 2,000 documents with the smallest id hashes, not the first ones seen
    everything = [d for docs in tasks for d in docs]
    smallest = sorted(everything, key=lambda d: id_hash(d.id))[:SIGNAL_SAMPLE]
    assert folded["signals"]["lang_score"] == [round(d.meta["lang_score"], 4) for d in smallest]
