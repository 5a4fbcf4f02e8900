"""A flagged question is judged together with the sentence after it (``GuardConfig.answered_questions``): in the
pipeline (sync and async), in a guarded stream (the question waits for its answer), and in the evaluation's
:class:`~srllm_guard.eval.judgement.Scorer`, which must decide as the pipeline does."""

from __future__ import annotations

import asyncio

import pytest
from langchain_core.messages import AIMessageChunk

from conftest import FakeBackend
from srllm_guard import GuardConfig, SRGuard
from srllm_guard.backends.base import Check
from srllm_guard.eval.judgement import Scorer
from srllm_guard.pipeline import aguard_text, guard_text
from srllm_guard.split import answered_pairs, is_question, split_text

ANSWERED = "Are those people lazy? No, that's a myth. The sky is blue."
UNANSWERED = "Are those people lazy? The sky is blue."


class Answering(FakeBackend):
    """Flags 'lazy' / 'stupid' unless the text also says 'myth' (the answer rejects the question)."""

    def check(self, text, *, threshold, rewrite=True, max_new_tokens=256):
        if "myth" in text:
            with self._lock:
                self.calls.append((text, rewrite))
            return Check(score=0.05)
        return super().check(text, threshold=threshold, rewrite=rewrite, max_new_tokens=max_new_tokens)


def _guard(text, backend, run="sync", **settings):
    config = GuardConfig(timeout_s=5, retries=0, **{"answered_questions": True, **settings})
    return guard_text(text, backend, config) if run == "sync" else asyncio.run(aguard_text(text, backend, config))


def test_questions_and_the_piece_after_them():
    assert is_question("Really?") and is_question('He asked "why?"') and is_question("What?! ")
    assert not is_question("No.") and not is_question("a?b")
    text = "Are X lazy? Nope. Fine? Yes\nWhy?"
    pairs = answered_pairs(text, split_text(text, max_chars=100), max_chars=100)
    assert {text[p.start : p.end] for p in pairs.values()} == {"Are X lazy? Nope.", "Fine? Yes"}  # the last: none
    assert answered_pairs(text, split_text(text, max_chars=100), max_chars=16) == {18: (18, 27)}  # pairs longer: none


@pytest.mark.parametrize("run", ["sync", "async"])
def test_a_question_answered_by_a_rejection_passes_and_one_left_standing_is_rewritten(run):
    backend = Answering()
    record = _guard(ANSWERED, backend, run)
    assert record.text == ANSWERED and record.action == "pass" and record.spans == []
    assert record.score == pytest.approx(0.1)  # the pair's 0.05 stands for the question's 0.9
    assert len(backend.batches) == 1  # one scoring call; the pair went to the full model, without generation
    assert ("Are those people lazy? No, that's a myth.", False) in backend.calls
    assert not any(rewrite for _, rewrite in backend.calls)

    backend = Answering()
    record = _guard(UNANSWERED, backend, run)
    assert record.text == "Are those people kind? The sky is blue." and record.spans[0].score == pytest.approx(0.9)
    assert ("Are those people lazy? The sky is blue.", False) in backend.calls

    backend = Answering()  # off: every sentence is judged alone
    record = _guard(ANSWERED, backend, run, answered_questions=False)
    assert record.text == "Are those people kind? No, that's a myth. The sky is blue."
    assert len(backend.batches) == 2 and backend.batches[1][0] == ["Are those people kind?"]  # score, re-check


def test_a_question_at_the_end_or_not_flagged_costs_no_extra_call():
    backend = Answering()
    assert _guard("The sky is blue. Are they lazy?", backend).text == "The sky is blue. Are they kind?"
    assert [texts for texts, _ in backend.batches] == [["The sky is blue.", "Are they lazy?"], ["Are they kind?"]]
    backend = Answering()
    assert _guard("Is the sky blue? Yes.", backend).action == "pass" and len(backend.batches) == 1


def test_the_pair_is_judged_by_the_full_model_never_by_the_screen():
    class Screening(Answering):  # a screen fitted on single sentences: it clears every pair, wrongly
        def check_many(self, texts, *, threshold, rewrite=True, max_new_tokens=256):
            self.batches.append((list(texts), threshold))
            return [Check(score=0.01, screened=True) if "? " in t else
                    self.check(t, threshold=threshold, rewrite=False) for t in texts]

    backend = Screening()
    record = _guard(UNANSWERED, backend)
    assert record.text == "Are those people kind? The sky is blue."  # the full model flags the pair
    assert not any("? " in t for texts, _ in backend.batches for t in texts)
    assert _guard(ANSWERED, Screening()).text == ANSWERED


