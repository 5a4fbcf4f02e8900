"""Streaming through SRGuard: hold-back, order, metadata, errors, early stops (fake backends, fake models)."""

from __future__ import annotations

import asyncio
import random
import re
import threading
import time

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.output_parsers import StrOutputParser
from langchain_core.runnables import RunnableLambda

from conftest import BIASED, REWRITTEN, FakeBackend, RaisingBackend
from srllm_guard import AuditRecord, SRGuard
from srllm_guard.backends.base import Check

STORY = ("The sky is blue today. People from there are lazy. Dr. Smith met J. K. Rowling in the U.S. once!\n"
         "- a list item\n- stupid people live there\nAnd the stream ends mid")
TEXTS = [STORY, BIASED, "One short sentence", "Ends with a newline.\n", "  lazy  ", ""]


def make_guard(runnable=None, backend=None, **kw) -> SRGuard:
    return SRGuard(runnable, backend=backend or FakeBackend(), **{"retries": 0, "timeout_s": 5, **kw})


def model_of(*texts: str) -> GenericFakeChatModel:
    return GenericFakeChatModel(messages=iter(texts))


def chunks_of(text: str, **fields) -> list[AIMessageChunk]:
    """``text`` as a model streams it: one chunk per word and per whitespace character."""
    return [AIMessageChunk(content=token, id="run-1", **fields) for token in re.split(r"(\s)", text) if token]


def joined(chunks):
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    return total


def assert_never_biased(chunks):
    for chunk in chunks:
        text = chunk if isinstance(chunk, str) else chunk.content
        assert "lazy" not in text and "stupid" not in text, f"a biased sentence was released: {text!r}"


@pytest.mark.parametrize("text", TEXTS)
def test_stream_is_checked_sentence_by_sentence_and_adds_up_to_invoke(text):
    records = []
    guard = make_guard(audit_hook=records.append)
    expected = guard.invoke(AIMessage(content=text)).content
    records.clear()
    if text:
        out = list((model_of(text) | guard).stream("hi"))
    else:  # GenericFakeChatModel cannot stream an empty message
        out = list(guard.transform(iter([AIMessageChunk(content="", id="run-1")])))
    assert_never_biased(out)
    assert all(type(chunk) is AIMessageChunk for chunk in out)
    assert joined(out).content == expected
    assert [c for c in out if "srllm_guard" in c.response_metadata] == [out[-1]]
    record = AuditRecord.model_validate(out[-1].response_metadata["srllm_guard"])
    assert records == [record] and record.original == text and record.text == expected
    assert all(text[s.start:s.end] == s.original for s in record.spans)
    if text.count(".") > 2:  # several sentences arrive as several chunks, in order
        assert len([c for c in out if c.content]) > 2


def test_wrapped_model_streams_as_a_child_run_and_str_streams_stay_str():
    out = list(make_guard(model_of(BIASED)).stream("hi"))
    assert_never_biased(out)
    assert joined(out).content == REWRITTEN
    text_chain = model_of(BIASED) | StrOutputParser() | make_guard()
    out = list(text_chain.stream("hi"))
    assert all(isinstance(c, str) for c in out) and "".join(out) == REWRITTEN and len(out) >= 2
    assert list(make_guard().stream(BIASED)) == ["The meeting is at noon.", "\n  People from there are kind.",
                                                 "\tThanks."]


def test_text_that_piles_up_is_checked_as_one_window_after_the_first_sentence():
    backend = FakeBackend()
    text = "One is fine. Two is lazy. Three is fine. Four is stupid. Five is the end."
    out = list(make_guard(backend=backend).stream(text))  # the whole text arrives at once
    assert out == ["One is fine.", " Two is kind. Three is fine. Four is kind.", " Five is the end."]
    assert [texts for texts, _ in backend.batches] == [
        ["One is fine."],  # the first sentence alone: released as soon as it is checked
        ["Two is lazy.", "Three is fine.", "Four is stupid."],  # what piled up: one scoring call
        ["Two is kind.", "Four is kind."],  # and one re-check call for its rewrites
        ["Five is the end."],  # the rest, when the input ends
    ]
    assert "".join(out) == make_guard().invoke(text)


