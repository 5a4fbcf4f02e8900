"""How often the guard flags StereoSet's sentences (a source no recipe trains on), per bias type and option.

StereoSet (``stereoset/stereoset_dev_flat.jsonl`` under ``--data-dir``) gives each target three continuations: a
stereotype, an anti-stereotype and an unrelated one. The evaluation reads it only for language-model scores
(LMS/SS); this script reads it the way a user's guard would meet it: every continuation as a reply, through the
guard's verdict path (:class:`srllm_guard.eval.judgement.Scorer`: sentences, the early-exit screen, the full model
on what the screen flags, ``answered_questions``), and prints the share flagged per bias type, per item type and
per option.

    python scripts/stereoset_flags.py --data-dir ../shared/data adapters/sr-gemma3-270m-v14/adapter.gguf \\
        adapters/sr-gemma3-270m-v12/adapter.gguf

Not a target of the issue and not a clean label set: many "stereotype" continuations are a mild association ("The
chess player was asian."), and an anti-stereotype continuation is often a generalisation too ("The people are fat
and unathletic."). What it reads is the gap: stereotype continuations should be flagged more often than
anti-stereotype ones, and the unrelated ones ("Cats have sharp claws.") should pass. Intersentence continuations
are scored after their context sentence ("Many people live in Ethiopia. The people are very thin and good at
distance running."), as a reply would carry them; intrasentence ones alone.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

OPTIONS = ("stereotype", "anti-stereotype", "unrelated")


def replies(path: Path, limit: int | None) -> list[tuple[str, str, str, str]]:
    """``(item type, bias type, option, text)`` for every option of the first ``limit`` items."""
    from srllm_guard.eval.datasets import read_stereoset

    rows = []
    for item in read_stereoset(path)[:limit]:
        for option, sentence in zip(OPTIONS, (item.stereotype, item.anti, item.unrelated)):
            text = f"{item.context.strip()} {sentence.strip()}" if item.kind == "intersentence" else sentence.strip()
            rows.append((item.kind, item.bias_type, option, text))
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("adapters", nargs="*", help="adapter GGUF files (none: the shipped default)")
    parser.add_argument("--data-dir", required=True, help="folder shaped like shared/data")
    parser.add_argument("--limit", type=int, help="first N StereoSet items (each gives three replies)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", help="JSON file for the rates")
    parser.add_argument("--items", help="JSONL file for every reply with its score (to read what was flagged)")
    parser.add_argument("--cache", help="JSONL result cache (srllm_guard.eval.cache): a rerun scores nothing twice")
    args = parser.parse_args(argv)

    from tqdm import tqdm

    from srllm_guard.backends.llamacpp import LlamaCppBackend
    from srllm_guard.config import GuardConfig
    from srllm_guard.eval.cache import ResultCache
    from srllm_guard.eval.datasets import DataPaths
    from srllm_guard.eval.judgement import Scorer

    relative = DataPaths.DEFAULTS["stereoset"]
    path = Path(args.data_dir) / str(relative)
    if not path.is_file():
        parser.error(f"{path} not found: --data-dir must hold {relative}")
    rows = replies(path, args.limit)
    config = GuardConfig()
    cache = ResultCache(args.cache) if args.cache else None
    report: dict[str, dict] = {}
    items = []
    for adapter in args.adapters or [None]:
        name = adapter or "default"
        backend = LlamaCppBackend(adapter_path=adapter, n_threads=args.threads, screen="default")
        with tqdm(desc=f"{Path(name).parent.name or name}: sentences scored", unit="sent") as bar:
            scores = Scorer(backend, config, cache=cache, progress=bar.update)([text for *_, text in rows])
        backend.close()
        cells: dict[tuple[str, str], list[bool]] = defaultdict(list)
        for (kind, bias, option, text), score in zip(rows, scores):
            flagged = score >= config.threshold
            items.append({"adapter": name, "type": kind, "bias_type": bias, "option": option, "text": text,
                          "score": round(score, 4), "flagged": flagged})
            for key in ((bias, option), (kind, option), ("all", option)):
                cells[key].append(flagged)
        rates = {f"{a}/{o}": {"n": len(v), "flagged": sum(v), "rate": sum(v) / len(v)} for (a, o), v in cells.items()}
        report[name] = rates
        print(f"\n{name}: share flagged ({len(rows) // 3} items)")
        print(f"  {'':16s}" + "".join(f"{o:>17s}" for o in OPTIONS))
        for row in sorted({a for a, _ in cells}, key=lambda a: (a == "all", a)):
            print(f"  {row:16s}" + "".join(
                f"{rates[f'{row}/{o}']['rate']:>10.1%} of {rates[f'{row}/{o}']['n']:<4d}" for o in OPTIONS))
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=1), encoding="utf-8")
    if args.items:
        Path(args.items).write_text("".join(json.dumps(row) + "\n" for row in items), encoding="utf-8")


if __name__ == "__main__":
    main()
