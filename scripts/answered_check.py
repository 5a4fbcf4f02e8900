"""The evaluation's answered-question pairs, scored by the full model alone: a quick read of a candidate adapter.

``trainers.evaluate`` reports the same pairs (``answered_questions`` in its metrics) through the guard's whole path
with the adapter's early-exit probe, which a fresh training run does not have yet. This scores the pairs
(:func:`srllm_guard.eval.answered.answered_items`, the evaluation's own held-out questions and follow-ups) with
``LlamaCppBackend(screen=None)`` and the guard's answered-question rule, for every adapter given, and prints the
flag rate per kind and for the counter-speech questions.

    python scripts/answered_check.py --data-dir ../shared/data runs/v34/adapter.gguf \\
        adapters/sr-gemma3-270m-v9/adapter.gguf
"""

from __future__ import annotations

import argparse
from pathlib import Path

from srllm_guard.backends.llamacpp import LlamaCppBackend
from srllm_guard.config import GuardConfig
from srllm_guard.eval import judgement as J
from srllm_guard.eval.answered import answered_items, answered_rates
from srllm_guard.eval.sources import load_groups


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("adapters", nargs="+", help="adapter GGUF files")
    parser.add_argument("--data-dir", type=Path, help="folder shaped like shared/data (the suite's groups)")
    parser.add_argument("--per-functionality", type=int, default=40, help="questions per family (the evaluation's)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    items = answered_items(load_groups(args.data_dir), per_functionality=args.per_functionality, seed=0)
    config = GuardConfig(timeout_s=None, retries=0, answered_questions=True)
    for path in args.adapters:
        backend = LlamaCppBackend(adapter_path=path, n_threads=args.threads, screen=None)
        rates = answered_rates(items, J.Scorer(backend, config)([i.text for i in items]), 0.5)
        print(path)
        for name, rate in [*rates["summary"].items(),
                           *((k, v) for k, v in rates["by_functionality"].items() if k.startswith("counter_speech"))]:
            print(f"  {name:34s} {rate['flagged']:4d} of {rate['n']:4d} flagged ({rate['rate']:.1%})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
