"""The OpenMP thread policy penspec runs under, set before torch starts its thread pool.

The renderer runs many short parallel regions; with OpenMP's default, idle threads spin, and
on a machine busy with anything else every region waits for a time slice (a 1024 px step was
measured at 19 s instead of 0.12 s, and ``render()`` ~10x slower). ``OMP_WAIT_POLICY=PASSIVE``
lets them sleep. OpenMP reads it once, when torch loads it, so importing :mod:`penspec.runtime`
(the CLI, ``penspec.runtime.render``, ``penspec.runtime.build``) sets it when the user has not
chosen a policy and torch is not imported yet; when torch came first it is too late, and one
warning says how to get the fast path.
"""

from __future__ import annotations

import os
import sys
import warnings

_warned = False


def calm_openmp_threads() -> str | None:
    """Set OMP_WAIT_POLICY=PASSIVE unless the user chose a policy or torch is loaded already
    (then warn, once). Returns the policy torch runs under when known, else None."""
    global _warned
    if "OMP_WAIT_POLICY" in os.environ:
        return os.environ["OMP_WAIT_POLICY"]
    if "torch" not in sys.modules:
        os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
        return "PASSIVE"
    if not _warned:
        _warned = True
        warnings.warn(
            "torch was imported before penspec without OMP_WAIT_POLICY set: OpenMP's idle threads will spin, and on a "
            "busy machine rendering can be several times slower; set OMP_WAIT_POLICY=PASSIVE in the environment, or "
            "import penspec before torch",
            RuntimeWarning,
            stacklevel=3,
        )
    return None
