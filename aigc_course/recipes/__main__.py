"""``python -m aigc_course.recipes``: retrain committed checkpoints from their recipes."""

from __future__ import annotations

import argparse
import os
import sys
import time

from . import discover


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m aigc_course.recipes", description=__doc__)
    parser.add_argument("names", nargs="*", help="checkpoints to retrain")
    parser.add_argument("--all", action="store_true", help="retrain every checkpoint")
    parser.add_argument("--list", action="store_true", help="list the recipes")
    args = parser.parse_args(argv)
    recipes = discover()
    if args.list or not (args.names or args.all):
        print("\n".join(recipes) or "no recipes yet")
        return 0
    unknown = [n for n in args.names if n not in recipes]
    if unknown:
        parser.error(f"unknown recipe(s) {', '.join(unknown)}; known: {', '.join(recipes)}")
    os.environ.setdefault("AIGC_MODE", "full")
    for name in recipes if args.all else args.names:
        start = time.perf_counter()
        path = recipes[name]()
        print(f"{name}: {time.perf_counter() - start:.0f} s -> {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
