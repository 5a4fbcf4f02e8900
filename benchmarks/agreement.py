"""Verdict agreement between backends on a small built-in set of sentences.

    python benchmarks/agreement.py                 # llamacpp vs hf (in-process, no server)
    python benchmarks/remote_throughput.py         # adds the remote backend (starts a llama.cpp server)

Each backend scores every sentence; the report gives, for each pair, the share of sentences with the same
verdict at ``--threshold`` and the mean / max |dP(biased)|. The model is the embedded base plus the shipped
default adapter (``srllm_guard.models.DEFAULT_ADAPTER``: ``adapter.gguf`` for llama.cpp, ``peft/`` for hf)
when present, else the bare base, which it says (its scores mean nothing for bias; agreement then measures
the backends only).
llama.cpp runs the Q4_K_M file with quantized matmuls, hf the same weights dequantized to float32, so their
scores differ by more than rounding.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time
from pathlib import Path
from typing import Any, Callable

from srllm_guard.errors import ModelFileError

SENTENCES = [
    "Women are too emotional to lead engineering teams.",
    "The meeting has been moved to Thursday at noon.",
    "Old people can't learn to use computers.",
    "Our quarterly revenue grew by four percent.",
    "Immigrants from that country are all lazy.",
    "The library opens at nine on weekdays.",
    "Men are naturally better at math than women.",
    "Please bring the signed forms to the front desk.",
    "People with tattoos are criminals.",
    "The new bridge will reduce traffic downtown.",
    "Poor people are poor because they don't work hard.",
    "She presented the results of the clinical trial.",
    "Muslims cannot be trusted in government.",
    "The recipe calls for two cups of flour.",
    "Blondes are too dumb for serious jobs.",
    "The train to Lisbon leaves from platform four.",
]
"""Half stereotyped statements, half neutral ones (hand-written for this benchmark, not from a data set)."""


def shipped_adapter() -> tuple[Path | None, Path | None]:
    """``(adapter.gguf, peft folder)`` of the shipped adapter, each ``None`` where it is absent."""
    from srllm_guard.models import adapter_path

    found = []
    for kind in ("gguf", "peft"):
        try:
            found.append(adapter_path(kind=kind))
        except ModelFileError:
            found.append(None)
    return found[0], found[1]


def scores(name: str, score: Callable[[str], float], texts: list[str]) -> tuple[list[float | None], float]:
    """Scores of ``texts`` (``None`` where the backend raised) and the seconds per text."""
    out: list[float | None] = []
    started = time.perf_counter()
    for text in texts:
        try:
            out.append(score(text))
        except Exception as exc:  # noqa: BLE001 - a benchmark reports, it does not stop
            print(f"  {name}: {type(exc).__name__}: {str(exc)[:160]}")
            out.append(None)
    return out, (time.perf_counter() - started) / len(texts)


def report(results: dict[str, list[float | None]], threshold: float) -> list[dict[str, Any]]:
    """Print and return pairwise verdict agreement and score differences."""
    rows = []
    for a, b in itertools.combinations(results, 2):
        pairs = [(x, y) for x, y in zip(results[a], results[b]) if x is not None and y is not None]
        if not pairs:
            print(f"  {a} vs {b}: no sentence scored by both")
            continue
        same = sum((x >= threshold) == (y >= threshold) for x, y in pairs) / len(pairs)
        diffs = [abs(x - y) for x, y in pairs]
        row = {"pair": f"{a} vs {b}", "n": len(pairs), "agreement": same, "mean_abs_diff": statistics.mean(diffs),
               "max_abs_diff": max(diffs)}
        rows.append(row)
        print(f"  {row['pair']:<22} verdicts agree {100 * same:5.1f}% of {len(pairs)}   |dP| mean "
              f"{row['mean_abs_diff']:.4f} max {row['max_abs_diff']:.4f}")
    return rows


def local_backends(*, threads: int, skip_hf: bool) -> dict[str, Any]:
    """The in-process backends on the embedded base (+ shipped adapter where present)."""
    from srllm_guard.backends.llamacpp import LlamaCppBackend

    gguf, peft = shipped_adapter()
    print(f"adapter: {gguf or 'none: bare base (the default adapter is absent)'}")
    backends: dict[str, Any] = {"llamacpp": LlamaCppBackend(adapter_path=gguf, n_ctx=1024, n_threads=threads)}
    if not skip_hf:
        from srllm_guard.backends.hf import HFBackend

        if gguf is not None and peft is None:
            print("hf: skipped (the shipped adapter has no peft/ folder)")
        else:
            backends["hf"] = HFBackend(adapter=peft, device="cpu", n_threads=threads, batch_size=4)
    return backends


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--threshold", type=float, default=0.5)
    args = parser.parse_args(argv)
    results = {}
    for name, backend in local_backends(threads=args.threads, skip_hf=False).items():
        results[name], per_text = scores(name, backend.score, SENTENCES)
        print(f"{name}: {per_text:.3f} s/text")
    report(results, args.threshold)


if __name__ == "__main__":
    main()
