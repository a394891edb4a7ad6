"""Instruction tuning: a seeded instruction set, a chat template, response-masked batches.

**Data.** Three kinds of instruction, built from the course's own data so that every
answer can be checked by a program (:func:`instruction_set`):

``copy``     "Write copy: mug|glass|red|mid|handmade+stackable" → a product description
             (checked with the catalog's faithfulness checker);
``faq``      a customer question → the FAQ answer (checked by which FAQ answer it is);
``extract``  a product description → its attribute list (checked by exact match).

Each kind has train / validation / test examples that share nothing: test products are
attribute combinations never seen in training (:func:`aigc_course.business.catalog.
split_catalog`), test questions are paraphrases never seen in training.

**Template.** A conversation is rendered as plain text, one turn per line::

    User: Write copy: mug|glass|red|mid|handmade+stackable
    Bot: A red glass mug, handmade and stackable. Priced right.

The assistant's text *and its newline* (the end of the answer: the model must learn to
stop) is the **response**; everything else is the **prompt**. :data:`CHAT_TEMPLATE` is the
same format as a Jinja template for ``transformers``' ``apply_chat_template``, with
``{% generation %}`` marking the response so ``return_assistant_tokens_mask=True`` gives
the same mask as :func:`render_chat` (tested).

**Masking.** Supervised fine-tuning trains on the response only: targets at prompt
positions are set to ``IGNORE`` (-100, what ``F.cross_entropy`` and ``transformers``
skip). Training on the prompt too is the common mistake the chapter measures
(``mask_prompt=False``).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from ..tokenizer import CharTokenizer

IGNORE = -100  # the target index F.cross_entropy (and transformers) skip
USER, BOT = "User: ", "Bot: "
END = "\n"  # ends every turn; the response's own newline is part of the response
KINDS = ("copy", "faq", "extract")
INSTRUCTIONS = {"copy": "Write copy: ", "faq": "Answer: ", "extract": "Attributes of: "}

#: The format of :func:`render_chat` as a ``transformers`` chat template.
CHAT_TEMPLATE = (
    "{%- for message in messages -%}"
    "{%- if message['role'] == 'user' -%}"
    "{{ 'User: ' + message['content'] + '\\n' }}"
    "{%- elif message['role'] == 'assistant' -%}"
    "{{ 'Bot: ' }}{% generation %}{{ message['content'] + '\\n' }}{% endgeneration %}"
    "{%- else -%}"
    "{{ raise_exception('roles must be user or assistant') }}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ 'Bot: ' }}{%- endif -%}"
)


@dataclass(frozen=True)
class Example:
    """One instruction and its reference response."""

    kind: str
    instruction: str  # the user's message
    response: str  # the assistant's message (no newline)
    key: str = ""  # what the answer is checked against: a product prompt or an FAQ index

    def messages(self) -> list[dict[str, str]]:
        return [
            {"role": "user", "content": self.instruction},
            {"role": "assistant", "content": self.response},
        ]


def render_chat(
    messages: Sequence[dict[str, str]], add_generation_prompt: bool = False
) -> tuple[str, list[bool]]:
    """The conversation as text, and for every character whether it is response.

    Raises:
        ValueError: an unknown role, or a message containing the turn separator.
    """
    text, mask = [], []
    for m in messages:
        role, content = m.get("role"), m.get("content", "")
        if END in content:
            raise ValueError(f"a {role} message may not contain a newline: {content[:40]!r}")
        if role == "user":
            part, is_response = USER + content + END, False
            text.append(part)
            mask += [is_response] * len(part)
        elif role == "assistant":
            text.append(BOT)
            mask += [False] * len(BOT)
            text.append(content + END)
            mask += [True] * (len(content) + 1)
        else:
            raise ValueError(f"roles must be 'user' or 'assistant', got {role!r}")
    if add_generation_prompt:
        text.append(BOT)
        mask += [False] * len(BOT)
    return "".join(text), mask


def check_template(template: str) -> str:
    """``template`` if it marks the response with ``{% generation %}`` … ``{% endgeneration
    %}``; without the marker no response mask can be built.

    Raises:
        ValueError: the marker is missing.
    """
    compact = template.replace(" ", "")
    if "{%generation%}" not in compact or "{%endgeneration%}" not in compact:
        raise ValueError(
            "chat template has no response marker: wrap the assistant's content in "
            "{% generation %} ... {% endgeneration %}"
        )
    return template


def encode_example(
    tok, example: Example, *, mask_prompt: bool = True
) -> tuple[torch.Tensor, torch.Tensor]:
    """(ids (T,), targets (T,)) of one example: ``targets[t] = ids[t + 1]``, with
    ``IGNORE`` where the next token is prompt (if ``mask_prompt``).

    ``tok`` is the course's :class:`~aigc_course.tokenizer.CharTokenizer` (the mask comes
    from :func:`render_chat`, one entry per character) or a ``transformers`` tokenizer
    with :data:`CHAT_TEMPLATE` (any vocabulary, e.g. GPT-2's BPE: the mask comes from
    ``apply_chat_template(..., return_assistant_tokens_mask=True)``; byte-level BPE may
    glue the space after ``Bot:`` to the first response token, which the mask then keeps).
    """
    if hasattr(tok, "apply_chat_template"):
        check_template(tok.chat_template or "")
        enc = tok.apply_chat_template(
            example.messages(), tokenize=True, return_dict=True, return_assistant_tokens_mask=True
        )
        ids_list, mask = list(enc["input_ids"]), [bool(m) for m in enc["assistant_masks"]]
    else:
        text, mask = render_chat(example.messages())
        ids_list = tok.encode(text)
    ids = torch.tensor(ids_list, dtype=torch.long)
    keep = torch.tensor(mask[1:] if mask_prompt else [True] * (len(mask) - 1))
    targets = torch.where(keep, ids[1:], torch.full_like(ids[1:], IGNORE))
    return ids[:-1], targets


def sft_batch(
    tok: CharTokenizer,
    examples: Sequence[Example],
    *,
    mask_prompt: bool = True,
    block_size: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded (B, T) inputs and targets; padding targets are ``IGNORE``.

    Raises:
        ValueError: no examples, or an example longer than ``block_size``.
    """
    if not examples:
        raise ValueError("sft_batch needs at least one example")
    pairs = [encode_example(tok, e, mask_prompt=mask_prompt) for e in examples]
    T = max(len(x) for x, _ in pairs)
    if block_size is not None and T > block_size:
        raise ValueError(f"an example has {T} positions, more than block_size={block_size}")
    return _pad(pairs)


