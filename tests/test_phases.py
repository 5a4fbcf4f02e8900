"""The pipeline's batched screen (``backend.screen_many``): one call for every sentence of a text first; the
pieces it clears skip the full model; anything else about it (flags, failures, bad answers) changes nothing."""

from __future__ import annotations

import asyncio

import pytest

from conftest import FakeBackend
from srllm_guard import GuardConfig
from srllm_guard.backends.base import Check
from srllm_guard.pipeline import aguard_text, guard_text

TEXT = "The sky is blue. Those people are lazy. Water is wet. He is stupid."


class ScreeningBackend(FakeBackend):
    """Clears sentences without 'lazy'/'stupid' and with 'sky' or 'water'; flags 'stupid' (score 0.95)."""

    def __init__(self, answer=None, **kwargs):
        super().__init__(**kwargs)
        self.screens: list[tuple[list[str], float]] = []
        self.answer = answer

    def screen_many(self, texts, *, threshold):
        self.screens.append((list(texts), threshold))
        if self.answer is not None:
            return self.answer(texts)
        out = []
        for t in texts:
            low = t.lower()
            if "stupid" in low:
                out.append(Check(score=0.95))
            elif "sky" in low or "water" in low:
                out.append(Check(score=0.02))
            else:
                out.append(None)
        return out


def test_cleared_pieces_skip_the_full_model():
    backend = ScreeningBackend()
    record = guard_text(TEXT, backend, GuardConfig(timeout_s=5))
    assert backend.screens == [(["The sky is blue.", "Those people are lazy.", "Water is wet.", "He is stupid."], 0.5)]
    checked = [text for text, rewrite in backend.calls if rewrite]
    assert checked == ["Those people are lazy.", "He is stupid."]  # a screen's flag still gets the full model
    assert record.text == "The sky is blue. Those people are kind. Water is wet. He is kind."
    assert record.action == "rewrite" and record.original == TEXT
    spans = record.model_dump()["spans"]
    assert sorted(span["original"] for span in spans) == ["He is stupid.", "Those people are lazy."]
    assert record.score == pytest.approx(0.9)


def test_async_twin_screens_the_same_way():
    backend = ScreeningBackend()
    record = asyncio.run(aguard_text(TEXT, backend, GuardConfig(timeout_s=5)))
    assert len(backend.screens) == 1
    assert [text for text, rewrite in backend.calls if rewrite] == ["Those people are lazy.", "He is stupid."]
    assert record.text == "The sky is blue. Those people are kind. Water is wet. He is kind."


@pytest.mark.parametrize("answer", [
    lambda texts: (_ for _ in ()).throw(RuntimeError("screen broke")),  # raises
    lambda texts: [None],  # wrong length
    lambda texts: "nope",  # wrong type
    lambda texts: [Check(score=2.0)] * len(texts),  # invalid score
])
def test_a_failing_or_invalid_screen_means_the_full_model_for_every_piece(answer):
    backend = ScreeningBackend(answer=answer)
    record = guard_text(TEXT, backend, GuardConfig(timeout_s=5, retries=0))
    assert len([c for c in backend.calls if c[1]]) == 4
    assert record.text == "The sky is blue. Those people are kind. Water is wet. He is kind."
    assert record.error is None


def test_backend_without_screen_is_unchanged():
    backend = FakeBackend()
    record = guard_text(TEXT, backend, GuardConfig(timeout_s=5))
    assert len([c for c in backend.calls if c[1]]) == 4
    assert record.text == "The sky is blue. Those people are kind. Water is wet. He is kind."


@pytest.mark.parametrize("run", ["sync", "async"])
def test_a_hanging_screen_times_out_and_every_piece_gets_the_full_model(run):
    import time

    backend = ScreeningBackend(answer=lambda texts: time.sleep(1.0) or [None] * len(texts))
    config = GuardConfig(timeout_s=0.2, retries=0)

    async def timed_async():
        started = time.perf_counter()
        return await aguard_text(TEXT, backend, config), time.perf_counter() - started

    if run == "sync":
        started = time.perf_counter()
        record, took = guard_text(TEXT, backend, config), time.perf_counter() - started
    else:
        record, took = asyncio.run(timed_async())  # asyncio.run then waits for the abandoned worker: not timed
    assert took < 0.9
    assert len([c for c in backend.calls if c[1]]) == 4
    assert record.text == "The sky is blue. Those people are kind. Water is wet. He is kind."


def test_long_text_is_screened_in_bounded_calls_and_a_failure_stops_screening_only():
    sentence = "The sky is blue and the water is calm today. "
    text = sentence * 600 + "He is stupid."  # ~27,000 chars, 601 pieces
    backend = ScreeningBackend()
    record = guard_text(text, backend, GuardConfig(timeout_s=5))
    sizes = [sum(map(len, texts)) for texts, _ in backend.screens]
    assert len(backend.screens) > 3 and max(sizes) <= 8000 and max(len(t) for t, _ in backend.screens) <= 64
    assert sum(len(t) for t, _ in backend.screens) == 601  # every piece screened once
    assert [t for t, rewrite in backend.calls if rewrite] == ["He is stupid."]
    assert record.text == sentence * 600 + "He is kind."

    calls = {"n": 0}

    def second_fails(texts):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("screen broke")
        return [Check(score=0.01)] * len(texts)

    failing = ScreeningBackend(answer=second_fails)
    record = guard_text(text, failing, GuardConfig(timeout_s=5, retries=0))
    assert len(failing.screens) == 2  # no screening after the failure
    first = len(failing.screens[0][0])
    assert len([c for c in failing.calls if c[1]]) == 601 - first  # the rest got the full model
    assert record.text == sentence * 600 + "He is kind." and record.error is None
