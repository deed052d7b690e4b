"""A run's life as a user meets it: stop, signals, SIGKILL, checkpoints, where the run is saved.

Most tests run ``python -m loadtui`` as a user would, against the embedded mock (127.0.0.1
only), send real signals and wait on conditions with deadlines; the bounds asserted are far
below the failures they guard against (a 60 s shutdown, a 20 s drain), so a busy machine does
not fail them. Section comments name the issue item each test covers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from helpers import run_cli
from loadtui.mock import MockProcess
from loadtui.model.plan import MockSpec


def _popen(*args: str, cwd: Path | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "loadtui", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        cwd=cwd,
    )


def _wait_for(cond: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _reap(proc: subprocess.Popen[str]) -> None:
    """A test's loadtui that is still running when the test ends (it failed) is killed."""
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def _newest_worker(proc: subprocess.Popen[str]) -> int:
    """The pid of the run's second worker (its children: the mock, then the workers — forked
    or spawned, docs/performance.md "Start-up and exit" — and with a spawn the resource
    tracker)."""
    spawned = [p for p in _descendants(proc.pid) if b"resource_tracker" not in _cmdline(p)]
    assert len(spawned) == 3, spawned  # the mock, then the two workers
    return max(spawned, key=lambda pid: (_start_time(pid), pid))  # start times tie (10 ms ticks)


def _read_until(proc: subprocess.Popen[str], prefix: str, timeout: float = 30) -> None:
    """Read stdout lines until one starts with ``prefix`` (progress lines start with "[")."""
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        assert line, f"stdout ended before a line starting {prefix!r}"
        if line.startswith(prefix):
            return
    raise AssertionError(f"no line starting {prefix!r} within {timeout}s")


def _preset(folder: Path, extra: str = "", load: str = "") -> Path:
    path = folder / "p.toml"
    path.write_text(
        f'description = "lifecycle"\n[load]\nusers = 2\nduration = "60s"\n{load}'
        f'[[requests]]\nkind = "chat"\nstream = true\n{extra}'
    )
    return path


# -- issue 8 #12: stop is `stopped`, and a replay stops at the same offset ---------------------
@pytest.mark.slow
@pytest.mark.integration
def test_stop_control_saves_stopped_and_replay_stops_there(private_dirs: Path):
    controls = private_dirs / "stop.toml"
    controls.write_text('[[control]]\nat = "1s"\naction = "stop"\n')
    first = private_dirs / "first.json"
    proc = run_cli(
        "--headless", "--duration", "1h", "--control-file", str(controls), "--out", str(first)
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    original = json.loads(first.read_text())
    assert original["status"] == "stopped"
    assert 0.9 <= original["load_ended_s"] < 30
    assert proc.stdout.rstrip().splitlines()[-1] == f"run saved: {first}"

    second = private_dirs / "second.json"
    proc = run_cli("replay", str(first), "--headless", "--out", str(second))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    replay = json.loads(second.read_text())
    assert replay["status"] == "stopped"
    assert abs(replay["load_ended_s"] - original["load_ended_s"]) < 0.5


# -- issue 8 #19: a stalled request never holds a server's shutdown --------------------------
def _stall(url: str, n: int) -> None:
    """Send ``n`` requests that the mock will stall (each in a thread; they end in error)."""
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}

    def one() -> None:
        # the server goes away under the stalled request: an error here is expected
        with contextlib.suppress(httpx.HTTPError):
            httpx.post(url + "/v1/chat/completions", json=body, timeout=30)

    for _ in range(n):
        threading.Thread(target=one, daemon=True).start()


def _served(url: str) -> int:
    return httpx.get(url + "/mock/stats", timeout=5).json()["served"]


