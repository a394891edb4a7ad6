"""The outputs policy of the course, enforced on every committed notebook."""

from __future__ import annotations

import json
import re
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


SOURCES = sorted(SRC_DIR.glob("[0-9][0-9]_*.py"))


@pytest.mark.parametrize("src", SOURCES, ids=lambda p: p.name)
def test_no_format_escapes_and_no_recipe_imports(src: Path):
    text = src.read_text(encoding="utf-8")
    assert "fmt: skip" not in text, f"{src.name}: a call too wide for a cell; use a config"
    assert not re.search(r"(from|import)\s+aigc_course\.recipes", text), (
        f"{src.name} imports aigc_course.recipes: load checkpoints with load_pretrained"
    )
    assert "pretrained_path(" not in text, f"{src.name}: use load_pretrained, and run_dir to save"


def _lab_contents_manager(root: Path):
    from jupyter_server.services.contents.largefilemanager import LargeFileManager
    from jupytext.sync_contentsmanager import build_sync_jupytext_contents_manager_class

    return build_sync_jupytext_contents_manager_class(LargeFileManager)(root_dir=str(root))


def test_notebooks_are_paired_with_their_sources_as_jupyterlab_sees_them(tmp_path):
    """Saving a notebook in JupyterLab (jupytext's contents manager, configured by
    notebooks/jupytext.toml) rewrites its source byte for byte, and an edit made in the
    notebook is the same edit in the source."""
    import shutil

    nb_dir = tmp_path / "notebooks"
    shutil.copytree(ROOT / "notebooks", nb_dir, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    import os
    import time

    later = time.time() + 60  # the notebooks newer than their sources, as after a build:
    for nb in nb_dir.glob("[0-9][0-9]_*.ipynb"):  # jupytext then reads the .ipynb and
        os.utime(nb, (later, later))  # refuses one whose text differs from the source
    cm = _lab_contents_manager(tmp_path)
    for src in SOURCES:
        rel = f"notebooks/{src.stem}.ipynb"
        model = cm.get(rel)
        cm.save(model, rel)
        after = (nb_dir / "_src" / src.name).read_text(encoding="utf-8")
        assert after == src.read_text(encoding="utf-8"), (
            f"a JupyterLab save rewrites {src.name}: rebuild it with tools/nbbuild.py"
        )
    first = SOURCES[0]
    rel = f"notebooks/{first.stem}.ipynb"
    model = cm.get(rel)
    code = next(c for c in model["content"]["cells"] if c["cell_type"] == "code")
    code["source"] += "\nx_edited_in_lab = 1"
    cm.save(model, rel)
    assert "x_edited_in_lab = 1" in (nb_dir / "_src" / first.name).read_text(encoding="utf-8")
