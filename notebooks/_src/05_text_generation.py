# %% [markdown]
# # 05 · Text generation from scratch: n-grams, an LSTM and a Transformer
#
# A language model assigns a probability to every piece of text and can draw new text
# from that distribution. This notebook builds three kinds of character-level language
# models on the same corpus, measures them with the same yardstick (**bits per
# character** on a held-out test text that no choice was made on), and samples from them
# with the decoding strategies used by every large model today.
#
# **Learning objectives.** After this notebook you can
#
# 1. write the chain rule $p(x) = \prod_t p(x_t \mid x_{<t})$, explain why most language
#    models read left to right, and why GANs are a poor fit for text;
# 2. build a character tokenizer that survives characters it has never seen;
# 3. fit smoothed n-gram baselines, choosing on validation text and reporting on test text;
# 4. write an LSTM cell, causal self-attention, a Transformer block and a training loop
#    from scratch and check them against the package; explain truncated
#    back-propagation through time and the KV cache;
# 5. recognise the missing causal mask by its symptoms;
# 6. sample with temperature, top-k and top-p, and compare models fairly, with intervals;
# 7. read a Transformer's attention maps.

# %% [markdown]
# ## Setup
#
# The banner shows the mode, the device and the corpus: its size and hash depend on your
# Python version, so every figure below names them. Budgets come from `by_mode`.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F

from aigc_course import by_mode, setup

session = setup(
    "05_text_generation",
    data=["pydoc"],
    runtime={"smoke": "35 s", "workshop": "3 min", "full": "60 min"},
)
device = session.device

# %% [markdown]
# Every budget of this notebook, for the current mode, in one place: the corpus prefix
# (smoke mode only), the n-gram orders, the training budget of section 6, and how
# much validation and test text is scored.

# %%
long_orders = [2, 3, 4, 5, 6, 8, 12, 16, 24, 32]
budget = dict(
    max_chars=by_mode(smoke=60_000, workshop=None, full=None),  # corpus prefix
    orders=by_mode(smoke=[2, 3, 4], workshop=long_orders, full=long_orders),  # n-gram orders
    seconds=by_mode(smoke=None, workshop=25.0, full=120.0),  # per model, equal wall-clock
    steps=by_mode(smoke=80, workshop=100_000, full=100_000),  # smoke: equal steps instead
    mask_steps=by_mode(smoke=30, workshop=800, full=800),
    val_chars=by_mode(smoke=2_000, workshop=None, full=None),  # None: the whole split
    test_chars=by_mode(smoke=3_000, workshop=None, full=None),  # None: the whole split
    sample_chars=by_mode(smoke=60, workshop=200, full=200),
    width=by_mode(smoke=32, workshop=96, full=128),  # model width in section 6
)
budget

# %% [markdown]
# ## 1. Why text is generated one token at a time
#
# Any distribution over sequences factorises by the **chain rule** of probability:
#
# $$p(x_1, \dots, x_T) = \prod_{t=1}^{T} p(x_t \mid x_1, \dots, x_{t-1}).$$
#
# No assumption is made: this is exact. A language model learns the conditionals
# $p(x_t \mid x_{<t})$; then it can **score** a text (multiply its conditionals) and
# **sample** one (draw $x_1$, then $x_2$ given $x_1$, …). The check below builds an
# arbitrary joint distribution over three-letter strings and verifies the identity.

# %% tags=["nbval-check-output"]
g = torch.Generator().manual_seed(0)
joint = torch.rand(3, 3, 3, generator=g)  # p(x1, x2, x3) over a 3-letter alphabet
joint /= joint.sum()
p1 = joint.sum((1, 2))  # p(x1)
p2_given_1 = joint.sum(2) / p1[:, None]  # p(x2 | x1)
p3_given_12 = joint / joint.sum(2, keepdim=True)  # p(x3 | x1, x2)
chain = p1[:, None, None] * p2_given_1[:, :, None] * p3_given_12
torch.testing.assert_close(chain, joint)
print("chain rule holds for all 27 strings:", torch.allclose(chain, joint))

# %% [markdown]
# **Why left to right?** The identity holds for *any* order of the positions: right to
# left, or any permutation, is just as exact. Most language models still read left to
# right because that is the order text is written, read and streamed (a prompt is a
# prefix; the continuation is what comes next), and because one causal mask then trains
# every position of a window in a single pass. Other orders are used: XLNet (Yang et al.
# 2019) trains over permuted orders, masked and diffusion language models fill in
# blanks anywhere; they pay for it in training or sampling cost.
#
# ## 2. Data and a character tokenizer
#
# The corpus is the Python reference documentation shipped inside CPython
# (`pydoc_data.topics`). The split is **contiguous**: the first 90 % trains; the last
# 10 % is held out and cut at a topic boundary into a **validation** part (every choice
# of this notebook is made on it: n-gram order, mixture weight) and a **test** part
# made of whole topics (the headline figures are reported on it, and nothing is chosen
# on it). The committed pretrained models were trained on the same first 90 %, so
# neither part was in their training text. Their recipes' settings were first chosen on
# the whole held-out 10 %, test part included, before it was set apart; their dropout
# has since been chosen again on the validation part alone (section 8).

# %%
from aigc_course.data.text import prepare_corpus

data = prepare_corpus("pydoc", max_chars=budget["max_chars"])
tok = data.tokenizer
val_text = data.val_text if budget["val_chars"] is None else data.val_text[: budget["val_chars"]]
val_ids = data.val_ids[: len(val_text)]
parts = {"train": data.train_text, "validation": data.val_text, "test": data.test_text}
print(data.corpus.summary)
print(", ".join(f"{k} {len(v):,} chars" for k, v in parts.items()), f"| {tok}")
print("test begins:", repr(data.test_text[:45]))

# %% [markdown]
# The tokenizer's vocabulary is the sorted set of characters of the *training* text; an
# id is a position in that list. It is saved, as JSON, with every checkpoint, because
# the corpus differs between Python versions and so would the ids.

# %% tags=["nbval-check-output"]
from aigc_course.tokenizer import CharTokenizer, UnknownCharacterError

demo = CharTokenizer.from_text("def return(self, x):\n")
ids = demo.encode("def f(x):")
print(demo.chars)
print(ids, "->", repr(demo.decode(ids)))

# %% [markdown]
# Text from elsewhere can hold characters the model has never seen. The tokenizer
# refuses them by default, and lets you choose explicitly: `replace` maps each to a
# replacement character that *is* in the vocabulary (and reports where), `skip` drops
# them. The command-line `evaluate` replaces them as context and leaves them out of the
# score, reporting how many there were.

# %% tags=["nbval-check-output"]
try:
    demo.encode("naïve ✓")
except UnknownCharacterError as err:
    print("error:", err)
ids, seen = demo.encode_with_mask("naïve ✓", unknown="replace")
print(repr(demo.decode(ids)), seen)
print(repr(demo.decode(demo.encode("naïve ✓", unknown="skip"))))

# %% [markdown]
# ## 3. Baselines first: unigram and smoothed n-grams
#
# Before any neural network, the bar it must clear. An **n-gram** model predicts a
# character from the previous $n-1$ by counting. Raw counts give probability zero to
# anything unseen (infinite bits), so the counts are **smoothed**. We use interpolated
# **Kneser-Ney** smoothing (Kneser & Ney 1995; Chen & Goodman 1999): subtract a discount
# $D$ from every count, hand the freed mass to the next lower order, and let the lower
# orders count how many *different* contexts a string follows. The unigram model
# (add-one smoothing) ignores context altogether.
#
# Bits per character: $\text{bpc} = -\frac{1}{N}\sum_t \log_2 p(x_t \mid x_{<t})$. A
# uniform guess over the vocabulary costs $\log_2 V$.

# %%
from aigc_course.models.ngram import KneserNeyLM, UnigramLM

results = {}  # name -> validation bits/char, filled as we go
t0 = time.perf_counter()
results["unigram"] = UnigramLM(tok).fit(data.train_text).bits_per_char(val_text)
ngrams, ngram_bpc = {}, {}
for n in budget["orders"]:
    ngrams[n] = KneserNeyLM(tok, n).fit(data.train_text)
    ngram_bpc[n] = ngrams[n].bits_per_char(val_text)
best_n = min(ngram_bpc, key=ngram_bpc.get)
results.update({f"KN {n}-gram": ngram_bpc[n] for n in sorted({3, 6, best_n} & set(ngrams))})
print(f"uniform guess: {np.log2(tok.vocab_size):.2f} bpc   ({time.perf_counter() - t0:.0f} s)")
print(f"unigram      {results['unigram']:.3f} validation bits/char")
for n, bpc in ngram_bpc.items():
    print(f"KN {n:2d}-gram  {bpc:.3f} validation bits/char" + ("   <- best" if n == best_n else ""))

# %% [markdown]
# The order is chosen on the **validation** text. More context helps, with diminishing returns: each extra character of context splits
# the counts into more, sparser cells, and past some order the validation text holds
# almost no context seen in training. How far it pays depends on the text. This corpus,
# reference documentation, repeats phrases and whole passages ("Changed in version",
# grammar rules, the same explanation for several methods), so on the full corpus the
# orders keep paying far beyond the 5 or 6 that suit novels: a Kneser-Ney model with a
# context of a sentence is the baseline to beat. Validation bits/char against the order:

# %%
fig, ax = plt.subplots(figsize=(5, 2.8))
ax.plot(list(ngram_bpc), list(ngram_bpc.values()), "o-", color="#777")
ax.set_xscale("log", base=2)
ax.set_xlabel("n-gram order n (context of n-1 characters)")
ax.set_ylabel("validation bits/char")
ax.set_title(f"Kneser-Ney n-grams; best n = {best_n}")
plt.show()

# %% [markdown]
# Samples show what the numbers mean. A long n-gram's low bits/char comes from copying:
# its sample is stitched together from long stretches of the training text (section 8
# measures how much is copied).

