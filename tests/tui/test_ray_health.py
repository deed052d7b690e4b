"""The run screen's generator health with Ray actors: each actor's node, a lost one marked,
node names shown as plain text (they come from the cluster's hosts)."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from loadtui.model.record import LostWorker
from loadtui.tui.app import LoadtuiApp
from loadtui.tui.settings import Settings
from test_tui_hardening import FixedRun, _live, _show


def test_the_health_panel_names_each_actor_s_node() -> None:
    base = _live()
    nodes = ("gpu-a 10.0.0.5", "gpu-[b]b[/b] 10.0.0.6", "gpu-a 10.0.0.5")
    lost = (LostWorker(worker=1, at_s=2.0, reason="exited unexpectedly"),)
    frame = replace(base, workers=3, health=replace(base.health, nodes=nodes, lost_workers=lost))

    async def scenario() -> str:
        app = LoadtuiApp(settings=Settings())
        async with app.run_test(size=(120, 34)) as pilot:
            screen = await _show(pilot, FixedRun(frame))
            return str(screen.query_one("#health").render())

    health = asyncio.run(scenario())
    assert "gpu-a 10.0.0.5: actors 0, 2" in health, health
    assert "gpu-[b]b[/b] 10.0.0.6: actor 1 lost" in health, health
