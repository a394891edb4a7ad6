import re

import numpy as np
import pytest

from aigc_course.business import chinese as zh
from aigc_course.business.catalog import Product, make_catalog
from aigc_course.business.faq import FAQ
from aigc_course.business.retrieval import BM25Retriever, TfidfRetriever, accuracy_at_k
from aigc_course.business.stats import wilson_interval

CHAIR = Product("SKU", "chair", "oak", "black", "mid", ("foldable", "padded"))


def test_red_does_not_match_inside_mahogany():
    assert zh.find_words(["红"], "这把红木椅子很结实") == set()
    assert zh.find_words(["红"], "这把红木椅子很结实", segmented=False) == {"红"}
    assert zh.find_words(["红", "红色"], "一把红色的椅子") == {"红色"}
    text = "黑色橡木椅子，和红木家具很搭。"
    seg, sub = zh.check_item_zh(CHAIR, text), zh.check_item_zh(CHAIR, text, segmented=False)
    assert seg.correct == {"colour": True, "material": True, "category": True}
    assert seg.unsupported == ()
    assert sub.unsupported == ("colour=red",), "the substring checker invents a colour"
    wrong = zh.check_item_zh(CHAIR, "红色橡木椅子。")
    assert not wrong.correct["colour"] and wrong.unsupported == ("colour=red",)


def test_matching_is_on_segmented_words():
    # a token that splits entirely into lexicon words is matched piece by piece
    assert zh.find_words(["帆布", "背包"], "帆布背包") == {"帆布", "背包"}
    assert zh.find_words(["白色", "棉"], "白色棉围巾") == {"白色", "棉"}
    # a whole-token match wins over its pieces: teal is not blue + green
    assert zh.find_words(["蓝绿色", "蓝", "绿色"], "蓝绿色竹制水瓶") == {"蓝绿色"}
    assert zh.find_words(["蓝", "绿色"], "蓝绿色竹制水瓶", segmented=False) == {"蓝", "绿色"}
    assert (
        zh.find_words(["白"], "适合白领通勤") == set()
        and zh.find_words(["红"], "网红同款") == set()
    )
    assert zh.word_tokens("我的包裹在哪？") == ["我", "的", "包裹", "在", "哪"]
    assert zh.char_ngrams("包裹在哪", (1, 2)) == ["包", "裹", "在", "哪", "包裹", "裹在", "在哪"]
    with pytest.raises(TypeError):
        zh.segment(None)


def test_reference_descriptions_are_faithful_to_the_segmented_checker():
    items = make_catalog(300, seed=0)
    texts = [zh.describe_zh(it.product, i) for i, it in enumerate(items)]
    seg = [zh.check_item_zh(it.product, t) for it, t in zip(items, texts, strict=True)]
    assert all(r.faithful for r in seg)
    sub = [zh.check_item_zh(it.product, t, False) for it, t in zip(items, texts, strict=True)]
    assert any(r.unsupported for r in sub), "teal (青绿色) contains green (绿色) as a substring"


def test_the_chinese_slice_covers_the_faq():
    assert [e.label for e in zh.FAQ_ZH] == list(range(len(FAQ)))
    cjk = re.compile(r"[\u4e00-\u9fff]")
    for e in zh.FAQ_ZH:
        assert all(cjk.search(t) for t in (e.question, e.answer, e.lexical, e.semantic))
    qs = zh.chinese_questions()
    assert len(qs) == 2 * len(FAQ) and {q.kind for q in qs} == {"lexical", "semantic"}


@pytest.mark.parametrize("analyzer", [zh.word_tokens, zh.char_ngrams], ids=["words", "chars"])
@pytest.mark.parametrize("retriever", [TfidfRetriever, BM25Retriever], ids=["tfidf", "bm25"])
def test_retrieval_on_chinese_beats_chance(retriever, analyzer):
    qs = zh.chinese_questions()
    labels = np.array([q.label for q in qs])
    r = retriever([e.doc for e in zh.FAQ_ZH], analyzer=analyzer)
    scores = r.scores([q.text for q in qs])
    acc = accuracy_at_k(scores, labels, 1)
    lo, _ = wilson_interval(round(acc * len(qs)), len(qs))
    assert lo > 1 / len(FAQ), (acc, lo)
    lexical = np.array([q.kind == "lexical" for q in qs])
    assert accuracy_at_k(scores[lexical], labels[lexical], 1) > 0.8
    shuffled = np.random.default_rng(0).permutation(labels)
    assert accuracy_at_k(scores, shuffled, 1) < acc, "the score follows the labels"


def test_jieba_loads_offline_without_printing(capfd):
    zh._segmenter.cache_clear()
    assert zh.segment("红木椅子") == ["红木", "椅子"]
    err = capfd.readouterr().err
    assert "prefix dict" not in err, err
