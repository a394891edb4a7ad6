"""``aigc-course sample dcgan`` and ``aigc-course evaluate dcgan``.

Examples::

    python -m aigc_course sample dcgan --n 64 --seed 0 --out samples.npz
    python -m aigc_course sample dcgan --n 16 --digit 7 --out sevens.png
    python -m aigc_course evaluate dcgan --conditional
"""

from __future__ import annotations

import argparse

from . import CommandError, ModelCommand, image_output, save_samples


def _sample_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--n", type=int, default=64, help="number of samples (default 64)")
    p.add_argument("--seed", type=int, default=0, help="noise seed: same seed, same samples")
    p.add_argument("--out", required=True, help="output file: .npz (arrays) or .png (a grid)")
    p.add_argument(
        "--digit", type=int, default=None, help="generate this digit (uses the conditional model)"
    )
    p.add_argument(
        "--conditional",
        action="store_true",
        help="use the conditional model with labels 0..9 in turn",
    )


def _sample(args: argparse.Namespace) -> int:
    import torch

    from ..loading import load_pretrained
    from ..models.gan import sample_images

    if not 1 <= args.n <= 100_000:
        raise CommandError(f"--n must be between 1 and 100000, got {args.n}")
    if args.seed < 0:
        raise CommandError(f"--seed must be >= 0, got {args.seed}")
    if args.digit is not None and not 0 <= args.digit <= 9:
        raise CommandError(f"--digit must be 0..9, got {args.digit}")
    out = image_output(args.out)
    conditional = args.conditional or args.digit is not None
    G, _ = load_pretrained("cdcgan_mnist" if conditional else "dcgan_mnist")
    labels = None
    if conditional:
        labels = (
            torch.full((args.n,), args.digit)
            if args.digit is not None
            else torch.arange(args.n) % 10
        )
    images = sample_images(G, args.n, labels=labels, seed=args.seed)  # (N, 1, 28, 28) in [0, 1]
    save_samples(out, images, labels)
    what = f"digit {args.digit}" if args.digit is not None else ("0..9" if conditional else "")
    print(f"wrote {args.n} samples {what} to {out}".replace("  ", " "))
    return 0


def _evaluate_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--conditional", action="store_true", help="evaluate the conditional model")


def _evaluate(args: argparse.Namespace) -> int:
    from ..data import load_mnist
    from ..loading import load_pretrained
    from ..metrics.image import EVAL_CLASSIFIER, evaluate_generator

    G, meta = load_pretrained("cdcgan_mnist" if args.conditional else "dcgan_mnist")
    classifier, cmeta = load_pretrained(EVAL_CLASSIFIER)
    data = load_mnist()
    metrics = evaluate_generator(G, classifier, data.x_test)
    print(f"classifier test accuracy {cmeta['metrics']['test_accuracy']:.4f} ({data.source})")
    for key, value in metrics.items():
        recorded = meta["metrics"].get(key)
        print(f"{key:22s} {value:10.4f}   (recorded {recorded:.4f})")
    return 0


COMMANDS = [
    ModelCommand(
        "dcgan",
        "DCGAN on MNIST (unconditional; --digit D uses the conditional model)",
        add_sample_args=_sample_args,
        sample=_sample,
        add_evaluate_args=_evaluate_args,
        evaluate=_evaluate,
    )
]
