"""The outputs policy of the course, enforced on every committed notebook."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
MAX_BYTES = 1_100_000
MAX_CELL_LINES = 40

sys.path.insert(0, str(ROOT / "tools"))
from nbbuild import SRC_DIR, sources_match  # noqa: E402


def _cells(path: Path, kind: str) -> list[dict]:
    return [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == kind]


def _src(cell: dict) -> str:
    return "".join(cell["source"])


def test_there_are_notebooks_and_each_has_a_source():
    assert NOTEBOOKS, "no notebooks found in notebooks/"
    sources = {p.stem for p in SRC_DIR.glob("[0-9][0-9]_*.py")}
    assert sources == {p.stem for p in NOTEBOOKS}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_outputs_policy(path: Path):
    size = path.stat().st_size
    assert size <= MAX_BYTES, f"{path.name} is {size / 1e6:.2f} MB; keep it under ~1 MB"
    nb = json.loads(path.read_text())
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    code = _cells(path, "code")
    counts = [c["execution_count"] for c in code]
    assert counts == list(range(1, len(code) + 1)), (
        f"{path.name}: execution counts {counts} are not 1..n; rebuild it with tools/nbbuild.py"
    )
    for i, cell in enumerate(code, 1):
        for out in cell["outputs"]:
            assert out["output_type"] != "error", f"{path.name} cell [{i}] has an error output"
            assert "image/svg+xml" not in out.get("data", {}), f"{path.name} [{i}]: SVG, use PNG"
    assert sum(bool(c["outputs"]) for c in code) >= len(code) // 2, "most cells show nothing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_shape_of_a_course_notebook(path: Path):
    code, markdown = _cells(path, "code"), _cells(path, "markdown")
    assert len(markdown) >= len(code), f"{path.name}: fewer markdown cells than code cells"
    long = [i for i, c in enumerate(code, 1) if len(_src(c).splitlines()) > MAX_CELL_LINES]
    assert not long, f"{path.name}: code cells {long} are longer than {MAX_CELL_LINES} lines"
    assert "setup(" in _src(code[0]) or "setup(" in _src(code[1]), "the setup cell comes first"
    assert any("assert" in _src(c) for c in code), f"{path.name} checks nothing"
    assert _src(markdown[0]).lstrip().startswith("# "), "the first cell is the title"
    text = "\n".join(_src(c) for c in markdown).lower()
    for heading in ("learning objectives", "exercise", "summary", "references"):
        assert heading in text, f"{path.name} has no {heading!r} section"
    solutions = [c for c in code if "solution" in c["metadata"].get("tags", [])]
    assert all(c["metadata"].get("jupyter", {}).get("source_hidden") for c in solutions)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_matches_its_source(path: Path):
    problem = sources_match(SRC_DIR / f"{path.stem}.py")
    assert problem is None, problem


def test_every_notebook_is_a_book_chapter_and_on_the_course_map():
    toc = (ROOT / "book" / "_toc.yml").read_text()
    readme = (ROOT / "README.md").read_text()
    for path in NOTEBOOKS:
        assert f"notebooks/{path.stem}" in toc, f"{path.name} is not in book/_toc.yml"
        assert path.name in readme, f"{path.name} is not on the README's course map"
