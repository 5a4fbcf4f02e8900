"""A two-stage backend: a fast student detector screens each text; only what it cannot clear reaches the LLM.

::

    student score < low(threshold) --> Check(score=student score on the teacher's scale, kept below threshold)
        |  otherwise
        v
    full backend's check (verdict and rewrite, exactly as without the cascade)

``low`` is calibrated by ``trainers/distill.py`` so that the student lets through almost no text the full
model would flag (recall of the full model's positives >= 0.98 on held-out text, per threshold); the
cascade's verdicts then differ from the full model's only on that small share, always towards passing.
A call whose threshold is below every calibrated one always escalates.

Example::

    from srllm_guard.detector import Detector
    student = Detector.from_file("adapters/sr-gemma3-270m/detector.npz")
    backend = CascadeBackend(student=student, full=LlamaCppBackend(adapter_path="default"))
    SRGuard(runnable, backend=backend)
"""

from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING, Any

from srllm_guard.backends.base import Backend, BaseBackend, Check
from srllm_guard.errors import ConfigError

if TYPE_CHECKING:
    from srllm_guard.detector import Detector

__all__ = ["CascadeBackend"]


class CascadeBackend(BaseBackend):
    """Student detector in front of any :class:`~srllm_guard.backends.base.Backend`. Thread-safe."""

    def __init__(self, *, student: Detector, full: Backend, low: float | None = None) -> None:
        """Args: ``student`` (a :class:`~srllm_guard.detector.Detector`); ``full``: the backend that decides
        and rewrites everything the student does not clear; ``low``: one fixed escalation threshold on the
        student's score for every call (``None``: the head's calibrated one for each call's threshold)."""
        if low is not None and not 0.0 <= low <= 1.0:
            raise ConfigError(f"low must be in [0, 1] or None, got {low!r}")
        self.student, self.full, self.low = student, full, low
        self.model_id = f"cascade({student.model_id}>{getattr(full, 'model_id', 'unknown')})"
        self.model_hash = getattr(full, "model_hash", None)
        self._lock = threading.Lock()
        self.passed = 0
        """Calls the student decided alone."""
        self.escalated = 0
        """Calls sent to the full backend."""

    # the pipeline cuts over-long pieces by the full backend's limit (they may be escalated)
    @property
    def max_text_tokens(self) -> int | None:
        return getattr(self.full, "max_text_tokens", None)

    def count_tokens(self, text: str) -> int:
        return self.full.count_tokens(text)  # type: ignore[attr-defined]

    def _screen(self, text: str, threshold: float) -> Check | None:
        """The student's pass (a :class:`Check`), or ``None``: escalate."""
        low = self.low if self.low is not None else self.student.head.low_for(threshold)
        score = self.student.score(text) if low is not None and threshold > 0 else 1.0
        with self._lock:
            if low is None or score >= low or threshold <= 0:
                self.escalated += 1
                return None
            self.passed += 1
        below = threshold * (1 - 1e-6)  # a passed text is never flagged, whatever the mapping says
        return Check(score=min(self.student.head.to_teacher_scale(score), below))

    def check(self, text: str, *, threshold: float, rewrite: bool = True, max_new_tokens: int = 256) -> Check:
        return self._screen(text, threshold) or self.full.check(
            text, threshold=threshold, rewrite=rewrite, max_new_tokens=max_new_tokens
        )

    async def acheck(
        self, text: str, *, threshold: float, rewrite: bool = True, max_new_tokens: int = 256
    ) -> Check:
        passed = await asyncio.to_thread(self._screen, text, threshold)
        if passed is not None:
            return passed
        kwargs: dict[str, Any] = dict(threshold=threshold, rewrite=rewrite, max_new_tokens=max_new_tokens)
        if getattr(self.full, "acheck", None) is None:
            return await asyncio.to_thread(self.full.check, text, **kwargs)
        return await self.full.acheck(text, **kwargs)

    @property
    def escalated_share(self) -> float:
        """Share of calls so far that reached the full backend."""
        with self._lock:
            total = self.passed + self.escalated
            return self.escalated / total if total else 0.0

    def close(self) -> None:
        close = getattr(self.full, "close", None)
        if close is not None:
            close()
