"""SRGuard as a LangChain Runnable, on fake backends and fake chat models (no model, no network)."""

from __future__ import annotations

import asyncio
import gc
import time
import weakref
from concurrent.futures import ThreadPoolExecutor

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel, GenericFakeChatModel
from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.runnables import RunnableLambda

import srllm_guard.guard as guard_module
from conftest import BIASED, NEUTRAL, REWRITTEN, FakeBackend, RaisingBackend
from srllm_guard import AuditRecord, GuardConfig, SRGuard
from srllm_guard.backends import registry
from srllm_guard.backends.base import Check
from srllm_guard.errors import ConfigError


def make_guard(runnable=None, backend=None, **kw) -> SRGuard:
    return SRGuard(runnable, backend=backend or FakeBackend(), **{"retries": 0, "timeout_s": 5, **kw})


class Runs(BaseCallbackHandler):
    """Records (event, name, run_id, parent_run_id) of every chain and chat-model start."""

    def __init__(self):
        self.events = []

    def on_chain_start(self, serialized, inputs, *, run_id, parent_run_id=None, **kw):
        self.events.append(("chain", kw.get("name"), run_id, parent_run_id))

    def on_chat_model_start(self, serialized, messages, *, run_id, parent_run_id=None, **kw):
        self.events.append(("chat_model", kw.get("name"), run_id, parent_run_id))


def test_ai_message_in_ai_message_out_with_everything_else_kept():
    message = AIMessage(
        content=BIASED, id="run-1", additional_kwargs={"x": 1}, response_metadata={"model": "m"},
        tool_calls=[{"name": "search", "args": {"q": "a"}, "id": "call-1"}],
        usage_metadata={"input_tokens": 3, "output_tokens": 5, "total_tokens": 8},
    )
    out = make_guard().invoke(message)
    assert type(out) is AIMessage and out.content == REWRITTEN
    assert (out.id, out.tool_calls, out.usage_metadata, out.additional_kwargs) == (
        message.id, message.tool_calls, message.usage_metadata, message.additional_kwargs)
    assert out.response_metadata["model"] == "m"
    record = AuditRecord.model_validate(out.response_metadata["srllm_guard"])
    assert record.action == "rewrite" and record.original == BIASED and record.text == REWRITTEN
    assert message.content == BIASED  # the input was not mutated


def test_chunk_in_chunk_out_and_neutral_is_byte_identical():
    out = make_guard().invoke(AIMessageChunk(content=NEUTRAL, id="c1"))
    assert type(out) is AIMessageChunk and out.content == NEUTRAL and out.id == "c1"
    assert out.response_metadata["srllm_guard"]["action"] == "pass"


def test_str_in_str_out_and_check_returns_the_record():
    records = []
    guard = make_guard(audit_hook=records.append)
    assert guard.invoke(BIASED) == REWRITTEN
    record = guard.check(BIASED)
    assert isinstance(record, AuditRecord) and record.text == REWRITTEN and record.original == BIASED
    assert [r.text for r in records] == [REWRITTEN, REWRITTEN]
    assert asyncio.run(guard.acheck(NEUTRAL)).action == "pass"


def test_failing_audit_hook_does_not_break_the_reply():
    def hook(record):
        raise RuntimeError("sink down")

    assert make_guard(audit_hook=hook).invoke(BIASED) == REWRITTEN


def test_wrapping_a_chat_model_runs_it_as_a_child():
    model = FakeMessagesListChatModel(responses=[AIMessage(content=BIASED)])
    runs = Runs()
    out = make_guard(model).invoke("hi", {"callbacks": [runs]})
    assert out.content == REWRITTEN
    (guard_run, *_), (model_run,) = [e for e in runs.events if e[0] == "chain"], \
        [e for e in runs.events if e[0] == "chat_model"]
    assert guard_run[1] == "SRGuard" and guard_run[3] is None
    assert model_run[3] == guard_run[2]


