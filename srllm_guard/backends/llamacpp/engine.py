"""The llama.cpp engine: one loaded ``Llama`` and the low-level calls the backend and the screen make on it.

What it does that the high-level ``Llama`` API does not:

* **Prompt-prefix reuse without ``logits_all``, and reproducible scores.** The instruction prefix is the
  same for every text: it stays in the KV cache, everything after it is dropped and only the new tokens are
  evaluated; the last position's logits are read with ``llama_get_logits_ith`` (``logits_all=True`` would
  make every pass ~4x slower). Unlike ``Llama.generate``'s longest-common-prefix reuse, the split point is
  fixed, because llama.cpp's results depend on how a prompt is cut into batches (see
  :meth:`Engine.score_prompt`): a text gets the same score whatever was checked before it.
* **Exact tokenization** (:func:`srllm_guard.prompt.token_ids`): template markers are special tokens, the
  user's text never is; the instruction tail and the text are tokenized together, as the trainer does.
* **Sharing and locking.** One ``Llama`` from two threads at once crashes, and a loaded model costs ~300 MB,
  so all backends with the same files and settings share one :class:`Engine` (:func:`shared`) and its lock;
  every call into it holds that lock.
* **Fail loudly on bad files.** llama.cpp silently keeps a NULL handle for an adapter it cannot load and
  segfaults on first use; adapters are validated against the base before loading, and the handle is checked.
"""

from __future__ import annotations

import codecs
import ctypes
import logging
import os
import sys
import threading
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from srllm_guard import prompt
from srllm_guard.errors import BackendError, ConfigError, MissingDependencyError, ModelFileError

if TYPE_CHECKING:
    from srllm_guard.backends.llamacpp.screen import EarlyExit

__all__ = ["Engine", "load", "shared", "PIP_LINE"]

PIP_LINE = "pip install 'llama-cpp-python==0.3.36'"

_MODELS: weakref.WeakValueDictionary[tuple, Engine] = weakref.WeakValueDictionary()
_MODELS_LOCK = threading.Lock()

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


def import_llama_cpp(n_threads: int) -> Any:
    """``llama_cpp``, imported with its logs routed; a clear error naming the pip line when it is missing."""
    if n_threads > 1 and "llama_cpp" not in sys.modules:
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # read once, when libgomp loads
    try:
        import llama_cpp
    except ImportError as exc:
        raise MissingDependencyError(f"llama-cpp-python is required for LlamaCppBackend; `{PIP_LINE}`") from exc
    _route_llama_logs(llama_cpp)
    return llama_cpp


