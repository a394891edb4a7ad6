"""Chinese text for the FAQ retriever and the faithfulness checker: words, not characters.

Chinese is written without spaces, so "whole-word" matching needs a **segmenter** that
splits a sentence into words; the course uses ``jieba`` (its dictionary and its
statistical model of unknown words, offline). Two consequences for the business checks:

* **Faithfulness.** A substring test finds 红 ("red") inside 红木 ("mahogany"), 网红
  ("internet-famous") or 口红 ("lipstick") and reports a colour the text never claims.
  :func:`find_words` matches a lexicon word only when it *is* a token of the segmented
  text, or when a token splits entirely into lexicon words (帆布背包 = 帆布 + 背包,
  "canvas backpack"). Segmentation does not resolve meaning: 绿色环保 ("green", i.e.
  eco-friendly) still contains the token 绿色.
* **Retrieval.** TF-IDF and BM25 need tokens; :func:`word_tokens` gives jieba's words,
  :func:`char_ngrams` the character unigrams and bigrams that need no dictionary. The
  retrievers of :mod:`aigc_course.business.retrieval` take either as ``analyzer``.

The Chinese slice (:data:`FAQ_ZH`, written for this course) translates every FAQ entry
of :mod:`aigc_course.business.faq` with two customer paraphrases each, one close to
the entry's wording and one in other words; :data:`COLOURS_ZH`, :data:`MATERIALS_ZH`
and :data:`CATEGORIES_ZH` map the catalog's lexicon to Chinese words.

jieba loads its dictionary (about 1–2 s) on first use and logs that to stderr; the
segmenter here is a private ``jieba.Tokenizer`` with jieba's own log level raised to
WARNING (other loggers are untouched).

References:
    J. Sun, "jieba: Chinese text segmentation", https://github.com/fxsjy/jieba (prefix
    dictionary DAG + dynamic programming; an HMM for unknown words).
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .catalog import Product
from .faithfulness import ItemFaithfulness
from .faq import Question

COLOURS_ZH: dict[str, tuple[str, ...]] = {
    "red": ("红色", "红"),
    "blue": ("蓝色", "蓝"),
    "green": ("绿色", "绿"),
    "black": ("黑色", "黑"),
    "white": ("白色", "白"),
    "grey": ("灰色", "灰"),
    "yellow": ("黄色", "黄"),
    "navy": ("藏青色", "藏青", "海军蓝"),
    "teal": ("青绿色", "蓝绿色"),
    "orange": ("橙色", "橙"),
}
MATERIALS_ZH: dict[str, tuple[str, ...]] = {
    "ceramic": ("陶瓷",),
    "glass": ("玻璃",),
    "steel": ("不锈钢", "钢"),
    "bamboo": ("竹", "竹子", "竹制"),
    "oak": ("橡木",),
    "canvas": ("帆布",),
    "leather": ("皮革", "真皮"),
    "cotton": ("棉", "纯棉", "棉质"),
    "wool": ("羊毛",),
    "linen": ("亚麻",),
}
CATEGORIES_ZH: dict[str, tuple[str, ...]] = {
    "mug": ("马克杯", "杯子"),
    "lamp": ("台灯", "灯"),
    "backpack": ("背包", "双肩包"),
    "chair": ("椅子",),
    "scarf": ("围巾",),
    "bottle": ("水瓶", "水壶"),
    "notebook": ("笔记本",),
    "watch": ("手表",),
}
LEXICON_ZH = {"colour": COLOURS_ZH, "material": MATERIALS_ZH, "category": CATEGORIES_ZH}

_WORD = re.compile(r"[\w]", re.UNICODE)  # a token worth keeping has a letter or digit


@functools.lru_cache(maxsize=1)
def _segmenter():
    try:
        import jieba
    except ImportError as err:  # pragma: no cover - a dependency of the course
        raise ImportError("Chinese text needs jieba: pip install 'jieba>=0.42'") from err
    jieba.setLogLevel(logging.WARNING)  # jieba's own logger: no "Building prefix dict…"
    tok = jieba.Tokenizer()
    tok.initialize()
    return tok


def segment(text: str) -> list[str]:
    """jieba's words of ``text`` (accurate mode, HMM for unknown words), spaces dropped."""
    if not isinstance(text, str):
        raise TypeError(f"segment takes a str, got {type(text).__name__}")
    return [t for t in _segmenter().lcut(text) if t.strip()]


def word_tokens(text: str) -> list[str]:
    """Words for retrieval: jieba's tokens without punctuation, Latin words lower-cased."""
    return [t.lower() for t in segment(text) if _WORD.search(t)]


def char_ngrams(text: str, n: Sequence[int] = (1, 2)) -> list[str]:
    """Character n-grams within each run of letters and digits (no dictionary needed)."""
    out = []
    for run in re.findall(r"\w+", text.lower()):
        for k in n:
            out += [run[i : i + k] for i in range(len(run) - k + 1)]
    return out


