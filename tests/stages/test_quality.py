"""Gopher, C4 and FineWeb quality filters: the published rules, on real text.

Texts are public-domain prose (the Gettysburg Address, the opening of Pride and Prejudice,
articles of the Universal Declaration of Human Rights) and realistic web pages built from
such sentences. Each rule gets a document just either side of its threshold, and a document
that it removes, with the reason string the report will show.
"""

from __future__ import annotations

import inspect
import re
from collections import Counter

import pytest

from cleanpipe.document import Document
from cleanpipe.stages.base import STAGE_REGISTRY
from cleanpipe.stages.measure import TextView, no_space_language, text_view
from cleanpipe.stages.quality import C4Quality, FineWebQuality, GopherQuality, GopherRepetition

GETTYSBURG = (
    "Four score and seven years ago our fathers brought forth on this continent, a new "
    "nation, conceived in Liberty, and dedicated to the proposition that all men are created "
    "equal.\n\n"
    "Now we are engaged in a great civil war, testing whether that nation, or any nation so "
    "conceived and so dedicated, can long endure. We are met on a great battle-field of that "
    "war. We have come to dedicate a portion of that field, as a final resting place for those "
    "who here gave their lives that that nation might live. It is altogether fitting and "
    "proper that we should do this.\n\n"
    "But, in a larger sense, we can not dedicate -- we can not consecrate -- we can not hallow "
    "-- this ground. The brave men, living and dead, who struggled here, have consecrated it, "
    "far above our poor power to add or detract. The world will little note, nor long "
    "remember what we say here, but it can never forget what they did here. It is for us the "
    "living, rather, to be dedicated here to the unfinished work which they who fought here "
    "have thus far so nobly advanced. It is rather for us to be here dedicated to the great "
    "task remaining before us -- that from these honored dead we take increased devotion to "
    "that cause for which they gave the last full measure of devotion -- that we here highly "
    "resolve that these dead shall not have died in vain -- that this nation, under God, shall "
    "have a new birth of freedom -- and that government of the people, by the people, for the "
    "people, shall not perish from the earth."
)
PRIDE = (
    "It is a truth universally acknowledged, that a single man in possession of a good "
    "fortune, must be in want of a wife.\n\n"
    "However little known the feelings or views of such a man may be on his first entering a "
    "neighbourhood, this truth is so well fixed in the minds of the surrounding families, that "
    "he is considered the rightful property of some one or other of their daughters.\n\n"
    '"My dear Mr. Bennet," said his lady to him one day, "have you heard that Netherfield '
    'Park is let at last?"\n\n'
    "Mr. Bennet replied that he had not.\n\n"
    '"But it is," returned she; "for Mrs. Long has just been here, and she told me all '
    'about it."\n\n'
    "Mr. Bennet made no answer.\n\n"
    '"Do you not want to know who has taken it?" cried his wife impatiently.\n\n'
    '"You want to tell me, and I have no objection to hearing it."\n\n'
    "This was invitation enough."
)
UDHR = [
    "All human beings are born free and equal in dignity and rights. They are endowed with "
    "reason and conscience and should act towards one another in a spirit of brotherhood.",
    "Everyone is entitled to all the rights and freedoms set forth in this Declaration, "
    "without distinction of any kind, such as race, colour, sex, language, religion, political "
    "or other opinion, national or social origin, property, birth or other status.",
    "Everyone has the right to life, liberty and security of person.",
    "No one shall be held in slavery or servitude; slavery and the slave trade shall be "
    "prohibited in all their forms.",
    "No one shall be subjected to torture or to cruel, inhuman or degrading treatment or "
    "punishment.",
    "Everyone has the right to recognition everywhere as a person before the law.",
    "All are equal before the law and are entitled without any discrimination to equal "
    "protection of the law.",
    "Everyone has the right to an effective remedy by the competent national tribunals for "
    "acts violating the fundamental rights granted him by the constitution or by law.",
    "No one shall be subjected to arbitrary arrest, detention or exile.",
    "Everyone is entitled in full equality to a fair and public hearing by an independent and "
    "impartial tribunal, in the determination of his rights and obligations and of any "
    "criminal charge against him.",
]
CHINESE = (
    "北京是中华人民共和国的首都，也是全国的政治和文化中心。这座城市有三千多年的历史，"
    "拥有故宫、天坛和长城等世界文化遗产。每年都有数以百万计的游客来到这里参观。\n\n"
    "北京的交通十分便利，地铁网络覆盖了城市的大部分地区。市内还有许多公园和博物馆，"
    "适合全家一起游览。"
)
JAPANESE = (
    "東京は日本の首都であり、世界でも有数の大都市です。江戸時代には江戸と呼ばれ、"
    "徳川幕府が置かれていました。現在では政治、経済、文化の中心地として知られています。"
)
THAI = (
    "กรุงเทพมหานครเป็นเมืองหลวงของประเทศไทย และเป็นศูนย์กลางทางเศรษฐกิจของประเทศ "
    "มีประชากรมากกว่าสิบล้านคน\n"
    "เมืองนี้มีวัดและพระราชวังที่สวยงามมากมาย นักท่องเที่ยวจากทั่วโลกเดินทางมาเยี่ยมชมทุกปี"
)


