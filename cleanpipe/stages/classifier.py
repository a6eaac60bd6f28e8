"""Quality classification with a fastText model: LLaMA's and GPT-3's "references vs random
pages" filter, DCLM's fastText classifier.

The stage scores each document with the probability of one label of a supervised fastText
model (the positive label, ``__label__hq`` by default: what ``cleanpipe train-classifier``
and DCLM's ``openlm-research/dclm-baseline-1.0-fasttext`` name it), writes it to
``meta["quality_score"]``, then keeps the document by a threshold (``min_score``) or by
GPT-3's Pareto sampling (Brown et al. 2020, appendix A). Training (``classifier_train``)
and prediction read text through :func:`prepare_text`, so a model sees at prediction what
it saw when trained.
"""

from __future__ import annotations

import os
from bisect import bisect_right
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, ClassVar, Literal

from cleanpipe.document import Document
from cleanpipe.hashing import stable_hash
from cleanpipe.stages import langid
from cleanpipe.stages.base import Filter, register
from cleanpipe.stages.rules import BELOW, Drop, Verdict, describe_failure

LABEL_PREFIX = "__label__"
#: where the stage writes the positive label's probability.
SCORE_KEY = "quality_score"
#: GPT-3's Pareto shape (Brown et al. 2020, appendix A: ``np.random.pareto(9) > 1 - score``).
PARETO_ALPHA = 9.0
#: the thresholds the report's "what raising it costs" table shows (and the stage's own
#: min_score). Fine steps near 0: classifier scores of web pages crowd there, and DCLM kept
#: only the top 10% of its pool by fastText score (Li et al. 2024).
THRESHOLDS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
#: characters read of a document at training and prediction (DCLM reads all; this cap only
#: keeps a 50 MB document from stalling a worker, and 100k characters hold ~20k words).
MAX_CHARS = 100_000
SAMPLINGS = ("threshold", "pareto")


def full_label(label: str) -> str:
    """``hq`` and ``__label__hq`` both name fastText's label ``__label__hq``."""
    return label if label.startswith(LABEL_PREFIX) else LABEL_PREFIX + label


def prepare_text(text: str, max_chars: int | None = MAX_CHARS) -> str:
    """One line, as fastText reads it: newlines become spaces (DCLM's enricher joins lines
    with spaces; case is kept, as DCLM's and Dolma's classifiers were trained on cased
    text), at most ``max_chars`` characters. Training writes exactly this."""
    return langid.prepare_text(text, max_chars)


@lru_cache(maxsize=4)
def load_classifier(path: str) -> Any:
    """A supervised fastText model (``.bin`` or ``.ftz``), once per process: workers reuse it
    across tasks. A missing or unreadable file is a one-line ``ValueError``."""
    if not os.path.isfile(path):
        raise ValueError(
            f"classifier model not found: {path} (train one with `cleanpipe train-classifier` "
            "or download a fastText model, e.g. DCLM's, and give its local path)"
        )
    import fasttext

    try:
        model = fasttext.load_model(path)
    except ValueError as err:  # fastText's own message: "... has wrong file format!"
        raise ValueError(f"{path} is not a fastText model: {err}") from None
    if not model.get_labels():
        raise ValueError(f"{path} is a fastText word-vector model, not a classifier")
    return model


def positive_scores(
    model: Any, texts: Sequence[str], label: str, max_chars: int | None
) -> list[float]:
    """The probability of ``label`` for each text (0.0 for a text with no words): the score
    of the positive label, not of whichever label is most probable."""
    lines = [prepare_text(t, max_chars) for t in texts]
    # a blank line would still be scored (fastText reads its end-of-line token as a word)
    wordy = [i for i, line in enumerate(lines) if line and not line.isspace()]
    scores = [0.0] * len(lines)
    # one C++ call per batch; k=-1 returns every label with its probability
    labels, probs = model.f.multilinePredict([lines[i] + "\n" for i in wordy], -1, 0.0, "replace")
    for i, found, p in zip(wordy, labels, probs, strict=True):
        if label in found:  # no label at all when no word of the text is known
            scores[i] = min(max(float(p[found.index(label)]), 0.0), 1.0)
    return scores


def pareto_keeps(seed: int, text: str, score: float, alpha: float = PARETO_ALPHA) -> bool:
    """GPT-3's rule: keep when a Pareto(``alpha``) draw exceeds ``1 - score``. The draw is a
    seeded hash of the text turned into a Lomax variate (what ``np.random.pareto`` draws:
    ``u ** (-1 / alpha) - 1`` for ``u`` uniform in (0, 1]), so it is the same on every
    worker and run. P(keep) = ``(2 - score) ** -alpha``: 0.2% at score 0, 2.6% at 0.5, 100%
    at 1."""
    u = (stable_hash(seed, "classifier:pareto", text) + 1) / 2**64
    return u ** (-1.0 / alpha) - 1.0 > 1.0 - score