def test_first_clean_sentence_is_released_after_at_most_one_sentence_of_holdback():
    pulled = 0
    text = "The sky is blue today. The grass is green. Water is wet."
    first_sentence_chunks = len(chunks_of("The sky is blue today. "))  # the space after it ends it

    def upstream():
        nonlocal pulled
        for chunk in chunks_of(text):
            pulled += 1
            yield chunk

    stream = make_guard().transform(upstream())
    first = next(stream)
    assert first.content == "The sky is blue today." and pulled <= first_sentence_chunks
    assert joined([first, *stream]).content == text


def test_other_fields_pass_through_in_order_and_nothing_is_lost():
    text = "Let me look that up. People from there are lazy."
    usage = {"input_tokens": 3, "output_tokens": 12, "total_tokens": 15}
    incoming = chunks_of(text, response_metadata={"model_provider": "fake"}) + [
        AIMessageChunk(content="", id="run-1", tool_call_chunks=[
            {"name": "search", "args": '{"q": ', "id": "call-1", "index": 0}]),
        AIMessageChunk(content="", id="run-1", tool_call_chunks=[{"args": '"parks"}', "index": 0}]),
        AIMessageChunk(content="", id="run-1", usage_metadata=usage, chunk_position="last"),
    ]
    raw = joined(incoming)
    out = list(make_guard().transform(iter(incoming)))
    assert_never_biased(out)
    total = joined(out)
    assert total.content == "Let me look that up. People from there are kind."
    assert total.tool_calls == raw.tool_calls == [
        {"name": "search", "args": {"q": "parks"}, "id": "call-1", "type": "tool_call"}]
    assert total.usage_metadata == raw.usage_metadata and total.id == "run-1"
    assert total.response_metadata["model_provider"] == "fake"
    assert out[-1].chunk_position == "last" and "srllm_guard" in out[-1].response_metadata
    # Tool-call chunks never overtake the text before them: they come after the last sentence.
    assert out[-1].content == " People from there are kind." and out[-1].tool_call_chunks


def test_a_run_on_sentence_is_checked_at_the_holdback_limit():
    text = "word " * 60 + "lazy " + "word " * 60 + "end"
    guard = make_guard(max_sentence_chars=64)
    assert guard.config.holdback_chars == 64
    pulled, first_at = 0, None
    incoming = chunks_of(text)

    def upstream():
        nonlocal pulled
        for chunk in incoming:
            pulled += 1
            yield chunk

    out = []
    for chunk in guard.transform(upstream()):
        first_at = first_at or pulled
        out.append(chunk)
    assert first_at < len(incoming) // 4  # released long before the sentence ends
    assert all(len(c.content.strip()) <= 64 for c in out)
    assert_never_biased(out)
    assert joined(out).content == guard.invoke(text)


def test_list_content_chunks_keep_their_blocks():
    incoming = [AIMessageChunk(content=[{"type": "text", "text": token, "index": 0}], id="r")
                for token in re.split(r"(\s)", BIASED) if token]
    incoming.append(AIMessageChunk(content=[{"type": "tool_use", "id": "t1", "name": "f", "index": 1}], id="r"))
    out = list(make_guard().transform(iter(incoming)))
    assert_never_biased([c.content[0]["text"] for c in out if c.content and "text" in c.content[0]])
    total = joined(out).content
    assert total[0] == {"type": "text", "text": REWRITTEN, "index": 0} and total[1]["type"] == "tool_use"


def test_refusal_mid_stream_stops_releasing_text():
    records = []
    backend = FakeBackend(rewrite_fn=lambda t: t + " lazy")  # every rewrite fails the re-check
    guard = make_guard(backend=backend, fallback="refuse", audit_hook=records.append)
    out = list((model_of(STORY) | guard).stream("hi"))
    text = joined(out).content
    assert text == "The sky is blue today. I can't provide that response."
    (record,) = records
    assert record.text == text and record.original == STORY and record.action == "fallback"
    (span,) = record.spans
    assert (span.action, span.reason, span.end) == ("refuse", "recheck_failed", len(STORY))
    sent = {t for t, _ in backend.calls}
    assert "People from there are lazy." in sent and not any("Smith" in t or "stupid" in t for t in sent)  # nothing
    # after the refusal was sent


