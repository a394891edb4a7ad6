"""A pytest plugin for notebook runs under nbval (``-p tests.nbval_timing``).

It prints each notebook's runtime and enforces the smoke budget.

``make notebooks`` runs every notebook top to bottom in smoke mode. This plugin adds up
the time of each notebook's cells, prints a table at the end, and fails the session if
a notebook took longer than ``NB_SMOKE_BUDGET`` seconds (default 60; 0 disables).
"""

from __future__ import annotations

import os
from collections import defaultdict

import pytest

_times: dict[str, float] = defaultdict(float)
_failed: set[str] = set()


def _budget() -> float:
    return float(os.environ.get("NB_SMOKE_BUDGET", "60"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if item.nodeid.split("::")[0].endswith(".ipynb"):
        _times[item.nodeid.split("::")[0]] += report.duration
        if report.failed:
            _failed.add(item.nodeid.split("::")[0])


def _over_budget() -> list[str]:
    budget = _budget()
    return [nb for nb, s in _times.items() if budget > 0 and s > budget]


def pytest_terminal_summary(terminalreporter):
    if not _times:
        return
    mode = os.environ.get("AIGC_MODE", "workshop")
    tr = terminalreporter
    tr.section(f"notebook runtimes ({mode} mode, budget {_budget():.0f} s each)")
    for nb, seconds in sorted(_times.items()):
        flag = "FAILED" if nb in _failed else ("OVER BUDGET" if nb in _over_budget() else "ok")
        tr.write_line(f"{seconds:7.1f} s  {nb}  {flag}")
    tr.write_line(f"{sum(_times.values()):7.1f} s  total")


def pytest_sessionfinish(session, exitstatus):
    if _over_budget() and exitstatus == 0:
        session.exitstatus = 1