# -- the instruction set ----------------------------------------------------------------


def _catalog_examples(items, kind: str) -> list[Example]:
    out = []
    for it in items:
        attrs = it.product.prompt()[:-1]  # without the ">" separator
        if kind == "copy":
            out.append(Example("copy", INSTRUCTIONS["copy"] + attrs, it.description, attrs))
        else:
            out.append(Example("extract", INSTRUCTIONS["extract"] + it.description, attrs, attrs))
    return out


def instruction_set(
    n_copy: int = 1200, n_extract: int = 600, n_eval: int = 100, seed: int = 0
) -> dict[str, list[Example]]:
    """Train / val / test instructions of the three kinds, seeded.

    ``copy`` and ``extract`` come from the catalog of :mod:`aigc_course.business.
    catalog_lm` (training items for training; held-out products, never seen in training,
    one item each, split in half for validation and test). ``faq`` trains on each FAQ
    entry's canonical question and first two paraphrases, validates on the second
    lexical paraphrase and tests on the second semantic one (:mod:`aigc_course.business.faq`).
    """
    from ..business import catalog_lm
    from ..business.faq import FAQ

    data = catalog_lm.catalog_data()
    rng = random.Random(seed)
    train_items = list(data.train)
    rng.shuffle(train_items)
    held = list({it.product.prompt(): it for it in reversed(data.test)}.values())[::-1]
    rng.shuffle(held)  # one item per product (above: its first), so val and test share none
    half = min(n_eval, len(held) // 2)
    val_items, test_items = held[:half], held[half : 2 * half]
    split: dict[str, list[Example]] = {"train": [], "val": [], "test": []}
    split["train"] += _catalog_examples(train_items[:n_copy], "copy")
    split["train"] += _catalog_examples(train_items[n_copy : n_copy + n_extract], "extract")
    for name, items in (("val", val_items), ("test", test_items)):
        split[name] += _catalog_examples(items, "copy") + _catalog_examples(items, "extract")
    for i, e in enumerate(FAQ):
        ask = INSTRUCTIONS["faq"]
        for q in (e.question, e.lexical[0], e.semantic[0]):
            split["train"].append(Example("faq", ask + q, e.answer, str(i)))
        split["val"].append(Example("faq", ask + e.lexical[1], e.answer, str(i)))
        split["test"].append(Example("faq", ask + e.semantic[1], e.answer, str(i)))
    rng.shuffle(split["train"])
    return split


def char_transformers_tokenizer(tok: CharTokenizer):
    """A ``transformers`` fast tokenizer with exactly ``tok``'s ids (one token per
    character, offsets included), with :data:`CHAT_TEMPLATE` as its chat template, so
    ``apply_chat_template`` and ``generate`` work with the course's character models.
    It has no special tokens: every id is a real character (no EOS to stop on early)."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {ch: i for i, ch in enumerate(tok.chars)}
    unk = tok.replacement if tok.replacement in vocab else None
    inner = Tokenizer(models.WordLevel(vocab, unk_token=unk))
    inner.pre_tokenizer = pre_tokenizers.Split(Regex("[\\s\\S]"), behavior="isolated")
    inner.decoder = decoders.Fuse()
    fast = PreTrainedTokenizerFast(
        tokenizer_object=inner, model_input_names=["input_ids", "attention_mask"]
    )
    fast.chat_template = CHAT_TEMPLATE
    return fast


# -- training and evaluation --------------------------------------------------------------


def fit_sft(
    model: torch.nn.Module,
    tok: CharTokenizer,
    examples: Sequence[Example],
    cfg,
    *,
    mask_prompt: bool = True,
    callbacks=(),
):
    """Supervised fine-tuning on whole examples (one per row, right-padded), on the
    model's device, with the course's LM optimiser and schedule
    (:class:`aigc_course.training.lm.LMTrainConfig`: ``lr``, ``warmup``, ``min_lr``,
    ``weight_decay``, ``grad_clip``; ``block_size`` is unused: rows are whole examples).
    Only parameters with ``requires_grad`` train (a LoRA adapter, or everything).

    Args:
        mask_prompt: train on response characters only (``False``: on the prompt too).

    Returns:
        the :class:`~aigc_course.training.core.History` (``loss`` in nats per trained
        character, per step).
    """
    from ..device import Precision, model_device
    from ..training.core import run_loop
    from ..training.lm import lr_at, make_optimizer

    if not examples:
        raise ValueError("fit_sft needs at least one example")
    device = model_device(model)
    precision = Precision(device)
    opt = make_optimizer(model, cfg)
    rng = random.Random(cfg.seed)
    block = getattr(model, "block_size", None)
    encoded = [encode_example(tok, e, mask_prompt=mask_prompt) for e in examples]
    if block is not None and max(len(x) for x, _ in encoded) > block:
        raise ValueError(f"an example is longer than the model's block_size={block}")

    def step(i: int) -> dict[str, float]:
        for group in opt.param_groups:
            group["lr"] = lr_at(i, cfg)
        rows = [encoded[rng.randrange(len(encoded))] for _ in range(cfg.batch_size)]
        x, y = _pad(rows)
        with precision.autocast():
            _, loss = model(x.to(device), y.to(device))
        precision.step(loss, opt, grad_clip=cfg.grad_clip)
        return {"loss": loss.item()}

    hist = run_loop(step, cfg, models={"model": model}, callbacks=callbacks)
    model.eval()
    return hist


def _pad(rows) -> tuple[torch.Tensor, torch.Tensor]:
    T = max(len(x) for x, _ in rows)
    x = torch.zeros(len(rows), T, dtype=torch.long)
    y = torch.full((len(rows), T), IGNORE, dtype=torch.long)
    for i, (ids, tgt) in enumerate(rows):
        x[i, : len(ids)], y[i, : len(tgt)] = ids, tgt
    return x, y


@torch.no_grad()
def response_bits_per_char(
    model: torch.nn.Module, tok: CharTokenizer, examples: Sequence[Example], batch_size: int = 32
) -> float:
    """Held-out bits per response character (the newline that ends it included), given
    the prompt: the likelihood of the reference answers. (With a subword tokenizer the
    unit is the response token.)"""
    import math

    from ..device import model_device

    device = model_device(model)
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    for s in range(0, len(examples), batch_size):
        rows = [encode_example(tok, e) for e in examples[s : s + batch_size]]
        x, y = _pad(rows)
        logits, _ = model(x.to(device))
        nll = torch.nn.functional.cross_entropy(
            logits.float().flatten(0, 1), y.to(device).flatten(), reduction="sum"
        )
        total += nll.item()
        count += int((y != IGNORE).sum())
    model.train(was_training)
    return total / count / math.log(2)


@torch.no_grad()
def respond(
    model: torch.nn.Module,
    tok: CharTokenizer,
    instructions: Sequence[str],
    *,
    max_new_tokens: int = 100,
    temperature: float = 0.0,
    seed: int = 0,
    batch_size: int = 64,
) -> list[str]:
    """The model's answers: each instruction rendered with the generation prompt
    (``User: …\\nBot: ``), continued, and cut at the first newline (the end of a turn).
    Greedy at temperature 0; prompts of equal token length are batched (no padding
    needed). ``tok``: a character tokenizer or any ``transformers`` tokenizer."""
    from ..device import model_device
    from ..sampling import generate

    device = model_device(model)
    gen = torch.Generator(device="cpu").manual_seed(seed)
    prompts = [render_chat([{"role": "user", "content": q}], True)[0] for q in instructions]
    encoded = [list(tok.encode(p)) for p in prompts]
    out: list[str] = [""] * len(prompts)
    by_len: dict[int, list[int]] = {}
    for i, ids in enumerate(encoded):
        by_len.setdefault(len(ids), []).append(i)
    block = getattr(model, "block_size", None)
    for length, idx in sorted(by_len.items()):
        n_new = max_new_tokens if block is None else min(max_new_tokens, block - length)
        for s in range(0, len(idx), batch_size):
            chunk = idx[s : s + batch_size]
            x = torch.tensor([encoded[i] for i in chunk], device=device)
            y = generate(model, x, n_new, temperature=temperature, generator=gen)
            for i, row in zip(chunk, y[:, length:].tolist(), strict=True):
                out[i] = tok.decode(row).split(END, 1)[0]
    return out
