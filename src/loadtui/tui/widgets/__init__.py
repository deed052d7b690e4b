"""Widgets of the run, history and compare screens. Each reads a typed ``LiveFrame`` (or a run
record) handed down as an attribute, by attribute name; none of them talks to the engine."""
