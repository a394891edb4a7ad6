"""LoRA: equal to the base at initialisation, merging, checkpoints, and ``peft``'s numbers."""

from __future__ import annotations

import copy
import warnings

import pytest
import torch
from torch import nn

from aigc_course.adapt.lora import (
    LoRAConfig,
    LoRALinear,
    apply_lora,
    count_parameters,
    load_lora_state_dict,
    lora_layers,
    lora_parameter_count,
    lora_state_dict,
    merge_lora,
    peft_config,
    save_adapter,
    to_peft_state_dict,
)
from aigc_course.checkpoint import CheckpointError
from aigc_course.loading import load_pretrained
from aigc_course.models.transformer_lm import GPT, Conv1D, GPTConfig
from aigc_course.tokenizer import CharTokenizer
from aigc_course.training.lm import save_lm

VOCAB = 29
ALL = ("c_attn", "c_proj", "c_fc")


def tiny_gpt(seed: int = 0) -> GPT:
    torch.manual_seed(seed)
    model = GPT(GPTConfig(VOCAB, block_size=32, n_layer=2, n_head=2, n_embd=16, dropout=0.0))
    with torch.no_grad():  # move biases and norms off their init so the comparisons can fail
        for p in model.parameters():
            if p.ndim == 1:
                p.add_(0.1 * torch.randn_like(p))
    return model.eval()


