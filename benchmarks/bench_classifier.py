"""QualityClassifier throughput (documents/s on one core) against a bare fastText loop over
the same texts, on 2 KB documents.

    python benchmarks/bench_classifier.py [--repeat 3] [--model PATH.ftz]

The texts are the sample's web pages and books, joined and cut at whitespace into 2 KB
documents (real text, all of one size). The model is the sample's (``--model`` for
another). The baseline is what a user would write by hand with the same model:
``model.predict(text.replace("\\n", " "), k=-1)`` per text, then the positive label's
probability picked out. Ours: ``QualityClassifier.scores`` (one batched C++ call per 512
texts) and the whole stage (scores, meta, the threshold tally, verdicts, stats). All in one
process, best of ``--repeat`` runs; the ratio is what matters.
"""

from __future__ import annotations

import argparse

from _common import REPO, print_rates, sample_texts

from cleanpipe import Document
from cleanpipe.stages import QualityClassifier
from cleanpipe.stages.classifier import load_classifier

DOC_BYTES = 2_000


def two_kb_documents(texts: list[str]) -> list[str]:
    """The texts joined by blank lines, cut at a space into consecutive ~2 KB documents."""
    text, docs = "\n\n".join(texts), []
    while len(text) > DOC_BYTES:
        cut = text.rfind(" ", 0, DOC_BYTES)
        cut = cut if cut > 0 else DOC_BYTES
        docs.append(text[:cut])
        text = text[cut + 1 :]
    return docs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--model", default=str(REPO / "sample_data/models/sample_quality.ftz"))
    args = parser.parse_args()
    texts = two_kb_documents(sample_texts("web/*.jsonl.gz") + sample_texts("books/*.jsonl"))
    model = load_classifier(args.model)
    stage = QualityClassifier(model_path=args.model, min_score=0.03)

    def bare() -> None:
        for text in texts:
            labels, probs = model.predict(text.replace("\n", " "), k=-1)
            dict(zip(labels, probs, strict=True)).get("__label__hq", 0.0)

    def ours_scores() -> None:
        for start in range(0, len(texts), QualityClassifier.batch_size):
            stage.scores(texts[start : start + QualityClassifier.batch_size])

    def ours_stage() -> None:
        fresh = QualityClassifier(model_path=args.model, min_score=0.03)
        list(fresh(Document(str(i), t) for i, t in enumerate(texts)))

    print_rates(
        "docs",
        texts,
        args.repeat,
        [
            ("bare fastText loop", bare),
            ("QualityClassifier.scores", ours_scores),
            ("QualityClassifier stage", ours_stage),
        ],
    )


if __name__ == "__main__":
    main()
