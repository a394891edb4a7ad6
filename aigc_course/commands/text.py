"""``sample`` and ``evaluate`` for the pretrained character language models.

    python -m aigc_course sample char-transformer --prompt "The " --max-new-chars 200 \\
        --temperature 0.8 --top-k 40 --seed 0
    python -m aigc_course evaluate char-lstm --text-file README.md

Characters the model's tokenizer has never seen are handled, not fatal: in a prompt
they are replaced by the tokenizer's replacement character (a note on stderr says so);
in ``evaluate`` they are replaced as *context* but not scored, and the JSON line counts
them (``n_unseen``) next to the bits/char of the characters that were scored.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import CommandError, ModelCommand

CHECKPOINTS = {"char-lstm": "char_lstm", "char-transformer": "char_transformer"}


def _load(name: str):
    """(model, tokenizer, meta) of a committed checkpoint, on :func:`get_device`."""
    from ..loading import load_pretrained

    model, meta = load_pretrained(CHECKPOINTS[name])
    return model, meta["tokenizer"], meta


def _sample_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--prompt", default="\n", help="text to continue (default: a newline)")
    p.add_argument("--max-new-chars", type=int, default=200, help="characters to generate")
    p.add_argument("--temperature", type=float, default=0.8, help="0 = greedy")
    p.add_argument("--top-k", type=int, default=None, help="keep the k most likely characters")
    p.add_argument("--top-p", type=float, default=None, help="nucleus threshold in (0, 1]")
    p.add_argument("--seed", type=int, default=0, help="seed of the sampling generator")


def _check_sampling(args: argparse.Namespace) -> None:
    if args.max_new_chars < 0 or args.max_new_chars > 100_000:
        raise CommandError(f"--max-new-chars must be in 0..100000, got {args.max_new_chars}")
    if args.temperature < 0:
        raise CommandError(f"--temperature must be ≥ 0, got {args.temperature}")
    if args.top_k is not None and args.top_k < 1:
        raise CommandError(f"--top-k must be ≥ 1, got {args.top_k}")
    if args.top_p is not None and not 0 < args.top_p <= 1:
        raise CommandError(f"--top-p must be in (0, 1], got {args.top_p}")
    if args.seed < 0:
        raise CommandError(f"--seed must be ≥ 0, got {args.seed}")
    if not args.prompt:
        raise CommandError("--prompt must not be empty (leave it out to start from a newline)")


def _sample(model_name: str):
    def run(args: argparse.Namespace) -> int:
        import torch

        from ..sampling import generate

        _check_sampling(args)
        model, tok, _ = _load(model_name)
        ids, seen = tok.encode_with_mask(args.prompt, unknown="replace")
        if not all(seen):
            print(
                f"note: {seen.count(False)} prompt character(s) not in the vocabulary were "
                f"replaced by {tok.replacement!r}: {tok.unseen(args.prompt)}",
                file=sys.stderr,
            )
        out = generate(
            model,
            torch.tensor([ids]),
            args.max_new_chars,
            temperature=args.temperature,
            top_k=args.top_k,
            top_p=args.top_p,
            generator=torch.Generator().manual_seed(args.seed),
        )
        print(args.prompt + tok.decode(out[0, len(ids) :]))
        return 0

    return run


def _evaluate_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--text-file", required=True, type=Path, help="a UTF-8 text file")


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise CommandError(f"--text-file {path} does not exist") from err
    except IsADirectoryError as err:
        raise CommandError(f"--text-file {path} is a directory, not a file") from err
    except UnicodeDecodeError as err:
        raise CommandError(f"--text-file {path} is not UTF-8 text ({err.reason})") from err


def _evaluate(model_name: str):
    def run(args: argparse.Namespace) -> int:
        import torch

        from ..metrics.text import bits_per_char

        text = _read_text(args.text_file)
        model, tok, meta = _load(model_name)
        ids, seen = tok.encode_with_mask(text, unknown="replace")
        n_scored = sum(seen[1:])
        if len(ids) < 2 or n_scored == 0:
            raise CommandError(
                f"--text-file {args.text_file} has no character the model can be scored on "
                "(it needs at least two characters, one of them after the first known)"
            )
        bpc = bits_per_char(model, torch.tensor(ids), mask=torch.tensor(seen))
        record = {
            "model": model_name,
            "file": str(args.text_file),
            "bits_per_char": round(bpc, 4),
            "n_chars": len(text),
            "n_scored": n_scored,
            "n_unseen": seen.count(False),
            "unseen_chars": tok.unseen(text)[:20],
            "unseen_policy": (
                f"replaced by {tok.replacement!r} as context, not scored; the first "
                "character is not scored (it has no context)"
            ),
            "context": model.block_size,
            "trained_on": meta.get("data", {}).get("sha256", "?")[:12],
        }
        print(json.dumps(record, ensure_ascii=False))
        return 0

    return run


COMMANDS = [
    ModelCommand(
        name,
        f"pretrained character {'LSTM' if 'lstm' in name else 'Transformer'} (pydoc corpus)",
        add_sample_args=_sample_args,
        sample=_sample(name),
        add_evaluate_args=_evaluate_args,
        evaluate=_evaluate(name),
    )
    for name in CHECKPOINTS
]
