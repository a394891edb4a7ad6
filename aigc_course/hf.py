"""Hugging Face interop: byte-level BPE tokenizers, GPT-2 configs, and a weight port.

- :func:`train_bpe` trains a byte-level BPE tokenizer (GPT-2's scheme: Radford et al.
  2019, on BPE for words by Sennrich et al. 2016) with the ``tokenizers`` library;
  :func:`as_transformers_tokenizer` wraps it for ``generate`` and ``pipeline``.
- :func:`gpt2_config` turns the course's :class:`~aigc_course.models.transformer_lm.
  GPTConfig` into a ``transformers.GPT2Config`` describing the same network.
- :func:`to_gpt2` copies a from-scratch :class:`~aigc_course.models.transformer_lm.GPT`
  into ``GPT2LMHeadModel``: the parameter names and layouts are the same, so it is one
  ``load_state_dict`` with nothing renamed or transposed. :func:`from_gpt2` goes back.

Nothing here touches the network: configs are built locally, models are saved to and
loaded from local folders.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch

from .device import model_device
from .models.transformer_lm import GPT, GPTConfig

EOS = "<|endoftext|>"


def train_bpe(texts: Iterable[str], vocab_size: int = 1024, min_frequency: int = 2):
    """Train a byte-level BPE tokenizer.

    Starts from the 256 byte symbols (so any UTF-8 text can be encoded: there is no
    unknown token) and repeatedly merges the most frequent adjacent pair until the
    vocabulary holds ``vocab_size`` entries.

    Args:
        texts: training texts.
        vocab_size: final vocabulary size, including the 256 bytes and ``<|endoftext|>``.
        min_frequency: a pair must occur this often to be merged.

    Returns:
        a ``tokenizers.Tokenizer``.

    References:
        Sennrich, Haddow & Birch 2016 (BPE for NMT); Radford et al. 2019, Sec. 2.2
        (byte-level BPE).
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=[EOS],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer)
    return tok


def as_transformers_tokenizer(tok):
    """Wrap a ``tokenizers.Tokenizer`` for ``transformers`` (``generate``, ``pipeline``,
    ``save_pretrained``), with ``<|endoftext|>`` as its BOS, EOS and padding token.

    ``model_input_names`` is set explicitly to ``input_ids`` and ``attention_mask``: a
    generic fast tokenizer may also return ``token_type_ids`` (the default of older
    ``transformers``), and GPT-2 would then add ``wte(token_type_ids)`` to every position
    in ``generate(**tok(prompt))`` but not in ``pipeline``. Padding is on the left, as
    batched generation with a decoder-only model needs (notebook 06).
    """
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=EOS,
        eos_token=EOS,
        pad_token=EOS,
        model_input_names=["input_ids", "attention_mask"],
        padding_side="left",
    )


def gpt2_config(config: GPTConfig, eos_token_id: int | None = None, **overrides):
    """The ``GPT2Config`` of the same network as ``config``.

    GPT-2 choices made explicit: pre-LN blocks with layer-norm eps 1e-5, MLP width
    4·n_embd with ``gelu_new`` (the tanh approximation of GELU), learned positions
    (``n_positions`` = block_size), tied input/output embeddings, no dropout by default.

    Args:
        eos_token_id: the id of a real end-of-text token, used as BOS, EOS and padding.
            None (the default, and the right choice for the course's character models,
            whose vocabulary holds only real characters) sets no special token:
            ``generate`` then never stops early on an ordinary character.
    """
    from transformers import GPT2Config

    if not config.causal:
        raise ValueError("GPT-2 is causal; a config with causal=False has no GPT-2 twin")
    eos = eos_token_id
    kw = dict(
        vocab_size=config.vocab_size,
        n_positions=config.block_size,
        n_embd=config.n_embd,
        n_layer=config.n_layer,
        n_head=config.n_head,
        n_inner=4 * config.n_embd,
        activation_function="gelu_new",
        layer_norm_epsilon=1e-5,
        resid_pdrop=config.dropout,
        embd_pdrop=config.dropout,
        attn_pdrop=config.dropout,
        tie_word_embeddings=True,
        bos_token_id=eos,
        eos_token_id=eos,
        pad_token_id=eos,
    )
    kw.update(overrides)
    return GPT2Config(**kw)


