"""How the judgement report's rewrite judge was chosen: judge settings scored on labelled text that no
evaluation slice uses.

Dev sets (disjoint from everything ``trainers.evaluate`` reports on):

* the functional suite's *train* side, items whose group *and* template fall in a held-out quarter (hash of
  the key): the judges are fitted on the other train-side items only, so these test new groups in new phrasings;
* 300 rows (balanced) of each of the judge's own labelled files that no setting is fitted on;
* the hand-written minimal pairs of :mod:`srllm_guard.eval.judge_pairs` (a biased sentence and a benign one on
  its topic naming its group), which no setting is fitted on.

Settings: the first logistic judge (600 rows per file, 1,200 suite items), the MLP judge of stop 19 (one hidden
layer of 256 units, 3,000 rows per file, every fitted suite item), and the default of
:func:`srllm_guard.eval.judgement.fit_judge` since stop 20: the same rows, MiniLM fine-tuned end to end (one or
two epochs; two are the default). Prints accuracy, specificity (neutral texts called neutral), recall and ROC AUC
per dev set. Its output (seed 0):

    setting                       suite (1,577)   files (300)   minimal pairs (80)   (accuracy; ROC AUC)
    logistic, 600 per file        0.727; 0.757    0.713; 0.829  0.700; 0.811
    MLP 256, 3,000 per file       0.756; 0.821    0.890; 0.956  0.713; 0.819
    fine-tuned, 1 epoch           0.787; 0.881    0.923; 0.976  0.775; 0.911
    fine-tuned, 2 epochs          0.779; 0.862    0.940; 0.986  0.787; 0.922

    python scripts/judge_select.py --data-dir ../shared/data [--threads 2]
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from srllm_guard.eval.datasets import balanced_sample, read_detection, unit
from srllm_guard.eval.functional import generate
from srllm_guard.eval.judge_pairs import JUDGE_PAIRS
from srllm_guard.eval.judgement import GROUPS
from srllm_guard.eval.judges import EncoderJudge, MiniLMEmbedder, MiniLMJudge

FILES = (("jigsaw/dummy_sample/train.csv", "jigsaw"), ("paradetox/paradetox.tsv", "paradetox"),
         ("sr_llm_inhouse/train_500.csv", "srllm"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch threads for the embedder and fine-tuning")
    args = parser.parse_args()
    root = Path(args.data_dir)

    suite = generate(GROUPS, side="train", per_group=1, seed=args.seed)
    new_group = [unit("judge-dev-group:" + (i.group or "-"), args.seed) < 0.25 for i in suite]
    new_template = [unit("judge-dev-template:" + i.template, args.seed) < 0.3 for i in suite]
    fit_suite = [i for i, g, t in zip(suite, new_group, new_template) if not g and not t]
    dev_suite = [i for i, g, t in zip(suite, new_group, new_template) if (g or i.group is None) and t]
    files = {name: read_detection(root / rel, dataset=name) for rel, name in FILES}

    def natural(per_file: int) -> list:
        return [it for items in files.values() for it in balanced_sample(items, per_file, args.seed)]

    fitted = {it.text for it in natural(3000)} | {it.text for it in natural(600)}
    dev_files = [it for items in files.values()
                 for it in balanced_sample([it for it in items if it.text not in fitted], 300, args.seed + 1)]
    embedder = MiniLMEmbedder(n_threads=args.threads)
    settings = {
        "logistic, 600 per file, 1,200 suite items":
            (natural(600), random.Random(args.seed).sample(fit_suite, 1200), "logistic"),
        "MLP 256, 3,000 per file, every suite item": (natural(3000), fit_suite, "mlp"),
        "fine-tuned 1 epoch, same rows": (natural(3000), fit_suite, "finetuned-1"),
        "fine-tuned 2 epochs, same rows": (natural(3000), fit_suite, "finetuned-2"),
    }
    dev_sets = {f"suite, new groups and templates ({len(dev_suite)})": ([i.text for i in dev_suite],
                                                                         [int(i.biased) for i in dev_suite]),
                f"unused rows of the judge's files ({len(dev_files)})": ([it.text for it in dev_files],
                                                                          [it.label for it in dev_files]),
                f"minimal pairs ({2 * len(JUDGE_PAIRS)})": ([b for b, _ in JUDGE_PAIRS] + [g for _, g in JUDGE_PAIRS],
                                                             [1] * len(JUDGE_PAIRS) + [0] * len(JUDGE_PAIRS))}
    for name, (rows, items, kind) in settings.items():
        texts = [it.text for it in rows] + [i.text for i in items]
        labels = [it.label for it in rows] + [int(i.biased) for i in items]
        judge: MiniLMJudge | EncoderJudge
        if kind.startswith("finetuned"):
            judge = EncoderJudge.fit(texts, labels, epochs=int(kind[-1]), seed=args.seed, n_threads=args.threads)
        else:
            judge = MiniLMJudge.fit(embedder, texts, labels, hidden=256 if kind == "mlp" else 0, seed=args.seed)
        for dev, (dev_texts, dev_labels) in dev_sets.items():
            p, y = np.array(judge.prob_biased(dev_texts)), np.array(dev_labels)
            print(f"{name:46s} {dev:42s} accuracy {((p >= 0.5) == y).mean():.3f}  specificity "
                  f"{((p < 0.5) & (y == 0)).sum() / (y == 0).sum():.3f}  recall "
                  f"{((p >= 0.5) & (y == 1)).sum() / (y == 1).sum():.3f}  ROC AUC {roc_auc_score(y, p):.3f}",
                  flush=True)


if __name__ == "__main__":
    main()
