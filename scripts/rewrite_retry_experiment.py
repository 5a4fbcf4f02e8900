"""Experiment: would a second rewrite attempt save the sentences whose first rewrite fails the re-check or drifts?

Reads the flagged texts that ended as fallback in an evaluation cache (``trainers.evaluate --out runs/v3/eval``),
and for each flagged sentence tries: rewrite; if that fails the re-check, rewrite the rewrite once more and
re-check it (drift always against the original). Prints the counts. Used for the v3 card notes.

    python scripts/rewrite_retry_experiment.py runs/v3/eval/cache.jsonl
"""

import json
import sys
from collections import Counter

from srllm_guard.backends.llamacpp import LlamaCppBackend
from srllm_guard.policy import drift, with_end_mark
from srllm_guard.split import split_text

cache = [json.loads(line) for line in open(sys.argv[1] if len(sys.argv) > 1 else "runs/v3/eval/cache.jsonl")]
fb = [c["key"] for c in cache if c["task"] == "guard" and c["result"]["action"] == "fallback"]
print("fallback texts in cache", len(fb))
b = LlamaCppBackend(n_threads=2)
stats: Counter = Counter()
ex = []
for text in fb:
    for p in split_text(text, max_chars=1000):
        s = text[p.start:p.end]
        c = b.check(s, threshold=0.5, max_new_tokens=256)
        if c.score < 0.5:
            continue
        r1 = with_end_mark(s, (c.rewrite or "").strip())
        if not r1 or drift(s, r1) > 0.9:
            stats["drift1"] += 1
            continue
        c1 = b.check(r1, threshold=0.5, max_new_tokens=256)
        if c1.score < 0.5:
            stats["ok1"] += 1
            continue
        r2 = with_end_mark(s, (c1.rewrite or "").strip())
        if not r2 or drift(s, r2) > 0.9:
            stats["fail1_drift2"] += 1
            continue
        c2 = b.check(r2, threshold=0.5, rewrite=False)
        if c2.score < 0.5:
            stats["salvaged2"] += 1
            ex.append((s, r1, r2))
        else:
            stats["fail2_recheck"] += 1
print(stats)
for e in ex[:12]:
    print(e)
