"""Shared fixtures and markers for the unit suite."""

from __future__ import annotations

import pytest
import torch


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    """An empty data cache, offline: no test touches the network or the real cache."""
    monkeypatch.setenv("AIGC_DATA_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("AIGC_OFFLINE", "1")
    return tmp_path / "cache"
