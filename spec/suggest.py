"""Closest-name suggestions for typos ("did you mean 'canvas'?")."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(word: object, candidates: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The known name closest to ``word`` (case-insensitive), or None when nothing is close."""
    if not isinstance(word, str) or not word:
        return None
    names = list(candidates)
    lowered = {name.lower(): name for name in names}
    match = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=cutoff)
    return lowered[match[0]] if match else None


def did_you_mean(word: object, candidates: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` or an empty string."""
    best = closest(word, candidates)
    return f" (did you mean {best!r}?)" if best is not None and best != word else ""


def one_of(candidates: Iterable[str], limit: int = 12) -> str:
    """A readable list of known names, cut after ``limit``."""
    names = [repr(c) for c in candidates]
    if len(names) > limit:
        names = names[:limit] + [f"... ({len(names) - limit} more)"]
    return ", ".join(names)
