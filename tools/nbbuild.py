"""Build the course notebooks from their sources.

Each notebook ``notebooks/NN_name.ipynb`` is paired by jupytext (``notebooks/jupytext.toml``)
with a percent-format script ``notebooks/_src/NN_name.py`` (readable diffs, lintable): an
edit saved in JupyterLab lands in the script too. This tool executes the script top to
bottom in a fresh kernel (Restart & Run All), in ``workshop`` mode by default, and writes
the notebook, so the committed notebook carries real outputs and consecutive execution
counts; ``--check`` fails when a notebook and its script hold different cells.

Usage::

    python tools/nbbuild.py notebooks/_src/00_orientation.py        # build one
    python tools/nbbuild.py --all                                   # build every notebook
    python tools/nbbuild.py --mode smoke --no-write notebooks/_src/01_gan_theory.py  # try it
    python tools/nbbuild.py --check                                 # sources == notebooks?
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import time
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parents[1]
NB_DIR = ROOT / "notebooks"
SRC_DIR = NB_DIR / "_src"
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
# lines_to_next_cell: the blank lines jupytext keeps between cells, so the pair round-trips
KEEP_CELL_METADATA = ("tags", "jupyter", "lines_to_next_cell")


def target_of(src: Path) -> Path:
    return NB_DIR / (src.stem + ".ipynb")


def read_source(src: Path) -> nbformat.NotebookNode:
    """The notebook a percent script describes, without outputs."""
    nb = jupytext.read(src, fmt="py:percent")
    nb.metadata = {
        "kernelspec": dict(KERNELSPEC),
        "language_info": {"name": "python", "pygments_lexer": "ipython3"},
    }
    for cell in nb.cells:
        meta = {k: v for k, v in cell.metadata.items() if k in KEEP_CELL_METADATA}
        tags = meta.get("tags", [])
        if "solution" in tags:  # collapsed in JupyterLab, hidden in the book
            if "hide-input" not in tags:  # in the source, so the jupytext pair stays equal
                raise SystemExit(
                    f"{src.name}: a solution cell must be tagged "
                    '`# %% tags=["solution", "hide-input"]` (hidden in the book)'
                )
            meta["jupyter"] = {"source_hidden": True}
        cell.metadata = meta
    return nb


def clean(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop volatile metadata (timings, widget state) but keep outputs and counts."""
    nb = copy.deepcopy(nb)
    nb.metadata.pop("widgets", None)
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        cell.metadata = {k: v for k, v in cell.metadata.items() if k in KEEP_CELL_METADATA}
        cell.pop("id", None)
        if cell.cell_type != "code":
            continue
        outputs = []
        for out in cell.outputs:
            if out.get("output_type") == "display_data" and "image/svg+xml" in out.get("data", {}):
                out["data"].pop("image/svg+xml")
            # a widget view is dead without its kernel, and its text repr is noise: drop it
            # (every panel draws a static figure too, which stays)
            if "application/vnd.jupyter.widget-view+json" in out.get("data", {}):
                continue
            outputs.append(out)
        cell.outputs = outputs
    nb.nbformat, nb.nbformat_minor = 4, 5
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i:03d}"
    return nb


def execute(nb: nbformat.NotebookNode, mode: str, timeout: int) -> float:
    os.environ["AIGC_MODE"] = mode
    os.environ.setdefault("AIGC_OFFLINE", "1")
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=KERNELSPEC["name"],
        resources={"metadata": {"path": str(NB_DIR)}},
    )
    start = time.perf_counter()
    client.execute()
    return time.perf_counter() - start


def build(src: Path, mode: str, write: bool, timeout: int) -> float:
    nb = read_source(src)
    try:
        seconds = execute(nb, mode, timeout)
    except CellExecutionError as err:
        print(f"{src.name}: a cell failed in {mode} mode\n{err}", file=sys.stderr)
        raise SystemExit(1) from None
    nb = clean(nb)
    size = len(nbformat.writes(nb))
    if write:
        nbformat.write(nb, target_of(src))
    print(
        f"{src.name}: {seconds:6.1f} s in {mode} mode, {size / 1e6:.2f} MB"
        + (f" -> {target_of(src).relative_to(ROOT)}" if write else " (not written)")
    )
    return seconds


def sources_match(src: Path) -> str | None:
    """None if the committed notebook holds exactly the cells of its source, else why not."""
    target = target_of(src)
    if not target.is_file():
        return f"{target.name} is missing: run `python tools/nbbuild.py {src.relative_to(ROOT)}`"
    want = read_source(src)
    have = nbformat.read(target, as_version=4)
    a = [(c.cell_type, c.source.strip()) for c in want.cells]
    b = [(c.cell_type, c.source.strip()) for c in have.cells]
    if a != b:
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            if x != y:
                return f"{target.name} differs from its source at cell {i}: rebuild it"
        return f"{target.name} has {len(b)} cells, its source {len(a)}: rebuild it"
    return None


def refresh_metadata(src: Path) -> None:
    """Copy the cell metadata of a source onto its built notebook, without executing it
    (the cells must match: see :func:`sources_match`)."""
    problem = sources_match(src)
    if problem:
        raise SystemExit(problem)
    want = read_source(src)
    target = target_of(src)
    have = nbformat.read(target, as_version=4)
    for a, b in zip(want.cells, have.cells, strict=True):
        b.metadata = {k: v for k, v in a.metadata.items() if k in KEEP_CELL_METADATA}
    nbformat.write(have, target)
    print(f"{target.name}: cell metadata refreshed from its source")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sources", nargs="*", type=Path, help="percent scripts in notebooks/_src")
    parser.add_argument("--all", action="store_true", help="build every notebook")
    parser.add_argument("--mode", default="workshop", choices=("smoke", "workshop", "full"))
    parser.add_argument(
        "--no-write",
        dest="write",
        action="store_false",
        help="execute only; leave the .ipynb untouched",
    )
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per cell")
    parser.add_argument(
        "--check", action="store_true", help="only check that every notebook matches its source"
    )
    parser.add_argument(
        "--metadata",
        action="store_true",
        help="copy cell metadata (tags, blank lines) from the sources without executing",
    )
    args = parser.parse_args(argv)
    every = args.all or args.check or (args.metadata and not args.sources)
    sources = sorted(SRC_DIR.glob("[0-9]*.py")) if every else args.sources
    if not sources:
        parser.error("name a source in notebooks/_src, or pass --all")
    if args.check:
        problems = [p for s in sources if (p := sources_match(s))]
        print("\n".join(problems) or f"{len(sources)} notebooks match their sources")
        return 1 if problems else 0
    if args.metadata:
        for src in sources:
            refresh_metadata(src.resolve())
        return 0
    if args.write and args.mode != "workshop":
        print(f"note: committed notebooks are built in workshop mode, this is {args.mode}")
    for src in sources:
        build(src.resolve(), args.mode, args.write, args.timeout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
