"""How well a faithfulness check tells invented rewrites from faithful ones, on hand-labelled rewrites.

Reads a JSON-lines file of rewrites a person labelled (``original``, ``rewrite``: the changed sentences only;
``label``: ``F`` keeps the meaning, less the offence, or drops a claim; ``G`` garbled but asserts nothing new;
``I`` says something the original did not: a flip, an antonym, an invented claim or stock line; ``kind``:
``human-written`` or ``suite``; ``half``: ``dev`` or ``test``), scores every pair with the check (and with MiniLM
SIM for comparison) and prints ROC AUC of "not invented" per kind and half. With ``--pick``, the threshold is
chosen on the ``dev`` half alone (the highest that keeps ``--keep`` of its faithful human-written rewrites and
of its suite rewrites), then reported on ``test``: share of invented rewrites refused, of faithful ones kept.

    python scripts/faithfulness_labels.py runs/faith/labels.jsonl --check runs/faith/v2 --pick --keep 0.95

The labels hold dataset text (Jigsaw, ParaDetox, WNC rows): they stay out of the repository; build them by
reading ``scripts/rewrite_diff.py``'s lists.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def _auc(labels: list[bool], scores: list[float]) -> float | None:
    from sklearn.metrics import roc_auc_score

    return round(float(roc_auc_score(labels, scores)), 3) if len(set(labels)) == 2 else None


def pick_threshold(rows: list[dict], scores: list[float], keep: float) -> float:
    """The highest threshold (a grid of 0.01) at which at least ``keep`` of the faithful (``F``) rewrites of
    each kind score at or above it."""
    for t in [x / 100 for x in range(99, 0, -1)]:
        ok = True
        for kind in {r["kind"] for r in rows}:
            faithful = [s for r, s in zip(rows, scores) if r["kind"] == kind and r["label"] == "F"]
            if faithful and sum(s >= t for s in faithful) / len(faithful) < keep:
                ok = False
        if ok:
            return t
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("labels", type=Path)
    parser.add_argument("--check", required=True, help="a faithfulness check folder (trainers.faithfulness)")
    parser.add_argument("--pick", action="store_true", help="choose a threshold on dev, report it on test")
    parser.add_argument("--keep", type=float, default=0.95, help="share of faithful dev rewrites to keep")
    parser.add_argument("--no-sim", action="store_true", help="skip the MiniLM SIM comparison")
    args = parser.parse_args()
    from srllm_guard.faithfulness import FaithfulnessCheck

    with args.labels.open(encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    check = FaithfulnessCheck.load(args.check)
    scores = check.score([(r["original"], r["rewrite"]) for r in rows])
    sims: list[float] = []
    if not args.no_sim:
        from srllm_guard.eval.judges import MiniLMEmbedder

        embedder = MiniLMEmbedder()
        a, b = embedder.encode([r["original"] for r in rows]), embedder.encode([r["rewrite"] for r in rows])
        sims = [float((x * y).sum()) for x, y in zip(a, b)]
    for kind in sorted({r["kind"] for r in rows}):
        for half in ("dev", "test"):
            idx = [i for i, r in enumerate(rows) if r["kind"] == kind and r["half"] == half]
            labels = [rows[i]["label"] != "I" for i in idx]
            line = {"n": len(idx), "invented": labels.count(False),
                    "auc": _auc(labels, [scores[i] for i in idx])}
            if sims:
                line["sim_auc"] = _auc(labels, [sims[i] for i in idx])
            print(f"{kind:14} {half:4}", json.dumps(line))
    if args.pick:
        dev = [i for i, r in enumerate(rows) if r["half"] == "dev"]
        t = pick_threshold([rows[i] for i in dev], [scores[i] for i in dev], args.keep)
        print(f"threshold picked on dev (keeps >= {args.keep:.0%} of faithful rewrites of each kind): {t:.2f}")
        for kind in sorted({r["kind"] for r in rows}):
            test = [i for i, r in enumerate(rows) if r["kind"] == kind and r["half"] == "test"]
            for label, what in (("I", "invented refused"), ("F", "faithful kept"), ("G", "garbled kept")):
                sel = [scores[i] for i in test if rows[i]["label"] == label]
                if sel:
                    share = sum((s < t) if label == "I" else (s >= t) for s in sel) / len(sel)
                    print(f"  test {kind:14} {what:17} {share:.1%} of {len(sel)}")


if __name__ == "__main__":
    main()
