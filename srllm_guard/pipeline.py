"""Score each piece, rewrite the flagged ones, re-check every rewrite, apply the policy, reassemble.

The decisions live in one generator, :func:`_plan`, that *yields* the backend calls it needs and receives
their results (a :class:`~srllm_guard.backends.base.Check` or the :class:`BackendError` they ended in). Two
small drivers run it: :func:`process` (threads, for ``invoke``) and :func:`aprocess` (``asyncio``, for
``ainvoke``), so sync and async share every rule.

When the backend is :class:`~srllm_guard.backends.base.Screening` (llama.cpp with an early-exit probe, see
:mod:`srllm_guard.backends.llamacpp.screen`), the pieces are first screened together, up to 64 pieces or 8,000
characters per call; the pieces it clears (score below the threshold) are kept without a full check. A
failed screen call only means no more screening for that text. Then, per remaining piece (see
:mod:`srllm_guard.split`)::

    check(piece) --score < threshold--> keep the piece
        |  score >= threshold
        v
    rewrite missing / drift > max_drift / re-check score >= recheck threshold --> fallback policy
        |  otherwise
        v
    the rewrite replaces the piece

Text beyond ``max_text_chars`` is not scored: the fallback policy applies to it as one span. After a
backend failure (retries spent, or a timeout) no later piece of the text is sent: the failing piece and the
rest of the checked text become one span handled by ``on_backend_error``.

A :class:`~srllm_guard.backends.base.TokenBudget` backend (llama.cpp, Hugging Face) is asked, in the same timed
call, whether a piece that could be too long fits; one that does not is cut smaller at whitespace and its
parts are judged instead. A timed-out call cannot be killed (Python cannot stop a thread inside a C call);
its worker is abandoned as a daemon thread and finishes in the background, while the backend's per-model lock
keeps the model consistent (later calls into that model wait for it, under their own timeout).
"""

from __future__ import annotations

import asyncio
import contextvars
import difflib
import numbers
import re
import threading
import time
from collections import deque
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any, Union

from tenacity import AsyncRetrying, Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from srllm_guard.audit import AuditRecord, Span
from srllm_guard.backends.base import Backend, Check, Screening, TokenBudget
from srllm_guard.config import GuardConfig
from srllm_guard.errors import BackendError, BackendTimeout, SRGuardError
from srllm_guard.policy import Processed, action_for, checked_end, make_record, replacement, returned_text
from srllm_guard.split import Piece, chunk, split_text, trim

__all__ = ["drift", "process", "aprocess", "guard_text", "aguard_text"]

_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class _Call:
    text: str
    threshold: float
    rewrite: bool


@dataclass(frozen=True)
class _Screen:
    """Ask a backend with ``screen_many`` which pieces it clears cheaply (one batched early-exit pass); only
    clears are used (a piece it flags still needs the full model's verdict and rewrite)."""

    texts: tuple[str, ...]
    threshold: float


@dataclass(frozen=True)
class _TooLong:
    """The backend's ``count_tokens`` says the text exceeds its ``max_text_tokens``."""

    tokens: int
    limit: int


_Outcome = Union[Check, BackendError, _TooLong, list]
_MAX_TOKENS_PER_CHAR = 4
_SCREEN_PIECES, _SCREEN_CHARS = 64, 8000
"""Most pieces / characters per screen call (each call has its own ``timeout_s``)."""
"""Upper bound of tokens per character (UTF-8 byte fallback): shorter texts skip ``count_tokens``."""


def drift(original: str, rewrite: str) -> float:
    """``1 -`` the difflib ratio of the casefolded word sequences: 0.0 same words, 1.0 nothing in common."""
    a, b = _WORD.findall(original.casefold()), _WORD.findall(rewrite.casefold())
    if not a and not b:
        return 0.0
    return 1.0 - difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def _keep_end_mark(original: str, rewrite: str) -> str:
    """The rewrite, ending with the original sentence's closing ``.``/``!``/``?`` when the model dropped it
    (so a rewritten sentence still reads as one inside the reply)."""
    end = original.rstrip()
    if rewrite and end and end[-1] in ".!?" and rewrite[-1].isalnum():
        return rewrite + end[-1]
    return rewrite


