"""Headless runs: the engine driven from a terminal or CI, rendered with rich. No Textual here."""
