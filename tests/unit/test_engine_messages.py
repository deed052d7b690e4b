"""Control messages, the worker roll and the user rows: plain data that crosses processes.

No network, no workers: what goes over a pipe must pickle to itself and stay small, and the
coordinator's bookkeeping of lost workers must renumber the survivors and say why.
"""

from __future__ import annotations

import pickle
import typing

import pytest

from loadtui.engine import messages
from loadtui.engine.fleet import Fleet, exit_reason
from loadtui.engine.messages import Assign, Control, Event
from loadtui.model.snapshot import UserRow

SAMPLES = {
    messages.ClockProbe: messages.ClockProbe(1_764_541_000.25, seq=1),
    messages.Start: messages.Start(1_764_541_000.5, -0.003, seq=2),
    messages.SetUsers: messages.SetUsers(10_000),
    messages.SetRate: messages.SetRate(33.3),
    messages.ThinkTime: messages.ThinkTime((0.5, 2.0)),
    messages.Pause: messages.Pause(),
    messages.Resume: messages.Resume(),
    messages.Burst: messages.Burst(500),
    messages.Assign: messages.Assign(1, 3),
    messages.Stop: messages.Stop(30.0),
    messages.UserPage: messages.UserPage(9_800, 40, seq=1_000_000),
    messages.Ready: messages.Ready(2),
    messages.Failed: messages.Failed(2, "user: ValueError: too many values to unpack"),
    messages.Exited: messages.Exited(2, -9),
    messages.ClockReply: messages.ClockReply(2, 1_764_541_000.25, 1_764_541_003.26),
    messages.Began: messages.Began(2, 1_764_541_003.5),
}


def test_every_message_type_has_a_sample():
    kinds = set(typing.get_args(Control)) | set(typing.get_args(Event))
    assert kinds == set(SAMPLES)


@pytest.mark.parametrize("message", list(SAMPLES.values()), ids=lambda m: type(m).__name__)
def test_messages_pickle_to_themselves_and_stay_small(message: object):
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    assert pickle.loads(data) == message
    assert len(data) < 160  # far below PIPE_BUF: a control always arrives whole
    assert not hasattr(message, "__dict__")  # slotted: no per-message dict to pickle
    assert type(message).__dataclass_params__.frozen  # type: ignore[attr-defined]


def test_controls_are_named_as_the_control_actions_they_carry():
    names = {t.name for t in typing.get_args(Control)}
    assert {"users", "rate", "think_time", "pause", "resume"} <= names


def test_a_user_row_reads_by_name_and_pickles_as_small_as_a_tuple():
    row = UserRow(
        uid=7, state=3, age=0.25, last_latency=120.0, last_ttft=40.0, requests=9, errors=1
    )
    assert (row.uid, row.last_ttft, row.errors) == (7, 40.0, 1)
    rows = [row._replace(uid=i) for i in range(200)]
    named = len(pickle.dumps(rows, protocol=pickle.HIGHEST_PROTOCOL))
    plain = len(pickle.dumps([tuple(r) for r in rows], protocol=pickle.HIGHEST_PROTOCOL))
    assert pickle.loads(pickle.dumps(rows)) == rows
    assert named < 1.25 * plain
    assert sorted(reversed(rows))[0].uid == 0  # sorted by user id first, as the table does


def test_exit_reasons_say_how_a_worker_ended():
    assert exit_reason(-9) == "killed by signal 9"
    assert exit_reason(1) == "exited unexpectedly (exit code 1)"
    assert exit_reason(None) == "exited unexpectedly"


def test_a_lost_worker_s_survivors_are_renumbered_and_its_reason_kept():
    fleet = Fleet(3)
    fleet.failed(1, "user: ValueError: boom")
    assert fleet.lose(1, 1) == "user: ValueError: boom"  # its own words beat the exit code
    assert fleet.lose(1, 1) is None  # lost once
    assert fleet.assignments() == [(0, Assign(0, 2)), (2, Assign(1, 2))]
    assert fleet.lose(2, -9) == "killed by signal 9"
    assert fleet.assignments() == [(0, Assign(0, 1))]
    assert (
        fleet.failure == "worker 1 lost: user: ValueError: boom; worker 2 lost: killed by signal 9"
    )


def test_starting_fails_with_the_first_worker_s_own_words():
    fleet = Fleet(2)
    assert fleet.start_failure() is None
    fleet.exited.add(1)
    assert fleet.start_failure() == "worker 1 failed while starting: exited"
    fleet.failed(0, "worker: ImportError: no module")
    assert fleet.start_failure() == "worker 0 failed while starting: worker: ImportError: no module"


def test_the_run_is_over_when_every_worker_finished_or_ended():
    fleet = Fleet(2)
    fleet.finals.add(0)
    assert not fleet.all_ended
    fleet.exited.add(1)
    assert fleet.all_ended
