"""Decontaminate on real text: eval items taken from the sample's books and news are found in
documents that contain them verbatim or with case, punctuation and whitespace changed; clean
books, speeches, newswire and web pages that only share common phrases with the items are
left alone. The recall and clean-touch figures asserted here are the ones in
docs/decontamination.md."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from cleanpipe.dedup.signatures import fold_text
from cleanpipe.document import Document
from cleanpipe.io.readers import ReadOptions, expand_paths, read_input
from cleanpipe.stages import Decontaminate

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"

# Eval items written for these tests: each shares common phrases ("in the United States of
# America", "at the end of the day", quoted page boilerplate) with real documents, and
# nothing longer.
COMMON_PHRASE_ITEMS = [
    {
        "question": "Which law, passed by the Congress of the United States of America in 1935, "
        "created the Social Security system?",
        "answer": "as well as in the United States of America",
    },
    {
        "question": "At the end of the day, what did the narrator decide to do with the letter "
        "that he had received from his brother?",
        "answer": "he burned it in the fire at the end of the day",
    },
    {
        "question": "The page footer reads 'Copyright 2001-2023, Python Software Foundation. All "
        "rights reserved.' Who holds the copyright of the documentation?",
        "answer": "the Python Software Foundation",
    },
    {
        "question": "For more information about the tax changes, which section of the budget "
        "should a reader consult, as well as the appendix?",
        "answer": "the section on revenue, as well as the tables at the end",
    },
    {
        "question": "What does the notice 'This eBook is for the use of anyone anywhere' allow "
        "a reader of a Project Gutenberg text to do?",
        "answer": "copy it, give it away or re-use it under the license",
    },
    {
        "question": "Which of the following is one of the most important functions of the "
        "Federal Reserve in the United States?",
        "answer": "setting interest rates, as well as supervising banks",
    },
]


def _documents(pattern: str, source: str) -> list[Document]:
    docs: list[Document] = []
    for item in expand_paths(str(SAMPLE / pattern)):
        docs += [d for d in read_input(item, ReadOptions(source=source)) if isinstance(d, Document)]
    return docs


def _passages(docs: list[Document], every: int, limit: int) -> list[tuple[str, str]]:
    """(doc id, paragraph) of every ``every``-th paragraph of 20 to 80 words (as one line)."""
    out = []
    for doc in docs:
        for para in re.split(r"\n\s*\n|\n(?= {3})", doc.text):  # Reuters indents paragraphs
            if 20 <= len(para.split()) <= 80:
                out.append((doc.id, " ".join(para.split())))
    return out[::every][:limit]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """200 eval items from Austen and Reuters paragraphs, the written common-phrase items,
    and the clean documents: every sample document that was not a source of an item."""
    austen = _documents("books/austen.jsonl", "books")
    reuters = _documents("news/reuters-21578.jsonl.zst", "news")
    passages = _passages(austen, 6, 150) + _passages(reuters, 2, 50)
    folder = tmp_path_factory.mktemp("evals")
    path = folder / "reading.jsonl"
    with path.open("w") as fh:
        for i, (doc_id, passage) in enumerate(passages):
            item = {"id": f"r{i}", "question": passage, "answer": "yes", "from": doc_id}
            fh.write(json.dumps(item) + "\n")
    common = folder / "common.jsonl"
    common.write_text("".join(json.dumps(item) + "\n" for item in COMMON_PHRASE_ITEMS))
    used = {doc_id for doc_id, _ in passages}
    clean = [
        d
        for d in austen
        + reuters
        + _documents("books/gutenberg.jsonl", "books")
        + _documents("news/sotu.jsonl.zst", "news")
        + _documents("web/*.jsonl.gz", "web")
        if d.id not in used
    ]
    hosts = [d for d in _documents("web/*.jsonl.gz", "web") if len(d.text) > 2000][:200]
    return {"eval": [str(path), str(common)], "passages": passages, "clean": clean, "hosts": hosts}


def _rewrap(text: str, width: int) -> str:
    """Line breaks inside the passage, as a re-flowed copy has them."""
    words, lines, line = text.split(), [], []
    for w in words:
        line.append(w)
        if sum(map(len, line)) > width:
            lines.append(" ".join(line))
            line = []
    return "\n".join(lines + [" ".join(line)])


VARIANTS = {
    "verbatim": lambda p: p,
    "upper case": str.upper,
    "title case": str.title,
    "punctuation": lambda p: re.sub(r"[,;:.!?]", " - ", p).replace("'", "\u2019"),
    # punctuation at word edges, not inside words and numbers (13.5, don't)
    "punctuation stripped": lambda p: re.sub(r"(?<!\w)[^\w\s]+|[^\w\s]+(?!\w)", "", p),
    "line breaks": lambda p: _rewrap(p, 40),
    "all at once": lambda p: _rewrap(re.sub(r"[,.]", " ...", p.lower()), 25).replace(" ", "  "),
}


def _contaminated(corpus: dict) -> list[tuple[str, Document]]:
    """Each passage, changed one way, inside the middle of a real web page."""
    docs = []
    names = list(VARIANTS)
    for i, (_, passage) in enumerate(corpus["passages"]):
        name = names[i % len(names)]
        host = corpus["hosts"][i % len(corpus["hosts"])]
        cut = host.text.find("\n\n", len(host.text) // 2)
        cut = cut if cut > 0 else len(host.text) // 2
        text = host.text[:cut] + "\n\n" + VARIANTS[name](passage) + "\n\n" + host.text[cut:]
        docs.append((name, Document(id=f"contaminated-{i}", text=text, source="web")))
    return docs


def test_recall_on_items_copied_with_case_punctuation_and_whitespace_changes(corpus) -> None:
    stage = Decontaminate(paths=corpus["eval"], fields=["question", "answer"])
    cases = _contaminated(corpus)
    kept = {d.id for d in stage(d for _, d in cases)}
    missed = [(name, d.id) for name, d in cases if d.id in kept]
    recall = 1 - len(missed) / len(cases)
    assert len(cases) == 200
    assert recall >= 0.95, missed[:5]
    for name in VARIANTS:  # every kind of change is caught, not only the easy ones
        assert not [m for m in missed if m[0] == name], name


def test_the_hit_names_the_eval_file_the_item_and_the_ngram(corpus) -> None:
    stage = Decontaminate(paths=corpus["eval"], fields=["question", "answer"])
    drops: list[tuple[str, str, str]] = []
    stage.on_drop = lambda doc, reason, detail="": drops.append((doc.id, reason, detail))
    _, doc = _contaminated(corpus)[3]  # the passage of item r3, punctuation changed
    assert list(stage([doc])) == []
    hit = doc.meta["decontaminate"]
    assert hit["eval"].endswith("reading.jsonl") and hit["item"] == "reading:r3"
    assert hit["field"] == "question" and len(hit["ngram"].split()) == 13
    assert hit["ngram"] in fold_text(corpus["passages"][3][1])
    assert hit["hits"] >= 8 and hit["items"] == 1
    [(doc_id, reason, detail)] = drops
    assert reason == "decontaminate:contaminated"
    assert "reading:r3" in detail and "reading.jsonl" in detail and hit["ngram"] in detail
    assert stage.report_extra()["item:reading:r3"] == 1


def test_clean_documents_that_share_common_phrases_are_not_touched(corpus) -> None:
    stage = Decontaminate(paths=corpus["eval"], fields=["question", "answer"])
    clean = corpus["clean"]
    folded = [fold_text(d.text) for d in clean]
    # the test is only worth something if the clean texts do share the common phrases
    for phrase in ("united states of america", "python software foundation", "as well as"):
        assert sum(phrase in f for f in folded) >= 5, phrase
    kept = list(stage(clean))
    touched = [d.id for d in clean if "decontaminate" in d.meta]
    assert len(clean) > 1500
    assert len(touched) / len(clean) <= 0.005, touched
    assert len(kept) == len(clean) - len(touched)


def test_one_word_changed_every_twelve_words_is_not_caught(corpus) -> None:
    """The limit of exact 13-grams: an item paraphrased throughout is not found."""
    stage = Decontaminate(paths=corpus["eval"][:1])
    _, passage = max(corpus["passages"], key=lambda p: len(p[1].split()))
    words = passage.split()
    changed = " ".join("indeed" if i % 12 == 11 else w for i, w in enumerate(words))
    assert len(list(stage([Document(id="p", text=changed)]))) == 1
    assert len(list(stage([Document(id="v", text=passage)]))) == 0


def test_remove_cuts_the_span_and_a_margin_and_keeps_the_rest(corpus) -> None:
    stage = Decontaminate(paths=corpus["eval"], action="remove")
    _, doc = _contaminated(corpus)[0]  # verbatim, in the middle of a web page
    passage = corpus["passages"][0][1]
    before = doc.text
    [kept] = list(stage([doc]))
    assert passage[20:-20] not in kept.text
    removed = len(before) - len(kept.text)
    # the passage, 200 characters each side (widened to whole words) and the joins
    assert len(passage) + 400 <= removed + 2 <= len(passage) + 400 + 60
    head = before[: before.index(passage) - 260]
    assert kept.text.startswith(head.strip()[:500])
    assert kept.meta["decontaminate"]["chars_removed"] == removed
    assert stage.report_extra()["cut:reading"] == 1
    assert stage.stats.modified == 1 and not stage.stats.dropped


def test_remove_drops_a_document_left_in_too_many_or_too_short_pieces(corpus) -> None:
    stage = Decontaminate(paths=corpus["eval"], action="remove")
    drops: list[tuple[str, str]] = []
    stage.on_drop = lambda doc, reason, detail="": drops.append((doc.id, reason))
    passages = [p for _, p in corpus["passages"][:12]]
    filler = max(corpus["hosts"], key=lambda d: len(d.text)).text
    assert len(filler) > 2000
    # twelve items, each after 700 characters of real text: split into 13 pieces
    pieces = "\n\n".join(
        filler[i * 100 : i * 100 + 700] + "\n\n" + p for i, p in enumerate(passages)
    )
    mostly = "Chapter 1\n\n" + passages[0] + "\n\nThe end."
    docs = [Document(id="pieces", text=pieces), Document(id="mostly", text=mostly)]
    assert list(stage(docs)) == []
    assert drops == [
        ("pieces", "decontaminate:too_many_pieces"),
        ("mostly", "decontaminate:too_short"),
    ]


def test_remove_finds_the_span_in_text_whose_case_folding_changes_its_length(tmp_path) -> None:
    """'İ'.lower() is two characters: the cut still lands on the matched words."""
    item = "the quick brown fox jumps over the lazy dog near the river bank today"
    evals = tmp_path / "e.txt"
    evals.write_text(item + "\n")
    prefix = "İstanbul’da çok güzel bir gün. " * 20
    suffix = " Sonra eve döndük ve çay içtik." * 20
    doc = Document(id="tr", text=prefix + item.upper() + suffix)
    stage = Decontaminate(paths=[str(evals)], action="remove", margin=0, min_piece_chars=10)
    [kept] = list(stage([doc]))
    assert kept.text == prefix.strip() + "\n\n" + suffix.strip()


def test_annotate_only_records_the_hit_and_keeps_the_document(corpus) -> None:
    stage = Decontaminate(paths=corpus["eval"], action="remove", annotate_only=True)
    _, doc = _contaminated(corpus)[0]
    text = doc.text
    [kept] = list(stage([doc]))
    assert kept.text == text and kept.meta["decontaminate"]["item"] == "reading:r0"
    assert stage.report_extra()["cut:reading"] == 1
