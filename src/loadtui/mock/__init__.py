"""The embedded mock upstream: OpenAI- and Anthropic-compatible, with known, configurable timing.

It gives every run a target (``loadtui --headless`` with no ``--url``), gives tests a ground
truth (fixed TTFT and inter-chunk gaps, a count of requests served at ``/mock/stats``) and runs
standalone as ``loadtui mock``. One module per API family: ``openai`` (chat, completions,
embeddings, models), ``anthropic`` (messages), ``responses`` (the Responses API), ``batches``
(Files and Batches), ``faults`` (what can go wrong on purpose), ``capacity`` (slots and a queue, when asked for: docs/mock.md);
``server`` wires them and runs the process.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from loadtui.mock.server import MOCK_MODEL, MockProcess, build_app, serve

__all__ = ["MOCK_MODEL", "MockProcess", "build_app", "serve"]


def __getattr__(name: str) -> Any:
    """The names above, imported from ``server`` when first asked for: a run's parent imports
    ``mock.servers`` to launch the mock, and must not import the mock itself (its server, every
    handler) with this package."""
    if name in __all__:
        from loadtui.mock import server

        return getattr(server, name)
    raise AttributeError(f"module 'loadtui.mock' has no attribute {name!r}")
