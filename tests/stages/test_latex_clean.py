"""LatexClean keeps a paper's text and cuts what surrounds it (LLaMA's arXiv recipe), on the
sample's JSS vignettes and on real papers from Debian (tests/stages/data/latex/)."""

from __future__ import annotations

import glob
import re
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from cleanpipe import Document
from cleanpipe.stages import LanguageID, LatexClean
from cleanpipe.stages.base import STAGE_REGISTRY

REPO = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data" / "latex"

#: a line that belongs to the preamble, a comment or the bibliography: none may be left.
LEFTOVER = re.compile(
    r"\\(?:documentclass|usepackage|RequirePackage|newcommand|renewcommand|providecommand"
    r"|[gex]?def\\|bibitem|bibliography|bibliographystyle|printbibliography"
    r"|begin\{thebibliography\}|begin\{document\}|end\{document\}|SweaveOpts|maketitle"
    r"|Plainauthor|Plaintitle|Address|Keywords|Plainkeywords|iffalse|begin\{comment\})"
    r"|(?<!\\)%"
)
#: what may hold a literal % or a LaTeX command as code: taken out before LEFTOVER is applied.
CODE = re.compile(
    r"\\begin\{(Sinput|Soutput|Scode|verbatim|Verbatim|lstlisting)\}.*?\\end\{\1\}"
    r"|^[ \t]*<<[^\n]*>>=.*?^[ \t]*@"
    r"|\\[vV]erb(.)[^\n]*?\2|\\url\{[^}\n]*\}|\\href\{[^}\n]*\}",
    re.DOTALL | re.MULTILINE,
)


def leftovers(text: str) -> list[str]:
    return [line for line in CODE.sub("", text).split("\n") if LEFTOVER.search(line)]


def sample_papers() -> dict[str, str]:
    rows: dict[str, str] = {}
    for path in sorted(glob.glob(str(REPO / "sample_data" / "papers" / "*.parquet"))):
        for row in pq.read_table(path).to_pylist():
            rows[row["doc_id"]] = row["body"]
    return rows


@pytest.fixture(scope="module")
def papers() -> dict[str, str]:
    return sample_papers()


@pytest.fixture(scope="module")
def cleaned(papers: dict[str, str]) -> dict[str, tuple[str, dict]]:
    stage = LatexClean(min_chars=None)
    return {doc_id: stage.clean(body) for doc_id, body in papers.items()}


def clean(name: str, **options: object) -> tuple[str, dict]:
    return LatexClean(**options).clean((DATA / name).read_text(encoding="utf-8"))


# -- the sample's papers -----------------------------------------------------------------


def test_langid_reads_english_on_at_least_95_percent_of_the_sample_papers(
    papers: dict[str, str], cleaned: dict[str, tuple[str, dict]]
) -> None:
    lid = LanguageID()
    # the head reading (first 20,000 characters) is the one that read a raw preamble as
    # Javanese; the default windows also read the body, so the raw papers are compared by it
    before = LanguageID(window_chars=None).predict(list(papers.values()))
    after = lid.predict([text for text, _ in cleaned.values()])
    english = [lang == "en" and score >= 0.5 for lang, score in after]  # llama.yaml's 0.5
    assert sum(english) / len(english) >= 0.95
    # the raw sample had a preamble read as Javanese; after cleaning every paper is English
    assert ("jss-coin-MAXtest-01", "jv") in [
        (doc_id, lang) for doc_id, (lang, _) in zip(papers, before, strict=True)
    ]
    assert all(english)


def test_no_preamble_comment_or_bibliography_line_is_left_in_any_sample_paper(
    cleaned: dict[str, tuple[str, dict]],
) -> None:
    left = {doc_id: leftovers(text)[:3] for doc_id, (text, _) in cleaned.items()}
    assert {doc_id: lines for doc_id, lines in left.items() if lines} == {}


def test_the_checker_sees_what_the_raw_papers_have(papers: dict[str, str]) -> None:
    # the assertion above could not pass by a checker blind to preambles and comments
    assert all(leftovers(body) for doc_id, body in papers.items() if doc_id.endswith("-01"))