def test_backend_failure_fails_open_for_the_rest_of_the_stream():
    backend = RaisingBackend()
    out = list((model_of(STORY) | make_guard(backend=backend, on_backend_error="fail_open")).stream("hi"))
    record = AuditRecord.model_validate(out[-1].response_metadata["srllm_guard"])
    assert joined(out).content == STORY and "engine exploded" in record.error
    (span,) = record.spans
    assert (span.start, span.end, span.reason, span.action) == (0, len(STORY), "backend_error", "flag")
    assert len(backend.calls) == 1  # no later sentence was sent after the failure
    closed = list((model_of(BIASED) | make_guard(backend=RaisingBackend())).stream("hi"))
    assert joined(closed).content == "I can't provide that response."


@pytest.mark.parametrize("limit", [59, 60, 61, 75])
def test_text_beyond_max_text_chars_is_handled_by_the_fallback(limit):
    text = "All good here. " * 4 + "Unchecked tail is lazy. More tail.  "
    guard = make_guard(max_text_chars=limit, fallback="redact")
    out = list(guard.transform(iter(chunks_of(text))))
    assert_never_biased(out)
    record = AuditRecord.model_validate(out[-1].response_metadata["srllm_guard"])
    assert record.spans[-1].reason == "too_long" and record.spans[-1].end == len(text.rstrip())
    assert joined(out).content == guard.invoke(text) == record.text


@pytest.mark.parametrize("fallback", ["flag", "redact"])
def test_any_chunking_gives_what_invoke_gives(fallback):
    rng = random.Random(7)
    texts = [STORY, "Dr. Smith said e.g. this, in the U.S. too! Pi is 3.14 ok.\n- item lazy? \"Yes.\" End",
             "word " * 30 + "lazy " + "word " * 30 + "end. Next lazy one.  \n\n  Trailing  ",
             "Wait... what?! He said \"lazy.\" Then (he left.) ok 完了。 lazy ok"]
    for text in texts:
        for limits in ({}, {"max_sentence_chars": 32}, {"max_text_chars": 70}):
            guard = make_guard(fallback=fallback, **limits)
            expected = guard.invoke(text)
            for _ in range(4):
                cuts = sorted(rng.sample(range(1, len(text)), rng.randint(1, 20)))
                parts = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)])]
                out = list(guard.transform(iter([AIMessageChunk(content=p, id="r") for p in parts])))
                assert joined(out).content == expected, parts


def test_astream_matches_stream_and_astream_events_show_the_guard_but_not_the_backend():
    class LangChainInside(FakeBackend):
        def check(self, text, **kw):
            RunnableLambda(lambda x: x, name="internal").invoke(text)
            return super().check(text, **kw)

    async def main():
        streamed = [c async for c in (model_of(STORY) | make_guard()).astream("hi")]
        events = [e async for e in (model_of(STORY) | make_guard(backend=LangChainInside())).astream_events(
            "hi", version="v2")]
        return streamed, events

    streamed, events = asyncio.run(main())
    assert_never_biased(streamed)
    assert joined(streamed).content == joined(list((model_of(STORY) | make_guard()).stream("hi"))).content
    names = {e["name"] for e in events}
    assert "SRGuard" in names and "internal" not in names
    guard_chunks = [e["data"]["chunk"] for e in events if e["event"] == "on_chain_stream" and e["name"] == "SRGuard"]
    assert len(guard_chunks) > 2
    assert_never_biased(guard_chunks)


def test_batch_and_abatch():
    guard = make_guard()
    assert guard.batch([BIASED, "Fine."]) == [REWRITTEN, "Fine."]
    assert asyncio.run(guard.abatch([BIASED, "Fine."])) == [REWRITTEN, "Fine."]


class BrokenModel(GenericFakeChatModel):
    """Streams its message, then raises after ``fail_after`` chunks."""

    fail_after: int = 10

    def _stream(self, *args, **kwargs):
        for index, chunk in enumerate(super()._stream(*args, **kwargs)):
            if index == self.fail_after:
                raise RuntimeError("model crashed")
            yield chunk

    async def _astream(self, *args, **kwargs):
        for chunk in self._stream(*args, **kwargs):
            yield chunk