@pytest.mark.integration
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_mock_command_with_stalled_requests_exits_promptly(sig: signal.Signals):
    proc = _popen("mock", "--port", "0", "--fault", "stall:1.0")
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "listening on" in line, proc.stderr.read() if proc.stderr else ""
        url = line.split("listening on ")[1].split()[0]
        _stall(url, 3)
        _wait_for(lambda: _served(url) >= 3, 15, "three requests to reach the mock")
        started = time.monotonic()
        proc.send_signal(sig)
        proc.wait(timeout=20)
        took = time.monotonic() - started
    finally:
        _reap(proc)
    assert proc.returncode == 0
    assert took < 10, f"the mock took {took:.1f}s to stop"


@pytest.mark.integration
def test_embedded_mock_with_stalled_requests_stops_promptly():
    mock = MockProcess(MockSpec(latency=0.01, faults={"stall": 1.0}))
    mock.start()
    try:
        _stall(mock.url, 3)
        _wait_for(lambda: _served(mock.url) >= 3, 15, "three requests to reach the mock")
        pid = mock._proc.pid
    finally:
        started = time.monotonic()
        mock.stop()
        took = time.monotonic() - started
    assert not _alive(pid)
    assert took < 4.5, f"stop() took {took:.1f}s: the server waited on its stalled requests"


# -- issue 8 #22 and issue 9 #8: the run is never lost at save time ---------------------------
@pytest.mark.integration
def test_out_that_cannot_be_written_is_refused_before_the_run():
    proc = run_cli("--headless", "--duration", "1s", "--out", "/proc/loadtui-x.json")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.count("\n") == 1 and "cannot write in /proc" in proc.stderr
    assert "run saved" not in proc.stdout


def _break_folder(folder: Path) -> None:
    """Make ``folder`` unusable even for root: a file takes its place."""
    for stale in folder.iterdir():
        stale.unlink()
    folder.rmdir()
    folder.write_text("the disk went bad")


@pytest.mark.integration
def test_out_unwritable_at_save_time_falls_back_and_says_so_on_stderr(private_dirs: Path):
    folder = private_dirs / "results"
    folder.mkdir()
    out = folder / "run.json"
    proc = _popen("--headless", "--duration", "2s", "--out", str(out))
    _read_until(proc, "target:")  # --out was checked before this line
    _break_folder(folder)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 4, stdout + stderr
    assert f"cannot write the run to {out}" in stderr
    assert "Traceback" not in stderr
    last = stdout.rstrip().splitlines()[-1]
    assert last.startswith("run saved: ")
    saved = Path(last.removeprefix("run saved: "))
    assert saved.parent == private_dirs / "data" / "runs"
    assert f"saved to {saved} instead of {out}" in stderr
    assert json.loads(saved.read_text())["status"] == "completed"
    assert "cannot" not in stdout


@pytest.mark.integration
@pytest.mark.parametrize("device", ["/dev/null", "/dev/zero"])
def test_out_onto_a_device_is_refused(device: str):
    proc = run_cli("--headless", "--duration", "1s", "--out", device)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.count("\n") == 1 and "not a regular file" in proc.stderr
    assert Path(device).is_char_device()


@pytest.mark.integration
def test_unwritable_data_dir_is_refused_before_the_run(private_dirs: Path):
    blocker = private_dirs / "a-file"
    blocker.write_text("not a folder")
    proc = run_cli(
        "--headless", "--duration", "1s", env={"LOADTUI_DATA_DIR": str(blocker / "data")}
    )
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert proc.stderr.count("\n") == 1 and "cannot write runs to" in proc.stderr
    assert "run saved" not in proc.stdout


@pytest.mark.integration
def test_data_dir_broken_during_the_run_saves_to_the_current_folder(private_dirs: Path):
    work = private_dirs / "work"
    work.mkdir()
    proc = _popen("--headless", "--duration", "2s", cwd=work)
    _read_until(proc, "target:")  # the data dir was checked before this line
    _break_folder(private_dirs / "data" / "runs")  # now runs/<id>.json cannot be written
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 4, stdout + stderr
    assert "Traceback" not in stderr
    (saved,) = work.glob("*.json")
    assert json.loads(saved.read_text())["status"] == "completed"
    assert "requests" in stdout  # the summary was printed
    assert stdout.rstrip().splitlines()[-1] == f"run saved: {saved}"
    assert f"saved to {saved}" in stderr


