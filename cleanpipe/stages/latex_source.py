"""Reading LaTeX source the way TeX reads it, as far as cleaning needs: one linear pass
that removes comments, ``\\iffalse`` blocks and ``comment`` environments while keeping
verbatim text and Sweave/knitr code chunks out of reach, then argument-free macro
definitions and balanced ``{...}`` groups.

Used by :mod:`cleanpipe.stages.latex_clean`. Everything here is regular expressions run
left to right plus bounded brace scans, so a 1 MB paper (or a 1 MB line of ``%``) is
linear in its length: no pattern can backtrack over more than one line.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

#: environments whose text TeX reads with ``%`` and ``\\`` as ordinary characters: their
#: content is code or output (Sweave's ``Sinput``/``Soutput``, listings), never comments.
VERBATIM_ENVIRONMENTS = (
    "verbatim",
    "verbatim*",
    "Verbatim",
    "Verbatim*",
    "BVerbatim",
    "LVerbatim",
    "lstlisting",
    "minted",
    "Sinput",
    "Soutput",
    "Scode",
)

#: ``\\if...`` commands of packages (ifthen, etoolbox) that take arguments and have no
#: ``\\fi``: counting them as conditionals would unbalance an ``\\iffalse`` block.
_IF_WITHOUT_FI = frozenset(
    "ifthenelse ifboolexpr ifbool iftoggle ifdef ifundef ifcsdef ifcsundef ifstrequal "
    "ifstrempty ifblank ifnumcomp ifdimcomp ifdefstring ifdefempty ifdefmacro".split()
)

#: a protected span (verbatim, code chunk) stands in the text as NUL + index + NUL until
#: the end, so that no later step (sections, macros, bibliography) reads inside it.
_PLACEHOLDER = re.compile("\x00([0-9]+)\x00")

_verbatim_names = "|".join(re.escape(name) for name in VERBATIM_ENVIRONMENTS)
_SCAN = re.compile(
    r"(?P<escape>\\[\\%])"  # \\ and \% are text: the % after them starts no comment
    r"|(?P<comment>%[^\n]*)"
    rf"|\\begin\{{(?P<verbatim>{_verbatim_names})\}}"
    r"|\\(?:verb|Verb|lstinline)\*?(?P<delim>[^a-zA-Z\s\[{])"
    r"|(?P<url>\\(?:url|href|path)[ \t]*\{[^{}\n]*\})"  # % in a URL is literal
    r"|(?P<comment_env>\\begin\{comment\})"
    r"|(?P<iffalse>\\iffalse(?![a-zA-Z]))"
    r"|(?P<fi>\\fi(?![a-zA-Z]))"
    r"|(?P<chunk>^[ \t]*<<[^\n]*>>=[^\n]*$)",
    re.MULTILINE,
)
#: inside an \iffalse block: what can open, branch or close a conditional (and comments,
#: which may hide a \fi).
_CONDITIONAL = re.compile(
    r"\\[\\%]|%[^\n]*|\\newif\\if[a-zA-Z]*|\\(?P<word>if[a-zA-Z]*|else|fi)(?![a-zA-Z])"
)
#: Sweave ends a chunk with a line starting ``@``; knitr also lets the next chunk's header end it.
_CHUNK_END = re.compile(r"^[ \t]*@[ \t]*(?:%[^\n]*)?$|^[ \t]*<<[^\n]*>>=[^\n]*$", re.MULTILINE)
_ECHO_FALSE = re.compile(r"\becho\s*=\s*(?:FALSE|F)\b")

#: how far a ``\verb`` argument is looked for (it cannot span lines).
_VERB_REACH = 2000

#: code chunks: kept as they are, kept unless ``echo=FALSE`` (the paper does not show
#: them), or removed.
CODE_CHUNK_MODES = ("keep", "shown", "remove")


@dataclass
class Source:
    """LaTeX text with comments, conditionals and (optionally) code chunks removed.

    ``text`` holds placeholders for the protected spans in ``protected``; :meth:`restore`
    puts them back. ``removed`` counts the characters each step removed.
    """

    text: str
    protected: list[str] = field(default_factory=list)
    removed: Counter = field(default_factory=Counter)
    code_chunks: int = 0
    unclosed: set[str] = field(default_factory=set)

    def protect(self, span: str) -> str:
        self.protected.append(span)
        return f"\x00{len(self.protected) - 1}\x00"

    def restore(self, text: str) -> str:
        """``text`` with every placeholder replaced by the span it stands for."""
        if "\x00" not in text:
            return text
        return _PLACEHOLDER.sub(lambda m: self.protected[int(m[1])], text)


def strip_source(text: str, *, code_chunks: str = "keep") -> Source:
    """Remove comments (whole-line ones with their line, trailing ones to the line end),
    ``\\iffalse ... \\fi`` (keeping an ``\\else`` branch) and ``comment`` environments;
    protect verbatim environments, ``\\verb`` and code chunks (``code_chunks`` decides
    whether a chunk is kept, see :data:`CODE_CHUNK_MODES`). ``%`` inside protected text is
    literal (R's ``%in%``), as TeX and Sweave read it. An ``\\iffalse`` or ``comment``
    environment that is never closed is left in place and named in ``unclosed``."""
    src = Source("")
    out: list[str] = []
    last = 0
    skip_fi: set[int] = set()  # \fi of an \iffalse ... \else whose else-branch is kept
    pos = 0
    while match := _SCAN.search(text, pos):
        start, end = match.span()
        kind = match.lastgroup
        if kind == "escape" or kind == "url":
            pos = end
            continue
        if kind == "fi":
            if start in skip_fi:
                out.append(text[last:start])
                last = end
            pos = end
            continue
        if kind == "comment":
            last = _drop_comment(text, out, last, start, end, src)
            pos = last
            continue
        if kind == "iffalse":
            # once one \iffalse is found unclosed, later ones are not searched again: each
            # search would run to the end of the text (quadratic on a pathological input)
            branch = None if "iffalse" in src.unclosed else _conditional_end(text, end)
            if branch is None:
                src.unclosed.add("iffalse")
                pos = end
                continue
            keep_from, fi_start, fi_end = branch
            out.append(text[last:start])
            if keep_from is None:  # no \else: the whole block goes
                src.removed["conditionals"] += fi_end - start
                last = pos = fi_end
            else:  # \iffalse A \else B \fi: B stays, its \fi goes
                src.removed["conditionals"] += keep_from - start + fi_end - fi_start
                skip_fi.add(fi_start)
                last = pos = keep_from
            continue
        protected_end, keep = _protected_end(text, match, code_chunks, src)
        if protected_end is None:
            pos = end
            continue
        out.append(text[last:start])
        if keep:
            out.append(src.protect(text[start:protected_end]))
        last = pos = protected_end
    out.append(text[last:])
    src.text = "".join(out)
    return src


def _drop_comment(text: str, out: list[str], last: int, start: int, end: int, src: Source) -> int:
    """Append the text before a comment to ``out`` and return where to go on. A comment
    alone on its line (indented or not) takes its line with it, so no blank line appears
    inside a paragraph; a trailing comment goes with the spaces before it, its newline
    stays (TeX would also join the lines; a newline reads as the same space)."""
    before = text[last:start]
    line_start = before.rfind("\n") + 1
    alone = not before[line_start:].strip() and (
        line_start > 0 or last == 0 or text[last - 1] == "\n"
    )
    if alone:
        out.append(before[:line_start])
        stop = end + 1 if text.startswith("\n", end) else end
        src.removed["comments"] += stop - (last + line_start)
        return stop
    kept = before.rstrip(" \t")
    out.append(kept)
    src.removed["comments"] += end - last - len(kept)
    return end


def _protected_end(
    text: str, match: re.Match[str], code_chunks: str, src: Source
) -> tuple[int | None, bool]:
    """Where a verbatim span, ``\\verb``, ``comment`` environment or code chunk that starts
    at ``match`` ends, and whether it is kept (``None``: not closed, read on as text)."""
    kind, end = match.lastgroup, match.end()
    if kind == "verbatim":
        closing = f"\\end{{{match['verbatim']}}}"
        found = text.find(closing, end)
        return (len(text) if found < 0 else found + len(closing)), True
    if kind == "delim":  # \verb|...| lies on one line: look no further than a long line
        found = text.find(match["delim"], end, end + _VERB_REACH)
        if found < 0 or "\n" in text[end:found]:
            return None, False
        return found + 1, True
    if kind == "comment_env":
        found = -1 if "comment" in src.unclosed else text.find("\\end{comment}", end)
        if found < 0:
            src.unclosed.add("comment")
            return None, False
        stop = found + len("\\end{comment}")
        src.removed["conditionals"] += stop - match.start()
        return stop, False
    # a code chunk: to its "@" line (included) or to the next chunk's header (excluded)
    src.code_chunks += 1
    closing_match = _CHUNK_END.search(text, end + 1)
    if closing_match is None:
        stop = len(text)
    elif closing_match[0].lstrip().startswith("@"):
        stop = text.index("@", closing_match.start()) + 1  # a comment after "@" is LaTeX
    else:
        stop = closing_match.start()
    keep = code_chunks == "keep" or (
        code_chunks == "shown" and _ECHO_FALSE.search(match["chunk"]) is None
    )
    if not keep:
        src.removed["code_chunks"] += stop - match.start()
    return stop, keep


def _conditional_end(text: str, pos: int) -> tuple[int | None, int, int] | None:
    """For an ``\\iffalse`` ending at ``pos``: (end of its ``\\else`` or ``None``, start and
    end of its ``\\fi``), counting nested conditionals; ``None`` if it is never closed."""
    depth = 1
    else_end: int | None = None
    for match in _CONDITIONAL.finditer(text, pos):
        word = match["word"]
        if word is None or word in _IF_WITHOUT_FI:
            continue
        if word == "fi":
            depth -= 1
            if depth == 0:
                return else_end, match.start(), match.end()
        elif word == "else":
            if depth == 1 and else_end is None:
                else_end = match.end()
        else:
            depth += 1
    return None


# -- groups and macro definitions --------------------------------------------------------

_BRACE = re.compile(r"\\.|[{}]", re.DOTALL)
#: a ``{...}`` group is looked for over at most this many characters: an unbalanced brace
#: then costs a bounded scan, not one to the end of the text per definition.
MAX_GROUP_CHARS = 50_000


def group_end(text: str, open_pos: int, limit: int = MAX_GROUP_CHARS) -> int | None:
    """The index just after the ``}`` closing the ``{`` at ``open_pos`` (``\\{`` and
    ``\\}`` do not count), or ``None`` if it does not close within ``limit`` characters."""
    depth = 0
    for match in _BRACE.finditer(text, open_pos, min(len(text), open_pos + limit)):
        brace = match[0]
        if brace == "{":
            depth += 1
        elif brace == "}":
            depth -= 1
            if depth == 0:
                return match.end()
    return None


def brace_pairs(text: str) -> dict[int, int]:
    """Position of every ``{`` that closes -> the position just after its ``}``, in one
    pass (a definition's value is then found in constant time, however many there are)."""
    pairs: dict[int, int] = {}
    stack: list[int] = []
    for match in _BRACE.finditer(text):
        brace = match[0]
        if brace == "{":
            stack.append(match.start())
        elif brace == "}" and stack:
            pairs[stack.pop()] = match.end()
    return pairs


#: ``\newcommand{\foo}``, ``\renewcommand*\foo``, ``\providecommand``, ``\def\foo``
#: (and ``\gdef``/``\edef``/``\xdef``); what follows the name decides if it has arguments.
_DEFINITION = re.compile(
    r"\\(?:(?:re)?newcommand|providecommand)\*?[ \t]*(?:\{[ \t]*\\(?P<braced>[a-zA-Z@]+)[ \t]*\}"
    r"|\\(?P<bare>[a-zA-Z@]+))"
    r"|\\[gex]?def[ \t]*\\(?P<defined>[a-zA-Z@]+)"
)
_ARGUMENT_COUNT = re.compile(r"[ \t\n]*\[[ \t]*(\d)[ \t]*\]")


@dataclass(frozen=True)
class Definition:
    """One macro definition: its name, its replacement text (``None`` when it takes
    arguments: it is left alone) and where the whole definition lies."""

    name: str
    value: str | None
    start: int
    end: int


def definitions(text: str) -> list[Definition]:
    """Every ``\\newcommand``/``\\renewcommand``/``\\providecommand``/``\\def`` in
    ``text``, in order. Argument-free ones (no ``[n]`` with n > 0, no ``#1`` parameter)
    carry their value; a definition whose braces do not close is skipped."""
    found: list[Definition] = []
    pairs: dict[int, int] | None = None  # brace pairs, computed once if a definition is found
    pos = 0
    while match := _DEFINITION.search(text, pos):
        if pairs is None:
            pairs = brace_pairs(text)
        pos = match.end()
        name = match["braced"] or match["bare"] or match["defined"]
        after = match.end()
        takes_arguments = False
        if match["defined"] is None:  # \newcommand: an argument count, maybe a default
            count = _ARGUMENT_COUNT.match(text, after)
            if count is not None:
                takes_arguments = count[1] != "0"
                after = count.end()
        brace = _skip_spaces(text, after)
        if brace >= len(text) or text[brace] != "{":
            if match["defined"] is None:
                continue  # not a definition we understand (e.g. an optional default)
            # \def\foo#1{...}: parameters before the body
            brace = text.find("{", after, after + 200)
            if brace < 0:
                continue
            takes_arguments = True
        end = pairs.get(brace)
        if end is None:
            continue
        value = None if takes_arguments else text[brace + 1 : end - 1]
        found.append(Definition(name, value, match.start(), end))
        pos = end
    return found


def _skip_spaces(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\n":
        pos += 1
    return pos
