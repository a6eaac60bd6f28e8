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
#: what the scan stops at. Every alternative starts with a backslash or "%", and the
#: lookahead says so first: the regex engine then skips plain text quickly (7x faster on
#: the sample's papers than the same alternatives without it).
_SCAN = re.compile(
    r"(?=[\\%])(?:"
    r"\\(?:(?P<escape>[\\%])"  # \\ and \% are text: the % after them starts no comment
    rf"|begin\{{(?:(?P<verbatim>{_verbatim_names})|(?P<comment_env>comment))\}}"
    r"|(?:verb|Verb|lstinline)\*?(?P<delim>[^a-zA-Z\s\[{])"
    r"|(?P<url>(?:url|href|path)[ \t]*\{[^{}\n]*\})"  # % in a URL is literal
    r"|(?P<iffalse>iffalse(?![a-zA-Z]))"
    r"|(?P<fi>fi(?![a-zA-Z])))"
    r"|(?P<comment>%[^\n]*))"
)
#: a Sweave/knitr chunk header: alone on its line, so found by its own pass, after a
#: newline (a literal the engine searches fast; the text's first line is matched apart).
_HEADER_LINE = r"[ \t]*<<[^\n]*>>=[^\n]*"
_CHUNK_HEADER = re.compile(r"\n(?P<header>" + _HEADER_LINE + ")")
_CHUNK_HEADER_AT_START = re.compile(_HEADER_LINE)
#: inside an \iffalse block: what can open, branch or close a conditional (and comments,
#: which may hide a \fi).
_CONDITIONAL = re.compile(
    r"\\[\\%]|%[^\n]*|\\newif\\if[a-zA-Z]*|\\(?P<word>if[a-zA-Z]*|else|fi)(?![a-zA-Z])"
)
#: Sweave ends a chunk with a line starting ``@``; knitr also lets the next chunk's header end it.
_CHUNK_END = re.compile(
    r"\n[ \t]*(?P<at>@)[ \t]*(?:%[^\n]*)?(?=\n|\Z)|\n(?P<next>" + _HEADER_LINE + ")"
)
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
    last = pos = 0
    skip_fi: set[int] = set()  # \fi of an \iffalse ... \else whose else-branch is kept
    headers = _chunk_headers(text) if "<<" in text else []
    header_index = 0
    match = _SCAN.search(text)
    while True:
        if match is not None and match.start() < pos:
            match = _SCAN.search(text, pos)
        while header_index < len(headers) and headers[header_index][0] < pos:
            header_index += 1  # inside a span already passed (a verbatim, an \iffalse)
        header = headers[header_index] if header_index < len(headers) else None
        if header is not None and (match is None or header[0] < match.start()):
            stop, keep = _chunk_end(text, header, code_chunks, src)
            out.append(text[last : header[0]])
            if keep:
                out.append(src.protect(text[header[0] : stop]))
            last = pos = stop
            continue
        if match is None:
            break
        last, pos = _step(text, match, out, last, src, skip_fi, code_chunks)
    out.append(text[last:])
    src.text = "".join(out)
    return src


def _step(
    text: str,
    match: re.Match[str],
    out: list[str],
    last: int,
    src: Source,
    skip_fi: set[int],
    code_chunks: str,
) -> tuple[int, int]:
    """Act on one thing the scan found; return (text copied up to, where to scan on)."""
    start, end = match.span()
    kind = match.lastgroup
    if kind == "escape" or kind == "url":
        return last, end
    if kind == "fi":
        if start in skip_fi:
            out.append(text[last:start])
            return end, end
        return last, end
    if kind == "comment":
        last = _drop_comment(text, out, last, start, end, src)
        return last, last
    if kind == "iffalse":
        # once one \iffalse is found unclosed, later ones are not searched again: each
        # search would run to the end of the text (quadratic on a pathological input)
        branch = None if "iffalse" in src.unclosed else _conditional_end(text, end)
        if branch is None:
            src.unclosed.add("iffalse")
            return last, end
        keep_from, fi_start, fi_end = branch
        out.append(text[last:start])
        if keep_from is None:  # no \else: the whole block goes
            src.removed["conditionals"] += fi_end - start
            return fi_end, fi_end
        # \iffalse A \else B \fi: B stays, its \fi goes
        src.removed["conditionals"] += keep_from - start + fi_end - fi_start
        skip_fi.add(fi_start)
        return keep_from, keep_from
    protected_end, keep = _protected_end(text, match, src)
    if protected_end is None:
        return last, end
    out.append(text[last:start])
    if keep:
        out.append(src.protect(text[start:protected_end]))
    return protected_end, protected_end


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


def _protected_end(text: str, match: re.Match[str], src: Source) -> tuple[int | None, bool]:
    """Where a verbatim span, ``\\verb`` or ``comment`` environment that starts at
    ``match`` ends, and whether it is kept (``None``: not closed, read on as text)."""
    kind, end = match.lastgroup, match.end()
    if kind == "verbatim":
        closing = f"\\end{{{match['verbatim']}}}"
        found = text.find(closing, end)
        return (len(text) if found < 0 else found + len(closing)), True
    if kind == "delim":  # \verb|...| (fancyvrb's \Verb, \lstinline) lies on one line
        found = text.find(match["delim"], end, end + _VERB_REACH)
        if found < 0 or "\n" in text[end:found]:
            return None, False
        return found + 1, True
    # a comment environment
    found = -1 if "comment" in src.unclosed else text.find("\\end{comment}", end)
    if found < 0:
        src.unclosed.add("comment")
        return None, False
    stop = found + len("\\end{comment}")
    src.removed["conditionals"] += stop - match.start()
    return stop, False


def _chunk_headers(text: str) -> list[tuple[int, int]]:
    """(start, end) of every chunk header line, in order."""
    first = _CHUNK_HEADER_AT_START.match(text)
    headers = [first.span()] if first else []
    headers.extend(m.span("header") for m in _CHUNK_HEADER.finditer(text))
    return headers


def _chunk_end(
    text: str, header: tuple[int, int], code_chunks: str, src: Source
) -> tuple[int, bool]:
    """Where a code chunk ends (its "@", included, or the next chunk's header, excluded)
    and whether it is kept. A comment after the "@" is LaTeX again."""
    src.code_chunks += 1
    start, end = header
    closing = _CHUNK_END.search(text, end)
    if closing is None:
        stop = len(text)
    elif closing["at"] is not None:
        stop = closing.end("at")
    else:
        stop = closing.start("next")
    keep = code_chunks == "keep" or (
        code_chunks == "shown" and _ECHO_FALSE.search(text, start, end) is None
    )
    if not keep:
        src.removed["code_chunks"] += stop - start
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

#: braces, and the escapes that are no braces (``\\{``, ``\\}``) or hide one (``\\\\``);
#: other commands are not matched at all, which keeps the pass fast.
_BRACE = re.compile(r"\\[{}\\]|[{}]")
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
