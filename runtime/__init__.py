"""Plan -> Scene -> files: renderers, nets, objectives, stages, emitters and the CLI.

Importing it sets the OpenMP thread policy penspec needs on a shared machine before torch
loads (see :mod:`penspec.runtime.threads`), so library use is as fast as the CLI.
"""

from penspec.runtime.threads import calm_openmp_threads

calm_openmp_threads()
