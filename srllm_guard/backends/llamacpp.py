"""The default backend: SR-LLM on llama.cpp (``llama-cpp-python``), CPU-friendly and in-process.

One ``check`` is one forward pass over the prompt, reading the two verdict tokens' logits at the last
position, plus (only for a biased verdict with a rewrite asked for) a greedy decode from the same KV cache.

What it does that the high-level ``Llama`` API does not:

* **Prompt-prefix reuse without ``logits_all``, and reproducible scores.** The instruction prefix is the
  same for every text: it stays in the KV cache, everything after it is dropped and only the new tokens are
  evaluated; the last position's logits are read with ``llama_get_logits_ith`` (``logits_all=True`` would
  make every pass ~4x slower). Unlike ``Llama.generate``'s longest-common-prefix reuse, the split point is
  fixed, because llama.cpp's results depend on how a prompt is cut into batches (see
  ``_LoadedModel.score_prompt``): a text gets the same score whatever was checked before it.
* **Exact tokenization.** Template markers (``<start_of_turn>`` ...) are tokenized as special tokens; the
  user's text never is, so a text containing ``<end_of_turn>`` stays text. The instruction tail and the text
  are tokenized *together* (``"Text: Women"`` -> ``▁Women``, not ``▁`` + ``Women``), which is what the trainer's
  tokenizer sees; the cache still shares every token up to that point.
* **Sharing and locking.** One ``Llama`` from two threads at once crashes, and a loaded model costs ~300 MB,
  so all backends with the same files and settings share one loaded model and one lock (process-wide), and
  every call into it holds that lock.
* **Fail loudly on bad files.** llama.cpp silently keeps a NULL handle for an adapter it cannot load and
  segfaults on first use; adapters are validated against the base before loading, and the handle is checked.

Threads: ``n_threads=None`` means **1**. llama.cpp is built with OpenMP, whose worker threads spin while
waiting: with 2 threads on a 2-core machine and any other busy process, it slows 20-40x, while one thread
keeps its full speed (measured, see FACTS.md). Pass more threads on an idle many-core machine; we then set
``OMP_WAIT_POLICY=PASSIVE`` (unless already set) before llama_cpp is first imported, trading ~30% of the idle
speed for graceful degradation under load.
"""

from __future__ import annotations

import codecs
import ctypes
import logging
import math
import os
import sys
import threading
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Sequence

import numpy as np

from srllm_guard import prompt
from srllm_guard.backends.base import BaseBackend, Check
from srllm_guard.errors import BackendError, ConfigError, MissingDependencyError, ModelFileError

__all__ = ["LlamaCppBackend"]

_PIP_LINE = "pip install 'llama-cpp-python==0.3.36'"
_GGUF_MAGIC = b"GGUF"
_TEMPLATE_MARKERS = (prompt.BOS, prompt.START_OF_TURN, prompt.END_OF_TURN)

_MODELS: weakref.WeakValueDictionary[tuple, _LoadedModel] = weakref.WeakValueDictionary()
_MODELS_LOCK = threading.Lock()
_HASHES: dict[tuple[str, int, int], str] = {}


_LOG = logging.getLogger("srllm_guard.llama_cpp")
_LOG_LEVELS = {1: logging.DEBUG, 2: logging.DEBUG, 3: logging.INFO, 4: logging.WARNING}
"""ggml's log levels (1 debug, 2 info, 3 warn, 4 error; 5 continues the previous line) -> Python logging.
llama.cpp's warnings here are notes about settings we chose (full-size SWA cache, no repacked kernels for
LoRA-adapted weights), so they go to INFO; its errors go to WARNING (the failures themselves raise)."""
_log_callback: Any = None


