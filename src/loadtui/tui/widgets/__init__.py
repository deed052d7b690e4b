"""Widgets of the run, history and compare screens. Each reads a ``LiveFrame`` (or a run) handed
down as an attribute; none of them talks to the engine."""
