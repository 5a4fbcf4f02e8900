"""``srllm-guard eval``: the evaluation harness from the shell (the parser imports nothing heavy)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from srllm_guard.errors import SRGuardError

__all__ = ["add_parser", "run"]

_DESCRIPTION = """\
Reproduce the SR-LLM paper's tables for our models and write a report folder: metrics.json, report.md
(Markdown tables) and PNG plots. Rows: no guard, the base model prompted zero-shot (adapter none), and the
base + adapter. Detection (P/R/F1, ROC AUC, calibration, the threshold for --target-fpr) on SR-LLM
infer_50, ParaDetox and Jigsaw slices; rewrite quality (STA by an independent judge, SIM, FL = chrF, J);
counterfactual parity across demographic variants; StereoSet LMS/SS/ICAT from the models' likelihoods.
Per-item results go to OUT/cache.jsonl: rerun the same command to resume an interrupted run.
"""

_EPILOG = """\
examples:
  srllm-guard eval --data-dir ../shared/data --out runs/eval-report --threads 1 \\
      --exclude runs/sr-gemma3-270m-v14/splits/train.jsonl --exclude runs/sr-gemma3-270m-v14/splits/dev.jsonl
  srllm-guard eval --data-dir ../shared/data --out /tmp/zero-shot --adapter none --limit 20 --tasks detection
"""


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Add the ``eval`` subcommand to ``commands`` (the CLI's subparsers)."""
    p = commands.add_parser("eval", help="evaluate models and write a report (metrics.json, report.md, plots)",
                            description=_DESCRIPTION, epilog=_EPILOG,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, metavar="DIR", help="report folder (created; reused to resume)")
    d = p.add_argument_group("data (paths only; nothing is copied)")
    d.add_argument("--data-dir", metavar="DIR", help="a folder shaped like shared/data: default for every file")
    d.add_argument("--srllm", metavar="CSV", help="SR-LLM held-out pairs (default sr_llm_inhouse/infer_50.csv)")
    d.add_argument("--paradetox", metavar="TSV", help="ParaDetox pairs (default paradetox/paradetox.tsv)")
    d.add_argument("--jigsaw", metavar="CSV", action="append", default=[],
                   help="Jigsaw slice, labelled (comment_text,toxic) or toxic-only (comment_text); repeatable")
    d.add_argument("--counterfactual", metavar="CSV", help="counterfactual-inhouse.csv")
    d.add_argument("--stereoset", metavar="JSONL", help="stereoset_dev_flat.jsonl")
    d.add_argument("--judge-train", metavar="FILE", action="append", default=[],
                   help="labelled file to train the MiniLM judge on; repeatable")
    d.add_argument("--exclude", metavar="JSONL", action="append", default=[],
                   help="trainer split (train/dev JSONL): its texts are never evaluated on; repeatable")
    m = p.add_argument_group("models")
    m.add_argument("--model", metavar="PATH", help="base model GGUF (default: the embedded Gemma 3 270M)")
    m.add_argument("--adapter", metavar="PATH", default="default",
                   help="LoRA adapter GGUF ('default': the shipped one; 'none': only the baselines)")
    m.add_argument("--no-baselines", action="store_true", help="only the adapter row (no no-guard, no zero-shot)")
    m.add_argument("--threads", type=int, default=1, metavar="N", help="CPU threads for models (default 1)")
    r = p.add_argument_group("what and how much")
    r.add_argument("--tasks", default="detection,rewrite,parity,stereoset",
                   help="comma-separated subset of detection,rewrite,parity,stereoset")
    r.add_argument("--limit", type=int, default=100, metavar="N", help="items per detection dataset (default 100)")
    r.add_argument("--limit-rewrite", type=int, metavar="N", help="positives rewritten per dataset (default all)")
    r.add_argument("--limit-counterfactual", type=int, default=300, metavar="N",
                   help="counterfactual texts, whole rows of 11 (default 300)")
    r.add_argument("--limit-stereoset", type=int, default=200, metavar="N", help="StereoSet items (default 200)")
    r.add_argument("--threshold", type=float, default=0.5, metavar="P", help="the guard's threshold (default 0.5)")
    r.add_argument("--target-fpr", type=float, default=0.05, metavar="F",
                   help="report the threshold whose false-positive rate is at most F (default 0.05)")
    r.add_argument("--judge", choices=["minilm", "finetuned", "profanity"], default="minilm",
                   help="STA judge: MiniLM + logistic regression trained here (fast), MiniLM fine-tuned end to end "
                        "here (slower, reads negation; trainers.evaluate's default), or alt-profanity-check")
    r.add_argument("--stereoset-norm", choices=["mean", "sum"], default="mean",
                   help="continuation log-prob: mean per token (default) or sum")
    r.add_argument("--fallback", choices=["flag", "redact", "refuse"],
                   help="the guard's fallback for rejected rewrites (default: the guard's own, redact)")
    r.add_argument("--max-new-tokens", type=int, default=128, metavar="N", help="rewrite budget (default 128)")
    r.add_argument("--seed", type=int, default=0, help="seed of every sample (default 0)")
    r.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    r.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def run(args: argparse.Namespace) -> int:
    """Run ``srllm-guard eval``; package errors print one line and return 2."""
    try:
        from srllm_guard.eval.datasets import DataPaths
        from srllm_guard.eval.runner import run_eval
        from srllm_guard.eval.slices import Limits
        from srllm_guard.eval.systems import build_systems

        paths = DataPaths.from_dir(args.data_dir, srllm=args.srllm, paradetox=args.paradetox,
                                   jigsaw=tuple(args.jigsaw), counterfactual=args.counterfactual,
                                   stereoset=args.stereoset, judge_train=tuple(args.judge_train))
        adapter = None if str(args.adapter).lower() == "none" else args.adapter
        tasks = [t.strip() for t in args.tasks.split(",") if t.strip()]
        limits = Limits(detection=args.limit, rewrite=args.limit_rewrite, counterfactual=args.limit_counterfactual,
                        stereoset=args.limit_stereoset)
        systems = build_systems(model_path=args.model, adapter=adapter, n_threads=args.threads,
                                baselines=not args.no_baselines)
        metrics = run_eval(args.out, paths=paths, systems=systems, judge=args.judge, limits=limits,
                           threshold=args.threshold, target_fpr=args.target_fpr, stereoset_norm=args.stereoset_norm,
                           tasks=tasks, seed=args.seed, exclude=args.exclude, max_new_tokens=args.max_new_tokens,
                           guard_settings={"fallback": args.fallback} if args.fallback else None,
                           n_threads=args.threads, progress=not args.no_progress, plots=not args.no_plots)
    except SRGuardError as exc:
        print(f"srllm-guard: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    print(f"report: {args.out}/report.md ({len(metrics['systems'])} systems, {metrics['meta']['wall_time_s']} s)")
    return 0
