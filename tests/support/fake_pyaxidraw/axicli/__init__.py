"""Fake ``axicli``: the AxiDraw command line over the fake pyaxidraw (``python -m axicli``)."""
