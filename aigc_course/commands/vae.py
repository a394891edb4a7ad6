"""``aigc-course sample vae`` and ``aigc-course evaluate vae``: the committed VAE.

    python -m aigc_course sample vae --n 64 --seed 0 --out samples.npz   # or .png
    python -m aigc_course evaluate vae --n-importance 1000

Torch and the model are imported inside the handlers, so ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import json

from . import CommandError, ModelCommand, image_output, save_samples

MODELS = ("vae_mnist", "vae_mnist_2d")
MAX_SAMPLES = 100_000
MAX_K = 100_000


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--model", default="vae_mnist", help=f"committed checkpoint: {', '.join(MODELS)}"
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the random draws (default 0)")
    p.add_argument("--device", default=None, help="cpu, cuda, mps (default: AIGC_DEVICE or best)")


def _check_model(name: str) -> None:
    if name not in MODELS:
        raise CommandError(
            f"--model {name!r} is not a committed VAE; use one of {', '.join(MODELS)}"
        )


def _sample_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--n", type=int, default=64, help="number of samples (default 64)")
    p.add_argument(
        "--out", required=True, help="output file: .npz (float32 (N,1,28,28) in [0,1]) or .png"
    )
    _common(p)


def _sample(args: argparse.Namespace) -> int:
    _check_model(args.model)
    if not 1 <= args.n <= MAX_SAMPLES:
        raise CommandError(f"--n must be between 1 and {MAX_SAMPLES}, got {args.n}")
    if args.seed < 0:
        raise CommandError(f"--seed must be >= 0, got {args.seed}")
    out = image_output(args.out)
    if not out.parent.is_dir():
        raise CommandError(f"--out {out}: the folder {out.parent} does not exist")

    import torch

    from ..device import get_device, model_device
    from ..loading import load_pretrained

    model, meta = load_pretrained(args.model, get_device(args.device))
    g = torch.Generator(device=model_device(model)).manual_seed(args.seed)
    images = model.sample(args.n, g).cpu()  # (N, 1, 28, 28) decoder means in [0, 1]
    save_samples(out, images)
    print(
        f"wrote {args.n} samples of {args.model} (seed {args.seed}, trained on "
        f"{meta.get('data_source', '?')}) to {out}"
    )
    return 0


def _evaluate_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--n-importance",
        type=int,
        default=1000,
        help="importance samples k of the IWAE estimate (default 1000)",
    )
    p.add_argument("--n-test", type=int, default=None, help="score only the first N test images")
    _common(p)


def _evaluate(args: argparse.Namespace) -> int:
    _check_model(args.model)
    k = args.n_importance
    if not 1 <= k <= MAX_K:
        raise CommandError(f"--n-importance must be between 1 and {MAX_K}, got {k}")
    if args.n_test is not None and args.n_test < 1:
        raise CommandError(f"--n-test must be >= 1, got {args.n_test}")
    if args.seed < 0:
        raise CommandError(f"--seed must be >= 0, got {args.seed}")

    from ..data import load_mnist
    from ..device import get_device
    from ..loading import load_pretrained
    from ..training.vae import PROTOCOL, evaluate, fixed_binarization

    model, meta = load_pretrained(args.model, get_device(args.device))
    data = load_mnist(verbose=False)  # evaluate() moves the images to the model's device
    x = data.x_test if args.n_test is None else data.x_test[: args.n_test]
    metrics = evaluate(model, fixed_binarization(x), k, seed=args.seed)
    record = {
        "model": args.model,
        "data_source": data.source,
        "trained_on": meta.get("data_source"),
        "protocol": PROTOCOL,
        "n_test": metrics["n_test"],
        "k": k,
        "seed": args.seed,
        "test_elbo_nats": round(metrics["test_elbo"], 3),
        f"test_iwae_k{k}_nats": round(metrics[f"test_iwae_k{k}"], 3),
        "test_nll_iwae_nats": round(metrics["test_nll_iwae"], 3),
    }
    print(json.dumps(record))
    return 0


COMMANDS = [
    ModelCommand(
        "vae",
        "VAE on binarised MNIST (chapter 03)",
        add_sample_args=_sample_args,
        sample=_sample,
        add_evaluate_args=_evaluate_args,
        evaluate=_evaluate,
    )
]
