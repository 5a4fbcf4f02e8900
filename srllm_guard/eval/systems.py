"""The rows of the evaluation table: a guard configuration under test, or a baseline.

* ``no-guard``: the chain's reply goes out as it is (nothing flagged, every output = its input);
* ``base-prompted``: the bare base model with the SR-LLM prompt, zero-shot (the paper's "prompting" baseline);
* ``sr-llm``: the base plus the fine-tuned LoRA adapter (the shipped guard).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from srllm_guard.backends.base import Backend

__all__ = ["System", "build_systems"]


@dataclass
class System:
    """One row: a name, the backend that answers (``None``: no guard) and, for StereoSet, its likelihoods."""

    name: str
    backend: Backend | None = None
    """The model under test; ``None`` is the no-guard baseline."""
    likelihood: Any = None
    """A :class:`~srllm_guard.eval.stereoset.LikelihoodModel` of the same weights (``None``: no StereoSet row)."""
    model: str = "-"
    """Base model file name (or id)."""
    model_hash: str | None = None
    adapter: str | None = None
    """Adapter file, ``None`` for none."""
    adapter_hash: str | None = None
    verdict_key: str | None = None
    """The backend's ``verdict_key`` where it has one: every file and setting that changes a verdict."""

    @property
    def key(self) -> str:
        """Cache key: results are reused only for the same name and weights, and (where the backend says) the same
        merging, adapter scale, prompt format and early-exit probe."""
        key = f"{self.name}|{(self.model_hash or '-')[:16]}|{(self.adapter_hash or 'none')[:16]}"
        return key + (f"|{self.verdict_key}" if self.verdict_key else "")

    def describe(self) -> dict:
        return {"system": self.name, "model": self.model, "model_hash": self.model_hash, "adapter": self.adapter,
                "adapter_hash": self.adapter_hash}

    @classmethod
    def from_backend(cls, name: str, backend: Backend, likelihood: Any = None) -> System:
        """A row for any backend; ``adapter_path``/``adapter_hash`` are read from it where it has them."""
        adapter = getattr(backend, "adapter_path", None)
        return cls(name=name, backend=backend, likelihood=likelihood, model=str(backend.model_id),
                   model_hash=backend.model_hash, adapter=str(adapter) if adapter else None,
                   adapter_hash=getattr(backend, "adapter_hash", None),
                   verdict_key=getattr(backend, "verdict_key", None))


def build_systems(
    *,
    model_path: str | os.PathLike[str] | None = None,
    adapter: str | os.PathLike[str] | None = "default",
    n_threads: int | None = 1,
    baselines: bool = True,
) -> list[System]:
    """The table's rows on llama.cpp: with ``baselines``, no-guard and the zero-shot base, then the adapter
    (``adapter=None``: the base only). Both models share the same base file."""
    from srllm_guard.backends.llamacpp import LlamaCppBackend
    from srllm_guard.eval.stereoset import LlamaCppLikelihood

    systems: list[System] = [System("no-guard")] if baselines else []
    if baselines or adapter is None:
        base = LlamaCppBackend(model_path=model_path, adapter_path=None, n_threads=n_threads)
        systems.append(System.from_backend("base-prompted", base, LlamaCppLikelihood(base)))
        systems[-1].model = base.model_path.name
    if adapter is not None:
        tuned = LlamaCppBackend(model_path=model_path, adapter_path=adapter, n_threads=n_threads)
        systems.append(System.from_backend("sr-llm", tuned, LlamaCppLikelihood(tuned)))
        systems[-1].model = tuned.model_path.name
    return systems
