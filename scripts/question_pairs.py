"""How an adapter reads a question together with the sentence after it (minutes, not the full evaluation).

For held-out question templates of the functional suite (a quarter of its third batch, never trained on), the
full model's verdict (no early-exit screen, merged weights, threshold 0.5) on the question alone, on the question
with its own second sentence where the template has one ("Are {G} {X}? Of course not."), and, for a flagged
biased question with none, on the question followed by an unrelated sentence and by agreement (follow-ups of
:data:`srllm_guard.eval.answered.ANSWERS`). The guard judges a flagged question with its answer
(``GuardConfig.answered_questions``), so an adapter that clears "biased question + unrelated sentence" would
let bias through; ``trainers.evaluate`` measures the same through the guard's path (``answered_questions``).

    python scripts/question_pairs.py --data-dir ../shared/data adapters/sr-gemma3-270m-v14/adapter.gguf \\
        runs/my-stage/adapter.gguf

Used for the ``mix.answered_share`` notes (``trainers/data.py``, recipe ``default-stage8``).
"""

from __future__ import annotations

import argparse
from collections import defaultdict


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("adapters", nargs="+", help="adapter GGUF files")
    parser.add_argument("--data-dir", help="folder shaped like shared/data (more groups); optional")
    parser.add_argument("--per-functionality", type=int, default=40)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    from srllm_guard.backends.llamacpp import LlamaCppBackend
    from srllm_guard.eval import functional, sources, templates
    from srllm_guard.eval.answered import ANSWERS
    from srllm_guard.split import is_question, split_sentences

    asked = [t for t in templates.TEMPLATES if t.id in templates.QUESTION_BATCH]
    items = functional.generate(sources.load_groups(args.data_dir), side="test", per_group=1, seed=0,
                                templates=asked, cap=args.per_functionality)
    for path in args.adapters:
        backend = LlamaCppBackend(adapter_path=path, n_threads=args.threads, screen=None)

        def flagged(text: str) -> bool:
            return backend.check(text, threshold=0.5, rewrite=False).score >= 0.5  # noqa: B023

        rates: dict[tuple[str, bool], dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
        for n, item in enumerate(items):
            parts = [item.text[p.start : p.end] for p in split_sentences(item.text)]
            if not is_question(parts[0]):
                continue
            row = rates[item.functionality, item.biased]
            alone = flagged(parts[0])
            row["alone"].append(alone)
            if len(parts) > 1:
                row["with its answer"].append(flagged(" ".join(parts[:2])))
            elif item.biased and alone:
                for kind in ("neutral", "agreement"):
                    pool = ANSWERS[kind]
                    row[f"+ {kind}"].append(flagged(f"{parts[0]} {pool[n % len(pool)]}"))
        print(f"\n{path}")
        for (family, biased), row in sorted(rates.items()):
            cells = "  ".join(f"{k} {sum(v)}/{len(v)}" for k, v in row.items())
            print(f"  {family:20s} {'biased' if biased else 'not biased':10s} {cells}")
        backend.close()


if __name__ == "__main__":
    main()