def _route_llama_logs(llama_cpp: Any) -> None:
    """Send llama.cpp's log lines to the ``srllm_guard.llama_cpp`` logger instead of stderr.

    llama-cpp-python 0.3.36 maps ggml's log levels with an outdated table (a warning counts as an error), so
    informational lines reach stderr even with ``verbose=False``.
    """
    global _log_callback
    if _log_callback is not None:
        return
    last = [logging.DEBUG]

    def forward(level: int, text: bytes, _user: Any) -> None:
        py_level = last[0] if level == 5 else _LOG_LEVELS.get(level, logging.DEBUG)
        last[0] = py_level
        if _LOG.isEnabledFor(py_level):
            _LOG.log(py_level, "%s", text.decode("utf-8", "replace").rstrip("\n"))

    _log_callback = llama_cpp.llama_log_callback(forward)
    llama_cpp.llama_log_set(_log_callback, ctypes.c_void_p(0))


def _import_llama_cpp(n_threads: int) -> Any:
    if n_threads > 1 and "llama_cpp" not in sys.modules:
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # read once, when libgomp loads
    try:
        import llama_cpp
    except ImportError as exc:
        raise MissingDependencyError(f"llama-cpp-python is required for LlamaCppBackend; `{_PIP_LINE}`") from exc
    _route_llama_logs(llama_cpp)
    return llama_cpp


def _check_gguf_file(path: Path, what: str) -> None:
    if not path.is_file():
        raise ModelFileError(f"{what} not found: {path}")
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic != _GGUF_MAGIC:
        raise ModelFileError(f"{what} {path} is not a GGUF file (starts with {magic!r}, expected b'GGUF')")


def _stamp(path: Path | None) -> tuple[str, int, int] | None:
    """Cache key of a file: a file replaced on disk (a retrained adapter) is loaded afresh."""
    if path is None:
        return None
    st = path.stat()
    return (str(path), st.st_size, st.st_mtime_ns)


def _file_sha256(path: Path) -> str:
    """SHA-256 of a weights file, computed once per (path, size, mtime); the embedded base uses its stamp."""
    from srllm_guard import models

    key = _stamp(path)
    if key not in _HASHES:
        if models._hash_is_recorded(path, models.BASE_GGUF_SHA256):
            _HASHES[key] = models.BASE_GGUF_SHA256
        else:
            _HASHES[key] = models.known_sha256(path) or models.sha256_file(path)
    return _HASHES[key]


def _resolve_adapter(adapter_path: str | os.PathLike[str] | None) -> Path | None:
    from srllm_guard import models

    if adapter_path is None:
        return None
    if adapter_path == "default":
        try:
            return models.adapter_path().resolve()
        except ModelFileError as exc:
            raise ModelFileError(
                f"the shipped SR-LLM adapter is not available ({exc}). Pass "
                "LlamaCppBackend(adapter_path='path/to/adapter.gguf'), or adapter_path=None to run the bare "
                "base model (which cannot debias)."
            ) from exc
    path = Path(adapter_path).expanduser()
    if path.is_dir():
        path = path / "adapter.gguf"
    return path.resolve()