def test_backend_runnables_do_not_leak_callbacks_into_the_users_run():
    class LangChainInside(FakeBackend):
        def check(self, text, **kw):
            RunnableLambda(lambda x: x, name="internal").invoke(text)
            return super().check(text, **kw)

    runs = Runs()
    assert make_guard(backend=LangChainInside()).invoke(BIASED, {"callbacks": [runs]}) == REWRITTEN
    assert [e[1] for e in runs.events] == ["SRGuard"]

    async def main():
        return await make_guard(backend=LangChainInside()).ainvoke(BIASED, {"callbacks": [runs]})

    runs.events.clear()
    assert asyncio.run(main()) == REWRITTEN and [e[1] for e in runs.events] == ["SRGuard"]


def test_pipe_after_a_streaming_model():
    model = GenericFakeChatModel(messages=iter([AIMessage(content=BIASED)]))
    chain = model | make_guard()
    chunks = list(chain.stream("hi"))
    assert "".join(c.content for c in chunks) == REWRITTEN
    assert chunks[-1].response_metadata["srllm_guard"]["action"] == "rewrite"


def test_list_content_parts_one_record_with_part_indexes():
    image = {"type": "image", "url": "https://example.com/a.png"}
    message = AIMessage(content=[{"type": "text", "text": "Hello there."}, image, "They are lazy. Bye."])
    out = make_guard().invoke(message)
    assert out.content[1] is image or out.content[1] == image
    assert out.content[0] == {"type": "text", "text": "Hello there."}
    assert out.content[2] == "They are kind. Bye."
    record = out.response_metadata["srllm_guard"]
    assert record["original"] == "Hello there.They are lazy. Bye."
    assert [(s["part"], s["start"], s["end"]) for s in record["spans"]] == [(2, 0, 14)]


def test_refusal_replaces_list_content():
    message = AIMessage(content=[{"type": "text", "text": "They are lazy."}, {"type": "image", "url": "u"}])
    out = make_guard(backend=FakeBackend(rewrite_fn=lambda t: t + " lazy"), fallback="refuse").invoke(message)
    assert out.content == [{"type": "text", "text": "I can't provide that response."}]


def test_tool_calls_only_message_passes_untouched_without_building_a_backend(monkeypatch):
    monkeypatch.setattr(guard_module, "build_backend", lambda config: pytest.fail("no backend needed"))
    message = AIMessage(content="", tool_calls=[{"name": "f", "args": {}, "id": "t1"}])
    out = SRGuard().invoke(message)
    assert out.content == "" and out.tool_calls == message.tool_calls
    assert out.response_metadata["srllm_guard"]["action"] == "pass"


@pytest.mark.parametrize("policy, expected", [("fail_open", BIASED), ("fail_closed", "I can't provide that response.")])
def test_backend_that_raises_applies_policy(policy, expected):
    out = make_guard(backend=RaisingBackend(), on_backend_error=policy).invoke(AIMessage(content=BIASED))
    assert out.content == expected
    assert "engine exploded" in out.response_metadata["srllm_guard"]["error"]


def test_hanging_async_backend_does_not_block_the_event_loop():
    class SlowAsync(FakeBackend):
        async def acheck(self, text, **kw):
            await asyncio.sleep(10)

    async def main():
        ticks = 0

        async def ticker():
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        task = asyncio.create_task(ticker())
        started = time.perf_counter()
        out = await make_guard(backend=SlowAsync(), timeout_s=0.3, on_backend_error="fail_open").ainvoke(BIASED)
        task.cancel()
        return out, time.perf_counter() - started, ticks

    out, elapsed, ticks = asyncio.run(main())
    assert out == BIASED and elapsed < 1.3 and ticks > 5


def test_ainvoke_wraps_a_model():
    model = FakeMessagesListChatModel(responses=[AIMessage(content=BIASED, id="m1")])
    out = asyncio.run(make_guard(model).ainvoke("hi"))
    assert out.content == REWRITTEN and out.id == "m1"