def to_gpt2(model: GPT, eos_token_id: int | None = None):
    """A ``GPT2LMHeadModel`` holding exactly ``model``'s weights (in eval mode), on
    ``model``'s device. ``eos_token_id``: see :func:`gpt2_config` (None: no EOS).

    Raises:
        RuntimeError: a missing or unexpected key, or a shape mismatch (strict load).
    """
    from transformers import GPT2LMHeadModel

    hf = GPT2LMHeadModel(gpt2_config(model.config, eos_token_id))
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    hf.load_state_dict(state, strict=True)
    hf.tie_weights()
    return hf.to(model_device(model)).eval()


def from_gpt2(hf) -> GPT:
    """The course's :class:`GPT` with the weights of a ``GPT2LMHeadModel`` whose config
    matches GPT-2's defaults used here (gelu_new, eps 1e-5, n_inner 4·n_embd), on the
    ``GPT2LMHeadModel``'s device."""
    c = hf.config
    if c.activation_function != "gelu_new" or (c.n_inner or 4 * c.n_embd) != 4 * c.n_embd:
        raise ValueError("only GPT-2 models with gelu_new and a 4x MLP can be ported")
    model = GPT(GPTConfig(c.vocab_size, c.n_positions, c.n_layer, c.n_head, c.n_embd))
    state = {k: v for k, v in hf.state_dict().items() if k in model.state_dict()}
    model.load_state_dict(state, strict=True)
    return model.to(model_device(hf)).eval()


def load_gpt2_as_course_model(name_or_path: str, device: torch.device | str | None = None):
    """Load a GPT-2 checkpoint (a hub name such as ``"openai-community/gpt2"``, or a local
    folder) into the course's :class:`GPT`, and return ``(course_model, hf_model)`` on
    ``device`` (None: the CPU), both in eval mode.

    GPT-2 stores its four projection matrices (``c_attn``, ``attn.c_proj``, ``c_fc``,
    ``mlp.c_proj``) in the ``Conv1D`` layout, (in, out); the course's GPT keeps the same
    names and layouts, so nothing is transposed here. A model built with ``nn.Linear``
    (out, in) would need exactly those four weights transposed.

    Raises:
        ValueError: the checkpoint is not a GPT-2 the course's GPT can hold
            (see :func:`from_gpt2`).
    """
    from transformers import GPT2LMHeadModel

    hf = GPT2LMHeadModel.from_pretrained(name_or_path).eval()
    hf = hf.to(torch.device(device) if device is not None else torch.device("cpu"))
    return from_gpt2(hf), hf


@torch.no_grad()
def max_logit_difference(model: GPT, hf, idx: torch.Tensor) -> float:
    """max |logits_ours - logits_hf| on ``idx`` (B, T): the port's acceptance figure.
    Each model runs on its own device (``idx`` is moved to each)."""
    ours, _ = model.eval()(idx.to(model_device(model)))
    theirs = hf.eval()(input_ids=idx.to(model_device(hf))).logits
    return (ours.float().cpu() - theirs.float().cpu()).abs().max().item()


class HFCausalLM(torch.nn.Module):
    """Give a ``transformers`` causal LM the course's interface, so :func:`aigc_course.
    training.lm.fit_lm` can train it: ``logits, loss = model(idx, targets)``.

    The course passes targets already shifted by one (``targets[t] = idx[t + 1]``);
    ``transformers`` instead takes ``labels = input_ids`` and shifts inside. This adapter
    computes the course's loss, so the two conventions are never mixed.
    """

    def __init__(self, hf) -> None:
        super().__init__()
        self.hf = hf
        self.block_size = hf.config.n_positions

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None):
        logits = self.hf(input_ids=idx, attention_mask=torch.ones_like(idx)).logits  # (B, T, V)
        loss = None
        if targets is not None:
            loss = torch.nn.functional.cross_entropy(
                logits.reshape(-1, logits.size(-1)).float(), targets.reshape(-1)
            )
        return logits, loss
