"""LanguageID on real sentences (UDHR Article 1 and others), with the bundled lid.176.ftz."""

from __future__ import annotations

import hashlib

import pytest

from cleanpipe import Document
from cleanpipe.stages import LanguageID
from cleanpipe.stages.langid import bundled_model_path

UDHR_ARTICLE_1 = {
    "en": "All human beings are born free and equal in dignity and rights. They are endowed "
    "with reason and conscience and should act towards one another in a spirit of "
    "brotherhood.",
    "fr": "Tous les êtres humains naissent libres et égaux en dignité et en droits. Ils sont "
    "doués de raison et de conscience et doivent agir les uns envers les autres dans un "
    "esprit de fraternité.",
    "de": "Alle Menschen sind frei und gleich an Würde und Rechten geboren. Sie sind mit "
    "Vernunft und Gewissen begabt und sollen einander im Geist der Brüderlichkeit "
    "begegnen.",
    "es": "Todos los seres humanos nacen libres e iguales en dignidad y derechos y, dotados "
    "como están de razón y conciencia, deben comportarse fraternalmente los unos con "
    "los otros.",
    "pt": "Todos os seres humanos nascem livres e iguais em dignidade e em direitos. Dotados "
    "de razão e de consciência, devem agir uns para com os outros em espírito de "
    "fraternidade.",
    "ru": "Все люди рождаются свободными и равными в своем достоинстве и правах. Они "
    "наделены разумом и совестью и должны поступать в отношении друг друга в духе "
    "братства.",
    "zh": "人人生而自由，在尊严和权利上一律平等。他们赋有理性和良心，并应以兄弟关系的精神相对待。",
    "ja": "すべての人間は、生まれながらにして自由であり、かつ、尊厳と権利とについて平等である。"
    "人間は、理性と良心とを授けられており、互いに同胞の精神をもって行動しなければならない。",
    "ar": "يولد جميع الناس أحراراً متساوين في الكرامة والحقوق. وقد وهبوا عقلاً وضميراً وعليهم "
    "أن يعامل بعضهم بعضاً بروح الإخاء.",
}


@pytest.fixture(scope="module")
def langid() -> LanguageID:
    return LanguageID(languages=["en"], min_score=0.65)


def test_bundled_model_is_fasttexts_published_lid176_ftz() -> None:
    path = bundled_model_path()
    assert path.name == "lid.176.ftz"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == (
        "8f3472cfe8738a7b6099e8e999c3cbfae0dcd15696aac7d7738a8039db603e83"
    )


def test_predict_real_sentences_in_nine_languages(langid: LanguageID) -> None:
    predictions = langid.predict(list(UDHR_ARTICLE_1.values()))
    assert [lang for lang, _ in predictions] == list(UDHR_ARTICLE_1)
    assert all(0.5 < score <= 1.0 for _, score in predictions)


def test_multiline_and_empty_text(langid: LanguageID) -> None:
    text = UDHR_ARTICLE_1["de"].replace(". ", ".\n\n")
    (lang, score), (empty_lang, empty_score) = langid.predict([text, "   \n "])
    assert lang == "de" and score > 0.65
    assert (empty_lang, empty_score) == ("unknown", 0.0)


def test_filter_keeps_english_records_language_and_reason(langid: LanguageID) -> None:
    docs = [Document(id=lang, text=text) for lang, text in UDHR_ARTICLE_1.items()]
    kept = list(langid(docs))
    assert [d.id for d in kept] == ["en"]
    assert kept[0].meta["lang"] == "en" and kept[0].meta["lang_score"] > 0.65
    assert langid.stats.dropped["langid:language"] == len(UDHR_ARTICLE_1) - 1
    assert all(d.meta["lang"] == d.id for d in docs)


def test_low_score_is_its_own_reason() -> None:
    stage = LanguageID(min_score=0.99)
    mixed = Document(id="mix", text="Hello Bonjour Hallo Hola Ciao mundo world Welt")
    assert list(stage([mixed])) == []
    assert stage.stats.dropped == {"langid:low_score": 1}


def test_annotate_only_records_and_drops_nothing() -> None:
    stage = LanguageID(languages=["en"], annotate_only=True)
    docs = [Document(id=k, text=v) for k, v in UDHR_ARTICLE_1.items()]
    assert len(list(stage(docs))) == len(docs)
    assert stage.stats.would_drop["langid:language"] == len(docs) - 1
    assert not stage.stats.dropped


def test_missing_model_path_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="lid.176"):
        LanguageID(model_path=str(tmp_path / "nope.bin"))


def test_language_drop_detail_shows_language_score_and_wanted_ones() -> None:
    stage = LanguageID(languages=["en", "fr"])
    seen: list[str] = []
    stage.on_drop = lambda doc, reason, detail="": seen.append(detail)
    doc = Document(id="de", text=UDHR_ARTICLE_1["de"])
    list(stage([doc]))
    assert seen == [f"lang de ({doc.meta['lang_score']:.2f}) not in [en, fr]"]


def test_low_score_detail_shows_the_stored_score_against_min_score() -> None:
    stage = LanguageID(min_score=0.99)
    seen: list[str] = []
    stage.on_drop = lambda doc, reason, detail="": seen.append(detail)
    mixed = Document(id="mix", text="Hello Bonjour Hallo Hola Ciao mundo world Welt")
    list(stage([mixed]))
    assert seen == [f"lang_score {mixed.meta['lang_score']:.2f} < 0.99"]
