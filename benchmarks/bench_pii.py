"""Throughput of PIIScrubber.scrub on ordinary text, against a naive baseline.

Run: ``python benchmarks/bench_pii.py [--mb 8] [--repeat 3]``

The corpus is real text found on this machine (``/usr/share/doc`` READMEs, changelogs,
copyright files and the Python standard library's docstrings), cut into documents of a few
kB, with a sprinkle of synthetic PII in one document out of twenty. The baseline is what a
straightforward scrubber does: every pattern of every kind run over every text, no
prefilter, each pattern anchored by a word-boundary look-behind, followed by the same
checksum validators. Both are timed in the same process, interleaved, best of ``--repeat``,
so the ratio holds on a shared machine even when absolute figures move; times are CPU
time of this process (MB/s per core).
"""

from __future__ import annotations

import argparse
import ast
import gzip
import ipaddress
import random
import re
import sys
import sysconfig
import time
from collections.abc import Callable
from pathlib import Path

from cleanpipe.stages.pii import PIIScrubber, iban_valid, luhn_valid, ssn_valid

DOC_CHARS = 4000

PII_SAMPLES = [
    "Contact jane.roe+news@mail.example.org for details.",
    "Ruf an: +49 30 1234567 oder 030-1234567.",
    "Call (555) 123-4567 today.",
    "Server at 203.0.113.42 refused the connection.",
    "Card 4111 1111 1111 1111 exp 12/27.",
    "IBAN DE89 3704 0044 0532 0130 00",
    "SSN 123-45-6789 on file.",
    "token ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8" + " leaked",
    "电话：138 0013 8000，邮箱 li.wei@example.cn。",
]


def _read_doc_files(limit: int) -> list[str]:
    texts: list[str] = []
    total = 0
    root = Path("/usr/share/doc")
    paths = sorted(root.glob("*/*")) if root.is_dir() else []
    for path in paths:
        name = path.name.lower()
        if not path.is_file() or not any(
            k in name for k in ("readme", "changelog", "copyright", "news", ".txt", ".md")
        ):
            continue
        try:
            raw = gzip.open(path).read() if name.endswith(".gz") else path.read_bytes()
        except OSError:
            continue
        text = raw[:200_000].decode("utf-8", errors="replace")
        texts.append(text)
        total += len(text)
        if total >= limit:
            break
    return texts


def _read_docstrings(limit: int) -> list[str]:
    texts: list[str] = []
    total = 0
    for path in sorted(Path(sysconfig.get_paths()["stdlib"]).rglob("*.py")):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError, OSError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef)):
                doc = ast.get_docstring(node)
                if doc and len(doc) > 200:
                    texts.append(doc)
                    total += len(doc)
        if total >= limit:
            break
    return texts


