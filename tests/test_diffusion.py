"""The diffusion package: closed forms against simulation and Bayes' rule, the schedulers
against diffusers, samplers against a model with a known answer, guidance, bad inputs."""

from __future__ import annotations

import math

import pytest
import torch
from torch.testing import assert_close

from aigc_course.config import ConfigError
from aigc_course.diffusion import (
    NoiseSchedule,
    cosine_schedule,
    ddim_step,
    ddpm_step,
    euler_step,
    flow_interpolate,
    flow_target,
    guided,
    heun_step,
    leading_timesteps,
    linear_schedule,
    nfe,
    noised_gmm_logpdf,
    noised_gmm_score,
    predict_x0,
    q_posterior,
    q_sample,
    sample_eps,
    sample_flow,
)

diffusers = pytest.importorskip("diffusers")

DIFFUSERS_NAME = {"linear": "linear", "cosine": "squaredcos_cap_v2"}
SCHEDULES = {"linear": linear_schedule, "cosine": cosine_schedule}


# ------------------------------------------------------------------- forward process


def test_closed_form_marginal_matches_the_simulated_chain():
    sched = linear_schedule(T=60, beta_start=1e-3, beta_end=0.1)
    g = torch.Generator().manual_seed(0)
    x0 = torch.tensor([1.5, -0.5, 0.0], dtype=torch.float64)
    x = x0.expand(200_000, 3).clone()
    for t in range(sched.T):
        b = float(sched.betas[t])
        x = math.sqrt(1 - b) * x + math.sqrt(b) * torch.randn(x.shape, generator=g, dtype=x.dtype)
        if t in (9, 59):
            ab = float(sched.alpha_bars[t])
            assert_close(x.mean(0), math.sqrt(ab) * x0, atol=0.01, rtol=0)
            assert_close(x.var(0), torch.full((3,), 1 - ab, dtype=x.dtype), atol=0.01, rtol=0)
    # and q_sample draws from that same closed form
    t = torch.full((200_000,), 59, dtype=torch.long)
    xs = q_sample(sched, x0.expand(200_000, 3), t, torch.randn(200_000, 3, generator=g).double())
    assert_close(xs.mean(0), x.mean(0), atol=0.015, rtol=0)


def test_snr_decreases_and_alpha_bar_is_the_product():
    for make in SCHEDULES.values():
        s = make(T=1000)
        assert (s.snr[1:] < s.snr[:-1]).all()
        assert_close(s.alpha_bars, torch.cumprod(1 - s.betas, 0))
        assert s.alpha_bars.dtype == torch.float64 and s.T == 1000


def test_cosine_alpha_bar_follows_its_formula():
    T, s = 1000, 0.008
    sched = cosine_schedule(T)
    f = lambda u: math.cos((u + s) / (1 + s) * math.pi / 2) ** 2
    expected = torch.tensor([f((t + 1) / T) / f(0) for t in range(T)], dtype=torch.float64)
    uncapped = sched.betas < 0.999
    assert uncapped[:-5].all()  # only the last steps hit the cap
    assert_close(sched.alpha_bars[uncapped], expected[uncapped], rtol=1e-9, atol=1e-12)


