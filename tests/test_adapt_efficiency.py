"""The data-efficiency experiment of chapter 07: determinism, selection on validation only,
measured optimizer state, the summary, and the committed records."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from aigc_course.adapt import efficiency as ef
from aigc_course.adapt.lora import count_parameters

TINY = {"steps": 3, "batch_size": 2, "eval_every": 1}


@pytest.fixture(scope="module")
def data() -> ef.CopyData:
    d = ef.copy_data()
    return dataclasses.replace(d, val=d.val[:3], test=d.test[:3], test_products=d.test_products[:3])


@pytest.fixture(scope="module")
def windows() -> torch.Tensor:
    _, tok = ef.base_model("cpu")
    return ef.pydoc_windows(tok, n=2, length=32)


def test_copy_data_splits_are_disjoint_and_unseen() -> None:
    d = ef.copy_data()
    train = {e.key for e in d.train}
    val, test = {e.key for e in d.val}, {e.key for e in d.test}
    assert len(d.val) == len(d.test) > 0 and len(val) == len(d.val) and len(test) == len(d.test)
    assert not val & test and not (val | test) & train
    assert [p.prompt()[:-1] for p in d.test_products] == [e.key for e in d.test]


def test_train_subset_is_seeded_nested_and_checked(data: ef.CopyData) -> None:
    a, b = ef.train_subset(data, 50, 0), ef.train_subset(data, 200, 0)
    assert a == b[:50] and a == ef.train_subset(data, 50, 0)
    assert a != ef.train_subset(data, 50, 1)
    assert len(ef.train_subset(data, None, 0)) == len(data.train)
    for bad in (0, len(data.train) + 1, 2.5):
        with pytest.raises(ValueError, match="n_examples"):
            ef.train_subset(data, bad, 0)


def test_unknown_method_is_refused() -> None:
    with pytest.raises(ValueError, match="method must be one of"):
        ef.build_model("prefix", 0)


def test_run_adaptation_is_deterministic_per_seed(data, windows) -> None:
    kw = dict(lr=1e-3, data=data, windows=windows, **TINY)
    a = ef.run_adaptation("lora", 8, 0, **kw)
    b = ef.run_adaptation("lora", 8, 0, **kw)
    c = ef.run_adaptation("lora", 8, 1, **kw)
    for key in ("best_step", "val_bpc", "val_curve", "test_bpc", "faithful", "samples"):
        assert a[key] == b[key], key
    assert a["val_curve"] != c["val_curve"]
    assert a["val_bpc"] == pytest.approx(min(b for _, b in a["val_curve"]), abs=1e-4)
    assert a["pydoc_bpc"] > 0 and a["faithful"]["n"] == 3


def test_selection_sees_validation_examples_only(data, monkeypatch) -> None:
    seen: list[set[str]] = []
    real = ef.response_bits_per_char

    def spy(model, tok, examples, *a, **k):
        seen.append({e.instruction for e in examples})
        return real(model, tok, examples, *a, **k)

    monkeypatch.setattr(ef, "response_bits_per_char", spy)
    row = ef.run_adaptation("full", 8, 0, lr=1e-3, data=data, score_test=False, **TINY)
    val = {e.instruction for e in data.val}
    assert len(seen) == TINY["steps"] and all(s == val for s in seen)
    assert "test_bpc" not in row and "faithful" not in row
    # and the test set cannot move the chosen step: other test examples, same selection
    other = dataclasses.replace(data, test=data.train[:3])
    again = ef.run_adaptation("full", 8, 0, lr=1e-3, data=other, score_test=False, **TINY)
    assert (again["best_step"], again["val_curve"]) == (row["best_step"], row["val_curve"])


def test_the_best_validation_state_is_the_one_scored(data, windows) -> None:
    # a learning rate so large that training ruins the model after its first step: the
    # state after step 1 stays best, and the test figures must be that state's, the same
    # as a run stopped after one step (same seed, same first learning rate)
    kw = dict(lr=3.0, data=data, windows=windows, batch_size=2, eval_every=1)
    long = ef.run_adaptation("full", 8, 0, steps=4, **kw)
    curve = dict(long["val_curve"])
    assert long["best_step"] == 1 and curve[4] > curve[1]
    short = ef.run_adaptation("full", 8, 0, steps=1, **kw)
    assert long["test_bpc"] == pytest.approx(short["test_bpc"], rel=1e-6)
    assert long["samples"] == short["samples"]


def test_optimizer_state_is_measured(data) -> None:
    from aigc_course.training.lm import LMTrainConfig

    cfg = LMTrainConfig(steps=1, batch_size=2)
    full, tok = ef.build_model("full", 0)
    lora, _ = ef.build_model("lora", 0)
    for model in (full, lora):
        trainable, _ = count_parameters(model)
        tensors = sum(1 for p in model.parameters() if p.requires_grad)
        got = ef.optimizer_state_bytes(model, tok, data.train, cfg)
        # AdamW: two fp32 moments per trained number, one fp32 step counter per tensor
        assert got == 8 * trainable + 4 * tensors
    assert (
        ef.optimizer_state_bytes(lora, tok, data.train, cfg)
        < ef.optimizer_state_bytes(full, tok, data.train, cfg) / 10
    )


def test_pydoc_windows_are_fixed() -> None:
    _, tok = ef.base_model("cpu")
    a, b = ef.pydoc_windows(tok, n=3, length=16), ef.pydoc_windows(tok, n=3, length=16)
    assert a.shape == (3, 17) and torch.equal(a, b)


def test_summarise_and_choose_lr() -> None:
    rows = [
        {
            "method": "full",
            "n_examples": 50,
            "seed": s,
            "val_bpc": v,
            "lr": lr,
            "faithful": {"rate": f},
        }
        for s, v, lr, f in ((0, 1.0, 1e-3, 0.5), (1, 2.0, 1e-3, 0.25), (2, 0.5, 3e-4, 0.0))
    ]
    (entry,) = ef.summarise(rows, metrics=("val_bpc", "faithful_rate", "pydoc_bpc"))
    assert entry["seeds"] == [0, 1, 2]
    assert entry["val_bpc"]["mean"] == pytest.approx(3.5 / 3)
    assert (entry["val_bpc"]["min"], entry["val_bpc"]["max"]) == (0.5, 2.0)
    assert entry["faithful_rate"]["mean"] == pytest.approx(0.25)
    assert "pydoc_bpc" not in entry
    assert ef.choose_lr(rows) == {"full": 3e-4}  # 0.5 beats the mean 1.5 of 1e-3
    with pytest.raises(ValueError):
        ef.summarise([])
    assert "full | 50 | 3" in ef.format_summary([entry], metrics=("val_bpc",))


@pytest.mark.parametrize("name", ["adapt_data_efficiency", "adapt_lora_ranks"])
def test_records_load_and_agree_with_their_rows(name: str) -> None:
    from aigc_course.loading import load_pretrained
    from aigc_course.recipes import RECIPES

    model, meta = load_pretrained(name, "cpu")
    assert model is None and meta["family"] == "record" and meta["mode"] == "full"
    assert meta["recipe"] == f"aigc-course recipes {name}" and name in RECIPES
    assert meta["metrics"]["cpu_seconds"] > 0 and meta["pilot"]["rows"]
    keys = ("method", "n_examples") if name == "adapt_data_efficiency" else ("variant",)
    again = ef.summarise(meta["rows"], keys=keys)
    for a, b in zip(again, meta["summary"], strict=True):
        assert a["val_bpc"]["mean"] == pytest.approx(b["val_bpc"]["mean"])
        assert a["test_bpc"]["mean"] == pytest.approx(b["test_bpc"]["mean"])
    for row in meta["rows"]:  # the test figures are those of the state chosen on validation
        assert row["val_bpc"] == pytest.approx(min(b for _, b in row["val_curve"]), abs=1e-4)