def _plan(text: str, config: GuardConfig, part: int | None) -> Generator[_Call | _Screen, _Outcome, Processed]:
    """The guard's rules for one text, as a generator of backend calls (see the module docstring)."""
    result = Processed(text=text)
    if not text or text.isspace():
        return result
    limit = checked_end(text, config.max_text_chars)
    pieces = deque(split_text(text[:limit], max_chars=config.max_sentence_chars))
    last_end = pieces[-1].end if pieces else limit
    replaced: list[tuple[Piece, str]] = []

    def fallback(piece: Piece, score: float | None, reason: str, policy: str, recheck: float | None = None):
        action = action_for(policy)
        original = text[piece.start : piece.end]
        instead = replacement(action, original, config)
        result.spans.append(
            Span(start=piece.start, end=piece.end, original=original, replacement=instead, score=score,
                 action=action, recheck_score=recheck, reason=reason, part=part)
        )
        replaced.append((piece, instead))
        result.refused = result.refused or action == "refuse"

    def give_up(error: BackendError, start: int, score: float | None) -> None:
        """The backend failed: everything from ``start`` to the end of the checked text becomes one span."""
        result.error = f"{type(error).__name__}: {error}"
        reason = "timeout" if isinstance(error, BackendTimeout) else "backend_error"
        fallback(Piece(start, last_end), score, reason, config.on_backend_error)

    cleared: dict[tuple[int, int], Check] = {}
    screened: set[tuple[int, int]] = set()
    screening = True
    while pieces:
        if screening and (pieces[0].start, pieces[0].end) not in screened:
            # the next pieces, bounded so that one screen call fits one timeout
            group: list[Piece] = []
            size = 0
            for p in pieces:
                if group and (len(group) >= _SCREEN_PIECES or size + p.end - p.start > _SCREEN_CHARS):
                    break
                group.append(p)
                size += p.end - p.start
            answer = yield _Screen(tuple(text[p.start : p.end] for p in group), config.threshold)
            screened.update((p.start, p.end) for p in group)
            if isinstance(answer, list):
                cleared.update(((p.start, p.end), c) for p, c in zip(group, answer)
                               if c is not None and c.score < config.threshold)
            else:  # a failed screen is no verdict: the rest of the text gets the full model
                screening = False
        piece = pieces.popleft()
        original = text[piece.start : piece.end]
        if (piece.start, piece.end) in cleared:
            result.scores.append(cleared[piece.start, piece.end].score)
            continue
        outcome = yield _Call(original, config.threshold, True)
        if isinstance(outcome, _TooLong):  # more tokens than the backend takes: cut it smaller, in place
            size = piece.end - piece.start
            smaller = max(1, min(size - 1, size * outcome.limit // outcome.tokens))
            pieces.extendleft(reversed(chunk(text, piece, smaller)))
            continue
        score = None
        if isinstance(outcome, Check):  # else the BackendError it ended in
            score = outcome.score
            result.scores.append(score)
            if score < config.threshold:
                continue
            rewrite = _keep_end_mark(original, (outcome.rewrite or "").strip())
            if not rewrite:
                fallback(piece, score, "no_rewrite", config.fallback)
                continue
            if drift(original, rewrite) > config.max_drift:
                fallback(piece, score, "drift", config.fallback)
                continue
            outcome = yield _Call(rewrite, config.recheck_at, False)
            if isinstance(outcome, _TooLong):
                fallback(piece, score, "too_long", config.fallback)
                continue
            if isinstance(outcome, Check):
                if outcome.score >= config.recheck_at:
                    fallback(piece, score, "recheck_failed", config.fallback, recheck=outcome.score)
                    continue
                result.spans.append(
                    Span(start=piece.start, end=piece.end, original=original, replacement=rewrite, score=score,
                         action="rewrite", recheck_score=outcome.score, part=part)
                )
                replaced.append((piece, rewrite))
                continue
        assert isinstance(outcome, BackendError)  # a call's outcome is a Check, a _TooLong or the error it ended in
        give_up(outcome, piece.start, score)  # this piece and everything after it, one span
        break

    excess = trim(text, limit, len(text)) if limit < len(text) else None
    if excess is not None:
        fallback(excess, None, "too_long", config.fallback)

    out, pos = [], 0
    for piece, instead in replaced:
        out += [text[pos : piece.start], instead]
        pos = piece.end
    out.append(text[pos:])
    result.text = "".join(out)
    return result


# --- calling the backend ---------------------------------------------------------------------------------


def _valid_screen(result: Any, call: _Screen) -> list[Check | None]:
    if not isinstance(result, (list, tuple)) or len(result) != len(call.texts):
        raise BackendError(f"backend screen_many returned {type(result).__name__}, expected a list of "
                           f"{len(call.texts)} Check-or-None")
    checked = [None if c is None else _valid(c) for c in result]
    if any(isinstance(c, _TooLong) for c in checked):
        raise BackendError("backend screen_many returned a too-long marker; expected Check or None")
    return checked  # type: ignore[return-value]


def _valid(check: Any) -> Check | _TooLong:
    if isinstance(check, _TooLong):
        return check
    if not isinstance(check, Check):
        raise BackendError(f"backend returned {type(check).__name__}; expected a Check")
    score = check.score
    if not isinstance(score, numbers.Real) or isinstance(score, bool) or not 0.0 <= float(score) <= 1.0:
        raise BackendError(f"backend returned an invalid score {score!r}; expected a probability in [0, 1]")
    return Check(score=float(score), rewrite=check.rewrite if isinstance(check.rewrite, str) else None)


def _may_be_too_long(backend: Backend | None, text: str) -> bool:
    """Whether ``text`` could exceed a :class:`TokenBudget` backend's limit (cheap, no tokenizer)."""
    if not isinstance(backend, TokenBudget):
        return False
    limit = backend.max_text_tokens
    return isinstance(limit, int) and len(text) * _MAX_TOKENS_PER_CHAR > limit


def _too_long(backend: Backend | None, text: str) -> _TooLong | None:
    """Count the tokens of ``text`` when it may not fit the backend; ``None`` when it fits."""
    if not _may_be_too_long(backend, text):
        return None
    assert isinstance(backend, TokenBudget)
    tokens, limit = backend.count_tokens(text), backend.max_text_tokens
    return _TooLong(tokens, limit) if tokens > limit else None


def _wrap(exc: Exception) -> Exception:
    return exc if isinstance(exc, SRGuardError) else BackendError(f"{type(exc).__name__}: {exc}")


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, BackendError) and not isinstance(exc, BackendTimeout)


def _retry_kwargs(config: GuardConfig) -> dict[str, Any]:
    return dict(
        stop=stop_after_attempt(config.retries + 1),
        wait=wait_exponential(multiplier=0.1, max=2.0),
        retry=retry_if_exception(_retryable),
        reraise=True,
    )


def _call_once(backend: Backend, call: _Call | _Screen, config: GuardConfig) -> Check | _TooLong | list:
    """One backend call in a daemon worker thread, waited on for ``timeout_s``.

    The worker runs in an empty ``contextvars`` context, so nothing the backend does can attach to the
    caller's LangChain run (no callbacks into the user's stream). On timeout the worker is abandoned.
    """
    if isinstance(call, _Screen):
        if not isinstance(backend, Screening):
            return [None] * len(call.texts)
        screen = backend

        def work() -> Any:
            return screen.screen_many(list(call.texts), threshold=call.threshold)
    else:

        def work() -> Any:
            return _too_long(backend, call.text) or backend.check(
                call.text, threshold=call.threshold, rewrite=call.rewrite, max_new_tokens=config.max_new_tokens
            )

    box: dict[str, Any] = {}
    done = threading.Event()

    def run() -> None:
        try:
            box["value"] = contextvars.Context().run(work)
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=run, name="srllm-guard-backend", daemon=True).start()
    if not done.wait(config.timeout_s):
        raise BackendTimeout(
            f"backend did not answer within timeout_s={config.timeout_s}s; the call was abandoned "
            "(raise timeout_s or lower max_new_tokens / max_sentence_chars)"
        )
    if "error" in box:
        exc = box["error"]
        if isinstance(exc, Exception) and not isinstance(exc, SRGuardError):
            raise _wrap(exc) from exc
        raise exc
    return _valid_screen(box["value"], call) if isinstance(call, _Screen) else _valid(box["value"])


