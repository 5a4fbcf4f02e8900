"""Time to first chunk (TTFC) of a guarded stream, divided by that of the raw stream, side by side.

    python benchmarks/stream_ttfc.py            # (a) a fake backend: the cost of holding back one sentence
    python benchmarks/stream_ttfc.py --real     # (b) also the default LlamaCppBackend with the shipped adapter

The chat model is a fake that streams a fixed reply word by word with ``--token-delay`` seconds per token
(whitespace tokens included, as GenericFakeChatModel splits). Raw and guarded runs alternate, ``--repeats``
times each, and the medians are compared. TTFC is the time to the first chunk with text. The raw stream's
time to its first *complete sentence* is printed too: that is the floor for any guard that checks whole
sentences, so ``guarded / raw first sentence`` isolates the cost of the check itself.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Iterator
from typing import Any

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel

from srllm_guard import SRGuard
from srllm_guard.backends.base import BaseBackend, Check
from srllm_guard.errors import ModelFileError

REPLY = ("The committee met on Tuesday to review the budget for the coming year. It approved two new parks and a "
         "library. Several members asked for more detail on transport. The vote will take place next month.")


class SlowFakeModel(GenericFakeChatModel):
    """GenericFakeChatModel that waits ``delay_s`` before each token, like a model decoding."""

    delay_s: float = 0.02

    def _stream(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        for chunk in super()._stream(*args, **kwargs):
            time.sleep(self.delay_s)
            yield chunk


class FakeBackend(BaseBackend):
    """Scores every text as clean, instantly: isolates the hold-back from model time."""

    model_id = "fake"

    def check(self, text: str, *, threshold: float, rewrite: bool = True, max_new_tokens: int = 256) -> Check:
        return Check(score=0.05)


def _first_text(stream: Iterator[Any], started: float, *, sentence: bool = False) -> float:
    seen = ""
    for chunk in stream:
        seen += chunk.content
        if (sentence and ". " in seen) or (not sentence and seen):
            return time.perf_counter() - started
    return time.perf_counter() - started


def measure(guard: SRGuard, delay_s: float, repeats: int) -> dict[str, float]:
    raw, raw_sentence, guarded = [], [], []
    days = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
    for i in range(repeats):
        # a different first sentence each round: the backend serves a repeated prompt from its verdict cache
        reply = REPLY.replace("Tuesday", days[i % len(days)], 1)
        model = SlowFakeModel(messages=iter([reply] * 3), delay_s=delay_s)
        started = time.perf_counter()
        raw.append(_first_text(model.stream("hi"), started))
        started = time.perf_counter()
        raw_sentence.append(_first_text(model.stream("hi"), started, sentence=True))
        started = time.perf_counter()
        guarded.append(_first_text((model | guard).stream("hi"), started))
    return {name: statistics.median(values) for name, values in
            (("raw", raw), ("raw_sentence", raw_sentence), ("guarded", guarded))}


def report(label: str, result: dict[str, float]) -> None:
    raw, sentence, guarded = result["raw"], result["raw_sentence"], result["guarded"]
    print(f"{label}: TTFC raw {raw * 1000:.1f} ms, guarded {guarded * 1000:.1f} ms -> ratio {guarded / raw:.1f}x; "
          f"raw first sentence {sentence * 1000:.1f} ms -> guarded/first-sentence {guarded / sentence:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--real", action="store_true", help="also measure the default LlamaCppBackend")
    parser.add_argument("--token-delay", type=float, default=0.02, help="seconds per streamed token")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--adapter", help="with --real: this adapter file instead of the shipped one "
                        "('none': the bare base model, for timing only: it cannot debias)")
    args = parser.parse_args()

    first = REPLY.split(". ")[0]
    print(f"reply: {len(REPLY)} chars; first sentence {len(first) + 1} chars; token delay {args.token_delay}s; "
          f"median of {args.repeats}")
    report("(a) fake backend", measure(SRGuard(backend=FakeBackend()), args.token_delay, args.repeats))
    if not args.real:
        return
    from srllm_guard import models

    adapter: str | None = "default" if args.adapter is None else None if args.adapter == "none" else args.adapter
    if adapter == "default":
        try:
            models.adapter_path()
        except ModelFileError as exc:
            print(f"(b) skipped: {exc}")
            return
    from srllm_guard.backends.llamacpp import LlamaCppBackend

    backend = LlamaCppBackend(adapter_path=adapter)
    backend.check("Warm-up sentence.", threshold=0.5)  # load the model outside the measurement
    report(f"(b) LlamaCppBackend, adapter={adapter}", measure(SRGuard(backend=backend), args.token_delay,
                                                                args.repeats))


if __name__ == "__main__":
    main()
