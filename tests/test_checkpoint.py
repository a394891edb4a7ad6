import json

import pytest
import torch

from aigc_course.checkpoint import (
    CheckpointError,
    checkpoint_exists,
    load_checkpoint,
    save_checkpoint,
)


def _model() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))


def test_round_trip_keeps_tensors_and_metadata(tmp_path):
    model = _model()
    path = save_checkpoint(tmp_path / "m", model.state_dict(), {"seed": 1, "metrics": {"acc": 0.5}})
    assert path.name == "m.safetensors" and (tmp_path / "m.json").is_file()
    state, meta = load_checkpoint(tmp_path / "m.safetensors")
    for k, v in model.state_dict().items():
        torch.testing.assert_close(state[k], v)
    assert meta["seed"] == 1 and meta["metrics"] == {"acc": 0.5}
    assert meta["package_version"] and meta["torch_version"] == torch.__version__


def test_tied_weights_are_saved(tmp_path):
    emb = torch.nn.Embedding(5, 3)
    head = torch.nn.Linear(3, 5, bias=False)
    head.weight = emb.weight  # shared storage, which safetensors refuses unless cloned
    state = {"emb.weight": emb.weight, "head.weight": head.weight}
    save_checkpoint(tmp_path / "tied", state)
    loaded, _ = load_checkpoint(tmp_path / "tied")
    torch.testing.assert_close(loaded["emb.weight"], loaded["head.weight"])


def test_metadata_must_be_json(tmp_path):
    with pytest.raises(TypeError, match="not JSON"):
        save_checkpoint(tmp_path / "m", _model().state_dict(), {"bad": object()})
    assert not checkpoint_exists(tmp_path / "m")


def test_missing_and_corrupt_files_are_named(tmp_path):
    with pytest.raises(CheckpointError, match=r"nothing\.safetensors is missing"):
        load_checkpoint(tmp_path / "nothing")
    save_checkpoint(tmp_path / "m", _model().state_dict())
    (tmp_path / "m.safetensors").write_bytes(b"\x00" * 20)
    with pytest.raises(CheckpointError, match=r"m\.safetensors does not match its sidecar"):
        load_checkpoint(tmp_path / "m")
    (tmp_path / "m.json").write_text("{not json")
    with pytest.raises(CheckpointError, match=r"m\.json is not valid JSON"):
        load_checkpoint(tmp_path / "m")


def test_interrupted_save_keeps_the_old_checkpoint(tmp_path, monkeypatch):
    save_checkpoint(tmp_path / "m", _model().state_dict(), {"v": 1})
    import aigc_course.checkpoint as ck

    def broken_save(tensors, filename):
        raise KeyboardInterrupt

    monkeypatch.setattr(ck, "save_file", broken_save)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(tmp_path / "m", _model().state_dict(), {"v": 2})
    _, meta = load_checkpoint(tmp_path / "m")
    assert meta["v"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json", "m.safetensors"]


def test_an_overwrite_torn_between_the_two_files_is_detected(tmp_path, monkeypatch):
    """The weights are replaced first; a crash before the sidecar is replaced leaves new
    weights beside the old sidecar. The recorded hash catches it on load."""
    import aigc_course.checkpoint as ck

    save_checkpoint(tmp_path / "m", _model().state_dict(), {"v": 1})
    real = ck.atomic_write
    calls = []

    def crash_on_sidecar(target, write):
        calls.append(target.name)
        if target.suffix == ".json":
            raise KeyboardInterrupt  # the power goes out between the two renames
        real(target, write)

    monkeypatch.setattr(ck, "atomic_write", crash_on_sidecar)
    other = _model()
    with torch.no_grad():
        for p in other.parameters():
            p.add_(1.0)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(tmp_path / "m", other.state_dict(), {"v": 2})
    assert calls == ["m.safetensors", "m.json"]
    with pytest.raises(CheckpointError, match=r"m\.safetensors does not match its sidecar"):
        load_checkpoint(tmp_path / "m")


def test_the_sidecar_records_the_hash_of_the_weights_file(tmp_path):
    import hashlib

    save_checkpoint(tmp_path / "m", _model().state_dict())
    meta = json.loads((tmp_path / "m.json").read_text())
    digest = hashlib.sha256((tmp_path / "m.safetensors").read_bytes()).hexdigest()
    assert meta["weights_sha256"] == digest and meta["sidecar_version"] == 2
    del meta["weights_sha256"]
    (tmp_path / "m.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="records no weights_sha256"):
        load_checkpoint(tmp_path / "m")