# %%
rng = np.random.default_rng(0)
for n in (2, best_n):
    print(f"--- KN {n}-gram ---")
    print(ngrams[n].sample("The ", budget["sample_chars"], rng))

# %% [markdown]
# **Check:** more context must lower the bits/char, and the best n-gram must be far
# better than a uniform guess over the vocabulary.

# %%
best_ngram = ngram_bpc[best_n]
assert results["unigram"] > ngram_bpc[2] > ngram_bpc[3] > best_ngram, ngram_bpc
assert best_ngram < 0.6 * np.log2(tok.vocab_size)  # far better than a uniform guess

# %% [markdown]
# > **Common mistake: a "text GAN" whose generator emits continuous vectors.** The n-gram
# > above was fitted by maximum likelihood: count, normalise, done. Some articles describe
# > instead a GAN for text whose generator outputs a vector per position (a softmax over
# > the vocabulary) that a discriminator compares with real text. Two things get in the
# > way. (1) Real text is a sequence of *discrete* ids: turning the generator's output
# > into text means sampling or an arg-max, and neither has a gradient. (2) Fed the soft
# > vectors instead, the discriminator gets an easy cue: a real one-hot has an entry of
# > exactly 1, the softmax of a young generator does not.
#
# Both, in code:

# %%
V = 5
_ = torch.manual_seed(0)
logits = torch.randn(8, V, requires_grad=True)  # a "generator" output for 8 positions
ids = torch.multinomial(logits.softmax(-1), 1).squeeze(1)  # sampling: discrete tokens
one_hot = F.one_hot(ids, V).float()
print("sampled ids carry a gradient?", ids.requires_grad, "| one-hot grad_fn:", one_hot.grad_fn)
print("arg-max carries a gradient?", logits.argmax(-1).requires_grad)
soft = logits.softmax(-1)  # skip sampling: feed the soft vectors instead
real = F.one_hot(torch.randint(0, V, (8,)), V).float()
print("max entry, real one-hots:", real.max(1).values.tolist())
print("max entry, soft fakes:   ", [round(v, 2) for v in soft.max(1).values.tolist()])

# %% [markdown]
# The cue is not a law, though. A generator can learn large logit gaps, and in float32 a
# softmax then *is* an exact one-hot. The smallest gap (between the top logit and all the
# others) at which that happens, for this toy vocabulary and for ours:

# %%
gaps = torch.arange(0, 40, 0.25)
for n_vocab in (V, tok.vocab_size):
    z = torch.zeros(len(gaps), n_vocab)
    z[:, 0] = gaps  # one logit `gap` above all the others
    exact = z.softmax(-1).max(-1).values == 1.0  # float32: the largest entry is exactly 1
    first_gap = gaps[exact][0].item()
    print(f"V = {n_vocab:3d}: softmax is an exact one-hot from a logit gap of {first_gap:g}")
    assert 10 < first_gap < 30

# %% [markdown]
# So "is the largest entry 1?" does not separate real from fake whatever the generator
# learns, and text GANs do train: WGAN-GP (Gulrajani et al. 2017, Sec. 5) trained
# exactly this setup, a character-level generator emitting softmax vectors against a
# critic, and got text-like samples. The defensible claim is narrower: text GANs are
# hard to train, and when quality *and* diversity are measured together (sweeping the
# sampling temperature of a maximum-likelihood model to trace its whole trade-off curve),
# language GANs have not beaten maximum likelihood (Caccia et al. 2020). That is why
# this course, like every large language model, trains autoregressive models by
# maximising $\sum_t \log p(x_t \mid x_{<t})$, a smooth function of the parameters.

# %% [markdown]
# ## 4. Recurrent networks: the LSTM
#
# An n-gram forgets everything beyond $n-1$ characters. A recurrent network carries a
# state vector from step to step, so in principle it can remember arbitrarily far. The
# **LSTM** (Hochreiter & Schmidhuber 1997, with the forget gate of Gers et al. 2000)
# keeps a cell state $c_t$ that is changed only by gated, additive updates, which lets
# gradients survive many steps:
#
# $$\begin{aligned}
# i &= \sigma(W_{ii}x + b_{ii} + W_{hi}h + b_{hi}), &
# f &= \sigma(W_{if}x + b_{if} + W_{hf}h + b_{hf}),\\
# g &= \tanh(W_{ig}x + b_{ig} + W_{hg}h + b_{hg}), &
# o &= \sigma(W_{io}x + b_{io} + W_{ho}h + b_{ho}),\\
# c' &= f \odot c + i \odot g, & h' &= o \odot \tanh(c').
# \end{aligned}$$
#
# Here is one step written out, with the weights stacked in PyTorch's gate order
# (input, forget, cell, output):


# %%
def lstm_cell(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh):
    gates = x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh  # (B, 4H)
    i, f, g, o = gates.chunk(4, dim=1)
    c_next = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    h_next = torch.sigmoid(o) * torch.tanh(c_next)
    return h_next, c_next


# %% [markdown]
# **Check:** with the weights of a `torch.nn.LSTMCell` copied in, our step and the
# package's `LSTMCellScratch` give PyTorch's outputs, step after step.

# %% tags=["nbval-check-output"]
from aigc_course.models.rnn_lm import CharLSTM, LSTMCellScratch, LSTMConfig

torch.manual_seed(0)
ref = torch.nn.LSTMCell(6, 8)
pkg = LSTMCellScratch(6, 8)
pkg.load_state_dict(ref.state_dict())  # same names, shapes, gate order
x = torch.randn(5, 3, 6)
h = c = torch.zeros(3, 8)
state = None
for t in range(5):
    h, c = lstm_cell(x[t], h, c, *(p.detach() for p in ref.parameters()))
    state = ref(x[t], state)
    torch.testing.assert_close((h, c), state)
    torch.testing.assert_close(pkg(x[t], (h, c)), ref(x[t], (h, c)))
print("from-scratch LSTM cell == nn.LSTMCell over 5 steps")

# %% [markdown]
# For training we use `nn.LSTM`, which runs the same cell in optimised kernels (cuDNN on
# a GPU). `CharLSTM` is embedding → `nn.LSTM` → a linear head, with the course's
# language-model interface `logits, loss = model(idx, targets)`.
#
# **Truncated back-propagation through time.** Back-propagating through the whole
# 400,000-character corpus would need every activation in memory. Instead we train on
# windows of `block_size` characters: the gradient flows back at most that far. The
# *state* can still flow further: run consecutive windows and pass the final state of one
# as the initial state of the next, **detached** so the gradient stops at the window
# boundary. Our training loop uses independent random windows (zero initial state, the
# simplest form); the cell below shows the carried-state variant on three windows.

# %%
torch.manual_seed(0)
tiny_lstm = CharLSTM(LSTMConfig.tiny(tok.vocab_size))
stream = data.train_ids[: 3 * 32 + 1]
state = None
for w in range(3):
    x, y = stream[w * 32 : (w + 1) * 32][None], stream[w * 32 + 1 : (w + 1) * 32 + 1][None]
    logits, state = tiny_lstm.step(x, state)
    loss = F.cross_entropy(logits.view(-1, tok.vocab_size), y.view(-1))
    loss.backward()  # gradient reaches back to the start of this window only
    state = tuple(s.detach() for s in state)  # the state flows on, the gradient does not
    print(f"window {w}: loss {loss.item():.3f}, carried state {tuple(state[0].shape)}")

# %% [markdown]
# ## 5. The decoder-only Transformer
#
# The Transformer (Vaswani et al. 2017) replaces recurrence with **self-attention**:
# every position computes a query, a key and a value; position $t$ mixes the values of
# the positions it may see, weighted by $\operatorname{softmax}(q_t k_s^\top/\sqrt{d})$.
# For a language model, position $t$ may see only positions $\le t$: the **causal
# mask** sets the other scores to $-\infty$ before the softmax.


# %%
def causal_attention(q, k, v):
    T = q.size(-2)
    att = q @ k.transpose(-2, -1) / q.size(-1) ** 0.5  # (B, nh, T, T)
    mask = torch.ones(T, T, dtype=torch.bool).tril()  # position t sees 0..t
    att = att.masked_fill(~mask, float("-inf"))
    return att.softmax(-1) @ v  # (B, nh, T, hd)


# %% [markdown]
# **Check:** our three-line attention and the package's `attention` both equal PyTorch's
# fused kernel, `F.scaled_dot_product_attention(..., is_causal=True)`.

# %% tags=["nbval-check-output"]
from aigc_course.models.transformer_lm import GPT, GPTConfig, attention

torch.manual_seed(0)
q, k, v = torch.randn(3, 2, 4, 10, 8).unbind(0)  # (B=2, heads=4, T=10, head_dim=8)
ref = F.scaled_dot_product_attention(q, k, v, is_causal=True)
torch.testing.assert_close(causal_attention(q, k, v), ref)
torch.testing.assert_close(attention(q, k, v, causal=True), ref)
print("causal attention == F.scaled_dot_product_attention(is_causal=True)")

# %% [markdown]
# The package's `GPT` stacks this attention into GPT-2's architecture (Radford et al.
# 2019): token and **learned position** embeddings; blocks of *pre-LN* attention and a
# 4× MLP with the tanh-approximated GELU, each added to a residual stream; a final layer
# norm; an output layer **tied** to the token embedding. Every parameter carries GPT-2's
# Hugging Face name and layout, which notebook 06 uses to load our weights into
# `transformers`. Shapes and parameter count of a small configuration:

# %% tags=["nbval-check-output"]
cfg = GPTConfig.nanogpt_cpu(vocab_size=100)
gpt = GPT(cfg)
logits, loss = gpt(torch.zeros(2, 64, dtype=torch.long), torch.zeros(2, 64, dtype=torch.long))
print(cfg)
print("logits", tuple(logits.shape), "| parameters", f"{gpt.num_params():,}")
print([name for name, _ in gpt.named_parameters()][:8])