async def _acall_once(backend: Backend, call: _Call | _Screen, config: GuardConfig) -> Check | _TooLong | list:
    if isinstance(call, _Screen) and not isinstance(backend, Screening):
        return [None] * len(call.texts)

    async def work() -> Any:
        if isinstance(call, _Screen):
            assert isinstance(backend, Screening)
            return await asyncio.to_thread(backend.screen_many, list(call.texts), threshold=call.threshold)
        if _may_be_too_long(backend, call.text):
            too_long = await asyncio.to_thread(_too_long, backend, call.text)  # takes the model lock
            if too_long:
                return too_long
        return await backend.acheck(call.text, threshold=call.threshold, rewrite=call.rewrite,
                                    max_new_tokens=config.max_new_tokens)

    task = contextvars.Context().run(asyncio.ensure_future, work())  # empty context: no callback leakage
    try:
        value = await asyncio.wait_for(task, config.timeout_s)
    except asyncio.TimeoutError:
        raise BackendTimeout(
            f"backend did not answer within timeout_s={config.timeout_s}s; the call was abandoned "
            "(raise timeout_s or lower max_new_tokens / max_sentence_chars)"
        ) from None
    except Exception as exc:
        wrapped = _wrap(exc)
        if wrapped is exc:
            raise
        raise wrapped from exc
    return _valid_screen(value, call) if isinstance(call, _Screen) else _valid(value)


