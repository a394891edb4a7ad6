"""The one training contract every model family follows.

A family's ``fit`` (``train_gan``, ``fit_vae``, ``fit_lm``, ``fit_classifier``, …) takes

* the model(s), already on the device they should train on (**the device follows the
  model**: ``model_device(model)``; nothing here moves a model);
* the data, which the loop moves to that device once and keeps resident there;
* a frozen config dataclass derived from :class:`TrainConfig` (so the time budget has one
  name everywhere: ``max_seconds``);
* ``callbacks``: small objects with ``on_start`` / ``on_step`` / ``on_end`` that draw the
  progress bar, save checkpoints, take snapshots and evaluate. They run **off the clock**:
  the budget counts training time only;

and it writes its loop as one readable ``step(i) -> metrics`` function handed to
:func:`run_loop`, which owns the clock, the budget, the history and the callbacks.
Precision follows one policy (:class:`aigc_course.device.Precision`): bf16 autocast on GPUs
that have it natively, fp16 with a gradient scaler on older GPUs, fp32 on CPU and MPS.

Example::

    cfg = replace(LMTrainConfig.tiny(), max_seconds=30)
    hist = fit_lm(model.to(device), train_ids, cfg, callbacks=[ProgressBar()])
    hist.seconds, hist.steps, hist["loss"][-1]
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch


@dataclass(frozen=True)
class TrainConfig:
    """The fields every family's training config shares.

    Family configs subclass it (``GANTrainConfig``, ``LMTrainConfig``, …) and are varied
    with :func:`dataclasses.replace`; they are never mutated.
    """

    steps: int = 1000  # optimisation steps (generator steps for a GAN)
    batch_size: int = 64
    lr: float = 1e-3
    seed: int = 0  # seeds the batch order and any noise the loop draws
    max_seconds: float | None = None  # the time budget: stop once training time reaches it

    def __post_init__(self) -> None:
        if self.steps < 0:
            raise ValueError(f"steps must be >= 0, got {self.steps}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")
        if self.max_seconds is not None and self.max_seconds <= 0:
            raise ValueError(f"max_seconds must be > 0 or None, got {self.max_seconds}")

    def to_dict(self) -> dict[str, Any]:
        """The config as JSON-able values (for a checkpoint's sidecar)."""
        return asdict(self)


class Clock:
    """Training time: wall-clock seconds while running, excluding paused stretches.

    On CUDA the clock synchronises before reading, so queued kernels are counted.
    """

    def __init__(self, device: torch.device | None = None) -> None:
        self.device = device
        self._elapsed = 0.0
        self._since: float | None = None

    def _sync(self) -> None:
        if self.device is not None and self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    def start(self) -> None:
        if self._since is None:
            self._since = time.perf_counter()

    def stop(self) -> None:
        if self._since is not None:
            self._sync()
            self._elapsed += time.perf_counter() - self._since
            self._since = None

    @property
    def seconds(self) -> float:
        """Training seconds so far."""
        if self._since is None:
            return self._elapsed
        self._sync()
        return self._elapsed + time.perf_counter() - self._since

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Time spent inside does not count (evaluation, checkpoints, snapshots)."""
        running = self._since is not None
        self.stop()
        try:
            yield
        finally:
            if running:
                self.start()


@dataclass
class History:
    """What a training loop recorded.

    ``metrics[name]`` holds one value per step (``hist["loss"]`` is a shortcut);
    ``evals`` one dict per evaluation (with its ``step``); ``snapshots`` ``(step, tensor)``
    pairs; ``seconds`` the training time (evaluations excluded) and ``steps`` the steps done.
    A history passed back into a loop continues (training in several calls).
    """

    metrics: dict[str, list[float]] = field(default_factory=dict)
    evals: list[dict[str, float]] = field(default_factory=list)
    snapshots: list[tuple[int, torch.Tensor]] = field(default_factory=list)
    steps: int = 0
    seconds: float = 0.0

    def __getitem__(self, name: str) -> list[float]:
        try:
            return self.metrics[name]
        except KeyError:
            raise KeyError(
                f"no metric {name!r} was recorded; recorded: {', '.join(self.metrics) or 'none'}"
            ) from None

    def record(self, values: Mapping[str, float]) -> None:
        for name, value in values.items():
            self.metrics.setdefault(name, []).append(float(value))

    def eval_curve(self, name: str) -> tuple[list[int], list[float]]:
        """``(steps, values)`` of one evaluated quantity."""
        points = [(e["step"], e[name]) for e in self.evals if name in e]
        return [int(s) for s, _ in points], [float(v) for _, v in points]

    @property
    def steps_per_second(self) -> float:
        return self.steps / self.seconds if self.seconds > 0 else float("nan")

    def to_dict(self) -> dict[str, Any]:
        """JSON-able (snapshots left out: they are tensors)."""
        return {
            "metrics": self.metrics,
            "evals": self.evals,
            "steps": self.steps,
            "seconds": self.seconds,
        }


@dataclass
class LoopState:
    """What callbacks see: the config, the history, the clock and the models."""

    config: TrainConfig
    history: History
    clock: Clock
    models: dict[str, torch.nn.Module]
    last: dict[str, float] = field(default_factory=dict)  # this step's metrics
    stop: bool = False  # a callback sets it to end training after this step

    @property
    def step(self) -> int:
        """Steps done so far (1 after the first step)."""
        return self.history.steps


class Callback:
    """Hooks into :func:`run_loop`; all run off the clock. Override what you need."""

    def on_start(self, state: LoopState) -> None:
        """Before the first step of this call."""

    def on_step(self, state: LoopState) -> None:
        """After every step."""

    def on_end(self, state: LoopState) -> None:
        """After the last step of this call (also when the budget stopped it)."""


def run_loop(
    step: Callable[[int], Mapping[str, float]],
    config: TrainConfig,
    *,
    models: Mapping[str, torch.nn.Module],
    callbacks: Sequence[Callback] = (),
    history: History | None = None,
) -> History:
    """Call ``step(i)`` for ``config.steps`` steps (or until ``config.max_seconds`` of
    training time), recording its metrics; callbacks run between steps, off the clock.

    Args:
        step: one optimisation step; ``i`` counts on from ``history.steps``; returns its
            metrics as floats (call ``.item()`` inside, once per step).
        config: steps and the time budget (the family's own fields are the step's business).
        models: the models being trained, by name (callbacks save or evaluate them);
            put in train mode here.
        callbacks: progress, checkpoints, snapshots, evaluation.
        history: continue this history instead of starting a new one.

    Returns:
        The :class:`History`.
    """
    hist = history if history is not None else History()
    device = next(iter(_devices(models)), None)
    clock = Clock(device)
    state = LoopState(config, hist, clock, dict(models))
    for model in models.values():
        model.train()
    for cb in callbacks:
        cb.on_start(state)
    first = hist.steps
    clock.start()
    for i in range(first, first + config.steps):
        state.last = dict(step(i))
        hist.record(state.last)
        hist.steps = i + 1
        with clock.paused():
            for cb in callbacks:
                cb.on_step(state)
        if state.stop or (config.max_seconds is not None and clock.seconds >= config.max_seconds):
            break
    clock.stop()
    hist.seconds += clock.seconds
    for cb in callbacks:
        cb.on_end(state)
    return hist


def _devices(models: Mapping[str, torch.nn.Module]) -> Iterator[torch.device]:
    from ..device import model_device

    for model in models.values():
        yield model_device(model)


# ----------------------------------------------------------------------------- callbacks


class ProgressBar(Callback):
    """A tqdm bar showing the latest metrics every ``every`` steps."""

    def __init__(self, desc: str = "train", every: int = 20) -> None:
        self.desc, self.every, self.bar = desc, every, None

    def on_start(self, state: LoopState) -> None:
        from tqdm.auto import tqdm

        self.bar = tqdm(total=state.config.steps, desc=self.desc, leave=False)

    def on_step(self, state: LoopState) -> None:
        self.bar.update(1)
        if state.step % self.every == 0:
            self.bar.set_postfix({k: f"{v:.3g}" for k, v in list(state.last.items())[:4]})

    def on_end(self, state: LoopState) -> None:
        self.bar.close()


class Evaluate(Callback):
    """Every ``every`` steps (and at the end), ``fn(models) -> dict`` is recorded in
    ``history.evals`` with its step. Models are put in eval mode and back, under
    ``torch.no_grad()``, off the clock."""

    def __init__(
        self,
        fn: Callable[[dict[str, torch.nn.Module]], Mapping[str, float]],
        every: int,
        at_end: bool = True,
    ) -> None:
        self.fn, self.every, self.at_end = fn, every, at_end
        self._last_step = -1

    def _run(self, state: LoopState) -> None:
        if state.step == self._last_step:
            return
        modes = {name: m.training for name, m in state.models.items()}
        for m in state.models.values():
            m.eval()
        with torch.no_grad():
            result = dict(self.fn(state.models))
        for name, m in state.models.items():
            m.train(modes[name])
        state.history.evals.append({"step": state.step, **{k: float(v) for k, v in result.items()}})
        self._last_step = state.step

    def on_step(self, state: LoopState) -> None:
        if self.every and state.step % self.every == 0:
            self._run(state)

    def on_end(self, state: LoopState) -> None:
        if self.at_end:
            self._run(state)


class Snapshots(Callback):
    """Every ``every`` steps (and before the first), ``fn(models) -> tensor`` is kept on
    the CPU in ``history.snapshots`` (for example a generator's images of fixed noise)."""

    def __init__(self, fn: Callable[[dict[str, torch.nn.Module]], torch.Tensor], every: int):
        self.fn, self.every = fn, every

    def _take(self, state: LoopState) -> None:
        modes = {name: m.training for name, m in state.models.items()}
        for m in state.models.values():
            m.eval()
        with torch.no_grad():
            snap = self.fn(state.models).detach().float().cpu()
        for name, m in state.models.items():
            m.train(modes[name])
        state.history.snapshots.append((state.step, snap))

    def on_start(self, state: LoopState) -> None:
        if state.step == 0:
            self._take(state)

    def on_step(self, state: LoopState) -> None:
        if self.every and state.step % self.every == 0:
            self._take(state)


class Checkpoint(Callback):
    """Save every model being trained to one checkpoint (tensors prefixed ``name.``, the
    step and ``meta`` in the sidecar) every ``every`` steps and at the end; atomic and
    verified on load (:func:`load_training_checkpoint`)."""

    def __init__(self, path: str | Path, every: int = 0, meta: Mapping[str, Any] | None = None):
        self.path, self.every, self.meta = Path(path), every, dict(meta or {})

    def _save(self, state: LoopState) -> None:
        save_training_checkpoint(self.path, state.models, state.step, self.meta)

    def on_step(self, state: LoopState) -> None:
        if self.every and state.step % self.every == 0:
            self._save(state)

    def on_end(self, state: LoopState) -> None:
        self._save(state)


class LambdaCallback(Callback):
    """``fn(state)`` after every step (for a quick plot or a custom stop rule)."""

    def __init__(self, fn: Callable[[LoopState], None]) -> None:
        self.fn = fn

    def on_step(self, state: LoopState) -> None:
        self.fn(state)


def save_training_checkpoint(
    path: str | Path,
    models: Mapping[str, torch.nn.Module],
    step: int,
    meta: Mapping[str, Any] | None = None,
) -> Path:
    """Save several models in one checkpoint (tensors prefixed ``name.``) with the step."""
    from ..checkpoint import save_checkpoint

    state = {
        f"{name}.{k}": v for name, model in models.items() for k, v in model.state_dict().items()
    }
    return save_checkpoint(path, state, {"step": step, "models": list(models), **dict(meta or {})})


def load_training_checkpoint(path: str | Path, models: Mapping[str, torch.nn.Module]) -> int:
    """Load a :func:`save_training_checkpoint` file into ``models`` (each on its own
    device); returns the step it was saved at."""
    from ..checkpoint import CheckpointError, load_checkpoint
    from ..device import model_device

    state, meta = load_checkpoint(path)
    for name, model in models.items():
        prefix = f"{name}."
        part = {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
        if not part:
            raise CheckpointError(
                f"{path} holds no model named {name!r}; it holds {meta.get('models')}"
            )
        model.load_state_dict({k: v.to(model_device(model)) for k, v in part.items()})
    return int(meta["step"])


def resident(
    *tensors: torch.Tensor | None, device: torch.device
) -> tuple[torch.Tensor | None, ...]:
    """Move data tensors to ``device`` once, so batches are sliced there (None stays None)."""
    return tuple(None if t is None else t.to(device) for t in tensors)
