"""``aigc-course sample diffusion`` and ``aigc-course evaluate diffusion``.

Examples::

    python -m aigc_course sample diffusion --n 64 --seed 0 --out samples.npz
    python -m aigc_course sample diffusion --n 16 --digit 7 --out sevens.png
    python -m aigc_course sample diffusion --n 100 --conditional --steps 10 --guidance 2 --out g.png
    python -m aigc_course evaluate diffusion --conditional

The unconditional model is ``diffusion_mnist``; ``--digit`` and ``--conditional`` use the
class-conditional ``cdiffusion_mnist``. Without ``--steps`` / ``--guidance`` the sampler
settings recorded in the checkpoint (chosen on validation digits) are used.
"""

from __future__ import annotations

import argparse
import math

from . import CommandError, ModelCommand, image_output, save_samples

UNCONDITIONAL, CONDITIONAL = "diffusion_mnist", "cdiffusion_mnist"
MAX_STEPS = 1000


def _guidance(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--guidance must be a number, got {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"--guidance must be a finite number >= 0, got {text!r}")
    return value


def _model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--digit", type=int, default=None, help="generate this digit (the conditional model)"
    )
    p.add_argument(
        "--conditional", action="store_true", help="the conditional model, digits 0..9 in turn"
    )
    p.add_argument("--steps", type=int, default=None, help="solver steps (default: recorded)")
    p.add_argument(
        "--guidance",
        type=_guidance,
        default=None,
        help="classifier-free guidance scale, 1 = none (default: recorded; conditional only)",
    )


def _sample_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--n", type=int, default=64, help="number of samples (default 64)")
    p.add_argument("--seed", type=int, default=0, help="noise seed: same seed, same samples")
    p.add_argument("--out", required=True, help="output file: .npz (arrays) or .png (a grid)")
    _model_args(p)


def _check(args: argparse.Namespace) -> bool:
    if args.digit is not None and not 0 <= args.digit <= 9:
        raise CommandError(f"--digit must be 0..9, got {args.digit}")
    if args.steps is not None and not 1 <= args.steps <= MAX_STEPS:
        raise CommandError(f"--steps must be between 1 and {MAX_STEPS}, got {args.steps}")
    conditional = args.conditional or args.digit is not None
    if args.guidance is not None and not conditional:
        raise CommandError("--guidance needs the conditional model: add --conditional or --digit")
    return conditional


def _load(conditional: bool, args: argparse.Namespace):
    from dataclasses import replace

    from ..diffusion.images import SamplerSpec
    from ..loading import load_pretrained

    model, meta = load_pretrained(CONDITIONAL if conditional else UNCONDITIONAL)
    spec = SamplerSpec(**meta["sampler"])
    if args.steps is not None:
        spec = replace(spec, steps=args.steps)
    if args.guidance is not None:
        spec = replace(spec, guidance=args.guidance)
    return model, meta, spec


def _sample(args: argparse.Namespace) -> int:
    import torch

    from ..diffusion.images import sample_digits

    if not 1 <= args.n <= 100_000:
        raise CommandError(f"--n must be between 1 and 100000, got {args.n}")
    if args.seed < 0:
        raise CommandError(f"--seed must be >= 0, got {args.seed}")
    out = image_output(args.out)
    conditional = _check(args)
    model, _, spec = _load(conditional, args)
    labels = None
    if conditional:
        labels = (
            torch.full((args.n,), args.digit)
            if args.digit is not None
            else torch.arange(args.n) % 10
        )
    images = sample_digits(model, args.n, spec, labels=labels, seed=args.seed)
    save_samples(out, images, labels)
    what = f"digit {args.digit}" if args.digit is not None else ("0..9" if conditional else "")
    how = f"{spec.method}, {spec.steps} steps" + (
        f", guidance {spec.guidance:g}" if conditional else ""
    )
    print(f"wrote {args.n} samples {what} to {out} ({how})".replace("  ", " "))
    return 0


def _evaluate_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--n", type=int, default=1000, help="samples scored (default 1000)")
    _model_args(p)


def _evaluate(args: argparse.Namespace) -> int:
    import torch

    from ..data import load_mnist
    from ..diffusion.images import sample_digits, score_digits
    from ..loading import load_pretrained
    from ..metrics.image import EVAL_CLASSIFIER, EVAL_SEED, eval_labels

    if not 10 <= args.n <= 100_000:
        raise CommandError(f"--n must be between 10 and 100000, got {args.n}")
    conditional = _check(args)
    model, meta, spec = _load(conditional, args)
    classifier, cmeta = load_pretrained(EVAL_CLASSIFIER)
    data = load_mnist()
    labels = None
    if conditional:
        labels = (
            torch.full((args.n,), args.digit) if args.digit is not None else eval_labels(args.n)
        )
    images = sample_digits(model, args.n, spec, labels=labels, seed=EVAL_SEED)
    scores = score_digits(classifier, images, data.x_test, labels)
    print(
        f"{meta['name']}: {spec.method}, {spec.steps} steps"
        + (f", guidance {spec.guidance:g}" if conditional else "")
        + f"; {args.n} samples against the {len(data.x_test)} test digits ({data.source}); "
        f"classifier test accuracy {cmeta['metrics']['test_accuracy']:.4f}"
    )
    recorded = meta.get("metrics", {})
    for key, value in scores.items():
        rec = recorded.get(key)
        tail = f"   (recorded {rec:.4f})" if isinstance(rec, float) and args.n == 1000 else ""
        print(f"{key:22s} {value:10.4f}{tail}")
    return 0


COMMANDS = [
    ModelCommand(
        "diffusion",
        "flow-matching U-Net on MNIST (unconditional; --digit/--conditional: guided model)",
        add_sample_args=_sample_args,
        sample=_sample,
        add_evaluate_args=_evaluate_args,
        evaluate=_evaluate,
    )
]
