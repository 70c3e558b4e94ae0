"""Closest-name suggestions for typos, in one wording everywhere.

``unknown key 'cavnas' (did you mean 'canvas'?)``; where the list of known names is worth
showing as well, :func:`known` adds it with the nearest names first:
``vgg16 has no layer 'conv3_33' (did you mean 'conv3_3'?); known: 'conv3_3', 'conv3_2', ...``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

CUTOFF = 0.6  # difflib's similarity ratio a suggestion needs


def similarity(a: str, b: str) -> float:
    """difflib's ratio of the two names, ignoring case."""
    return difflib.SequenceMatcher(None, a.lower(), b.lower()).ratio()


def ranked(word: object, candidates: Iterable[str]) -> list[str]:
    """The candidates, the ones most like ``word`` first (ties keep their given order)."""
    names = list(candidates)
    if not isinstance(word, str) or not word:
        return names
    scored = sorted(enumerate(names), key=lambda item: (-similarity(word, item[1]), item[0]))
    return [name for _, name in scored]


def closest(word: object, candidates: Iterable[str], cutoff: float = CUTOFF) -> str | None:
    """The known name closest to ``word`` (case-insensitive), or None when nothing is close."""
    if not isinstance(word, str) or not word:
        return None
    names = ranked(word, candidates)
    return names[0] if names and similarity(word, names[0]) >= cutoff else None


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


def known(word: object, candidates: Iterable[str], limit: int = 12) -> str:
    """`` (did you mean 'x'?); known: 'x', 'y', ...``: the hint, then the names nearest first."""
    names = list(candidates)
    return f"{did_you_mean(word, names)}; known: {one_of(ranked(word, names), limit)}"
