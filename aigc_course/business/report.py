"""Documentation of a model as Markdown: tables, checklists and model cards.

References:
    M. Mitchell et al., "Model Cards for Model Reporting", FAT* 2019.
"""

from __future__ import annotations

from collections.abc import Sequence


def markdown_table(rows: Sequence[Sequence[object]], header: Sequence[str]) -> str:
    """A Markdown table (for model cards and checklists shown with IPython.display)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def model_card(sections: dict[str, dict[str, object]], title: str) -> str:
    """A model card (Mitchell et al. 2019) as Markdown: one table per section."""
    parts = [f"### {title}"]
    for name, fields in sections.items():
        parts += [f"**{name}**", "", markdown_table(list(fields.items()), ("field", "value")), ""]
    return "\n".join(parts)
