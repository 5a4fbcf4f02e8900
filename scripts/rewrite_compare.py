"""Rewrites of one evaluation's flagged suite sample through another adapter: the same items, so two adapters'
rewrites compare without a full evaluation (and before a new adapter has its early-exit probe).

The items are those ``trainers.evaluate`` sent through the guard in ``--eval`` (its ``scores.jsonl``, the same
seed and sample sizes); the adapter under test runs its full model on every sentence (no screen), with the
default ``GuardConfig``. Prints the accepted share (by functionality), the judge's not-biased share (the judge
that evaluation saved, ``judge.pt``), median SIM and the still-asserts rule; writes them to ``--out``.

    python scripts/rewrite_compare.py --eval runs/v5/eval --adapter runs/v6/adapter.gguf \
        --data-dir ../shared/data --out runs/v6/rewrites_noscreen.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tqdm.auto import tqdm

from srllm_guard.backends.llamacpp import LlamaCppBackend
from srllm_guard.config import GuardConfig
from srllm_guard.eval import judgement as J
from srllm_guard.eval.judges import EncoderJudge, MiniLMEmbedder
from srllm_guard.guard import SRGuard
from trainers.evaluate import _suite, rewrite_sample


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--eval", required=True, help="a trainers.evaluate output folder (scores.jsonl, judge.pt)")
    parser.add_argument("--adapter", required=True, help="adapter GGUF to rewrite with")
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--per-functionality", type=int, default=120, help="as given to that evaluation")
    parser.add_argument("--obfuscated-per-method", type=int, default=30, help="as given to that evaluation")
    parser.add_argument("--rewrite-limit", type=int, default=300, help="as given to that evaluation")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    run = Path(args.eval)
    suite = _suite(Path(args.data_dir), args.per_functionality, args.obfuscated_per_method, args.seed)
    rows = [json.loads(line) for line in (run / "scores.jsonl").open(encoding="utf-8")]
    if [r["text"] for r in rows] != [i.text for i in suite]:
        raise SystemExit(f"{run}/scores.jsonl is not this suite: pass the sizes and seed that evaluation used")
    flagged = rewrite_sample(suite, [r["score"] for r in rows], GuardConfig().threshold, args.rewrite_limit,
                             args.seed)
    backend = LlamaCppBackend(adapter_path=args.adapter, n_threads=args.threads, screen=None)
    guard = SRGuard(backend=backend, config=GuardConfig(timeout_s=None, retries=0))
    results = []
    for item in tqdm(flagged, desc="rewrites", unit="text"):
        record = guard.check(item.text)
        results.append(J.RewriteResult(item, record.action, record.text,
                                       sorted({s.reason for s in record.spans if s.reason})))
    judge = EncoderJudge.load(run / "judge.pt")
    m = J.rewrite_outcomes(results, judge=judge, embedder=MiniLMEmbedder(n_threads=args.threads))
    Path(args.out).write_text(json.dumps({**m, "eval": str(run), "adapter": args.adapter}, indent=2))
    print(f"{m['rewrite']} of {m['flagged']} accepted ({m['accepted_rewrite_share']:.1%}; {m['fallback_reasons']}); "
          f"judge not biased {m.get('judge_not_biased_share', 0):.1%}; SIM median {m.get('sim_median', 0):.3f}; "
          f"still asserting {m['still_asserts']['asserting']} of {m['still_asserts']['checked']}")
    for kind, v in m["accepted_by_functionality"].items():
        print(f"  {kind:18s} {v['flagged']} of {v['n']} accepted")


if __name__ == "__main__":
    main()
