"""The exercise machinery: stubs, verdicts, hidden solutions, and the registry."""

from __future__ import annotations

from pathlib import Path

import pytest

import aigc_course.exercises as exercises
from aigc_course.exercises import Exercise, check, ids_in, registry, show_solution, untouched

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted((ROOT / "notebooks" / "_src").glob("[0-9][0-9]_*.py"))


def _square_judge(attempt, xs=(1.0, 2.0, -3.0)):
    for x in xs:
        got = attempt(x)
        assert got == x * x, f"f({x}) = {got}, expected the square {x * x}"


TOY = Exercise("99.square", "implement", judge=_square_judge, solution=lambda **_: lambda x: x * x)


@pytest.fixture
def toy(monkeypatch):
    monkeypatch.setattr(exercises, "registry", lambda: {TOY.id: TOY})
    monkeypatch.delenv("AIGC_SOLUTIONS", raising=False)


def test_untouched_stubs_are_recognised():
    assert untouched(None) and untouched(...) and untouched((None, None)) and untouched([...])
    assert not untouched(0) and not untouched((None, 1.0)) and not untouched([])


def test_a_stub_is_not_attempted_yet_and_never_fails(toy, capsys):
    def stub(x):
        raise NotImplementedError

    check("99.square", stub)
    assert "not attempted yet" in capsys.readouterr().out
    check("99.square", None)
    assert "not attempted yet" in capsys.readouterr().out


def test_a_wrong_attempt_gets_the_judges_reason(toy, capsys):
    check("99.square", lambda x: 2 * x)
    out = capsys.readouterr().out
    assert "not yet" in out and "f(1.0) = 2.0, expected the square 1.0" in out


def test_a_right_attempt_is_correct(toy, capsys):
    check("99.square", lambda x: x**2)
    assert capsys.readouterr().out.strip() == "exercise 99.square: correct"


def test_solutions_mode_judges_the_hidden_solution_and_fails_loudly(toy, monkeypatch, capsys):
    monkeypatch.setenv("AIGC_SOLUTIONS", "1")
    check("99.square", None)  # the stub is ignored
    assert "hidden solution passes" in capsys.readouterr().out
    broken = Exercise("99.square", "implement", judge=_square_judge, solution=lambda **_: abs)
    monkeypatch.setattr(exercises, "registry", lambda: {broken.id: broken})
    with pytest.raises(AssertionError, match="the hidden solution fails: f\\(2.0\\) = 2.0"):
        check("99.square", None)


def test_show_solution_prints_its_source(toy, capsys):
    show_solution("99.square")
    assert "lambda x: x * x" in capsys.readouterr().out


def test_an_unknown_exercise_is_named():
    with pytest.raises(KeyError, match="no exercise '00.nothing'"):
        check("00.nothing", None)


def test_every_exercise_is_used_by_a_notebook_and_every_check_is_registered():
    used = ids_in(p.read_text(encoding="utf-8") for p in SOURCES)
    known = set(registry())
    assert used <= known, f"notebooks check unregistered exercises: {sorted(used - known)}"
    assert known <= used, f"registered exercises no notebook uses: {sorted(known - used)}"
    for ex_id in known:
        chapter = ex_id.split(".")[0]
        source = next(p for p in SOURCES if p.name.startswith(chapter))
        assert f'check("{ex_id}"' in source.read_text(encoding="utf-8")


def test_context_free_solutions_pass_their_judges():
    for ex in registry().values():
        try:
            answer = ex.solution()
        except TypeError:  # needs the notebook's context: judged by `make exercises`
            continue
        ex.judge(answer)


def test_no_notebook_executes_a_solution_of_an_exercise_that_has_a_stub():
    for src in SOURCES:
        text = src.read_text(encoding="utf-8")
        if "aigc_course.exercises" in text:
            assert '"solution"' not in text, f"{src.name} still runs a solution cell"
