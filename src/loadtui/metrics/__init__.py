"""Mergeable measurements: histograms, interval statistics, per-second series, generator health.

Pure code: nothing here does I/O or knows about processes.
"""
