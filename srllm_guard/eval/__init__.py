"""Evaluation harness: reproduce the SR-LLM paper's tables for our models, with plots.

    from srllm_guard.eval import run_eval, Limits
    run_eval("runs/eval-report", data_dir="../shared/data", limits=Limits(detection=100))

or ``srllm-guard eval --data-dir ../shared/data --out runs/eval-report``. One module per concern:
:mod:`~srllm_guard.eval.datasets` (readers), :mod:`~srllm_guard.eval.slices` (what is evaluated),
:mod:`~srllm_guard.eval.systems` (table rows), :mod:`~srllm_guard.eval.runner` (the run, cached per item),
:mod:`~srllm_guard.eval.detection`, :mod:`~srllm_guard.eval.rewrite`, :mod:`~srllm_guard.eval.judges`,
:mod:`~srllm_guard.eval.parity`, :mod:`~srllm_guard.eval.stereoset` (metrics),
:mod:`~srllm_guard.eval.report` and :mod:`~srllm_guard.eval.plots` (output). Importing this package is light:
models, torch and matplotlib load only when a run needs them.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["run_eval", "Limits", "DataPaths", "System", "build_systems", "Judge", "MiniLMJudge", "ProfanityJudge",
           "LikelihoodModel", "TASKS"]

_LAZY = {
    "run_eval": "srllm_guard.eval.runner",
    "TASKS": "srllm_guard.eval.runner",
    "Limits": "srllm_guard.eval.slices",
    "DataPaths": "srllm_guard.eval.datasets",
    "System": "srllm_guard.eval.systems",
    "build_systems": "srllm_guard.eval.systems",
    "Judge": "srllm_guard.eval.judges",
    "MiniLMJudge": "srllm_guard.eval.judges",
    "ProfanityJudge": "srllm_guard.eval.judges",
    "LikelihoodModel": "srllm_guard.eval.stereoset",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'srllm_guard.eval' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
