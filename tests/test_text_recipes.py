"""The text recipes' measuring harness, float16 checkpoints and the benchmark record."""

from __future__ import annotations

import json
import math
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
    for name in ("char_lstm", "char_transformer", "char_benchmarks", "char_selection"):
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


# -- text_scaling: data scaling, and characters vs BPE tokens at equal compute -------------


def _tiny_scaling_config(vocab_size):
    return GPTConfig.tiny(vocab_size), LMTrainConfig(
        steps=25, batch_size=4, block_size=32, lr=3e-3, warmup=5
    )


def test_training_prefix_cuts_after_a_paragraph(data):
    from aigc_course.recipes.text_scaling import training_prefix

    assert training_prefix(data, 1.0) == data.train_text
    half = training_prefix(data, 0.5)
    target = len(data.train_text) // 2
    assert data.train_text.startswith(half) and half.endswith("\n\n")
    assert len(half) <= target and "\n\n" not in data.train_text[len(half) - 1 : target]
    for bad in (0.0, 1.5, -0.2):
        with pytest.raises(ValueError, match="fraction"):
            training_prefix(data, bad)


def test_bpe_bits_per_char_is_total_nats_over_characters():
    import math

    import torch.nn.functional as F

    from aigc_course.hf import train_bpe
    from aigc_course.recipes.text_scaling import bpe_bits_per_char

    text = "def f(x):\n    return x + 1\n" * 40
    tok = train_bpe([text], vocab_size=300)
    sample = "def g(y):\n    return y + 2\n"
    ids = torch.tensor(tok.encode(sample).ids)
    assert ids.numel() <= 33  # one window of 32 inputs scores every token after the first
    torch.manual_seed(0)
    model = GPT(GPTConfig.tiny(tok.get_vocab_size())).eval()
    with torch.no_grad():
        logits, _ = model(ids[None, :-1])
    by_hand = F.cross_entropy(logits[0], ids[1:], reduction="sum").item()
    chars = len(sample) - len(tok.decode(ids[:1].tolist()))  # the first token is not scored
    bpc, nats, scored = bpe_bits_per_char(model, tok, sample, context=32)
    assert scored == chars and abs(nats - by_hand) < 1e-4
    assert abs(bpc - by_hand / chars / math.log(2)) < 1e-6
    per_token = by_hand / (ids.numel() - 1) / math.log(2)
    assert abs(bpc - per_token) > 0.1  # per character is not per token
    with pytest.raises(ValueError, match="single token"):
        bpe_bits_per_char(model, tok, "d", context=32)


def test_cpu_budget_stops_training(data):
    from aigc_course.recipes.text_scaling import CPUBudget
    from aigc_course.training.lm import fit_lm

    model = GPT(GPTConfig.tiny(data.tokenizer.vocab_size))
    clock = CPUBudget(budget=1e-9)
    hist = fit_lm(model, data.train_ids, LMTrainConfig.tiny(), callbacks=[clock])
    assert hist.steps == 1 and clock.seconds > 0


def test_text_scaling_record_is_what_load_pretrained_reads(data, tmp_path):
    from aigc_course.checkpoint import save_record
    from aigc_course.recipes.text_scaling import RECIPE, text_scaling

    fractions, seeds = (0.5, 1.0), (0, 1)
    record = text_scaling(
        data, fractions, seeds, orders=(2, 3), vocabs=(300, 400), config=_tiny_scaling_config
    )
    save_record(tmp_path / "text_scaling", record)
    model, meta = load_pretrained(tmp_path / "text_scaling")
    assert model is None and meta["family"] == "record" and meta["recipe"] == RECIPE
    assert meta["data"]["sha256"] == data.corpus.sha256 and meta["seeds"] == [0, 1]
    assert meta["threads"] == torch.get_num_threads() and meta["cpu_seconds"] > 0
    scaling = meta["data_scaling"]
    gpt = scaling["gpt"]
    assert [(r["fraction"], r["seed"]) for r in gpt] == [(f, s) for f in fractions for s in seeds]
    assert {r["steps"] for r in gpt} == {25}  # equal compute at every fraction
    half, full = gpt[0], gpt[-1]
    assert half["train_chars"] < full["train_chars"] == len(data.train_text)
    assert half["passes"] > full["passes"]
    for r in gpt:
        for key in ("val_bits_per_char", "test_bits_per_char"):
            assert 0 < r[key] < math.log2(data.tokenizer.vocab_size) + 1, (key, r)
    for kn in scaling["kn"]:
        scan = {int(n): v for n, v in kn["val_scan"].items()}
        assert set(scan) == {2, 3} and kn["order"] == min(scan, key=scan.get)
        assert kn["val_bits_per_char"] == scan[kn["order"]] and kn["test_bits_per_char"] > 0
    bpe = meta["char_vs_bpe"]
    chars = [r for r in bpe["rows"] if r["tokenizer"] == "characters"]
    tokens = [r for r in bpe["rows"] if r["tokenizer"] != "characters"]
    assert [r["seed"] for r in chars] == [0, 1] and [r["seed"] for r in tokens] == [0, 1]
    scan = {r["vocab_size"]: r["val_bits_per_char"] for r in bpe["vocab_scan"]}
    assert bpe["chosen_vocab"] == min(scan, key=scan.get)
    for c, t in zip(chars, tokens, strict=True):
        assert t["vocab_size"] == bpe["chosen_vocab"] and t["num_params"] > c["num_params"]
        assert t["context_chars"] > c["context_chars"] == 32  # same tokens, more characters
        assert t["tokens_seen"] == t["steps"] * 4 * 32
        assert t["cpu_budget_seconds"] == c["train_cpu_seconds"]
        assert math.isfinite(t["test_bits_per_char"]) and t["test_chars_scored"] > 0


