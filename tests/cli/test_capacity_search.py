"""The capacity search over loopback, as a user runs it: ``loadtui --headless`` against the
embedded mock modelling a server's capacity (``[mock]`` slots, decode rate), whose knee is
computed by hand (docs/mock.md, "The knee, by hand")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import run_cli
from loadtui.model.controls import ControlChange
from loadtui.run.drive import Controls, RunDriver
from loadtui.run.frame import LiveFrame
from loadtui.run.options import Overrides, resolve_config
from loadtui.run.session import RunSession

# a knee is a measurement: run apart from the tests that start Ray (pyproject: loadgroup)
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("heavy")]

# service time S = ttft + (tokens − 1) / decode_tps = 0.02 + 16 / 100 = 0.18 s with 2 slots:
# the rate knee is 2 / 0.18 ≈ 11.1 requests/s, the users knee 2 users
KNEE_MOCK = """
[mock]
ttft = "20ms"
tokens = 17
slots = 2
decode_tps = 100
max_queue = 4
"""
RATE_KNEE = 2 / (0.02 + 16 / 100)
USERS_KNEE = 2

FAST = """
[search]
mode = "{mode}"
start = {start}
settle = "0.5s"
min_requests = {min_requests}
min_step = "1s"
max_step = "2.5s"
precision = 0.1
refinements = 3
{extra}
"""


def preset(
    folder: Path, mode: str, start: float, slo: str, mock: str = KNEE_MOCK, **kw: object
) -> Path:
    load = '[load]\nmode = "open"\nrate = 1\nduration = "90s"\ngraceful_stop = "1s"\n'
    requests = '[[requests]]\nkind = "chat"\nstream = true\nmax_tokens = 17\n'
    min_requests = kw.pop("min_requests", 15)
    extra = "\n".join(f"{k} = {v}" for k, v in kw.items())
    search = FAST.format(mode=mode, start=start, min_requests=min_requests, extra=extra)
    path = folder / f"search-{mode}.toml"
    path.write_text(f'{load}{requests}[slo]\nttft = "{slo}"\n{search}{mock}')
    return path


def run_search(path: Path, out: Path, *args: str) -> tuple[dict, str]:
    proc = run_cli("--headless", "--preset", str(path), "--workers", "1", "--out", str(out), *args)
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    run = json.loads(out.read_text())
    passed = all(t["passed"] for t in run["thresholds"])
    assert proc.returncode == (0 if passed else 1), proc.stdout + proc.stderr
    return run, proc.stdout


def loads(run: dict) -> list[tuple[float, str]]:
    return [(s["load"], s["verdict"]) for s in run["search"]["steps"]]


def test_rate_search_finds_the_knee(private_dirs: Path):
    path = preset(private_dirs, "rate", 6, "<100ms", half_width=0.1)
    for _ in range(3):  # a starved machine can hold the generator back (not this test's subject):
        run, stdout = run_search(path, private_dirs / "rate.json")  # the search then says so
        if run["search"]["outcome"] != "generator_saturated":
            break
    search = run["search"]
    assert search["outcome"] == "capacity", stdout
    assert abs(search["capacity"] - RATE_KNEE) <= 0.15 * RATE_KNEE, stdout
    good, bad = search["interval"]
    assert good == search["capacity"] < bad
    # the table and its capacity line, and each step's line as it ended
    assert f"capacity: {search['capacity']:g} req/s (between {good:g} and {bad:g})" in stdout
    assert stdout.count("\nstep ") + stdout.startswith("step ") >= len(search["steps"])
    phases = [s["phase"] for s in search["steps"]]
    assert phases[0] == "probe" and "refine" in phases
    # each load the search set is in the control timeline, by the search
    sent = [
        c["value"] for c in run["controls"] if c["source"] == "search" and c["action"] == "rate"
    ]
    assert [s["load"] for s in search["steps"][1:]] == [v for v in sent if v > 0]


def test_users_search_finds_the_knee_and_the_threshold_gates_it(private_dirs: Path):
    path = preset(private_dirs, "users", 2, "<60ms", min_requests=10, half_width=0.1)
    run, stdout = run_search(path, private_dirs / "users.json", "--threshold", "capacity>=3")
    search = run["search"]
    assert search["outcome"] == "capacity", stdout
    assert search["capacity"] == USERS_KNEE, stdout
    assert search["interval"] == [2, 3]
    failed = [t for t in run["thresholds"] if t["metric"] == "capacity"]
    assert failed and not failed[0]["passed"], run["thresholds"]
    # so the exit code was 1 (run_search checks it)


def test_never_compliant_stops_at_the_first_step_and_frames_show_the_search(private_dirs: Path):
    """Through the run service as the app drives it: every frame carries the search as it
    stands (the running step with its figures), and the run ends after one step."""
    path = preset(private_dirs, "rate", 5, "<1ms", mock="")
    config = resolve_config(Overrides(preset=str(path), workers=1))
    frames: list[LiveFrame] = []
    with RunSession(config, out=private_dirs / "never.json", say=lambda _: None) as session:
        run, saved = RunDriver(session, Controls(), publish=frames.append).run()
    assert saved is not None and run.search is not None
    search = run.search
    assert search.outcome == "never_compliant" and search.capacity is None
    assert len(search.steps) == 1 and search.steps[0].verdict == "fail"
    assert search.message.startswith("never compliant: already at 5 req/s attainment 0.000")
    running = [f.search for f in frames if f.search is not None and f.search.current == 0]
    assert running and running[-1].steps[-1].verdict == "running"
    assert frames[-1].search == search  # the final frame: the saved run's
    assert [(c.action, c.source) for c in run.controls] == [("stop", "search")]


def test_a_saturated_generator_is_reported_not_a_capacity(private_dirs: Path):
    # one worker cannot send 20,000 requests/s, whatever the mock (no capacity limit) answers
    path = preset(private_dirs, "rate", 20000, "<10s", mock='[mock]\nttft = "0s"\ntokens = 1\n')
    run, stdout = run_search(path, private_dirs / "hot.json", "--max-in-flight", "50000")
    search = run["search"]
    assert search["outcome"] == "generator_saturated", stdout
    assert search["capacity"] is None
    hot = search["steps"][-1]
    assert hot["verdict"] == "saturated"
    assert f"the generator saturated at {hot['load']:.4g} req/s: it could not send" in stdout


def test_a_steered_search_replayed_repeats_its_steps(private_dirs: Path):
    """Skip the first step, hold the second a while, up to --max-rate: the replay applies the
    recorded load changes and steering at their offsets and judges the same steps again.
    (A half-width of 0.5 ends a step after its 1.5 s minimum: the hold is what makes the
    second one last over 2.7 s.)"""
    path = preset(private_dirs, "rate", 5, "<2s", mock="", half_width=0.5, min_requests=10)
    controls = private_dirs / "steer.toml"
    controls.write_text(
        '[[control]]\nat = "0.8s"\naction = "search"\nvalue = "skip"\n'
        '[[control]]\nat = "1.2s"\naction = "search"\nvalue = "hold"\n'
        '[[control]]\nat = "3.5s"\naction = "search"\nvalue = "hold"\n'
    )
    first, stdout = run_search(
        path, private_dirs / "steered.json", "--control-file", str(controls), "--max-rate", "20",
        "--threshold", "capacity>=15",
    )  # fmt: skip
    search = first["search"]
    assert search["outcome"] == "ceiling", stdout
    assert "no knee up to 20 req/s" in stdout
    # a ceiling is a capacity of at least the ceiling: capacity>=15 passes (exit 0)
    gate = [t for t in first["thresholds"] if t["metric"] == "capacity"]
    assert gate and gate[0]["passed"] and search["capacity"] == 20, first["thresholds"]
    steps = loads(first)
    assert steps[0] == (5, "skipped") and steps[1][0] == 10 and steps[-1] == (20, "pass")
    assert search["steps"][1]["held"] and search["steps"][1]["duration_s"] >= 2.3
    proc = run_cli("replay", str(private_dirs / "steered.json"), "--headless", "--out",
                   str(private_dirs / "replay.json"))  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    replay = json.loads((private_dirs / "replay.json").read_text())
    assert [s["load"] for s in replay["search"]["steps"]] == [s[0] for s in steps]
    assert replay["search"]["steps"][0]["verdict"] == "skipped"
    assert replay["search"]["outcome"] == "ceiling"
    assert "capacity search" in proc.stdout


def test_steering_step_back_and_accept_through_controls(private_dirs: Path):
    """The app's steering, sent through the run's Controls: a factor of 3, skip (5 → 15), back
    (→ 5, after draining 15's requests), accept: the search stops with the best step so far."""
    path = preset(private_dirs, "rate", 5, "<2s", mock="")
    config = resolve_config(Overrides(preset=str(path), workers=1))
    steer = [
        ControlChange("search", value, at, "live")
        for at, value in ((0.3, "step:3"), (0.6, "skip"), (1.4, "back"))
    ]
    controls = Controls(steer)
    accept = ControlChange("search", "accept", None, "live")

    def accept_on_the_third_step(frame: LiveFrame) -> None:
        # once ``back``'s drain is over and step 3 runs, however long the drain took on a
        # busy machine (a fixed offset could land mid-drain)
        if frame.search is not None and frame.search.current == 2 and accept not in sent:
            sent.append(accept)
            controls.send(accept)

    sent: list[ControlChange] = []
    with RunSession(config, out=private_dirs / "steer.json", say=lambda _: None) as session:
        run, _ = RunDriver(session, controls, publish=accept_on_the_third_step).run()
    search = run.search
    assert search is not None and search.step_factor == 3
    assert [s.load for s in search.steps] == [5, 15, 5]
    assert [s.verdict for s in search.steps][:2] == ["skipped", "skipped"]
    assert search.outcome == "stopped" and search.message.startswith("accepted")
    rates = [c.value for c in run.controls if c.action == "rate"]
    assert rates == [15, 0, 5]  # back to a lower load drains first
    assert [c.value for c in run.controls if c.action == "search"] == [
        v.value for v in (*steer, accept)
    ]
