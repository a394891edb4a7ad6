"""The command line: ``aigc-course`` or ``python -m aigc_course``.

Sub-commands: ``info`` (environment banner and data sources; never downloads),
``prefetch`` (fill the data cache for a classroom), ``list`` (the models), ``recipes``
(remake committed checkpoints), and ``sample`` / ``evaluate`` for each model that a
chapter registers in :mod:`aigc_course.commands`.

Errors are one line on stderr and exit status 2, never a traceback. Importing this module
imports no torch, so ``aigc-course --help`` is fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import __version__
from .commands import discover
from .config import ConfigError
from .data.download import DataError
from .errors import CheckpointError, CommandError

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line that points to --help."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def _info(args: argparse.Namespace) -> int:
    from .env import setup

    session = setup(
        "aigc-course info", data=["mnist", *args.corpus], verbose=True, try_download=False
    )
    return 1 if session.problems else 0


def _prefetch(args: argparse.Namespace) -> int:
    from .config import data_dir
    from .data import fetch_corpus, fetch_mnist, load_corpus

    print(f"data cache: {data_dir()}")
    if args.mnist:
        folder = fetch_mnist()
        print(f"MNIST: the four original files are in {folder}, md5 verified")
    for name in args.corpus:
        if name == "pydoc":
            print(f"{load_corpus('pydoc').summary} (ships with Python; nothing to fetch)")
            continue
        path = fetch_corpus(name)
        print(f"{load_corpus(name).summary} -> {path}")
    return 0


def _list(args: argparse.Namespace) -> int:
    commands = discover()
    if not commands:
        print("no models are registered yet")
    for name, cmd in commands.items():
        actions = [a for a in ("sample", "evaluate") if getattr(cmd, a) is not None]
        print(f"{name:20s} {cmd.help}  [{', '.join(actions)}]")
    return 0


def _recipes(args: argparse.Namespace) -> int:
    import time

    from .recipes import RECIPES, REGISTRY

    if args.list or not (args.names or args.all):
        for r in REGISTRY:
            print(f"{r.name:24s} {r.help}\n{'':24s} writes {', '.join(r.writes)}")
        return 0
    unknown = [n for n in args.names if n not in RECIPES]
    if unknown:
        raise CommandError(
            f"unknown recipe(s) {', '.join(unknown)}; see `aigc-course recipes --list`"
        )
    import os

    os.environ.setdefault("AIGC_MODE", "full")
    chosen = [r for r in REGISTRY if args.all or r.name in args.names]
    for r in chosen:
        start = time.perf_counter()
        result = r.load()()
        print(f"{r.name}: {time.perf_counter() - start:.0f} s -> {result}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The full parser, with every registered model command."""
    from .data.text import CORPORA  # torch-free

    parser = _Parser(prog="aigc-course", description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", action="version", version=f"aigc-course {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    p = sub.add_parser("info", help="print the environment banner and the data sources in use")
    p.add_argument(
        "--corpus",
        action="append",
        default=[],
        choices=CORPORA,
        help="also describe this text corpus (repeatable)",
    )
    p.set_defaults(func=_info)

    p = sub.add_parser("prefetch", help="fill the data cache (for a classroom without internet)")
    p.add_argument(
        "--no-mnist", dest="mnist", action="store_false", help="skip the original MNIST files"
    )
    p.add_argument(
        "--corpus",
        action="append",
        default=[],
        choices=CORPORA,
        help="also fetch this text corpus (repeatable)",
    )
    p.set_defaults(func=_prefetch)

    p = sub.add_parser("list", help="list the models that can be sampled or evaluated")
    p.set_defaults(func=_list)

    p = sub.add_parser(
        "recipes", help="remake committed checkpoints from their recorded recipes (full mode)"
    )
    p.add_argument("names", nargs="*", metavar="NAME", help="recipes to run, in registry order")
    p.add_argument("--all", action="store_true", help="run every recipe (`make checkpoints`)")
    p.add_argument("--list", action="store_true", help="list the recipes and what they write")
    p.set_defaults(func=_recipes)

    commands = discover()
    for action, verb in (("sample", "draw samples from"), ("evaluate", "evaluate")):
        models = {n: c for n, c in commands.items() if getattr(c, action) is not None}
        p = sub.add_parser(
            action, help=f"{verb} a pretrained model ({', '.join(models) or 'none yet'})"
        )
        msub = p.add_subparsers(dest="model", metavar="MODEL", parser_class=_Parser)
        msub.required = True
        for name, cmd in models.items():
            mp = msub.add_parser(name, help=cmd.help)
            adder = getattr(cmd, f"add_{action}_args")
            if adder is not None:
                adder(mp)
            mp.set_defaults(func=getattr(cmd, action))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status = args.func(args)
    except (CommandError, ConfigError, DataError, CheckpointError) as err:
        print(f"aigc-course: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("aigc-course: interrupted", file=sys.stderr)
        return 130
    return int(status or 0)


if __name__ == "__main__":
    sys.exit(main())
