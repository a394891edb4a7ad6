"""Piano rolls: time across, pitch up, one colour per voice."""

from __future__ import annotations

import matplotlib.pyplot as plt

from ..data.chorales import VOICES, Chorale
from .audio import notes_of

VOICE_COLOURS = ("tab:red", "tab:orange", "tab:green", "tab:blue")


def piano_roll(chorale: Chorale, ax=None, title: str | None = None, max_steps: int | None = None):
    """Draw a chorale as a piano roll (one bar per note) and return the axes.

    Args:
        max_steps: draw only the first steps (e.g. the part that is played).
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3))
    end = chorale.steps if max_steps is None else min(max_steps, chorale.steps)
    for v, start, stop, midi in notes_of(chorale):
        if start >= end:
            continue
        ax.barh(midi, min(stop, end) - start, left=start, height=0.8, color=VOICE_COLOURS[v])
    for v, name in enumerate(VOICES):
        ax.plot([], [], color=VOICE_COLOURS[v], lw=6, label=name)
    ax.set_xlim(0, end)
    for bar in range(0, end + 1, 16):  # a 4/4 bar is 16 sixteenth notes
        ax.axvline(bar, color="0.85", lw=0.5, zorder=0)
    ax.set_xlabel("step (sixteenth notes)")
    ax.set_ylabel("MIDI pitch")
    ax.legend(loc="upper right", fontsize="x-small", ncol=4)
    if title:
        ax.set_title(title)
    return ax
