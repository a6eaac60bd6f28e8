"""Paragraph dedup (CCNet's, as LLaMA used): on documents of real text (the bundled books
and web pages) with real-looking boilerplate (a cookie notice, a navigation bar, a license
footer) copied into many of them, every copy but one goes, no unique paragraph is touched,
and documents that were only boilerplate are dropped with the reason.
"""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cleanpipe.config import load_config
from cleanpipe.dedup.config import ParagraphConfig
from cleanpipe.dedup.paragraphs import cut_units, normalize_unit, split_units, unit_table
from cleanpipe.errors import ConfigError
from cleanpipe.executors.local import LocalExecutor
from cleanpipe.runner import run
from tests.conftest import write_config
from tests.dedup.corpus import web_sample

REPO = Path(__file__).resolve().parents[2]

COOKIE = (
    "We use cookies and similar technologies to improve your experience on our website, to "
    "analyse traffic and to personalise content. By clicking \u201cAccept all\u201d you "
    "consent to our use of cookies.\nYou can change your preferences at any time in the "
    "Cookie Settings."
)
NAV = "Home | Products | Documentation | Blog | About us | Contact | Sign in"
FOOTER = (
    "\u00a9 2024 Example Media Group. All rights reserved. Text is available under the "
    "Creative Commons Attribution-ShareAlike License 4.0; additional terms may apply. "
    "Privacy Policy \u00b7 Terms of Use \u00b7 Accessibility"
)
SHORT = "Share this page"  # repeated, but under min_chars: never cut
BOILERPLATE = (COOKIE, NAV, FOOTER)


