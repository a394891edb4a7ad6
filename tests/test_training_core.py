"""The one training contract: run_loop, its clock and budget, callbacks, precision."""

from __future__ import annotations

import time
from dataclasses import FrozenInstanceError, replace

import pytest
import torch
from torch import nn

from aigc_course.device import Precision, model_device
from aigc_course.training.core import (
    Callback,
    Checkpoint,
    Evaluate,
    History,
    LambdaCallback,
    Snapshots,
    TrainConfig,
    load_training_checkpoint,
    run_loop,
    save_training_checkpoint,
)


def _regression(seed: int = 0):
    """A linear model and a step that fits y = 3x - 1 by SGD."""
    torch.manual_seed(seed)
    model = nn.Linear(1, 1)
    x = torch.linspace(-1, 1, 64)[:, None]
    y = 3 * x - 1
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    precision = Precision(model_device(model))

    def step(i: int) -> dict[str, float]:
        with precision.autocast():
            loss = ((model(x) - y) ** 2).mean()
        precision.step(loss, opt)
        return {"loss": loss.item()}

    return model, step


def test_config_is_frozen_and_validated():
    cfg = TrainConfig(steps=10)
    with pytest.raises(FrozenInstanceError):
        cfg.steps = 5  # type: ignore[misc]
    assert replace(cfg, max_seconds=2.0).max_seconds == 2.0
    with pytest.raises(ValueError, match="max_seconds"):
        TrainConfig(max_seconds=0)
    with pytest.raises(ValueError, match="batch_size"):
        TrainConfig(batch_size=0)


def test_run_loop_trains_records_and_counts_steps():
    model, step = _regression()
    hist = run_loop(step, TrainConfig(steps=200), models={"model": model})
    assert hist.steps == 200 and len(hist["loss"]) == 200
    assert hist["loss"][-1] < hist["loss"][0] / 100  # it learned
    torch.testing.assert_close(model.weight.detach(), torch.tensor([[3.0]]), atol=0.05, rtol=0)
    with pytest.raises(KeyError, match="no metric 'acc' was recorded; recorded: loss"):
        hist["acc"]


def test_a_history_continues_across_calls():
    model, step = _regression()
    seen = []
    hist = run_loop(lambda i: seen.append(i) or step(i), TrainConfig(steps=3), models={"m": model})
    hist = run_loop(
        lambda i: seen.append(i) or step(i), TrainConfig(steps=2), models={"m": model}, history=hist
    )
    assert seen == [0, 1, 2, 3, 4] and hist.steps == 5 and len(hist["loss"]) == 5


def test_the_budget_stops_training_and_callbacks_are_off_the_clock():
    model, step = _regression()

    def slow_step(i):
        time.sleep(0.005)
        return step(i)

    class SlowCallback(Callback):
        def on_step(self, state):
            time.sleep(0.1)  # twenty times a step: must not count against the budget

    cfg = TrainConfig(steps=10_000, max_seconds=0.1)
    start = time.perf_counter()
    hist = run_loop(slow_step, cfg, models={"m": model}, callbacks=[SlowCallback()])
    wall = time.perf_counter() - start
    assert hist.seconds >= 0.1 and hist.steps <= 21  # stopped at the budget
    # were the callbacks counted, the budget would be gone after two steps
    assert hist.steps >= 5
    assert wall >= hist.seconds + 0.1 * hist.steps


def test_a_callback_can_stop_training():
    model, step = _regression()

    def stop_at_7(state):
        state.stop = state.step == 7

    hist = run_loop(
        step, TrainConfig(steps=50), models={"m": model}, callbacks=[LambdaCallback(stop_at_7)]
    )
    assert hist.steps == 7


def test_evaluate_runs_in_eval_mode_without_grad_at_its_steps_and_the_end():
    model, step = _regression()
    model = nn.Sequential(model, nn.Dropout(0.5))
    seen = []

    def probe(models):
        seen.append((models["m"].training, torch.is_grad_enabled()))
        return {"w": models["m"][0].weight.item()}

    hist = run_loop(
        step, TrainConfig(steps=25), models={"m": model}, callbacks=[Evaluate(probe, every=10)]
    )
    assert [e["step"] for e in hist.evals] == [10, 20, 25]
    assert seen == [(False, False)] * 3 and model.training  # back in train mode
    steps, values = hist.eval_curve("w")
    assert steps == [10, 20, 25] and values[-1] > values[0]


def test_snapshots_are_taken_at_the_start_and_every_n_steps_on_the_cpu():
    model, step = _regression()
    x = torch.zeros(1, 1)
    snaps = Snapshots(lambda models: models["m"](x), every=5)
    hist = run_loop(step, TrainConfig(steps=12), models={"m": model}, callbacks=[snaps])
    assert [s for s, _ in hist.snapshots] == [0, 5, 10]
    assert all(t.device.type == "cpu" for _, t in hist.snapshots)
    assert hist.snapshots[0][1].item() != hist.snapshots[-1][1].item()  # the model moved


