"""Which frames to keep at a given rate, decided from the frames' own times."""

from __future__ import annotations


class FrameSampler:
    """Keeps one frame per 1/fps seconds of source time (fps 0 keeps all)."""

    def __init__(self, fps: float) -> None:
        if fps < 0:
            raise ValueError(f"sampling fps must be >= 0, got {fps}")
        self.period = 1.0 / fps if fps > 0 else 0.0
        self.next_t: float | None = None

    def wants(self, t: float) -> bool:
        if self.next_t is not None and t < self.next_t - 1e-6:
            return False
        # Step from the previous slot, not from t, so the rate does not drift.
        base = t if self.next_t is None or t > self.next_t + self.period else self.next_t
        self.next_t = base + self.period
        return True
