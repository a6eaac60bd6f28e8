"""LatexClean throughput (docs/s, MB/s) against a one-regex floor and a naive cleaner, in
the same run.

    python benchmarks/bench_latex_clean.py [--repeat 5]

Texts: the 59 JSS vignettes of sample_data/papers (0.96 MB of real LaTeX/Sweave), and one
1.8 MB paper made of all their bodies twice (the size the stage must not choke on).

- floor: one ``re.sub`` that deletes whole-line comments, the least any regex cleaner does
  (one linear pass over the text);
- naive: the shape of RedPajama's arXiv cleaner, written here: comment regexes, a lazy
  DOTALL cut before the first section, and one ``re.sub`` over the whole text per macro
  (its cost grows with macros x text length). It does less than the stage: no verbatim or
  code-chunk protection (it cuts R's ``%in%``), no ``\\iffalse``/``comment`` blocks, no
  title or abstract, single-line definitions only;
- read: reading the papers' Parquet files (the input step before any stage), for scale.
"""

from __future__ import annotations

import argparse
import re

import pyarrow.parquet as pq
from _common import REPO, best_of

from cleanpipe.stages import LatexClean

_COMMENT_LINE = re.compile(r"(?m)^[ \t]*%.*\n?")
_TRAILING = re.compile(r"(?m)(?<!\\)%.*$")
_FIRST_SECTION = re.compile(r"^.*?(?=\\(?:chapter|part|(?:sub)*section)\*?\{)", re.DOTALL)
_NEWCOMMAND = re.compile(r"\\newcommand\*?\{(\\[a-zA-Z]+)\}\{(.*)\}$", re.MULTILINE)
_BIB = re.compile(r"\\begin\{thebibliography\}.*$|\\bibliography\{[^}]*\}", re.DOTALL)


def naive_clean(text: str) -> str:
    macros = {m[1]: m[2] for m in _NEWCOMMAND.finditer(text)}
    text = _TRAILING.sub("", _COMMENT_LINE.sub("", text))
    text = _FIRST_SECTION.sub("", text, count=1)
    text = _BIB.sub("", text)
    for name, value in macros.items():  # one pass over the text per macro
        text = re.sub(re.escape(name) + r"(?![a-zA-Z])", lambda _m, v=value: v, text)
    return text


def papers() -> list[str]:
    texts = []
    for path in sorted((REPO / "sample_data" / "papers").glob("*.parquet")):
        texts.extend(pq.read_table(path, columns=["body"]).column("body").to_pylist())
    return texts


def one_big_paper(texts: list[str]) -> str:
    bodies = []
    for text in texts:
        begin = text.find("\\begin{document}")
        body = text[begin + len("\\begin{document}") :] if begin >= 0 else text
        bodies.append(body.split("\\end{document}")[0])
    preamble = texts[5].split("\\begin{document}")[0]  # jss-lme4-lmer-01: 14 \newcommand
    return preamble + "\\begin{document}\n" + "\n".join(bodies * 2) + "\\end{document}\n"


def report(label: str, texts: list[str], repeat: int) -> None:
    stage = LatexClean()
    mb = sum(len(t.encode()) for t in texts) / 1e6
    t_floor = best_of(repeat, lambda: [_COMMENT_LINE.sub("", t) for t in texts])
    t_naive = best_of(repeat, lambda: [naive_clean(t) for t in texts])
    t_stage = best_of(repeat, lambda: [stage.clean(t) for t in texts])
    print(f"{label}: {len(texts)} docs, {mb:.2f} MB")
    for name, seconds in (("floor (one regex)", t_floor), ("naive", t_naive)):
        print(f"  {name:18s} {len(texts) / seconds:9.0f} docs/s {mb / seconds:7.1f} MB/s")
    print(
        f"  {'LatexClean':18s} {len(texts) / t_stage:9.0f} docs/s {mb / t_stage:7.1f} MB/s"
        f"  ({t_stage / t_floor:.1f}x the floor's time, {t_stage / t_naive:.1f}x the naive's)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    texts = papers()
    read = best_of(args.repeat, papers)
    mb = sum(len(t.encode()) for t in texts) / 1e6
    print(f"read the Parquet files: {len(texts) / read:.0f} docs/s, {mb / read:.1f} MB/s")
    report("sample papers", texts, args.repeat)
    report("one 1.8 MB paper", [one_big_paper(texts)], args.repeat)
    report("1 MB line of %", ["\\section{A}\nText.\n" + "%" * 1_000_000], args.repeat)


if __name__ == "__main__":
    main()