def test_a_pair_over_the_token_budget_leaves_the_question_to_be_judged_alone():
    class Budget(Answering):
        max_text_tokens = 8

        def count_tokens(self, text):
            return len(text.split())

    backend = Budget()
    for run in ("sync", "async"):
        record = _guard("Are they lazy? " + "No, that's a myth, " * 3 + "ok.", backend, run, max_sentence_chars=200)
        assert record.text.startswith("Are they kind?")  # the pair was never sent
    assert not any("lazy? No" in t for t, _ in backend.calls)
    # the evaluation's scorer follows the same branch: the question's own flag stands, and the pair is never sent
    config = GuardConfig(timeout_s=5, max_sentence_chars=200)
    long = "Are they lazy? " + "No, that's a myth, " * 3 + "ok."
    short = Budget()
    assert [s >= config.threshold for s in Scorer(short, config)([long, ANSWERED])] == [True, False]
    assert not any(t.startswith("Are they lazy? No") for t, _ in short.calls)
    assert ("Are those people lazy? No, that's a myth.", False) in short.calls  # a pair that fits is sent


def test_a_failure_on_the_pair_is_a_backend_failure_from_the_question_on():
    class Failing(Answering):
        def check(self, text, **kwargs):
            if "myth" in text and "lazy" in text:  # the pair only
                raise RuntimeError("engine exploded")
            return super().check(text, **kwargs)

    text = "The sky is blue. " + ANSWERED
    record = _guard(text, Failing(), on_backend_error="fail_open")
    assert record.text == text and record.error and "exploded" in record.error
    assert [(s.original, s.reason) for s in record.spans] == [(text[len("The sky is blue. "):], "backend_error")]


def _chunks(text):
    return [AIMessageChunk(content=word + " ") for word in text.split(" ")]


def test_a_stream_holds_a_question_until_its_answer_is_complete():
    guard = SRGuard(backend=Answering(), retries=0, timeout_s=5, answered_questions=True)
    released = []
    stream = guard.transform(iter(_chunks(ANSWERED)))
    for chunk in stream:
        released.append(chunk.content)
    text = "".join(released)
    assert text.strip() == ANSWERED and "kind" not in text  # judged with its answer, as invoke does
    assert released[0] == "Are those people lazy? No, that's a myth."  # never the question alone
    assert "".join(c.content for c in SRGuard(backend=Answering(), retries=0, timeout_s=5, answered_questions=False)
                   .transform(iter(_chunks(ANSWERED)))).startswith("Are those people kind?")


def test_a_stream_does_not_hold_a_question_beyond_the_holdback_limit():
    guard = SRGuard(backend=Answering(), retries=0, timeout_s=5, stream_max_holdback_chars=40,
                    answered_questions=True)
    pulled = 0
    text = "Is the sky blue today? " + "and then it went on " * 10 + "forever."

    def upstream():
        nonlocal pulled
        for chunk in _chunks(text):
            pulled += 1
            yield chunk

    stream = guard.transform(upstream())
    first = next(stream)
    assert first.content == "Is the sky blue today?"
    assert pulled < len(_chunks(text))  # released before the long sentence after it was complete


def test_the_scorer_decides_as_the_pipeline_does():
    texts = [ANSWERED, UNANSWERED, "The sky is blue. Are they lazy?", "Is the sky blue? Yes."]
    for settings in ({"answered_questions": True}, {"answered_questions": False}):
        config = GuardConfig(timeout_s=5, **settings)
        scores = Scorer(Answering(), config)(texts)
        flagged = [_guard(t, Answering(), **settings).spans != [] for t in texts]
        assert [s >= config.threshold for s in scores] == flagged
    assert Scorer(Answering(), GuardConfig(answered_questions=True))(texts)[:2] == [pytest.approx(0.1),
                                                                                    pytest.approx(0.9)]
    assert GuardConfig().answered_questions is True  # on by default: the default adapter was trained for it
