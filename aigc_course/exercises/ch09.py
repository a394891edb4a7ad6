"""Exercises of notebook 09: solutions and judges."""

from __future__ import annotations

from . import Exercise

EXERCISES: list[Exercise] = []
