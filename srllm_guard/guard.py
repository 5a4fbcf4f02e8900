"""``SRGuard``: a Runnable that guards the text of any chain's output with SR-LLM.

Two ways to place it::

    guarded = SRGuard(chat_model)          # wraps the chain; it runs as the guard's child run
    guarded = chat_model | SRGuard()       # post-processes whatever flows into it

The output has the type of the input: a ``str`` stays a ``str``; an ``AIMessage`` (or chunk) comes back as
a copy whose text was guarded, with ``id``, ``tool_calls``, ``usage_metadata`` and ``additional_kwargs`` kept
and the :class:`~srllm_guard.audit.AuditRecord` under ``response_metadata["srllm_guard"]``. With list
content, text parts are guarded one by one and every other part (images, tool blocks) is left as it is.
For plain strings, :meth:`SRGuard.check` returns the record and ``audit_hook`` receives it.

``stream``/``astream`` and ``transform``/``atransform`` (so ``chain | SRGuard()`` streams too) release the
text sentence by sentence, each one checked before it is released (see :mod:`srllm_guard.stream`); the
last chunk carries the record of the whole stream. ``batch``/``abatch`` are LangChain's, over the native
``invoke``/``ainvoke``. Async calls never block the event loop: the model runs in worker threads, at most
``config.max_concurrency`` texts at a time per guard and event loop. The backend's own runs (if it uses
LangChain inside) never reach the caller's callbacks or stream.

The guard keeps no per-call state: one instance may serve many threads and tasks at once.
"""

from __future__ import annotations

import asyncio
import threading
import time
import weakref
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any, Union

from langchain_core.messages import BaseMessage
from langchain_core.runnables import Runnable, RunnableConfig, RunnableSerializable
from langchain_core.runnables.base import coerce_to_runnable
from langchain_core.runnables.config import patch_config
from pydantic import ConfigDict, Field, PrivateAttr, ValidationError

from srllm_guard.audit import AuditRecord, emit
from srllm_guard.backends.base import Backend
from srllm_guard.backends.registry import BUILTIN_BACKENDS, build_backend
from srllm_guard.config import GuardConfig, settings_error
from srllm_guard.errors import ConfigError
from srllm_guard.faithfulness import FaithfulnessScorer
from srllm_guard.pipeline import aguard_text, aprocess, guard_text, process
from srllm_guard.policy import Processed, make_record, returned_text
from srllm_guard.stream import aguard_stream, guard_stream

__all__ = ["SRGuard", "BACKENDS", "build_backend"]

BACKENDS: dict[str, str] = BUILTIN_BACKENDS
"""Built-in backend names accepted by ``GuardConfig.backend``, and the class each one builds; entry points in
the ``srllm_guard.backends`` group add more (``srllm_guard.backends.registry.available_backends()``)."""

_Texts = list[tuple[Union[int, None], str]]


def _content(value: Any) -> str | list[Any]:
    if isinstance(value, str):
        return value
    if isinstance(value, BaseMessage) and isinstance(value.content, (str, list)):
        return value.content
    raise ConfigError(
        f"SRGuard guards a str or a message, got {type(value).__name__}: place it right after the model or an "
        "output parser that yields text (e.g. `model | SRGuard()`)"
    )


def _text_parts(content: str | list[Any]) -> _Texts:
    """``(part index, text)`` of every text part; the index is ``None`` for plain string content."""
    if isinstance(content, str):
        return [(None, content)]
    parts: _Texts = []
    for index, part in enumerate(content):
        if isinstance(part, str):
            parts.append((index, part))
        elif isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str):
            parts.append((index, part["text"]))
    return parts


class _Slots:
    """At most ``limit`` texts in the backend at once: a thread semaphore, and one asyncio semaphore per
    event loop (an ``asyncio.Semaphore`` belongs to the loop it first waits on)."""

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self._threads = threading.BoundedSemaphore(limit) if limit else None
        self._loops: weakref.WeakKeyDictionary[Any, asyncio.Semaphore] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    @contextmanager
    def hold(self) -> Iterator[None]:
        if self._threads is None:
            yield
            return
        with self._threads:
            yield

    @asynccontextmanager
    async def ahold(self) -> AsyncIterator[None]:
        if not self.limit:
            yield
            return
        loop = asyncio.get_running_loop()
        with self._lock:
            semaphore = self._loops.get(loop)
            if semaphore is None:
                semaphore = self._loops[loop] = asyncio.Semaphore(self.limit)
        async with semaphore:
            yield


