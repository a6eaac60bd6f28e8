"""GopherQuality's stop-word rule in the document's own language.

The texts are articles 1-3 of the Universal Declaration of Human Rights (United Nations,
1948; the official and published translations), real running prose of the kind the rule
exists to keep. Each passes the English rules' other thresholds, yet has (almost) none of
the English stop words, so the English list alone would drop it.
"""

from __future__ import annotations

import pytest

from cleanpipe.document import Document
from cleanpipe.stages.data import stop_word_languages, stop_words_for
from cleanpipe.stages.quality import GOPHER_STOP_WORDS, GopherQuality

UDHR = {
    "de": (
        "Alle Menschen sind frei und gleich an Würde und Rechten geboren. Sie sind mit "
        "Vernunft und Gewissen begabt und sollen einander im Geist der Brüderlichkeit "
        "begegnen. Jeder hat Anspruch auf alle in dieser Erklärung verkündeten Rechte und "
        "Freiheiten ohne irgendeinen Unterschied, etwa nach Rasse, Hautfarbe, Geschlecht, "
        "Sprache, Religion, politischer oder sonstiger Anschauung, nationaler oder sozialer "
        "Herkunft, Vermögen, Geburt oder sonstigem Stand. Jeder hat das Recht auf Leben, "
        "Freiheit und Sicherheit der Person."
    ),
    "fr": (
        "Tous les êtres humains naissent libres et égaux en dignité et en droits. Ils sont "
        "doués de raison et de conscience et doivent agir les uns envers les autres dans un "
        "esprit de fraternité. Chacun peut se prévaloir de tous les droits et de toutes les "
        "libertés proclamés dans la présente Déclaration, sans distinction aucune, notamment "
        "de race, de couleur, de sexe, de langue, de religion, d'opinion politique ou de "
        "toute autre opinion, d'origine nationale ou sociale, de fortune, de naissance ou de "
        "toute autre situation. Tout individu a droit à la vie, à la liberté et à la sûreté "
        "de sa personne."
    ),
    "es": (
        "Todos los seres humanos nacen libres e iguales en dignidad y derechos y, dotados "
        "como están de razón y conciencia, deben comportarse fraternalmente los unos con los "
        "otros. Toda persona tiene todos los derechos y libertades proclamados en esta "
        "Declaración, sin distinción alguna de raza, color, sexo, idioma, religión, opinión "
        "política o de cualquier otra índole, origen nacional o social, posición económica, "
        "nacimiento o cualquier otra condición. Todo individuo tiene derecho a la vida, a la "
        "libertad y a la seguridad de su persona."
    ),
    "it": (
        "Tutti gli esseri umani nascono liberi ed eguali in dignità e diritti. Essi sono "
        "dotati di ragione e di coscienza e devono agire gli uni verso gli altri in spirito "
        "di fratellanza. Ad ogni individuo spettano tutti i diritti e tutte le libertà "
        "enunciate nella presente Dichiarazione, senza distinzione alcuna, per ragioni di "
        "razza, di colore, di sesso, di lingua, di religione, di opinione politica o di altro "
        "genere, di origine nazionale o sociale, di ricchezza, di nascita o di altra "
        "condizione. Ogni individuo ha diritto alla vita, alla libertà ed alla sicurezza "
        "della propria persona."
    ),
    "pt": (
        "Todos os seres humanos nascem livres e iguais em dignidade e em direitos. Dotados "
        "de razão e de consciência, devem agir uns para com os outros em espírito de "
        "fraternidade. Todos os seres humanos podem invocar os direitos e as liberdades "
        "proclamados na presente Declaração, sem distinção alguma, nomeadamente de raça, de "
        "cor, de sexo, de língua, de religião, de opinião política ou outra, de origem "
        "nacional ou social, de fortuna, de nascimento ou de qualquer outra situação. Todo "
        "o indivíduo tem direito à vida, à liberdade e à segurança pessoal."
    ),
    "nl": (
        "Alle mensen worden vrij en gelijk in waardigheid en rechten geboren. Zij zijn "
        "begiftigd met verstand en geweten, en behoren zich jegens elkander in een geest van "
        "broederschap te gedragen. Een ieder heeft aanspraak op alle rechten en vrijheden, "
        "uiteengezet in deze Verklaring, zonder enig onderscheid van welke aard ook, zoals "
        "ras, kleur, geslacht, taal, godsdienst, politieke of andere overtuiging, nationale "
        "of maatschappelijke afkomst, eigendom, geboorte of andere status. Een ieder heeft "
        "het recht op leven, vrijheid en onschendbaarheid van zijn persoon."
    ),
    "ru": (
        "Все люди рождаются свободными и равными в своем достоинстве и правах. Они наделены "
        "разумом и совестью и должны поступать в отношении друг друга в духе братства. "
        "Каждый человек должен обладать всеми правами и всеми свободами, провозглашенными "
        "настоящей Декларацией, без какого бы то ни было различия, как-то в отношении расы, "
        "цвета кожи, пола, языка, религии, политических или иных убеждений, национального "
        "или социального происхождения, имущественного, сословного или иного положения. "
        "Каждый человек имеет право на жизнь, на свободу и на личную неприкосновенность."
    ),
    "pl": (
        "Wszyscy ludzie rodzą się wolni i równi pod względem swej godności i swych praw. "
        "Są oni obdarzeni rozumem i sumieniem i powinni postępować wobec innych w duchu "
        "braterstwa. Każdy człowiek posiada wszystkie prawa i wolności zawarte w niniejszej "
        "Deklaracji bez względu na jakiekolwiek różnice rasy, koloru skóry, płci, języka, "
        "wyznania, poglądów politycznych i innych przekonań, narodowości, pochodzenia "
        "społecznego, majątku, urodzenia lub jakiegokolwiek innego stanu. Każdy człowiek ma "
        "prawo do życia, wolności i bezpieczeństwa swej osoby."
    ),
    "tr": (
        "Bütün insanlar hür, haysiyet ve haklar bakımından eşit doğarlar. Akıl ve vicdana "
        "sahiptirler ve birbirlerine karşı kardeşlik zihniyeti ile hareket etmelidirler. "
        "Herkes, ırk, renk, cinsiyet, dil, din, siyasi veya diğer herhangi bir akide, milli "
        "veya içtimai menşe, servet, doğuş veya herhangi diğer bir fark gözetilmeksizin bu "
        "Beyannamede ilan olunan tüm haklardan ve bütün hürriyetlerden istifade edebilir. "
        "Yaşamak, hürriyet ve kişi emniyeti her ferdin hakkıdır. Hiç kimse kölelik veya "
        "kulluk altında bulundurulamaz; kölelik ve köle ticareti her türlü şekliyle yasaktır."
    ),
    "hi": (
        "सभी मनुष्यों को गौरव और अधिकारों के मामले में जन्मजात स्वतन्त्रता और समानता प्राप्त है। "
        "उन्हें बुद्धि और अन्तरात्मा की देन प्राप्त है और परस्पर उन्हें भाईचारे के भाव से बर्ताव "
        "करना चाहिए। सभी को इस घोषणा में सन्निहित सभी अधिकारों और स्वतन्त्रताओं को प्राप्त करने "
        "का हक़ है और इस मामले में जाति, वर्ण, लिंग, भाषा, धर्म, राजनीति या अन्य विचार-प्रणाली, "
        "किसी देश या समाज विशेष में जन्म, सम्पत्ति या किसी प्रकार की अन्य मर्यादा आदि के कारण "
        "भेदभाव का विचार न किया जाएगा। प्रत्येक व्यक्ति को जीवन, स्वाधीनता और वैयक्तिक सुरक्षा "
        "का अधिकार है।"
    ),
    "id": (
        "Semua orang dilahirkan merdeka dan mempunyai martabat dan hak-hak yang sama. Mereka "
        "dikaruniai akal dan hati nurani dan hendaknya bergaul satu sama lain dalam semangat "
        "persaudaraan. Setiap orang berhak atas semua hak dan kebebasan-kebebasan yang "
        "tercantum di dalam Pernyataan ini dengan tidak ada kekecualian apa pun, seperti "
        "ras, warna kulit, jenis kelamin, bahasa, agama, politik atau pendapat yang "
        "berlainan, asal mula kebangsaan atau kemasyarakatan, hak milik, kelahiran ataupun "
        "kedudukan lain. Setiap orang berhak atas kehidupan, kebebasan dan keselamatan "
        "sebagai individu."
    ),
    "sv": (
        "Alla människor är födda fria och lika i värde och rättigheter. De är utrustade med "
        "förnuft och samvete och bör handla gentemot varandra i en anda av broderskap. Var "
        "och en är berättigad till alla de fri- och rättigheter som uttalas i denna "
        "förklaring utan åtskillnad av något slag, såsom ras, hudfärg, kön, språk, religion, "
        "politisk eller annan uppfattning, nationellt eller socialt ursprung, egendom, börd "
        "eller ställning i övrigt. Var och en har rätt till liv, frihet och personlig "
        "säkerhet."
    ),
}
#: languages with a file of stop words, and whose UDHR text holds fewer than 2 English ones
OWN_LANGUAGE_ONLY = sorted(UDHR)


