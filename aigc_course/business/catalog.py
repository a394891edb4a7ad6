"""A seeded synthetic product catalog and its reference descriptions.

Every product has five kinds of attribute: a **category** (mug, lamp…), a **material**
allowed for that category, a **colour**, a **price band** (budget, mid, premium) and
**two features** allowed for that category (waterproof, handmade…). The lexicon below
is the whole world: nothing else is ever generated, so a faithfulness checker can tell
a correct mention from an invented one exactly (:mod:`aigc_course.business.faithfulness`).

The reference description of a product comes from a small documented grammar: one of
:data:`TEMPLATES`, chosen with the catalog's seed, filled with the attribute words, and
followed by one of the price band's phrases (:data:`PRICE_PHRASES`). For example::

    mug|glass|red|mid|handmade+stackable>A red glass mug, handmade and stackable. Priced right.

The text before ``>`` is the **prompt** (the attributes, always in the same order:
category, material, colour, price band, features), the text after it the description,
ended by a newline. A conditional language model is trained on such lines and asked
to continue a prompt (the "attributes → description" format).

Everything is drawn from one ``numpy`` generator seeded by the caller: the same seed
gives the same catalog on every machine.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ..device import model_device
from ..sampling import generate
from ..tokenizer import CharTokenizer

# category -> (allowed materials, allowed features)
CATEGORIES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "mug": (("ceramic", "glass", "steel", "bamboo"), ("handmade", "stackable", "insulated")),
    "lamp": (("oak", "steel", "glass", "ceramic"), ("dimmable", "rechargeable", "foldable")),
    "backpack": (("canvas", "leather", "cotton"), ("waterproof", "padded", "lightweight")),
    "chair": (("oak", "bamboo", "steel", "leather"), ("foldable", "stackable", "padded")),
    "scarf": (("wool", "cotton", "linen"), ("handmade", "washable", "lightweight")),
    "bottle": (("steel", "glass", "bamboo"), ("insulated", "leakproof", "lightweight")),
    "notebook": (("cotton", "leather", "linen"), ("handmade", "refillable", "lightweight")),
    "watch": (("steel", "leather", "bamboo"), ("waterproof", "rechargeable", "dimmable")),
}
MATERIALS: tuple[str, ...] = tuple(sorted({m for ms, _ in CATEGORIES.values() for m in ms}))
FEATURES: tuple[str, ...] = tuple(sorted({f for _, fs in CATEGORIES.values() for f in fs}))
COLOURS: tuple[str, ...] = (
    "red",
    "blue",
    "green",
    "black",
    "white",
    "grey",
    "yellow",
    "navy",
    "teal",
    "orange",
)
PRICE_BANDS: tuple[str, ...] = ("budget", "mid", "premium")
PRICE_PHRASES: dict[str, tuple[str, ...]] = {
    "budget": ("Great value.", "Easy on the wallet."),
    "mid": ("Fairly priced.", "Priced right."),
    "premium": ("A premium piece.", "Luxury finish."),
}
# {c} category, {m} material, {k} colour, {f1} {f2} features; a price phrase follows
TEMPLATES: tuple[str, ...] = (
    "A {k} {m} {c}, {f1} and {f2}.",
    "This {c} is made of {k} {m}. It is {f1} and {f2}.",
    "Our {f1} {c} in {k} {m}, also {f2}.",
    "{K} {m} {c}: {f1}, {f2}.",
    "A {f1}, {f2} {c} of {k} {m}.",
)
SEPARATOR = ">"  # between the prompt and the description
EOS = "\n"  # ends every description
# the characters any catalog line can hold, plus digits and a few signs (for canaries)
ALPHABET = "".join(sorted(set(string.ascii_letters + string.digits + " \n!$%'+,-.:;<=>?|")))


@dataclass(frozen=True)
class Product:
    """One catalog item."""

    sku: str
    category: str
    material: str
    colour: str
    price: str
    features: tuple[str, str]

    def prompt(self) -> str:
        """The attributes in the fixed order, ending with the separator ``>``."""
        feats = "+".join(self.features)
        return f"{self.category}|{self.material}|{self.colour}|{self.price}|{feats}{SEPARATOR}"

    def attributes(self) -> dict[str, str | tuple[str, ...]]:
        return {
            "category": self.category,
            "material": self.material,
            "colour": self.colour,
            "price": self.price,
            "features": self.features,
        }


@dataclass(frozen=True)
class Item:
    """A product with its reference description."""

    product: Product
    description: str

    def line(self) -> str:
        """A training line: prompt, description, newline."""
        return self.product.prompt() + self.description + EOS


def describe(product: Product, rng: np.random.Generator) -> str:
    """A reference description from the grammar (template + price phrase)."""
    template = TEMPLATES[rng.integers(len(TEMPLATES))]
    f1, f2 = product.features
    text = template.format(
        c=product.category,
        m=product.material,
        k=product.colour,
        K=product.colour.capitalize(),
        f1=f1,
        f2=f2,
    )
    phrases = PRICE_PHRASES[product.price]
    return f"{text} {phrases[rng.integers(len(phrases))]}"


def random_product(rng: np.random.Generator, sku: str) -> Product:
    """One product drawn uniformly from the lexicon (features: two distinct, in random order)."""
    category = list(CATEGORIES)[rng.integers(len(CATEGORIES))]
    materials, features = CATEGORIES[category]
    pick = rng.choice(len(features), size=2, replace=False)
    return Product(
        sku=sku,
        category=category,
        material=materials[rng.integers(len(materials))],
        colour=COLOURS[rng.integers(len(COLOURS))],
        price=PRICE_BANDS[rng.integers(len(PRICE_BANDS))],
        features=(features[pick[0]], features[pick[1]]),
    )


def make_catalog(n: int, seed: int = 0) -> list[Item]:
    """``n`` products with reference descriptions, reproducible from ``seed``.

    Example:
        >>> items = make_catalog(3, seed=0)
        >>> items[0].line()  # doctest: +SKIP
    """
    if n < 1:
        raise ValueError(f"n must be ≥ 1, got {n}")
    rng = np.random.default_rng(seed)
    items = []
    for i in range(n):
        product = random_product(rng, sku=f"SKU{seed:02d}-{i:05d}")
        items.append(Item(product, describe(product, rng)))
    return items


def split_catalog(items: Sequence[Item], n_test: int) -> tuple[list[Item], list[Item]]:
    """Train and test items; test items whose prompt occurs in training are dropped, so
    the test asks for attribute combinations the model has never seen."""
    train, test = list(items[:-n_test]), list(items[-n_test:])
    seen = {it.product.prompt() for it in train}
    return train, [it for it in test if it.product.prompt() not in seen]


def corpus(items: Sequence[Item]) -> str:
    """The training text: one line per item."""
    return "".join(it.line() for it in items)


def parse_line(line: str) -> tuple[Product, str] | None:
    """(product, description) of a line in the catalog format, or None if its prompt is
    not a valid attribute list (used to check text a model wrote freely)."""
    prompt, sep, description = line.strip("\n").partition(SEPARATOR)
    fields = prompt.split("|")
    if not sep or len(fields) != 5:
        return None
    category, material, colour, price, feats = fields
    features = tuple(feats.split("+"))
    ok = category in CATEGORIES and material in MATERIALS and colour in COLOURS
    if not (ok and price in PRICE_BANDS and len(features) == 2 and set(features) <= set(FEATURES)):
        return None
    return Product("", category, material, colour, price, (features[0], features[1])), description


def tokenizer() -> CharTokenizer:
    """The catalog's character tokenizer (a fixed alphabet: no need to store it)."""
    return CharTokenizer(ALPHABET)


