"""The run service: one run's life below both front ends.

Option resolution (``options``), target bring-up (``target``), the session that starts,
checkpoints and saves a run (``session``, ``checkpoint``), the one drive loop every run goes
through (``drive``), comparisons (``compare``) and the exit codes (``exitcodes``). It imports
the engine and storage, never rich or Textual; the console (``loadtui.headless``) and the app
(``loadtui.tui``) sit above it and never import each other.
"""
