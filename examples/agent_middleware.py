"""A LangChain v1 agent whose answers are guarded by SR-LLM, with a fake tool-calling chat model.

    python examples/agent_middleware.py                # the default backend (llama.cpp + shipped adapter)
    python examples/agent_middleware.py --fake-backend # a keyword stand-in for the model: runs anywhere

The chat model is scripted (no API key): it calls a tool, then answers with a biased sentence. The
middleware rewrites that sentence in the final answer; the tool call goes through untouched. Needs
``pip install 'srllm-guard[agents]'``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from langchain.agents import create_agent
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.tools import tool

from srllm_guard.backends.base import BaseBackend, Check
from srllm_guard.errors import SRGuardError
from srllm_guard.middleware import SRGuardMiddleware

QUESTION = "What should I know about the new neighbours from the north?"


class ScriptedToolModel(GenericFakeChatModel):
    """Replays scripted messages; ``bind_tools`` returns the model itself (``create_agent`` needs it)."""

    def bind_tools(self, tools: Any, **kwargs: Any) -> ScriptedToolModel:
        return self


class KeywordBackend(BaseBackend):
    """Stand-in for SR-LLM: flags a few words and swaps in neutral ones. For demos without a model."""

    model_id = "keyword-demo"
    SWAPS = {"lazy": "relaxed", "loud": "lively"}

    def check(self, text: str, *, threshold: float, rewrite: bool = True, max_new_tokens: int = 256) -> Check:
        hits = [word for word in self.SWAPS if word in text.lower()]
        new = text
        for word in hits:
            new = new.replace(word, self.SWAPS[word])
        return Check(score=0.9 if hits else 0.05, rewrite=new if rewrite and hits else None)


@tool
def neighbourhood_facts(area: str) -> str:
    """Facts about a neighbourhood."""
    return f"The {area} area has two parks and a weekly market."


def build_agent(fake_backend: bool, every_turn: bool):
    model = ScriptedToolModel(messages=iter([
        AIMessage(content="", tool_calls=[{"name": "neighbourhood_facts", "args": {"area": "north"}, "id": "call-1"}]),
        AIMessage(content="The north area has two parks and a weekly market. "
                          "People from the north are lazy and loud, so keep your distance."),
    ]))
    middleware = SRGuardMiddleware(backend=KeywordBackend() if fake_backend else None, guard_every_turn=every_turn)
    return create_agent(model, tools=[neighbourhood_facts], middleware=[middleware])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fake-backend", action="store_true", help="use a keyword stand-in instead of SR-LLM")
    parser.add_argument("--every-turn", action="store_true", help="guard every model turn, not only the answer")
    parser.add_argument("--async", dest="use_async", action="store_true", help="run the agent with ainvoke")
    args = parser.parse_args(argv)

    agent = build_agent(args.fake_backend, args.every_turn)
    prompt = {"messages": [("user", QUESTION)]}
    try:
        state = asyncio.run(agent.ainvoke(prompt)) if args.use_async else agent.invoke(prompt)
    except SRGuardError as exc:
        print(f"the default backend is not available: {exc}\nrerun with --fake-backend", file=sys.stderr)
        return 2
    for message in state["messages"]:
        print(f"[{message.type}] {message.content or ''}")
        for call in getattr(message, "tool_calls", None) or []:
            print(f"    tool call: {call['name']}({json.dumps(call['args'])})")
    record = state["messages"][-1].response_metadata.get("srllm_guard", {})
    print(f"\naudit: action={record.get('action')} score={record.get('score')} model={record.get('model_id')}")
    for span in record.get("spans", []):
        print(f"    {span['original']!r} -> {span['replacement']!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
