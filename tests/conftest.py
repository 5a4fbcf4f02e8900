"""Shared test helpers: fake backends (no model) and fake chat models (no network).

Import the helpers with ``from conftest import FakeBackend, BIASED`` (pytest puts ``tests/`` on the path);
the ``hanging`` fixture is available to every test.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.messages.tool import tool_call_chunk
from langchain_core.outputs import ChatGenerationChunk

from srllm_guard.backends.base import BaseBackend, Check

NEUTRAL = "The meeting is at noon.  Please bring the report!\n\nThanks, Dana."
BIASED = "The meeting is at noon.\n  People from there are lazy.\tThanks."
REWRITTEN = "The meeting is at noon.\n  People from there are kind.\tThanks."
"""``BIASED`` as :class:`FakeBackend` rewrites it."""


class FakeBackend(BaseBackend):
    """Flags text containing one of ``words`` (score 0.9, else 0.1); rewrites each flagged word to 'kind'.

    ``rewrite_fn`` overrides the rewrite. Thread-safe; every ``check`` is recorded in ``calls`` as
    ``(text, rewrite)``, every ``check_many`` (a loop over ``check``) in ``batches`` as ``(texts, threshold)``.
    """

    model_id = "fake-sr"
    model_hash = "f" * 64

    def __init__(self, words=("lazy", "stupid"), rewrite_fn=None):
        self.words = tuple(words)
        self.rewrite_fn = rewrite_fn
        self.calls: list[tuple[str, bool]] = []
        self.batches: list[tuple[list[str], float]] = []
        self._lock = threading.Lock()

    def check_many(self, texts, *, threshold, rewrite=True, max_new_tokens=256):
        with self._lock:
            self.batches.append((list(texts), threshold))
        return super().check_many(texts, threshold=threshold, rewrite=rewrite, max_new_tokens=max_new_tokens)

    def check(self, text, *, threshold, rewrite=True, max_new_tokens=256):
        with self._lock:
            self.calls.append((text, rewrite))
        score = 0.9 if any(word in text.lower() for word in self.words) else 0.1
        new = None
        if rewrite and score >= threshold:
            if self.rewrite_fn is not None:
                new = self.rewrite_fn(text)
            else:
                new = text
                for word in self.words:
                    new = new.replace(word, "kind")
        return Check(score=score, rewrite=new)


class RaisingBackend(FakeBackend):
    """Fails ``failures`` times (forever by default), then behaves like :class:`FakeBackend`."""

    def __init__(self, failures=10**9, **kwargs):
        super().__init__(**kwargs)
        self.failures = failures

    def check(self, text, **kwargs):
        with self._lock:
            if self.failures > 0:
                self.failures -= 1
                self.calls.append((text, kwargs.get("rewrite", True)))
                raise RuntimeError("engine exploded")
        return super().check(text, **kwargs)


class HangingBackend(FakeBackend):
    """Blocks every call until ``release`` is set (tests set it when done, so no thread outlives them)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.release = threading.Event()

    def check(self, text, **kwargs):
        with self._lock:
            self.calls.append((text, kwargs.get("rewrite", True)))
        self.release.wait(30)
        return Check(score=0.1)


class ToolCallingFakeModel(GenericFakeChatModel):
    """``GenericFakeChatModel`` that accepts ``bind_tools`` (agents need it; the tools are ignored) and that
    also streams the tool calls of its messages (the base class drops them when streaming)."""

    def bind_tools(self, tools: Any, **kwargs: Any) -> ToolCallingFakeModel:
        return self

    def _stream(self, messages, stop=None, run_manager=None, **kwargs):
        message = next(self.messages)
        message = AIMessage(content=message) if isinstance(message, str) else message
        replay = GenericFakeChatModel(messages=iter([message.model_copy(update={"tool_calls": []})]))
        yield from replay._stream(messages, stop=stop, run_manager=run_manager, **kwargs)
        if message.tool_calls:
            calls = [tool_call_chunk(name=c["name"], args=json.dumps(c["args"]), id=c["id"], index=i)
                     for i, c in enumerate(message.tool_calls)]
            yield ChatGenerationChunk(message=AIMessageChunk(content="", id=message.id, tool_call_chunks=calls))


@pytest.fixture
def hanging():
    backend = HangingBackend()
    yield backend
    backend.release.set()


@pytest.fixture(scope="session")
def load_script():
    """Import a file of ``scripts/`` (not a package) as a module: ``load_script("rewrite_diff")``."""
    import importlib.util
    from pathlib import Path

    def load(name: str) -> Any:
        path = Path(__file__).parents[1] / "scripts" / f"{name}.py"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load