# -- issue 9 #9: SIGKILL keeps a checkpoint and leaves no process behind ------------------
def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"  # a zombie has exited; only its reaping is pending


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _requests_in(path: Path) -> int:
    """Requests in the run file so far (0 while there is none: it appears whole, atomically)."""
    try:
        return json.loads(path.read_text())["summary"]["requests"]
    except FileNotFoundError:
        return 0


@pytest.mark.integration
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_sigkill_leaves_a_checkpoint_and_no_process(private_dirs: Path):
    out = private_dirs / "killed.json"
    proc = _popen("--headless", "--duration", "60s", "--workers", "2", "--out", str(out))
    try:
        _wait_for(lambda: _requests_in(out) > 0, 40, "a checkpoint with requests in it")
        helpers = _descendants(proc.pid)
        assert len(helpers) >= 3, helpers  # 2 workers, the mock (and a resource tracker)
        proc.kill()
        proc.wait(timeout=10)
        # the bound: nothing left 2 s after the kill (measured: 0.21 s)
        _wait_for(lambda: not any(_alive(p) for p in helpers), 2, "helpers to die")
    finally:
        _reap(proc)
    run = json.loads(out.read_text())
    assert run["status"] == "running"
    assert run["summary"]["requests"] > 0
    assert run["load_ended_s"] > 0


# -- issue 9 #9: a second Ctrl-C during the drain stops at once ----------------------------
@pytest.mark.integration
def test_second_ctrl_c_cuts_the_drain_short(private_dirs: Path):
    # stalled requests hold the drain for the whole graceful_stop (20 s) unless cut short
    preset = _preset(
        private_dirs, "[mock]\nfaults = {stall = 1.0}\n", load='graceful_stop = "20s"\n'
    )
    out = private_dirs / "r.json"
    proc = _popen("--headless", "--preset", str(preset), "--out", str(out))
    try:
        _read_until(proc, "[")
        proc.send_signal(signal.SIGINT)
        time.sleep(1.0)  # let the first one start the drain (nothing shows that it has)
        started = time.monotonic()
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=40)
        took = time.monotonic() - started
    finally:
        _reap(proc)
    assert proc.returncode == 130, stdout + stderr
    assert took < 12, f"{took:.1f}s after the second Ctrl-C"
    assert json.loads(out.read_text())["status"] == "interrupted"


# -- exit code of a failed run ------------------------------------------------------------
@pytest.mark.integration
def test_ctrl_c_during_the_drain_after_the_end_is_interrupted_not_failed(private_dirs: Path):
    """The time is up, a stalled request holds the drain (and the console says so); Ctrl-C then
    cuts it short: the run was interrupted (130), not a failure of its workers."""
    preset = _preset(private_dirs, "[mock]\nfaults = {stall = 1.0}\n")
    out = private_dirs / "r.json"
    proc = _popen("--headless", "--preset", str(preset), "--duration", "1s", "--out", str(out))
    try:
        _read_until(proc, "load ended: waiting up to 10s")
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=30)
    finally:
        _reap(proc)
    assert proc.returncode == 130, stdout + stderr
    assert json.loads(out.read_text())["status"] == "interrupted"


@pytest.mark.slow
@pytest.mark.integration
def test_a_worker_dying_fails_the_run_with_exit_4(private_dirs: Path):
    out = private_dirs / "r.json"
    proc = _popen("--headless", "--duration", "3s", "--workers", "2", "--out", str(out))
    try:
        _read_until(proc, "[")
        os.kill(_newest_worker(proc), signal.SIGKILL)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        _reap(proc)
    assert proc.returncode == 4, stdout + stderr
    assert json.loads(out.read_text())["status"] == "failed"


