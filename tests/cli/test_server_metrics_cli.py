"""``--server-metrics`` as a user types it: a metrics endpoint that is down does not stop the
run — it completes, exit 0, and the summary and the run file count the failed scrapes; the
options that cannot apply are one line (ConfigError → exit 2 in the CLI)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from helpers import run_cli
from loadtui.errors import ConfigError
from loadtui.run.options import Overrides, resolve
from loadtui.storage.runfile import load_record


def test_a_run_goes_on_when_the_metrics_endpoint_is_down(
    mock: Any, unused_port: int, private_dirs: Path
) -> None:
    out = private_dirs / "run.json"
    dead = f"http://127.0.0.1:{unused_port}/metrics"
    # 2 s: the scraper's first attempt is due at 0.5 s, and on a busy machine whose bytecode
    # is cold its HTTP client (TLS contexts) and the console's imports can take a second first
    result = run_cli(
        "--headless", "--preset", "smoke", "--url", mock.url, "--duration", "2",
        "--server-metrics", dead, "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("server metrics:")]
    assert len(lines) == 1 and lines[0].endswith(f"failed (connect {_connects(out)})")
    assert f"of {dead}," in lines[0]
    run = load_record(out)
    assert run.status == "completed" and run.server is not None and run.server.points == ()


def _connects(out: Path) -> int:
    server = load_record(out).server
    assert server is not None and server.failures.get("connect", 0) >= 1
    return server.failures["connect"]


@pytest.mark.parametrize(
    ("overrides", "says"),
    [
        (Overrides(url="http://127.0.0.1:9/v1", server_metrics="mock"), "has a URL"),
        (Overrides(server_metric=["vllm:x"]), "needs --server-metrics"),
        (Overrides(server_metrics="gpu:8000"), "not an http(s) URL"),
        (Overrides(server_metrics="mock", server_metric=["a b"]), "is not a series"),
    ],
)
def test_options_that_cannot_apply_are_refused(overrides: Overrides, says: str) -> None:
    with pytest.raises(ConfigError, match=None) as info:
        resolve(overrides)
    assert says in str(info.value)
    assert "\n" not in str(info.value)


def test_options_add_series_to_the_url() -> None:
    spec = resolve(Overrides(server_metrics="mock", server_metric=["a", "b", "a"])).config
    assert spec.server_metrics is not None
    assert spec.server_metrics.series == ("a", "b")


def test_a_presets_mock_endpoint_is_left_out_when_the_run_has_a_url(private_dirs: Path) -> None:
    preset = private_dirs / "p.toml"
    preset.write_text('[server_metrics]\nurl = "mock"\nseries = ["vllm:x"]\n')
    embedded = resolve(Overrides(preset=str(preset))).config.server_metrics
    assert embedded is not None and embedded.url == "mock" and embedded.series == ("vllm:x",)
    remote = resolve(Overrides(preset=str(preset), url="http://127.0.0.1:9/v1")).config
    assert remote.server_metrics is None
    named = resolve(Overrides(preset=str(preset), server_metrics="http://gpu:8000")).config
    assert named.server_metrics is not None
    assert named.server_metrics.url == "http://gpu:8000/metrics"
    assert named.server_metrics.series == ("vllm:x",)
