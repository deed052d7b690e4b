"""Load generation: shapes, worker processes, protocols, SSE and the coordinator.

asyncio only; never imports Textual. The UI and the console talk to ``Coordinator`` and read the
snapshots it merges — they never touch a worker's event loop. The mock upstream it is tested
against lives apart, in ``loadtui.mock``, and the two never import each other.
"""