def process(text: str, backend: Backend | None, config: GuardConfig, *, part: int | None = None) -> Processed:
    """Guard one text, calling ``backend`` from worker threads (see :func:`_call_once`)."""
    plan = _plan(text, config, part)
    try:
        call = next(plan)
        while True:
            try:
                outcome: _Outcome = Retrying(**_retry_kwargs(config))(_call_once, backend, call, config)
            except BackendError as exc:
                outcome = exc
            call = plan.send(outcome)
    except StopIteration as stop:
        return stop.value


async def aprocess(text: str, backend: Backend | None, config: GuardConfig, *, part: int | None = None) -> Processed:
    """Async twin of :func:`process`: ``backend.acheck`` under ``asyncio.wait_for``."""
    plan = _plan(text, config, part)
    try:
        call = next(plan)
        while True:
            try:
                outcome: _Outcome = await AsyncRetrying(**_retry_kwargs(config))(_acall_once, backend, call, config)
            except BackendError as exc:
                outcome = exc
            call = plan.send(outcome)
    except StopIteration as stop:
        return stop.value


def guard_text(text: str, backend: Backend | None, config: GuardConfig) -> AuditRecord:
    """Guard a plain string; the returned text is ``record.text``."""
    started = time.perf_counter()
    result = process(text, backend, config)
    return make_record(text, returned_text([result], config) or result.text, [result], backend, config, started)


async def aguard_text(text: str, backend: Backend | None, config: GuardConfig) -> AuditRecord:
    """Async twin of :func:`guard_text`."""
    started = time.perf_counter()
    result = await aprocess(text, backend, config)
    return make_record(text, returned_text([result], config) or result.text, [result], backend, config, started)
