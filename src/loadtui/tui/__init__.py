"""The interactive app — the only package that imports Textual.

``app`` wires the screens; ``screens/`` holds one module per screen, ``widgets/`` the pieces
they share, ``css/`` the styles (theme variables only), ``lifecycle`` the live run (one at a time,
saved on quit or a signal), ``bridge`` the thread that owns a run and ``frame`` the plain data
each redraw shows. Load never runs here: it runs in worker processes.
"""
