"""The app with Ray actors: the run screen's generator health names each actor's node (a lost
one marked, node names as plain text: they come from the cluster's hosts), and ``--backend
ray`` given on the command line reaches the run the setup form starts."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from loadtui.model.record import LostWorker
from loadtui.run.options import Overrides
from loadtui.tui.app import LoadtuiApp
from loadtui.tui.settings import Settings
from test_tui_hardening import FixedRun, _live, _show, started_from_form


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


def test_backend_ray_on_the_command_line_reaches_the_run_the_form_starts() -> None:
    """The setup form has no field for it: ``loadtui --backend ray --ray-address …`` is kept."""

    prefill = Overrides(mock=True, backend="ray", ray_address="10.0.0.5:6379")
    started = started_from_form(prefill)
    assert started.engine.backend == "ray"
    assert started.engine.ray_address == "10.0.0.5:6379"
