"""`python -m penspec.runtime.cli`: the same as the `penspec` console script."""

from penspec.runtime.cli import main

main()
