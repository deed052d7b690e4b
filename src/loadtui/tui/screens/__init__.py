"""One module per screen: setup, run, history, run detail, compare, and the small dialogs."""
