"""What the functional suite's reference rewrites would score if the model learned them word for word: the
evaluation's judge (not-biased share), SIM (MiniLM cosine to the source) and the still-asserts rule, per
functionality and per candidate phrasing.

A model trained on these pairs cannot do better than its targets, so a target that the judge calls biased or
that drifts far from its sentence caps the rewrite figures of ``trainers.evaluate`` before any training. Reads
the suite's *train* side only (the pairs recipes train on), never the held-out test side the card reports, so
rewrites can be designed here without tuning on the evaluation.

    python scripts/rewrite_targets.py --data-dir ../shared/data [--style frame] [--judge runs/v5/eval/judge.pt]
"""

from __future__ import annotations

import argparse
import random
import statistics
from collections import defaultdict

from srllm_guard.eval.functional import REWRITE_STYLES, generate, rewrite_options
from srllm_guard.eval.judgement import GROUPS, RewriteResult, fit_judge, rewrite_outcomes
from srllm_guard.eval.judges import EncoderJudge, MiniLMEmbedder
from srllm_guard.eval.templates import DEFAULT_REWRITES, TEMPLATES


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--per-functionality", type=int, default=300, help="train-side items per functionality")
    parser.add_argument("--worst", type=int, default=12, help="phrasings to list, lowest judge pass rate first")
    parser.add_argument("--style", default="reference", choices=REWRITE_STYLES,
                        help="which rewrites: the family defaults ('reference') or the frame-keeping ones ('frame')")
    parser.add_argument("--judge", help="a fine-tuned judge saved by trainers.evaluate (<out>/judge.pt) instead of "
                                        "fitting one here")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    suite = [i for i in generate(GROUPS, side="train", per_group=1, seed=args.seed, rewrite_style=args.style)
             if i.biased and i.rewrite and i.source == "functional"]
    by: dict[str, list] = defaultdict(list)
    for item in suite:
        by[item.functionality].append(item)
    items = [i for k in sorted(by) for i in random.Random(f"{args.seed}:{k}").sample(
        by[k], min(args.per_functionality, len(by[k])))]
    embedder = MiniLMEmbedder(n_threads=args.threads)
    judge = (EncoderJudge.load(args.judge) if args.judge
             else fit_judge(args.data_dir, embedder, seed=args.seed, n_threads=args.threads))
    print(f"judge: {judge.name}")
    # each item is judged and embedded once; rewrite_outcomes adds only the rule check
    probs = judge.prob_biased([i.rewrite for i in items])
    sims = (embedder.encode([i.text for i in items]) * embedder.encode([i.rewrite for i in items])).sum(axis=1)
    rule = rewrite_outcomes([RewriteResult(i, "rewrite", i.rewrite, []) for i in items], judge=None,
                            embedder=None)["still_asserts"]
    print(f"{len(items)} train-side biased items, their reference rewrite as the output")
    print(f"judge not biased {sum(p < 0.5 for p in probs) / len(probs):.3f}  "
          f"SIM median {statistics.median(float(s) for s in sims):.3f}  "
          f"still asserting {rule['asserting']}/{rule['checked']}")
    print(f"{'functionality':20s} {'n':>4s} {'judge ok':>8s} {'SIM med':>8s}")
    for k in sorted(by):
        idx = [n for n, i in enumerate(items) if i.functionality == k]
        print(f"{k:20s} {len(idx):4d} {sum(probs[n] < 0.5 for n in idx) / len(idx):8.3f} "
              f"{statistics.median(float(sims[n]) for n in idx):8.3f}")

    # which phrasing: map each filled reference back to the template string it came from
    source: dict[str, list[int]] = defaultdict(list)
    phrasings = {t.id: rewrite_options(t, args.style) for t in TEMPLATES if t.functionality in DEFAULT_REWRITES}
    for n, item in enumerate(items):
        for p in phrasings.get(item.template, ()):
            if _matches(p, item.rewrite):
                source[p].append(n)
                break
    ranked = sorted(source.items(), key=lambda kv: sum(probs[n] < 0.5 for n in kv[1]) / len(kv[1]))
    print(f"\nphrasings, lowest judge pass rate first (of {len(ranked)} used):")
    for p, idx in ranked[: args.worst]:
        ok = sum(probs[n] < 0.5 for n in idx) / len(idx)
        print(f"  ok {ok:.2f}  SIM {statistics.median(float(sims[n]) for n in idx):.2f}  n={len(idx):3d}  {p}")


def _matches(phrasing: str, text: str) -> bool:
    """Whether ``text`` is ``phrasing`` with its slots filled (literal parts in order)."""
    import re

    parts = [re.escape(p) for p in re.split(r"\{[A-Za-z0-9]+\}", phrasing)]
    return re.fullmatch("(?i)" + ".+?".join(parts), text) is not None


if __name__ == "__main__":
    main()