def build_corpus(megabytes: float, seed: int = 0) -> list[str]:
    """Documents of about DOC_CHARS characters; every 20th gets one to three PII items."""
    limit = int(megabytes * 1_000_000)
    sources = _read_doc_files(limit * 2 // 3) + _read_docstrings(limit // 3)
    rng = random.Random(seed)
    docs: list[str] = []
    for text in sources:
        for i in range(0, len(text), DOC_CHARS):
            docs.append(text[i : i + DOC_CHARS])
    rng.shuffle(docs)
    out: list[str] = []
    total = 0
    for n, doc in enumerate(docs):
        if n % 20 == 0:
            for _ in range(rng.randint(1, 3)):
                cut = doc.rfind(" ", 0, rng.randrange(len(doc) + 1)) + 1
                doc = doc[:cut] + rng.choice(PII_SAMPLES) + " " + doc[cut:]
        out.append(doc)
        total += len(doc)
        if total >= limit:
            break
    return out


# -- the naive baseline ------------------------------------------------------------------

_B = r"(?<![\w])"
_NAIVE: list[tuple[str, re.Pattern[str], Callable[[str], bool]]] = [
    ("email", re.compile(_B + r"[\w.+'-]+@(?:[^\W_][\w-]*\.)+[^\W\d_]{2,}"), lambda s: True),
    ("ip", re.compile(_B + r"(?:\d{1,3}\.){3}\d{1,3}\b"),
     lambda s: all(int(o) < 256 for o in s.split("."))),
    ("ip6", re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f.]*"), lambda s: _v6(s)),
    ("card", re.compile(_B + r"(?:\d[ -]?){12,18}\d\b"),
     lambda s: luhn_valid(re.sub(r"\D", "", s))),
    ("iban", re.compile(_B + r"[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b"),
     lambda s: iban_valid(s.replace(" ", ""))),
    ("ssn", re.compile(_B + r"(\d{3})-(\d{2})-(\d{4})\b"),
     lambda s: ssn_valid(s[:3], s[4:6], s[7:])),
    ("phone", re.compile(_B + r"(?:\+|\(\+?)?\d(?:[ ./()-]{0,3}\d){6,16}"),
     lambda s: len(re.sub(r"\D", "", s)) >= 7),
]  # fmt: skip
_NAIVE_SECRETS = [
    re.compile(p)
    for p in (
        r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----[\s\S]*?-----END [A-Z0-9 ]*PRIVATE KEY-----",
        r"\bA(?:KIA|SIA|GPA|IDA|ROA|IPA|NPA|NVA|PKA|BIA)[A-Z0-9]{16}\b",
        r"(?i:aws_?secret_?access_?key)\s*[:=]\s*[\"']?[A-Za-z0-9/+]{40}",
        r"\bgh[pousr]_[A-Za-z0-9]{36,251}\b",
        r"\bgithub_pat_[A-Za-z0-9_]{22,255}\b",
        r"\bglpat-[A-Za-z0-9_-]{20,}",
        r"\bxox[abposre]-[A-Za-z0-9-]{10,}",
        r"\bAIza[0-9A-Za-z_-]{35}",
        r"\b[rs]k_live_[0-9A-Za-z]{20,}",
        r"\bhf_[A-Za-z]{34}\b",
        r"\bnpm_[A-Za-z0-9]{36}\b",
        r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",
        r"\b[Bb]earer\s+[A-Za-z0-9._~+/-]{16,}=*",
        r"\b[A-Za-z][A-Za-z0-9+.-]{1,15}://[^\s:/?#@]+:[^\s/?#@]+@",
    )
]


def _v6(s: str) -> bool:
    try:
        ipaddress.IPv6Address(s)
    except ValueError:
        return False
    return True


def naive_scrub(text: str) -> str:
    """Every pattern over the whole text, validators on each candidate, replace."""
    spans: list[tuple[int, int]] = []
    for _, pattern, valid in _NAIVE:
        spans.extend(m.span() for m in pattern.finditer(text) if valid(m.group()))
    for pattern in _NAIVE_SECRETS:
        spans.extend(m.span() for m in pattern.finditer(text))
    if not spans:
        return text
    out, pos = [], 0
    for start, end in sorted(spans):
        if start >= pos:
            out.append(text[pos:start])
            out.append("<PII>")
            pos = end
    out.append(text[pos:])
    return "".join(out)


# -- timing ------------------------------------------------------------------------------


def _time(fn: Callable[[str], str], docs: list[str]) -> float:
    """CPU seconds of this process: MB/s per core, less skewed by other processes than
    wall time on a shared machine."""
    started = time.process_time()
    for doc in docs:
        fn(doc)
    return time.process_time() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=8.0, help="corpus size in MB (chars)")
    parser.add_argument("--repeat", type=int, default=3, help="best of N interleaved runs")
    args = parser.parse_args(argv)

    docs = build_corpus(args.mb)
    chars = sum(len(d) for d in docs)
    mb = chars / 1e6
    scrubber = PIIScrubber()
    found = sum(len(scrubber.find(d)) for d in docs)
    print(f"corpus: {len(docs)} docs, {mb:.1f} MB (chars), {found} findings by PIIScrubber")

    ours, naive = [], []
    for _ in range(args.repeat):
        ours.append(_time(scrubber.scrub, docs))
        naive.append(_time(naive_scrub, docs))
    ours_mbs, naive_mbs = mb / min(ours), mb / min(naive)
    print(f"PIIScrubber.scrub : {ours_mbs:7.1f} MB/s per core")
    print(f"naive baseline    : {naive_mbs:7.1f} MB/s per core")
    print(f"ratio             : {ours_mbs / naive_mbs:7.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
