"""Detection metrics from (label, score) pairs: positive = biased/toxic, score = P(biased).

A text is flagged when its score reaches the threshold (``score >= threshold``, as in the guard). Values a
split cannot define (precision with nothing flagged, AUC with one class) are ``None``, never a made-up 0.
"""

from __future__ import annotations

from typing import Sequence

__all__ = ["confusion", "roc_auc", "roc_points", "reliability", "threshold_for_fpr", "detection_metrics"]


def _ratio(a: float, b: float) -> float | None:
    return a / b if b else None


def confusion(labels: Sequence[int], scores: Sequence[float], threshold: float) -> dict:
    """Counts, precision, recall (TPR), F1, FPR and accuracy at ``threshold``."""
    tp = sum(1 for y, s in zip(labels, scores) if y and s >= threshold)
    fp = sum(1 for y, s in zip(labels, scores) if not y and s >= threshold)
    pos = sum(1 for y in labels if y)
    neg = len(labels) - pos
    fn, tn = pos - tp, neg - fp
    precision, recall = _ratio(tp, tp + fp), _ratio(tp, pos)
    f1 = None
    if precision is not None and recall is not None:
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"n": len(labels), "positives": pos, "negatives": neg, "tp": tp, "fp": fp, "fn": fn, "tn": tn,
            "precision": precision, "recall": recall, "f1": f1, "fpr": _ratio(fp, neg),
            "accuracy": _ratio(tp + tn, len(labels))}


def roc_auc(labels: Sequence[int], scores: Sequence[float]) -> float | None:
    """P(a random positive scores above a random negative), ties counting half (Mann-Whitney U)."""
    ranked = sorted(zip(scores, labels))
    n_pos = sum(1 for y in labels if y)
    n_neg = len(labels) - n_pos
    if not n_pos or not n_neg:
        return None
    rank_sum, i = 0.0, 0
    while i < len(ranked):
        j = i
        while j < len(ranked) and ranked[j][0] == ranked[i][0]:
            j += 1
        mid_rank = (i + 1 + j) / 2  # ranks i+1..j share their mean
        rank_sum += mid_rank * sum(1 for _, y in ranked[i:j] if y)
        i = j
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def roc_points(labels: Sequence[int], scores: Sequence[float]) -> list[tuple[float, float, float]]:
    """``(threshold, fpr, tpr)`` for every distinct score (flag when score >= threshold), plus (inf, 0, 0)."""
    n_pos = sum(1 for y in labels if y)
    n_neg = len(labels) - n_pos
    points = [(float("inf"), 0.0, 0.0)]
    tp = fp = 0
    pairs = sorted(zip(scores, labels), reverse=True)
    for k, (score, y) in enumerate(pairs):
        tp += 1 if y else 0
        fp += 0 if y else 1
        if k + 1 == len(pairs) or pairs[k + 1][0] != score:
            points.append((score, fp / n_neg if n_neg else 0.0, tp / n_pos if n_pos else 0.0))
    return points


def threshold_for_fpr(labels: Sequence[int], scores: Sequence[float], target: float) -> dict:
    """The lowest threshold whose false-positive rate is at most ``target``, with the TPR it buys."""
    best = (float("inf"), 0.0, 0.0)
    for threshold, fpr, tpr in roc_points(labels, scores):
        if fpr <= target:
            best = (threshold, fpr, tpr)
    threshold, fpr, tpr = best
    n_neg = sum(1 for y in labels if not y)
    return {"target_fpr": target, "threshold": None if threshold == float("inf") else threshold,
            "fpr": fpr if n_neg else None, "tpr": tpr}


def reliability(labels: Sequence[int], scores: Sequence[float], bins: int = 10) -> dict:
    """Calibration: equal-width score bins with the mean score and the observed positive rate of each,
    and the expected calibration error (count-weighted mean gap)."""
    rows = []
    ece = 0.0
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        inside = [(y, s) for y, s in zip(labels, scores) if lo <= s < hi or (b == bins - 1 and s == hi)]
        if not inside:
            rows.append({"lo": lo, "hi": hi, "n": 0, "mean_score": None, "positive_rate": None})
            continue
        mean_score = sum(s for _, s in inside) / len(inside)
        rate = sum(y for y, _ in inside) / len(inside)
        ece += len(inside) / max(len(labels), 1) * abs(mean_score - rate)
        rows.append({"lo": lo, "hi": hi, "n": len(inside), "mean_score": mean_score, "positive_rate": rate})
    return {"bins": rows, "ece": ece if labels else None}


def detection_metrics(labels: Sequence[int], scores: Sequence[float], *, threshold: float, target_fpr: float) -> dict:
    """Everything the report shows for one (system, dataset) slice."""
    return {
        **confusion(labels, scores, threshold),
        "threshold": threshold,
        "roc_auc": roc_auc(labels, scores),
        "calibration": reliability(labels, scores),
        "at_target_fpr": threshold_for_fpr(labels, scores, target_fpr),
    }
