"""The evaluation's answered-question pairs, scored by the full model alone: a quick read of a candidate adapter.

``trainers.evaluate`` reports the same pairs (``answered_questions`` in its metrics) through the guard's whole path
with the adapter's early-exit probe, which a fresh training run does not have yet. This scores the pairs
(:func:`srllm_guard.eval.answered.answered_items`, the evaluation's own held-out questions and follow-ups) with
``LlamaCppBackend(screen=None)`` and the guard's answered-question rule, for every adapter given, and prints the
flag rate per kind and for the counter-speech questions. It also scores the held-out side of the training-only
question pairs (:data:`trainers.mix.STANCE_QUESTIONS`: ``mix.stance_questions``, whose counter-speech sides are
``mix.counter_questions``' questions and more): 60 pairs from the templates the suite's rule holds out and 60 from
training templates with a held-out group or attribute, each question alone and followed by the evaluation's
agreement (the biased twin) or interest (the counter-speech side; ``ANSWERS`` says why) and neutral follow-ups; the
counter-speech questions should pass, their biased twins be flagged.

    python scripts/answered_check.py --data-dir ../shared/data runs/v34/adapter.gguf \\
        adapters/sr-gemma3-270m-v9/adapter.gguf
"""

from __future__ import annotations

import argparse
import random
from collections import defaultdict
from pathlib import Path

from srllm_guard.backends.llamacpp import LlamaCppBackend
from srllm_guard.config import GuardConfig
from srllm_guard.eval import functional
from srllm_guard.eval import judgement as J
from srllm_guard.eval.answered import ANSWERS, answered_items, answered_rates
from srllm_guard.eval.sources import load_groups


def stance_questions(groups: list, n: int = 60, seed: int = 0) -> tuple[list[str], list[tuple[str, str, str]]]:
    """Texts and ``(side, stance, kind)`` keys: the held-out side of :data:`trainers.mix.STANCE_QUESTIONS`, ``n``
    pairs from the templates the suite's rule holds out and ``n`` from training templates with a held-out group or
    attribute; each question of a pair alone and followed by the evaluation's agreement (interest on the
    counter-speech side) and neutral follow-ups."""
    from trainers.mix import stance_pairs

    made = stance_pairs(groups, "test", seed)
    rng = random.Random(seed)
    held = [p for p in made if functional.held_out("template", p[0].template)]
    other = [p for p in made if not functional.held_out("template", p[0].template)]
    picked = {"held-out template": rng.sample(held, min(n, len(held))),
              "training template, held-out group/attribute": rng.sample(other, min(n, len(other)))}
    texts, keys = [], []
    for side, pairs in picked.items():
        for pair in pairs:
            follow = {kind: rng.choice(ANSWERS[kind]) for kind in ("agreement", "interest", "neutral")}
            for item in pair:
                stance = "counter-speech" if not item.biased else "biased twin"
                for kind in ("alone", "agreement" if item.biased else "interest", "neutral"):
                    texts.append(item.text if kind == "alone" else f"{item.text} {follow[kind]}")
                    keys.append((side, stance, kind))
    return texts, keys


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("adapters", nargs="+", help="adapter GGUF files")
    parser.add_argument("--data-dir", type=Path, help="folder shaped like shared/data (the suite's groups)")
    parser.add_argument("--per-functionality", type=int, default=40, help="questions per family (the evaluation's)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    groups = load_groups(args.data_dir)
    items = answered_items(groups, per_functionality=args.per_functionality, seed=0)
    fresh, keys = stance_questions(groups)
    config = GuardConfig(timeout_s=None, retries=0, answered_questions=True)
    for path in args.adapters:
        backend = LlamaCppBackend(adapter_path=path, n_threads=args.threads, screen=None)
        scorer = J.Scorer(backend, config)
        rates = answered_rates(items, scorer([i.text for i in items]), 0.5)
        print(path)
        for name, rate in [*rates["summary"].items(),
                           *((k, v) for k, v in rates["by_functionality"].items() if k.startswith("counter_speech"))]:
            print(f"  {name:34s} {rate['flagged']:4d} of {rate['n']:4d} flagged ({rate['rate']:.1%})")
        flags: dict[tuple[str, str, str], list[bool]] = defaultdict(list)
        for key, score in zip(keys, scorer(fresh)):
            flags[key].append(score >= 0.5)
        print("  question pairs of mix.stance_questions' held-out side (counter-speech should pass, twins be flagged):")
        for (side, stance, kind), got in sorted(flags.items()):
            print(f"    {side + ' / ' + stance + ' / ' + kind:72s} {sum(got):4d} of {len(got):4d} flagged")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
