"""The text recipes' measuring harness and float16 checkpoints."""

from __future__ import annotations

import torch

from aigc_course.metrics.text import bits_per_char
from aigc_course.models.rnn_lm import CharLSTM, LSTMConfig
from aigc_course.models.transformer_lm import GPT, GPTConfig
from aigc_course.recipes.text import (
    lstm_config,
    nanogpt_reference_config,
    prepare,
    quick_transformer_config,
    train_and_measure,
    transformer_config,
)
from aigc_course.tokenizer import CharTokenizer
from aigc_course.training.lm import TrainConfig, load_lm, save_lm


def test_quick_recipe_changes_only_the_schedule():
    ref_model, ref_train = nanogpt_reference_config(50)
    model, train = quick_transformer_config(50)
    assert model == ref_model
    assert (train.steps, train.batch_size, train.block_size) == (2000, 12, 64)
    assert train.lr > ref_train.lr
    for config in (transformer_config, lstm_config):
        m, t = config(50)
        assert m.block_size == t.block_size  # the model is trained at its full context


def test_measures_a_curve_and_the_stored_weights(tmp_path):
    torch.manual_seed(0)
    data = prepare(max_chars=20_000)
    model = GPT(GPTConfig.tiny(data.tokenizer.vocab_size))
    cfg = TrainConfig.tiny()
    record = train_and_measure(model, cfg, data, eval_every=1e-9, stored_dtype=torch.float16)
    rows = record["val_curve"]["rows"]
    assert len(rows) == cfg.steps + 1  # one evaluation per step, then the final one
    assert [r[2] for r in rows[:-1]] == list(range(1, cfg.steps + 1))
    cpu = [r[1] for r in rows]
    assert cpu == sorted(cpu)
    assert rows[-1][3] < rows[0][3]  # it learned
    # the evaluations are left out of the clock: less than the time they took
    assert record["metrics"]["train_cpu_seconds"] < 5 * rows[-1][1] + 1
    # the recorded figure is that of the float16 weights the checkpoint stores
    save_lm(tmp_path / "m", model, data.tokenizer, record, dtype=torch.float16)
    loaded, tok, meta = load_lm(tmp_path / "m")
    assert meta["stored_dtype"] == "float16"
    assert (tmp_path / "m.safetensors").stat().st_size < 0.6 * 4 * model.num_params()
    bpc = bits_per_char(loaded, data.val_ids, context=cfg.block_size)
    assert abs(bpc - record["metrics"]["val_bits_per_char"]) < 1e-4


def test_float16_checkpoint_of_an_lstm_loads_as_float32(tmp_path):
    model = CharLSTM(LSTMConfig.tiny(11))
    tok = CharTokenizer.from_text("abcdefghijk")
    save_lm(tmp_path / "l", model, tok, {}, dtype=torch.float16)
    loaded, _, _ = load_lm(tmp_path / "l")
    stored = loaded.state_dict()
    assert stored.keys() == model.state_dict().keys()
    for name, a in model.state_dict().items():
        assert stored[name].dtype == torch.float32, name
        torch.testing.assert_close(stored[name], a.half().float())
