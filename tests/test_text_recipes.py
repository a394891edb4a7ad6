"""The text recipes' measuring harness, float16 checkpoints and the benchmark record."""

from __future__ import annotations

import json
import time

import pytest
import torch

from aigc_course.data.text import prepare_corpus
from aigc_course.loading import load_pretrained
from aigc_course.metrics.text import bits_per_char, validation_bits_per_char
from aigc_course.models.rnn_lm import CharLSTM, LSTMConfig
from aigc_course.models.transformer_lm import GPT, GPTConfig
from aigc_course.recipes import REGISTRY
from aigc_course.recipes import text as recipes
from aigc_course.tokenizer import CharTokenizer
from aigc_course.training.lm import LMTrainConfig, save_lm


@pytest.fixture(scope="module")
def data():
    return prepare_corpus(max_chars=20_000)


def test_quick_recipe_changes_only_the_schedule():
    ref_model, ref_train = recipes.nanogpt_reference_config(50)
    model, train = recipes.quick_transformer_config(50)
    assert model == ref_model
    assert (train.steps, train.batch_size, train.block_size) == (2000, 12, 64)
    assert train.lr > ref_train.lr
    for config in (recipes.transformer_config, recipes.lstm_config):
        m, t = config(50)
        assert m.block_size == t.block_size  # the model is trained at its full context


def test_every_text_artifact_has_its_recipe():
    targets = {r.name: r.target for r in REGISTRY}
    for name in ("char_lstm", "char_transformer", "char_benchmarks"):
        module, _, func = targets[name].partition(":")
        assert module == "aigc_course.recipes.text" and callable(getattr(recipes, func))
    assert not hasattr(recipes, "RECIPES") and not hasattr(recipes, "main")


def test_prepare_corpus_splits_before_building_the_tokenizer(data):
    assert data.train_text + data.val_text + data.test_text == data.corpus.text
    held = len(data.corpus.text) - int(0.9 * len(data.corpus.text))
    assert len(data.heldout_text) == held and data.heldout_text == data.corpus.split()[1]
    assert len(data.test_text) >= held // 2 and len(data.val_text) > 0
    assert len(data.test_ids) == len(data.test_text) and len(data.val_ids) == len(data.val_text)
    assert set(data.tokenizer.chars) == set(data.train_text)
    assert data.tokenizer.decode(data.train_ids) == data.train_text


def test_measures_a_curve_and_leaves_evaluations_off_the_clock(data, monkeypatch):
    # make every evaluation burn 50 ms of CPU: were they counted, the training time would
    # hold 31 x 50 ms = 1.5 s more than the time the loop spent outside them
    burned = {"cpu": 0.0, "wall": 0.0, "calls": 0}

    def slow_evaluation(model, data, **kw):
        c0, w0 = time.process_time(), time.perf_counter()
        value = validation_bits_per_char(model, data, **kw)
        while time.process_time() - c0 < 0.05:
            pass
        burned["cpu"] += time.process_time() - c0
        burned["wall"] += time.perf_counter() - w0
        burned["calls"] += 1
        return value

    monkeypatch.setattr(recipes, "validation_bits_per_char", slow_evaluation)
    torch.manual_seed(0)
    model = GPT(GPTConfig.tiny(data.tokenizer.vocab_size))
    cfg = LMTrainConfig.tiny()
    c0, w0 = time.process_time(), time.perf_counter()
    record = recipes.train_and_measure(model, cfg, data, eval_every=1e-9)
    total_cpu, total_wall = time.process_time() - c0, time.perf_counter() - w0
    rows = record["val_curve"]["rows"]
    assert burned["calls"] == cfg.steps + 1  # one evaluation per step, then the final one
    assert len(rows) == cfg.steps + 1
    assert [r[2] for r in rows[:-1]] == list(range(1, cfg.steps + 1))
    cpu = [r[1] for r in rows]
    assert cpu == sorted(cpu)
    assert rows[-1][3] < rows[0][3]  # it learned
    m = record["metrics"]
    assert burned["cpu"] > 1.5
    assert 0 < m["train_cpu_seconds"] <= total_cpu - burned["cpu"] + 0.1
    assert 0 < m["train_seconds"] <= total_wall - burned["wall"] + 0.1
    assert record["device"] == "cpu" and record["threads"] == torch.get_num_threads()


def test_recorded_figure_is_that_of_the_stored_float16_weights(data, tmp_path):
    torch.manual_seed(0)
    model = GPT(GPTConfig.tiny(data.tokenizer.vocab_size))
    cfg = LMTrainConfig.tiny()
    record = recipes.train_and_measure(model, cfg, data, stored_dtype=torch.float16)
    save_lm(tmp_path / "m", model, data.tokenizer, record, dtype=torch.float16)
    loaded, meta = load_pretrained(tmp_path / "m", device="cpu")
    assert meta["stored_dtype"] == "float16" and meta["family"] == "transformer"
    assert (tmp_path / "m.safetensors").stat().st_size < 0.6 * 4 * model.num_params()
    bpc = bits_per_char(loaded, data.val_ids, context=cfg.block_size)
    assert abs(bpc - record["metrics"]["val_bits_per_char"]) < 1e-4


def test_float16_checkpoint_of_an_lstm_loads_as_float32(tmp_path):
    model = CharLSTM(LSTMConfig.tiny(11))
    tok = CharTokenizer.from_text("abcdefghijk")
    save_lm(tmp_path / "l", model, tok, {}, dtype=torch.float16)
    loaded, meta = load_pretrained(tmp_path / "l", device="cpu")
    assert meta["family"] == "lstm" and isinstance(loaded, CharLSTM)
    stored = loaded.state_dict()
    assert stored.keys() == model.state_dict().keys()
    for name, a in model.state_dict().items():
        assert stored[name].dtype == torch.float32, name
        torch.testing.assert_close(stored[name], a.half().float())


def test_benchmarks_record_is_what_load_pretrained_reads(data, tmp_path, monkeypatch):
    # the benchmark protocol at a toy size: two recipes, seed 0 with curves, replicates
    def tiny(vocab_size):
        return GPTConfig.tiny(vocab_size), LMTrainConfig.tiny()

    monkeypatch.setattr(recipes, "nanogpt_reference_config", tiny)
    monkeypatch.setattr(recipes, "quick_transformer_config", tiny)
    result = recipes.benchmarks(data, seeds=(1,))
    path = recipes.write_benchmarks(result, tmp_path / "char_benchmarks.json")
    model, meta = load_pretrained(tmp_path / "char_benchmarks")
    assert model is None and meta["family"] == "record"
    assert set(recipes.BENCHMARK_KEYS) <= meta.keys()
    assert [r[:2] for r in meta["replicates"]["rows"]] == [
        [1, "nanogpt_cpu_reference"],
        [1, "course_quick_transformer"],
    ]
    for key in recipes.BENCHMARK_KEYS:
        assert meta[key]["data"]["sha256"] == data.corpus.sha256
        assert meta[key]["metrics"]["steps_done"] == LMTrainConfig.tiny().steps
    assert json.loads(path.read_text())["replicates"] == meta["replicates"]
