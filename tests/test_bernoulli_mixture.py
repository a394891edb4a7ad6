import math

import pytest
import torch
from torch import distributions as D

from aigc_course.models.bernoulli_mixture import (
    BernoulliMixture,
    MixtureConfig,
    fit_independent,
    fit_mixture,
    nats_to_bits_per_pixel,
)


def _data(n=400, d=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    protos = (torch.rand(3, d, generator=g) > 0.5).float() * 0.8 + 0.1
    k = torch.randint(0, 3, (n,), generator=g)
    return torch.bernoulli(protos[k], generator=g)


def test_log_prob_matches_torch_distributions():
    g = torch.Generator().manual_seed(1)
    model = BernoulliMixture(MixtureConfig(4, 10))
    model.theta = torch.rand(4, 10, generator=g).clamp(0.05, 0.95)
    model.logit_pi = torch.randn(4, generator=g)
    ref = D.MixtureSameFamily(
        D.Categorical(logits=model.logit_pi),
        D.Independent(D.Bernoulli(probs=model.theta), 1),
    )
    x = torch.bernoulli(torch.full((7, 10), 0.4), generator=g)
    torch.testing.assert_close(model.log_prob(x), ref.log_prob(x))


def test_independent_fit_is_the_mle():
    x = _data()
    model = fit_independent(x, smoothing=0.0)
    torch.testing.assert_close(model.theta[0], x.mean(0).clamp(1e-4, 1 - 1e-4))
    # at the MLE, nudging any θ_d lowers the likelihood
    base = model.log_prob(x).sum()
    for delta in (1e-3, -1e-3):
        other = fit_independent(x, smoothing=0.0)
        other.theta = (other.theta + delta).clamp(1e-4, 1 - 1e-4)
        assert other.log_prob(x).sum() < base


def test_em_never_decreases_likelihood_and_beats_independent():
    x = _data()
    model, hist = fit_mixture(
        x,
        MixtureConfig(3, 16, smoothing=0.0),
        n_iter=15,
        generator=torch.Generator().manual_seed(0),
    )
    assert all(b >= a - 1e-5 for a, b in zip(hist, hist[1:], strict=False))
    indep = fit_independent(x).log_prob(x).mean()
    assert model.log_prob(x).mean() > indep + 1.0


def test_sampling_shapes_and_determinism():
    model = fit_independent(_data())
    a = model.sample(5, torch.Generator().manual_seed(3))
    b = model.sample(5, torch.Generator().manual_seed(3))
    assert a.shape == (5, 16) and set(a.unique().tolist()) <= {0.0, 1.0}
    torch.testing.assert_close(a, b)


def test_bad_inputs():
    with pytest.raises(ValueError, match="n_components"):
        MixtureConfig(0, 10)
    with pytest.raises(ValueError, match=r"x must be \(N, 16\)"):
        fit_independent(_data()).log_prob(torch.zeros(3, 8))
    with pytest.raises(ValueError, match="at least"):
        fit_mixture(torch.zeros(2, 16), MixtureConfig(3, 16))


def test_units():
    assert nats_to_bits_per_pixel(784 * math.log(2)) == pytest.approx(1.0)


def test_committed_mixture_loads_by_name_and_matches_its_record():
    from aigc_course.checkpoint import checkpoint_exists, pretrained_path
    from aigc_course.data.mnist import binarise, load_mnist
    from aigc_course.loading import load_pretrained

    if not checkpoint_exists(pretrained_path("bernoulli_mixture_mnist")):
        pytest.skip("bernoulli_mixture_mnist is not committed")
    model, meta = load_pretrained("bernoulli_mixture_mnist", "cpu")
    assert isinstance(model, BernoulliMixture) and meta["family"] == "bernoulli_mixture"
    data = load_mnist(verbose=False)
    if data.source != meta["data_source"]:
        pytest.skip(f"recorded on {meta['data_source']}, the data here are {data.source}")
    nll = -model.log_prob(binarise(data.x_test)).mean().item()
    assert abs(nll - meta["metrics"]["test_nll_nats"]) < 0.5


@pytest.mark.gpu
def test_em_follows_the_data_to_cuda():
    x = torch.bernoulli(torch.full((60, 784), 0.3), generator=torch.Generator().manual_seed(0))
    x = x.cuda()
    model, history = fit_mixture(x, MixtureConfig.tiny(), 3, torch.Generator().manual_seed(0))
    assert model.theta.device.type == "cuda" and model.log_prob(x).device.type == "cuda"
    indep = fit_independent(x)
    assert indep.log_prob(x).device.type == "cuda"