def words_of(text: str) -> list[str]:
    """Whitespace tokens of real prose, for cutting a text to an exact word count."""
    return text.split()


def reason(stage, text: str, **meta) -> str | None:
    """Run ``stage`` on one document: None if kept, else the full drop reason."""
    before = Counter(stage.stats.dropped)
    kept = list(stage([Document(id="t", text=text, meta=dict(meta))]))
    if kept:
        return None
    (dropped,) = (stage.stats.dropped - before).keys()
    return dropped


def signals(stage, text: str, **meta) -> dict:
    doc = Document(id="t", text=text, meta=dict(meta))
    stage.check(doc)
    return doc.meta[stage.name]


# -- registry, defaults, sources --------------------------------------------------------


@pytest.mark.parametrize(
    "cls, name",
    [
        (GopherQuality, "gopher_quality"),
        (GopherRepetition, "gopher_repetition"),
        (C4Quality, "c4_quality"),
        (FineWebQuality, "fineweb_quality"),
    ],
)
def test_stages_are_registered_under_their_config_names(cls, name):
    assert STAGE_REGISTRY[name] is cls
    assert "annotate_only" in inspect.signature(cls).parameters


def defaults(cls) -> dict:
    return {k: p.default for k, p in inspect.signature(cls).parameters.items()}


def only(rule: str) -> GopherRepetition:
    """A GopherRepetition with every rule but ``rule`` (a parameter name) switched off."""
    names = [name for name in defaults(GopherRepetition) if name.startswith("max_")]
    return GopherRepetition(**{name: None for name in names if name != rule})


def test_gopher_quality_defaults_are_the_papers():
    assert defaults(GopherQuality) == {
        "min_words": 50,
        "max_words": 100_000,
        "min_mean_word_length": 3,
        "max_mean_word_length": 10,
        "max_hash_ratio": 0.1,
        "max_ellipsis_ratio": 0.1,
        "max_bullet_lines": 0.9,
        "max_ellipsis_lines": 0.3,
        "min_alpha_words": 0.8,
        "min_stop_words": 2,
        "stop_words": None,
        "annotate_only": False,
    }


def test_gopher_repetition_defaults_are_table_a1():
    assert defaults(GopherRepetition) == {
        "max_dup_lines": 0.30,
        "max_dup_paragraphs": 0.30,
        "max_dup_line_chars": 0.20,
        "max_dup_paragraph_chars": 0.20,
        "max_top_2gram": 0.20,
        "max_top_3gram": 0.18,
        "max_top_4gram": 0.16,
        "max_dup_5gram": 0.15,
        "max_dup_6gram": 0.14,
        "max_dup_7gram": 0.13,
        "max_dup_8gram": 0.12,
        "max_dup_9gram": 0.11,
        "max_dup_10gram": 0.10,
        "ngrams_of": "text",
        "count_first_copy": False,
        "annotate_only": False,
    }


def test_c4_defaults_follow_the_paper_not_the_swapped_libraries():
    params = defaults(C4Quality)
    assert params["min_sentences"] == 3  # datatrove: 5
    assert params["min_words_per_line"] == 5  # datatrove: 3
    assert params["terminal_punctuation"] is True
    assert params["bad_words_file"] is None  # off unless pointed at a list


