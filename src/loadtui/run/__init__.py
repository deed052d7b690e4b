"""The run service: one run's life below both front ends.

Option resolution, target bring-up, the session that starts, drives, checkpoints and saves a
run, and the typed live frames the console and the app both draw. It imports the engine and
storage, never rich or Textual; the console (``loadtui.headless``) and the app (``loadtui.tui``)
sit above it and never import each other.
"""
