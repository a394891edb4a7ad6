"""Verified, atomic downloads and file checks.

A download is written to a temporary file beside its target, checked (size and hash),
and only then renamed into place, so a cut connection never leaves a file that looks
complete. A file that fails its check is never used: the error names it and says how to
fix it.
"""

from __future__ import annotations

import hashlib
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from .._io import atomic_write_bytes
from ..config import is_offline


class DataError(RuntimeError):
    """A data file is missing, partial or corrupt, or cannot be fetched."""


class OfflineError(DataError):
    """A download was needed but ``AIGC_OFFLINE=1`` (or the network) forbids it."""


def file_hash(path: Path, algorithm: str = "sha256") -> str:
    """Hex digest of a file, read in 1 MiB chunks."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def verify_file(path: Path, expected: str, algorithm: str = "md5") -> None:
    """Raise :class:`DataError` naming ``path`` and the remedy unless its hash matches."""
    if not path.is_file():
        raise DataError(f"{path} does not exist")
    actual = file_hash(path, algorithm)
    if actual != expected:
        raise DataError(
            f"{path} is corrupt or partial ({algorithm} {actual}, expected {expected}); "
            f"delete it and run `python -m aigc_course prefetch` again, or copy a good copy there"
        )


def download(
    urls: Sequence[str],
    path: Path,
    *,
    expected: str | None,
    algorithm: str = "md5",
    timeout: float = 30.0,
) -> str:
    """Fetch the first URL of ``urls`` that works into ``path``, verified and atomic.

    Args:
        urls: mirrors to try in order.
        path: the final file; it appears only once its hash has been checked.
        expected: the published hex digest, or None where no digest is published (the
            file is then accepted and its sha256 returned so the caller can record it).
        algorithm: hash algorithm of ``expected``.
        timeout: seconds per connection attempt.

    Returns:
        The URL that served the file.

    Raises:
        OfflineError: if ``AIGC_OFFLINE=1``; no connection is attempted.
        DataError: if every mirror failed or served a file with the wrong hash.
    """
    if is_offline():
        raise OfflineError(f"{path.name} is needed but AIGC_OFFLINE=1 forbids downloading it")
    errors = []
    for url in urls:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                data = response.read()
        except (urllib.error.URLError, OSError, ValueError) as err:
            errors.append(f"{url}: {err}")
            continue
        if expected is not None:
            actual = hashlib.new(algorithm, data).hexdigest()
            if actual != expected:
                errors.append(f"{url}: {algorithm} {actual} != expected {expected}")
                continue
        atomic_write_bytes(path, data)
        return url
    raise DataError(f"could not download {path.name}: " + "; ".join(errors))
