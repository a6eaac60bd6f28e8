"""LanguageID throughput (texts/s) against a bare fastText loop over the same texts.

    python benchmarks/bench_langid.py [--repeat 3]

The texts are the web sample (real pages, ~3 KB each). The baseline is what a user would
write by hand: ``model.predict(text.replace("\\n", " "))`` per text with the same model.
Both are measured in the same process, best of ``--repeat`` runs; the ratio is what matters.
"""

from __future__ import annotations

import argparse

from _common import print_rates, sample_texts

from cleanpipe import Document
from cleanpipe.stages import LanguageID
from cleanpipe.stages.langid import load_model


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    texts = sample_texts("web/*.jsonl.gz")
    stage = LanguageID(languages=["en"])
    model = load_model(stage.model_path)

    def bare() -> None:
        for text in texts:
            model.predict(text.replace("\n", " "))

    def ours_predict() -> None:
        stage.predict(texts)

    def ours_stage() -> None:
        list(LanguageID(languages=["en"])(Document(str(i), t) for i, t in enumerate(texts)))

    print_rates(
        "texts",
        texts,
        args.repeat,
        [
            ("bare fastText loop", bare),
            ("LanguageID.predict", ours_predict),
            ("LanguageID stage", ours_stage),
        ],
    )


if __name__ == "__main__":
    main()
