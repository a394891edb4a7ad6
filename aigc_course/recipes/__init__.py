"""Recorded recipes: the only code that writes ``aigc_course/pretrained/``.

A recipe trains from scratch (``full`` mode settings, on the GPU when there is one) and
writes one or more committed artifacts, each with a JSON sidecar that records the
command that made it. :data:`REGISTRY` lists every recipe, **in the order they must run**
(the MNIST classifier first: the GAN recipes score with it), and every artifact a notebook
reads is written by exactly one of them. ``make checkpoints`` runs them all::

    aigc-course recipes --list
    aigc-course recipes vae_mnist
    aigc-course recipes --all          # what `make checkpoints` runs

Loading is not done here: use :func:`aigc_course.loading.load_pretrained`. Data preparation
lives in :mod:`aigc_course.data`, scoring protocols in :mod:`aigc_course.metrics`.
Importing this module imports no torch: each recipe is named by ``module:function`` and
imported only when it runs.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Recipe:
    """One recorded recipe: its name, the function that runs it, what it writes."""

    name: str
    target: str  # "package.module:function"; called with no arguments
    writes: tuple[str, ...]  # the artifacts (names in aigc_course/pretrained/) it makes
    help: str

    def load(self) -> Callable[[], object]:
        module, _, func = self.target.partition(":")
        return getattr(importlib.import_module(module), func)


_R = "aigc_course.recipes"

#: Every recipe, in the order ``--all`` runs them.
REGISTRY: tuple[Recipe, ...] = (
    Recipe(
        "mnist_classifier",
        f"{_R}.gan:mnist_classifier",
        ("mnist_classifier",),
        "the MNIST classifier behind the image metrics (FID features, confident share)",
    ),
    Recipe(
        "bernoulli_mixture_mnist",
        f"{_R}.orientation:make",
        ("bernoulli_mixture_mnist",),
        "the 30-component Bernoulli mixture of notebook 00",
    ),
    Recipe(
        "gan_ring_8gaussians",
        f"{_R}.gan:gan_ring_8gaussians",
        ("gan_ring_8gaussians",),
        "vanilla GAN vs WGAN-GP on the 8-Gaussian ring, three seeds (notebook 01)",
    ),
    Recipe(
        "dcgan_mnist",
        f"{_R}.gan:dcgan_mnist",
        ("dcgan_mnist", "dcgan_mnist_history"),
        "the DCGAN on MNIST and its training curves (notebook 02)",
    ),
    Recipe(
        "cdcgan_mnist",
        f"{_R}.gan:cdcgan_mnist",
        ("cdcgan_mnist", "cdcgan_mnist_history"),
        "the conditional DCGAN on MNIST and its curves (notebooks 02 and 09)",
    ),
    Recipe(
        "dcgan_reference_mnist",
        f"{_R}.gan:dcgan_reference_mnist",
        ("dcgan_reference_mnist",),
        "the PyTorch tutorial's DCGAN recipe at the course recipe's time (notebook 02)",
    ),
    Recipe(
        "vae_mnist",
        f"{_R}.vae:make_vae_mnist",
        ("vae_mnist",),
        "the MLP VAE on MNIST with its IWAE (k = 1000) figures (notebook 03)",
    ),
    Recipe(
        "vae_mnist_2d",
        f"{_R}.vae:make_vae_mnist_2d",
        ("vae_mnist_2d",),
        "the 2-D latent VAE for the manifold figure (notebook 03)",
    ),
    Recipe(
        "diffusion_ring_8gaussians",
        f"{_R}.diffusion:diffusion_ring_8gaussians",
        ("diffusion_ring_8gaussians",),
        "flow-matching and DDPM MLPs on the 8-Gaussian ring, GAN seeds, NFE curves (notebook 04)",
    ),
    Recipe(
        "cdiffusion_mnist",
        f"{_R}.diffusion_mnist:make_cdiffusion_mnist",
        ("cdiffusion_mnist", "cdiffusion_mnist_history"),
        "the class-conditional flow-matching U-Net and its guidance curve (notebook 04)",
    ),
    Recipe(
        "diffusion_mnist",
        f"{_R}.diffusion_mnist:make_diffusion_mnist",
        ("diffusion_mnist", "diffusion_mnist_history"),
        "the unconditional flow-matching U-Net and its quality-vs-steps curve (notebook 04)",
    ),
    Recipe(
        "diffusion_reference_mnist",
        f"{_R}.diffusion_mnist:make_diffusion_reference_mnist",
        ("diffusion_reference_mnist",),
        "the diffusers class-conditioned recipe at the course recipe's CPU time (notebook 04)",
    ),
    Recipe(
        "char_lstm",
        f"{_R}.text:make_char_lstm",
        ("char_lstm",),
        "the character LSTM on the pydoc corpus (notebooks 05 and 06)",
    ),
    Recipe(
        "char_transformer",
        f"{_R}.text:make_char_transformer",
        ("char_transformer",),
        "the character Transformer on the pydoc corpus (notebooks 05 and 06)",
    ),
    Recipe(
        "char_benchmarks",
        f"{_R}.text:make_char_benchmarks",
        ("char_benchmarks",),
        "the nanoGPT CPU recipe beside the course's quick recipe at equal time, three seeds",
    ),
    Recipe(
        "char_selection",
        f"{_R}.text:make_char_selection",
        ("char_selection",),
        "the pretrained char recipes' dropout re-chosen on the validation part alone",
    ),
    Recipe(
        "text_scaling",
        f"{_R}.text_scaling:make_text_scaling",
        ("text_scaling",),
        "the quick GPT and Kneser-Ney on 25/50/100 % of the text; characters vs BPE at equal CPU",
    ),
    Recipe(
        "product_copy_lm",
        f"{_R}.business:make_product_copy_lm",
        ("product_copy_lm",),
        "the conditional product-copy Transformer of case study 10",
    ),
    Recipe(
        "canary_lm",
        f"{_R}.business:make_canary_lm",
        ("canary_lm",),
        "the catalog Transformer with planted canaries of case study 12",
    ),
    Recipe(
        "faq_answerer",
        f"{_R}.business:make_faq_answerer",
        ("faq_answerer",),
        "the retrieval-augmented FAQ answerer (char Transformer fine-tuned) of case study 11",
    ),
    Recipe(
        "chorale_transformer",
        f"{_R}.music:make_chorale_transformer",
        ("chorale_transformer",),
        "the Transformer on Bach chorale grid tokens, its n-gram baseline and theory table",
    ),
    Recipe(
        "adapt_data_efficiency",
        f"{_R}.adapt:make_data_efficiency",
        ("adapt_data_efficiency",),
        "scratch vs full fine-tuning vs LoRA on 50..2,600 copy examples (notebook 07)",
    ),
    Recipe(
        "adapt_lora_ranks",
        f"{_R}.adapt:make_lora_ranks",
        ("adapt_lora_ranks",),
        "LoRA at ranks 1..64 vs full fine-tuning at equal steps (notebook 07)",
    ),
    Recipe(
        "adapt_sft",
        f"{_R}.adapt_instruct:make_adapt_sft",
        ("adapt_sft",),
        "instruction tuning (all weights), response-masked vs unmasked, three seeds (notebook 07)",
    ),
    Recipe(
        "adapt_dpo",
        f"{_R}.adapt_instruct:make_adapt_dpo",
        ("adapt_copy_sft", "adapt_dpo", "adapt_dpo_lora"),
        "DPO against invented claims in product copy, beta chosen on validation (notebook 07)",
    ),
)

RECIPES: dict[str, Recipe] = {r.name: r for r in REGISTRY}


def recipe_for(artifact: str) -> Recipe:
    """The recipe that writes ``artifact`` (a name in ``aigc_course/pretrained/``)."""
    for r in REGISTRY:
        if artifact in r.writes:
            return r
    raise KeyError(f"no recipe writes {artifact!r}")
