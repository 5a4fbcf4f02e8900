"""The early-exit screen: SR-LLM's own hidden state after block ``layer``, for many texts in one llama.cpp batch.

The full verdict needs all 18 blocks of Gemma 3 270M plus the 262k-row output layer for every text. Measured
(``trainers/distill.py --features early``), a logistic probe on the hidden state after block 6 at the text's
last token already ranks texts as the full verdict does (AUC 0.993 against the first adapter's own verdicts
on held-out sentences, 0.980 for ``sr-gemma3-270m-v3``, 0.965-0.979 for ``-v4``; block 5: 0.96; the bare base
without the adapter: 0.97 even at block 8), so a text whose probe score is far below the threshold can pass
without the rest of the network: 7 of 18 blocks, no output layer, no template tail. ``-v4``'s shipped probe
reads block 10 (AUC 0.997; 11 of 18 blocks): it settles far more sentences, which more than pays for the four
extra blocks on mixed traffic (README, Benchmarks). The block is the head's own ``layer``.

How, inside llama.cpp (no second model file):

* a second context on the already loaded model (same weights, same LoRA adapter), with room for
  ``n_seq`` sequences in one unified KV cache; the instruction prefix is evaluated once as sequence 0 and
  copied (``llama_memory_seq_cp``, no compute) to every text's sequence;
* a ``cb_eval`` callback asks the scheduler for the tensor ``l_out-{layer}``, copies the rows it needs and
  returns ``False``, which stops the graph there: the later blocks and the output layer are never computed
  (their KV cells for the batch hold garbage and are removed with the batch's sequences right after). ggml's
  scheduler stops the current graph split; on CPU the whole graph is one split (measured: block-5 exit ran
  3.4x faster than the full pass); with several backends later splits would still run, correct but slower;
* texts are packed into batches of up to ``n_batch`` tokens and ``n_seq`` texts.

Rows are divided by their root mean square (the probe is fitted on that scale). Scores can differ very
slightly with the batch a text lands in (llama.cpp's kernels vary with batch shape); the full-model path
(:meth:`LlamaCppBackend.check`) is untouched by this module.

The caller holds the engine's lock (one llama.cpp model is never used from two threads at once).

:func:`load_head` loads the probe a backend screens with and refuses one fitted on other weights
(:func:`probe_identity`).
"""

from __future__ import annotations

import ctypes
import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Literal, Sequence

import numpy as np

from srllm_guard.backends.llamacpp.engine import Engine
from srllm_guard.errors import BackendError, MissingDependencyError, ModelFileError

if TYPE_CHECKING:
    from srllm_guard.probe import Head

__all__ = ["EarlyExit", "POSITIONS", "early_exit", "probe_identity", "load_head"]

POSITIONS = ("text_end", "verdict")
"""Where the state is read: the text's last token, or the last template token (where the verdict is read)."""

_GGML: Any = None


def _ggml(lib: Any) -> Any:
    """``libggml-base`` from llama-cpp-python's own ``lib/`` folder, with the three functions we call."""
    global _GGML
    if _GGML is None:
        folder = Path(lib.__file__).parent / "lib"
        candidates = sorted(folder.glob("libggml-base.*")) + sorted(folder.glob("ggml-base.*"))
        if not candidates:
            raise MissingDependencyError(f"libggml-base not found in {folder}; early exit needs llama-cpp-python's "
                                         "bundled ggml (`pip install 'llama-cpp-python==0.3.36'`)")
        g = ctypes.CDLL(str(candidates[0]))
        g.ggml_get_name.restype, g.ggml_get_name.argtypes = ctypes.c_char_p, [ctypes.c_void_p]
        g.ggml_nbytes.restype, g.ggml_nbytes.argtypes = ctypes.c_size_t, [ctypes.c_void_p]
        g.ggml_backend_tensor_get.restype = None
        g.ggml_backend_tensor_get.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_size_t]
        _GGML = g
    return _GGML


