"""Score every piece, rewrite the flagged ones, re-check all rewrites, apply the policy, reassemble.

The decisions live in one generator, :func:`_plan`, that *yields* the backend calls it needs and receives
their results (a list of :class:`~srllm_guard.backends.base.Check`, one ``Check``, or the
:class:`BackendError` they ended in). Two small drivers run it: :func:`process` (threads, for ``invoke``) and
:func:`aprocess` (``asyncio``, for ``ainvoke``), so sync and async share every rule.

A text is split into pieces (:mod:`srllm_guard.split`) and handled in groups of up to 64 pieces or 8,000
characters, in three phases per group::

    1. score    check_many(pieces, rewrite=False)   one call; llama.cpp screens inside it (early exit)
                    score < threshold --> keep the piece
       answered check(question + next sentence,      one call per flagged question that another sentence follows
                      rewrite=False)                (``answered_questions``): the full model, never the screen
                    the pair's score < threshold --> keep the question
    2. rewrite  check(piece, rewrite=True)          one call per flagged piece (generation is the long part)
                    no rewrite / drift > max_drift --> fallback policy
                    a faithfulness check is set (:mod:`srllm_guard.faithfulness`): the group's rewrites scored in
                    one call (not the backend; ``aprocess`` runs it in a worker thread),
                    P(faithful) < min_faithfulness --> fallback policy
    3. re-check check_many(rewrites, recheck_at)    one call for the group's rewrites; a screened flag is
                                                    confirmed by check(rewrite, rewrite=False)
                    score < recheck threshold --> the rewrite replaces the piece
                    score >= recheck threshold, attempts left (``rewrite_attempts``), as ``retry`` says:
                        "bar_words" (a WordBarring backend): check_many(the rewrite with each word left out)
                        finds the words the flag rests on, and check_barring(piece, words) rewrites the
                        *original* without them (and without those barred before);
                        "no_copy" (or a backend without barring): check(rewrite, rewrite=True) rewrites the
                        flagged rewrite, decoded so that it cannot copy it (``check_no_copy`` where the backend
                        has it: greedy decoding would return the same copy again);
                        either way the new one must pass the drift test (and the faithfulness check, when set)
                        against the *original* piece and is re-checked by check(new, ...) in turn
                    no attempt left --> fallback policy

then the policy (:mod:`srllm_guard.policy`) and the reassembly. ``check_many`` may flag a text by the backend's
screen alone (a ``screened`` check: llama.cpp's early-exit probe); such a flag is never the verdict: the full
model decides (phase 2 for a piece, the confirming check for a rewrite), so every recorded score at or above
a threshold is the full model's.

Text beyond ``max_text_chars`` is not scored: the fallback policy applies to it as one span. After a
backend failure (retries spent, or a timeout) nothing more of the text is sent: everything from the first
piece whose outcome is not settled to the end of the checked text becomes one span handled by
``on_backend_error``.

A :class:`~srllm_guard.backends.base.TokenBudget` backend (llama.cpp, Hugging Face) is asked, in the same timed
call, whether a piece that could be too long fits; one that does not is cut smaller at whitespace and its
parts are judged instead. ``timeout_s`` bounds each call (a batch counts as one). A timed-out call cannot be
killed (Python cannot stop a thread inside a C call); its worker is abandoned as a daemon thread and finishes
in the background, while the backend's per-model lock keeps the model consistent (later calls into that model
wait for it, under their own timeout).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import numbers
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any, Union

from tenacity import AsyncRetrying, Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from srllm_guard.audit import AuditRecord, Span
from srllm_guard.backends.base import Backend, Check, CopyBlocking, TokenBudget, WordBarring
from srllm_guard.config import GuardConfig
from srllm_guard.errors import BackendError, BackendTimeout, SRGuardError
from srllm_guard.faithfulness import FaithfulnessScorer
from srllm_guard.policy import (
    Processed,
    action_for,
    checked_end,
    drift,
    make_record,
    replacement,
    returned_text,
    with_end_mark,
)
from srllm_guard.split import Piece, answered_pairs, chunk, split_text, trim

__all__ = ["drift", "process", "aprocess", "guard_text", "aguard_text"]



@dataclass(frozen=True)
class _Call:
    """One ``check`` on the full model: with its rewrite (phase 2), or without (a re-check's flag confirmed)."""

    text: str
    threshold: float
    rewrite: bool = True
    no_copy: bool = False
    """A retry: the rewrite is decoded so that it cannot copy ``text`` where the backend can
    (:class:`~srllm_guard.backends.base.CopyBlocking`)."""
    bar: tuple[str, ...] = ()
    """A retry: the rewrite of ``text`` never writes these words (:class:`~srllm_guard.backends.base.WordBarring`;
    only asked of a backend that has it)."""
    budget: bool = False
    """Count the tokens first (a :class:`~srllm_guard.backends.base.TokenBudget` backend): a text over the limit
    gets a :class:`_TooLong` instead of being sent."""


@dataclass(frozen=True)
class _Batch:
    """One ``check_many`` without rewrites (phases 1 and 3); a text over the backend's token budget gets a
    :class:`_TooLong` in its place instead of being sent."""

    texts: tuple[str, ...]
    threshold: float


@dataclass(frozen=True)
class _Faith:
    """Score (original, rewrite) pairs with the guard's faithfulness check: not a backend call (no retries, no
    ``timeout_s``); :func:`process` runs it in place, :func:`aprocess` in a worker thread."""

    pairs: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class _TooLong:
    """The backend's ``count_tokens`` says the text exceeds its ``max_text_tokens``."""

    tokens: int
    limit: int


_Answer = Union[Check, _TooLong, "list[Check | _TooLong]"]
"""What a call returns: a ``_Call``'s check (or too-long mark), a ``_Batch``'s list."""
_Outcome = Union[Check, _TooLong, BackendError, list]
_MAX_TOKENS_PER_CHAR = 4
"""Upper bound of tokens per character (UTF-8 byte fallback): shorter texts skip ``count_tokens``."""
_GROUP_PIECES, _GROUP_CHARS = 64, 8000
"""Most pieces / characters per group (one ``check_many`` call, under one ``timeout_s``)."""


def _plan(text: str, config: GuardConfig, part: int | None, *, can_bar: bool = False,
          checked: bool = False) -> Generator[_Call | _Batch | _Faith, _Outcome, Processed]:
    """The guard's rules for one text, as a generator of backend calls (see the module docstring).

    ``can_bar``: the backend is a :class:`~srllm_guard.backends.base.WordBarring` one (``retry="bar_words"``
    needs it; without it a retry rewrites the flagged rewrite, as ``"no_copy"`` does). ``checked``: the guard has
    a faithfulness check; a rewrite it scores (a :class:`_Faith` call) below ``config.min_faithfulness`` is not
    used (reason ``unfaithful``)."""
    result = Processed(text=text)
    if not text or text.isspace():
        return result
    limit = checked_end(text, config.max_text_chars)
    pieces = deque(split_text(text[:limit], max_chars=config.max_sentence_chars))
    pairs = answered_pairs(text, list(pieces), max_chars=config.max_sentence_chars) if config.answered_questions else {}
    last_end = pieces[-1].end if pieces else limit
    scores: dict[int, float] = {}  # piece start -> score
    spans: dict[int, Span] = {}  # piece start -> what became of it, when it is not kept as it was
    faithful: dict[int, float] = {}  # piece start -> P(faithful) of its latest rewrite (a check is set)

    def fallback(piece: Piece, score: float | None, reason: str, policy: str, recheck: float | None = None,
                 attempts: int = 0, rejected: str | None = None):
        action = action_for(policy)
        original = text[piece.start : piece.end]
        instead = replacement(action, original, config)
        spans[piece.start] = Span(start=piece.start, end=piece.end, original=original, replacement=instead,
                                  score=score, action=action, recheck_score=recheck, reason=reason,
                                  attempts=attempts, rejected_rewrite=rejected, part=part,
                                  faithfulness=faithful.get(piece.start) if rejected else None)
        result.refused = result.refused or action == "refuse"

    def unfaithful(items: list[tuple[Piece, str]]) -> Generator[_Faith, _Outcome, list[bool]]:
        """Whether each (piece, rewrite) scores below ``min_faithfulness`` (never, without a check)."""
        if not checked or not items:
            return [False] * len(items)
        found = yield _Faith(tuple((text[piece.start : piece.end], rewrite) for piece, rewrite in items))
        assert isinstance(found, list)
        for (piece, _), p in zip(items, found):
            faithful[piece.start] = float(p)
        return [p < config.min_faithfulness for p in found]

    def give_up(error: BackendError, start: int) -> None:
        """The backend failed: everything from ``start`` to the end of the checked text becomes one span (what
        was decided beyond ``start`` is dropped: none of it is settled)."""
        for kept in (scores, spans):
            for key in [key for key in kept if key > start or (key == start and kept is not scores)]:
                del kept[key]
        result.refused = any(span.action == "refuse" for span in spans.values())
        result.error = f"{type(error).__name__}: {error}"
        reason = "timeout" if isinstance(error, BackendTimeout) else "backend_error"
        fallback(Piece(start, last_end), scores.get(start), reason, config.on_backend_error)

    while pieces:
        group = [pieces.popleft()]  # the next pieces, bounded so that one call fits one timeout
        size = group[0].end - group[0].start
        while pieces and len(group) < _GROUP_PIECES and size + pieces[0].end - pieces[0].start <= _GROUP_CHARS:
            size += pieces[0].end - pieces[0].start
            group.append(pieces.popleft())

        # 1. score every piece of the group
        outcome = yield _Batch(tuple(text[p.start : p.end] for p in group), config.threshold)
        if isinstance(outcome, BackendError):
            give_up(outcome, group[0].start)
            break
        assert isinstance(outcome, list)  # a batch's outcome: one Check or _TooLong per text
        flagged, cut = [], []
        for piece, check in zip(group, outcome):
            if isinstance(check, _TooLong):  # more tokens than the backend takes: cut it smaller, in place
                size = piece.end - piece.start
                cut += chunk(text, piece, max(1, min(size - 1, size * check.limit // check.tokens)))
            elif check.score < config.threshold:
                scores[piece.start] = check.score
            else:
                flagged.append(piece)
        pieces.extendleft(reversed(cut))

        # 1b. a flagged question followed by another sentence: the full model judges the two together (never the
        # screen, which was fitted on single sentences), and a pair it does not flag keeps the question ("Are X
        # bad at maths? No, that's a myth.")
        kept: set[int] = set()
        error = None
        for piece in flagged:
            pair = pairs.get(piece.start)
            if pair is None:
                continue
            answer = yield _Call(text[pair.start : pair.end], config.threshold, rewrite=False, budget=True)
            if isinstance(answer, BackendError):
                error = answer
                break
            if isinstance(answer, Check) and answer.score < config.threshold:  # not a _TooLong
                scores[piece.start] = answer.score
                kept.add(piece.start)
        if error is not None:
            give_up(error, flagged[0].start)
            break
        flagged = [piece for piece in flagged if piece.start not in kept]

        # 2. rewrite the flagged pieces (the full model's score decides)
        candidates: list[tuple[Piece, float, str]] = []
        failed = None
        for piece in flagged:
            original = text[piece.start : piece.end]
            outcome = yield _Call(original, config.threshold)
            if isinstance(outcome, BackendError):
                failed = (outcome, (candidates[0][0] if candidates else piece).start)  # the first unsettled
                break
            assert isinstance(outcome, Check)
            scores[piece.start] = score = outcome.score
            if score < config.threshold:
                continue
            rewrite = with_end_mark(original, (outcome.rewrite or "").strip())
            if not rewrite:
                fallback(piece, score, "no_rewrite", config.fallback, attempts=1)
            elif drift(original, rewrite) > config.max_drift:
                fallback(piece, score, "drift", config.fallback, attempts=1, rejected=rewrite)
            else:
                candidates.append((piece, score, rewrite))
        refused = yield from unfaithful([(piece, rewrite) for piece, _, rewrite in candidates])
        for (piece, score, rewrite), bad in zip(candidates, refused):
            if bad:
                fallback(piece, score, "unfaithful", config.fallback, attempts=1, rejected=rewrite)
        candidates = [candidate for candidate, bad in zip(candidates, refused) if not bad]

        # 3. re-check every rewrite of the group in one call; a screened flag is confirmed by the full model
        # (a screen's flag is never the verdict, as in phase 2)
        if candidates and failed is None:
            outcome = yield _Batch(tuple(rewrite for _, _, rewrite in candidates), config.recheck_at)
            if isinstance(outcome, BackendError):
                failed = (outcome, candidates[0][0].start)
            else:
                assert isinstance(outcome, list)
                for (piece, score, rewrite), check in zip(candidates, outcome):
                    if isinstance(check, _TooLong):
                        fallback(piece, score, "too_long", config.fallback)
                        continue
                    original, attempt = text[piece.start : piece.end], 1
                    barred: list[str] = []  # words no later attempt may write (retry="bar_words")
                    while True:
                        more = attempt < config.rewrite_attempts
                        bar = more and can_bar and config.retry == "bar_words"
                        # a screened flag is confirmed by the full model; a flag with attempts left asks the
                        # full model for its verdict and, when it flags the rewrite too, the next rewrite of it
                        # (retry="no_copy"; "bar_words" rewrites the original below)
                        if check.score >= config.recheck_at and (
                                check.screened or (more and not bar and check.rewrite is None)):
                            check = yield _Call(rewrite, config.recheck_at, rewrite=more and not bar,
                                                no_copy=more and not bar)
                            if isinstance(check, BackendError):
                                failed = (check, piece.start)
                                break
                            assert isinstance(check, Check)
                        if check.score < config.recheck_at:
                            spans[piece.start] = Span(start=piece.start, end=piece.end, replacement=rewrite,
                                                      original=original, score=score, action="rewrite",
                                                      recheck_score=check.score, attempts=attempt, part=part,
                                                      faithfulness=faithful.get(piece.start))
                            break
                        nxt = with_end_mark(original, (check.rewrite or "").strip()) if more else ""
                        stuck = False  # bar_words found no word the flag rests on: nothing new to write
                        if bar:
                            found = yield from _offenders(rewrite, check.score, barred, config)
                            if isinstance(found, BackendError):
                                failed = (found, piece.start)
                                break
                            barred += found
                            stuck = not found
                            again = (yield _Call(original, config.threshold, bar=tuple(barred))) if found else None
                            if isinstance(again, BackendError):
                                failed = (again, piece.start)
                                break
                            nxt = with_end_mark(original, (again.rewrite or "").strip()) \
                                if isinstance(again, Check) else ""
                        drifted = bool(nxt) and drift(original, nxt) > config.max_drift  # from the original
                        if drifted:
                            faithful.pop(piece.start, None)  # the score was the previous rewrite's
                        if not nxt or drifted or (yield from unfaithful([(piece, nxt)]))[0]:
                            fallback(piece, score, "recheck_failed" if not more or stuck else
                                     "no_rewrite" if not nxt else "drift" if drifted else "unfaithful",
                                     config.fallback, recheck=check.score, attempts=attempt,
                                     rejected=nxt or rewrite)
                            break
                        rewrite, attempt = nxt, attempt + 1
                        more = attempt < config.rewrite_attempts
                        bar = more and can_bar and config.retry == "bar_words"
                        check = yield _Call(rewrite, config.recheck_at, rewrite=more and not bar,
                                            no_copy=more and not bar)
                        if isinstance(check, BackendError):
                            failed = (check, piece.start)
                            break
                        assert isinstance(check, Check)
                    if failed is not None:
                        break
        if failed is not None:
            give_up(*failed)
            break

    excess = trim(text, limit, len(text)) if limit < len(text) else None
    if excess is not None:
        fallback(excess, None, "too_long", config.fallback)

    result.scores = [scores[key] for key in sorted(scores)]
    result.spans = [spans[key] for key in sorted(spans)]
    out, pos = [], 0
    for span in result.spans:  # every span replaces its piece (a rewrite, or what the policy leaves)
        out += [text[pos : span.start], span.replacement]
        pos = span.end
    out.append(text[pos:])
    result.text = "".join(out)
    return result


_WORD = re.compile(r"[^\W\d_][\w'*]*")
"""A word a retry may bar: letters first, then letters, digits, apostrophes or masking stars."""
_BAR_DROP, _BAR_MOST, _BAR_SCAN = 0.15, 3, 48
"""A word is barred when leaving it out lowers the re-check's score by at least ``_BAR_DROP`` (at most
``_BAR_MOST`` per attempt, else the one word that lowers it most); only the first ``_BAR_SCAN`` words are tried."""
_NEVER_BARRED = frozenset(
    "all and any are but can could did does for from had has have her him his its not our she than that the "
    "their them then there these they this those was were what when which who will with would".split())
"""Function words a sentence cannot do without; with words of one or two letters, never tried (barring " the"
or " to" would wreck every rewrite, and leaving one out rarely says where the bias is)."""


def _offenders(rewrite: str, score: float, barred: list[str],
               config: GuardConfig) -> Generator[_Batch, _Outcome, list[str] | BackendError]:
    """The words a flagged rewrite's verdict rests on: each word left out in turn, all variants scored in one
    ``check_many`` (the screen may settle some), the words whose removal lowers ``score`` most (see
    ``GuardConfig.retry``). Words in ``barred`` are not tried again. ``[]`` when none lowers it."""
    known = _NEVER_BARRED | {word.casefold() for word in barred}
    spots = [m for m in _WORD.finditer(rewrite) if len(m.group()) > 2 and m.group().casefold() not in known]
    spots = spots[:_BAR_SCAN]
    variants = [" ".join((rewrite[: m.start()] + rewrite[m.end() :]).split()) for m in spots]
    spots, variants = [m for m, v in zip(spots, variants) if v], [v for v in variants if v]
    if not variants:
        return []
    outcome = yield _Batch(tuple(variants), config.recheck_at)
    if isinstance(outcome, BackendError):
        return outcome
    assert isinstance(outcome, list)
    drops = sorted(((score - check.score, i) for i, check in enumerate(outcome) if isinstance(check, Check)),
                   key=lambda pair: (-pair[0], pair[1]))
    found: list[str] = []
    for drop, i in drops:
        word = spots[i].group()
        if drop >= _BAR_DROP and len(found) < _BAR_MOST and word.casefold() not in {w.casefold() for w in found}:
            found.append(word)
    if not found and drops and drops[0][0] > 0:
        found.append(spots[drops[0][1]].group())
    return found


# --- calling the backend ---------------------------------------------------------------------------------


def _valid_many(result: Any, expected: int) -> list[Check]:
    if not isinstance(result, (list, tuple)) or len(result) != expected:
        raise BackendError(f"backend check_many returned {type(result).__name__}"
                           f"{f' of {len(result)}' if isinstance(result, (list, tuple)) else ''}, expected a list of "
                           f"{expected} Check")
    return [_valid(check) for check in result]


def _valid(check: Any) -> Check:
    if not isinstance(check, Check):
        raise BackendError(f"backend returned {type(check).__name__}; expected a Check")
    score = check.score
    if not isinstance(score, numbers.Real) or isinstance(score, bool) or not 0.0 <= float(score) <= 1.0:
        raise BackendError(f"backend returned an invalid score {score!r}; expected a probability in [0, 1]")
    return Check(score=float(score), rewrite=check.rewrite if isinstance(check.rewrite, str) else None,
                 screened=check.screened is True)


def _may_be_too_long(backend: Backend | None, text: str) -> bool:
    """Whether ``text`` could exceed a :class:`TokenBudget` backend's limit (cheap, no tokenizer)."""
    if not isinstance(backend, TokenBudget):
        return False
    limit = backend.max_text_tokens
    return isinstance(limit, int) and len(text) * _MAX_TOKENS_PER_CHAR > limit


def over_budget(backend: Backend | None, text: str) -> _TooLong | None:
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


def _timeout(config: GuardConfig) -> BackendTimeout:
    return BackendTimeout(
        f"backend did not answer within timeout_s={config.timeout_s}s; the call was abandoned "
        "(raise timeout_s or lower max_new_tokens / max_sentence_chars)"
    )


def _retry(backend: Backend, call: _Call, config: GuardConfig) -> Callable[[], Check] | None:
    """The capability method a retry call asks for, bound to its arguments (``check_barring`` or
    ``check_no_copy``), or ``None`` when the call is a plain ``check`` (or the backend lacks the capability)."""
    if call.bar and call.rewrite and isinstance(backend, WordBarring):
        return functools.partial(backend.check_barring, call.text, words=call.bar, threshold=call.threshold,
                                 max_new_tokens=config.max_new_tokens)
    if call.no_copy and call.rewrite and isinstance(backend, CopyBlocking):
        return functools.partial(backend.check_no_copy, call.text, threshold=call.threshold,
                                 max_new_tokens=config.max_new_tokens)
    return None


def _sync_work(backend: Backend, call: _Call | _Batch, config: GuardConfig) -> _Answer:
    """What one call does, in the worker thread: the token budget first, then the backend."""
    if isinstance(call, _Call):
        if call.budget and (mark := over_budget(backend, call.text)) is not None:
            return mark
        if (retry := _retry(backend, call, config)) is not None:
            return _valid(retry())
        return _valid(backend.check(call.text, threshold=call.threshold, rewrite=call.rewrite,
                                    max_new_tokens=config.max_new_tokens))
    marks = [over_budget(backend, text) for text in call.texts]
    send = [text for text, mark in zip(call.texts, marks) if mark is None]
    return _with_marks(marks, backend.check_many(send, threshold=call.threshold, rewrite=False) if send else [])


def _with_marks(marks: list[_TooLong | None], answer: Any) -> list[Check | _TooLong]:
    """A batch's outcome: each too-long mark in its place, the backend's (validated) checks for the rest."""
    checks = iter(_valid_many(answer, marks.count(None)))
    return [mark or next(checks) for mark in marks]


def _call_once(backend: Backend, call: _Call | _Batch, config: GuardConfig) -> _Answer:
    """One backend call in a daemon worker thread, waited on for ``timeout_s``.

    The worker runs in an empty ``contextvars`` context, so nothing the backend does can attach to the
    caller's LangChain run (no callbacks into the user's stream). On timeout the worker is abandoned.
    """
    box: dict[str, Any] = {}
    done = threading.Event()

    def run() -> None:
        try:
            box["value"] = contextvars.Context().run(_sync_work, backend, call, config)
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=run, name="srllm-guard-backend", daemon=True).start()
    if not done.wait(config.timeout_s):
        raise _timeout(config)
    if "error" in box:
        exc = box["error"]
        if isinstance(exc, Exception) and not isinstance(exc, SRGuardError):
            raise _wrap(exc) from exc
        raise exc
    return box["value"]


async def _acall_once(backend: Backend, call: _Call | _Batch, config: GuardConfig) -> _Answer:
    async def work() -> _Answer:
        if isinstance(call, _Call):
            if call.budget and _may_be_too_long(backend, call.text):  # counting takes the model lock
                mark = await asyncio.to_thread(over_budget, backend, call.text)
                if mark is not None:
                    return mark
            if (retry := _retry(backend, call, config)) is not None:
                return _valid(await asyncio.to_thread(retry))
            return _valid(await backend.acheck(call.text, threshold=call.threshold, rewrite=call.rewrite,
                                               max_new_tokens=config.max_new_tokens))
        marks: list[_TooLong | None] = [None] * len(call.texts)
        if any(_may_be_too_long(backend, text) for text in call.texts):  # counting takes the model lock
            marks = await asyncio.to_thread(lambda: [over_budget(backend, text) for text in call.texts])
        send = [text for text, mark in zip(call.texts, marks) if mark is None]
        return _with_marks(marks, await backend.acheck_many(send, threshold=call.threshold, rewrite=False)
                           if send else [])

    task = contextvars.Context().run(asyncio.ensure_future, work())  # empty context: no callback leakage
    try:
        return await asyncio.wait_for(task, config.timeout_s)
    except asyncio.TimeoutError:
        raise _timeout(config) from None
    except Exception as exc:
        wrapped = _wrap(exc)
        if wrapped is exc:
            raise
        raise wrapped from exc


def process(text: str, backend: Backend | None, config: GuardConfig, *, part: int | None = None,
            faithfulness: FaithfulnessScorer | None = None) -> Processed:
    """Guard one text, calling ``backend`` from worker threads (see :func:`_call_once`) and ``faithfulness``, when
    given, in place."""
    plan = _plan(text, config, part, can_bar=isinstance(backend, WordBarring), checked=faithfulness is not None)
    try:
        call = next(plan)
        while True:
            outcome: _Outcome
            if isinstance(call, _Faith):
                assert faithfulness is not None
                outcome = list(faithfulness.score(list(call.pairs)))
                call = plan.send(outcome)
                continue
            try:
                outcome = Retrying(**_retry_kwargs(config))(_call_once, backend, call, config)
            except BackendError as exc:
                outcome = exc
            call = plan.send(outcome)
    except StopIteration as stop:
        return stop.value


async def aprocess(text: str, backend: Backend | None, config: GuardConfig, *, part: int | None = None,
                   faithfulness: FaithfulnessScorer | None = None) -> Processed:
    """Async twin of :func:`process`: ``backend.acheck`` under ``asyncio.wait_for``; ``faithfulness`` in a worker
    thread (a CPU model: it must not hold the event loop)."""
    plan = _plan(text, config, part, can_bar=isinstance(backend, WordBarring), checked=faithfulness is not None)
    try:
        call = next(plan)
        while True:
            outcome: _Outcome
            if isinstance(call, _Faith):
                assert faithfulness is not None
                outcome = list(await asyncio.to_thread(faithfulness.score, list(call.pairs)))
                call = plan.send(outcome)
                continue
            try:
                outcome = await AsyncRetrying(**_retry_kwargs(config))(_acall_once, backend, call, config)
            except BackendError as exc:
                outcome = exc
            call = plan.send(outcome)
    except StopIteration as stop:
        return stop.value


def guard_text(text: str, backend: Backend | None, config: GuardConfig, *,
               faithfulness: FaithfulnessScorer | None = None) -> AuditRecord:
    """Guard a plain string; the returned text is ``record.text``."""
    started = time.perf_counter()
    result = process(text, backend, config, faithfulness=faithfulness)
    return make_record(text, returned_text([result], config) or result.text, [result], backend, config, started)


async def aguard_text(text: str, backend: Backend | None, config: GuardConfig, *,
                      faithfulness: FaithfulnessScorer | None = None) -> AuditRecord:
    """Async twin of :func:`guard_text`."""
    started = time.perf_counter()
    result = await aprocess(text, backend, config, faithfulness=faithfulness)
    return make_record(text, returned_text([result], config) or result.text, [result], backend, config, started)
