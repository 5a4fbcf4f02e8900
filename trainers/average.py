"""Average trained LoRA adapters exactly, as one LoRA of the summed rank.

    python -m trainers.average runs/v55 runs/v55s2 --out runs/v55avg [--weights 0.5 0.5]

Two runs of one recipe that differ only in the seed can disagree on whole families of items (v14 and its seed
replicate: 29 `denial` + agreement questions apart). Averaging their weight changes is one model whose
decisions are less tied to one draw. PEFT's ``add_weighted_adapter(..., combination_type="cat")`` does it
without approximation: stacking the A matrices and the B matrices gives ``sum_i w_i * scale_i * B_i A_i``, a
LoRA of rank ``sum r_i`` (16 + 16 -> 32). The merged path users get pays nothing for the rank; the adapter GGUF
path pays a rank-32 LoRA.

The runs must share the prompt format, the base and their test split (byte for byte), so that the output's
``splits/test.jsonl`` is held out from every input. Runs of different recipes on one test split can be averaged
too (a seed pair, or two stages that trade one family for another: v14 and stage 60): the output's
``splits/train.jsonl`` is then the union of the runs' training rows (what some input saw) and its ``dev.jsonl``
the union of their dev rows that no input trained on. Writes ``OUT/peft``, ``OUT/adapter.gguf``, ``OUT/splits``
and ``OUT/summary.json`` (``averaged_from`` names the inputs); distill and evaluate it like a trained run.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

from srllm_guard.errors import ConfigError, ModelFileError, require

__all__ = ["average_adapters", "average_runs"]

SPLITS = ("train.jsonl", "dev.jsonl", "test.jsonl")


def average_adapters(base_model: Any, peft_dirs: list[Path], out_dir: Path,
                     weights: list[float] | None = None) -> Path:
    """Write the exact weighted sum of the LoRAs in ``peft_dirs`` (applied to ``base_model``) to ``out_dir``.

    ``weights`` default to equal shares summing to 1. ``base_model`` is consumed (wrapped in place).
    """
    peft = require("peft", extra="train")
    if len(peft_dirs) < 2:
        raise ConfigError("average_adapters: give at least two adapters")
    weights = [1.0 / len(peft_dirs)] * len(peft_dirs) if weights is None else list(weights)
    if len(weights) != len(peft_dirs):
        raise ConfigError(f"average_adapters: {len(weights)} weights for {len(peft_dirs)} adapters")
    for d in peft_dirs:
        if not (Path(d) / "adapter_config.json").is_file():
            raise ModelFileError(f"{d}: no adapter_config.json; pass a folder written by PEFT's save_pretrained")
    names = [f"in{i}" for i in range(len(peft_dirs))]
    model = peft.PeftModel.from_pretrained(base_model, str(peft_dirs[0]), adapter_name=names[0])
    for name, d in zip(names[1:], peft_dirs[1:]):
        model.load_adapter(str(d), adapter_name=name)
    model.add_weighted_adapter(names, weights, adapter_name="default", combination_type="cat")
    model.set_adapter("default")
    for name in names:
        model.delete_adapter(name)
    out_dir = Path(out_dir)
    model.save_pretrained(str(out_dir), selected_adapters=["default"])
    return out_dir


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _lines(path: Path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _union_splits(runs: list[Path], out: Path) -> None:
    """Write the union of the runs' training rows, their dev rows outside it and the shared test split to ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    train = list(dict.fromkeys(line for run in runs for line in _lines(run / "splits" / "train.jsonl")))
    seen = set(train)
    dev = [line for line in dict.fromkeys(line for run in runs for line in _lines(run / "splits" / "dev.jsonl"))
           if line not in seen]
    for name, lines in (("train.jsonl", train), ("dev.jsonl", dev)):
        (out / name).write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    shutil.copy2(runs[0] / "splits" / "test.jsonl", out / "test.jsonl")


