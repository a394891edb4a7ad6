"""Exercises: the learner's stub in the notebook; the solution and the judge here.

A notebook shows the task and a stub to write in, then a self-check cell::

    def gradient_penalty(D, real, fake):
        raise NotImplementedError  # your code here

    check("01.gradient_penalty", gradient_penalty, D=D, real=x, fake=fake)

The self-check never fails a Run All: it prints *not attempted yet* for an untouched stub
(``None``, ``...``, or a function that raises ``NotImplementedError``), and otherwise a
verdict on the learner's attempt with what is wrong. The solutions live in this package
(``exercises/chNN.py``), out of sight of a reader of the notebook, on GitHub or in the
book; ``show_solution("01.gradient_penalty")`` prints one on request.

With ``AIGC_SOLUTIONS=1`` (CI: ``make exercises``) every self-check judges the hidden
solution instead of the stub and raises if it fails, so a broken solution or a broken
judge fails CI.

Each chapter module defines ``EXERCISES: list[Exercise]``; :data:`CHAPTERS` names them.
"""

from __future__ import annotations

import importlib
import inspect
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

KINDS = ("derive", "predict", "implement", "explain")

#: chapter modules of this package that define ``EXERCISES``
CHAPTERS = (
    "ch00",
    "ch01",
    "ch02",
    "ch03",
    "ch04",
    "ch05",
    "ch06",
    "ch07",
    "ch08",
    "ch09",
    "ch10",
    "ch11",
    "ch12",
)


class NotAttempted(Exception):
    """Raised inside a judge when the attempt turns out to be an untouched stub."""


@dataclass(frozen=True)
class Exercise:
    """One exercise.

    Attributes:
        id: ``"NN.short_name"``, as the notebook's ``check`` call names it.
        kind: one of :data:`KINDS`.
        judge: ``judge(attempt, **context) -> None`` raises ``AssertionError`` with a
            message that tells the learner what is wrong (and may raise
            :class:`NotAttempted`); returns None when the attempt is right.
        solution: ``solution(**context)`` returns a correct attempt (a value, or the
            function an *implement* exercise asks for).
    """

    id: str
    kind: str
    judge: Callable[..., None]
    solution: Callable[..., Any]

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"exercise {self.id}: kind {self.kind!r} is not one of {KINDS}")


def registry() -> dict[str, Exercise]:
    """Every exercise of every chapter, by id."""
    found: dict[str, Exercise] = {}
    for chapter in CHAPTERS:
        for ex in importlib.import_module(f"{__name__}.{chapter}").EXERCISES:
            if ex.id in found:
                raise RuntimeError(f"exercise {ex.id!r} is defined twice")
            found[ex.id] = ex
    return found


def get(exercise_id: str) -> Exercise:
    """The exercise called ``exercise_id``."""
    exercises = registry()
    if exercise_id not in exercises:
        raise KeyError(f"no exercise {exercise_id!r}; known: {', '.join(exercises)}")
    return exercises[exercise_id]


def solutions_mode() -> bool:
    """True when ``AIGC_SOLUTIONS`` asks every self-check to judge the hidden solution."""
    return os.environ.get("AIGC_SOLUTIONS", "").strip().lower() in {"1", "true", "yes", "on"}


def untouched(attempt: Any) -> bool:
    """None, ``...``, or a tuple/list/dict made only of those: the stub as it was given."""
    if attempt is None or attempt is Ellipsis:
        return True
    if isinstance(attempt, tuple | list):
        return len(attempt) > 0 and all(untouched(a) for a in attempt)
    if isinstance(attempt, dict):
        return len(attempt) > 0 and all(untouched(a) for a in attempt.values())
    return False


def _verdict(ex: Exercise, attempt: Any, context: dict[str, Any]) -> str | None:
    """None: right; "not attempted"; or the judge's message."""
    if untouched(attempt):
        return "not attempted"
    try:
        ex.judge(attempt, **context)
    except (NotAttempted, NotImplementedError):
        return "not attempted"
    except AssertionError as err:
        return str(err) or "the answer does not pass the check"
    return None


def check(exercise_id: str, attempt: Any, **context: Any) -> None:
    """Judge the learner's ``attempt`` at an exercise and print the verdict.

    Args:
        exercise_id: the exercise, e.g. ``"01.gradient_penalty"``.
        attempt: the learner's answer: a value, a tuple of values, or a function.
        **context: what the judge needs from the notebook (data, a model, …).

    Prints the verdict (and returns nothing, so a notebook cell shows only the verdict).
    Never raises for a wrong or missing attempt, so Run All passes with the stubs
    untouched; in solutions mode (``AIGC_SOLUTIONS=1``) it judges the hidden solution
    instead and raises ``AssertionError`` if that fails.
    """
    ex = get(exercise_id)
    if solutions_mode():
        problem = _verdict(ex, ex.solution(**context), context)
        if problem is not None:
            raise AssertionError(f"exercise {ex.id}: the hidden solution fails: {problem}")
        print(f"exercise {ex.id}: the hidden solution passes its check")
        return
    problem = _verdict(ex, attempt, context)
    if problem == "not attempted":
        print(f"exercise {ex.id}: not attempted yet (write your answer in the cell above)")
    elif problem is not None:
        print(f"exercise {ex.id}: not yet. {problem}")
    else:
        print(f"exercise {ex.id}: correct")


def show_solution(exercise_id: str) -> None:
    """Print the hidden solution of an exercise (run it in a new cell when you want it)."""
    ex = get(exercise_id)
    print(f"# solution of exercise {ex.id} ({ex.kind})")
    print(inspect.getsource(ex.solution))


def ids_in(texts: Iterable[str]) -> set[str]:
    """The exercise ids that ``check("…"`` calls name in some source texts."""
    import re

    pattern = re.compile(r"""\bcheck\(\s*["']([0-9]{2}\.[A-Za-z0-9_]+)["']""")
    return {m for text in texts for m in pattern.findall(text)}
