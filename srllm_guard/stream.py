"""Guard a stream: hold text back until a sentence is complete, check it, then release it.

The data path of one stream::

    chunk -> HoldBack.add (text to the buffer, other fields queued) -> next_segment (the complete sentences,
    or a run-on one cut at ``holdback_chars``) -> check (the pipeline) -> release (a chunk of the input's type)

A sentence is complete when a boundary separates it from text still to come: :func:`split.split_sentences`
runs on the buffer plus a stand-in for that text, and every piece but the last is complete. The first
window is the first complete sentence, so the consumer gets it as soon as it is checked; every later window
is all the complete sentences buffered by then, checked together by the pipeline's phases (one batched
scoring call, see :mod:`srllm_guard.pipeline`): an upstream that runs ahead of the checks (a burst, or text
piling up during a rewrite) is caught up in batches. With ``GuardConfig.answered_questions`` a window never ends
on a question while the stream goes on: the question waits for the sentence after it, which may answer it, so
that the pipeline judges the two as ``invoke`` does; it waits at most ``holdback_chars`` more characters. The
consumer never gets text that was not checked.

What the consumer gets, with ``AIMessageChunk`` (or ``str``) input:

* Text in order, rewritten where needed. The concatenation of the emitted chunks has the text that
  ``invoke`` returns on the whole output, except after a refusal: the windows already released cannot be
  taken back, so the window holding the refused sentence is replaced by ``refusal_message`` and nothing after
  it is released.
* Every other field (``tool_call_chunks``, ``usage_metadata``, ``additional_kwargs``, ``id``,
  ``response_metadata``) in order, never ahead of the text that preceded it in the input: fields of a chunk
  are emitted with (or after) that chunk's text. Nothing is lost: the emitted chunks add up to the input.
* A final chunk carrying the :class:`~srllm_guard.audit.AuditRecord` of the whole stream under
  ``response_metadata["srllm_guard"]`` (``original``: the full text received; span offsets into it).

The ``audit_hook`` gets exactly one record per stream: at its end, or when it fails, is closed early or is
cancelled, with ``error`` saying which and ``text`` equal to what was released.

:func:`guard_stream` and :func:`aguard_stream` drive one :class:`~srllm_guard.holdback.HoldBack` (the
stream's state, no I/O) with sync or async checks.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, Union

from srllm_guard.audit import logger
from srllm_guard.backends.base import Backend
from srllm_guard.config import GuardConfig
from srllm_guard.holdback import HoldBack, is_whole_message
from srllm_guard.policy import Processed

__all__ = ["guard_stream", "aguard_stream"]


# --- drivers ---------------------------------------------------------------------------------------------

_Check = Callable[[str, GuardConfig], Processed]
_ACheck = Callable[[str, GuardConfig], Awaitable[Processed]]


def _abort(state: HoldBack, exc: BaseException) -> None:
    """The stream ended early: hand its record (what was released so far) to the audit hook, once."""
    if isinstance(exc, GeneratorExit):
        why = "stream closed by the consumer before its end"
    elif isinstance(exc, asyncio.CancelledError):
        why = "stream cancelled"
    else:
        why = f"stream failed: {type(exc).__name__}: {exc}"
    if state.started:
        try:
            state.record(why)
        except Exception:  # noqa: BLE001 - e.g. at interpreter exit; the original exception matters more
            logger.exception("srllm-guard could not record an interrupted stream")


def guard_stream(
    items: Iterator[Any], config: GuardConfig, *, check: _Check, whole: Callable[[Any], Any],
    backend: Callable[[], Union[Backend, None]],
) -> Iterator[Any]:
    """Guard a stream of ``str`` or message chunks; ``check`` runs the pipeline on one segment, ``whole``
    guards a complete message met in the stream."""
    state = HoldBack(config, backend)

    def step() -> tuple[bool, Any]:
        segment = state.next_segment()
        if segment is None:
            return False, None
        result = None
        if segment.config is not None:
            started = time.perf_counter()
            result = check(segment.text, segment.config)
            state.seconds += time.perf_counter() - started
        return True, state.release(segment, result)

    try:
        for item in items:
            if is_whole_message(item):
                yield whole(item)
                continue
            state.add(item)
            while (released := step())[0]:
                if released[1] is not None:
                    yield released[1]
        state.close()
        while step()[0]:
            pass
        if state.started:
            final = state.finish()
            if final is not None:
                yield final
    except BaseException as exc:
        _abort(state, exc)
        raise


async def aguard_stream(
    items: AsyncIterator[Any], config: GuardConfig, *, check: _ACheck, whole: Callable[[Any], Awaitable[Any]],
    backend: Callable[[], Union[Backend, None]],
) -> AsyncGenerator[Any, None]:
    """Async twin of :func:`guard_stream`."""
    state = HoldBack(config, backend)

    async def step() -> tuple[bool, Any]:
        segment = state.next_segment()
        if segment is None:
            return False, None
        result = None
        if segment.config is not None:
            started = time.perf_counter()
            result = await check(segment.text, segment.config)
            state.seconds += time.perf_counter() - started
        return True, state.release(segment, result)

    try:
        async for item in items:
            if is_whole_message(item):
                yield await whole(item)
                continue
            state.add(item)
            while (released := await step())[0]:
                if released[1] is not None:
                    yield released[1]
        state.close()
        while (await step())[0]:
            pass
        if state.started:
            final = state.finish()
            if final is not None:
                yield final
    except BaseException as exc:
        _abort(state, exc)
        raise
