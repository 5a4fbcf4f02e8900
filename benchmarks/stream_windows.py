"""Stream throughput when the upstream runs ahead of the guard: batched windows vs one sentence per window.

    python benchmarks/stream_windows.py [--adapter PATH|none] [--threads 1] [--rounds 3]

The same mixed reply (clean sentences with a few biased ones) is streamed through one ``SRGuard`` with the
shipped model two ways, alternating round by round:

* **one by one**: the upstream sends one sentence per chunk and waits until the guard has released it, so
  every window holds one sentence (the pipeline scores it alone: one early-exit pass per sentence);
* **burst**: the whole reply arrives at once, as from a fast or buffered upstream; after the first sentence
  the guard checks everything that piled up as one window (one batched scoring call, one re-check call).

Prints characters per second of each (median of the rounds), their ratio, and whether both streams returned
the same text (they must: windowing changes how the work is batched, not what is decided).
"""

from __future__ import annotations

import argparse
import statistics
import time

CLEAN = [
    "The library opens at nine in the morning on weekdays.", "You can borrow up to ten books at a time.",
    "Late returns cost a small fee per day.", "The reading room on the second floor is quiet.",
    "To reset your router, unplug it for thirty seconds.", "Wait until the status light turns green.",
    "Photosynthesis lets plants turn light into chemical energy.", "Chlorophyll absorbs mostly red and blue light.",
    "The process produces oxygen as a by-product.", "Water enters through the roots.",
    "The committee met on Tuesday to review the budget.", "It approved two new parks and a library.",
]
BIASED = ["Old people are useless with technology.", "Those immigrants are all lazy."]


def reply(n_clean: int) -> list[str]:
    """``n_clean`` clean sentences with the biased ones spread through them."""
    sentences = [CLEAN[i % len(CLEAN)] for i in range(n_clean)]
    for k, sentence in enumerate(BIASED):
        sentences.insert((k + 1) * len(sentences) // (len(BIASED) + 1), sentence)
    return sentences


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--adapter", default="default", help="adapter GGUF, 'default' (shipped) or 'none'")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sentences", type=int, default=40, help="clean sentences in the reply")
    args = parser.parse_args()

    from srllm_guard import SRGuard
    from srllm_guard.backends.llamacpp import LlamaCppBackend
    from srllm_guard.models import adapter_path, default_base_gguf

    adapter = None if args.adapter == "none" else (adapter_path() if args.adapter == "default" else args.adapter)
    backend = LlamaCppBackend(model_path=str(default_base_gguf()), adapter_path=adapter, n_threads=args.threads)
    guard = SRGuard(backend=backend, timeout_s=None)
    sentences = reply(args.sentences)
    text = " ".join(sentences)
    guard.check("Warm-up sentence.")

    def one_by_one() -> str:
        def upstream():
            for i, sentence in enumerate(sentences):
                yield sentence + (" " if i + 1 < len(sentences) else "")
        return "".join(guard.transform(upstream()))

    def burst() -> str:
        return "".join(guard.transform(iter([text])))

    times: dict[str, list[float]] = {"one by one": [], "burst": []}
    outputs: dict[str, str] = {}
    for _ in range(args.rounds):
        for name, run in (("one by one", one_by_one), ("burst", burst)):
            started = time.perf_counter()
            outputs[name] = run()
            times[name].append(time.perf_counter() - started)
    print(f"model={backend.model_id} threads={args.threads} rounds={args.rounds}: {len(sentences)} sentences, "
          f"{len(text):,} chars, {len(BIASED)} biased")
    speed = {name: len(text) / statistics.median(t) for name, t in times.items()}
    for name, chars_s in speed.items():
        print(f"    {name:10s}  {chars_s:8,.0f} chars/s  (median {statistics.median(times[name]):.2f} s)")
    print(f"    burst / one by one: {speed['burst'] / speed['one by one']:.2f}x; same text returned: "
          f"{outputs['burst'] == outputs['one by one']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
