"""Exercises of notebook 07: solutions and judges."""

from __future__ import annotations

from . import Exercise

EXERCISES: list[Exercise] = []
