"""The early-exit probe: a logistic head on a hidden state of SR-LLM itself, its calibration, and its fitting.

:class:`Head` is what ``LlamaCppBackend(screen=...)`` loads (see :mod:`srllm_guard.backends.llamacpp.screen`): one
numpy dot product on the state after an early block (the head's ``layer``: 6, or 10 for ``sr-gemma3-270m-v4``)
decides whether a sentence is clearly clean (below ``low``) and may skip the full model. ``trainers/distill.py``
fits it on the model's own verdicts with :func:`fit_head`, picks ``low`` per threshold with :func:`pick_low` (the
recall of the teacher's flags it must keep), the optional ``high`` with :func:`pick_high`, and maps probe scores
onto the teacher's scale with :func:`fit_platt`.
The ``.npz`` format name stays ``srllm-detector-v1`` so shipped probes keep loading.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from srllm_guard.errors import ConfigError, ModelFileError

__all__ = ["Head", "fit_head", "fit_platt", "pick_low", "pick_high", "word_count", "HEAD_FORMAT"]

HEAD_FORMAT = "srllm-detector-v1"
"""The ``.npz`` format name (kept from the first release, which also shipped a MiniLM student in it)."""


@dataclass(frozen=True, eq=False)
class Head:
    """A logistic probe and its calibration; see :func:`fit_head` and ``trainers/distill.py``."""

    weights: np.ndarray
    """``float32`` of shape ``(d,)``: ``d`` is the model width for an early-exit probe."""
    bias: float
    embedding_hash: str
    """Identity of the features the probe was fitted on (for the early-exit probe: the block, the token position
    and the hashes of the weights that produce them, ``LlamaCppBackend.early_exit_id``)."""
    low: float = 0.5
    """Probe scores below this pass without the full model (calibrated for ``calibration['teacher_threshold']``;
    for a head calibrated by length, the lower of its two)."""
    calibration: dict = field(default_factory=dict)
    """Everything else, JSON-serialisable: ``platt`` ``[a, c]`` (student logit -> teacher P(biased)),
    ``lows`` ``[[threshold, low], ...]`` per teacher threshold, ``teacher`` (who labelled), metrics; a head
    calibrated by length also has ``long_words`` (texts of more words than this are long) and ``lows_long``
    (their table; ``lows`` is then the table of the rest)."""

    def logits(self, embeddings: np.ndarray) -> np.ndarray:
        return embeddings @ self.weights + np.float32(self.bias)

    def scores(self, embeddings: np.ndarray) -> np.ndarray:
        """Student P(biased) in [0, 1] (class-balanced scale: compare with ``low``, not with a threshold)."""
        return _sigmoid(self.logits(embeddings))

    def to_teacher_scale(self, score: float) -> float:
        """Map a student score onto the teacher's P(biased) with the stored Platt fit (identity without one)."""
        platt = self.calibration.get("platt")
        if not platt:
            return float(score)
        z = math.log(max(score, 1e-12)) - math.log(max(1.0 - score, 1e-12))
        return float(_sigmoid(np.float64(platt[0] * z + platt[1])))

    def low_for(self, threshold: float, words: int | None = None) -> float | None:
        """``low`` for a teacher ``threshold``: the entry of the largest calibrated threshold <= it (``None``
        below every calibrated one: escalate). Without a table, ``low`` for any threshold.

        A head calibrated by length (``long_words``) keeps the recall it was calibrated for within each length:
        ``words`` (:func:`word_count` of the text) picks the table; ``None``: the lower of the two (``None`` if
        either has no entry). A long text that ends in clean words can hide a biased start from the state at
        its end, and such texts set the one ``low`` of a head without the split far below what a sentence
        needs (``trainers/distill.py``, ``--long-words``)."""
        table = self.calibration.get("lows")
        if not table:
            return self.low
        short = _lookup(table, threshold)
        cut = self.calibration.get("long_words")
        if not cut:
            return short
        long = _lookup(self.calibration.get("lows_long") or [], threshold)
        if words is None:
            return None if short is None or long is None else min(short, long)
        return long if words > cut else short

    def high_for(self, threshold: float) -> float | None:
        """Student scores at or above this are flagged without the full model, for a teacher ``threshold``
        (the ``highs`` table, as :meth:`low_for`); ``None`` when the head has no calibrated one: escalate."""
        table = self.calibration.get("highs")
        return _lookup(table, threshold) if table else None

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the ``.npz`` (atomically)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez(
            tmp, format=np.array(HEAD_FORMAT), weights=self.weights.astype(np.float32), bias=np.float64(self.bias),
            embedding_hash=np.array(self.embedding_hash), low=np.float64(self.low),
            calibration=np.array(json.dumps(self.calibration, sort_keys=True)),
        )
        os.replace(tmp, path)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, dim: int | None = None) -> Head:
        """Read a head written by :meth:`save`; :class:`ModelFileError` naming the file when it is unusable.

        ``dim``: the feature size the caller will feed (the model width for early exit)."""
        path = Path(path)
        if not path.is_file():
            raise ModelFileError(f"probe not found: {path}; run trainers/distill.py to make one")
        try:
            with np.load(path, allow_pickle=False) as z:
                fmt = str(z["format"])
                if fmt != HEAD_FORMAT:
                    raise ValueError(f"format {fmt!r}, expected {HEAD_FORMAT!r}")
                head = cls(
                    weights=np.asarray(z["weights"], dtype=np.float32), bias=float(z["bias"]),
                    embedding_hash=str(z["embedding_hash"]), low=float(z["low"]),
                    calibration=json.loads(str(z["calibration"])),
                )
        except Exception as exc:
            raise ModelFileError(f"probe {path} is corrupt or not a probe file ({exc}); "
                                 "re-run trainers/distill.py") from exc
        shape_ok = head.weights.ndim == 1 and (dim is None or head.weights.shape == (dim,))
        if not shape_ok or not (np.isfinite(head.weights).all() and math.isfinite(head.bias)):
            raise ModelFileError(f"probe {path} has weights of shape {head.weights.shape} or non-finite "
                                 f"values; expected ({dim if dim is not None else 'd'},) finite; re-run "
                                 "trainers/distill.py")
        return head


