"""Load generation: shapes, worker processes, protocols, SSE, the coordinator and the mock.

asyncio only; never imports Textual. The UI and the console talk to ``Coordinator`` and read the
snapshots it merges — they never touch a worker's event loop.
"""
