"""Personal data in text: detect it, redact it before training, and measure how well.

Detectors (each a pattern, then a check that a pattern alone cannot make):

* ``EMAIL``: ``local@domain.tld``.
* ``PHONE``: an international number written with a ``+`` or ``00`` and 8 to 15 digits
  (E.164's maximum is 15), spaces, hyphens, dots or brackets allowed between them; or a
  Chinese mobile number, 11 digits starting ``13``–``19``, optionally after ``+86`` /
  ``86``, grouped 3-4-4 or not. A local number with no country code (``020 7946 0958``)
  is *not* found: without a prefix it is indistinguishable from other digit groups.
* ``CARD``: a payment card number, 13 to 19 digits (groups of digits separated by single
  spaces or hyphens), accepted only when its Luhn check digit is right (ISO/IEC 7812-1).
  Luhn catches every single-digit error, but a random digit string passes it one time in
  ten: a long order or tracking number is a card "found" 10 % of the time.
* ``CN_ID``: a Chinese resident identity number (GB 11643-1999): 17 digits (6 of region,
  an 8-digit date of birth, 3 of sequence) and a check character computed with ISO 7064
  MOD 11-2, ``0``–``9`` or ``X``; the date must be a real date.
* ``IBAN``: two letters, two check digits and up to 30 letters or digits (grouped by 4
  or not), accepted only for a country in :data:`IBAN_LENGTHS` with its length, and
  when the ISO 13616 mod-97 check gives 1 (a random string passes it 1 time in 97).

:func:`redact` replaces each detection with a typed placeholder (``[EMAIL]``…) and
returns what it removed; :func:`restore` puts it back (for an audit, never for training).
Where detections overlap, the earlier start wins, then the longer span, then the order
of :data:`KINDS`.

:func:`synthetic_set` builds a seeded test set: catalog- and FAQ-like lines with PII
planted, including forms a pattern cannot see (an address spelt "at … dot", a local
phone number), and *hard negatives* that look like PII but are not (SKUs, prices, order
and tracking numbers, dates, 16- and 18-digit strings whose check digits fail).

References:
    ISO/IEC 7812-1:2017, Annex B (the Luhn formula). GB 11643-1999, *Citizen
    identification number* (ISO 7064:1983 MOD 11-2 check character). ISO 13616-1:2020
    (IBAN, mod-97 check). ITU-T E.164 (at most 15 digits).
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass

from .stats import wilson_interval

KINDS = ("EMAIL", "CN_ID", "IBAN", "PHONE", "CARD")  # priority when two spans tie
PLACEHOLDER = re.compile(r"\[(" + "|".join(KINDS) + r")\]")

_EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}", re.ASCII
)
_CN_ID = re.compile(r"(?<![\dA-Za-z])\d{17}[\dXx](?![\dA-Za-z])", re.ASCII)
_IBAN = re.compile(
    r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?![A-Za-z0-9])",
    re.ASCII,
)
_CARD = re.compile(r"(?<![\w-])\d{2,6}(?:[ -]?\d{2,6}){1,5}(?![\w-])", re.ASCII)
_PHONE_INTL = re.compile(r"(?<![\w+])(?:\+|00)\d[\d ().-]{6,22}\d(?!\d)", re.ASCII)
_PHONE_CN = re.compile(r"(?<![\d+])(?:86[ -]?)?1[3-9]\d(?:[ -]?\d{4}){2}(?!\d)", re.ASCII)

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)  # 2^(17-i) mod 11
_ID_CHECK = "10X98765432"  # check character for each remainder 0..10


def luhn_valid(digits: str) -> bool:
    """True when ``digits`` passes the Luhn check (its last digit is the check digit)."""
    if not digits.isdigit() or len(digits) < 2:
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:  # every second digit from the right is doubled
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def luhn_check_digit(body: str) -> str:
    """The digit that makes ``body + digit`` pass the Luhn check."""
    return next(str(d) for d in range(10) if luhn_valid(body + str(d)))


def cn_id_check_char(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character of the first 17 digits of a Chinese ID."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError(f"need 17 digits, got {first17!r}")
    return _ID_CHECK[sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def cn_id_valid(number: str) -> bool:
    """True for 18 characters with a real date of birth and the right check character."""
    number = number.upper()
    if len(number) != 18 or not number[:17].isdigit():
        return False
    try:
        born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    if not dt.date(1900, 1, 1) <= born <= dt.date(2100, 1, 1):
        return False
    return cn_id_check_char(number[:17]) == number[17]


# the length of an IBAN in some of the countries that use one (ISO 13616 registry)
_IBAN_TABLE = "AT20 BE16 CH21 CZ24 DE22 DK18 ES24 FI18 FR27 GB22 GR27 IE22 IT27 LU20 NL18 NO15"
IBAN_LENGTHS = {x[:2]: int(x[2:]) for x in (_IBAN_TABLE + " PL28 PT25 SE24").split()}


def iban_valid(text: str) -> bool:
    """True when ``text`` (spaces ignored) has its country's IBAN length
    (:data:`IBAN_LENGTHS`) and passes the ISO 13616 mod-97 check."""
    s = text.replace(" ", "").upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", s) or IBAN_LENGTHS.get(s[:2]) != len(s):
        return False
    moved = s[4:] + s[:4]
    return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1


@dataclass(frozen=True)
class Found:
    """One detection: its kind, where it was in the original text, and its text."""

    kind: str
    start: int
    end: int
    value: str


def _candidates(text: str) -> list[Found]:
    out = [Found("EMAIL", m.start(), m.end(), m.group()) for m in _EMAIL.finditer(text)]
    out += [
        Found("CN_ID", m.start(), m.end(), m.group())
        for m in _CN_ID.finditer(text)
        if cn_id_valid(m.group())
    ]
    out += [
        Found("IBAN", m.start(), m.end(), m.group())
        for m in _IBAN.finditer(text)
        if iban_valid(m.group())
    ]
    for m in _CARD.finditer(text):
        digits = re.sub(r"[ -]", "", m.group())
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            out.append(Found("CARD", m.start(), m.end(), m.group()))
    for m in _PHONE_INTL.finditer(text):
        if 8 <= sum(ch.isdigit() for ch in m.group()) <= 15:
            out.append(Found("PHONE", m.start(), m.end(), m.group()))
    out += [Found("PHONE", m.start(), m.end(), m.group()) for m in _PHONE_CN.finditer(text)]
    return out


def detect(text: str) -> list[Found]:
    """Every detection in ``text``, without overlaps, in reading order."""
    if not isinstance(text, str):
        raise TypeError(f"detect takes a str, got {type(text).__name__}")
    order = {k: i for i, k in enumerate(KINDS)}
    cands = sorted(_candidates(text), key=lambda f: (f.start, f.start - f.end, order[f.kind]))
    out: list[Found] = []
    for f in cands:
        if not out or f.start >= out[-1].end:
            out.append(f)
    return out


def redact(text: str) -> tuple[str, list[Found]]:
    """``text`` with every detection replaced by ``[KIND]``, and the detections."""
    found = detect(text)
    parts, pos = [], 0
    for f in found:
        parts += [text[pos : f.start], f"[{f.kind}]"]
        pos = f.end
    return "".join(parts) + text[pos:], found


def restore(redacted: str, found: Sequence[Found]) -> str:
    """Undo :func:`redact`: put each removed value back in place of its placeholder."""
    values = iter(found)
    out, pos = [], 0
    for m in PLACEHOLDER.finditer(redacted):
        f = next(values, None)
        if f is None:
            break
        if f.kind != m.group(1):
            raise ValueError(f"placeholder [{m.group(1)}] does not match the next value {f.kind}")
        out += [redacted[pos : m.start()], f.value]
        pos = m.end()
    if next(values, None) is not None:
        raise ValueError("more values than placeholders")
    return "".join(out) + redacted[pos:]


# ---- a seeded synthetic test set ------------------------------------------------------

_NAMES = ("ada.li", "ben_wu", "chen.jing", "dora88", "emil.k", "fay.zhang", "gus", "hana.m")
_DOMAINS = ("example.com", "mail.example.cn", "shop.example.org", "example.net")
_PRODUCTS = ("red ceramic mug", "oak lamp", "canvas backpack", "wool scarf", "steel bottle")
_POSITIVE = (
    "Customer asked about the {p}; reply to {x} please.",
    "Order note: deliver the {p} after 6 pm, call {x} on arrival.",
    "Refund for the {p} goes back to {x} within 5 to 7 business days.",
    "Invoice for the {p}, buyer identity {x}.",
    "Warranty claim for the {p} (contact {x}).",
)
_NEGATIVE = (
    "SKU {n} ({p}) is back in stock.",
    "Order {n}: the {p} ships tomorrow.",
    "The {p} costs {n} after the discount.",
    "Tracking number {n} for your {p}.",
    "Delivered on {n}; the {p} was left at the door.",
    "Gift card {n} applied to the {p}.",
    "Batch {n} of the {p} passed inspection.",
)


def _digits(rng: random.Random, n: int) -> str:
    return str(rng.randint(1, 9)) + "".join(str(rng.randint(0, 9)) for _ in range(n - 1))


def _luhn_fail(body: str) -> str:
    good = luhn_check_digit(body)
    return body + str((int(good) + 1 + int(body[-1]) % 9) % 10)


def _cn_id(rng: random.Random, valid: bool = True) -> str:
    born = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(365 * 55))
    region = rng.choice(["110105", "310104", "440305", "510107"])
    first = f"{region}{born:%Y%m%d}{rng.randrange(1000):03d}"
    check = cn_id_check_char(first)
    return first + (check if valid else _ID_CHECK[(_ID_CHECK.index(check) + 1) % 11])


def _iban(rng: random.Random) -> str:
    bban = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(4)) + _digits(rng, 14)
    check = 98 - int("".join(str(int(c, 36)) for c in bban + "GB00")) % 97
    s = f"GB{check:02d}{bban}"
    return " ".join(s[i : i + 4] for i in range(0, len(s), 4))


def _positive(kind: str, rng: random.Random) -> tuple[str, bool]:
    """A PII value of ``kind`` and whether a pattern can be expected to see it."""
    if kind == "EMAIL":
        user, dom = rng.choice(_NAMES), rng.choice(_DOMAINS)
        if rng.random() < 0.1:  # spelt out to dodge filters
            return f"{user.replace('.', ' dot ')} at {dom.replace('.', ' dot ')}", False
        return f"{user}{'+orders' if rng.random() < 0.2 else ''}@{dom}", True
    if kind == "PHONE":
        r = rng.random()
        if r < 0.4:
            n = "1" + rng.choice("3456789") + _digits(rng, 9)
            return (f"+86 {n[:3]} {n[3:7]} {n[7:]}" if rng.random() < 0.5 else n), True
        if r < 0.85:
            return (
                f"+{rng.choice(['44', '49', '33', '1'])} {_digits(rng, 3)} {_digits(rng, 7)}",
                True,
            )
        return f"0{_digits(rng, 2)} {_digits(rng, 4)} {_digits(rng, 4)}", False  # local, no prefix
    if kind == "CARD":
        body = (rng.choice(["4", "5", "62"]) + _digits(rng, 15))[:15]
        n = body + luhn_check_digit(body)
        return (" ".join(n[i : i + 4] for i in range(0, 16, 4)) if rng.random() < 0.6 else n), True
    if kind == "CN_ID":
        return _cn_id(rng), True
    if kind == "IBAN":
        return _iban(rng), True
    raise ValueError(f"unknown kind {kind!r}")


def _negative(rng: random.Random) -> tuple[str, str]:
    """A value that looks like PII but is not, and what it is."""
    kind = rng.choice(
        ["sku", "order", "price", "date", "tracking", "luhn_fail", "id_fail", "short"]
    )
    if kind == "sku":
        return f"{rng.choice(['MUG', 'LMP', 'BPK'])}-{_digits(rng, 4)}-{rng.choice('ABCX')}", kind
    if kind == "order":
        day = dt.date(2019, 1, 1) + dt.timedelta(days=rng.randrange(365 * 6))
        return f"{day:%Y%m%d}{_digits(rng, 4)}", kind
    if kind == "price":
        cur = rng.choice(["$", "¥", "EUR "])
        return f"{cur}{rng.randint(1, 9)},{_digits(rng, 3)}.{rng.randint(0, 99):02d}", kind
    if kind == "date":
        return f"{rng.randint(2019, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}", kind
    if kind == "tracking":  # letters around digits: no pattern above should fire
        return f"SF{_digits(rng, 12)}CN", kind
    if kind == "luhn_fail":
        return _luhn_fail(_digits(rng, 15)), kind
    if kind == "id_fail":
        return _cn_id(rng, valid=False), kind
    return f"+{rng.randint(5, 40)}% more", kind


@dataclass(frozen=True)
class Sample:
    """One synthetic line with the PII planted in it (``pii``: (kind, value, visible))."""

    text: str
    pii: tuple[tuple[str, str, bool], ...]
    negatives: tuple[str, ...]  # the kinds of hard negative in it


def synthetic_set(n: int = 400, seed: int = 0, positive_share: float = 0.6) -> list[Sample]:
    """``n`` seeded lines: ``positive_share`` of them carry one PII value (kinds in
    turn), the rest a hard negative; every line also carries a hard negative with
    probability 1/2."""
    if n < 1 or not 0 <= positive_share <= 1:
        raise ValueError(f"need n ≥ 1 and 0 ≤ positive_share ≤ 1, got {n}, {positive_share}")
    rng = random.Random(seed)
    out = []
    for i in range(n):
        p = rng.choice(_PRODUCTS)
        pii: list[tuple[str, str, bool]] = []
        negs: list[str] = []
        if rng.random() < positive_share:
            kind = KINDS[i % len(KINDS)]
            value, visible = _positive(kind, rng)
            text = rng.choice(_POSITIVE).format(p=p, x=value)
            pii.append((kind, value, visible))
        else:
            value, what = _negative(rng)
            text = rng.choice(_NEGATIVE).format(p=p, n=value)
            negs.append(what)
        if rng.random() < 0.5:
            value, what = _negative(rng)
            text += " " + rng.choice(_NEGATIVE).format(p=rng.choice(_PRODUCTS), n=value)
            negs.append(what)
        out.append(Sample(text, tuple(pii), tuple(negs)))
    return out


@dataclass(frozen=True)
class KindScore:
    """Precision and recall of one kind of detection, with 95 % Wilson intervals."""

    kind: str
    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def precision(self) -> float:
        d = self.true_positives + self.false_positives
        return self.true_positives / d if d else float("nan")

    @property
    def recall(self) -> float:
        d = self.true_positives + self.false_negatives
        return self.true_positives / d if d else float("nan")

    @property
    def precision_ci(self) -> tuple[float, float]:
        return wilson_interval(self.true_positives, self.true_positives + self.false_positives)

    @property
    def recall_ci(self) -> tuple[float, float]:
        return wilson_interval(self.true_positives, self.true_positives + self.false_negatives)


def score(samples: Sequence[Sample]) -> dict[str, KindScore]:
    """Per kind: a detection is a true positive when its kind and text equal a planted
    value's (a partial or mistyped detection counts as a false positive *and* a miss)."""
    tp = dict.fromkeys(KINDS, 0)
    fp, fn = dict(tp), dict(tp)
    for s in samples:
        planted = {(k, v) for k, v, _ in s.pii}
        got = {(f.kind, f.value) for f in detect(s.text)}
        for k, _ in got & planted:
            tp[k] += 1
        for k, _ in got - planted:
            fp[k] += 1
        for k, _ in planted - got:
            fn[k] += 1
    return {k: KindScore(k, tp[k], fp[k], fn[k]) for k in KINDS}