def test_q_posterior_equals_bayes_rule_on_1d_gaussians():
    sched = cosine_schedule(100)
    x0 = torch.tensor([0.7, -1.2, 2.0], dtype=torch.float64)
    x_t = torch.tensor([0.1, 0.4, -0.8], dtype=torch.float64)
    for t in (1, 17, 99):
        ab_prev = float(sched.alpha_bars[t - 1])
        a_t, b_t = float(sched.alphas[t]), float(sched.betas[t])
        # prior q(x_{t-1} | x0) = N(sqrt(ab_prev) x0, 1 - ab_prev); likelihood
        # q(x_t | x_{t-1}) = N(sqrt(a_t) x_{t-1}, b_t): a Gaussian posterior by completing
        # the square (precisions add)
        precision = 1 / (1 - ab_prev) + a_t / b_t
        mean = (math.sqrt(ab_prev) * x0 / (1 - ab_prev) + math.sqrt(a_t) * x_t / b_t) / precision
        got_mean, got_var = q_posterior(sched, x0, x_t, torch.full((3,), t))
        assert_close(got_mean, mean, rtol=0, atol=1e-10)
        assert_close(
            got_var.flatten(),
            torch.full((3,), 1 / precision, dtype=torch.float64),
            rtol=0,
            atol=1e-10,
        )
    mean0, var0 = q_posterior(sched, x0, x_t, torch.zeros(3, dtype=torch.long))
    assert_close(mean0, x0)
    assert_close(var0.flatten(), torch.zeros(3, dtype=torch.float64))


def test_q_posterior_by_quadrature():
    sched = linear_schedule(50, 1e-3, 0.2)
    t, x0, xt = 30, 0.8, -0.3
    ab_prev, a_t, b_t = (
        float(v[i]) for v, i in ((sched.alpha_bars, t - 1), (sched.alphas, t), (sched.betas, t))
    )
    grid = torch.linspace(-8, 8, 200_001, dtype=torch.float64)
    log_p = -((grid - math.sqrt(ab_prev) * x0) ** 2) / (2 * (1 - ab_prev)) - (
        (xt - math.sqrt(a_t) * grid) ** 2
    ) / (2 * b_t)
    w = torch.softmax(log_p, 0)
    m = (w * grid).sum()
    v = (w * (grid - m) ** 2).sum()
    got_m, got_v = q_posterior(
        sched,
        torch.tensor([x0], dtype=torch.float64),
        torch.tensor([xt], dtype=torch.float64),
        torch.tensor([t]),
    )
    assert_close(got_m[0], m, rtol=0, atol=1e-8)
    assert_close(got_v.flatten()[0], v, rtol=0, atol=1e-8)


# ---------------------------------------------------------------- against diffusers


@pytest.mark.parametrize("name", ["linear", "cosine"])
def test_schedules_equal_diffusers(name):
    ref = diffusers.DDPMScheduler(num_train_timesteps=1000, beta_schedule=DIFFUSERS_NAME[name])
    ours = SCHEDULES[name](1000)
    # diffusers keeps its betas in float32: agreement to float32 precision
    assert_close(ours.betas.float(), ref.betas, rtol=1e-5, atol=1e-7)
    assert_close(ours.alpha_bars.float(), ref.alphas_cumprod, rtol=1e-5, atol=1e-7)


def _eps_pair(seed=0, shape=(4, 3, 2)):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=g), torch.randn(shape, generator=g)


def test_q_sample_equals_add_noise():
    ref = diffusers.DDPMScheduler(beta_schedule="squaredcos_cap_v2")
    x0, noise = _eps_pair()
    t = torch.tensor([0, 10, 500, 999])
    assert_close(q_sample(cosine_schedule(), x0, t, noise), ref.add_noise(x0, noise, t))


@pytest.mark.parametrize("t", [999, 500, 1, 0])
def test_ddpm_step_equals_diffusers(t):
    ref = diffusers.DDPMScheduler(
        beta_schedule="squaredcos_cap_v2", variance_type="fixed_small", clip_sample=False
    )
    eps, x = _eps_pair(t)
    # diffusers draws its variance noise as randn_tensor(shape, generator) on the CPU: the
    # same call on a generator with the same seed gives the same noise
    expected = ref.step(eps, t, x, generator=torch.Generator().manual_seed(7)).prev_sample
    noise = torch.randn(x.shape, generator=torch.Generator().manual_seed(7))
    # diffusers computes in float32, the course's schedule in float64: near t = 0 the
    # division by 1 - alpha_bar_t amplifies float32 rounding to ~1e-5
    got = ddpm_step(cosine_schedule(), eps, x, t, noise)
    assert_close(got, expected, rtol=1e-4, atol=1e-4)


