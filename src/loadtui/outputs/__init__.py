"""Results that leave the tool: files made from a saved run record (HTML report, CSV, JUnit,
summary JSON). Each reads the typed ``RunRecord`` only, so a run saved an hour ago and one that
has just ended give the same output; nothing here draws on a terminal (no rich, no Textual).
"""