@dataclass(eq=False)
class Engine:
    """One loaded ``Llama`` plus what every call needs; use only while holding ``lock``."""

    llm: Any
    lib: Any
    ids: prompt.TokenIds
    stop_ids: frozenset[int]
    n_ctx: int
    n_threads: int
    lock: threading.Lock = field(default_factory=threading.Lock)
    evaluated: int = 0
    generated: int = 0  # tokens sampled by rewrites (stop tokens included)
    template_len: int = 0  # tokens of the prompt around an empty text
    prefix_ids: list[int] = field(default_factory=list)  # the text-independent start of every prompt
    last_prompt: list[int] | None = None
    last_verdict: tuple[float, float] = (0.0, 0.0)
    early: dict[tuple[int, str], EarlyExit] = field(default_factory=dict)  # (layer, position) -> EarlyExit
    path: Path | None = None  # the GGUF llama.cpp loaded (the merged file when merging)

    def __del__(self) -> None:
        # early-exit contexts live on this model's weights: free them before the Llama (model) goes
        for early in list(getattr(self, "early", {}).values()):
            try:
                early.close()
            except Exception:  # pragma: no cover - interpreter shutdown
                pass

    # ---- shape ----------------------------------------------------------------------------------------
    @property
    def tail_ids(self) -> list[int]:
        return self.ids.tail

    @property
    def n_embd(self) -> int:
        return int(self.lib.llama_model_n_embd(self.llm.model))

    @property
    def n_layer(self) -> int:
        return int(self.lib.llama_model_n_layer(self.llm.model))

    @property
    def lora(self) -> tuple[Any, float] | None:
        """The loaded LoRA adapter handle and its scale, or ``None`` (merged weights or the bare base)."""
        return (self.llm._lora_adapter, float(self.llm.lora_scale)) if self.llm._lora_adapter else None

    @property
    def max_text_tokens(self) -> int:
        """Half of what the template leaves in the context: the other half is kept for the rewrite."""
        return (self.n_ctx - self.template_len - len(self.ids.answer)) // 2

    # ---- tokens -------------------------------------------------------------------------------------
    def tokenize(self, text: str, *, special: bool) -> list[int]:
        return self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=special)

    def prompt_ids(self, text: str) -> list[int]:
        """Tokens of the format's prompt for ``text``: markers special, instruction tail + text as plain text."""
        return self.ids.head + self.tokenize(self.ids.plain_part(text), special=False) + self.ids.tail

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
        self.last_prompt, self.last_verdict = list(tokens), (logits[self.ids.biased], logits[self.ids.neutral])
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

    def greedy_rewrite(self, max_new_tokens: int, blocks: dict[int, frozenset[int]] | None = None,
                       always: frozenset[int] = frozenset()) -> str:
        """Greedy rewrite after the prompt just scored: ``"biased\\n"``, then tokens until end of turn.

        ``blocks`` (:func:`srllm_guard.backends.base.copy_blocks` of the text): after each token, the tokens it
        maps to are barred at the next step (dynamic blocking: the rewrite cannot copy the text). ``always``
        (:func:`srllm_guard.backends.base.word_tokens`): barred at every step."""
        llm = self.llm
        self.eval(self.ids.answer)
        budget = min(max_new_tokens, self.n_ctx - llm.n_tokens)
        n_vocab = llm.n_vocab()
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        out: list[str] = []
        barred: frozenset[int] = frozenset()
        for i in range(budget):
            logits = np.ctypeslib.as_array(self.last_logits(), shape=(n_vocab,))
            if barred or always:
                logits = logits.copy()
                logits[list(barred | always)] = -np.inf
            token = int(logits.argmax())
            self.generated += 1
            if token in self.stop_ids:
                break
            out.append(decoder.decode(self.piece(token)))
            barred = blocks.get(token, frozenset()) if blocks else frozenset()
            if i + 1 < budget:
                self.eval([token])
        out.append(decoder.decode(b"", final=True))
        return "".join(out).strip()


def shared(key: tuple, build: Callable[[], Engine]) -> Engine:
    """The process-wide engine for ``key`` (files, settings), built once; freed when no backend holds it."""
    with _MODELS_LOCK:
        engine = _MODELS.get(key)
        if engine is None:
            engine = build()
            _MODELS[key] = engine
        return engine


def load(model: Path, adapter: Path | None, lora_scale: float, n_ctx: int, n_threads: int, seed: int,
         fmt: prompt.PromptFormat) -> Engine:
    """Load ``model`` (+ ``adapter``) into a new :class:`Engine`; :class:`ModelFileError` names a bad file."""
    lib = import_llama_cpp(n_threads)
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
            n_threads_batch=n_threads,  # the library's default is every core, spinning: see the package doc
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
    try:
        ids = prompt.token_ids(
            fmt,
            plain=lambda s: llm.tokenize(s.encode(), add_bos=False, special=False),
            special=lambda s: llm.tokenize(s.encode(), add_bos=False, special=True),
            bos_id=llm.token_bos(), where=model.name)
    except ConfigError:
        llm.close()
        raise
    engine = Engine(llm=llm, lib=lib, ids=ids, stop_ids=frozenset({ids.end_of_turn, llm.token_eos()}),
                    n_ctx=n_ctx, n_threads=n_threads)
    probes = [engine.prompt_ids(t) for t in ("", "a", "1", " x", "\n", "(", ":", "é", "😀")]
    common = next((i for i, column in enumerate(zip(*probes)) if len(set(column)) > 1), min(map(len, probes)))
    engine.prefix_ids = probes[0][:common]
    engine.template_len = len(probes[0])
    return engine
