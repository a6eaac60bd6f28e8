"""The real HTML pages of tests/stages/data/html (see its README), and a slow page made of
one of them, for the html_extract tests of the stage and of a run."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

DATA = Path(__file__).parent / "data" / "html"


def page(name: str) -> str:
    """A stored page (``getopt.html``, ``locale.html``, ``ch08.ja.html``) as text."""
    return gzip.open(DATA / f"{name}.gz", "rt", encoding="utf-8").read()


def data_table_page() -> str:
    """The words of a real page laid out as a 16,000-row table, the shape of the stock-quote
    pages that keep Trafilatura busy for seconds to minutes (jusText issue #43, Trafilatura
    #189, #704): about 7 s of Trafilatura for 600 kB of HTML on an idle machine."""
    words = re.findall(r"[A-Za-z_]{3,}", re.sub(r"<[^>]+>", " ", page("locale.html"))) * 6
    rows = "".join(f"<tr><td>{w}</td><td>{i}</td></tr>" for i, w in enumerate(words))
    return f"<html><head><title>Quotes</title></head><body><table>{rows}</table></body></html>"