def test_fineweb_defaults_are_the_papers_three_rules():
    assert defaults(FineWebQuality) == {
        "min_terminal_punct_lines": 0.12,
        "max_dup_line_chars": 0.1,  # the paper; datatrove's default is 0.01
        "max_short_lines": 0.67,
        "short_line_length": 30,
        "annotate_only": False,
    }


@pytest.mark.parametrize("cls", [GopherQuality, GopherRepetition, C4Quality, FineWebQuality])
def test_each_docstring_cites_its_source(cls):
    doc = cls.__doc__
    cited = {
        GopherQuality: "Rae et al. 2021",
        GopherRepetition: "table A1",
        C4Quality: "Raffel et al. 2020",
        FineWebQuality: "Penedo et al. 2024",
    }[cls]
    assert cited in doc


@pytest.mark.parametrize("text", [GETTYSBURG, PRIDE, "\n\n".join(UDHR)])
@pytest.mark.parametrize("cls", [GopherQuality, GopherRepetition, C4Quality, FineWebQuality])
def test_real_prose_is_kept(cls, text):
    assert reason(cls(), text) is None


# -- GopherQuality -----------------------------------------------------------------------


def test_signals_are_recorded_before_deciding():
    meta = signals(GopherQuality(), GETTYSBURG)
    assert meta["word_count"] == 271
    assert meta["stop_words"] == 7  # the, to, of, and, that, have... distinct ones
    assert set(meta) == {
        "word_count",
        "mean_word_length",
        "hash_ratio",
        "ellipsis_ratio",
        "bullet_lines",
        "ellipsis_lines",
        "alpha_words",
        "stop_words",
    }


def test_punctuation_marks_are_not_words():
    # The Address has seven "--" dashes: 278 whitespace tokens, 271 words.
    assert len(GETTYSBURG.split()) == 278
    meta = signals(GopherQuality(), GETTYSBURG)
    assert meta["word_count"] == 271
    # and trailing commas do not lengthen words: "nation," is six letters
    assert TextView("nation, nation").word_lengths == [6, 6]


def test_word_count_50_is_kept_49_is_dropped():
    words = words_of(GETTYSBURG)
    assert reason(GopherQuality(), " ".join(words[:50])) is None
    assert reason(GopherQuality(), " ".join(words[:49])) == "gopher_quality:word_count"


