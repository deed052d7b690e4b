"""Plain data: plans, presets, control changes, snapshots. No I/O happens in this package."""
