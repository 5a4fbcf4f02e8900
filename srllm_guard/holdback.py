"""The state of one guarded stream, without I/O: what has been received, what can be released, and the record.

:mod:`srllm_guard.stream` drives a :class:`HoldBack` (its docstring describes what the consumer gets):
``add`` takes a chunk, ``next_segment`` says which window is complete and what to check it with, ``release``
takes the pipeline's outcome and returns the chunk to emit, ``finish`` gives the final chunk with the
:class:`~srllm_guard.audit.AuditRecord`.
"""

from __future__ import annotations

import operator
import time
from collections import deque
from dataclasses import dataclass
from functools import reduce
from typing import Any, Callable, Union

from langchain_core.messages import BaseMessage, BaseMessageChunk

from srllm_guard.audit import AuditRecord, Span, SpanAction, emit
from srllm_guard.backends.base import Backend
from srllm_guard.config import GuardConfig
from srllm_guard.errors import ConfigError
from srllm_guard.policy import Processed, action_for, checked_end, make_record, replacement
from srllm_guard.split import chunk, is_question, split_sentences, trim

__all__ = ["HoldBack", "Segment", "is_whole_message"]


_FUTURE = "x"
"""Stands for text still to come: a sentence is complete when a boundary separates it from this."""


@dataclass
class _Tail:
    """One span from ``start`` to the end of the stream, none of it checked: after a backend failure,
    beyond ``max_text_chars``, or after a refusal."""

    start: int
    end: int
    action: SpanAction
    score: Union[float, None]
    reason: Union[str, None]
    announced: bool = True
    """Whether the replacement was released (a tail that starts between segments releases it first)."""
    trailing: str = ""
    """Whitespace after the last text of a redacted tail: released at the end, as the pipeline keeps it."""


@dataclass(frozen=True)
class Segment:
    """The next text to release; ``config`` is what to check it with, ``None`` when it is not checked."""

    text: str
    config: Union[GuardConfig, None]


def is_whole_message(item: Any) -> bool:
    """A complete message (not a chunk) in a stream: guarded whole, as ``invoke`` would."""
    return isinstance(item, BaseMessage) and not isinstance(item, BaseMessageChunk)


def _split_content(content: Any) -> tuple[str, Any, Union[dict[str, Any], None]]:
    """``(text, the content without its text, a text block template)`` of a chunk's content."""
    if isinstance(content, str):
        return content, "", None
    if not isinstance(content, list):
        raise ConfigError(f"SRGuard streams text content, got {type(content).__name__}")
    texts, rest, template = [], [], None
    for part in content:
        if isinstance(part, str):
            texts.append(part)
        elif isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str):
            texts.append(part["text"])
            template = {key: value for key, value in part.items() if key != "text"}
        else:
            rest.append(part)
    return "".join(texts), rest, template


def _has_payload(meta: BaseMessageChunk) -> bool:
    """Whether a chunk carries more than text, ids and response metadata (those ride with the next text)."""
    return bool(
        getattr(meta, "tool_call_chunks", None) or getattr(meta, "usage_metadata", None)
        or meta.additional_kwargs or (isinstance(meta.content, list) and meta.content)
    )


