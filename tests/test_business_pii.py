import pytest

from aigc_course.business import catalog
from aigc_course.business.pii import (
    cn_id_check_char,
    cn_id_valid,
    detect,
    iban_valid,
    luhn_check_digit,
    luhn_valid,
    redact,
    restore,
    score,
    synthetic_set,
)


def test_luhn_on_examples_computed_by_hand():
    # 79927398713, right to left: undoubled 3+7+9+7+9+7 = 42; doubled 1,8,3,2,9 ->
    # 2+7+6+4+9 = 28; 42 + 28 = 70, a multiple of 10
    assert luhn_valid("79927398713") and not luhn_valid("79927398710")
    # 4111111111111111: seven doubled 1s -> 14, the doubled 4 -> 8, eight undoubled 1s -> 8
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")
    assert luhn_check_digit("7992739871") == "3" and luhn_check_digit("411111111111111") == "1"
    assert not luhn_valid("12a4") and not luhn_valid("0")


def test_chinese_id_check_character_computed_by_hand():
    # weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2; check = "10X98765432"[sum mod 11]
    # 11010519491231002: 7+9+0+5+0+20+2+9+24+27+7+18+30+5+0+0+4 = 167 = 15·11 + 2 -> X
    assert cn_id_check_char("11010519491231002") == "X"
    # 31010419850615001: 21+9+0+5+0+16+2+9+48+15+0+54+10+25+0+0+2 = 216 = 19·11 + 7 -> 5
    assert cn_id_check_char("31010419850615001") == "5"
    # 44030519900101123: 28+36+0+15+0+20+2+9+54+0+0+9+0+5+8+8+6 = 200 = 18·11 + 2 -> X
    assert cn_id_check_char("44030519900101123") == "X"
    assert cn_id_valid("11010519491231002X") and cn_id_valid("11010519491231002x")
    assert cn_id_valid("310104198506150015") and not cn_id_valid("310104198506150016")
    assert not cn_id_valid("110105194913310025"), "month 13 is no date of birth"
    with pytest.raises(ValueError):
        cn_id_check_char("123")


def test_iban_mod97_on_the_standard_example():
    assert iban_valid("GB82 WEST 1234 5698 7654 32")
    assert not iban_valid("GB82 WEST 1234 5698 7654 33") and not iban_valid("GB82")


POSITIVES = {
    "EMAIL": [
        "write to ada.li+orders@mail.example.cn today",
        "Mail: BEN_WU@example.com.",
        "邮箱dora88@example.cn。",
    ],
    "PHONE": [
        "call 13812345678 after six",
        "call +86 138 1234 5678 after six",
        "call +44 20 7946 0958.",
        "or 0049 30 1234567 (office)",
    ],
    "CARD": [
        "card 4111 1111 1111 1111 on file",
        "card 4111-1111-1111-1111.",
        "4111111111111111",
        "卡号4111111111111111",
    ],
    "CN_ID": ["ID 11010519491231002X", "身份证号310104198506150015。"],
    "IBAN": ["to GB82 WEST 1234 5698 7654 32 please", "IBAN GB82WEST12345698765432"],
}
HARD_NEGATIVES = [
    "SKU MUG-0042-A is back in stock",
    "Order 202405130042 ships today",  # 12 digits: too short for a card
    "Order 138123456789 ships today",  # 12 digits starting 138: not an 11-digit mobile
    "Total ¥1,299.00, or $49.99 a month",
    "Delivered 2024-05-13 at 18:30",
    "Tracking SF123456789012CN",
    "card 4111 1111 1111 1112 declined",  # fails Luhn
    "ID 110105194912310021",  # fails MOD 11-2 (needs X) and Luhn (53)
    "IBAN GB82 WEST 1234 5698 7654 33",  # fails mod 97
    "+15% off today, extension 4021",
    "follow @shop_support or write to us at the shop",
]


@pytest.mark.parametrize("kind", sorted(POSITIVES))
def test_each_kind_is_found(kind):
    for text in POSITIVES[kind]:
        found = detect(text)
        assert [f.kind for f in found] == [kind], (text, found)


def test_no_false_positive_on_hard_negatives_or_the_catalog():
    for text in HARD_NEGATIVES:
        assert detect(text) == [], text
    lines = catalog.corpus(catalog.make_catalog(300, seed=0))
    assert detect(lines) == []


def test_redaction_round_trip_and_idempotence():
    samples = synthetic_set(200, seed=3)
    text = " ".join(s.text for s in samples)
    red, found = redact(text)
    assert restore(red, found) == text
    assert redact(red) == (red, []), "a placeholder is never taken for PII"
    assert len(found) == red.count("[") and "[CARD]" in red and "[CN_ID]" in red
    with pytest.raises(ValueError):
        restore(red, found[1:])


def test_scores_on_the_synthetic_set():
    samples = synthetic_set(300, seed=0)
    assert samples == synthetic_set(300, seed=0) and samples != synthetic_set(300, seed=1)
    s = score(samples)
    visible = sum(v for smp in samples for _, _, v in smp.pii)
    hidden = sum(not v for smp in samples for _, _, v in smp.pii)
    assert sum(k.true_positives for k in s.values()) == visible, "every visible value is found"
    assert sum(k.false_negatives for k in s.values()) == hidden > 0, "spelt-out ones are not"
    for k in ("EMAIL", "CN_ID", "IBAN", "PHONE"):
        assert s[k].false_positives == 0, s[k]
    # an 18-digit ID whose check character fails still passes Luhn one time in ten
    assert 0 < s["CARD"].false_positives < 0.3 * s["CARD"].true_positives
    with pytest.raises(TypeError):
        detect(None)
