"""Quick check of how adapters judge informal, unpunctuated text (not the full evaluation: minutes, not half an hour).

For each adapter, the full model's verdicts (no early-exit screen, merged weights, threshold 0.5) on:

- the labelled Jigsaw slices no recipe trains on (``trainers.evaluate``'s unseen sources): non-toxic and toxic
  comments flagged, each comment scored sentence by sentence as the guard reads it;
- *run-on* neutral text: neutral test-split texts of human-written sources joined three at a time in lower case
  with no punctuation (:func:`trainers.mix.run_on` makes the same shape for training), one piece each;
- the test split's human-written rows: F1 and false-positive rate per source.

    python scripts/register_check.py --test runs/v4/splits/test.jsonl \\
        adapters/sr-gemma3-270m-v4/adapter.gguf runs/my-stage/adapter.gguf

Used for the `mix.run_on_share` notes (CHANGELOG, issue 10).
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

from srllm_guard.backends.llamacpp import LlamaCppBackend
from srllm_guard.config import GuardConfig
from srllm_guard.eval import judgement as J
from trainers.data import read_jsonl
from trainers.evaluate import NATURAL_SOURCES, _unseen_rows
from trainers.mix import plain_text

NATURAL = (*NATURAL_SOURCES, "paradetox_cannot")
THRESHOLD = 0.5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("adapters", nargs="+", help="adapter GGUF files")
    parser.add_argument("--test", required=True, help="a trainer's test split (JSONL)")
    parser.add_argument("--data-dir", default="../shared/data")
    parser.add_argument("--runs", type=int, default=80, help="run-on pieces of three neutral texts")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    unseen = _unseen_rows(Path(args.data_dir), None)
    test = read_jsonl(args.test)
    neutral = [e.text for e in test if not e.biased and e.source in ("paradetox", "bold", "srllm", "srllm_infer")]
    random.Random(0).shuffle(neutral)
    runs = [" ".join(plain_text(t) for t in neutral[i : i + 3]) for i in range(0, 3 * args.runs, 3)]
    natural = [(e.text, e.biased, e.source) for e in test if e.source in NATURAL]
    for adapter in args.adapters:
        backend = LlamaCppBackend(adapter_path=adapter, n_threads=args.threads, screen=None, merge=True)
        score = J.Scorer(backend, GuardConfig(timeout_s=None, retries=0))
        u, r, n = score([t for t, _, _ in unseen]), score(runs), score([t for t, _, _ in natural])
        comments = J.detection_by_source(unseen, u, THRESHOLD)["overall"]
        line = (f"{adapter}: unseen non-toxic flagged {comments['fp']}/{comments['negatives']}, toxic "
                f"{comments['tp']}/{comments['positives']}; run-on neutral flagged "
                f"{sum(s >= THRESHOLD for s in r)}/{len(runs)}")
        for src, m in J.detection_by_source(natural, n, THRESHOLD)["by_source"].items():
            line += f"; {src} F1 {m['f1'] or 0.0:.3f}" + (f" FPR {m['fpr']:.2f}" if m["fpr"] is not None else "")
        print(line, flush=True)


if __name__ == "__main__":
    main()
