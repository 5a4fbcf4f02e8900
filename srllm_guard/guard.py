"""``SRGuard``: a Runnable that guards the text of any chain's output with SR-LLM.

Two ways to place it::

    guarded = SRGuard(chat_model)          # wraps the chain; it runs as the guard's child run
    guarded = chat_model | SRGuard()       # post-processes whatever flows into it

The output has the type of the input: a ``str`` stays a ``str``; an ``AIMessage`` (or chunk) comes back as
a copy whose text was guarded, with ``id``, ``tool_calls``, ``usage_metadata`` and ``additional_kwargs`` kept
and the :class:`~srllm_guard.audit.AuditRecord` under ``response_metadata["srllm_guard"]``. With list
content, text parts are guarded one by one and every other part (images, tool blocks) is left as it is.
For plain strings, :meth:`SRGuard.check` returns the record and ``audit_hook`` receives it.

The guard keeps no per-call state: one instance may serve many threads and tasks at once.
"""

from __future__ import annotations

import asyncio
import importlib
import threading
import time
from typing import Any, Union

from langchain_core.messages import BaseMessage
from langchain_core.runnables import Runnable, RunnableConfig, RunnableSerializable
from langchain_core.runnables.base import coerce_to_runnable
from langchain_core.runnables.config import patch_config
from pydantic import ConfigDict, Field, PrivateAttr, ValidationError

from srllm_guard.audit import AuditRecord, emit
from srllm_guard.backends.base import Backend
from srllm_guard.config import GuardConfig
from srllm_guard.errors import ConfigError, MissingDependencyError
from srllm_guard.pipeline import Processed, aguard_text, aprocess, guard_text, make_record, process

__all__ = ["SRGuard", "BACKENDS", "build_backend"]

BACKENDS: dict[str, str] = {"llamacpp": "srllm_guard.backends.llamacpp:LlamaCppBackend"}
"""Backend names accepted by ``GuardConfig.backend``, and the class each one builds."""

_shared: dict[tuple[Any, ...], Backend] = {}
_shared_lock = threading.Lock()

_Texts = list[tuple[Union[int, None], str]]


def build_backend(config: GuardConfig) -> Backend:
    """The backend ``config`` names, built once per ``config.backend_key()`` and shared by every guard."""
    key = config.backend_key()
    with _shared_lock:
        if key not in _shared:
            target = BACKENDS.get(config.backend, config.backend)
            module_name, _, attr = target.partition(":")
            if not attr:
                raise ConfigError(
                    f"unknown backend {config.backend!r}: use one of {sorted(BACKENDS)} or 'package.module:Class'"
                )
            try:
                cls = getattr(importlib.import_module(module_name), attr)
            except MissingDependencyError:
                raise
            except (ImportError, AttributeError) as exc:
                raise ConfigError(f"backend {target!r} cannot be loaded: {exc}") from exc
            _shared[key] = cls(model_path=config.model_path, adapter_path=config.adapter_path,
                               n_threads=config.n_threads)
        return _shared[key]


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