def test_text_scaling_needs_the_whole_text_for_the_character_arm(data):
    from aigc_course.recipes.text_scaling import text_scaling

    with pytest.raises(ValueError, match="1.0"):
        text_scaling(data, fractions=(0.5,), config=_tiny_scaling_config)


# -- char_selection: the pretrained recipes' dropout re-chosen on validation alone ---------


def test_selection_grid_is_centred_on_the_earlier_values():
    assert recipes.SELECTION_GRID == {
        "char_transformer": (0.0, 0.1, 0.2),
        "char_lstm": (0.25, 0.35, 0.45),
    }


def test_recipes_train_with_the_dropout_chosen_on_validation():
    # the recorded selection's winners are what the recipes (and so the shipped
    # checkpoints' sidecars) use
    _, record = load_pretrained("char_selection")
    assert record["rule"].startswith("lowest bits/char on the validation part")
    for name, choice in record["chosen"].items():
        rows = [r for r in record["rows"] if r[0] == name]
        assert choice["dropout"] == min(rows, key=lambda r: r[2])[1]
        assert recipes._recorded(name, 50)[0].dropout == choice["dropout"], name
        _, meta = load_pretrained(name, device="cpu")
        assert meta["config"]["dropout"] == choice["dropout"], name


def test_char_selection_scores_validation_only_and_keeps_the_rule(data, monkeypatch):
    import aigc_course.loading as loading

    def tiny(name, vocab_size):
        return GPTConfig.tiny(vocab_size), LMTrainConfig.tiny()

    shipped = GPT(GPTConfig.tiny(data.tokenizer.vocab_size))  # stands for the checkpoint
    monkeypatch.setattr(recipes, "prepare_corpus", lambda *a, **k: data)
    monkeypatch.setattr(recipes, "_recorded", tiny)
    monkeypatch.setattr(recipes, "_device", lambda: torch.device("cpu"))
    meta = {"metrics": {"train_cpu_seconds": 1.0}}
    monkeypatch.setattr(loading, "load_pretrained", lambda *a, **k: (shipped, meta))
    scored = []
    real = recipes.validation_bits_per_char
    monkeypatch.setattr(
        recipes, "validation_bits_per_char", lambda m, d, **k: scored.append(d) or real(m, d, **k)
    )
    committed = GPTConfig.tiny(1).dropout
    result = recipes.char_selection({"char_transformer": (committed, 0.3)}, workers=1)
    rows = result["rows"]
    assert [r[-1] for r in rows] == ["committed checkpoint", "trained here"]
    assert rows[0][2] == round(bits_per_char(shipped, data.val_ids, context=32), 4)
    assert scored and all(d is data for d in scored)  # validation_bits_per_char: val_ids only
    best = min(rows, key=lambda r: r[2])
    assert result["chosen"]["char_transformer"] == {
        "dropout": best[1],
        "is_committed": best[1] == committed,
    }
    assert rows[0][2] > rows[1][2]  # the untrained stand-in loses to the trained model
    assert result["chosen"]["char_transformer"]["is_committed"] is False