def test_checkpoint_callback_restores_every_model_bit_exactly(tmp_path):
    model, step = _regression()
    other = nn.Linear(2, 3)
    path = tmp_path / "run" / "ckpt"
    ckpt = Checkpoint(path, every=4, meta={"note": "test"})
    run_loop(step, TrainConfig(steps=10), models={"G": model, "D": other}, callbacks=[ckpt])
    fresh_g, fresh_d = nn.Linear(1, 1), nn.Linear(2, 3)
    assert load_training_checkpoint(path, {"G": fresh_g, "D": fresh_d}) == 10
    for a, b in ((model, fresh_g), (other, fresh_d)):
        for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
            assert ka == kb and torch.equal(va, vb)
    from aigc_course.checkpoint import CheckpointError

    with pytest.raises(CheckpointError, match="holds no model named 'E'"):
        load_training_checkpoint(path, {"E": nn.Linear(1, 1)})
    save_training_checkpoint(path, {"G": model}, 3)
    assert load_training_checkpoint(path, {"G": fresh_g}) == 3


def test_history_to_dict_is_json():
    import json

    hist = History()
    hist.record({"loss": torch.tensor(1.5).item()})
    hist.steps, hist.seconds = 1, 0.1
    assert json.loads(json.dumps(hist.to_dict()))["metrics"] == {"loss": [1.5]}


def test_precision_steps_with_clipping_in_fp32_on_the_cpu():
    p = Precision("cpu")
    assert p.dtype is None and p.scaler is None and "float32" in repr(p)
    w = nn.Parameter(torch.tensor([1.0]))
    opt = torch.optim.SGD([w], lr=1.0)
    p.step((100 * w).sum(), opt, grad_clip=0.5)  # gradient 100, clipped to norm 0.5
    torch.testing.assert_close(w.detach(), torch.tensor([0.5]))
    p.step((100 * w).sum(), opt)  # no clipping: a full step of 100
    torch.testing.assert_close(w.detach(), torch.tensor([-99.5]))


def test_bf16_only_where_native(monkeypatch):
    from aigc_course import device as dev

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    for capability, expected in (
        ((7, 5), torch.float16),
        ((8, 0), torch.bfloat16),
        ((9, 0), torch.bfloat16),
    ):
        monkeypatch.setattr(torch.cuda, "get_device_capability", lambda d=None, c=capability: c)
        assert dev.amp_dtype(torch.device("cuda")) == expected
        assert dev.needs_grad_scaler(torch.device("cuda")) == (expected == torch.float16)
    assert dev.amp_dtype(torch.device("cpu")) is None
    assert dev.amp_dtype(torch.device("mps")) is None


def test_model_device_follows_the_model():
    assert model_device(nn.Linear(1, 1)) == torch.device("cpu")
    assert model_device(nn.Linear(1, 1).to("meta")) == torch.device("meta")
    assert model_device(nn.ReLU()) == torch.device("cpu")  # no parameters: the CPU


@pytest.mark.gpu
def test_precision_on_cuda_matches_the_policy_and_trains():
    device = torch.device("cuda")
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 1)).to(device)
    p = Precision(device)
    expected = torch.bfloat16 if torch.cuda.get_device_capability() >= (8, 0) else torch.float16
    assert p.dtype == expected and (p.scaler is not None) == (expected == torch.float16)
    x = torch.randn(256, 8, device=device)
    y = x.sum(1, keepdim=True)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []

    def step(i):
        with p.autocast():
            out = model(x)
        assert out.dtype == expected
        loss = ((out.float() - y) ** 2).mean()
        p.step(loss, opt, grad_clip=1.0)
        return {"loss": loss.item()}

    hist = run_loop(step, TrainConfig(steps=200), models={"m": model})
    losses = hist["loss"]
    assert losses[-1] < losses[0] / 10
    assert hist.seconds > 0


@pytest.mark.gpu
def test_fp16_scaler_path_runs_on_cuda(monkeypatch):
    from aigc_course import device as dev

    monkeypatch.setattr(dev, "bf16_is_native", lambda d: False)  # as on a T4 or V100
    device = torch.device("cuda")
    p = Precision(device)
    assert p.dtype == torch.float16 and p.scaler is not None
    model = nn.Linear(4, 1).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x = torch.randn(64, 4, device=device)
    y = x @ torch.tensor([[1.0], [2.0], [3.0], [4.0]], device=device)
    first = None
    for _ in range(100):
        with p.autocast():
            loss = ((model(x).float() - y) ** 2).mean()
        first = first if first is not None else loss.item()
        p.step(loss, opt, grad_clip=10.0)
    assert loss.item() < first / 10
