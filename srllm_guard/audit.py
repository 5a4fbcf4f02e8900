"""``AuditRecord``: what the guard saw, what it did and why, for every guarded output.

A record always carries the full original text, so nothing the guard changes or withholds is lost. It is
attached to messages as ``response_metadata["srllm_guard"]`` (``record.model_dump(mode="json")``), returned by
:meth:`SRGuard.check <srllm_guard.guard.SRGuard.check>`, printed by ``srllm-guard check`` and passed to the
configured ``audit_hook``.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["AuditRecord", "Span", "SpanAction", "emit"]

logger = logging.getLogger("srllm_guard")

SpanAction = Literal["rewrite", "flag", "redact", "refuse"]


def _guard_version() -> str:
    from srllm_guard import __version__

    return __version__


class Span(BaseModel):
    """One piece of the original text that the guard did not pass unchanged."""

    model_config = ConfigDict(frozen=True)

    start: int
    """Offset of the piece in the original text (in its content part when ``part`` is set)."""
    end: int
    """End offset (exclusive), same frame as ``start``."""
    original: str
    """The piece as it was."""
    replacement: str
    """What was returned in its place (equal to ``original`` when flagged only)."""
    score: float | None
    """P(biased) of the piece; ``None`` when it was never scored (too long, or the backend failed)."""
    action: SpanAction
    """``'rewrite'`` (accepted rewrite) or the fallback applied: ``'flag'``, ``'redact'``, ``'refuse'``."""
    recheck_score: float | None = None
    """P(biased) of the rewrite at the re-check; ``None`` when there was no re-check."""
    reason: str | None = None
    """Why a fallback applied: ``'no_rewrite'``, ``'drift'``, ``'unfaithful'`` (the faithfulness check scored the
    rewrite under ``GuardConfig.min_faithfulness``), ``'recheck_failed'``, ``'too_long'``, ``'backend_error'`` or
    ``'timeout'``; ``None`` for an accepted rewrite."""
    attempts: int = 0
    """Rewrites the model wrote for the piece (``GuardConfig.rewrite_attempts``: each after the first follows one
    the re-check flagged, as ``GuardConfig.retry`` says); 0 when none was asked for (too long, backend failure)."""
    rejected_rewrite: str | None = None
    """The model's last rewrite when the fallback applied because of it (``'drift'``, ``'unfaithful'``,
    ``'recheck_failed'``): what was not returned, kept so that a fallback can be read and judged; ``None``
    otherwise."""
    faithfulness: float | None = None
    """P(faithful) the guard's faithfulness check gave the returned rewrite (or the rejected one); ``None`` when
    the guard has no check (:mod:`srllm_guard.faithfulness`) or no rewrite was scored."""
    part: int | None = None
    """Index of the content part the piece belongs to, for list content; ``None`` for plain text."""


class AuditRecord(BaseModel):
    """The guard's account of one output."""

    model_config = ConfigDict(frozen=True)

    biased: bool
    """Whether any piece scored at or above the threshold."""
    score: float
    """Highest P(biased) over the pieces that were scored (0.0 when none was)."""
    action: Literal["pass", "rewrite", "fallback"]
    """``'pass'``: returned unchanged; ``'rewrite'``: only accepted rewrites changed it; ``'fallback'``: at
    least one piece was flagged, redacted or refused (a policy or an error decided)."""
    original: str
    """The full original text, always (text parts joined with ``""`` for list content)."""
    text: str
    """The text that was returned."""
    spans: list[Span] = Field(default_factory=list)
    """Every piece that was not passed unchanged, in order."""
    model_id: str = "unknown"
    """The backend's model id."""
    model_hash: str | None = None
    """The backend's weights hash, where known."""
    latency_ms: float = 0.0
    """Wall time the guard spent on this output (the wrapped chain excluded)."""
    error: str | None = None
    """The backend error that decided the outcome (``on_backend_error`` applied), if any."""
    guard_version: str = Field(default_factory=_guard_version)
    """Version of srllm-guard that produced the record."""

    def to_metadata(self) -> dict[str, Any]:
        """The JSON-ready dict stored under ``response_metadata["srllm_guard"]``."""
        return self.model_dump(mode="json")


def emit(record: AuditRecord, hook: Callable[[AuditRecord], Any] | None) -> AuditRecord:
    """Hand ``record`` to ``hook``; a failing hook is logged, never breaks the reply."""
    if hook is not None:
        try:
            hook(record)
        except Exception:  # noqa: BLE001 - a broken audit sink must not take the guarded app down
            logger.exception("srllm-guard audit_hook raised; the reply was returned anyway")
    return record