def test_eight_threads_share_one_guard():
    guard = make_guard()
    inputs = [BIASED if i % 2 else NEUTRAL + f" #{i}" for i in range(32)]
    with ThreadPoolExecutor(8) as pool:
        outputs = list(pool.map(guard.invoke, inputs))
    assert outputs == [REWRITTEN if i % 2 else NEUTRAL + f" #{i}" for i in range(32)]
    assert guard.batch([BIASED, NEUTRAL]) == [REWRITTEN, NEUTRAL]


def test_backend_is_built_lazily_once_and_shared(monkeypatch):
    built = []

    def factory(config):
        built.append(config)
        time.sleep(0.05)
        return FakeBackend()

    monkeypatch.setattr(guard_module, "build_backend", factory)
    guard = SRGuard(retries=0)
    assert built == []
    assert guard.invoke("   ") == "   " and built == []
    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(guard.invoke, [BIASED] * 8)) == {REWRITTEN}
    assert len(built) == 1


def test_build_backend_names_and_sharing(monkeypatch):
    with pytest.raises(ConfigError, match="unknown backend"):
        guard_module.build_backend(GuardConfig(backend="nope"))
    monkeypatch.setattr(registry, "_shared", weakref.WeakValueDictionary())
    config = GuardConfig(backend=f"{__name__}:FakeFromConfig", model_path="m.gguf")
    first = guard_module.build_backend(config)
    assert first is guard_module.build_backend(GuardConfig(backend=config.backend, model_path="m.gguf"))
    assert first.kwargs == {"model_path": "m.gguf", "adapter_path": "default", "n_threads": None}


def test_close_lets_the_model_go_once_no_guard_shares_it(monkeypatch):
    monkeypatch.setattr(registry, "_shared", weakref.WeakValueDictionary())
    config = GuardConfig(backend=f"{__name__}:FakeFromConfig", model_path="close.gguf", retries=0)
    with SRGuard(config=config) as first, SRGuard(config=config) as second:
        assert first.invoke(BIASED) == REWRITTEN and second.invoke(BIASED) == REWRITTEN
        shared = first._current_backend()
        assert shared is second._current_backend()
        alive = weakref.ref(shared)
        del shared
        first.close()
        gc.collect()
        assert alive() is not None  # the second guard still uses it
    gc.collect()
    assert alive() is None and len(registry._shared) == 0  # nothing keeps a closed guard's model loaded
    assert first.invoke(BIASED) == REWRITTEN  # a closed guard loads again on its next call


class FakeFromConfig(FakeBackend):
    def __init__(self, **kwargs):
        super().__init__()
        self.kwargs = kwargs


def test_config_overrides_and_errors():
    base = GuardConfig(threshold=0.7, fallback="refuse")
    guard = SRGuard(config=base, backend=FakeBackend(), timeout_s=2)
    assert (guard.config.threshold, guard.config.fallback, guard.config.timeout_s) == (0.7, "refuse", 2)
    assert guard.config.recheck_at == 0.7
    with pytest.raises(ConfigError, match="threshold"):
        SRGuard(threshold=2)
    with pytest.raises(ConfigError, match="thresold"):
        SRGuard(thresold=0.4)
    with pytest.raises(ConfigError, match="str or a message"):
        make_guard().invoke({"answer": BIASED})
    assert "audit_hook" not in GuardConfig(audit_hook=print).model_dump()


def test_positional_function_is_coerced_and_types_follow_the_chain():
    guard = make_guard(lambda x: x["text"])
    assert guard.invoke({"text": BIASED}) == REWRITTEN


def test_invalid_check_result_is_handled():
    class Weird(FakeBackend):
        def check(self, text, **kw):
            return Check(score=7.0)

    out = make_guard(backend=Weird(), on_backend_error="fail_open").invoke("Hi there.")
    assert out == "Hi there."
