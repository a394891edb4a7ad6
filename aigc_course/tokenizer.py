"""A character tokenizer that travels with every language-model checkpoint.

The vocabulary is the sorted set of characters of the *training* text. The default corpus
changes with the Python patch version, so a checkpoint carries its own vocabulary (as
JSON) and text from elsewhere may hold characters the model has never seen. Those are
handled explicitly, by one of three policies chosen at the call:

``"error"``
    raise :class:`UnknownCharacterError` naming the characters (the default: silent
    changes to the input are a bug in a course about measuring models);
``"replace"``
    map each unseen character to ``tokenizer.replacement`` (a character that *is* in
    the vocabulary: ``"?"`` if present, else a space, else the first character);
``"skip"``
    drop unseen characters.

:meth:`CharTokenizer.encode_with_mask` also returns which positions were unseen, so an
evaluation can feed a replacement as context and leave those positions out of the score
(this is what ``aigc-course evaluate`` does, and it reports how many it left out).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch

POLICIES = ("error", "replace", "skip")


class UnknownCharacterError(ValueError):
    """The text holds characters that are not in the tokenizer's vocabulary."""


class CharTokenizer:
    """Maps characters to ids ``0..vocab_size-1`` and back.

    Example:
        >>> tok = CharTokenizer.from_text("hello world")
        >>> tok.decode(tok.encode("hello"))
        'hello'
    """

    def __init__(self, chars: Iterable[str], replacement: str | None = None) -> None:
        chars = list(chars)
        if not chars:
            raise ValueError("a tokenizer needs at least one character")
        if any(len(c) != 1 for c in chars):
            raise ValueError("every vocabulary entry must be exactly one character")
        if len(set(chars)) != len(chars):
            raise ValueError("the vocabulary holds duplicate characters")
        self.chars: list[str] = chars
        self.stoi: dict[str, int] = {c: i for i, c in enumerate(chars)}
        if replacement is None:
            replacement = next((c for c in ("?", " ") if c in self.stoi), chars[0])
        if replacement not in self.stoi:
            raise ValueError(f"replacement {replacement!r} is not in the vocabulary")
        self.replacement = replacement

    @classmethod
    def from_text(cls, text: str) -> CharTokenizer:
        """The tokenizer whose vocabulary is the sorted set of characters of ``text``."""
        return cls(sorted(set(text)))

    @property
    def vocab_size(self) -> int:
        return len(self.chars)

    def __len__(self) -> int:
        return len(self.chars)

    def __repr__(self) -> str:
        return f"CharTokenizer(vocab_size={self.vocab_size}, replacement={self.replacement!r})"

    def unseen(self, text: str) -> list[str]:
        """The distinct characters of ``text`` that are not in the vocabulary, sorted."""
        return sorted(set(text) - self.stoi.keys())

    def encode_with_mask(self, text: str, unknown: str = "replace") -> tuple[list[int], list[bool]]:
        """(ids, seen): ``seen[i]`` is False where ``text`` held an unseen character.

        With ``unknown="skip"`` the skipped characters produce no id (and no mask entry).
        """
        if unknown not in POLICIES:
            raise ValueError(f"unknown={unknown!r}; use one of {', '.join(POLICIES)}")
        if unknown == "error":
            missing = self.unseen(text)
            if missing:
                shown = ", ".join(repr(c) for c in missing[:10])
                more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
                raise UnknownCharacterError(
                    f"{len(missing)} character(s) not in the vocabulary: {shown}{more}; "
                    "pass unknown='replace' or 'skip' to handle them"
                )
        rep = self.stoi[self.replacement]
        ids: list[int] = []
        seen: list[bool] = []
        for ch in text:
            i = self.stoi.get(ch)
            if i is None:
                if unknown == "skip":
                    continue
                ids.append(rep)
                seen.append(False)
            else:
                ids.append(i)
                seen.append(True)
        return ids, seen

    def encode(self, text: str, unknown: str = "error") -> list[int]:
        """Ids of ``text``; ``unknown`` is the policy for unseen characters (see module)."""
        return self.encode_with_mask(text, unknown)[0]

    def encode_tensor(self, text: str, unknown: str = "error") -> torch.Tensor:
        """Like :meth:`encode`, as a 1-D ``torch.long`` tensor."""
        return torch.tensor(self.encode(text, unknown), dtype=torch.long)

    def decode(self, ids: Iterable[int] | torch.Tensor) -> str:
        """The text of ``ids`` (a list or a 1-D tensor).

        Raises:
            ValueError: an id outside ``0..vocab_size-1``.
        """
        if isinstance(ids, torch.Tensor):
            if ids.ndim != 1:
                raise ValueError(f"decode takes a 1-D sequence, got shape {tuple(ids.shape)}")
            ids = ids.tolist()
        out = []
        for i in ids:
            if not 0 <= i < len(self.chars):
                raise ValueError(f"id {i} is outside the vocabulary (size {len(self.chars)})")
            out.append(self.chars[i])
        return "".join(out)

    # -- serialisation -------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {"type": "char", "version": 1, "chars": self.chars, "replacement": self.replacement}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CharTokenizer:
        if d.get("type") != "char":
            raise ValueError(f"not a char tokenizer description: type={d.get('type')!r}")
        return cls(d["chars"], replacement=d.get("replacement"))

    def save(self, path: str | Path) -> Path:
        """Write the tokenizer as JSON (UTF-8, characters written as themselves)."""
        path = Path(path)
        path.write_text(json.dumps(self.to_dict(), ensure_ascii=False) + "\n", encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: str | Path) -> CharTokenizer:
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, CharTokenizer)
            and self.chars == other.chars
            and self.replacement == other.replacement
        )

    __hash__ = None  # type: ignore[assignment]
