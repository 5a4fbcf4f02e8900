"""SRGuardMiddleware in a real ``create_agent`` agent (fake tool-calling model, fake backend)."""

from __future__ import annotations

import asyncio
import importlib
import sys

import pytest
from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.tools import tool

from conftest import FakeBackend, ToolCallingFakeModel
from srllm_guard import SRGuard
from srllm_guard.errors import ConfigError, MissingDependencyError

create_agent = pytest.importorskip("langchain.agents", reason="needs the agents extra").create_agent
from srllm_guard.middleware import SRGuardMiddleware  # noqa: E402 - after the skip

CALLS = [{"name": "lookup", "args": {"city": "Oslo"}, "id": "call-1", "type": "tool_call"}]
PROMPT = {"messages": [("user", "Tell me about Oslo.")]}


@tool
def lookup(city: str) -> str:
    """Facts about a city."""
    return f"{city} has many parks."


def agent(**middleware_kwargs):
    model = ToolCallingFakeModel(messages=iter([
        AIMessage(content="Let me look. People there are lazy.", tool_calls=CALLS),
        AIMessage(content="Oslo has many parks. People from there are lazy."),
    ]))
    guard = SRGuardMiddleware(backend=FakeBackend(), retries=0, timeout_s=5, **middleware_kwargs)
    return create_agent(model, tools=[lookup], middleware=[guard])


def check_answer(messages, *, every_turn=False):
    first, tool_result, final = messages[1:]
    assert first.tool_calls == CALLS  # tool calls are never touched
    assert first.content == "Let me look. People there are " + ("kind." if every_turn else "lazy.")
    assert isinstance(tool_result, ToolMessage) and tool_result.content == "Oslo has many parks."
    assert final.content == "Oslo has many parks. People from there are kind." and not final.tool_calls
    assert final.response_metadata["srllm_guard"]["action"] == "rewrite"


def test_final_answer_is_rewritten_sync_and_async():
    check_answer(agent().invoke(PROMPT)["messages"])
    check_answer(asyncio.run(agent().ainvoke(PROMPT))["messages"])


def test_every_turn_guards_text_and_keeps_tool_calls():
    check_answer(agent(guard_every_turn=True).invoke(PROMPT)["messages"], every_turn=True)
    check_answer(asyncio.run(agent(guard_every_turn=True).ainvoke(PROMPT))["messages"], every_turn=True)


def test_messages_stream_shows_the_guarded_answer_not_raw_tokens():
    events = list(agent().stream(PROMPT, stream_mode="messages"))
    texts = [message.content for message, _ in events]
    assert texts[-1] == "Oslo has many parks. People from there are kind."
    assert not any("from there are lazy" in text for text in texts)
    raw = [message.content for message, _ in agent(hide_model_tokens=False).stream(PROMPT, stream_mode="messages")]
    assert "lazy." in raw  # with the model's tokens shown, they are unchecked: that is the trade-off


def test_settings_errors():
    with pytest.raises(ConfigError, match="wrapped chain"):
        SRGuardMiddleware(SRGuard(lambda x: x, backend=FakeBackend()))
    with pytest.raises(ConfigError, match="not both"):
        SRGuardMiddleware(SRGuard(backend=FakeBackend()), threshold=0.3)
    assert SRGuardMiddleware(threshold=0.3).guard.config.threshold == 0.3


def test_without_langchain_the_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "langchain.agents.middleware.types", None)
    monkeypatch.delitem(sys.modules, "srllm_guard.middleware")
    with pytest.raises(MissingDependencyError, match=r"pip install 'srllm-guard\[agents\]'"):
        importlib.import_module("srllm_guard.middleware")
