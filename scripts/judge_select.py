"""How the judgement report's rewrite judge was chosen: two judge settings, scored on labelled text that no
evaluation slice uses.

Dev sets (disjoint from everything ``trainers.evaluate`` reports on):

* the functional suite's *train* side, items whose group *and* template fall in a held-out quarter (hash of
  the key): the judge is fitted on the other train-side items only, so these test new groups in new phrasings;
* 300 rows (balanced) of each of the judge's own labelled files that neither setting is fitted on.

Settings: the earlier logistic judge (600 rows per file, 1,200 suite items) and the one
:func:`srllm_guard.eval.judgement.fit_judge` uses now (one hidden layer of 256 units, 3,000 rows per file, every
fitted suite item). Prints accuracy, specificity (neutral texts called neutral), recall and ROC AUC per dev set.

    python scripts/judge_select.py --data-dir ../shared/data
"""

from __future__ import annotations

import argparse
import hashlib
import random
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from srllm_guard.eval.datasets import balanced_sample, read_detection
from srllm_guard.eval.functional import generate
from srllm_guard.eval.judgement import GROUPS
from srllm_guard.eval.judges import MiniLMEmbedder, MiniLMJudge

FILES = (("jigsaw/dummy_sample/train.csv", "jigsaw"), ("paradetox/paradetox.tsv", "paradetox"),
         ("sr_llm_inhouse/train_500.csv", "srllm"))


def _unit(key: str) -> float:
    return int(hashlib.sha1(key.encode()).hexdigest()[:8], 16) / 2**32


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    root = Path(args.data_dir)

    suite = generate(GROUPS, side="train", per_group=1, seed=args.seed)
    new_group = [_unit("g:" + (i.group or "-")) < 0.25 for i in suite]
    new_template = [_unit("t:" + i.template) < 0.3 for i in suite]
    fit_suite = [i for i, g, t in zip(suite, new_group, new_template) if not g and not t]
    dev_suite = [i for i, g, t in zip(suite, new_group, new_template) if (g or i.group is None) and t]
    files = {name: read_detection(root / rel, dataset=name) for rel, name in FILES}

    def natural(per_file: int) -> list:
        return [it for items in files.values() for it in balanced_sample(items, per_file, args.seed)]

    fitted = {it.text for it in natural(3000)} | {it.text for it in natural(600)}
    dev_files = [it for items in files.values()
                 for it in balanced_sample([it for it in items if it.text not in fitted], 300, args.seed + 1)]
    embedder = MiniLMEmbedder(n_threads=1)
    settings = {
        "logistic, 600 per file, 1,200 suite items":
            (natural(600), random.Random(args.seed).sample(fit_suite, 1200), 0),
        "hidden 256, 3,000 per file, every suite item": (natural(3000), fit_suite, 256),
    }
    dev_sets = {f"suite, new groups and templates ({len(dev_suite)})": ([i.text for i in dev_suite],
                                                                         [int(i.biased) for i in dev_suite]),
                f"unused rows of the judge's files ({len(dev_files)})": ([it.text for it in dev_files],
                                                                          [it.label for it in dev_files])}
    for name, (rows, items, hidden) in settings.items():
        judge = MiniLMJudge.fit(embedder, [it.text for it in rows] + [i.text for i in items],
                                [it.label for it in rows] + [int(i.biased) for i in items], hidden=hidden,
                                seed=args.seed)
        for dev, (texts, labels) in dev_sets.items():
            p, y = np.array(judge.prob_biased(texts)), np.array(labels)
            print(f"{name:46s} {dev:42s} accuracy {((p >= 0.5) == y).mean():.3f}  specificity "
                  f"{((p < 0.5) & (y == 0)).sum() / (y == 0).sum():.3f}  recall "
                  f"{((p >= 0.5) & (y == 1)).sum() / (y == 1).sum():.3f}  ROC AUC {roc_auc_score(y, p):.3f}")


if __name__ == "__main__":
    main()
