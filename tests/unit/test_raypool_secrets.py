"""What a Ray actor is created with: Ray keeps creation arguments (in its control store, in
task specs a dashboard can list), so an actor is made without the API key, the URLs and the
values of auth-like headers, and gets them in its first call (``engine/raypool.py``)."""

from __future__ import annotations

import pickle

from loadtui.engine.context import WorkerSpec
from loadtui.engine.raypool import _without_secrets
from loadtui.model.plan import RunConfig

TOKEN = "header-token-that-must-not-be-pickled"


def test_an_actor_is_created_without_secret_header_values_and_gets_them_first():
    config = RunConfig(
        target={"headers": {"X-Gateway-Token": TOKEN, "X-Tenant": "blue"}},
        requests=[{"kind": "chat", "headers": {"Authorization": "Bearer " + TOKEN}}],
    )
    spec = WorkerSpec(0, 1, config, "http://127.0.0.1:1/v1", api_key="k-" + TOKEN)
    bare, (api_key, base_url, _, real) = _without_secrets(spec)
    assert TOKEN.encode() not in pickle.dumps(bare)
    assert bare.config.target.headers["X-Tenant"] == "blue"  # only secrets are hidden
    assert real is config and api_key == spec.api_key and base_url == spec.base_url


def test_a_config_without_secret_headers_is_not_sent_twice():
    spec = WorkerSpec(0, 1, RunConfig(target={"headers": {"X-Tenant": "blue"}}), "http://x")
    bare, secrets = _without_secrets(spec)
    assert bare.config is spec.config and secrets[3] is None
