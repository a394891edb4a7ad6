"""``sample`` for the pretrained chorale Transformer.

    python -m aigc_course sample chorale --seed 3 --out chorale.wav
    python -m aigc_course sample chorale --seed 3 --steps 128 --temperature 0.9 --out c.mid

The output's suffix chooses the format: ``.wav`` (the additive synthesiser, 16-bit mono),
``.mid`` (MIDI through ``music21``) or ``.npz`` (the grid: ``pitches`` and ``onsets``,
(steps, 4), soprano to bass). The same seed gives the same chorale.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from . import CommandError, ModelCommand

SUFFIXES = (".wav", ".mid", ".npz")


def _sample_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", required=True, help="output file: .wav, .mid or .npz")
    p.add_argument("--seed", type=int, default=0, help="seed of the sampling generator")
    p.add_argument("--steps", type=int, default=64, help="sixteenth notes (64 = 4 bars of 4/4)")
    p.add_argument("--temperature", type=float, default=1.0, help="0 = greedy")


def _check(args: argparse.Namespace) -> Path:
    out = Path(args.out)
    if out.suffix.lower() not in SUFFIXES:
        raise CommandError(f"--out must end in {', '.join(SUFFIXES)}; got {out.name!r}")
    if out.is_dir():
        raise CommandError(f"--out {out} is a directory; name a file")
    if args.seed < 0:
        raise CommandError(f"--seed must be ≥ 0, got {args.seed}")
    if not 1 <= args.steps <= 4096:
        raise CommandError(f"--steps must be in 1..4096, got {args.steps}")
    if args.temperature < 0:
        raise CommandError(f"--temperature must be ≥ 0, got {args.temperature}")
    return out


def _sample(args: argparse.Namespace) -> int:
    out = _check(args)
    import numpy as np

    from ..loading import load_pretrained
    from ..music.audio import render, write_midi, write_wav
    from ..music.sampling import sample_chorales

    model, _ = load_pretrained("chorale_transformer", "cpu")  # small: the CPU is enough
    (chorale,) = sample_chorales(model, 1, args.steps, args.temperature, args.seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    suffix = out.suffix.lower()
    if suffix == ".wav":
        write_wav(out, render(chorale))
    elif suffix == ".mid":
        write_midi(out, chorale)
    else:
        np.savez_compressed(out, pitches=chorale.pitches, onsets=chorale.onsets)
    print(f"wrote {out} ({chorale.steps} steps, seed {args.seed}, T={args.temperature:g})")
    return 0


COMMANDS = [
    ModelCommand(
        "chorale",
        "pretrained Transformer on Bach chorale grid tokens (WAV, MIDI or NPZ)",
        add_sample_args=_sample_args,
        sample=_sample,
    )
]
