"""``report.md`` (Markdown tables) and the PNG plots of an evaluation, from its metrics and raw results."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

__all__ = ["write_report"]


def _f(value: Any, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _short(h: str | None) -> str:
    return h[:12] if h else "none"


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_f(c) for c in row) + " |" for row in rows]
    return lines + [""]


def _data_hash(hashes: dict[str, str]) -> str:
    """One short hash over every data file's sha256 (listed in full at the end of the report)."""
    return hashlib.sha256("".join(sorted(hashes.values())).encode()).hexdigest()[:12]


def _headline(metrics: dict) -> list[str]:
    meta = metrics["meta"]
    fpr = meta["target_fpr"]
    header = ["system", "model", "adapter (sha256)", "data (sha256)", "date", "P", "R", "F1", "ROC AUC", "ECE",
              f"thr @ FPR≤{fpr:g}", "TPR there", "STA", "SIM", "FL", "J", "CF flag rate", "CF spread",
              "LMS", "SS", "ICAT"]
    rows = []
    for s in metrics["systems"]:
        d = s.get("detection", {}).get("all", {})
        w = s.get("rewrite", {}).get("all", {})
        p = s.get("parity", {})
        st = s.get("stereoset", {})
        at = d.get("at_target_fpr", {})
        rows.append([s["system"], s["model"], _short(s.get("adapter_hash")), _data_hash(s["data_sha256"]),
                     s["date"][:10], d.get("precision"),
                     d.get("recall"), d.get("f1"), d.get("roc_auc"), d.get("calibration", {}).get("ece"),
                     at.get("threshold"), at.get("tpr"), w.get("sta"), w.get("sim"), w.get("fl"), w.get("j"),
                     p.get("flag_rate"), p.get("spread"), st.get("lms"), st.get("ss"), st.get("icat")])
    return _table(header, rows)


def _markdown(metrics: dict) -> str:
    meta = metrics["meta"]
    lines = [f"# srllm-guard evaluation ({meta['date']})", "",
             f"Threshold {meta['threshold']}, seed {meta['seed']}, limits {meta['limits']}, tasks "
             f"{', '.join(meta['tasks'])}. Detection pools every dataset (per dataset below). STA uses the judge "
             f"`{meta.get('judge', {}).get('name', '–')}` (not the model under test), SIM {meta['embedder']} "
             f"cosine, FL chrF to the human reference, J = mean of STA·SIM·FL over items with a reference. "
             f"StereoSet from the model's own log-probs, {meta['stereoset_norm']} over the continuation's "
             "tokens (other normalisation in metrics.json).", "", "## Summary", ""]
    lines += _headline(metrics)
    lines += ["## Detection per dataset", ""]
    rows = [[s["system"], n, d["n"], d["precision"], d["recall"], d["f1"], d["roc_auc"], d["calibration"]["ece"],
             d["at_target_fpr"]["threshold"], d["at_target_fpr"]["tpr"]]
            for s in metrics["systems"] for n, d in s.get("detection", {}).items()]
    lines += _table(["system", "dataset", "n", "P", "R", "F1", "AUC", "ECE", "thr@FPR", "TPR"], rows)
    lines += ["## Rewrite quality per dataset", ""]
    rows = [[s["system"], n, w["n"], w["sta_before"], w["sta"], w["sim"], w["fl"], w["j"], w["changed"]]
            for s in metrics["systems"] for n, w in s.get("rewrite", {}).items() if n != "actions"]
    lines += _table(["system", "dataset", "n", "STA before", "STA after", "SIM", "FL", "J", "changed"], rows)
    actions = [f"{s['system']}: {s['rewrite']['actions']}" for s in metrics["systems"] if "rewrite" in s]
    if actions:
        lines += ["Guard actions on the rewritten positives: " + "; ".join(actions), ""]
    parity = [s for s in metrics["systems"] if "parity" in s]
    if parity:
        columns = list(parity[0]["parity"]["flag_rate_by_column"])
        lines += ["## Counterfactual parity (flag rate per variant; all texts are neutral)", ""]
        rows = [[s["system"], *[s["parity"]["flag_rate_by_column"].get(c) for c in columns], s["parity"]["spread"],
                 s["parity"]["verdict_disagreement"], s["parity"]["flagged_changed"], s["parity"]["rewrite_divergence"]]
                for s in parity]
        lines += _table(["system", *columns, "spread", "verdict disagreement", "flagged changed",
                         "rewrite divergence"], rows)
        erased = [f"{s['system']}: "
                  + ", ".join(f"{c} {v:.2f}" for c, v in s["parity"]["group_erased_by_column"].items())
                  for s in parity if s["parity"]["group_erased_by_column"]]
        if erased:
            lines += ["Share of flagged rewrites that dropped the group's word: " + "; ".join(erased), ""]
    stereo = [s for s in metrics["systems"] if "stereoset" in s]
    if stereo:
        lines += ["## StereoSet by bias type (LMS / SS / ICAT)", ""]
        types = sorted({t for s in stereo for t in s["stereoset"]["by_bias_type"]})
        rows = [[s["system"], s["stereoset"]["n"], *[
            "/".join(_f(s["stereoset"]["by_bias_type"].get(t, {}).get(k), 1) for k in ("lms", "ss", "icat"))
            for t in types]] for s in stereo]
        lines += _table(["system", "n", *types], rows)
    if "judge_accuracy" in metrics:
        lines += [f"## Judge `{meta['judge']['name']}` on the held-out detection slices", ""]
        rows = [[n, a["n"], a["accuracy"], a["balanced_accuracy"], a["roc_auc"]]
                for n, a in metrics["judge_accuracy"].items()]
        lines += _table(["dataset", "n", "accuracy", "balanced accuracy", "ROC AUC"], rows)
    lines += ["## Data files (sha256; the summary's data column hashes these together)", ""]
    lines += [f"- `{path}`: {f['sha256']}" for path, f in meta["data"].items()]
    lines += ["", f"Dropped from the slices: {meta['dropped']}", "", f"Wall time: {meta.get('wall_time_s')} s", ""]
    return "\n".join(lines)


def write_report(out: Path, metrics: dict, raw: dict, data: Any, *, plots: bool = True) -> list[Path]:
    """Write ``report.md`` and (with ``plots``) the PNGs; returns the files written."""
    out = Path(out)
    (out / "report.md").write_text(_markdown(metrics), encoding="utf-8")
    written = [out / "report.md"]
    if plots:
        from srllm_guard.eval.plots import plot_all

        written += plot_all(out, metrics, raw, data)
    return written
