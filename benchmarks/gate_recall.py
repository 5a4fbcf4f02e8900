"""What the whole-text gate costs in recall: mixed replies (clean sentences around one biased one).

    python benchmarks/gate_recall.py --test runs/sr-gemma3-270m-s2/splits/test.jsonl [--n 60]

For each biased test text that the model flags on its own, builds a reply of two clean sentences + that
text + one clean sentence, and reports, per gate value, the share of such replies the gate would pass
unchecked (whole-reply score below the gate), next to the share of clean replies (four clean sentences) the
gate lets through in one pass (the speed win). Clean sentences are the neutral test texts.
"""

from __future__ import annotations

import argparse
import json
import random


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--test", required=True, help="trainer test split JSONL")
    parser.add_argument("--n", type=int, default=60)
    parser.add_argument("--adapter", default="default")
    parser.add_argument("--gates", default="0.05,0.1,0.2,0.3,0.5")
    args = parser.parse_args()
    from srllm_guard.backends.llamacpp import LlamaCppBackend

    rows = [json.loads(line) for line in open(args.test, encoding="utf-8") if line.strip()]
    clean = [r["text"] for r in rows if not r["biased"] and len(r["text"]) < 200]
    biased = [r["text"] for r in rows if r["biased"] and len(r["text"]) < 300]
    backend = LlamaCppBackend(adapter_path=args.adapter, n_threads=1)
    flagged = [t for t in biased if backend.score(t) >= 0.5][: args.n]
    rng = random.Random(0)
    mixed = [" ".join(rng.sample(clean, 2) + [t] + rng.sample(clean, 1)) for t in flagged]
    clean_replies = [" ".join(rng.sample(clean, 4)) for _ in range(len(flagged))]
    mixed_scores = [backend.score(r) for r in mixed]
    clean_scores = [backend.score(r) for r in clean_replies]
    print(f"{len(flagged)} mixed replies (each holds one sentence the model flags alone), "
          f"{len(clean_replies)} clean replies")
    for gate in (float(g) for g in args.gates.split(",")):
        missed = sum(s < gate for s in mixed_scores) / len(mixed_scores)
        fast = sum(s < gate for s in clean_scores) / len(clean_scores)
        print(f"  gate {gate:4.2f}: mixed replies passed unchecked {missed:6.1%}   clean replies on the fast path {fast:6.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
