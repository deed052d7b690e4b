"""What the app remembers between sessions: the theme and recent targets (never an API key).

Kept as a small JSON file in the config dir (``locations.tui_state_file``). A missing or damaged
file means defaults; the app must open even if this file was hand-edited badly.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from loadtui.locations import tui_state_file

__all__ = ["RECENT_MAX", "Settings"]

RECENT_MAX = 8


@dataclass
class Settings:
    theme: str = "loadtui-dark"
    recent_targets: list[str] = field(default_factory=list)
    """Target base URLs, newest first. URLs only: a key in a URL template is stripped first."""

    @classmethod
    def load(cls, path: Path | None = None) -> Settings:
        path = path or tui_state_file()
        try:
            raw = json.loads(path.read_text())
            theme = raw.get("theme")
            recent = [u for u in raw.get("recent_targets", []) if isinstance(u, str)]
            return cls(theme if isinstance(theme, str) else cls.theme, recent[:RECENT_MAX])
        except (OSError, ValueError, AttributeError):
            return cls()

    def save(self, path: Path | None = None) -> None:
        path = path or tui_state_file()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(asdict(self), indent=2))
            os.replace(tmp, path)
        except OSError:
            pass  # remembering is a convenience; never fail a run over it

    def remember_target(self, url: str, secret: str | None = None) -> None:
        url = url.strip()
        if not url:
            return
        parts = urlsplit(url)
        if parts.username or parts.password:  # credentials in the URL are keys too
            url = urlunsplit(parts._replace(netloc=parts.hostname or ""))
            if parts.port:
                url = urlunsplit(urlsplit(url)._replace(netloc=f"{parts.hostname}:{parts.port}"))
        if secret:
            url = url.replace(secret, "{key}")
        self.recent_targets = [url] + [u for u in self.recent_targets if u != url]
        del self.recent_targets[RECENT_MAX:]
