"""Load shapes as functions of elapsed time (after Locust's ``LoadTestShape.tick``).

``Shape.desired(now)`` answers "how many users, what rate, right now?" from the plan, the live
overrides and the spawn ramp. It holds no clock of its own, so tests drive it with plain floats.
"""

from __future__ import annotations

from loadtui.model.plan import LoadSpec

__all__ = ["Shape"]


class Shape:
    def __init__(self, load: LoadSpec) -> None:
        self.load = load
        self._users_target: int = load.users if load.mode == "closed" else 0
        self._rate_target: float | None = load.rate if load.mode == "open" else None
        self._current: float = 0.0
        self._last: float | None = None
        self._override_stage: int | None = None
        self._override_users: int | None = None
        self._override_rate: float | None = None
        self._pace: float | None = None
        """Closed loop: a live cap on requests/s across all users (0 lifts it)."""

    # -- live overrides ------------------------------------------------------------------
    def set_users(self, users: int, now: float) -> None:
        self._users_target = users
        if self.load.mode == "stages":
            self._override_stage = self.stage_index(now)
            self._override_users = users

    def set_rate(self, rate: float, now: float) -> None:
        if not self.load.open_loop:
            self._pace = rate
            return
        self._rate_target = rate
        if self.load.mode == "stages":
            self._override_stage = self.stage_index(now)
            self._override_rate = rate

    # -- the shape -----------------------------------------------------------------------
    def stage_index(self, now: float) -> int:
        t = 0.0
        for i, stage in enumerate(self.load.stages):
            t += stage.duration
            if now < t:
                return i
        return len(self.load.stages) - 1

    def _stage_value(self, now: float, attr: str) -> float:
        """k6 semantics: each stage ramps linearly from the previous target to its own."""
        prev = 0.0
        start = 0.0
        for stage in self.load.stages:
            target = float(getattr(stage, attr))
            if now < start + stage.duration:
                frac = (now - start) / stage.duration
                return prev + (target - prev) * frac
            prev, start = target, start + stage.duration
        return prev

    def desired(self, now: float) -> tuple[int, float | None]:
        """(users, rate) wanted at ``now`` seconds after the start."""
        load = self.load
        if load.mode == "stages":
            idx = self.stage_index(now)
            overridden = self._override_stage == idx
            if load.stages_are_rate:
                if overridden and self._override_rate is not None:
                    return 0, self._override_rate
                return 0, round(self._stage_value(now, "rate"), 3)
            if overridden and self._override_users is not None:
                return self._override_users, self._pace
            return int(self._stage_value(now, "users")), self._pace
        if load.mode == "open":
            return 0, self._rate_target
        if load.mode == "burst":
            return 0, None
        return self._ramp(now), self._pace

    def _ramp(self, now: float) -> int:
        target = self._users_target
        if self.load.spawn_rate <= 0 or self._last is None:
            if self.load.spawn_rate <= 0:
                self._current = float(target)
            self._last = now
            return int(self._current)
        step = self.load.spawn_rate * max(0.0, now - self._last)
        self._last = now
        if self._current < target:
            self._current = min(float(target), self._current + step)
        elif self._current > target:
            self._current = max(float(target), self._current - step)
        return int(self._current)
