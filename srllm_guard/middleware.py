"""``SRGuardMiddleware``: guard the answers of a LangChain v1 agent (``langchain.agents.create_agent``).

::

    from langchain.agents import create_agent
    from srllm_guard.middleware import SRGuardMiddleware

    agent = create_agent(model, tools=[...], middleware=[SRGuardMiddleware()])

By default the agent's final answer (an ``AIMessage`` without tool calls) is guarded; with
``guard_every_turn=True`` the text of every model turn is, tool calls or not. Tool calls are never touched:
only the message text is, and the audit record goes under ``response_metadata["srllm_guard"]``.

Why ``wrap_model_call``/``awrap_model_call`` rather than ``after_model``: the guarded message *replaces*
the model's response before it enters the agent state, so the unchecked text never reaches the
checkpointer, later model turns or other middleware, and no message id is needed to overwrite it
afterwards. Both hooks are implemented, so ``invoke`` and ``ainvoke`` (and their streams) both work.

Streaming: with ``hide_model_tokens=True`` (the default) the model runs with LangGraph's ``nostream`` tag,
so ``stream_mode="messages"`` does not stream its raw tokens; the guarded message is emitted whole when the
model step ends. With ``False``, token streaming is restored but those tokens are *unchecked*.

Needs the ``agents`` extra: ``pip install 'srllm-guard[agents]'``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from langchain_core.messages import AIMessage, BaseMessage

from srllm_guard.backends.base import Backend
from srllm_guard.config import GuardConfig
from srllm_guard.errors import ConfigError, require
from srllm_guard.guard import SRGuard

if TYPE_CHECKING:
    from langchain.agents.middleware.types import (
        AgentMiddleware,
        ExtendedModelResponse,
        ModelRequest,
        ModelResponse,
    )
else:  # a clear error naming the extra when langchain is missing
    _types = require("langchain.agents.middleware.types", extra="agents", package="langchain")
    AgentMiddleware = _types.AgentMiddleware
    ModelRequest = _types.ModelRequest
    ModelResponse = _types.ModelResponse
    ExtendedModelResponse = _types.ExtendedModelResponse

__all__ = ["SRGuardMiddleware"]

_NOSTREAM = "nostream"
"""LangGraph's tag (``langgraph.constants.TAG_NOSTREAM``) that keeps a model's tokens out of the stream."""


class SRGuardMiddleware(AgentMiddleware):
    """Agent middleware that guards the model's answers with SR-LLM.

    Args:
        guard: a ready :class:`~srllm_guard.guard.SRGuard` (without a wrapped chain); otherwise one is built
            from ``config``, ``backend`` and ``config_overrides`` (as ``SRGuard`` takes them).
        guard_every_turn: guard the text of every model turn, not only the final answer.
        hide_model_tokens: keep the model's raw (unchecked) tokens out of ``stream_mode="messages"``.
    """

    def __init__(
        self,
        guard: SRGuard | None = None,
        *,
        guard_every_turn: bool = False,
        hide_model_tokens: bool = True,
        config: GuardConfig | None = None,
        backend: Backend | None = None,
        **config_overrides: Any,
    ) -> None:
        super().__init__()
        if guard is None:
            guard = SRGuard(config=config, backend=backend, **config_overrides)
        elif config is not None or backend is not None or config_overrides:
            raise ConfigError("pass either a ready `guard` or its settings (config, backend, ...), not both")
        if not isinstance(guard, SRGuard) or guard.runnable is not None:
            raise ConfigError("SRGuardMiddleware needs an SRGuard without a wrapped chain: SRGuard(config=...)")
        self.guard = guard
        self.guard_every_turn = guard_every_turn
        self.hide_model_tokens = hide_model_tokens

    def _guards(self, message: BaseMessage) -> bool:
        return isinstance(message, AIMessage) and (self.guard_every_turn or not message.tool_calls)

    def _request(self, request: Any) -> Any:
        model = request.model
        if not self.hide_model_tokens or _NOSTREAM in (getattr(model, "tags", None) or []):
            return request
        try:
            quiet = model.model_copy(update={"tags": [*(model.tags or []), _NOSTREAM]})
        except AttributeError:  # not a pydantic chat model: leave it as it is
            return request
        return request.override(model=quiet)

    @staticmethod
    def _messages(response: Any) -> list[BaseMessage]:
        if isinstance(response, ExtendedModelResponse):
            response = response.model_response
        return [response] if isinstance(response, AIMessage) else list(response.result)

    @staticmethod
    def _rebuild(response: Any, messages: list[BaseMessage]) -> Any:
        if isinstance(response, AIMessage):
            return messages[0]
        if isinstance(response, ExtendedModelResponse):
            inner = response.model_response
            rebuilt = ModelResponse(result=messages, structured_response=inner.structured_response)
            return ExtendedModelResponse(model_response=rebuilt, command=response.command)
        return ModelResponse(result=messages, structured_response=response.structured_response)

    def wrap_model_call(self, request: Any, handler: Callable[[Any], Any]) -> Any:
        response = handler(self._request(request))
        messages = [self.guard.invoke(m) if self._guards(m) else m for m in self._messages(response)]
        return self._rebuild(response, messages)

    async def awrap_model_call(self, request: Any, handler: Callable[[Any], Awaitable[Any]]) -> Any:
        response = await handler(self._request(request))
        messages = [await self.guard.ainvoke(m) if self._guards(m) else m for m in self._messages(response)]
        return self._rebuild(response, messages)
