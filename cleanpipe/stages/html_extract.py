"""HTML -> main-content text: the first stage of a web-archive source.

A WARC reader yields a document whose ``text`` is the decoded HTML of one response; this stage
replaces it with the page's main text (navigation, menus, footers, cookie banners,
breadcrumbs, language bars, scripts and image alt texts removed; one blank line between
paragraphs, since the quality rules count lines and paragraphs) and stores the page's
``<title>`` in ``meta["title"]``.

Two extractors:

- ``resiliparse`` (default): ``extract_plain_text(main_content=True)``, the extraction
  DCLM-Pool was built with (Li et al. 2024, "DataComp-LM": they compared it with Trafilatura
  and Common Crawl's WET text, found it on a par with Trafilatura and far better than WET on
  their downstream evaluation, and took it for its speed); C++, 9-20x less CPU per page than
  Trafilatura here (benchmarks/bench_web_extract.py).
- ``trafilatura``: Barbaresi 2021, with ``favor_precision`` (datatrove's default for its
  ``Trafilatura`` extractor): fewer boilerplate lines kept, some content lost.

Two limits keep one page from stalling a worker: ``max_html_bytes`` (checked before any
parsing) and ``timeout`` per page, enforced with a real-time interval timer (SIGALRM) in the
process's main thread, where cleanpipe's workers run (Trafilatura is known to run for minutes
on some pages). A page over either, and a page that extracts to nothing, is dropped with its
reason; the worker goes on with the next page.
"""

from __future__ import annotations

import re
import signal
import threading
import time
from collections.abc import Callable
from typing import Any, ClassVar, Literal

from cleanpipe.document import Document
from cleanpipe.stages.base import Stage, register
from cleanpipe.stages.rules import Drop, Verdict

Extractor = Literal["resiliparse", "trafilatura"]

#: Common Crawl stores at most 1 MiB of a payload (longer ones are marked WARC-Truncated), so
#: this cap never cuts a Common Crawl page; it bounds the time and memory a huge page of
#: another archive (a data dump, a log served as HTML) can take.
DEFAULT_MAX_HTML_BYTES = 2_000_000
#: seconds per page. resiliparse takes ~5 ms for a 100 kB page and Trafilatura 50-200 ms; 5 s
#: stops only pathological pages, even on a loaded machine (a tight limit, such as datatrove's
#: 1 s, makes the output depend on the machine's load).
DEFAULT_TIMEOUT = 5.0


#: seconds between repeated alarms once the time limit has passed (see call_with_time_limit).
RETRY_SECONDS = 0.05


class ExtractionTimeout(BaseException):
    """Raised inside an extraction that ran past its time limit. A ``BaseException``, like
    ``KeyboardInterrupt``, so that an extractor's own ``except Exception`` cannot swallow it
    and carry on."""


def call_with_time_limit(fn: Callable[[], Any], seconds: float | None) -> Any:
    """``fn()``, interrupted with :class:`ExtractionTimeout` after ``seconds`` of wall time.

    In the main thread the interruption is real (``signal.setitimer``): Python code is stopped
    where it is, C code as soon as it returns to the interpreter. Elsewhere (a thread, where
    signals cannot be used) a call that took too long still raises, after it returns.
    """
    if seconds is None:
        return fn()
    if threading.current_thread() is not threading.main_thread() or not hasattr(
        signal, "setitimer"
    ):
        started = time.perf_counter()
        result = fn()
        if time.perf_counter() - started > seconds:
            raise ExtractionTimeout
        return result

    expired = False

    def on_alarm(signum: int, frame: Any) -> None:
        nonlocal expired
        expired = True
        raise ExtractionTimeout

    previous = signal.signal(signal.SIGALRM, on_alarm)
    # after the deadline the alarm fires again every RETRY_SECONDS: a raise that lands where
    # Python cannot pass it on (a garbage-collector callback, a __del__) is printed as
    # "ignored" and lost, and the next one stops the call
    signal.setitimer(signal.ITIMER_REAL, seconds, RETRY_SECONDS)
    try:
        result = fn()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    if expired:  # every raise was lost and the call finished late: still over the limit
        raise ExtractionTimeout
    return result


def page_title(tree: Any) -> str:
    """The ``<title>`` of a parsed page, whitespace collapsed; ``""`` if it has none."""
    return " ".join((tree.title or "").split())