def word_count(text: str) -> int:
    """Words of ``text`` (split on whitespace): the length a head calibrated by length reads (``long_words``)."""
    return len(text.split())


def _lookup(table: list, threshold: float) -> float | None:
    fitting = [value for t, value in table if t <= threshold + 1e-9]
    return fitting[-1] if fitting else None


# --- fitting ---------------------------------------------------------------------------------------------

def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(z, dtype=np.float64)))


def _newton_logistic(x: np.ndarray, y: np.ndarray, w: np.ndarray, l2: float, iters: int = 50) -> np.ndarray:
    """Minimise mean_w(cross-entropy) + l2/2 |beta|^2 (intercept unpenalised); returns ``[beta..., intercept]``."""
    xa = np.hstack([x.astype(np.float64), np.ones((len(x), 1))])
    w = w / w.sum()
    reg = np.full(xa.shape[1], l2)
    reg[-1] = 0.0

    def loss(beta: np.ndarray) -> float:
        z = xa @ beta
        return float(w @ (np.logaddexp(0, z) - y * z) + 0.5 * (reg * beta) @ beta)

    beta = np.zeros(xa.shape[1])
    current = loss(beta)
    for _ in range(iters):
        p = _sigmoid(xa @ beta)
        grad = xa.T @ (w * (p - y)) + reg * beta
        hess = (xa * (w * p * (1 - p))[:, None]).T @ xa + np.diag(reg + 1e-9)
        step = np.linalg.solve(hess, grad)
        t = 1.0
        while t > 1e-4 and loss(beta - t * step) > current + 1e-12:
            t /= 2
        beta, previous, current = beta - t * step, current, loss(beta - t * step)
        if previous - current < 1e-10:
            break
    return beta


def fit_head(
    embeddings: np.ndarray, targets: np.ndarray, *, embedding_hash: str, l2: float = 1e-3, balanced: bool = True,
    threshold: float = 0.5, low: float = 0.5, calibration: dict | None = None,
) -> Head:
    """Fit the logistic head.

    ``targets`` are the teacher's P(biased) (soft) or 0/1 labels; ``balanced`` weights each text by the inverse
    frequency of its class (``target >= threshold``), so a rare class still shapes the boundary.
    """
    x, y = np.asarray(embeddings, dtype=np.float64), np.asarray(targets, dtype=np.float64)
    if x.ndim != 2 or len(x) != len(y) or len(y) < 2:
        raise ConfigError(f"need embeddings (n, d) and n targets with n >= 2, got {x.shape} and {y.shape}")
    positive = y >= threshold
    if balanced and 0 < positive.sum() < len(y):
        weights = np.where(positive, 0.5 / positive.mean(), 0.5 / (1 - positive.mean()))
    else:
        weights = np.ones(len(y))
    beta = _newton_logistic(x, y, weights, l2)
    return Head(weights=beta[:-1].astype(np.float32), bias=float(beta[-1]), embedding_hash=embedding_hash,
                low=low, calibration=dict(calibration or {}))


def fit_platt(student_scores: np.ndarray, teacher_scores: np.ndarray) -> list[float]:
    """``[a, c]`` so that ``sigmoid(a * logit(student) + c)`` fits the teacher's P(biased) (soft targets)."""
    s = np.clip(np.asarray(student_scores, dtype=np.float64), 1e-12, 1 - 1e-12)
    z = (np.log(s) - np.log1p(-s))[:, None]
    beta = _newton_logistic(z, np.asarray(teacher_scores, dtype=np.float64), np.ones(len(s)), 0.0)
    return [float(beta[0]), float(beta[1])]


def pick_low(student_scores: np.ndarray, teacher_positive: np.ndarray, recall: float = 0.98) -> float:
    """The largest ``low`` such that at least ``recall`` of the teacher's positives score ``>= low``."""
    if not 0.0 < recall <= 1.0:
        raise ConfigError(f"recall must be in (0, 1], got {recall!r}")
    positives = np.sort(np.asarray(student_scores, dtype=np.float64)[np.asarray(teacher_positive, dtype=bool)])
    if not len(positives):
        raise ConfigError("no teacher positives to calibrate 'low' on; add biased text to the corpus")
    k = int(math.floor((1.0 - recall) * len(positives) + 1e-9))
    return float(positives[k])


def pick_high(student_scores: np.ndarray, teacher_positive: np.ndarray, precision: float = 0.98) -> float | None:
    """The smallest ``high`` such that at least ``precision`` of the texts scoring ``>= high`` are teacher
    positives (and at least 5 of them); ``None`` when no such point exists."""
    if not 0.0 < precision <= 1.0:
        raise ConfigError(f"precision must be in (0, 1], got {precision!r}")
    scores = np.asarray(student_scores, dtype=np.float64)
    positive = np.asarray(teacher_positive, dtype=bool)
    order = np.argsort(-scores, kind="stable")
    hits = np.cumsum(positive[order])
    taken = np.arange(1, len(order) + 1)
    ok = (hits / taken >= precision) & (taken >= 5)
    if not ok.any():
        return None
    return float(scores[order[int(np.nonzero(ok)[0].max())]])  # continuous scores: ties are not a concern