class EarlyExit:
    """Hidden states after block ``layer`` for many prompts at once (see the module docstring)."""

    def __init__(self, engine: Engine, *, layer: int, position: Literal["text_end", "verdict"] = "text_end",
                 n_seq: int = 32, n_batch: int = 512, n_threads: int = 1) -> None:
        lib, llm = engine.lib, engine.llm
        n_layer = engine.n_layer
        if not 0 <= layer < n_layer - 1:
            raise BackendError(f"early-exit layer {layer} is outside 0..{n_layer - 2} for this {n_layer}-block model")
        if position not in POSITIONS:
            raise BackendError(f"early-exit position {position!r}; use one of {POSITIONS}")
        self.engine, self.lib, self.layer, self.position = engine, lib, layer, position
        self.n_embd = engine.n_embd
        self.n_seq, self.n_batch = n_seq, n_batch
        self._ggml = _ggml(lib)
        self._target = f"l_out-{layer}".encode()
        self._active = False  # stop the graph only while reading states (the prefix pass runs whole)
        self._captured: np.ndarray | None = None

        def observe(tensor: int, ask: bool, _user: Any) -> bool:
            name = self._ggml.ggml_get_name(tensor)
            if ask:
                return self._active and name == self._target
            size = self._ggml.ggml_nbytes(tensor)
            rows = np.empty(size // 4, dtype=np.float32)
            self._ggml.ggml_backend_tensor_get(tensor, rows.ctypes.data, 0, size)
            self._captured = rows.reshape(-1, self.n_embd)
            return False  # stop here: no later block, no output layer

        self._callback = lib.ggml_backend_sched_eval_callback(observe)  # kept alive with self
        params = lib.llama_context_default_params()
        params.n_ctx = len(engine.prefix_ids) + n_batch + 64  # copied prefixes share the cells of sequence 0
        params.n_batch = params.n_ubatch = n_batch  # one ubatch per batch: one callback per decode
        params.n_seq_max = n_seq + 1
        params.kv_unified = True
        params.swa_full = True
        params.n_threads = params.n_threads_batch = n_threads
        params.cb_eval = self._callback
        params.cb_eval_user_data = None
        self.ctx = lib.llama_init_from_model(llm.model, params)
        if not self.ctx:
            raise BackendError("llama.cpp could not create the early-exit context")
        if engine.lora is not None:
            handle, scale = engine.lora
            adapters = (lib.llama_adapter_lora_p_ctypes * 1)(handle)
            scales = (ctypes.c_float * 1)(scale)
            if lib.llama_set_adapters_lora(self.ctx, adapters, 1, scales):
                self.close()
                raise BackendError("llama.cpp could not apply the adapter to the early-exit context")
        self.memory = lib.llama_get_memory(self.ctx)
        self.batch = lib.llama_batch_init(n_batch, 0, 1)
        self._prefix_len = len(engine.prefix_ids)
        self._decode([(0, engine.prefix_ids, 0)], outputs=[len(engine.prefix_ids) - 1])

    # ---- one batch ------------------------------------------------------------------------------------
    def _decode(self, seqs: list[tuple[int, list[int], int]], outputs: list[int]) -> None:
        b, n, wanted = self.batch, 0, set(outputs)
        for seq, tokens, start in seqs:
            for j, token in enumerate(tokens):
                b.token[n], b.pos[n], b.n_seq_id[n] = token, start + j, 1
                b.seq_id[n][0] = seq
                b.logits[n] = n in wanted
                n += 1
        b.n_tokens = n
        rc = self.lib.llama_decode(self.ctx, b)
        if rc != 0:
            raise BackendError(f"llama.cpp early-exit decode failed (code {rc})")

    def tokens(self, text: str) -> list[int]:
        """The tokens of ``text``'s prompt after the shared prefix, cut where the state is read."""
        ids = self.engine.prompt_ids(text)
        if ids[: self._prefix_len] != self.engine.prefix_ids:
            return []  # the text merged into the template's tokens: callers fall back to the full model
        rest = ids[self._prefix_len :]
        return rest if self.position == "verdict" else rest[: len(rest) - len(self.engine.tail_ids)]

    def fits(self, tokens: list[int]) -> bool:
        return 0 < len(tokens) <= self.n_batch

    def states(self, token_lists: Sequence[list[int]]) -> np.ndarray:
        """RMS-scaled states after block ``layer`` at each list's last token, ``(n, n_embd)`` float32.

        Every list must satisfy :meth:`fits`.
        """
        out = np.zeros((len(token_lists), self.n_embd), dtype=np.float32)
        p, i = self._prefix_len, 0
        while i < len(token_lists):
            group: list[int] = []
            used = 0
            while i < len(token_lists) and len(group) < self.n_seq and used + len(token_lists[i]) <= self.n_batch:
                group.append(i)
                used += len(token_lists[i])
                i += 1
            if not group:
                raise BackendError(f"a text of {len(token_lists[i])} tokens does not fit n_batch={self.n_batch}")
            seqs, rows, end = [], [], 0
            for seq, index in enumerate(group, start=1):
                self.lib.llama_memory_seq_cp(self.memory, 0, seq, 0, p)
                seqs.append((seq, token_lists[index], p))
                end += len(token_lists[index])
                rows.append(end - 1)
            self._captured, self._active = None, True
            try:
                self._decode(seqs, outputs=rows)
            finally:
                self._active = False
                for seq in range(1, len(group) + 1):
                    self.lib.llama_memory_seq_rm(self.memory, seq, -1, -1)
            captured = self._captured
            if captured is None or captured.shape[0] != end:
                raise BackendError(f"llama.cpp produced no l_out-{self.layer} tensor of {end} rows "
                                   f"(got {None if captured is None else captured.shape}); early exit needs a "
                                   "gemma3-style graph")
            picked = captured[rows]
            out[group] = picked / np.sqrt(np.mean(picked.astype(np.float64) ** 2, axis=1, keepdims=True) + 1e-12)
        return out

    def close(self) -> None:
        if getattr(self, "batch", None) is not None:
            self.lib.llama_batch_free(self.batch)
            self.batch = None
        if getattr(self, "ctx", None):
            self.lib.llama_free(self.ctx)
            self.ctx = None

    def __del__(self) -> None:  # pragma: no cover - interpreter shutdown order varies
        try:
            self.close()
        except Exception:
            pass


def early_exit(engine: Engine, layer: int, position: str) -> EarlyExit:
    """The engine's early-exit context for (layer, position), made on first use; hold ``engine.lock``."""
    key = (layer, position)
    if key not in engine.early:
        engine.early[key] = EarlyExit(engine, layer=layer, position=position,  # type: ignore[arg-type]
                                      n_threads=engine.n_threads)
    return engine.early[key]


def probe_identity(model_hash: str, adapter_hash: str | None, layer: int, position: str, *, merged: str | None,
                   lora_scale: float, format_version: str) -> str:
    """What an early-exit probe is fitted on: these exact weight files, merging, adapter scale, prompt format,
    block and position. ``merged``: the merge version when the adapter runs folded into the base."""
    # the original identity, extended only where a setting differs from what every probe so far assumed
    # (scale 1, format v1), so probes fitted before these fields existed keep their identity
    extra = f":merged-{merged}" if merged else ""
    extra += "" if lora_scale == 1.0 else f":scale-{lora_scale!r}"
    extra += "" if format_version == "sr-llm-v1" else f":{format_version}"
    return hashlib.sha256(f"{model_hash}:{adapter_hash}:{layer}:{position}{extra}".encode()).hexdigest()


def load_head(path: Path, *, dim: int, identity: Callable[[int, str], str], explicit: bool, weights: str) -> Head:
    """Load the probe at ``path`` and check it was fitted on these weights.

    ``identity(layer, position)`` gives the weights' :func:`probe_identity`; ``weights`` names them in the
    error. A probe for other weights would screen with the wrong boundary: never silently, never skipped
    unseen, so a mismatch is a :class:`ModelFileError` that says how to go on.
    """
    from srllm_guard.probe import Head

    head = Head.load(path, dim=dim)
    layer, position = head.calibration.get("layer"), head.calibration.get("position")
    if not isinstance(layer, int) or not isinstance(position, str):
        problem = "it is not an early-exit probe (no layer/position in its calibration)"
    elif head.embedding_hash != identity(layer, position):
        problem = f"it was fitted on other weights than {weights}"
    else:
        return head
    where = "" if explicit else " (the one next to the adapter, screen='default')"
    raise ModelFileError(f"early-exit probe {path}{where}: {problem}; pass screen=None to give every sentence "
                         "the full model, or re-fit the probe for these files with `python -m trainers.distill`")