@torch.no_grad()
def write_descriptions(
    model: torch.nn.Module,
    products: Sequence[Product],
    *,
    max_new_tokens: int = 96,
    temperature: float = 0.0,
    top_k: int | None = None,
    top_p: float | None = None,
    seed: int = 0,
    batch_size: int = 64,
    logits_processors: Sequence[Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = (),
) -> list[str]:
    """Continue each product's prompt and return the text up to the first newline.

    Prompts of equal length are batched together (the course's GPT has no padding
    mask), each prompt preceded by a newline as in training. Runs on the model's device;
    the sampling generator stays on the CPU, so the same seed gives the same text on
    every device whose logits agree.

    Args:
        model: a language model over :func:`tokenizer`'s alphabet.
        products: what to describe.
        max_new_tokens: characters generated per item (the text is cut at the newline).
        temperature, top_k, top_p: decoding (temperature 0 is greedy).
        seed: seeds the sampling generator.
        batch_size: prompts per call of :func:`aigc_course.sampling.generate`.
        logits_processors: handed to ``generate`` (e.g. a watermark); with temperature
            0 the processed logits are decoded greedily.

    Returns:
        One description per product, in order.
    """
    tok = tokenizer()
    device = model_device(model)
    gen = torch.Generator(device="cpu").manual_seed(seed)
    out: list[str | None] = [None] * len(products)
    by_len: dict[int, list[int]] = {}
    for i, p in enumerate(products):
        by_len.setdefault(len(p.prompt()), []).append(i)
    for length in sorted(by_len):
        idxs = by_len[length]
        for b in range(0, len(idxs), batch_size):
            chunk = idxs[b : b + batch_size]
            prompts = [EOS + products[i].prompt() for i in chunk]
            idx = torch.tensor([tok.encode(s) for s in prompts], device=device)  # (B, T0)
            ids = generate(
                model,
                idx,
                max_new_tokens,
                temperature=temperature,
                top_k=top_k,
                top_p=top_p,
                generator=gen,
                logits_processors=logits_processors,
            )
            for i, row in zip(chunk, ids[:, idx.size(1) :].cpu(), strict=True):
                out[i] = tok.decode(row).split(EOS, 1)[0]
    return [s or "" for s in out]