class SRGuard(RunnableSerializable[Any, Any]):
    """Detect biased text in a chain's output and return benign rewrites that keep its meaning.

    Args:
        runnable: the chain to wrap (optional; positional). Without it the guard checks its own input.
        config: a :class:`GuardConfig`; keyword ``config_overrides`` (``threshold=0.6``, ...) adjust it.
        backend: a ready :class:`~srllm_guard.backends.base.Backend`; otherwise one is built from
            ``config`` on first use and shared with every guard of the same model settings.
        faithfulness: a rewrite faithfulness check (:mod:`srllm_guard.faithfulness`), the folder of one to
            load, or ``True`` for the shipped one; a rewrite it scores below ``min_faithfulness`` is not used.
            Off by default; needs the ``[faithful]`` extra (torch).
    """

    runnable: Union[Runnable, None] = None
    """The wrapped chain; ``None`` guards the guard's input (``chain | SRGuard()``)."""
    config: GuardConfig = Field(default_factory=GuardConfig)
    """Thresholds, policies, limits and model settings."""
    backend: Union[Backend, None] = Field(default=None, exclude=True)
    """The model backend; ``None`` builds one from ``config`` on first use."""
    faithfulness: Union[FaithfulnessScorer, None] = Field(default=None, exclude=True)
    """The rewrite faithfulness check; ``None``: rewrites are judged by the re-check and drift only."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    _built: Union[Backend, None] = PrivateAttr(default=None)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    _slots: _Slots = PrivateAttr()  # set in model_post_init, sized by the config

    def __init__(
        self,
        runnable: Any = None,
        *,
        config: GuardConfig | None = None,
        backend: Backend | None = None,
        faithfulness: FaithfulnessScorer | str | Path | bool | None = None,
        **config_overrides: Any,
    ) -> None:
        if faithfulness is False:
            faithfulness = None
        if isinstance(faithfulness, (str, Path)) or faithfulness is True:
            from srllm_guard.faithfulness import FaithfulnessCheck

            faithfulness = FaithfulnessCheck.load("default" if faithfulness is True else faithfulness)
        try:
            merged = (config or GuardConfig()).merged(**config_overrides)
            if runnable is not None and not isinstance(runnable, Runnable):
                runnable = coerce_to_runnable(runnable)
            super().__init__(runnable=runnable, config=merged, backend=backend,  # type: ignore[call-arg]
                             faithfulness=faithfulness)
        except ValidationError as exc:
            raise settings_error(exc) from exc

    def model_post_init(self, context: Any) -> None:
        super().model_post_init(context)
        self._slots = _Slots(self.config.max_concurrency)

    @property
    def InputType(self) -> Any:  # noqa: N802 - LangChain's name
        return self.runnable.InputType if self.runnable is not None else Union[str, BaseMessage]

    @property
    def OutputType(self) -> Any:  # noqa: N802 - LangChain's name
        return self.runnable.OutputType if self.runnable is not None else Union[str, BaseMessage]

    @property
    def config_specs(self) -> list[Any]:
        return self.runnable.config_specs if self.runnable is not None else []

    # --- the backend ----------------------------------------------------------------------------------

    def _get_backend(self) -> Backend:
        if self.backend is not None:
            return self.backend
        if self._built is None:
            with self._lock:
                if self._built is None:
                    self._built = build_backend(self.config)
        return self._built

    def _current_backend(self) -> Backend | None:
        return self.backend or self._built

    def _needs_model(self, texts: _Texts) -> bool:
        return any(text and not text.isspace() for _, text in texts)

    def _process(
        self, text: str, backend: Backend | None, config: GuardConfig, part: int | None = None
    ) -> Processed:
        with self._slots.hold():
            return process(text, backend, config, part=part, faithfulness=self.faithfulness)

    async def _aprocess(
        self, text: str, backend: Backend | None, config: GuardConfig, part: int | None = None
    ) -> Processed:
        async with self._slots.ahold():
            return await aprocess(text, backend, config, part=part, faithfulness=self.faithfulness)

    async def _aget_backend(self) -> Backend:
        current = self._current_backend()
        return current if current is not None else await asyncio.to_thread(self._get_backend)  # loading must not block

    def _check_segment(self, text: str, config: GuardConfig) -> Processed:
        return self._process(text, self._get_backend(), config)

    async def _acheck_segment(self, text: str, config: GuardConfig) -> Processed:
        return await self._aprocess(text, await self._aget_backend(), config)

    # --- lifecycle -------------------------------------------------------------------------------------

    def close(self) -> None:
        """Let go of the model this guard built: it is freed once no other guard shares it. A backend passed
        as ``backend=`` stays the caller's to close. The guard stays usable (the next call loads again)."""
        with self._lock:
            self._built = None

    def __enter__(self) -> SRGuard:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    # --- Python API ------------------------------------------------------------------------------------

    def check(self, text: str) -> AuditRecord:
        """Guard ``text``; the guarded text is ``record.text``. The record also goes to ``audit_hook``."""
        if not isinstance(text, str):
            raise ConfigError(f"check() takes a str, got {type(text).__name__}")
        backend = self._get_backend() if self._needs_model([(None, text)]) else self._current_backend()
        with self._slots.hold():
            record = guard_text(text, backend, self.config, faithfulness=self.faithfulness)
        return emit(record, self.config.audit_hook)

    async def acheck(self, text: str) -> AuditRecord:
        """Async twin of :meth:`check`."""
        if not isinstance(text, str):
            raise ConfigError(f"acheck() takes a str, got {type(text).__name__}")
        backend = await self._aget_backend() if self._needs_model([(None, text)]) else self._current_backend()
        async with self._slots.ahold():
            record = await aguard_text(text, backend, self.config, faithfulness=self.faithfulness)
        return emit(record, self.config.audit_hook)

    # --- Runnable API ----------------------------------------------------------------------------------

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        return self._call_with_config(self._invoke, input, config, **kwargs)

    async def ainvoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        return await self._acall_with_config(self._ainvoke, input, config, **kwargs)

    def _invoke(self, input: Any, run_manager: Any, config: RunnableConfig, **kwargs: Any) -> Any:
        output = input
        if self.runnable is not None:
            output = self.runnable.invoke(input, patch_config(config, callbacks=run_manager.get_child()), **kwargs)
        return self._guard(output)

    async def _ainvoke(self, input: Any, run_manager: Any, config: RunnableConfig, **kwargs: Any) -> Any:
        output = input
        if self.runnable is not None:
            child = patch_config(config, callbacks=run_manager.get_child())
            output = await self.runnable.ainvoke(input, child, **kwargs)
        return await self._aguard(output)

    def _guard(self, output: Any) -> Any:
        """Guard one whole output (a str or a message), in its own type."""
        started = time.perf_counter()
        content = _content(output)
        texts = _text_parts(content)
        backend = self._get_backend() if self._needs_model(texts) else self._current_backend()
        results = [self._process(text, backend, self.config, index) for index, text in texts]
        return self._finish(output, content, texts, results, backend, started)

    async def _aguard(self, output: Any) -> Any:
        started = time.perf_counter()
        content = _content(output)
        texts = _text_parts(content)
        backend = await self._aget_backend() if self._needs_model(texts) else self._current_backend()
        results = [await self._aprocess(text, backend, self.config, index) for index, text in texts]
        return self._finish(output, content, texts, results, backend, started)

    # --- streaming -------------------------------------------------------------------------------------

    def stream(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Iterator[Any]:
        yield from self.transform(iter([input]), config, **kwargs)

    async def astream(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> AsyncIterator[Any]:
        async def one() -> AsyncIterator[Any]:
            yield input

        async for chunk in self.atransform(one(), config, **kwargs):
            yield chunk

    def transform(self, input: Iterator[Any], config: RunnableConfig | None = None, **kwargs: Any) -> Iterator[Any]:
        yield from self._transform_stream_with_config(input, self._transform, config, **kwargs)

    async def atransform(
        self, input: AsyncIterator[Any], config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Any]:
        async for chunk in self._atransform_stream_with_config(input, self._atransform, config, **kwargs):
            yield chunk

    def _transform(
        self, input: Iterator[Any], run_manager: Any, config: RunnableConfig, **kwargs: Any
    ) -> Iterator[Any]:
        upstream = input
        if self.runnable is not None:
            upstream = self.runnable.transform(input, patch_config(config, callbacks=run_manager.get_child()), **kwargs)
        try:
            yield from guard_stream(upstream, self.config, check=self._check_segment, whole=self._guard,
                                    backend=self._current_backend)
        finally:
            if upstream is not input and hasattr(upstream, "close"):
                upstream.close()  # a consumer that stops early stops the wrapped chain too

    async def _atransform(
        self, input: AsyncIterator[Any], run_manager: Any, config: RunnableConfig, **kwargs: Any
    ) -> AsyncIterator[Any]:
        upstream = input
        if self.runnable is not None:
            child = patch_config(config, callbacks=run_manager.get_child())
            upstream = self.runnable.atransform(input, child, **kwargs)
        guarded = aguard_stream(upstream, self.config, check=self._acheck_segment, whole=self._aguard,
                                backend=self._current_backend)
        try:
            async for chunk in guarded:
                yield chunk
        finally:
            await guarded.aclose()  # now, not when the loop collects it: the audit record goes out once, here
            if upstream is not input and hasattr(upstream, "aclose"):
                await upstream.aclose()

    def _finish(
        self, output: Any, content: str | list[Any], texts: _Texts, results: list[Processed],
        backend: Backend | None, started: float,
    ) -> Any:
        """Put the guarded text back into the output's own type and attach the audit record."""
        cfg = self.config
        refusal = returned_text(results, cfg)
        if isinstance(content, str):
            original = content
            returned = refusal if refusal is not None else results[0].text
            new_content: str | list[Any] = returned
        else:
            original = "".join(text for _, text in texts)
            if refusal is not None:
                new_content, returned = [{"type": "text", "text": refusal}], refusal
            else:
                new_content = list(content)
                for (index, _), result in zip(texts, results):
                    assert index is not None  # a list content's parts have indices
                    part = content[index]
                    new_content[index] = result.text if isinstance(part, str) else {**part, "text": result.text}
                returned = "".join(result.text for result in results)
        record = emit(make_record(original, returned, results, backend, cfg, started), cfg.audit_hook)
        if isinstance(output, str):
            return new_content
        metadata = {**output.response_metadata, "srllm_guard": record.to_metadata()}
        return output.model_copy(update={"content": new_content, "response_metadata": metadata})
