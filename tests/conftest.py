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


@pytest.fixture(autouse=True)
def _one_thread():
    """The unit tests use tiny models: one thread is faster than two for them, and far
    faster when the machine is busy (threads then wait on each other)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    """An empty data cache, offline: no test touches the network or the real cache."""
    monkeypatch.setenv("AIGC_DATA_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("AIGC_OFFLINE", "1")
    return tmp_path / "cache"
