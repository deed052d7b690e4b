"""The mock's one name for a JSON object as it crosses the wire (request bodies it parses,
answers it builds): the only untyped data in the package, kept at the edge."""

from __future__ import annotations

from typing import Any

__all__ = ["JSONObject"]

JSONObject = dict[str, Any]
"""A JSON object, parsed from or about to be written to the wire."""
