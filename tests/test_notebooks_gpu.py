"""Every notebook, top to bottom, in smoke mode on CUDA (``make gpu``; skipped without one).

The same nbval run as CI's, with ``AIGC_DEVICE=cuda``: every model, loop and helper the
notebooks call must follow the model onto the GPU.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.gpu
@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_on_cuda_in_smoke_mode(path: Path, tmp_path: Path):
    env = {
        **os.environ,
        "AIGC_MODE": "smoke",
        "AIGC_DEVICE": "cuda",
        "AIGC_OFFLINE": "1",
        "AIGC_RUN_DIR": str(tmp_path),
        "MPLBACKEND": "agg",
    }
    cmd = [sys.executable, "-m", "pytest", str(path), "-q", "-p", "no:cacheprovider"]
    cmd += ["--nbval-lax", "--nbval-sanitize-with", str(ROOT / "tests" / "nbval_sanitize.cfg")]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
