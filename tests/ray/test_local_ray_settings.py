"""A local Ray that loadtui starts runs without the costs nobody uses (docs/ray.md, "A local
Ray"): no log monitor, Ray's observability off, actors at the driver's priority — and the
driver's own environment is left as it was.

One ``ray.init`` (~10 s), through ``connect`` as a run without ``--ray-address`` does it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")

from loadtui.engine.raypool import (  # noqa: E402
    LOCAL_RAY_SETTINGS,
    LOCAL_SNAPSHOT_INTERVAL,
    connect,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.xdist_group("heavy")]


def test_a_local_ray_started_by_loadtui_leaves_out_what_costs_cpu_for_nothing(monkeypatch):
    assert not ray.is_initialized()
    # Ray's sockets need a short path; a setting the user chose stays theirs
    monkeypatch.setenv("RAY_TMPDIR", tempfile.mkdtemp(prefix="lt-rs-"))
    monkeypatch.setenv("RAY_memory_monitor_refresh_ms", "500")
    before = {k: os.environ.get(k) for k in LOCAL_RAY_SETTINGS}
    said: list[str] = []
    cluster = connect(None, 1, said.append)
    try:
        # the settings were for Ray's processes only (Ray adds variables of its own)
        assert {k: os.environ.get(k) for k in LOCAL_RAY_SETTINGS} == before
        node = ray._private.worker._global_node
        assert "raylet" in node.all_processes
        assert "log_monitor" not in node.all_processes

        def state() -> tuple[int, dict[str, str]]:  # nested: Ray ships it by value
            return os.nice(0), dict(os.environ)

        nice, env = ray.get(ray.remote(num_cpus=1)(state).remote(), timeout=120)
        assert nice == 0  # Ray's default for its workers is 15
        expected = {**LOCAL_RAY_SETTINGS, "RAY_memory_monitor_refresh_ms": "500"}
        assert {k: env.get(k) for k in expected} == expected
        assert cluster.snapshot_interval == LOCAL_SNAPSHOT_INTERVAL
        assert said and Path(said[0].split(" in ", 1)[1]).name == "ray.log"
    finally:
        cluster.disconnect()


def test_joining_a_cluster_changes_no_ray_setting():
    from loadtui.engine.raypool import _local_settings

    before = dict(os.environ)
    with _local_settings(local=False):
        assert dict(os.environ) == before  # a cluster's settings are its own
    with _local_settings(local=True):
        assert all(os.environ.get(k) is not None for k in LOCAL_RAY_SETTINGS)
    assert dict(os.environ) == before
