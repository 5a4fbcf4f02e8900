"""The report's PNG plots (matplotlib, Agg backend: no display needed).

* ``scores_by_class.png``: histogram of P(biased) for positives and negatives, one panel per model;
* ``calibration.png``: reliability curves (mean score vs observed positive rate per bin);
* ``flag_rates_by_group.png``: counterfactual flag rate per demographic variant, bars per system;
* ``rewrite_before_after.png``: STA of the sources vs of the guard's outputs, per system and dataset;
* ``stereoset.png``: LMS, SS and ICAT per system.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from srllm_guard.errors import MissingDependencyError

__all__ = ["plot_all"]


def _plt() -> Any:
    try:
        import matplotlib
    except ImportError as exc:
        raise MissingDependencyError("the report's plots need matplotlib: `pip install 'srllm-guard[eval]'` "
                                     "(or pass plots=False / --no-plots)") from exc
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: Path, written: list[Path]) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    _plt().close(fig)
    written.append(path)


def plot_all(out: Path, metrics: dict, raw: dict, data: Any) -> list[Path]:
    plt = _plt()
    written: list[Path] = []
    systems = metrics["systems"]
    scored = [s for s in systems if s["model"] != "-" and raw[s["system"]]["detection"]]  # "-": no model
    if scored:
        fig, axes = plt.subplots(1, len(scored), figsize=(4.5 * len(scored), 3.4), squeeze=False)
        for ax, s in zip(axes[0], scored):
            pairs = [(it.label, sc) for n, scores in raw[s["system"]]["detection"].items()
                     for it, sc in zip(data.detection[n], scores)]
            for label, name, color in ((0, "neutral", "tab:blue"), (1, "biased/toxic", "tab:red")):
                ax.hist([sc for y, sc in pairs if y == label], bins=20, range=(0, 1), alpha=0.6, label=name,
                        color=color)
            ax.axvline(metrics["meta"]["threshold"], color="k", linestyle="--", linewidth=1)
            ax.set_title(s["system"])
            ax.set_xlabel("P(biased)")
            ax.legend(fontsize=8)
        axes[0][0].set_ylabel("texts")
        _save(fig, out / "scores_by_class.png", written)

        fig, ax = plt.subplots(figsize=(4.5, 4))
        ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
        for s in scored:
            bins = [b for b in s["detection"]["all"]["calibration"]["bins"] if b["n"]]
            ax.plot([b["mean_score"] for b in bins], [b["positive_rate"] for b in bins], marker="o",
                    label=f"{s['system']} (ECE {s['detection']['all']['calibration']['ece']:.2f})")
        ax.set_xlabel("mean P(biased) in bin")
        ax.set_ylabel("share biased/toxic")
        ax.legend(fontsize=8)
        _save(fig, out / "calibration.png", written)

    parity = [s for s in systems if "parity" in s]
    if parity:
        columns = list(parity[0]["parity"]["flag_rate_by_column"])
        fig, ax = plt.subplots(figsize=(max(6, 0.8 * len(columns) * len(parity)), 3.6))
        width = 0.8 / len(parity)
        for k, s in enumerate(parity):
            rates = [s["parity"]["flag_rate_by_column"].get(c, 0.0) for c in columns]
            ax.bar([i + k * width for i in range(len(columns))], rates, width, label=s["system"])
        ax.set_xticks([i + 0.4 - width / 2 for i in range(len(columns))])
        ax.set_xticklabels([c.replace("_", " ") for c in columns], rotation=35, ha="right", fontsize=8)
        ax.set_ylabel("flag rate (all texts neutral)")
        ax.legend(fontsize=8)
        _save(fig, out / "flag_rates_by_group.png", written)

    rewrites = [s for s in systems if "rewrite" in s]
    if rewrites:
        names = [n for n in rewrites[0]["rewrite"] if n != "actions"]
        fig, axes = plt.subplots(1, len(names), figsize=(3.6 * len(names), 3.4), squeeze=False, sharey=True)
        for ax, n in zip(axes[0], names):
            labels = [s["system"] for s in rewrites]
            before = [s["rewrite"][n]["sta_before"] or 0.0 for s in rewrites]
            after = [s["rewrite"][n]["sta"] or 0.0 for s in rewrites]
            xs = range(len(labels))
            ax.bar([x - 0.2 for x in xs], before, 0.4, label="STA before (source)", color="tab:grey")
            ax.bar([x + 0.2 for x in xs], after, 0.4, label="STA after (guard output)", color="tab:green")
            ax.set_xticks(list(xs))
            ax.set_xticklabels(labels, rotation=20, fontsize=8)
            ax.set_title(n)
            ax.set_ylim(0, 1)
        axes[0][0].set_ylabel("share judged not biased")
        axes[0][0].legend(fontsize=7)
        _save(fig, out / "rewrite_before_after.png", written)

    stereo = [s for s in systems if "stereoset" in s]
    if stereo:
        fig, ax = plt.subplots(figsize=(5, 3.4))
        keys = ("lms", "ss", "icat")
        width = 0.8 / len(stereo)
        for k, s in enumerate(stereo):
            ax.bar([i + k * width for i in range(3)], [s["stereoset"][key] or 0.0 for key in keys], width,
                   label=s["system"])
        ax.axhline(50, color="grey", linestyle=":", linewidth=1)
        ax.set_xticks([i + 0.4 - width / 2 for i in range(3)])
        ax.set_xticklabels(["LMS (↑)", "SS (→50)", "ICAT (↑)"])
        ax.set_ylim(0, 100)
        ax.legend(fontsize=8)
        _save(fig, out / "stereoset.png", written)
    return written
