"""``run_eval``: every system over every slice, results cached per item, then metrics, report and plots.

Per system with a model (see :mod:`srllm_guard.eval.systems`):

1. detection: ``backend.check(text, rewrite=False)`` on every labelled item -> P(biased);
2. rewrite: each positive of the slice goes through the real guard (``SRGuard.check``: split, score, rewrite,
   re-check, fallback) with the evaluation's :class:`~srllm_guard.config.GuardConfig`; the returned text is
   what STA / SIM / FL / J score;
3. parity: every counterfactual text is scored; flagged ones go through the guard too;
4. StereoSet: per-token log-probs of the three continuations of each item.

Each finished item is appended to ``cache.jsonl`` (:class:`~srllm_guard.eval.cache.ResultCache`) before
the next starts, so an interrupted run resumes where it stopped. A guard call that ends in a backend
error raises (nothing is cached for it) instead of scoring the fallback text.
"""

from __future__ import annotations

import hashlib
import json
import shlex
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from srllm_guard.errors import BackendError, ConfigError, DataError
from srllm_guard.eval.cache import ResultCache
from srllm_guard.eval.datasets import DataPaths, Item
from srllm_guard.eval.detection import detection_metrics
from srllm_guard.eval.judges import Judge, MiniLMEmbedder, MiniLMJudge, ProfanityJudge, judge_accuracy
from srllm_guard.eval.parity import parity_metrics
from srllm_guard.eval.rewrite import RewriteCase, score_rewrites, summarize
from srllm_guard.eval.slices import EvalData, Limits, load_data
from srllm_guard.eval.stereoset import item_logprobs, stereoset_metrics
from srllm_guard.eval.systems import System, build_systems

if TYPE_CHECKING:
    from srllm_guard.guard import SRGuard

__all__ = ["TASKS", "run_eval"]

TASKS = ("detection", "rewrite", "parity", "stereoset")


class _LazyEmbedder:
    """MiniLM, loaded on the first ``encode`` (runs that never need SIM never load it); each distinct text is
    embedded once per run (sources recur across systems, the judge and SIM)."""

    name = MiniLMEmbedder.name

    def __init__(self, n_threads: int) -> None:
        self.n_threads = n_threads
        self._model: MiniLMEmbedder | None = None
        self._memo: dict[str, Any] = {}

    def encode(self, texts: Sequence[str]) -> Any:
        import numpy as np

        missing = list(dict.fromkeys(t for t in texts if t not in self._memo))
        if missing:
            if self._model is None:
                self._model = MiniLMEmbedder(n_threads=self.n_threads)
            self._memo.update(zip(missing, self._model.encode(missing)))
        return np.stack([self._memo[t] for t in texts]) if texts else np.zeros((0, 384))


def _check_args(threshold: float, target_fpr: float, norm: str, tasks: Iterable[str], limits: Limits,
                judge: Any) -> None:
    problems = []
    if not 0.0 <= threshold <= 1.0:
        problems.append(f"threshold must be in [0, 1], got {threshold}")
    if not 0.0 < target_fpr < 1.0:
        problems.append(f"target_fpr must be in (0, 1), got {target_fpr}")
    if norm not in ("mean", "sum"):
        problems.append(f"stereoset_norm must be 'mean' or 'sum', got {norm!r}")
    unknown = sorted(set(tasks) - set(TASKS))
    if unknown:
        problems.append(f"unknown task(s) {', '.join(unknown)}; use {', '.join(TASKS)}")
    for name, value in vars(limits).items():
        if value is not None and (not isinstance(value, int) or value < 1):
            problems.append(f"limits.{name} must be a positive int or None, got {value!r}")
    if isinstance(judge, str) and judge not in ("minilm", "finetuned", "profanity"):
        problems.append(f"judge must be 'minilm', 'finetuned', 'profanity' or a Judge, got {judge!r}")
    if problems:
        raise ConfigError("; ".join(problems))


def _guard_config(threshold: float, max_new_tokens: int, settings: dict | None) -> Any:
    from srllm_guard.config import GuardConfig

    # no timeout (a slow shared CPU must not turn into refusals) and no retries: a failure stops the run
    return GuardConfig(**{"threshold": threshold, "max_new_tokens": max_new_tokens, "timeout_s": None,
                          "retries": 0, **(settings or {})})


def _tag(config: Any, include: set[str] | None = None) -> str:
    """A short hash of the config (every field, or only those in ``include``)."""
    dumped = json.dumps(config.model_dump(mode="json", include=include, exclude={"audit_hook"}), sort_keys=True)
    return hashlib.sha256(dumped.encode()).hexdigest()[:10]