@pytest.mark.slow
@pytest.mark.integration
def test_a_worker_that_hangs_past_the_drain_fails_the_run(private_dirs: Path):
    """A frozen worker neither reports its last snapshot nor exits: the run must not be
    `completed` with its counts missing."""
    preset = _preset(private_dirs, load='graceful_stop = "0.2s"\n')
    out = private_dirs / "r.json"
    proc = _popen(
        "--headless",
        "--preset",
        str(preset),
        "--duration",
        "2s",
        "--workers",
        "2",
        "--out",
        str(out),
    )
    try:
        _read_until(proc, "[")
        os.kill(_newest_worker(proc), signal.SIGSTOP)  # frozen, not dead
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        _reap(proc)
    assert proc.returncode == 4, stdout + stderr
    run = json.loads(out.read_text())
    assert run["status"] == "failed" and "no final snapshot" in (run["error"] or ""), run["error"]


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _start_time(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])


# -- the lifeline's fallback, where PR_SET_PDEATHSIG is not available ---------------------
def _orphan_without_prctl(conn: Any) -> None:
    """Grandchild: the watching thread alone must end it once its parent is gone."""
    from loadtui.runtime import lifeline

    lifeline._pdeathsig = lambda sig: False  # as on macOS: the kernel will not help
    lifeline.die_with_parent(poll=0.05)
    conn.send(os.getpid())
    time.sleep(60)


def _parent_that_dies(conn: Any) -> None:
    child = mp.get_context("spawn").Process(target=_orphan_without_prctl, args=(conn,))
    child.start()
    child.join(30)  # never returns in time: the test kills this process first


@pytest.mark.integration
def test_lifeline_fallback_ends_a_child_whose_parent_died():
    ctx = mp.get_context("spawn")
    receive, send = ctx.Pipe(duplex=False)
    parent = ctx.Process(target=_parent_that_dies, args=(send,))
    parent.start()
    try:
        assert receive.poll(30), "the grandchild did not start"
        grandchild = receive.recv()
        assert _alive(grandchild)
        os.kill(parent.pid, signal.SIGKILL)
        parent.join(10)
        _wait_for(lambda: not _alive(grandchild), 5, "the orphan to end itself")
    finally:
        if parent.is_alive():
            parent.kill()


def test_a_stalled_handler_ends_when_its_client_gives_up():
    import aiohttp

    from loadtui.mock import build_app
    from loadtui.mock.servers import serve_app

    async def scenario() -> int:
        stop = asyncio.Event()
        ports: list[int] = []
        app = build_app(MockSpec(latency=0.01, faults={"stall": 1.0}))
        server = asyncio.ensure_future(serve_app(app, on_ready=ports.append, stop=stop))
        while not ports:
            await asyncio.sleep(0.01)
        idle = len(asyncio.all_tasks())
        body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
        timeout = aiohttp.ClientTimeout(total=0.5)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            with contextlib.suppress(asyncio.TimeoutError):
                url = f"http://127.0.0.1:{ports[0]}/v1/chat/completions"
                await session.post(url, json=body)
        deadline = time.monotonic() + 10
        while len(asyncio.all_tasks()) > idle and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        left = len(asyncio.all_tasks()) - idle
        stop.set()
        await server
        return left

    assert asyncio.run(scenario()) == 0  # the handler's task is gone, not asleep for an hour


# -- a signal while starting ends loadtui at once ------------------------------------------
@pytest.mark.integration
def test_ctrl_c_during_a_hanging_preflight_exits_at_once(private_dirs: Path):
    import select
    import socket

    with socket.socket() as silent:  # accepts connections (backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        proc = _popen("--headless", "--preset", "burst", "--url", url)
        try:
            ready, _, _ = select.select([silent], [], [], 30)  # the pre-flight connected
            assert ready, "the pre-flight request never came"
            started = time.monotonic()
            proc.send_signal(signal.SIGINT)
            stdout, stderr = proc.communicate(timeout=30)
            took = time.monotonic() - started
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert proc.returncode == 130, stdout + stderr
    assert "interrupted by SIGINT while starting" in stderr and "Traceback" not in stderr
    assert took < 10, f"{took:.1f}s after Ctrl-C"
    assert not (private_dirs / "data" / "runs").exists() or not any(
        (private_dirs / "data" / "runs").glob("*.json")
    )


