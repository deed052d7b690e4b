"""The interactive app — the only package that imports Textual.

``app`` wires the screens; ``screens/`` holds one module per screen, ``widgets/`` the pieces
they share, ``css/`` the styles (theme variables only), ``lifecycle`` the live run (one at a time,
saved on quit or a signal) and ``bridge`` the thread that owns a run. Each redraw shows a typed
``loadtui.run.frame.LiveFrame``, the same the console prints from. Load never runs here: it runs
in worker processes.
"""