_VERDICT_FIELDS = {"threshold", "max_sentence_chars", "answered_questions"}
"""The settings that change a detection score (not the rewrite policy): their hash is part of the ``detect`` task
name."""


def _text_key(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()[:20]


class _Worker:
    """Runs one system's items, reading and filling the cache."""

    def __init__(self, system: System, cache: ResultCache, config: Any, bar: Any) -> None:
        self.system, self.cache, self.config, self.bar = system, cache, config, bar
        self.tag, self.verdict_tag = _tag(config), _tag(config, _VERDICT_FIELDS)
        self._guard: SRGuard | None = None
        self._scorer: Any = None

    def _cached(self, task: str, key: str, compute) -> Any:
        result = self.cache.get(task, self.system.key, key)
        if result is None:
            result = compute()
            self.cache.put(task, self.system.key, key, result)
        self.bar.update(1)
        return result

    def guarded(self, text: str) -> dict:
        if self._guard is None:
            from srllm_guard.guard import SRGuard

            self._guard = SRGuard(backend=self.system.backend, config=self.config)
        record = self._guard.check(text)
        if record.error:
            raise BackendError(f"{self.system.name}: the guard's backend failed on an evaluation item "
                               f"({record.error}); fix it and run again to resume")
        return {"output": record.text, "action": record.action, "score": record.score,
                "reasons": sorted({s.reason for s in record.spans if s.reason})}

    def score(self, text: str) -> float:
        """P(biased) the way the guard decides: sentence by sentence, the early-exit screen clearing what it is
        sure of and the full model deciding the rest (:class:`~srllm_guard.eval.judgement.Scorer`), the text's
        worst sentence."""
        if self._scorer is None:
            from srllm_guard.eval.judgement import Scorer

            self._scorer = Scorer(self.system.backend, self.config)
        return self._scorer([text])[0]

    def detect(self, items: list[Item]) -> list[float]:
        self.bar.set_description(f"{self.system.name}: detection")
        task = f"detect@{self.verdict_tag}"
        return [self._cached(task, it.key, lambda it=it: {"score": self.score(it.text)})["score"] for it in items]

    def rewrite(self, items: list[Item]) -> list[dict]:
        self.bar.set_description(f"{self.system.name}: rewrite")
        return [self._cached(f"rewrite@{self.tag}", it.key, lambda it=it: self.guarded(it.text)) for it in items]

    def parity(self, texts: list[tuple[int, str, str]]) -> list[dict]:
        self.bar.set_description(f"{self.system.name}: counterfactual")

        def one(text: str) -> dict:
            score = self.score(text)
            output = self.guarded(text)["output"] if score >= self.config.threshold else text
            return {"score": score, "output": output}

        out = []
        for row, column, text in texts:
            result = self._cached(f"parity@{self.tag}", _text_key(column, text), lambda t=text: one(t))
            out.append({"row": row, "column": column, "text": text, **result})
        return out

    def stereoset(self, items: list) -> list[tuple[Any, dict]]:
        self.bar.set_description(f"{self.system.name}: stereoset")
        model = self.system.likelihood
        return [(it, self._cached("stereoset", it.key, lambda it=it: item_logprobs(model, it))) for it in items]


def _cf_texts(data: EvalData) -> list[tuple[int, str, str]]:
    return [(i, column, text) for i, row in enumerate(data.counterfactual)
            for column, text in [("Original", row.original), *row.variants.items()]]


def _run_system(system: System, data: EvalData, tasks: set[str], worker: _Worker | None) -> dict:
    """Raw per-item results of one system (the no-guard baseline needs no model)."""
    raw: dict[str, Any] = {"detection": {}, "rewrite": {}, "parity": [], "stereoset": []}
    for name, items in data.detection.items():
        if "detection" in tasks:
            raw["detection"][name] = worker.detect(items) if worker else [0.0] * len(items)
    for name in data.detection:  # every score first: generation is the slow part
        if "rewrite" in tasks:
            raw["rewrite"][name] = (worker.rewrite(data.rewrite[name]) if worker else
                                    [{"output": it.text, "action": "pass", "score": 0.0, "reasons": []}
                                     for it in data.rewrite[name]])
    if "parity" in tasks and data.counterfactual:
        texts = _cf_texts(data)
        raw["parity"] = (worker.parity(texts) if worker else
                         [{"row": r, "column": c, "text": t, "score": 0.0, "output": t} for r, c, t in texts])
    if "stereoset" in tasks and data.stereoset and worker and system.likelihood is not None:
        raw["stereoset"] = worker.stereoset(data.stereoset)
    return raw


def _build_judge(judge: Judge | str, data: EvalData, out: Path, embedder: Any, seed: int, limits: Limits,
                 progress: bool = True) -> Judge:
    if not isinstance(judge, str):
        return judge
    if judge == "profanity":
        return ProfanityJudge()
    if not data.judge_train:
        raise DataError(f"the {judge!r} judge is trained on labelled files the evaluation does not use, and none "
                        "was found: pass --judge-train FILE (e.g. jigsaw/dummy_sample/train.csv), --data-dir, "
                        "or --judge profanity")
    info = {"seed": seed, "per_file": limits.judge_per_file, "n": len(data.judge_train),
            "texts_sha256": hashlib.sha256("\n".join(f"{it.label}\t{it.text}" for it in data.judge_train)
                                           .encode("utf-8")).hexdigest()}
    if judge == "finetuned":
        from srllm_guard.eval.judges import EncoderJudge

        return EncoderJudge.cached(out / "judge.pt", [it.text for it in data.judge_train],
                                   [it.label for it in data.judge_train], info=info, epochs=2, seed=seed,
                                   progress=progress)
    path = out / "judge.json"
    if path.is_file():
        saved = MiniLMJudge.load(path, embedder)
        if all(saved.info.get(k) == v for k, v in info.items()):
            return saved
    fitted = MiniLMJudge.fit(embedder, [it.text for it in data.judge_train], [it.label for it in data.judge_train],
                             info=info)
    fitted.save(path)
    return fitted


def run_eval(
    out_dir: str | Path,
    *,
    data_dir: str | Path | None = None,
    paths: DataPaths | None = None,
    systems: list[System] | None = None,
    judge: Judge | str = "minilm",
    embedder: Any = None,
    limits: Limits = Limits(),
    threshold: float = 0.5,
    target_fpr: float = 0.05,
    stereoset_norm: str = "mean",
    tasks: Iterable[str] = TASKS,
    seed: int = 0,
    exclude: Iterable[str | Path] = (),
    guard_settings: dict | None = None,
    max_new_tokens: int = 128,
    n_threads: int = 1,
    progress: bool = True,
    plots: bool = True,
) -> dict:
    """Evaluate ``systems`` (default: no-guard, zero-shot base, base + shipped adapter) and write the report.

    Args:
        out_dir: report folder: ``metrics.json``, ``report.md``, PNG plots, ``cache.jsonl`` (resume), ``judge.json``.
        data_dir: a folder shaped like shared/data; ``paths`` (a :class:`DataPaths`) overrides it file by file.
        judge: ``'minilm'`` (logistic on MiniLM embeddings, trained here, see :mod:`srllm_guard.eval.judges`),
            ``'finetuned'`` (MiniLM fine-tuned end to end here, two epochs; ``judge.pt``), ``'profanity'`` or any
            Judge.
        embedder: for SIM (default all-MiniLM-L6-v2, loaded only when needed).
        limits: slice sizes (:class:`Limits`). threshold: the guard's operating point; target_fpr: the
            false-positive rate whose threshold is reported. stereoset_norm: ``'mean'`` per token or ``'sum'``.
        exclude: trainer JSONL splits whose texts must not be evaluated on.
        guard_settings: extra :class:`GuardConfig` fields for the rewrite path (e.g. ``{"fallback": "flag"}``).

    Returns the metrics (also written to ``metrics.json``).
    """
    from tqdm.auto import tqdm

    started = time.perf_counter()
    tasks = set(tasks)
    _check_args(threshold, target_fpr, stereoset_norm, tasks, limits, judge)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if paths is None:
        if data_dir is None:
            raise DataError("no evaluation data: pass --data-dir (a folder shaped like shared/data) or file flags")
        paths = DataPaths.from_dir(data_dir)
    data = load_data(paths, limits, seed=seed, exclude=exclude, tasks=tasks,
                     judge_needed=judge in ("minilm", "finetuned"))
    if not (data.detection or data.counterfactual or data.stereoset):
        raise DataError(f"none of the data files for tasks {sorted(tasks)} was found or given: {paths}")
    config = _guard_config(threshold, max_new_tokens, guard_settings)
    systems = build_systems(n_threads=n_threads) if systems is None else systems
    embedder = embedder or _LazyEmbedder(n_threads)
    the_judge = None
    if "rewrite" in tasks and any(data.rewrite.values()):  # before any model time: a missing judge fails fast
        the_judge = _build_judge(judge, data, out, embedder, seed, limits, progress)

    units = 0
    for s in systems:
        if s.backend is not None:
            units += sum(map(len, data.detection.values())) if "detection" in tasks else 0
            units += sum(map(len, data.rewrite.values())) if "rewrite" in tasks else 0
            units += len(_cf_texts(data)) if "parity" in tasks else 0
            units += len(data.stereoset) if "stereoset" in tasks and s.likelihood is not None else 0
    raw: dict[str, dict] = {}
    with ResultCache(out / "cache.jsonl") as cache, tqdm(total=units, unit="item", disable=not progress) as bar:
        for s in systems:
            worker = _Worker(s, cache, config, bar) if s.backend is not None else None
            raw[s.name] = _run_system(s, data, tasks, worker)

    from srllm_guard.eval.report import write_report

    metrics = _metrics(systems, raw, data, tasks, config, the_judge, embedder, threshold, target_fpr,
                       stereoset_norm, seed, limits)
    metrics["meta"]["wall_time_s"] = round(time.perf_counter() - started, 1)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2, ensure_ascii=False))
    write_report(out, metrics, raw, data, plots=plots)
    return metrics


