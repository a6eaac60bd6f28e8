"""``cleanpipe train-classifier``: a fastText quality classifier from positive and negative
documents, with held-out precision, recall and AUC.

The recipe of LLaMA (Touvron et al. 2023, section 2.1: a linear model, reference pages vs
random pages), GPT-3 and DCLM (Li et al. 2024: fastText over word bigrams): supervised
fastText (Joulin et al. 2016) with labels ``__label__<label>`` and ``__label__other``.
Documents are read with cleanpipe's readers (JSONL, Parquet, text folders) and written
through :func:`~cleanpipe.stages.classifier.prepare_text`, the same preparation the
``classifier`` stage applies. Deterministic for a seed: the split and the order are seeded
hashes of the texts and fastText trains on one thread, so a rerun writes the same bytes.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cleanpipe.hashing import stable_hash
from cleanpipe.io.readers import BadRecord, ReadOptions, expand_paths, read_input
from cleanpipe.stages.classifier import (
    LABEL_PREFIX,
    MAX_CHARS,
    full_label,
    positive_scores,
    prepare_text,
)

NEGATIVE_LABEL = "other"
#: fewer documents of a class than this (in all, or in the held-out part) is an error.
MIN_DOCS_PER_CLASS = 5
#: the default ``--target-precision``: nine in ten documents kept above the threshold are
#: like the positives, on held-out data.
TARGET_PRECISION = 0.9


class TrainError(ValueError):
    """A problem with the training inputs, said in one line (the CLI prints it)."""


@dataclass(frozen=True)
class FastTextSettings:
    """fastText's knobs. fastText's defaults (dim 100, 2M buckets) make a ~870 MB model with
    bigrams (845 MB measured, and AUC 0.73 on the sample at 5 epochs); these give 17 MB at
    AUC 0.998-0.9998, 0.56 MB quantized at 0.999-1.0 (benchmarks/README.md, "Quality
    classifier"). Bigrams as DCLM's classifier; ``min_count`` 2 leaves out words seen once,
    which only memorise documents; 25 epochs because 5 and 10 left the sample's positives
    below 0.5 (AUC 0.78, 0.98)."""

    dim: int = 16
    word_ngrams: int = 2
    bucket: int = 200_000
    min_count: int = 2
    epoch: int = 25
    lr: float = 0.1
    #: quantization (``--quantize``): keep the ``cutoff`` most useful rows, then retrain;
    #: ``qnorm`` quantizes the norms apart (fastText's ``-qnorm``), ``dsub`` 2 as fastText.
    cutoff: int = 20_000
    qnorm: bool = True
    dsub: int = 2


def read_texts(patterns: list[str], text_field: str, what: str) -> tuple[list[str], int]:
    """The non-blank texts of every file matched by ``patterns``, and how many bad records
    (broken JSON, a missing text field) were skipped. No file matched: a :class:`TrainError`."""
    files = [f for pattern in patterns for f in expand_paths(pattern)]
    if not files:
        raise TrainError(f"--{what}: no files matched {', '.join(patterns)}")
    options = ReadOptions(source=what, text_field=text_field)
    texts, bad = [], 0
    for item in files:
        for record in read_input(item, options):
            if isinstance(record, BadRecord):
                bad += 1
            elif record.text.strip():
                texts.append(record.text)
    return texts, bad


def held_out(seed: int, text: str, fraction: float) -> bool:
    """Whether a text is in the validation part: a seeded hash of the text, so the split does
    not depend on input order and copies of one text never straddle it."""
    return stable_hash(seed, "train-classifier:split", text) < fraction * 2**64


def roc_auc(scores: np.ndarray, positive: np.ndarray) -> float:
    """Area under the ROC curve: the probability that a random positive scores above a
    random negative (ties count half), by the rank-sum (Mann-Whitney U) formula."""
    order = np.argsort(scores, kind="stable")
    ranks = np.empty(len(scores))
    sorted_scores = scores[order]
    # average rank of each run of equal scores
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_scores)) + 1]
    ends = np.r_[starts[1:], len(scores)]
    for s, e in zip(starts, ends, strict=True):
        ranks[order[s:e]] = (s + e + 1) / 2
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def precision_recall(scores: np.ndarray, positive: np.ndarray, threshold: float) -> tuple:
    """Precision and recall of "score >= threshold" as the positive class."""
    kept = scores >= threshold
    true = int((kept & positive).sum())
    precision = true / int(kept.sum()) if kept.any() else 1.0
    return precision, true / int(positive.sum())


def threshold_for_precision(scores: np.ndarray, positive: np.ndarray, target: float) -> dict:
    """The lowest score threshold whose held-out precision is at least ``target`` (the most
    recall at that precision), with its precision and recall; None when none reaches it."""
    best: dict[str, Any] = {"threshold": None, "precision": None, "recall": None}
    for t in sorted(set(scores.tolist()), reverse=True):
        precision, recall = precision_recall(scores, positive, t)
        if precision >= target:
            best = {"threshold": round(t, 4), "precision": precision, "recall": recall}
    return best


def evaluate(
    model: Any, texts: list[str], positive: np.ndarray, label: str, target: float
) -> dict[str, Any]:
    """Held-out metrics of ``model``: AUC, precision/recall at 0.5, the threshold for
    ``target`` precision."""
    scores = np.array(positive_scores(model, texts, label, MAX_CHARS))
    precision, recall = precision_recall(scores, positive, 0.5)
    at_target = threshold_for_precision(scores, positive, target)
    return {
        "documents": {"positive": int(positive.sum()), "negative": int((~positive).sum())},
        "auc": round(roc_auc(scores, positive), 4),
        "precision_at_0.5": round(precision, 4),
        "recall_at_0.5": round(recall, 4),
        "target_precision": target,
        "threshold_for_target": at_target["threshold"],
        "recall_at_threshold": _rounded(at_target["recall"]),
        "precision_at_threshold": _rounded(at_target["precision"]),
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _check_counts(name: str, train: int, valid: int, fraction: float) -> None:
    if train + valid < MIN_DOCS_PER_CLASS:
        raise TrainError(
            f"--{name}: {train + valid} documents; at least {MIN_DOCS_PER_CLASS} are needed"
        )
    if fraction > 0 and valid == 0:
        raise TrainError(
            f"--{name}: no document fell in the held-out part at --validation-fraction "
            f"{fraction}; add documents or raise the fraction"
        )
    if train == 0:
        raise TrainError(f"--{name}: every document was held out; lower --validation-fraction")


def _write_examples(path: str, examples: list[tuple[str, str]], seed: int) -> None:
    """fastText's input, one ``__label__x text`` line a document, in a seeded-hash order
    (fastText reads the file in order: positives then negatives would skew its updates)."""
    ordered = sorted(examples, key=lambda e: stable_hash(seed, "train-classifier:order", *e))
    with open(path, "w", encoding="utf-8") as fh:
        for label, text in ordered:
            fh.write(f"{label} {prepare_text(text)}\n")


def train_classifier(
    positives: list[str],
    negatives: list[str],
    output: str,
    *,
    label: str = "hq",
    validation_fraction: float = 0.1,
    seed: int = 0,
    quantize: bool = False,
    target_precision: float = TARGET_PRECISION,
    settings: FastTextSettings = FastTextSettings(),  # noqa: B008 - frozen, so shared safely
) -> dict[str, Any]:
    """Train on the texts, save the model to ``output`` (``.ftz`` when ``quantize``) and its
    metrics beside it (``<output stem>.json``); returns the metrics."""
    import fasttext

    if not hasattr(fasttext, "train_supervised"):
        raise TrainError(
            "the installed `fasttext` module cannot train (it is fasttext-predict's): "
            "pip uninstall -y fasttext-predict && pip install --force-reinstall fasttext-numpy2"
        )
    if not 0.0 <= validation_fraction < 1.0:
        raise TrainError(f"--validation-fraction must be in [0, 1), got {validation_fraction}")
    positive_label, negative_label = full_label(label), LABEL_PREFIX + NEGATIVE_LABEL
    if positive_label == negative_label:
        raise TrainError(f"--label {label!r} is the negative class's name; choose another")
    split: dict[bool, list[tuple[str, str]]] = {True: [], False: []}
    for name, texts, tag in (
        ("positive", positives, positive_label),
        ("negative", negatives, negative_label),
    ):
        held = [held_out(seed, t, validation_fraction) for t in texts]
        split[True] += [(tag, t) for t, h in zip(texts, held, strict=True) if h]
        split[False] += [(tag, t) for t, h in zip(texts, held, strict=True) if not h]
        _check_counts(name, held.count(False), held.count(True), validation_fraction)
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="cleanpipe-train-") as tmp:
        train_file = os.path.join(tmp, "train.txt")
        _write_examples(train_file, split[False], seed)
        _train_in_fresh_process(train_file, output, settings, seed, quantize)
    model = fasttext.load_model(output)
    metrics: dict[str, Any] = {
        "model": os.path.basename(output),
        "model_bytes": os.path.getsize(output),
        "labels": [positive_label, negative_label],
        "quantized": quantize,
        "seed": seed,
        "validation_fraction": validation_fraction,
        "training_documents": {
            "positive": sum(1 for t, _ in split[False] if t == positive_label),
            "negative": sum(1 for t, _ in split[False] if t == negative_label),
        },
        "settings": asdict(settings),
    }
    if split[True]:
        texts = [t for _, t in split[True]]
        is_positive = np.array([tag == positive_label for tag, _ in split[True]])
        metrics["held_out"] = evaluate(model, texts, is_positive, positive_label, target_precision)
    with open(metrics_path(output), "w", encoding="utf-8") as fh:
        json.dump(metrics, fh, indent=2, sort_keys=True)
        fh.write("\n")
    return metrics


def _train_in_fresh_process(
    train_file: str, output: str, settings: FastTextSettings, seed: int, quantize: bool
) -> None:
    """Train in a new interpreter. fastText keeps state between trainings in one process:
    measured here, the second identical training in a process diverges ("Encountered
    NaN") while every first one writes the same bytes; a fresh process is always a first.
    (A subprocess, not multiprocessing's spawn, which would re-run the caller's script.)"""
    import subprocess
    import sys

    package_parent = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_parent, env.get("PYTHONPATH")) if p)
    job = json.dumps([train_file, output, asdict(settings), seed, quantize])
    done = subprocess.run(
        [sys.executable, "-m", __name__, job], env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines() or [f"exit status {done.returncode}"]
        hint = " (try a lower lr)" if "NaN" in lines[-1] else ""
        raise TrainError(f"fastText training failed: {lines[-1]}{hint}")


def _train(
    train_file: str, output: str, settings: FastTextSettings, seed: int, quantize: bool
) -> None:
    """fastText supervised on one thread (its updates then come in file order: the same
    bytes for a seed), quantized with a retrain when asked; saved to ``output``."""
    import fasttext

    model = fasttext.train_supervised(
        input=train_file, **_fasttext_args(settings), seed=seed, thread=1, verbose=0
    )
    if quantize:
        model.quantize(
            input=train_file,
            cutoff=settings.cutoff,
            retrain=True,
            qnorm=settings.qnorm,
            dsub=settings.dsub,
            thread=1,
            verbose=0,
        )
    model.save_model(output)


def metrics_path(output: str) -> str:
    """Where the metrics of the model at ``output`` are written: ``model.ftz`` ->
    ``model.json``."""
    return str(Path(output).with_suffix(".json"))


def _fasttext_args(s: FastTextSettings) -> dict[str, Any]:
    return {
        "dim": s.dim,
        "wordNgrams": s.word_ngrams,
        "bucket": s.bucket,
        "minCount": s.min_count,
        "epoch": s.epoch,
        "lr": s.lr,
    }


if __name__ == "__main__":  # the fresh process of _train_in_fresh_process
    import sys

    _file, _out, _settings, _seed, _quantize = json.loads(sys.argv[1])
    _train(_file, _out, FastTextSettings(**_settings), _seed, _quantize)
