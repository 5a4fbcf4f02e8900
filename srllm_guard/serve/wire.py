"""The OpenAI wire format, both ways: server-sent events in and out, deltas <-> LangChain message chunks.

The proxy guards a streamed reply by turning each upstream ``chat.completion.chunk`` into an
``AIMessageChunk`` (content and tool-call fragments), running those through ``SRGuard.atransform`` (sentence
hold-back, the same code as a guarded LangChain stream), and writing what comes out back as chunks of the
same shape, with the upstream's ``id``, ``created`` and ``model``.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

from langchain_core.messages import AIMessageChunk
from langchain_core.messages.tool import tool_call_chunk

__all__ = ["sse_payloads", "to_chunk", "delta_of", "sse", "DONE", "error_body", "completion"]

DONE = b"data: [DONE]\n\n"


async def sse_payloads(lines: AsyncIterator[str]) -> AsyncIterator[str]:
    """The ``data`` of each server-sent event (multi-line data joined with newlines; comments skipped)."""
    data: list[str] = []
    async for line in lines:
        if not line.strip():
            if data:
                yield "\n".join(data)
                data = []
        elif line.startswith("data:"):
            data.append(line[5:].lstrip(" "))
    if data:
        yield "\n".join(data)


def to_chunk(delta: dict[str, Any]) -> AIMessageChunk:
    """An upstream ``choices[0].delta`` as a message chunk: its text and its tool-call fragments."""
    calls = []
    for c in delta.get("tool_calls") or []:
        function = c.get("function") or {}
        calls.append(tool_call_chunk(name=function.get("name"), args=function.get("arguments"), id=c.get("id"),
                                     index=c.get("index")))
    content = delta.get("content")
    return AIMessageChunk(content=content if isinstance(content, str) else "", tool_call_chunks=calls)


def delta_of(chunk: AIMessageChunk) -> dict[str, Any]:
    """The OpenAI delta of a guarded chunk (its text, and tool-call fragments in their original shape)."""
    delta: dict[str, Any] = {}
    if isinstance(chunk.content, str) and chunk.content:
        delta["content"] = chunk.content
    calls = []
    for c in chunk.tool_call_chunks:
        call: dict[str, Any] = {"index": c.get("index") if c.get("index") is not None else 0}
        if c.get("id"):
            call.update(id=c["id"], type="function")
        function = {k: v for k, v in (("name", c.get("name")), ("arguments", c.get("args"))) if v}
        if function:
            call["function"] = function
        calls.append(call)
    if calls:
        delta["tool_calls"] = calls
    return delta


def sse(meta: dict[str, Any], delta: dict[str, Any], *, finish_reason: str | None = None,
        extra: dict[str, Any] | None = None) -> bytes:
    """One ``chat.completion.chunk`` event with the upstream's ``meta`` (id, created, model, ...)."""
    body = {"id": meta.get("id", "chatcmpl-guard"), "object": "chat.completion.chunk",
            "created": meta.get("created", int(time.time())), "model": meta.get("model", ""),
            **{k: v for k, v in meta.items() if k not in ("id", "object", "created", "model")},
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}], **(extra or {})}
    return b"data: " + json.dumps(body, ensure_ascii=False).encode("utf-8") + b"\n\n"


def error_body(message: str, *, type: str = "invalid_request_error", code: str | None = None) -> dict[str, Any]:
    """An OpenAI-style error object."""
    return {"error": {"message": message, "type": type, "param": None, "code": code}}


def completion(content: str, *, model: str = "srllm-guard") -> dict[str, Any]:
    """A whole ``chat.completion`` with one assistant message (the ``refuse`` answer to a failed upstream)."""
    return {"id": f"chatcmpl-guard-{int(time.time() * 1000)}", "object": "chat.completion", "created": int(time.time()),
            "model": model, "choices": [{"index": 0, "finish_reason": "stop",
                                         "message": {"role": "assistant", "content": content}}]}