class SRGuard(RunnableSerializable[Any, Any]):
    """Detect biased text in a chain's output and return benign rewrites that keep its meaning.

    Args:
        runnable: the chain to wrap (optional; positional). Without it the guard checks its own input.
        config: a :class:`GuardConfig`; keyword ``config_overrides`` (``threshold=0.6``, ...) adjust it.
        backend: a ready :class:`~srllm_guard.backends.base.Backend`; otherwise one is built from
            ``config`` on first use and shared with every guard of the same model settings.
    """

    runnable: Union[Runnable, None] = None
    """The wrapped chain; ``None`` guards the guard's input (``chain | SRGuard()``)."""
    config: GuardConfig = Field(default_factory=GuardConfig)
    """Thresholds, policies, limits and model settings."""
    backend: Union[Backend, None] = Field(default=None, exclude=True)
    """The model backend; ``None`` builds one from ``config`` on first use."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    _built: Union[Backend, None] = PrivateAttr(default=None)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def __init__(
        self,
        runnable: Any = None,
        *,
        config: GuardConfig | None = None,
        backend: Backend | None = None,
        **config_overrides: Any,
    ) -> None:
        try:
            merged = (config or GuardConfig()).merged(**config_overrides)
            if runnable is not None and not isinstance(runnable, Runnable):
                runnable = coerce_to_runnable(runnable)
            super().__init__(runnable=runnable, config=merged, backend=backend)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, error['loc'])) or 'value'}: {error['msg']}" for error in exc.errors()
            )
            raise ConfigError(f"invalid SRGuard settings: {problems}") from exc

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

    def _needs_model(self, texts: _Texts) -> bool:
        return any(text and not text.isspace() for _, text in texts)

    # --- Python API ------------------------------------------------------------------------------------

    def check(self, text: str) -> AuditRecord:
        """Guard ``text``; the guarded text is ``record.text``. The record also goes to ``audit_hook``."""
        if not isinstance(text, str):
            raise ConfigError(f"check() takes a str, got {type(text).__name__}")
        backend = self._get_backend() if self._needs_model([(None, text)]) else self.backend or self._built
        return emit(guard_text(text, backend, self.config), self.config.audit_hook)

    async def acheck(self, text: str) -> AuditRecord:
        """Async twin of :meth:`check`."""
        if not isinstance(text, str):
            raise ConfigError(f"acheck() takes a str, got {type(text).__name__}")
        backend = await asyncio.to_thread(self._get_backend) if self._needs_model([(None, text)]) else None
        return emit(await aguard_text(text, backend or self.backend or self._built, self.config),
                    self.config.audit_hook)

    # --- Runnable API ----------------------------------------------------------------------------------

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        return self._call_with_config(self._invoke, input, config, **kwargs)

    async def ainvoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        return await self._acall_with_config(self._ainvoke, input, config, **kwargs)

    def _invoke(self, input: Any, run_manager: Any, config: RunnableConfig, **kwargs: Any) -> Any:
        output = input
        if self.runnable is not None:
            output = self.runnable.invoke(input, patch_config(config, callbacks=run_manager.get_child()), **kwargs)
        started = time.perf_counter()
        content = _content(output)
        texts = _text_parts(content)
        backend = self._get_backend() if self._needs_model(texts) else self.backend or self._built
        results = [process(text, backend, self.config, part=index) for index, text in texts]
        return self._finish(output, content, texts, results, backend, started)

    async def _ainvoke(self, input: Any, run_manager: Any, config: RunnableConfig, **kwargs: Any) -> Any:
        output = input
        if self.runnable is not None:
            child = patch_config(config, callbacks=run_manager.get_child())
            output = await self.runnable.ainvoke(input, child, **kwargs)
        started = time.perf_counter()
        content = _content(output)
        texts = _text_parts(content)
        backend = self.backend or self._built
        if backend is None and self._needs_model(texts):
            backend = await asyncio.to_thread(self._get_backend)  # loading a model must not block the loop
        results = [await aprocess(text, backend, self.config, part=index) for index, text in texts]
        return self._finish(output, content, texts, results, backend, started)

    def _finish(
        self, output: Any, content: str | list[Any], texts: _Texts, results: list[Processed],
        backend: Backend | None, started: float,
    ) -> Any:
        """Put the guarded text back into the output's own type and attach the audit record."""
        cfg = self.config
        refused = any(result.refused for result in results)
        if isinstance(content, str):
            original = content
            new_content: str | list[Any] = cfg.refusal_message if refused else results[0].text
            returned = new_content
        else:
            original = "".join(text for _, text in texts)
            if refused:
                new_content, returned = [{"type": "text", "text": cfg.refusal_message}], cfg.refusal_message
            else:
                new_content = list(content)
                for (index, _), result in zip(texts, results):
                    part = content[index]
                    new_content[index] = result.text if isinstance(part, str) else {**part, "text": result.text}
                returned = "".join(result.text for result in results)
        record = emit(make_record(original, returned, results, backend, cfg, started), cfg.audit_hook)
        if isinstance(output, str):
            return new_content
        metadata = {**output.response_metadata, "srllm_guard": record.to_metadata()}
        return output.model_copy(update={"content": new_content, "response_metadata": metadata})