def doc_in(lang: str, text: str | None = None) -> Document:
    return Document(id=f"udhr-{lang}", text=text or UDHR[lang], source="web", meta={"lang": lang})


def test_at_least_ten_languages_ship_a_list():
    assert len(stop_word_languages()) >= 10
    assert set(UDHR) <= stop_word_languages()


@pytest.mark.parametrize("lang", OWN_LANGUAGE_ONLY)
def test_udhr_passes_in_its_own_language(lang):
    doc = doc_in(lang)
    stage = GopherQuality()
    assert list(stage([doc])) == [doc], stage.stats.dropped
    assert doc.meta["gopher_quality"]["stop_words"] >= 2


@pytest.mark.parametrize("lang", OWN_LANGUAGE_ONLY)
def test_the_english_list_alone_drops_the_same_text(lang):
    stage = GopherQuality(stop_words=list(GOPHER_STOP_WORDS))
    assert list(stage([doc_in(lang)])) == []
    assert stage.stats.dropped == {"gopher_quality:stop_words": 1}  # only that rule


def test_a_language_without_a_list_skips_the_rule_and_says_so():
    finnish = (  # UDHR articles 1 and 3
        "Kaikki ihmiset syntyvät vapaina ja tasavertaisina arvoltaan ja oikeuksiltaan. "
        "Heille on annettu järki ja omatunto, ja heidän on toimittava toisiaan kohtaan "
        "veljeyden hengessä. Jokaisella on oikeus elämään, vapauteen ja henkilökohtaiseen "
        "turvallisuuteen. Ketään ei saa pitää orjana tai maaorjana; orjuus ja orjakauppa "
        "kaikissa muodoissaan on kielletty. Ketään ei saa kiduttaa eikä kohdella tai "
        "rangaista julmalla, epäinhimillisellä tai alentavalla tavalla. Jokaisella "
        "ihmisellä on oikeus kaikkialla tulla kohdelluksi henkilönä lain edessä."
    )
    assert stop_words_for("fi") is None
    doc = doc_in("fi", finnish)
    stage = GopherQuality()
    assert list(stage([doc])) == [doc]
    assert doc.meta["gopher_quality"]["stop_words_skipped"] == "fi"
    assert "stop_words" not in doc.meta["gopher_quality"]
    assert stage.notes == {"stop_words_skipped:fi": 1}


