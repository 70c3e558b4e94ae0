"""Errors the renderers raise: bad arguments, and a backend that cannot be loaded."""

from __future__ import annotations

from penspec.spec.errors import MissingResourceError, PenspecError


class RenderError(PenspecError, ValueError):
    """render() was called with arguments it cannot draw (shapes, dtypes, an unknown backend)."""


class BackendUnavailableError(MissingResourceError):
    """A named backend's library does not import here (e.g. pydiffvg, which is not on PyPI)."""