def _split_into(token: str, vocab: set[str]) -> list[str] | None:
    """The fewest vocabulary words that spell ``token`` exactly, or None."""
    best: list[list[str] | None] = [[]] + [None] * len(token)
    for end in range(1, len(token) + 1):
        for start in range(end):
            piece, head = token[start:end], best[start]
            if head is not None and piece in vocab:
                if best[end] is None or len(head) + 1 < len(best[end]):
                    best[end] = head + [piece]
    return best[-1]


def find_words(words: Iterable[str], text: str, segmented: bool = True) -> set[str]:
    """The ``words`` that occur in ``text``.

    ``segmented=True``: a word counts when it is a token of :func:`segment`, or one of
    the pieces of a token that splits entirely into ``words`` (帆布背包 → 帆布, 背包).
    ``segmented=False``: a plain substring test (finds 红 in 红木).
    """
    vocab = set(words)
    if not segmented:
        return {w for w in vocab if w in text}
    found = set()
    for tok in segment(text):
        if tok in vocab:
            found.add(tok)
        else:
            found.update(_split_into(tok, vocab) or ())
    return found


def check_item_zh(product: Product, text: str, segmented: bool = True) -> ItemFaithfulness:
    """Faithfulness of a Chinese description for the slots the Chinese lexicon covers
    (category, material, colour): correct when one of the value's words is found,
    unsupported for every other value of the slot that is found."""
    correct, unsupported = {}, []
    truth = {"category": product.category, "material": product.material}
    truth["colour"] = product.colour
    every = [w for lexicon in LEXICON_ZH.values() for ws in lexicon.values() for w in ws]
    found = find_words(every, text, segmented)  # one split for all slots: 白色棉 → 白色, 棉
    for slot, lexicon in LEXICON_ZH.items():
        values = {v for v, ws in lexicon.items() if found & set(ws)}
        correct[slot] = truth[slot] in values
        unsupported += [f"{slot}={v}" for v in sorted(values - {truth[slot]})]
    return ItemFaithfulness(correct, tuple(unsupported))


def describe_zh(product: Product, variant: int = 0) -> str:
    """A short Chinese reference description of ``product``'s colour, material and
    category (one of three wordings)."""
    k = COLOURS_ZH[product.colour][0]
    m = MATERIALS_ZH[product.material][0]
    c = CATEGORIES_ZH[product.category][0]
    forms = (f"这款{c}采用{k}{m}制成。", f"{k}{m}{c}，做工精致。", f"一件{m}材质的{k}{c}。")
    return forms[variant % len(forms)]


# clauses a copywriter might add that contain a colour character without claiming the
# colour: (clause, what it means, what a segmenter can do about it)
HARD_CLAUSES: tuple[tuple[str, str, str], ...] = (
    ("和红木家具很搭", "goes well with mahogany furniture", "红木 is one word"),
    ("网红同款", "the one internet celebrities use", "网红 is one word"),
    ("适合白领通勤", "for white-collar commuters", "白领 is one word"),
    ("送女友的口红色系礼物", "a lipstick-toned gift", "jieba reads 口/红色/系: it errs too"),
    ("绿色环保", "eco-friendly ('green')", "绿色 is a word here too: sense, not segmentation"),
)


@dataclass(frozen=True)
class FAQEntryZH:
    """A Chinese version of ``FAQ[label]`` with two customer paraphrases."""

    label: int
    question: str
    answer: str
    lexical: str  # close to the entry's wording
    semantic: str  # the same need in other words

    @property
    def doc(self) -> str:
        return f"{self.question} {self.answer}"


def _e(label, question, answer, lexical, semantic) -> FAQEntryZH:
    return FAQEntryZH(label, question, answer, lexical, semantic)


