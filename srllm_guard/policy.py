"""The guard's policy, in one place: what happens to text the model did not clear, and the audit record.

Used by the pipeline (one text), the stream (released windows) and the guard (a chat message and its content
parts), so that all three answer the same way:

* :func:`action_for`: ``fail_open`` -> ``flag``, ``fail_closed`` -> ``refuse`` (the backend-error policy
  written as what it does); ``flag``, ``redact``, ``refuse`` stay.
* :func:`replacement`: the text a span ends as under an action.
* :func:`checked_end`: where checking stops in a long text (``max_text_chars``, cut at whitespace).
* :func:`returned_text`: the refusal swap: a refused output is ``refusal_message`` as a whole.
* :func:`drift` and :func:`with_end_mark`: how far a rewrite moved from its sentence (``max_drift``), and
  the rewrite as it replaces the sentence.
* :func:`make_record`: the :class:`~srllm_guard.audit.AuditRecord` for one output (the original text is
  always in it).
"""

from __future__ import annotations

import difflib
import re
import time
from dataclasses import dataclass, field
from typing import Literal, Sequence

from srllm_guard.audit import AuditRecord, Span, SpanAction
from srllm_guard.backends.base import Backend
from srllm_guard.config import GuardConfig

__all__ = ["Processed", "action_for", "replacement", "checked_end", "drift", "with_end_mark", "returned_text",
           "make_record"]


@dataclass
class Processed:
    """The outcome for one text (one content part)."""

    text: str
    """The reassembled text (meaningless when ``refused``)."""
    spans: list[Span] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    refused: bool = False
    error: str | None = None


_WORD = re.compile(r"\w+")

_ACTIONS: dict[str, SpanAction] = {"fail_open": "flag", "fail_closed": "refuse", "flag": "flag", "redact": "redact",
                                   "refuse": "refuse"}


def action_for(policy: str) -> SpanAction:
    """The span action a policy setting means (``fallback`` or ``on_backend_error``)."""
    try:
        return _ACTIONS[policy]
    except KeyError:
        raise ValueError(f"unknown policy {policy!r}; expected one of {sorted(_ACTIONS)}") from None


def replacement(action: str, original: str, config: GuardConfig) -> str:
    """What a span under ``action`` ends as: the original (``flag``), the redaction or the refusal message."""
    return {"flag": original, "redact": config.redaction_text, "refuse": config.refusal_message}[action]


def checked_end(text: str, max_text_chars: int) -> int:
    """How much of ``text`` is checked: all of it up to ``max_text_chars``; beyond, up to the last whitespace
    within the last 1000 characters before the limit (else the limit). The rest gets the fallback policy."""
    if len(text) <= max_text_chars:
        return len(text)
    floor = max(0, max_text_chars - 1000)
    space = max(text.rfind(" ", floor, max_text_chars), text.rfind("\n", floor, max_text_chars))
    return space if space > 0 else max_text_chars


def drift(original: str, rewrite: str) -> float:
    """``1 -`` the difflib ratio of the casefolded word sequences: 0.0 same words, 1.0 nothing in common."""
    a, b = _WORD.findall(original.casefold()), _WORD.findall(rewrite.casefold())
    if not a and not b:
        return 0.0
    return 1.0 - difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def with_end_mark(original: str, rewrite: str) -> str:
    """The rewrite, ending with the original sentence's closing ``.``/``!``/``?`` when the model dropped it
    (so a rewritten sentence still reads as one inside the reply)."""
    end = original.rstrip()
    if rewrite and end and end[-1] in ".!?" and rewrite[-1].isalnum():
        return rewrite + end[-1]
    return rewrite


def returned_text(results: Sequence[Processed], config: GuardConfig) -> str | None:
    """``refusal_message`` when any part was refused (a refusal replaces the whole output), else ``None``."""
    return config.refusal_message if any(result.refused for result in results) else None


def make_record(
    original: str, returned: str, results: Sequence[Processed], backend: Backend | None, config: GuardConfig,
    started: float,
) -> AuditRecord:
    """The :class:`AuditRecord` for one output made of ``results`` (one per text or content part)."""
    spans = [span for result in results for span in result.spans]
    scores = [score for result in results for score in result.scores]
    action: Literal["pass", "rewrite", "fallback"]
    if any(span.action != "rewrite" for span in spans):
        action = "fallback"
    else:
        action = "rewrite" if spans else "pass"
    return AuditRecord(
        biased=any(score >= config.threshold for score in scores),
        score=max(scores, default=0.0),
        action=action,
        original=original,
        text=returned,
        spans=spans,
        model_id=str(backend.model_id) if backend is not None else "unknown",
        model_hash=backend.model_hash if backend is not None else None,
        latency_ms=round((time.perf_counter() - started) * 1000, 3),
        error=next((result.error for result in results if result.error), None),
    )
