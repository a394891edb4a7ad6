"""A decoder-only Transformer language model, written from scratch, laid out as GPT-2.

The architecture is GPT-2's (Radford et al. 2019), itself the decoder of Vaswani et al.
(2017) with the layer norm moved in front of each sub-layer (pre-LN): learned position
embeddings, causal multi-head self-attention, a 4x MLP with the tanh approximation of
GELU, a final layer norm, and an output layer tied to the token embedding.

Every parameter has the name and the layout of Hugging Face's ``GPT2LMHeadModel``
(``transformer.h.0.attn.c_attn.weight``…), including GPT-2's "Conv1D" projections,
whose weight is stored as ``(in_features, out_features)``, the transpose of
``nn.Linear``. So ``GPT2LMHeadModel.load_state_dict(model.state_dict())`` works as is
(see :mod:`aigc_course.hf`), and the logits agree to float rounding.

Interface (nanoGPT style): ``logits, loss = model(idx, targets)``. For generation,
:meth:`GPT.step` runs new tokens against a key/value cache.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

KVCache = list[tuple[torch.Tensor, torch.Tensor]]  # per layer: (k, v), each (B, nh, T, hd)


@dataclass(frozen=True)
class GPTConfig:
    """Hyper-parameters of the decoder-only Transformer LM (names follow HF GPT-2)."""

    vocab_size: int
    block_size: int = 128  # maximum context length T (GPT-2: n_positions)
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128  # model width C; must be divisible by n_head
    dropout: float = 0.0
    causal: bool = True  # False reproduces the missing-mask mistake; never train like that
    flash: bool = True  # True: F.scaled_dot_product_attention; False: the explicit formula

    def __post_init__(self) -> None:
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd={self.n_embd} is not divisible by n_head={self.n_head}")
        if min(self.vocab_size, self.block_size, self.n_layer, self.n_head) < 1:
            raise ValueError("vocab_size, block_size, n_layer and n_head must be positive")

    @classmethod
    def tiny(cls, vocab_size: int) -> GPTConfig:
        """Seconds on a CPU: used by tests and by smoke mode."""
        return cls(vocab_size, block_size=32, n_layer=2, n_head=2, n_embd=32)

    @classmethod
    def nanogpt_cpu(cls, vocab_size: int) -> GPTConfig:
        """The nanoGPT README's CPU settings' shape: 4 layers x 128 wide, 4 heads, block 64."""
        return cls(vocab_size, block_size=64, n_layer=4, n_head=4, n_embd=128)

    def to_dict(self) -> dict:
        return asdict(self)


def attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    causal: bool = True,
    dropout_p: float = 0.0,
) -> torch.Tensor:
    """Scaled dot-product attention, written out: dropout(softmax(q kᵀ / √d + mask)) v.

    Args:
        q: (B, nh, Tq, hd) queries.
        k, v: (B, nh, Tk, hd) keys and values, Tk ≥ Tq. With ``causal``, the queries are
            the *last* Tq positions, so query i may see keys 0..Tk-Tq+i (this is what a
            KV cache needs; with Tq == Tk it is the usual lower-triangular mask).
        dropout_p: dropout on the attention weights (pass 0 in eval mode), applied where
            ``F.scaled_dot_product_attention`` applies its ``dropout_p``: on the CPU, with
            the same random state, the two give the same output.

    Returns:
        (B, nh, Tq, hd).

    References:
        Vaswani et al. 2017, Eq. 1; the mask: Sec. 3.2.3.
    """
    tq, tk = q.size(-2), k.size(-2)
    att = (q @ k.transpose(-2, -1)) / math.sqrt(q.size(-1))  # (B, nh, Tq, Tk)
    if causal:
        allowed = torch.ones(tq, tk, dtype=torch.bool, device=q.device).tril(diagonal=tk - tq)
        att = att.masked_fill(~allowed, float("-inf"))
    att = att.softmax(dim=-1)
    if dropout_p > 0.0:
        att = F.dropout(att, dropout_p, training=True)
    return att @ v


class Conv1D(nn.Module):
    """GPT-2's linear layer: ``y = x @ weight + bias`` with weight (in, out)."""

    def __init__(self, n_in: int, n_out: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n_in, n_out))
        self.bias = nn.Parameter(torch.zeros(n_out))
        nn.init.normal_(self.weight, std=0.02)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.addmm(self.bias, x.reshape(-1, x.size(-1)), self.weight).view(
            *x.shape[:-1], -1
        )


