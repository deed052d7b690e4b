"""Allow ``python -m loadtui``."""

from loadtui.cli import main

raise SystemExit(main())