@pytest.mark.integration
def test_ctrl_c_while_the_workers_start_ends_every_one_of_them(private_dirs: Path):
    # 6 workers: 4 forked ahead (serving once their spec is in), 2 spawned by the session; the
    # Ctrl-C (to the whole group, as a terminal sends it) comes while the spawned ones start:
    # none may print a KeyboardInterrupt traceback (the first spawn's resource tracker used to
    # unblock SIGINT), none may be left (if the workers are quicker, the run is interrupted)
    proc = subprocess.Popen(
        [sys.executable, "-m", "loadtui", "--headless", "--preset", "smoke", "--workers", "6"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "LOADTUI_DEBUG_TIMING": "1"},
        start_new_session=True,
    )
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            if "embedded mock: ready" in line:
                break
        time.sleep(0.05)
        children = _descendants(proc.pid)
        os.killpg(proc.pid, signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr, stderr
    _wait_for(lambda: not any(Path(f"/proc/{pid}").exists() for pid in children), 10, "the ends")


# -- issue 8 #12 in the app's run thread, and with a failed threshold --------------------------
@pytest.mark.integration
def test_the_apps_stop_key_saves_the_run_as_stopped(private_dirs: Path):
    from loadtui.model.controls import ControlChange
    from loadtui.storage.presets import load_preset
    from loadtui.tui.bridge import RunBridge

    config = load_preset("baseline").with_overrides(
        load={"users": 1, "spawn_rate": 0, "duration": 3600}, workers=1
    )
    bridge = RunBridge(config, out=private_dirs / "r.json")
    bridge.start()
    _wait_for(lambda: bridge.frame.phase == "running" or bridge.error, 60, "the run to start")
    bridge.send(ControlChange("stop", source="live"))  # what the app's x sends
    assert bridge.wait(60) and bridge.error is None
    assert bridge.run is not None and bridge.run.status == "stopped"
    assert json.loads((private_dirs / "r.json").read_text())["status"] == "stopped"


@pytest.mark.integration
def test_a_stopped_run_with_a_failed_threshold_exits_1(private_dirs: Path):
    preset = _preset(private_dirs, '[thresholds]\nttft = ["p(95)<1"]\n')
    controls = private_dirs / "stop.toml"
    controls.write_text('[[control]]\nat = "1s"\naction = "stop"\n')
    out = private_dirs / "r.json"
    proc = run_cli(
        "--headless", "--preset", str(preset), "--control-file", str(controls), "--out", str(out)
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert json.loads(out.read_text())["status"] == "stopped"


# -- checkpoints: written off the drive loop, never over the final save --------------------
def test_a_checkpoint_being_written_never_lands_over_the_final_save(tmp_path: Path):
    from loadtui.run.checkpoint import Checkpoints
    from loadtui.storage.runfile import load_run, save_run

    path = tmp_path / "r.json"
    said: list[str] = []
    checkpoints = Checkpoints(path, ["sk-secret-1234"], said.append, first=0.0)
    assert checkpoints.due()
    point = {"t": 0, "rps": 1, "latency_ms": {"p50": 1.0, "p95": 2.0, "p99": 3.0}}
    big = {"id": "x", "status": "running", "config": {}, "controls": [], "summary": {}}
    big["series"] = [dict(point, t=i) for i in range(20_000)]  # takes a while to encode
    big["note"] = "key sk-secret-1234"
    checkpoints.write(big)
    assert not checkpoints.due()  # one at a time, however slow the disk
    checkpoints.close()  # what finish() does before the final save
    assert checkpoints.written and not checkpoints.due()
    assert "sk-secret-1234" not in path.read_text()
    save_run({**big, "status": "completed", "series": []}, path)
    assert load_run(path)["status"] == "completed"
    assert said == []
