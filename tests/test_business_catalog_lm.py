"""The catalog language models' trainers (business.catalog_lm) and their recipes."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from aigc_course.business import catalog, catalog_lm
from aigc_course.loading import load_pretrained
from aigc_course.models.transformer_lm import GPT, GPTConfig
from aigc_course.training.lm import LMTrainConfig

TOK = catalog.tokenizer()


def _tiny() -> tuple[GPT, LMTrainConfig]:
    torch.manual_seed(0)
    model = GPT(GPTConfig(TOK.vocab_size, block_size=64, n_layer=1, n_head=2, n_embd=32))
    cfg = replace(catalog_lm.train_config(30), batch_size=8, block_size=64, lr=1e-2, warmup=5)
    return model, cfg


def test_catalog_data_is_seeded_and_split():
    data = catalog_lm.catalog_data(n_items=200, n_test=40)
    assert len(data.test) <= 40 and len(data.train) == 160
    assert TOK.decode(data.train_ids[:50]) == catalog.corpus(data.train)[:50]
    assert data.train == catalog_lm.catalog_data(n_items=200, n_test=40).train
    assert "seed 0" in data.source and "200 items" in data.source
    canaries = catalog_lm.default_canaries()
    k = catalog_lm.CANARIES_PER_LEVEL
    assert 5 <= k <= 10 and len(canaries) == 5 * k
    assert [c.repeats for c in canaries[:6]] == [0, 1, 4, 16, 64, 0]  # the levels take turns
    for r in (0, 1, 4, 16, 64):
        assert sum(c.repeats == r for c in canaries) == k
    assert len({c.prefix for c in canaries}) == len({c.secret for c in canaries}) == 5 * k
    assert catalog_lm.default_canaries(2) == canaries[:10]
    with pytest.raises(ValueError, match="per_level"):
        catalog_lm.default_canaries(0)


def test_train_copy_lm_records_loss_and_faithfulness(tmp_path):
    model, cfg = _tiny()
    data = catalog_lm.catalog_data(n_items=200, n_test=40)
    meta = catalog_lm.train_copy_lm(model, data, cfg, n_eval=4)
    m = meta["metrics"]
    assert m["steps"] == 30 and m["n_eval"] == 4 and m["final_train_loss"] < m["first_loss"]
    assert 0 <= m["greedy_coverage"] <= 1 and len(meta["loss_curve"]) == 3
    assert meta["device"] == "cpu" and meta["train_config"]["steps"] == 30
    path = catalog_lm.save_catalog_lm(tmp_path / "copy", model, meta)
    loaded, back = load_pretrained(path.with_suffix(""), device="cpu")
    assert back["family"] == "transformer" and back["metrics"] == m
    x = data.train_ids[:40][None]
    torch.testing.assert_close(loaded(x)[0], model(x)[0])


def test_train_canary_lm_measures_exposure_at_evenly_spaced_steps():
    model, cfg = _tiny()
    data = catalog_lm.catalog_data(n_items=150, n_test=20)
    canaries = catalog_lm.default_canaries()[:2]
    meta = catalog_lm.train_canary_lm(model, data, cfg, canaries, n_checkpoints=3, n_candidates=50)
    rows = meta["exposure_curve"]
    assert [r["step"] for r in rows] == [10, 10, 20, 20, 30, 30]
    assert [r["repeats"] for r in rows[:2]] == [0, 1]
    assert [r["canary"] for r in rows] == [0, 1] * 3  # every canary at every step
    assert [r["prefix"] for r in rows[:2]] == [c.prefix for c in canaries]
    assert meta["metrics"]["exposure_cpu_seconds"] > 0
    assert all(r["epochs"] > 0 and r["exposure"] >= 0 for r in rows)
    assert meta["metrics"]["steps"] == 30 and "2 planted canaries" in meta["data_source"]
    # the time budget stops training early; exposure is measured off the clock
    model, cfg = _tiny()
    short = catalog_lm.train_canary_lm(
        model, data, replace(cfg, max_seconds=1e-9), canaries, n_checkpoints=3, n_candidates=50
    )
    assert short["metrics"]["steps"] == 1 and short["exposure_curve"] == []


def test_recipes_only_write():
    from aigc_course.recipes import RECIPES, business

    assert not hasattr(business, "RECIPES") and not hasattr(business, "main")
    assert not hasattr(business, "catalog_data")
    for name in ("product_copy_lm", "canary_lm"):
        assert callable(RECIPES[name].load())


@pytest.mark.gpu
def test_catalog_lm_trains_and_writes_on_cuda():
    model, cfg = _tiny()
    model.to("cuda")
    data = catalog_lm.catalog_data(n_items=200, n_test=40)
    meta = catalog_lm.train_copy_lm(model, data, replace(cfg, steps=20), n_eval=4)
    assert meta["device"].startswith("cuda") and meta["metrics"]["steps"] == 20
    assert meta["metrics"]["final_train_loss"] < meta["metrics"]["first_loss"]
    assert next(model.parameters()).device.type == "cuda"
    texts = catalog.write_descriptions(model, [it.product for it in data.test[:3]])
    assert len(texts) == 3
    canary = catalog_lm.train_canary_lm(
        model, data, replace(cfg, steps=4), catalog_lm.default_canaries()[:1], n_checkpoints=1
    )
    assert canary["exposure_curve"][0]["step"] == 4


def test_recipe_writes_a_loadable_checkpoint_with_its_record(tmp_path, monkeypatch):
    from aigc_course.recipes import business

    tiny_model, tiny_cfg = _tiny()
    monkeypatch.setattr(business, "pretrained_path", lambda name: tmp_path / name)
    monkeypatch.setattr(catalog_lm, "model_config", lambda: tiny_model.config)
    monkeypatch.setattr(catalog_lm, "train_config", lambda: replace(tiny_cfg, steps=5))
    small = catalog_lm.catalog_data(n_items=120, n_test=20)
    monkeypatch.setattr(catalog_lm, "catalog_data", lambda: small)
    path = business.make_product_copy_lm()
    assert path == tmp_path / "product_copy_lm.safetensors"
    model, meta = load_pretrained(tmp_path / "product_copy_lm", device="cpu")
    assert meta["family"] == "transformer" and meta["config"] == tiny_model.config.to_dict()
    assert meta["recipe"] == "aigc-course recipes product_copy_lm" and meta["mode"] == "full"
    assert meta["metrics"]["steps"] == 5 and isinstance(model, GPT)
    assert meta["cpu_seconds"] > 0 and meta["wall_seconds"] > 0