@dataclass(eq=False)
class _LoadedModel:
    """One loaded ``Llama`` plus what every call needs; use only while holding ``lock``."""

    llm: Any
    lib: Any
    head_ids: list[int]
    tail_ids: list[int]
    answer_ids: list[int]  # "biased\n", fed before the rewrite
    biased_id: int
    neutral_id: int
    stop_ids: frozenset[int]
    fmt: prompt.PromptFormat = field(default_factory=prompt.get_format)
    lock: threading.Lock = field(default_factory=threading.Lock)
    evaluated: int = 0
    generated: int = 0  # tokens sampled by rewrites (stop tokens included)
    template_len: int = 0  # tokens of the prompt around an empty text
    prefix_ids: list[int] = field(default_factory=list)  # the text-independent start of every prompt
    last_prompt: list[int] | None = None
    last_verdict: tuple[float, float] = (0.0, 0.0)
    early: dict[tuple[int, str], Any] = field(default_factory=dict)  # (layer, position) -> EarlyExit
    path: Path | None = None  # the GGUF llama.cpp loaded (the merged file when merging)

    def __del__(self) -> None:
        # early-exit contexts live on this model's weights: free them before the Llama (model) goes
        for early in list(getattr(self, "early", {}).values()):
            try:
                early.close()
            except Exception:  # pragma: no cover - interpreter shutdown
                pass

    # ---- tokens -------------------------------------------------------------------------------------
    def tokenize(self, text: str, *, special: bool) -> list[int]:
        return self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=special)

    def prompt_ids(self, text: str) -> list[int]:
        """Tokens of the format's prompt for ``text``: markers special, instruction tail + text as plain text."""
        parts = self.fmt.render_prompt(text)
        tail = self.fmt.render_prompt("").body
        assert parts.body.endswith(tail), "prompt.render_prompt must end the body with the answer header"
        cut = max(parts.prefix.rfind(m) + len(m) for m in _TEMPLATE_MARKERS if m in parts.prefix)
        plain = parts.prefix[cut:] + parts.body[: -len(tail)]
        return self.head_ids + self.tokenize(plain, special=False) + self.tail_ids

    def piece(self, token: int) -> bytes:
        vocab = self.lib.llama_model_get_vocab(self.llm.model)
        buf = ctypes.create_string_buffer(64)
        n = self.lib.llama_token_to_piece(vocab, token, buf, 64, 0, False)
        if n < 0:
            buf = ctypes.create_string_buffer(-n)
            n = self.lib.llama_token_to_piece(vocab, token, buf, -n, 0, False)
        return buf.raw[: max(n, 0)]

    # ---- KV cache -----------------------------------------------------------------------------------
    def clear(self) -> None:
        self.lib.llama_memory_clear(self.lib.llama_get_memory(self.llm.ctx), True)
        self.llm.n_tokens = 0
        self.last_prompt = None

    def eval(self, tokens: list[int]) -> None:
        if not tokens:
            return
        try:
            self.llm.eval(tokens)
        except Exception as exc:
            self.clear()
            raise BackendError(f"llama.cpp failed to evaluate {len(tokens)} tokens: {exc}") from exc
        self.evaluated += len(tokens)

    def score_prompt(self, tokens: list[int]) -> tuple[float, float]:
        """Evaluate a prompt, reusing the cached template prefix; return the (biased, neutral) logits.

        llama.cpp's numbers depend on how a prompt is split into batches (activation quantization and the
        matmul kernel vary with the batch shape; measured: P(biased) moved from 0.10 to 0.15 for one text
        across split points). So a prompt is always evaluated the same way, whatever ran before: the
        text-independent ``prefix_ids`` as one batch on an empty cache (kept across calls), then the rest as
        one batch. The same prompt again (e.g. a re-check) reuses its stored verdict logits.
        """
        llm, n = self.llm, len(tokens)
        cached = llm.input_ids[: llm.n_tokens]
        if self.last_prompt == tokens and len(cached) >= n and cached[:n].tolist() == tokens and self.truncate(n):
            return self.last_verdict
        self.last_prompt = None
        p = len(self.prefix_ids)
        if tokens[:p] != self.prefix_ids:  # text merged into the template's tokens: no reuse, one batch
            self.clear()
            self.eval(tokens)
        else:
            if not (len(cached) >= p and cached[:p].tolist() == self.prefix_ids and self.truncate(p)):
                self.clear()
                self.eval(self.prefix_ids)
            self.eval(tokens[p:])
        logits = self.last_logits()
        self.last_prompt, self.last_verdict = list(tokens), (logits[self.biased_id], logits[self.neutral_id])
        return self.last_verdict

    def truncate(self, keep: int) -> bool:
        """Drop everything after the first ``keep`` tokens from the KV cache (False, and cleared, if it can't)."""
        if keep < self.llm.n_tokens:
            if not self.lib.llama_memory_seq_rm(self.lib.llama_get_memory(self.llm.ctx), 0, keep, -1):
                self.clear()
                return False
            self.llm.n_tokens = keep
        return True

    def last_logits(self) -> Any:
        ptr = self.lib.llama_get_logits_ith(self.llm.ctx, -1)
        if not ptr:
            raise BackendError("llama.cpp returned no logits for the last position")
        return ptr