FAQ_ZH: tuple[FAQEntryZH, ...] = (
    _e(
        0,
        "标准配送需要多长时间？",
        "国内标准配送需要3到5个工作日。",
        "标准配送几天能到？",
        "我选了普通快递，包裹大概什么时候能送到？",
    ),
    _e(
        1,
        "你们提供加急配送吗？",
        "提供：加急配送1到2个工作日送达，运费9.90元。",
        "有没有加急配送？",
        "我明天就要用，能不能再快一点发过来？",
    ),
    _e(
        2,
        "你们支持国际配送吗？",
        "我们可配送至40个国家，运费在结算时显示。",
        "支持国际配送吗？",
        "我人在法国，能从你们店下单寄过来吗？",
    ),
    _e(
        3,
        "如何查询订单物流？",
        "请使用确认邮件中的物流跟踪链接，或在“我的订单”页面查看。",
        "订单物流在哪里查询？",
        "我的包裹现在到哪儿了？",
    ),
    _e(
        4,
        "你们的退货政策是什么？",
        "未使用的商品可在30天内退货并全额退款。",
        "退货政策是怎样的？",
        "买的东西不喜欢，可以寄回去吗？",
    ),
    _e(
        5,
        "退款需要多长时间？",
        "我们收到退货后，退款会在5到7个工作日内到账。",
        "退款多久能到账？",
        "上周把外套寄回去了，钱什么时候还给我？",
    ),
    _e(
        6,
        "可以换成其他尺码吗？",
        "可以：在“我的订单”页面发起换货，新尺码免运费寄出。",
        "能换其他尺码吗？",
        "这双鞋太小了，能给我换一双大一点的吗？",
    ),
    _e(
        7,
        "你们接受哪些付款方式？",
        "我们接受信用卡、借记卡、PayPal和银行转账。",
        "支持哪些付款方式？",
        "可以用Visa卡买单吗？",
    ),
    _e(
        8,
        "可以分期付款吗？",
        "订单满100元可分3期免息付款。",
        "支持分期付款吗？",
        "能不能先买后付，分几个月还？",
    ),
    _e(
        9,
        "如何修改收货地址？",
        "订单发货前，可在“我的订单”页面修改地址。",
        "收货地址怎么修改？",
        "我搬家了，包裹能改寄到新家吗？",
    ),
    _e(
        10,
        "可以取消订单吗？",
        "订单在发货前可以免费取消。",
        "怎么取消订单？",
        "今天早上买的东西我不想要了，能在寄出前拦下来吗？",
    ),
    _e(
        11,
        "收到的商品有损坏，怎么办？",
        "请在14天内发照片给我们，我们会为您换货或退款。",
        "商品收到时损坏了怎么办？",
        "花瓶寄到的时候已经碎了。",
    ),
    _e(
        12,
        "收到的商品发错了，怎么办？",
        "非常抱歉：我们会寄出正确的商品，并附上免费退货标签。",
        "你们发错商品了怎么办？",
        "我订的是红色毛衣，寄来的却是蓝色的。",
    ),
    _e(
        13,
        "如何重置密码？",
        "在登录页面点击“忘记密码”，然后按邮件中的链接操作。",
        "密码怎么重置？",
        "我登录不上账号了，忘了登录信息。",
    ),
    _e(
        14,
        "如何注销账户？",
        "请发邮件至privacy@example.com，我们会在30天内删除账户。",
        "怎么注销我的账户？",
        "请把我的个人信息从你们店里全部删掉。",
    ),
    _e(
        15,
        "你们有会员积分计划吗？",
        "会员每消费1元积1分，100积分可抵5元。",
        "有会员积分吗？",
        "经常在这儿买东西有什么奖励吗？",
    ),
    _e(
        16,
        "如何使用优惠码？",
        "付款前在结算页面的“优惠码”栏输入即可。",
        "优惠码怎么使用？",
        "我的优惠券用不了，应该填在哪儿？",
    ),
    _e(
        17,
        "你们的产品环保吗？",
        "我们80%的商品采用再生材料或经认证的有机材料。",
        "产品环保吗？",
        "你们做衣服的时候考虑对环境的影响吗？",
    ),
    _e(
        18,
        "在哪里可以找到尺码表？",
        "每个商品页面的尺码选择下方都有尺码表链接。",
        "尺码表在哪里？",
        "怎么知道我穿哪个码合适？",
    ),
    _e(
        19,
        "你们卖礼品卡吗？",
        "卖的，10到500元的电子礼品卡会通过邮件发送。",
        "可以买礼品卡吗？",
        "我想送妹妹一张购物卡当礼物。",
    ),
    _e(
        20,
        "在你们网站付款安全吗？",
        "付款信息经过加密，由经认证的支付服务商处理。",
        "网站付款安全吗？",
        "在这里买东西，我的银行卡信息会被盗吗？",
    ),
    _e(
        21,
        "如何联系客服？",
        "每天8:00至20:00可在线聊天，或发邮件至help@example.com。",
        "怎么联系客服？",
        "我想找真人说话。",
    ),
    _e(
        22,
        "你们有实体店吗？",
        "我们在12个城市设有门店，请查看“门店查询”页面。",
        "有实体店吗？",
        "附近有没有能试穿的店？",
    ),
    _e(
        23,
        "缺货的商品什么时候补货？",
        "在商品页面点击“到货通知”，商品补货后我们会发邮件通知您。",
        "缺货商品什么时候补货？",
        "我想要的那件夹克卖完了，还会再进货吗？",
    ),
)


def chinese_questions() -> list[Question]:
    """The Chinese paraphrases as :class:`~aigc_course.business.faq.Question` s (kinds
    "lexical" and "semantic"), in FAQ order."""
    return [
        Question(text, e.label, kind, 0)
        for e in FAQ_ZH
        for kind, text in (("lexical", e.lexical), ("semantic", e.semantic))
    ]