def test_without_a_language_the_english_list_applies():
    doc = Document(id="de", text=UDHR["de"], source="web")  # no langid before
    assert list(GopherQuality()([doc])) == []


def test_region_subtags_use_the_base_language():
    doc = doc_in("pt", UDHR["pt"])
    doc.meta["lang"] = "pt-BR"
    assert list(GopherQuality()([doc])) == [doc]


def test_own_language_list_still_drops_a_keyword_list():
    keywords = " ".join(
        "Würde Rechte Vernunft Gewissen Geist Brüderlichkeit Anspruch Erklärung Rasse "
        "Hautfarbe Geschlecht Sprache Religion Anschauung Herkunft Vermögen Geburt Stand "
        "Leben Freiheit Sicherheit Person Menschen Unterschied Freiheiten".split()
        * 3
    )
    stage = GopherQuality()
    assert list(stage([doc_in("de", keywords)])) == []
    assert stage.stats.dropped == {"gopher_quality:stop_words": 1}


def test_hindi_danda_is_punctuation_not_part_of_a_word():
    doc = doc_in("hi", "यह अधिकार है। " * 20)
    list(GopherQuality(min_stop_words=None)([doc]))
    assert doc.meta["gopher_quality"]["stop_words"] == 2  # यह and है, not है।