# %% [markdown]
# **A Transformer block, written out.** One block is layer norm → attention → add, then
# layer norm → MLP → add. Below it is written with the `causal_attention` from above and
# GPT-2's `Conv1D` (a linear layer whose weight is stored as `(in, out)`: $y = xW + b$).
# Named as the package names its parameters, it loads the package block's `state_dict`
# unchanged, and must give the same output.


# %%
from torch import nn

from aigc_course.models.transformer_lm import Conv1D


class MyBlock(nn.Module):
    def __init__(self, C, n_head):
        super().__init__()
        self.n_head = n_head
        self.ln_1, self.ln_2 = nn.LayerNorm(C), nn.LayerNorm(C)
        self.attn = nn.ModuleDict(dict(c_attn=Conv1D(C, 3 * C), c_proj=Conv1D(C, C)))
        self.mlp = nn.ModuleDict(dict(c_fc=Conv1D(C, 4 * C), c_proj=Conv1D(4 * C, C)))

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.attn.c_attn(self.ln_1(x)).split(C, dim=2)  # each (B, T, C)
        # (B, T, C) -> (B, n_head, T, C // n_head): each head attends on its own slice
        q, k, v = (t.view(B, T, self.n_head, -1).transpose(1, 2) for t in (q, k, v))
        y = causal_attention(q, k, v).transpose(1, 2).reshape(B, T, C)  # heads re-joined
        x = x + self.attn.c_proj(y)  # residual 1
        h = F.gelu(self.mlp.c_fc(self.ln_2(x)), approximate="tanh")  # GPT-2's GELU
        return x + self.mlp.c_proj(h)  # residual 2


# %% [markdown]
# **Check:** loaded with block 0 of the GPT above, `MyBlock` gives the package block's
# output.

# %% tags=["nbval-check-output"]
mine = MyBlock(cfg.n_embd, cfg.n_head)
mine.load_state_dict(gpt.transformer.h[0].state_dict())  # strict: same names and shapes
x = torch.randn(2, 16, cfg.n_embd, generator=torch.Generator().manual_seed(0))
with torch.no_grad():
    torch.testing.assert_close(mine(x), gpt.transformer.h[0](x)[0])
print("MyBlock == the package's Block, with its state_dict:", sorted(mine.state_dict())[:4], "…")

# %% [markdown]
# **Conv1D and `nn.Linear` store their weights transposed.** `nn.Linear(in, out)` keeps
# a weight of shape `(out, in)` and computes $xW^\top + b$; GPT-2's `Conv1D` keeps
# `(in, out)`. Loading GPT-2 weights into a model built from `nn.Linear` therefore means
# transposing four weights per block: `attn.c_attn`, `attn.c_proj`, `mlp.c_fc` and
# `mlp.c_proj` (the embeddings and layer norms are copied as they are). One of them:

# %% tags=["nbval-check-output"]
conv = gpt.transformer.h[0].attn.c_attn
lin = nn.Linear(cfg.n_embd, 3 * cfg.n_embd)
print("Conv1D weight", tuple(conv.weight.shape), "| nn.Linear weight", tuple(lin.weight.shape))
with torch.no_grad():
    lin.weight.copy_(conv.weight.T)  # (in, out) -> (out, in)
    lin.bias.copy_(conv.bias)
    torch.testing.assert_close(lin(x), conv(x))
print("nn.Linear with the transposed weight == Conv1D")

# %% [markdown]
# **Causal-leakage test.** Change the token at position $t+1$: the logits at positions
# $\le t$ must not move. This is the test to run on any language model you write.

# %%
torch.manual_seed(0)
small = GPT(GPTConfig.tiny(tok.vocab_size)).eval()
idx = torch.randint(0, tok.vocab_size, (1, 20))
edited = idx.clone()
edited[0, 11:] = (edited[0, 11:] + 1) % tok.vocab_size  # change positions 11..19
with torch.no_grad():
    diff = (small(idx)[0] - small(edited)[0]).abs().amax(-1)[0]  # (T,)
print(
    "max |Δlogits| at positions 0..10:",
    f"{diff[:11].max():.1e}",
    "| 11..19:",
    f"{diff[11:].min():.2f}",
)
assert diff[:11].max() < 1e-5 and diff[11:].min() > 1e-4

# %% [markdown]
# **The training loop, written out.** Before the package's `fit_lm`, the loop itself, ten
# lines: draw random windows of the training text, shift them by one for the targets,
# compute the loss, step AdamW. Fifty steps on the tiny model:

# %%
_ = torch.manual_seed(0)
model = GPT(GPTConfig.tiny(tok.vocab_size))
opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
gen, T, losses = torch.Generator().manual_seed(0), 32, []
for _ in range(50):
    starts = torch.randint(len(data.train_ids) - T - 1, (16,), generator=gen)
    xb = torch.stack([data.train_ids[i : i + T] for i in starts])  # (B, T) inputs
    yb = torch.stack([data.train_ids[i + 1 : i + T + 1] for i in starts])  # next characters
    _, loss = model(xb, yb)
    opt.zero_grad()
    loss.backward()
    opt.step()
    losses.append(loss.item())
first, last = np.mean(losses[:5]), np.mean(losses[-5:])
print(f"50 steps: loss {first:.2f} -> {last:.2f} nats (ln V = {np.log(tok.vocab_size):.2f})")
assert last < first - 0.5  # it learns: the loss falls well below the uniform guess

# %% [markdown]
# `fit_lm` is this loop with what a long run needs around it: the data kept on the
# model's device, a learning-rate warm-up and cosine decay, gradient clipping, mixed
# precision on a GPU, a time budget and callbacks. From here on we use it.

# %% [markdown]
# > **Common mistake: no causal mask.** Forget the mask and position $t$ can attend to
# > $t+1$, which *is* the target. The model learns to copy it: training loss falls to a
# > suspiciously low value (far below any honest model's), and the samples are useless,
# > because at generation time the next character is not there to copy.
#
# We train the same tiny model twice, for the same number of steps, with and without the
# mask:

# %%
from dataclasses import replace

from aigc_course.training.lm import LMTrainConfig, fit_lm

mask_cfg = LMTrainConfig(
    steps=budget["mask_steps"], batch_size=16, block_size=32, lr=1e-2, min_lr=1e-2, warmup=10
)
demo_models, demo_hist = {}, {}
for causal in (True, False):
    torch.manual_seed(0)
    m = GPT(replace(GPTConfig.tiny(tok.vocab_size), causal=causal)).to(device)
    demo_hist[causal] = fit_lm(m, data.train_ids, mask_cfg)
    demo_models[causal] = m.cpu()
final = {c: np.mean(h["loss"][-10:]) / np.log(2) for c, h in demo_hist.items()}
print(f"final training loss, masked:   {final[True]:.2f} bits/char")
print(f"final training loss, no mask:  {final[False]:.2f} bits/char  <- too good to be true")

# %% [markdown]
# Now sample from both models. The masked model writes something text-like; the
# unmasked one, deprived at generation time of the future it learned to copy, writes noise.

# %%
from aigc_course.sampling import generate

prompt = torch.tensor([tok.encode("The ", unknown="replace")])
for causal, m in demo_models.items():
    seed0 = torch.Generator().manual_seed(0)
    out = generate(m, prompt, budget["sample_chars"], temperature=0.8, generator=seed0)
    print(f"--- {'masked' if causal else 'no mask'} ---\n{tok.decode(out[0])}")
if budget["mask_steps"] >= 500:  # copying the future takes a few hundred steps to find
    assert final[False] < 0.5 * final[True]  # the leak: a training loss too good to be true

# %% [markdown]
# ### Generation with a KV cache
#
# Sampling $T$ tokens by re-running the model on the whole prefix costs $O(T^2)$ token
# passes. But the keys and values of earlier positions never change (the mask guarantees
# it), so `GPT.step` keeps them in a **KV cache** and computes only the new position.
# `generate` uses the cache by default; its output is the same token for token as full
# recomputation. (Beyond `block_size`, where learned positions end, both fall back to
# recomputing a sliding window, so the demo stays within the block: a model with a
# 256-character context, filled from a one-character prompt.)

# %%
_ = torch.manual_seed(0)
kv_block = by_mode(smoke=64, workshop=256, full=256)
gen_model = GPT(GPTConfig(tok.vocab_size, block_size=kv_block, n_layer=4, n_head=4, n_embd=128))
one_char = torch.tensor([tok.encode("T")])
timings, outputs = {}, {}
n_new = kv_block - 1  # fill the context exactly: no sliding window
for use_cache in (True, False):
    t0 = time.perf_counter()
    seed1 = torch.Generator().manual_seed(1)
    outputs[use_cache] = generate(gen_model, one_char, n_new, generator=seed1, use_cache=use_cache)
    timings[use_cache] = time.perf_counter() - t0
assert torch.equal(outputs[True], outputs[False])
print(f"{n_new} new tokens, context {outputs[True].size(1)} <= block_size {kv_block}")
print("cached == recomputed:", torch.equal(outputs[True], outputs[False]))
speedup = timings[False] / timings[True]
print(f"time with cache {timings[True]:.2f} s, without {timings[False]:.2f} s ({speedup:.1f}x)")
if kv_block >= 256:  # recomputing does ~T/2 token passes per new token, the cache one
    assert speedup > 2, timings

# %% [markdown]
# ## 6. Training both families for the same wall-clock time
#
# `fit_lm` is a plain loop: random windows from the token stream (kept on the device),
# AdamW, warm-up then cosine decay, gradient clipping, and autocast on a GPU. We give an
# LSTM and a Transformer of similar size **the same wall-clock budget** and watch the
# loss against the clock. (On a busy shared machine the step counts differ from run to
# run; the budget is what is held equal.) A small callback records the training clock
# at every step; callbacks run off the clock.


# %%
from aigc_course.training.core import Callback


class StepTimes(Callback):
    def on_start(self, state):
        self.seconds = []

    def on_step(self, state):
        self.seconds.append(state.clock.seconds)  # training time so far, evaluations excluded


