"""The default backend: SR-LLM on llama.cpp (``llama-cpp-python``), CPU-friendly and in-process.

One ``check`` is one forward pass over the prompt, reading the two verdict tokens' logits at the last
position, plus (only for a biased verdict with a rewrite asked for) a greedy decode from the same KV cache.
The engine underneath (:mod:`.engine`) is shared by every backend on the same files and settings; the
early-exit screen (:mod:`.screen`) runs on the same engine.

Threads: ``n_threads=None`` means **1**. llama.cpp is built with OpenMP, whose worker threads spin while
waiting: with 2 threads on a 2-core machine and any other busy process, it slows 20-40x, while one thread
keeps its full speed (measured, see FACTS.md). Pass more threads on an idle many-core machine; we then set
``OMP_WAIT_POLICY=PASSIVE`` (unless already set) before llama_cpp is first imported, trading ~30% of the idle
speed for graceful degradation under load.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
from pathlib import Path
from typing import Literal, Sequence

import numpy as np

from srllm_guard import models, prompt
from srllm_guard.backends.base import BaseBackend, Check, copy_blocks, word_tokens
from srllm_guard.backends.llamacpp import engine as _engine
from srllm_guard.backends.llamacpp.engine import Engine
from srllm_guard.backends.llamacpp.files import check_gguf_file, file_sha256, resolve_adapter, stamp
from srllm_guard.backends.llamacpp.screen import early_exit, load_head, probe_identity
from srllm_guard.errors import BackendError, ConfigError
from srllm_guard.probe import Head, word_count

__all__ = ["LlamaCppBackend"]


class LlamaCppBackend(BaseBackend):
    """SR-LLM on llama.cpp: a GGUF base (default: the embedded Gemma 3 270M) plus a LoRA adapter GGUF.

    Example::

        backend = LlamaCppBackend(adapter_path="adapters/sr-gemma3-270m-v14/adapter.gguf")
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
        if not isinstance(n_ctx, int) or n_ctx < 64:
            raise ConfigError(f"n_ctx must be an int >= 64, got {n_ctx!r}")
        n_threads = 1 if n_threads is None else n_threads
        if not isinstance(n_threads, int) or n_threads < 1:
            raise ConfigError(f"n_threads must be a positive int or None, got {n_threads!r}")
        if not math.isfinite(lora_scale):
            raise ConfigError(f"lora_scale must be a finite number, got {lora_scale!r}")

        model = (Path(model_path).expanduser() if model_path is not None else models.default_base_gguf()).resolve()
        check_gguf_file(model, "model file")
        adapter = resolve_adapter(adapter_path)
        if adapter is not None:
            check_gguf_file(adapter, "adapter file")

        fmt = prompt.format_of_adapter(adapter)
        merge = bool(merge) and adapter is not None and lora_scale != 0.0

        def build() -> Engine:
            if not merge:
                engine = _engine.load(model, adapter, float(lora_scale), n_ctx, n_threads, seed, fmt)
                engine.path = model
                return engine
            from srllm_guard.gguf_check import validate_adapter_gguf
            from srllm_guard.merge import merged_gguf, merged_path

            assert adapter is not None
            base_sha256, adapter_sha256 = file_sha256(model), file_sha256(adapter)
            where = merged_path(model, adapter, base_sha256=base_sha256, adapter_sha256=adapter_sha256,
                                scale=float(lora_scale))
            if not where.is_file():  # built only after this check passed
                validate_adapter_gguf(adapter, model)  # raises ModelFileError naming the file and the fix
            merged = merged_gguf(model, adapter, base_sha256=base_sha256, adapter_sha256=adapter_sha256,
                                 scale=float(lora_scale))
            engine = _engine.load(merged, None, 1.0, n_ctx, n_threads, seed, fmt)
            engine.path = merged
            return engine

        key = (stamp(model), stamp(adapter), float(lora_scale), n_ctx, n_threads, merge, fmt.version)
        self._model: Engine | None = _engine.shared(key, build)
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
        self._base_sha256 = file_sha256(model)
        self.model_hash = self._base_sha256
        self.adapter_hash = file_sha256(adapter) if adapter else None
        if self.max_text_tokens < 16:
            raise ConfigError(f"n_ctx={n_ctx} leaves only {self.max_text_tokens} tokens for text; use n_ctx >= 512")
        self.screen_path: Path | None = None
        """The file of the early-exit probe in use, or ``None``."""
        self.screen_head: Head | None = self._screen_head(screen)
        """The early-exit probe in use, or ``None``."""

    # ---- public API --------------------------------------------------------------------------------
    @property
    def engine(self) -> Engine:
        """The shared llama.cpp engine this backend runs on (hold ``engine.lock`` while calling into it)."""
        if self._model is None:
            raise BackendError("this LlamaCppBackend is closed")
        return self._model

    @property
    def max_text_tokens(self) -> int:
        """Longest text, in :meth:`count_tokens` units, that :meth:`check` accepts.

        Half of what the template leaves in the context: the other half is kept for the rewrite, which is
        about as long as the text. The pipeline splits longer text into sentences or chunks first.
        """
        return self.engine.max_text_tokens

    @property
    def weights_path(self) -> Path:
        """The GGUF llama.cpp runs: the merged file when merging, else ``model_path`` (plus the adapter)."""
        return self.engine.path or self.model_path

    @property
    def evaluated_tokens(self) -> int:
        """Tokens llama.cpp has evaluated so far in the shared model (all backends sharing it)."""
        return self.engine.evaluated

    @property
    def generated_tokens(self) -> int:
        """Tokens sampled by rewrites so far in the shared model, each end-of-turn token included."""
        return self.engine.generated

    def count_tokens(self, text: str) -> int:
        """How many of :attr:`max_text_tokens` ``text`` uses inside the prompt."""
        engine = self.engine
        with engine.lock:
            return len(engine.prompt_ids(text)) - engine.template_len

    def check(self, text: str, *, threshold: float, rewrite: bool = True, max_new_tokens: int = 256) -> Check:
        return self._check(text, threshold=threshold, rewrite=rewrite, max_new_tokens=max_new_tokens)

    def check_no_copy(self, text: str, *, threshold: float, max_new_tokens: int = 256) -> Check:
        """:meth:`check` whose rewrite cannot copy ``text`` (dynamic blocking, see
        :class:`~srllm_guard.backends.base.CopyBlocking`): what a ``retry="no_copy"`` asks for."""
        return self._check(text, threshold=threshold, rewrite=True, max_new_tokens=max_new_tokens, no_copy=True)

    def check_barring(self, text: str, *, words: Sequence[str], threshold: float,
                      max_new_tokens: int = 256) -> Check:
        """:meth:`check` whose rewrite never writes ``words`` (see
        :class:`~srllm_guard.backends.base.WordBarring`): what a retry asks for by default."""
        return self._check(text, threshold=threshold, rewrite=True, max_new_tokens=max_new_tokens, words=words)

    def _check(self, text: str, *, threshold: float, rewrite: bool, max_new_tokens: int,
               no_copy: bool = False, words: Sequence[str] = ()) -> Check:
        if not isinstance(max_new_tokens, int) or max_new_tokens < 0:
            raise ConfigError(f"max_new_tokens must be an int >= 0, got {max_new_tokens!r}")
        engine = self.engine
        with engine.lock:
            tokens = engine.prompt_ids(text)
            used = len(tokens) - engine.template_len
            if used > self.max_text_tokens:
                raise ConfigError(
                    f"text is {used} tokens, more than max_text_tokens={self.max_text_tokens} for n_ctx="
                    f"{self.n_ctx}; split it into sentences or chunks first, or raise n_ctx."
                )
            biased, neutral = engine.score_prompt(tokens)
            diff = neutral - biased
            if not math.isfinite(diff):
                raise BackendError(f"llama.cpp returned non-finite verdict logits ({biased}, {neutral})")
            score = 1.0 / (1.0 + math.exp(diff)) if diff < 700 else 0.0
            if not rewrite or score < threshold:
                return Check(score=score)
            blocks = copy_blocks(engine.tokenize(text, special=False)) if no_copy else None
            always = word_tokens(words, lambda form: engine.tokenize(form, special=False),
                                 lambda token: engine.piece(token).decode("utf-8", "replace"))
            return Check(score=score, rewrite=engine.greedy_rewrite(max_new_tokens, blocks, always))

    def hidden_states(self, texts: Sequence[str], *, layer: int, position: str = "text_end") -> np.ndarray:
        """RMS-scaled hidden states after block ``layer`` for each text's SR-LLM prompt (early exit, batched).

        ``position``: ``'text_end'`` (the text's last token) or ``'verdict'`` (where the verdict is read). What
        the early-exit probe is fitted on (see :mod:`srllm_guard.backends.llamacpp.screen`).
        """
        engine = self.engine
        with engine.lock:
            early = early_exit(engine, layer, position)
            tokens = [early.tokens(t) for t in texts]
            for text, ids in zip(texts, tokens):
                if not early.fits(ids):
                    raise ConfigError(f"text of {len(text)} chars does not fit one early-exit batch "
                                      f"({len(ids)} tokens, n_batch={early.n_batch}); split it first")
            return early.states(tokens)

    def screen_many(self, texts: Sequence[str], *, threshold: float) -> list[Check | None]:
        """One early-exit pass over all ``texts``: a :class:`Check` where the probe is sure, ``None`` where the
        full model must decide (:meth:`check`).

        Sure means: probe score below the head's ``low`` for ``threshold`` (and the text's length, for a head
        calibrated by length: :meth:`~srllm_guard.probe.Head.low_for`) (cleared: the check's score is
        below ``threshold``), or at or above its ``high`` (flagged: score at or above ``threshold``, but no
        rewrite: the full model writes those). ``low`` keeps the recall of the full model's positives the
        probe was calibrated for (0.995 for the shipped one), ``high`` its precision (0.98), measured on
        held-out text (the head's report). All ``None`` without a probe, or for a threshold below every
        calibrated one. A cleared or flagged text's score is the probe's, mapped onto the full model's scale
        and clamped to its side of ``threshold``.
        """
        head = self.screen_head
        lows = [head.low_for(threshold, word_count(t)) for t in texts] if head is not None else []
        if head is None or threshold <= 0 or all(low is None for low in lows):
            return [None] * len(texts)
        high = head.high_for(threshold)
        out: list[Check | None] = [None] * len(texts)
        below = threshold * (1 - 1e-6)
        for i, score in self._probe(head, texts):
            mapped = head.to_teacher_scale(score)
            low = lows[i]
            if low is not None and score < low:
                out[i] = Check(score=min(mapped, below), screened=True)
            elif high is not None and score >= high and threshold <= 1:
                out[i] = Check(score=max(mapped, threshold), screened=True)
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

    def check_many(self, texts: Sequence[str], *, threshold: float, rewrite: bool = True,
                   max_new_tokens: int = 256) -> list[Check]:
        """:meth:`check` for many texts: one :meth:`screen_many` pass, the full model for the rest. Without
        ``rewrite`` the screen's verdicts stand both ways (its calibrated recall and precision); with ``rewrite``
        only its clears do, and every other text gets the full model's score and rewrite. The screen only saves
        work: if it fails, every text gets the full model (logged)."""
        try:
            screened = self.screen_many(texts, threshold=threshold)
        except Exception:  # noqa: BLE001 - a failed shortcut is no verdict; the full model still answers
            logging.getLogger(__name__).warning("early-exit screen failed; checking %d texts on the full model",
                                                len(texts), exc_info=True)
            screened = [None] * len(texts)
        return [c if c is not None and not (rewrite and c.score >= threshold)
                else self.check(t, threshold=threshold, rewrite=rewrite, max_new_tokens=max_new_tokens)
                for t, c in zip(texts, screened)]

    def close(self) -> None:
        """Drop this backend's reference; the model is freed when no backend uses it any more."""
        self._model = None

    @property
    def verdict_key(self) -> str:
        """Everything that changes a verdict of this backend, hashed: base and adapter files, merging, adapter
        scale, prompt format and the early-exit probe file (evaluation caches key their results on it)."""
        from srllm_guard.merge import MERGE_VERSION

        probe = file_sha256(self.screen_path) if self.screen_path else "none"
        parts = [self._base_sha256, self.adapter_hash or "none", f"merged-{MERGE_VERSION}" if self.merged else "plain",
                 repr(self.lora_scale), self.prompt_format.version, probe]
        return hashlib.sha256(":".join(parts).encode()).hexdigest()[:24]

    def early_exit_id(self, layer: int, position: str) -> str:
        """What an early-exit probe is fitted on: these exact weight files, block and position (and merging,
        adapter scale and prompt format, see :func:`~srllm_guard.backends.llamacpp.screen.probe_identity`)."""
        from srllm_guard.merge import MERGE_VERSION

        return probe_identity(self._base_sha256, self.adapter_hash, layer, position,
                              merged=MERGE_VERSION if self.merged else None, lora_scale=self.lora_scale,
                              format_version=self.prompt_format.version)

    # ---- internals ---------------------------------------------------------------------------------
    def _probe(self, head: Head, texts: Sequence[str]) -> list[tuple[int, float]]:
        """``(index, raw probe score)`` for each text that fits one early-exit batch, from one batched pass."""
        engine = self.engine
        with engine.lock:
            early = early_exit(engine, int(head.calibration["layer"]), str(head.calibration["position"]))
            tokens = [early.tokens(t) for t in texts]
            ready = [i for i, ids in enumerate(tokens) if early.fits(ids)]
            states = early.states([tokens[i] for i in ready])
        return [(i, float(score)) for i, score in zip(ready, head.scores(states))]

    def _screen_head(self, screen: str | os.PathLike[str] | None) -> Head | None:
        if screen is None:
            return None
        explicit = screen != "default"
        if explicit:
            path = Path(screen).expanduser()
        elif self.adapter_path is not None:
            path = self.adapter_path.parent / "early_exit.npz"
            if not path.is_file():
                return None
        else:
            return None
        weights = f"{self.model_path.name} + {self.adapter_path.name if self.adapter_path else 'no adapter'}"
        head = load_head(path, dim=self.engine.n_embd, identity=self.early_exit_id, explicit=explicit,
                         weights=weights)
        self.screen_path = path.resolve()
        return head