class LlamaCppBackend(BaseBackend):
    """SR-LLM on llama.cpp: a GGUF base (default: the embedded Gemma 3 270M) plus a LoRA adapter GGUF.

    Example::

        backend = LlamaCppBackend(adapter_path="adapters/sr-gemma3-270m-v3/adapter.gguf")
        backend.check("Women can't do math.", threshold=0.5)  # Check(score=0.97, rewrite='...')
    """

    def __init__(
        self,
        *,
        model_path: str | os.PathLike[str] | None = None,
        adapter_path: str | os.PathLike[str] | None | Literal["default"] = "default",
        lora_scale: float = 1.0,
        n_ctx: int = 2048,
        n_threads: int | None = None,
        seed: int = 0,
        screen: str | os.PathLike[str] | None | Literal["default"] = "default",
        merge: bool = True,
    ) -> None:
        """Load (or reuse) the model.

        Args:
            model_path: Base GGUF; ``None`` uses the embedded Gemma 3 270M (assembled on first use).
            adapter_path: LoRA adapter GGUF (or its folder); ``'default'`` is the shipped SR-LLM adapter,
                ``None`` runs the bare base.
            lora_scale: Adapter strength (0 reproduces the base exactly).
            n_ctx: Context window; a text may use about half of what the template leaves (see
                :attr:`max_text_tokens`), the other half is kept for its rewrite.
            n_threads: llama.cpp threads; ``None`` means 1 (see the module docstring for why).
            seed: llama.cpp's sampler seed; decoding here is greedy, so it does not change results.
            screen: Early-exit probe head (``.npz`` from ``trainers/distill.py --features early``) that lets
                :meth:`screen_many` pass clearly clean text after half the network; ``'default'``: the
                ``early_exit.npz`` next to the adapter when there is one made for these exact files;
                ``None``: off (every text gets the full model).
            merge: Fold the adapter into the base once (a Q8_0 GGUF built in the cache on first use, see
                :mod:`srllm_guard.merge`): ~1.45x faster than base + adapter, verdicts agree on 99.5% of
                texts. ``False`` runs llama.cpp's adapter path on the two files as given.
        """
        from srllm_guard import models

        if not isinstance(n_ctx, int) or n_ctx < 64:
            raise ConfigError(f"n_ctx must be an int >= 64, got {n_ctx!r}")
        n_threads = 1 if n_threads is None else n_threads
        if not isinstance(n_threads, int) or n_threads < 1:
            raise ConfigError(f"n_threads must be a positive int or None, got {n_threads!r}")
        if not math.isfinite(lora_scale):
            raise ConfigError(f"lora_scale must be a finite number, got {lora_scale!r}")

        model = (Path(model_path).expanduser() if model_path is not None else models.default_base_gguf()).resolve()
        _check_gguf_file(model, "model file")
        adapter = _resolve_adapter(adapter_path)
        if adapter is not None:
            _check_gguf_file(adapter, "adapter file")

        fmt = prompt.format_of_adapter(adapter)
        merge = bool(merge) and adapter is not None and lora_scale != 0.0
        key = (_stamp(model), _stamp(adapter), float(lora_scale), n_ctx, n_threads, merge, fmt.version)
        with _MODELS_LOCK:
            loaded = _MODELS.get(key)
            if loaded is None:
                if merge:
                    from srllm_guard.gguf_check import validate_adapter_gguf
                    from srllm_guard.merge import merged_gguf, merged_path

                    hashes = {"base_sha256": _file_sha256(model), "adapter_sha256": _file_sha256(adapter),
                              "scale": float(lora_scale)}
                    if not merged_path(model, adapter, **hashes).is_file():  # built only after this check passed
                        validate_adapter_gguf(adapter, model)  # raises ModelFileError naming the file and the fix
                    merged = merged_gguf(model, adapter, **hashes)
                    loaded = _load(merged, None, 1.0, n_ctx, n_threads, seed, fmt)
                    loaded.path = merged
                else:
                    loaded = _load(model, adapter, float(lora_scale), n_ctx, n_threads, seed, fmt)
                    loaded.path = model
                _MODELS[key] = loaded
        self._model: _LoadedModel | None = loaded
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.model_path = model
        self.adapter_path = adapter
        self.merged = merge
        """Whether the adapter runs folded into the base (see ``merge``)."""
        self.lora_scale = float(lora_scale)
        self.prompt_format = fmt
        """The prompt format the adapter was trained with (:func:`srllm_guard.prompt.format_of_adapter`)."""
        self.model_id = f"{model.name}+{adapter.parent.name if adapter else 'none'}" + ("(merged)" if merge else "")
        self.model_hash = _file_sha256(model)
        self.adapter_hash = _file_sha256(adapter) if adapter else None
        if self.max_text_tokens < 16:
            raise ConfigError(f"n_ctx={n_ctx} leaves only {self.max_text_tokens} tokens for text; use n_ctx >= 512")
        self.screen_path: Path | None = None
        """The file of the early-exit probe in use, or ``None``."""
        self.screen_head: Any = self._screen_head(screen)
        """The early-exit probe in use (a :class:`~srllm_guard.probe.Head`), or ``None``."""

    # ---- public API --------------------------------------------------------------------------------
    @property
    def max_text_tokens(self) -> int:
        """Longest text, in :meth:`count_tokens` units, that :meth:`check` accepts.

        Half of what the template leaves in the context: the other half is kept for the rewrite, which is
        about as long as the text. The pipeline splits longer text into sentences or chunks first.
        """
        loaded = self._loaded()
        return (self.n_ctx - loaded.template_len - len(loaded.answer_ids)) // 2

    @property
    def weights_path(self) -> Path:
        """The GGUF llama.cpp runs: the merged file when merging, else ``model_path`` (plus the adapter)."""
        return self._loaded().path or self.model_path

    @property
    def evaluated_tokens(self) -> int:
        """Tokens llama.cpp has evaluated so far in the shared model (all backends sharing it)."""
        return self._loaded().evaluated

    @property
    def generated_tokens(self) -> int:
        """Tokens sampled by rewrites so far in the shared model, each end-of-turn token included."""
        return self._loaded().generated

    def count_tokens(self, text: str) -> int:
        """How many of :attr:`max_text_tokens` ``text`` uses inside the prompt."""
        loaded = self._loaded()
        with loaded.lock:
            return len(loaded.prompt_ids(text)) - loaded.template_len

    def check(self, text: str, *, threshold: float, rewrite: bool = True, max_new_tokens: int = 256) -> Check:
        if not isinstance(max_new_tokens, int) or max_new_tokens < 0:
            raise ConfigError(f"max_new_tokens must be an int >= 0, got {max_new_tokens!r}")
        loaded = self._loaded()
        with loaded.lock:
            tokens = loaded.prompt_ids(text)
            used = len(tokens) - loaded.template_len
            if used > self.max_text_tokens:
                raise ConfigError(
                    f"text is {used} tokens, more than max_text_tokens={self.max_text_tokens} for n_ctx="
                    f"{self.n_ctx}; split it into sentences or chunks first, or raise n_ctx."
                )
            biased, neutral = loaded.score_prompt(tokens)
            diff = neutral - biased
            if not math.isfinite(diff):
                raise BackendError(f"llama.cpp returned non-finite verdict logits ({biased}, {neutral})")
            score = 1.0 / (1.0 + math.exp(diff)) if diff < 700 else 0.0
            if not rewrite or score < threshold:
                return Check(score=score)
            return Check(score=score, rewrite=self._greedy_rewrite(loaded, max_new_tokens))

    def hidden_states(self, texts: Sequence[str], *, layer: int, position: str = "text_end") -> np.ndarray:
        """RMS-scaled hidden states after block ``layer`` for each text's SR-LLM prompt (early exit, batched).

        ``position``: ``'text_end'`` (the text's last token) or ``'verdict'`` (where the verdict is read). What
        the early-exit probe is fitted on (see :mod:`srllm_guard.backends.early_exit`).
        """
        loaded = self._loaded()
        with loaded.lock:
            early = self._early(loaded, layer, position)
            tokens = [early.tokens(t) for t in texts]
            for text, ids in zip(texts, tokens):
                if not early.fits(ids):
                    raise ConfigError(f"text of {len(text)} chars does not fit one early-exit batch "
                                      f"({len(ids)} tokens, n_batch={early.n_batch}); split it first")
            return early.states(tokens)

    def screen_many(self, texts: Sequence[str], *, threshold: float) -> list[Check | None]:
        """One early-exit pass over all ``texts``: a :class:`Check` where the probe is sure, ``None`` where the
        full model must decide (:meth:`check`).

        Sure means: probe score below the head's ``low`` for ``threshold`` (cleared: the check's score is
        below ``threshold``), or at or above its ``high`` (flagged: score at or above ``threshold``, but no
        rewrite: the full model writes those). ``low`` keeps the recall of the full model's positives the
        probe was calibrated for (0.995 for the shipped one), ``high`` its precision (0.98), measured on
        held-out text (the head's report). All ``None`` without a probe, or for a threshold below every
        calibrated one. A cleared or flagged text's score is the probe's, mapped onto the full model's scale
        and clamped to its side of ``threshold``.
        """
        head = self.screen_head
        low = head.low_for(threshold) if head is not None else None
        if low is None or threshold <= 0 or not texts:
            return [None] * len(texts)
        high = head.high_for(threshold)
        out: list[Check | None] = [None] * len(texts)
        below = threshold * (1 - 1e-6)
        for i, score in self._probe(head, texts):
            mapped = head.to_teacher_scale(score)
            if score < low:
                out[i] = Check(score=min(mapped, below))
            elif high is not None and score >= high and threshold <= 1:
                out[i] = Check(score=max(mapped, threshold))
        return out

    def probe_scores(self, texts: Sequence[str]) -> list[float | None]:
        """The early-exit probe's P(biased) for each text, on the full model's scale (its Platt map), from one
        batched pass and nothing else: the fastest verdict there is, but an estimate (the head's report gives
        its agreement with the full model). ``None`` for a text too long for one batch; requires a probe."""
        head = self.screen_head
        if head is None:
            raise ConfigError("probe_scores needs an early-exit probe: LlamaCppBackend(screen='default' or a path)")
        out: list[float | None] = [None] * len(texts)
        for i, score in self._probe(head, texts):
            out[i] = head.to_teacher_scale(score)
        return out

    def check_many(self, texts: Sequence[str], *, threshold: float, rewrite: bool = False,
                   max_new_tokens: int = 256) -> list[Check]:
        """:meth:`check` for many texts: one :meth:`screen_many` pass, the full model for the rest (and, when
        ``rewrite``, for every flagged text, which needs the full model's rewrite)."""
        screened = self.screen_many(texts, threshold=threshold)
        return [c if c is not None and not (rewrite and c.score >= threshold)
                else self.check(t, threshold=threshold, rewrite=rewrite, max_new_tokens=max_new_tokens)
                for t, c in zip(texts, screened)]

    def close(self) -> None:
        """Drop this backend's reference; the model is freed when no backend uses it any more."""
        self._model = None

    # ---- internals ---------------------------------------------------------------------------------
    def _probe(self, head: Any, texts: Sequence[str]) -> list[tuple[int, float]]:
        """``(index, raw probe score)`` for each text that fits one early-exit batch, from one batched pass."""
        loaded = self._loaded()
        with loaded.lock:
            early = self._early(loaded, int(head.calibration["layer"]), str(head.calibration["position"]))
            tokens = [early.tokens(t) for t in texts]
            ready = [i for i, ids in enumerate(tokens) if early.fits(ids)]
            states = early.states([tokens[i] for i in ready])
        return [(i, float(score)) for i, score in zip(ready, head.scores(states))]

    def _early(self, loaded: _LoadedModel, layer: int, position: str) -> Any:
        """The model's early-exit context for (layer, position), made on first use; hold ``loaded.lock``."""
        from srllm_guard.backends.early_exit import EarlyExit

        key = (layer, position)
        if key not in loaded.early:
            loaded.early[key] = EarlyExit(loaded, layer=layer, position=position,  # type: ignore[arg-type]
                                          n_threads=self.n_threads)
        return loaded.early[key]

    @property
    def verdict_key(self) -> str:
        """Everything that changes a verdict of this backend, hashed: base and adapter files, merging, adapter
        scale, prompt format and the early-exit probe file (evaluation caches key their results on it)."""
        import hashlib

        from srllm_guard.merge import MERGE_VERSION

        probe = _file_sha256(self.screen_path) if self.screen_path else "none"
        parts = [self.model_hash, self.adapter_hash or "none", f"merged-{MERGE_VERSION}" if self.merged else "plain",
                 repr(self.lora_scale), self.prompt_format.version, probe]
        return hashlib.sha256(":".join(parts).encode()).hexdigest()[:24]

    def early_exit_id(self, layer: int, position: str) -> str:
        """What an early-exit probe is fitted on: these exact weight files, block and position."""
        import hashlib

        from srllm_guard.merge import MERGE_VERSION

        merged = f":merged-{MERGE_VERSION}" if self.merged else ""
        # the original identity, extended only where a setting differs from what every probe so far assumed
        # (scale 1, format v1), so probes fitted before these fields existed keep their identity
        extra = "" if self.lora_scale == 1.0 else f":scale-{self.lora_scale!r}"
        extra += "" if self.prompt_format.version == "sr-llm-v1" else f":{self.prompt_format.version}"
        return hashlib.sha256(f"{self.model_hash}:{self.adapter_hash}:{layer}:{position}{merged}{extra}"
                              .encode()).hexdigest()

    def _screen_head(self, screen: str | os.PathLike[str] | None) -> Any:
        if screen is None:
            return None
        explicit = screen != "default"
        if explicit:
            path = Path(screen).expanduser()
        elif self.adapter_path is not None:
            path = self.adapter_path.parent / "early_exit.npz"
        else:
            return None
        if not explicit and not path.is_file():
            return None
        from srllm_guard.probe import Head

        head = Head.load(path, dim=self._loaded().lib.llama_model_n_embd(self._loaded().llm.model))
        cal = head.calibration
        layer, position = cal.get("layer"), cal.get("position")
        problem = None
        if not isinstance(layer, int) or not isinstance(position, str):
            problem = "it is not an early-exit probe (no layer/position in its calibration)"
        elif head.embedding_hash != self.early_exit_id(layer, position):
            problem = (f"it was fitted on other weights than {self.model_path.name} + "
                       f"{self.adapter_path.name if self.adapter_path else 'no adapter'}")
        if problem is None:
            self.screen_path = path.resolve()
            return head
        # a probe for other weights would screen with the wrong boundary: never silently, never skipped unseen
        where = "" if explicit else " (the one next to the adapter, screen='default')"
        raise ModelFileError(f"early-exit probe {path}{where}: {problem}; pass screen=None to give every sentence "
                             "the full model, or re-fit the probe for these files with `python -m trainers.distill`")

    def _loaded(self) -> _LoadedModel:
        if self._model is None:
            raise BackendError("this LlamaCppBackend is closed")
        return self._model

    def _greedy_rewrite(self, loaded: _LoadedModel, max_new_tokens: int) -> str:
        llm = loaded.llm
        loaded.eval(loaded.answer_ids)
        budget = min(max_new_tokens, self.n_ctx - llm.n_tokens)
        n_vocab = llm.n_vocab()
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        out: list[str] = []
        for i in range(budget):
            logits = np.ctypeslib.as_array(loaded.last_logits(), shape=(n_vocab,))
            token = int(logits.argmax())
            loaded.generated += 1
            if token in loaded.stop_ids:
                break
            out.append(decoder.decode(loaded.piece(token)))
            if i + 1 < budget:
                loaded.eval([token])
        out.append(decoder.decode(b"", final=True))
        return "".join(out).strip()


