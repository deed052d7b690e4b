"""Option resolution (``loadtui.run.options``): a preset plus a user's options, one config.

The command line and the app's setup form both go through ``resolve``; these tests pin what
each option does to the preset, one rule at a time, without starting anything.
"""

from __future__ import annotations

import pytest

from loadtui.errors import ConfigError
from loadtui.run.options import Overrides, resolve, resolve_config
from loadtui.storage.presets import load_preset


@pytest.fixture(autouse=True)
def _no_env_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("OPENAI_BASE_URL", "ANTHROPIC_BASE_URL", "OPENAI_API_KEY", "ANTHROPIC_API_KEY"):
        monkeypatch.delenv(var, raising=False)


def test_no_option_is_the_preset_itself() -> None:
    assert resolve(Overrides(preset="mix")).config == load_preset("mix")
    assert resolve(Overrides()).config == load_preset("smoke")  # the default preset


def test_users_turn_a_staged_preset_into_a_closed_loop_of_the_same_length() -> None:
    spike = load_preset("spike")
    config = resolve_config(Overrides(preset="spike", users=7))
    assert (config.load.mode, config.load.users) == ("closed", 7)
    assert config.load.total_duration == spike.load.total_duration


def test_rate_makes_an_open_loop_run_of_the_same_length() -> None:
    config = resolve_config(Overrides(preset="mix", rate=12.5))
    assert (config.load.mode, config.load.rate, config.load.open_loop) == ("open", 12.5, True)
    assert config.load.total_duration == load_preset("mix").load.total_duration


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (Overrides(users=2, rate=3.0), "describe different runs"),
        (Overrides(users=0), "--users must be at least 1"),
        (Overrides(rate=0.0), "--rate must be greater than 0"),
        (Overrides(workers=0), "--workers must be at least 1"),
        (Overrides(duration=-1.0), "--duration must be greater than 0"),
        (Overrides(time_scale=0.0), "--time-scale must be greater than 0"),
        (Overrides(mock=True, url="http://127.0.0.1:9"), "--mock and --url contradict"),
        (Overrides(url="http://[::1"), "url must be http(s)://"),
        (Overrides(direct_url="http://u:p@127.0.0.1:9"), "must not hold user:password"),
        (Overrides(arrival="sometimes"), "invalid option: "),
    ],
)
def test_bad_options_are_one_line_config_errors(overrides: Overrides, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve(overrides)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_stream_max_tokens_and_prompt_reach_every_request_that_has_them() -> None:
    config = resolve_config(
        Overrides(preset="smoke", stream=False, max_tokens=5, prompt="hello there")
    )
    chat = next(r for r in config.requests if r.kind == "chat")
    assert (chat.stream, chat.max_tokens, chat.prompt) == (False, 5, "hello there")
    health = next(r for r in config.requests if r.kind == "health")
    assert (
        health.model_dump()
        == next(r for r in load_preset("smoke").requests if r.kind == "health").model_dump()
    )
    # one fixed prompt replaces the preset's prompt data
    assert config.prompts.file is None and config.prompts.synthetic is None


def test_stream_leaves_an_embedding_as_the_preset_has_it() -> None:
    preset = next(r for r in load_preset("embeddings").requests if r.kind == "embedding")
    config = resolve_config(Overrides(preset="embeddings", stream=not preset.stream, max_tokens=9))
    embedding = next(r for r in config.requests if r.kind == "embedding")
    assert embedding.stream == preset.stream and embedding.max_tokens == 9


def test_load_options_are_copied_as_given() -> None:
    config = resolve_config(
        Overrides(preset="smoke", spawn_rate=3.0, max_in_flight=4, think_time=(0.1, 0.2))
    )
    assert config.load.spawn_rate == 3.0 and config.load.max_in_flight == 4
    assert tuple(config.load.think_time) == (0.1, 0.2)


def test_time_scale_shortens_the_plan_and_the_think_time() -> None:
    smoke = load_preset("smoke")
    config = resolve_config(Overrides(preset="smoke", time_scale=0.5))
    assert config.load.total_duration == pytest.approx(smoke.load.total_duration * 0.5)
    lo, hi = smoke.load.think_time
    assert tuple(config.load.think_time) == pytest.approx((lo * 0.5, hi * 0.5))


def test_userinfo_stays_out_of_the_config() -> None:
    resolved = resolve(Overrides(url="http://alice:s3cret-pass@127.0.0.1:9/v1"))
    assert resolved.config.target.url == "http://127.0.0.1:9/v1"
    assert (resolved.userinfo, resolved.source) == ("alice:s3cret-pass", "--url")
    with pytest.raises(ConfigError, match="Basic auth"):
        resolve_config(Overrides(url="http://alice:s3cret-pass@127.0.0.1:9/v1"))


def test_where_the_target_url_comes_from(monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve(Overrides()).source is None  # nothing named a URL: the embedded mock
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:7/v1")
    env = resolve(Overrides())
    assert (env.config.target.url, env.source) == ("http://127.0.0.1:7/v1", "$OPENAI_BASE_URL")
    mock = resolve(Overrides(mock=True))
    assert (mock.config.target.url, mock.source) == (None, "--mock")
    # overhead mode needs the proxy as its URL: the environment's API URL is never taken
    overhead = resolve(Overrides(direct_url="http://127.0.0.1:8"))
    assert overhead.config.target.url is None and overhead.config.overhead.enabled
