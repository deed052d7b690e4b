"""Files: run files (the only place results become JSON and back) and preset files."""
