"""A small, documented FAQ of a fictional online shop, and seeded customer questions.

The FAQ has 24 entries (a canonical question and its answer). Customer questions are
generated from hand-written paraphrases of each entry, in two kinds:

* ``lexical``: paraphrases that share key words with the FAQ question;
* ``semantic``: paraphrases that say the same thing in other words (a "lexical gap"),
  the case where word-overlap retrieval is expected to fail.

A seeded generator adds what real customer messages have: greetings, thanks, lower
case, dropped question marks and the odd typo. Questions about things the FAQ does not
cover (``OUT_OF_SCOPE``) test the hand-off to a human.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class FAQEntry:
    question: str
    answer: str
    lexical: tuple[str, ...]
    semantic: tuple[str, ...]


FAQ: tuple[FAQEntry, ...] = (
    FAQEntry(
        "How long does standard shipping take?",
        "Standard shipping takes 3 to 5 business days within the country.",
        ("how many days does standard shipping take", "standard shipping time?"),
        (
            "when will my parcel arrive if I pick the normal delivery option",
            "how soon does an ordinary delivery get to me",
        ),
    ),
    FAQEntry(
        "Do you offer express shipping?",
        "Yes: express shipping delivers in 1 to 2 business days for a fee of 9.90.",
        ("is express shipping available", "can I get express shipping"),
        (
            "I need the package by tomorrow, is there a faster option",
            "can you deliver quicker if I pay extra",
        ),
    ),
    FAQEntry(
        "Do you ship internationally?",
        "We ship to 40 countries; rates are shown at checkout.",
        ("do you ship to other countries", "international shipping options?"),
        (
            "can I order from abroad and have it sent to France",
            "will you deliver outside the country",
        ),
    ),
    FAQEntry(
        "How can I track my order?",
        "Use the tracking link in your confirmation email or the Orders page.",
        ("where do I track my order", "order tracking?"),
        ("where is my package right now", "how do I see where my parcel is"),
    ),
    FAQEntry(
        "What is your return policy?",
        "Unused items can be returned within 30 days for a full refund.",
        ("what's the return policy", "tell me about your returns policy"),
        (
            "can I send back something I don't like",
            "I changed my mind about a purchase, can I give it back",
        ),
    ),
    FAQEntry(
        "How long does a refund take?",
        "Refunds reach your account 5 to 7 business days after we receive the return.",
        ("how long until I get my refund", "refund processing time"),
        (
            "when will I see my money again after sending the item back",
            "I returned a jacket last week, when is the cash coming",
        ),
    ),
    FAQEntry(
        "Can I exchange an item for a different size?",
        "Yes: start an exchange from the Orders page; the new size ships free.",
        ("can I exchange for another size", "size exchange possible?"),
        (
            "these shoes are too small, can I get a bigger pair instead",
            "the shirt doesn't fit, could you swap it for a larger one",
        ),
    ),
    FAQEntry(
        "Which payment methods do you accept?",
        "We accept credit and debit cards, PayPal and bank transfer.",
        ("what payment methods are accepted", "which ways can I pay"),
        ("can I use my Visa card", "do you take PayPal"),
    ),
    FAQEntry(
        "Can I pay in instalments?",
        "Orders over 100 can be split into 3 interest-free instalments.",
        ("is paying in instalments possible", "instalment payment options"),
        ("can I spread the cost over a few months", "buy now pay later available?"),
    ),
    FAQEntry(
        "How do I change my delivery address?",
        "You can change the address in the Orders page until the order ships.",
        ("change delivery address", "how to update the delivery address on an order"),
        (
            "I moved house, can the parcel go to my new place",
            "I typed the wrong street, can you fix where it goes",
        ),
    ),
    FAQEntry(
        "Can I cancel my order?",
        "Orders can be cancelled free of charge until they are dispatched.",
        ("how do I cancel an order", "is it possible to cancel my order"),
        (
            "I don't want what I bought anymore, can you stop it before it's sent",
            "please call off my purchase from this morning",
        ),
    ),
    FAQEntry(
        "My item arrived damaged. What should I do?",
        "Send us a photo within 14 days and we will replace it or refund you.",
        ("the item arrived damaged", "what to do with a damaged item"),
        ("the vase came broken in pieces", "my package was crushed and the lamp is cracked"),
    ),
    FAQEntry(
        "I received the wrong item. What now?",
        "We are sorry: we will send the right item and a free return label.",
        ("I received the wrong item", "wrong item in my order"),
        (
            "you sent me a blue sweater but I ordered red",
            "the box had someone else's product in it",
        ),
    ),
    FAQEntry(
        "How do I reset my password?",
        "Click 'Forgot password' on the sign-in page and follow the emailed link.",
        ("reset password", "how can I reset my account password"),
        ("I can't log in, I forgot my login details", "locked out of my account"),
    ),
    FAQEntry(
        "How do I delete my account?",
        "Write to privacy@example.com; we delete accounts within 30 days.",
        ("delete my account", "how to delete an account"),
        ("remove all my personal data from your shop", "I want you to forget about me"),
    ),
    FAQEntry(
        "Do you have a loyalty program?",
        "Members earn 1 point per unit spent; 100 points give 5 off.",
        ("is there a loyalty program", "loyalty points program?"),
        ("do I get rewards for shopping often", "any perks for regular customers"),
    ),
    FAQEntry(
        "How do I use a discount code?",
        "Enter the code in the 'Discount code' box at checkout before paying.",
        ("how do I use a discount code", "where do I enter a discount code"),
        ("my coupon isn't working, where does it go", "I have a promo voucher, how to apply it"),
    ),
    FAQEntry(
        "Are your products sustainable?",
        "80% of our range uses recycled or certified organic materials.",
        ("are the products sustainable", "sustainability of your products"),
        ("is your clothing eco-friendly", "do you care about the environment in making things"),
    ),
    FAQEntry(
        "Where can I find the size guide?",
        "Every product page has a size guide link under the size selector.",
        ("where is the size guide", "size guide location"),
        ("how do I know which size fits me", "what measurements does a medium correspond to"),
    ),
    FAQEntry(
        "Do you sell gift cards?",
        "Yes, digital gift cards from 10 to 500 are sent by email.",
        ("do you sell gift cards", "can I buy a gift card"),
        ("I want to give my sister a present voucher", "can I buy credit for someone else"),
    ),
    FAQEntry(
        "Is it safe to pay on your website?",
        "Payments are encrypted and processed by a certified payment provider.",
        ("is paying on the website safe", "website payment security"),
        ("will my card details be stolen if I buy here", "is checkout secure"),
    ),
    FAQEntry(
        "How do I contact customer service?",
        "Chat with us 8:00 to 20:00 every day, or write to help@example.com.",
        ("how do I contact customer service", "customer service contact"),
        ("I want to talk to a real person", "what is your phone number or email"),
    ),
    FAQEntry(
        "Do you have physical stores?",
        "We have stores in 12 cities; see the Store locator page.",
        ("do you have physical stores", "where are your stores"),
        ("is there a shop I can visit in person", "can I try things on somewhere near me"),
    ),
    FAQEntry(
        "When will an out-of-stock item be available again?",
        "Click 'Notify me' on the product page to get an email when it is back.",
        ("when is the out of stock item available", "out-of-stock item restock"),
        (
            "the jacket I want is sold out, will you get more",
            "can you tell me when my size comes back",
        ),
    ),
)

OUT_OF_SCOPE: tuple[str, ...] = (
    "what is the weather in Paris tomorrow",
    "can you write my homework essay",
    "who won the football match last night",
    "do you sell car insurance",
    "what is the meaning of life",
    "can I bring my dog to work",
    "how do I cook pasta",
    "recommend me a good movie",
    # questions about the shop that the FAQ does not answer: the hard out-of-scope cases
    "are you hiring warehouse staff",
    "can you price match a cheaper offer from another shop",
    "what is the warranty on electronics",
    "do you offer furniture assembly at home",
    "can my company order in bulk and pay by invoice",
    "who is the CEO of your company",
    "can I pick up my order from a parcel locker",
    "can you gift wrap my order",
    "do you sell my data to advertisers",
    "what is your company's VAT number",
    "can you recommend a laptop for gaming",
    "how do I file my tax return",
    "what time is it in Tokyo",
    "tell me a joke",
    "can I become an affiliate partner",
    "do you buy back used clothes",
)

#: The second semantic paraphrase of each FAQ entry (``FAQ[i].semantic[1]``) as a customer
#: writing in a second language might put it: dropped articles and auxiliaries, word-for-
#: word constructions ("... or not", "more big"), plain everyday words. Written for this
#: course, one per entry, for a paired slice (the same need, phrased two ways); not
#: corrected for how many words each shares with the FAQ.
NON_NATIVE: tuple[str, ...] = (
    "normal delivery how many days can arrive to me",
    "if I pay more money, you can send more fast?",
    "you can send to other country or not",
    "how I can see my parcel now is where",
    "I buy something but now I don't want, can give back?",
    "last week I send back the jacket, when the money return to me",
    "the shirt is too small for me, can change to more big one",
    "paypal is ok for pay?",
    "can pay the money little by little every month",
    "I write wrong street, please help me change where to send",
    "this morning I make order, I want stop it please",
    "package come broken, the lamp have crack",
    "inside the box is not my thing, is other person product",
    "I cannot enter in my account, I forget the password",
    "please remove all my information, I not want the account anymore",
    "if I buy often, I get some benefit?",
    "I have coupon, where I put it for discount",
    "your company protect environment when make products?",
    "size M is how many cm",
    "I want buy a card with money for my friend as present",
    "pay on your website is safe or not",
    "how I can talk with your service people",
    "you have shop where I can go to try clothes?",
    "my size is finish, when you have again",
)


def non_native_pairs() -> list[tuple[str, str, int]]:
    """``(native, non-native, label)`` for every FAQ entry: its second semantic paraphrase
    and the same need in :data:`NON_NATIVE`'s phrasing (both without added noise)."""
    return [(e.semantic[1], nn, i) for i, (e, nn) in enumerate(zip(FAQ, NON_NATIVE, strict=True))]


