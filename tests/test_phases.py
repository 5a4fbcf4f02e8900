"""The pipeline's phases (``srllm_guard.pipeline``): every piece of a text scored in one ``check_many`` call, one
``check`` with rewrite per flagged piece, every rewrite re-checked in one ``check_many`` call; bounded batches,
what a backend's screen clears is never sent again, and a failed batch is a backend failure from its first
piece on."""

from __future__ import annotations

import asyncio
import time

import pytest

from conftest import FakeBackend
from srllm_guard import GuardConfig
from srllm_guard.backends.base import Check
from srllm_guard.pipeline import aguard_text, guard_text

TEXT = "The sky is blue. Those people are lazy. Water is wet. He is stupid."
REWRITTEN = "The sky is blue. Those people are kind. Water is wet. He is kind."


class ScreeningBackend(FakeBackend):
    """A backend with its own cheap screen inside ``check_many``: clears sentences with 'sky' or 'water' (score
    0.02) without the full model; ``answer`` replaces the whole ``check_many`` answer."""

    def __init__(self, answer=None, **kwargs):
        super().__init__(**kwargs)
        self.answer = answer

    def check_many(self, texts, *, threshold, rewrite=True, max_new_tokens=256):
        with self._lock:
            self.batches.append((list(texts), threshold))
        if self.answer is not None:
            return self.answer(texts)
        return [Check(score=0.02) if "sky" in t.lower() or "water" in t.lower()
                else self.check(t, threshold=threshold, rewrite=rewrite, max_new_tokens=max_new_tokens) for t in texts]


@pytest.mark.parametrize("run", ["sync", "async"])
def test_score_then_rewrite_then_recheck_in_batches(run):
    backend = ScreeningBackend()
    config = GuardConfig(timeout_s=5, recheck_threshold=0.4)
    record = guard_text(TEXT, backend, config) if run == "sync" else asyncio.run(aguard_text(TEXT, backend, config))
    assert backend.batches == [
        (["The sky is blue.", "Those people are lazy.", "Water is wet.", "He is stupid."], 0.5),  # 1. score
        (["Those people are kind.", "He is kind."], 0.4),  # 3. re-check, at the re-check threshold
    ]
    # 2. rewrite: one check each for the flagged pieces; what the screen cleared never reached the full model
    assert [t for t, rewrite in backend.calls if rewrite] == ["Those people are lazy.", "He is stupid."]
    assert not any("sky" in t or "Water" in t for t, _ in backend.calls)
    assert record.text == REWRITTEN and record.action == "rewrite" and record.original == TEXT
    assert [(s.original, s.score, s.recheck_score) for s in record.spans] == [
        ("Those people are lazy.", 0.9, 0.1), ("He is stupid.", 0.9, 0.1)]
    assert record.score == pytest.approx(0.9)


def test_spans_and_scores_come_back_in_text_order_whatever_the_phase_that_settled_them():
    rewrites = {"Those people are lazy.": "Bananas grow on trees in warm climates, mostly."}  # drifts away
    backend = FakeBackend(rewrite_fn=lambda t: rewrites.get(t, t.replace("stupid", "kind")))
    record = guard_text(TEXT, backend, GuardConfig(timeout_s=5, fallback="redact"))
    assert [(s.reason, s.action) for s in record.spans] == [("drift", "redact"), (None, "rewrite")]
    assert record.text == "The sky is blue. [removed] Water is wet. He is kind."
    assert [s.start for s in record.spans] == sorted(s.start for s in record.spans)


@pytest.mark.parametrize("answer", [
    lambda texts: (_ for _ in ()).throw(RuntimeError("screen broke")),  # raises
    lambda texts: [Check(score=0.1)],  # wrong length
    lambda texts: "nope",  # wrong type
    lambda texts: [Check(score=2.0)] * len(texts),  # invalid score
])
def test_a_failing_or_invalid_batch_is_a_backend_failure(answer):
    backend = ScreeningBackend(answer=answer)
    record = guard_text(TEXT, backend, GuardConfig(timeout_s=5, retries=0, on_backend_error="fail_closed"))
    assert record.text == GuardConfig().refusal_message and record.error is not None
    (span,) = record.spans
    assert (span.start, span.end, span.reason, span.action) == (0, len(TEXT), "backend_error", "refuse")
    assert backend.calls == []  # nothing was sent after the failed batch