def resiliparse_text(tree: Any, main_content: bool, skip_elements: list[str] | None) -> str:
    """Main text by resiliparse: block structure kept (blank line between paragraphs, list
    items one per line with bullets, ``<pre>`` as is), alt texts, link targets, form fields
    and ``<noscript>`` left out, and the elements ``skip_elements`` selects (CSS) too.
    Whitespace that layout tables leave on otherwise empty lines is removed."""
    from resiliparse.extract.html2text import extract_plain_text

    text = extract_plain_text(
        tree,
        preserve_formatting=True,
        main_content=main_content,
        list_bullets=True,
        alt_texts=False,
        links=False,
        form_fields=False,
        noscript=False,
        skip_elements=skip_elements or None,
    )
    return _EXTRA_BLANK_LINES.sub("\n\n", _TRAILING_SPACE.sub("", text)).strip("\n")


_TRAILING_SPACE = re.compile(r"[^\S\n]+$", re.MULTILINE)
_EXTRA_BLANK_LINES = re.compile(r"\n{3,}")


def trafilatura_text(html: str, favor_precision: bool) -> str:
    """Main text by Trafilatura, one block per paragraph like resiliparse's (its own text
    output keeps the source's line wrapping inside paragraphs and separates blocks with a
    single newline). ``deduplicate`` stays off: it remembers segments across calls, which
    would make a page's text depend on which pages the worker saw before."""
    import trafilatura

    result = trafilatura.bare_extraction(
        html,
        favor_precision=favor_precision,
        include_comments=False,
        include_images=False,
        include_tables=True,
        include_links=False,
        deduplicate=False,
        with_metadata=False,
        as_dict=False,
    )
    body = getattr(result, "body", None)
    return "" if body is None else "\n\n".join(_body_blocks(body))


#: top-level elements of Trafilatura's tree that are blocks; the others (a code span, a
#: highlighted word, a line break) are inline, in text that lies directly in the body.
_BLOCKS = frozenset({"p", "head", "list", "table", "quote", "div"})


def _body_blocks(body: Any) -> list[str]:
    """The paragraphs of Trafilatura's output tree. Text that no ``<p>`` held in the page (a
    DocBook ``<div class="para">``) lies directly in the body, between inline elements and
    in their tails: each run of it is a paragraph. A ``<code>`` of several lines is a block."""
    blocks: list[str] = []
    run: list[str] = [body.text or ""]

    def end_run() -> None:
        if text := _squeeze("".join(run)):
            blocks.append(text)
        run.clear()

    for element in body:
        if element.tag in _BLOCKS or (
            element.tag == "code" and "\n" in "".join(element.itertext()).strip("\n")
        ):
            end_run()
            if block := _block_text(element):
                blocks.append(block)
        else:
            _collect(element, run)
        if element.tail:
            run.append(element.tail)
    end_run()
    return blocks


def _block_text(element: Any) -> str:
    """One top-level element of Trafilatura's output tree as text: a list one bulleted line per
    item, code (alone or quoted) as it is, anything else (a table: one line per row) by
    :func:`_inline_text`."""
    tag = element.tag
    if tag == "code" or (tag == "quote" and _is_preformatted(element)):
        return "".join(element.itertext()).strip("\n")
    if tag == "list":
        items = [_inline_text(item) for item in element.iterchildren("item")]
        return "\n".join(f"• {item}" for item in items if item)
    return _inline_text(element)


def _is_preformatted(element: Any) -> bool:
    """A quote that holds a multi-line ``<code>``: Trafilatura's form of some ``<pre>``."""
    return any("\n" in "".join(code.itertext()).strip("\n") for code in element.iter("code"))


#: elements of Trafilatura's tree that start a line of their own inside a list item or a table
#: (a paragraph in an item, a nested list, a row); a cell is apart from the next by a space.
_NESTED_LINES = frozenset({"p", "head", "list", "item", "quote", "row", "table"})
_LINE_BREAK = "\x00"


def _inline_text(element: Any) -> str:
    """An element's text with whitespace collapsed, a line per ``<lb/>`` (Trafilatura's
    ``<br>``; the source's own wrapping is no break) and per nested block, and without the
    permalink pilcrows that Sphinx and others put after headings (Trafilatura keeps them as
    text; resiliparse drops those links)."""
    pieces: list[str] = []
    _collect(element, pieces)
    return _squeeze("".join(pieces))


def _squeeze(text: str) -> str:
    lines = text.replace("\u00b6", " ").split(_LINE_BREAK)
    return "\n".join(squeezed for line in lines if (squeezed := " ".join(line.split())))