def test_word_count_100000_is_kept_100001_is_dropped():
    words = words_of(PRIDE.replace("\n\n", " "))
    many = (words * (100_001 // len(words) + 1))[:100_001]
    stage = GopherQuality()
    assert signals(stage, " ".join(many[:100_000]))["word_count"] == 100_000
    assert reason(stage, " ".join(many[:100_000])) is None
    assert reason(stage, " ".join(many)) == "gopher_quality:word_count"


# "The cat sat on the mat" prose: 3-letter words only, then one 2-letter word.
THREE_LETTER = (
    "The old man and the boy saw the red fox run off. Why did the fox run? The dog was not "
    "far off and the fox was shy. The man had one dog and one cat. The cat sat and ate. "
    "The boy got his hat and ran out the way the fox had run. Yes, and the day was hot. "
    "The sun was low but the air was dry, and the men sat for tea."
)


def test_mean_word_length_3_is_kept_below_3_is_dropped():
    meta = signals(GopherQuality(), THREE_LETTER)
    assert meta["mean_word_length"] == 3.0
    assert reason(GopherQuality(), THREE_LETTER) is None
    shorter = THREE_LETTER.replace("Why did", "So did", 1)
    assert signals(GopherQuality(), shorter)["mean_word_length"] < 3
    assert reason(GopherQuality(), shorter) == "gopher_quality:mean_word_length"


def test_mean_word_length_10_is_kept_above_10_is_dropped():
    # keyword-stuffed spam: 45 ten-letter words, 3 fifteen-letter ones, "the" and "of"
    ten = ["management", "investment", "university", "government", "technology"] * 9
    spam = " ".join(["the", "of", *ten, "pharmaceuticals", "pharmaceuticals", "administrations"])
    assert signals(GopherQuality(), spam)["mean_word_length"] == 10.0
    assert reason(GopherQuality(), spam) is None
    longer = spam.replace("technology", "technologys", 1)
    assert signals(GopherQuality(), longer)["mean_word_length"] > 10
    assert reason(GopherQuality(), longer) == "gopher_quality:mean_word_length"


def test_hash_ratio_at_0_1_is_kept_above_is_dropped():
    words = words_of(GETTYSBURG)[:100]
    tagged = " ".join(words) + " " + " ".join(["#history"] * 10)  # 110 words, 10 hashes
    assert signals(GopherQuality(), tagged)["hash_ratio"] == round(10 / 110, 4)
    assert reason(GopherQuality(), tagged) is None
    social = " ".join(words[:50]) + " #travel #usa #history #gettysburg #lincoln #civilwar"
    assert reason(GopherQuality(), social) == "gopher_quality:hash_ratio"


def test_ellipsis_ratio_counts_three_dots_and_the_ellipsis_character():
    words = words_of(PRIDE)[:60]
    at_limit = " ".join(w + ("..." if i % 10 == 0 else "") for i, w in enumerate(words))
    assert signals(GopherQuality(), at_limit)["ellipsis_ratio"] == 0.1
    assert reason(GopherQuality(), at_limit) is None
    trailing = " ".join(w + ("..." if i % 9 == 0 else "") for i, w in enumerate(words))
    assert signals(GopherQuality(), trailing)["ellipsis_ratio"] == round(7 / 60, 4)
    assert reason(GopherQuality(), trailing) == "gopher_quality:ellipsis_ratio"
    unicode = trailing.replace("...", "…")
    assert reason(GopherQuality(), unicode) == "gopher_quality:ellipsis_ratio"


def bullet_page(bullets: int, plain: int) -> str:
    items = [sentence.rstrip(".") for sentence in UDHR]
    lines = [f"• {item}" for item in items[:bullets]] + items[bullets : bullets + plain]
    return "\n".join(lines)


def test_bullet_lines_90_percent_is_kept_more_is_dropped():
    assert signals(GopherQuality(), bullet_page(9, 1))["bullet_lines"] == 0.9
    assert reason(GopherQuality(), bullet_page(9, 1)) is None
    assert reason(GopherQuality(), bullet_page(10, 0)) == "gopher_quality:bullet_lines"


def test_dash_and_asterisk_lists_are_bullets_too():
    page = bullet_page(10, 0)
    assert reason(GopherQuality(), page.replace("• ", "- ")) == "gopher_quality:bullet_lines"
    assert reason(GopherQuality(), page.replace("• ", "* ")) == "gopher_quality:bullet_lines"


def teaser_page(teasers: int, full: int) -> str:
    items = list(UDHR)
    lines = [item[:60].rstrip() + "..." for item in items[:teasers]]
    return "\n\n".join(lines + items[teasers : teasers + full])


def test_ellipsis_lines_30_percent_is_kept_more_is_dropped():
    assert signals(GopherQuality(), teaser_page(3, 7))["ellipsis_lines"] == 0.3
    assert reason(GopherQuality(), teaser_page(3, 7)) is None
    assert reason(GopherQuality(), teaser_page(4, 6)) == "gopher_quality:ellipsis_lines"


def test_alpha_words_80_percent_is_kept_less_is_dropped():
    words = words_of(GETTYSBURG)[:80]
    years = ["1863", "1865", "1776", "1861", "1864"]
    kept = " ".join(words + years * 4)  # 80 of 100 words have a letter
    assert signals(GopherQuality(), kept)["alpha_words"] == 0.8
    assert reason(GopherQuality(), kept) is None
    table = " ".join(words[:79] + years * 4 + ["1860"])
    assert reason(GopherQuality(), table) == "gopher_quality:alpha_words"


def test_stop_words_counts_distinct_words_case_insensitively():
    headline = (
        "Stocks Rally As Investors Cheer Earnings Season Tech Giants Lead Gains While "
        "Energy Shares Slip Analysts Expect Volatility Ahead Central Bank Decision Looms "
    ) * 3  # 60 words, no stop word
    assert signals(GopherQuality(), headline)["stop_words"] == 0
    assert reason(GopherQuality(), headline) == "gopher_quality:stop_words"
    one = headline + "The The the THE"  # one distinct stop word, four times
    assert reason(GopherQuality(), one) == "gopher_quality:stop_words"
    two = headline + "The Of"
    assert signals(GopherQuality(), two)["stop_words"] == 2
    assert reason(GopherQuality(), two) is None


def test_a_disabled_rule_never_drops():
    short = " ".join(words_of(GETTYSBURG)[:45])
    assert reason(GopherQuality(), short) == "gopher_quality:word_count"
    assert reason(GopherQuality(min_words=None), short) is None


def test_annotate_only_records_and_drops_nothing():
    stage = GopherQuality(annotate_only=True)
    docs = [Document(id="short", text="Too short to keep."), Document(id="ok", text=GETTYSBURG)]
    kept = list(stage(docs))
    assert [d.id for d in kept] == ["short", "ok"]
    assert kept[0].meta["gopher_quality"]["word_count"] == 4
    assert stage.stats.dropped == Counter()
    assert stage.stats.would_drop == Counter({"gopher_quality:word_count": 1})


# -- languages without spaces ------------------------------------------------------------


@pytest.mark.parametrize("text, lang", [(CHINESE, "zh"), (JAPANESE, "ja"), (THAI, "th")])
def test_script_check_finds_languages_without_spaces(text, lang):
    assert no_space_language(text, {}) == lang
    assert no_space_language(GETTYSBURG, {}) is None
    assert no_space_language("Café crème brûlée — “naïve” façade.", {}) is None


def test_language_id_result_wins_over_the_script_check():
    assert no_space_language(CHINESE, {"lang": "ja"}) == "ja"
    assert no_space_language(CHINESE, {"lang": "en"}) is None


@pytest.mark.parametrize("text, lang", [(CHINESE, "zh"), (JAPANESE, "ja"), (THAI, "th")])
@pytest.mark.parametrize("cls", [GopherQuality, GopherRepetition, C4Quality])
def test_word_rules_are_skipped_not_failed_for_languages_without_spaces(cls, text, lang):
    stage = cls()
    assert reason(stage, text) is None
    assert signals(stage, text)["word_rules_skipped"] == lang
    assert stage.notes[f"word_rules_skipped:{lang}"] == 2  # counted per document seen


def test_line_rules_still_apply_to_chinese():
    menu = "\n".join(f"• {line}" for line in CHINESE.replace("\n\n", "。").split("。") if line)
    assert reason(GopherQuality(), menu) == "gopher_quality:bullet_lines"


# -- C4 ----------------------------------------------------------------------------------

WEB_PAGE = (
    "Home | News | Sport | Weather\n"
    "Please enable JavaScript to view the comments powered by Disqus.\n"
    "The Python Software Foundation is the organization behind Python. It holds the "
    "intellectual property rights behind the language.\n"
    "Python was conceived in the late 1980s by Guido van Rossum in the Netherlands.\n"
    "Its implementation began in December 1989.[1] Van Rossum led the project until 2018.\n"
    "Read more...\n"
    "This site uses cookies to improve your experience. By continuing you accept them.\n"
    "Follow us on Twitter.\n"
    "Posted by admin"
)


def test_c4_line_rules_remove_lines_and_keep_the_page():
    doc = Document(id="page", text=WEB_PAGE)
    stage = C4Quality()
    assert list(stage([doc])) == [doc]
    assert doc.text == (
        "The Python Software Foundation is the organization behind Python. It holds the "
        "intellectual property rights behind the language.\n"
        "Python was conceived in the late 1980s by Guido van Rossum in the Netherlands.\n"
        "Its implementation began in December 1989. Van Rossum led the project until 2018."
    )
    assert doc.meta["c4_quality"]["lines_removed"] == {
        "terminal_punctuation": 3,  # menu, "Read more...", "Posted by admin"
        "javascript": 1,
        "policy": 1,
        "words_per_line": 1,  # "Follow us on Twitter." has 4 words
    }
    assert doc.meta["c4_quality"]["sentences"] == 5
    assert stage.stats.modified == 1


def test_c4_five_words_per_line_not_three():
    stage = C4Quality(min_sentences=None)
    assert signals(stage, "Mr. Bennet made no answer.")["lines_removed"] == {}
    assert signals(stage, "This was invitation enough.")["lines_removed"] == {"words_per_line": 1}


def test_c4_three_sentences_kept_two_dropped():
    three = "Mr. Bennet replied that he had not. It is a truth. He made no answer to that."
    assert signals(C4Quality(), three)["sentences"] == 3
    assert reason(C4Quality(), three) is None
    two = "Mr. Bennet replied that he had not. He made no answer to that at all."
    assert reason(C4Quality(), two) == "c4_quality:sentences"


def test_c4_page_rules_drop_the_whole_page_wherever_they_occur():
    assert reason(C4Quality(), PRIDE + "\n\nLorem ipsum dolor sit amet.") == (
        "c4_quality:lorem_ipsum"
    )
    # the brace is on a line the line rules would remove anyway: the paper drops the page
    script = PRIDE + "\n\nfunction track() { window.dataLayer.push(arguments) }"
    assert reason(C4Quality(), script) == "c4_quality:curly_bracket"
    assert reason(C4Quality(curly_bracket=False), script) is None


def test_c4_keeps_paragraph_breaks_between_kept_lines():
    doc = Document(id="p", text=PRIDE)
    list(C4Quality()([doc]))
    assert doc.text.count("\n\n") == PRIDE.count("\n\n") - 1  # one paragraph was removed
    assert not doc.text.endswith("This was invitation enough.")


def test_c4_lines_ending_in_a_closing_quote_are_kept():
    assert '"You want to tell me' in list(C4Quality()([Document("p", PRIDE)]))[0].text


def test_c4_without_terminal_punctuation_rule_is_finewebs_variant():
    page = "\n".join(s.rstrip(".") for s in UDHR)
    assert reason(C4Quality(), page) == "c4_quality:sentences"  # every line removed
    doc = Document("u", page)
    assert list(C4Quality(terminal_punctuation=False)([doc])) == [doc]
    assert doc.text == page


def test_c4_bad_words_are_off_by_default_and_on_with_a_word_list(tmp_path):
    page = PRIDE + "\n\nThe seller was a total scumbag and a fraud, reviewers said."
    assert reason(C4Quality(), page) is None
    words = tmp_path / "bad_words.txt"
    words.write_text("# a few entries\nscumbag\nbad apple\n", encoding="utf-8")
    stage = C4Quality(bad_words_file=str(words))
    assert signals(stage, page)["bad_words"] == 1
    assert reason(stage, page) == "c4_quality:bad_words"
    assert reason(stage, PRIDE.replace("wife", "scumbagged wife")) is None  # whole words


def test_c4_annotate_only_counts_lines_but_changes_nothing():
    doc = Document(id="page", text=WEB_PAGE)
    stage = C4Quality(annotate_only=True)
    assert list(stage([doc])) == [doc]
    assert doc.text == WEB_PAGE
    assert sum(doc.meta["c4_quality"]["lines_removed"].values()) == 6
    assert stage.stats.modified == 0


def test_c4_chinese_sentences_end_in_chinese_full_stops():
    doc = Document(id="zh", text=CHINESE)
    assert list(C4Quality()([doc])) == [doc]
    assert doc.text == CHINESE  # nothing removed: lines end in 。
    assert doc.meta["c4_quality"]["sentences"] == 5


def test_c4_thai_skips_the_sentence_rules():
    meta = signals(C4Quality(), THAI)
    assert "sentences" not in meta
    assert meta["lines_removed"] == {}


# -- across filters ----------------------------------------------------------------------


def test_source_code_passes_gopher_but_not_c4_or_fineweb():
    import json.encoder

    source = inspect.getsource(json.encoder)
    assert reason(GopherQuality(), source) is None  # Gopher's rules were not made for code
    assert reason(C4Quality(), source) == "c4_quality:curly_bracket"
    assert reason(FineWebQuality(), source) == "fineweb_quality:terminal_punct_lines"


def test_stages_in_a_row_share_one_split_until_the_text_changes():
    doc = Document(id="page", text=WEB_PAGE)
    view = text_view(doc.text)
    assert text_view(doc.text) is view
    list(C4Quality()([doc]))  # removes lines: a new text
    assert text_view(doc.text) is not view


# -- FineWeb -----------------------------------------------------------------------------


def prose_lines(count: int) -> list[str]:
    """Distinct real sentences and clauses, one a line, over 30 characters, ending in "."."""
    text = " ".join([*UDHR, GETTYSBURG, PRIDE])
    clauses = [c.strip() for c in re.split(r"[.;?!]|--", text) if len(c.strip()) > 30]
    assert len(clauses) >= count
    return [c.strip('"') + "." for c in clauses[:count]]


def test_fineweb_punctuation_at_12_percent_is_dropped_above_is_kept():
    lines = prose_lines(25)
    at_limit = [line if i < 3 else line.rstrip(".") for i, line in enumerate(lines)]
    assert signals(FineWebQuality(), "\n".join(at_limit))["terminal_punct_lines"] == 0.12
    assert reason(FineWebQuality(), "\n".join(at_limit)) == ("fineweb_quality:terminal_punct_lines")
    above = [line if i < 4 else line.rstrip(".") for i, line in enumerate(lines)]
    assert reason(FineWebQuality(), "\n".join(above)) is None


def test_fineweb_duplicate_line_characters_at_10_percent_are_dropped():
    lines = prose_lines(20)
    page = "\n".join(lines + lines[:1])
    value = signals(FineWebQuality(), page)["dup_line_chars"]
    assert 0 < value < 0.1
    assert reason(FineWebQuality(), page) is None
    page = "\n".join(lines + lines[:3])
    assert signals(FineWebQuality(), page)["dup_line_chars"] >= 0.1
    assert reason(FineWebQuality(), page) == "fineweb_quality:dup_line_chars"


def test_fineweb_short_lines_are_shorter_than_30_characters():
    stage = FineWebQuality(min_terminal_punct_lines=None)
    exactly_30 = "Everyone has the right to vote"  # 30 characters: not short
    assert len(exactly_30) == 30
    assert signals(stage, exactly_30)["short_lines"] == 0.0
    assert signals(stage, exactly_30[:29])["short_lines"] == 1.0


def test_fineweb_short_line_share_of_67_percent_is_dropped():
    menu = ["Home", "About us", "Contact", "Shop", "Careers", "Blog"]
    lines = prose_lines(9) + menu * 3  # 18 short lines of 27: 0.6667
    stage = FineWebQuality(max_dup_line_chars=None)
    assert signals(stage, "\n".join(lines))["short_lines"] == round(18 / 27, 4)
    assert reason(stage, "\n".join(lines)) is None
    lines.append("Sign in")  # 19 of 28
    assert reason(stage, "\n".join(lines)) == "fineweb_quality:short_lines"


def test_fineweb_counts_cjk_full_stops_as_punctuation():
    assert signals(FineWebQuality(), CHINESE)["terminal_punct_lines"] == 1.0


def test_a_batch_gives_each_document_the_signals_it_gets_alone():
    """GopherRepetition measures n-grams for a whole batch at once; no n-gram may span two
    documents, and no document's signals may depend on its neighbours."""
    import gzip
    import json
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "sample_data" / "web" / "crawl-000.jsonl.gz"
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        texts = [json.loads(line)["text"] for line in list(fh)[:120]]
    texts += ["the same words " * 40, "the same words " * 40, "", "one two three four five"]
    together = [Document(id=str(i), text=t) for i, t in enumerate(texts)]
    GopherRepetition().process_batch(together)
    for i, text in enumerate(texts):
        alone = Document(id=str(i), text=text)
        GopherRepetition().process_batch([alone])
        assert alone.meta == together[i].meta, i


# -- drop details: the stored value against the threshold ---------------------------------


def drop_detail(stage, text: str, **meta) -> tuple[str, str] | None:
    """Run ``stage`` on one document: None if kept, else (reason, detail) as rejects/ get."""
    seen: list[tuple[str, str]] = []
    stage.on_drop = lambda doc, reason, detail="": seen.append((reason, detail))
    list(stage([Document(id="t", text=text, meta=dict(meta))]))
    return seen[0] if seen else None


def test_detail_shows_a_count_against_its_limit_as_integers():
    text = " ".join(words_of(GETTYSBURG)[:49])
    assert drop_detail(GopherQuality(), text) == (
        "gopher_quality:word_count",
        "word_count 49 < 50",
    )


def test_detail_shows_enough_digits_to_tell_the_value_from_the_limit():
    shorter = THREE_LETTER.replace("Why did", "So did", 1)  # mean word length 2.99
    assert drop_detail(GopherQuality(), shorter) == (
        "gopher_quality:mean_word_length",
        "mean_word_length 2.99 < 3.00",
    )


def test_detail_reuses_the_signal_stored_in_meta():
    doc = Document(id="t", text=" ".join(words_of(PRIDE)[:40]))
    seen = []
    stage = GopherQuality()
    stage.on_drop = lambda d, reason, detail="": seen.append(detail)
    list(stage([doc]))
    assert seen == [f"word_count {doc.meta['gopher_quality']['word_count']} < 50"]


def test_repetition_detail_shows_the_ratio_to_two_digits():
    lines = list(UDHR[:7])
    page = "\n".join(lines[:6] + lines[:4])  # 4 of 10 lines repeat
    assert drop_detail(only("max_dup_lines"), page) == (
        "gopher_repetition:dup_lines",
        "dup_lines 0.40 > 0.30",
    )


def test_batched_ngram_detail_shows_the_top_ngram_fraction():
    chant = "Never forget Gettysburg! " * 10 + " ".join(words_of(GETTYSBURG)[:30])
    stage = only("max_top_2gram")
    reason, detail = drop_detail(stage, chant)
    value = signals(only("max_top_2gram"), chant)["top_2gram"]
    assert reason == "gopher_repetition:top_2gram"
    assert detail == f"top_2gram {value:.2f} > 0.20"


def test_c4_sentences_detail_counts_sentences_against_the_minimum():
    two = "Mr. Bennet replied that he had not. He made no answer to that at all."
    assert drop_detail(C4Quality(), two) == ("c4_quality:sentences", "sentences 2 < 3")


def test_c4_sentences_detail_says_how_many_lines_the_line_rules_removed():
    page = "\n".join(s.rstrip(".") for s in UDHR)  # no line ends in punctuation
    assert drop_detail(C4Quality(), page) == (
        "c4_quality:sentences",
        "sentences 0 < 3, 10 of 10 lines removed",
    )


@pytest.mark.parametrize(
    "tail, rule, detail",
    [
        ("Lorem ipsum dolor sit amet.", "lorem_ipsum", "contains lorem ipsum"),
        ("function track() { window.dataLayer.push(arguments) }", "curly_bracket", "contains {"),
    ],
)
def test_c4_page_rule_details_say_what_the_page_contains(tail, rule, detail):
    assert drop_detail(C4Quality(), PRIDE + "\n\n" + tail) == (f"c4_quality:{rule}", detail)


def test_c4_bad_words_detail_counts_the_matches(tmp_path):
    words = tmp_path / "bad_words.txt"
    words.write_text("scumbag\nfraud\n", encoding="utf-8")
    page = PRIDE + "\n\nThe seller was a total scumbag and a fraud, reviewers said."
    assert drop_detail(C4Quality(bad_words_file=str(words)), page) == (
        "c4_quality:bad_words",
        "contains 2 bad words",
    )


def test_fineweb_inclusive_bound_reads_at_or_below():
    lines = prose_lines(25)
    at_limit = [line if i < 3 else line.rstrip(".") for i, line in enumerate(lines)]
    assert drop_detail(FineWebQuality(), "\n".join(at_limit)) == (
        "fineweb_quality:terminal_punct_lines",
        "terminal_punct_lines 0.12 <= 0.12",
    )


def test_fineweb_duplicate_line_detail_reads_at_or_above():
    lines = prose_lines(20)
    page = "\n".join(lines + lines[:3])
    reason, detail = drop_detail(FineWebQuality(), page)
    value = signals(FineWebQuality(), page)["dup_line_chars"]
    assert reason == "fineweb_quality:dup_line_chars"
    assert detail == f"dup_line_chars {value:.2f} >= 0.10"