def test_title_and_abstract_from_the_preamble_head_the_text_then_the_first_section(
    cleaned: dict[str, tuple[str, dict]],
) -> None:
    text, signals = cleaned["jss-sandwich-sandwich-01"]
    title = "\\title{Econometric Computing with HC and HAC Covariance Matrix Estimators}"
    assert text.startswith(title + "\n\n\\begin{abstract}\nThis introduction to the")
    abstract_end = text.index("\\end{abstract}")
    assert text[abstract_end:].startswith("\\end{abstract}\n\n\\section{Introduction}")
    # the front matter between \begin{document} and the first section went with the preamble
    assert 'library("sandwich")' not in text and "\\Sexpr{warn}" not in text
    assert signals["layout"] == "document" and signals["sections"] is True
    assert signals["chars_removed"]["preamble"] > 500


def test_a_paper_without_sections_keeps_its_whole_body(
    papers: dict[str, str], cleaned: dict[str, tuple[str, dict]]
) -> None:
    text, signals = cleaned["jss-zoo-zoo-design-01"]
    assert signals["sections"] is False
    assert text.startswith("\\title{\\pkg{zoo} Design}\n\n\\begin{abstract}\n")
    first = "\\emph{\\pkg{zoo} works with any ordered index class}"
    assert first in text and first in papers["jss-zoo-zoo-design-01"]
    # ... to its last sentence, without the \bibliography{zoo} after it
    assert text.endswith("package \\citep{zoo:RUnit}.")
    # the hidden set-up chunk (echo=FALSE) and the vignette's % metadata are gone
    assert 'Sys.setenv(TZ = "GMT")' not in text and "VignetteIndexEntry" not in text


def test_later_parts_of_a_split_paper_are_fragments_cut_at_end_document(
    papers: dict[str, str], cleaned: dict[str, tuple[str, dict]]
) -> None:
    text, signals = cleaned["jss-sandwich-sandwich-04"]
    assert signals["layout"] == "fragment"
    assert papers["jss-sandwich-sandwich-04"].rstrip().endswith("\\end{document}")
    assert text.endswith("\\end{appendix}")
    # a fragment loses nothing before its first section
    middle, _ = cleaned["jss-sandwich-sandwich-02"]
    assert middle.startswith(papers["jss-sandwich-sandwich-02"][:200].split("%")[0].rstrip())


def test_percent_in_r_code_and_escaped_percent_stay(
    papers: dict[str, str], cleaned: dict[str, tuple[str, dict]]
) -> None:
    keep = LatexClean(code_chunks="keep", min_chars=None)
    for doc_id in ("jss-lme4-lmer-04", "jss-sandwich-sandwich-OOP-02"):  # R's matrix product
        assert keep.clean(papers[doc_id])[0].count("%*%") == papers[doc_id].count("%*%") > 0
    assert cleaned["jss-lme4-lmer-04"][0].count("\\%") == 8  # "95\% confidence" and the like


def test_bibliography_commands_are_cut_and_end_document_too(
    cleaned: dict[str, tuple[str, dict]],
) -> None:
    text, signals = cleaned["jss-lmtest-lmtest-intro-01"]
    assert "\\bibliography" not in text and signals["chars_removed"]["bibliography"] > 0


# -- real papers from Debian ---------------------------------------------------------------


def test_macros_are_inlined_and_their_definitions_removed() -> None:
    text, signals = clean("survival-validate-excerpt.Rnw")
    # \def\bhat{\hat\beta} and \newcommand{\imat}{H} of the preamble, \def\haz in the body
    assert "U(\\hat\\beta) = 0" in text and "H(\\hat\\beta) = " in text
    assert "Let $\\hat \\lambda_1, \\ldots, \\hat \\lambda_6$ be" in text
    for name in ("bhat", "imat", "haz", "Mhat", "xbar"):
        assert not re.search(rf"\\{name}(?![a-zA-Z])", text), name
    assert signals["macros_inlined"] == 44
    # \code takes an argument: its uses stay, its definition goes
    assert text.count("\\code{") == 3
    assert "\\newcommand" not in text and "\\renewcommand" not in text
    assert leftovers(text) == []


