import pytest
import torch

from aigc_course.config import ConfigError, by_mode, data_dir, get_mode, is_offline
from aigc_course.device import (
    amp_dtype,
    autocast,
    describe_precision,
    get_device,
    needs_grad_scaler,
    seed_everything,
)


def test_default_mode_is_workshop(monkeypatch):
    monkeypatch.delenv("AIGC_MODE", raising=False)
    assert get_mode() == "workshop"


@pytest.mark.parametrize("raw,mode", [("smoke", "smoke"), (" FULL ", "full"), ("", "workshop")])
def test_mode_is_read_from_env(monkeypatch, raw, mode):
    monkeypatch.setenv("AIGC_MODE", raw)
    assert get_mode() == mode


def test_unknown_mode_lists_valid_ones(monkeypatch):
    monkeypatch.setenv("AIGC_MODE", "fast")
    with pytest.raises(ConfigError, match="smoke, workshop, full"):
        get_mode()


def test_by_mode_picks_current(monkeypatch):
    monkeypatch.setenv("AIGC_MODE", "smoke")
    assert by_mode(smoke=1, workshop=2, full=3) == 1
    assert by_mode(smoke=1, workshop=2, full=3, mode="full") == 3
    with pytest.raises(ConfigError):
        by_mode(smoke=1, workshop=2, full=3, mode="huge")


def test_offline_flag(monkeypatch):
    monkeypatch.setenv("AIGC_OFFLINE", "1")
    assert is_offline()
    monkeypatch.setenv("AIGC_OFFLINE", "0")
    assert not is_offline()
    monkeypatch.setenv("AIGC_OFFLINE", "maybe")
    with pytest.raises(ConfigError, match="AIGC_OFFLINE"):
        is_offline()


def test_data_dir_override(monkeypatch, tmp_path):
    monkeypatch.setenv("AIGC_DATA_DIR", str(tmp_path / "x"))
    assert data_dir() == tmp_path / "x" and (tmp_path / "x").is_dir()


def test_device_override_and_errors(monkeypatch):
    monkeypatch.setenv("AIGC_DEVICE", "cpu")
    assert get_device() == torch.device("cpu")
    assert get_device("cpu").type == "cpu"
    with pytest.raises(ConfigError, match="not a device name"):
        get_device("tpu0")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="CUDA is not available"):
            get_device("cuda")


def test_cpu_precision_is_plain_fp32():
    cpu = torch.device("cpu")
    assert amp_dtype(cpu) is None and not needs_grad_scaler(cpu)
    assert describe_precision(cpu) == "float32"
    with autocast(cpu):
        y = torch.nn.Linear(3, 2)(torch.randn(4, 3))
    assert y.dtype == torch.float32


def test_seed_everything_returns_none_and_repeats():
    assert seed_everything(3) is None
    a = torch.randn(5)
    seed_everything(3)
    torch.testing.assert_close(a, torch.randn(5))
    with pytest.raises(ValueError):
        seed_everything(-1)


@pytest.mark.gpu
def test_cuda_autocast_uses_bf16_or_fp16():
    dev = torch.device("cuda")
    with autocast(dev):
        y = torch.nn.Linear(8, 8).to(dev)(torch.randn(2, 8, device=dev))
    assert y.dtype == amp_dtype(dev)


def test_hub_cells_run_only_when_asked_and_online(monkeypatch):
    from aigc_course.config import hub_skip_reason

    monkeypatch.delenv("AIGC_HUB", raising=False)
    monkeypatch.delenv("AIGC_OFFLINE", raising=False)
    assert "AIGC_HUB=1" in hub_skip_reason("org/model") and "x/y" in hub_skip_reason("x/y")
    monkeypatch.setenv("AIGC_HUB", "1")
    assert hub_skip_reason("org/model") is None
    monkeypatch.setenv("AIGC_OFFLINE", "1")
    assert "AIGC_OFFLINE" in hub_skip_reason("org/model")
    monkeypatch.setenv("AIGC_HUB", "maybe")
    with pytest.raises(ConfigError):
        hub_skip_reason("org/model")
