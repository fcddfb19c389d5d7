"""runtime.side_by_side: a compare's two photos run at once, and fail as one after the other would."""
from __future__ import annotations

import threading

import pytest

from face_backend.vision.runtime import side_by_side


def test_calls_run_at_the_same_time_and_answer_in_order():
    # Each call waits for the other to have started: one after the other, the first would time out.
    started = [threading.Event(), threading.Event()]

    def call(i: int) -> int:
        started[i].set()
        assert started[1 - i].wait(timeout=10)
        return i * 10

    assert side_by_side([lambda: call(0), lambda: call(1)]) == [0, 10]


def test_the_first_failure_in_order_is_raised_after_every_call_finished():
    finished = []

    def fail(name: str) -> None:
        finished.append(name)
        raise ValueError(name)

    def slow_success() -> str:
        threading.Event().wait(0.2)
        finished.append("ok")
        return "ok"

    with pytest.raises(ValueError, match="first"):
        side_by_side([lambda: fail("first"), slow_success, lambda: fail("third")])
    assert sorted(finished) == ["first", "ok", "third"]
    assert not [t for t in threading.enumerate() if t.name == "facegate-side"]  # joined before raising


def test_one_call_runs_on_the_callers_thread():
    assert side_by_side([threading.get_ident]) == [threading.get_ident()]
    assert side_by_side([]) == []