race_cfg = LMTrainConfig(batch_size=16, block_size=64, lr=3e-3, min_lr=3e-3, warmup=20)
race_cfg = replace(race_cfg, steps=budget["steps"], max_seconds=budget["seconds"])
width = budget["width"]
torch.manual_seed(0)
lstm_cfg = LSTMConfig(tok.vocab_size, width // 2, hidden_size=2 * width, num_layers=1)
lstm = CharLSTM(replace(lstm_cfg, block_size=64)).to(device)
torch.manual_seed(0)
gpt = GPT(GPTConfig(tok.vocab_size, block_size=64, n_layer=2, n_head=4, n_embd=width)).to(device)
racers = {"LSTM": lstm, "Transformer": gpt}
hist, clocks = {}, {}
for name, m in racers.items():
    clocks[name] = StepTimes()
    hist[name] = fit_lm(m, data.train_ids, race_cfg, callbacks=[clocks[name]])

# %% [markdown]
# The training curves against the training clock, in bits per character (nats divided
# by $\ln 2$), smoothed over 10 steps:

# %%
from aigc_course.plot import plot_curves

curves = {k: np.array(h["loss"]) / np.log(2) for k, h in hist.items()}
seconds = {k: c.seconds for k, c in clocks.items()}
ax = plot_curves(curves, smooth=10, x=seconds, xlabel="training time (s)", ylabel="bits/char")
ax.axhline(ngram_bpc[3], color="#999", ls=":", label="KN 3-gram (validation)")
same = f"{budget['seconds']} s" if budget["seconds"] else f"{budget['steps']} steps"
ax.set_title(f"training loss, same budget each ({same}), {session.device}")
ax.legend(frameon=False)
plt.show()

# %% [markdown]
# The race as a table: size, steps done, seconds, **validation** bits/char (the whole
# validation text, scored as in section 8) and the start of a sample (temperature 0.8).

# %%
from aigc_course.metrics.text import bits_per_char
from aigc_course.sampling import generate

prompt = torch.tensor([tok.encode("The ", unknown="replace")])
race = {}
print(f"{'model':11s} {'params':>8s} {'steps':>6s} {'seconds':>7s}  val bpc  sample")
for name, m in racers.items():
    h, m = hist[name], m.cpu()
    race[name] = bits_per_char(m, val_ids)
    out = generate(m, prompt, 40, temperature=0.8, generator=torch.Generator().manual_seed(0))
    sample = repr(tok.decode(out[0]))
    print(
        f"{name:11s} {m.num_params():8,} {h.steps:6d} {h.seconds:7.1f}  {race[name]:7.3f}  {sample}"
    )
leader = min(race, key=race.get)
print(f"lower validation bits/char after the same time: {leader}")

# %% [markdown]
# At this size and budget the model that takes more steps per second tends to lead: a
# step of the LSTM costs less than a step of the Transformer on a CPU, and in a short
# race the number of updates matters more than the architecture. The table says which one
# led in this run; section 8 compares long-trained models.
#
# **Check:** the loss fell, and not merely to what a unigram model knows: a model that
# got at least 1,000 steps must beat the Kneser-Ney 3-gram on the validation text. The
# budget is wall-clock time, so on a busy machine a model may get fewer steps; it must
# then still beat the 2-gram (and in smoke mode, with 80 steps, the unigram). The cell
# prints which bar applied.

# %%
for name, bpc in race.items():
    n_steps = hist[name].steps
    bar_name = "unigram" if n_steps < 200 else "KN 2-gram" if n_steps < 1000 else "KN 3-gram"
    bar = {"unigram": results["unigram"], "KN 2-gram": ngram_bpc[2], "KN 3-gram": ngram_bpc[3]}
    print(
        f"{name}: {bpc:.3f} validation bits/char after {n_steps} steps; bar: {bar_name} {bar[bar_name]:.3f}"
    )
    assert bpc < bar[bar_name], (name, bpc, bar_name)

# %% [markdown]
# ## 7. Sampling: greedy, temperature, top-k, top-p
#
# A model gives a distribution over the next character; a **decoding strategy** turns it
# into a choice. The package's samplers are pure functions of the logits and a
# `torch.Generator` (same generator state, same ids):
#
# - **greedy**: the arg-max; deterministic, and prone to loops;
# - **temperature** $T$: sample from $\operatorname{softmax}(z/T)$; $T\to 0$ is greedy,
#   $T>1$ flattens;
# - **top-k** (Fan et al. 2018): keep the $k$ most likely tokens;
# - **top-p / nucleus** (Holtzman et al. 2020): keep the smallest set whose probability
#   reaches $p$, so the number kept adapts to how sure the model is.
#
# From here on we use the **pretrained** models committed with the course (made by the
# recorded recipes, `aigc-course recipes --list`; see section 8).

# %%
from aigc_course.loading import load_pretrained

pre = {}
for name in ("char_lstm", "char_transformer"):
    model, meta = load_pretrained(name, device)
    pre[name] = (model, meta["tokenizer"], meta)
    src = f"{meta['data']['source']} (sha256 {meta['data']['sha256'][:12]}…)"
    print(f"{name}: {model.num_params():,} params, recipe `{meta['recipe']}`, trained on {src}")

# %% [markdown]
# One context, one next-character distribution. A strategy only matters where the model
# is unsure, so we pick, among a few contexts, the one whose next character has the
# highest **entropy** $H = -\sum_c p(c)\log_2 p(c)$ under the pretrained Transformer.

# %%
from aigc_course.sampling import sample_next, top_k_filter, top_p_filter

tmodel, ttok, _ = pre["char_transformer"]


@torch.no_grad()
def next_char_logits(context):
    ctx = torch.tensor([ttok.encode(context, unknown="replace")], device=device)
    return tmodel(ctx)[0][:, -1, :].float().cpu()  # (1, V)


def entropy_bits(z):
    return -(z.softmax(-1) * z.log_softmax(-1)).sum().item() / np.log(2)


candidates = ["The return value of the functi", "The ", "is called with ", "See also "]
entropies = {c: entropy_bits(next_char_logits(c)) for c in candidates}
for c, h in entropies.items():
    print(f"{c!r:34s} H = {h:.2f} bits")
context = max(entropies, key=entropies.get)
next_logits = next_char_logits(context)
print(f"panel context: {context!r}")
assert entropies[context] > 2 * min(entropies.values())


# %% [markdown]
# `show_distribution` applies the package's filters to that distribution and draws the
# most likely characters (`␣` is the space, `⏎` the newline), with the entropy after
# filtering and the number of characters kept.


# %%
def shown_char(ch):
    return {" ": "␣", "\n": "⏎"}.get(ch, ch)


def show_distribution(ax, temperature=1.0, top_k=None, top_p=None, n=12):
    z = next_logits / max(temperature, 1e-3)
    z = top_k_filter(z, top_k) if top_k else z
    z = top_p_filter(z, top_p) if top_p else z
    p = z.softmax(-1)[0]
    kept = int(torch.isfinite(z).sum())
    top = p.topk(n)
    ax.bar([shown_char(ttok.chars[i]) for i in top.indices], top.values)
    ax.set_ylim(0, 1)
    h = -(p[p > 0] * p[p > 0].log2()).sum().item()
    ax.set_title(
        f"T={temperature}, top-k={top_k}, top-p={top_p}\nH={h:.2f} bits, {kept} kept", fontsize=9
    )
    return ax


# %% [markdown]
# The panel shows how each strategy reshapes that next-character distribution (static
# figure, drawn at fixed settings): temperature 2 flattens it (higher entropy, every
# character kept); top-k and top-p then cut the tail, top-p keeping as many characters as
# it takes to reach 90 % of the mass.

# %%
fig, axes = plt.subplots(1, 4, figsize=(13, 2.8), sharey=True)
hot = dict(temperature=2.0)
settings = [dict(), hot, dict(hot, top_k=3), dict(hot, top_p=0.9)]
for ax, kw in zip(axes, settings, strict=True):
    show_distribution(ax, **kw)
axes[0].set_ylabel("probability")
plt.tight_layout()
plt.show()
assert entropy_bits(next_logits / 2.0) > entropy_bits(next_logits)  # T = 2 flattens
assert torch.isfinite(top_p_filter(next_logits / 2.0, 0.9)).sum() < next_logits.size(-1) - 1

# %% [markdown]
# In JupyterLab you can move the sliders below to explore; when the notebook runs without
# a live kernel (the book, CI) only the static figure above is shown.

# %%
try:
    import ipywidgets as W

    def _panel(temperature, top_k, top_p):
        fig, ax = plt.subplots(figsize=(6, 2.6))
        show_distribution(ax, temperature, top_k or None, top_p if top_p < 1 else None)
        plt.show()

    W.interact(
        _panel,
        temperature=W.FloatSlider(value=1.0, min=0.1, max=3.0, step=0.1),
        top_k=W.IntSlider(value=0, min=0, max=20),
        top_p=W.FloatSlider(value=1.0, min=0.05, max=1.0, step=0.05),
    )
except ImportError:
    print("ipywidgets is not installed: the static figure above shows the same panel")

# %% [markdown]
# **Property checks** (the unit tests check these for random logits): temperature 0 is
# the arg-max; top-k and top-p never emit an excluded token; a fixed generator gives
# fixed ids.

# %%
z = next_logits.expand(500, -1)
assert torch.equal(sample_next(z, temperature=0), z.argmax(-1))
allowed_k = set(z[0].topk(3).indices.tolist())
drawn = sample_next(z, temperature=2.0, top_k=3, generator=torch.Generator().manual_seed(0))
assert set(drawn.tolist()) <= allowed_k
nucleus = torch.isfinite(top_p_filter(z[:1] / 2.0, 0.9))[0]
drawn = sample_next(z, temperature=2.0, top_p=0.9, generator=torch.Generator().manual_seed(0))
assert nucleus[drawn].all()
a = sample_next(z, generator=torch.Generator().manual_seed(5))
assert torch.equal(a, sample_next(z, generator=torch.Generator().manual_seed(5)))
print("sampler properties hold")

# %% [markdown]
# The same prompt, four strategies, the pretrained Transformer:

# %%
prompt_text = "The with statement"
p_ids = torch.tensor([ttok.encode(prompt_text, unknown="replace")])
strategies = {
    "greedy": dict(temperature=0),
    "T=0.8": dict(temperature=0.8),
    "T=0.8, top-k=10": dict(temperature=0.8, top_k=10),
    "T=1.0, top-p=0.9": dict(temperature=1.0, top_p=0.9),
}
from aigc_course.metrics.text import repetition_rate

repeats = {}
for name, kw in strategies.items():
    seed0 = torch.Generator().manual_seed(0)
    out = generate(tmodel, p_ids, budget["sample_chars"], generator=seed0, **kw)
    text = ttok.decode(out[0].cpu())
    repeats[name] = repetition_rate(text[len(prompt_text) :], 8, "char")
    print(f"--- {name} (repeated 8-grams {repeats[name]:.0%}) ---\n{text}\n")
assert repeats["greedy"] == max(repeats.values()), repeats

# %% [markdown]
# Greedy decoding falls into a loop: it has the largest share of character 8-grams that
# repeat an earlier one. Sampling at moderate temperature, with or without a cut-off,
# repeats less. Likelihood cannot tell you which decoding is best; diversity measures
# (section 8, over many samples) and human judgement can.
#
# ## 8. Evaluation: choose on validation, report on test
#
# Every model is scored on the same held-out characters: the **validation** part, on
# which the choices above were made, and the **test** part, on which nothing was chosen.
# One pass over the held-out text scores both: the test part follows the validation part
# in the corpus, so its first characters keep their real preceding text as context. For
# the networks we slide a window over the text so every character is predicted with at
# least half a window of history. (In smoke mode the models of this notebook use a prefix
# of the corpus, and everything is scored on slices of the real held-out parts.)

# %%
from aigc_course.metrics.text import sequence_nll

full = data if budget["max_chars"] is None else prepare_corpus("pydoc")
n_val = len(full.val_text) if budget["val_chars"] is None else budget["val_chars"]
n_test = len(full.test_text) if budget["test_chars"] is None else budget["test_chars"]
held = full.val_text[len(full.val_text) - n_val :] + full.test_text[:n_test]
is_test = np.arange(1, len(held)) >= n_val  # one entry per predicted character (2nd on)


def net_bits(m, mtok):
    """Bits of every predicted character of `held`, and which ones m's vocabulary knows."""
    ids_, seen = mtok.encode_with_mask(held, unknown="replace")
    return sequence_nll(m, torch.tensor(ids_)).numpy() / np.log(2), np.asarray(seen[1:])


bits, known, val_here = {}, np.array([ch in tok.stoi for ch in held[1:]]), {}
for name, m in (("LSTM (trained here)", lstm), ("Transformer (trained here)", gpt)):
    bits[name], _ = net_bits(m, tok)
for name, (m, ptok, meta) in pre.items():
    bits[f"{name} (pretrained)"], seen = net_bits(m, ptok)
    known &= seen
    if budget["val_chars"] is None and budget["test_chars"] is None:  # the recipe's figure:
        # recorded on the whole held-out 10 % before the test part was set apart, or on
        # the validation part by a recipe run since (its sidecar then counts test_chars)
        where_rec = ~is_test if "test_chars" in meta["data"] else np.ones_like(is_test)
        own = bits[f"{name} (pretrained)"][seen & where_rec].mean()
        val_here[name] = bits[f"{name} (pretrained)"][seen & ~is_test].mean()
        rec, m_ = meta["metrics"]["val_bits_per_char"], meta["metrics"]
        cost = f"{m_['train_cpu_seconds'] / 60:.1f} CPU-min on {meta['threads']} thread"
        cost += f", PyTorch {meta['torch_version']}"
        print(f"{name}: {own:.4f} bits/char here, {rec:.4f} recorded by its recipe ({cost})")
        assert abs(own - rec) < 0.01, (name, own, rec)

# %% [markdown]
# **Choosing on validation, for the pretrained recipes too.** Their dropout was first
# chosen on the whole held-out 10 %, the test part included. The recipe
# `aigc-course recipes char_selection` makes that choice again on the validation part
# alone. It compares each recipe's earlier value with one below and one above it, with
# everything else unchanged (same model, steps, batches and seed). The rule was fixed
# before the runs: the lowest validation bits/char wins. The earlier value's own
# checkpoint was scored rather than retrained; the other values were trained from
# scratch:

# %%
_, selection = load_pretrained("char_selection")
print(f"rule: {selection['rule']}; seed {selection['seed']}, every value at the recipe's steps")
for name, choice in selection["chosen"].items():
    print(name)
    for n, dropout, bpc, _, source in selection["rows"]:
        if n == name:
            print(f"  dropout {dropout:4g}: {bpc:.3f} bits/char on validation ({source})")
    shipped = pre[name][2]["config"]["dropout"]
    print(f"  chosen: dropout {choice['dropout']:g}; the shipped checkpoint has {shipped:g}")
    assert shipped == choice["dropout"], name
for name, here in val_here.items():  # full and workshop modes: the same text, scored here
    shipped = pre[name][2]["config"]["dropout"]
    rec = next(r[2] for r in selection["rows"] if r[0] == name and r[1] == shipped)
    print(f"{name}: {here:.4f} bits/char on validation here, {rec:.4f} in the record")
    assert abs(here - rec) < 0.01, (name, here, rec)

# %% [markdown]
# The Transformer keeps its dropout of 0.1: both neighbours are worse by a tenth of a bit
# per character or more. For the LSTM, 0.45 beats 0.35 by only 0.004 bits/char with
# one seed, far inside the spread between seeds of the recipes in the appendix (about
# 0.03), so on this evidence the two are equally good. The rule was fixed in advance, so
# the recipe now uses 0.45 and the shipped LSTM was retrained with it; in workshop and
# full modes the last lines above confirm it is the selection's model (the same
# validation figure). 0.45 lies at the edge of the grid: larger values were not tried.

# %% [markdown]
# The count models score the same characters. The usual character baseline is an order
# of about 6; `best_n` is the order chosen on validation in section 3.

# %%
base_n = max(n for n in ngrams if n <= 6)  # 6 (smoke mode: the largest order fitted)
bits["unigram"] = -UnigramLM(tok).fit(data.train_text).log2_probs(held)[1:]
for n in sorted({3, base_n, best_n}):
    bits[f"KN {n}-gram"] = -ngrams[n].log2_probs(held)[1:]
val_mask, test_mask = known & ~is_test, known & is_test
table = {name: (b[val_mask].mean(), b[test_mask].mean()) for name, b in bits.items()}
table = dict(sorted(table.items(), key=lambda kv: -kv[1][1]))
print(f"{full.corpus.summary}")
print(f"{val_mask.sum():,} validation and {test_mask.sum():,} test characters scored\n")
print(f"{'bits/char':30s} {'validation':>10s} {'test':>7s}")
for name, (v, t) in table.items():
    print(f"{name:30s} {v:10.3f} {t:7.3f}")

# %% [markdown]
# The headline figures, on the test part, in one chart: grey the count models, blue the
# LSTMs, orange the Transformers.

# %%
names = list(table)
colours = [
    "C0" if "LSTM" in n or "lstm" in n else "C1" if "ransformer" in n else "#999" for n in names
]
fig, ax = plt.subplots(figsize=(8, 3.4))
ax.barh(names, [table[n][1] for n in names], color=colours)
ax.invert_yaxis()
ax.set_xlabel("test bits/char (lower is better)")
ax.set_title(
    f"{full.corpus.name} sha256 {full.corpus.sha256[:12]}…, {test_mask.sum():,} test chars"
)
plt.tight_layout()
plt.show()

# %% [markdown]
# **How much of the held-out text is copied from the training text?** The **overlap
# rate** is the share of characters that lie inside a string of at least 32 characters
# that also occurs, verbatim, in the training text. Documentation repeats itself
# ("Changed in version", the same explanation for several types), and how much depends on
# the topics:

# %%
from aigc_course.metrics.text import verbatim_overlap

copied = verbatim_overlap(held, full.train_text, min_len=32)[1:]  # per predicted character
overlap = {
    part: copied[mask].mean() for part, mask in (("validation", val_mask), ("test", test_mask))
}
for part, rate in overlap.items():
    print(f"{part}: {rate:.1%} of the characters lie inside a 32+ character training string")

# %% [markdown]
# Where does each model win? On the test characters inside a copied string and on the
# others, the long n-gram against the two pretrained networks:

# %%
long_ng = f"KN {best_n}-gram"
contenders = [long_ng, *(f"{name} (pretrained)" for name in pre)]
where = {}
print(f"{'test characters':24s} {'share':>6s} " + " ".join(f"{c[:22]:>22s}" for c in contenders))
for part, sel in (("inside a copied string", copied), ("elsewhere", ~copied)):
    m = test_mask & sel
    where[part] = {c: bits[c][m].mean() for c in contenders}
    row = " ".join(f"{where[part][c]:22.3f}" for c in contenders)
    print(f"{part:24s} {m.sum() / test_mask.sum():6.1%} {row}")

# %% [markdown]
# The same comparison character by character, on the first 300 test characters: each
# cell is one character, coloured by the LSTM's bits minus the long n-gram's bits (blue:
# the network predicts it better; red: the n-gram does; `␣` is a space, `⏎` a newline).

# %%
first = int(np.flatnonzero(test_mask)[0])
span = slice(first, first + 300)
delta = np.where(known[span], bits["char_lstm (pretrained)"][span] - bits[long_ng][span], 0.0)
fig, ax = plt.subplots(figsize=(12, 2.4))
ax.imshow(delta.reshape(5, 60), cmap="RdBu_r", vmin=-6, vmax=6, aspect="auto")
for i, ch in enumerate(held[1:][span]):
    ax.text(i % 60, i // 60, shown_char(ch), ha="center", va="center", fontsize=7)
ax.set_axis_off()
ax.set_title(f"bits(char_lstm) - bits({long_ng}) per test character", fontsize=9)
plt.show()
for part, sel in (("inside a copied string", copied[span]), ("elsewhere", ~copied[span])):
    print(f"{part}: {sel.sum()} characters, mean difference {delta[sel].mean():+.2f} bits")

# %% [markdown]
# **Is a difference real?** A gap of a few hundredths of a bit per character could be
# luck of the test text. Two models score the *same* characters, so we look at the
# per-character difference and resample it. Neighbouring characters are not independent
# (a passage a model knows is easy for many characters in a row), so we resample whole
# blocks of 1,000 characters (a block bootstrap, Künsch 1989); resampling single
# characters would give an interval several times too narrow.

# %%
from aigc_course.metrics.text import paired_block_bootstrap

block = min(1000, int(test_mask.sum()) // 20)
pairs = [(f"{n} (pretrained)", f"KN {k}-gram") for n in pre for k in sorted({base_n, best_n})]
pairs.append(("char_lstm (pretrained)", "char_transformer (pretrained)"))
diffs = {}
for a, b in pairs:
    diffs[a, b] = paired_block_bootstrap(bits[a][test_mask], bits[b][test_mask], block=block)
    d, lo, hi = diffs[a, b]
    print(f"{a} - {b}: {d:+.3f} bits/char, 95 % interval [{lo:+.3f}, {hi:+.3f}]")

# %% [markdown]
# Two models right in different places are **complementary**: mixing their
# probabilities, $p = \lambda\,p_\text{net} + (1-\lambda)\,p_\text{n-gram}$, beats both.
# We choose $\lambda$ on the validation part and report on the test part.


# %%
def mixed_bits(lam, net, ng):
    """Bits/char of the mixture lam * p_net + (1 - lam) * p_ngram, from each one's bits."""
    return -np.log2(lam * 2.0**-net + (1 - lam) * 2.0**-ng).mean()


lams = np.linspace(0, 1, 21)
ng_val, ng_test = bits[long_ng][val_mask], bits[long_ng][test_mask]
mixed = {}
for name in pre:
    net = bits[f"{name} (pretrained)"]
    lam = lams[np.argmin([mixed_bits(v, net[val_mask], ng_val) for v in lams])]
    mixed[name] = (net[test_mask].mean(), ng_test.mean(), mixed_bits(lam, net[test_mask], ng_test))
    parts_ = f"{name} {mixed[name][0]:.3f}, {long_ng} {mixed[name][1]:.3f}"
    print(f"test: {parts_}, mixed (lambda = {lam:.2f}, chosen on validation) {mixed[name][2]:.3f}")

# %% [markdown]
# Samples side by side, same prompt and settings (temperature 0.8, top-k 20):

# %%
n_chars = budget["sample_chars"]
rows = {long_ng: ngrams[best_n].sample(prompt_text, n_chars, np.random.default_rng(0))}
for name, (m, ptok, _) in pre.items():
    ids_ = torch.tensor([ptok.encode(prompt_text, unknown="replace")])
    seed0 = torch.Generator().manual_seed(0)
    out = generate(m, ids_, n_chars, temperature=0.8, top_k=20, generator=seed0)
    rows[name] = ptok.decode(out[0].cpu())
for name, text in rows.items():
    print(f"--- {name} ---\n{text}\n")

# %% [markdown]
# Likelihood measures how well a model predicts real text; **diversity** measures judge
# its samples: *distinct-4* (share of unique character 4-grams, after Li et al. 2016),
# *repetition* (share of character 8-grams that repeat an earlier one in the same sample)
# and *novelty* (share of character 12-grams not found in the training text; 0 means
# copying). One sample says little, so each model draws eight samples per decoder (eight
# seeds, as one batch); we report the mean ± standard deviation over the samples
# (novelty pooled over them).

# %%
from aigc_course.metrics.text import distinct_n, novelty

n_seeds = by_mode(smoke=2, workshop=8, full=8)
decoders = {
    "T=0.8, top-k 20": dict(temperature=0.8, top_k=20),
    "T=1": {},
    "top-p 0.9": dict(top_p=0.9),
}
samples = {}
for name, (m, ptok, _) in pre.items():
    ids_ = torch.tensor([ptok.encode(prompt_text, unknown="replace")] * n_seeds)
    for dec, kw in decoders.items():
        out = generate(m, ids_, n_chars, generator=torch.Generator().manual_seed(0), **kw)
        samples[name, dec] = [ptok.decode(o)[len(prompt_text) :] for o in out.cpu()]
rng = np.random.default_rng(0)
samples[long_ng, "counts"] = [
    ngrams[best_n].sample(prompt_text, n_chars, rng)[len(prompt_text) :] for _ in range(n_seeds)
]
print(f"{'model, decoder':36s} {'distinct-4':>12s} {'repetition':>12s} {'novelty':>8s}")
diversity = {}
for (name, dec), texts in samples.items():
    d4 = np.array([distinct_n([t], 4, "char") for t in texts])
    rep = np.array([repetition_rate(t, 8, "char") for t in texts])
    diversity[name, dec] = (d4.mean(), rep.mean(), novelty(texts, data.train_text, n=12))
    print(
        f"{name + ', ' + dec:36s} {d4.mean():5.2f} ± {d4.std():4.2f} {rep.mean():5.2f} ± {rep.std():4.2f} {diversity[name, dec][2]:8.2f}"
    )

# %% [markdown]
# **Quality bands**, asserted below. In every mode the best pretrained network beats the
# long n-gram on the test text scored here. On the whole held-out text (workshop and full
# modes), each pretrained model reproduces its recipe's recorded figure (above), and on
# the test part:
#
# - each beats the Kneser-Ney 6-gram, the usual character baseline, with the bootstrap
#   interval of the difference entirely below zero;
# - against the long n-gram chosen on validation, each interval contains zero: this test
#   text cannot separate them;
# - on the test characters inside a copied string the long n-gram is ahead of both
#   networks, elsewhere both networks are ahead of it;
# - each mixture (weight chosen on validation) beats both of its parts by 0.05 bits/char;
# - the pretrained LSTM is ahead of the pretrained Transformer, its interval below zero;
# - the test part copies far more of the training text than the validation part (over
#   20 % of its characters against under 10 %), and every count model and pretrained
#   network finds the validation part harder.
#
# **What the measurements say.** Copying explains most of the picture: a long n-gram
# memorises every string of the training text, so where the test text repeats it, it
# predicts almost perfectly, while a network of one to three million parameters cannot
# store it all and wins on the text that is new. The two are right in different places,
# which is why their mixture beats both. At this data size the LSTM is ahead of the
# Transformer (their recorded costs above were measured with different PyTorch versions,
# so do not compare them; section 6 compares the families at equal time); "this
# data size" is small, as the measurement after the checks shows: a Transformer still
# gains from every doubling of the text. And because the two held-out parts differ so
# much in overlap, a figure means little without its split and its corpus hash.

# %%
pre_test = {name: table[f"{name} (pretrained)"][1] for name in pre}
assert min(pre_test.values()) < table[long_ng][1], (pre_test, table[long_ng])
if budget["val_chars"] is None and budget["test_chars"] is None:  # the whole held-out text
    inside, elsewhere = where["inside a copied string"], where["elsewhere"]
    for name in pre:
        net = f"{name} (pretrained)"
        assert diffs[net, f"KN {base_n}-gram"][2] < 0, diffs  # interval below zero
        assert diffs[net, long_ng][1] < 0 < diffs[net, long_ng][2], diffs  # contains zero
        assert inside[long_ng] < inside[net] and elsewhere[net] < elsewhere[long_ng], where
        assert mixed[name][2] < min(mixed[name][:2]) - 0.05, (name, mixed[name])
    assert diffs["char_lstm (pretrained)", "char_transformer (pretrained)"][2] < 0, diffs
    assert overlap["test"] > 0.2 and overlap["validation"] < 0.1, overlap
    count_or_pre = [n for n in table if "trained here" not in n]
    assert all(table[n][0] > table[n][1] for n in count_or_pre), table
print("quality bands hold")

# %% [markdown]
# ### Does more text help? A small data-scaling measurement
#
# "At this data size" is a claim about data, so it deserves a measurement. The record
# `text_scaling` (written by `aigc-course recipes text_scaling`, one thread on a CPU)
# trained the quick recipe of the appendix (4 layers × 128, 2,000 steps of 12 windows of
# 64 characters, about two CPU-minutes) on the first 25 %, 50 % and 100 % of the training
# text, each cut after the last blank line before that share (pydoc's topics are too few
# and long to cut between them), with seeds 0 and 1. Every run takes the **same number
# of steps**: equal compute, so the smaller shares are read more times over. Beside it, Kneser-Ney models fitted on the same shares, their order chosen on the
# validation part at each share. All are scored on the test part, in bits/char.

# %%
_, scaling_record = load_pretrained("text_scaling")
scaling = scaling_record["data_scaling"]
gpt_rows, kn_rows = scaling["gpt"], scaling["kn"]
gpt_test = {}  # share -> test bits/char of each seed
for r in gpt_rows:
    gpt_test.setdefault(r["fraction"], []).append(r["test_bits_per_char"])
print("share  training chars  passes  GPT test bits/char (each seed)  KN order  KN test")
for kn in kn_rows:
    f = kn["fraction"]
    passes = next(r["passes"] for r in gpt_rows if r["fraction"] == f)
    each = ", ".join(f"{v:.3f}" for v in gpt_test[f])
    line = f"{f:5.0%}  {kn['train_chars']:14,d}  {passes:6.1f}  {each:>30s}"
    print(f"{line}  {kn['order']:8d}  {kn['test_bits_per_char']:.3f}")
cpu = [r["train_cpu_seconds"] for r in gpt_rows]
steps_each = {r["steps"] for r in gpt_rows}
print(f"GPT runs: {steps_each} steps each, {min(cpu):.0f}-{max(cpu):.0f} CPU-s each")
print(f"Kneser-Ney orders scanned on validation: {scaling['kn_orders']}")

# %%
chars = np.array([kn["train_chars"] for kn in kn_rows])
fig, ax = plt.subplots(figsize=(6.5, 3.6))
for x, kn in zip(chars, kn_rows, strict=True):
    ax.scatter([x] * len(gpt_test[kn["fraction"]]), gpt_test[kn["fraction"]], color="C0", s=16)
    ax.annotate(
        f"n={kn['order']}",
        (x, kn["test_bits_per_char"]),
        xytext=(4, 4),
        textcoords="offset points",
        fontsize=8,
        color="C1",
    )
ax.plot(chars, [np.mean(v) for v in gpt_test.values()], "C0-", label="quick GPT (dots: seeds)")
kn_test = [kn["test_bits_per_char"] for kn in kn_rows]
ax.plot(chars, kn_test, "C1s--", label="Kneser-Ney, order chosen on validation")
ax.set_xscale("log")
ax.set_xticks(chars, labels=[f"{x / 1000:.0f}k" for x in chars])
ax.margins(x=0.1)
ax.minorticks_off()
ax.set_xlabel("training characters (log scale)")
ax.set_ylabel("test bits/char")
d = scaling_record["data"]
ax.set_title(
    f"{d['corpus']} sha256 {d['sha256'][:12]}…, test part, {scaling_record['mode']} "
    f"mode, seeds {scaling_record['seeds']}",
    fontsize=9,
)
ax.legend(frameon=False, fontsize=8)
plt.show()
# %% [markdown]
# How much each model gained from the smallest share to the whole training text, on
# both held-out parts, and how far apart the two seeds are:

# %%
gpt_val = {}
for r in gpt_rows:
    gpt_val.setdefault(r["fraction"], []).append(r["val_bits_per_char"])
kn_val = [kn["val_bits_per_char"] for kn in kn_rows]
shares, gains = list(gpt_test), {}
for part, gpt, kn in (("validation", gpt_val, kn_val), ("test", gpt_test, kn_test)):
    gains[part] = (np.mean(gpt[shares[0]]) - np.mean(gpt[shares[-1]]), kn[0] - kn[-1])
    ahead = all(k < min(gpt[f]) for f, k in zip(shares, kn, strict=True))
    spread = max(max(v) - min(v) for v in gpt.values())
    line = f"{part:10s} {shares[0]:.0%} -> {shares[-1]:.0%}: GPT {gains[part][0]:.2f} lower"
    print(
        f"{line} (seed spread up to {spread:.2f}), KN {gains[part][1]:.2f} lower; KN ahead at every share: {ahead}"
    )

# %% [markdown]
# **What the figure shows.** Every doubling of the training text lowers the test
# bits/char of both models, and neither curve has flattened at the whole training text:
# text of this kind is what these models lack. The quick GPT does **not** gain more from
# data than Kneser-Ney here: on both parts the n-gram gains as much or more, and it stays
# ahead of the quick GPT at every share. Two reasons. The test part copies much of the
# training text (section 8), and each added share gives the n-gram more strings to
# copy (its chosen order at the larger shares is the longest scanned, 32). And the GPT's
# compute is fixed, about two CPU-minutes whatever the share: it reads the smallest share
# some fifteen times and over-fits it, the whole text under four times, so part of its
# gain comes from repeating itself less, not only from more text. The pretrained
# networks of section 8, trained for much longer, do tie the long n-gram. With two seeds
# these are observations: the seed spread is small next to the gains between shares, but
# not next to the difference between the two models' gains.

# %%
for small, large in zip(gpt_test[shares[0]], gpt_test[shares[-1]], strict=True):
    assert large < small - 0.1, gpt_test  # more text, lower test bits/char, each seed
assert np.all(np.diff([np.mean(v) for v in gpt_test.values()]) < 0), gpt_test
assert np.all(np.diff(kn_test) < 0) and len(steps_each) == 1, (kn_test, steps_each)
assert all(kn[1] >= kn[0] for kn in gains.values()), gains  # KN gains as much or more
assert all(k < min(gpt_test[f]) for f, k in zip(shares, kn_test, strict=True)), kn_test
print("each share of text helps both models; the n-gram gains at least as much")


# %% [markdown]
# ## 9. Inside the pretrained Transformer: what it attends to
#
# Attention weights can be read off directly: for each layer and head, the softmax of
# the scaled query-key scores. We feed the pretrained Transformer a passage of the test
# text **twice in a row**. Large language models develop *induction heads* (Olsson et
# al. 2022) that, in the second copy, attend to the character *after* the same one in
# the first copy, and so predict the repeat almost for free. Does this small model?


# %%
@torch.no_grad()
def attention_maps(model, idx):
    """(n_layer, n_head, T, T) attention weights of a course GPT on idx (1, T)."""
    tr, T = model.transformer, idx.size(1)
    x = tr.wte(idx) + tr.wpe(torch.arange(T, device=idx.device))
    maps = []
    for blk in tr.h:
        q, k, _ = blk.attn.c_attn(blk.ln_1(x)).split(x.size(-1), dim=2)
        q, k = (t.view(1, T, blk.attn.n_head, -1).transpose(1, 2) for t in (q, k))
        att = q @ k.transpose(-2, -1) / q.size(-1) ** 0.5  # (1, nh, T, T)
        causal = torch.ones(T, T, dtype=torch.bool, device=idx.device).tril()
        maps.append(att.masked_fill(~causal, float("-inf")).softmax(-1)[0])
        x = blk(x)[0]  # on to the next layer
    return torch.stack(maps).cpu()


passage = full.test_text[2000:2060]
rep_ids = torch.tensor([ttok.encode(passage + passage, unknown="replace")], device=device)
A = attention_maps(tmodel, rep_ids)
n = len(passage)
t2 = torch.arange(n, 2 * n - 1)  # positions of the second copy
prev_score = A[:, :, torch.arange(1, 2 * n), torch.arange(2 * n - 1)].mean(-1)  # (L, nh)
copy_score = A[:, :, t2, t2 - n + 1].mean(-1)  # to the character after the same one
L, H = divmod(int(prev_score.argmax()), A.size(1))
rep_bits = sequence_nll(tmodel, rep_ids[0]).numpy() / np.log(2)
print(f"strongest previous-character head: layer {L}, head {H}, weight {prev_score.max():.2f}")
print(
    f"strongest induction-like head: weight {copy_score.max():.3f} (uniform: ~{1 / (1.5 * n):.3f})"
)
print(
    f"bits/char, first copy {rep_bits[: n - 1].mean():.2f}, second copy {rep_bits[n - 1 :].mean():.2f}"
)

# %% [markdown]
# The maps of that previous-character head and of one head of the last layer, over the
# two copies (row: the attending position; column: the position attended to):

# %%
fig, axes = plt.subplots(1, 2, figsize=(8, 3.8))
for ax, (layer, head) in zip(axes, [(L, H), (A.size(0) - 1, 0)], strict=True):
    ax.imshow(A[layer, head], cmap="Greys", vmin=0, vmax=1)
    ax.axvline(n - 0.5, color="C1", lw=0.8)
    ax.axhline(n - 0.5, color="C1", lw=0.8)
    ax.set_title(f"layer {layer}, head {head}", fontsize=9)
    ax.set_xlabel("attended position")
axes[0].set_ylabel("attending position")
plt.tight_layout()
plt.show()

# %% [markdown]
# One head of the first layer looks almost only at the previous character, the simplest
# attention pattern. No head attends from the second copy to the matching place in the
# first (the induction score is of the order of a uniform weight), and the second copy
# costs only a little less than the first: at this size and with 420,000 characters of
# training text, the model has not learned to copy a passage it has just read.

# %%
assert prev_score.max() > 0.8 and copy_score.max() < 0.1, (prev_score, copy_score)
assert rep_bits[n - 1 :].mean() < rep_bits[: n - 1].mean()

# %% [markdown]
# ## Exercises
#
# Write each answer in the cell under its task, then run the self-check below it. The
# solutions are hidden: in a new cell, `from aigc_course.exercises import show_solution`
# and `show_solution("05.units")` (or the id of another exercise) print one when you want it.
#
# **Exercise 1 (implement).** Bits per character, nats and perplexity are the same quantity in
# different units. Write `bpc_to_perplexity(bpc)` (the per-character perplexity,
# $2^{\text{bpc}}$) and `nats_to_bpc(nats)`; use them to express the training loss
# $1.0$ nats as bits/char and the perplexity of a model at 1.5 bits/char.


# %%
def bpc_to_perplexity(bpc):
    raise NotImplementedError  # your code here: the perplexity of a model at `bpc` bits/char


def nats_to_bpc(nats):
    raise NotImplementedError  # your code here: `nats` per character, in bits per character


# %% [markdown]
# Self-check:

# %%
from aigc_course.exercises import check

check("05.units", (bpc_to_perplexity, nats_to_bpc), vocab_size=tok.vocab_size)

# %% [markdown]
# **Exercise 2 (implement).** Write your own `my_top_k(logits, k)` that sets every logit
# outside the $k$ largest of its row to $-\infty$ (logits are `(B, V)`). The self-check
# compares it with the package's `top_k_filter`, ties included.


# %%
def my_top_k(logits, k):
    raise NotImplementedError  # your code here: a (B, V) tensor, -inf outside each row's top k


# %% [markdown]
# Self-check:

# %%
check("05.top_k", my_top_k)

# %% [markdown]
# **Exercise 3 (predict, then run).** Remove the causal mask in `causal_attention` above
# (write `leaky_attention`, the same without the `masked_fill`) and run the
# causal-leakage test on it directly: change the keys and values of positions 7..9 of a
# 10-position sequence. Which positions' outputs change? Predict first, then measure, and
# write the positions in `moved_positions`.


# %%
def leaky_attention(q, k, v):
    raise NotImplementedError  # your code here: causal_attention without the mask


moved_positions = None  # the positions (0..9) whose output changes, e.g. [.., ..]

# %% [markdown]
# Self-check:

# %%
check("05.causal_leak", (leaky_attention, moved_positions), causal_attention=causal_attention)

# %% [markdown]
# **Exercise 4 (implement).** One step of generation with a KV cache. Write
# `kv_step(q, k, v, cache)`: `q`, `k`, `v` are the query, key and value of the *one*
# new position, each `(B, n_head, 1, head_dim)`; `cache` is `None` at the first step,
# else the `(keys, values)` of all earlier positions, each `(B, n_head, T_past,
# head_dim)`. Return the attention output of the new position, `(B, n_head, 1,
# head_dim)`, and the cache with the new position appended. The self-check runs it step
# by step and compares every output with full causal attention over the whole sequence.


# %%
def kv_step(q, k, v, cache):
    raise NotImplementedError  # your code here: return y, (keys, values)


# %% [markdown]
# Self-check:

# %%
check("05.kv_step", kv_step)

# %% [markdown]
# ## Summary
#
# - The chain rule is exact in any order; language models read left to right because
#   text is written and prompted that way. Sampling discrete tokens has no gradient, and
#   text GANs, though trainable, have not beaten maximum likelihood.
# - Baselines first: smoothed n-grams set the bar in bits/char; long n-grams copy a
#   repetitive corpus, so measure the overlap between evaluation and training text.
# - An LSTM cell is a few lines; `nn.LSTM` runs it fast; truncated BPTT bounds how far the
#   gradient flows, not how far the state flows.
# - Causal self-attention equals PyTorch's `scaled_dot_product_attention(is_causal=True)`;
#   a model without the mask reports a too-good loss and samples garbage; a KV cache makes
#   generation cheaper without changing a single token.
# - Decoding is a choice separate from the model: greedy, temperature, top-k, top-p;
#   judge it over many samples, not one.
# - Attention weights can be read directly; a small model shows a previous-character
#   head but no copying of a passage it has just read.
# - Choose on validation, report on a test split nothing was chosen on; compare models on
#   the same characters with a block bootstrap, and name the split and the corpus hash.
#
# Command line: `python -m aigc_course sample char-transformer --prompt "The " --max-new-chars
# 200 --temperature 0.8 --top-k 20 --seed 0` and `python -m aigc_course evaluate char-lstm
# --text-file FILE` (one JSON line with bits/char and the count of unseen characters).
#
# ## References
#
# - Hochreiter & Schmidhuber (1997). Long short-term memory. *Neural Computation* 9(8).
# - Gers, Schmidhuber & Cummins (2000). Learning to forget: continual prediction with LSTM.
# - Kneser & Ney (1995). Improved backing-off for m-gram language modeling. *ICASSP*.
# - Chen & Goodman (1999). An empirical study of smoothing techniques for language modeling.
# - Vaswani et al. (2017). Attention is all you need. *NeurIPS*.
# - Radford et al. (2019). Language models are unsupervised multitask learners (GPT-2).
# - Fan, Lewis & Dauphin (2018). Hierarchical neural story generation (top-k sampling).
# - Holtzman et al. (2020). The curious case of neural text degeneration. *ICLR*.
# - Li et al. (2016). A diversity-promoting objective function for neural conversation
#   models (distinct-n).
# - Karpathy, nanoGPT (2022): its README's CPU settings are the appendix's reference.
# - Yang et al. (2019). XLNet: generalized autoregressive pretraining for language
#   understanding. *NeurIPS*.
# - Gulrajani et al. (2017). Improved training of Wasserstein GANs. *NeurIPS*.
# - Caccia et al. (2020). Language GANs falling short. *ICLR*.
# - Olsson et al. (2022). In-context learning and induction heads. *Transformer Circuits
#   Thread*.
# - Künsch (1989). The jackknife and the bootstrap for general stationary observations.
#   *Annals of Statistics*.

# %% [markdown]
# ## Appendix: the nanoGPT reference recipe
#
# How the course's Transformer recipe compares with a well-known reference. The
# reference is **nanoGPT's CPU settings** from its README (4 layers × 128, 4 heads, block
# 64, batch 12, 2,000 iterations, learning rate 1e-3 → 1e-4 with 100 warm-up steps)
# applied to the **course's model** on the course's corpus: unlike nanoGPT's own run, the
# model keeps its biases and uses the tanh approximation of GELU, and it is evaluated on
# the whole validation part rather than on 20 random batches. Beside it, the course's
# **quick recipe**: the same model, batches and number of steps (so the same work), with
# twice the peak learning rate and 50 warm-up steps. Both were trained one after the
# other, in one process, by `aigc-course recipes char_benchmarks`. Their recorded figures
# are bits/char on the whole validation part of section 8 (the pretrained checkpoints
# recorded theirs before the test part was set apart, on the whole held-out 10 %: not
# the same text, so not comparable with these):

# %%
_, benches = load_pretrained("char_benchmarks")
bench, quick = benches["nanogpt_cpu_reference"], benches["course_quick_transformer"]
for label, b in (("nanoGPT settings", bench), ("course quick recipe", quick)):
    m = b["metrics"]
    work = f"{m['val_bits_per_char']:.3f} bpc after {m['steps_done']} steps"
    took = f"{m['train_cpu_seconds']:.0f} CPU-s ({m['train_seconds']:.0f} s wall)"
    print(f"{label:19s} {work}, {took} on {b['threads']} thread, lr {b['train_config']['lr']:g}")
print(f"corpus sha256 {bench['data']['sha256'][:12]}…, Python {bench['data']['python_version']}")

# %% [markdown]
# One seed could be lucky. The same recipe repeated both with two more seeds (other
# initial weights, other batches):

# %%
keys = ("nanogpt_cpu_reference", "course_quick_transformer")
by_seed = {0: {k: benches[k]["metrics"]["val_bits_per_char"] for k in keys}}
for seed, key, bpc, _ in benches["replicates"]["rows"]:
    by_seed.setdefault(seed, {})[key] = bpc
print("seed  nanoGPT  quick  difference")
for seed, r in by_seed.items():
    gap = r["course_quick_transformer"] - r["nanogpt_cpu_reference"]
    print(
        f"{seed:4d}  {r['nanogpt_cpu_reference']:.3f}    {r['course_quick_transformer']:.3f}  {gap:+.3f}"
    )

# %% [markdown]
# Every recipe also recorded its held-out bits/char *during* training (the evaluations'
# own time left off the clock). That compares recipes **at equal time**, on the same
# text only: the pretrained recipes were scored on the whole held-out 10 %, the two
# benchmark recipes on the validation part, which is harder (section 8). Hence two
# panels, each with the long n-gram on its own text. The time axis is the process's **CPU time** on one thread: on an idle
# core it is the wall-clock, and unlike the wall-clock it does not depend on what else
# the machine is running. Note the logarithmic time axis.

# %%
fig, axes = plt.subplots(1, 2, figsize=(9, 3.6), sharex=True, sharey=True)
curves = {
    "pretrained recipes, held-out 10 %": (
        [(f"{n} (pretrained)", m, ".-") for n, (_, _, m) in pre.items()],
        bits[long_ng][known].mean(),
    ),
    "benchmark recipes, validation part": (
        [("nanoGPT settings", bench, "k*--"), ("quick recipe", quick, "C1x:")],
        bits[long_ng][val_mask].mean(),
    ),
}
for ax, (title, (runs, ng)) in zip(axes, curves.items(), strict=True):
    for label, meta, style in runs:
        rows = np.array(meta["val_curve"]["rows"])  # wall s, CPU s, step, bits/char
        ax.plot(rows[:, 1] / 60, rows[:, 3], style, ms=6, lw=1, label=label)
    ax.axhline(ng, color="#999", ls=":", label=f"{long_ng}, same text")
    ax.set_title(title, fontsize=9)
    ax.set_xlabel("CPU minutes (one thread, log scale)")
    ax.legend(frameon=False, fontsize=8)
axes[0].set_xscale("log")
ticks = [t for t in (0.5, 1, 2, 5, 10, 20, 50, 100) if t <= axes[0].get_xlim()[1]]
axes[0].set_xticks(ticks, labels=[f"{t:g}" for t in ticks])
axes[0].minorticks_off()
axes[0].set_ylim(top=3.2)
axes[0].set_ylabel("bits/char")
plt.show()

# %% [markdown]
# Read off at the nanoGPT settings' training time (the last evaluation within it). The
# pretrained recipes are planned for several times longer (their CPU time is printed in
# section 8), so at that point they are early in their schedules (high learning rate,
# still warming up); the comparison at equal time is the quick recipe's, which is
# planned for the same time as the reference.

# %%
ref_cpu, ref_bpc = bench["metrics"]["train_cpu_seconds"], bench["metrics"]["val_bits_per_char"]
print(f"nanoGPT settings: {ref_bpc:.3f} bpc after {ref_cpu:.0f} CPU-s (validation part)")
at_ref = {}
for name, meta in [*((n, m) for n, (_, _, m) in pre.items()), ("quick recipe", quick)]:
    rows = np.array(meta["val_curve"]["rows"])
    upto = rows[rows[:, 1] <= ref_cpu]  # evaluations within the reference's time
    if len(upto):
        at_ref[name] = upto[-1, 3]
        text = "validation part" if meta is quick else "held-out 10 %"
        print(f"{name}: {upto[-1, 3]:.3f} bpc after {upto[-1, 1]:.0f} CPU-s ({text})")

# %% [markdown]
# **Check:** the quick recipe took no more time than the nanoGPT settings and reached a
# lower validation bits/char, with every seed: with the same model, batches and number of
# steps, only the learning-rate schedule differs.

# %%
assert quick["metrics"]["train_cpu_seconds"] <= ref_cpu * 1.05  # no more time
assert quick["metrics"]["val_bits_per_char"] < ref_bpc - 0.05
assert all(r["course_quick_transformer"] < r["nanogpt_cpu_reference"] for r in by_seed.values())
print("the quick recipe beats the nanoGPT settings in no more time, with every seed")
