"""Exercises of notebook 05: solutions and judges."""

from __future__ import annotations

from . import Exercise

EXERCISES: list[Exercise] = []