def _metrics(systems, raw, data, tasks, config, the_judge, embedder, threshold, target_fpr, norm, seed, limits):
    from srllm_guard import __version__

    date = datetime.now(timezone.utc).isoformat(timespec="seconds")
    data_hashes = {path: f["sha256"] for path, f in data.files.items()}
    rows = []
    for s in systems:
        r = raw[s.name]
        row: dict[str, Any] = {**s.describe(), "date": date, "data_sha256": data_hashes}
        if r["detection"]:
            labels = {n: [it.label for it in data.detection[n]] for n in r["detection"]}
            row["detection"] = {n: detection_metrics(labels[n], sc, threshold=threshold, target_fpr=target_fpr)
                                for n, sc in r["detection"].items()}
            row["detection"]["all"] = detection_metrics(
                [y for n in r["detection"] for y in labels[n]], [x for sc in r["detection"].values() for x in sc],
                threshold=threshold, target_fpr=target_fpr)
        if r["rewrite"] and the_judge is not None:
            per_item = {n: score_rewrites([RewriteCase(it.text, res["output"], it.refs)
                                           for it, res in zip(data.rewrite[n], results)], the_judge, embedder)
                        for n, results in r["rewrite"].items()}
            row["rewrite"] = {n: summarize(items) for n, items in per_item.items()}
            row["rewrite"]["all"] = summarize([x for items in per_item.values() for x in items])
            actions = [res["action"] for results in r["rewrite"].values() for res in results]
            row["rewrite"]["actions"] = {a: actions.count(a) for a in sorted(set(actions))}
        if r["parity"]:
            row["parity"] = parity_metrics(r["parity"], threshold=threshold, embedder=embedder)
        if r["stereoset"]:
            row["stereoset"] = stereoset_metrics(r["stereoset"], norm=norm)
            row["stereoset"]["other_norm"] = {k: v for k, v in stereoset_metrics(
                r["stereoset"], norm="sum" if norm == "mean" else "mean").items() if k in ("norm", "lms", "ss", "icat")}
        rows.append(row)
    meta = {
        "date": date, "srllm_guard_version": __version__, "threshold": threshold, "target_fpr": target_fpr,
        "command": shlex.join(["srllm-guard", *sys.argv[1:]]) if sys.argv[1:2] == ["eval"] else None,
        "seed": seed, "limits": vars(limits), "tasks": sorted(tasks), "stereoset_norm": norm,
        "guard_config": config.model_dump(mode="json", exclude={"audit_hook"}),
        "embedder": getattr(embedder, "name", type(embedder).__name__), "data": data.files, "dropped": data.dropped,
        "counts": {"detection": {n: len(v) for n, v in data.detection.items()},
                   "rewrite": {n: len(v) for n, v in data.rewrite.items()},
                   "counterfactual_texts": len(_cf_texts(data)), "stereoset": len(data.stereoset),
                   "judge_train": len(data.judge_train)},
    }
    result: dict[str, Any] = {"meta": meta, "systems": rows}
    if the_judge is not None:
        items = [it for items in data.detection.values() for it in items]
        meta["judge"] = {"name": the_judge.name, "info": getattr(the_judge, "info", {})}
        result["judge_accuracy"] = {n: judge_accuracy(the_judge, [it.label for it in v], [it.text for it in v])
                                    for n, v in data.detection.items()}
        result["judge_accuracy"]["all"] = judge_accuracy(the_judge, [it.label for it in items],
                                                         [it.text for it in items])
    return result