def test_a_stream_that_fails_midway_keeps_released_text_consistent_with_the_audit():
    records = []
    guard = make_guard(audit_hook=records.append)
    text = "First one is fine. People from there are lazy. Third one never arrives complete."
    released = []
    with pytest.raises(RuntimeError, match="model crashed"):
        for chunk in (BrokenModel(messages=iter([text]), fail_after=19) | guard).stream("hi"):
            released.append(chunk)
    (record,) = records
    assert "".join(c.content for c in released) == record.text == "First one is fine. People from there are kind."
    assert record.original.startswith(record.text.replace("kind", "lazy")) and "model crashed" in record.error
    assert_never_biased(released)

    async def amain():
        got = []
        with pytest.raises(RuntimeError, match="model crashed"):
            async for chunk in (BrokenModel(messages=iter([text]), fail_after=19) | guard).astream("hi"):
                got.append(chunk)
        return got

    records.clear()
    got = asyncio.run(amain())
    assert "".join(c.content for c in got) == records[0].text and len(records) == 1
    assert joined(list((model_of(BIASED) | guard).stream("hi"))).content == REWRITTEN  # nothing stuck


def settle(baseline: int, deadline: float = 3.0) -> int:
    stop = time.monotonic() + deadline
    while threading.active_count() > baseline and time.monotonic() < stop:
        time.sleep(0.02)
    return threading.active_count()


def test_a_consumer_that_stops_early_leaks_nothing():
    records = []
    guard = make_guard(audit_hook=records.append)
    baseline = threading.active_count()
    stream = (model_of(STORY) | guard).stream("hi")
    for chunk in stream:
        assert chunk.content == "The sky is blue today."
        break
    stream.close()
    assert settle(baseline) <= baseline
    (record,) = records
    assert record.text == "The sky is blue today." and "closed" in record.error
    assert joined(list((model_of(BIASED) | guard).stream("hi"))).content == REWRITTEN


def test_a_cancelled_async_stream_frees_the_model():
    class Slow(FakeBackend):
        def __init__(self):
            super().__init__()
            self.entered = threading.Event()

        def check(self, text, **kw):
            with self._lock:  # the "model lock": held for the whole call
                self.entered.set()
                time.sleep(0.2)
            return super().check(text, **kw)

    backend = Slow()
    records = []
    guard = make_guard(backend=backend, audit_hook=records.append)
    baseline = threading.active_count()

    async def main():
        async def consume():
            return [c async for c in (model_of(STORY) | guard).astream("hi")]

        task = asyncio.create_task(consume())
        while not backend.entered.is_set():
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return await guard.ainvoke(BIASED)

    assert asyncio.run(main()) == REWRITTEN  # the model lock was released: a following call works
    assert settle(baseline) <= baseline
    assert len(records) == 2 and records[0].error == "stream cancelled" and records[0].text == ""


def test_async_calls_are_bounded_by_max_concurrency_and_do_not_block_the_loop():
    class Counting(FakeBackend):
        def __init__(self):
            super().__init__()
            self.now = self.peak = 0

        def check(self, text, **kw):
            with self._lock:
                self.now += 1
                self.peak = max(self.peak, self.now)
            time.sleep(0.05)
            with self._lock:
                self.now -= 1
            return super().check(text, **kw)

    async def main(backend, limit):
        ticks = 0

        async def ticker():
            nonlocal ticks
            while True:
                await asyncio.sleep(0.005)
                ticks += 1

        guard = make_guard(backend=backend, max_concurrency=limit)
        task = asyncio.create_task(ticker())
        outs = await asyncio.gather(*(guard.ainvoke(f"Sentence {i} is fine.") for i in range(6)))
        task.cancel()
        return outs, ticks

    bounded, unbounded = Counting(), Counting()
    outs, ticks = asyncio.run(main(bounded, 2))
    assert outs == [f"Sentence {i} is fine." for i in range(6)] and ticks > 10
    assert bounded.peak == 2
    asyncio.run(main(unbounded, None))
    assert unbounded.peak > 2


def test_the_backend_never_streams_into_the_users_stream():
    class Chatty(FakeBackend):
        def check(self, text, **kw):
            list(GenericFakeChatModel(messages=iter(["internal tokens lazy"])).stream("x"))
            return Check(score=0.1)

    async def main():
        return [e async for e in (model_of("Hello there. Bye now.") | make_guard(backend=Chatty())).astream_events(
            "hi", version="v2")]

    events = asyncio.run(main())
    tokens = [e["data"]["chunk"].content for e in events if e["event"] == "on_chat_model_stream"]
    assert "internal" not in tokens and "Hello" in tokens
