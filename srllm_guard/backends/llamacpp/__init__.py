"""SR-LLM on llama.cpp, the default backend, in three parts:

* :mod:`.engine`: one loaded model, its KV-cache prefix reuse, verdict logits and greedy rewrite, shared by
  every backend on the same files and settings;
* :mod:`.backend`: :class:`LlamaCppBackend`, the :class:`~srllm_guard.backends.base.Backend` users get;
* :mod:`.screen`: the early-exit screen (hidden state after one block, probe head) on the same engine;

plus :mod:`.files` (GGUF checks, hashes, adapter lookup).
"""

from srllm_guard.backends.llamacpp.backend import LlamaCppBackend

__all__ = ["LlamaCppBackend"]
