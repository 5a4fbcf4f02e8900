"""Measure a trained adapter against the trainer issue's acceptance numbers, through any backend.

    python -m trainers.evaluate --adapter runs/sr/adapter.gguf --test runs/sr/splits/test.jsonl \\
        --counterfactual ../shared/data/sr_llm_inhouse/counterfactual-inhouse.csv --out runs/sr/eval

Reports (``metrics.json``):
- verdict precision / recall / F1 on the held-out test split, overall and per source;
- share of counterfactual neutral sentences (each demographic variant) flagged as biased;
- for biased inputs the model rewrote: embedding cosine of rewrite to source (all-MiniLM-L6-v2, shipped on
  PyPI; median reported) and the share the model itself then judges not biased.
The counterfactual file is only ever read here, never trained on.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from pathlib import Path

from srllm_guard.backends.base import Backend
from srllm_guard.errors import DataError
from srllm_guard.eval.datasets import read_counterfactual
from srllm_guard.eval.detection import confusion
from srllm_guard.eval.judges import MiniLMEmbedder
from trainers.data import Example, read_jsonl


def verdicts(pairs: list[tuple[bool, float]], threshold: float) -> dict:
    """Confusion counts, precision, recall and F1 from (gold, score) pairs; positive = biased."""
    return confusion([int(gold) for gold, _ in pairs], [score for _, score in pairs], threshold)


def read_counterfactual_items(path: str | Path, limit: int | None, seed: int = 0) -> list[tuple[str, str]]:
    """(variant column, sentence) pairs from counterfactual-inhouse.csv; a seeded sample when ``limit``."""
    if not Path(path).is_file():
        raise DataError(f"counterfactual file not found: {path}; pass --counterfactual PATH")
    items = [(col, text) for row in read_counterfactual(path)
             for col, text in [("Original", row.original), *row.variants.items()]]
    if limit and limit < len(items):
        items = random.Random(seed).sample(items, limit)
    return items


def cosines(a: list[str], b: list[str]) -> list[float]:
    """Cosine of all-MiniLM-L6-v2 embeddings, pair by pair."""
    embedder = MiniLMEmbedder()
    return [float(x) for x in (embedder.encode(a) * embedder.encode(b)).sum(axis=1)]


def evaluate(backend: Backend, test: list[Example], counterfactual: list[tuple[str, str]], *,
             threshold: float = 0.5, max_new_tokens: int = 96, rewrite_limit: int | None = None) -> dict:
    from tqdm.auto import tqdm

    started = time.perf_counter()
    scored: list[dict] = []
    rewrites: list[tuple[str, str]] = []
    for ex in tqdm(test, desc="test split", unit="text"):
        want_rewrite = ex.biased and (rewrite_limit is None or len(rewrites) < rewrite_limit)
        check = backend.check(ex.text, threshold=threshold, rewrite=want_rewrite, max_new_tokens=max_new_tokens)
        scored.append({"text": ex.text, "gold": ex.biased, "score": check.score, "source": ex.source})
        if check.rewrite is not None:
            rewrites.append((ex.text, check.rewrite))
    flags: dict[str, list[bool]] = {}
    for col, text in tqdm(counterfactual, desc="counterfactual", unit="text"):
        flags.setdefault(col, []).append(backend.check(text, threshold=threshold, rewrite=False).score >= threshold)
    recheck = [backend.check(r, threshold=threshold, rewrite=False).score < threshold
               for _, r in tqdm(rewrites, desc="re-check rewrites", unit="text")]
    cos = cosines([s for s, _ in rewrites], [r for _, r in rewrites]) if rewrites else []
    all_flags = [f for v in flags.values() for f in v]
    by_source: dict[str, list[tuple[bool, float]]] = {}
    for row in scored:
        by_source.setdefault(row["source"], []).append((row["gold"], row["score"]))
    return {
        "model_id": backend.model_id,
        "model_hash": backend.model_hash,
        "threshold": threshold,
        "verdict": verdicts([(row["gold"], row["score"]) for row in scored], threshold),
        "verdict_by_source": {k: verdicts(v, threshold) for k, v in sorted(by_source.items())},
        "counterfactual_flag_rate": sum(all_flags) / len(all_flags) if all_flags else None,
        "counterfactual_n": len(all_flags),
        "counterfactual_flag_rate_by_variant": {k: sum(v) / len(v) for k, v in sorted(flags.items())},
        "rewrites_n": len(rewrites),
        "rewrite_cosine_median": statistics.median(cos) if cos else None,
        "rewrite_cosine_mean": statistics.fmean(cos) if cos else None,
        "rewrite_judged_not_biased": sum(recheck) / len(recheck) if recheck else None,
        "examples": [{"source": s, "rewrite": r, "cosine": c} for (s, r), c in list(zip(rewrites, cos))[:12]],
        "scores": scored,
        "wall_time_s": round(time.perf_counter() - started, 1),
    }


def cli(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m trainers.evaluate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--adapter", help="adapter GGUF, or 'none' for the bare base (the default)")
    parser.add_argument("--model", help="base GGUF (default: the embedded Gemma 3 270M)")
    parser.add_argument("--test", required=True, help="test split JSONL written by the trainer")
    parser.add_argument("--counterfactual", help="counterfactual-inhouse.csv")
    parser.add_argument("--counterfactual-limit", type=int, default=1100, help="seeded sample size (0: all)")
    parser.add_argument("--rewrite-limit", type=int, default=None, help="rewrite at most this many biased inputs")
    parser.add_argument("--limit", type=int, default=None, help="evaluate only the first N test items")
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--out", required=True, help="folder for metrics.json")
    args = parser.parse_args(argv)
    from srllm_guard.backends.llamacpp import LlamaCppBackend

    adapter = None if args.adapter in (None, "none") else args.adapter
    backend = LlamaCppBackend(model_path=args.model, adapter_path=adapter, n_threads=args.threads)
    test = read_jsonl(args.test)[: args.limit]
    cf = read_counterfactual_items(args.counterfactual, args.counterfactual_limit or None) if args.counterfactual else []
    metrics = evaluate(backend, test, cf, threshold=args.threshold, rewrite_limit=args.rewrite_limit)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    short = {k: v for k, v in metrics.items() if k not in {"scores", "examples", "verdict_by_source"}}
    print(json.dumps(short, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(cli())