def threshold_key(threshold: float, what: str) -> str:
    """The stage extra counting ``what`` (docs, chars) scored at least ``threshold``."""
    return f"score>={threshold:g}:{what}"


@register("classifier")
class QualityClassifier(Filter):
    """Keep documents a fastText classifier scores as high quality (LLaMA, Touvron et al.
    2023, section 2.1: "references in Wikipedia v.s. randomly sampled pages"; GPT-3; DCLM).

    ``model_path``: a local supervised fastText model, e.g. one from ``cleanpipe
    train-classifier`` or DCLM's ``openlm-research/dclm-baseline-1.0-fasttext`` (labels
    ``__label__hq``/``__label__cc``). ``label``: the positive label, with or without
    ``__label__``. ``meta["quality_score"]`` gets its probability for every document.
    ``sampling="threshold"`` keeps scores ``>= min_score`` (default 0.5, the decision
    boundary of a two-label model); ``sampling="pareto"`` keeps by GPT-3's seeded Pareto
    draw with ``alpha`` 9, so some low-score text survives. ``seed`` defaults to the run's
    seed in a config (0 in code).
    """

    batch_size = 512
    #: a config passes the run's ``seed:`` to this stage unless its parameters set one.
    uses_run_seed: ClassVar[bool] = True

    def __init__(
        self,
        *,
        model_path: str,
        label: str = "hq",
        min_score: float = 0.5,
        sampling: Literal["threshold", "pareto"] = "threshold",
        alpha: float = PARETO_ALPHA,
        seed: int = 0,
        max_chars: int | None = MAX_CHARS,
        annotate_only: bool = False,
    ) -> None:
        super().__init__(annotate_only=annotate_only)
        if not 0.0 <= min_score <= 1.0:
            raise ValueError(f"min_score must be within [0, 1], got {min_score}")
        if sampling not in SAMPLINGS:
            raise ValueError(f"sampling must be one of {', '.join(SAMPLINGS)}, got {sampling!r}")
        if alpha <= 0:
            raise ValueError(f"alpha must be > 0, got {alpha}")
        self.model_path = str(model_path)
        self._model = load_classifier(self.model_path)
        self.label = full_label(label)
        labels = self._model.get_labels()
        if self.label not in labels:
            raise ValueError(
                f"label {label!r}: {self.model_path} has no label {self.label}; its labels: "
                + ", ".join(sorted(labels))
            )
        self.min_score, self.sampling, self.alpha, self.seed = min_score, sampling, alpha, seed
        self.max_chars = max_chars
        self._thresholds = sorted({*THRESHOLDS, min_score})
        #: [documents, characters] by how many thresholds their score reached (0 to all)
        self._bins = [[0, 0] for _ in range(len(self._thresholds) + 1)]

    @classmethod
    def input_files(cls, params: dict[str, Any]) -> list[str]:
        """The model file: retraining it to the same path makes a rerun redo the map tasks."""
        return [str(params["model_path"])] if params.get("model_path") else []

    def scores(self, texts: Sequence[str]) -> list[float]:
        """The positive label's probability for each text, in [0, 1]."""
        return positive_scores(self._model, texts, self.label, self.max_chars)

    def process_batch(self, docs: list[Document]) -> list[Verdict]:
        verdicts: list[Verdict] = []
        for doc, score in zip(docs, self.scores([d.text for d in docs]), strict=True):
            doc.meta[SCORE_KEY] = stored = round(score, 4)
            self._count(stored, len(doc.text))
            if self.sampling == "pareto":
                kept = pareto_keeps(self.seed, doc.text, score, self.alpha)
                verdicts.append(None if kept else Drop("pareto", f"{SCORE_KEY} {stored}"))
            elif score < self.min_score:
                detail = describe_failure(SCORE_KEY, stored, BELOW, self.min_score)
                verdicts.append(Drop("low_score", detail))
            else:
                verdicts.append(None)
        return verdicts

    def _count(self, score: float, chars: int) -> None:
        # one bin per document (how many thresholds it reaches); report_extra sums them up
        reached = bisect_right(self._thresholds, score)
        self._bins[reached][0] += 1
        self._bins[reached][1] += chars

    def report_extra(self) -> dict[str, int]:
        """Per threshold, documents and characters scored at least it (and ``scored``, so it
        is never empty): summed over tasks like every stage extra, turned into the report's
        threshold table."""
        extra = {"scored": sum(docs for docs, _ in self._bins)}
        docs = chars = 0
        for i in range(len(self._thresholds), 0, -1):  # from the highest threshold down
            docs, chars = docs + self._bins[i][0], chars + self._bins[i][1]
            if docs:
                extra[threshold_key(self._thresholds[i - 1], "docs")] = docs
                extra[threshold_key(self._thresholds[i - 1], "chars")] = chars
        return dict(sorted(extra.items()))
