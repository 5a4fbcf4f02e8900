"""How many flagged suite sentences end as an accepted rewrite, per functionality, without the full evaluation.

``trainers.evaluate`` grades the rewrites of 300 flagged biased suite sentences (``rewrite_sample``: the suite's
held-out side, plain spelling, seeded) after scoring everything else it reports, ~27 minutes on this CPU. This
draws the same sentences (same suite, sample size and seed) and sends them through ``SRGuard.check`` with the
evaluation's guard settings, ~7 minutes per adapter, so stage candidates can be compared on the rewrite target
before a probe is fitted for them. With ``--screen none`` (the default; a candidate has no probe yet) the full
model scores every sentence: for ``default-stage29`` it gave 252 of 300, as the full evaluation with its probe did.

    python scripts/suite_rewrites.py --data-dir ../shared/data runs/v31/adapter.gguf runs/v29/adapter.gguf
"""

from __future__ import annotations

import argparse
from collections import Counter, defaultdict
from pathlib import Path

from srllm_guard import SRGuard
from srllm_guard.backends.llamacpp import LlamaCppBackend
from srllm_guard.config import GuardConfig
from srllm_guard.eval.judgement import Scorer
from trainers.evaluate import _suite, rewrite_candidate, rewrite_sample


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("adapters", nargs="+", help="adapter GGUF files")
    parser.add_argument("--data-dir", required=True, help="folder shaped like shared/data (as for the evaluation)")
    parser.add_argument("--screen", default="none", help="early-exit probe: 'none' or 'default' (next to the adapter)")
    parser.add_argument("--rewrite-limit", type=int, default=300, help="as trainers.evaluate")
    parser.add_argument("--per-functionality", type=int, default=120, help="as trainers.evaluate")
    parser.add_argument("--obfuscated-per-method", type=int, default=30, help="as trainers.evaluate")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    # score only the items the sample can draw (the same sample: rewrite_sample keeps their order)
    suite = [i for i in _suite(Path(args.data_dir), args.per_functionality, args.obfuscated_per_method, args.seed)
             if rewrite_candidate(i)]
    config = GuardConfig(timeout_s=None, retries=0)  # the evaluation's guard: its threshold and policies
    for path in args.adapters:
        backend = LlamaCppBackend(adapter_path=path, n_threads=args.threads,
                                  screen=None if args.screen == "none" else args.screen)
        scores = Scorer(backend, config)([i.text for i in suite])
        flagged = rewrite_sample(suite, scores, config.threshold, args.rewrite_limit, args.seed)
        guard = SRGuard(backend=backend, config=config)
        actions: dict[str, Counter] = defaultdict(Counter)
        reasons: Counter = Counter()
        for item in flagged:
            record = guard.check(item.text)
            actions[item.functionality][record.action] += 1
            actions["all"][record.action] += 1
            reasons.update(s.reason for s in record.spans if s.reason)
        print(f"\n{path}: fallback reasons {dict(reasons)}")
        for kind, counts in sorted(actions.items()):
            n = sum(counts.values())
            print(f"  {kind:20s} accepted rewrite {counts['rewrite']}/{n} = {counts['rewrite'] / n:.1%}", flush=True)


if __name__ == "__main__":
    main()
