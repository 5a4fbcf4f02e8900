"""Would a hidden layer make the early-exit probe clear more? Logistic vs one-hidden-layer heads on block states.

Takes ``--n`` sentences (seeded) from a distill teacher cache (``trainers.distill --cache``: each sentence with the
full model's P(biased)), reads the adapter's block-``--layer`` states at the text's last token, splits them by a
hash of the text (60% fit, 20% to set the cut that keeps ``--recall`` of the full model's flags, 20% scored) and
prints, per head, ROC AUC against the full model's verdicts and, at that cut, the recall kept and the share of
clean sentences still sent on to the full model (what the guard's speed on mixed traffic depends on).

    python scripts/probe_heads.py --cache runs/v4q/distill/teacher.jsonl --adapter runs/v4/adapter.gguf --threads 2
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.neural_network import MLPClassifier

from srllm_guard.backends.llamacpp import LlamaCppBackend


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", required=True, help="a trainers.distill teacher cache (JSONL)")
    parser.add_argument("--adapter", required=True, help="the adapter GGUF the cache's teacher ran")
    parser.add_argument("--n", type=int, default=9000)
    parser.add_argument("--layer", type=int, default=6)
    parser.add_argument("--recall", type=float, default=0.995)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    rows = [r for r in map(json.loads, open(args.cache, encoding="utf-8")) if "score" in r]
    random.Random(args.seed).shuffle(rows)
    rows = rows[: args.n]
    texts = [r["text"] for r in rows]
    backend = LlamaCppBackend(adapter_path=args.adapter, n_threads=args.threads, screen=None, merge=True)
    x = np.concatenate([backend.hidden_states(texts[i : i + 256], layer=args.layer, position="text_end")
                        for i in range(0, len(texts), 256)])
    y = np.array([r["score"] >= 0.5 for r in rows])
    u = np.array([int(hashlib.sha1(t.encode()).hexdigest()[:8], 16) / 2**32 for t in texts])
    fit, cut, scored = u < 0.6, (u >= 0.6) & (u < 0.8), u >= 0.8
    print(f"{len(texts)} sentences, {int(y.sum())} flagged by the full model; fit {fit.sum()}, cut {cut.sum()}, "
          f"scored {scored.sum()}")
    heads = {"logistic": LogisticRegression(C=1.0, class_weight="balanced", max_iter=3000)}
    for units in (64, 256):
        heads[f"hidden {units}"] = MLPClassifier(hidden_layer_sizes=(units,), alpha=1e-3, max_iter=300,
                                                 early_stopping=True, random_state=args.seed)
    for name, head in heads.items():
        head.fit(x[fit], y[fit])
        p_cut, p_scored = head.predict_proba(x[cut])[:, 1], head.predict_proba(x[scored])[:, 1]
        flags = np.sort(p_cut[y[cut]])
        low = flags[int(np.floor((1 - args.recall) * len(flags)))]
        sent_on = p_scored >= low
        print(f"{name:10s} ROC AUC {roc_auc_score(y[scored], p_scored):.4f}  flags kept {sent_on[y[scored]].mean():.4f}"
              f"  clean sentences sent on {sent_on[~y[scored]].mean():.3f}")


if __name__ == "__main__":
    main()
