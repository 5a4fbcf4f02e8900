"""Distil SR-LLM's own verdicts into its early-exit screen: a probe on the model's state after an early block.

The shipped early-exit probe of the default adapter (read by ``LlamaCppBackend(screen='default')``, see
:mod:`srllm_guard.backends.llamacpp.screen`; ``scripts/train_default.sh`` runs this on the training run)::

    python -m trainers.distill --data-dir ../shared/data --adapter runs/sr-gemma3-270m-v14/adapter.gguf \\
        --train-split runs/sr-gemma3-270m-v14/splits/train.jsonl \\
        --cache runs/sr-gemma3-270m-v14/distill/teacher.jsonl \\
        --per-source 1200 --budget-min 22 --n-threads 2 --features early --early-layer 10 \\
        --early-position text_end --recall 0.998 --precision 0.98 --long-words 24 \\
        --out runs/sr-gemma3-270m-v14/early_exit.npz

(v10's is the first calibrated by length, ``--long-words 24``: texts of more than 24 words get a ``low`` of their
own; see ``Args.long_words``.)

(the first adapter's probe: ``--adapter adapters/sr-gemma3-270m/adapter.gguf --per-source 800 --budget-min 15``
without ``--train-split``; v3's and v4's first probe: ``--per-source 300 --budget-min 25``, 7,656 training
sentences for v4, against 25,778 with the settings above: held-out ROC AUC 0.965 -> 0.979, flags kept 98.8% ->
99.5%, clean verdicts sent on to the full model 42% -> 37%, both at block 6; block 10, the shipped one: AUC
0.997, 9.5%). The head and its fitting helpers live in :mod:`srllm_guard.probe`.

Read top-down: ``setup`` (arguments) -> ``main`` (corpus -> teacher scores -> embeddings -> ``fit``) -> report.

1. **Corpus**: sentences from the files given (ParaDetox toxic + rewrites and the cannot-rewrite file, the
   SR-LLM train CSV's biased + debiased texts, Jigsaw comments, StereoSet, BOLD prompts; WNC only when asked
   for, see ``DEFAULTS``);
   long texts are split into sentences (:mod:`srllm_guard.split`); at most ``--per-source`` sentences per
   source, chosen and interleaved by a stable hash, so a run cut short by the budget still covers every source.
2. **Teacher**: the full LlamaCppBackend's P(biased) for each sentence, appended to a JSONL cache (resumable:
   a rerun scores only what is missing, and rows of another teacher are ignored). ``--teacher labels`` uses
   the human labels instead, for building and testing without an adapter; the head and report then say
   ``teacher: human-labels (NOT SR-LLM)``.
3. **Fit**: split by pair group into train / calib / test (70/15/15); logistic head on the block states (soft
   teacher targets, class-balanced, L2 chosen on calib); ``low`` = the largest student score that keeps
   recall of the teacher's positives >= ``--recall`` on calib (one per teacher threshold 0.1 .. 0.9); a Platt
   fit maps student scores onto the teacher's scale.
4. **Report**: agreement with the teacher on the test slice (student alone and cascade: accuracy, recall of
   teacher positives, share escalated), and the same on a sample of ``counterfactual-inhouse.csv`` sentences
   (evaluation only: never fitted on, never used for calibration). ``infer_50.csv`` is never read.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from srllm_guard.errors import ConfigError, DataError
from srllm_guard.probe import word_count
from srllm_guard.split import split_text

THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
L2_GRID = (1e-6, 1e-5, 1e-4, 1e-3, 1e-2)
HELD_OUT = ("infer_50.csv", "counterfactual-inhouse.csv")
# --data-dir fills these in (relative to it) for flags left unset. WNC is left out on purpose (pass --wnc-pre /
# --wnc-post to add it): measured with the first SR-LLM adapter, the teacher flags ~50% of WNC sentences whatever
# their human label (52% of biased, 50% of neutralised ones) and reacts to its lowercase form (capitalising the
# first letter drops flags from 100% to 76%); the case-blind student cannot follow that, and fitting it doubled
# the share of clean everyday sentences escalated (20-25% -> 45-50%).
DEFAULTS = {
    "srllm_csv": "sr_llm_inhouse/train_500.csv",
    "paradetox": "paradetox/paradetox.tsv",
    "paradetox_cannot": "paradetox/paradetox_cannot_rewrite.tsv",
    "jigsaw": "jigsaw",
    "stereoset": "stereoset/stereoset_dev_flat.jsonl",
    "bold": "bold",
    "counterfactual": "sr_llm_inhouse/counterfactual-inhouse.csv",
}


@dataclass
class Args:
    """Every setting of a distillation run (the CLI flags, one for one)."""

    out: Path = Path("runs/distill/early_exit.npz")
    """Where the head goes; the report goes next to it as ``<stem>.report.json`` unless ``report`` is set."""
    cache: Path = Path("runs/distill/teacher.jsonl")
    """Teacher scores, one JSON line per sentence (resumable)."""
    report: Path | None = None
    teacher: str = "llamacpp"
    """'llamacpp' (SR-LLM: needs ``adapter``) or 'labels' (human labels: a stand-in, never the real thing)."""
    adapter: Path | None = None
    model: Path | None = None
    """Base GGUF (default: the embedded Gemma 3 270M)."""
    n_threads: int = 1
    data_dir: Path | None = None
    srllm_csv: Path | None = None
    paradetox: Path | None = None
    paradetox_cannot: Path | None = None
    wnc_pre: Path | None = None
    wnc_post: Path | None = None
    jigsaw: Path | None = None
    """A Jigsaw CSV with ``comment_text`` (and ``toxic`` where labelled), or a folder of them."""
    stereoset: Path | None = None
    bold: Path | None = None
    """A BOLD ``*_prompt.json`` file or a folder of them."""
    clean_text: Path | None = None
    """Plain-text or Markdown prose (a file, or a folder of ``.txt``/``.md``): everyday text the guard will see."""
    counterfactual: Path | None = None
    train_split: Path | None = None
    """A trainer's ``splits/train.jsonl``: its sentences join the corpus, one source per source and functionality
    (the functional suite's threats, counter-speech, ... each get their own ``per_source`` cap)."""
    per_source: int = 600
    """Most sentences taken from each source."""
    counterfactual_sample: int = 300
    budget_min: float = 15.0
    """Teacher minutes for the corpus in this run (the counterfactual sample comes on top); the cache keeps
    what is done, a rerun continues."""
    threshold: float = 0.5
    """The teacher threshold the head's main ``low`` is calibrated for (the guard's default threshold)."""
    recall: float = 0.98
    long_words: int = 0
    """Calibrate ``low`` apart for texts of more than this many words (:func:`srllm_guard.probe.word_count`), each
    length keeping ``recall``; 0: one ``low`` for all. Long texts whose biased words come first (run-on comments)
    score low at their end and pull a single ``low`` down for every sentence."""
    precision: float = 0.98
    """Precision the 'high' cut (flag without the full model, verdict-only callers) must keep on calib."""
    seed: int = 0
    features: str = "early"
    """What the head reads: 'early' (SR-LLM's own hidden state after block ``early_layer``: the early-exit probe
    for LlamaCppBackend(screen=)); the only kind since the MiniLM student was retired."""
    merge: int = 1
    """1: the teacher runs the adapter folded into the base, as LlamaCppBackend does by default (its
    early-exit probe must be fitted on those weights); 0: llama.cpp's adapter path."""
    early_layer: int = 6
    early_position: str = "text_end"
    """'text_end' (the text's last token) or 'verdict' (the last template token, where the verdict is read)."""


@dataclass(frozen=True)
class Item:
    text: str
    source: str
    group: str
    label: float | None  # the human label where one exists (1 biased, 0 neutral)


# ------------------------------------------------------------------------------------------------- setup

def setup(argv: list[str] | None = None) -> Args:
    """Parse flags into :class:`Args`; every problem is collected and raised once, naming the flag."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    for name, value in asdict(Args()).items():
        kind = float if isinstance(value, float) else int if isinstance(value, int) else str
        shown = f"{_HELP.get(name, '')} (default: {value})".strip()
        parser.add_argument("--" + name.replace("_", "-"), type=kind, default=None, help=shown)
    ns = vars(parser.parse_args(argv))
    args = Args(**{k: (Path(v) if isinstance(getattr(Args(), k), Path) or k in _PATHS else v)
                   for k, v in ns.items() if v is not None})
    if args.data_dir is not None:
        for name, rel in DEFAULTS.items():
            if getattr(args, name) is None and (args.data_dir / rel).exists():
                setattr(args, name, args.data_dir / rel)
    problems = []
    if args.teacher not in ("llamacpp", "labels"):
        problems.append(f"--teacher must be 'llamacpp' or 'labels', got {args.teacher!r}")
    if args.teacher == "llamacpp" and (args.adapter is None or not args.adapter.is_file()):
        problems.append(f"--adapter must name the SR-LLM adapter GGUF for --teacher llamacpp (got {args.adapter})")
    for name in _SOURCES:
        path = getattr(args, name)
        if path is not None and not (path.is_file() or (name in _FOLDERS and path.is_dir())):
            problems.append(f"--{name.replace('_', '-')} {path}: file not found")
        if path is not None and path.name in HELD_OUT:
            problems.append(f"--{name.replace('_', '-')} {path}: {path.name} is held out for evaluation, "
                            "never fitted on")
    if (args.wnc_pre is None) != (args.wnc_post is None):
        problems.append("--wnc-pre and --wnc-post go together")
    if args.counterfactual is not None and not args.counterfactual.is_file():
        problems.append(f"--counterfactual {args.counterfactual}: file not found")
    if not 0 < args.recall <= 1 or not 0 < args.precision <= 1 or not 0 < args.threshold < 1:
        problems.append("--recall and --precision must be in (0, 1] and --threshold in (0, 1)")
    if args.features != "early":
        problems.append(f"--features must be 'early' (the MiniLM student was retired), got {args.features!r}")
    if args.early_position not in ("text_end", "verdict") or args.early_layer < 0:
        problems.append("--early-position must be 'text_end' or 'verdict' and --early-layer >= 0")
    if args.per_source < 1 or args.n_threads < 1 or args.budget_min <= 0:
        problems.append("--per-source, --n-threads and --budget-min must be positive")
    if problems:
        raise ConfigError("distill: " + "; ".join(problems))
    return args


_HELP = {
    "out": "the head (.npz); the JSON report goes next to it as <stem>.report.json",
    "cache": "JSONL of teacher scores; a rerun continues from it",
    "teacher": "'llamacpp' (SR-LLM, needs --adapter) or 'labels' (human labels: a stand-in only)",
    "adapter": "SR-LLM adapter GGUF (the teacher)",
    "model": "base GGUF (default: the embedded Gemma 3 270M)",
    "n_threads": "llama.cpp threads (1 on a busy 2-core machine)",
    "data_dir": "a folder shaped like shared/data: fills in every source flag left unset",
    "clean_text": "plain-text/Markdown prose, a file or folder (everyday text the guard will see)",
    "counterfactual": "counterfactual-inhouse.csv: evaluation only, never fitted on",
    "train_split": "a trainer's splits/train.jsonl: its sentences join the corpus (one source per functionality)",
    "per_source": "most sentences taken from each source",
    "counterfactual_sample": "counterfactual sentences to score for the extra held-out figure",
    "budget_min": "teacher minutes for the corpus in this run (the counterfactual sample comes on top)",
    "threshold": "teacher threshold the main 'low' is calibrated for",
    "recall": "recall of teacher positives that 'low' must keep on the calib slice",
    "precision": "precision the 'high' cut (flagged without the full model, verdict-only) must keep on calib",
    "features": "'early': the probe reads SR-LLM's own state after block --early-layer",
    "early_layer": "block whose output the early-exit probe reads (0-based)",
    "merge": "1: teacher = adapter folded into the base (the runtime default); 0: llama.cpp's adapter path",
    "early_position": "'text_end' or 'verdict': the token whose state the early-exit probe reads",
}
_PATHS = {f for f, t in Args.__annotations__.items() if "Path" in str(t)}
_SOURCES = ("srllm_csv", "paradetox", "paradetox_cannot", "wnc_pre", "wnc_post", "jigsaw", "stereoset", "bold",
            "clean_text", "train_split")
_FOLDERS = ("jigsaw", "bold", "clean_text")


def _files(path: Path, *patterns: str) -> list[Path]:
    return [path] if path.is_file() else sorted(p for pattern in patterns for p in path.rglob(pattern))


# ------------------------------------------------------------------------------------------------ corpus

def _unit(key: str, seed: int) -> float:
    return int.from_bytes(hashlib.sha256(f"{seed}\x00{key}".encode()).digest()[:8], "big") / 2**64


def _sentences(text: str) -> Iterator[str]:
    for piece in split_text(text, max_chars=600):
        sentence = " ".join(text[piece.start : piece.end].split())
        if len(sentence) >= 8 and len(sentence.split()) >= 2:
            yield sentence


def _from_examples(examples, source: str) -> Iterator[Item]:
    for ex in examples:
        for sentence in _sentences(ex.text):
            yield Item(sentence, source, ex.group, 1.0 if ex.biased else 0.0)


def _read_sources(args: Args) -> dict[str, list[Item]]:
    from trainers.data import normalize, read_paradetox, read_srllm_csv, read_wnc

    out: dict[str, list[Item]] = {}
    if args.srllm_csv:
        out["srllm"] = list(_from_examples(read_srllm_csv(args.srllm_csv), "srllm"))
    if args.paradetox:
        out["paradetox"] = list(_from_examples(read_paradetox(args.paradetox, limit=args.per_source, seed=args.seed),
                                               "paradetox"))
    if args.wnc_pre:
        out["wnc"] = list(_from_examples(read_wnc(args.wnc_pre, args.wnc_post, seed=args.seed), "wnc"))
    if args.paradetox_cannot:
        with open(args.paradetox_cannot, encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh, delimiter="\t"))
        column = next((c for c in (rows[0] if rows else {}) if "toxic" in c.lower()), None)
        if column is None:
            raise DataError(f"{args.paradetox_cannot}: no column with 'toxic' in its name")
        out["paradetox_cannot"] = [Item(s, "paradetox_cannot", f"pc:{s}", 1.0)
                                   for r in rows for s in _sentences(normalize(r[column] or ""))]
    if args.jigsaw:
        out["jigsaw"] = []
        for path in _files(args.jigsaw, "*.csv"):
            with open(path, encoding="utf-8", newline="") as fh:
                rows = list(csv.DictReader(fh))
            if not rows or "comment_text" not in rows[0]:
                continue
            for i, r in enumerate(rows):
                clean = "toxic" in r and all(r.get(k) in ("0", "0.0") for k in r if k not in ("id", "comment_text"))
                out["jigsaw"] += [Item(s, "jigsaw", f"jg:{path.name}:{i}", 0.0 if clean else None)  # a toxic
                                  for s in _sentences(r["comment_text"] or "")]  # comment's sentences vary
    if args.stereoset:
        items: list[Item] = []
        for i, line in enumerate(Path(args.stereoset).read_text(encoding="utf-8").splitlines()):
            row = json.loads(line)
            for key, label in (("context", 0.0), ("stereotype", 1.0), ("anti-stereotype", None), ("unrelated", 0.0)):
                text = row.get(key) or ""
                if "BLANK" not in text and not (row.get("type") == "intrasentence" and key == "unrelated"):
                    items += [Item(s, f"stereoset_{key}", f"ss:{i}", label) for s in _sentences(text)]
        for item in items:  # each kind is its own source (own cap): generic clean sentences are scarce
            out.setdefault(item.source, []).append(item)
    if args.bold:
        out["bold"] = []
        for path in _files(args.bold, "*_prompt.json"):
            prompts = json.loads(path.read_text(encoding="utf-8"))
            out["bold"] += [Item(p.strip(), "bold", f"bo:{entity}", 0.0) for group in prompts.values()
                            for entity, texts in group.items() for p in texts if len(p.split()) >= 2]
    if args.train_split:
        from trainers.data import read_jsonl

        for ex in read_jsonl(args.train_split):
            name = f"split:{ex.source}" + (f":{ex.functionality.split('+')[0]}" if ex.functionality else "")
            out.setdefault(name, []).extend(Item(t, name, ex.group, 1.0 if ex.biased else 0.0)
                                            for t in _sentences(ex.text))
    if args.clean_text:
        out["clean_text"] = [Item(s, "clean_text", f"ct:{path.name}:{i}", 0.0)
                             for path in _files(args.clean_text, "*.txt", "*.md")
                             for i, s in enumerate(_sentences(path.read_text(encoding="utf-8", errors="replace")))]
    if not out:
        raise DataError("no corpus source given: pass --data-dir or at least one source flag (see --help)")
    return out


def build_corpus(args: Args) -> list[Item]:
    """At most ``per_source`` sentences per source (stable hash), deduplicated, interleaved by hash."""
    seen: dict[str, Item] = {}
    for items in _read_sources(args).values():
        items = sorted(items, key=lambda it: _unit(it.text, args.seed))
        kept = 0
        for item in items:
            if kept >= args.per_source:
                break
            if item.text in seen:
                continue
            seen[item.text] = item
            kept += 1
    return sorted(seen.values(), key=lambda it: _unit("order:" + it.text, args.seed))


def _split(item: Item, seed: int) -> str:
    u = _unit("split:" + item.group, seed)
    return "test" if u < 0.15 else "calib" if u < 0.30 else "train"


# ----------------------------------------------------------------------------------------------- teacher

class Teacher:
    """P(biased) for a text from SR-LLM (llama.cpp) or, as a labelled stand-in, from the human label."""

    def __init__(self, args: Args, backend=None) -> None:
        """``backend``: any Backend to use as the teacher instead of the one ``args`` names (tests)."""
        self.backend = backend
        if backend is not None:
            self.id = f"{backend.model_id}:{(getattr(backend, 'model_hash', None) or 'none')[:16]}"
        elif args.teacher == "labels":
            self.id = "human-labels (NOT SR-LLM)"
        else:
            from srllm_guard.backends.llamacpp import LlamaCppBackend

            self.backend = LlamaCppBackend(model_path=args.model, adapter_path=args.adapter, n_threads=args.n_threads,
                                          screen=None, merge=bool(args.merge))
            self.id = f"{self.backend.model_id}:{(self.backend.adapter_hash or 'none')[:16]}"

    def score(self, item: Item) -> float | None:
        if self.backend is None:
            return item.label
        return self.backend.score(item.text)


def score_all(items: list[Item], teacher: Teacher, cache: Path, budget_s: float, what: str) -> dict[str, float]:
    """Teacher scores for ``items`` from ``cache``, scoring (and appending) the missing ones within ``budget_s``."""
    scores: dict[str, float] = {}
    if cache.is_file():
        for line in cache.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
            except ValueError:
                continue  # a line cut short by an interrupted run
            if row.get("teacher") == teacher.id:
                scores[row["text"]] = row["score"]
    todo = [it for it in items if it.text not in scores]
    print(f"{what}: {len(items) - len(todo)} of {len(items)} cached for teacher {teacher.id}", flush=True)
    cache.parent.mkdir(parents=True, exist_ok=True)
    started, done, chars = time.perf_counter(), 0, 0
    with cache.open("a", encoding="utf-8") as fh:
        for item in todo:
            elapsed = time.perf_counter() - started
            if elapsed > budget_s:
                print(f"{what}: budget spent after {done} sentences; rerun to continue", flush=True)
                break
            score = teacher.score(item)
            if score is None:
                continue
            scores[item.text] = score
            fh.write(json.dumps({"teacher": teacher.id, "text": item.text, "source": item.source, "score": score},
                                ensure_ascii=False) + "\n")
            done, chars = done + 1, chars + len(item.text)
            if teacher.backend is not None and done % 100 == 0:
                fh.flush()
                rate = done / (time.perf_counter() - started)
                fits = f", ~{int(rate * budget_s)} fit in the budget" if budget_s < float("inf") else ""
                print(f"  {done} scored, {rate:.1f} sentences/s, {chars / (time.perf_counter() - started):,.0f} "
                      f"chars/s{fits}", flush=True)
    return scores


class EarlyExitFeatures:
    """SR-LLM's hidden state after one block, as the "embedding" of a text (srllm_guard.backends.llamacpp.screen)."""

    def __init__(self, backend, layer: int, position: str) -> None:
        self.backend, self.layer, self.position = backend, layer, position
        self.model_hash = backend.early_exit_id(layer, position)
        self.dim = int(backend.hidden_states(["dimension probe"], layer=layer, position=position).shape[1])
        self.head_fields = {"layer": layer, "position": position, "features": "early_exit"}

    def embed(self, texts: list[str]) -> np.ndarray:
        from tqdm import tqdm

        parts = [np.zeros((0, self.dim), np.float32)]
        for start in tqdm(range(0, len(texts), 256), desc=f"block {self.layer} states", unit="batch", leave=False):
            parts.append(self.backend.hidden_states(texts[start : start + 256], layer=self.layer,
                                                    position=self.position))
        return np.concatenate(parts)

    def describe(self) -> dict:
        return {"features": "early_exit", "layer": self.layer, "position": self.position,
                "model": str(self.backend.model_path), "model_sha256": self.backend.model_hash,
                "adapter": str(self.backend.adapter_path), "adapter_sha256": self.backend.adapter_hash}


# ------------------------------------------------------------------------------------------------ fit

def _log_loss(p: np.ndarray, y: np.ndarray) -> float:
    """Class-balanced log loss against hard labels ``y``."""
    p = np.clip(p, 1e-7, 1 - 1e-7)
    parts = [-np.log(p[y]).mean() if y.any() else 0.0, -np.log(1 - p[~y]).mean() if (~y).any() else 0.0]
    return float(sum(parts) / 2)


def _auc(scores: np.ndarray, positive: np.ndarray) -> float | None:
    pos, neg = scores[positive], scores[~positive]
    if not len(pos) or not len(neg):
        return None
    ranks = np.argsort(np.argsort(np.concatenate([pos, neg]))) + 1.0
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def agreement(student: np.ndarray, teacher: np.ndarray, head, threshold: float,
              words: np.ndarray | None = None) -> dict:
    """The probe alone, and the probe as the guard uses it (``cascade``: clear below ``low``, the full model
    decides the rest), against the teacher's verdicts at ``threshold``. ``words``: each text's word count, for a
    head calibrated by length (without them such a head's lower ``low`` applies to every text)."""
    positive = teacher >= threshold
    mapped = np.array([head.to_teacher_scale(s) for s in student])
    alone = mapped >= threshold
    low = head.low_for(threshold)
    counts = [None] * len(student) if words is None else [int(w) for w in words]
    lows = [head.low_for(threshold, w) for w in counts]
    escalate = np.array([low is None or s >= low for s, low in zip(student, lows)], dtype=bool)
    cascade = escalate & positive  # escalated texts get the teacher's own verdict; the rest pass
    n = len(teacher)

    def recall(pred):
        return float((pred & positive).sum() / positive.sum()) if positive.any() else None

    return {
        "n": n, "teacher_positive": int(positive.sum()), "threshold": threshold, "low": low,
        **({"low_short": head.low_for(threshold, 0),
            "low_long": head.low_for(threshold, head.calibration["long_words"] + 1)}
           if head.calibration.get("long_words") else {}),
        "student_auc": _auc(student, positive),
        "student_alone": {"accuracy": float((alone == positive).mean()) if n else None, "recall": recall(alone),
                          "precision": float((alone & positive).sum() / alone.sum()) if alone.any() else None},
        "cascade": {"accuracy": float((cascade == positive).mean()) if n else None, "recall": recall(cascade),
                    "escalated_share": float(escalate.mean()) if n else None,
                    "escalated_share_of_teacher_negatives":
                        float(escalate[~positive].mean()) if (~positive).any() else None,
                    "missed_positives": int((positive & ~escalate).sum())},
        "detection": _detection(student, positive, escalate, head.high_for(threshold)),
    }


def _detection(student: np.ndarray, positive: np.ndarray, escalate: np.ndarray, high: float | None) -> dict | None:
    """Verdicts only (no rewrite): below ``low`` pass, at or above ``high`` flagged, the band gets the teacher."""
    if high is None or not len(student):
        return None
    flagged = student >= high
    band = escalate & ~flagged
    verdict = flagged | (band & positive)
    return {"high": high, "accuracy": float((verdict == positive).mean()),
            "recall": float((verdict & positive).sum() / positive.sum()) if positive.any() else None,
            "precision": float((verdict & positive).sum() / verdict.sum()) if verdict.any() else None,
            "escalated_share": float(band.mean())}


def fit(x: dict[str, np.ndarray], y: dict[str, np.ndarray], args: Args, embedding_hash: str, teacher_id: str,
        head_fields: dict | None = None, words: np.ndarray | None = None):
    """Head on train (L2 picked on calib), ``low`` per threshold and Platt on calib (``low`` apart for the long
    calib texts with ``args.long_words``: ``words`` are the calib texts' word counts). Returns (head, choice)."""
    from srllm_guard.probe import Head, fit_head, fit_platt, pick_high, pick_low

    hard = {k: v >= args.threshold for k, v in y.items()}
    for name in ("train", "calib"):
        if hard[name].sum() < 5 or (~hard[name]).sum() < 5:
            raise DataError(f"the {name} slice has {hard[name].sum()} teacher positives and {(~hard[name]).sum()} "
                            "negatives; need 5 of each: score more sentences (raise --budget-min, rerun)")
    losses = {}
    for l2 in L2_GRID:
        head = fit_head(x["train"], y["train"], embedding_hash=embedding_hash, l2=l2, threshold=args.threshold)
        losses[l2] = _log_loss(head.scores(x["calib"]), hard["calib"])
    l2 = min(losses, key=losses.get)
    head = fit_head(x["train"], y["train"], embedding_hash=embedding_hash, l2=l2, threshold=args.threshold)
    calib = head.scores(x["calib"])
    short = np.ones(len(calib), dtype=bool)
    if args.long_words:
        if words is None or len(words) != len(calib):
            raise ConfigError("--long-words needs the calib texts' word counts")
        short = np.asarray(words) <= args.long_words

    def lows_of(mask: np.ndarray) -> list[list[float]]:
        return [[t, pick_low(calib[mask], y["calib"][mask] >= t, args.recall)] for t in THRESHOLDS
                if (y["calib"][mask] >= t).sum() >= 5]

    lows = lows_of(short)
    highs = [[t, h] for t in THRESHOLDS if (y["calib"] >= t).sum() >= 5
             and (h := pick_high(calib, y["calib"] >= t, args.precision)) is not None]
    calibration = {
        "teacher": teacher_id, "teacher_threshold": args.threshold, "recall_target": args.recall, "l2": l2,
        "platt": fit_platt(calib, y["calib"]), "lows": lows, "highs": highs,
        "n": {k: int(len(v)) for k, v in y.items()},
        **({"long_words": args.long_words, "lows_long": lows_of(~short),
            "n_calib_long": int((~short).sum()), "n_calib_long_positive": int((hard["calib"] & ~short).sum())}
           if args.long_words else {}),
        **(head_fields or {}),
    }
    # a length with fewer than 5 calib positives gets no table entry: its texts always go to the full model
    masks = [mask for mask in (short, ~short) if (hard["calib"] & mask).sum() >= 5]
    if not masks:
        raise DataError(f"neither length of --long-words {args.long_words} has 5 teacher positives in the calib "
                        "slice; score more sentences or move --long-words")
    low = min(pick_low(calib[mask], hard["calib"][mask], args.recall) for mask in masks)
    head = Head(weights=head.weights, bias=head.bias, embedding_hash=embedding_hash, low=low, calibration=calibration)
    return head, {"l2_grid_calib_balanced_log_loss": {str(k): v for k, v in losses.items()}}


# ------------------------------------------------------------------------------------------------ main

def main(args: Args, *, backend=None, embedder=None) -> dict:
    """Run the recipe; ``backend`` / ``embedder`` replace the teacher and the block-state features ``args`` name
    (tests)."""
    corpus = build_corpus(args)
    by_split: dict[str, list[Item]] = {"train": [], "calib": [], "test": []}
    for item in corpus:
        by_split[_split(item, args.seed)].append(item)
    print(f"corpus: {len(corpus)} sentences from {sorted({it.source for it in corpus})}", flush=True)

    teacher = Teacher(args, backend)
    scores = score_all(corpus, teacher, args.cache, args.budget_min * 60, "corpus")
    cf_items: list[Item] = []
    if args.counterfactual is not None:
        from trainers.evaluate import read_counterfactual_items

        fitted = {it.text for it in corpus}
        cf_items = [Item(t, "counterfactual:" + col, "cf", 0.0)
                    for col, t in read_counterfactual_items(args.counterfactual, args.counterfactual_sample, args.seed)
                    if t not in fitted]
        scores.update(score_all(cf_items, teacher, args.cache, float("inf"), "counterfactual sample (eval only)"))

    if embedder is None:
        if teacher.backend is None or not hasattr(teacher.backend, "hidden_states"):
            raise ConfigError("the probe reads SR-LLM's own block states: it needs the llama.cpp teacher "
                              "(--teacher llamacpp --adapter ...)")
        embedder = EarlyExitFeatures(teacher.backend, args.early_layer, args.early_position)
    x, y, sources, words = {}, {}, {}, {}
    for name, items in [*by_split.items(), ("counterfactual", cf_items)]:
        items = [it for it in items if it.text in scores]
        started = time.perf_counter()
        x[name] = embedder.embed([it.text for it in items]) if items else np.zeros((0, embedder.dim), np.float32)
        y[name] = np.array([scores[it.text] for it in items], dtype=np.float64)
        sources[name] = [it.source for it in items]
        words[name] = np.array([word_count(it.text) for it in items], dtype=np.int64)
        print(f"embedded {name}: {len(items)} in {time.perf_counter() - started:.1f} s", flush=True)

    head, choice = fit({k: x[k] for k in ("train", "calib")}, {k: y[k] for k in ("train", "calib")},
                       args, embedder.model_hash, teacher.id, getattr(embedder, "head_fields", None),
                       words=words["calib"])
    report = {
        "teacher": teacher.id,
        "note": "teacher = human labels, a stand-in: NOT agreement with SR-LLM" if teacher.backend is None else
                "agreement with SR-LLM's own verdicts (llama.cpp, the shipped runtime path)",
        "head": str(args.out),
        "embedding": embedder.describe() if hasattr(embedder, "describe") else {"model_hash": embedder.model_hash},
        "low": head.low, "lows": head.calibration["lows"], "platt": head.calibration["platt"],
        "l2": head.calibration["l2"], **choice,
        "counts": {name: {"n": int(len(y[name])), "teacher_positive": int((y[name] >= args.threshold).sum()),
                          "by_source": {s: sources[name].count(s) for s in sorted(set(sources[name]))}}
                   for name in y},
        "calib": agreement(head.scores(x["calib"]), y["calib"], head, args.threshold, words["calib"]),
        "test": agreement(head.scores(x["test"]), y["test"], head, args.threshold, words["test"]),
        "counterfactual_sample": agreement(head.scores(x["counterfactual"]), y["counterfactual"], head,
                                           args.threshold, words["counterfactual"])
        if len(y["counterfactual"]) else None,
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(args).items()},
    }
    head.calibration["test"] = {k: report["test"]["cascade"][k] for k in ("accuracy", "recall", "escalated_share")}
    head.save(args.out)
    report_path = args.report or args.out.with_name(args.out.stem + ".report.json")
    report_path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: report[k] for k in ("teacher", "low", "test", "counterfactual_sample")}, indent=2))
    print(f"wrote {args.out} and {report_path}")
    return report


def cli(argv: list[str] | None = None) -> int:
    try:
        args = setup(argv)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    main(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(cli())