def _collect(element: Any, pieces: list[str]) -> None:
    if element.tag == "lb":
        pieces.append(_LINE_BREAK)
    elif element.text:
        pieces.append(element.text)
    for child in element:
        apart = _LINE_BREAK if child.tag in _NESTED_LINES else " " if child.tag == "cell" else ""
        pieces.append(apart)
        _collect(child, pieces)
        pieces.append(apart)
        if child.tail:
            pieces.append(child.tail)


def _check_trafilatura() -> None:
    try:
        import trafilatura  # noqa: F401
    except ImportError as err:
        raise ValueError(
            "extractor 'trafilatura' needs the trafilatura package: "
            f"pip install 'cleanpipe[trafilatura]' ({type(err).__name__}: {err})"
        ) from err


def _check_selectors(selectors: list[str]) -> None:
    from resiliparse.extract.html2text import extract_plain_text
    from resiliparse.parse.html import CSSParserException

    for selector in selectors:
        try:
            extract_plain_text("<p>x</p>", skip_elements=[selector])
        except (CSSParserException, TypeError) as err:
            raise ValueError(f"skip_elements: {selector!r} is not a CSS selector ({err})") from err


@register("html_extract")
class HTMLExtract(Stage):
    """Replace each document's HTML with its main-content text; the page's ``<title>`` goes
    to ``meta["title"]``.

    ``extractor``: ``resiliparse`` (default; DCLM-Pool's, with ``main_content``) or
    ``trafilatura`` (with ``favor_precision``, datatrove's default). ``main_content=False``
    keeps all visible text and ``skip_elements`` (CSS selectors) removes more elements, e.g.
    ``[".navfooter"]`` for DocBook's table-laid navigation (both resiliparse only).
    ``max_html_bytes`` (UTF-8 bytes of the HTML, ``None`` = no cap) and ``timeout`` (seconds
    per page, ``None`` = none) drop a page as ``html_extract:too_large`` /
    ``html_extract:timeout``; a page with no main text is dropped as
    ``html_extract:no_text``, one the parser rejects as ``html_extract:parse_error``.
    """

    #: a WARC source's first stage must turn HTML into text (checked with the config).
    extracts_html: ClassVar[bool] = True
    batch_size = 64

    def __init__(
        self,
        *,
        extractor: Extractor = "resiliparse",
        main_content: bool = True,
        skip_elements: list[str] | None = None,
        favor_precision: bool = True,
        max_html_bytes: int | None = DEFAULT_MAX_HTML_BYTES,
        timeout: float | None = DEFAULT_TIMEOUT,
    ) -> None:
        super().__init__()
        if extractor not in ("resiliparse", "trafilatura"):
            raise ValueError(f"extractor must be 'resiliparse' or 'trafilatura', got {extractor!r}")
        if max_html_bytes is not None and max_html_bytes <= 0:
            raise ValueError(
                f"max_html_bytes must be > 0 (or null for no cap), got {max_html_bytes}"
            )
        if timeout is not None and timeout <= 0:
            raise ValueError(f"timeout must be > 0 seconds (or null for none), got {timeout}")
        if extractor == "trafilatura":
            _check_trafilatura()
        if skip_elements:
            _check_selectors(skip_elements)
        self.extractor = extractor
        self.main_content = main_content
        self.skip_elements = list(skip_elements or [])
        self.favor_precision = favor_precision
        self.max_html_bytes = max_html_bytes
        self.timeout = timeout

    def process(self, doc: Document) -> Verdict:
        html = doc.text
        if self.max_html_bytes is not None and len(html) * 4 > self.max_html_bytes:
            size = len(html.encode("utf-8", "surrogatepass"))  # exact only when it may matter
            if size > self.max_html_bytes:
                return Drop("too_large", f"html {size} bytes > {self.max_html_bytes}")
        started = time.perf_counter()
        try:
            title, text = call_with_time_limit(lambda: self._extract(html), self.timeout)
        except ExtractionTimeout:
            took = time.perf_counter() - started
            return Drop("timeout", f"extraction ran {took:.2f} s > {self.timeout} s")
        except Exception as err:  # noqa: BLE001 - one bad page is a reject, not a crash
            return Drop("parse_error", f"{type(err).__name__}: {err}"[:200])
        doc.meta["title"] = title
        if not text.strip():
            return Drop("no_text", f"no main text in {len(html)} chars of HTML")
        doc.text = text
        return None

    def _extract(self, html: str) -> tuple[str, str]:
        from resiliparse.parse.html import HTMLTree

        tree = HTMLTree.parse(html)
        if self.extractor == "trafilatura":
            return page_title(tree), trafilatura_text(html, self.favor_precision)
        return page_title(tree), resiliparse_text(tree, self.main_content, self.skip_elements)