def _load(model: Path, adapter: Path | None, lora_scale: float, n_ctx: int, n_threads: int, seed: int,
          fmt: prompt.PromptFormat) -> _LoadedModel:
    lib = _import_llama_cpp(n_threads)
    if adapter is not None:
        from srllm_guard.gguf_check import validate_adapter_gguf

        validate_adapter_gguf(adapter, model)  # raises ModelFileError; llama.cpp would segfault later
    try:
        llm = lib.Llama(
            model_path=str(model),
            lora_path=str(adapter) if adapter else None,
            lora_scale=lora_scale,
            n_ctx=n_ctx,
            n_threads=n_threads,
            n_threads_batch=n_threads,  # the library's default is every core, spinning: see module doc
            swa_full=True,  # keep every position: prefix reuse must never depend on pruned sliding-window cells
            seed=seed,
            logits_all=False,
            verbose=False,
        )
    except (ValueError, RuntimeError) as exc:
        raise ModelFileError(f"llama.cpp could not load {model}" + (f" with {adapter}" if adapter else "") +
                             f": {exc}") from exc
    if adapter is not None and not llm._lora_adapter:  # a failed load leaves a NULL pointer, not None
        llm.close()
        raise ModelFileError(f"llama.cpp could not load the adapter {adapter} onto {model}")

    def one_token(word: str) -> int:
        ids = llm.tokenize(word.encode(), add_bos=False, special=False)
        if len(ids) != 1:
            raise ConfigError(f"verdict word {word!r} is {len(ids)} tokens in {model.name}; it must be one")
        return ids[0]

    special = lambda s: llm.tokenize(s.encode(), add_bos=False, special=True)  # noqa: E731
    prefix = fmt.render_prefix(bos=True)
    cut = max(prefix.rfind(m) + len(m) for m in _TEMPLATE_MARKERS if m in prefix)
    head = special(prefix[:cut])
    if not head or head[0] != llm.token_bos():
        raise ConfigError(f"the prompt prefix does not start with BOS in {model.name}: {head[:4]}")
    biased, neutral = one_token(prompt.BIASED), one_token(prompt.NEUTRAL)
    if biased == neutral:
        raise ConfigError("the two verdict words map to the same token")
    answer = llm.tokenize(f"{prompt.BIASED}\n".encode(), add_bos=False, special=False)
    if answer[0] != biased:
        raise ConfigError(f"{prompt.BIASED!r} followed by a newline does not start with the verdict token")
    end_of_turn = special(prompt.END_OF_TURN)
    if len(end_of_turn) != 1:
        raise ConfigError(f"{prompt.END_OF_TURN} is not a special token in {model.name}")
    loaded = _LoadedModel(
        llm=llm,
        lib=lib,
        head_ids=head,
        tail_ids=special(fmt.render_prompt("").body),
        fmt=fmt,
        answer_ids=answer,
        biased_id=biased,
        neutral_id=neutral,
        stop_ids=frozenset({end_of_turn[0], llm.token_eos()}),
    )
    probes = [loaded.prompt_ids(t) for t in ("", "a", "1", " x", "\n", "(", ":", "é", "😀")]
    shared = next((i for i, column in enumerate(zip(*probes)) if len(set(column)) > 1), min(map(len, probes)))
    loaded.prefix_ids = probes[0][:shared]
    loaded.template_len = len(probes[0])
    return loaded
