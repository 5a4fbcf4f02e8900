"""Cut the files into the evaluation slices and the judge's training set, before any model time is spent.

* detection / rewrite: one seeded, balanced slice of ``limits.detection`` items per dataset (``srllm``,
  ``paradetox``, ``jigsaw``); the positives of that slice (up to ``limits.rewrite``) are also rewritten;
* counterfactual: whole rows (Original + every variant), as many as hold ``limits.counterfactual`` texts;
* StereoSet: ``limits.stereoset`` items;
* judge training: the ``judge_train`` files; a file used by both sides is cut in two by source row
  (:func:`~srllm_guard.eval.datasets.half`), and any text of an evaluation file is removed from it.

Items whose text the trainer saw (``exclude``: its train/dev JSONL splits) are dropped and counted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from srllm_guard.errors import DataError
from srllm_guard.eval.datasets import (
    CFRow,
    DataPaths,
    Item,
    StereoItem,
    balanced_sample,
    half,
    read_counterfactual,
    read_detection,
    read_seen,
    read_stereoset,
    unit,
)
from srllm_guard.models import sha256_file

__all__ = ["Limits", "EvalData", "load_data"]


@dataclass(frozen=True)
class Limits:
    """How much of each file is used (``None``: all of it)."""

    detection: int | None = 100
    """Labelled items per detection dataset (half positive, half negative where possible)."""
    rewrite: int | None = None
    """Positives rewritten per dataset (``None``: every positive of the detection slice)."""
    counterfactual: int | None = 300
    """Counterfactual texts (rounded up to whole rows of Original + variants)."""
    stereoset: int | None = 200
    """StereoSet items (each scores three continuations)."""
    judge_per_file: int | None = 600
    """Training texts per judge file."""


@dataclass
class EvalData:
    detection: dict[str, list[Item]] = field(default_factory=dict)
    rewrite: dict[str, list[Item]] = field(default_factory=dict)
    counterfactual: list[CFRow] = field(default_factory=list)
    stereoset: list[StereoItem] = field(default_factory=list)
    judge_train: list[Item] = field(default_factory=list)
    files: dict[str, dict] = field(default_factory=dict)
    """Every file read: path -> {sha256, bytes}."""
    dropped: dict[str, dict[str, int]] = field(default_factory=dict)


def _ranked(items: Iterable, key, limit: int | None, seed: int) -> list:
    items = list(items)
    if limit is None or limit >= len(items):
        return items
    keep = {id(x) for x in sorted(items, key=lambda x: unit(key(x), seed))[:limit]}
    return [x for x in items if id(x) in keep]


def load_data(paths: DataPaths, limits: Limits, *, seed: int = 0, exclude: Iterable[str | Path] = (),
              tasks: Iterable[str] = ("detection", "rewrite", "parity", "stereoset"),
              judge_needed: bool = True) -> EvalData:
    tasks = set(tasks)
    data = EvalData()
    seen = read_seen(exclude)
    eval_files = {p for p in (paths.srllm, paths.paradetox, *paths.jigsaw) if p is not None}
    read_cache: dict[Path, list[Item]] = {}
    touched: list[Path] = []

    def read(path: Path, dataset: str) -> list[Item]:
        if path not in read_cache:
            read_cache[path] = read_detection(path, dataset=dataset)
        return [Item(dataset, it.text, it.label, it.refs, it.group) for it in read_cache[path]]

    all_eval_texts: set[str] = set()
    if tasks & {"detection", "rewrite"}:
        sources: list[tuple[str, list[Path | None]]] = [
            ("srllm", [paths.srllm]), ("paradetox", [paths.paradetox]), ("jigsaw", list(paths.jigsaw))]
        for name, given in sources:
            files = [p for p in given if p is not None]
            if not files:
                continue
            items, drops = [], {"seen_in_training": 0, "judge_half": 0}
            for path in files:
                for it in read(path, name):
                    if path in paths.judge_train and half(it, seed) != "eval":
                        drops["judge_half"] += 1
                        continue
                    all_eval_texts.add(it.text)
                    if it.text in seen:
                        drops["seen_in_training"] += 1
                    else:
                        items.append(it)
            if not items:
                raise DataError(f"no {name} item is left for evaluation in {', '.join(map(str, files))} "
                                f"after dropping {drops}; check --exclude and the file")
            data.detection[name] = balanced_sample(items, limits.detection, seed)
            positives = [it for it in data.detection[name] if it.label == 1]
            data.rewrite[name] = _ranked(positives, lambda it: "rewrite:" + it.key, limits.rewrite, seed)
            data.dropped[name] = drops
    if "parity" in tasks and paths.counterfactual is not None:
        rows = read_counterfactual(paths.counterfactual)
        touched.append(paths.counterfactual)
        per_row = 1 + max(len(r.variants) for r in rows)
        n_rows = None if limits.counterfactual is None else max(1, math.ceil(limits.counterfactual / per_row))
        data.counterfactual = _ranked(rows, lambda r: "cf:" + r.original, n_rows, seed)
    if "stereoset" in tasks and paths.stereoset is not None:
        data.stereoset = _ranked(read_stereoset(paths.stereoset), lambda s: "ss:" + s.key, limits.stereoset, seed)
        touched.append(paths.stereoset)
    if "rewrite" in tasks and judge_needed and paths.judge_train:
        for path in paths.judge_train:
            items = [it for it in read(path, "judge")
                     if it.text not in all_eval_texts and (path not in eval_files or half(it, seed) == "judge")]
            data.judge_train += balanced_sample(items, limits.judge_per_file, seed)
    touched += [p for p in read_cache if p not in touched]
    data.files = {str(p): {"sha256": sha256_file(p), "bytes": p.stat().st_size} for p in touched}
    return data
