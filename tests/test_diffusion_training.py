"""The MLP denoiser and the diffusion training loop: shapes, overfitting one batch,
seeded determinism, the EMA update, label dropout and bad configs."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch
from torch import nn
from torch.testing import assert_close

from aigc_course.config import ConfigError
from aigc_course.diffusion.losses import drop_labels
from aigc_course.models.diffusion_mlp import DiffusionMLP, DiffusionMLPConfig
from aigc_course.training.diffusion import (
    DiffusionTrainConfig,
    ema_update,
    fit_diffusion,
    make_ema,
)


def _mlp(seed=0, **kw):
    torch.manual_seed(seed)
    return DiffusionMLP(DiffusionMLPConfig.tiny(**kw))


def test_mlp_shape_contract_and_labels():
    m = _mlp(n_classes=3)
    x, t = torch.randn(5, 2), torch.rand(5)
    out = m(x, t, torch.tensor([0, 1, 2, 3, 0]))
    assert out.shape == (5, 2)
    assert m.label_emb.num_embeddings == 4  # 3 classes + the null label
    # no labels: the null label
    assert_close(m(x, t), m(x, t, torch.full((5,), 3)))
    # the output depends on t and on the label
    assert not torch.allclose(m(x, t, None), m(x, t + 0.3, None))
    assert not torch.allclose(m(x, t, torch.zeros(5, dtype=torch.long)), m(x, t, None))


@pytest.mark.parametrize("objective", ["flow", "eps"])
def test_overfit_one_batch(objective):
    m = _mlp(t_max=1.0 if objective == "flow" else 1000.0)
    # one data point: the target (eps, or eps - x0) is then a function of (x_t, t), so the
    # loss can fall towards 0 (with many points it keeps the posterior's variance)
    x = torch.tensor([[1.0, -0.5]]).expand(16, 2)
    cfg = DiffusionTrainConfig(
        steps=300, batch_size=16, lr=3e-3, objective=objective, ema=None, T=100
    )
    hist = fit_diffusion(m, x, cfg)
    first, last = sum(hist["loss"][:20]) / 20, sum(hist["loss"][-20:]) / 20
    assert last < first / 2, (first, last)


def test_seeded_determinism_and_any_data_shape():
    class Flat(nn.Module):  # an image-shaped model: (B, 1, 3, 3)
        def __init__(self):
            super().__init__()
            self.net = DiffusionMLP(DiffusionMLPConfig.tiny(data_dim=9, n_classes=2))

        def forward(self, x, t, labels=None):
            return self.net(x.flatten(1), t, labels).view_as(x)

    x = torch.rand(32, 1, 3, 3)
    y = torch.randint(0, 2, (32,), generator=torch.Generator().manual_seed(1))
    cfg = DiffusionTrainConfig(steps=15, batch_size=8, p_uncond=0.2, n_classes=2, warmup=5)
    runs = []
    for _ in range(2):
        torch.manual_seed(0)
        model = Flat()
        ema = make_ema(model)
        hist = fit_diffusion(model, x, cfg, labels=y, ema_model=ema)
        runs.append((hist["loss"], ema.state_dict()))
    assert runs[0][0] == runs[1][0]
    for k, v in runs[0][1].items():
        assert torch.equal(v, runs[1][1][k])
    assert hist["lr"][0] == pytest.approx(cfg.lr / 5) and hist["lr"][-1] == cfg.lr
    torch.manual_seed(0)
    other = fit_diffusion(Flat(), x, replace(cfg, seed=1), labels=y)
    assert other["loss"] != runs[0][0]


def test_ema_math():
    model = nn.Linear(2, 1)
    ema = make_ema(model)
    assert not any(p.requires_grad for p in ema.parameters()) and not ema.training
    before = [p.clone() for p in ema.parameters()]
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)
    ema_update(ema, model, decay=0.9)
    for e, b, p in zip(ema.parameters(), before, model.parameters(), strict=True):
        assert_close(e, 0.9 * b + 0.1 * p)
    # inside the loop: the EMA moves towards the trained weights, slower than they move
    m = _mlp()
    e = make_ema(m)
    start = [p.clone() for p in m.parameters()]
    fit_diffusion(
        m, torch.randn(64, 2), DiffusionTrainConfig(steps=10, batch_size=16, ema=0.5), ema_model=e
    )
    moved = sum((p - s).abs().sum() for p, s in zip(m.parameters(), start, strict=True))
    moved_ema = sum((p - s).abs().sum() for p, s in zip(e.parameters(), start, strict=True))
    assert 0 < moved_ema < moved


def test_label_dropout():
    y = torch.zeros(10_000, dtype=torch.long)
    dropped = drop_labels(y, 0.25, 10, torch.Generator().manual_seed(0))
    share = (dropped == 10).float().mean().item()
    assert 0.23 < share < 0.27 and set(dropped.unique().tolist()) == {0, 10}
    assert drop_labels(y, 0.0, None) is y


@pytest.mark.parametrize(
    "kwargs",
    [
        {"objective": "score"},
        {"T": 0},
        {"schedule": "sigmoid"},
        {"p_uncond": 1.0},
        {"p_uncond": 0.1},  # without n_classes
        {"ema": 1.0},
        {"grad_clip": 0.0},
        {"weight_decay": -1.0},
        {"warmup": -1},
        {"t_sampler": "beta"},
        {"batch_size": 0},
    ],
)
def test_bad_config(kwargs):
    with pytest.raises(ConfigError) as err:
        DiffusionTrainConfig(**kwargs)
    assert "\n" not in str(err.value)


def test_committed_ring_record_holds_every_seed_sampler_and_step_count():
    from aigc_course.loading import load_pretrained
    from aigc_course.recipes.diffusion import RING_METHODS, RING_STEP_COUNTS
    from aigc_course.recipes.gan import RING_SEEDS

    tensors, meta = load_pretrained("diffusion_ring_8gaussians", device="cpu")
    assert meta["family"] == "record" and meta["seed"] == list(RING_SEEDS)
    for objective, methods in RING_METHODS.items():
        for method in methods:
            for seed in RING_SEEDS:
                curve = tensors[f"{objective}/{method}/seed{seed}/curve"]
                assert curve.shape == (len(RING_STEP_COUNTS), 4)
                for k in RING_STEP_COUNTS:
                    r = meta["metrics"][f"{objective}/{method}/steps{k}/seed{seed}"]
                    assert 0 <= r["high_quality"] <= 1 and 0 <= r["modes_covered"] <= 8
                assert tensors[f"{objective}/{method}/seed{seed}"].shape == (2000, 2)


@pytest.mark.gpu
def test_training_and_sampling_follow_the_model_to_cuda():
    from aigc_course.diffusion import cosine_schedule, sample_eps, sample_flow

    model = _mlp(n_classes=2).cuda()
    x, y = torch.randn(64, 2), torch.randint(0, 2, (64,))
    cfg = DiffusionTrainConfig(steps=5, batch_size=16, p_uncond=0.2, n_classes=2, ema=0.9)
    ema = make_ema(model)
    hist = fit_diffusion(model, x, cfg, labels=y, ema_model=ema)
    assert hist.steps == 5 and all(map(lambda v: v == v, hist["loss"]))  # no NaN under autocast
    cpu = make_ema(ema).cpu()
    labels = torch.tensor([0, 1, 1])
    for fn, kw in ((sample_flow, {}), (sample_eps, {"schedule": cosine_schedule()})):
        outs = [
            fn(
                m,
                (3, 2),
                steps=4,
                labels=labels,
                guidance=2.0,
                n_classes=2,
                generator=torch.Generator().manual_seed(0),
                **kw,
            )
            for m in (ema, cpu)
        ]
        assert outs[0].device.type == "cuda"
        assert_close(outs[0].cpu(), outs[1], rtol=1e-3, atol=1e-3)  # same seed, same samples


def test_ema_warms_up_so_the_average_forgets_the_initial_weights():
    from aigc_course.training.diffusion import ema_decay

    assert ema_decay(0.999, 0) == pytest.approx(0.1)
    assert ema_decay(0.999, 100) == pytest.approx(101 / 110)
    assert ema_decay(0.999, 100_000) == 0.999
    # after 800 steps the average keeps (almost) nothing of the start; a constant 0.999 keeps 45 %
    kept = 1.0
    for i in range(800):
        kept *= ema_decay(0.999, i)
    assert kept < 1e-3 and 0.999**800 > 0.4
    torch.manual_seed(0)
    model = torch.nn.Linear(2, 2)
    ema = make_ema(model)
    with torch.no_grad():
        model.weight.add_(1.0)
    ema_update(ema, model, ema_decay(0.999, 0))  # the first update: 0.1 old + 0.9 new
    torch.testing.assert_close(ema.weight, 0.1 * (model.weight - 1.0) + 0.9 * model.weight)
