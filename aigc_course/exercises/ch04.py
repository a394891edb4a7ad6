"""Exercises of notebook 04: solutions and judges."""

from __future__ import annotations

from . import Exercise

EXERCISES: list[Exercise] = []
