"""The whole-text gate: a clean multi-sentence reply costs one backend call, a flagged one is checked per sentence."""

from __future__ import annotations

from srllm_guard.backends.base import BaseBackend, Check
from srllm_guard.config import GuardConfig
from srllm_guard.pipeline import guard_text


class CountingBackend(BaseBackend):
    """Scores 0.9 for text containing 'lazy', else 0.05; rewrites 'lazy' to 'busy'; records every call."""

    model_id = "counting"

    def __init__(self, fail: bool = False):
        self.calls: list[str] = []
        self.fail = fail

    def check(self, text, *, threshold, rewrite=True, max_new_tokens=256):
        self.calls.append(text)
        if self.fail:
            raise RuntimeError("down")
        score = 0.9 if "lazy" in text else 0.05
        return Check(score=score, rewrite=text.replace("lazy", "busy") if rewrite and score >= threshold else None)


CLEAN = "The shop opens at nine. It closes at five.\nBring a bag."


def test_clean_text_is_one_call_and_byte_identical():
    backend = CountingBackend()
    record = guard_text(CLEAN, backend, GuardConfig(whole_text_gate=0.2, timeout_s=None))
    assert backend.calls == [CLEAN]
    assert record.text == CLEAN and record.action == "pass"


def test_flagged_text_falls_through_to_sentences():
    backend = CountingBackend()
    text = "The shop opens at nine. The staff are lazy. Bring a bag."
    record = guard_text(text, backend, GuardConfig(whole_text_gate=0.2, timeout_s=None))
    assert backend.calls[0] == text and len(backend.calls) > 3  # gate, then per sentence + re-check
    assert record.action == "rewrite" and record.text == "The shop opens at nine. The staff are busy. Bring a bag."


def test_gate_off_checks_every_sentence():
    backend = CountingBackend()
    guard_text(CLEAN, backend, GuardConfig(whole_text_gate=None, timeout_s=None))
    assert backend.calls == ["The shop opens at nine.", "It closes at five.", "Bring a bag."]


def test_gate_failure_applies_the_error_policy_once():
    backend = CountingBackend(fail=True)
    record = guard_text(CLEAN, backend, GuardConfig(whole_text_gate=0.2, timeout_s=None, retries=0,
                                                    on_backend_error="fail_open"))
    assert len(backend.calls) == 1
    assert record.action == "fallback" and record.text == CLEAN and record.original == CLEAN and record.error
