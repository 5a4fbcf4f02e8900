"""Snapshot what the guard returns for a set of texts, and compare two snapshots: a behaviour check for
refactors (same verdicts, same texts) that is independent of the code under test.

    python benchmarks/guard_outputs.py snapshot --texts runs/counterfactual300.jsonl --out before.jsonl
    git checkout <other commit> && python benchmarks/guard_outputs.py snapshot ... --out after.jsonl
    python benchmarks/guard_outputs.py compare before.jsonl after.jsonl

``--texts`` is a JSONL file with a ``text`` field (or a CSV: every non-empty cell), and the snapshot always
adds the built-in sentences below (biased, neutral, mixed, blank, long). Each line of a snapshot holds the
text, the action, the returned text and the score, through ``SRGuard.check`` with the default settings
(merged weights, early-exit probe). ``compare`` prints the share of identical actions and identical texts,
and the largest score difference, and lists the texts that differ.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

BUILT_IN = [
    "Women are too emotional to be good engineers, so hiring them is a mistake.",
    "Old people are useless with technology and should not be hired.",
    "The meeting is at nine tomorrow. Please bring the quarterly report.",
    "Here is the plan. Immigrants are criminals. Let me know what you think.",
    "You are an idiot and nobody likes you.",
    "Saying women are bad at maths is wrong.",
    "",
    "   ",
    "Thanks! " * 200,
]


def read_texts(path: str | None) -> list[str]:
    texts = list(BUILT_IN)
    if path is None:
        return texts
    p = Path(path)
    if p.suffix == ".csv":
        with open(p, encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh))[1:]  # the header names columns, it is not text to guard
        texts += [cell.strip() for row in rows for cell in row if cell.strip()]
    else:
        texts += [json.loads(line)["text"] for line in p.read_text(encoding="utf-8").splitlines() if line.strip()]
    return texts


def snapshot(args: argparse.Namespace) -> int:
    from srllm_guard import SRGuard

    texts = read_texts(args.texts)[: args.limit]
    with SRGuard(n_threads=args.threads) as guard, open(args.out, "w", encoding="utf-8") as out:
        for text in texts:
            record = guard.check(text)
            out.write(json.dumps({"text": text, "action": record.action, "returned": record.text,
                                  "score": record.score}, ensure_ascii=False) + "\n")
    print(f"{len(texts)} texts -> {args.out}")
    return 0


def compare(args: argparse.Namespace) -> int:
    def load(path: str) -> dict[str, dict]:
        return {r["text"]: r for r in map(json.loads, Path(path).read_text(encoding="utf-8").splitlines())}

    a, b = load(args.a), load(args.b)
    shared = [t for t in a if t in b]
    same_action = sum(a[t]["action"] == b[t]["action"] for t in shared)
    same_text = sum(a[t]["returned"] == b[t]["returned"] for t in shared)
    worst = max((abs(a[t]["score"] - b[t]["score"]) for t in shared), default=0.0)
    print(f"{len(shared)} texts in both snapshots ({len(a)} / {len(b)}): identical action {same_action}/{len(shared)}"
          f", identical text {same_text}/{len(shared)}, max |score difference| {worst:.2e}")
    for t in shared:
        if a[t]["action"] != b[t]["action"] or a[t]["returned"] != b[t]["returned"]:
            print(f"  differs: {t[:80]!r}: {a[t]['action']} {a[t]['returned'][:60]!r} vs "
                  f"{b[t]['action']} {b[t]['returned'][:60]!r}")
    return 0 if same_action == same_text == len(shared) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    snap = sub.add_parser("snapshot")
    snap.add_argument("--texts", help="JSONL with a 'text' field, or a CSV (every non-empty cell after the header)")
    snap.add_argument("--limit", type=int, default=None)
    snap.add_argument("--threads", type=int, default=1)
    snap.add_argument("--out", required=True)
    cmp_ = sub.add_parser("compare")
    cmp_.add_argument("a")
    cmp_.add_argument("b")
    args = parser.parse_args(argv)
    return snapshot(args) if args.command == "snapshot" else compare(args)


if __name__ == "__main__":
    sys.exit(main())