def test_a_failed_recheck_batch_drops_only_what_it_left_unsettled():
    class RecheckFails(FakeBackend):
        def check_many(self, texts, *, threshold, rewrite=True, max_new_tokens=256):
            if any("kind" in t for t in texts):
                raise RuntimeError("re-check broke")
            return super().check_many(texts, threshold=threshold, rewrite=rewrite, max_new_tokens=max_new_tokens)

    record = guard_text(TEXT, RecheckFails(), GuardConfig(timeout_s=5, retries=0, on_backend_error="fail_open"))
    (span,) = record.spans  # from the first rewritten piece (not re-checked) to the end: one span, flagged
    assert TEXT[span.start :] == "Those people are lazy. Water is wet. He is stupid."
    assert (span.reason, span.action, span.score) == ("backend_error", "flag", 0.9)
    assert record.text == TEXT and "re-check broke" in record.error


@pytest.mark.parametrize("run", ["sync", "async"])
def test_a_hanging_batch_times_out(run):
    backend = ScreeningBackend(answer=lambda texts: time.sleep(1.0) or [Check(score=0.1)] * len(texts))
    config = GuardConfig(timeout_s=0.2, retries=0, on_backend_error="fail_open")

    async def timed_async():
        started = time.perf_counter()
        return await aguard_text(TEXT, backend, config), time.perf_counter() - started

    if run == "sync":
        started = time.perf_counter()
        record, took = guard_text(TEXT, backend, config), time.perf_counter() - started
    else:
        record, took = asyncio.run(timed_async())  # asyncio.run then waits for the abandoned worker: not timed
    assert took < 0.9 and len(backend.batches) == 1
    assert record.spans[0].reason == "timeout" and record.text == TEXT  # fail_open


def test_long_text_is_scored_in_bounded_batches_and_a_failure_keeps_what_was_settled():
    sentence = "The sky is blue and the water is calm today. "
    text = sentence * 600 + "He is stupid."  # ~27,000 chars, 601 pieces
    backend = ScreeningBackend()
    record = guard_text(text, backend, GuardConfig(timeout_s=5))
    scored = [texts for texts, threshold in backend.batches if "He is kind." not in texts]
    assert len(scored) > 3 and max(sum(map(len, t)) for t in scored) <= 8000 and max(map(len, scored)) <= 64
    assert sum(map(len, scored)) == 601  # every piece scored once
    assert [t for t, rewrite in backend.calls if rewrite] == ["He is stupid."]
    assert record.text == sentence * 600 + "He is kind."

    calls = {"n": 0}

    def second_fails(texts):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("batch broke")
        return [Check(score=0.01)] * len(texts)

    failing = ScreeningBackend(answer=second_fails)
    record = guard_text(text, failing, GuardConfig(timeout_s=5, retries=0, on_backend_error="fail_open"))
    assert len(failing.batches) == 2  # nothing is sent after the failure
    first = len(failing.batches[0][0])
    (span,) = record.spans
    assert span.start == len(sentence) * first and span.reason == "backend_error"
    assert record.text == text and len(record.model_dump()["spans"]) == 1


def test_a_screened_flag_is_never_the_verdict_the_full_model_decides():
    class Jumpy(FakeBackend):  # the screen flags every sentence with 'kind' (0.95); the full model does not
        def check_many(self, texts, *, threshold, rewrite=True, max_new_tokens=256):
            self.batches.append((list(texts), threshold))
            return [Check(score=0.95, screened=True) if "kind" in t
                    else self.check(t, threshold=threshold, rewrite=rewrite) for t in texts]

    backend = Jumpy()
    record = guard_text(TEXT, backend, GuardConfig(timeout_s=5))
    assert record.text == REWRITTEN  # both rewrites accepted: the full model cleared them
    assert [s.recheck_score for s in record.spans] == [0.1, 0.1]
    assert [c for c in backend.calls if "kind" in c[0]] == [("Those people are kind.", False), ("He is kind.", False)]
    # a flag from the full model itself is final: no second call
    plain = FakeBackend(rewrite_fn=lambda t: t + " Still lazy.")
    guard_text("He is lazy.", plain, GuardConfig(timeout_s=5, max_drift=1.0))
    assert [c for c in plain.calls if "Still" in c[0]] == [("He is lazy. Still lazy.", False)]