def randomise_b(model: nn.Module, seed: int = 1, scale: float = 0.5) -> nn.Module:
    """Non-zero B (as after training), so an adapter changes the model's output."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for layer in lora_layers(model).values():
            layer.lora_B.copy_(scale * torch.randn(layer.lora_B.shape, generator=g))
    return model


def ids(n: int = 3, t: int = 32, seed: int = 0) -> torch.Tensor:
    return torch.randint(0, VOCAB, (n, t), generator=torch.Generator().manual_seed(seed))


def logits(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return model(x)[0]


@pytest.fixture(scope="module")
def base() -> GPT:
    return tiny_gpt()


# -- the layer ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["linear", "conv1d"])
def test_adapter_starts_equal_to_the_base_layer(kind):
    torch.manual_seed(0)
    layer = nn.Linear(12, 7) if kind == "linear" else Conv1D(12, 7)
    x = torch.randn(5, 3, 12)
    before = layer(x).detach()
    lora = LoRALinear(layer, r=4, alpha=8.0)
    assert torch.equal(lora(x), before)  # B = 0: exactly the base
    assert lora.lora_A.shape == (4, 12) and lora.lora_B.shape == (7, 4)
    assert lora.lora_A.abs().sum() > 0  # A is random: the gradient reaches B
    assert not any(p.requires_grad for p in lora.base.parameters())
    # with B ≠ 0 the update is exactly scaling · x Aᵀ Bᵀ, and delta_weight is in the layer's layout
    with torch.no_grad():
        lora.lora_B.normal_()
    expected = before + 2.0 * (x @ lora.lora_A.T @ lora.lora_B.T)
    torch.testing.assert_close(lora(x), expected, atol=1e-5, rtol=1e-5)
    delta = 2.0 * lora.lora_B @ lora.lora_A  # (out, in)
    torch.testing.assert_close(lora.delta_weight(), delta if kind == "linear" else delta.T)


def test_adapted_gpt_starts_equal_to_the_base(base):
    model = apply_lora(copy.deepcopy(base), r=4, alpha=8.0, targets=ALL)
    x = ids()
    assert torch.equal(logits(model, x), logits(base, x))
    assert len(lora_layers(model)) == 2 * 4  # c_attn, attn.c_proj, c_fc, mlp.c_proj per block
    randomise_b(model)
    assert (logits(model, x) - logits(base, x)).abs().max() > 1e-2


def test_linear_targets_are_adapted_too():
    torch.manual_seed(0)
    model = nn.Sequential()
    model.c_fc, model.act, model.c_proj = nn.Linear(6, 10), nn.ReLU(), nn.Linear(10, 6)
    x = torch.randn(4, 6)
    before = model(x).detach()
    apply_lora(model, r=2, alpha=4.0, targets=("c_fc", "c_proj"))
    assert set(lora_layers(model)) == {"c_fc", "c_proj"}
    assert torch.equal(model(x), before)
    randomise_b(model)
    after = model(x).detach()
    assert (after - before).abs().max() > 1e-3
    merge_lora(model)
    assert isinstance(model.c_fc, nn.Linear) and isinstance(model.c_proj, nn.Linear)
    torch.testing.assert_close(model(x), after, atol=1e-5, rtol=1e-5)


# -- what trains -----------------------------------------------------------------------


def test_only_the_adapter_trains_and_the_count_is_r_times_in_plus_out(base):
    r = 4
    model = apply_lora(copy.deepcopy(base), r=r, alpha=8.0, targets=("c_attn", "c_proj"))
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable and all(n.endswith((".lora_A", ".lora_B")) for n in trainable)
    n_train, n_total = count_parameters(model)
    _, n_base = count_parameters(base)
    # by hand, n_embd 16: c_attn 16→48, attn.c_proj 16→16, mlp.c_proj 64→16; two blocks
    by_hand = 2 * (r * (16 + 48) + r * (16 + 16) + r * (64 + 16))
    shapes = [(16, 48), (16, 16), (64, 16)] * 2
    assert n_train == lora_parameter_count(shapes, r) == by_hand == 1408
    assert n_total == n_base + by_hand
    assert len(lora_state_dict(model)) == 2 * len(lora_layers(model))


def test_same_seed_gives_the_same_adapter(base):
    def adapter(seed):
        torch.manual_seed(seed)
        return lora_state_dict(apply_lora(copy.deepcopy(base), r=4, targets=ALL))

    a, b, c = adapter(3), adapter(3), adapter(4)
    assert a.keys() == b.keys() == c.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert any(not torch.equal(a[k], c[k]) for k in a if k.endswith("lora_A"))


def _train_a_few_steps(model: nn.Module, steps: int = 5) -> nn.Module:
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=1e-2)
    model.train()
    for i in range(steps):
        x = ids(4, 32, seed=10 + i)
        _, loss = model(x[:, :-1], x[:, 1:])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval()


def test_merge_after_training_gives_the_adapters_logits(base):
    model = _train_a_few_steps(apply_lora(copy.deepcopy(base), r=4, alpha=8.0, targets=ALL))
    frozen = {k: v for k, v in model.state_dict().items() if "lora_" not in k}
    for k, v in frozen.items():  # the base weights did not move
        assert torch.equal(v, base.state_dict()[k.replace(".base.", ".")]), k
    assert all(layer.lora_B.abs().max() > 0 for layer in lora_layers(model).values())
    x = ids()
    unmerged = logits(model, x)
    assert (unmerged - logits(base, x)).abs().max() > 1e-3
    merge_lora(model)
    assert not lora_layers(model) and not hasattr(model, "lora_config")
    assert all(p.requires_grad for p in model.parameters())
    assert set(model.state_dict()) == set(base.state_dict())
    torch.testing.assert_close(logits(model, x), unmerged, atol=1e-5, rtol=1e-5)


def test_the_conv1d_transpose_matters(base):
    """Merging (B A) into a Conv1D without the transpose (peft's fan_in_fan_out=False
    mistake) gives other logits: the (in, out) layout is not a detail."""
    model = randomise_b(apply_lora(copy.deepcopy(base), r=4, alpha=8.0, targets=("c_proj",)))
    x = ids()
    right = logits(model, x)
    wrong = copy.deepcopy(base)
    with torch.no_grad():
        for name, layer in lora_layers(model).items():
            if layer.base.weight.shape[0] == layer.base.weight.shape[1]:  # attn.c_proj is square
                wrong.get_submodule(name).weight += layer.delta_weight().T
            else:
                wrong.get_submodule(name).weight += layer.delta_weight()
    assert (logits(wrong, x) - right).abs().max() > 1e-2
    torch.testing.assert_close(logits(merge_lora(model), x), right, atol=1e-5, rtol=1e-5)


# -- errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"r": 0}, "rank r must be a positive integer"),
        ({"r": -2}, "rank r must be a positive integer"),
        ({"r": 2.0}, "rank r must be a positive integer"),
        ({"alpha": 0.0}, "alpha must be positive"),
        ({"alpha": -1.0}, "alpha must be positive"),
        ({"targets": ("c_attn", "wte")}, "targets must be a non-empty subset"),
        ({"targets": ()}, "targets must be a non-empty subset"),
        ({"dropout": 1.0}, "dropout must be in"),
    ],
)
def test_bad_configs_are_one_line_errors(kw, match):
    with pytest.raises(ValueError, match=match) as err:
        LoRAConfig(**kw)
    assert "\n" not in str(err.value)


def test_applying_twice_and_foreign_adapters_are_refused(base):
    model = apply_lora(copy.deepcopy(base), r=4, targets=("c_attn",))
    with pytest.raises(ValueError, match="already has LoRA layers") as err:
        apply_lora(model, r=4, targets=("c_fc",))
    assert "\n" not in str(err.value)
    other_rank = lora_state_dict(apply_lora(copy.deepcopy(base), r=2, targets=("c_attn",)))
    with pytest.raises(ValueError, match="another rank") as err:
        load_lora_state_dict(model, other_rank)
    assert "\n" not in str(err.value)
    other_targets = lora_state_dict(apply_lora(copy.deepcopy(base), r=4, targets=("c_fc",)))
    with pytest.raises(ValueError, match="does not fit this model") as err:
        load_lora_state_dict(model, other_targets)
    assert "\n" not in str(err.value)
    with pytest.raises(ValueError, match="no layer named"):
        apply_lora(nn.Sequential(nn.Linear(3, 3)), r=2)
    with pytest.raises(ValueError, match="no LoRA layers"):
        save_adapter("unused", copy.deepcopy(base), base="char_transformer")


# -- checkpoints -------------------------------------------------------------------------


def test_adapter_checkpoints_round_trip_through_the_loader(base, tmp_path):
    tok = CharTokenizer([chr(ord("a") + i) for i in range(26)] + [" ", "\n", "?"])
    assert tok.vocab_size == VOCAB
    save_lm(tmp_path / "base", base, tok, {"recipe": "test"})
    first = randomise_b(apply_lora(copy.deepcopy(base), r=4, alpha=8.0, targets=ALL), seed=2)
    save_adapter(tmp_path / "first", first, base=str(tmp_path / "base"), meta={"seed": 0})
    x = ids()

    loaded, meta = load_pretrained(tmp_path / "first", "cpu")
    assert meta["family"] == "lora" and meta["seed"] == 0
    assert meta["lora"] == {"r": 4, "alpha": 8.0, "targets": list(ALL), "dropout": 0.0}
    assert meta["tokenizer"].chars == tok.chars  # the base's tokenizer comes along
    assert loaded.lora_config == first.lora_config and set(lora_layers(loaded))
    torch.testing.assert_close(logits(loaded, x), logits(first, x), atol=1e-6, rtol=1e-6)

    # an adapter on an adapter: the first is merged, the second applied on top, unmerged
    second = merge_lora(copy.deepcopy(first))
    apply_lora(second, r=2, alpha=2.0, targets=("c_fc",))
    randomise_b(second, seed=3)
    save_adapter(tmp_path / "second", second, base=str(tmp_path / "first"))
    stacked, _ = load_pretrained(tmp_path / "second", "cpu")
    assert set(lora_layers(stacked)) == {"transformer.h.0.mlp.c_fc", "transformer.h.1.mlp.c_fc"}
    expected = logits(second, x)
    assert (expected - logits(first, x)).abs().max() > 1e-3  # the second adapter matters
    torch.testing.assert_close(logits(stacked, x), expected, atol=1e-5, rtol=1e-5)

    # an adapter of another rank under the same name: the loader says so, on one line
    wrong = randomise_b(apply_lora(copy.deepcopy(base), r=8, targets=ALL))
    save_adapter(tmp_path / "wrong", wrong, base=str(tmp_path / "base"))
    sidecar = tmp_path / "wrong.json"
    import json

    record = json.loads(sidecar.read_text())
    record["lora"]["r"] = 4
    sidecar.write_text(json.dumps(record))
    with pytest.raises(CheckpointError, match="another rank") as err:
        load_pretrained(tmp_path / "wrong", "cpu")
    assert "\n" not in str(err.value)


# -- peft --------------------------------------------------------------------------------


def _peft_model(base: GPT, config):
    from peft import get_peft_model

    from aigc_course.hf import to_gpt2

    with warnings.catch_warnings():
        # transformers 5 deprecates a name peft still calls; nothing to do with the numbers
        warnings.filterwarnings(
            "ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning
        )
        return get_peft_model(to_gpt2(base), config).eval()


@pytest.fixture(scope="module")
def adapted(base) -> GPT:
    torch.manual_seed(5)
    return randomise_b(apply_lora(copy.deepcopy(base), r=4, alpha=8.0, targets=ALL)).eval()


def test_peft_gives_the_same_logits(base, adapted):
    pm = _peft_model(base, peft_config(adapted.lora_config))
    state = to_peft_state_dict(adapted)
    assert len(state) == 2 * 2 * 4
    result = pm.load_state_dict(state, strict=False)
    assert not result.unexpected_keys
    assert not [k for k in result.missing_keys if "lora_" in k]  # every adapter weight landed
    x = ids()
    with torch.no_grad():
        theirs = pm(input_ids=x).logits
    ours = logits(adapted, x)
    assert (ours - logits(base, x)).abs().max() > 1e-2
    torch.testing.assert_close(theirs, ours, atol=1e-5, rtol=1e-5)
    trainable = sum(p.numel() for p in pm.parameters() if p.requires_grad)
    assert trainable == count_parameters(adapted)[0]


def test_peft_corrects_fan_in_fan_out_on_conv1d_with_a_warning(base, adapted):
    """GPT-2's Conv1D stores (in, out). peft 0.21 does not compute wrong numbers with
    ``fan_in_fan_out=False``: it warns and switches it on (pinned here)."""
    import dataclasses

    config = dataclasses.replace(peft_config(adapted.lora_config), fan_in_fan_out=False)
    with pytest.warns(UserWarning, match="fan_in_fan_out is set to False.*Conv1D"):
        pm = _peft_model(base, config)
    assert pm.peft_config["default"].fan_in_fan_out is True
    pm.load_state_dict(to_peft_state_dict(adapted), strict=False)
    x = ids()
    with torch.no_grad():
        theirs = pm(input_ids=x).logits
    torch.testing.assert_close(theirs, logits(adapted, x), atol=1e-5, rtol=1e-5)


def test_peft_merge_equals_the_course_merge(base, adapted):
    pm = _peft_model(base, peft_config(adapted.lora_config))
    pm.load_state_dict(to_peft_state_dict(adapted), strict=False)
    merged_hf = pm.merge_and_unload()
    merged = merge_lora(copy.deepcopy(adapted))
    ours = merged.state_dict()
    theirs = merged_hf.state_dict()
    for name in lora_layers(adapted):
        torch.testing.assert_close(
            theirs[f"{name}.weight"], ours[f"{name}.weight"], atol=1e-6, rtol=1e-6
        )
    x = ids()
    with torch.no_grad():
        torch.testing.assert_close(
            merged_hf(input_ids=x).logits, logits(merged, x), atol=1e-5, rtol=1e-5
        )
