"""First check of a fresh process: after ``srllm-guard prepare`` against a cold cache, side by side in one run.

    python benchmarks/first_check.py [--rounds 3]

Each round starts new ``srllm-guard check`` processes (the installed CLI: interpreter start, imports, model load,
one check) with ``SRLLM_GUARD_CACHE`` pointing at (1) a cache that ``prepare`` filled once, and (2) an empty
cache, where the first check assembles the base and builds the merged weights itself. Prints the medians,
their ratio, and the target (prepared first check under 3 s).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TEXT = "The meeting is at nine tomorrow. Please bring the quarterly report."


def run(cli: str, cache: Path, *args: str) -> float:
    env = {**os.environ, "SRLLM_GUARD_CACHE": str(cache), "HF_HUB_OFFLINE": "1"}
    started = time.perf_counter()
    done = subprocess.run([cli, *args], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{' '.join(args)} failed: {done.stderr[-2000:]}")
    return wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cli", default=str(Path(sys.executable).with_name("srllm-guard")))
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="first-check-"))
    try:
        prepared = root / "prepared"
        t_prepare = run(args.cli, prepared, "prepare", "--cache-dir", str(prepared))
        warm, cold = [], []
        for r in range(args.rounds):
            warm.append(run(args.cli, prepared, "check", TEXT, "--threads", "1"))
            empty = root / f"cold-{r}"
            cold.append(run(args.cli, empty, "check", TEXT, "--threads", "1"))
            shutil.rmtree(empty)
        w, c = statistics.median(warm), statistics.median(cold)
        print(f"prepare (once, cold cache): {t_prepare:.1f} s")
        print(f"first check, prepared cache: median {w:.2f} s  {[round(x, 2) for x in warm]}")
        print(f"first check, empty cache:    median {c:.2f} s  {[round(x, 2) for x in cold]}")
        print(f"ratio prepared / empty: {w / c:.3f}; target: prepared under 3 s: {'met' if w < 3 else 'NOT met'}")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