def test_a_macro_name_is_a_whole_control_word() -> None:
    body = "\\section{Intro}\n" + "The \\R{} package and \\Rpackage and \\R\\ again. " * 20
    text, _ = LatexClean().clean(
        "\\documentclass{article}\n\\newcommand{\\R}{\\textsf{R}}\n\\begin{document}\n" + body
    )
    assert text.count("\\textsf{R}") == 40
    assert text.count("\\Rpackage") == 20  # \Rpackage is another command


def test_macros_defined_through_other_macros_and_renewed_ones() -> None:
    text, _ = LatexClean().clean(
        "\\documentclass{article}\n\\newcommand{\\pkgname}{lme4}\n"
        "\\newcommand{\\pkg}{\\textbf{\\pkgname}}\n\\renewcommand{\\pkgname}{zoo}\n"
        "\\def\\loop{\\loop x}\n\\begin{document}\n\\section{A}\nWe use \\pkg, \\loop.\n"
    )
    assert "We use \\textbf{zoo}, \\loop." in text  # last definition wins; \loop uses itself


def test_a_thebibliography_environment_goes_and_the_text_before_it_stays() -> None:
    text, signals = clean("survival-timedep-excerpt.Rnw")
    assert "\\bibitem" not in text and "Anderson JR" not in text
    assert text.endswith("size of the risk set.")
    assert "gives equal\nweight" in text  # the trailing %' went, the line break stays
    assert signals["chars_removed"]["bibliography"] > 1000
    assert leftovers(text) == []


def test_a_paper_without_sections_keeps_its_body_from_begin_document() -> None:
    text, signals = clean("survival-approximate.Rnw")
    assert signals["sections"] is False and signals["layout"] == "document"
    assert text.startswith("\\title{Approximating the Cox Model}\n\nThe Cox model can be")
    assert text.endswith("would be\nexcessive.")
    assert "\\maketitle" not in text and leftovers(text) == []


def test_many_macros_of_a_real_paper(tmp_path: Path) -> None:
    raw = (DATA / "mvtnorm-MVT_Rnews.Rnw").read_text(encoding="utf-8")
    text, signals = LatexClean().clean(raw)
    assert signals["macros_inlined"] > 0 and leftovers(text) == []
    defined = re.findall(r"\\newcommand\{\\([a-zA-Z]+)\}\{", raw)
    for name in defined:
        assert not re.search(rf"\\{name}(?![a-zA-Z])", text), name


def test_iffalse_meta_comment_is_removed_and_a_stub_is_dropped_too_short() -> None:
    raw = (DATA / "l3draw-code.tex").read_text(encoding="utf-8")
    stage = LatexClean()
    drops: list[tuple[str, str]] = []
    stage.on_drop = lambda doc, reason, detail="": drops.append((reason, detail))
    assert list(stage([Document("l3draw", raw)])) == []
    assert drops[0][0] == "latex_clean:too_short"
    assert re.fullmatch(r"\d+ chars left of 1360 after cleaning < min_chars 500", drops[0][1])
    text, signals = LatexClean(min_chars=None).clean(raw)
    assert "LaTeX Project Public License" not in text and text.startswith("\\part{Implementation}")
    assert signals["chars_removed"]["conditionals"] > 700


def test_comment_environment_iffalse_else_and_indented_comments() -> None:
    raw = (
        "\\documentclass{article}\n\\begin{document}\n\\section{Results}\n"
        "The estimates are shown below.\n"
        "   % an indented note to a co-author\n"
        "\\begin{comment}\nAn older version of this paragraph.\n\\end{comment}\n"
        "\\iffalse\nDraft text \\ifx\\a\\b nested\\fi{} still hidden.\n\\else\n"
        "Final text of the paper.\n\\fi\n"
        "Coverage is 95\\% % not 90\\%\nin all settings.\n\\end{document}\n"
    )
    text, signals = LatexClean(min_chars=None).clean(raw)
    assert text == (
        "\\section{Results}\nThe estimates are shown below.\n\n\n"
        "Final text of the paper.\n\nCoverage is 95\\%\nin all settings."
    ).replace("\n\n\n", "\n\n")
    assert set(signals["chars_removed"]) >= {"comments", "conditionals"}