def _book_paragraphs() -> list[str]:
    found = []
    for path in sorted((REPO / "sample_data/books").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            found.extend(split_units(json.loads(line)["text"], "paragraph")[0])
    return found


def _unique_paragraphs() -> list[str]:
    """Paragraphs of the bundled books and web pages, each of 60+ normalized characters
    and found once (the samples have repeats of their own: Debian menus, chapter titles)."""
    pool = _book_paragraphs()
    for record in web_sample():
        pool.extend(split_units(record["text"], "paragraph")[0])
    counts: dict[str, int] = {}
    for p in pool:
        key = normalize_unit(p)
        counts[key] = counts.get(key, 0) + 1
    return [
        p.strip() for p in pool if len(normalize_unit(p)) >= 60 and counts[normalize_unit(p)] == 1
    ]


def _corpus(n_docs: int = 80) -> tuple[list[dict[str, Any]], list[str], set[str]]:
    """Records, the unique paragraphs used, and the ids of documents that are only
    boilerplate (never the first, so the first copy of each boilerplate is elsewhere)."""
    rng = random.Random(7)
    unique = _unique_paragraphs()
    rng.shuffle(unique)
    records, used, only_boilerplate = [], [], set()
    for i in range(n_docs):
        if i % 10 == 9:
            parts = [NAV, COOKIE, FOOTER]
            only_boilerplate.add(f"doc-{i:03d}")
        else:
            body = [unique.pop() for _ in range(3)]
            used.extend(body)
            parts = ([NAV] if i % 2 == 0 else []) + body + [SHORT]
            parts += [COOKIE] if i % 3 else []
            parts += [FOOTER]
        # real pages vary the blank lines between blocks: the separators must survive
        sep = "\n\n" if i % 4 else "\n \n\n"
        records.append({"id": f"doc-{i:03d}", "text": sep.join(parts)})
    return records, used, only_boilerplate


def _write(folder: Path, records: list[dict[str, Any]], files: int = 2) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    size = -(-len(records) // files)
    for f in range(files):
        with gzip.open(folder / f"part-{f}.jsonl.gz", "wt", encoding="utf-8") as fh:
            for r in records[f * size : (f + 1) * size]:
                fh.write(json.dumps(r) + "\n")


def _config(tmp_path: Path, dedup: str, sources: str | None = None, out: str = "out") -> Path:
    sources = (
        sources
        or f"""
  web:
    paths: ["{tmp_path}/in/*.jsonl.gz"]
    weight: 1.0
    stages: []"""
    )
    return write_config(
        tmp_path,
        f"""
seed: 5
output: {{path: {tmp_path / out}}}
sources:{sources}
dedup: {dedup}
mixture: {{total_tokens: max, max_epochs: 1}}
""",
    )


def _run(config: Path, executor: Any = None) -> dict[str, Any]:
    if executor is not None:
        return run(load_config(str(config)), executor=executor, progress=False).report
    with LocalExecutor(1, progress=False) as local:
        return run(load_config(str(config)), executor=local, progress=False).report


def _shards(out: Path) -> dict[str, str]:
    tables = [pq.read_table(p) for p in sorted((out / "data").glob("*.parquet"))]
    table = pa.concat_tables(tables)
    return dict(zip(table.column("id").to_pylist(), table.column("text").to_pylist(), strict=True))


ALONE = "{exact: false, minhash: false, paragraphs: {unit: paragraph}}"


def test_every_copy_but_the_first_goes_and_unique_paragraphs_stay(tmp_path: Path) -> None:
    records, used, only_boilerplate = _corpus()
    _write(tmp_path / "in", records)
    report = _run(_config(tmp_path, ALONE))
    out = _shards(tmp_path / "out")
    # documents that were only boilerplate are gone, with the reason; nothing else is
    assert set(out) == {r["id"] for r in records} - only_boilerplate
    web = report["sources"]["web"]
    assert web["funnel"][-1]["dropped"] == {"dedup:paragraphs_emptied": len(only_boilerplate)}
    assert report["accounting_ok"] is True and web["accounting"]["problems"] == []
    text = "\n\n".join(out[k] for k in sorted(out))
    for block in BOILERPLATE:  # exactly one copy left, in the first document holding it
        assert text.count(block) == 1
    assert NAV in out["doc-000"] and COOKIE in out["doc-001"] and FOOTER in out["doc-000"]
    for paragraph in used:  # every unique paragraph, untouched
        assert text.count(paragraph) == 1, paragraph[:60]
    assert text.count(SHORT) == len(out)  # shorter than min_chars: kept everywhere
    # kept units keep the separator they had
    assert out["doc-000"].startswith(NAV + "\n \n\n")
    # a cut unit takes its separator with it: doc-004 now opens with its first own paragraph
    assert not out["doc-004"].startswith(NAV) and out["doc-004"].endswith("\n \n\n" + SHORT)
    para = report["dedup"]["paragraphs"]
    copies = {b: sum(b in r["text"] for r in records) for b in BOILERPLATE}
    assert para["units_cut"] == sum(c - 1 for c in copies.values())
    assert para["chars_cut"] == sum((c - 1) * len(b) for b, c in copies.items())
    shown = {e["text"]: e["copies"] for e in para["most_repeated"]}
    assert shown[FOOTER[:159] + "\u2026"] == copies[FOOTER] and shown[NAV] == copies[NAV]
    for name in ("report.md", "report.html"):  # people see what boilerplate went
        shown_text = (tmp_path / "out" / name).read_text(encoding="utf-8")
        assert "Paragraph dedup (CCNet)" in shown_text and "By clicking" in shown_text
    # the mixture counted tokens after the cut: the shards hold what was planned
    assert web["output_tokens"] == web["tokens_available"]
    assert web["tokens_available"] < web["tokens_staged"]


def test_keep_none_removes_every_copy_seen_min_copies_times(tmp_path: Path) -> None:
    records, used, _ = _corpus()
    records.append({"id": "twice", "text": used[0] + "\n\n" + used[1] + "\n\n" + used[2]})
    _write(tmp_path / "in", records)
    dedup = (
        "{exact: false, minhash: false, paragraphs: {keep: none, min_copies: 3, min_doc_chars: 0}}"
    )
    report = _run(_config(tmp_path, dedup))
    out = _shards(tmp_path / "out")
    text = "\n\n".join(out.values())
    for block in BOILERPLATE:
        assert block not in text
    # seen twice (< min_copies 3): both copies stay
    assert text.count(used[0]) == 2
    assert report["accounting_ok"] is True


def test_min_chars_is_counted_on_the_normalized_text() -> None:
    config = ParagraphConfig(min_chars=20)
    # 23 characters as written, 19 once whitespace is folded: never hashed, never cut
    padded = "Share   this\n page  now"
    exactly = "Share this page now!"  # 20 folded characters: hashed
    assert (len(padded), len(normalize_unit(padded)), len(normalize_unit(exactly))) == (23, 19, 20)
    table = unit_table(["\n\n".join([padded, exactly, NAV]), NAV.upper()], 0, config)
    assert table.column("row").to_pylist() == [0, 0, 1]
    assert table.column("unit").to_pylist() == [1, 2, 0]
    h = table.column("hash").to_pylist()
    assert h[1] == h[2]  # case folded
    digits = ParagraphConfig(digits=True)
    a, b = (unit_table([f"Page {n} of 12 \u00b7 Next \u00b7 Previous"], 0, digits) for n in (3, 4))
    assert a.column("hash").to_pylist() == b.column("hash").to_pylist()
    a, b = (unit_table([f"Page {n} of 12 \u00b7 Next \u00b7 Previous"], 0, config) for n in (3, 4))
    assert a.column("hash").to_pylist() != b.column("hash").to_pylist()


def test_line_units_cut_repeated_lines_inside_paragraphs() -> None:
    line = ParagraphConfig(unit="line")
    text = "First line of a story that is unique.\n" + NAV + "\nLast line, unique as well, friend."
    units, seps = split_units(text, "line")
    assert units[1] == NAV and seps == ["\n", "\n"]
    assert cut_units(text, {1}, "line")[0] == (
        "First line of a story that is unique.\nLast line, unique as well, friend."
    )
    # as one paragraph the text is one unit: a line inside it is no unit of its own
    assert len(unit_table([text], 0, ParagraphConfig())) == 1
    assert len(unit_table([text], 0, line)) == 3


def test_line_mode_in_a_run(tmp_path: Path) -> None:
    records, used, _ = _corpus(40)
    # the cookie notice's second line repeats alone in these, inside other paragraphs
    second = COOKIE.split("\n")[1]
    edited = [r for r in records[20:32] if SHORT in r["text"]]
    for r in edited:
        r["text"] = r["text"].replace(SHORT, "Read more below.\n" + second)
    _write(tmp_path / "in", records)
    dedup = "{exact: false, minhash: false, paragraphs: {unit: line, min_doc_chars: 0}}"
    report = _run(_config(tmp_path, dedup))
    text = "\n".join(_shards(tmp_path / "out").values())
    assert text.count(second) == 1
    assert text.count("Read more below.") == len(edited) > 5  # under min_chars
    for paragraph in used:
        for piece in paragraph.split("\n"):
            if len(normalize_unit(piece)) >= 20:
                assert piece in text
    assert report["accounting_ok"] is True


def test_across_sources_the_first_source_in_order_keeps_the_copy(tmp_path: Path) -> None:
    records, used, only = _corpus(40)
    _write(tmp_path / "a", records[:20], files=1)
    _write(tmp_path / "b", records[20:], files=1)
    sources = f"""
  zeta:
    paths: ["{tmp_path}/a/*.jsonl.gz"]
    weight: 0.5
    stages: []
  alpha:
    paths: ["{tmp_path}/b/*.jsonl.gz"]
    weight: 0.5
    stages: []"""
    report = _run(_config(tmp_path, ALONE, sources))
    para = report["dedup"]["paragraphs"]
    # alpha comes first in sorted order: it keeps one copy of each, zeta none
    edits = pq.read_table(tmp_path / "out/dedup/paragraphs/zeta/part-00000.parquet")
    kept = [t for t in edits.column("text").to_pylist() if t is not None]
    assert not any(b in t for t in kept for b in BOILERPLATE)
    assert para["units_cut_per_source"]["zeta"] > para["units_cut_per_source"]["alpha"] > 0
    assert report["accounting_ok"] is True


def test_config_mistakes_are_one_line_with_the_key(tmp_path: Path) -> None:
    _write(tmp_path / "in", _corpus(10)[0])
    with pytest.raises(ConfigError, match=r"dedup\.paragraphs\.unit"):
        load_config(str(_config(tmp_path, "{paragraphs: {unit: sentence}}")))
    with pytest.raises(ConfigError, match=r"dedup\.paragraphs\.sources\[0\]"):
        load_config(str(_config(tmp_path, "{paragraphs: {sources: [wbe]}}")))


def _text_everywhere(out: Path) -> str:
    return "\n\n".join(_shards(out).values())


def test_a_paragraph_kept_in_an_older_capture_that_url_dedup_removes_stays_in_the_newer(
    tmp_path: Path,
) -> None:
    # two crawl snapshots of one page: the older comes first in input order, so with the
    # paragraph dedup before the URL dedup its paragraphs were "kept" there, the newer lost
    # them, and URL dedup then removed the older: the page's text was gone from the output
    page = _unique_paragraphs()[:6]
    url = "https://docs.python.org/3.11/library/re.html"
    records = [
        {"id": "old", "text": "\n\n".join(page), "url": url, "warc_date": "2020-05-01T00:00:00Z"},
        {
            "id": "new",
            "text": "\n\n".join([*page, _unique_paragraphs()[6]]),
            "url": url,
            "warc_date": "2024-02-21T10:11:12Z",
        },
    ]
    _write(tmp_path / "in", records, files=1)
    _run(_config(tmp_path, "{urls: true, exact: false, minhash: null, paragraphs: true}"))
    shards = _shards(tmp_path / "out")
    assert list(shards) == ["new"]
    assert shards["new"] == records[1]["text"]  # not one paragraph cut


def test_a_paragraph_shared_with_a_removed_near_duplicate_is_kept(tmp_path: Path) -> None:
    # A (Z plus one paragraph P) is a near duplicate of Z, which comes first; B holds P with
    # other text. MinHash removes A, so P's copy in B is the one left and must stay
    unique = _unique_paragraphs()
    z, p, others = unique[:20], unique[20], unique[21:27]
    records = [
        {"id": "z", "text": "\n\n".join(z)},
        {"id": "a", "text": "\n\n".join([*z, p])},
        {"id": "b", "text": "\n\n".join([p, *others])},
    ]
    _write(tmp_path / "in", records, files=1)
    _run(_config(tmp_path, "{exact: false, minhash: true, paragraphs: true}"))
    shards = _shards(tmp_path / "out")
    assert "a" not in shards  # the near duplicate
    assert normalize_unit(p) in normalize_unit(_text_everywhere(tmp_path / "out"))
    assert shards["b"] == records[2]["text"]