_GREETINGS = ("", "", "", "hi, ", "hello! ", "good morning, ", "hey ")
_CLOSINGS = ("", "", "", " thanks", " thank you!", " please", " asap")


@dataclass(frozen=True)
class Question:
    text: str
    label: int  # index into FAQ, or -1 for out of scope
    kind: str  # "lexical", "semantic" or "out-of-scope"
    variant: int  # which paraphrase of its kind (0 or 1): split tuning from evaluation by it


def _typo(text: str, rng: random.Random) -> str:
    """Swap two adjacent letters inside one word longer than four letters."""
    words = text.split()
    candidates = [i for i, w in enumerate(words) if len(w) > 4 and w.isalpha()]
    if not candidates:
        return text
    i = rng.choice(candidates)
    w = words[i]
    j = rng.randrange(1, len(w) - 2)
    words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
    return " ".join(words)


def with_typos(text: str, n: int = 2, seed: int = 0) -> str:
    """``text`` with ``n`` transposition typos (each in a word longer than four letters):
    the same question as a hurried or non-native typist might write it, for a paired
    slice of a retriever's accuracy."""
    rng = random.Random(seed)
    for _ in range(n):
        text = _typo(text, rng)
    return text


def _noisy(text: str, rng: random.Random, typo_rate: float) -> str:
    text = text.rstrip("?")
    if rng.random() < typo_rate:
        text = _typo(text, rng)
    text = rng.choice(_GREETINGS) + text + ("?" if rng.random() < 0.5 else "")
    return text + rng.choice(_CLOSINGS)


def customer_questions(seed: int = 0, typo_rate: float = 0.2) -> list[Question]:
    """Every paraphrase of every FAQ entry, plus the out-of-scope questions, with seeded
    noise, in a seeded order.

    Args:
        seed: the random seed (same seed, same questions).
        typo_rate: chance that a question gets one transposition typo.
    """
    if not 0.0 <= typo_rate <= 1.0:
        raise ValueError(f"typo_rate must be in [0, 1], got {typo_rate}")
    rng = random.Random(seed)
    out = []
    for label, entry in enumerate(FAQ):
        for kind, texts in (("lexical", entry.lexical), ("semantic", entry.semantic)):
            out.extend(
                Question(_noisy(t, rng, typo_rate), label, kind, i) for i, t in enumerate(texts)
            )
    out.extend(
        Question(_noisy(t, rng, typo_rate), -1, "out-of-scope", i % 2)
        for i, t in enumerate(OUT_OF_SCOPE)
    )
    rng.shuffle(out)
    return out