def average_runs(runs: list[Path], out: Path, weights: list[float] | None = None) -> dict[str, Any]:
    """Average the adapters of training runs (folders written by ``trainers.train``) into a run folder ``out``."""
    torch = require("torch", extra="train")
    transformers = require("transformers", extra="train")
    runs = [Path(r) for r in runs]
    summaries = []
    for run in runs:
        path = run / "summary.json"
        if not path.is_file():
            raise ModelFileError(f"{run}: no summary.json; pass folders written by python -m trainers.train")
        summaries.append(json.loads(path.read_text()))
    for key in ("format_version", "base_gguf"):
        values = {str(s.get(key)) for s in summaries}
        if len(values) > 1:
            raise ConfigError(f"the runs differ in {key} ({', '.join(sorted(values))}); only runs of one prompt "
                              "format on one base can be averaged")
    for name in SPLITS:
        if any(not (run / "splits" / name).is_file() for run in runs):
            raise ConfigError(f"splits/{name} is missing from a run; pass folders written by python -m trainers.train")
    shas = {name: {_sha(run / "splits" / name) for run in runs} for name in SPLITS}  # hashed once, read twice
    if len(shas["test.jsonl"]) > 1:
        raise ConfigError("splits/test.jsonl differs between the runs; the average's test split would not be held "
                          "out from every input. Average runs whose recipes share one test split")
    shares = [1.0 / len(runs)] * len(runs) if weights is None else list(weights)
    if len(shares) != len(runs):  # before the model loads and anything is written
        raise ConfigError(f"{len(shares)} weights for {len(runs)} runs; give one per run")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    first = summaries[0]
    base = transformers.AutoModelForCausalLM.from_pretrained(first["hf_base"], dtype=torch.float32)
    average_adapters(base, [run / "peft" for run in runs], out / "peft", shares)
    for name in ("tokenizer.json", "tokenizer_config.json"):  # what trainers.train saves beside the adapter
        if (runs[0] / "peft" / name).is_file():
            shutil.copy2(runs[0] / "peft" / name, out / "peft" / name)
    same = all(len(values) == 1 for values in shas.values())
    if same:
        shutil.copytree(runs[0] / "splits", out / "splits", dirs_exist_ok=True)
    else:
        _union_splits(runs, out / "splits")
    per_run = ("recipe", "steps", "examples_seen", "train_examples", "wall_time_s", "s_per_step", "final_loss",
               "dev_loss", "dev_verdict_loss", "dev_verdict_accuracy", "dev_verdict_auc", "device", "hardware",
               "torch_threads")
    # the first run's summary (its config and data manifest: the splits are the same) without what only one run
    # measured; those are kept per run under averaged_from
    summary = {k: v for k, v in first.items() if k not in per_run and k != "adapter_gguf"}
    summary.update({
        "recipe": " + ".join(dict.fromkeys(str(s.get("recipe")) for s in summaries)),
        "combination": "cat (exact weighted sum of the LoRA updates)", "weights": shares,
        "splits": "shared" if same else "union (train: every input's training rows; dev: their dev rows no input "
                                        "trained on; test: the one they share)",
        "averaged_from": [
            {"run": str(run), "seed": (s.get("config") or {}).get("train", {}).get("seed"),
             **{k: s.get(k) for k in per_run}}
            for run, s in zip(runs, summaries)
        ],
        "wall_time_s": sum(float(s.get("wall_time_s") or 0) for s in summaries),
    })
    if first.get("base_gguf"):
        from trainers.export import export_adapter_gguf

        export_adapter_gguf(out / "peft", out / "adapter.gguf", base_gguf=first["base_gguf"],
                            format_version=first["format_version"])
        summary["adapter_gguf"] = str(out / "adapter.gguf")
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    return summary


def cli(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m trainers.average", description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", type=Path, help="training run folders (each with peft/, splits/, "
                        "summary.json)")
    parser.add_argument("--out", type=Path, required=True, help="the new run folder")
    parser.add_argument("--weights", type=float, nargs="+", help="one per run (default: equal, summing to 1)")
    args = parser.parse_args(argv)
    summary = average_runs(args.runs, args.out, args.weights)
    print(json.dumps({k: summary[k] for k in ("recipe", "weights", "averaged_from", "adapter_gguf")
                      if k in summary}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(cli())
