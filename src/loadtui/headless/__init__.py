"""The console: headless runs rendered with rich (progress, summary) for a terminal or CI.

A run's life itself (session, target, checkpoints, the drive loop) is the run service's
(``loadtui.run``); this package only draws it and maps its end to an exit code. No Textual here.
"""