def test_strided_ddpm_step_equals_diffusers():
    ref = diffusers.DDPMScheduler(beta_schedule="linear", clip_sample=False)
    ref.set_timesteps(10)
    eps, x = _eps_pair(3)
    for t in (900, 300):
        expected = ref.step(eps, t, x, generator=torch.Generator().manual_seed(1)).prev_sample
        noise = torch.randn(x.shape, generator=torch.Generator().manual_seed(1))
        got = ddpm_step(linear_schedule(), eps, x, t, noise, t_prev=t - 100)
        assert_close(got, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("eta", [0.0, 0.6])
def test_ddim_step_equals_diffusers(eta):
    ref = diffusers.DDIMScheduler(beta_schedule="squaredcos_cap_v2", clip_sample=False)
    ref.set_timesteps(20)  # leading spacing: 950, 900, ..., 0
    eps, x = _eps_pair(5)
    noise = torch.randn(x.shape, generator=torch.Generator().manual_seed(2))
    for t in (950, 500, 0):  # t = 0 steps to t_prev = -50: alpha_bar_prev = 1
        expected = ref.step(eps, t, x, eta=eta, variance_noise=noise).prev_sample
        got = ddim_step(cosine_schedule(), eps, x, t, t - 50, eta=eta, noise=noise)
        assert_close(got, expected, rtol=1e-5, atol=1e-5)


def test_flow_euler_step_equals_diffusers():
    # Same convention (x_t = (1 - sigma) x0 + sigma eps, v = eps - x0, shift = 1), but
    # diffusers feeds the network timestep = 1000 sigma and its default grid ends at
    # sigma = 1/1000 before jumping to 0; with an explicit sigma grid the updates coincide.
    ref = diffusers.FlowMatchEulerDiscreteScheduler(num_train_timesteps=1000, shift=1.0)
    sigmas = [1.0, 0.75, 0.5, 0.25]
    ref.set_timesteps(sigmas=sigmas)
    _, x = _eps_pair(4)
    ours = x.clone()
    for i, t in enumerate(ref.timesteps):
        v = torch.tanh(x) - 0.3 * x  # any velocity field
        x = ref.step(v, t, x).prev_sample
        ours = euler_step(torch.tanh(ours) - 0.3 * ours, ours, sigmas[i], ([*sigmas, 0.0])[i + 1])
        assert_close(ours, x, rtol=1e-6, atol=1e-6)


def _toy_eps(x, t, labels=None):
    return 0.5 * torch.tanh(x) + 1e-4 * t.reshape(-1, *[1] * (x.ndim - 1)) * x


def test_whole_ddim_sampler_equals_a_diffusers_loop():
    sched = cosine_schedule()
    ref = diffusers.DDIMScheduler(beta_schedule="squaredcos_cap_v2", clip_sample=False)
    ref.set_timesteps(10)
    assert ref.timesteps.tolist() == leading_timesteps(1000, 10)
    shape = (6, 1, 4, 4)
    x = torch.randn(shape, generator=torch.Generator().manual_seed(11))
    for t in ref.timesteps:
        x = ref.step(_toy_eps(x, t.float().expand(shape[0])), t, x).prev_sample
    ours = sample_eps(_toy_eps, shape, sched, steps=10, generator=torch.Generator().manual_seed(11))
    assert_close(ours, x, rtol=1e-5, atol=1e-5)


# ------------------------------------------------------------------------ guidance


def _labelled(x, t, labels):
    return x + labels.float().reshape(-1, 1) ** 2 + 0.1 * t.reshape(-1, 1)


def test_guidance_scales_and_the_swapped_mistake():
    x = torch.randn(5, 2, generator=torch.Generator().manual_seed(0))
    t = torch.full((5,), 3.0)
    y = torch.tensor([0, 1, 2, 3, 1])
    cond, uncond = _labelled(x, t, y), _labelled(x, t, torch.full_like(y, 4))
    assert_close(guided(_labelled, x, t, y, 1.0, n_classes=4), cond)
    assert_close(guided(_labelled, x, t, y, 0.0, n_classes=4), uncond)
    right = guided(_labelled, x, t, y, 3.0, n_classes=4)
    assert_close(right, uncond + 3 * (cond - uncond))
    swapped = cond + 3 * (uncond - cond)  # the common mistake: the two terms exchanged
    assert (right - swapped).abs().max() > 1.0


def _labelled_or_plain(x, t, labels):
    return x + 0.1 * t.reshape(-1, 1) if labels is None else _labelled(x, t, labels)


def test_guided_without_labels_is_the_plain_model():
    x = torch.ones(3, 2)
    t = torch.ones(3)
    assert_close(guided(_labelled_or_plain, x, t, None, 5.0, n_classes=4), x + 0.1)


# ------------------------------------------------------------------- exact scores


def test_gmm_score_equals_autograd_of_its_logpdf():
    from aigc_course.metrics.image import ring_centers

    means = ring_centers().double()
    weights = torch.full((8,), 1 / 8, dtype=torch.float64)
    x = torch.randn(50, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * 2
    for ab in (0.999, 0.5, 0.01):
        xr = x.clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(noised_gmm_logpdf(xr, means, weights, 0.05, ab).sum(), xr)
        assert_close(noised_gmm_score(x, means, weights, 0.05, ab), grad)
    # at alpha_bar -> 0 the noised data is N(0, I): score -x
    assert_close(noised_gmm_score(x, means, weights, 0.05, 1e-12), -x, atol=1e-5, rtol=0)


# ---------------------------------------- samplers on data with a known optimal model

MU, SIGMA0 = torch.tensor([1.0, -2.0]), 0.5


def _optimal_eps(sched):
    ab_all = sched.alpha_bars.float()

    def eps(x, t, labels=None):
        ab = ab_all[t.long()].reshape(-1, 1)
        var = ab * SIGMA0**2 + 1 - ab  # Var x_t; Cov(eps, x_t) = sqrt(1 - ab)
        return (1 - ab).sqrt() * (x - ab.sqrt() * MU) / var

    return eps


def _optimal_velocity(x, t, labels=None):
    t = t.reshape(-1, 1)
    var = (1 - t) ** 2 * SIGMA0**2 + t**2  # Var x_t for x_t = (1 - t) x0 + t eps
    # E[eps - x0 | x_t]: Cov(eps, x_t) = t, Cov(x0, x_t) = (1 - t) sigma0^2
    return (t - (1 - t) * SIGMA0**2) * (x - (1 - t) * MU) / var - MU


def _moments_error(x):
    return float((x.mean(0) - MU).abs().max()), float((x.std(0) - SIGMA0).abs().max())


def test_samplers_recover_a_gaussian_with_the_optimal_model():
    sched = cosine_schedule()
    n = 20_000
    for method in ("ddim", "ddpm"):
        x = sample_eps(
            _optimal_eps(sched),
            (n, 2),
            sched,
            steps=100,
            method=method,
            generator=torch.Generator().manual_seed(0),
        )
        dm, ds = _moments_error(x)
        assert dm < 0.03 and ds < 0.03, (method, dm, ds)
    for method in ("euler", "heun"):
        x = sample_flow(
            _optimal_velocity,
            (n, 2),
            steps=100,
            method=method,
            generator=torch.Generator().manual_seed(0),
        )
        dm, ds = _moments_error(x)
        assert dm < 0.03 and ds < 0.03, (method, dm, ds)


def test_heun_beats_euler_at_equal_evaluations():
    n = 20_000
    k = 3  # Heun: 2k = 6 evaluations; Euler with 6 steps
    assert nfe("heun", k) == nfe("euler", 2 * k) == 6
    g = lambda: torch.Generator().manual_seed(1)
    heun = sample_flow(_optimal_velocity, (n, 2), steps=k, method="heun", generator=g())
    euler = sample_flow(_optimal_velocity, (n, 2), steps=2 * k, method="euler", generator=g())
    err_heun, err_euler = sum(_moments_error(heun)), sum(_moments_error(euler))
    assert err_heun < 0.5 * err_euler, (err_heun, err_euler)


def test_flow_trajectory_and_path():
    x0, noise = _eps_pair(0, (5, 2))
    t = torch.tensor([0.0, 0.25, 0.5, 0.75, 1.0])
    xt = flow_interpolate(x0, noise, t)
    assert_close(xt[0], x0[0])
    assert_close(xt[-1], noise[-1])
    assert_close(flow_target(x0, noise), noise - x0)
    # the straight path is an exact solution of its own velocity: one Euler step is exact
    assert_close(euler_step(flow_target(x0, noise), noise, 1.0, 0.0), x0)
    x, traj = sample_flow(
        _optimal_velocity,
        (7, 2),
        steps=4,
        trajectory=True,
        generator=torch.Generator().manual_seed(0),
    )
    assert len(traj) == 5 and all(s.shape == (7, 2) for s in traj)
    assert_close(traj[-1], x)


def test_heun_step_evaluates_both_ends():
    calls = []

    def v(x, t):
        calls.append(t)
        return torch.ones_like(x)

    out = heun_step(v, torch.zeros(2, 2), 0.5, 0.25)
    heun_step(v, torch.zeros(2, 2), 0.25, 0.0)
    assert calls == [0.5, 0.25, 0.25, 0.0]  # two evaluations a step, also the last
    assert_close(out, torch.full((2, 2), -0.25))


def test_same_seed_same_samples():
    sched = cosine_schedule()
    a = sample_eps(
        _toy_eps, (3, 2), sched, steps=5, method="ddpm", generator=torch.Generator().manual_seed(4)
    )
    b = sample_eps(
        _toy_eps, (3, 2), sched, steps=5, method="ddpm", generator=torch.Generator().manual_seed(4)
    )
    assert torch.equal(a, b)


def test_predict_x0_inverts_q_sample():
    sched = linear_schedule()
    x0, noise = _eps_pair(1, (4, 2))
    t = torch.tensor([0, 100, 500, 999])
    assert_close(
        predict_x0(sched, q_sample(sched, x0, t, noise), t, noise), x0, rtol=1e-4, atol=1e-3
    )


# ------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "call",
    [
        lambda: linear_schedule(T=0),
        lambda: cosine_schedule(T=0),
        lambda: linear_schedule(10, beta_start=0.0),
        lambda: linear_schedule(10, beta_end=1.5),
        lambda: NoiseSchedule(torch.tensor([0.5, 1.0])),
        lambda: sample_eps(_toy_eps, (2, 2), cosine_schedule(), steps=0),
        lambda: sample_eps(_toy_eps, (2, 2), cosine_schedule(), steps=2000),
        lambda: sample_eps(_toy_eps, (2, 2), cosine_schedule(), steps=5, method="euler"),
        lambda: sample_flow(_optimal_velocity, (2, 2), steps=-1),
        lambda: sample_flow(_optimal_velocity, (2, 2), steps=4, method="rk4"),
        lambda: sample_flow(_optimal_velocity, (2, 2), steps=4, guidance=3.0),
        lambda: sample_eps(_toy_eps, (2, 2), cosine_schedule(), steps=4, guidance=2.0),
        lambda: sample_flow(_labelled, (2, 2), steps=4, labels=torch.tensor([0, 1]), guidance=2.0),
        lambda: nfe("ddim", 0),
        lambda: nfe("dpm", 4),
    ],
)
def test_bad_inputs_raise_one_line_config_errors(call):
    with pytest.raises(ConfigError) as err:
        call()
    assert "\n" not in str(err.value) and str(err.value)
