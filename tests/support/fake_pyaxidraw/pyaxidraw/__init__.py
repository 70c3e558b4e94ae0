"""A small stand-in for Evil Mad Scientist's pyaxidraw, for tests only.

It follows the documented API (``from pyaxidraw import axidraw``; ``AxiDraw()`` with
``plot_setup``, an ``options`` namespace, ``plot_run(True)`` returning the output SVG, and
``time_estimate``, ``distance_pendown``, ``distance_total``, ``pen_lifts`` afterwards) and records
every call so tests can check what a plot script asked the plotter to do.
"""