class CausalSelfAttention(nn.Module):
    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.n_head = config.n_head
        self.causal = config.causal
        self.flash = config.flash
        self.c_attn = Conv1D(config.n_embd, 3 * config.n_embd)  # q, k, v in one matmul
        self.c_proj = Conv1D(config.n_embd, config.n_embd)
        self.attn_dropout = config.dropout
        self.resid_dropout = nn.Dropout(config.dropout)

    def forward(
        self, x: torch.Tensor, past: tuple[torch.Tensor, torch.Tensor] | None = None
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        # (B, T, C) -> (B, nh, T, hd)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        if past is not None:
            k = torch.cat([past[0], k], dim=2)  # (B, nh, T_past + T, hd)
            v = torch.cat([past[1], v], dim=2)
        causal_here = self.causal and T > 1  # one new query may see every cached key
        p = self.attn_dropout if self.training else 0.0  # both paths drop in training only
        if self.flash and (past is None or not causal_here):
            y = F.scaled_dot_product_attention(q, k, v, is_causal=causal_here, dropout_p=p)
        else:  # the explicit formula; also handles a causal chunk after a cache
            y = attention(q, k, v, causal=causal_here, dropout_p=p)
        y = y.transpose(1, 2).contiguous().view(B, T, C)  # re-assemble heads: (B, T, C)
        return self.resid_dropout(self.c_proj(y)), (k, v)


class MLP(nn.Module):
    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.c_fc = Conv1D(config.n_embd, 4 * config.n_embd)
        self.c_proj = Conv1D(4 * config.n_embd, config.n_embd)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # GPT-2's "gelu_new" is the tanh approximation of GELU
        return self.dropout(self.c_proj(F.gelu(self.c_fc(x), approximate="tanh")))


class Block(nn.Module):
    """Pre-LN Transformer block: x + attn(ln_1(x)), then x + mlp(ln_2(x))."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd, eps=1e-5)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd, eps=1e-5)
        self.mlp = MLP(config)

    def forward(self, x, past=None):
        a, present = self.attn(self.ln_1(x), past)
        x = x + a
        x = x + self.mlp(self.ln_2(x))
        return x, present


class GPT(nn.Module):
    """Decoder-only Transformer LM with GPT-2's parameter names.

    Example:
        >>> model = GPT(GPTConfig.tiny(vocab_size=65))
        >>> logits, loss = model(idx, targets)  # idx, targets: (B, T) long
    """

    #: The course's LM interface (:class:`aigc_course.sampling.CausalLM`): not recurrent,
    #: it sees at most ``block_size`` tokens (learned positions end there).
    recurrent: ClassVar[bool] = False
    family: ClassVar[str] = "transformer"  # the checkpoint family (loading.FAMILIES)

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.config = config
        self.transformer = nn.ModuleDict(
            dict(
                wte=nn.Embedding(config.vocab_size, config.n_embd),
                wpe=nn.Embedding(config.block_size, config.n_embd),
                drop=nn.Dropout(config.dropout),
                h=nn.ModuleList([Block(config) for _ in range(config.n_layer)]),
                ln_f=nn.LayerNorm(config.n_embd, eps=1e-5),
            )
        )
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.lm_head.weight = self.transformer.wte.weight  # tied (Press & Wolf 2017)
        nn.init.normal_(self.transformer.wte.weight, std=0.02)
        nn.init.normal_(self.transformer.wpe.weight, std=0.01)
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):  # GPT-2's scaled init of residual outputs
                nn.init.normal_(p, std=0.02 / math.sqrt(2 * config.n_layer))

    @property
    def block_size(self) -> int:
        return self.config.block_size

    def num_params(self, non_embedding: bool = False) -> int:
        """Parameter count (tied weights counted once)."""
        n = sum(p.numel() for p in self.parameters())
        if non_embedding:
            n -= self.transformer.wpe.weight.numel() + self.transformer.wte.weight.numel()
        return n

    def _run(self, idx: torch.Tensor, cache: KVCache | None) -> tuple[torch.Tensor, KVCache]:
        B, T = idx.shape
        start = 0 if cache is None else cache[0][0].size(2)
        if start + T > self.config.block_size:
            raise ValueError(
                f"sequence of {start + T} positions exceeds block_size={self.config.block_size}"
            )
        pos = torch.arange(start, start + T, device=idx.device)  # (T,)
        x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(pos))
        present: KVCache = []
        for i, block in enumerate(self.transformer.h):
            x, kv = block(x, None if cache is None else cache[i])
            present.append(kv)
        return self.lm_head(self.transformer.ln_f(x)), present  # (B, T, V)

    def forward(
        self, idx: torch.Tensor, targets: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Next-token logits for every position.

        Args:
            idx: (B, T) token ids, T ≤ block_size.
            targets: (B, T) the ids that follow each position, or None.

        Returns:
            logits (B, T, vocab_size) and the mean cross-entropy in nats (None without
            targets).
        """
        logits, _ = self._run(idx, None)
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)).float(), targets.reshape(-1))
        return logits, loss

    def step(self, idx: torch.Tensor, state: KVCache | None = None) -> tuple[torch.Tensor, KVCache]:
        """Run new tokens after a key/value cache (generation).

        Args:
            idx: (B, T_new) ids that follow the cached ones.
            state: the cache returned by the previous call, or None to start.

        Returns:
            logits (B, T_new, vocab_size) and the extended cache. Total length may not
            exceed ``block_size`` (learned positions end there); :func:`aigc_course.
            sampling.generate` then falls back to recomputing the last window.
        """
        return self._run(idx, state)

    @staticmethod
    def state_length(state: KVCache | None) -> int:
        return 0 if state is None else state[0][0].size(2)
