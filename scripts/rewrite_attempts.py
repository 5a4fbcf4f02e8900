"""What a second rewrite attempt (``GuardConfig.rewrite_attempts``) changes on human-written text.

Flagged biased rows of a trainer's test split (the natural sources of ``trainers.evaluate``, up to
``--per-source`` each, seeded) go through the guard (merged weights, early-exit screen) with one attempt; the rows
where a rewrite failed its re-check go through again with ``--attempts``, decoded as ``--retry`` says. Prints the
outcome counts of both and every row whose outcome changed, so the rescued rewrites can be read, not only
counted, what the first attempt's re-check failures were (copies of the sentence, near copies, or other
rewrites), and the median SIM (MiniLM cosine) of the rescued rows to their originals.

    python scripts/rewrite_attempts.py --test runs/v4/splits/test.jsonl --per-source 30 --threads 1
"""

from __future__ import annotations

import argparse
import json
import random
from collections import Counter, defaultdict

import numpy as np

from srllm_guard.backends.llamacpp import LlamaCppBackend
from srllm_guard.config import GuardConfig
from srllm_guard.eval.judgement import rejected_kind
from srllm_guard.guard import SRGuard
from srllm_guard.policy import drift
from trainers.data import read_jsonl
from trainers.evaluate import NATURAL_SOURCES


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--test", required=True, help="a trainer's test split (JSONL)")
    parser.add_argument("--adapter", default="default", help="adapter GGUF or 'default'")
    parser.add_argument("--per-source", type=int, default=30)
    parser.add_argument("--attempts", type=int, default=2)
    parser.add_argument("--retry", choices=["bar_words", "no_copy"], default="bar_words",
                        help="how a further attempt is decoded (GuardConfig.retry)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", help="JSON file for every row's outcomes")
    args = parser.parse_args()

    backend = LlamaCppBackend(adapter_path=args.adapter, n_threads=args.threads, screen="default", merge=True)
    base = GuardConfig(timeout_s=None, retries=0)
    rows = [(ex.text, ex.source) for ex in read_jsonl(args.test) if ex.biased and ex.source in NATURAL_SOURCES]
    scores = [check.score for i in range(0, len(rows), 32)
              for check in backend.check_many([t for t, _ in rows[i : i + 32]], threshold=base.threshold,
                                              rewrite=False)]
    by_source: dict[str, list[str]] = defaultdict(list)
    for (text, source), score in zip(rows, scores):
        if score >= base.threshold:
            by_source[source].append(text)
    items = [(s, t) for s in sorted(by_source)
             for t in random.Random(args.seed).sample(by_source[s], min(args.per_source, len(by_source[s])))]

    once = SRGuard(backend=backend, config=base)
    more = SRGuard(backend=backend, config=base.merged(rewrite_attempts=args.attempts, retry=args.retry))
    counts: dict[str, Counter] = {"1": Counter(), str(args.attempts): Counter()}
    copies: Counter = Counter()  # what the first attempt's re-check failures are
    out = []
    for source, text in items:
        first = once.check(text)
        for span in first.spans:
            if span.reason == "recheck_failed":
                copies[rejected_kind(span.original, span.rejected_rewrite or "")] += 1
        # the first attempt is the same call either way (greedy): only re-check failures can change
        second = more.check(text) if any(s.reason == "recheck_failed" for s in first.spans) else first
        for key, record in (("1", first), (str(args.attempts), second)):
            counts[key].update([f"{source}:{record.action}"] + [f"span:{s.reason or 'rewrite'}" for s in record.spans])
        out.append({"source": source, "text": text, "once": first.text, "more": second.text,
                    "action_once": first.action, "action_more": second.action,
                    "attempts": [s.attempts for s in second.spans]})
        if first.action != second.action:
            print(f"[{source}] {text}\n  1: {first.text}\n  {args.attempts}: {second.text}\n")
    for key, counter in counts.items():
        print(f"attempts={key}: " + ", ".join(f"{k} {v}" for k, v in sorted(counter.items())))
    print(f"{len(items)} flagged rows; changed: {sum(r['action_once'] != r['action_more'] for r in out)}")
    print("first attempt's re-check failures: " + ", ".join(f"{k} {v}" for k, v in sorted(copies.items())))
    rescued = [r for r in out if r["action_once"] != "rewrite" and r["action_more"] == "rewrite"]
    if rescued:
        from srllm_guard.eval.judges import MiniLMEmbedder

        x = np.asarray(MiniLMEmbedder().encode([t for r in rescued for t in (r["text"], r["more"])]))
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        sims = (x[0::2] * x[1::2]).sum(axis=1)
        for row, sim in zip(rescued, sims):
            row["sim"], row["drift"] = round(float(sim), 4), round(drift(row["text"], row["more"]), 4)
        print(f"SIM (MiniLM cosine) of the {len(rescued)} rescued rows to their original: median "
              f"{float(np.median(sims)):.3f}, mean {float(sims.mean()):.3f}")
    if args.out:
        with open(args.out, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