def test_code_chunks_keep_shown_or_remove() -> None:
    raw = (DATA / "survival-approximate.Rnw").read_text(encoding="utf-8")
    hidden = "options(continue="  # the echo=FALSE set-up chunk, before \begin{document}
    shown_code = "ksurv <- survfit(Surv(time, status) ~1, data=kidney)"
    for mode, kept in (("keep", True), ("shown", True), ("remove", False)):
        text, _ = LatexClean(code_chunks=mode).clean(raw)
        assert (shown_code in text) is kept, mode
        assert hidden not in text
    body_hidden = "\\section{A}\nText.\n<<setup, echo = FALSE>>=\nx <- 1 %in% y\n@\nMore text.\n"
    doc = "\\documentclass{article}\n\\begin{document}\n" + body_hidden
    assert "x <- 1 %in% y" in LatexClean(code_chunks="keep", min_chars=None).clean(doc)[0]
    assert "x <- 1" not in LatexClean(min_chars=None).clean(doc)[0]


def test_text_that_is_not_latex_passes_unchanged() -> None:
    prose = "Turnout rose to 67% in 2020; 50% of voters were under 45.\n" * 20
    stage = LatexClean()
    kept = list(stage([Document("news-1", prose)]))
    assert kept[0].text == prose and kept[0].meta["latex_clean"] == {"layout": "not_latex"}


def test_bad_options_are_one_clear_error() -> None:
    with pytest.raises(ValueError, match="code_chunks must be one of keep, shown, remove"):
        LatexClean(code_chunks="drop")
    with pytest.raises(ValueError, match="min_chars"):
        LatexClean(min_chars=-1)
    assert STAGE_REGISTRY["latex_clean"] is LatexClean


def test_drop_appendix_restores_redpajamas_cut(cleaned: dict[str, tuple[str, dict]]) -> None:
    raw = sample_papers()["jss-lme4-lmer-05"]
    with_appendix, _ = cleaned["jss-lme4-lmer-05"]
    without, signals = LatexClean(drop_appendix=True, min_chars=None).clean(raw)
    assert "Modularization examples" in with_appendix and "Modularization examples" not in without
    assert signals["chars_removed"]["appendix"] > 1000


# -- no pathological inputs ----------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "\\documentclass{article}\n\\begin{document}\n\\section{A}\nText.\n" + "%" * 1_000_000,
        "\\section{A}\n" + "\\iffalse " * 100_000,
        "\\section{A}\n" + "\\begin{comment} " * 60_000,
        "\\section{A}\n" + "\\verb|x " * 100_000,
        "\\section{A}\n" + "\\def\\x{" * 100_000,
        "\\section{A}\n" + "a\\% b " * 150_000,
    ],
    ids=["percent-line", "iffalse", "comment-env", "verb", "def-unbalanced", "escaped-percent"],
)
def test_one_megabyte_of_pathological_latex_is_linear(raw: str) -> None:
    started = time.perf_counter()
    LatexClean(min_chars=None).clean(raw)
    # linear work on 1 MB takes well under a second; a quadratic scan would take minutes
    assert time.perf_counter() - started < 10


def test_a_one_megabyte_real_paper_is_cleaned_whole(papers: dict[str, str]) -> None:
    # one paper with the bodies of all 59 sample papers, twice: 1.8 MB of real LaTeX
    bodies = []
    for body in papers.values():
        begin = body.find("\\begin{document}")
        body = body[begin + len("\\begin{document}") :] if begin >= 0 else body
        bodies.append(body.split("\\end{document}")[0])
    preamble = papers["jss-lme4-lmer-01"].split("\\begin{document}")[0]
    big = preamble + "\\begin{document}\n" + "\n".join(bodies * 2) + "\\end{document}\n"
    assert len(big) > 1_000_000
    text, signals = LatexClean().clean(big)
    assert signals["layout"] == "document" and len(text) > 1_400_000
    assert leftovers(text) == []


def test_inline_macros_off_keeps_uses_but_still_removes_definitions() -> None:
    text, signals = clean("survival-validate-excerpt.Rnw", inline_macros=False)
    assert "\\xbar(t)" in text and "\\overline x" not in text
    assert "\\newcommand" not in text and "macros_inlined" not in signals
