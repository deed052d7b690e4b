"""The request under full control from the command line (issue 14 item 3): --header, --body,
--input-words, --insecure, --ca-cert — what arrives at the server, what never reaches disk or
the screen, and the one-line refusals (exit 2) of what cannot be sent.

One real headless run (a subprocess, as a user runs it) carries every option at once; the
refusals happen before any load, so they call ``main`` in-process.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from helpers import run_cli
from loadtui.cli import main
from loadtui.mock import MockProcess
from loadtui.model.plan import MockSpec

SECRET = "tok-header-3f9a1c77e2d04b6b"
AGAIN = "tok-again-51be07"
"""The value a replay is given again with --header."""
"""An auth-like header value: it must reach the server and nothing else."""
COOKIE = "session=c00k1e-9d8e7f6a5b"


@pytest.fixture(scope="module")
def recording() -> Iterator[MockProcess]:
    with MockProcess(MockSpec(latency=0.001, ttft=0.005, itl=0.001, tokens=2, record=500)) as m:
        yield m


def _files_under(*roots: Path) -> Iterator[Path]:
    for root in roots:
        yield from (p for p in root.rglob("*") if p.is_file())


def test_headers_and_body_fields_arrive_and_secret_values_reach_no_file_or_screen(
    recording, tmp_path
):
    out = tmp_path / "out"
    out.mkdir()
    proc = run_cli(
        "--headless", "--url", recording.url, "--users", "2", "--duration", "1",
        "--header", f"Authorization: Bearer {SECRET}",
        "--header", f"Cookie: {COOKIE}",
        "--header", "X-Tenant: blue",
        "--body", "temperature=0.2", "--body", 'stop=["END"]', "--body", "user=alice",
        "--input-words", "7", "--insecure",
        "--out", str(out / "run.json"), "--record-requests", str(out / "requests.jsonl"),
        "--report", str(out / "report.html"), "--csv", str(out / "run"),
        "--junit", str(out / "junit.xml"), "--summary-json", str(out / "summary.json"),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    got = [r for r in recording.received() if r["path"] == "/v1/chat/completions"]
    assert got, "no chat request arrived"
    for r in got:
        assert r["headers"]["Authorization"] == f"Bearer {SECRET}"
        assert r["headers"]["Cookie"] == COOKIE and r["headers"]["X-Tenant"] == "blue"
        body = r["body"]
        assert body["temperature"] == 0.2 and body["stop"] == ["END"] and body["user"] == "alice"
        prompt = body["messages"][-1]["content"]
        assert len(prompt.split(":", 1)[1].split()) == 7  # "Prompt i: " + 7 words
    assert "TLS certificates are not checked (--insecure)" in proc.stderr
    written = list(_files_under(out, tmp_path / "data"))
    assert {p.name for p in written} >= {"run.json", "requests.jsonl", "report.html"}
    for path in written:
        text = path.read_text(errors="replace")
        assert SECRET not in text and "c00k1e" not in text, path
    assert SECRET not in proc.stdout + proc.stderr and "c00k1e" not in proc.stdout + proc.stderr
    run_file = (out / "run.json").read_text()
    assert '"Authorization": "***"' in run_file and '"X-Tenant": "blue"' in run_file
    # a replay is given the hidden value again; the one not given goes as *** and is named
    httpx.post(recording.url + "/mock/reset")
    again = run_cli(
        "replay", str(out / "run.json"), "--headless", "--url", recording.url,
        "--header", f"authorization: Bearer {AGAIN}", "--out", str(out / "replay.json"),
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    got = [r for r in recording.received() if r["path"] == "/v1/chat/completions"]
    assert got and all(r["headers"]["Authorization"] == f"Bearer {AGAIN}" for r in got)
    assert all(r["headers"]["Cookie"] == "***" for r in got)
    warning = [line for line in again.stderr.splitlines() if "are sent as ***" in line]
    assert warning and "Cookie" in warning[0] and "uthorization" not in warning[0]
    assert AGAIN not in (out / "replay.json").read_text()


def _refused(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    code = main(["--headless", "--duration", "1", *args])
    err = capsys.readouterr().err
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    return err


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--header", "Host: evil.example"], "'Host' is set by loadtui"),
        (["--header", "Content-Type: text/plain"], "'Content-Type' is set by loadtui"),
        (["--header", "X-Bad Name: 1"], "not a valid HTTP header name"),
        (["--body", "=3"], "--body is KEY=JSON"),
        (["--body", "stream=false"], "body cannot set 'stream'"),
        (["--body", 'stop=["END"'], "--body stop: not valid JSON"),
        (["--input-words", "many"], "--input-words is N or MIN-MAX"),
        (["--input-words", "9-3"], "min_words is larger than max_words"),
        (["--input-words", "5", "--prompt", "hi"], "--input-words generates the prompts"),
        (["--ca-cert", "/nonexistent/ca.pem"], "--ca-cert /nonexistent/ca.pem: cannot be used"),
        (["--insecure", "--ca-cert", "x.pem"], "contradict each other"),
        (
            ["--url", "http://u:pw@127.0.0.1:9/v1", "--header", "Authorization: Bearer x"],
            "a header sets Authorization",
        ),
    ],
)
def test_what_cannot_be_sent_is_refused_in_one_line(capsys, args, says):
    assert says in _refused(capsys, *args)


def test_a_header_without_a_colon_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--headless", "--header", "Authorization Bearer x"])
    assert exc.value.code == 2
    assert "a header is NAME:VALUE" in capsys.readouterr().err


def test_preset_body_tables_headers_and_output_lengths_are_checked(capsys, tmp_path):
    bad_body = tmp_path / "bad-body.toml"
    bad_body.write_text('[[requests]]\nkind = "chat"\nbody = 3\n')
    assert "requests.0.body" in _refused(capsys, "--preset", str(bad_body))
    dated = tmp_path / "dated.toml"
    dated.write_text('[[requests]]\nkind = "chat"\n[requests.body]\nwhen = 1979-05-27\n')
    assert "body must hold JSON values only" in _refused(capsys, "--preset", str(dated))
    eos = tmp_path / "eos.toml"
    eos.write_text('[[requests]]\nkind = "messages"\nignore_eos = true\n')
    assert "a messages request cannot take them" in _refused(capsys, "--preset", str(eos))
    short = tmp_path / "short.toml"
    short.write_text('[[requests]]\nkind = "chat"\nmax_tokens = 8\nmin_tokens = 9\n')
    assert "min_tokens must be 0..max_tokens (8), got 9" in _refused(capsys, "--preset", str(short))
    ca = tmp_path / "ca.toml"
    ca.write_text(f'[target]\nca_cert = "{tmp_path / "missing.pem"}"\n')
    assert "[target] ca_cert" in _refused(capsys, "--preset", str(ca))  # checked at start
    lengths = tmp_path / "lengths.toml"
    lengths.write_text('[[requests]]\nkind = "chat"\nmax_tokens = {min = 50, max = 10}\n')
    assert "requests.0.max_tokens: min is larger than max" in _refused(
        capsys, "--preset", str(lengths)
    )
