"""LSTM language models: one cell written from scratch, and an ``nn.LSTM`` LM for speed.

:class:`LSTMCellScratch` is the cell of Hochreiter & Schmidhuber (1997) with the forget
gate of Gers et al. (2000), written gate by gate with the parameter names, shapes and
gate order (input, forget, cell, output) of ``torch.nn.LSTMCell``, so copying weights
between the two gives the same outputs (the notebook and the tests check it).

:class:`CharLSTM` is the language model the course trains: embedding → ``nn.LSTM`` →
linear head, with the family's interface ``logits, loss = model(idx, targets)`` and a
:meth:`CharLSTM.step` that carries the recurrent state for generation and for truncated
back-propagation through time.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

LSTMState = tuple[torch.Tensor, torch.Tensor]  # (h, c), each (num_layers, B, H)


class LSTMCellScratch(nn.Module):
    """One LSTM step, written out.

    i = σ(W_ii x + b_ii + W_hi h + b_hi)        input gate
    f = σ(W_if x + b_if + W_hf h + b_hf)        forget gate
    g = tanh(W_ig x + b_ig + W_hg h + b_hg)     candidate cell
    o = σ(W_io x + b_io + W_ho h + b_ho)        output gate
    c' = f ⊙ c + i ⊙ g,   h' = o ⊙ tanh(c')

    The four gates' weights are stacked as in ``nn.LSTMCell``: ``weight_ih`` (4H, I),
    ``weight_hh`` (4H, H), biases (4H,), in the order i, f, g, o.

    References:
        Hochreiter & Schmidhuber 1997; Gers, Schmidhuber & Cummins 2000 (forget gate).
    """

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.weight_ih = nn.Parameter(torch.empty(4 * hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(4 * hidden_size, hidden_size))
        self.bias_ih = nn.Parameter(torch.empty(4 * hidden_size))
        self.bias_hh = nn.Parameter(torch.empty(4 * hidden_size))
        bound = 1.0 / math.sqrt(hidden_size)  # nn.LSTMCell's initialisation
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def forward(
        self, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor] | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """One step.

        Args:
            x: (B, input_size).
            state: (h, c), each (B, hidden_size); zeros if None.

        Returns:
            (h', c'), each (B, hidden_size).
        """
        if state is None:
            zeros = x.new_zeros(x.size(0), self.hidden_size)
            state = (zeros, zeros)
        h, c = state
        gates = x @ self.weight_ih.T + self.bias_ih + h @ self.weight_hh.T + self.bias_hh
        i, f, g, o = gates.chunk(4, dim=1)  # each (B, H)
        c_next = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h_next = torch.sigmoid(o) * torch.tanh(c_next)
        return h_next, c_next


@dataclass(frozen=True)
class LSTMConfig:
    """Hyper-parameters of the character LSTM LM (names follow ``nn.LSTM``)."""

    vocab_size: int
    n_embd: int = 64  # embedding width (nn.LSTM's input_size)
    hidden_size: int = 256
    num_layers: int = 2
    # on the non-recurrent connections (Zaremba et al. 2014): the embeddings, between
    # LSTM layers (as nn.LSTM applies it) and the last layer's output
    dropout: float = 0.0
    block_size: int = 128  # training window: the truncation length of BPTT

    def __post_init__(self) -> None:
        if min(self.vocab_size, self.n_embd, self.hidden_size, self.num_layers) < 1:
            raise ValueError("vocab_size, n_embd, hidden_size and num_layers must be positive")

    @classmethod
    def tiny(cls, vocab_size: int) -> LSTMConfig:
        """Seconds on a CPU: used by tests and by smoke mode."""
        return cls(vocab_size, n_embd=16, hidden_size=32, num_layers=1, block_size=32)

    def to_dict(self) -> dict:
        return asdict(self)


class CharLSTM(nn.Module):
    """Embedding → multi-layer ``nn.LSTM`` → linear head over the vocabulary.

    Example:
        >>> model = CharLSTM(LSTMConfig.tiny(vocab_size=65))
        >>> logits, loss = model(idx, targets)  # idx, targets: (B, T) long
    """

    #: The course's LM interface (:class:`aigc_course.sampling.CausalLM`): a recurrent
    #: model carries its whole history in its state, with no window limit.
    recurrent: ClassVar[bool] = True
    family: ClassVar[str] = "lstm"  # the checkpoint family (aigc_course.loading.FAMILIES)

    def __init__(self, config: LSTMConfig) -> None:
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(config.vocab_size, config.n_embd)
        self.lstm = nn.LSTM(
            config.n_embd,
            config.hidden_size,
            num_layers=config.num_layers,
            dropout=config.dropout if config.num_layers > 1 else 0.0,
            batch_first=True,
        )
        self.drop = nn.Dropout(config.dropout)  # no parameters: checkpoints unchanged
        self.head = nn.Linear(config.hidden_size, config.vocab_size)

    @property
    def block_size(self) -> int:
        return self.config.block_size

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def step(
        self, idx: torch.Tensor, state: LSTMState | None = None
    ) -> tuple[torch.Tensor, LSTMState]:
        """Logits for ``idx`` continuing from ``state``.

        Args:
            idx: (B, T) ids.
            state: (h, c), each (num_layers, B, hidden_size), or None for zeros.

        Returns:
            logits (B, T, vocab_size) and the new state. For truncated BPTT, pass
            ``tuple(s.detach() for s in state)`` to the next window: the state flows
            forward, the gradient stops at the window's start.
        """
        out, state = self.lstm(self.drop(self.embedding(idx)), state)  # out: (B, T, H)
        return self.head(self.drop(out)), state

    def forward(
        self, idx: torch.Tensor, targets: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Next-token logits (B, T, vocab_size) from a zero state, and the mean
        cross-entropy in nats against ``targets`` (B, T) (None without targets)."""
        logits, _ = self.step(idx)
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)).float(), targets.reshape(-1))
        return logits, loss

    @staticmethod
    def state_length(state: LSTMState | None) -> int:
        return 0  # a recurrent state has no length limit
