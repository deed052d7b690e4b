"""The request-control fields without a network: how a prepared request's headers and body come
out of them, what is written for auth-like headers, and the lengths a distribution draws."""

from __future__ import annotations

import json

from loadtui.engine.anthropic import AnthropicProtocol
from loadtui.engine.mix import OUTPUT_VARIANTS, with_lengths
from loadtui.engine.protocols import OpenAIProtocol, Prompt
from loadtui.model.plan import RunConfig, TargetSpec, header_secrets
from loadtui.model.requests import RequestSpec
from loadtui.model.shaping import OutputLength, secret_header_values
from loadtui.run.shaping import start_notices


def test_a_users_header_replaces_ours_whatever_its_case():
    spec = RequestSpec(headers={"authorization": "Bearer theirs", "ACCEPT": "*/*"})
    target = TargetSpec(headers={"X-Run": "1", "x-api-key": "run-wide"})
    prep = OpenAIProtocol().prepare(spec, target, "http://h", "sk-ours-123456")
    names = [k.lower() for k in prep.headers]
    assert names.count("authorization") == 1 and names.count("accept") == 1
    assert prep.headers["authorization"] == "Bearer theirs" and prep.headers["ACCEPT"] == "*/*"
    assert prep.headers["X-Run"] == "1" and prep.headers["Content-Type"] == "application/json"
    anthropic = AnthropicProtocol().prepare(
        RequestSpec(kind="messages"), target, "http://h", "sk-ours-123456"
    )
    assert anthropic.headers["x-api-key"] == "run-wide"  # the run's header over the key's


def test_the_body_table_is_merged_last_and_min_tokens_follows_each_draw():
    spec = RequestSpec(
        max_tokens={"min": 5, "max": 50, "seed": 3},
        ignore_eos=True,
        min_tokens="max_tokens",
        body={"model": "theirs", "temperature": 0},
    )
    variants = with_lengths(spec, [None])
    assert len(variants) == OUTPUT_VARIANTS
    bodies = [
        json.loads(OpenAIProtocol().prepare(one, TargetSpec(), "http://h", None).body or b"")
        for _, one in variants
    ]
    assert [b["max_tokens"] for b in bodies] == OutputLength(min=5, max=50, seed=3).draw(64)
    assert all(b["min_tokens"] == b["max_tokens"] and b["ignore_eos"] for b in bodies)
    assert {b["model"] for b in bodies} == {"theirs"} and bodies[0]["temperature"] == 0


def test_more_prompts_than_variants_get_one_draw_each():
    spec = RequestSpec(max_tokens={"min": 1, "max": 9})
    prompts: list[Prompt | None] = [f"p{i}" for i in range(100)]
    variants = with_lengths(spec, prompts)
    assert [p for p, _ in variants] == prompts
    assert all(isinstance(one.max_tokens, int) for _, one in variants)


def test_distributions_stay_in_bounds_and_centre_where_asked():
    for kind in ("uniform", "normal", "lognormal"):
        drawn = OutputLength(distribution=kind, min=10, max=1000, mean=100, seed=1).draw(2000)
        assert min(drawn) >= 10 and max(drawn) <= 1000
        middle = sorted(drawn)[1000]
        assert (400 < middle < 600) if kind == "uniform" else (80 < middle < 120), kind


def test_auth_like_header_values_are_written_as_stars_and_known_as_secrets():
    config = RunConfig(
        target={"headers": {"X-Gateway-Token": "tok-abcdef", "X-Tenant": "blue"}},
        requests=[{"headers": {"Authorization": "Bearer sk-xyz12345", "Cookie": "s=1234"}}],
    )
    written = json.dumps(config.model_dump(mode="json"))
    for secret in ("tok-abcdef", "sk-xyz12345", "s=1234"):
        assert secret not in written
    assert '"X-Tenant": "blue"' in written
    assert set(header_secrets(config)) == {
        "tok-abcdef",
        "Bearer sk-xyz12345",
        "sk-xyz12345",
        "s=1234",
    }
    reread = RunConfig.model_validate_json(written)  # a replay: the values are gone
    assert reread.requests[0].headers["Authorization"] == "***"
    assert secret_header_values(reread.requests[0].headers) == []
    assert any("Authorization, Cookie" in n for n in start_notices(reread))
    assert start_notices(config) == []
    assert any("--insecure" in n for n in start_notices(RunConfig(target={"insecure": True})))


def test_a_run_file_config_without_the_new_fields_loads_with_their_defaults():
    old = {"target": {"url": None, "model": "m"}, "requests": [{"kind": "chat", "max_tokens": 8}]}
    config = RunConfig.model_validate(old)
    assert config.target.headers == {} and not config.target.insecure
    assert config.target.ca_cert is None
    r = config.requests[0]
    assert r.body == {} and r.headers == {} and not r.ignore_eos and r.min_tokens is None
    assert r.max_tokens == 8


def test_a_preset_sets_body_tables_headers_and_a_length_distribution(tmp_path):
    from loadtui.storage.presets import load_preset

    preset = tmp_path / "shaped.toml"
    preset.write_text(
        '[target]\nheaders = { "X-Tenant" = "blue" }\ninsecure = true\n\n'
        '[[requests]]\nkind = "chat"\nignore_eos = true\nheaders = { "X-Route" = "canary" }\n'
        'max_tokens = { distribution = "lognormal", min = 32, max = 1024, mean = 200 }\n'
        '[requests.body]\ntemperature = 0.2\nstop = ["END"]\n'
        'response_format = { type = "json_object" }\n'
    )
    config = load_preset(str(preset))
    r = config.requests[0]
    assert r.body == {
        "temperature": 0.2,
        "stop": ["END"],
        "response_format": {"type": "json_object"},
    }
    assert r.headers == {"X-Route": "canary"} and r.ignore_eos
    assert isinstance(r.max_tokens, OutputLength) and r.max_tokens.distribution == "lognormal"
    assert config.target.headers == {"X-Tenant": "blue"} and config.target.insecure


def test_options_fold_into_the_requests_that_have_a_body_and_keep_the_presets_prompts():
    from loadtui.run.options import Overrides, resolve

    config = resolve(
        Overrides(preset="mix", body=["temperature=0.5", "user=alice"], input_words="5-9")
    ).config
    for r in config.requests:
        expected = {"temperature": 0.5, "user": "alice"} if r.kind != "health" else {}
        assert r.body == expected, r.kind
    synthetic = config.prompts.synthetic
    assert synthetic is not None and (synthetic.min_words, synthetic.max_words) == (5, 9)
    assert config.prompts.file is None