class HoldBack:
    """The state of one guarded stream; no I/O: the drivers below call the checks."""

    def __init__(self, config: GuardConfig, backend: Callable[[], Union[Backend, None]]) -> None:
        self.config = config
        self.seconds = 0.0
        """Time spent in checks (the record's ``latency_ms``)."""
        self._backend = backend
        self._kind: Union[type, None] = None  # str, or the message chunk class
        self._original: list[str] = []
        self._pending = ""  # received, not yet released; starts at offset self._base of the original
        self._base = 0
        self._released: list[str] = []
        self._unsent: list[str] = []  # released after the input ended: goes out with the final chunk
        self._results: list[Processed] = []
        self._tail: Union[_Tail, None] = None
        self._metas: deque[tuple[int, BaseMessageChunk]] = deque()  # (text offset it follows, fields)
        self._ready: list[BaseMessageChunk] = []  # fields whose text was released, not yet emitted
        self._text_block: Union[dict[str, Any], None] = None
        self._id: Union[str, None] = None
        self._closed = False
        self._record: Union[AuditRecord, None] = None

    # --- input ----------------------------------------------------------------------------------------

    def add(self, item: Any) -> None:
        """Take one chunk of the input (``str`` or a message chunk)."""
        kind: type
        if isinstance(item, str):
            kind, text = str, item
        elif isinstance(item, BaseMessageChunk):
            kind = type(item)
            text, rest, template = _split_content(item.content)
            self._text_block = template or self._text_block
        else:
            raise ConfigError(
                f"SRGuard streams str or message chunks, got {type(item).__name__}: place it right after the "
                "model or an output parser that yields text (e.g. `model | SRGuard()`)"
            )
        if self._kind is None:
            self._kind = kind
        elif (self._kind is str) != (kind is str):
            raise ConfigError("a stream mixes str and message chunks; SRGuard guards one kind per stream")
        self._original.append(text)
        self._pending += text
        if kind is not str:
            self._id = item.id or self._id
            self._metas.append((self._base + len(self._pending), item.model_copy(update={"content": rest})))

    def close(self) -> None:
        """The input ended: the rest of the buffer is released (checked) as it is."""
        self._closed = True

    def _text(self) -> str:
        """The original text received so far."""
        if len(self._original) > 1:
            self._original = ["".join(self._original)]
        return self._original[0] if self._original else ""

    @property
    def started(self) -> bool:
        return self._kind is not None

    # --- segments -------------------------------------------------------------------------------------

    def next_segment(self) -> Union[Segment, None]:
        """The next text that can be released, or ``None`` while the buffer holds no complete sentence."""
        pending = self._pending
        if not pending:
            return None
        if self._closed:
            end = len(pending)
        else:
            pieces = split_sentences(pending + _FUTURE)
            if len(pieces) > 1:
                complete = pieces[:-1]
                ends = [k for k, p in enumerate(complete) if not (self.config.answered_questions
                                                                  and is_question(pending[p.start : p.end]))]
                # a question waits in the buffer for the sentence after it, which may answer it (the pipeline
                # judges a flagged question with its answer), but never beyond holdback_chars
                if ends:
                    end = complete[ends[-1] if self._released else ends[0]].end  # see the module docstring
                elif len(pending) - pieces[0].end > self.config.holdback_chars:
                    end = complete[-1].end
                else:
                    return None
            else:
                last = trim(pending, pieces[0].start, len(pending)) if pieces else None
                if last is None or last.end - last.start <= self.config.holdback_chars:
                    return None
                end = chunk(pending, last, self.config.holdback_chars)[0].end  # a run-on sentence
        text = pending[:end]
        if self._tail is not None or text.isspace():
            return Segment(text, None)
        limit = self.config.max_text_chars
        if self._base + len(text) < limit or len(self._text()) <= limit:
            return Segment(text, self.config)
        # Checking stops where the pipeline would stop on the whole text (policy.checked_end)
        end = checked_end(self._text(), limit)
        left = end - self._base
        if left > 0 and not text[:left].isspace():  # the pipeline checks text[:left]; the excess gets the fallback
            return Segment(text, self.config.merged(max_text_chars=left + 1 if end < limit else left))
        piece = trim(text, 0, len(text))  # not blank: checked above
        tail = self._start_tail(self._base + (piece.start if piece else 0), None, "too_long", self.config.fallback)
        tail.announced = False
        return Segment(text, None)

    def release(self, segment: Segment, result: Union[Processed, None]) -> Any:
        """Record the outcome of ``segment``; returns the chunk to emit now, or ``None``."""
        text, base = segment.text, self._base
        if result is None:
            out = self._extend_tail(text)
        elif result.refused:
            lead = len(text) - len(text.lstrip())
            refused = next(span for span in result.spans if span.action == "refuse")
            self._results.append(Processed(text="", scores=result.scores, error=result.error))
            tail = self._start_tail(base + lead, max(result.scores, default=None), refused.reason, "refuse")
            tail.end = base + len(text.rstrip())
            out = text[:lead] + self.config.refusal_message
        else:
            spans = [span.model_copy(update={"start": span.start + base, "end": span.end + base})
                     for span in result.spans]
            last = spans[-1] if spans else None
            failed = result.error is not None and last is not None and last.reason in ("backend_error", "timeout")
            beyond = segment.config is not self.config and last is not None and last.reason == "too_long" \
                and last.score is None  # the excess over max_text_chars
            if last is not None and (failed or beyond):
                spans.pop()  # becomes the tail: the rest of the stream is not checked either
                tail = self._start_tail(last.start, last.score, last.reason, last.action)
                tail.end = last.end
            self._results.append(Processed(text=result.text, spans=spans, scores=result.scores,
                                           error=result.error))
            out = result.text
        self._pending = self._pending[len(text):]
        self._base += len(text)
        return self._emit(out)

    def _start_tail(self, start: int, score: Union[float, None], reason: Union[str, None], policy: str) -> _Tail:
        self._tail = _Tail(start, start, action_for(policy), score, reason)
        return self._tail

    def _extend_tail(self, text: str) -> str:
        """What to release for ``text`` when it is not checked (blank, or after the tail began)."""
        tail = self._tail
        if tail is None:
            return text
        piece = trim(text, 0, len(text))
        if piece is not None:
            tail.end = max(tail.end, self._base + piece.end)
            tail.trailing = text[piece.end :]
        else:
            tail.trailing += text
        if tail.action == "flag":
            return text
        if not tail.announced and piece is not None:
            tail.announced = True
            return text[: piece.start] + replacement(tail.action, "", self.config)
        return ""

    # --- output ---------------------------------------------------------------------------------------

    def _take_ready(self) -> None:
        """Move the queued fields whose text has been released (blank text aside) to ``_ready``."""
        while self._metas:
            end, meta = self._metas[0]
            if getattr(meta, "chunk_position", None) == "last":
                break  # the final chunk closes the message: it goes out last, with the record
            if end > self._base and not self._pending[: end - self._base].isspace():
                break
            self._ready.append(self._metas.popleft()[1])

    def _message(self, metas: list[BaseMessageChunk], text: str, extra: dict[str, Any] | None = None) -> Any:
        if metas:
            merged = reduce(operator.add, metas)
        else:
            assert self._kind is not None and self._kind is not str
            merged = self._kind(content="", id=self._id)
        content: Any = text
        if isinstance(merged.content, list) or self._text_block is not None:
            rest = merged.content if isinstance(merged.content, list) else []
            content = ([{**(self._text_block or {"type": "text"}), "text": text}] if text else []) + rest
        update: dict[str, Any] = {"content": content}
        if extra:
            update["response_metadata"] = {**merged.response_metadata, **extra}
        return merged.model_copy(update=update)

    def _emit(self, text: str) -> Any:
        self._released.append(text)
        if self._closed:
            self._unsent.append(text)
            return None
        if self._kind is str:
            return text or None
        self._take_ready()
        if not text and not any(_has_payload(meta) for meta in self._ready):
            return None
        ready, self._ready = self._ready, []
        return self._message(ready, text)

    def record(self, error: Union[str, None] = None) -> AuditRecord:
        """The one record of this stream, handed to ``audit_hook`` the first time it is asked for."""
        if self._record is None:
            results = list(self._results)
            original = self._text()
            tail = self._tail
            if tail is not None:
                unchecked = original[tail.start : tail.end]
                span = Span(start=tail.start, end=tail.end, original=unchecked,
                            replacement=replacement(tail.action, unchecked, self.config), score=tail.score,
                            action=tail.action, reason=tail.reason)
                results.append(Processed(text="", spans=[span], refused=tail.action == "refuse"))
            record = make_record(original, "".join(self._released), results, self._backend(), self.config,
                                 time.perf_counter() - self.seconds)
            if error and record.error is None:
                record = record.model_copy(update={"error": error})
            self._record = emit(record, self.config.audit_hook)
        return self._record

    def finish(self) -> Any:
        """After the input ended and the buffer was released: the final chunk, with the record."""
        if self._tail is not None and self._tail.action == "redact" and self._tail.trailing:
            self._emit(self._tail.trailing)
        record = self.record()
        text = "".join(self._unsent)
        if self._kind is str:
            return text or None
        metas = self._ready + [meta for _, meta in self._metas]
        self._ready, self._metas = [], deque()
        return self._message(metas, text, {"srllm_guard": record.to_metadata()})
