"""LaTeX papers as LLaMA cleaned arXiv: the paper's text, without what surrounds it.

Touvron et al. 2023 (LLaMA, section 2.1, "ArXiv"): "We removed everything before the first
section, as well as the bibliography. We also removed the comments from the .tex files,
and inline-expanded definitions and macros written by users". RedPajama-Data's arXiv
cleaner (``data_prep/arxiv/arxiv_cleaner.py``) implements that recipe; this stage follows
it, with three deliberate differences: the title and abstract are kept, a paper without
sections keeps its body instead of being emptied, and the appendix stays (``drop_appendix``
restores RedPajama's cut at ``\\appendix``). docs/papers.md says what is cut and why.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from cleanpipe.document import Document
from cleanpipe.stages.base import Transform, register
from cleanpipe.stages.latex_source import (
    CODE_CHUNK_MODES,
    Definition,
    definitions,
    group_end,
    strip_source,
)
from cleanpipe.stages.rules import Drop, Verdict

#: what makes a text LaTeX at all: anything else passes through untouched (a ``%`` in
#: plain prose is a percent sign, not a comment).
_LOOKS_LIKE_LATEX = re.compile(
    r"\\(?:documentclass|begin\{|section\*?\{|chapter\*?\{|usepackage|input\{|newcommand"
    r"|[gex]?def\\)"
)
#: LLaMA's "first section", with RedPajama's list of section-like commands.
SECTION = re.compile(
    r"\\(?:part|chapter|section|subsection|subsubsection|paragraph|subparagraph)\*?(?![a-zA-Z])"
)
_BEGIN_DOCUMENT = "\\begin{document}"
_END_DOCUMENT = "\\end{document}"
_TITLE = re.compile(r"\\title[ \t]*(?:\[[^\]\n]*\])?[ \t\n]*(?=\{)")
_ABSTRACT_COMMAND = re.compile(r"\\[aA]bstract[ \t\n]*(?=\{)")  # \abstract{}, JSS's \Abstract{}
#: the bibliography in all its spellings: environments, BibTeX and biblatex commands.
_BIBLIOGRAPHY = re.compile(
    r"(?=\\)\\(?:begin\{(?P<env>thebibliography|references)\}"
    r"|(?:bibliography|bibliographystyle|addbibresource|nobibliography)[ \t]*(?=\{)"
    r"|printbibliography(?:[ \t]*\[[^\]\n]*\])?"
    r"|(?P<bibitem>bibitem\b[^\n]*\n?))"
)
_BIBLIOGRAPHY_ARGUMENT_CHARS = 2_000
#: commands that only load packages or lay out the front matter: no text of the paper in
#: them (a fragment or a paper without sections still has them).
_FRONT_MATTER = re.compile(
    r"(?=\\)\\(?:(?:maketitle|tableofcontents|listoffigures|listoftables)\b[ \t]*\n?"
    r"|(?:documentclass|usepackage|RequirePackage|PassOptionsToPackage)\b[^\n]*\n?"
    r"|SweaveOpts[ \t]*\{[^{}\n]*\}[ \t]*\n?)"
)
_APPENDIX = re.compile(r"\\appendix(?![a-zA-Z])|\\begin\{appendix\}")
#: macros never inlined: replacing the commands the structure is read from (a class that
#: redefines ``\section``) would break the cleaning itself.
_NEVER_INLINE = frozenset(
    "part chapter section subsection subsubsection paragraph subparagraph begin end item "
    "title abstract appendix bibliography bibitem input include documentclass".split()
)
#: longest replacement text inlined; longer macros are layout code, not words.
MAX_MACRO_CHARS = 2_000
_MANY_BLANK_LINES = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")


@register("latex_clean")
class LatexClean(Transform):
    """Keep a LaTeX paper's text: title, abstract and everything from the first section.

    What goes (LLaMA; RedPajama's arXiv cleaner): the preamble and front matter before the
    first section-like command after ``\\begin{document}`` (the title and abstract are kept
    and put first); comments (whole-line, indented and trailing; ``\\%`` is a percent sign,
    and ``%`` inside verbatim environments and code chunks is code, as TeX reads it);
    ``\\iffalse`` blocks and ``comment`` environments; the bibliography
    (``thebibliography``, ``\\bibliography``, ``\\bibliographystyle``, ``\\bibitem``,
    ``\\printbibliography``); ``\\end{document}`` and what follows. Argument-free macros
    (``\\newcommand{\\foo}{...}``, ``\\renewcommand``, ``\\def\\foo{...}``) are inlined
    wherever ``\\foo`` is used (``\\foobar`` is another command); macros with arguments
    are left as they are, as RedPajama does.

    A paper with no section keeps its whole body. A text without ``\\begin{document}`` is
    a fragment (an included chapter, a later part of a split paper): nothing is cut before
    its first section, unless it has a ``\\documentclass`` (a preamble whose
    ``\\begin{document}`` is missing: then it is cut as a paper is). Text that is not
    LaTeX at all passes through unchanged.

    ``code_chunks`` (Sweave/knitr ``<<...>>=`` ... ``@`` in ``.Rnw``): ``shown`` (default)
    keeps the chunks the paper prints and removes ``echo=FALSE`` ones, the set-up code no
    reader sees; ``keep`` or ``remove`` keep or remove all. ``min_chars``: a document
    shorter than this after cleaning is dropped as ``latex_clean:too_short``; 500 chars is
    about 80 words of LaTeX, above Gopher's 50-word minimum once markup is counted: what is
    left below it is a stub (a main file of ``\\input`` lines, a title page). ``None``
    disables the rule. ``drop_appendix`` cuts at ``\\appendix`` as RedPajama does;
    ``inline_macros: false`` leaves uses of macros as written (definitions still go).
    ``meta["latex_clean"]`` records what was cut, in characters.
    """

    def __init__(
        self,
        *,
        code_chunks: str = "shown",
        min_chars: int | None = 500,
        drop_appendix: bool = False,
        inline_macros: bool = True,
    ) -> None:
        super().__init__()
        if code_chunks not in CODE_CHUNK_MODES:
            raise ValueError(
                f"code_chunks must be one of {', '.join(CODE_CHUNK_MODES)}, got {code_chunks!r}"
            )
        if min_chars is not None and min_chars < 0:
            raise ValueError(f"min_chars must be >= 0 or None, got {min_chars}")
        self.code_chunks = code_chunks
        self.min_chars = min_chars
        self.drop_appendix = drop_appendix
        self.inline_macros = inline_macros

    def process(self, doc: Document) -> Verdict:
        chars_in = len(doc.text)
        doc.text, signals = self.clean(doc.text)
        doc.meta[self.name] = signals
        if self.min_chars is not None and signals["layout"] != "not_latex":
            left = len(doc.text.strip())
            if left < self.min_chars:
                return Drop(
                    "too_short",
                    f"{left} chars left of {chars_in} after cleaning < min_chars {self.min_chars}",
                )
        return None

    def clean(self, text: str) -> tuple[str, dict[str, Any]]:
        """The cleaned text and what was cut (the signals stored in ``meta``)."""
        if _LOOKS_LIKE_LATEX.search(text) is None:
            return text, {"layout": "not_latex"}
        text = text.replace("\r\n", "\n").replace("\x00", "")
        src = strip_source(text, code_chunks=self.code_chunks)
        body, layout, has_sections, inlined = self._paper_text(src.text, src.removed)
        cleaned = _MANY_BLANK_LINES.sub("\n\n", src.restore(body)).strip()
        removed = {kind: chars for kind, chars in src.removed.items() if chars}
        signals: dict[str, Any] = {
            "layout": layout,
            "sections": has_sections,
            "chars_removed": dict(sorted(removed.items())),
            "code_chunks": src.code_chunks,
        }
        if self.inline_macros:
            signals["macros_inlined"] = inlined
        if src.unclosed:
            signals["unclosed"] = sorted(src.unclosed)
        return cleaned, signals

    def _paper_text(self, text: str, cut: Counter) -> tuple[str, str, bool, int]:
        """The kept part of comment-free ``text``: (text, layout, whether it has sections,
        macro uses inlined)."""
        macros = definitions(text)
        # every definition goes (a definition is not text); uses of the argument-free ones
        # are inlined below (unless inline_macros is off), uses of the others stay as written
        text = _remove_spans(text, [(d.start, d.end) for d in macros], cut)
        begin = text.find(_BEGIN_DOCUMENT)
        if begin >= 0:
            layout, body_start = "document", begin + len(_BEGIN_DOCUMENT)
        elif "\\documentclass" in text:
            layout, body_start = "no_begin_document", 0
        else:
            layout, body_start = "fragment", 0
        end = text.find(_END_DOCUMENT, body_start)
        body_end = len(text) if end < 0 else end
        section = SECTION.search(text, body_start, body_end)
        keep_from = body_start
        if section is not None and layout != "fragment":
            keep_from = section.start()
        front = _title_and_abstract(text, keep_from)
        cut["preamble"] += max(0, keep_from - len(front))
        body = text[keep_from:body_end]
        if self.drop_appendix and (appendix := _APPENDIX.search(body)) is not None:
            cut["appendix"] += len(body) - appendix.start()
            body = body[: appendix.start()]
        body = _remove_bibliography(body, cut)
        body = _FRONT_MATTER.sub("", body)
        paper, inlined = _inline(front + body, macros) if self.inline_macros else (front + body, 0)
        return paper, layout, section is not None, inlined


def _inline(text: str, macros: list[Definition]) -> tuple[str, int]:
    """Replace each use of an argument-free macro by its (expanded) value; a ``{}`` right
    after the name (``\\R{} is``, written to keep the space) goes with it."""
    values = _macro_values(macros)
    used = sorted(name for name in values if "\\" + name in text)
    if not used:
        return text, 0
    # the names themselves, after a backslash that is not the second of a "\\\\"
    pattern = re.compile(r"(?<!\\)\\(" + "|".join(used) + r")(?![a-zA-Z])(?:\{\})?")
    return pattern.subn(lambda m: _replacement(values[m[1]], m[0]), text)


_ENDS_IN_CONTROL_WORD = re.compile(r"\\[a-zA-Z]+$")
#: a control word and a ``{}`` after it; ``\\\\`` first, so ``\\\\Rest`` (a line break,
#: then "Rest") is no use of ``\\Rest``.
_CONTROL_WORD = re.compile(r"\\\\|\\(?P<name>[a-zA-Z]+)(?:\{\})?")


def _replacement(value: str, use: str) -> str:
    """A macro's value for one use; ``\\x{}b`` with ``\\x`` = ``\\alpha`` keeps its ``{}``,
    or it would read ``\\alphab``."""
    if use.endswith("{}") and _ENDS_IN_CONTROL_WORD.search(value):
        return value + "{}"
    return value


def _title_and_abstract(text: str, keep_from: int) -> str:
    """``\\title{...}`` and the abstract, as they will head the kept text, when they lie
    before ``keep_from`` (the preamble or front matter that is cut); ``""`` otherwise."""
    parts: list[str] = []
    title = _TITLE.search(text, 0, keep_from)
    if title is not None and (end := group_end(text, title.end())) is not None and end <= keep_from:
        parts.append(f"\\title{{{text[title.end() + 1 : end - 1].strip()}}}")
    abstract = _abstract(text, keep_from)
    if abstract:
        parts.append(f"\\begin{{abstract}}\n{abstract}\n\\end{{abstract}}")
    return "\n\n".join(parts) + "\n\n" if parts else ""


def _abstract(text: str, keep_from: int) -> str:
    """The abstract's text if it lies before ``keep_from``: an ``abstract`` environment,
    or an ``\\abstract{...}``/``\\Abstract{...}`` command (JSS puts it in the preamble)."""
    begin = text.find("\\begin{abstract}", 0, keep_from)
    if begin >= 0:
        end = text.find("\\end{abstract}", begin, keep_from)
        if end >= 0:
            return text[begin + len("\\begin{abstract}") : end].strip()
    command = _ABSTRACT_COMMAND.search(text, 0, keep_from)
    if command is not None and (end := group_end(text, command.end())) is not None:
        return text[command.end() + 1 : end - 1].strip()
    return ""


def _remove_bibliography(body: str, cut: Counter) -> str:
    spans: list[tuple[int, int]] = []
    pos = 0
    while match := _BIBLIOGRAPHY.search(body, pos):
        start, end = match.span()
        if match["env"]:
            closing = body.find(f"\\end{{{match['env']}}}", end)
            end = len(body) if closing < 0 else closing + len(match["env"]) + 6
        elif body.startswith("{", end):  # a file name or a style: short
            end = group_end(body, end, limit=_BIBLIOGRAPHY_ARGUMENT_CHARS) or end
        spans.append((start, end))
        pos = end
    before = len(body)
    body = _remove_spans(body, spans, None)
    cut["bibliography"] += before - len(body)
    return body


def _remove_spans(text: str, spans: list[tuple[int, int]], cut: Counter | None) -> str:
    """``text`` without the given sorted, non-overlapping spans (definitions counted)."""
    if not spans:
        return text
    pieces: list[str] = []
    last = 0
    for start, end in spans:
        pieces.append(text[last:start])
        last = end
    pieces.append(text[last:])
    if cut is not None:
        cut["definitions"] += sum(end - start for start, end in spans)
    return "".join(pieces)


def _macro_values(macros: list[Definition]) -> dict[str, str]:
    """Name -> replacement for the macros to inline, each value with the others expanded
    in it. The last definition of a name wins (its \\renewcommand). A macro that uses itself
    (directly or through others), has ``@``/``#`` in its value (internal or parameter code)
    or would grow past :data:`MAX_MACRO_CHARS` is not inlined."""
    values: dict[str, str] = {}
    for d in macros:
        if d.value is None or d.name in _NEVER_INLINE or "@" in d.name:
            values.pop(d.name, None)  # a later definition with arguments replaces it too
            continue
        if "@" in d.value or "#" in d.value or len(d.value) > MAX_MACRO_CHARS:
            values.pop(d.name, None)
            continue
        values[d.name] = d.value
    if not values:
        return values

    def uses(value: str) -> list[str]:
        return [m["name"] for m in _CONTROL_WORD.finditer(value) if m["name"] in values]

    for _ in range(8):  # macros of macros, a few levels deep
        changed = False
        for name, value in list(values.items()):
            if not uses(value):
                continue
            expanded = _CONTROL_WORD.sub(
                lambda m, own=name: (
                    _replacement(values[m["name"]], m[0])
                    if m["name"] in values and m["name"] != own
                    else m[0]
                ),
                value,
            )
            if expanded != value:
                values[name] = expanded
                changed = True
        if not changed:
            break
    return {
        name: value
        for name, value in values.items()
        if len(value) <= MAX_MACRO_CHARS and not uses(value)
    }
